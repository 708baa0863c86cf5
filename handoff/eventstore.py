"""The one module that relies on how eventsourcing stores events, beyond its public API.

Reading a million events through the library (a `Notification`, a `UUID` and a domain
event object per row) costs more than projecting them, and its encoder checks every
state for cycles none has. So the read side reads the events table with its own SQL and
decodes the transcoder's JSON itself, and the application tunes the encoder. Each such
reliance is written here once, named, and checked against the installed library by
`tests/test_eventstore_contract.py`, which fails loudly when an upgrade moves one (rather
than the projection silently slowing down or reading wrongly):

- the events table: its name on the recorder, its schema on PostgreSQL, `rowid` as the
  notification id on SQLite, and its columns (notification id, originator id, topic, state);
  on PostgreSQL, the recorder's statements locking it and the channel it notifies;
- the datastore's transaction, and the rows its cursor gives (tuples or dictionaries);
  the driver's cursor inside it (on SQLite the `sqlite3` cursor inside the library's
  `SQLiteCursor`), set to read rows as plain tuples (`row_factory`);
- the mapper's optional compressor and cipher (undone here, in the library's order);
- the JSON transcoder: tagged values written `{"_type_": NAME, "_data_": TEXT}`, compact,
  keys in the order an event's attributes were set, its encoder's `check_circular`, and
  that encoder's settings, given to the standard library's compiled encoder made once;
- the mapper's stored form of an event (its attributes less id and version, encoded,
  compressed, encrypted) and the SQLite recorder's INSERT, to write a large import at once,
  from a second process that opens the database as the library's connection pool does (its
  database name and lock timeout);
  and, for an event an import describes without constructing it (`Unbuilt`), the order
  of those attributes (the event's dataclass fields) and what `Aggregate._create` adds;
- the repository's reconstruction of an aggregate (its events in order through
  `project_aggregate`, when it keeps no snapshots and no cache), to load many at once;
- the fields the library gives every entry (`LIBRARY_FIELDS`), its `timestamp` first in
  its state (`stamped_at`), which of an aggregate's classes are its kinds of entry, and
  which of them begins a record, naming the class the library builds the record from
  (`event_kinds`, `first_entry_topic`).

Anyone needing another internal adds a function here (append; keep each one small).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import cache, partial
from json.encoder import (  # type: ignore[attr-defined]  # not in typeshed
    c_make_encoder,
    encode_basestring,
    encode_basestring_ascii,
)
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.domain import (
    CanInitAggregate,
    CanMutateAggregate,
    OriginatorIDError,
    OriginatorVersionError,
)
from eventsourcing.persistence import (
    InterfaceError,
    JSONTranscoder,
    MapperDeserialisationError,
    OperationalError,
    Transcoder,
)
from eventsourcing.utils import get_topic

from handoff import switches

if TYPE_CHECKING:
    from eventsourcing.application import Application

# (notification id, originator id as 32 hex digits, topic, state as JSON bytes)
LogRow = tuple[int, str, str, bytes]
# Reads up to `limit` rows after a notification id from a DB-API connection (or cursor).
PageReader = Callable[[Any, int, int], Sequence[LogRow]]

# The PostgreSQL advisory lock under which one process at a time creates tables in the
# store's database (the library's and the read model's): "handoff" in ASCII.
SCHEMA_LOCK_KEY = 0x68616E646F6666
# ... and the one held by a command creating a new store until it knows whether it keeps
# the store; every command opening the store waits for it first: "handoff+".
NEW_STORE_LOCK_KEY = 0x68616E646F66662B

# The log is every row of the events table, in the order of its positions (notification
# ids). The library numbers them from 1 on both stores, but either takes a row numbered
# lower by hand (SQLite's rowid and PostgreSQL's BIGINT run from -2**63 to 2**63 - 1), and
# the library reads such a row as one of its record's entries: so every reader by position
# starts before the lowest, as every reader by record does, and sees the same log.
FIRST_POSITION, LAST_POSITION = -(2**63), 2**63 - 1
# The position a reader is at before it reads the first entry: reading "after" it reads
# from FIRST_POSITION itself (see `first_after`), where no entry can lie before.
BEFORE_FIRST = FIRST_POSITION

# The JSON transcoder's tagged value: {"_type_": "datetime_iso", "_data_": "2026-..."}.
TYPE_KEY = "_type_"
DATA_KEY = "_data_"
# Its tags for the two kinds of tagged value the events hold: instants and amounts.
DATETIME_TAG = "datetime_iso"
DECIMAL_TAG = "decimal_str"


# -- the events table -------------------------------------------------------------------


def is_postgres(app: Application[Any]) -> bool:
    # The class or its base: PostgreSQL's recorder is the library's, made to give up on a lock
    # at once (`_lock_wait_not_retried`); named, not imported, as a SQLite store needs no psycopg.
    return any(c.__module__ == "eventsourcing.postgres" for c in type(_recorder(app)).__mro__)


def changed_underneath(error: BaseException) -> bool:
    """Whether `error` is the library finding a record's entries out of their order as it
    builds the record from them (one removed, inserted or moved in the log by hand), or an
    entry's state it cannot decode (edited by hand: cut short, or written as text by
    `replace()` in sqlite3), or that the log's own readers cannot (`projections.states`)."""
    return isinstance(error, OriginatorVersionError | OriginatorIDError
                      | MapperDeserialisationError | UnreadableEntry)


class UnreadableEntry(Exception):
    """An entry's state that is not JSON as handoff writes it, found by the log's own
    readers (`projections.states`): edited underneath handoff."""


def events_table(app: Application[Any]) -> str:
    """The events table's name as SQL, schema-qualified on PostgreSQL."""
    recorder = _recorder(app)
    name: str = recorder.events_table_name
    if is_postgres(app):
        return f'"{recorder.datastore.schema}"."{name}"'
    return name


def table_exists(app: Application[Any], name: str | None = None) -> bool:
    """Whether the store's database has this table (by default, the events table)."""
    if name is None:
        name = _recorder(app).events_table_name
    if is_postgres(app):
        sql = "SELECT to_regclass(%s) IS NOT NULL"
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE name = ?"
    with read_transaction(app) as cursor:
        cursor.execute(sql, (name,))
        return bool(rows(cursor)[0][0])


def create_log_where_missing(app: Application[Any]) -> None:
    """The library's tables, created as its own set-up creates them (`create_table`), unless
    they are all there (PostgreSQL: the events table, its index of positions and the
    function that inserts events, found in the catalog, which waits for no lock). Run where
    they are there, the set-up's `CREATE INDEX IF NOT EXISTS` waits for the events table
    behind any lock on it (psql's `LOCK TABLE`, a VACUUM FULL), and a command opening the
    store does it under the advisory locks that every other opening waits for."""
    recorder = _recorder(app)
    if is_postgres(app):
        with read_transaction(app) as cursor:
            cursor.execute(
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL"
                " AND EXISTS (SELECT FROM pg_proc WHERE proname = %s)",
                (recorder.events_table_name, recorder.notification_id_index_name,
                 recorder.pg_function_name_insert_events),
            )
            if rows(cursor)[0][0]:
                return
    recorder.create_table()


def last_notification_id(app: Application[Any]) -> int:
    """The notification id of the latest recorded event (0 for an empty store)."""
    return app.recorder.max_notification_id() or 0


def entries_up_to(app: Application[Any], position: int) -> int:
    """How many entries the log holds up to this notification id (its ids may skip
    numbers: PostgreSQL's sequence does where a transaction rolled back)."""
    with read_transaction(app) as cursor:
        cursor.execute(sql_for(app, f"SELECT COUNT(*) AS n FROM {events_table(app)}"
                                    f" WHERE {position_column(app)} <= ?"), (position,))
        return int(rows(cursor)[0][0])


def positions_held(app: Application[Any], positions: Sequence[int]) -> set[int]:
    """Which of these notification ids the log holds."""
    held: set[int] = set()
    table, column = events_table(app), position_column(app)
    for start in range(0, len(positions), 500):
        chunk = positions[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        with read_transaction(app) as cursor:
            cursor.execute(sql_for(app, f"SELECT {column} FROM {table} WHERE {column} IN"
                                        f" ({marks})"), tuple(chunk))
            held.update(int(found[0]) for found in rows(cursor))
    return held


def last_recorded_by(app: Application[Any], instant: datetime) -> int:
    """The position of the last entry of the log's longest stretch, from its start, whose
    every entry was recorded by `instant` (0: its first was not). What is logged later never
    changes it, whatever instant it bears."""
    unwrap, decode = _unwrapper(app), app.mapper.transcoder.decode
    last = 0
    for position, _, _, _, state in every_stored_entry(app):
        plain = unwrap(state)
        recorded = stamped_at(plain) or decode(plain)["timestamp"]
        if recorded > instant:
            break
        last = position
    return last


def last_notification_id_read(app: Application[Any], cursor: Any) -> int:
    """`last_notification_id`, read on a cursor of `read_transaction`: on SQLite, in the
    same snapshot as what the transaction reads next."""
    cursor.execute(f"SELECT MAX({position_column(app)}) AS last FROM {events_table(app)}")
    return int(rows(cursor)[0][0] or 0)


def first_after(after: int) -> int | None:
    """The first position a read of the entries after `after` can find (its SQL reads
    `>=` it): from the very first when it is BEFORE_FIRST; None when none can follow."""
    if after == BEFORE_FIRST:
        return FIRST_POSITION
    return after + 1 if after < LAST_POSITION else None


def positions_behind(after: int, last: int) -> int:
    """How many positions a reader after `after` has yet to read up to `last`: the
    entries left where the log skips no number, counted from 1 (where the library begins
    numbering) for a reader that has read none of them."""
    return max(last - max(after, 0), 0)


def position_column(app: Application[Any]) -> str:
    """The events table's column of notification ids (the rowid itself on SQLite)."""
    return "notification_id" if is_postgres(app) else "rowid"


def _page_sql(app: Application[Any]) -> str:
    """Up to a number of notifications after a position, in order: (id, hex id, topic, state)."""
    table = events_table(app)
    if is_postgres(app):
        # The id as 32 hex digits made by the server: building a UUID object per row in
        # Python, only to take its hex, costs more than the rest of reading the row (and
        # the hex of its 16 bytes costs the server a third of `replace(id::text, '-', '')`).
        return (
            "SELECT notification_id, encode(uuid_send(originator_id), 'hex'), topic, state"
            f" FROM {table} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        )
    # The library's notification id on SQLite is the table's rowid.
    return (
        f"SELECT rowid, originator_id, topic, state FROM {table}"
        " WHERE rowid >= ? ORDER BY rowid LIMIT ?"
    )


def page_reader(app: Application[Any]) -> PageReader:
    """A function reading up to `limit` notifications after a position, in order, from a
    DB-API connection to the store's database (the projection's own, in its transaction)."""
    read = _page_of_cursor(app)

    def read_page(connection: Any, after: int, limit: int) -> Sequence[LogRow]:
        # The driver's own cursor: a library's result rows add nothing here but time.
        cursor = connection.cursor()
        try:
            return read(cursor, after, limit)
        finally:
            cursor.close()

    return read_page


def log_pages(
    app: Application[Any], page: int = 50_000, after: int = BEFORE_FIRST
) -> Generator[Sequence[LogRow], None, None]:
    """Every notification after `after` in order, a page at a time, each page read on the
    library's own connection (no second connection, no SQLAlchemy: an export starts at
    once)."""
    read = _page_of_cursor(app)

    def page_after(after: int) -> Sequence[LogRow]:
        with read_transaction(app) as cursor:
            return read(_driver_cursor(cursor), after, page)

    if is_postgres(app):
        yield from _read_ahead(page_after, after)
        return
    rows = page_after(after)
    while rows:
        yield rows
        rows = page_after(rows[-1][0])


def _read_ahead(
    page_after: Callable[[int], Sequence[LogRow]], after: int
) -> Iterator[Sequence[LogRow]]:
    """The pages, each next one read in a thread while the caller works on this one: the
    PostgreSQL server finds and sends it meanwhile (a second of waiting at a million rows,
    with Python's lock released). On SQLite it would gain nothing: the sqlite3 module
    takes the lock back for every row."""
    # Imported here: concurrent.futures brings logging, a twentieth of `handoff kpi`'s
    # start-up, and only an export or a rebuild on PostgreSQL reads ahead.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="log_pages") as reader:
        rows = page_after(after)
        while rows:
            following = reader.submit(page_after, rows[-1][0])
            yield rows
            rows = following.result()


def _page_of_cursor(app: Application[Any]) -> PageReader:
    """A function reading up to `limit` notifications after a position on a driver's cursor
    (sqlite3 or psycopg), as plain tuples whatever rows the cursor's connection makes."""
    sql, postgres, unwrap = _page_sql(app), is_postgres(app), _unwrapper(app)
    # The rows are already (int, hex text, text, bytes) when the state is stored plain:
    # converting a million of them again costs a second.
    as_read = unwrap is bytes

    def read(cursor: Any, after: int, limit: int) -> Sequence[LogRow]:
        first = first_after(after)
        if first is None:
            return []
        rows: list[LogRow] = _fetch_tuples(cursor, sql, (first, limit), postgres)
        if as_read and all(type(r[3]) is bytes for r in rows):
            return rows
        # A state edited in as text underneath (SQLite keeps whatever type it is given).
        return [(n, o, t, unwrap(_as_stored(s))) for n, o, t, s in rows]

    return read


def _driver_cursor(cursor: Any) -> Any:
    """The sqlite3 or psycopg cursor of a cursor of `read_transaction` (the library wraps
    sqlite3's in a `SQLiteCursor`)."""
    return getattr(cursor, "sqlite_cursor", cursor)


def _fetch_tuples(
    cursor: Any, sql: str, parameters: tuple[Any, ...], postgres: bool
) -> list[Any]:
    """Every row of a query on a driver's cursor as a plain tuple: not the library's
    dictionaries (PostgreSQL, half a second at a million rows) or `sqlite3.Row`s; on
    PostgreSQL in binary, a state's bytes as stored rather than hex text to decode."""
    _giving_tuples(cursor, postgres)
    if postgres:
        cursor.execute(sql, parameters, binary=True)
    else:
        cursor.execute(sql, parameters)
    rows: list[Any] = cursor.fetchall()
    return rows


def _giving_tuples(cursor: Any, postgres: bool) -> None:
    """A driver's cursor made to fetch plain tuples: not the library's dictionaries
    (PostgreSQL) or `sqlite3.Row`s, which cost a conversion per row (a report reads
    40,000 handoffs for a year's speed to lead)."""
    if postgres:
        from psycopg.rows import tuple_row

        cursor.row_factory = tuple_row
    else:
        cursor.row_factory = None


@contextmanager
def read_transaction(app: Application[Any]) -> Iterator[Any]:
    """A DB-API cursor on the library's own connection, in a transaction that commits
    nothing. Rows are plain tuples."""
    with _recorder(app).datastore.transaction(commit=False) as cursor:
        _giving_tuples(_driver_cursor(cursor), is_postgres(app))
        yield cursor


def aggregates_of(app: Application[Any], ids: Sequence[UUID]) -> dict[UUID, Any]:
    """The aggregates among these ids that have events, each reconstructed as the library's
    repository reconstructs it (`aggregates_from`), the events of 500 aggregates read in
    one query (`entries_of_each`): loading the leads a re-import names with a
    `repository.get` each cost more than checking their rows. A repository keeping
    snapshots or a cache is asked one by one."""
    from eventsourcing.application import AggregateNotFoundError

    repository = app.repository
    found: dict[UUID, Any] = {}
    if not loads_in_bulk(app):
        for aggregate_id in ids:
            with suppress(AggregateNotFoundError):
                found[aggregate_id] = repository.get(aggregate_id)
        return found
    return aggregates_from(app, entries_of_each(app, ids))


def loads_in_bulk(app: Application[Any]) -> bool:
    """Whether `aggregates_of` reads the entries itself (no snapshots, no cache), so that
    another process can rebuild the aggregates from them (`aggregates_from`)."""
    repository = app.repository
    return repository.snapshot_store is None and repository.cache is None


# An entry as written and read in bulk: (originator id as 32 hex digits, version, topic,
# state as stored).
EncodedRow = tuple[str, int, str, bytes]


def entries_of_each(app: Application[Any], ids: Sequence[UUID]) -> list[EncodedRow]:
    """Every entry of these aggregates, each aggregate's in order, 500 aggregates a query."""
    if not ids or not last_notification_id(app):
        return []
    table, postgres = events_table(app), is_postgres(app)
    entries: list[EncodedRow] = []
    with read_transaction(app) as cursor:
        driver = _driver_cursor(cursor)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            parameters: tuple[Any, ...]
            if postgres:
                where, parameters = "originator_id = ANY(%s)", (list(chunk),)
            else:
                where = f"originator_id IN ({','.join('?' * len(chunk))})"
                parameters = tuple(i.hex for i in chunk)
            sql = (
                "SELECT originator_id, originator_version, topic, state"
                f" FROM {table} WHERE {where} ORDER BY originator_id, originator_version"
            )
            for originator, version, topic, state in _fetch_tuples(
                driver, sql, parameters, postgres
            ):
                hex_id = originator.hex if postgres else originator
                entries.append((hex_id, version, topic, _as_stored(state)))
    return entries


def aggregates_from(app: Application[Any], entries: Iterable[EncodedRow]) -> dict[UUID, Any]:
    """The aggregates these entries (`entries_of_each`) make, as the library's repository
    makes them (`project_aggregate`: each event, decoded by the mapper, mutating the
    aggregate in order); reads nothing from the store."""
    from eventsourcing.persistence import StoredEvent

    to_domain_event = app.mapper.to_domain_event
    events: dict[UUID, list[Any]] = {}
    last_hex, last_id = "", None
    for hex_id, version, topic, state in entries:
        if hex_id != last_hex:
            last_hex, last_id = hex_id, UUID(hex_id)
        assert last_id is not None
        stored = StoredEvent(last_id, version, topic, state)
        events.setdefault(last_id, []).append(to_domain_event(stored))
    found: dict[UUID, Any] = {}
    for aggregate_id, history in events.items():
        aggregate = None
        for event in history:  # `project_aggregate`, less its runtime protocol check per event
            aggregate = event.mutate(aggregate)
        found[aggregate_id] = aggregate
    return found


def _recorder(app: Application[Any]) -> Any:
    return app.recorder


def _unwrapper(app: Application[Any]) -> Callable[[Any], bytes]:
    """Bytes of the JSON state: decrypted, then decompressed, when the store is configured
    so (the reverse of the mapper's compress-then-encrypt)."""
    mapper = app.mapper
    cipher, compressor = mapper.cipher, mapper.compressor
    if cipher is None and compressor is None:
        return bytes

    def unwrap(state: Any) -> bytes:
        data = bytes(state)
        if cipher is not None:
            data = cipher.decrypt(data)
        if compressor is not None:
            data = compressor.decompress(data)
        return data

    return unwrap


# -- the JSON transcoder ----------------------------------------------------------------


def without_cycle_check(transcoder: Transcoder) -> Transcoder:
    """Event states never hold cycles; not checking for them makes encoding (the bulk of
    a large import's cost after validation) about a third cheaper."""
    if isinstance(transcoder, JSONTranscoder):
        encoder = transcoder.encoder
        if not isinstance(encoder, json.JSONEncoder):  # pragma: no cover - a library change
            raise TypeError(f"the JSON transcoder's encoder is a {type(encoder).__name__}")
        encoder.check_circular = False
    return transcoder


def state_encoder(transcoder: Transcoder) -> Callable[[Any], bytes]:
    """The transcoder's `encode`, with the standard library's compiled JSON encoder made
    once, where `JSONEncoder.encode` makes it again for every state: the same function
    with the encoder's own settings and hook (what `JSONEncoder.iterencode` passes it), so
    the same bytes. Any other transcoder or encoder: its own `encode`."""
    encoder = getattr(transcoder, "encoder", None)
    if (
        not isinstance(transcoder, JSONTranscoder)
        or type(encoder) is not json.JSONEncoder
        or c_make_encoder is None
        or encoder.indent is not None
        or encoder.check_circular
    ):
        return transcoder.encode
    strings = encode_basestring_ascii if encoder.ensure_ascii else encode_basestring
    iterencode = c_make_encoder(
        None, encoder.default, strings, None, encoder.key_separator, encoder.item_separator,
        encoder.sort_keys, encoder.skipkeys, encoder.allow_nan,
    )

    def encode(state: Any) -> bytes:
        return "".join(iterencode(state, 0)).encode("utf8")

    return encode


def tagged_text(value: Any, type_name: str) -> str:
    """The text of a tagged value of this type, as the transcoder wrote it; raises otherwise."""
    if not isinstance(value, dict) or value.get(TYPE_KEY) != type_name:
        raise ValueError(f"expected a {type_name} value in the event state, got {value!r}")
    text: str = value[DATA_KEY]
    return text


def tagged_pattern(type_name: bytes, data: bytes) -> bytes:
    """A regular expression (bytes) matching a tagged value of this type in compact JSON,
    its text matched by `data`."""
    return (
        rb'\{"' + TYPE_KEY.encode() + rb'":"' + type_name + rb'","' + DATA_KEY.encode()
        + rb'":' + data + rb"\}"
    )


# The instant an entry was recorded, first in its state as the transcoder writes it.
_STAMP = re.compile(rb'\{"timestamp":' + tagged_pattern(DATETIME_TAG.encode(), rb'"([^"\\]+)"'))


def stamped_at(state: bytes) -> datetime | None:
    """When the entry of this plain state was recorded, read from its usual shape (the
    library's `timestamp` first, as it sets an event's attributes) without decoding the
    rest; None for another shape, which the caller decodes."""
    found = _STAMP.match(state)
    return datetime.fromisoformat(found[1].decode()) if found else None


def read_and_decode(app: Application[Any], page: int = 20_000) -> int:
    """Read every notification and decode its state the library's own way (no domain
    objects): the baseline the projection's own reading is measured against."""
    decode, rows, position = app.mapper.transcoder.decode, 0, 0
    while notes := app.recorder.select_notifications(position, page, inclusive_of_start=False):
        for note in notes:
            decode(note.state)
        rows += len(notes)
        position = notes[-1].id
    return rows


# -- the log exactly as stored, for tamper evidence ------------------------------------

# (notification id, originator id as 32 hex digits, originator version, topic, state as
# stored: still encrypted or compressed when the store is configured so)
StoredEntry = tuple[int, str, int, str, bytes]


def stored_entries(app: Application[Any], after: int, limit: int) -> list[StoredEntry]:
    """Up to `limit` entries after a notification id, in order, byte for byte as stored."""
    table, postgres = events_table(app), is_postgres(app)
    if postgres:
        sql = (
            "SELECT notification_id, encode(uuid_send(originator_id), 'hex'),"
            " originator_version, topic, state"
            f" FROM {table} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        )
    else:
        sql = (
            "SELECT rowid, originator_id, originator_version, topic, state"
            f" FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT ?"
        )
    first = first_after(after)
    if first is None:
        return []
    with read_transaction(app) as cursor:  # plain tuples, the entries as read
        found = _fetch_tuples(_driver_cursor(cursor), sql, (first, limit), postgres)
    # Entries as read, unless a state was edited in as text underneath (SQLite keeps
    # whatever type it is given).
    if all(type(r[4]) is bytes for r in found):
        return found
    return [r if type(r[4]) is bytes else (*r[:4], _as_stored(r[4])) for r in found]


def every_stored_entry(
    app: Application[Any], after: int = BEFORE_FIRST
) -> Iterator[StoredEntry]:
    """Every entry after a notification id, in order, byte for byte as stored, read a
    large page at a time."""
    while page := stored_entries(app, after, 20_000):
        yield from page
        after = page[-1][0]


def first_state(app: Application[Any], originator: str) -> bytes | None:
    """The plain JSON state of an aggregate's first event (None if it has none)."""
    table = events_table(app)
    if is_postgres(app):
        sql = f"SELECT state FROM {table} WHERE originator_id = %s AND originator_version = 1"
        key: Any = UUID(originator)
    else:
        sql = f"SELECT state FROM {table} WHERE originator_id = ? AND originator_version = 1"
        key = originator
    with read_transaction(app) as cursor:
        cursor.execute(sql, (key,))
        row = cursor.fetchone()
    if row is None:
        return None
    state = row[0]
    return _unwrapper(app)(_as_stored(state))


@contextmanager
def write_transaction(app: Application[Any]) -> Iterator[Any]:
    """A DB-API cursor on the library's own connection, in a transaction that commits when
    the block ends (rolls back on an exception). Use `rows` to read what it fetches."""
    with _recorder(app).datastore.transaction(commit=True) as cursor:
        yield cursor


def sql_for(app: Application[Any], sql: str) -> str:
    """Our own SQL, written with `?` placeholders, in the store's driver's paramstyle."""
    return sql.replace("?", "%s") if is_postgres(app) else sql


def rows(cursor: Any) -> list[tuple[Any, ...]]:
    """What a cursor of `read_transaction` (plain tuples) or `write_transaction` fetched, as
    tuples."""
    found: list[Any] = cursor.fetchall()
    if not found or type(found[0]) is tuple:
        return found
    return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in found]


def _as_stored(state: Any) -> bytes:
    # A state edited as text underneath the library (SQLite keeps whatever type it is given).
    return state.encode() if isinstance(state, str) else bytes(state)



# -- erasing a person's details (forgetting) ---------------------------------------------


def entries_of(app: Application[Any], originator: UUID) -> list[StoredEntry]:
    """Every entry of one aggregate, in order, byte for byte as stored."""
    table = events_table(app)
    if is_postgres(app):
        sql = (
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM {table} WHERE originator_id = %s ORDER BY originator_version"
        )
        key: Any = originator
    else:
        sql = (
            "SELECT rowid, originator_id, originator_version, topic, state"
            f" FROM {table} WHERE originator_id = ? ORDER BY originator_version"
        )
        key = originator.hex
    with read_transaction(app) as cursor:
        cursor.execute(sql, (key,))
        found = rows(cursor)
    return [
        (nid, origin if isinstance(origin, str) else origin.hex, version, topic,
         _as_stored(state))
        for nid, origin, version, topic, state in found
    ]


def states_of_kind(app: Application[Any], topic: str) -> list[tuple[int, str, bytes]]:
    """(position, originator as hex, plain JSON state) of every entry of one kind."""
    table, position = events_table(app), position_column(app)
    sql = sql_for(app, f"SELECT {position}, originator_id, state FROM {table} WHERE topic = ?")
    with read_transaction(app) as cursor:
        cursor.execute(sql, (topic,))
        found = rows(cursor)
    unwrap = _unwrapper(app)
    return [
        (nid, origin if isinstance(origin, str) else origin.hex, unwrap(_as_stored(state)))
        for nid, origin, state in found
    ]


def originators_of_kinds(app: Application[Any], topics: Sequence[str]) -> set[str]:
    """The aggregates (ids as hex) that have an entry of one of these kinds, in one scan."""
    if not topics:
        return set()
    marks = ", ".join("?" for _ in topics)
    sql = sql_for(
        app, f"SELECT DISTINCT originator_id FROM {events_table(app)} WHERE topic IN ({marks})"
    )
    with read_transaction(app) as cursor:
        cursor.execute(sql, tuple(topics))
        found = rows(cursor)
    return {origin if isinstance(origin, str) else origin.hex for (origin,) in found}


def entries_of_kind(app: Application[Any], topic: str, upto: int) -> list[tuple[str, bytes]]:
    """Every entry of one kind up to a position, in order: (originator id as 32 hex digits,
    plain JSON state)."""
    table, unwrap = events_table(app), _unwrapper(app)
    if is_postgres(app):
        sql = (
            f"SELECT encode(uuid_send(originator_id), 'hex'), state FROM {table}"
            " WHERE topic = %s AND notification_id <= %s ORDER BY notification_id"
        )
    else:
        sql = (
            f"SELECT originator_id, state FROM {table}"
            " WHERE topic = ? AND rowid <= ? ORDER BY rowid"
        )
    with read_transaction(app) as cursor:
        found = _fetch_tuples(_driver_cursor(cursor), sql, (topic, upto), is_postgres(app))
    return [(originator, unwrap(state)) for originator, state in found]


def rewritten(
    app: Application[Any], state: bytes, change: Callable[[dict[str, Any]], bool]
) -> bytes | None:
    """A stored state as `change` leaves its decoded values (changing them in place), stored
    as the library would store it (re-encoded by its transcoder, compressed and encrypted
    as configured); None when `change` says it changed nothing."""
    mapper = app.mapper
    decoded: dict[str, Any] = mapper.transcoder.decode(_unwrapper(app)(state))
    if not change(decoded):
        return None
    data = mapper.transcoder.encode(decoded)
    if mapper.compressor is not None:
        data = mapper.compressor.compress(data)
    if mapper.cipher is not None:
        data = mapper.cipher.encrypt(data)
    return data


def rewrite_states(app: Application[Any], entries: Sequence[StoredEntry]) -> None:
    """Overwrite these entries' states in place, in one transaction, leaving no copy of the
    old bytes in the SQLite file's freed space (`secure_delete`). Only for erasing personal
    data: the log is otherwise never edited."""
    table = events_table(app)
    sql = sql_for(
        app, f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?"
    )
    postgres = is_postgres(app)
    with write_transaction(app) as cursor:
        if not postgres:
            cursor.execute("PRAGMA secure_delete = ON")
        for _, originator, version, _, state in entries:
            cursor.execute(sql, (state, UUID(originator) if postgres else originator, version))


def scrub_freed_space(app: Application[Any]) -> None:
    """SQLite: rewrite the whole file (VACUUM) and empty its write-ahead log, so that no
    earlier copy of an overwritten page survives in the file's free pages or the log.
    PostgreSQL keeps old row versions out of every query and dump at once, and reclaims
    them at its next vacuum."""
    if is_postgres(app):
        return
    import sqlite3

    path = app.env.get("HANDOFF_SQLITE_PATH", app.env["SQLITE_DBNAME"])
    connection = sqlite3.connect(path, timeout=switches.LOCK_WAIT_SECONDS,
                                 isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete = ON")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


# -- the full backup and its restore ---------------------------------------------------


def plain_state_reader(app: Application[Any]) -> Callable[[Any], bytes]:
    """Turns a state as stored into its plain JSON bytes (decrypted, decompressed)."""
    return _unwrapper(app)


def held_entries(app: Application[Any]) -> dict[tuple[str, int], bytes]:
    """Every entry the store holds: (originator as hex, version) -> its plain JSON state."""
    unwrap = _unwrapper(app)
    return {
        (originator, version): unwrap(state)
        for _, originator, version, _, state in every_stored_entry(app)
    }


def _stored_event(
    app: Application[Any], originator: UUID, version: int, topic: str, plain: bytes
) -> Any:
    from eventsourcing.persistence import StoredEvent

    mapper = app.mapper
    state = plain
    if mapper.compressor is not None:
        state = mapper.compressor.compress(state)
    if mapper.cipher is not None:
        state = mapper.cipher.encrypt(state)
    return StoredEvent(originator_id=originator, originator_version=version, topic=topic,
                       state=state)


def read_back(
    app: Application[Any], originator: UUID, version: int, topic: str, plain: bytes
) -> Any:
    """The domain event the library reads from this entry; ValueError if it cannot, saying
    why in the entry's terms (the library's own message names its internals)."""
    from eventsourcing.persistence import TranscodingNotRegisteredError

    try:
        return app.mapper.to_domain_event(_stored_event(app, originator, version, topic, plain))
    except Exception as error:
        reason = ("a tagged value of a kind handoff never writes"
                  if isinstance(error.__cause__, TranscodingNotRegisteredError)
                  else "an instant, an amount or an id written otherwise than handoff writes it")
        raise ValueError(f"handoff cannot read this entry back ({reason})") from None


# The fields the library gives every entry of a record: its id and version, when it was
# recorded, and on a record's first entry the topic of the class it builds the record from.
# Every other field of an entry is the domain's own.
LIBRARY_FIELDS = frozenset({"originator_id", "originator_version", "timestamp",
                            "originator_topic"})


def event_kinds(aggregate: type) -> list[type]:
    """The kinds of entry a record of this class is made of: the event classes it declares."""
    return [value for value in vars(aggregate).values()
            if isinstance(value, type) and issubclass(value, CanMutateAggregate)]


def first_entry_topic(kind: type, aggregate: type) -> str | None:
    """For a kind of entry that begins a record: the topic of the class the library builds
    that record from (the entry's `originator_topic`); None for the kinds that follow."""
    return get_topic(aggregate) if issubclass(kind, CanInitAggregate) else None


def fills_defaults(kind: type) -> bool:
    """Whether the library applies an event of this kind by calling the aggregate's method
    that declares it, with the event's fields as its arguments: a field an entry lacks then
    takes that method's default. Other kinds are read by their own code, which a missing
    field breaks."""
    from eventsourcing.domain import DecoratedFuncCaller

    return issubclass(kind, DecoratedFuncCaller)


def insert_plain_entries(
    app: Application[Any], entries: Sequence[tuple[UUID, int, str, bytes]]
) -> None:
    """Record these entries as they are (their states hold their own instants and actors),
    in one transaction, through the library's recorder."""
    stored = [_stored_event(app, *entry) for entry in entries]
    if is_postgres(app):
        copy_stored_events(app, stored)  # the library's pipelined INSERT hangs on large ones
    else:
        app.recorder.insert_events(stored)


# -- writing many events at once -----------------------------------------------------

# (originator id, originator version, topic, state as stored: compressed and encrypted when
# the store is configured so), the columns of a row of the events table
StoredRow = tuple[UUID, int, str, bytes]


class Unbuilt(NamedTuple):
    """An event described rather than constructed: its aggregate's class, its own class,
    the aggregate's id and version, and its attributes as the aggregate gives them to its
    class (the keyword arguments of `_create` or `trigger_event`, less the id). Stored by
    `record_in_bulk` as the library would store the event itself."""

    aggregate: type
    cls: type
    originator_id: UUID
    originator_version: int
    attributes: dict[str, Any]


@cache
def _state_layout(aggregate: type, cls: type) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """An event class's topic, its state's keys in the order the library sets them (the
    event's dataclass fields, less the id and version the mapper takes out), and the
    values the library gives it itself: a created event's `originator_topic` (the topic
    of the aggregate's class, as `Aggregate._create` gives it) and a `class_version`
    above 1 (as `Mapper.to_stored_event` adds it)."""
    from dataclasses import fields

    from eventsourcing.domain import CanInitAggregate

    names = tuple(f.name for f in fields(cls) if f.name not in _ID_AND_VERSION)
    own: dict[str, Any] = {}
    if issubclass(cls, CanInitAggregate):
        own["originator_topic"] = get_topic(aggregate)
    class_version = getattr(cls, "class_version", 1)
    if class_version > 1:
        names, own["class_version"] = (*names, "class_version"), class_version
    return get_topic(cls), names, own


_ID_AND_VERSION = frozenset({"originator_id", "originator_version"})


def stored_row_maker(app: Application[Any]) -> Callable[[Any], StoredRow]:
    """Turns a domain event, or an `Unbuilt` one, into the row the library's mapper stores
    for it, byte for byte (`Mapper.to_stored_event`: the event's attributes less its id
    and version, as the transcoder encodes them, then compressed and encrypted), without
    building the library's `StoredEvent` for each of a large import's events.

    The events of one save share the instant they were recorded (their `timestamp`): the
    JSON transcoder's tagged form of it is made once and put in its place, which its
    encoder writes exactly as it writes what its hook returns for the instant itself.
    """
    mapper = app.mapper
    transcoder = mapper.transcoder
    encode, compressor, cipher = state_encoder(transcoder), mapper.compressor, mapper.cipher
    tag = transcoder.encoder.default if isinstance(transcoder, JSONTranscoder) else None
    shared: list[Any] = [None, None]  # the latest timestamp, and its tagged form

    def row(event: Any) -> StoredRow:
        cls = type(event)
        if cls is Unbuilt:
            topic, names, own = _state_layout(event.aggregate, event.cls)
            given = event.attributes
            state = {name: own[name] if name in own else given[name] for name in names}
            originator_id, originator_version = event.originator_id, event.originator_version
        else:
            topic = get_topic(cls)
            state = vars(event).copy()
            originator_id = state.pop("originator_id")
            originator_version = state.pop("originator_version")
            class_version = getattr(cls, "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
        timestamp = state.get("timestamp")
        if tag is not None and type(timestamp) is datetime:
            if timestamp is not shared[0]:
                shared[:] = timestamp, tag(timestamp)
            state["timestamp"] = shared[1]
        data = encode(state)
        if compressor is not None:
            data = compressor.compress(data)
        if cipher is not None:
            data = cipher.encrypt(data)
        return originator_id, originator_version, topic, data

    return row


# Rows are made and written a chunk at a time: a large import's rows are never all held
# (those of the half a large import checks itself may be, made while it waits: `Ahead`).
CHUNK = 10_000

# An entry's digest from its content as stored: originator id as 32 hex digits, version,
# topic and state (`audit.content_digest`, given by the caller: the log knows no seals).
ContentDigest = Callable[[str, int, str, bytes], bytes]
# Rows ready to write (`EncodedRow`s), with their digests (or none).
Chunk = tuple[list[EncodedRow], list[bytes]]


class Recorded(NamedTuple):
    """Where the entries of a bulk write stand in the log, with their digests."""

    after: int  # the position of the log's last entry before them (BEFORE_FIRST: none)
    positions: list[int]  # each entry's notification id, in order
    originators: list[str]  # each entry's originator id, as 32 hex digits
    digests: list[bytes]


class MadeElsewhere(Protocol):
    """The rows (`encoded`) of `events` more events, made by another process."""

    events: int

    def among(self, own: Iterator[Chunk]) -> Iterator[Chunk]:
        """The chunks of `own`, and these rows' chunks between them as they come."""


class Ahead:
    """The rows of events (`encoded`), some of them made before they are written: a chunk
    at a time (`make_one`), while the process would otherwise wait (for the other half of
    an import to be checked). `record_in_bulk` writes those made, then makes the rest."""

    def __init__(self, app: Application[Any], events: Sequence[Any],
                 digest: ContentDigest | None = None) -> None:
        self.app, self.digest = app, digest
        self.events = len(events)
        self._made: list[Chunk] = []
        self._rest: Iterator[Chunk] = encoded(app, events, digest)

    def make_one(self) -> bool:
        """Make the next chunk of rows; False when every one is made."""
        chunk = next(self._rest, None)
        if chunk is None:
            return False
        self._made.append(chunk)
        return True

    def then(self, events: Sequence[Any]) -> None:
        """More events, whose rows follow these."""
        if events:
            self.events += len(events)
            self._rest = itertools.chain(self._rest, encoded(self.app, events, self.digest))

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk, in order: those made, let go of as they are taken, then the rest."""
        made, self._made = self._made, []
        made.reverse()
        while made:
            yield made.pop()
        yield from self._rest


def record_in_bulk(
    app: Application[Any], events: Sequence[Any], digest: ContentDigest | None = None,
    made: MadeElsewhere | None = None, committed: Callable[[], None] | None = None,
    ahead: Ahead | None = None, sent: Callable[[], None] | None = None,
) -> Recorded | None:
    """Record many domain events in one transaction, all or nothing, stored as the library
    stores them (`encoded`, then `record_encoded`), with the rows another process `made`
    for more; with `digest` (the one they were made with), where they stand and each
    one's digest, taken from its row as it was made. `ahead`: the rows of events before
    these, some made already, with the same digest. `committed` is called once the
    transaction is; `sent` as `record_encoded` says."""
    if ahead is None:
        ahead = Ahead(app, events, digest)
    elif ahead.digest is not digest:
        raise ValueError("the rows made ahead were digested otherwise: one digest per write")
    else:
        ahead.then(events)
    chunks, size = ahead.chunks(), ahead.events
    if made is not None:
        chunks, size = made.among(chunks), size + made.events
    return record_encoded(app, chunks, digested=digest is not None, size=size,
                          committed=committed, sent=sent)


def encoded(
    app: Application[Any], events: Sequence[Any], digest: ContentDigest | None = None
) -> Iterator[Chunk]:
    """The rows the library stores for these events (`stored_row_maker`), CHUNK at a time,
    each with its digest when `digest` is given."""
    make_row = stored_row_maker(app)
    for start in range(0, len(events), CHUNK):
        made = map(make_row, events[start : start + CHUNK])
        rows = [(o.hex, v, topic, state) for o, v, topic, state in made]
        yield rows, [digest(*row) for row in rows] if digest is not None else []


def record_encoded(
    app: Application[Any], chunks: Iterable[Chunk], digested: bool = False,
    size: int = 0, committed: Callable[[], None] | None = None,
    sent: Callable[[], None] | None = None,
) -> Recorded | None:
    """Write these rows (`encoded`, `size` of them if known) in one transaction, all or
    nothing, then call `committed`; a key recorded by another process meanwhile fails the
    whole write as the library's `IntegrityError` (a `RecordConflictError`). `digested`:
    the positions they took, with their digests. `sent` (work of the caller's that writes
    nothing) is called once every row is handed over: where a second process writes them,
    while it commits them (this process would only wait then), before `committed`; where
    this one writes them, once they are, after `committed`. What it raises is left unsaid
    (the caller meets it again in its turn): the rows are committed whatever it does.

    SQLite: the recorder's own INSERT by `executemany`, where the library executes it
    once per event to collect each rowid (a third of the cost of writing a large import);
    from WRITER_FROM rows, by a second process while this one makes the next (`log_writer`).
    PostgreSQL: COPY, as `copy_stored_rows` explains.
    """
    originators: list[str] = []
    digests: list[bytes] = []

    def rows_of_each(chunks: Iterable[Chunk]) -> Iterator[list[EncodedRow]]:
        for rows, digests_of_rows in chunks:
            if digested:
                originators.extend(row[0] for row in rows)
                digests.extend(digests_of_rows)
            yield rows

    if sent is not None:
        sent = partial(_quietly, sent)
    if size >= WRITER_FROM and not is_postgres(app) and not _in_memory(app):
        at = _insert_rows_elsewhere(app, rows_of_each(chunks), digested, committed, sent)
    else:
        if is_postgres(app):
            at = copy_stored_rows(app, _with_ids(rows_of_each(chunks)), positions=digested)
        else:
            at = _insert_rows(app, rows_of_each(chunks), positions=digested)
        if committed is not None:  # first: the rows are committed whatever comes next
            committed()
        if sent is not None:
            sent()
    if at is None:
        return None
    return Recorded(*at, originators, digests)


def _quietly(work: Callable[[], None]) -> None:
    with suppress(Exception):
        work()


def _with_ids(chunks: Iterable[list[EncodedRow]]) -> Iterator[StoredRow]:
    """The rows with their originators as UUIDs (each made once for an aggregate's run)."""
    last_hex, last_id = "", None
    for rows in chunks:
        for hex_id, version, topic, state in rows:
            if hex_id != last_hex:
                last_hex, last_id = hex_id, UUID(hex_id)
            yield last_id, version, topic, state  # type: ignore[misc]


def _insert_rows(
    app: Application[Any], chunks: Iterable[list[EncodedRow]], positions: bool
) -> tuple[int, list[int]] | None:
    """SQLite: each chunk of rows inserted in one transaction; with `positions`, the
    position of the log's last entry before them and those they took (each a rowid one
    above the table's last: the write lock is held)."""
    statement = _recorder(app).insert_events_statement
    table = events_table(app)
    count = 0
    with write_transaction(app) as cursor:
        for chunk in chunks:
            cursor.executemany(statement, chunk)
            count += len(chunk)
        if not positions or not count:
            return None
        cursor.execute("SELECT last_insert_rowid()")
        last = rows(cursor)[0][0]
        first = last - count + 1
        cursor.execute(_placed_sql(table), (first, first))
        found, after = rows(cursor)[0]
    return _taken(after, first, last, found)


# From this many rows, SQLite's are written by a second process (`log_writer`): starting it
# costs about a tenth of a second, which the first chunks made meanwhile hide (when not
# made already: `Ahead`).
WRITER_FROM = 30_000


def _in_memory(app: Application[Any]) -> bool:
    """SQLite: whether the store is a database in memory (no other process can open it)."""
    return bool(_recorder(app).datastore.pool.is_sqlite_memory_mode)


def _insert_rows_elsewhere(
    app: Application[Any], chunks: Iterable[list[EncodedRow]], positions: bool,
    committed: Callable[[], None] | None, sent: Callable[[], None] | None,
) -> tuple[int, list[int]] | None:
    """SQLite: `_insert_rows`, the rows inserted by a second process (`log_writer`) with
    the recorder's INSERT, into the database as the library's datastore opens it, then
    `committed` called; what the driver refuses raised as the library raises it."""
    from eventsourcing import persistence
    from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT

    from handoff.log_writer import WriteFailed, Writer

    recorder = _recorder(app)
    pool = recorder.datastore.pool  # how the library connects: its database name, timeout
    timeout = pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT
    writer = Writer(pool.db_name, timeout, recorder.insert_events_statement,
                    _placed_sql(events_table(app)))
    with writer:
        for chunk in chunks:
            writer.send(chunk)
        try:
            after, first, last, found = writer.commit(committed, meanwhile=sent)
        except WriteFailed as failed:
            kind = getattr(persistence, failed.kind, persistence.PersistenceError)
            if not issubclass(kind, persistence.PersistenceError):  # pragma: no cover
                kind = persistence.PersistenceError
            raise kind(str(failed)) from None
    if not positions or not last:
        return None
    return _taken(after, first, last, found)


def _taken(after: int, first: int, last: int, found: int) -> tuple[int, list[int]] | None:
    """The log's last position before a bulk write and the positions it took, `first` to
    `last`, when the events table holds exactly those rows from `first` on (`found`)."""
    if found != last - first + 1:  # pragma: no cover - SQLite gives a new rowid one above the last
        return None
    return after, list(range(first, last + 1))


def _placed_sql(table: str) -> str:
    """SQLite, where a bulk write's rows stand, given the first position they took (twice):
    how many rows the events table holds from there on (the write lock held: only them),
    and the position of its last row before them (its rowid is the notification id)."""
    return (
        f"SELECT count(*), (SELECT coalesce(max(rowid), {BEFORE_FIRST}) FROM {table}"
        " WHERE rowid < ?)"
        f" FROM {table} WHERE rowid >= ?"
    )


def copy_stored_events(app: Application[Any], stored_events: Iterable[Any]) -> None:
    """PostgreSQL: the library's stored events written as `copy_stored_rows` describes."""
    copy_stored_rows(
        app,
        ((s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events),
    )


def copy_stored_rows(
    app: Application[Any], stored_rows: Iterable[StoredRow], positions: bool = False
) -> tuple[int, list[int]] | None:
    """PostgreSQL: record these rows in one transaction, streamed with COPY; with
    `positions`, the position of the log's last entry before them and the positions they
    took, read under the lock (nothing else is written meanwhile).

    The library sends a whole save as one INSERT inside a psycopg pipeline, which hangs
    for ever from about 18,000 events (the server waits to read, the client in
    `Pipeline.sync`) while holding the events table's EXCLUSIVE lock. COPY streams the rows
    in bounded chunks instead, under the same lock (taken first, as the library takes it:
    notification ids then follow commit order), and all or nothing: a key recorded by
    another process meanwhile fails the whole write as the library's `IntegrityError`.
    """
    import psycopg
    from eventsourcing.persistence import IntegrityError
    from psycopg.rows import tuple_row

    recorder = _recorder(app)
    table = events_table(app)
    columns = "originator_id, originator_version, topic, state"
    copy_sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
    taken: tuple[int, list[int]] | None = None
    try:
        with (
            recorder.datastore.get_connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            for statement in recorder.lock_table_statements:
                cursor.execute(statement)
            if positions:
                cursor.row_factory = tuple_row  # the library's connections make dicts
                cursor.execute(
                    f"SELECT coalesce(max(notification_id), {BEFORE_FIRST}) FROM {table}")
                after = cursor.fetchone()[0]
            with cursor.copy(copy_sql) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for row in stored_rows:
                    copy.write_row(row)
            if positions:
                cursor.execute(
                    f"SELECT notification_id FROM {table} WHERE notification_id >= %s"
                    " ORDER BY notification_id", (first_after(after),)
                )
                taken = after, [found[0] for found in cursor.fetchall()]
            cursor.execute(f'NOTIFY "{recorder.channel_name}"')
    except psycopg.errors.UniqueViolation as error:
        raise IntegrityError(str(error).splitlines()[0]) from None
    return taken


def analyze(app: Application[Any], tables: Sequence[str] = ()) -> None:
    """PostgreSQL: refresh the planner's statistics after a bulk write (a no-op on SQLite).

    Autovacuum gets there eventually; until it does, a query over a table that grew from
    nothing to a million rows may be planned as if it were empty (minutes instead of
    seconds). `tables` adds the read model's tables to the events table.
    """
    if not is_postgres(app):
        return
    with _recorder(app).datastore.get_connection() as connection:
        for table in (events_table(app), *tables):
            connection.execute(f"ANALYZE {table}")


# -- opening a PostgreSQL store as libpq would ---------------------------------------------


# PostgreSQL's lock_not_available: a lock not had at once (NOWAIT) or within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


def wrapped_errors(error: BaseException) -> Iterator[BaseException]:
    """The error, then the errors it wraps: the library's, SQLAlchemy's, the driver's."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return
        yield seen
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__


def held_by_another(seen: BaseException) -> bool:
    """Whether this error (not what it wraps) is a lock another process held for the whole
    lock wait: SQLite's words, or PostgreSQL's code."""
    return ("database is locked" in str(seen)
            or getattr(seen, "sqlstate", None) == LOCK_NOT_AVAILABLE)


def busy(error: BaseException) -> bool:
    """Whether `error` (the driver's, however wrapped) is a lock another process held for
    the whole lock wait: the store busy, not a store lacking what was read."""
    return any(held_by_another(seen) for seen in wrapped_errors(error))


def waits_for_locks(connection: Any) -> None:
    """A PostgreSQL connection (psycopg's) that waits for a lock as long as a SQLite store's
    does (switches.LOCK_WAIT_SECONDS), then fails: the store is busy."""
    autocommit = connection.autocommit
    connection.autocommit = True
    connection.execute(f"SET lock_timeout = {int(switches.LOCK_WAIT_SECONDS * 1000)}")
    connection.autocommit = autocommit


# The store URL's libpq options (sslmode, sslrootcert, application_name, ...), as JSON.
LIBPQ_OPTIONS = "HANDOFF_LIBPQ_OPTIONS"
# The table the library keeps a SQLite store's events in (its default name): what tells a
# handoff store from another program's database before the library opens it.
SQLITE_EVENTS_TABLE = "stored_events"


def others_events_in_sqlite(connection: Any) -> bool:
    """Whether a SQLite database's table of that name holds events handoff did not write
    (another application of the library's, which names its table alike), or is laid out
    otherwise than the library's (no `topic`): told by one event, handoff's all being
    under its own package. An empty table holds none."""
    import sqlite3

    try:
        row = connection.execute(f"SELECT topic FROM {SQLITE_EVENTS_TABLE} LIMIT 1").fetchone()
    except sqlite3.Error:
        return True
    return row is not None and not str(row[0]).startswith(f"{__name__.split('.')[0]}.")
# The infrastructure factory a PostgreSQL store is opened with (`PERSISTENCE_MODULE`).
POSTGRES_FACTORY_TOPIC = "handoff.eventstore:LibpqPostgresFactory"


def __getattr__(name: str) -> Any:
    # Built on first use: importing the library's PostgreSQL module loads psycopg, which a
    # SQLite store never needs (a third of a second at every command's start).
    if name == "LibpqPostgresFactory":
        return _libpq_postgres_factory()
    raise AttributeError(name)


# The library's recorder methods that try again (ten times, `eventsourcing.utils.retry`)
# on any OperationalError, which a lock not had within lock_timeout is too.
_RETRIED = ("insert_events", "select_events", "select_notifications", "max_notification_id")


def _lock_wait_not_retried(retried: Callable[..., Any]) -> Callable[..., Any]:
    """The library's retried recorder method, giving up at the first lock not had within
    lock_timeout: tried ten times, a command behind another's lock (psql's `LOCK TABLE`,
    `VACUUM FULL`) waited ten times as long as it should before saying the store is busy.
    A dropped connection is still tried again, as the library does. The library's errors
    are caught, not psycopg's: its connection raises its own, from the driver's."""
    once = retried.__wrapped__  # type: ignore[attr-defined]

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return once(self, *args, **kwargs)
        except (InterfaceError, OperationalError) as error:
            if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise
            return retried(self, *args, **kwargs)

    return method


def _pipeline_collected(connection: Any) -> None:
    """The answers to a write's statements still in the pipeline, collected after one of
    them failed. The library sends a write's statements in one psycopg pipeline (its table
    lock, a notify, the inserts), keeps the error one of them raises and raises it once
    its commit is done. When the server's answer to the first came back before the others
    were sent (a busy machine), that commit followed their aborted answers and failed as an
    aborted pipeline, which the library raised instead: a user lacking INSERT, or a lock
    another held, was told "pipeline aborted" (tried ten times over). Their answers can
    only say the pipeline was aborted, which the error raised already says better."""
    import psycopg

    with suppress(psycopg.Error), connection.pipeline():
        pass  # entering a pipeline inside another sends a sync and collects every answer


@cache
def _libpq_postgres_factory() -> type:
    import psycopg
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory

    class LibpqApplicationRecorder(PostgresApplicationRecorder):
        """The library's recorder, giving up on a lock at once (`_lock_wait_not_retried`),
        and raising the error the server answered a write with (`_pipeline_collected`)."""

        def _insert_stored_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
            try:
                super()._insert_stored_events(curs, stored_events, **kwargs)
            except psycopg.Error:
                _pipeline_collected(curs.connection)
                raise

    for name in _RETRIED:
        retried = getattr(PostgresApplicationRecorder, name)
        setattr(LibpqApplicationRecorder, name, _lock_wait_not_retried(retried))

    class LibpqPostgresFactory(PostgresFactory):
        """The library's factory, connecting as libpq would from the store's URL.

        The library always passes a password, an empty one when the URL has none, which
        stops libpq from looking for it in `PGPASSWORD` and `~/.pgpass`; and it has no
        place for the URL's other options (`sslmode=require` would be dropped silently).
        Its pool connects on first use, after this has set its connection arguments.
        """

        application_recorder_class = LibpqApplicationRecorder

        def __init__(self, env: Any) -> None:
            super().__init__(env)
            pool: Any = self.datastore.pool
            arguments: Any = pool.kwargs
            if not arguments.get("password"):
                arguments.pop("password", None)
            arguments.update(json.loads(self.env.get(LIBPQ_OPTIONS) or "{}"))
            # The library bounds its own writes' waits for a lock (SET LOCAL lock_timeout),
            # not its reads': every connection waits as long as SQLite's, then fails (the
            # store busy). Set on each connection as it opens, not as a startup option,
            # which a pooler such as PgBouncer may refuse.
            configure = pool._configure

            def configured(connection: Any) -> None:
                if configure is not None:
                    configure(connection)  # the library's: autocommit, its own timeout
                waits_for_locks(connection)

            pool._configure = configured

    return LibpqPostgresFactory
