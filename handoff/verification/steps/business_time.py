"""Business time and due instants (SPEC §4), from features/business_time.feature.

Each story applies its agreement, hands a lead over at the story's instant, and reads
the answer `handoff kpi` gives: the handoff is pending at its due instant and overdue a
microsecond later (which pins the due instant exactly), and a decision's response time
is the report's median response time of that one handoff.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementTerms
from handoff.domain.agreement_file import parse_agreement
from handoff.instants import iso
from handoff.kpi import compute_kpis, period_from_options
from handoff.verification.world import AGREEMENT, FakeClock, agreement_toml, story_day

FEATURES = ("business_time.feature",)
LEAD = "handed-lead"

AT = r"(?P<day>.+?) at (?P<time>\d{1,2}:\d{2})"
WEEKDAY_KEYS = {"Monday to Friday": '["mon", "tue", "wed", "thu", "fri"]'}

Changes = dict[str, str | None]


@pytest.fixture
def terms(calendar_changes: Changes) -> AgreementTerms:
    """The agreement the calendar comes from, read the way `handoff sla apply` reads it."""
    return parse_agreement(agreement_toml(AGREEMENT, {**calendar_changes, "team": None}))


def local(terms: AgreementTerms, day: str, clock_time: str) -> datetime:
    return datetime.combine(story_day(day), time.fromisoformat(clock_time), terms.timezone)


@given(
    parsers.re(
        r"an agreement in (?P<zone>[\w/]+) time, open (?P<days>.+?) "
        r"from (?P<opens>\d\d:\d\d) to (?P<closes>\d\d:\d\d)"
    ),
    target_fixture="calendar_changes",
)
def _(zone: str, days: str, opens: str, closes: str) -> Changes:
    return {
        "timezone": f'"{zone}"',
        "calendar.workdays": WEEKDAY_KEYS[days],
        "calendar.hours": f'["{opens}", "{closes}"]',
    }


@given(
    parsers.re(r"the office is open from (?P<opens>\d\d:\d\d) to (?P<closes>\d\d:\d\d)"),
    target_fixture="calendar_changes",
)
def _(calendar_changes: Changes, opens: str, closes: str) -> Changes:
    return {**calendar_changes, "calendar.hours": f'["{opens}", "{closes}"]'}


@given(
    parsers.re(r"sales must decide within (?P<hours>[\d.]+) business hours of a handoff"),
    target_fixture="calendar_changes",
)
def _(calendar_changes: Changes, hours: str) -> Changes:
    return {**calendar_changes, "sales.decide_within_hours": hours}


@given(parsers.re(r"(?P<day>.+) is a holiday in the agreement"), target_fixture="calendar_changes")
def _(calendar_changes: Changes, day: str) -> Changes:
    return {**calendar_changes, "calendar.holidays": f'["{story_day(day).isoformat()}"]'}


@given(
    parsers.re(r'the agreement follows the public holidays of "(?P<country>[\w-]+)"'),
    target_fixture="calendar_changes",
)
def _(calendar_changes: Changes, country: str) -> Changes:
    return {**calendar_changes, "calendar.country_holidays": f'"{country}"'}


@when(parsers.re(rf"a lead is handed on {AT}"), target_fixture="handed_at")
def _(app: HandoffApp, clock: FakeClock, terms: AgreementTerms, day: str, time: str
      ) -> datetime:
    handed_at = local(terms, day, time)
    clock.now = handed_at - timedelta(hours=1)
    app.apply_agreement(terms, actor="maria")
    before = iso(clock.now)
    app.capture(LEAD, "web", "maria", at=before)
    app.record(LEAD, "qualified", "maria", before)
    clock.now = handed_at
    app.record(LEAD, "handed", "li", iso(handed_at), owner="sam")
    return handed_at


@when(parsers.re(rf"(?P<actor>\w+) decides on {AT}"), target_fixture="decided_at")
def _(app: HandoffApp, clock: FakeClock, terms: AgreementTerms, day: str, time: str
      ) -> datetime:
    decided_at = clock.now = local(terms, day, time)
    app.record(LEAD, "accepted", "sam", iso(decided_at))
    return decided_at


def handoff_sla(app: HandoffApp, handed_at: datetime, as_of: datetime) -> dict[str, Any]:
    """The SLA block of the report of the handoff's month, read as of an instant."""
    register = app.agreement_register()
    zone = register.versions[-1].terms.timezone
    period = period_from_options(register, month=f"{handed_at.astimezone(zone):%Y-%m}")
    block: dict[str, Any] = compute_kpis(app, period, as_of=as_of)["sla"]
    return block


@then(parsers.re(rf"the decision is due on {AT}, Chicago time"), target_fixture="due")
def _(app: HandoffApp, terms: AgreementTerms, handed_at: datetime, day: str, time: str
      ) -> datetime:
    due = local(terms, day, time)
    on_the_wall = due.astimezone(terms.timezone)
    assert f"{on_the_wall:%A} {on_the_wall.day} {on_the_wall:%B %Y}" == day
    at_due = handoff_sla(app, handed_at, as_of=due)
    assert (at_due["handoffs"], at_due["pending"], at_due["overdue"]) == (1, 1, 0)
    just_after = handoff_sla(app, handed_at, as_of=due + timedelta(microseconds=1))
    assert (just_after["pending"], just_after["overdue"]) == (0, 1)
    return due


@then(parsers.re(r"that is (?P<day>\d{4}-\d\d-\d\d) at (?P<time>\d\d:\d\d) UTC"))
def _(due: datetime, day: str, time: str) -> None:
    assert due.astimezone(UTC).isoformat() == f"{day}T{time}:00+00:00"


@then(parsers.re(r"his response time is (?P<hours>[\d.]+) business hours"))
def _(app: HandoffApp, handed_at: datetime, decided_at: datetime, hours: str) -> None:
    sla = handoff_sla(app, handed_at, as_of=decided_at)
    assert sla["handoffs"] == 1
    assert Decimal(str(sla["median_response_hours"])) == Decimal(hours)
