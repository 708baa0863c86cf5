"""Agreement terms are bounded and checked against what the calendar can compute, when the
file is applied: no version applied can break a later report."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml

from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import InvalidAgreement

NO_TEAM = {"team": None}


def refusal(changes: dict[str, str | None]) -> str:
    with pytest.raises(InvalidAgreement) as refused:
        parse_agreement(agreement_toml(AGREEMENT, {**NO_TEAM, **changes}))
    return str(refused.value)


@pytest.mark.parametrize("hours", ["1000000", "1e12", "inf", "nan", "-inf", "8761"])
def test_a_decision_window_beyond_a_year_or_not_a_number_is_refused(hours: str) -> None:
    assert refusal({"sales.decide_within_hours": hours}).startswith("sales.decide_within_hours:")


@pytest.mark.parametrize("key", ["goal.revenue", "goal.average_deal"])
@pytest.mark.parametrize("value", ["1e300", "1000000000000", "inf", "nan"])
def test_goals_are_amounts_below_a_trillion(key: str, value: str) -> None:
    assert refusal({key: value}).startswith(f"{key}:")


@pytest.mark.parametrize(("key", "given", "stored"), [
    ("goal.revenue", "1e5", "100000"), ("goal.average_deal", "1.5e4", "15000"),
    ("sales.rates.proposal_to_won", "3.5e-1", "0.35"), ("goal.revenue", "120000.50", "120000.50"),
])
def test_numbers_are_kept_as_people_write_them(key: str, given: str, stored: str) -> None:
    """TOML reads 1e5 as a number: it is kept as 100000, which `sla show`, `sla history`
    and the living document print (not 1E+5), and which a backup restores."""
    terms = parse_agreement(agreement_toml(AGREEMENT, {**NO_TEAM, key: given}))
    section, *rest = key.split(".")
    node = terms.document[section]
    for part in rest[:-1]:
        node = node[part]
    assert node[rest[-1]] == stored


def test_a_window_the_calendar_cannot_reach_is_refused_when_applied() -> None:
    # Open one hour on Mondays: 5,000 business hours is about a century away.
    line = refusal({"calendar.workdays": '["mon"]', "calendar.hours": '["09:00", "10:00"]',
                    "sales.decide_within_hours": "5000"})
    assert "cannot be reached within three years" in line


def test_a_window_out_of_reach_from_a_day_inside_the_period_is_refused_when_applied() -> None:
    # Open one hour on Saturdays: from Saturday 3 January 2026, once it has closed, the 1,097
    # days the calendar searches hold 156 Saturdays, one of them a holiday (26 December):
    # 155 hours, one short. From the first day (a Thursday) and the last, 156 are found.
    line = refusal({"effective_to": "2026-12-31", "calendar.workdays": '["sat"]',
                    "calendar.hours": '["09:00", "10:00"]', "calendar.holidays": '["2026-12-26"]',
                    "sales.decide_within_hours": "156"})
    assert line == ("sales.decide_within_hours: 156 business hours after 2026-01-03 cannot be"
                    " reached within three years on this calendar (check calendar.workdays,"
                    " hours and holidays)")


def test_the_same_window_without_the_holiday_is_within_reach() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {
        **NO_TEAM, "effective_to": "2026-12-31", "calendar.workdays": '["sat"]',
        "calendar.hours": '["09:00", "10:00"]', "sales.decide_within_hours": "156"}))
    assert terms.decide_within_hours == 156


def _closed(first: date, last: date) -> str:
    """Holidays on every day from first to last, as a TOML list."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return "[" + ", ".join(f'"{day.isoformat()}"' for day in days) + "]"


# The office closed from February 2026 to the end of 2030: no business hour in three years
# after a handoff in March 2026.
FIVE_YEARS_CLOSED = _closed(date(2026, 2, 1), date(2030, 12, 31))


def test_holidays_that_close_the_office_for_years_are_refused_when_applied() -> None:
    line = refusal({"calendar.holidays": FIVE_YEARS_CLOSED})
    assert line.startswith("sales.decide_within_hours: 8 business hours after 2026-01-30 cannot")


@pytest.mark.parametrize(("holidays", "day"), [("[9999-12-31]", "9999-12-31"),
                                               ('["0001-01-01"]', "0001-01-01"),
                                               ('["2026-05-25", 2200-01-01]', "2200-01-01")])
def test_holidays_are_days_between_1900_and_2199(holidays: str, day: str) -> None:
    assert refusal({"calendar.holidays": holidays}) == (
        f"calendar.holidays: {day} is out of range: days lie between 1900 and 2199")


def test_9999_12_31_reads_as_open_ended() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {**NO_TEAM, "effective_to": "9999-12-31"}))
    assert terms.effective_to is None


@pytest.mark.parametrize("day", ["2200-01-01", "9999-12-30"])
def test_other_days_beyond_2199_are_refused_with_the_way_to_say_open_ended(day: str) -> None:
    line = refusal({"effective_to": day})
    assert line.startswith("effective_to:") and "9999-12-31" in line


@pytest.mark.parametrize(
    ("key", "value"),
    [("marketing.qualified_per_month", "10000000000000"),
     ("sales.follow_up", "{ attempts = 6, within_days = 100000000 }"),
     ("sales.rates", "{ proposal_to_won = 1e-300 }")],
)
def test_counts_and_rates_are_bounded(key: str, value: str) -> None:
    assert refusal({key: value}).startswith(key)


@pytest.mark.parametrize(
    "changes",
    [{"effective_to": "9999-12-31"}, {"sales.decide_within_hours": "1000000"},
     {"goal.revenue": "1e300"}, {"calendar.holidays": FIVE_YEARS_CLOSED}],
    ids=["forever", "a million hours", "1e300", "five years closed"],
)
def test_every_report_still_works_after_trying_such_a_file(
    handoff: Handoff, tmp_path: Path, changes: dict[str, str]
) -> None:
    path = tmp_path / "agreement.toml"
    path.write_text(agreement_toml(AGREEMENT, {**NO_TEAM, **changes}))
    result = handoff("sla", "apply", str(path))
    assert result.exit_code in (0, 1) and "internal error" not in result.output
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "k", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "handoff", "k", "--owner", "sam", "--at", "2026-03-02T11:00")
    for command in (("kpi", "--month", "2026-03"), ("sla", "breaches"), ("plan", "--at",
                    "2026-03-01"), ("projections", "rebuild"), ("sla", "show")):
        outcome = handoff(*command)
        assert outcome.exit_code in (0, 1, 3), outcome.output
        assert "internal error" not in outcome.output, outcome.output


def test_a_file_nested_deeper_than_python_reads_is_refused_in_one_line(
    handoff: Handoff, tmp_path: Path
) -> None:
    """TOML's reader recurses once per level of nesting: ten thousand levels of arrays or
    inline tables are a bad file, said so, not an internal error."""
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00")
    for nested in ("a = " + "[" * 10_000 + "]" * 10_000,
                   "a = " + "{ b = " * 2_000 + "1" + " }" * 2_000):
        path = tmp_path / "nested.toml"
        path.write_text(nested + "\n")
        for command in ("check", "apply"):
            line = handoff.refused("sla", command, str(path))
            assert line == f"Error: {path}: not TOML handoff reads: nested too deeply"
    assert handoff.json("sla", "history") == []


@pytest.mark.parametrize("key", ["goal.revenue", "goal.average_deal"])
@pytest.mark.parametrize("value", ["0.009", "1e-300", "5e-324"])
def test_goals_are_at_least_a_cent(key: str, value: str) -> None:
    """The plan divides the revenue goal by the average deal: a deal of 5e-324 planned
    10^329 wins, which no report could chart."""
    assert refusal({key: value}) == f"{key}: must be at least 0.01, got {value.upper()}"


def test_a_goal_of_a_cent_is_taken() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {**NO_TEAM, "goal.average_deal": "0.01"}))
    assert terms.document["goal"]["average_deal"] == "0.01"
