"""A large file read and checked in two halves at once: half of its leads by a copy of this
process.

Reading a file's rows, checking them and making its events into rows for the log take
one core about three seconds for 219,000 events, while the machine's other core waits.
From HALVES_FROM lines, the importer forks as soon as it has the file's text (`start`):
the copy reads the rows of half of the leads (`theirs`: every row of a lead goes to one
process, and is checked there in file order), this process the others and every day's
traffic (`Mine`). Each process holds only its own rows. This process loads what the
store holds of every lead the file names and gives the copy the entries of its own
(`give`): the copy reads no store. Each half is then checked under the same rules, on
the same leads, as one process checks them all (the rows of one lead never depend on
another's), and the copy makes its events into rows with their digests.

The copy tells what it found (its rows' refusals, counts and events) on a pipe, then
sends its rows. Nothing is written unless both halves are good; then this process writes
its own events and the copy's in one transaction (`HandoffApp.save_in_bulk`), taking each
chunk of the copy's as it comes (`among`).

The copy inherited this process's connections: it never uses them, and leaves with
`os._exit`, closing nothing of theirs. It ends on a Ctrl-C as this process does. Should it
end before it told what it found, this process reads and checks its half itself; should
it end while its rows are being written, the write fails as a whole (`HalfEnded`).
"""

from __future__ import annotations

import marshal
import os
import queue
import signal
import sys
import threading
import zlib
from collections.abc import Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any, BinaryIO

from handoff import child, eventstore
from handoff.domain.errors import Refused
from handoff.eventstore import Chunk, Entry

if TYPE_CHECKING:
    from handoff.importer import Importer, Reader

# A file of this many lines is read and checked in halves (a fork costs a few hundredths
# of a second).
HALVES_FROM = 20_000

# What the copy found: its refusals (line, reason), rows recorded and skipped, leads
# changed, and how many events its rows will hold.
Found = tuple[list[tuple[int, str]], int, int, int, int]


def theirs(row: dict[str, str]) -> bool:
    """Whether a row is the copy's: a row of a lead whose key's checksum is odd (about half
    of the leads, whatever the file's order); a day's traffic, a row without a lead key or
    one that could not be read stay here."""
    key = row.get("lead")
    return key is not None and row.get("event") != "visits" and zlib.crc32(key.encode()) & 1 == 1


class Mine:
    """The rows this process reads (what `theirs` leaves), counting the others and
    noting their leads' keys (whose entries the copy is given)."""

    def __init__(self) -> None:
        self.others = 0
        self.their_keys: dict[str, None] = {}  # in the order the file first names them

    def __call__(self, row: dict[str, str]) -> bool:
        if theirs(row):
            self.others += 1
            self.their_keys[row["lead"]] = None
            return False
        return True


class HalfEnded(Refused):
    """The copy ended while its rows were being written: the write fails as a whole."""


class OtherHalf:
    """The copy reading and checking its half of a file: `give` it its leads' entries;
    `found` once it has checked, then its rows `among` this process's."""

    def __init__(self, pid: int, answers: BinaryIO, given: int) -> None:
        self.pid = pid
        self.events = 0
        self._given = given
        self._giving: threading.Thread | None = None
        self._messages: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(
            target=self._read, args=(answers,), name="import-half", daemon=True
        )
        self._reader.start()

    @classmethod
    def start(
        cls, importer: Importer, text: str, reader: Reader, dry_run: bool
    ) -> OtherHalf | None:
        """Fork the copy; None where this system cannot fork, or where the store's
        aggregates are not loaded from their entries (snapshots, a cache)."""
        if sys.platform != "linux" or not eventstore.loads_in_bulk(importer.app):
            return None
        answers_read, answers_write = os.pipe()
        given_read, given_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for end in (answers_read, answers_write, given_read, given_write):
                os.close(end)
            return None
        if pid == 0:  # the copy
            os.close(answers_read)
            os.close(given_write)
            _read_and_check(importer, text, reader, dry_run, given_read, answers_write)
        os.close(answers_write)
        os.close(given_read)
        return cls(pid, os.fdopen(answers_read, "rb"), given_write)

    def give(self, entries: list[Entry]) -> None:
        """The entries of the copy's leads the store holds, sent from a thread (the copy
        takes them once it has read its rows)."""

        def send() -> None:
            with suppress(OSError):  # the copy ended: `found` says so
                _send(self._given, entries)
            os.close(self._given)

        self._giving = threading.Thread(target=send, name="import-half-give", daemon=True)
        self._giving.start()

    def found(self) -> Found | None:
        """What the copy found; None when it ended without telling (its half is then to
        be read and checked here)."""
        message = self._messages.get()
        if message is None:
            return None
        found: Found = marshal.loads(message)
        self.events = found[4]
        return found

    def among(self, own: Iterator[Chunk]) -> Iterator[Chunk]:
        """This process's chunks, and after each of them those of the copy's come
        meanwhile (both make theirs at once: the log's writer takes each as it comes);
        then the rest of the copy's. Its rows come with their digests."""
        ended = False
        for chunk in own:
            yield chunk
            while not ended:
                try:
                    message = self._messages.get_nowait()
                except queue.Empty:
                    break
                made = self._chunk(message)
                if made is None:
                    ended = True
                else:
                    yield made
        while not ended:
            made = self._chunk(self._messages.get())
            if made is None:
                ended = True
            else:
                yield made

    @staticmethod
    def _chunk(message: bytes | None) -> Chunk | None:
        """A chunk of the copy's rows; None after its last."""
        if message is None:
            raise HalfEnded(
                "the process checking half of the import ended before it sent every row"
                " (out of memory?); nothing was written: run the import again"
            )
        chunk: Chunk | None = marshal.loads(message)
        return chunk

    def end(self) -> None:
        """The copy stopped, if it still runs (this process failed or was interrupted),
        and waited for."""
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self._reader.join()
        if self._giving is not None:
            self._giving.join()
        else:
            os.close(self._given)

    def _read(self, answers: BinaryIO) -> None:
        """Every message, as soon as the copy sends it: it never waits for this process
        to take its rows (reading a pipe lets Python's lock go)."""
        with answers:
            while (message := child.read_message(answers)) is not None:
                self._messages.put(message)
        self._messages.put(None)


def _read_and_check(
    importer: Importer, text: str, reader: Reader, dry_run: bool, given: int, answers: int,
) -> None:
    """In the copy: read its rows, take its leads' entries, check the rows, tell what it
    found, send the rows of its events when it found nothing wrong; then leave at once."""
    from handoff.domain.traffic import TrafficDay

    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C ends it on the spot
        rows = reader(text, keep=theirs)  # a file this process refuses, the other does too
        with os.fdopen(given, "rb") as given_file:
            message = child.read_message(given_file)
        if message is None:
            return  # the other process failed before it could give them
        report = importer.check_half(rows, marshal.loads(message))
        changed = importer.changed.values()
        events, chunks = 0, iter(list[Chunk]())
        if report.ok and not dry_run:
            events, chunks = importer.app.rows_in_bulk(changed)
        leads = sum(1 for c in changed if not isinstance(c, TrafficDay))
        refusals = [(error.line, error.reason) for error in report.errors]
        _send(answers, (refusals, report.recorded, report.skipped, leads, events))
        for chunk in chunks:
            _send(answers, chunk)
        _send(answers, None)
        status = 0
    finally:
        os._exit(status)  # nothing of this process's to close or flush: it is a copy


def _send(to: int, message: Any) -> None:
    data = memoryview(child.framed(marshal.dumps(message, 2)))
    while data:
        data = data[os.write(to, data):]
