"""What report queries return, per group: plain data, importable without SQLAlchemy."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from handoff.domain.service_level import BREACHED, IN_TIME, LATE, OVERDUE, PENDING

ALL = ""  # the group key of the whole report


@dataclass(frozen=True)
class Scope:
    """Which rows a report reads: its basis, grouping, period (as instants) and as-of."""

    basis: str  # "flow" or "cohort"
    by: str | None  # None, "source" or "owner"
    start_us: int
    end_us: int  # exclusive
    as_of_us: int
    # True when every agreement version had been applied by the as-of instant, so the
    # due instants kept on each handoff are the ones the report needs.
    all_versions_known: bool = True
    # True when a correction recorded after the as-of instant replaced rows: the report
    # reads the rows as they stood then (`report_as_of.known_rows`).
    corrected_after: bool = False


@dataclass
class StageTotals:
    counts: dict[str, int] = field(default_factory=dict)
    revenue_cents: int = 0

    def add(self, event: str, count: int, cents: int | None) -> None:
        self.counts[event] = self.counts.get(event, 0) + int(count)
        if event == "won":
            self.revenue_cents += int(cents or 0)


@dataclass
class HandoffTotals:
    handoffs: int = 0
    decided_in_time: int = 0
    decided_late: int = 0
    pending: int = 0
    overdue: int = 0
    median_response_hours: float | None = None

    @property
    def decided(self) -> int:
        return self.decided_in_time + self.decided_late

    @property
    def breached(self) -> int:
        """service_level.BREACHED: decided late or overdue."""
        return sum(self.of(outcome) for outcome in BREACHED)

    def of(self, outcome: str) -> int:
        """How many handoffs have that outcome."""
        return {IN_TIME: self.decided_in_time, LATE: self.decided_late, PENDING: self.pending,
                OVERDUE: self.overdue}[outcome]

    def add(self, outcome: str, count: int) -> None:
        """Count handoffs of an outcome: in_time, late, pending or overdue."""
        count = int(count)
        self.handoffs += count
        if outcome == IN_TIME:
            self.decided_in_time += count
        elif outcome == LATE:
            self.decided_late += count
        elif outcome == PENDING:
            self.pending += count
        elif outcome == OVERDUE:
            self.overdue += count
        else:
            raise ValueError(f"not an outcome: {outcome!r}")


def median(values: Iterable[float]) -> float | None:
    found = list(values)
    return statistics.median(found) if found else None
