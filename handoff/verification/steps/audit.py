"""Tamper evidence (SPEC §9), from features/audit.feature.

Someone changing the store underneath handoff is played by plain SQL on its tables, as a
database tool would run it; the check is `audit.verify`, as `handoff audit verify` runs it.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from handoff import audit, eventstore
from handoff.application import HandoffApp
from handoff.backup import LogChanged, backup_lines
from handoff.domain.errors import LOG_CHANGED_AT
from handoff.domain.steps import lead_id
from handoff.kpi import compute_kpis, period_from_options
from handoff.store import locate
from handoff.verification.world import FakeClock, local_at

FEATURES = ("audit.feature",)


def _underneath(app: HandoffApp, sql: str, *parameters: Any) -> None:
    """Run SQL on the store's tables ({events}, {position}), as a database tool would."""
    filled = sql.format(events=eventstore.events_table(app),
                        position=eventstore.position_column(app))
    with eventstore.write_transaction(app) as cursor:
        cursor.execute(eventstore.sql_for(app, filled), parameters)


def _entries_of(app: HandoffApp, key: str) -> list[int]:
    """The positions of a lead's entries in the log."""
    return [entry[0] for entry in eventstore.entries_of(app, lead_id(key))]


def _stored_id(app: HandoffApp, key: str) -> Any:
    """A lead's id as its store keeps it."""
    return lead_id(key) if eventstore.is_postgres(app) else lead_id(key).hex


@given("every entry of the record is sealed")
def _(app: HandoffApp) -> None:
    audit.seal(app)  # as the commands that recorded them did as they ended


@given("Maria kept the digest of the record, every entry of it sealed", target_fixture="kept")
def _(app: HandoffApp) -> audit.Digest:
    audit.seal(app)
    return audit.digest(app)


@when(parsers.re(r'someone slips a win for lead "(?P<key>[^"]+)" into the store before the'
                 r" record's first entry"))
def _(app: HandoffApp, key: str) -> None:
    last = eventstore.entries_of(app, lead_id(key))[-1]
    _underneath(
        app,
        "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state)"
        " SELECT 0, originator_id, ?, 'handoff.domain.lead:Lead.Won', state FROM {events}"
        " WHERE {position} = ?", last[2] + 1, last[0],
    )


@when(parsers.re(r'someone slips a win for lead "(?P<key>[^"]+)" into the store after the'
                 r" record's last entry"), target_fixture="slipped")
def _(app: HandoffApp, key: str) -> int:
    """As entry 99 of its lead, which no command writes: the library writes a record's
    entries one after the other. A later command seals it as it came."""
    last = eventstore.entries_of(app, lead_id(key))[-1]
    position = eventstore.last_notification_id(app) + 1
    _underneath(
        app,
        "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state)"
        " SELECT ?, originator_id, 99, 'handoff.domain.lead:Lead.Won', state FROM {events}"
        " WHERE {position} = ?", position, last[0],
    )
    return position


@when(parsers.re(r"someone deletes the record's seals and raises the proposal of lead"
                 r' "(?P<key>[^"]+)" to (?P<amount>\d+)'))
def _(app: HandoffApp, key: str, amount: str) -> None:
    _underneath(app, f"DELETE FROM {audit.TABLE}")
    proposal = next(entry for entry in eventstore.entries_of(app, lead_id(key))
                    if entry[3].endswith(":Lead.ProposalSent"))
    state = proposal[4].replace(b'"30000"', f'"{amount}"'.encode())
    assert state != proposal[4]
    _underneath(app, "UPDATE {events} SET state = ? WHERE originator_id = ? AND"
                " originator_version = ?", state, _stored_id(app, key), proposal[2])


@given(parsers.re(r'Sam contacts lead "(?P<key>[^"]+)", his command still delivering notices'
                  r" as Maria starts hers"))
def _(app: HandoffApp, key: str) -> None:
    app.record(key, "contacted", "sam", local_at("Monday", "14:00"))  # not sealed yet


@when(parsers.re(r"Maria reads the March figures (?P<later>the next day|ten minutes later)"))
def _(store: str, clock: FakeClock, later: str) -> None:
    clock.advance(**({"days": 1} if later == "the next day" else {"minutes": 10}))
    reading = HandoffApp(locate(store), clock=clock, create=False)  # a command of its own
    reading.command = "kpi"
    try:
        compute_kpis(reading, period_from_options(reading.agreement_register(),
                                                  month="2026-03"))
        audit.seal_quietly(reading)  # as every command does as it ends
    finally:
        reading.close()


@then(parsers.re(r"the check names log entry (?P<position>-?\d+), of lead \"(?P<key>[^\"]+)\","
                 r" as inserted"))
def _(app: HandoffApp, position: str, key: str) -> None:
    with pytest.raises(audit.TamperedLog) as refusal:
        audit.verify(app)
    assert str(refusal.value) == f"log entry {position} (lead {key!r}) was inserted"


@then(parsers.re(r'the check names the slipped win, of lead "(?P<key>[^"]+)", as out of its'
                 r" lead's order"))
def _(app: HandoffApp, slipped: int, key: str) -> None:
    with pytest.raises(audit.TamperedLog) as refusal:
        audit.verify(app)
    assert str(refusal.value) == (
        f"log entry {slipped} (lead {key!r}) is out of its record's order: inserted, or an"
        " earlier entry of its record removed or moved")


@then(parsers.re(r'every check names the entries of lead "(?P<key>[^"]+)" as sealed late by'
                 r' "(?P<command>[^"]+)"'))
def _(app: HandoffApp, key: str, command: str) -> None:
    entries = _entries_of(app, key)
    for _ in range(2):
        verdict = audit.verify(app)
        assert verdict.unsealed is None  # every entry matches its seal, as sealed late
        assert any(late.sealed_by == command and late.first <= entries[0]
                   and entries[-1] <= late.last for late in verdict.late), verdict.late


@then("the record no longer extends the digest Maria kept")
def _(app: HandoffApp, kept: audit.Digest) -> None:
    with pytest.raises(audit.TamperedLog) as refusal:
        audit.verify(app, kept)
    assert str(refusal.value).startswith(
        f"the log is not the one digested at entry {kept.position}")


@then("the check names no entry as sealed late")
def _(app: HandoffApp) -> None:
    verdict = audit.verify(app)
    assert verdict.unsealed is None  # every entry sealed, by the shorter command
    assert verdict.late == ()


@when("someone deletes the record's last two entries", target_fixture="positions")
def _(app: HandoffApp) -> list[int]:
    """The record's positions as they stood, the newest two then deleted."""
    positions = [entry[0] for entry in eventstore.every_stored_entry(app)]
    _underneath(app, "DELETE FROM {events} WHERE {position} >= ?", positions[-2])
    return positions


@then("no backup is written: the record ends two entries before its seals reach")
def _(app: HandoffApp, positions: list[int]) -> None:
    with pytest.raises(LogChanged) as refusal:
        next(backup_lines(app))  # before its first line
    assert str(refusal.value) == (
        f"the log ends at entry {positions[-3]}, where its seals reach entry {positions[-1]}:"
        f" {LOG_CHANGED_AT} (its last entries removed); no backup is written of it"
    )
