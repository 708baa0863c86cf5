"""The contract between `handoff.eventstore` and the installed eventsourcing library.

Every detail of the library that the read side relies on beyond its public API is
checked here against the real thing, on both stores: if an upgrade moves one, these
tests fail by name, rather than the projection reading wrongly or silently slowing down.
"""

from __future__ import annotations

import json
import sqlite3
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from conftest import AGREEMENT, BulkWriter, FakeClock, agreement_toml
from eventsourcing.domain import AggregateCreated, AggregateEvent
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from handoff import audit, eventstore, projections, switches
from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementRegister
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS, Lead
from handoff.domain.steps import Stamp, lead_id
from handoff.domain.traffic import traffic_day_id
from handoff.projections import lead_facts
from handoff.store import locate

LEAD_TOPICS = {get_topic(cls): name for cls, name in LIFECYCLE_EVENTS.items()}


def every_kind_of_event(app: HandoffApp) -> None:
    """An agreement, traffic, and every lifecycle event, through the application's use cases."""
    app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT, {"team": None})), "maria")
    app.record_visits(datetime(2026, 3, 2).date(), 1200, "maria")
    app.capture("won-lead", "web", "maria", at="2026-03-02T09:00", name="Ada Lovelace",
                email="ada@example.com", company="Analytical Engines")
    for hour, (step, data) in enumerate(
        [("qualified", {"score": 80}), ("handed", {"owner": "sam"}), ("rejected",
         {"reason": "not now"}), ("qualified", {}), ("handed", {"owner": "ola"}), ("accepted", {}),
         ("contacted", {"channel": "phone"}), ("proposal", {"amount": "1200.50"}),
         ("proposal", {"amount": "1100"}), ("won", {"amount": "1000"})],
        start=10,
    ):
        app.record("won-lead", step, "sam", f"2026-03-{2 + hour // 24:02d}T{hour % 24}:00",
                   **data)
    app.capture("lost-lead", "events", "maria", at="2026-03-03T09:00")
    app.record("lost-lead", "qualified", "maria", "2026-03-03T10:00")
    app.record("lost-lead", "handed", "maria", "2026-03-03T11:00", owner="kim")
    app.record("lost-lead", "accepted", "kim", "2026-03-03T12:00")
    app.record("lost-lead", "lost", "kim", "2026-03-03T13:00", reason="price")


def _plain(app: HandoffApp, state: bytes) -> bytes:
    if app.mapper.cipher is not None:
        state = app.mapper.cipher.decrypt(state)
    if app.mapper.compressor is not None:
        state = app.mapper.compressor.decompress(state)
    return state


def pages_read_by_the_projection(app: HandoffApp) -> list[eventstore.LogRow]:
    read = eventstore.page_reader(app)
    with projections.read_model(app).engine.connect() as conn:
        found: list[eventstore.LogRow] = []
        while page := read(conn.connection, found[-1][0] if found else 0, 7):
            found.extend(page)
        return found


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
def test_the_log_is_read_as_the_library_reads_it(
    store: str, clock: FakeClock, compressed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events table's name, its notification id (rowid on SQLite), its columns, the
    rows the datastore's cursor gives, and the mapper's compressor, on both stores."""
    if compressed:
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    app = HandoffApp(locate(store), clock=clock)
    try:
        assert eventstore.is_postgres(app) == app.location.is_postgres
        assert (app.mapper.compressor is not None) == compressed
        every_kind_of_event(app)
        expected = [(n, o, t, _plain(app, s)) for n, o, t, s in _library_rows(app)]
        assert len(expected) == 20  # register opened, version applied; traffic day, visits; 16
        pages = list(eventstore.log_pages(app, page=6))
        assert [row for page in pages for row in page] == expected
        assert {type(row) for page in pages for row in page} == {tuple}  # not the library's rows
        assert pages_read_by_the_projection(app) == expected
        assert eventstore.last_notification_id(app) == expected[-1][0]
        with eventstore.read_transaction(app) as cursor:
            assert eventstore.last_notification_id_read(app, cursor) == expected[-1][0]
        assert eventstore.entries_up_to(app, expected[-2][0]) == len(expected) - 1
        captured = next(t for _, _, t, _ in expected if t.endswith(":Lead.Captured"))
        upto = expected[-2][0]  # all but the last
        assert eventstore.entries_of_kind(app, captured, upto) == [
            (o, s) for n, o, t, s in expected if t == captured and n <= upto] != []
    finally:
        app.close()


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
def test_entries_are_read_byte_for_byte_as_stored(
    store: str, clock: FakeClock, compressed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What tamper evidence hashes (`audit`): every column of every entry as the library
    stored it, the state still compressed; and an aggregate's first state, plain."""
    if compressed:
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    app = HandoffApp(locate(store), clock=clock)
    try:
        every_kind_of_event(app)
        notes = app.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
        expected = [
            (n.id, n.originator_id.hex, n.originator_version, n.topic, bytes(n.state))
            for n in notes
        ]
        found: list[eventstore.StoredEntry] = []
        while page := eventstore.stored_entries(app, found[-1][0] if found else 0, 7):
            found.extend(page)
        assert found == expected
        first = json.loads(eventstore.first_state(app, lead_id("won-lead").hex) or b"{}")
        assert first["key"] == "won-lead"
        assert eventstore.first_state(app, uuid4().hex) is None
    finally:
        app.close()


def test_our_own_tables_are_written_in_the_library_transaction(app: HandoffApp) -> None:
    with eventstore.write_transaction(app) as cursor:
        cursor.execute("CREATE TABLE contract_probe (n INTEGER)")
        cursor.execute(eventstore.sql_for(app, "INSERT INTO contract_probe VALUES (?)"), (7,))
    with pytest.raises(RuntimeError), eventstore.write_transaction(app) as cursor:
        cursor.execute(eventstore.sql_for(app, "INSERT INTO contract_probe VALUES (?)"), (8,))
        raise RuntimeError("rolled back")
    with eventstore.read_transaction(app) as cursor:
        cursor.execute("SELECT n FROM contract_probe")
        assert eventstore.rows(cursor) == [(7,)]


def test_a_read_transaction_fetches_plain_tuples(app: HandoffApp) -> None:
    """Not the library's dictionaries (PostgreSQL) or sqlite3.Row: reports take its rows
    as they come."""
    with eventstore.read_transaction(app) as cursor:
        cursor.execute("SELECT 1 AS one, 'two' AS two")
        found = cursor.fetchall()
    assert found == [(1, "two")]
    assert type(found[0]) is tuple


def _library_rows(app: HandoffApp) -> list[tuple[int, str, str, bytes]]:
    notes = app.recorder.select_notifications(0, 10_000, inclusive_of_start=False)
    return [(n.id, n.originator_id.hex, n.topic, n.state) for n in notes]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
def test_aggregates_load_in_bulk_as_the_repository_loads_them(
    store: str, clock: FakeClock, compressed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`aggregates_of` against `repository.get`: leads (corrections and a forgetting
    included), the agreement's register, a traffic day; ids without events left out; more
    ids than one query takes."""
    if compressed:
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    app = HandoffApp(locate(store), clock=clock)
    try:
        assert app.repository.snapshot_store is None and app.repository.cache is None
        assert eventstore.aggregates_of(app, [lead_id("won-lead")]) == {}
        every_kind_of_event(app)
        app.save_in_bulk([a_lead_with_every_kind_of_entry("bulk-lead")])
        known = [lead_id("won-lead"), lead_id("lost-lead"), lead_id("bulk-lead"),
                 AgreementRegister.ID, traffic_day_id(date(2026, 3, 2))]
        asked = [known[0], *[uuid4() for _ in range(600)], *known[1:], lead_id("nobody")]
        loaded = eventstore.aggregates_of(app, asked)
        assert loaded == {i: app.repository.get(i) for i in known}
        assert loaded[lead_id("bulk-lead")].forgotten is not None
    finally:
        app.close()


def test_the_transcoder_writes_tagged_values_in_compact_json(app: HandoffApp) -> None:
    """The shape `decode` matches: {"_type_": NAME, "_data_": TEXT}, compact, keys in order."""
    at = datetime(2026, 3, 2, 14, 5, 6, 7, tzinfo=UTC)
    encoded = app.mapper.transcoder.encode({"b": at, "a": Decimal("1200.50"), "c": None})
    assert encoded == (
        b'{"b":{"_type_":"datetime_iso","_data_":"2026-03-02T14:05:06.000007+00:00"},'
        b'"a":{"_type_":"decimal_str","_data_":"1200.50"},"c":null}'
    )
    assert (eventstore.TYPE_KEY, eventstore.DATA_KEY) == ("_type_", "_data_")
    assert (eventstore.DATETIME_TAG, eventstore.DECIMAL_TAG) == ("datetime_iso", "decimal_str")
    decoded = json.loads(encoded)
    assert eventstore.tagged_text(decoded["a"], "decimal_str") == "1200.50"
    with pytest.raises(ValueError, match="expected a datetime_iso value"):
        eventstore.tagged_text(decoded["a"], "datetime_iso")


def test_the_encoder_skips_the_cycle_check_and_still_writes_the_same_bytes(
    app: HandoffApp,
) -> None:
    transcoder = app.mapper.transcoder
    assert isinstance(transcoder, JSONTranscoder)
    assert isinstance(transcoder.encoder, json.JSONEncoder)
    assert transcoder.encoder.check_circular is False
    state = {"at": datetime(2026, 3, 2, tzinfo=UTC), "amount": Decimal("3"), "x": [1, "é"]}
    reference = JSONTranscoder()
    for transcoding in transcoder.types.values():
        reference.register(transcoding)
    assert transcoder.encode(state) == reference.encode(state)


def test_the_compiled_encoder_made_once_writes_the_transcoders_bytes(app: HandoffApp) -> None:
    transcoder = app.mapper.transcoder
    encode = eventstore.state_encoder(transcoder)
    assert encode != transcoder.encode  # the compiled encoder, not the fallback
    at = datetime(2026, 3, 2, 14, 5, 6, 7, tzinfo=UTC)
    for state in [
        {"at": at, "amount": Decimal("1200.50"), "none": None, "yes": True, "n": -3},
        {"name": 'Zoë "the" \\ \n\t\u0001 \u2028 😀', "nested": {"x": [1, 2.5, at]}},
        {}, {"score": 10**30, "float": 1e-7, "list": [], "empty": ""},
    ]:
        assert encode(state) == transcoder.encode(state)


def test_events_the_application_writes_take_the_fast_path(store: str, clock: FakeClock) -> None:
    """Every lead event the use cases and a bulk save write is read by `decode`'s compiled
    shapes, not by its json fallback (which would be right, and three times slower)."""
    app = HandoffApp(locate(store), clock=clock)
    try:
        every_kind_of_event(app)
        at = datetime(2026, 3, 4, 15, tzinfo=UTC)
        bulk = Lead.capture("bulk-lead", "partner", Stamp(at, at, "maria", 1, "2026 growth"),
                            company="Acme")
        bulk.qualify(Stamp(at, at, "maria", 1, "2026 growth"), score=3)
        app.save_in_bulk([bulk])
        seen: dict[str, int] = {}
        for _, _, topic, data in [r for page in eventstore.log_pages(app) for r in page]:
            name = LEAD_TOPICS.get(topic)
            if name is None:
                continue
            assert lead_facts.fast_facts(name, data) is not None, (name, data)
            assert lead_facts.fast_facts(name, data) == lead_facts.json_facts(name, data)
            seen[name] = seen.get(name, 0) + 1
        assert set(seen) == set(LIFECYCLE_EVENTS.values())
    finally:
        app.close()



def a_lead_with_every_kind_of_entry(key: str) -> Lead:
    """A lead held in memory, not saved: every step, each correction, and a forgetting."""
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    recorded_at = datetime(2026, 3, 3, tzinfo=UTC)  # one object, as an import's events share

    def stamp(hour: int) -> Stamp:
        instant = at.replace(hour=hour)
        return Stamp(instant, recorded_at if hour < 16 else instant, "sam", 1, "2026 growth")

    lead = Lead.capture(key, "web", stamp(9), name="Ada", email="ada@example.com",
                        company="Analytical Engines")
    lead.qualify(stamp(10), score=80)
    lead.hand_to("sam", stamp(11))
    lead.accept(stamp(12))
    lead.contact(stamp(13), channel="phone")
    lead.send_proposal(Decimal("1200.50"), stamp(14))
    lead.win(stamp(15))
    lead.contact(stamp(12), channel="email", why="called before the proposal")  # a missed step
    lead.amend(2, {"score": 70}, "typo", stamp(16))
    lead.void(8, "never happened", stamp(17))
    lead.forget("asked to be forgotten", "maria", at.replace(hour=18), [[1, "00"]])
    return lead


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
def test_a_bulk_write_stores_each_event_as_the_library_stores_it(
    store: str, clock: FakeClock, compressed: bool, monkeypatch: pytest.MonkeyPatch,
    bulk_writer: BulkWriter,
) -> None:
    """`record_in_bulk` makes each row as the library's mapper makes a `StoredEvent` and
    writes it as its recorder would, on both stores (on SQLite, in this process or by a
    second one); the library reads the events back."""
    if compressed:
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    app = HandoffApp(locate(store), clock=clock)
    try:
        every_kind_of_event(app)
        position = eventstore.last_notification_id(app)
        recorded = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(
            0, 10_000, inclusive_of_start=False)]
        lead = a_lead_with_every_kind_of_entry("bulk-lead")
        pending = list(lead.collect_events())
        make_row = eventstore.stored_row_maker(app)
        expected = []
        for event in [*recorded, *pending]:
            stored = app.mapper.to_stored_event(event)
            row = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
            assert make_row(event) == row
            expected.append((row[0].hex, *row[1:]))
        kinds = {type(e) for e in [*recorded, *pending]}
        assert {*LIFECYCLE_EVENTS, *CORRECTIONS, Lead.Forgotten} <= kinds

        eventstore.record_in_bulk(app, pending)

        written = [e[1:] for e in eventstore.every_stored_entry(app, position)]
        assert written == expected[len(recorded):]
        assert app.repository.get(lead.id) == lead
        bulk_writer.assert_went(store, writes=1)
    finally:
        app.close()


@pytest.mark.parametrize("made_ahead", ["none", "one", "all"])
def test_a_bulk_write_gives_the_positions_and_digests_of_its_entries_as_stored(
    store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, bulk_writer: BulkWriter,
    made_ahead: str,
) -> None:
    """`record_in_bulk` with a digest: its rows made and written a chunk at a time, the
    same entries; each one's position and digest as the log gives them back (what
    `audit.seal_recorded_quietly` seals without reading them), on SQLite whether this
    process or a second one wrote them. The same when the first lead's rows were made
    ahead (`Ahead`: none of its chunks, one, or all), the other's given to the write."""
    monkeypatch.setattr(eventstore, "CHUNK", 4)
    app = HandoffApp(locate(store), clock=clock)
    try:
        every_kind_of_event(app)
        before = eventstore.last_notification_id(app)
        first = list(a_lead_with_every_kind_of_entry("bulk-lead").collect_events())
        pending = [*first, *a_lead_with_every_kind_of_entry("other-lead").collect_events()]
        make_row = eventstore.stored_row_maker(app)
        expected = [(o.hex, v, topic, state) for o, v, topic, state in map(make_row, pending)]
        ahead = eventstore.Ahead(app, first, audit.content_digest)
        if made_ahead == "one":
            assert ahead.make_one()
        elif made_ahead == "all":
            made = 0
            while ahead.make_one():
                made += 1
            assert made > 1  # the lead's entries, four at a time

        recorded = eventstore.record_in_bulk(app, pending[len(first):],
                                             digest=audit.content_digest, ahead=ahead)

        entries = list(eventstore.every_stored_entry(app, before))
        assert [e[1:] for e in entries] == expected
        assert recorded == eventstore.Recorded(
            before, [e[0] for e in entries], [e[1] for e in entries],
            [audit.entry_digest(e) for e in entries],
        )
        bulk_writer.assert_went(store, writes=1)
    finally:
        app.close()



@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
def test_an_event_described_is_stored_as_the_library_stores_it_built(
    store: str, clock: FakeClock, compressed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `Unbuilt` event (its class and the attributes its aggregate gives it) is stored
    as the library's mapper stores the event constructed from them: the state's keys in
    the order of the event's dataclass fields, a created event's aggregate topic added."""
    if compressed:
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
    app = HandoffApp(locate(store), clock=clock)
    try:
        at = datetime(2026, 3, 2, 9, tzinfo=UTC)
        rejected_then_lost = Lead.capture("lost-lead", "events", Stamp(at, at, "maria"))
        rejected_then_lost.qualify(Stamp(at, at, "maria"))
        rejected_then_lost.hand_to("sam", Stamp(at, at, "maria", 1, "2026 growth"))
        rejected_then_lost.reject("not now", Stamp(at, at, "sam"))
        rejected_then_lost.qualify(Stamp(at, at, "maria"))
        rejected_then_lost.hand_to("sam", Stamp(at, at, "maria"))
        rejected_then_lost.accept(Stamp(at, at, "sam"))
        rejected_then_lost.lose("price", Stamp(at, at, "sam"))
        built = [
            *a_lead_with_every_kind_of_entry("described-lead").collect_events(),
            *rejected_then_lost.collect_events(),
        ]
        assert {*LIFECYCLE_EVENTS, *CORRECTIONS, Lead.Forgotten} <= {type(e) for e in built}
        make_row = eventstore.stored_row_maker(app)
        for event in built:
            given = {k: v for k, v in vars(event).items()
                     if k not in ("originator_id", "originator_version", "originator_topic")}
            described = eventstore.Unbuilt(
                Lead, type(event), event.originator_id, event.originator_version, given
            )
            stored = app.mapper.to_stored_event(event)
            assert make_row(described) == (
                stored.originator_id, stored.originator_version, stored.topic, stored.state
            )
    finally:
        app.close()


def test_an_entry_lacking_a_field_its_method_declares_a_default_for_reads_with_it(
    app: HandoffApp,
) -> None:
    """A backup's register entry from before a field existed (a version's number) is read
    with the default of the method that declares it (`eventstore.fills_defaults`); a lead's
    step is read by its own code, which needs every field."""
    assert eventstore.fills_defaults(AgreementRegister.VersionApplied)
    assert not eventstore.fills_defaults(Lead.Qualified)
    terms = parse_agreement(agreement_toml(AGREEMENT, {"team": None}))
    register = AgreementRegister()
    register.apply_version(terms, "maria", datetime(2026, 1, 1, tzinfo=UTC))
    opened, applied = register.collect_events()
    state = {k: v for k, v in vars(applied).items()
             if k not in ("originator_id", "originator_version", "number")}
    plain = app.mapper.transcoder.encode(state)
    event = eventstore.read_back(app, applied.originator_id, 2, get_topic(type(applied)), plain)
    assert not hasattr(event, "number")
    restored = event.mutate(opened.mutate(None))
    assert [v.number for v in restored.versions] == [1]


def test_the_library_gives_every_entry_these_fields_and_a_first_entry_its_class() -> None:
    # The fields the library's own event classes declare (less their class constants):
    # a record's first entry has them all, every other entry all but originator_topic.
    def declared(cls: type) -> set[str]:
        return {name for name, hint in typing.get_type_hints(cls).items()
                if typing.get_origin(hint) is not typing.ClassVar}

    assert declared(AggregateCreated) == eventstore.LIBRARY_FIELDS
    assert declared(AggregateEvent) == eventstore.LIBRARY_FIELDS - {"originator_topic"}
    kinds = eventstore.event_kinds(Lead)
    assert {*LIFECYCLE_EVENTS, *CORRECTIONS, Lead.Forgotten} <= set(kinds)
    for kind in kinds:
        first = issubclass(kind, AggregateCreated)
        assert eventstore.first_entry_topic(kind, Lead) == (get_topic(Lead) if first else None)
    created, *later = a_lead_with_every_kind_of_entry("fields").collect_events()
    assert set(vars(created)) >= eventstore.LIBRARY_FIELDS
    assert vars(created)["originator_topic"] == get_topic(Lead)
    for event in later:
        assert set(vars(event)) & eventstore.LIBRARY_FIELDS == (
            eventstore.LIBRARY_FIELDS - {"originator_topic"})


def test_every_entry_states_first_when_it_was_recorded(store: str, clock: FakeClock) -> None:
    """`last_recorded_by` reads each entry's instant from the start of its state: every kind
    the application writes has it there, as the library decodes it."""
    app = HandoffApp(locate(store), clock=clock)
    try:
        every_kind_of_event(app)
        app.save_in_bulk([a_lead_with_every_kind_of_entry("stamped")])
        decode = app.mapper.transcoder.decode
        topics = set()
        for _, _, topic, state in [r for page in eventstore.log_pages(app) for r in page]:
            plain = _plain(app, state)
            assert eventstore.stamped_at(plain) == decode(plain)["timestamp"], topic
            topics.add(topic)
        assert len(topics) > len(LIFECYCLE_EVENTS)  # agreement and traffic entries too
    finally:
        app.close()


def test_the_postgres_recorder_locks_the_events_table_and_notifies_its_channel(
    pg_store: str, clock: FakeClock
) -> None:
    """`copy_stored_rows` takes the recorder's own locks, so that ids are committed in
    order, and notifies its channel, as the library's INSERT does."""
    app = HandoffApp(locate(pg_store), clock=clock)
    try:
        recorder = app.recorder
        table = eventstore.events_table(app)
        with recorder.datastore.get_connection() as connection:
            statements = [s if isinstance(s, str) else s.as_string(connection)
                          for s in recorder.lock_table_statements]
        name = table.split(".")[-1]
        # An exclusive lock on the events table (reads go on; no other write does).
        assert [s for s in statements
                if s.startswith("LOCK TABLE") and name in s and s.endswith("IN EXCLUSIVE MODE")]
        # The channel named after the events table, which the library's INSERT notifies.
        assert isinstance(recorder.channel_name, str)
        assert name.strip('"') in recorder.channel_name
    finally:
        app.close()


def test_the_log_is_created_by_the_library_only_where_part_of_it_is_missing(
    pg_store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`create_log_where_missing` finds the library's table, index and insert function in
    the catalog by the names its recorder gives them: should an upgrade rename one, every
    opening would run the library's set-up again, which waits behind a lock on the table
    (test_busy_store) while holding the locks the next command waits for."""
    app = HandoffApp(locate(pg_store), clock=clock)
    try:
        app.capture("made-here", "web", "maria", at="2026-03-02T09:00")  # the log, usable
        created = []
        monkeypatch.setattr(app.recorder, "create_table", lambda: created.append(True))
        eventstore.create_log_where_missing(app)
        assert created == []  # all there: nothing run
        with app.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DROP FUNCTION {app.recorder.pg_function_name_insert_events}")
        eventstore.create_log_where_missing(app)
        assert created == [True]  # a part missing: the library's own set-up
    finally:
        app.close()


def test_every_connection_of_the_library_waits_for_a_lock_as_long_as_sqlite_does(
    pg_store: str, clock: FakeClock
) -> None:
    """The library's pool runs its `configure` on each new connection (autocommit, its idle
    timeout): the factory adds the store's lock timeout there, which its reads lacked."""
    app = HandoffApp(locate(pg_store), clock=clock)
    try:
        with app.recorder.datastore.get_connection() as connection:
            found = connection.execute("SHOW lock_timeout").fetchone()
            idle = connection.execute("SHOW idle_in_transaction_session_timeout").fetchone()
        assert found is not None and idle is not None
        assert list(found.values()) == [f"{switches.LOCK_WAIT_SECONDS}s"]
        assert list(idle.values()) == ["1min"]  # the library's own setting, still made
    finally:
        app.close()


def test_the_library_tries_its_recorder_methods_again_around_the_method_it_wraps() -> None:
    """`eventstore._lock_wait_not_retried` calls the method under the library's retry once
    itself (giving up on a lock at once) and falls back on the retry for the other errors:
    each of those methods must be the retry's wrapper around the method."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    for name in eventstore._RETRIED:
        method = getattr(PostgresApplicationRecorder, name)
        assert callable(method.__wrapped__), name
        assert method.__wrapped__.__name__ == name


def test_a_read_on_a_connection_the_server_dropped_is_tried_again(
    pg_store: str, clock: FakeClock
) -> None:
    """The library tries a recorder method again on a dropped connection (the server
    restarted, an idle connection ended by its administrator); `_lock_wait_not_retried`
    keeps that: only a lock not had in time is given up at once. The pool's connections
    are ended from outside between two reads: the second still reads the log."""
    import psycopg

    app = HandoffApp(locate(pg_store), clock=clock)
    try:
        assert app.recorder.max_notification_id() is None  # an empty store, read once
        with psycopg.connect(pg_store.replace("+psycopg", ""), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert app.recorder.max_notification_id() is None  # read again on a new connection
    finally:
        app.close()


def test_a_sqlite_store_keeps_its_events_in_the_table_that_tells_it_from_another_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    """store.refuse_if_another_programs looks for this table before the library opens the
    file: an upgrade that renamed it would have every SQLite store refused."""
    app = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)
    try:
        assert app.recorder.events_table_name == eventstore.SQLITE_EVENTS_TABLE  # type: ignore[attr-defined]
        assert eventstore.table_exists(app, eventstore.SQLITE_EVENTS_TABLE)
        app.capture("k", "web", "maria", at="2026-03-02T09:00Z")
    finally:
        app.close()
    # ... and each event's topic, under handoff's own package, in a column of that name:
    # an upgrade that changed either would have every SQLite store refused as another's.
    with sqlite3.connect(tmp_path / "store.sqlite") as connection:
        assert not eventstore.others_events_in_sqlite(connection)
        assert connection.execute(
            f"SELECT topic FROM {eventstore.SQLITE_EVENTS_TABLE}").fetchone()[0].startswith(
            "handoff.domain.")
    connection.close()
