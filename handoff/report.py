"""Reports read from the store: the plan beside its actuals, and the monthly joint review.

Each function returns plain data (str, numbers, Decimals, lists, dicts) for the command
line to print as a table or JSON, or for the HTML template to render.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handoff import audit
from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementRegister, AppliedVersion
from handoff.domain.business_time import WEEKDAYS
from handoff.domain.errors import NoAgreement
from handoff.instants import iso
from handoff.kpi import (
    COUNT_NAMES,
    FEW_LEADS,
    OVER_MARK,
    OVER_NOTE,
    RATES,
    SLA_NAMES,
    Period,
    compute_kpis,
    decision_window,
    is_thin,
    period_from_options,
    rate_marks,
    unjudged_handoffs_note,
)
from handoff.plan import STAGES, plan_for
from handoff.sla import missed_follow_ups, sla_breaches
from handoff.views import restatement_words, version_record
from handoff.words import DAY_NAMES, counted, money, percent, rounded, whole

if TYPE_CHECKING:
    from markupsafe import Markup


def agreement_for_plan(
    app: HandoffApp, at: date | None, as_of: datetime | None = None
) -> AppliedVersion:
    """The version in force on a local date, or now; refused when there is none. With
    `as_of`, of the versions recorded by then (and "now" is then)."""
    register = app.agreement_register(as_of)
    if at is None:
        version = register.in_force_at(as_of or app.clock())
        when = "now" if as_of is None else f"as of {iso(as_of)}"
    else:
        version = register.in_force_on(at)
        when = f"on {at.isoformat()}"
    if version is None:
        raise NoAgreement(
            f"no agreement is in force {when}:"
            f" {no_agreement_hint(register, '--at a day', replayed=as_of is not None)}")
    return version


def no_agreement_hint(register: AgreementRegister, asking: str, replayed: bool = False) -> str:
    """What to do when no agreement covers the day or month asked about: apply one, or,
    when versions are recorded (one that has ended, say), ask (`asking`: `--at a day`,
    `--month a month`) about the dates the latest of them covers; when one awaits the other
    side's signature (not overtaken since), sign it. A `register` as recorded by an --as-of
    instant (`replayed`) tells how things stood then, not what to do now: the version that
    awaited a signature then may be in force today (`sla history` says)."""
    if replayed:
        return _hint_as_recorded_then(register, asking)
    apply = "apply one with `handoff sla apply`"

    waiting = [p for p in register.proposals.values() if p.overtaken_by is None]
    if waiting:
        version = waiting[-1]
        side = version.awaiting
        apply = (f"version {version.number}, {version.name!r}, {version.terms.dates}, is in"
                 f" force once {side} signs it ({version.team.describe(side)}): `handoff sla"
                 f" sign {version.number}`, or {apply}")
    if not register.versions:
        return apply
    latest = register.versions[-1]
    return (f"the latest version, {latest.name!r}, covers {latest.terms.dates} (give {asking}"
            f" it covers), or {apply}")


def _hint_as_recorded_then(register: AgreementRegister, asking: str) -> str:
    waiting = [p for p in register.proposals.values() if p.overtaken_by is None]
    said = []
    if waiting:
        version = waiting[-1]
        said.append(f"version {version.number}, {version.name!r}, {version.terms.dates},"
                    f" still awaited the signature of {version.awaiting} then")
    if register.versions:
        latest = register.versions[-1]
        said.append(f"the latest version then, {latest.name!r}, covered {latest.terms.dates}"
                    f" (give {asking} it covers)")
    elif not waiting:
        said.append("none had been applied then")
    return "; ".join(said) + ("; `handoff sla history` shows what was recorded since")


def plan_with_actuals(
    app: HandoffApp, at: date | None = None, as_of: datetime | None = None
) -> dict[str, Any]:
    """The reverse funnel of the agreement in force, beside the flow actuals to date (with
    `as_of`, as recorded by then: to that instant's day)."""
    version = agreement_for_plan(app, at, as_of)
    plan = plan_for(version.terms)
    register = app.agreement_register(as_of)
    today = (as_of or app.clock()).astimezone(version.terms.timezone).date()
    per_month = []
    for month in plan.per_month:
        entry = month.as_dict()
        entry["actual"] = (
            _actuals(app, register, month.start, min(month.end, today), as_of)
            if month.start <= today
            else None
        )
        per_month.append(entry)
    record = version_record(version)
    return {
        "agreement": {k: record[k] for k in ("version", "name", "effective_from",
                                              "effective_to", "timezone")},
        "period": {"from": plan.start.isoformat(), "to": plan.end.isoformat(),
                   "open_ended": plan.open_ended},
        "replaced": _replaced(register, version, plan.start, plan.end),
        "total": plan.total.as_dict(),
        "per_month": per_month,
        "actual": (
            _actuals(app, register, plan.start, min(plan.end, today), as_of)
            if plan.start <= today
            else None
        ),
    }


def _replaced(
    register: AgreementRegister, version: AppliedVersion, first: date, last: date
) -> dict[str, Any] | None:
    """The first day of the plan's period that another version governs after this one
    did (a revision from mid-March of a year's agreement), and that version's number:
    the plan's months from then on are no longer the targets in force. None if none."""
    # The version governing a day changes only where one begins or the day after one ends.
    edges = {first}
    for other in register.versions:
        edges.add(other.terms.effective_from)
        if other.terms.effective_to is not None:
            edges.add(other.terms.effective_to + timedelta(days=1))
    governed = False
    for day in sorted(edge for edge in edges if first <= edge <= last):
        found = register.in_force_on(day)
        if found is not None and found.number == version.number:
            governed = True
        elif governed and found is not None:
            return {"from": day.isoformat(), "version": found.number}
    return None


def _actuals(
    app: HandoffApp, register: AgreementRegister, first: date, last: date,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Flow counts of [first, last], under the names the plan uses (as of `as_of`)."""
    period = period_from_options(register, start=first.isoformat(), end=last.isoformat(),
                                 as_of=as_of)
    kpis = compute_kpis(app, period, basis="flow", as_of=as_of)
    counts = kpis["counts"]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "revenue": kpis["revenue_won"],
        **{stage: counts[stage] for stage in STAGES},
    }



# -- the monthly joint review ----------------------------------------------------------

RATE_NAMES = tuple(RATES)
_SOURCE_COLUMNS = ("captured", "qualified", "handed", "accepted", "proposal", "won", "lost",
                   "revenue_won", "win_rate", "compliance")
_OWNER_COLUMNS = ("handed", "accepted", "rejected", "proposal", "won", "lost", "revenue_won",
                  "breached", "compliance", "median_response_hours")


def monthly_review(
    app: HandoffApp, month: str | None, as_of: datetime | None = None, quarter: str | None = None
) -> dict[str, Any]:
    """Everything the joint review of a month (or a quarter) shows, formatted for reading:
    every part of it as of one instant (`as_of`, else now), which its footer names so that
    the page can be replayed exactly."""
    from handoff.review_charts import review_charts

    as_of_given = as_of is not None
    made_at = app.clock()
    as_of = as_of or made_at
    register = app.agreement_register()
    period = period_from_options(register, month=month, quarter=quarter, as_of=as_of)
    flow = compute_kpis(app, period, basis="flow", as_of=as_of)
    cohort = compute_kpis(app, period, basis="cohort", as_of=as_of)
    by_source = compute_kpis(app, period, basis="flow", by="source", as_of=as_of)
    by_owner = compute_kpis(app, period, basis="flow", by="owner", as_of=as_of)
    first = date.fromisoformat(flow["period"]["from"])
    last = date.fromisoformat(flow["period"]["to"])
    version = register.in_force_on(first, as_of=as_of)
    targets: dict[str, Any] = flow.get("targets") or {}
    rate_rows = [
        _starred(_row(name, flow["rates"].get(name), cohort["rates"].get(name),
                      targets.get(name), _percent), name, flow, cohort)
        for name in RATE_NAMES
    ]
    groups = [
        _group("By source (flow)", "source", by_source, _SOURCE_COLUMNS),
        _group("By owner (flow)", "owner", by_owner, _OWNER_COLUMNS),
    ]
    return {
        "month": month,
        "period_option": f"--month {month}" if month else f"--quarter {quarter}",
        "period_word": "month" if month else "quarter",
        "month_name": first.strftime("%B %Y") if month else _quarter_name(first, last),
        "charts": review_charts(app, period, flow, as_of),
        "few_leads": FEW_LEADS,
        "period": flow["period"],
        "as_of": flow["as_of"],
        "as_of_local": _local(flow["as_of"], period.timezone, "%Y-%m-%d %H:%M %Z"),
        "as_of_given": as_of_given,
        "generated_at": _local(iso(made_at), period.timezone, "%Y-%m-%d %H:%M %Z"),
        "agreement": _agreement_record(version, period.timezone) if version else None,
        "agreement_terms": _terms(version, first, last) if version else [],
        "other_versions": _other_versions(register, first, last, version, as_of),
        "cards": _cards(flow, decision_window(register, period, as_of)),
        "count_rows": [
            _row(name, flow["counts"][name], cohort["counts"][name], targets.get(name), _count)
            for name in COUNT_NAMES
        ] + [_row("revenue_won", flow["revenue_won"], cohort["revenue_won"],
                  targets.get("revenue_won"), _money)],
        "rate_rows": rate_rows,
        "over_note": _over_note(rate_rows, groups),
        "sla_names": SLA_NAMES[1:],
        "sla_rows": [
            {"basis": f"{basis} ({_count(result['sla']['handoffs'])})",
             "values": [_sla_value(name, result["sla"][name]) + _star(result, name, basis)
                        for name in SLA_NAMES[1:]]}
            for basis, result in (("flow", flow), ("cohort", cohort))
        ],
        "unjudged_note": unjudged_handoffs_note(flow),
        "groups": groups,
        "breaches": _breaches(app, period, as_of),
        "follow_up": _follow_up_lines(flow),
        "restatements": [
            restatement_words(r, _local(r["restated_at"], period.timezone, "%Y-%m-%d %H:%M %Z"))
            for r in flow["restatements"]
        ],
        **_digest(app, as_of if as_of_given else None),
    }


def _digest(app: HandoffApp, as_of: datetime | None) -> dict[str, Any]:
    """The digest of the log the review was built from, and whether the log was empty at
    its as-of instant (nothing to digest then, which the review says)."""
    if as_of is None:
        return {"audit_digest": audit.current_digest(app), "log_empty_then": False}
    digest = audit.digest_as_of(app, as_of)
    empty = digest is not None and digest.position == 0
    return {"audit_digest": None if digest is None or empty else str(digest),
            "log_empty_then": empty}


def _breaches(app: HandoffApp, period: Period, as_of: datetime | None) -> list[dict[str, str]]:
    """The handoffs made in the period that were decided late or are overdue, their instants
    with their offset's abbreviation (the hour the clocks repeat reads twice without it)."""
    zone = period.timezone
    return [
        {
            "lead": row["lead"],
            "owner": row["owner"],
            "handed": _local(row["handed_at"], zone),
            "due": _local(row["due_at"], zone),
            "decided": _local(row["decided_at"], zone),
            "status": row["status"],
            "hours": _hours(row["hours_past_due"]),
        }
        for row in sla_breaches(app, as_of, period=period)
    ]


def _missed_follow_ups(
    app: HandoffApp, period: Period, as_of: datetime | None
) -> list[dict[str, str]]:
    """The period's acceptances whose follow-up was missed, as people read them."""
    zone = period.timezone
    return [
        {
            "lead": found["lead"],
            "owner": found["owner"],
            "accepted": _local(found["accepted_at"], zone),
            "window_end": _local(found["window_closed_at"], zone),
            "attempts": f"{found['attempts']} of {counted(found['asked'], 'attempt')}",
        }
        for found in missed_follow_ups(app, as_of, period=period)
    ]


def _local(instant: str | None, zone: ZoneInfo, layout: str = "%a %d %b %H:%M %Z") -> str:
    if instant is None:
        return "—"
    return datetime.fromisoformat(instant).astimezone(zone).strftime(layout)


def _agreement_record(version: AppliedVersion, zone: ZoneInfo) -> dict[str, Any]:
    """The version in force, with who brought it into force: who applied it, or who
    proposed it and each signature (the last one put it in force)."""
    record = version_record(version)
    when = "%Y-%m-%d %H:%M %Z"
    record["applied_at"] = _local(record["applied_at"], zone, when)
    record["signed"] = "; ".join(
        f"{s.actor} for {s.side} on {_local(iso(s.signed_at), zone, when)}"
        for s in version.signatures
    )
    return record


def _workdays_words(workdays: list[str]) -> str:
    """An agreement's workdays as people name them: a run of three or more from its first
    to its last (`Monday to Friday`), or else each by name (`Monday, Wednesday and Friday`);
    the file's `mon, tue, ...` are its keys, in the week's order."""
    numbers = sorted(WEEKDAYS.index(day) for day in workdays)
    names = [DAY_NAMES[n] for n in numbers]
    if len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{names[0]} to {names[-1]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _terms(version: AppliedVersion, first: date | None = None, last: date | None = None
           ) -> list[tuple[str, str]]:
    """The version's terms in words; with a period (`first`, `last`), the public holidays
    its `country_holidays` closes in it, by date and name."""
    terms, document = version.terms, version.terms.document
    pairs: list[tuple[str, str]] = []
    revenue, average_deal = terms.goal("revenue"), terms.goal("average_deal")
    if revenue is not None:
        deal = f"; average deal {_money(average_deal)}" if average_deal is not None else ""
        pairs.append(("Revenue goal", f"{_money(revenue)} for the whole period{deal}"))
    pairs.append(("Handoff decision",
                  f"accept or reject within {terms.decide_within_hours:g} business hours"))
    calendar = document.get("calendar", {})
    hours = calendar.get("hours", ["09:00", "17:00"])
    days = _workdays_words(calendar.get("workdays", list(WEEKDAYS[:5])))
    country = calendar.get("country_holidays")
    listed = calendar.get("holidays", [])
    closed = ""
    if country and first is not None and last is not None:
        named = terms.public_holidays_between(first, last)
        closed = (" (in this period: " + ", ".join(f"{day:%Y-%m-%d} {name}"
                                                   for day, name in named) + ")"
                  if named else " (none in this period)")
    pairs.append(("Business hours", f"{days}, {hours[0]} to {hours[1]}"
                  + (f"; {country} public holidays{closed}" if country else "")
                  + (f"; holidays {', '.join(listed)}" if listed else "")))
    for side in ("marketing", "sales"):
        rates = document.get(side, {}).get("rates", {})
        if rates:
            pairs.append((f"{side.capitalize()} rates",
                          ", ".join(f"{k} {_percent(Decimal(v))}" for k, v in rates.items())))
    if terms.qualified_per_month is not None:
        pairs.append(("Qualified per month", str(terms.qualified_per_month)))
    if terms.follow_up is not None:
        attempts, within_days = terms.follow_up
        pairs.append(("Follow-up",
                      f"{counted(attempts, 'attempt')} within {counted(within_days, 'day')}"))
    team = document.get("team")
    if team:
        pairs.append(("Team", "; ".join(f"{side}: {', '.join(names)}"
                                        for side, names in team.items())))
    return pairs


def _other_versions(
    register: AgreementRegister,
    first: date,
    last: date,
    version: AppliedVersion | None,
    as_of: datetime | None,
) -> list[str]:
    """The versions other than `version` in force on days of [first, last], each with its
    first day there and, when it ends before the period does, its last."""
    others: dict[int, tuple[AppliedVersion, date, date]] = {}
    day = first
    while day <= last:
        found = register.in_force_on(day, as_of=as_of)
        if found is not None and (version is None or found.number != version.number):
            others[found.number] = (found, others.get(found.number, (found, day))[1], day)
        day += timedelta(days=1)
    return [f"{found.name} (version {found.number}) from {since}"
            + (f" to {until}" if until < last else "")
            for found, since, until in others.values()]


def _cards(flow: dict[str, Any], window: float | None) -> list[dict[str, str]]:
    """`window`: the one decision window of the period's versions, if they share one."""
    targets: dict[str, Any] = flow.get("targets") or {}
    sla = flow["sla"]
    revenue_target = targets.get("revenue_won")
    won_target = targets.get("won")
    within = f"target: within {window:g} h" if window is not None else ""
    return [
        {"label": "Revenue won", "value": _money(flow["revenue_won"]),
         "target": f"target {_money(revenue_target)}" if revenue_target is not None else "",
         "tone": _tone(flow["revenue_won"], revenue_target)},
        {"label": "Deals won", "value": _count(flow["counts"]["won"]),
         "target": f"target {_count(won_target)}" if won_target is not None else "",
         "tone": _tone(flow["counts"]["won"], won_target)},
        {"label": "SLA compliance", "value": _percent(sla["compliance"]),
         "target": f"{_count(sla['breached'])} breached of "
                   f"{counted(sla['handoffs'], 'handoff', grouped=True)}",
         "tone": _tone(sla["compliance"], Decimal("0.95"))},
        {"label": "Median response", "value": _hours(sla["median_response_hours"]),
         "target": within, "tone": ""},
    ]


def _row(
    name: str, flow: Any, cohort: Any, target: Any, show: Callable[[Any], str]
) -> dict[str, str]:
    return {
        "name": name,
        "flow": show(flow),
        "cohort": show(cohort),
        "target": show(target) if target is not None else "",
        "versus": _percent(Decimal(str(flow)) / Decimal(str(target)))
        if flow is not None and target
        else "",
        "tone": _tone(flow, target),
    }


def _group(
    title: str, key: str, result: dict[str, Any], columns: tuple[str, ...]
) -> dict[str, Any]:
    rows = []
    for name, group in sorted(result.get("groups", {}).items()):
        values = []
        for column in columns:
            if column == "revenue_won":
                values.append(_money(group["revenue_won"]))
            elif column in group["counts"]:
                values.append(_count(group["counts"][column]))
            elif column in group["rates"]:
                values.append(_percent(group["rates"][column]) + _star(group, column))
            else:
                values.append(_sla_value(column, group["sla"].get(column))
                              + _star(group, column))
        if any(value not in ("0", "—") for value in values):  # skip groups with nothing shown
            rows.append({"name": name, "values": values})
    return {"title": title, "key": key, "columns": columns, "rows": rows}


def _follow_up_lines(flow: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    follow_up, speed = flow.get("follow_up"), flow["speed_to_lead"]
    if follow_up:
        thin = " *" if is_thin(follow_up, "follow_up") and follow_up["compliance"] is not None \
            else ""
        lines.append(("Follow-up", f"{_percent(follow_up['compliance'])}{thin} compliance: "
                      f"{_count(follow_up['met'])} met, {_count(follow_up['missed'])} missed, "
                      f"{_count(follow_up['pending'])} pending of "
                      f"{counted(follow_up['accepted'], 'accepted lead', grouped=True)}"))
    lines.append(("Speed to lead", f"median {_hours(speed['median_hours'])}, 90th percentile "
                  f"{_hours(speed['p90_hours'])}, over "
                  f"{counted(speed['contacted'], 'handoff', grouped=True)} contacted (business"
                  " hours from handoff to first contact)"))
    return lines


def _quarter_name(first: date, last: date) -> str:
    return f"Q{(first.month - 1) // 3 + 1} {first.year} ({first:%B} to {last:%B})"


def _star(block: dict[str, Any], name: str, basis: str = "flow") -> str:
    """The marks after a rate (`kpi.rate_marks`: thin, or over 100 % in flow), if any."""
    if name not in RATES and name != "compliance":
        return ""
    marks = rate_marks(block, name, basis)
    return f" {marks}" if marks else ""


def _starred(
    row: dict[str, str], name: str, flow: dict[str, Any], cohort: dict[str, Any]
) -> dict[str, str]:
    return {**row, "flow": row["flow"] + _star(flow, name),
            "cohort": row["cohort"] + _star(cohort, name, "cohort")}


def _over_note(rate_rows: list[dict[str, str]], groups: list[dict[str, Any]]) -> str:
    """The footnote of OVER_MARK when a rate shown carries it."""
    shown = [row["flow"] for row in rate_rows]
    shown += [value for group in groups for row in group["rows"] for value in row["values"]]
    return OVER_NOTE if any(OVER_MARK in value for value in shown) else ""


def _sla_value(name: str, value: Any) -> str:
    if name == "compliance":
        return _percent(value)
    if name == "median_response_hours":
        return _hours(value)
    return _count(value)


def _tone(value: Any, target: Any) -> str:
    if value is None or not target:
        return ""
    ratio = Decimal(str(value)) / Decimal(str(target))
    return "good" if ratio >= 1 else "warn" if ratio >= Decimal("0.9") else "bad"


def _count(value: Any) -> str:
    return "—" if value is None else whole(value)


def _money(value: Any) -> str:
    return "—" if value is None else money(value)


def _percent(value: Any) -> str:
    return "—" if value is None else f"{percent(value)}%"


def _hours(value: Any) -> str:
    if value is None:
        return "—"
    hours = Decimal(str(value))
    # Minutes while they round to fewer than 60: 59 minutes 40 seconds read 1.0 h, not 60 min.
    minutes = hours * 60
    return f"{rounded(minutes, 0)} min" if minutes < Decimal("59.5") else f"{rounded(hours)} h"


_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])")


def html_dates(value: object) -> Markup:
    """A text in HTML (escaped, unless already markup: `html_prose`'s) whose dates
    (2026-04-30) are each kept on one line: a browser breaks a line after a date's hyphen
    (`2026-04-` above `30`) in a narrow column, and on paper."""
    from markupsafe import Markup

    text = str(value) if hasattr(value, "__html__") else escape(str(value), quote=False)
    return Markup(_DATE.sub(r'<span class="date">\g<0></span>', text))


def render_review(review: dict[str, Any]) -> str:
    """The review as one self-contained HTML page."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("handoff", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["dates"] = html_dates
    return environment.get_template("report.html").render(r=review)
