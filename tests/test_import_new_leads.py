"""The leads a file captures are recorded without building their events (`NewLead`): held
to the path that builds them (`Lead`), the same refusals and, byte for byte, the same log.

Each file is imported twice on the same fixed clock: once as every lead used to be
imported (`describe_new_leads=False`: each row applied to a `Lead` aggregate, its events
written by the library's mapper), once by the fast path; the reports and every entry of
the two logs (originator, version, topic, state) must be equal.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import AGREEMENT, FakeClock, agreement_toml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.steps import ALLOWED_FROM, EVENT_NAMES, state_after
from handoff.importer import COLUMNS, DATA_COLUMNS, Importer, ImportReport, read_rows
from handoff.store import locate

NOW = datetime(2026, 3, 20, 18, tzinfo=UTC)
HEADER = ",".join(COLUMNS)

# Leads the store holds before the file: their rows take the `Lead` path on both sides.
STORED = """lead,event,at,actor,source,owner
old-1,captured,2026-03-02T09:00,maria,web,
old-1,qualified,2026-03-02T10:00,maria,,
old-2,captured,2026-03-02T09:30,li,partner,
"""

JOURNEYS = """lead,event,at,actor,source,name,email,company,score,owner,reason,channel,amount,visits
a,captured,2026-03-02T09:00,maria,web,Ada,ada@example.com,Engines,,,,,,
a,qualified,2026-03-02T10:00,maria,,,,,80,,,,,
a,handed,2026-03-02T11:00,li,,,,,,sam,,,,
a,accepted,2026-03-02T12:00,sam,,,,,,,,,,
a,contacted,2026-03-02T13:00,sam,,,,,,,,phone,,
a,contacted,2026-03-02T13:00,sam,,,,,,,,phone,,
a,proposal,2026-03-03T09:00,sam,,,,,,,,,1200.50,
a,contacted,2026-03-03T10:00,ola,,,,,,,,,,
a,proposal,2026-03-03T11:00,sam,,,,,,,,,1100,
a,won,2026-03-04T09:00,sam,,,,,,,,,,
a,won,2026-03-04T09:00,sam,,,,,,,,,1100.00,
b,captured,2026-03-02T09:05,li,events,,,,,,,,,
old-1,handed,2026-03-02T11:00,li,,,,,,ola,,,,
b,qualified,2026-03-02T09:05,maria,,,,,,,,,,
b,handed,2026-03-02T09:06,maria,,,,,,ola,,,,
b,rejected,2026-03-02T10:00,ola,,,,,,,not now,,,
b,qualified,2026-03-05T10:00,maria,,,,,7,,,,,
b,handed,2026-03-05T11:00,maria,,,,,,sam,,,,
b,accepted,2026-03-05T12:00,sam,,,,,,,,,,
b,lost,2026-03-05T13:00,sam,,,,,,,"price, and
timing",,,
a,captured,2026-03-02T09:00,maria,web,Ada,ada@example.com,Engines,,,,,,
c,captured,2026-03-06T08:00Z,maria,outbound,,,,,,,,,
c,qualified,2026-03-06T08:00Z,maria,,,,,0,,,,,
c,handed,2026-03-06T09:00,maria,,,,,,ola,,,,
old-2,qualified,2026-03-03T10:00,maria,,,,,5,,,,,
c,accepted,2026-03-06T10:00,ola,,,,,,,,,,
c,lost,2026-03-06T11:00,ola,,,,,,,no budget,,,
"""

# Every row below but the captures is refused, each for its own reason.
REFUSED = """lead,event,at,actor,source,name,email,company,score,owner,reason,channel,amount,visits
r,captured,2026-03-02T09:00,maria,web,,,,,,,,,
r,accepted,2026-03-02T10:00,sam,,,,,,,,,,
r,qualified,2026-03-02T08:00,maria,,,,,,,,,,
r,qualified,2026-03-21T09:00,maria,,,,,,,,,,
r,captured,2026-03-02T09:00,maria,partner,,,,,,,,,
r,captured,2026-03-02T09:30,maria,web,,,,,,,,,
r,qualified,2026-03-02T11:00,maria,,,,,-3,,,,,
r,qualified,2026-03-02T11:00,maria,,,,,many,,,,,
r,qualified,2026-03-02T11:00,sam,,,,,,,,,,
r,qualified,2026-03-02T11:00,maria,,,,,,,,,,
r,handed,2026-03-02T12:00,maria,,,,,,,,,,
r,handed,2026-03-02T12:00,maria,,,,,,"  ",,,,
r,won,2026-03-02T13:00,sam,,,,,,,,,,
r,qualified,2026-03-02T11:00,maria,,,,,3,,,,,
r,handed,2026-03-02T12:00,maria,,,,,,sam,,,,
r,accepted,2026-03-02T13:00,sam,,,,,,,,,,
r,proposal,2026-03-02T14:00,sam,,,,,,,,,,
r,proposal,2026-03-02T14:00,sam,,,,,,,,,0,
r,proposal,2026-03-02T14:00,sam,,,,,,,,,12.345,
r,won,2026-03-02T15:00,sam,,,,,,,,,,
r,lost,2026-03-02T15:00,sam,,,,,,,"  ",,,
r,rejected,2026-03-02T15:00,sam,,,,,,,late,,,
r,contacted,2026-03-02T15:00,maria,,,,,,,,phone,,
r,lost,2026-03-02T16:00,sam,,,,,,,gone,,,
r,contacted,2026-03-02T17:00,sam,,,,,,,,,,
r,lost,2026-03-02T16:00,sam,,,,,,,other,,,
s,captured,2026-03-02T09:00,maria,,,,,,,,,,
s,qualified,2026-03-02T10:00,maria,,,,,,,,,,
t,captured,2026-03-22T09:00,maria,web,,,,,,,,,
t,qualified,2026-03-22T10:00,maria,,,,,,,,,,
u,captured,2026-03-02T09:00,sam,web,,,,,,,,,
old-1,captured,2026-03-03T09:00,maria,web,,,,,,,,,
old-2,accepted,2026-03-03T09:00,sam,,,,,,,,,,
"""


def _store_with_agreement(store: str) -> HandoffApp:
    """The store as the file finds it: the agreement signed by both sides a month ago
    (marketing: maria and li; sales: sam and ola), and the leads of STORED."""
    clock = FakeClock(NOW - timedelta(days=30))
    app = HandoffApp(locate(store), clock=clock)
    app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT)), "maria")
    app.sign_agreement(1, "sam")
    clock.now = NOW
    Importer(app, "maria", describe_new_leads=False).run(read_rows(STORED))
    return app


def imported(
    store: str, text: str, describe_new_leads: bool
) -> tuple[ImportReport, list[tuple[str, int, str, bytes]]]:
    """The import's report, and the entries it wrote (each less its position)."""
    app = _store_with_agreement(store)
    try:
        before = eventstore.last_notification_id(app)
        report = Importer(app, "maria", describe_new_leads=describe_new_leads).run(
            read_rows(text)
        )
        return report, [entry[1:] for entry in eventstore.every_stored_entry(app, before)]
    finally:
        app.close()


def both_ways(store: str, reference: Path, text: str) -> tuple[
    tuple[ImportReport, list[tuple[str, int, str, bytes]]],
    tuple[ImportReport, list[tuple[str, int, str, bytes]]],
]:
    """Built on a SQLite store of its own; described on this test's store (the entries do
    not depend on the backend)."""
    return imported(str(reference), text, False), imported(store, text, True)


def test_new_leads_are_recorded_byte_for_byte_as_their_aggregates_record_them(
    store: str, tmp_path: Path
) -> None:
    (built, built_log), (described, described_log) = both_ways(
        store, tmp_path / "built.sqlite", JOURNEYS
    )
    assert built.errors == []
    assert (built.recorded, built.skipped, built.leads) == (24, 3, 5)
    assert described == built
    assert len(built_log) == 24
    assert described_log == built_log


def test_a_refused_file_gets_the_same_refusals_line_by_line_and_writes_nothing(
    store: str, tmp_path: Path
) -> None:
    (built, built_log), (described, described_log) = both_ways(
        store, tmp_path / "built.sqlite", REFUSED
    )
    refused = {error.line for error in built.errors}
    # Every row but r's capture (line 2) and the steps of r that follow the protocol: its
    # qualification without a score (11), its handoff to sam (16), sam's acceptance (17)
    # and the lost deal (25), after which r is final.
    assert refused == set(range(3, 35)) - {11, 16, 17, 25}
    assert [str(e) for e in described.errors] == [str(e) for e in built.errors]
    assert described == built
    assert described_log == built_log == []


# -- journeys of any shape ------------------------------------------------------------

_VALID = {
    "source": st.sampled_from(["web", "partner"]),
    "name": st.sampled_from(["", "Ada"]),
    "email": st.sampled_from(["", "a@b.c"]),
    "company": st.sampled_from(["", "Acme"]),
    "score": st.sampled_from(["", "0", "80"]),
    "owner": st.sampled_from(["sam", "ola"]),
    "reason": st.sampled_from(["price", "not now"]),
    "channel": st.sampled_from(["", "phone"]),
    "amount": st.sampled_from(["100", "99.99", "1200.5"]),
}
_ANY = {
    **_VALID,
    "source": st.sampled_from(["web", "", " "]),
    "score": st.sampled_from(["", "0", "-1", "x"]),
    "owner": st.sampled_from(["sam", "kim", "", " "]),
    "reason": st.sampled_from(["price", "", " "]),
    "amount": st.sampled_from(["", "100", "0", "1.001"]),
}
_ACTORS = {"captured": "maria", "qualified": "li", "handed": "maria"}  # else sales: sam


@st.composite
def journey_rows(draw: st.DrawFn) -> str:
    """Rows of a few leads, interleaved: mostly a step the protocol allows next, by whom the
    agreement allows, an hour or so after the previous row, with valid data; now and then
    any step, by anyone, at the same instant or earlier, or with data of any kind."""
    lines, states = [HEADER], {"old-1": "qualified"}
    at = datetime(2026, 3, 3, 9, tzinfo=UTC)  # after the stored leads' steps
    wildness = draw(st.sampled_from([0, 0, 2]))  # in twenty rows
    for _ in range(draw(st.integers(1, 24))):
        lead = draw(st.sampled_from(["a", "a", "b", "c", "old-1"]))
        state = states.get(lead)
        allowed = ["captured"] if state is None else [
            e for e, sources in ALLOWED_FROM.items() if state in sources
        ] or ["contacted"]
        wild = draw(st.integers(0, 19)) < wildness
        event = draw(st.sampled_from(EVENT_NAMES if wild else allowed))
        values = _ANY if wild else _VALID
        at += timedelta(minutes=draw(st.sampled_from([60, 60, 60, 0, -30] if wild else [60])))
        cells = dict.fromkeys(COLUMNS, "")
        cells.update(lead=lead, event=event, at=at.isoformat(),
                     actor=draw(st.sampled_from(["", "maria", "sam"])) if wild
                     else _ACTORS.get(event, "sam"))
        for column in DATA_COLUMNS[event]:
            cells[column] = draw(values[column])
        lines.append(",".join(cells.values()))
        states[lead] = state_after(state or "captured", event)
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=journey_rows())
def test_any_journey_is_refused_or_recorded_alike_by_both_paths(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        built = imported(str(Path(folder) / "built.sqlite"), text, False)
        described = imported(str(Path(folder) / "described.sqlite"), text, True)
    assert described[0] == built[0]
    assert described[1] == built[1]
    if built[0].ok:  # the events of the rows recorded (and a lead's its first row opens)
        assert len(built[1]) == built[0].recorded
    else:
        assert built[1] == []
