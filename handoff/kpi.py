"""KPIs for a period (SPEC §5): counts, rates, the SLA block and the agreement's targets.

The names of the counts, rates and SLA block are defined here once (`COUNT_NAMES`,
`RATES`, `SLA_NAMES`); the command line and the monthly review print what they name.
Numbers are unrounded (SPEC §5: JSON and CSV are data); tables and HTML round.

Every number comes from SQL aggregates over the projections, after catching them up;
nothing is rebuilt by replaying aggregates. A report as of now reads the summaries
(`projections.report_now`, no SQLAlchemy needed); one as of an earlier instant, or while the
summaries are stale, reads the per-event tables (`projections.report_as_of`).
"""

from __future__ import annotations

import math
import re
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.domain.agreement import FUNNEL_RATES, AgreementRegister, AppliedVersion
from handoff.domain.bounds import check_day
from handoff.domain.errors import InvalidInput
from handoff.domain.steps import EVENT_NAMES, FUTURE_SKEW
from handoff.instants import iso, parse_day
from handoff.plan import STAGES as FUNNEL_STAGES
from handoff.plan import cents, plan_period, reverse_funnel
from handoff.projections import report_now
from handoff.projections.instants import micros
from handoff.projections.totals import ALL, HandoffTotals, Scope, StageTotals
from handoff.words import counted

BASES = ("flow", "cohort")
GROUPINGS = ("source", "owner")
STAGE_NAMES = EVENT_NAMES  # SPEC §5's counts are the lifecycle's events, in its order
COUNT_NAMES = ("visits", *STAGE_NAMES)
# rate: (numerator, denominator): the funnel's, then win_rate, whose denominator is won + lost.
RATES: dict[str, tuple[str, str]] = {**FUNNEL_RATES, "win_rate": ("won", "won+lost")}
SLA_NAMES = (
    "handoffs", "decided_in_time", "decided_late", "pending", "overdue", "breached",
    "compliance", "median_response_hours",
)
_UTC = ZoneInfo("UTC")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")


class PeriodError(InvalidInput):
    """The period the options name is malformed (a month that is not one, --to before --from)."""


class NotOnePeriod(PeriodError):
    """The options name no period, or more than one (the command line: a usage error)."""


def rate_base(name: str) -> tuple[str, ...]:
    """The counts a rate is taken over (its denominator's terms)."""
    return tuple(RATES[name][1].split("+"))


@dataclass(frozen=True)
class Period:
    """Whole local days, both ends inclusive, in the agreement's time zone."""

    first_day: date
    last_day: date
    timezone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), self.timezone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (local midnight after its last day)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.timezone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def as_dict(self) -> dict[str, str]:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "timezone": self.timezone.key,
        }


def period_from_options(
    register: AgreementRegister,
    month: str | None = None,
    quarter: str | None = None,
    start: str | None = None,
    end: str | None = None,
    as_of: datetime | None = None,
) -> Period:
    """The period named by exactly one of --month, --quarter or --from with --to."""
    check_one_period(month, quarter, start, end)
    if month is not None:
        first, last = _month(month)
    elif quarter is not None:
        first, last = _quarter(quarter)
    else:
        assert start is not None and end is not None
        try:
            first, last = parse_day(start), parse_day(end)
        except InvalidInput as error:
            raise PeriodError(str(error)) from None
        if last < first:
            raise PeriodError(f"--to {end} is before --from {start}")
    try:
        check_day(first), check_day(last)
    except InvalidInput as error:
        raise PeriodError(str(error)) from None
    return Period(first, last, period_zone(register, first, as_of))


def period_zone(register: AgreementRegister, first: date, as_of: datetime | None) -> ZoneInfo:
    """A period's time zone: that of the agreement in force on its first day, of the
    versions known at as-of (SPEC §5); UTC when none is."""
    version = register.in_force_on(first, as_of)
    return version.terms.timezone if version else _UTC


def check_one_period(
    month: str | None, quarter: str | None, start: str | None, end: str | None
) -> None:
    """Exactly one of --month, --quarter or --from with --to; raises NotOnePeriod.

    An option given empty (`--month "$MONTH"` with MONTH unset) is given, and refused as
    the value it is: read as absent, it would widen the period to every day.
    """
    given = [name for name, value in (("--month", month), ("--quarter", quarter),
                                      ("--from/--to", start if start is not None else end))
             if value is not None]
    if len(given) != 1:
        raise NotOnePeriod(
            "give one period: --month YYYY-MM, --quarter YYYYQn, or --from D --to D"
            + (f" (got {' and '.join(given)})" if given else "")
        )
    if month is None and quarter is None and (start is None or end is None):
        raise NotOnePeriod("--from and --to go together: give both days")


def _month(text: str) -> tuple[date, date]:
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) == 0:  # no year 0
        raise PeriodError(f"not a month (YYYY-MM): {text!r}")
    year, month = int(found[1]), int(found[2])
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


def _quarter(text: str) -> tuple[date, date]:
    found = _QUARTER.fullmatch(text.strip())
    if not found or int(found[1]) == 0:  # no year 0
        raise PeriodError(f"not a quarter (YYYYQn, like 2026Q1): {text!r}")
    year, first_month = int(found[1]), 3 * int(found[2]) - 2
    last_month = first_month + 2
    return date(year, first_month, 1), date(year, last_month, monthrange(year, last_month)[1])


def compute_kpis(
    app: HandoffApp,
    period: Period,
    basis: str = "flow",
    by: str | None = None,
    as_of: datetime | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """The SPEC §5 object for a period, as the report read at `as_of` (default: now).

    `exact` reads the per-event tables even when the summaries could answer (the same
    numbers, slower: for checking one against the other).
    """
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}, got {by!r}")
    as_of = as_of or app.clock()
    register = app.agreement_register()
    scope = Scope(
        basis=basis,
        by=by,
        start_us=micros(period.start),
        end_us=micros(period.end),
        as_of_us=micros(as_of),
        all_versions_known=all(v.applied_at <= as_of for v in register.versions),
    )
    recorded = eventstore.last_notification_id(app)  # what every part of it reads
    found = _report(app, scope, period, exact)
    total_stages = StageTotals()
    for block in found.stages.values():
        for name, count in block.counts.items():
            total_stages.counts[name] = total_stages.counts.get(name, 0) + count
        total_stages.revenue_cents += block.revenue_cents
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "basis": basis,
        "as_of": iso(as_of),
        **_block(total_stages, found.handoffs.get(ALL, HandoffTotals()), found.visits),
        "targets": targets(register, period, as_of),
    }
    from handoff.follow_up import follow_up_and_speed

    found_later = follow_up_and_speed(
        app, register, period.start, period.end, basis, as_of, recorded)
    restated_follow_up = found_later.pop("restated_follow_up", {})
    result.update(found_later)
    result["restatements"] = restatements(app, register, scope, period, as_of,
                                          restated_follow_up)
    if by is not None:
        names = sorted((set(found.stages) | set(found.handoffs)) - {ALL})
        result["groups"] = {
            name: _block(
                found.stages.get(name, StageTotals()), found.handoffs.get(name, HandoffTotals())
            )
            for name in names
        }
    return result


def restatements(
    app: HandoffApp, register: AgreementRegister, scope: Scope, period: Period,
    as_of: datetime, follow_up: dict[int, int],
) -> list[dict[str, Any]]:
    """The restatements (SPEC §3) that changed the period's figures as known at as-of:
    each version signed to judge past handoffs again, who put it in force, when and why,
    how many handoffs in scope it judges otherwise, and how many acceptances' follow-up
    (`follow_up`, by version). One that moved the period's days into its own time zone
    changed them too, whether or not it judges a handoff otherwise; so did one that changed
    the period's targets (`targets`: a goal restated, or dates that spread it over fewer
    days), which the figures beside them are read against."""
    restating = [v for v in register.known_at(as_of) if v.restates is not None]
    if not restating:
        return []  # the usual case, without opening the read model
    from handoff.projections import projected
    from handoff.projections.report_as_of import restated_handoffs

    with projected(app) as conn:
        changed = restated_handoffs(conn, scope)

    def moved(v: AppliedVersion) -> bool:
        """Whether signing it moved the period's days: their zone once it was signed, against
        just before (as its handoffs are counted: a restatement signed since changes
        neither)."""
        return period_zone(register, period.first_day, v.applied_at).key != period_zone(
            register, period.first_day, v.applied_at - timedelta(microseconds=1)).key

    def retargeted(v: AppliedVersion) -> bool:
        """Whether signing it changed the period's targets, against just before."""
        return targets(register, period, v.applied_at) != targets(
            register, period, v.applied_at - timedelta(microseconds=1))

    found = [(v, retargeted(v)) for v in restating]
    return [
        {"version": v.number, "name": v.name, "restated_by": v.restated_by,
         "restated_at": iso(v.applied_at), "why": v.restates,
         "handoffs": changed.get(v.number, 0), "follow_up": follow_up.get(v.number, 0),
         "targets": retargets}
        for v, retargets in found
        if changed.get(v.number) or follow_up.get(v.number) or retargets or moved(v)
    ]


def _report(app: HandoffApp, scope: Scope, period: Period, exact: bool) -> report_now.Report:
    """From the summaries when they can answer, else from the per-event tables; either
    way after projecting every event recorded so far."""
    days = period.first_day.isoformat(), period.last_day.isoformat()
    for _attempt in range(0 if exact else 2):
        try:
            found = report_now.report(app, scope, *days)
        except report_now.Behind:
            catch_up(app)  # then ask again (events recorded meanwhile: the full path)
            continue
        if found is not None:
            return found
        break
    from handoff.projections import projected, report_as_of

    with projected(app) as conn:
        return report_now.Report(
            report_as_of.stage_totals(conn, scope),
            report_as_of.handoff_totals(conn, scope),
            report_as_of.visits(conn, *days, scope.as_of_us),
        )


def catch_up(app: HandoffApp) -> None:
    from handoff.projections import catch_up as project

    project(app)


def _block(
    stages: StageTotals, handoffs: HandoffTotals, traffic: int | None = None
) -> dict[str, Any]:
    """counts, revenue_won, rates and sla; without visits when traffic is not attributed."""
    counts = {name: stages.counts.get(name, 0) for name in STAGE_NAMES}
    if traffic is not None:
        counts = {"visits": traffic, **counts}
    rates = {
        name: _rate(counts, numerator, denominator)
        for name, (numerator, denominator) in RATES.items()
        if traffic is not None or name != "visit_to_captured"
    }
    return {
        "counts": counts,
        "revenue_won": Decimal(stages.revenue_cents).scaleb(-2),
        "rates": rates,
        "sla": sla_block(handoffs),
    }


def _rate(counts: dict[str, int], numerator: str, denominator: str) -> float | None:
    below = sum(counts[name] for name in denominator.split("+"))
    return None if below == 0 else counts[numerator] / below


def sla_block(totals: HandoffTotals) -> dict[str, Any]:
    """SPEC §5's SLA block, unrounded (tables and HTML round for people)."""
    block: dict[str, Any] = {
        "handoffs": totals.handoffs,
        "decided_in_time": totals.decided_in_time,
        "decided_late": totals.decided_late,
        "pending": totals.pending,
        "overdue": totals.overdue,
        "breached": totals.breached,
        "compliance": None,
        "median_response_hours": totals.median_response_hours,
    }
    judged = judged_handoffs(block)
    block["compliance"] = None if judged == 0 else totals.decided_in_time / judged
    assert tuple(block) == SLA_NAMES
    return block


def unjudged_handoffs_note(result: dict[str, Any]) -> str | None:
    """Why the SLA block has fewer handoffs than the period's `handed`, when it has: SPEC §4
    leaves out a handoff made while no agreement was in force (it has no due instant). In
    flow, `handed` counts every handoff of the period and the block every one judged; in
    cohort, `handed` counts leads, not handoffs, and nothing is said."""
    if result["basis"] != "flow":
        return None
    unjudged = int(result["counts"]["handed"]) - int(result["sla"]["handoffs"])
    if unjudged <= 0:
        return None
    one = unjudged == 1
    return (f"{counted(unjudged, 'handoff', grouped=True)} of the period "
            f"{'was' if one else 'were'} made while no agreement was in force: with no due "
            f"instant, {'it is' if one else 'they are'} left out of the SLA block.")


def judged_handoffs(sla: dict[str, Any]) -> int:
    """The handoffs SLA compliance is taken over (SPEC §5): those decided in time and those
    breached (decided late or overdue); the pending ones are not judged yet."""
    return int(sla["decided_in_time"] + sla["breached"])


def targets(register: AgreementRegister, period: Period, as_of: datetime) -> dict[str, Any]:
    """The agreement's targets for the period, for the same names: each version's for the
    days it is in force on (features/plan.feature).

    Revenue is each version's goal prorated to its days in the period, summed; counts
    come from the reverse funnel (as `handoff plan` computes it) on that share, for the
    versions that give an average deal to plan it in;
    `qualified` is marketing's own promise, qualified_per_month prorated by days, for the
    days of a version that states it. A rate is the mean of the versions' rates,
    weighted by their days. Only days some version is in force on count: a period
    running past the last agreement's end has no target for the days after it. Names no
    version sets a target for are null.
    """
    result: dict[str, Any] = dict.fromkeys((*COUNT_NAMES, "revenue_won", *RATES))
    days = _days_of_versions(register, period.first_day, period.last_day, as_of)
    in_force = {number: sum(months.values()) for number, (_, months) in days.items()}
    for name in RATES:
        weighted = [
            (Fraction(rate), in_force[number]) for number, (version, _) in days.items()
            if name != "win_rate" and (rate := version.terms.rate(name)) is not None
        ]
        if weighted:
            result[name] = float(
                sum(rate * count for rate, count in weighted) / sum(c for _, c in weighted)
            )
    goals: list[Fraction] = []
    qualified: list[Fraction] = []  # each version's: its promise, or else its funnel's
    for number, (version, months) in days.items():
        terms = version.terms
        per_month = terms.qualified_per_month
        if per_month is not None:
            qualified.extend(Fraction(per_month * count, _days_in_month(month))
                             for month, count in months.items())
        revenue, average_deal = terms.goal("revenue"), terms.goal("average_deal")
        if revenue is None:
            continue
        first, last, _ = plan_period(terms)
        share = Fraction(revenue) * in_force[number] / ((last - first).days + 1)
        goals.append(share)
        if average_deal is None:  # a goal, but no deals to plan it in: no funnel
            continue
        funnel = reverse_funnel(share, average_deal, terms.rate)
        for stage in FUNNEL_STAGES:
            result[stage] = (result[stage] or 0) + funnel.counts[stage]
        if per_month is None:
            qualified.append(Fraction(funnel.counts["qualified"]))
    if goals:
        result["revenue_won"] = cents(sum(goals, Fraction(0)))
    if qualified:
        result["qualified"] = math.ceil(sum(qualified, Fraction(0)))
    return result


def decision_window(register: AgreementRegister, period: Period,
                    as_of: datetime | None = None) -> float | None:
    """The business hours every version that may judge a handoff of the period (of those
    known at `as_of`) gives sales to decide, or None when a revision changed them: the
    period's handoffs were then judged by more than one window, and no single one is named.

    A version covering days of the period judges none of its handoffs when a later one,
    applied before the period began, covers all those days: every handoff of the period is
    recorded after that one (SPEC §2: no event occurs more than FUTURE_SKEW after it is
    recorded) and is judged by it or a later one (`service_level.governing_version`). One
    exception the register cannot see: a handoff recorded before that version and moved into
    the period since by `lead amend --at` keeps the versions of its entry's instant; the
    window named is then the one of every handoff the period had as it was recorded.
    Nor does a version judge any when a later restatement covers all those days: it
    judges every handoff on them, whenever recorded (`service_level.judging_versions`)."""
    known = register.known_at(as_of)
    before_the_period = period.start - FUTURE_SKEW
    windows = set()
    for index, version in enumerate(known):
        covered = _instants_covered(version, period)
        if covered is None:
            continue
        if any((later.applied_at <= before_the_period or later.restates is not None)
               and all(map(later.terms.covers_instant, covered))
               for later in known[index + 1:]):
            # Superseded on all its days of the period before the period began, or by a
            # restatement, which judges the handoffs recorded before it too (SPEC §3).
            continue
        windows.add(version.terms.decide_within_hours)
    return float(windows.pop()) if len(windows) == 1 else None


def _instants_covered(version: AppliedVersion, period: Period
                      ) -> tuple[datetime, datetime] | None:
    """The first and last instants of the period on the version's days (local to its own
    zone), or None when it covers none."""
    terms = version.terms
    first = max(period.start, datetime.combine(terms.effective_from, time(), terms.timezone))
    end = period.end
    if terms.effective_to is not None:
        end = min(end, datetime.combine(terms.effective_to + timedelta(days=1), time(),
                                        terms.timezone))
    return (first, end - timedelta(microseconds=1)) if first < end else None


def _days_of_versions(
    register: AgreementRegister, first: date, last: date, as_of: datetime
) -> dict[int, tuple[AppliedVersion, Counter[date]]]:
    """The versions in force on these local days, by number, in the order they first are:
    each with how many of its days fall in each month (keyed by the month's first day)."""
    found: dict[int, tuple[AppliedVersion, Counter[date]]] = {}
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        version = register.in_force_on(day, as_of)
        if version is not None:
            months = found.setdefault(version.number, (version, Counter()))[1]
            months[day.replace(day=1)] += 1
    return found


def _days_in_month(day: date) -> int:
    return monthrange(day.year, day.month)[1]


# What a table of groups shows people (JSON and CSV keep every number: they are data).
# By owner, the stages and rates an owner answers for, from the handoff on: marketing's
# stages happen before a lead has an owner, so their rates per owner mean nothing (a
# group's `qualified_to_handed` would count handoffs over the few leads requalified
# after a rejection: 2500 %).
SALES_STAGES = STAGE_NAMES[STAGE_NAMES.index("handed"):]
GROUP_ROWS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "source": (COUNT_NAMES, tuple(RATES)),
    "owner": (SALES_STAGES, tuple(n for n in RATES if RATES[n][0] in SALES_STAGES[1:])),
}

FEW_LEADS = 10  # a rate built on fewer leads than this is thin: read it with care
THIN_MARK = "*"
OVER_MARK = "†"
THIN_NOTE = f"{THIN_MARK} built on fewer than {FEW_LEADS} leads: read it with care"
OVER_NOTE = (
    f"{OVER_MARK} over 100 %: flow counts the events of the period, and the earlier stage of\n"
    "  some lies in an earlier period (the cohort basis follows the same leads)"
)


def rate_marks(block: dict[str, Any], rate: str, basis: str) -> str:
    """The marks people see after a rate of a KPI block (the whole report's, a group's or
    a follow_up block): OVER_MARK for a flow rate over 100 %, THIN_MARK for a thin one;
    "" for neither (and for no rate)."""
    if rate == "compliance":
        value = block["sla"]["compliance"]
    elif rate == "follow_up":
        value = block["compliance"]
    else:
        value = block["rates"].get(rate)
    if value is None:
        return ""
    over = OVER_MARK if basis == "flow" and value > 1 else ""
    return over + (THIN_MARK if is_thin(block, rate) else "")


def is_thin(block: dict[str, Any], rate: str) -> bool:
    """Whether a rate of a KPI block (the whole report's or a group's) rests on fewer than
    FEW_LEADS leads: its denominator, or for SLA compliance the judged handoffs. Rates over
    visits are not about leads and are never thin."""
    if rate == "compliance":
        return judged_handoffs(block["sla"]) < FEW_LEADS
    if rate == "follow_up":  # a follow_up block: over the leads judged met or missed
        return bool(block["met"] + block["missed"] < FEW_LEADS)
    base = rate_base(rate)
    if base == ("visits",):
        return False
    leads: int = sum(block["counts"].get(name, 0) for name in base)
    return leads < FEW_LEADS
