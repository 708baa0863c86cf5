"""The reverse funnel: from the agreement's revenue goal back to the visits it needs.

Arithmetic is exact: every number is a `Fraction` built from the decimals as written in
the agreement, so 480 / 0.8 is exactly 600 and rounding up happens only where the
agreement says so, once per step.
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from handoff.domain.agreement import FUNNEL_RATES, AgreementTerms
from handoff.domain.errors import Refused
from handoff.words import money, whole

# Each stage of the funnel above won, from the bottom up, with the rate that leads from it
# to the stage below: proposal = ceil(won / proposal_to_won), and so on up to visits.
FUNNEL_STEPS: tuple[tuple[str, str], ...] = tuple(
    (above, rate) for rate, (_, above) in reversed(FUNNEL_RATES.items())
)
STAGES: tuple[str, ...] = ("won", *(stage for stage, _ in FUNNEL_STEPS))
PLAN_KEYS: tuple[str, ...] = ("revenue", *STAGES)


def figure_words(key: str, value: Any) -> str:
    """A plan's figure as people read it: revenue as money (to the cent when it has cents),
    a stage's count whole."""
    return money(value) if key == "revenue" else whole(value)

# An open-ended agreement states its goal for a year: the plan covers the twelve
# months from effective_from.
OPEN_ENDED_SPAN_MONTHS = 12


class NoGoal(Refused):
    """The agreement in force states no revenue goal, so there is nothing to plan."""


@dataclass(frozen=True)
class FunnelTargets:
    """What each stage must reach for a revenue goal."""

    revenue: Decimal
    counts: Mapping[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"revenue": self.revenue, **{stage: self.counts[stage] for stage in STAGES}}


@dataclass(frozen=True)
class MonthPlan:
    """The share of the plan that falls in one calendar month (clipped to the period)."""

    month: str
    start: date
    end: date
    targets: FunnelTargets

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            **self.targets.as_dict(),
        }


@dataclass(frozen=True)
class Plan:
    """The reverse funnel of one agreement version, for its whole period and by month."""

    start: date
    end: date
    open_ended: bool
    total: FunnelTargets
    per_month: tuple[MonthPlan, ...]


def reverse_funnel(
    revenue: Decimal | Fraction,
    average_deal: Decimal,
    rate: Callable[[str], Decimal | None],
) -> FunnelTargets:
    """won = ceil(revenue / average_deal), then up the chain, rounding up at every step.

    A rate the agreement does not state counts as 1 (the stage needs as many as the next).
    The deals are counted from the goal to the cent, as every table shows it: a month's
    share of 780,000.0027 reads 780,000 and needs 26 deals of 30,000, not 27.
    """
    goal = cents(Fraction(revenue))
    counts: dict[str, int] = {"won": math.ceil(Fraction(goal) / Fraction(average_deal))}
    below = counts["won"]
    for stage, rate_name in FUNNEL_STEPS:
        given = rate(rate_name)
        divisor = Fraction(1) if given is None else Fraction(given)
        below = math.ceil(below / divisor)
        counts[stage] = below
    return FunnelTargets(goal, counts)


def plan_period(terms: AgreementTerms) -> tuple[date, date, bool]:
    """The days the goal is for: the agreement's period, or a year when it is open-ended."""
    start = terms.effective_from
    if terms.effective_to is not None:
        return start, terms.effective_to, False
    return start, _add_months(start, OPEN_ENDED_SPAN_MONTHS) - timedelta(days=1), True


def plan_for(terms: AgreementTerms) -> Plan:
    """The reverse funnel of an agreement: for its period, and prorated by days to each month."""
    revenue = terms.goal("revenue")
    average_deal = terms.goal("average_deal")
    if revenue is None or average_deal is None:
        raise NoGoal(
            f"the agreement {terms.name!r} has no [goal] with revenue and average_deal; "
            "there is nothing to plan"
        )
    start, end, open_ended = plan_period(terms)
    period_days = (end - start).days + 1
    months = tuple(
        MonthPlan(
            month=first.strftime("%Y-%m"),
            start=first,
            end=last,
            targets=reverse_funnel(
                Fraction(revenue) * ((last - first).days + 1) / period_days,
                average_deal,
                terms.rate,
            ),
        )
        for first, last in months_between(start, end)
    )
    return Plan(start, end, open_ended, reverse_funnel(revenue, average_deal, terms.rate), months)


def months_between(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months that meet [start, end], each clipped to it."""
    months: list[tuple[date, date]] = []
    first = start
    while first <= end:
        month_end = first.replace(day=monthrange(first.year, first.month)[1])
        months.append((first, min(month_end, end)))
        first = month_end + timedelta(days=1)
    return months


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


def cents(amount: Fraction) -> Decimal:
    exact = Decimal(amount.numerator) / Decimal(amount.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
