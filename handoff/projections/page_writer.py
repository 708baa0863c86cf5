"""A page's rows and its position written in one transaction: here, or while the next page
is turned into rows.

The position moves by compare-and-set (`claim`) in the transaction that writes the rows,
wherever that transaction runs. In bulk, the projector turns one page into rows while
another worker writes and commits the one before (`ahead`): for a large backlog a
process of its own, with its own connection (SQLite lets one writer in at a time, and
the projector writes nothing while a page is in flight). A thread would hold Python's
lock while it writes: SQLite's module takes it back for every row (a rebuild of a
million events: 21 s -> 27 s with a thread), psycopg formats every row for COPY with it
(PostgreSQL, the same rebuild: 29-30 s with a thread, 24-25 s with a process). On
PostgreSQL a smaller bulk catch-up is written by a thread, which starts at once.
"""

from __future__ import annotations

import json
import marshal
import pickle
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from typing import BinaryIO, Protocol

from sqlalchemy import URL, Connection, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from handoff import child, switches
from handoff.projections import schema as t
from handoff.projections.page import Writes
from handoff.projections.readmodel import PROJECTION, ReadModel, postgres_engine, sqlite_engine
from handoff.projections.tally import DecisionKey, Tally

# What the summaries gain from a page besides its event rows (see Tally.count): the
# tally that counts it (its token), its decisions judged under an agreement, and the
# latest recorded_at of its lead events.
Counted = tuple[int, list[DecisionKey], int]


class Moved(Exception):
    """Another process advanced (or reset) the position first."""


def claim(conn: Connection, at: int, to: int, bulk: bool) -> None:
    """In the transaction begun: move the position from `at` to `to`, or raise Moved
    when it is no longer at `at` (compare-and-set)."""
    if bulk and conn.dialect.name == "postgresql":
        # As SQLite's synchronous = NORMAL (switches.tune_sqlite): the commit does not
        # wait for its WAL to reach the disk. A crash may lose the last pages, rows and
        # position together, which the next catch-up projects again.
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    claimed = conn.execute(
        update(t.position)
        .where(t.position.c.name == PROJECTION, t.position.c.position == at)
        .values(position=to)
    )
    if claimed.rowcount != 1:
        raise Moved()


def write(conn: Connection, at: int, last: int, rows: Writes) -> None:
    """The page's rows and its position (from `at` to `last`), in one transaction."""
    with conn.begin():
        claim(conn, at, last, bulk=True)
        rows.write(conn)


class Pending(Protocol):
    def result(self, into: Tally | None) -> None:
        """Wait for the write; raise what it raised, or add what the page counts to `into`
        (if any) where the writer does not keep it (`Writer.gather`)."""


class Writer(Protocol):
    def submit(self, at: int, last: int, rows: Writes, counted: Counted | None) -> Pending:
        """Have the page written (`write`) while the caller goes on."""

    def gather(self, into: Tally) -> None:
        """Add to `into` what the pages written for it counted and the writer kept; raise
        what counting one of them raised (nothing is added then)."""


@contextmanager
def ahead(model: ReadModel, conn: Connection, in_process: bool) -> Iterator[Writer]:
    """A writer of pages (`write`) while the caller goes on, one page at a time (the
    caller waits for a write before it submits the next): a process of its own, or on
    PostgreSQL, for a backlog too small to be worth starting one, a thread on `conn`.
    Leaving ends the worker."""
    if not in_process and model.is_postgres:
        with ThreadPoolExecutor(1, thread_name_prefix="projection") as thread:
            yield _Thread(thread, conn)
        return
    with _Process(model.engine.url) as process:
        yield process


class _Thread:
    """Pages written by a thread, each counted by the caller once committed: the thread
    holds Python's lock while it counts, so a tally of its own, added up after, only
    costs more (a million events: a second)."""

    def __init__(self, thread: ThreadPoolExecutor, conn: Connection) -> None:
        self.thread, self.conn = thread, conn

    def submit(self, at: int, last: int, rows: Writes, counted: Counted | None) -> Pending:
        return _Written(self.thread.submit(write, self.conn, at, last, rows), rows, counted)

    def gather(self, into: Tally) -> None:
        """Nothing kept here: each page was counted as its write was waited for."""


class _Written:
    def __init__(self, done: Future[None], rows: Writes, counted: Counted | None):
        self.done, self.rows, self.counted = done, rows, counted

    def result(self, into: Tally | None) -> None:
        self.done.result()
        if into is not None and self.counted is not None:
            into.count(self.rows.events, *self.counted[1:])


class _Process:
    """A child Python running this module (`_serve`), given pages on a pipe: the rows
    (plain tuples of numbers, text and None) by marshal, which writes them faster than
    pickle (a page of 100,000 events: 0.12 -> 0.07 s); its answers by pickle. It counts
    the pages it writes into a tally of its own, sent once when gathered: adding each
    page's counts up here cost this process, which turns the pages into rows, 0.6 s of a
    million events. Started by `child.start`: a Ctrl-C at the terminal stops the command,
    which stops giving it pages (the page in hand is committed or not at all)."""

    def __init__(self, url: URL) -> None:
        self.child = _spare_taken() or _started()
        # Where to write, as its first message, on its input (see `child`).
        self._send(marshal.dumps(_where(url), 2))

    def __enter__(self) -> _Process:
        return self

    def __exit__(self, *_: object) -> None:
        child.stop_answering(self.child)

    def submit(self, at: int, last: int, rows: Writes, counted: Counted | None) -> Pending:
        assert self.child.stdin is not None
        # Sent whole with its length: the child takes it in at once rather than a piece
        # at a time as it decodes, which kept this process waiting.
        columns = tuple(getattr(rows, f.name) for f in fields(rows))
        # Version 2, before marshal tracked shared objects: a page's rows share their
        # texts and numbers (a lead's source, its capture instant) and looking each one up
        # cost more than writing it again.
        self._send(marshal.dumps((at, last, columns, counted), 2))
        return self

    def result(self, into: Tally | None) -> None:
        self._answer()  # what the page counts stays in the child until gathered

    def gather(self, into: Tally) -> None:
        self._send(marshal.dumps((into.token,), 2))
        counts = self._answer()
        if counts is not None:
            into.add(counts)

    def _send(self, message: bytes) -> None:
        assert self.child.stdin is not None
        try:
            self.child.stdin.write(child.framed(message))
            self.child.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError("the process writing the projection's pages ended") from None

    def _answer(self) -> Tally | None:
        try:
            failed, counts = pickle.load(self.child.stdout)  # type: ignore[arg-type]
        except EOFError:
            raise RuntimeError("the process writing the projection's pages ended") from None
        if failed is not None:
            raise failed
        return counts  # type: ignore[no-any-return]


# A process started ahead of need (`prepare`): the next `_Process` takes it.
_spare: subprocess.Popen[bytes] | None = None


def discard_spare() -> None:
    """End the process `prepare` started, if no catch-up took it (a test's own, before the
    next test, which may run elsewhere)."""
    spare = _spare_taken()
    if spare is not None:
        child.stop_answering(spare)


def prepare() -> None:
    """Start the process that writes pages ahead before a catch-up needs it: its start (a
    fifth of a second of imports) is then hidden behind what this process does meanwhile.
    Not taken, it waits for the next catch-up that needs one, or ends with this process
    (its input ends)."""
    global _spare
    if _spare is None or _spare.poll() is not None:
        _spare = _started()


def _started() -> subprocess.Popen[bytes]:
    return child.start(__name__, stdout=subprocess.PIPE)


def _spare_taken() -> subprocess.Popen[bytes] | None:
    """The process `prepare` started, if it still waits for its first page."""
    global _spare
    spare, _spare = _spare, None
    return spare if spare is not None and spare.poll() is None else None


def _where(url: URL) -> tuple[str, ...]:
    """The store as the child opens it: a SQLite file as its parts (a URL's text loses a
    path holding '#' or '?'), a PostgreSQL database by its URL, password included."""
    if url.get_backend_name() == "sqlite":
        return ("sqlite", url.database or "", json.dumps(dict(url.query)))
    return ("postgresql", url.render_as_string(hide_password=False))


def _connect(where: tuple[str, ...]) -> Connection:
    if where[0] == "sqlite":
        _, database, query = where
        url = URL.create("sqlite", database=database, query=json.loads(query))
        conn = sqlite_engine(url).connect()
        switches.tune_sqlite_for_bulk(conn.connection.driver_connection)
        return conn
    return postgres_engine(where[1], poolclass=NullPool).connect()


def _serve(given: BinaryIO) -> None:
    """In the child: write each page given on its input, answer (the error raised or
    None, None) as soon as it is committed, then count it into the tally of the token it
    names, which a new token starts again (the caller's tally was discarded). Given a token
    alone, answer (what counting raised or None, that token's tally or None) and start
    again: a tally missing a page is never sent."""
    answers = sys.stdout.buffer
    where = child.read_message(given)
    if where is None:
        return
    conn = _connect(marshal.loads(where))
    tally: Tally | None = None
    token = None
    miscounted: BaseException | None = None  # what counting a committed page raised
    while (framed := child.read_message(given)) is not None:
        message = marshal.loads(framed)
        if len(message) == 1:
            mine = message[0] == token  # not a tally discarded before (see Projector._run)
            said = _sent(miscounted) if mine else None
            gathered = tally if mine and miscounted is None else None
            tally = token = miscounted = None
            pickle.dump((said, gathered), answers, pickle.HIGHEST_PROTOCOL)
            answers.flush()
            continue
        at, last, columns, counted = message
        rows = Writes(*columns)
        if counted is not None and counted[0] != token:
            tally, token, miscounted = Tally(at), counted[0], None
        failed: BaseException | None = None
        try:
            write(conn, at, last, rows)
        except IntegrityError as error:
            # Without its parameters (a page of rows) and its driver's error, which need
            # not survive pickling: the projector only needs to know that it collided.
            failed = IntegrityError(error.statement, None, Exception(str(error.orig)))
        except Exception as error:  # sent back to be raised there
            failed = _sent(error)
        # Answered as soon as committed, counted after: the projector makes the next page's
        # message meanwhile (it waits for the counts only when it gathers them).
        pickle.dump((failed, None), answers, pickle.HIGHEST_PROTOCOL)
        answers.flush()
        if failed is None and counted is not None and tally is not None:
            try:  # what the committed page adds
                tally.count(rows.events, *counted[1:])
            except Exception as error:  # raised where the counts are gathered
                miscounted = miscounted or _sent(error)
    conn.close()


def _sent(error: BaseException | None) -> BaseException | None:
    """An error as it can be sent back: itself, or its words when it does not pickle."""
    if error is None or _picklable(error):
        return error
    return RuntimeError(repr(error))


def _picklable(error: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return False
    return True


def _main() -> int:
    """The child's life: pages until its input ends. Should it fail outside a page's write
    (which it answers), the command says so in one line ("the process writing the
    projection's pages ended")."""
    return child.serve(_serve)


if __name__ == "__main__":
    # Run from the module as imported, so that what it raises (Moved) pickles by its name.
    from handoff.projections.page_writer import _main

    sys.exit(_main())
