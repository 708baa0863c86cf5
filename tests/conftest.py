"""Shared fixtures: a fresh store per test, on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cli_helpers import Handoff
from sqlalchemy.engine import make_url

from handoff.application import HandoffApp
from handoff.store import locate

POSTGRES_URL = os.environ.get("HANDOFF_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL"
        ),
    ),
]


class FakeClock:
    """The wall clock, under the test's control."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))


def _fresh_postgres_database() -> Iterator[str]:
    assert POSTGRES_URL
    base = make_url(POSTGRES_URL)
    name = f"handoff_test_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A `--store` value naming an empty store of its own, on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
    else:
        yield from _fresh_postgres_database()


@pytest.fixture
def handoff(store: str) -> Handoff:
    """The real command line, run in-process on this test's store."""
    return Handoff(store)


@pytest.fixture
def app(store: str, clock: FakeClock) -> Iterator[HandoffApp]:
    application = HandoffApp(locate(store), clock=clock)
    yield application
    application.close()


# -- Common steps of the living specification (features/) ------------------------------
# Days named by weekday are those of the week of Monday 2 March 2026; times are local to
# the agreement in force (UTC when none is), exactly as `--at` reads them.

from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from pytest_bdd import given, parsers, then, when  # noqa: E402

from handoff.domain.agreement_file import parse_agreement  # noqa: E402
from handoff.domain.errors import Refused, UnknownLead  # noqa: E402
from handoff.instants import iso, parse_instant  # noqa: E402
from handoff.views import lead_summary, step_record  # noqa: E402

STORY_WEEK = date(2026, 3, 2)  # a Monday
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WHEN = r"on (?P<day>.+?) at (?P<time>\d{1,2}:\d{2})"

# The agreement the stories run under, as TOML literals, so one key can be swapped for
# a malformed value and the document written out again.
AGREEMENT: dict[str, Any] = {
    "name": '"2026 growth agreement"',
    "effective_from": "2026-01-01",
    "timezone": '"America/Chicago"',
    "goal": {"revenue": "1200000", "average_deal": "30000"},
    "calendar": {"workdays": '["mon", "tue", "wed", "thu", "fri"]', "hours": '["09:00", "17:00"]'},
    "marketing": {
        "qualified_per_month": "40",
        "rates": {
            "visit_to_captured": "0.02",
            "captured_to_qualified": "0.30",
            "qualified_to_handed": "0.90",
        },
    },
    "sales": {
        "decide_within_hours": "8",
        "rates": {
            "handed_to_accepted": "0.80",
            "accepted_to_proposal": "0.40",
            "proposal_to_won": "0.35",
        },
    },
    "team": {"marketing": '["maria", "li"]', "sales": '["sam", "ola"]'},
}


def agreement_toml(document: dict[str, Any], changes: dict[str, str | None] | None = None) -> str:
    """Write an agreement document as TOML; `changes` sets (or, with None, drops) dotted keys."""
    tree: dict[str, Any] = _copy_tree(document)
    for dotted, literal in (changes or {}).items():
        *sections, leaf = dotted.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        if literal is None:
            node.pop(leaf, None)
        else:
            node[leaf] = literal
    return "\n".join(_toml_lines(tree, prefix="")) + "\n"


def _copy_tree(node: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy_tree(v) if isinstance(v, dict) else v for k, v in node.items()}


def _toml_lines(node: dict[str, Any], prefix: str) -> list[str]:
    lines = [f"{key} = {value}" for key, value in node.items() if not isinstance(value, dict)]
    for key, value in node.items():
        if isinstance(value, dict):
            lines += ["", f"[{prefix}{key}]", *_toml_lines(value, prefix=f"{prefix}{key}.")]
    return lines


def story_day(text: str) -> date:
    """'Tuesday' (in the story's week), '2 July 2026' or '2026-07-02'."""
    text = text.strip()
    if text in WEEKDAY_NAMES:
        return STORY_WEEK + timedelta(days=WEEKDAY_NAMES.index(text))
    for pattern in ("%A %d %B %Y", "%d %B %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a day of the story: {text!r}")


def local_at(day: str, clock_time: str) -> str:
    """The `--at` text a user would type for that day and time (no offset: local time)."""
    hours, minutes = clock_time.split(":")
    return f"{story_day(day).isoformat()}T{int(hours):02d}:{minutes}"


def story_instant(app: HandoffApp, day: str, clock_time: str) -> datetime:
    """The instant the application reads for that local day and time."""
    return parse_instant(local_at(day, clock_time), app.zone_for_day(app.agreement_register()))


def actor_id(name: str) -> str:
    return name.strip().lower()


def history(app: HandoffApp, key: str) -> list[dict[str, Any]]:
    """The lead's audit trail as `handoff lead history` shows it."""
    return [step_record(step) for step in app.lead(key).steps]


@dataclass(frozen=True)
class Outcome:
    """What the last `When` did: the lead it touched and the first refusal, if any."""

    key: str | None = None
    refusal: Refused | None = None
    history_before: list[dict[str, Any]] = field(default_factory=list)


def touched(outcome: Outcome) -> str:
    """The lead the story's last step touched, which must have been done, not refused."""
    assert outcome.refusal is None, f"the step was refused: {outcome.refusal}"
    assert outcome.key is not None, "no step touched a lead"
    return outcome.key


@pytest.fixture
def outcome() -> Outcome:
    return Outcome()


def attempt(app: HandoffApp, key: str, previous: Outcome, action: Any) -> Outcome:
    """Try one user command; a refusal is an answer to check, and it stops the story."""
    if previous.refusal is not None:
        return previous
    try:
        before = history(app, key)
    except UnknownLead:
        before = []
    try:
        action()
    except Refused as refusal:
        return Outcome(key, refusal, before)
    return Outcome(key)


# The path a lead takes through the protocol, all on Monday, by the named team.
STORY_PATH: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "qualified": ("09:30", "qualified", "maria", {"score": 70}),
    "handed": ("10:00", "handed", "li", {"owner": "sam"}),
    "accepted": ("11:00", "accepted", "sam", {}),
    "rejected": ("11:00", "rejected", "sam", {"reason": "no budget this year"}),
    "proposal": ("12:00", "proposal", "sam", {"amount": "30000"}),
    "won": ("13:00", "won", "sam", {}),
    "lost": ("13:00", "lost", "sam", {"reason": "went with a competitor"}),
}
PATH_TO: dict[str, tuple[str, ...]] = {
    "captured": (),
    "qualified": ("qualified",),
    "handed": ("qualified", "handed"),
    "accepted": ("qualified", "handed", "accepted"),
    "rejected": ("qualified", "handed", "rejected"),
    "proposal": ("qualified", "handed", "accepted", "proposal"),
    "won": ("qualified", "handed", "accepted", "proposal", "won"),
    "lost": ("qualified", "handed", "accepted", "proposal", "lost"),
}


@given(
    parsers.re(r"the 2026 growth agreement(?P<no_team> without a team)? is in force"),
    target_fixture="agreement_name",
)
def _(app: HandoffApp, no_team: str | None) -> str:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"team": None} if no_team else None))
    app.apply_agreement(terms, actor="maria")
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


def build_lead(app: HandoffApp, key: str, stage: str) -> str:
    app.capture(key, "webinar", "maria", at=local_at("Monday", "09:00"), company="Acme")
    for step in PATH_TO[stage]:
        clock_time, event_name, actor, data = STORY_PATH[step]
        app.record(key, event_name, actor, local_at("Monday", clock_time), **data)
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
