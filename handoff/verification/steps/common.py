"""Steps every feature shares: the agreement in force, leads, what people do, what they see.

Star-imported by tests/conftest.py (which runs them on SQLite and PostgreSQL) and by the
modules `handoff sla verify` writes (on a temporary SQLite store). The fixtures below are
the story's own: a test clock, an empty store and the application on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import UnknownLead
from handoff.instants import iso
from handoff.store import locate
from handoff.verification.world import (
    AGREEMENT,
    WHEN,
    FakeClock,
    Outcome,
    actor_id,
    agreement_toml,
    attempt,
    build_lead,
    history,
    local_at,
    put_in_force,
    story_instant,
    touched,
)
from handoff.views import lead_summary


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A `--store` value naming an empty store of its own (tests/ adds PostgreSQL)."""
    return str(tmp_path / "store.sqlite")


@pytest.fixture
def app(store: str, clock: FakeClock) -> Iterator[HandoffApp]:
    application = HandoffApp(locate(store), clock=clock)
    yield application
    application.close()


@pytest.fixture
def outcome() -> Outcome:
    return Outcome()


@given(
    parsers.re(r"the 2026 growth agreement(?P<no_team> without a team)? is in force"),
    target_fixture="agreement_name",
)
def _(app: HandoffApp, no_team: str | None) -> str:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"team": None} if no_team else None))
    put_in_force(app, terms)
    return terms.name


@given(parsers.re(r"it is now (?P<day>.+?) at (?P<time>\d{1,2}:\d{2})"))
def _(app: HandoffApp, clock: FakeClock, day: str, time: str) -> None:
    clock.now = story_instant(app, day, time)


@given(
    parsers.re(
        r"an? (?P<stage>captured|qualified|handed|accepted|rejected|won|lost) lead "
        r'"(?P<key>[^"]+)"'
    ),
    target_fixture="lead_key",
)
def _(app: HandoffApp, stage: str, key: str) -> str:
    return build_lead(app, key, stage)


@given(
    parsers.re(r'a lead "(?P<key>[^"]+)" with a proposal of (?P<amount>\d+(?:\.\d+)?)'),
    target_fixture="lead_key",
)
def _(app: HandoffApp, key: str, amount: str) -> str:
    build_lead(app, key, "accepted")
    app.record(key, "proposal", "sam", local_at("Monday", "12:00"), amount=amount)
    return key




# -- what people do -----------------------------------------------------------------


@when(
    parsers.re(rf'(?P<actor>\w+) captures lead "(?P<key>[^"]+)" from "(?P<source>[^"]+)" {WHEN}'),
    target_fixture="outcome",
)
def _(app: HandoffApp, outcome: Outcome, actor: str, key: str, source: str, day: str,
      time: str) -> Outcome:
    at = local_at(day, time)
    return attempt(app, key, outcome, lambda: app.capture(key, source, actor_id(actor), at=at))


@when(
    parsers.re(rf"(?P<actor>\w+) (?:re)?qualifies the lead(?: with score (?P<score>\d+))? {WHEN}"),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, score: str | None, day: str,
      time: str) -> Outcome:
    data = {"score": None if score is None else int(score)}
    return record(app, lead_key, outcome, actor, "qualified", local_at(day, time), data)


@when(
    parsers.re(rf"(?P<actor>\w+) hands the lead (?:again )?to (?P<owner>\w+) {WHEN}"),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, owner: str, day: str,
      time: str) -> Outcome:
    data = {"owner": actor_id(owner)}
    return record(app, lead_key, outcome, actor, "handed", local_at(day, time), data)


@when(parsers.re(rf"(?P<actor>\w+) accepts the lead {WHEN}"), target_fixture="outcome")
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, day: str,
      time: str) -> Outcome:
    return record(app, lead_key, outcome, actor, "accepted", local_at(day, time), {})


@when(
    parsers.re(rf'(?P<actor>\w+) rejects the lead {WHEN} because "(?P<reason>[^"]*)"'),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, day: str, time: str,
      reason: str) -> Outcome:
    data = {"reason": reason}
    return record(app, lead_key, outcome, actor, "rejected", local_at(day, time), data)


@given(parsers.re(rf"(?P<actor>\w+) contacted the lead(?: by (?P<channel>\w+))? {WHEN}"))
def _(app: HandoffApp, lead_key: str, actor: str, channel: str | None, day: str,
      time: str) -> None:
    app.record(lead_key, "contacted", actor_id(actor), local_at(day, time), channel=channel)


@when(
    parsers.re(rf"(?P<actor>\w+) contacts the lead(?: by (?P<channel>\w+))? {WHEN}"),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, channel: str | None,
      day: str, time: str) -> Outcome:
    data = {"channel": channel}
    return record(app, lead_key, outcome, actor, "contacted", local_at(day, time), data)


@when(
    parsers.re(rf"(?P<actor>\w+) sends a proposal of (?P<amount>-?[\d.]+) {WHEN}"),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, amount: str, day: str,
      time: str) -> Outcome:
    data = {"amount": amount}
    return record(app, lead_key, outcome, actor, "proposal", local_at(day, time), data)


@when(
    parsers.re(rf"(?P<actor>\w+) wins the deal(?: for (?P<amount>-?[\d.]+))? {WHEN}"),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, amount: str | None,
      day: str, time: str) -> Outcome:
    data = {} if amount is None else {"amount": amount}
    return record(app, lead_key, outcome, actor, "won", local_at(day, time), data)


@when(
    parsers.re(rf'(?P<actor>\w+) loses the deal {WHEN} because "(?P<reason>[^"]*)"'),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, day: str, time: str,
      reason: str) -> Outcome:
    data = {"reason": reason}
    return record(app, lead_key, outcome, actor, "lost", local_at(day, time), data)


def record(app: HandoffApp, key: str, previous: Outcome, actor: str, event_name: str, at: str,
           data: dict[str, Any]) -> Outcome:
    return attempt(
        app, key, previous, lambda: app.record(key, event_name, actor_id(actor), at, **data)
    )


# -- what they see --------------------------------------------------------------------

STATE_WORDS = {"at proposal": "proposal"}


@then(
    parsers.re(
        r"the lead is (?:still )?(?P<state>captured|qualified|handed|accepted|rejected|won|lost"
        r"|at proposal)(?: to (?P<owner>\w+))?"
    )
)
def _(app: HandoffApp, outcome: Outcome, state: str, owner: str | None) -> None:
    summary = lead_summary(app.lead(touched(outcome)))
    assert summary["state"] == STATE_WORDS.get(state, state)
    if owner is not None:
        assert summary["owner"] == actor_id(owner)


@then(parsers.re(r'it is refused, saying "(?P<text>[^"]+)"'))
def _(outcome: Outcome, text: str) -> None:
    assert outcome.refusal is not None, "the step was not refused"
    assert text in str(outcome.refusal), str(outcome.refusal)


@then("nothing is written")
def _(app: HandoffApp, outcome: Outcome) -> None:
    assert outcome.key is not None and outcome.refusal is not None
    if outcome.history_before:
        assert history(app, outcome.key) == outcome.history_before
    else:
        with pytest.raises(UnknownLead):
            app.lead(outcome.key)


@then(parsers.re(r"the lead's history reads (?P<events>[\w, ]+)"))
def _(app: HandoffApp, outcome: Outcome, events: str) -> None:
    expected = [name.strip() for name in events.replace(" and ", ", ").split(",")]
    assert [r["event"] for r in history(app, touched(outcome))] == expected


@then(parsers.re(r"the deal is won for (?P<amount>[\d.]+)"))
def _(app: HandoffApp, outcome: Outcome, amount: str) -> None:
    summary = lead_summary(app.lead(touched(outcome)))
    assert summary["state"] == "won"
    assert summary["won_amount"] == Decimal(amount)


@then(
    parsers.re(rf'the lead\'s "(?P<event>\w+)" occurred {WHEN}'), target_fixture="audit_entry"
)
def _(app: HandoffApp, outcome: Outcome, event: str, day: str, time: str) -> dict[str, Any]:
    entries = [r for r in history(app, touched(outcome)) if r["event"] == event]
    assert entries, f"no {event} in the lead's history"
    assert entries[-1]["occurred_at"] == iso(story_instant(app, day, time))
    return entries[-1]


@then(parsers.re(rf"it was recorded {WHEN} by (?P<actor>\w+)"))
def _(app: HandoffApp, audit_entry: dict[str, Any], day: str, time: str, actor: str) -> None:
    assert audit_entry["recorded_at"] == iso(story_instant(app, day, time))
    assert audit_entry["actor"] == actor_id(actor)


@then(parsers.re(r'it was recorded under the "(?P<name>[^"]+)"'))
def _(audit_entry: dict[str, Any], name: str) -> None:
    assert audit_entry["agreement"] == name


@then("it was recorded under no agreement")
def _(audit_entry: dict[str, Any]) -> None:
    assert audit_entry["agreement"] is None
