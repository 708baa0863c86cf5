"""Due instants and response times (`domain.service_level`) on instants in microseconds.

A rebuild asks, for every handoff, which versions cover it and when it is due, and for
every decision its response time: hundreds of thousands of questions. Answered with
datetimes (a time-zone conversion per question, a local day at a time) they cost more
than writing the rows. Here each calendar's opening hours are laid out once as sorted
microsecond instants and searched; the answers are the rules' own, to the microsecond
(`tests/test_projections_terms.py` holds them to `service_level` by a differential test).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from handoff.domain.agreement import AgreementTerms
from handoff.domain.business_time import BusinessCalendar
from handoff.domain.service_level import DAY_US, due_instant, judging_versions, response_hours
from handoff.projections.instants import from_micros, micros

# Instants this far from an effective date's local midnight are inside or outside the
# agreement whatever the zone's offset (at most a day, plus a day of transitions).
_MARGIN_US = 3 * DAY_US
# Opening hours at least this far from midnight lie wholly inside their local day, and in
# order, even across a daylight-saving change (none moves a clock three hours).
_EARLIEST_OPENING = time(3)
_LATEST_CLOSING = time(21)
_SEARCH_LIMIT_DAYS = 3 * 366  # as business_time: no opening in three years is an error
_GROWTH_DAYS = 366


class KnownVersion:
    """An applied agreement version, with the business-time rules the SLA needs."""

    def __init__(
        self, number: int, applied_us: int, terms: AgreementTerms, restates: str | None = None
    ) -> None:
        self.number = number
        self.applied_us = applied_us
        self.restates = restates
        self.terms = terms
        self.start_us, self.end_us = self.instant_range_us()
        calendar = terms.calendar
        self._allowance_us = timedelta(hours=float(terms.decide_within_hours)) // timedelta(
            microseconds=1
        )
        self._hours = (
            _Hours(calendar)
            if calendar.opens >= _EARLIEST_OPENING and calendar.closes is not None
            and calendar.closes <= _LATEST_CLOSING
            else None
        )

    def covers(self, handed_us: int) -> bool:
        """Whether the version's effective dates hold the local date of the instant."""
        if self.start_us + _MARGIN_US <= handed_us and (
            self.end_us is None or handed_us < self.end_us - _MARGIN_US
        ):
            return True
        if handed_us < self.start_us - _MARGIN_US or (
            self.end_us is not None and handed_us >= self.end_us + _MARGIN_US
        ):
            return False
        return self.terms.covers_instant(from_micros(handed_us))

    def due_us(self, handed_us: int) -> int:
        """service_level.due_instant, on microseconds."""
        due = None if self._hours is None else self._hours.add(handed_us, self._allowance_us)
        if due is None:
            terms = self.terms
            return micros(due_instant(terms.calendar, float(terms.decide_within_hours),
                                      from_micros(handed_us)))
        return due

    def response_hours(self, handed_us: int, decided_us: int) -> float:
        """service_level.response_hours, on microseconds."""
        if self._hours is None:
            return response_hours(self.terms.calendar, from_micros(handed_us),
                                  from_micros(decided_us))
        # As timedelta.total_seconds() / 3600 on the same microseconds: the same float.
        return self._hours.between(handed_us, decided_us) / 1_000_000 / 3600

    def response_hours_many(self, starts: list[int], ends: list[int]) -> list[float]:
        """`response_hours` from each start to its end, in one pass: speed to lead asks it of
        a year's handoffs at once (40,000 of them at a million events)."""
        if self._hours is None or not starts:
            return [self.response_hours(start, end) for start, end in zip(starts, ends,
                                                                          strict=True)]
        return [elapsed / 1_000_000 / 3600 for elapsed in self._hours.between_many(starts, ends)]

    def instant_range_us(self) -> tuple[int, int | None]:
        """Instants whose local date lies in the effective dates (end exclusive, None: open)."""
        zone = self.terms.timezone
        start = datetime.combine(self.terms.effective_from, time(), zone)
        end_day = self.terms.effective_to
        if end_day is None:
            return micros(start), None
        return micros(start), micros(datetime.combine(end_day + timedelta(days=1), time(), zone))


def version_from_row(row: Mapping[Any, Any]) -> KnownVersion:
    terms = AgreementTerms(json.loads(row["document"]))
    return KnownVersion(row["version"], row["applied_us"], terms, row["restates"])


def judging(versions: list[KnownVersion], recorded_us: int, handed_us: int
            ) -> list[KnownVersion]:
    """service_level.judging_versions, on microseconds, for a handoff made at `handed_us`
    whose entry was recorded at `recorded_us`."""
    if all(v.applied_us <= recorded_us for v in versions):
        # Every version was in force when the entry was recorded (the usual case, asked
        # for each handoff and decision of a rebuild): all of them may judge it.
        return versions
    if len(versions) == 1:
        # One version, applied after the entry: it judges the handoff only as a
        # restatement, or as the first version to cover it (history imported first).
        only = versions[0]
        return versions if only.restates is not None or only.covers(handed_us) else []
    return judging_versions(
        versions, recorded_us, lambda v: v.applied_us, lambda v: v.restates is not None,
        lambda v: v.covers(handed_us),
    )


class _Hours:
    """A calendar's opening hours over a span of days, as sorted (opens, closes) instants.

    Windows lie inside their local days, in order (see _EARLIEST_OPENING), so the windows
    the calendar would walk from an instant's local day on are exactly those closing after
    it, and those it would sum between two instants are exactly those overlapping them.
    """

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.first = self.last = date(1970, 1, 1)
        self.opens: list[int] = []
        self.closes: list[int] = []
        self.open_before = [0]
        self.low_us = self.high_us = 0  # instants in [low, high) have all their windows here

    def add(self, start_us: int, allowance_us: int) -> int | None:
        """The instant at which `allowance_us` of opening hours have passed since start;
        None when they take more than the three years the calendar searches (it raises)."""
        self._cover(start_us)
        remaining = allowance_us
        index = bisect_right(self.closes, start_us)
        while True:
            if index == len(self.closes):
                if (self.last - _utc_day(start_us)).days > _SEARCH_LIMIT_DAYS:
                    return None
                self._span(self.first, self.last + timedelta(days=_GROWTH_DAYS))
                continue
            opens = max(self.opens[index], start_us)
            available = self.closes[index] - opens
            if remaining <= available:
                return opens + remaining
            remaining -= available
            index += 1

    def between(self, start_us: int, end_us: int) -> int:
        """Microseconds of opening hours in [start, end]; zero when end is not after start."""
        if end_us <= start_us:
            return 0
        self._cover(start_us)
        self._cover(end_us)  # a span widened to end keeps start's windows
        return self._open_until(end_us) - self._open_until(start_us)

    def between_many(self, starts: list[int], ends: list[int]) -> list[int]:
        """`between` each start and its end."""
        for instant in (min(starts), max(starts), min(ends), max(ends)):
            self._cover(instant)  # each span widened keeps the windows laid out before
        until = self._open_until
        return [max(0, end - start)
                for start, end in zip(map(until, starts), map(until, ends), strict=True)]

    def _open_until(self, instant_us: int) -> int:
        """Microseconds of opening hours from the span's first window to an instant it
        covers: the windows closed by then, from the running totals (a breach overdue for a
        year spans hundreds of windows), and the part of the window it falls in."""
        index = bisect_right(self.closes, instant_us)
        if index == len(self.opens):
            return self.open_before[index]
        return self.open_before[index] + max(0, instant_us - self.opens[index])

    def _cover(self, instant_us: int) -> None:
        if self.low_us <= instant_us < self.high_us:
            return
        day = _utc_day(instant_us)
        if not self.opens:
            self._span(day - timedelta(days=3), day + timedelta(days=_GROWTH_DAYS))
        else:
            first = min(self.first, day - timedelta(days=3))
            last = max(self.last, day + timedelta(days=3)) + timedelta(days=_GROWTH_DAYS)
            self._span(first, last)

    def _span(self, first: date, last: date) -> None:
        """Lay out the windows of the local days first..last (both included)."""
        opens: list[int] = []
        closes: list[int] = []
        day = first
        while day <= last:
            window = self.calendar.opening_hours(day)
            if window is not None:
                opens.append(micros(window[0]))
                closes.append(micros(window[1]))
            day += timedelta(days=1)
        self.first, self.last, self.opens, self.closes = first, last, opens, closes
        self.open_before = [0]  # [i]: microseconds open in the windows before the i-th
        for opened, closed in zip(opens, closes, strict=True):
            self.open_before.append(self.open_before[-1] + closed - opened)
        # An instant two days after the first UTC midnight has a later local date than the
        # first day (no zone is more than a day off UTC); likewise before the last.
        self.low_us = micros(datetime.combine(first, time(), UTC)) + 2 * DAY_US
        self.high_us = micros(datetime.combine(last, time(), UTC)) - DAY_US


def _utc_day(instant_us: int) -> date:
    return date(1970, 1, 1) + timedelta(days=instant_us // DAY_US)
