"""Business time and due instants (SPEC §4), from features/business_time.feature.

These stories drive the domain directly: an agreement document read by
`parse_agreement`, and the business calendar it defines.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from pytest_bdd import given, parsers, then, when

from handoff.domain.agreement import AgreementTerms
from handoff.domain.agreement_file import parse_agreement
from handoff.verification.world import AGREEMENT, agreement_toml, story_day

FEATURES = ("business_time.feature",)

AT = r"(?P<day>.+?) at (?P<time>\d{1,2}:\d{2})"
WEEKDAY_KEYS = {"Monday to Friday": '["mon", "tue", "wed", "thu", "fri"]'}

Changes = dict[str, str | None]


@pytest.fixture
def terms(calendar_changes: Changes) -> AgreementTerms:
    """The agreement the calendar comes from, read the way `handoff sla apply` reads it."""
    return parse_agreement(agreement_toml(AGREEMENT, calendar_changes))


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
    parsers.re(r"sales must decide within (?P<hours>[\d.]+) business hours of a handoff"),
    target_fixture="calendar_changes",
)
def _(calendar_changes: Changes, hours: str) -> Changes:
    return {**calendar_changes, "sales.decide_within_hours": hours}


@given(parsers.re(r"(?P<day>.+) is a holiday in the agreement"), target_fixture="calendar_changes")
def _(calendar_changes: Changes, day: str) -> Changes:
    return {**calendar_changes, "calendar.holidays": f'["{story_day(day).isoformat()}"]'}


@given(
    parsers.re(r'the agreement follows the public holidays of "(?P<country>\w+)"'),
    target_fixture="calendar_changes",
)
def _(calendar_changes: Changes, country: str) -> Changes:
    return {**calendar_changes, "calendar.country_holidays": f'"{country}"'}


@when(parsers.re(rf"a lead is handed on {AT}"), target_fixture="handed_at")
def _(terms: AgreementTerms, day: str, time: str) -> datetime:
    return local(terms, day, time)


@when(parsers.re(rf"(?P<actor>\w+) decides on {AT}"), target_fixture="decided_at")
def _(terms: AgreementTerms, day: str, time: str) -> datetime:
    return local(terms, day, time)


@then(parsers.re(rf"the decision is due on {AT}, Chicago time"), target_fixture="due")
def _(terms: AgreementTerms, handed_at: datetime, day: str, time: str) -> datetime:
    due = terms.calendar.add_business_hours(handed_at, terms.decide_within_hours)
    assert due.astimezone(terms.timezone) == local(terms, day, time)
    on_the_wall = due.astimezone(terms.timezone)
    assert f"{on_the_wall:%A} {on_the_wall.day} {on_the_wall:%B %Y}" == day
    return due


@then(parsers.re(r"that is (?P<day>\d{4}-\d\d-\d\d) at (?P<time>\d\d:\d\d) UTC"))
def _(due: datetime, day: str, time: str) -> None:
    assert due.astimezone(UTC).isoformat() == f"{day}T{time}:00+00:00"


@then(parsers.re(r"his response time is (?P<hours>[\d.]+) business hours"))
def _(terms: AgreementTerms, handed_at: datetime, decided_at: datetime, hours: str) -> None:
    response = terms.calendar.business_hours_between(handed_at, decided_at)
    assert Decimal(str(response)) == Decimal(hours)
