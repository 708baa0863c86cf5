"""Tamper evidence: every entry of the event log chained to the one before by a hash.

Each entry (lead steps, agreement versions, traffic) is sealed once it is written. Its
digest is a SHA-256 of the entry exactly as stored (aggregate, entry number, kind and
state bytes). Entries are sealed in blocks of up to `BLOCK`, in log order: a block keeps
its entries' positions, aggregates and digests, and a link, the SHA-256 of the previous
block's link followed by all of that; so each entry is chained to every entry before it,
and the link after any entry (a digest) can be recomputed from the blocks. The blocks
live in their own table, `handoff_audit_chain`, beside the events: a row per block, not
per entry, so that sealing a large import costs little beside the import.

`verify` recomputes every digest and link from the events as they are now. An entry
edited, removed, inserted or reordered underneath handoff (by `sqlite3`, `psql`, a disk
editor) no longer matches its seal, and the first such entry is named. Someone who also
rewrites the seals can only be caught by a digest kept elsewhere: `digest` prints the
position and link of the chain's head, and `verify(expected=...)` proves that the log as
it stands still extends the log that digest was taken of.

Every command seals what is not sealed yet when it ends (`seal_quietly`), so an entry
goes unsealed only between being written and the end of the command that wrote it. Two
processes sealing at once compute the same blocks (a block depends only on the entries
up to it), so the longer of two versions of a block is kept.

A command that seals entries recorded before it began (their command ended without
sealing them: killed, or the store busy; or their seals were deleted, the entries perhaps
changed meanwhile) seals them as they stand, and says so in a table of its own,
`handoff_audit_late`: which entries, when and by which command. `verify` reports those
every time, as it reports entries not sealed yet: only a digest kept from before vouches
for them. The links leave that record out, so that entries sealed again as they were
recorded extend a digest taken before. `verify` and `digest` write nothing: they seal the
entries after the last seal in memory, and the command's end seals them in the store when
it can (a store it may only read keeps them unsealed).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from handoff import eventstore
from handoff.domain.agreement import AgreementRegister
from handoff.domain.errors import Refused
from handoff.domain.steps import erase_person, in_the_future
from handoff.projections import states

T = TypeVar("T")
TABLE = "handoff_audit_chain"
BLOCK = 512  # entries per block: a block row is rewritten while it fills, read whole
GENESIS = bytes(32)  # the link before the first entry
_sha256 = hashlib.sha256
_DIGEST, _ORIGINATOR, _POSITION = 32, 32, 8  # bytes per entry in a block's columns
_PAGE = 20_000
# The last position a store can give an entry: a signed 64-bit integer (SQLite's rowid,
# PostgreSQL's BIGINT notification id, and `positions` as a block packs them).
MAX_POSITION = eventstore.LAST_POSITION
# As `audit digest` prints it, or as `audit verify` ends, its line copied whole.
_WRITTEN_DIGEST = re.compile(r"(?:digest )?([0-9]{1,19})-([0-9a-fA-F]{64})", re.ASCII)
_COLUMNS = "first_position, last_position, previous, positions, originators, digests, link"
_CREATE = {
    False: f"CREATE TABLE IF NOT EXISTS {TABLE} (first_position INTEGER PRIMARY KEY,"
    " last_position INTEGER NOT NULL, previous BLOB NOT NULL, positions BLOB NOT NULL,"
    " originators BLOB NOT NULL, digests BLOB NOT NULL, link BLOB NOT NULL)",
    True: f"CREATE TABLE IF NOT EXISTS {TABLE} (first_position BIGINT PRIMARY KEY,"
    " last_position BIGINT NOT NULL, previous BYTEA NOT NULL, positions BYTEA NOT NULL,"
    " originators BYTEA NOT NULL, digests BYTEA NOT NULL, link BYTEA NOT NULL)",
}
# Entries sealed by a later command than the one that recorded them, a row per stretch.
LATE_TABLE = "handoff_audit_late"
# An entry recorded this recently may still be its own command's to seal: that command goes
# on after recording (bringing the KPIs up to date, `sla notify` delivering its notices)
# while a shorter one begun meanwhile ends first and seals it. Sealed so, it is not named
# late: only an entry left unsealed longer than this is (`_Chain._late`).
LATE_AFTER = timedelta(hours=1)
_LATE_COLUMNS = "first_position, last_position, sealed_at, sealed_by"
_CREATE_LATE = {
    False: f"CREATE TABLE IF NOT EXISTS {LATE_TABLE} (first_position INTEGER PRIMARY KEY,"
    " last_position INTEGER NOT NULL, sealed_at TEXT NOT NULL, sealed_by TEXT NOT NULL)",
    True: f"CREATE TABLE IF NOT EXISTS {LATE_TABLE} (first_position BIGINT PRIMARY KEY,"
    " last_position BIGINT NOT NULL, sealed_at TEXT NOT NULL, sealed_by TEXT NOT NULL)",
}
_UPSERT_LATE = (
    f"INSERT INTO {LATE_TABLE} ({_LATE_COLUMNS}) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (first_position) DO UPDATE SET last_position = excluded.last_position,"
    " sealed_at = excluded.sealed_at, sealed_by = excluded.sealed_by"
    f" WHERE excluded.last_position > {LATE_TABLE}.last_position"
)
# Two processes sealing at once write the same block; the one covering more entries stays.
_UPSERT = (
    f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    f" ON CONFLICT (first_position) DO UPDATE SET last_position = excluded.last_position,"
    " positions = excluded.positions, originators = excluded.originators,"
    " digests = excluded.digests, link = excluded.link"
    f" WHERE excluded.last_position > {TABLE}.last_position"
)


class TamperedLog(Refused):
    """The event log no longer matches its seals (or a kept digest)."""


class MalformedDigest(Refused):
    """A digest that `audit digest` cannot have printed."""


@dataclass(frozen=True)
class Digest:
    """The link after one entry of the log: it stands for every entry up to that one."""

    position: int
    link: bytes

    def __str__(self) -> str:
        return f"{self.position}-{self.link.hex()}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        """A digest as `audit digest` prints it: an entry's position (from 1 to the last a
        store can number), a dash and the link's 64 hex digits; or the line `audit verify`
        ends with, `digest` before it."""
        written = _WRITTEN_DIGEST.fullmatch(text.strip())
        if written is None or not 1 <= int(written[1]) <= MAX_POSITION:
            raise MalformedDigest(
                "not a digest printed by 'handoff audit digest' (an entry's position in the"
                f" log, a dash and 64 hex digits): {text!r}"
            )
        return cls(int(written[1]), bytes.fromhex(written[2]))


@dataclass(frozen=True)
class Stretch:
    """Consecutive entries of the log, from the entry at `first` to the one at `last`."""

    entries: int
    first: int
    last: int


@dataclass(frozen=True)
class LateSeal:
    """Entries sealed by a later command than the one that recorded them, as they stood
    then: only a digest kept from before vouches for them."""

    first: int
    last: int
    sealed_at: datetime | None  # None: the record of it no longer reads as an instant
    sealed_by: str  # the command, in the command line's words ("": not known)


@dataclass(frozen=True)
class Verdict:
    entries: int  # entries checked against their seals
    digest: Digest  # of the log as it stands, the entries not sealed yet included
    erased: int = 0  # entries matching the digest a recorded `lead forget` gave them
    unsealed: Stretch | None = None  # the entries after the last seal, if any
    late: tuple[LateSeal, ...] = ()
    # Forgotten leads ("lead 'acme-1'") and how many of their entries an erasure names still
    # read as sealed: its `lead forget` was cut short before rewriting them (run again, it
    # erases them).
    unerased: tuple[tuple[str, int], ...] = ()


def entry_digest(entry: eventstore.StoredEntry) -> bytes:
    """The hash of one entry's content, wherever it stands in the log."""
    _, originator, version, topic, state = entry
    return content_digest(originator, version, topic, state)


def content_digest(originator: str, version: int, topic: str, state: bytes) -> bytes:
    """`entry_digest` of an entry's parts as stored (its originator as 32 hex digits)."""
    return _sha256(f"{originator}\0{version}\0{topic}\0".encode() + state).digest()


@dataclass
class Block:
    """Up to BLOCK consecutive entries of the log, sealed together."""

    previous: bytes  # the link of the block before (GENESIS for the first)
    positions: list[int]
    originators: list[str]
    digests: list[bytes]

    def link(self, entries: int | None = None) -> bytes:
        """The link after this block's first `entries` entries (all of them by default)."""
        n = len(self.positions) if entries is None else entries
        return _sha256(
            self.previous
            + struct.pack(f">{n}q", *self.positions[:n])
            + "".join(self.originators[:n]).encode()
            + b"".join(self.digests[:n])
        ).digest()

    def row(self) -> tuple[Any, ...]:
        n = len(self.positions)
        return (
            self.positions[0], self.positions[-1], self.previous,
            struct.pack(f">{n}q", *self.positions), "".join(self.originators).encode(),
            b"".join(self.digests), self.link(),
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> tuple[Block, bytes]:
        """A block as stored, and the link stored with it."""
        _, _, previous, positions, originators, digests, link = (
            bytes(v) if isinstance(v, memoryview) else v for v in row
        )
        n = len(positions) // _POSITION
        text = bytes(originators).decode("ascii", "replace")
        block = cls(
            bytes(previous),
            list(struct.unpack(f">{n}q", positions)),
            [text[i : i + _ORIGINATOR] for i in range(0, n * _ORIGINATOR, _ORIGINATOR)],
            [digests[i : i + _DIGEST] for i in range(0, n * _DIGEST, _DIGEST)],
        )
        return block, bytes(link)


# -- sealing ------------------------------------------------------------------------------


def seal(app: Any) -> int:
    """Seal every entry written since the chain's head; returns how many were sealed.
    Those recorded before this app was opened are recorded as sealed late."""
    _create_table(app)
    chain = _Chain(_last_block(app))
    sealed = 0
    while page := eventstore.stored_entries(app, chain.position, _PAGE):
        chain.add(app, *_sealed_parts(page), entries=page)
        sealed += len(page)
    return sealed


def _sealed_parts(
    entries: list[eventstore.StoredEntry],
) -> tuple[list[int], list[str], list[bytes]]:
    """What a block keeps of these entries: their positions, aggregates and digests."""
    return ([entry[0] for entry in entries], [entry[1] for entry in entries],
            [entry_digest(entry) for entry in entries])


def seal_recorded_quietly(app: Any, recorded: eventstore.Recorded) -> None:
    """Seal the entries of a bulk write from the digests taken as they were written
    (`eventstore.record_in_bulk`), without reading them back: the same blocks as `seal`,
    when the chain's head is the entry before them; otherwise (entries left unsealed
    before them, or sealed meanwhile) `seal` itself. As `seal_quietly`, a store that
    cannot take the seal now keeps them unsealed until a command that can."""
    _quietly(app, lambda: _seal_recorded(app, recorded))


def _seal_recorded(app: Any, recorded: eventstore.Recorded) -> None:
    if not recorded.positions:
        return
    _create_table(app)
    chain = _Chain(_last_block(app))
    if chain.position != recorded.after:
        seal(app)
        return
    chain.add(app, recorded.positions, recorded.originators, recorded.digests)


class _Chain:
    """The chain from its head on: each add seals the next entries of the log."""

    def __init__(self, last: Block | None) -> None:
        # The last block while it has room (its row is written again as it fills).
        self.block = last if last is not None and len(last.positions) < BLOCK else None
        self.previous = last.link() if last is not None else GENESIS
        self.position = last.positions[-1] if last is not None else eventstore.BEFORE_FIRST
        self.sealed_at: datetime | None = None  # when it first sealed entries late

    @property
    def head(self) -> Digest:
        """The digest after the last entry sealed (position 0: none is)."""
        if self.position == eventstore.BEFORE_FIRST:
            return Digest(0, GENESIS)
        return Digest(self.position, self.block.link() if self.block else self.previous)

    def extend(
        self, positions: list[int], originators: list[str], digests: list[bytes]
    ) -> list[Block]:
        """Seal these entries, the next of the log, in memory; the blocks they went into,
        in order (the last one may have room left)."""
        block, touched, start = self.block, [], 0
        while start < len(positions):  # a block's worth at a time
            if block is None:
                block = Block(self.previous, [], [], [])
            end = start + BLOCK - len(block.positions)
            block.positions += positions[start:end]
            block.originators += originators[start:end]
            block.digests += digests[start:end]
            start = end
            touched.append(block)
            if len(block.positions) == BLOCK:
                self.previous, block = block.link(), None
        self.block = block
        if positions:
            self.position = positions[-1]
        return touched

    def add(
        self, app: Any, positions: list[int], originators: list[str], digests: list[bytes],
        entries: list[eventstore.StoredEntry] | None = None,
    ) -> None:
        """Seal these entries (`entries`, unless they are this command's own), the next of
        the log, in one transaction, with the record of those sealed late."""
        rows = [block.row() for block in self.extend(positions, originators, digests)]
        late = self._late(app, positions, entries or [])
        with eventstore.write_transaction(app) as cursor:
            cursor.executemany(eventstore.sql_for(app, _UPSERT), rows)
            if late is not None:
                cursor.execute(eventstore.sql_for(app, _UPSERT_LATE), late)

    def _late(
        self, app: Any, positions: list[int], entries: list[eventstore.StoredEntry]
    ) -> tuple[int, int, str, str] | None:
        """The row saying which of these entries are sealed late, if any is: those the log
        held when this app was opened (another command recorded them), recorded longer
        than LATE_AFTER ago (their own command is over)."""
        opened_after = getattr(app, "log_end_at_open", None)
        if opened_after is None or positions[0] > opened_after:
            return None
        now = app.clock()
        others = entries[:bisect_right(positions, opened_after)]
        late = [entry[0] for entry in others if not _recently_recorded(entry, now)]
        if not late:
            return None
        if self.sealed_at is None:
            self.sealed_at = now
        when = self.sealed_at.astimezone(UTC).isoformat()
        return late[0], late[-1], when, str(getattr(app, "command", ""))


def _recently_recorded(entry: eventstore.StoredEntry, now: datetime) -> bool:
    """Whether the entry was recorded within LATE_AFTER of now, as its state says (a clock's
    skew ahead at most: an entry dated later was dated so by hand, to pass for a recent one
    for ever); an entry whose state cannot say is taken for an old one. Whoever rewrites an
    entry's date to the minute before a command runs also passes, as one who rewrites the
    seals does: only a digest kept elsewhere catches them."""
    try:
        recorded = states.instant(states.state(entry[4])["timestamp"])
        return now - LATE_AFTER <= recorded and not in_the_future(recorded, now)
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return False


def seal_quietly(app: Any) -> None:
    """Seal what the command wrote, at its end. A store that cannot take the seal now (read
    only, busy, gone) keeps its entries unsealed until the next command that can."""
    _sealed_head(app)


def _sealed_head(app: Any) -> Digest | None:
    """`seal_quietly`, then the chain's head as far as it could be read: sealed, or as it
    stood when the seal could not be taken (None: no chain, or none to be read now)."""
    head: Digest | None = None

    def sealed() -> None:
        nonlocal head
        head = _head(app) if _table_exists(app) else None
        last = eventstore.last_notification_id(app)
        if last > 0 and (head is None or head.position < last):
            seal(app)
            head = _head(app)

    _quietly(app, sealed)
    return head


def _quietly(app: Any, work: Callable[[], None]) -> None:
    """`work` on the chain, failing quietly; not even tried once another process held the
    chain for a whole lock wait earlier in the command (`HandoffApp.chain_busy`)."""
    if app.chain_busy:
        return
    try:
        work()
    except Exception as error:
        if eventstore.busy(error):
            app.chain_busy = True


def digest(app: Any) -> Digest:
    """The digest of the log as it stands: entries after the last seal are sealed in memory
    (writing nothing; the command's end seals them in the store)."""
    chain = _Chain(_last_block(app) if _table_exists(app) else None)
    _seal_in_memory(chain, eventstore.every_stored_entry(app, chain.position))
    return chain.head


def current_digest(app: Any) -> str | None:
    """The digest to print on a report: the log as it stands, sealed as far as the store
    lets this command seal it; None when it was never sealed and cannot be now."""
    head = _sealed_head(app)
    return None if head is None else str(head)


def digest_as_of(app: Any, instant: datetime) -> Digest | None:
    """`current_digest`, for a report as of an instant: the digest of the log as it stood
    then, its longest stretch from its start recorded by then (`eventstore.last_recorded_by`),
    whatever was recorded since; at position 0 when no entry was; None where the log was not
    sealed."""
    if current_digest(app) is None:
        return None
    position = eventstore.last_recorded_by(app, instant)
    if not position:
        return Digest(0, GENESIS)
    link = _link_at(app, position)
    return None if link is None else Digest(position, link)


# -- verifying ----------------------------------------------------------------------------


def verify(app: Any, expected: Digest | None = None) -> Verdict:
    """Check every sealed entry against the log as it is now, writing nothing.

    Raises `TamperedLog` naming the first entry that was edited, removed, inserted or
    reordered underneath handoff, or when the log does not extend `expected`. The entries
    after the last seal are sealed in memory, to be reported as unsealed and to give the
    digest of the log as it stands.
    """
    sealed = _table_exists(app)
    last = _last_block(app) if sealed else None
    head = last.positions[-1] if last is not None else eventstore.BEFORE_FIRST
    checked = erased = 0
    erasures = _erasures(app)
    unerased: dict[str, int] = {}  # by lead, in log order
    order = _RecordOrder(eventstore.every_stored_entry(app))
    entries = _Peek(iter(order))
    seals = _Peek(_all_seals(app) if sealed else iter(()))
    while (sealed_entry := seals.next()) is not None:
        position, originator, digest_kept = sealed_entry
        entry = entries.peek()
        if entry is None or entry[0] > position:
            raise TamperedLog(f"{_name(app, position, originator)} was removed")
        entries.next()
        if entry[0] < position:
            raise TamperedLog(f"{_name(app, entry[0], entry[1])} was inserted")
        digest_now = entry_digest(entry)
        if digest_now != digest_kept:
            if not erasures.vouch_for(position, entry[1], digest_now):
                removed = _removed_later(app, originator, position, erasures)
                if removed is not None:  # an erasure's own entry, say, which explained it
                    raise TamperedLog(f"{_name(app, removed, originator)} was removed")
                edited = erasures.edited_after(originator, position)
                if edited is not None:  # the erasure that explained it, edited since
                    raise TamperedLog(f"{_name(app, edited, originator)} was edited")
                raise TamperedLog(_what_changed(
                    app, entry, digest_now, sealed_entry, entries, seals, erasures))
            erased += 1
        elif erasures.names(position, entry[1]) and eventstore.rewritten(
                app, entry[4], erase_person) is not None:  # an erasure still to rewrite it
            unerased[originator] = unerased.get(originator, 0) + 1
        checked += 1
    entry = entries.peek()
    if entry is not None and entry[0] <= head:
        raise TamperedLog(f"{_name(app, entry[0], entry[1])} was inserted")
    chain = _Chain(last)
    unsealed, link = _seal_in_memory(chain, entries.rest(), expected)
    if order.first is not None:  # matching its seal, or sealed as it came
        position, originator = order.first
        raise TamperedLog(f"{_name(app, position, originator)} is out of its record's order:"
                          " inserted, or an earlier entry of its record removed or moved")
    if expected is not None:
        _check_extends(app, expected, chain.head, link)
    late = tuple(_late_seals(app)) if eventstore.table_exists(app, LATE_TABLE) else ()
    return Verdict(checked, chain.head, erased, unsealed, late,
                   tuple((_owner(app, lead), count) for lead, count in unerased.items()))


def sealed_beyond_the_log(app: Any) -> tuple[int, int] | None:
    """Where the log ends and where its seals reach, when they reach beyond it: entries
    removed from its end underneath handoff, which leave every entry left in its order
    (a removal before its end: `verify`). The seals are read first: entries recorded and
    sealed meanwhile only lengthen the log read after them."""
    if not _table_exists(app):
        return None
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(f"SELECT MAX(last_position) AS sealed FROM {TABLE}")
        sealed = eventstore.rows(cursor)[0][0]
    last = eventstore.last_notification_id(app)
    return (last, sealed) if sealed is not None and last < sealed else None


def _seal_in_memory(
    chain: _Chain, entries: Iterable[eventstore.StoredEntry], expected: Digest | None = None
) -> tuple[Stretch | None, bytes | None]:
    """Seal these entries, the log's after the chain's head, in memory: the stretch they
    make (None: no entry), and the link after the entry `expected` names if it is one."""
    found: Stretch | None = None
    link = None
    pages = iter(lambda: list(islice(entries, _PAGE)), [])
    for page in pages:
        blocks = chain.extend(*_sealed_parts(page))
        if expected is not None and link is None:
            link = next((
                block.link(block.positions.index(expected.position) + 1)
                for block in blocks if expected.position in block.positions
            ), None)
        first = found.first if found is not None else page[0][0]
        found = Stretch((found.entries if found else 0) + len(page), first, page[-1][0])
    return found, link


def _late_seals(app: Any) -> Iterator[LateSeal]:
    """The entries sealed late, in log order: the stretches one sealing recorded (a row per
    page it sealed) told as one."""
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(f"SELECT {_LATE_COLUMNS} FROM {LATE_TABLE} ORDER BY first_position")
        found = eventstore.rows(cursor)
    told: LateSeal | None = None
    for first, last, at, by in found:
        try:
            sealed_at: datetime | None = datetime.fromisoformat(str(at))
        except ValueError:
            sealed_at = None
        if told is not None and (told.sealed_at, told.sealed_by) == (sealed_at, by):
            told = LateSeal(told.first, int(last), sealed_at, str(by))
            continue
        if told is not None:
            yield told
        told = LateSeal(int(first), int(last), sealed_at, str(by))
    if told is not None:
        yield told


def _check_extends(app: Any, expected: Digest, head: Digest, link: bytes | None) -> None:
    """The log, its every seal matched or just computed, extends the one `expected` was
    taken of: it reaches that entry, with the same link there (`link` when the entry is
    one sealed in memory)."""
    if expected.position > head.position:
        ends = f"ends at entry {head.position}" if head.position else "holds no entry"
        raise TamperedLog(
            f"the log {ends}, before the digest's entry {expected.position}: entries were"
            " removed since, or the digest was taken of another store (the one this store was"
            " restored from, when its PostgreSQL log skipped positions: a restore numbers the"
            " entries anew, without gaps)"
        )
    if link is None and _table_exists(app):
        link = _link_at(app, expected.position)
    if link != expected.link:
        raise TamperedLog(
            f"the log is not the one digested at entry {expected.position}: it was"
            f" rewritten since, seals included{_restored_after_a_forgetting(app)}"
        )


def _restored_after_a_forgetting(app: Any) -> str:
    """Where a lead was forgotten, the honest cause of the same mismatch, said beside it: a
    store restored from a backup is sealed anew from its entries as they read, and the
    digest's seals were taken of the details erased since."""
    from handoff.domain.lead import Lead  # only here: as `_erasures`

    if next(iter(eventstore.states_of_kind(app, get_topic(Lead.Forgotten))), None) is None:
        return ""
    return (" (or restored from a backup since a lead was forgotten: a restored store is"
            " sealed anew, and the digest's seals were taken of the details erased since)")


def _removed_later(
    app: Any, originator: str, position: int, erasures: _Erasures,
) -> int | None:
    """The first entry of this record after `position` that was sealed and is gone from the
    log: an entry that no longer matches its seal is then explained by that removal first
    (`lead forget` rewrites a lead's entries and records why in an entry of its own). An
    entry is gone when its record holds fewer entries than were sealed of it and no entry
    of the record reads as that one was sealed, wherever an insertion or removal before it
    moved it."""
    seals = list(_all_seals(app, check=False))
    head = max((p for p, _, _ in seals), default=eventstore.BEFORE_FIRST)
    sealed = [(p, d) for p, o, d in seals if o == originator]
    try:
        entries = [e for e in eventstore.entries_of(app, UUID(originator)) if e[0] <= head]
    except ValueError:
        return None
    if len(entries) >= len(sealed):
        return None  # as many as were sealed: edited or moved, none removed
    kept = {entry_digest(entry) for entry in entries}

    def held(at: int, digest: bytes) -> bool:
        """As sealed, or as the erasure that rewrote it says it reads since."""
        return digest in kept or erasures.rewritten.get(at, ("", b""))[1] in kept

    return next((p for p, d in sealed if p > position and not held(p, d)), None)


@dataclass
class _Erasures:
    """What the recorded `lead forget`s say of the entries they rewrote."""

    # Each entry an erasure vouched for rewrote: its position -> (its lead, its digest since).
    rewritten: dict[int, tuple[str, bytes]]
    # The erasures edited since they were sealed: (position, lead), in log order.
    edited: list[tuple[int, str]]

    def vouch_for(self, position: int, originator: str, digest: bytes) -> bool:
        """Whether an erasure says the entry at this position now reads with this digest."""
        return self.rewritten.get(position) == (originator, digest)

    def names(self, position: int, originator: str) -> bool:
        """Whether an erasure names the entry at this position as one it rewrites."""
        return self.rewritten.get(position, ("",))[0] == originator

    def edited_after(self, originator: str, position: int) -> int | None:
        """The first erasure of this lead after `position` edited since it was sealed: an
        entry of the lead no longer matching its seal is explained by that edit first."""
        return next((at for at, lead in self.edited if lead == originator and at > position),
                    None)


def _erasures(app: Any, of_lead: str | None = None) -> _Erasures:
    """Each entry a `lead forget` rewrote, by the erasures that vouch for it (of one lead,
    its id as hex, when `of_lead` names one).

    Forgetting a person rewrites their lead's entries without their details, after
    recording which entries and what their digests will be, in an entry of the same lead,
    and sealing it: an erasure vouches for its entries when it matches its seal and was
    sealed by the command that recorded it (`lead forget`). One appended underneath handoff
    (unsealed, or sealed late by a later command) vouches for nothing, or any edit of its
    lead's entries could be passed off as an erasure.
    """
    from handoff.domain.lead import Lead  # only here: a seal after a read never needs it

    found = _Erasures({}, [])
    late = list(_late_seals(app)) if eventstore.table_exists(app, LATE_TABLE) else []
    for at, originator, state in eventstore.states_of_kind(app, get_topic(Lead.Forgotten)):
        if of_lead is not None and originator != of_lead:
            continue  # each erasure's seal is read: only those of the lead asked about
        sealed = _matches_its_seal(app, at, originator)
        sealed_at = at if sealed else _sealed_elsewhere(app, at, originator)
        if sealed_at is None:
            if sealed is False:
                found.edited.append((at, originator))
            continue
        if any(seal.first <= sealed_at <= seal.last for seal in late):
            continue
        try:
            erased = json.loads(state).get("erased", [])
            for position, digest_hex in erased:
                found.rewritten[int(position)] = (originator, bytes.fromhex(digest_hex))
        except (ValueError, TypeError, AttributeError):
            continue  # a malformed erasure excuses nothing
    found.edited.sort()
    return found


def vouched_erasures(app: Any, lead: str) -> dict[int, tuple[str, bytes]]:
    """Each entry of a lead (its id as hex) that a recorded `lead forget` vouches for having
    rewritten: its position -> (the lead, its digest since)."""
    return _erasures(app, lead).rewritten


def _what_changed(
    app: Any,
    entry: eventstore.StoredEntry,
    digest_now: bytes,
    sealed: tuple[int, str, bytes],
    entries: _Peek[eventstore.StoredEntry],
    seals: _Peek[tuple[int, str, bytes]],
    erasures: _Erasures,
) -> str:
    """Why an entry no longer matches the seal at its position, told as best the log shows.
    An entry `lead forget` rewrote is known by its seal or by the digest its erasure gave it."""
    position, originator, _ = sealed
    following, next_seal = entries.peek(), seals.peek()

    def sealed_as(seal: tuple[int, str, bytes], digest: bytes) -> bool:
        return digest == seal[2] or erasures.vouch_for(seal[0], seal[1], digest)

    moved_down = following is not None and sealed_as(sealed, entry_digest(following))
    moved_up = next_seal is not None and sealed_as(next_seal, digest_now)
    if moved_down and moved_up:
        return f"{_name(app, position, originator)} was reordered"  # swapped with the next
    if moved_down:
        return f"{_name(app, position, entry[1])} was inserted"  # the rest moved down one
    if moved_up:
        return f"{_name(app, position, originator)} was removed"  # the rest moved up one
    sealed_elsewhere = any(
        d == digest_now and p != position for p, _, d in _all_seals(app, check=False)
    )
    what = "reordered" if sealed_elsewhere else "edited"
    return f"{_name(app, position, originator)} was {what}"


class _RecordOrder:
    """The log's entries as read, noting the first one its record cannot have there: each
    record's entries come in their order (1, 2, 3...), as the library writes them and every
    reader of a lead, a day or the register rebuilds it. An entry appended by hand, or
    sealed by a later command as it came, matches its seal; its place in its record does
    not."""

    def __init__(self, entries: Iterator[eventstore.StoredEntry]) -> None:
        self._entries = entries
        self._versions: dict[str, int] = {}  # each record's last entry so far
        self.first: tuple[int, str] | None = None  # (position, record) out of its order

    def __iter__(self) -> Iterator[eventstore.StoredEntry]:
        for entry in self._entries:
            position, originator, version = entry[0], entry[1], entry[2]
            if self.first is None and version != self._versions.get(originator, 0) + 1:
                self.first = (position, originator)
            self._versions[originator] = version
            yield entry


class _Peek(Generic[T]):
    """An iterator that can look one item ahead."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items
        self._ahead: list[T] = []

    def peek(self) -> T | None:
        if not self._ahead:
            item = next(self._items, None)
            if item is None:
                return None
            self._ahead.append(item)
        return self._ahead[0]

    def next(self) -> T | None:
        item = self.peek()
        self._ahead.clear()
        return item

    def rest(self) -> Iterator[T]:
        """The items not taken yet, the one looked at included."""
        yield from self._ahead
        self._ahead.clear()
        yield from self._items


# -- the chain table ----------------------------------------------------------------------


def _create_table(app: Any) -> None:
    """The seals' tables, where missing (the record of late seals is missing from a store
    an older release sealed)."""
    if _table_exists(app) and eventstore.table_exists(app, LATE_TABLE):
        return
    postgres = eventstore.is_postgres(app)
    with eventstore.write_transaction(app) as cursor:
        if postgres:
            # Two processes creating one table at once can collide on its row type.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (eventstore.SCHEMA_LOCK_KEY,))
        cursor.execute(_CREATE[postgres])
        cursor.execute(_CREATE_LATE[postgres])


def _table_exists(app: Any) -> bool:
    return eventstore.table_exists(app, TABLE)


def _last_block(app: Any) -> Block | None:
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY first_position DESC LIMIT 1")
        found = eventstore.rows(cursor)
    return Block.from_row(found[0])[0] if found else None


def _head(app: Any) -> Digest:
    return _Chain(_last_block(app)).head


def _blocks(app: Any) -> Iterator[tuple[Block, bytes]]:
    sql = eventstore.sql_for(
        app,
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE first_position >= ?"
        " ORDER BY first_position LIMIT 64",
    )
    first = eventstore.first_after(eventstore.BEFORE_FIRST)
    while first is not None:
        with eventstore.read_transaction(app) as cursor:
            cursor.execute(sql, (first,))
            page = eventstore.rows(cursor)
        if not page:
            return
        for row in page:
            yield Block.from_row(row)
        first = eventstore.first_after(page[-1][0])


def _all_seals(app: Any, check: bool = True) -> Iterator[tuple[int, str, bytes]]:
    """Every sealed entry (position, aggregate, digest) in order; with `check`, each block's
    own link is recomputed first, so that a block rewritten by hand is named as such."""
    previous = GENESIS
    for block, link in _blocks(app):
        if check and (block.previous != previous or block.link() != link):
            raise TamperedLog(
                f"the seals of log entries {block.positions[0]} to {block.positions[-1]}"
                " were edited"
            )
        previous = link
        yield from zip(block.positions, block.originators, block.digests, strict=True)


def _link_at(app: Any, position: int) -> bytes | None:
    block = _block_at(app, position)
    if block is None:
        return None
    return block.link(block.positions.index(position) + 1)


def _block_at(app: Any, position: int) -> Block | None:
    """The block that seals the entry at this position (None: no seal does)."""
    sql = eventstore.sql_for(
        app,
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE first_position <= ? AND last_position >= ?",
    )
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(sql, (position, position))
        found = eventstore.rows(cursor)
    if not found:
        return None
    block = Block.from_row(found[0])[0]
    return block if position in block.positions else None


def _matches_its_seal(app: Any, position: int, originator: str) -> bool | None:
    """Whether the entry at this position, of this aggregate, is sealed as it stands (None:
    no seal covers its position)."""
    block = _block_at(app, position) if _table_exists(app) else None
    if block is None:
        return None
    try:
        entries = eventstore.entries_of(app, UUID(originator))
    except ValueError:
        return False
    entry = next((e for e in entries if e[0] == position), None)
    at = block.positions.index(position)
    return (entry is not None and block.originators[at] == entry[1]
            and block.digests[at] == entry_digest(entry))


def _sealed_elsewhere(app: Any, position: int, originator: str) -> int | None:
    """Where the entry at this position, of this aggregate, was sealed as it stands, when
    that is another position (None: nowhere): an entry moved by an entry inserted or
    removed before it is still the entry its seal was taken of, and the insertion or
    removal is what the check names."""
    if not _table_exists(app):  # no seal at all (its table dropped by hand)
        return None
    try:
        entries = eventstore.entries_of(app, UUID(originator))
    except ValueError:
        return None
    entry = next((e for e in entries if e[0] == position), None)
    if entry is None:
        return None
    digest = entry_digest(entry)
    return next((p for p, o, d in _all_seals(app, check=False)
                 if o == originator and d == digest), None)


def _name(app: Any, position: int, originator: str) -> str:
    """'log entry 57 (lead 'acme-1')': the position, and whose entry it is in words."""
    return f"log entry {position} ({_owner(app, originator)})"


def _owner(app: Any, originator: str) -> str:
    try:
        aggregate = UUID(originator)
    except ValueError:
        return "an unknown aggregate"
    if aggregate == AgreementRegister.ID:
        return "the agreement's versions"
    state = eventstore.first_state(app, originator)
    try:
        first: dict[str, Any] = json.loads(state) if state is not None else {}
    except ValueError:
        first = {}
    if isinstance(first.get("key"), str):
        return f"lead {first['key']!r}"
    if isinstance(first.get("day"), str):
        return f"traffic of {first['day']}"
    from handoff.projections.corrected import (  # its every entry gone from the log
        projected_day,
        projected_key,
    )

    key = projected_key(app, aggregate.hex)
    if key is not None:
        return f"lead {key!r}"
    day = projected_day(app, aggregate.hex)
    return f"traffic of {day}" if day is not None else f"aggregate {aggregate}"
