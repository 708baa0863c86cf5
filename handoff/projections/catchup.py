"""Catching the read model up with the log: incrementally, in bulk, or rebuilt from zero.

The position of a projection is stored in the same transaction as its rows and advanced
with a compare-and-set (`UPDATE ... WHERE position = :old`); rows are keyed by the
notification id of their event. A second process catching up at the same time either
finds the position moved or collides on a key, rolls back, and starts again from the
new position: no event is ever counted twice. Paging and the compare-and-set live in
`projector`.

A large backlog (an import, a rebuild) is projected in bulk: secondary indexes dropped,
large pages, then indexes rebuilt at the end; the rows and the position of each page
still commit together. Every catch-up counts what it adds to the summaries as it goes
(`tally`) and writes that once at its end (see `summaries`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, text, update

from handoff import eventstore, switches
from handoff.projections import exclusive, page_writer, report_now, summaries, writing
from handoff.projections import schema as t
from handoff.projections.projector import Progress, Projector, writes_ahead_in_process
from handoff.projections.readmodel import (
    PROJECTION,
    ReadModel,
    create_indexes,
    executor,
    has_indexes,
    holding,
    position,
    position_of,
    read_model,
    summary_position,
)
from handoff.projections.tally import Tally

if TYPE_CHECKING:
    from handoff.application import HandoffApp

PAGE = 5_000
# Each commit of a bulk page costs a fixed share (the WAL checkpoint, the position row):
# fewer, larger pages rebuild a million events measurably faster (SQLite, a million
# events: pages of 50,000 took 21.3-21.6 s, of 100,000 19.7 s). On PostgreSQL a thread
# writes each page while the next is turned into rows: smaller pages overlap sooner.
REBUILD_PAGE = 100_000
REBUILD_PAGE_POSTGRES = 50_000
# ... but a backlog of a few hundred thousand events (an import) in pages that large keeps
# the other worker idle while the first page is turned into rows and this one while the
# last is written: at least eight pages (an import of 219,000 events caught up in 4.5-4.8 s
# in pages of 27,000 against 4.6-5.3 s in pages of 100,000, alternate runs).
BULK_PAGES_AT_LEAST = 8
BULK_PAGE_AT_LEAST = 20_000
# A backlog at least this large, and at least as large as what is already projected, is
# projected in bulk: rebuilding the indexes then costs less than keeping them up to date.
BULK_FROM = 20_000
# What a rebuild empties and projects again.
_REBUILT = (*t.PROJECTED_TABLES, *t.SUMMARY_TABLES)


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
    return _catch_up(app, page, progress, bulk)[0]


def _catch_up(
    app: HandoffApp, page: int | None, progress: Progress | None, bulk: bool | None
) -> tuple[int, int | None]:
    """`catch_up`: the events read, and (in bulk) the position it left the projection at,
    read as it finished, under the projection's lock."""
    at = position(app)
    behind = eventstore.positions_behind(at, eventstore.last_notification_id(app))
    if bulk is None:
        bulk = _in_bulk(at, behind)
    if bulk and progress is None:  # a long catch-up shows its progress where it can
        progress = app.catch_up_progress
    model = read_model(app)
    if page is None:
        page = _bulk_page(model, behind) if bulk else PAGE
    projector = Projector(app, model, page, progress, bulk)
    if not bulk:
        return _run_then_finish(projector, bulk)[0], None
    _drop_indexes(projector.model)
    # A bulk catch-up keeps hundreds of thousands of leads and counts in memory: the
    # cyclic collector would rescan them all again and again, and finds no cycles.
    with switches.no_cyclic_gc():
        read, reached = _run_then_finish(projector, bulk)
    _analyze(projector.model)
    return read, reached


def _in_bulk(at: int, behind: int) -> bool:
    return behind >= BULK_FROM and behind >= at


def prepare(coming: int) -> None:
    """Before about `coming` more events are committed to the log (an import's, its rows
    all handed to the writer): what their catch-up will need, begun while this process
    would wait for the commit. The page writer's process, when so many would be written
    by one in bulk (`page_writer.prepare`; a store already holding more projects them
    otherwise, and leaves it for the next catch-up that needs one)."""
    if writes_ahead_in_process(_in_bulk(eventstore.BEFORE_FIRST, coming), coming):
        page_writer.prepare()


def _run_then_finish(projector: Projector, bulk: bool) -> tuple[int, int | None]:
    """The projector run, then `_finish` (also after a run that failed: overtaken, say);
    the events read and where `_finish` left the projection. Not after a Ctrl-C: one that
    reached SQLite's driver mid-statement leaves the page's connection holding the write
    lock while the interruption is on its way, and `_finish` waited the whole lock wait
    for it, then said the store was busy. The command stops at once instead, leaving what
    a crash leaves, which the next catch-up completes (indexes, summaries)."""
    try:
        read = projector.run()
    except Exception:
        _finish(projector.model, bulk, projector.tally)
        raise
    return read, _finish(projector.model, bulk, projector.tally)


@contextmanager
def projected(app: HandoffApp) -> Iterator[Connection]:
    """A read of the read model holding every event recorded so far, as one state (see
    `holding`): caught up first, and again if another process's rebuild emptied it before
    the read began."""
    recorded = eventstore.last_notification_id(app)
    model = read_model(app)
    for _ in range(report_now.READ_ATTEMPTS):
        catch_up(app)
        with model.engine.connect() as conn:
            if holding(conn) >= recorded:
                yield conn
                return
    raise report_now.EmptiedAgain()


def rebuild(app: HandoffApp, progress: Progress | None = None) -> int:
    """Empty the read model and project the whole log again; returns how many entries of
    the log it holds then (other processes may have projected some of them meanwhile: a
    rebuild run at the same time, a report catching up)."""
    model = read_model(app)
    _exclusively(model, [table.name for table in _REBUILT], partial(_empty, model))
    recorded = eventstore.last_notification_id(app)
    _, reached = _catch_up(app, None, progress, True)
    for _ in range(report_now.READ_ATTEMPTS):
        if (reached or 0) >= recorded:
            return eventstore.entries_up_to(app, reached or 0)
        # Another rebuild emptied the model after this one projected its last page: what
        # was recorded before this one began is projected again before it answers.
        catch_up(app, progress=progress)
        reached = position(app)
    raise report_now.EmptiedAgain()


def _empty(model: ReadModel, conn: Connection) -> None:
    """Every projected row and summary gone, the projection back before the log's first
    entry."""
    start = eventstore.BEFORE_FIRST
    # Resetting the position first makes any concurrent catch-up fail its compare-and-set.
    conn.execute(
        update(t.position).where(t.position.c.name == PROJECTION).values(position=start)
    )
    # Empty summaries are valid there: the bulk catch-up adds what it counts.
    conn.execute(
        update(t.summary)
        .where(t.summary.c.name == summaries.NAME)
        .values(position=start, recorded_us=0)
    )
    if model.is_postgres:
        conn.execute(text(f"TRUNCATE {', '.join(table.name for table in _REBUILT)}"))
    else:
        for table in _REBUILT:
            conn.execute(delete(table))


def _bulk_page(model: ReadModel, behind: int) -> int:
    largest = REBUILD_PAGE_POSTGRES if model.is_postgres else REBUILD_PAGE
    return max(min(largest, behind // BULK_PAGES_AT_LEAST), BULK_PAGE_AT_LEAST)


def _analyze(model: ReadModel) -> None:
    """PostgreSQL plans queries from statistics that autovacuum refreshes only later: after
    a bulk catch-up, a report's query could be planned as if its tables were empty (minutes
    instead of seconds at a million events)."""
    if model.is_postgres:
        with model.engine.begin() as conn:
            conn.execute(text(f"ANALYZE {', '.join(table.name for table in _REBUILT)}"))


def _drop_indexes(model: ReadModel) -> None:
    """Drop the secondary indexes (no other process builds or drops one between checking
    for it and dropping it: see `_exclusively`)."""

    def drop(conn: Connection) -> None:
        for index in t.SECONDARY_INDEXES:
            index.drop(conn, checkfirst=True)

    _exclusively(model, [table.name for table in t.INDEXED_TABLES], drop)


def _exclusively(model: ReadModel, tables: Iterable[str], work: Callable[[Connection], None]
                 ) -> None:
    """`work` in one transaction that first takes the projection's lock, as every
    transaction that writes the read model does (so that none waits for this one's locks
    while holding one it waits for), then has these tables to itself (`exclusive`: all of
    them at once, tried again shortly while a report reads one)."""
    names = list(tables)

    def attempt() -> None:
        with model.engine.begin() as conn:
            _claim(conn)
            exclusive.lock(conn, names)
            work(conn)

    exclusive.retried(attempt)


def _finish(model: ReadModel, bulk: bool, tally: Tally | None) -> int | None:
    """Indexes back, and the summaries brought to the projection's current position (its
    row locked meanwhile: nothing moves under us): from what the catch-up counted when it
    covers exactly the events they lack, otherwise recomputed. Returns that position
    (None when nothing was to be done)."""
    if not bulk:
        with model.engine.connect() as conn:
            if summary_position(conn) == position_of(conn):
                return None  # the usual case, without taking the write lock
    with model.engine.begin() as conn, ThreadPoolExecutor(1) as beside:
        at = _claim(conn)
        counted = None
        if not bulk and not has_indexes(conn):
            # A bulk catch-up dropped them and has yet to finish (this one projected its
            # last pages): summaries valid here are read through the indexes.
            create_indexes(conn)
        if bulk:
            if tally is not None:  # the summary rows made while the database builds indexes
                counted = beside.submit(lambda: (tally.stage_rows(), tally.sla_rows()))
            driver = conn.connection.driver_connection
            if model.is_postgres:
                switches.tune_postgres_for_index_builds(driver)
                create_indexes(conn)
            else:
                with switches.sqlite_index_builds(driver):
                    create_indexes(conn)
        valid = summary_position(conn)
        if valid == at:
            return at
        execute = executor(conn)
        if tally is not None and (tally.start, tally.end) == (valid, at):
            # Summaries valid before the first entry count nothing (a rebuild empties
            # them): their rows are inserted, not merged (PostgreSQL, a million events: a
            # second less).
            put = (partial(writing.merge, conn) if valid != eventstore.BEFORE_FIRST
                   else partial(_insert, conn))
            stages, slas = counted.result() if counted else (tally.stage_rows(),
                                                              tally.sla_rows())
            summaries.add(execute, put, stages, slas, at, tally.recorded_us,
                          taken_back=tally.taken_back)
        else:
            summaries.refresh(execute, at)
    return at


def _insert(
    conn: Connection, table: str, names: Sequence[str], rows: Sequence[writing.Row], _: str
) -> None:
    """writing.insert, as a summaries.Merge into tables known to be empty."""
    writing.insert(conn, table, names, rows)


def _claim(conn: Connection) -> int:
    """Take the projection's write lock (SQLite) or row lock (PostgreSQL); its position."""
    conn.execute(
        update(t.position)
        .where(t.position.c.name == PROJECTION)
        .values(position=t.position.c.position)
    )
    return position_of(conn)
