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
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from handoff import eventstore
from handoff.domain.agreement import AgreementRegister
from handoff.domain.errors import Refused

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
_WRITTEN_DIGEST = re.compile(r"([0-9]{1,19})-([0-9a-fA-F]{64})", re.ASCII)
_COLUMNS = "first_position, last_position, previous, positions, originators, digests, link"
_CREATE = {
    False: f"CREATE TABLE IF NOT EXISTS {TABLE} (first_position INTEGER PRIMARY KEY,"
    " last_position INTEGER NOT NULL, previous BLOB NOT NULL, positions BLOB NOT NULL,"
    " originators BLOB NOT NULL, digests BLOB NOT NULL, link BLOB NOT NULL)",
    True: f"CREATE TABLE IF NOT EXISTS {TABLE} (first_position BIGINT PRIMARY KEY,"
    " last_position BIGINT NOT NULL, previous BYTEA NOT NULL, positions BYTEA NOT NULL,"
    " originators BYTEA NOT NULL, digests BYTEA NOT NULL, link BYTEA NOT NULL)",
}
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
        store can number), a dash and the link's 64 hex digits."""
        written = _WRITTEN_DIGEST.fullmatch(text.strip())
        if written is None or not 1 <= int(written[1]) <= MAX_POSITION:
            raise MalformedDigest(
                "not a digest printed by 'handoff audit digest' (an entry's position in the"
                f" log, a dash and 64 hex digits): {text!r}"
            )
        return cls(int(written[1]), bytes.fromhex(written[2]))


@dataclass(frozen=True)
class Verdict:
    entries: int  # entries checked against their seals
    newly_sealed: int  # entries sealed by this check (written since the last command)
    digest: Digest
    erased: int = 0  # entries matching the digest a recorded `lead forget` gave them


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
    """Seal every entry written since the chain's head; returns how many were sealed."""
    _create_table(app)
    chain = _Chain(_last_block(app))
    sealed = 0
    while page := eventstore.stored_entries(app, chain.position, _PAGE):
        chain.add(
            app, [entry[0] for entry in page], [entry[1] for entry in page],
            [entry_digest(entry) for entry in page],
        )
        sealed += len(page)
    return sealed


def seal_recorded_quietly(app: Any, recorded: eventstore.Recorded) -> None:
    """Seal the entries of a bulk write from the digests taken as they were written
    (`eventstore.record_in_bulk`), without reading them back: the same blocks as `seal`,
    when the chain's head is the entry before them; otherwise (entries left unsealed
    before them, or sealed meanwhile) `seal` itself. As `seal_quietly`, a store that
    cannot take the seal now keeps them unsealed until a command that can."""
    try:
        _seal_recorded(app, recorded)
    except Exception:
        return


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

    def add(
        self, app: Any, positions: list[int], originators: list[str], digests: list[bytes]
    ) -> None:
        """Seal these entries, the next of the log, in one transaction."""
        block, rows, start = self.block, [], 0
        while start < len(positions):  # a block's worth at a time
            if block is None:
                block = Block(self.previous, [], [], [])
            end = start + BLOCK - len(block.positions)
            block.positions += positions[start:end]
            block.originators += originators[start:end]
            block.digests += digests[start:end]
            start = end
            if len(block.positions) == BLOCK:
                rows.append(block.row())
                self.previous, block = rows[-1][-1], None
        if block is not None:
            rows.append(block.row())
        with eventstore.write_transaction(app) as cursor:
            cursor.executemany(eventstore.sql_for(app, _UPSERT), rows)
        self.block = block
        self.position = positions[-1]


def seal_quietly(app: Any) -> None:
    """Seal what the command wrote, at its end. A store that cannot take the seal now (read
    only, busy, gone) keeps its entries unsealed until the next command that can."""
    try:
        last = eventstore.last_notification_id(app)
        if last > 0 and (not _table_exists(app) or _head(app).position < last):
            seal(app)
    except Exception:
        return


def digest(app: Any) -> Digest:
    """The digest of the log as it stands (every entry sealed first)."""
    seal(app)
    return _head(app)


def current_digest(app: Any) -> str | None:
    """The digest to print on a report: the log as it stands, sealed as far as the store
    lets this command seal it; None when it was never sealed and cannot be now."""
    seal_quietly(app)
    try:
        return str(_head(app)) if _table_exists(app) else None
    except Exception:
        return None


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
    """Check every sealed entry against the log as it is now, then seal the rest.

    Raises `TamperedLog` naming the first entry that was edited, removed, inserted or
    reordered underneath handoff, or when the log does not extend `expected`.
    """
    _create_table(app)
    head = _head(app)
    checked = erased = 0
    erasures = _erasures(app)
    entries, seals = _Peek(eventstore.every_stored_entry(app)), _Peek(_all_seals(app))
    while (sealed := seals.next()) is not None:
        position, originator, digest_kept = sealed
        entry = entries.peek()
        if entry is None or entry[0] > position:
            raise TamperedLog(f"{_name(app, position, originator)} was removed")
        entries.next()
        if entry[0] < position:
            raise TamperedLog(f"{_name(app, entry[0], entry[1])} was inserted")
        digest_now = entry_digest(entry)
        if digest_now != digest_kept:
            if erasures.get(position) != (entry[1], digest_now):
                removed = _removed_later(app, originator, position)
                if removed is not None:  # an erasure's own entry, say, which explained it
                    raise TamperedLog(f"{_name(app, removed, originator)} was removed")
                raise TamperedLog(_what_changed(app, entry, digest_now, sealed, entries, seals))
            erased += 1
        checked += 1
    entry = entries.peek()
    if entry is not None and entry[0] <= head.position:
        raise TamperedLog(f"{_name(app, entry[0], entry[1])} was inserted")
    newly = seal(app)
    sealed_now = _head(app)
    if expected is not None:
        _check_extends(app, expected, sealed_now)
    return Verdict(checked, newly, sealed_now, erased)


def _check_extends(app: Any, expected: Digest, head: Digest) -> None:
    """The log, its every seal matched or just computed, extends the one `expected` was
    taken of: it reaches that entry, with the same link there."""
    if expected.position > head.position:
        ends = f"ends at entry {head.position}" if head.position else "holds no entry"
        raise TamperedLog(
            f"the log {ends}, before the digest's entry {expected.position}: entries were"
            " removed since, or the digest was taken of another store"
        )
    if _link_at(app, expected.position) != expected.link:
        raise TamperedLog(
            f"the log is not the one digested at entry {expected.position}: it was"
            " rewritten since, seals included"
        )


def _removed_later(app: Any, originator: str, position: int) -> int | None:
    """The first entry of this record after `position` that was sealed and is gone from the
    log: an entry that no longer matches its seal is then explained by that removal first
    (`lead forget` rewrites a lead's entries and records why in an entry of its own)."""
    later = [p for p, o, _ in _all_seals(app, check=False) if o == originator and p > position]
    held = eventstore.positions_held(app, later)
    return next((p for p in later if p not in held), None)


def _erasures(app: Any) -> dict[int, tuple[str, bytes]]:
    """Each entry a `lead forget` rewrote: its position -> (its lead, its digest since).

    Forgetting a person rewrites their lead's entries without their details, after
    recording which entries and what their digests will be, in an entry of the same lead.
    """
    from handoff.domain.lead import Lead  # only here: a seal after a read never needs it

    found: dict[int, tuple[str, bytes]] = {}
    for _, originator, state in eventstore.states_of_kind(app, get_topic(Lead.Forgotten)):
        try:
            erased = json.loads(state).get("erased", [])
            for position, digest_hex in erased:
                found[int(position)] = (originator, bytes.fromhex(digest_hex))
        except (ValueError, TypeError, AttributeError):
            continue  # a malformed erasure excuses nothing
    return found


def _what_changed(
    app: Any,
    entry: eventstore.StoredEntry,
    digest_now: bytes,
    sealed: tuple[int, str, bytes],
    entries: _Peek[eventstore.StoredEntry],
    seals: _Peek[tuple[int, str, bytes]],
) -> str:
    """Why an entry no longer matches the seal at its position, told as best the log shows."""
    position, originator, digest_kept = sealed
    following, next_seal = entries.peek(), seals.peek()
    moved_down = following is not None and entry_digest(following) == digest_kept
    moved_up = next_seal is not None and next_seal[2] == digest_now
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


# -- the chain table ----------------------------------------------------------------------


def _create_table(app: Any) -> None:
    if _table_exists(app):
        return
    with eventstore.write_transaction(app) as cursor:
        if eventstore.is_postgres(app):
            # Two processes creating one table at once can collide on its row type.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (eventstore.SCHEMA_LOCK_KEY,))
        cursor.execute(_CREATE[eventstore.is_postgres(app)])


def _table_exists(app: Any) -> bool:
    return eventstore.table_exists(app, TABLE)


def _last_block(app: Any) -> Block | None:
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY first_position DESC LIMIT 1")
        found = eventstore.rows(cursor)
    return Block.from_row(found[0])[0] if found else None


def _head(app: Any) -> Digest:
    last = _last_block(app)
    return Digest(last.positions[-1], last.link()) if last is not None else Digest(0, GENESIS)


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
    if position not in block.positions:
        return None
    return block.link(block.positions.index(position) + 1)


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
    from handoff.projections.corrected import projected_key  # its every entry gone from the log

    key = projected_key(app, aggregate.hex)
    return f"lead {key!r}" if key is not None else f"aggregate {aggregate}"
