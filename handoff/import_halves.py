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
chunk of the copy's as it comes (`among`). Should this process's half be good and checked
first, it makes its own rows while it waits (`Importer._run_beside`): the same rows, in
the same order among the copy's.

The copy inherited this process's connections: it never uses them, and leaves with
`os._exit`, closing nothing of theirs. It ends on a Ctrl-C as this process does. Should it
end before it told what it found, this process reads and checks its half itself; should
it end while its rows are being written, the write fails as a whole (`HalfEnded`).
"""

from __future__ import annotations

import marshal
import os
import queue
import select
import signal
import sys
import threading
import traceback
import zlib
from collections.abc import Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

from handoff import child, eventstore
from handoff.domain.errors import Refused
from handoff.eventstore import Chunk, EncodedRow
from handoff.importer import is_traffic

if TYPE_CHECKING:
    from handoff.importer import Importer, Reader

# A file of this many lines is read and checked in halves (a fork costs a few hundredths
# of a second).
HALVES_FROM = 20_000

# What the copy found: its refusals (line, reason), rows recorded and skipped, leads
# changed, how many events its rows will hold, and the forgotten leads whose person its
# rows name (`ImportReport.forgotten`).
Found = tuple[list[tuple[int, str]], int, int, int, int, list[str]]


def theirs(row: dict[str, str]) -> bool:
    """Whether a row is the copy's: a row of a lead whose key's checksum is odd (about half
    of the leads, whatever the file's order); a day's traffic, a row without a lead key or
    one that could not be read stay here."""
    key = row.get("lead")
    return (
        key is not None and not is_traffic(row)
        and zlib.crc32(key.encode("utf-8", "surrogatepass")) & 1 == 1
    )


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
    `found` once it has checked, then `go` (or not), then its rows `among` this process's."""

    def __init__(self, pid: int, answers: BinaryIO, given: int) -> None:
        self.pid = pid
        self.events = 0
        self._given: int | None = given
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
        aggregates are not loaded from their entries (snapshots, a cache). A Ctrl-C
        meanwhile reaches this process once the copy is made, and ends the copy at once."""
        if sys.platform != "linux" or not eventstore.loads_in_bulk(importer.app):
            return None
        answers_read, answers_write = os.pipe()
        given_read, given_write = os.pipe()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            for end in (answers_read, answers_write, given_read, given_write):
                os.close(end)
            return None
        if pid == 0:  # the copy: never returns
            _copy(importer, text, reader, dry_run, (answers_read, given_write),
                  given_read, answers_write)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        os.close(answers_write)
        os.close(given_read)
        return cls(pid, os.fdopen(answers_read, "rb"), given_write)

    def give(self, entries: list[EncodedRow]) -> None:
        """The entries of the copy's leads the store holds, sent from a thread (the copy
        takes them once it has read its rows)."""
        given = self._given
        assert given is not None

        def send() -> None:
            with suppress(OSError):  # the copy ended: `found` says so
                _send(given, ("entries", entries))

        self._giving = threading.Thread(target=send, name="import-half-give", daemon=True)
        self._giving.start()

    def found(self) -> Found | None:
        """What the copy found; None when it ended without telling (its half is then to
        be read and checked here)."""
        said = self._next()
        if said is None:
            return None
        found: Found = said
        self.events = found[4]
        return found

    def still_checking(self) -> bool:
        """Before `found`: whether the copy has yet to tell what it found (or that it
        ended)."""
        return self._messages.empty()

    def go(self, write: bool) -> None:
        """Tell the copy whether to make its events into rows (whether the import writes:
        every row good, not a dry run); it ends either way once it has."""
        if self._giving is not None:
            self._giving.join()
        if self._given is not None:
            with suppress(OSError):
                _send(self._given, ("go", write))
            os.close(self._given)
            self._given = None

    def among(self, own: Iterator[Chunk]) -> Iterator[Chunk]:
        """This process's chunks and the copy's, one of each in turn, then the rest of
        either: both make theirs at once, and the log's writer takes each as it comes.
        In turn whatever the timing, so that the log holds a file's entries in the same
        order from one import of it to the next (exports, digests, ties in lists). The
        copy's rows come with their digests."""
        ended = False
        for chunk in own:
            yield chunk
            if not ended:
                made = self._chunk()
                ended = made is None
                if made is not None:
                    yield made
        while not ended:
            made = self._chunk()
            ended = made is None
            if made is not None:
                yield made

    def _chunk(self) -> Chunk | None:
        """The copy's next chunk of rows; None after its last."""
        message = self._messages.get()
        if message is None:
            raise HalfEnded(
                "the process checking half of the import ended before it sent every row"
                " (out of memory?); nothing was written: run the import again"
            )
        kind, said = marshal.loads(message)
        _raise_if_failed(kind, said)
        chunk: Chunk | None = said
        return chunk

    def _next(self) -> Any:
        """What the copy says next (`found`), or None when it ended without saying it."""
        message = self._messages.get()
        if message is None:
            return None
        kind, said = marshal.loads(message)
        _raise_if_failed(kind, said)
        return said

    def end(self) -> None:
        """The copy stopped, if it still runs (this process failed or was interrupted),
        and waited for."""
        with suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self._reader.join()
        if self._giving is not None:
            self._giving.join()
        if self._given is not None:
            os.close(self._given)
            self._given = None

    def _read(self, answers: BinaryIO) -> None:
        """Every message, as soon as the copy sends it: it never waits for this process
        to take its rows (reading a pipe lets Python's lock go)."""
        with answers:
            while (message := child.read_message(answers)) is not None:
                self._messages.put(message)
        self._messages.put(None)


def _raise_if_failed(kind: str, said: Any) -> None:
    if kind == "failed":  # a bug in the copy: the same as it would be here
        raise RuntimeError(f"the process checking half of the import failed: {said}")


def _copy(
    importer: Importer, text: str, reader: Reader, dry_run: bool, unused: tuple[int, int],
    given: int, answers: int,
) -> NoReturn:
    """The copy's life (`_read_and_check`), ended with `os._exit` whatever happens: it
    runs nothing of the command's own (no exit path, no store closed, no file removed)."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C ends it on the spot
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        for end in unused:
            os.close(end)
        _read_and_check(importer, text, reader, dry_run, given, answers)
        status = 0
    except BaseException:  # said to the command (a bug here is one there too)
        said = traceback.format_exc()
        with suppress(BaseException):
            if os.environ.get("HANDOFF_DEBUG"):
                os.write(2, said.encode())
            _send(answers, ("failed", said.strip().splitlines()[-1]))
    finally:
        os._exit(status)  # nothing of this process's to close or flush: it is a copy


def _read_and_check(
    importer: Importer, text: str, reader: Reader, dry_run: bool, given: int, answers: int,
) -> None:
    """In the copy: read its rows, take its leads' entries, check the rows, tell what it
    found; then make the rows of its events, sent once told the import writes (made
    meanwhile: the other process may still be checking)."""
    rows = reader(text, keep=theirs)  # a file this process refuses, the other does too
    with os.fdopen(given, "rb") as given_file:
        message = child.read_message(given_file)
        if message is None:
            return  # the other process failed before it could give them
        report = importer.check_half(rows, marshal.loads(message)[1], dry_run)
        events, chunks = 0, iter(list[Chunk]())
        if report.writes:
            events, chunks = importer.app.rows_in_bulk(importer.changed.values())
        refusals = [(error.line, error.reason) for error in report.errors]
        found = (refusals, report.recorded, report.skipped, importer.leads_changed(), events,
                 report.forgotten)
        _send(answers, ("found", found))
        if not events:
            return
        made: list[Chunk] = []
        for chunk in chunks:
            made.append(chunk)
            if select.select([given], [], [], 0)[0]:  # told
                break
        if not _told_to_go(given_file):
            return
    for chunk in made:
        _send(answers, ("rows", chunk))
    for chunk in chunks:
        _send(answers, ("rows", chunk))
    _send(answers, ("rows", None))


def _told_to_go(given: BinaryIO) -> bool:
    """Whether the other process says the import writes (it waits to be told)."""
    message = child.read_message(given)
    return message is not None and bool(marshal.loads(message)[1])


def _send(to: int, message: Any) -> None:
    data = memoryview(child.framed(marshal.dumps(message, 2)))
    while data:
        data = data[os.write(to, data):]
