"""The review's charts from the KPIs the application computes (`kpi.compute_kpis`).

The period's funnel beside its plan, twelve months of each rate and of SLA compliance
against their targets (one `compute_kpis` per month, flow basis, each as of the same
instant as the review), and how long sales took to decide the period's handoffs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from handoff import charts, plan
from handoff.application import HandoffApp
from handoff.domain.bounds import FIRST_DAY
from handoff.kpi import RATES, Period, compute_kpis, is_thin, period_from_options
from handoff.projections import projected
from handoff.projections.instants import micros
from handoff.projections.report_as_of import Scope, handoff_rows, with_corrections
from handoff.words import money

FUNNEL_STAGES = tuple(reversed(plan.STAGES))  # from the top down: visits to won
TREND_MONTHS = 12
RATE_TITLES = {
    "visit_to_captured": "Visits to captured",
    "captured_to_qualified": "Captured to qualified",
    "qualified_to_handed": "Qualified to handed",
    "handed_to_accepted": "Handed to accepted",
    "accepted_to_proposal": "Accepted to proposal",
    "proposal_to_won": "Proposal to won",
    "win_rate": "Win rate (won / won + lost)",
    "compliance": "SLA compliance",
}


def review_charts(
    app: HandoffApp, period: Period, flow: dict[str, Any], as_of: datetime | None
) -> dict[str, Any]:
    """Every chart of the review, as SVG text, with what a reader needs to read them."""
    months = trend_months(app, period, as_of)
    return {
        "funnel": funnel_chart(flow),
        "trends": [trend_chart(months, name) for name in (*RATES, "compliance")],
        "trend_span": f"{months[0][0]:%B %Y} to {months[-1][0]:%B %Y}",
        "responses": response_chart(app, period, as_of),
    }


def funnel_chart(flow: dict[str, Any]) -> str:
    return charts.funnel(_funnel_bars(flow), "The period's funnel beside the plan")


def trend_chart(months: list[tuple[date, dict[str, Any]]], name: str) -> str:
    """One rate (or "compliance") month by month, against the last month's target."""
    return charts.trend(_points(months, name), _target(months, name), RATE_TITLES[name])


def response_chart(app: HandoffApp, period: Period, as_of: datetime | None) -> str:
    version = app.agreement_register().in_force_on(period.last_day, as_of)
    limit = float(version.terms.decide_within_hours) if version else 8.0
    return charts.histogram(decisions(app, period, as_of), limit,
                            "How long sales took to decide the period's handoffs")


def _funnel_bars(flow: dict[str, Any]) -> list[charts.Bar]:
    targets: dict[str, Any] = flow.get("targets") or {}
    bars = [
        charts.Bar(name.replace("_", " "), float(flow["counts"][name]),
                   _float(targets.get(name)), f"{flow['counts'][name]:,}",
                   f"{targets[name]:,}" if targets.get(name) is not None else "")
        for name in FUNNEL_STAGES
    ]
    revenue, goal = flow["revenue_won"], targets.get("revenue_won")
    bars.append(charts.Bar("revenue won", float(revenue), _float(goal), money(revenue),
                           money(goal) if goal is not None else ""))
    return bars


def trend_months(
    app: HandoffApp, period: Period, as_of: datetime | None
) -> list[tuple[date, dict[str, Any]]]:
    """The flow KPIs of the twelve months ending with the period's last (fewer when days
    begin before those twelve: `bounds.FIRST_DAY`)."""
    register = app.agreement_register()
    first = period.last_day.replace(day=1)
    starts = [first]
    while len(starts) < TREND_MONTHS and starts[0] > FIRST_DAY:
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    found = []
    for start in starts:
        month = period_from_options(register, month=start.strftime("%Y-%m"), as_of=as_of)
        found.append((start, compute_kpis(app, month, basis="flow", as_of=as_of)))
    return found


def _points(months: list[tuple[date, dict[str, Any]]], name: str) -> list[charts.Point]:
    points = []
    for start, kpis in months:
        value = kpis["sla"]["compliance"] if name == "compliance" else kpis["rates"][name]
        points.append(charts.Point(f"{start:%b}", value,
                                   value is not None and is_thin(kpis, name)))
    return points


def _target(months: list[tuple[date, dict[str, Any]]], name: str) -> float | None:
    """The target of the last month (the agreement's rate; compliance has none)."""
    targets: dict[str, Any] = months[-1][1].get("targets") or {}
    return _float(targets.get(name))


def decisions(app: HandoffApp, period: Period, as_of: datetime | None
              ) -> list[tuple[float, bool]]:
    """Each handoff made in the period and decided: the business hours it took, and whether
    it was decided in time (the verdict the read model stores, `service_level`'s)."""
    with projected(app) as conn:
        as_of = as_of or app.clock()
        register = app.agreement_register()
        scope = Scope(
            basis="flow", by=None, start_us=micros(period.start), end_us=micros(period.end),
            as_of_us=micros(as_of),
            all_versions_known=all(v.applied_at <= as_of for v in register.versions),
        )
        rows = handoff_rows(with_corrections(conn, scope), in_period="handed_us").subquery()
        query = select(rows.c.response_hours, rows.c.in_time).where(rows.c.decided)
        return [(float(hours), bool(in_time)) for hours, in_time in conn.execute(query)
                if hours is not None]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
