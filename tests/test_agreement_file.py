"""The agreement file of SPEC §3: what is accepted, and every way it is refused.

A refusal always names the key at fault and the reason, as `key: reason`, so the
person who typed the file can find the line to fix.
"""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from conftest import AGREEMENT, agreement_toml

from handoff.domain.agreement_file import check_document, parse_agreement
from handoff.domain.errors import InvalidAgreement

SPEC_EXAMPLE = """
name = "2026 H1 growth agreement"
effective_from = 2026-01-01     # inclusive
effective_to = 2026-06-30       # inclusive; omit for open-ended
timezone = "America/Chicago"

[goal]
revenue = 1200000
average_deal = 30000

[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00", "17:00"]
holidays = ["2026-05-25"]
country_holidays = "US"

[marketing]
qualified_per_month = 40
rates = { visit_to_captured = 0.02, captured_to_qualified = 0.30, qualified_to_handed = 0.90 }

[sales]
decide_within_hours = 8
follow_up = { attempts = 6, within_days = 14 }
rates = { handed_to_accepted = 0.80, accepted_to_proposal = 0.40, proposal_to_won = 0.35 }

[team]
marketing = ["maria", "li"]
sales = ["sam", "ola"]
"""

MINIMAL = """
name = "Bare agreement"
effective_from = 2026-01-01
[sales]
decide_within_hours = 8
"""


def refused(changes: dict[str, str | None]) -> str:
    """The refusal of the standard agreement with some keys changed."""
    with pytest.raises(InvalidAgreement) as refusal:
        parse_agreement(agreement_toml(AGREEMENT, changes))
    return str(refusal.value)


# -- what is accepted ---------------------------------------------------------------


def test_the_example_of_the_specification_is_a_valid_agreement() -> None:
    terms = parse_agreement(SPEC_EXAMPLE)
    assert terms.name == "2026 H1 growth agreement"
    assert (terms.effective_from, terms.effective_to) == (date(2026, 1, 1), date(2026, 6, 30))
    assert str(terms.timezone) == "America/Chicago"
    assert terms.decide_within_hours == 8
    assert terms.calendar.holidays == {date(2026, 5, 25)}
    assert str(terms.rate("proposal_to_won")) == "0.35"
    assert terms.team_for("handed") == ["maria", "li"]
    assert terms.team_for("won") == ["sam", "ola"]


def test_rates_keep_the_digits_written_in_the_file() -> None:
    terms = parse_agreement(SPEC_EXAMPLE)
    assert str(terms.rate("captured_to_qualified")) == "0.30"
    assert str(terms.rate("handed_to_accepted")) == "0.80"


def test_an_agreement_needs_only_a_name_a_start_and_a_decision_window() -> None:
    terms = parse_agreement(MINIMAL)
    assert terms.effective_to is None
    assert str(terms.timezone) == "UTC"
    assert terms.team_for("accepted") is None
    calendar = terms.calendar
    assert (calendar.opens, calendar.closes) == (time(9), time(17))
    assert calendar.workdays == frozenset(range(5))


def test_holidays_may_be_written_as_toml_dates_or_as_strings() -> None:
    as_dates = parse_agreement(agreement_toml(AGREEMENT, {"calendar.holidays": "[2026-05-25]"}))
    as_text = parse_agreement(agreement_toml(AGREEMENT, {"calendar.holidays": '["2026-05-25"]'}))
    mixed = parse_agreement(
        agreement_toml(AGREEMENT, {"calendar.holidays": '[2026-05-25, "2026-12-24"]'})
    )
    assert as_dates.calendar.holidays == as_text.calendar.holidays == {date(2026, 5, 25)}
    assert mixed.calendar.holidays == {date(2026, 5, 25), date(2026, 12, 24)}
    assert not as_dates.calendar.is_business_day(date(2026, 5, 25))


def test_country_holidays_close_the_office_on_public_holidays() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"calendar.country_holidays": '"US"'}))
    assert not terms.calendar.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert terms.calendar.is_business_day(date(2026, 11, 27))


def test_opening_hours_may_be_written_as_toml_times() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"calendar.hours": "[08:30:00, 16:30:00]"}))
    assert (terms.calendar.opens, terms.calendar.closes) == (time(8, 30), time(16, 30))


def test_a_one_day_agreement_ends_on_the_day_it_starts() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"effective_to": "2026-01-01"}))
    assert terms.covers(date(2026, 1, 1))
    assert not terms.covers(date(2026, 1, 2))


def test_a_rate_of_exactly_one_is_a_valid_promise() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"sales.rates.handed_to_accepted": "1"}))
    assert terms.rate("handed_to_accepted") == 1


def test_workdays_named_twice_count_once() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"calendar.workdays": '["mon", "mon"]'}))
    assert terms.calendar.workdays == frozenset({0})


# -- what is refused ----------------------------------------------------------------


def test_a_file_that_is_not_toml_is_refused() -> None:
    with pytest.raises(InvalidAgreement, match="not valid TOML"):
        parse_agreement("name = \n")


@pytest.mark.parametrize("key", ["name", "effective_from", "sales.decide_within_hours"])
def test_an_agreement_missing_a_required_key_is_refused(key: str) -> None:
    assert refused({key: None}) == f"{key}: is required"


def test_an_agreement_without_a_sales_section_is_refused_for_its_decision_window() -> None:
    with pytest.raises(InvalidAgreement, match=r"^sales\.decide_within_hours: is required$"):
        parse_agreement('name = "x"\neffective_from = 2026-01-01\n')


@pytest.mark.parametrize(
    "key",
    [
        "bonus",
        "goal.stretch_revenue",
        "calendar.lunch_break",
        "marketing.leads_per_week",
        "marketing.rates.visit_to_qualified",
        "sales.rates.close_rate",
        "sales.follow_up.channels",
        "team.finance",
    ],
)
def test_an_unknown_key_is_refused_by_its_full_name(key: str) -> None:
    assert refused({key: "1"}) == f"{key}: unknown key"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("name", "2026", "must be a string"),
        ("effective_from", '"2026-01-01"', "must be a date (YYYY-MM-DD)"),
        ("effective_to", "2026-06-30T00:00:00", "must be a date (YYYY-MM-DD)"),
        ("timezone", "-6", "must be a string"),
        ("goal", "1200000", "must be a table"),
        ("goal.revenue", '"1.2M"', "must be a number"),
        ("goal.average_deal", "true", "must be a number"),
        ("calendar.workdays", '"mon-fri"', "must be a list"),
        ("calendar.hours", '"09:00-17:00"', "must be a list"),
        ("calendar.holidays", '"2026-05-25"', "must be a list"),
        ("calendar.country_holidays", '["US"]', "must be a string"),
        ("marketing.qualified_per_month", "40.5", "must be a whole number"),
        ("marketing.rates", "0.3", "must be a table"),
        ("marketing.rates.visit_to_captured", '"2%"', "must be a number"),
        ("sales.decide_within_hours", '"8h"', "must be a number"),
        ("sales.follow_up.attempts", "6.5", "must be a whole number"),
        ("team.sales", '"sam"', "must be a list"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(key: str, value: str, reason: str) -> None:
    message = refused({key: value})
    assert message.startswith(f"{key}: {reason}")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("effective_from", '"2026-01-01"'),
        ("sales.decide_within_hours", '"8"'),
        ("goal.revenue", '"1200000.50"'),
        ("marketing.qualified_per_month", '"40"'),
        ("team.sales", '"[\\"sam\\"]"'),
    ],
)
def test_a_value_right_but_for_its_quotes_is_refused_saying_to_drop_them(
    key: str, value: str
) -> None:
    """`effective_to = "2026-06-30"` read "must be a date (YYYY-MM-DD), got '2026-06-30'":
    a manager saw a date refused as not a date."""
    assert refused({key: value}).endswith(" (in quotes it is a text: write it without them)")


@pytest.mark.parametrize(
    ("key", "value"),
    [("effective_from", '"first of January"'), ("goal.revenue", '"1,200,000"'),
     ("marketing.qualified_per_month", '"40.5"'), ("sales.decide_within_hours", '"inf"'),
     ("name", "2026")],
)
def test_a_value_wrong_without_its_quotes_too_gets_no_such_advice(key: str, value: str) -> None:
    assert "in quotes" not in refused({key: value})


@pytest.mark.parametrize("value", ["1.01", "2", "-0.1", "0"])
@pytest.mark.parametrize(
    "rate", ["marketing.rates.captured_to_qualified", "sales.rates.proposal_to_won"]
)
def test_a_rate_outside_zero_to_one_is_refused(rate: str, value: str) -> None:
    # Zero is refused too: the reverse funnel plan divides by every rate.
    assert refused({rate: value}).startswith(f"{rate}: must be a rate between 0 and 1")


@pytest.mark.parametrize("zone", ["Central Time", "america/chicago", "", "/etc/localtime", "Mars"])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(zone: str) -> None:
    assert refused({"timezone": f'"{zone}"'}) == f"timezone: unknown time zone {zone!r}"


# "localtime" is a file of the tz folder on most systems, the machine's own zone: each
# machine reading the store would judge the same handoff by its own clock. "posix/" and
# "right/" copies exist on some systems only.
@pytest.mark.parametrize("zone", ["localtime", "posixrules", "posix/America/Chicago",
                                  "right/America/Chicago"])
def test_a_zone_file_that_is_not_an_iana_zone_is_refused(zone: str) -> None:
    assert refused({"timezone": f'"{zone}"'}) == f"timezone: unknown time zone {zone!r}"


def test_an_agreement_ending_before_it_starts_is_refused() -> None:
    message = refused({"effective_from": "2026-07-01", "effective_to": "2026-06-30"})
    assert message == "effective_to: is before effective_from"


@pytest.mark.parametrize("hours", ['["17:00", "09:00"]', '["09:00", "09:00"]'])
def test_opening_hours_that_do_not_increase_are_refused(hours: str) -> None:
    assert refused({"calendar.hours": hours}) == (
        "calendar.hours: must be increasing (opening before closing)"
    )


@pytest.mark.parametrize("hours", ['["09:00"]', '["09:00", "12:00", "17:00"]', "[9, 17]"])
def test_opening_hours_must_be_two_times(hours: str) -> None:
    assert refused({"calendar.hours": hours}).startswith("calendar.hours: must be two times")


@pytest.mark.parametrize("hours", ['["9am", "5pm"]', '["09:00", "25:00"]'])
def test_opening_hours_must_be_times_of_day(hours: str) -> None:
    assert refused({"calendar.hours": hours}).startswith("calendar.hours: not a time of day")


def test_an_office_open_round_the_clock_closes_at_24_00() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"calendar.hours": '["00:00", "24:00"]'}))
    assert terms.document["calendar"]["hours"] == ["00:00", "24:00"]
    assert (terms.calendar.opens, terms.calendar.closes) == (time(0), None)


@pytest.mark.parametrize("hours", ['["24:00", "24:00"]', '["24:00", "09:00"]'])
def test_a_day_cannot_open_at_its_end(hours: str) -> None:
    assert refused({"calendar.hours": hours}).startswith("calendar.hours: not a time of day")


@pytest.mark.parametrize(
    ("hours", "written"),
    [
        ('["09:00+05:00", "17:00"]', "['09:00+05:00', '17:00']"),
        ('["09:00", "17:00Z"]', "['09:00', '17:00Z']"),
        ('["09:00:30", "17:00"]', "['09:00:30', '17:00']"),
        ("[09:00:00, 17:00:10]", "['09:00:00', '17:00:10']"),
    ],
)
def test_a_time_of_day_with_an_offset_or_seconds_is_refused(hours: str, written: str) -> None:
    # Stored as HH:MM in the agreement's own time zone, either would be dropped silently.
    assert refused({"calendar.hours": hours}) == (
        "calendar.hours: times of day are HH:MM on the agreement's own clock (no seconds,"
        f" no offset): {written}"
    )


# ISO-8601 forms other than YYYY-MM-DD too: "2026W521" (a week date) was Monday 21 December.
@pytest.mark.parametrize("holiday", ['"25 May 2026"', '"2026-02-30"', "20260525", '"2026W521"',
                                     '"20261221"', '"2026-355"'])
def test_a_holiday_that_is_not_a_date_is_refused(holiday: str) -> None:
    message = refused({"calendar.holidays": f"[{holiday}]"})
    assert message.startswith("calendar.holidays: not a date (YYYY-MM-DD)")


def test_a_holiday_written_with_a_time_is_quoted_as_the_file_writes_it() -> None:
    message = refused({"calendar.holidays": "[2026-05-25T09:00:00]"})
    assert message == "calendar.holidays: not a date (YYYY-MM-DD): 2026-05-25T09:00:00"


@pytest.mark.parametrize("code", ["XX", "ZZZ", "xx", ""])
def test_an_unknown_country_code_for_public_holidays_is_refused(code: str) -> None:
    message = refused({"calendar.country_holidays": f'"{code}"'})
    assert message == f"calendar.country_holidays: unknown country code {code!r}"


@pytest.mark.parametrize(("code", "said"), [
    ("us", "unknown country code 'us' (codes are written in capitals: 'US')"),
    ("De-by", "unknown country code 'De' (codes are written in capitals: 'DE-BY')"),
])
def test_a_country_code_in_small_letters_is_refused_naming_it_in_capitals(
    code: str, said: str
) -> None:
    """Refused still (a code is written one way, as the holidays package names it), but
    no longer as if the country did not exist: the message says how to write it."""
    assert refused({"calendar.country_holidays": f'"{code}"'}) == (
        f"calendar.country_holidays: {said}")


def test_a_region_in_small_letters_is_refused_naming_the_regions_and_the_code_in_capitals(
) -> None:
    message = refused({"calendar.country_holidays": '"US-ca"'})
    assert message.startswith("calendar.country_holidays: unknown region 'ca' of US (one of ")
    assert " CA, " in message
    assert message.endswith(" (codes are written in capitals: 'US-CA')")


def test_a_regions_public_holidays_are_named_after_its_country() -> None:
    terms = parse_agreement(agreement_toml(AGREEMENT, {"calendar.country_holidays": '"DE-BY"'}))
    # Epiphany, 6 January, is a public holiday in Bavaria, not in all of Germany.
    assert not terms.calendar.is_business_day(date(2026, 1, 6))
    germany = parse_agreement(agreement_toml(AGREEMENT, {"calendar.country_holidays": '"DE"'}))
    assert germany.calendar.is_business_day(date(2026, 1, 6))


@pytest.mark.parametrize(("written", "code"), [("USA", "US"), ("DEU-BY", "DE-BY"), ("US", "US")])
def test_a_country_is_written_one_way_whatever_its_alias(written: str, code: str) -> None:
    """`USA` is the holidays package's alias of `US`: the same holidays, so the same terms
    (`sla check` showed `US -> USA` as a change)."""
    terms = parse_agreement(agreement_toml(AGREEMENT,
                                           {"calendar.country_holidays": f'"{written}"'}))
    assert terms.document["calendar"]["country_holidays"] == code


@pytest.mark.parametrize(("code", "said"), [
    ("US-XX", "unknown region 'XX' of US (one of AK, AL, "),
    ("US-", "unknown region '' of US (one of AK, AL, "),
    ("XX-CA", "unknown country code 'XX'"),
    ("IS-1", "IS has no regions with holidays of their own"),
])
def test_an_unknown_region_for_public_holidays_is_refused(code: str, said: str) -> None:
    message = refused({"calendar.country_holidays": f'"{code}"'})
    assert message.startswith(f"calendar.country_holidays: {said}"), message


@pytest.mark.parametrize("workdays", ['["monday"]', "[]", '["mon", "sat", "funday"]'])
def test_workdays_must_be_named_by_their_three_letters(workdays: str) -> None:
    message = refused({"calendar.workdays": workdays})
    assert message == (
        "calendar.workdays: must be a non-empty list of mon, tue, wed, thu, fri, sat, sun"
    )


@pytest.mark.parametrize(
    "key", ["goal.revenue", "goal.average_deal", "sales.decide_within_hours",
            "sales.follow_up.attempts"]
)
@pytest.mark.parametrize("value", ["0", "-5"])
def test_goals_windows_and_attempts_must_be_greater_than_zero(key: str, value: str) -> None:
    assert refused({key: value}).startswith(f"{key}: must be greater than 0")


def test_a_negative_monthly_qualified_promise_is_refused() -> None:
    message = refused({"marketing.qualified_per_month": "-1"})
    assert message == "marketing.qualified_per_month: must not be negative, got -1"


def test_an_agreement_with_a_blank_name_is_refused() -> None:
    assert refused({"name": '"   "'}) == "name: must not be empty"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [("name", '"a\\nb"', "must be one line: 'a\\nb'"),
     ("name", '"a\\u001bb"', "holds a control character: 'a\\x1bb'"),
     ("name", '"' + "x" * 2001 + '"', "has at most 2000 characters, got 2001"),
     ("team.sales", '["sam", "o\\nla"]', "must be one line: 'o\\nla'")],
)
def test_a_text_that_is_not_one_bounded_line_is_refused_naming_its_key_once(
    key: str, value: str, reason: str
) -> None:
    """Refused as `name: name must be one line` before: the key said twice."""
    assert refused({key: value}) == f"{key}: {reason}"


def test_a_team_with_a_blank_member_is_refused() -> None:
    assert refused({"team.sales": '["sam", " "]'}) == "team.sales: must be a list of names"


def test_every_refusal_names_a_key_before_its_reason() -> None:
    message = refused({"sales.rates.proposal_to_won": "1.5"})
    assert re.match(r"^[a-z_.]+: \S", message)


def test_a_goal_with_a_third_decimal_is_refused_from_a_file_yet_restored_from_a_backup() -> None:
    """A goal is money to the cent (the plan counts deals from it so): a file saying
    100.004 is refused; a version an earlier release recorded so still restores."""
    assert refused({"goal.revenue": "1200000.004"}) == (
        "goal.revenue: must be money to the cent (at most 2 decimals), got 1200000.004"
    )
    document = parse_agreement(agreement_toml(AGREEMENT, {})).document
    recorded = {**document, "goal": {**document["goal"], "revenue": "1200000.004"}}
    check_document(recorded)  # an earlier release's backup: restored as it was recorded


def test_a_decision_window_under_a_minute_is_refused_from_a_file_yet_restored_from_a_backup(
) -> None:
    """A window of 1e-9 hours (3.6 microseconds: every lead late) is a slipped decimal
    point, refused when applied; a version an earlier release recorded so still restores,
    as recorded (its backup would otherwise be refused whole)."""
    assert refused({"sales.decide_within_hours": "0.01"}) == (
        "sales.decide_within_hours: must be at least one minute (0.0167 hours), got 0.01"
    )
    parse_agreement(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "0.0167"}))
    document = parse_agreement(agreement_toml(AGREEMENT, {})).document
    recorded = {**document, "sales": {**document["sales"], "decide_within_hours": "0.000000001"}}
    check_document(recorded)  # an earlier release's backup: restored as it was recorded


def test_a_team_member_typed_otherwise_than_seen_is_refused_from_a_file_only() -> None:
    """An owner is typed as it is seen (reports group by it): 'sa<zero-width space>m' on
    the sales side could never be handed a lead, nor told from sam in `sla show` (a
    hostile-input trial, N). Refused from a file; a backup's version restores as recorded."""
    assert refused({"team.sales": '["sa\\u200bm", "ola"]'}) == (
        "team.sales: the name holds an invisible character: 'sa\\u200bm' (retype it)")
    document = parse_agreement(agreement_toml(AGREEMENT, {})).document
    check_document({**document, "team": {**document["team"], "sales": ["sa\u200bm", "ola"]}})
