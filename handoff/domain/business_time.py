"""Business time: the hours the agreement's calendar counts, in its own time zone.

All instants going in and out are timezone-aware; the calendar works in local dates
and converts each day's opening hours to absolute instants, so daylight-saving
changes fall out of zoneinfo rather than being special-cased here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = "24:00"  # a closing hour: the day's end, when the next one begins
_SEARCH_LIMIT_DAYS = 3 * 366  # a calendar with no opening in three years is broken
_OneDay = timedelta(days=1)


def public_holidays(code: str) -> Any:
    """The public holidays of a country (`US`) or of a region of it as well (`US-CA`: the
    country, then the region as the `holidays` package names it). Raises ValueError naming
    a country or region it does not know."""
    import holidays  # imported on first use: it is slow to load and most commands skip it

    country, dash, region = code.partition("-")
    regions = holidays.list_supported_countries().get(country)
    if regions is None:
        raise ValueError(f"unknown country code {country!r}")
    if dash and region not in regions:
        raise ValueError(f"unknown region {region!r} of {country} (one of {', '.join(regions)})"
                         if regions else f"{country} has no regions with holidays of their own")
    return holidays.country_holidays(country, subdiv=region or None)


def time_of_day(text: str, closing: bool = False) -> time | None:
    """A time of day as an agreement writes it ("HH:MM"); a closing hour may be
    END_OF_DAY, read as None. Raises ValueError for anything else."""
    if closing and text == END_OF_DAY:
        return None
    return time.fromisoformat(text)


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: ZoneInfo
    workdays: frozenset[int] = frozenset(range(5))  # Monday is 0
    opens: time = time(9)
    closes: time | None = time(17)  # None: at the end of the day (END_OF_DAY)
    holidays: frozenset[date] = frozenset()
    country_holidays: str | None = None
    _opening_cache: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @cached_property
    def _country(self) -> Any:
        if self.country_holidays is None:
            return None
        return public_holidays(self.country_holidays)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.workdays or day in self.holidays:
            return False
        return self._country is None or day not in self._country

    def opening_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC instants at which a local day opens and closes, if it is a business day."""
        try:
            return self._opening_cache[day]
        except KeyError:
            pass
        window = None
        if self.is_business_day(day):
            opens = datetime.combine(day, self.opens, self.timezone).astimezone(UTC)
            closes = (
                datetime.combine(day + _OneDay, time(), self.timezone) if self.closes is None
                else datetime.combine(day, self.closes, self.timezone)
            ).astimezone(UTC)
            window = (opens, closes)
        self._opening_cache[day] = window
        return window

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.timezone).date()

    def _windows_from(self, instant: datetime) -> Iterable[tuple[datetime, datetime]]:
        day = self.local_date(instant)
        for _ in range(_SEARCH_LIMIT_DAYS):
            window = self.opening_hours(day)
            if window is not None and window[1] > instant:
                yield (max(window[0], instant), window[1])
            day += _OneDay
        raise ValueError("the calendar has no business hours in three years")

    def add_business_hours(self, start: datetime, hours: float | Decimal) -> datetime:
        """The instant at which `hours` business hours have passed since `start`.

        Time outside opening hours does not count, so a start at night begins at the
        next opening.
        """
        # float(): the agreement states its hours as a Decimal, which timedelta refuses.
        remaining = timedelta(hours=float(hours))
        for opens, closes in self._windows_from(start):
            available = closes - opens
            if remaining <= available:
                return opens + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def first_day_short_of(self, hours: float | Decimal, first: date, last: date) -> date | None:
        """The first local day from `first` to `last` from which `hours` business hours are
        out of the reach of `add_business_hours` (it raises), None when there is none. The
        worst start on a day is after it closes: the days searched after it must hold them."""
        needed = timedelta(hours=float(hours))
        searched = _SEARCH_LIMIT_DAYS - 1  # the days after the start's own day

        def open_on(day: date) -> timedelta:
            window = self.opening_hours(day)
            return timedelta() if window is None else window[1] - window[0]

        days = (last - first).days + 1
        opened = [open_on(first + timedelta(days=n)) for n in range(1, days + searched)]
        within = sum(opened[:searched], timedelta())  # the days searched from `first` on
        for n in range(days):
            if within < needed:
                return first + timedelta(days=n)
            if n + searched < len(opened):
                within += opened[n + searched] - opened[n]
        return None

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Business hours in [start, end]; zero when end is not after start."""
        if end <= start:
            return 0.0
        total = timedelta()
        day = self.local_date(start)
        last_day = self.local_date(end)
        while day <= last_day:
            window = self.opening_hours(day)
            if window is not None:
                opens, closes = max(window[0], start), min(window[1], end)
                if closes > opens:
                    total += closes - opens
            day += _OneDay
        return total.total_seconds() / 3600
