"""The service level of a handoff and what the KPIs count: each rule once, in the SPEC's words.

These functions are the rules (SPEC §3-§5). Every report counts through them: the
projection stores each event's and each decision's verdict as it projects it (whether it
counts in flow, in cohort, whether the decision was in time), so no query, summary or
tally writes a rule again. Only "pending or overdue", which depends on the instant a
report is read at, has a SQL form too (`projections.verdicts`), held to `outcome` by a
differential test (`tests/test_service_level.py`).

Instants are datetimes in the domain and integer microseconds in the projection: the
rules take either (both order the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TypeVar
from zoneinfo import ZoneInfo

from handoff.domain.business_time import BusinessCalendar

# The version of the rules whose verdicts the read model stores (what counts in flow and in
# cohort, the due instant and business time, in time or late, which version judges and
# governs a handoff): bumped with any change to what one of them answers, so that every
# store judges its events again by the new rules (`projections.readmodel`) rather than
# keeping the verdicts of the old ones. `tests/test_rules_version.py` fails until it is.
RULES_VERSION = 4

Instant = TypeVar("Instant", datetime, int)
Version = TypeVar("Version")

# What a handoff is at the instant a report is read (SPEC §5, the SLA block).
IN_TIME, LATE, PENDING, OVERDUE = "in_time", "late", "pending", "overdue"
OUTCOMES = (IN_TIME, LATE, PENDING, OVERDUE)
# Breached = decided late + overdue (SPEC §4).
BREACHED = (LATE, OVERDUE)


def due_instant(calendar: BusinessCalendar, decide_within_hours: float, handed_at: datetime
                ) -> datetime:
    """A handoff is due once the agreement's decision window of business hours has
    passed since it was handed (SPEC §4)."""
    return calendar.add_business_hours(handed_at, decide_within_hours)


def response_hours(calendar: BusinessCalendar, handed_at: datetime, decided_at: datetime
                   ) -> float:
    """How long sales took to decide, in business hours (SPEC §4)."""
    return calendar.business_hours_between(handed_at, decided_at)


def window_used(calendar: BusinessCalendar, handed_at: datetime, due_at: datetime,
                at: datetime) -> Fraction:
    """The share of a handoff's decision window (the business time from handed to due)
    used by `at`: 0 before the clock starts, 1 from the due instant on. Exact, to the
    microsecond, so that a mark like one half is reached at its very instant."""
    window = _micros(calendar.business_hours_between(handed_at, due_at))
    if window == 0:
        return Fraction(1)
    used = _micros(calendar.business_hours_between(handed_at, min(at, due_at)))
    return Fraction(used, window)


def _micros(hours: float) -> int:
    return round(hours * 3_600_000_000)


def decided_in_time(decided_at: Instant, due_at: Instant) -> bool:
    """A decision made at its due instant, or before, is in time."""
    return decided_at <= due_at


def outcome(due_at: Instant, decided_at: Instant | None, as_of: Instant) -> str:
    """A decided handoff is in time or late; an undecided one is pending until its due
    instant has passed at the report's as-of instant, then overdue."""
    if decided_at is not None:
        return IN_TIME if decided_in_time(decided_at, due_at) else LATE
    return PENDING if as_of <= due_at else OVERDUE


def governing_version(
    versions: Sequence[Version], covers: Callable[[Version], bool]
) -> Version | None:
    """The version that governs a handoff: of the versions applied (in the order applied,
    only those known at the report's as-of instant), the latest whose effective dates
    contain the handed instant (`covers`); `versions` are those that may judge it
    (`judging_versions`)."""
    for version in reversed(versions):
        if covers(version):
            return version
    return None


def judging_versions(
    versions: Sequence[Version], recorded_at: Instant, applied_at: Callable[[Version], Instant],
    restates: Callable[[Version], bool], covers: Callable[[Version], bool],
) -> list[Version]:
    """The versions that may judge a handoff (SPEC §3, no silent rewriting of the past),
    in the order applied: those in force when the handoff was recorded, and later ones
    signed as restatements. A revision applied after a handoff was recorded does not
    change its verdict unless both sides signed it as a restatement; but a handoff that
    no version judged when it was recorded (history imported before the first agreement)
    is judged by the first version to cover it: that fills a gap, it rewrites nothing."""
    known = [v for v in versions if applied_at(v) <= recorded_at or restates(v)]
    if any(covers(v) for v in known):
        return known
    first = next((v for v in versions if covers(v)), None)
    return [v for v in versions if v in known or v is first]


def counts_in_flow(event: str, first_of_kind: bool) -> bool:
    """Flow counts every event in the period, except that a re-sent proposal does not
    count: the proposal stage counts leads that received one."""
    return event != "proposal" or first_of_kind


def counts_in_cohort(event: str, first_of_kind: bool) -> bool:
    """A cohort counts the leads captured in the period that reached each stage: a lead's
    first event of a kind."""
    return first_of_kind


# Follow-up and speed to lead (SPEC §5), judged per accepted lead and per handoff.
MET, MISSED = "met", "missed"
FOLLOW_UP_OUTCOMES = (MET, MISSED, PENDING)
DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def follow_up_outcome(
    accepted_at: int, contacts: Sequence[int], proposals: Sequence[int], attempts: int,
    within_days: int, as_of: int, zone: ZoneInfo,
) -> str:
    """An accepted lead meets the follow-up when, within `within_days` calendar days after
    its acceptance (in the agreement's zone), it gets `attempts` contacted events or a
    proposal; it is pending while that window is open, missed after. Instants in
    microseconds, known at `as_of`."""
    made, window_end = follow_up_attempts(accepted_at, contacts, within_days, as_of, zone)
    if made >= attempts or follow_up_attempts(accepted_at, proposals, within_days, as_of,
                                              zone)[0]:
        return MET
    return PENDING if as_of <= window_end else MISSED


def follow_up_attempts(
    accepted_at: int, steps: Sequence[int], within_days: int, as_of: int, zone: ZoneInfo
) -> tuple[int, int]:
    """How many of `steps` (contacts, proposals) fall in the follow-up's window of an
    acceptance, known at `as_of`; and the instant the window closes. Microseconds."""
    window_end = calendar_days_later(accepted_at, within_days, zone)
    last = min(window_end, as_of)
    return sum(1 for at in steps if accepted_at <= at <= last), window_end


def calendar_days_later(at: int, days: int, zone: ZoneInfo) -> int:
    """The same local time `days` calendar days after the instant `at` (microseconds): a
    day on which the clocks change lasts 23 or 25 hours."""
    local = (_EPOCH + timedelta(microseconds=at)).astimezone(zone)
    return ((local + timedelta(days=days)) - _EPOCH) // _MICROSECOND


def first_contact(handed_at: Instant, later: Sequence[tuple[str, Instant]]) -> Instant | None:
    """The first contacted event after a handoff, before the lead is rejected or handed
    again (`later`: the lead's events after the handoff, in order)."""
    for name, at in later:
        if at < handed_at:
            continue
        if name in ("rejected", "handed"):
            return None
        if name == "contacted":
            return at
    return None
