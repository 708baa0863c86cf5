"""Business time at its edges (SPEC §4): openings, closings, fractions, long windows, DST.

The office of these tests is open Monday to Friday, 09:00 to 17:00, Chicago time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.domain.business_time import BusinessCalendar

CHICAGO = ZoneInfo("America/Chicago")
OFFICE = BusinessCalendar(timezone=CHICAGO)


def chicago(text: str) -> datetime:
    """A wall-clock time in Chicago, e.g. '2026-03-03 09:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_handoff_exactly_at_opening_has_the_whole_day() -> None:
    assert OFFICE.add_business_hours(chicago("2026-03-03 09:00"), 8) == chicago("2026-03-03 17:00")


def test_a_handoff_exactly_at_closing_starts_the_clock_at_the_next_opening() -> None:
    assert OFFICE.add_business_hours(chicago("2026-03-03 17:00"), 1) == chicago("2026-03-04 10:00")


def test_a_window_that_ends_at_closing_is_due_at_closing_not_the_next_morning() -> None:
    assert OFFICE.add_business_hours(chicago("2026-03-03 16:00"), 1) == chicago("2026-03-03 17:00")


def test_a_handoff_at_closing_on_friday_starts_the_clock_on_monday() -> None:
    assert OFFICE.add_business_hours(chicago("2026-01-09 17:00"), 8) == chicago("2026-01-12 17:00")


def test_a_half_hour_window_inside_the_day() -> None:
    assert OFFICE.add_business_hours(chicago("2026-03-03 10:00"), 0.5) == chicago(
        "2026-03-03 10:30"
    )


def test_a_half_hour_window_that_straddles_closing_resumes_next_morning() -> None:
    assert OFFICE.add_business_hours(chicago("2026-03-03 16:45"), 0.5) == chicago(
        "2026-03-04 09:15"
    )


def test_the_agreement_states_its_window_as_a_decimal() -> None:
    start = chicago("2026-03-03 16:45")
    assert OFFICE.add_business_hours(start, Decimal("0.5")) == chicago("2026-03-04 09:15")
    assert OFFICE.add_business_hours(start, Decimal("8")) == chicago("2026-03-04 16:45")


def test_a_window_of_a_whole_working_week() -> None:
    assert OFFICE.add_business_hours(chicago("2026-01-05 09:00"), 40) == chicago(
        "2026-01-09 17:00"
    )


def test_a_window_of_many_days_skips_every_weekend() -> None:
    # 100 hours = 12.5 business days: two weekends and a half day later.
    due = OFFICE.add_business_hours(chicago("2026-01-05 09:00"), 100)
    assert due == chicago("2026-01-21 13:00")
    assert OFFICE.business_hours_between(chicago("2026-01-05 09:00"), due) == 100


def test_a_window_across_the_spring_change_keeps_the_local_opening_hours() -> None:
    due = OFFICE.add_business_hours(chicago("2026-03-06 15:00"), 8)
    assert due == chicago("2026-03-09 15:00")
    assert due == utc("2026-03-09 20:00")  # UTC-5 after 8 March; the handoff was at UTC-6


def test_a_window_across_the_november_fall_back_keeps_the_local_opening_hours() -> None:
    handed = chicago("2026-10-30 13:00")  # Friday, still UTC-5
    due = OFFICE.add_business_hours(handed, 8)
    assert due == chicago("2026-11-02 13:00")
    assert due == utc("2026-11-02 19:00")  # UTC-6 after 1 November
    assert handed == utc("2026-10-30 18:00")
    assert OFFICE.business_hours_between(handed, due) == 8


def test_an_office_open_through_the_fall_back_night_works_the_repeated_hour() -> None:
    # Business time is time that really passed inside the opening hours: on the night
    # the clocks go back, 00:00 to 04:00 on the wall lasts five hours.
    night_shift = BusinessCalendar(
        timezone=CHICAGO, workdays=frozenset(range(7)), opens=time(0), closes=time(4)
    )
    opens, closes = chicago("2026-11-01 00:00"), chicago("2026-11-01 04:00")
    assert night_shift.business_hours_between(opens, closes) == 5
    assert night_shift.add_business_hours(opens, 5) == closes


def test_an_office_open_through_the_spring_forward_night_loses_the_skipped_hour() -> None:
    night_shift = BusinessCalendar(
        timezone=CHICAGO, workdays=frozenset(range(7)), opens=time(0), closes=time(4)
    )
    opens, closes = chicago("2026-03-08 00:00"), chicago("2026-03-08 04:00")
    assert night_shift.business_hours_between(opens, closes) == 3


ROUND_THE_CLOCK = BusinessCalendar(timezone=CHICAGO, workdays=frozenset(range(7)), opens=time(0),
                                   closes=None)


def test_a_day_open_until_its_end_has_the_hours_that_really_pass_in_it() -> None:
    # Midnight to midnight on the wall: 24 hours, 23 on the day the clocks go forward
    # (8 March 2026 in Chicago) and 25 on the day they go back (1 November).
    for day, hours in (("2026-03-03", 24), ("2026-03-08", 23), ("2026-11-01", 25)):
        opens, closes = ROUND_THE_CLOCK.opening_hours(date.fromisoformat(day)) or (None, None)
        assert opens == chicago(f"{day} 00:00")
        assert closes == chicago(f"{day} 00:00") + timedelta(days=1)
        assert ROUND_THE_CLOCK.business_hours_between(opens, closes) == hours


def test_a_window_open_round_the_clock_runs_through_midnight() -> None:
    handed = chicago("2026-03-07 22:00")  # Saturday, 4 hours before the clocks go forward
    # 2 hours to midnight, 2 more to 02:00 CST, which is 03:00 CDT on the wall, then 1.
    due = chicago("2026-03-08 04:00")
    assert ROUND_THE_CLOCK.add_business_hours(handed, 5) == due == utc("2026-03-08 09:00")
    assert ROUND_THE_CLOCK.business_hours_between(handed, due) == 5


def test_no_business_hours_pass_over_a_weekend() -> None:
    friday_close, monday_open = chicago("2026-01-09 17:00"), chicago("2026-01-12 09:00")
    assert OFFICE.business_hours_between(friday_close, monday_open) == 0


def test_business_hours_between_an_instant_and_an_earlier_one_are_zero() -> None:
    later, earlier = chicago("2026-03-04 12:00"), chicago("2026-03-03 12:00")
    assert OFFICE.business_hours_between(later, earlier) == 0


def test_business_hours_from_night_to_night_count_the_whole_day_between() -> None:
    monday_night, wednesday_dawn = chicago("2026-03-02 22:00"), chicago("2026-03-04 06:00")
    assert OFFICE.business_hours_between(monday_night, wednesday_dawn) == 8


def test_holidays_are_skipped_like_weekends() -> None:
    office = BusinessCalendar(timezone=CHICAGO, holidays=frozenset({date(2026, 5, 25)}))
    assert office.add_business_hours(chicago("2026-05-22 16:00"), 2) == chicago("2026-05-26 10:00")


@pytest.mark.parametrize(
    ("holiday", "handed", "due"),
    [
        ("Thanksgiving", "2026-11-25 13:00", "2026-11-27 13:00"),
        ("Christmas", "2026-12-24 16:00", "2026-12-28 16:00"),
        ("New Year's Day", "2026-12-31 12:00", "2027-01-04 12:00"),
    ],
)
def test_the_public_holidays_of_the_agreements_country_are_skipped(
    holiday: str, handed: str, due: str
) -> None:
    office = BusinessCalendar(timezone=CHICAGO, country_holidays="US")
    assert office.add_business_hours(chicago(handed), 8) == chicago(due), holiday


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    quarter_hours=st.integers(min_value=0, max_value=400),
)
def test_the_business_hours_to_the_due_instant_are_the_window_itself(
    start: datetime, quarter_hours: int
) -> None:
    hours = quarter_hours / 4
    due = OFFICE.add_business_hours(start, hours)
    assert due >= start
    assert OFFICE.business_hours_between(start, due) == pytest.approx(hours, abs=1e-9)
    # Never later than needed: one minute earlier, the window had not yet passed.
    if hours:
        assert OFFICE.business_hours_between(start, due - timedelta(minutes=1)) < hours
