"""A large import's rows written into SQLite's events table by a second process, while this
one makes the next rows: making them (the events encoded, their digests taken) and writing
them each took about half of recording 219,000 events, one after the other.

The child (`_serve`) opens the store as the event store library opens it, begins one
transaction and inserts each chunk it is given with the library's own INSERT (both given
by `eventstore`, which owns what the library does). Told to commit, it reads where the
rows stand, commits and answers; its input ending first (the command failed or was
interrupted) rolls everything back: all or nothing, as one write in this process. Once the
commit is asked for, a Ctrl-C waits for its answer, so that the command says what was
recorded (`Writer.commit`). A write that fails (another process recorded one of these
keys, the store is read-only, locked) answers the driver's error by its class and words
once the caller has sent everything, and the caller raises it as the library would have.

Chunks go to the child from a thread: writing to a pipe lets Python's lock go, so the
rows are made here while the child starts and while it writes the chunk before.
"""

from __future__ import annotations

import marshal
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, BinaryIO

from handoff import child
from handoff.domain.errors import Refused

# A chunk's rows: (originator id as 32 hex digits, version, topic, state as stored).
Rows = Sequence[tuple[str, int, str, bytes]]
# Where the rows stand once committed: (the log's last position before them, the first
# and last they took, how many rows the table holds from the first on).
Placed = tuple[int, int, int, int]

_COMMIT = None  # the message that ends the rows
_CHUNKS_AHEAD = 4  # chunks made and waiting to be sent, at most (a chunk: ~3 MB)


class WriteFailed(Exception):
    """The child's driver refused the write: its error's class name (sqlite3's) and words."""

    def __init__(self, kind: str, said: str) -> None:
        super().__init__(said)
        self.kind = kind


class WriterEnded(Refused):
    """The child ended (killed) before it answered the commit."""


class Writer:
    """The child, given the store (the library's database name and lock timeout), the
    INSERT and the query of where the rows stand (`eventstore`'s); `send` each chunk, then
    `commit`. Leaving without committing rolls the rows back."""

    def __init__(self, database: str, timeout: float, insert: str, placed: str) -> None:
        self.child = child.start(__name__, stdout=subprocess.PIPE)
        self.outbox: queue.Queue[bytes | None] = queue.Queue(_CHUNKS_AHEAD)
        self.sender = threading.Thread(target=self._send_all, name="log-writer", daemon=True)
        self.sender.start()
        self.outbox.put(marshal.dumps((database, timeout, insert, placed), 2))

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *_: object) -> None:
        self._end()  # the sender closes the child's input once it has sent what is queued
        child.stop_answering(self.child)

    def send(self, rows: Rows) -> None:
        # Version 2, before marshal tracked shared objects: looking each one up costs more
        # than writing it again (as the projection's pages, `page_writer`).
        self.outbox.put(marshal.dumps(list(rows), 2))

    def commit(self, committed: Callable[[], None] | None = None,
               meanwhile: Callable[[], None] | None = None) -> Placed:
        """Commit the rows sent, then call `committed`; where they stand. `meanwhile` is
        done once the commit is asked for, while the child writes the last rows. Raises
        `WriteFailed` when the driver refused them (nothing is written), `WriterEnded` when
        the child ended before it answered.

        Once the commit is asked for, the child commits whatever this process does: a
        Ctrl-C meanwhile is held until the answer is in and `committed` called (the caller
        then says the rows were recorded), and raised after."""
        held: list[int] = []
        interrupts = _HeldInterrupts(held)
        try:
            self.outbox.put(marshal.dumps(_COMMIT, 2))
            if meanwhile is not None:
                meanwhile()
            self._end()
            assert self.child.stdout is not None
            answer = child.read_message(self.child.stdout)  # type: ignore[arg-type]
            if answer is None:
                raise WriterEnded(
                    "the process writing the import's events ended before it said whether"
                    " they were recorded (out of memory?): run the import again (rows"
                    " already recorded are skipped)"
                )
            said = marshal.loads(answer)
            if said[0] is not None:
                raise WriteFailed(*said)
            placed: Placed = said[1]
            if committed is not None:
                committed()
        finally:
            interrupts.restore()
        if held:
            raise KeyboardInterrupt
        return placed

    def _end(self) -> None:
        """No more messages: the child's input ends once those queued are sent."""
        if self.sender.is_alive():
            self.outbox.put(None)
            self.sender.join()

    def _send_all(self) -> None:
        given = self.child.stdin
        assert given is not None
        broken = False
        while (message := self.outbox.get()) is not None:
            if broken:
                continue  # the child ended: what is left is dropped, its answer says why
            try:
                given.write(child.framed(message))
                given.flush()
            except OSError:
                broken = True
        with suppress(OSError):
            given.close()


class _HeldInterrupts:
    """Ctrl-C noted in `held` rather than raised, until `restore` (the main thread only:
    Python calls its signal handlers there)."""

    def __init__(self, held: list[int]) -> None:
        self.installed = threading.current_thread() is threading.main_thread()
        self.previous: Any = None
        if self.installed:
            self.previous = signal.signal(signal.SIGINT, lambda *_: held.append(1))

    def restore(self) -> None:
        if self.installed:  # (None: a handler not set from Python, which cannot be put back)
            previous = signal.default_int_handler if self.previous is None else self.previous
            signal.signal(signal.SIGINT, previous)


def _serve(given: BinaryIO) -> None:
    """In the child: the rows of each message inserted in one transaction, committed at
    `_COMMIT` and answered (None, `Placed`), or (class, words) of the driver's error."""
    setup = child.read_message(given)
    if setup is None:
        return
    database, timeout, insert, placed = marshal.loads(setup)
    connection = sqlite3.connect(database, uri=True, timeout=timeout, isolation_level=None)
    failed: tuple[str, str] | None = None
    count = 0
    while (message := child.read_message(given)) is not None:
        rows = marshal.loads(message)
        if rows is _COMMIT:
            answer: tuple[Any, ...] | None = failed
            if answer is None:
                try:
                    answer = (None, _commit(connection, placed, count))
                except sqlite3.Error as error:
                    answer = (type(error).__name__, str(error))
            _answer(answer)
            break
        if failed is not None:
            continue  # read to the end: the caller hears why once it has sent everything
        try:
            if not connection.in_transaction:
                connection.execute("BEGIN")
            connection.executemany(insert, rows)
            count += len(rows)
        except sqlite3.Error as error:
            failed = (type(error).__name__, str(error))
            if connection.in_transaction:
                connection.rollback()
    connection.close()  # without a commit: rolled back


def _commit(connection: sqlite3.Connection, placed: str, count: int) -> Placed:
    """Where the rows stand (`placed`, read under the write lock, held since the first
    insert), then the commit."""
    if not count:
        return (0, 0, 0, 0)
    (last,) = connection.execute("SELECT last_insert_rowid()").fetchone()
    first = last - count + 1
    found, after = connection.execute(placed, (first, first)).fetchone()
    connection.commit()
    return (after, first, last, found)


def _answer(answer: tuple[Any, ...]) -> None:
    sys.stdout.buffer.write(child.framed(marshal.dumps(answer, 2)))
    sys.stdout.buffer.flush()


def _main() -> int:
    return child.serve(_serve)


if __name__ == "__main__":
    sys.exit(_main())
