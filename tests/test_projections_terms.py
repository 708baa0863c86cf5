"""The projection's business time in microseconds gives the rules' own answers
(`domain.service_level`: due instants and response times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import AGREEMENT, agreement_toml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handoff import follow_up
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.service_level import (
    due_instant,
    governing_version,
    judging_versions,
    response_hours,
)
from handoff.projections.due import KnownVersion, judging
from handoff.projections.instants import from_micros, micros

ZONES = ("America/Chicago", "Asia/Kathmandu", "Australia/Lord_Howe", "Europe/London", "UTC")
HOURS = (("09:00", "17:00"), ("03:00", "21:00"), ("00:00", "23:30"), ("08:30", "12:15"))
EARLIEST = datetime(2025, 12, 20, tzinfo=UTC)

agreements = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from(ZONES),
        "hours": st.sampled_from(HOURS),
        "within": st.sampled_from(("8", "0.5", "26.25", "40")),
        "workdays": st.sampled_from(('["mon", "tue", "wed", "thu", "fri"]', '["sat"]')),
        "ends": st.booleans(),
    }
)
instants = st.integers(0, 500 * 24 * 60).map(lambda minutes: EARLIEST + timedelta(minutes=minutes))


def version(choice: dict[str, str | bool | tuple[str, str]]) -> KnownVersion:
    opens, closes = choice["hours"]  # type: ignore[misc]
    changes = {
        "team": None,
        "timezone": f'"{choice["timezone"]}"',
        "effective_to": "2026-06-30" if choice["ends"] else None,
        "calendar.hours": f'["{opens}", "{closes}"]',
        "calendar.workdays": str(choice["workdays"]),
        "calendar.holidays": '["2026-03-02", "2026-12-25"]',
        "sales.decide_within_hours": str(choice["within"]),
    }
    terms = parse_agreement(agreement_toml(AGREEMENT, changes))
    return KnownVersion(1, 0, terms)


@settings(max_examples=200, deadline=None)
@given(choice=agreements, handed=instants, later=st.integers(0, 30 * 24 * 60),
       more=st.lists(instants, max_size=5))
def test_due_instants_and_response_times_are_the_calendars_own(
    choice: dict[str, str | bool | tuple[str, str]], handed: datetime, later: int,
    more: list[datetime],
) -> None:
    known = version(choice)
    terms, calendar = known.terms, known.terms.calendar
    # Several questions of one version, far apart: its opening hours grow both ways.
    starts, ends, expected = [], [], []
    for instant in (*more, handed):
        decided = instant + timedelta(minutes=later)
        assert known.covers(micros(instant)) == terms.covers_instant(instant)
        due = due_instant(calendar, float(terms.decide_within_hours), instant)
        assert known.due_us(micros(instant)) == micros(due)
        hours = response_hours(calendar, instant, decided)
        assert known.response_hours(micros(instant), micros(decided)) == hours
        assert known.response_hours(micros(decided), micros(instant)) == 0.0
        starts += [micros(instant), micros(decided)]
        ends += [micros(decided), micros(instant)]
        expected += [hours, 0.0]
    # The same questions asked at once (speed to lead asks a year's), of a new version
    # whose opening hours are laid out for them all at once.
    assert version(choice).response_hours_many(starts, ends) == expected


def test_an_instant_near_the_effective_dates_is_judged_by_its_local_date() -> None:
    known = version({"timezone": "Asia/Kathmandu", "hours": ("09:00", "17:00"), "within": "8",
                     "workdays": '["mon"]', "ends": True})
    first = datetime(2026, 1, 1, tzinfo=known.terms.timezone)
    for instant in (first - timedelta(microseconds=1), first,
                    datetime(2026, 7, 1, tzinfo=known.terms.timezone) - timedelta(microseconds=1),
                    datetime(2026, 7, 1, tzinfo=known.terms.timezone)):
        assert known.covers(micros(instant)) == known.terms.covers_instant(from_micros(
            micros(instant)))


@settings(max_examples=200, deadline=None)
@given(
    choices=st.lists(st.tuples(agreements, st.integers(0, 400), st.booleans()), min_size=0,
                     max_size=4),
    recorded=st.integers(0, 400), handed=instants,
)
def test_the_versions_that_may_judge_a_handoff_are_the_rules_own(
    choices: list[tuple[dict[str, str | bool | tuple[str, str]], int, bool]], recorded: int,
    handed: datetime,
) -> None:
    # Versions applied on random days (the days count from EARLIEST), some restating.
    day_us = 86_400_000_000
    versions = []
    for number, (choice, applied_day, restates) in enumerate(choices, start=1):
        known = version(choice)
        versions.append(KnownVersion(number, micros(EARLIEST) + applied_day * day_us,
                                     known.terms, "wrong" if restates else None))
    recorded_us, handed_us = micros(EARLIEST) + recorded * day_us, micros(handed)
    expected = judging_versions(
        versions, recorded_us, lambda v: v.applied_us, lambda v: v.restates is not None,
        lambda v: v.terms.covers_instant(handed),
    )
    assert judging(versions, recorded_us, handed_us) == expected


_WEEKDAYS = '["mon", "tue", "wed", "thu", "fri"]'


@settings(max_examples=200, deadline=None)
@given(
    choices=st.lists(st.tuples(agreements, st.integers(0, 400), st.booleans()), min_size=1,
                     max_size=3),
    handoffs=st.lists(st.tuples(instants, st.integers(0, 60), st.integers(0, 30 * 24 * 60)),
                      min_size=1, max_size=6),
)
# A revision applied after the handoff was recorded covers it, but does not judge it: the
# version in force then does (8 business hours on Chicago's days, not 18 on UTC's).
@example(
    choices=[({"timezone": "America/Chicago", "hours": ("09:00", "17:00"), "within": "8",
               "workdays": _WEEKDAYS, "ends": False}, 0, False),
             ({"timezone": "UTC", "hours": ("03:00", "21:00"), "within": "8",
               "workdays": _WEEKDAYS, "ends": False}, 300, False)],
    handoffs=[(EARLIEST + timedelta(days=100), 0, 2 * 24 * 60)],
)
def test_speed_to_lead_judges_each_handoff_by_its_own_version(
    choices: list[tuple[dict[str, str | bool | tuple[str, str]], int, bool]],
    handoffs: list[tuple[datetime, int, int]],
) -> None:
    """Speed to lead asks a year's handoffs at once (`follow_up._speeds`): each one's hours
    are the calendar's own under the version governing it, of those that may judge it."""
    day_us = 86_400_000_000
    # Versions in the order applied, on random days counted from EARLIEST; some restating.
    versions = [
        KnownVersion(number, micros(EARLIEST) + applied_day * day_us, version(choice).terms,
                     "wrong" if restates else None)
        for number, (choice, applied_day, restates) in enumerate(
            sorted(choices, key=lambda chosen: chosen[1]), start=1)
    ]
    contacts, expected = [], []
    for handed, recorded_days, contact_minutes in handoffs:
        contact = handed + timedelta(minutes=contact_minutes)
        recorded_us = micros(handed) + recorded_days * day_us  # its entry, when recorded
        contacts.append((micros(handed), recorded_us, micros(contact)))
        may_judge = judging_versions(
            versions, recorded_us, lambda v: v.applied_us, lambda v: v.restates is not None,
            lambda v, at=handed: v.terms.covers_instant(at),  # type: ignore[misc]
        )
        governing = governing_version(
            may_judge, lambda v, at=handed: v.terms.covers_instant(at))  # type: ignore[misc]
        if governing is not None:
            expected.append(response_hours(governing.terms.calendar, handed, contact))
    assert follow_up._speeds(versions, contacts) == expected
