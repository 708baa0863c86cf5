"""Read models fed from the notification log: catch up incrementally, rebuild from zero.

The position of a projection is stored in the same transaction as its rows and advanced
with a compare-and-set (`UPDATE ... WHERE position = :old`); rows are keyed by the
notification id of their event. A second process catching up at the same time either
finds the position moved or collides on a key, rolls back, and starts again from the
new position: no event is ever counted twice.

A large backlog (an import, a rebuild) is projected in bulk: secondary indexes dropped,
large pages, the summaries counted in memory (see tally.py), then indexes rebuilt and
summaries written once at the end; the rows and the position of each page still commit
together. Paging and the compare-and-set live in `projector`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.pool import NullPool

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.importer import no_cyclic_gc
from handoff.projections import summaries
from handoff.projections import tables as t
from handoff.projections.projector import PROJECTION as PROJECTION  # re-exported
from handoff.projections.projector import (
    Progress,
    Projector,
    executor,
    position_of,
    summary_position,
)
from handoff.projections.tally import Tally

PAGE = 5_000
# Each commit of a bulk page costs a fixed share (the WAL checkpoint, the position row):
# fewer, larger pages rebuild a million events measurably faster (20,000 -> 50,000).
REBUILD_PAGE = 50_000
# A backlog at least this large, and at least as large as what is already projected, is
# projected in bulk: rebuilding the indexes then costs less than keeping them up to date.
BULK_FROM = 20_000
_SCHEMA = "schema"  # its position row holds the tables' SCHEMA_VERSION
_SQLITE_CACHE_KIB = 131_072  # index upkeep of a million rows wants more than the 2 MB default



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
        return max(self.last_event - self.position, 0)


_models: weakref.WeakKeyDictionary[HandoffApp, ReadModel] = weakref.WeakKeyDictionary()


def read_model(app: HandoffApp) -> ReadModel:
    """The read model of the app's store, its tables created on first use."""
    model = _models.get(app)
    if model is None:
        location = app.location
        if location.is_postgres:
            engine = create_engine(location.sqlalchemy_url, pool_size=2, max_overflow=2)
        else:
            # A SQLite connection is cheap to open; not pooling it leaves no file handle
            # behind once the app is closed.
            engine = create_engine(
                location.sqlalchemy_url, poolclass=NullPool, connect_args={"timeout": 30}
            )
            event.listen(engine, "connect", _tune_sqlite)
        _create_tables(engine)
        model = ReadModel(engine, location.is_postgres, eventstore.page_reader(app))
        _models[app] = model
        weakref.finalize(app, engine.dispose)
    return model


def _tune_sqlite(connection: Any, _record: Any) -> None:
    connection.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
    # The event store keeps SQLite in WAL mode; there, NORMAL skips the fsync of every
    # commit and stays consistent (rows and position still commit together). A crash may
    # lose the last pages, which the next catch-up projects again: derived data.
    connection.execute("PRAGMA synchronous = NORMAL")


def _create_tables(engine: Engine) -> None:
    """Create the tables once, even when several processes open a new store together."""
    with engine.begin() as conn:
        # create_all checks then creates, table by table: hold a lock across all of it.
        if engine.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            conn.execute(lock, {"key": eventstore.SCHEMA_LOCK_KEY})
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        if _schema_version(conn) != t.SCHEMA_VERSION:
            # Another shape (an older release): drop it, the next catch-up projects anew.
            t.metadata.drop_all(conn)
        t.metadata.create_all(conn)
        _create_indexes(conn)
        found = conn.execute(
            select(t.position.c.position).where(t.position.c.name == PROJECTION)
        ).first()
        if found is None:
            conn.execute(t.position.insert().values(name=PROJECTION, position=0))
            conn.execute(t.position.insert().values(name=_SCHEMA, position=t.SCHEMA_VERSION))
            conn.execute(
                t.summary.insert().values(name=summaries.NAME, position=0, recorded_us=0)
            )


def _schema_version(conn: Connection) -> int | None:
    """The version of the read model's tables, None when there are none."""
    if not inspect(conn).has_table(t.position.name):
        return None
    found = conn.execute(
        select(t.position.c.position).where(t.position.c.name == _SCHEMA)
    ).scalar()
    return None if found is None else int(found)


def _create_indexes(conn: Connection) -> None:
    """A rebuild drops the secondary indexes and builds them once at the end (much faster
    than keeping them up to date row by row); an interrupted rebuild gets them back here."""
    for index in t.SECONDARY_INDEXES:
        index.create(conn, checkfirst=True)


def position(app: HandoffApp) -> int:
    with read_model(app).engine.connect() as conn:
        return position_of(conn)


def catch_up(
    app: HandoffApp,
    page: int | None = None,
    progress: Progress | None = None,
    bulk: bool | None = None,
) -> int:
    """Project every event recorded since the stored position; returns how many were read.

    `bulk` (default: decided by the size of the backlog) projects with the secondary
    indexes dropped and builds them, and the summaries, once at the end.
    """
    if bulk is None:
        at = position(app)
        behind = eventstore.last_notification_id(app) - at
        bulk = behind >= BULK_FROM and behind >= at
    projector = Projector(
        app, read_model(app), page or (REBUILD_PAGE if bulk else PAGE), progress, bulk
    )
    if not bulk:
        try:
            return projector.run()
        finally:
            _finish(projector.model, bulk, projector.tally)
    _drop_indexes(projector.model)
    # A bulk catch-up keeps hundreds of thousands of leads and counts in memory: the
    # cyclic collector would rescan them all again and again, and finds no cycles.
    with no_cyclic_gc():
        try:
            return projector.run()
        finally:
            _finish(projector.model, bulk, projector.tally)


def rebuild(app: HandoffApp, progress: Progress | None = None) -> int:
    """Empty the read model and project the whole log again."""
    model = read_model(app)
    with model.engine.begin() as conn:
        # Resetting the position first makes any concurrent catch-up fail its compare-and-set.
        conn.execute(
            update(t.position).where(t.position.c.name == PROJECTION).values(position=0)
        )
        # Empty summaries are valid at position 0: the bulk catch-up adds what it counts.
        conn.execute(
            update(t.summary)
            .where(t.summary.c.name == summaries.NAME)
            .values(position=0, recorded_us=0)
        )
        tables = (*t.PROJECTED_TABLES, *t.SUMMARY_TABLES)
        if model.is_postgres:
            conn.execute(text(f"TRUNCATE {', '.join(table.name for table in tables)}"))
        else:
            for table in tables:
                conn.execute(delete(table))
    return catch_up(app, progress=progress, bulk=True)


def _drop_indexes(model: ReadModel) -> None:
    with model.engine.begin() as conn:
        for index in t.SECONDARY_INDEXES:
            index.drop(conn, checkfirst=True)


def _finish(model: ReadModel, bulk: bool, tally: Tally | None) -> None:
    """Indexes back, and the summaries brought to the projection's current position (its
    row locked meanwhile: nothing moves under us): from what the catch-up counted when it
    covers exactly the events they lack, otherwise recomputed."""
    if not bulk:
        with model.engine.connect() as conn:
            if summary_position(conn) == position_of(conn):
                return  # the usual case, without taking the write lock
    with model.engine.begin() as conn:
        at = _claim(conn)
        if bulk:
            _create_indexes(conn)
        valid = summary_position(conn)
        if valid == at:
            return
        execute = executor(conn)
        if tally is not None and (tally.start, tally.end) == (valid, at):
            summaries.add(execute, tally.stage_rows(), tally.sla_rows(), at, tally.recorded_us)
        else:
            summaries.refresh(execute, at)


def _claim(conn: Connection) -> int:
    """Take the projection's write lock (SQLite) or row lock (PostgreSQL); its position."""
    conn.execute(
        update(t.position)
        .where(t.position.c.name == PROJECTION)
        .values(position=t.position.c.position)
    )
    return position_of(conn)


def status(app: HandoffApp) -> Status:
    with read_model(app).engine.connect() as conn:
        at = position_of(conn)
        rows = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in t.PROJECTED_TABLES
        }
    return Status(at, eventstore.last_notification_id(app), rows)
