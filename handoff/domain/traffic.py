"""Traffic: the visits counted for one local day, as marketing reports them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from handoff.domain.bounds import check_count, check_day, check_entry_actor
from handoff.domain.errors import InvalidInput, TimeRefused
from handoff.domain.steps import in_the_future


def traffic_day_id(day: date) -> UUID:
    return uuid5(NAMESPACE_URL, f"handoff:traffic:{day.isoformat()}")


class TrafficDay(Aggregate):
    """The visits of one day; recording the day again corrects its count."""

    @staticmethod
    def create_id(day: str) -> UUID:
        return traffic_day_id(date.fromisoformat(day))

    @event("Opened")
    def __init__(self, day: str) -> None:
        self.day = day
        self.visits: int | None = None
        self.counts: list[int] = []  # every count recorded for the day, in order
        self.recorded_at: datetime | None = None

    def record(self, visits: int, actor: str, recorded_at: datetime, zone: tzinfo) -> None:
        """The day's visits, counted once the day has begun in `zone` (the agreement's)."""
        check_count(visits, "visits")
        _check_begun(self.day, recorded_at, zone)
        self._visits_recorded(day=self.day, visits=visits, actor=actor, recorded_at=recorded_at)

    @event("VisitsRecorded")
    def _visits_recorded(self, day: str, visits: int, actor: str, recorded_at: datetime) -> None:
        self.visits = visits
        self.counts.append(visits)
        self.recorded_at = recorded_at


def _check_begun(day: str, recorded_at: datetime, zone: tzinfo) -> None:
    begins = datetime.combine(date.fromisoformat(day), time(), zone)
    if in_the_future(begins, recorded_at):
        raise TimeRefused(
            lambda at: f"{day} has not begun yet (it begins at {at(begins)}): "
            "visits are recorded for a day that has begun"
        )


# The earliest time zone: a day has begun somewhere once it has begun here.
_EARLIEST_ZONE = timezone(timedelta(hours=14))


def check_entry(traffic: TrafficDay | None, entry: Any) -> None:
    """Refuse an entry (a backup's) that `traffic record` would not have recorded on the day
    as it then stood (None: not opened yet), with the same checks."""
    if type(entry).__name__ == "Opened":  # the day's events are declared by its methods
        try:
            day = check_day(date.fromisoformat(entry.day))
        except ValueError:
            raise InvalidInput(f"not a day: {entry.day!r}") from None
        if day.isoformat() != entry.day:  # as `traffic record` writes it: 2026-03-02
            raise InvalidInput(f"not a day: {entry.day!r}")
        if traffic_day_id(day) != entry.originator_id:
            raise InvalidInput(f"the traffic of {entry.day} is filed under another day's id")
    elif traffic is None or entry.day != traffic.day:
        raise InvalidInput(f"these visits are of {entry.day}, not of "
                           f"{traffic.day if traffic else 'a day opened before them'}")
    else:
        check_count(entry.visits, "visits")
        check_entry_actor(entry.actor)
        # Counted once the day had begun in the agreement's zone, whichever it was then.
        _check_begun(entry.day, entry.recorded_at, _EARLIEST_ZONE)
