"""Read models fed from the notification log: catch up incrementally, rebuild from zero.

The position of a projection is stored in the same transaction as its rows and advanced
with a compare-and-set (`UPDATE ... WHERE position = :old`); rows are keyed by the
notification id of their event. A second process catching up at the same time either
finds the position moved or collides on a key, rolls back, and starts again from the
new position: no event is ever counted twice.

A large backlog (an import, a rebuild) is projected in bulk: secondary indexes dropped,
large pages, summaries left stale, then indexes and summaries rebuilt once at the end;
the rows and the position of each page still commit together.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic
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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementRegister
from handoff.domain.lead import LIFECYCLE_EVENTS
from handoff.domain.traffic import TrafficDay
from handoff.importer import no_cyclic_gc
from handoff.projections import log, summaries
from handoff.projections import tables as t
from handoff.projections.batch import Batch, LeadState
from handoff.projections.tally import Tally
from handoff.projections.terms import KnownVersion, version_from_row

PROJECTION = "kpi"
PAGE = 5_000
REBUILD_PAGE = 20_000
# A backlog at least this large, and at least as large as what is already projected, is
# projected in bulk: rebuilding the indexes then costs less than keeping them up to date.
BULK_FROM = 20_000
_ATTEMPTS = 20
_SCHEMA = "schema"  # its position row holds the tables' SCHEMA_VERSION
_SCHEMA_LOCK = 0x68616E646F6666  # "handoff": serialises creating the read-model tables
_SQLITE_CACHE_KIB = 131_072  # index upkeep of a million rows wants more than the 2 MB default

Progress = Callable[[int, int], None]  # (position reached, last notification id)

_LEAD_TOPICS = {get_topic(cls): name for cls, name in LIFECYCLE_EVENTS.items()}
_LATER_TOPICS = frozenset(topic for topic, name in _LEAD_TOPICS.items() if name != "captured")
_VISITS_TOPIC = get_topic(TrafficDay.VisitsRecorded)  # type: ignore[attr-defined]
_VERSION_TOPIC = get_topic(AgreementRegister.VersionApplied)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ReadModel:
    engine: Engine
    is_postgres: bool
    read_page: Callable[[Connection, int, int], Sequence[log.LogRow]]


@dataclass(frozen=True)
class Status:
    position: int
    last_event: int
    rows: dict[str, int]

    @property
    def behind(self) -> int:
        return max(self.last_event - self.position, 0)


class _Moved(Exception):
    """Another process advanced (or reset) the position first."""


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
        model = ReadModel(engine, location.is_postgres, log.page_reader(app))
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
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
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
        return _position(conn)


def _current(conn: Connection) -> int:
    """The position, read in a transaction of its own."""
    with conn.begin():
        return _position(conn)


def _position(conn: Connection) -> int:
    value = conn.execute(
        select(t.position.c.position).where(t.position.c.name == PROJECTION)
    ).scalar_one()
    return int(value)


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
        behind = (app.recorder.max_notification_id() or 0) - at
        bulk = behind >= BULK_FROM and behind >= at
    projector = _Projector(app, page or (REBUILD_PAGE if bulk else PAGE), progress, bulk)
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
    row locked meanwhile: nothing moves under us): from what a bulk catch-up counted when
    it covers exactly the events they lack, otherwise recomputed."""
    if not bulk:
        with model.engine.connect() as conn:
            if _summary_position(conn) == _position(conn):
                return  # the usual case, without taking the write lock
    with model.engine.begin() as conn:
        at = _claim(conn)
        if bulk:
            _create_indexes(conn)
        valid = _summary_position(conn)
        if valid == at:
            return
        execute = _executor(conn)
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
    return _position(conn)


def _summary_position(conn: Connection) -> int:
    found = conn.execute(
        select(t.summary.c.position).where(t.summary.c.name == summaries.NAME)
    ).scalar_one()
    return int(found)


def _executor(conn: Connection) -> summaries.Execute:
    """Run SQL written with `{0}` for each parameter, in the driver's parameter style."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"

    def execute(sql: str, parameters: Any) -> Any:
        if not isinstance(parameters, list):  # a list is executemany's
            parameters = tuple(parameters) or None
        return conn.exec_driver_sql(sql.format(mark), parameters)

    return execute


def status(app: HandoffApp) -> Status:
    with read_model(app).engine.connect() as conn:
        at = _position(conn)
        rows = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in t.PROJECTED_TABLES
        }
    return Status(at, app.recorder.max_notification_id() or 0, rows)


class _Projector:
    """Reads the log page by page; each page is one transaction with its position."""

    def __init__(
        self, app: HandoffApp, page: int, progress: Progress | None, bulk: bool
    ) -> None:
        self.app = app
        self.model = read_model(app)
        self.page = page
        self.progress = progress
        self.bulk = bulk
        self.leads: dict[str, LeadState] = {}
        self.versions: list[KnownVersion] | None = None
        # A bulk catch-up counts the summaries as it goes (None: they will be recomputed).
        self.tally: Tally | None = None

    def run(self) -> int:
        # One connection for every page (each still its own transaction): SQLite keeps
        # its page cache from one transaction to the next only within a connection.
        with self.model.engine.connect() as conn:
            return self._run(conn)

    def _run(self, conn: Connection) -> int:
        projected = 0
        last_event = (self.app.recorder.max_notification_id() or 0) if self.progress else 0
        at = _current(conn)
        self.tally = Tally(at) if self.bulk else None
        collisions = 0
        while True:
            try:
                read = self._project_page(conn, at)
            except (_Moved, IntegrityError) as moved:
                # Someone else projected these events (or reset the model): our in-memory
                # state may be stale, so start again from their position. Being overtaken
                # is progress; colliding on keys again and again would be a bug.
                collisions += isinstance(moved, IntegrityError)
                if collisions > _ATTEMPTS:
                    raise
                self.leads.clear()
                self.versions = None
                self.tally = None  # it lacks the events the other process projected
                at = _current(conn)
                continue
            except BaseException:
                self.tally = None  # it may hold the rows of a page that was rolled back
                raise
            if read == 0:
                return projected
            if self.tally is not None:
                self.tally.end = self._at
            projected += read
            at = self._at
            if self.progress:
                self.progress(at, max(last_event, at))

    def _project_page(self, conn: Connection, at: int) -> int:
        """Project the page after `at` in one transaction; returns the events read."""
        with conn.begin():
            # Writing first takes the write lock (SQLite) or the row lock (PostgreSQL)
            # before anything is read, so the page and the position belong together.
            claimed = conn.execute(
                update(t.position)
                .where(t.position.c.name == PROJECTION, t.position.c.position == at)
                .values(position=at)
            )
            if claimed.rowcount != 1:
                raise _Moved()
            notifications = self.model.read_page(conn, at, self.page)
            if not notifications:
                return 0
            self._at = notifications[-1][0]
            conn.execute(
                update(t.position)
                .where(t.position.c.name == PROJECTION)
                .values(position=self._at)
            )
            batch = self._project(conn, notifications)
            if batch.dues_moved:
                self.tally = None  # decisions it judged under the old due instants
            # Summaries follow page by page only while they are in step; otherwise they
            # stay stale until `_finish` recomputes them.
            if not (self.bulk or batch.versions_applied) and _summary_position(conn) == at:
                summaries.follow(
                    _executor(conn), at, self._at, batch.decided_ids, batch.recorded_us
                )
            return len(notifications)

    def _project(self, conn: Connection, notifications: Sequence[log.LogRow]) -> Batch:
        if self.versions is None:
            rows = conn.execute(select(t.agreement).order_by(t.agreement.c.version))
            self.versions = [version_from_row(r) for r in rows.mappings()]
        batch = Batch(conn, self.leads, self.versions, self.tally)
        continued = {lead_id for _, lead_id, topic, _ in notifications if topic in _LATER_TOPICS}
        batch.load_leads(continued.difference(self.leads))
        state = log.state
        for nid, originator, topic, data in notifications:
            name = _LEAD_TOPICS.get(topic)
            if name is not None:
                batch.lead_event(nid, originator, name, state(data))
            elif topic == _VISITS_TOPIC:
                batch.visits_recorded(nid, state(data))
            elif topic == _VERSION_TOPIC:
                batch.version_applied(nid, state(data))
        batch.flush()
        return batch
