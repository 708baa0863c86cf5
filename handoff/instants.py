"""Reading and writing instants and days as users type them."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import overload
from zoneinfo import ZoneInfo

from handoff.domain.bounds import (
    DAY_TEXT,
    check_day,
    check_instant,
    day_from_text,
    plain_decimal,
)
from handoff.domain.errors import InvalidInput

_DURATION = re.compile(r"([0-9]+)([mhd])", re.ASCII)
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
# An instant's day is written as a day is (bounds.DAY_TEXT), then its time, if any.
_INSTANT_DAY = re.compile(DAY_TEXT + "(?:[T ]|$)", re.ASCII)
# Its time with the hour in one digit (`2026-03-02 9:00`, as a spreadsheet shows h:mm).
_ONE_DIGIT_HOUR = re.compile(DAY_TEXT + "[T ][0-9]:", re.ASCII)
MAX_DURATION = timedelta(days=36_500)
# How an instant is written, said when nothing more precise can be.
_ANY_INSTANT = "try 2026-03-02T15:30 or 2026-03-02T15:30Z"
# A day written with slashes or dots, as a spreadsheet set to a country's dates saves it:
# its day and month in either order (`03/02/2026`), or year first (`2026/03/02`, Japanese
# or Chinese dates); perhaps a time after it.
_SLASHED = re.compile(
    r"(?:([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})|([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2}))"
    r"(?:[T ]([0-9]{1,2}):(.+))?", re.ASCII)


def parse_instant(text: str, zone_for_day: Callable[[date], ZoneInfo]) -> datetime:
    """An ISO-8601 instant; one without an offset is local to the zone in force that day.

    A local time that the zone skips (the hour lost when clocks go forward) is refused; one
    that it passes twice (the hour repeated when clocks go back) is its first passing. An
    offset names either exactly.
    """
    cleaned = text.strip()
    try:
        if not cleaned.isascii() or _INSTANT_DAY.match(cleaned) is None:
            raise ValueError(cleaned)
        instant = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(f"not an ISO-8601 timestamp: {text!r} ({_how_to_write(cleaned)})"
                           ) from None
    check_day(instant.date())
    if instant.tzinfo is None:
        zone = zone_for_day(instant.date())
        local = instant.replace(tzinfo=zone)
        read_back = local.astimezone(UTC).astimezone(zone)
        if read_back.replace(tzinfo=None) != instant:
            # Read with the offset before the change (fold 0) and after it (fold 1), the
            # time is two instants as far apart as the span the clocks skip.
            skipped = local.astimezone(UTC) - local.replace(fold=1).astimezone(UTC)
            raise InvalidInput(
                f"{cleaned} does not exist in {zone.key}: the clocks skip {_span(skipped)} "
                f"(give the offset, like {read_back.isoformat(timespec='minutes')})"
            )
        instant = local
    return check_instant(instant.astimezone(UTC))


# An instant as the tool shows it: `2026-03-02 09:00 CST`, `2026-03-02 15:00 UTC` (--utc).
_SHOWN = re.compile(r"(.*[0-9])\s+([A-Za-z]{2,6}|[+-][0-9]{2,4})", re.ASCII)
_UTC_ZONE = ZoneInfo("UTC")


def parse_typed_instant(text: str, zone_for_day: Callable[[date], ZoneInfo]) -> datetime:
    """An instant typed on the command line: ISO-8601 (`parse_instant`), or as the tool
    shows one (copied from a table): a local time and the abbreviation of the agreement's
    zone then (`CST` or `CDT` in Chicago, which also says which passing of an hour the
    clocks repeat), or `UTC`."""
    shown = _SHOWN.fullmatch(text.strip())
    if shown is None:
        return parse_instant(text, zone_for_day)
    local_text, abbreviation = shown.groups()
    try:
        local = datetime.fromisoformat(local_text)
    except ValueError:
        return parse_instant(text, zone_for_day)  # refused, quoting all that was typed
    if local.tzinfo is not None:
        raise InvalidInput(
            f"not an ISO-8601 timestamp: {text!r} (an offset or a zone's name, not both)")
    if abbreviation == "UTC":
        zone_for_day = lambda _day: _UTC_ZONE  # noqa: E731
    instant = parse_instant(local_text, zone_for_day)  # a time the clocks skip is refused
    zone = zone_for_day(local.date())
    for fold in (0, 1):
        candidate = local.replace(tzinfo=zone, fold=fold)
        if candidate.tzname() == abbreviation:
            return check_instant(candidate.astimezone(UTC))
    raise InvalidInput(
        f"{text.strip()}: {abbreviation} is not the time of the agreement's zone then"
        f" ({zone.key}: {instant.astimezone(zone).tzname()}); give the offset, like"
        f" {instant.astimezone(zone).isoformat(timespec='minutes')}"
    )


def _how_to_write(cleaned: str) -> str:
    """What to write instead: the hour in two digits, when only that is wrong (a spreadsheet
    saves a time as it shows it, `2026-03-02 9:00`); the day with dashes, year first, when
    it was written with slashes (`_slashed_how_to_write`); else the forms an instant takes."""
    if _ONE_DIGIT_HOUR.match(cleaned):
        fixed = f"{cleaned[:11]}0{cleaned[11:]}"
        with suppress(ValueError):
            datetime.fromisoformat(fixed)
            return f"write the hour with two digits: {fixed}"
    return _slashed_how_to_write(cleaned, with_time=True) or _ANY_INSTANT


def _slashed_how_to_write(cleaned: str, with_time: bool) -> str | None:
    """A day written with slashes or dots (`_SLASHED`; with a time only when `with_time`),
    told with dashes, year first: each day it can be (03/02 is 2 March in the United States,
    3 February in Europe), named, since only its writer knows which was meant. None for
    anything else, or for no day at all (13/13/2026)."""
    found = _SLASHED.fullmatch(cleaned)
    if found is None or (found[7] is not None and not with_time):
        return None
    first, second, year, year_first, month, day, hour, rest = found.groups()
    readings = ([(year_first, month, day)] if year_first is not None
                else [(year, first, second), (year, second, first)])
    days: list[date] = []
    for y, m, d in readings:
        with suppress(ValueError):
            if (read := date(int(y), int(m), int(d))) not in days:
                days.append(read)
    if not days:
        return None
    time = "" if hour is None else f"T{int(hour):02d}:{rest}"
    if year_first is not None:
        return f"write the day with dashes: {days[0].isoformat()}{time}"
    if len(days) == 1:
        return f"write the day year first: {days[0].isoformat()}{time}"
    return "write the day year first: " + " or ".join(
        f"{day.isoformat()}{time} for {day.day} {day:%B}" for day in days)


def _span(skipped: timedelta) -> str:
    """The local time the clocks skip, in words: an hour in most zones, half an hour on
    Lord Howe Island, two hours at Troll in Antarctica."""
    minutes = skipped // timedelta(minutes=1)
    if minutes == 60:
        return "that hour"
    return f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes} minutes"


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD, as every help text says (not another ISO-8601 form: a
    week date taken for a day the user never wrote)."""
    cleaned = text.strip()
    try:
        day = day_from_text(cleaned)
    except ValueError:
        hint = _slashed_how_to_write(cleaned, with_time=False)  # with a time: no day at all
        raise InvalidInput(
            f"not a date (YYYY-MM-DD): {text!r}{f' ({hint})' if hint else ''}") from None
    return check_day(day)


@overload
def iso(instant: datetime) -> str: ...
@overload
def iso(instant: None) -> None: ...
def iso(instant: datetime | None) -> str | None:
    """An instant as UTC ISO-8601 with a Z, to the second (or finer when it has it)."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_amount(value: str | Decimal | int) -> Decimal:
    """A money amount as typed (1200, 1200.50); checked for sign, size and cents by the domain."""
    if isinstance(value, Decimal):
        return value
    return plain_decimal(str(value), "amount")


def parse_duration(text: str) -> timedelta:
    """A span of clock time as typed: whole minutes, hours or days (30m, 2h, 1d), at most
    100 years."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise InvalidInput(f"not a duration: {text!r} (write it like 30m, 2h or 1d)")
    # Nine digits of days still fit a timedelta; more is too long however it is counted.
    if len(found[1]) > 9 or timedelta(**{_DURATION_UNITS[found[2]]: int(found[1])}) > MAX_DURATION:
        raise InvalidInput(f"duration {text.strip()} is too long: at most 36500 days")
    return timedelta(**{_DURATION_UNITS[found[2]]: int(found[1])})
