"""The read model: its tables beside the events, opened once per app, and where it stands.

`read_model(app)` opens the store's database with SQLAlchemy and creates the tables
(`schema`) on first use; a store whose tables another release made (`versions`: another
shape, or verdicts judged by other rules) has them dropped, to be projected anew, once no
report reads them (`exclusive`). The projection's position and the summaries' position
are rows of their own (see `catchup` for how they move).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from handoff import eventstore, switches
from handoff.projections import exclusive, report_now, summaries, versions, writing
from handoff.projections import schema as t
from handoff.projections.summaries import PROJECTION as PROJECTION  # re-exported

if TYPE_CHECKING:
    from handoff.application import HandoffApp




@dataclass(frozen=True)
class ReadModel:
    engine: Engine
    is_postgres: bool
    read_page: eventstore.PageReader


@dataclass(frozen=True)
class Status:
    position: int
    last_event: int
    rows: dict[str, int]

    @property
    def behind(self) -> int:
        return eventstore.positions_behind(self.position, self.last_event)


_models: weakref.WeakKeyDictionary[HandoffApp, ReadModel] = weakref.WeakKeyDictionary()


def read_model(app: HandoffApp) -> ReadModel:
    """The read model of the app's store, its tables created on first use."""
    model = _models.get(app)
    if model is None:
        location = app.location
        if location.is_postgres:
            engine = postgres_engine(location.sqlalchemy_url, pool_size=2, max_overflow=2)
        else:
            engine = sqlite_engine(location.sqlalchemy_url)
        _create_tables(engine)
        model = ReadModel(engine, location.is_postgres, eventstore.page_reader(app))
        _models[app] = model
        weakref.finalize(app, engine.dispose)
    return model


def postgres_engine(url: str | URL, **options: Any) -> Engine:
    """An engine for a PostgreSQL read model whose connections wait for a lock as long as
    the event store's do (`eventstore.waits_for_locks`)."""
    engine = create_engine(url, **options)
    event.listen(engine, "connect", lambda connection, _: eventstore.waits_for_locks(connection))
    return engine


def sqlite_engine(url: str | URL) -> Engine:
    """An engine for a SQLite read model (of this process's app, or of the process that
    writes a rebuild's pages: see page_writer)."""
    # A SQLite connection is cheap to open; not pooling it leaves no file handle behind
    # once the app is closed.
    engine = create_engine(url, poolclass=NullPool,
                           connect_args={"timeout": switches.LOCK_WAIT_SECONDS})
    event.listen(engine, "connect", switches.tune_sqlite)
    return engine


def _create_tables(engine: Engine) -> None:
    """Create the tables once, even when several processes open a new store together;
    tried again while reports read a read model of another release, which is dropped only
    once it is had to itself (`exclusive`). A read model already there, of this release
    and with its indexes, is opened by reading alone: a report behind a stopped import (its
    write lock held) reads what is projected, as the event store's reads do."""
    with engine.connect() as conn:
        if _held(conn) == versions.current() and _whole(conn) and has_indexes(conn):
            return
    exclusive.retried(lambda: _create_tables_once(engine))


def _create_tables_once(engine: Engine) -> None:
    with engine.begin() as conn:
        # create_all checks then creates, table by table: hold a lock across all of it.
        if engine.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            conn.execute(lock, {"key": eventstore.SCHEMA_LOCK_KEY})
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        current = versions.current()
        if _held(conn) != current or not _whole(conn):
            # Another shape, or other rules (another release), or a table dropped by hand:
            # drop it, the next catch-up projects anew. Each DROP TABLE waits for its
            # table: all of them are locked first, or the drop could hold a table a report
            # is about to read while it waits for the one the report holds (a deadlock).
            exclusive.lock(conn, _tables_there(conn))
            t.metadata.drop_all(conn)
        t.metadata.create_all(conn)
        found = conn.execute(
            select(t.position.c.position).where(t.position.c.name == PROJECTION)
        ).first()
        if found is None:
            conn.execute(
                t.position.insert().values(name=PROJECTION, position=eventstore.BEFORE_FIRST)
            )
            for name, version in zip((versions.SCHEMA_ROW, versions.RULES_ROW), current,
                                     strict=True):
                conn.execute(t.position.insert().values(name=name, position=version))
            conn.execute(
                t.summary.insert().values(
                    name=summaries.NAME, position=eventstore.BEFORE_FIRST, recorded_us=0
                )
            )
    _create_missing_indexes(engine)


def _create_missing_indexes(engine: Engine) -> None:
    """The indexes an interrupted bulk catch-up left out, or a new model's, built once the
    schema lock is let go: building one waits for its table behind any lock on it (psql's
    `LOCK TABLE`, a VACUUM FULL, a catch-up's end holding the projection's row), and every
    command opening the store waits for the schema lock first (`application._SchemaLock`)."""
    with engine.connect() as conn:
        if has_indexes(conn):
            return
    with engine.begin() as conn:
        postgres = engine.dialect.name == "postgresql"
        if not postgres:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        if has_indexes(conn):
            return
        if postgres:
            if not conn.execute(_MAY_WRITE).scalar_one():
                return  # a role that may only read reads without them
            # Built under the projection's lock, as a catch-up's end builds them
            # (`catchup._finish`): both could find an index missing and create it (a
            # duplicate key in pg_class). Only then: a read-only role cannot lock.
            conn.execute(
                update(t.position).where(t.position.c.name == PROJECTION)
                .values(position=t.position.c.position)
            )
        create_indexes(conn)


_MAY_WRITE = text(f"SELECT has_table_privilege('{t.position.name}', 'UPDATE')")


def _tables_there(conn: Connection) -> set[str]:
    """The read model's tables the database has (a store of an older release may lack some)."""
    return set(_columns_there(conn))


def _whole(conn: Connection) -> bool:
    """Whether the database has every table of the read model, and each table every
    column (one dropped by hand, say with sqlite3 or psql, leaves the others' rows without
    theirs; a column dropped so failed every report that reads it)."""
    return _columns_there(conn) == _SHAPE


# The read model's columns, by table.
_SHAPE = {name: {column.name for column in table.columns}
          for name, table in t.metadata.tables.items()}


# Every column of every table, in one query (the inspector asks table by table, a read of
# the model's shape that every command opening it makes).
_SQLITE_COLUMNS = ("SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name)"
                   " AS c WHERE m.type = 'table'")
# (PostgreSQL's catalog itself: information_schema's view took 3.8 ms to its 0.9.)
_POSTGRES_COLUMNS = ("SELECT c.relname, a.attname FROM pg_attribute AS a"
                     " JOIN pg_class AS c ON a.attrelid = c.oid"
                     " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
                     " AND a.attnum > 0 AND NOT a.attisdropped")


def _columns_there(conn: Connection) -> dict[str, set[str]]:
    """The columns the database has of each of the read model's tables it has."""
    sql = _POSTGRES_COLUMNS if conn.dialect.name == "postgresql" else _SQLITE_COLUMNS
    found: dict[str, set[str]] = {}
    for table, column in conn.exec_driver_sql(sql):
        if table in _SHAPE:
            found.setdefault(table, set()).add(column)
    return found


def _held(conn: Connection) -> tuple[int, int] | None:
    """The versions of the read model there (`versions.held`); None when it has none."""
    if not inspect(conn).has_table(t.position.name):
        return None
    return versions.held(conn.execute(
        select(t.position.c.name, t.position.c.position)
        .where(t.position.c.name.in_((versions.SCHEMA_ROW, versions.RULES_ROW)))
    ).tuples())


def has_indexes(conn: Connection) -> bool:
    """Whether every secondary index is there."""
    inspector = inspect(conn)
    return all(inspector.has_index(index.table.name, str(index.name))  # type: ignore[union-attr]
               for index in t.SECONDARY_INDEXES)


def create_indexes(conn: Connection) -> None:
    """A rebuild drops the secondary indexes and builds them once at the end (much faster
    than keeping them up to date row by row); an interrupted rebuild gets them back here."""
    for index in t.SECONDARY_INDEXES:
        index.create(conn, checkfirst=True)


def position(app: HandoffApp) -> int:
    with read_model(app).engine.connect() as conn:
        return position_of(conn)


def current(conn: Connection) -> int:
    """The position, read in a transaction of its own."""
    with conn.begin():
        return position_of(conn)


def holding(conn: Connection) -> int:
    """Begin a read of the read model as one state, which no rebuild empties before it ends
    (a snapshot on SQLite; on PostgreSQL, `report_now.HOLD_POSTGRES`); the position it
    holds. `conn` has run nothing yet."""
    if conn.dialect.name == "postgresql":
        for statement in report_now.HOLD_POSTGRES:
            conn.exec_driver_sql(statement)
    else:
        conn.exec_driver_sql("BEGIN")
    return position_of(conn)


def position_of(conn: Connection) -> int:
    value = conn.execute(
        select(t.position.c.position).where(t.position.c.name == PROJECTION)
    ).scalar_one()
    return int(value)


def summary_position(conn: Connection) -> int:
    found = conn.execute(
        select(t.summary.c.position).where(t.summary.c.name == summaries.NAME)
    ).scalar_one()
    return int(found)


def executor(conn: Connection) -> summaries.Execute:
    """Run SQL written with `{0}` for each parameter, in the driver's parameter style."""
    mark = writing.mark(conn)

    def execute(sql: str, parameters: Any) -> Any:
        if not isinstance(parameters, list):  # a list is executemany's
            parameters = tuple(parameters) or None
        return conn.exec_driver_sql(sql.format(mark), parameters)

    return execute


def status(app: HandoffApp) -> Status:
    """The position and the rows of one state of the read model (`holding`: no rebuild
    begun meanwhile shows its emptied tables beside the position it emptied them from)."""
    with read_model(app).engine.connect() as conn:
        at = holding(conn)
        rows = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in t.PROJECTED_TABLES
        }
    # Before the log's first entry is the model's own marker (BEFORE_FIRST): shown as 0,
    # none read, as the library numbers the log from 1.
    shown = 0 if at == eventstore.BEFORE_FIRST else at
    return Status(shown, eventstore.last_notification_id(app), rows)
