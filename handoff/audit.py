"""Tamper evidence: every entry of the event log chained to the one before by a hash.

Each entry (lead steps, agreement versions, traffic) is sealed once it is written: its
digest is a hash of the entry exactly as stored (aggregate, its entry number, kind and
state bytes), and its link is a hash of the previous link, its position and its digest.
The chain lives in its own table, `handoff_audit_chain`, beside the events.

`verify` recomputes every digest and link from the events as they are now. An entry
edited, removed, inserted or reordered underneath handoff (by `sqlite3`, `psql`, a disk
editor) no longer matches its seal, and the first such entry is named. Someone who also
rewrites the chain table can only be caught by a digest kept elsewhere: `digest` prints
the position and link of the chain's head, and `verify(expected=...)` proves that the log
as it stands still extends the log that digest was taken of.

Every command seals what is not sealed yet when it ends (`seal`), so an entry goes
unsealed only between being written and the end of the command that wrote it. Two
processes sealing at once compute the same rows (a link depends only on the entries
up to it), so a collision is simply ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from handoff import eventstore
from handoff.domain.agreement import AgreementRegister
from handoff.domain.errors import Refused

T = TypeVar("T")
TABLE = "handoff_audit_chain"
GENESIS = bytes(32)  # the link before the first entry
_PAGE = 20_000
_CREATE = {
    False: f"CREATE TABLE IF NOT EXISTS {TABLE} (position INTEGER PRIMARY KEY,"
    " originator BLOB NOT NULL, digest BLOB NOT NULL, link BLOB NOT NULL)",
    True: f"CREATE TABLE IF NOT EXISTS {TABLE} (position BIGINT PRIMARY KEY,"
    " originator BYTEA NOT NULL, digest BYTEA NOT NULL, link BYTEA NOT NULL)",
}
_INSERT = (
    f"INSERT INTO {TABLE} (position, originator, digest, link) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (position) DO NOTHING"
)


class TamperedLog(Refused):
    """The event log no longer matches its seals (or a kept digest)."""


class MalformedDigest(Refused):
    """A digest that `audit digest` cannot have printed."""


@dataclass(frozen=True)
class Digest:
    """The chain's head: how many entries it covers up to which position, and its link."""

    position: int
    link: bytes

    def __str__(self) -> str:
        return f"{self.position}-{self.link.hex()}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        position, _, link = text.strip().partition("-")
        try:
            if not position.isdigit() or len(link) != 64:
                raise ValueError
            return cls(int(position), bytes.fromhex(link))
        except ValueError:
            raise MalformedDigest(
                f"not a digest printed by 'handoff audit digest': {text!r}"
            ) from None


@dataclass(frozen=True)
class Verdict:
    entries: int  # entries checked against their seals
    newly_sealed: int  # entries sealed by this check (written since the last command)
    digest: Digest


def entry_digest(entry: eventstore.StoredEntry) -> bytes:
    """The hash of one entry's content, wherever it stands in the log."""
    _, originator, version, topic, state = entry
    h = hashlib.sha256(originator)
    h.update(version.to_bytes(8, "big", signed=True))
    h.update(topic.encode())
    h.update(b"\0")
    h.update(state)
    return h.digest()


def next_link(previous: bytes, position: int, digest: bytes) -> bytes:
    return hashlib.sha256(previous + position.to_bytes(8, "big") + digest).digest()


# -- sealing ------------------------------------------------------------------------------


def seal(app: Any) -> int:
    """Seal every entry written since the chain's head; returns how many were sealed."""
    _create_table(app)
    head = _head(app)
    sealed = 0
    position, link = (head.position, head.link)
    while page := eventstore.stored_entries(app, position, _PAGE):
        chain = []
        for entry in page:
            digest = entry_digest(entry)
            link = next_link(link, entry[0], digest)
            chain.append((entry[0], entry[1], digest, link))
        with eventstore.write_transaction(app) as cursor:
            cursor.executemany(eventstore.sql_for(app, _INSERT), chain)
        sealed += len(chain)
        position = page[-1][0]
    return sealed


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


# -- verifying ----------------------------------------------------------------------------


def verify(app: Any, expected: Digest | None = None) -> Verdict:
    """Check every sealed entry against the log as it is now, then seal the rest.

    Raises `TamperedLog` naming the first entry that was edited, removed, inserted or
    reordered underneath handoff, or when the log does not extend `expected`.
    """
    _create_table(app)
    head = _head(app)
    checked, link = 0, GENESIS
    entries, seals = _Peek(_all_entries(app)), _Peek(_all_seals(app))
    while (sealed := seals.next()) is not None:
        position, originator, digest_kept, link_kept = sealed
        entry = entries.peek()
        if entry is None or entry[0] > position:
            raise TamperedLog(f"{_name(app, position, originator)} was removed")
        entries.next()
        if entry[0] < position:
            raise TamperedLog(f"{_name(app, entry[0], entry[1])} was inserted")
        digest_now = entry_digest(entry)
        if digest_now != digest_kept:
            raise TamperedLog(_what_changed(app, entry, digest_now, sealed, entries, seals))
        link = next_link(link, position, digest_now)
        if link != link_kept:
            raise TamperedLog(f"the seal of log entry {position} was edited")
        checked += 1
    entry = entries.peek()
    if entry is not None and entry[0] <= head.position:
        raise TamperedLog(f"{_name(app, entry[0], entry[1])} was inserted")
    newly = seal(app)
    # Every seal now either matched the log or was just computed from it.
    if expected is not None and _link_at(app, expected.position) != expected.link:
        raise TamperedLog(
            f"the log is not the one digested at entry {expected.position}: it was"
            " rewritten since, seals included"
        )
    return Verdict(checked, newly, _head(app))


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
    if eventstore.is_postgres(app):
        sql = "SELECT to_regclass(%s) IS NOT NULL"
        with eventstore.read_transaction(app) as cursor:
            cursor.execute(sql, (TABLE,))
            return bool(eventstore.rows(cursor)[0][0])
    with eventstore.read_transaction(app) as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (TABLE,))
        return bool(eventstore.rows(cursor)[0][0])


def _head(app: Any) -> Digest:
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(f"SELECT position, link FROM {TABLE} ORDER BY position DESC LIMIT 1")
        found = eventstore.rows(cursor)
    return Digest(found[0][0], bytes(found[0][1])) if found else Digest(0, GENESIS)


def _what_changed(
    app: Any,
    entry: eventstore.StoredEntry,
    digest_now: bytes,
    sealed: tuple[int, bytes, bytes, bytes],
    entries: _Peek[eventstore.StoredEntry],
    seals: _Peek[tuple[int, bytes, bytes, bytes]],
) -> str:
    """Why an entry no longer matches the seal at its position, told as best the log shows."""
    position, originator, digest_kept, _ = sealed
    following, next_seal = entries.peek(), seals.peek()
    moved_down = following is not None and entry_digest(following) == digest_kept
    moved_up = next_seal is not None and next_seal[2] == digest_now
    if moved_down and moved_up:
        return f"{_name(app, position, originator)} was reordered"  # swapped with the next
    if moved_down:
        return f"{_name(app, position, entry[1])} was inserted"  # the rest moved down one
    if moved_up:
        return f"{_name(app, position, originator)} was removed"  # the rest moved up one
    moved = _sealed_at(app, digest_now)
    what = "reordered" if moved not in (None, position) else "edited"
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


def _link_at(app: Any, position: int) -> bytes | None:
    sql = eventstore.sql_for(app, f"SELECT link FROM {TABLE} WHERE position = ?")
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(sql, (position,))
        found = eventstore.rows(cursor)
    return bytes(found[0][0]) if found else None


def _all_entries(app: Any) -> Iterator[eventstore.StoredEntry]:
    position = 0
    while page := eventstore.stored_entries(app, position, _PAGE):
        yield from page
        position = page[-1][0]


def _all_seals(app: Any) -> Iterator[tuple[int, bytes, bytes, bytes]]:
    position = 0
    sql = eventstore.sql_for(
        app,
        f"SELECT position, originator, digest, link FROM {TABLE}"
        " WHERE position > ? ORDER BY position LIMIT ?",
    )
    while True:
        with eventstore.read_transaction(app) as cursor:
            cursor.execute(sql, (position, _PAGE))
            page = eventstore.rows(cursor)
        if not page:
            return
        for p, originator, digest, link in page:
            yield p, bytes(originator), bytes(digest), bytes(link)
        position = page[-1][0]


def _sealed_at(app: Any, digest: bytes) -> int | None:
    """Where an entry with this content was sealed (a reordered entry was, elsewhere)."""
    sql = eventstore.sql_for(app, f"SELECT position FROM {TABLE} WHERE digest = ? LIMIT 1")
    with eventstore.read_transaction(app) as cursor:
        cursor.execute(sql, (digest,))
        found = eventstore.rows(cursor)
    return int(found[0][0]) if found else None


def _name(app: Any, position: int, originator: bytes) -> str:
    """'log entry 57 (lead 'acme-1')': the position, and whose entry it is in words."""
    return f"log entry {position} ({_owner(app, originator)})"


def _owner(app: Any, originator: bytes) -> str:
    if UUID(bytes=originator) == AgreementRegister.ID:
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
    return f"aggregate {UUID(bytes=originator)}"
