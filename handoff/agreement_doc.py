"""`handoff sla doc`: the agreement as both teams read and sign it.

The terms in force in words, the goal and its reverse funnel, the version history, then
every clause of the protocol as written in `features/` with two marks: verified (its
examples, as last run by `handoff sla verify`) and honoured (the store's evidence for the
period, `evidence`). Plain data here; `templates/sla_doc.html` and `.md` lay it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementRegister, AppliedVersion, Proposal, Team
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import NoAgreement
from handoff.domain.verification import VerificationRun
from handoff.evidence import evidence_for, measure_for
from handoff.instants import iso
from handoff.kpi import Period, compute_kpis, decision_window, period_from_options
from handoff.plan import PLAN_KEYS, NoGoal, figure_words
from handoff.report import (
    _breaches,
    _missed_follow_ups,
    _other_versions,
    _terms,
    agreement_for_plan,
    html_dates,
    no_agreement_hint,
    plan_with_actuals,
)
from handoff.review_charts import funnel_chart, response_chart, trend_chart, trend_months
from handoff.verification.protocol import Area, Clause, features_folder, read_protocol
from handoff.verification.runner import handoff_version
from handoff.verification.world import GROWTH_AGREEMENT_FILE, features_text
from handoff.views import history_records

if TYPE_CHECKING:
    from markupsafe import Markup

FORMATS = {".html": "sla_doc.html", ".md": "sla_doc.md"}
STAGE_WORDS = {
    "revenue": "Revenue won",
    "won": "Deals won",
    "proposal": "Proposals sent",
    "accepted": "Leads accepted by sales",
    "handed": "Leads handed to sales",
    "qualified": "Leads qualified by marketing",
    "captured": "Leads captured",
    "visits": "Website visits",
}


def last_full_month(app: HandoffApp, as_of: datetime | None = None) -> str:
    """The month a monthly review looks back on: the one before today's (agreement's zone);
    with `as_of`, the one before that instant's."""
    register = app.agreement_register(as_of)
    now = as_of or app.clock()
    version = register.in_force_at(now)
    today = now.astimezone(version.terms.timezone).date() if version else now.date()
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def agreement_document(
    app: HandoffApp, month: str | None = None, as_of: datetime | None = None,
    as_read: Callable[[datetime], str] = iso,
) -> dict[str, Any]:
    """Everything the document shows, as plain data; with `as_of` (`sla doc --as-of T`),
    as the record stood then: the versions, signatures and restatements recorded by T, the
    last `sla verify` run by then, and the evidence measured as of T (`as_read`: an instant
    as people read it, for a refusal). Every part of it is read as of one instant (`as_of`,
    else now), which its footer gives with the command that writes it again."""
    written = app.clock()
    at = as_of or written
    register = app.agreement_register(at)
    if month is None:
        month = last_full_month(app, at)
    period = period_from_options(register, month=month, as_of=at)
    # The terms of the month reviewed (in force at its end, or else on its last day that had
    # any), or else those in force now.
    days = (period.last_day - timedelta(days=n)
            for n in range((period.last_day - period.first_day).days + 1))
    on = next((day for day in days if register.in_force_on(day)), None)
    if on is None and register.in_force_at(at) is None:
        now = "is one now" if as_of is None else f"was one as of {as_read(as_of)}"
        hint = no_agreement_hint(register, "--month a month", replayed=as_of is not None)
        raise NoAgreement(f"no agreement was in force in {period.first_day:%B %Y}, nor {now}:"
                          f" {hint}")
    version = agreement_for_plan(app, on, at)
    zone = version.terms.timezone
    kpis = compute_kpis(app, period, basis="flow", as_of=at)
    breaches = _breaches(app, period, at)
    follow_up = kpis.get("follow_up")
    missed = _missed_follow_ups(app, period, at) if follow_up and follow_up["missed"] else []
    hours = decision_window(register, period, at)
    last_run = _last_run(app.verification_log().runs, at)
    with features_folder() as folder:
        protocol = read_protocol(folder)
    measured_at = ("when this document was written" if as_of is None
                   else f"as of {_local(as_of, zone)}")
    by = None if as_of is None else _local(as_of, zone)
    versions = len(register.history())  # proposals included: each passed the same checks
    team = _team_named(register, period, at)
    areas = [_area(area, last_run, zone, kpis, breaches, missed, hours, measured_at, by,
                   versions, team)
             for area in protocol]
    months = trend_months(app, period, at)
    sla_charts = [trend_chart(months, "compliance"), response_chart(app, period, at)]
    for clause in (c for area in areas for c in area["clauses"]):
        if clause["measure"] == "decided in time":
            clause["charts"] = sla_charts
    clauses = [clause for area in areas for clause in area["clauses"]]
    return {
        "name": version.name,
        "version": version.number,
        "effective": version.terms.dates,
        "timezone": version.terms.document["timezone"],
        "generated_at": _local(written, zone),
        "replay": f"handoff sla doc --month {month} --as-of {iso(at)} --out FILE",
        "as_of": None if as_of is None else _local(as_of, zone),
        "handoff_version": handoff_version(),
        "period": {"label": period.first_day.strftime("%B %Y"),
                   "from": period.first_day.isoformat(), "to": period.last_day.isoformat()},
        "terms": _terms(version, period.first_day, period.last_day),
        "other_versions": _other_versions(register, period.first_day, period.last_day, version,
                                          at),
        # No version covered a day of the month: the terms shown are those in force now (as
        # of T), and none of them bound the month.
        "month_uncovered": on is None,
        "team": version.terms.document.get("team") or {},
        "plan": _plan(app, period, on, at, version, kpis),
        "no_plan": _no_plan_words(version),
        "funnel_chart": funnel_chart(kpis),
        "versions": _versions(register, zone),
        "verification": _run(last_run, zone),
        "areas": areas,
        "tally": {
            "clauses": len(clauses),
            "verified": sum(c["verified"]["mark"] == "verified" for c in clauses),
            "failed": sum(c["verified"]["mark"] == "failed" for c in clauses),
            "no_example": sum(c["verified"]["mark"] == "no example" for c in clauses),
            "not_verified": sum(c["verified"]["mark"] == "not verified" for c in clauses),
            "honoured": sum(c["honoured"].mark in ("honoured", "enforced") for c in clauses),
            "not_honoured": sum(c["honoured"].mark == "not honoured" for c in clauses),
            "no_measure": sum(c["honoured"].mark == "no measure" for c in clauses),
            "measured": sum(c["honoured"].mark == "measured" for c in clauses),
            "nothing_to_measure": sum(c["honoured"].mark == "nothing to measure"
                                      for c in clauses),
        },
        "story_terms": _terms(_story_agreement()),
    }


def render_document(document: dict[str, Any], out: Path) -> str:
    """The document as HTML or Markdown, chosen by the file's suffix."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    template = FORMATS[out.suffix.lower()]
    environment = Environment(
        loader=PackageLoader("handoff", "templates"),
        autoescape=select_autoescape(["html"]),
        # Markdown has no autoescape of its own: every value the template writes is escaped.
        finalize=markdown_text if template.endswith(".md") else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["figure"] = lambda value, key: figure_words(key, value)
    environment.filters["prose"] = (markdown_prose if template.endswith(".md")
                                    else html_prose)
    environment.filters["dates"] = html_dates
    return environment.get_template(template).render(d=document)


# What the features' prose quotes between backticks: a command, a setting (`sla verify`).
_CODE_SPAN = re.compile(r"`([^`]+)`")


def html_prose(text: str) -> Markup:
    """Prose of the features (a rule's reason, an area's description) in HTML: escaped, and
    what its writers quoted between backticks set as code. Only theirs: a user's text (an
    agreement's name) reads as typed, backticks included."""
    from markupsafe import Markup  # jinja2's, loaded with it (`render_document`)

    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escape(text, quote=False)))


def markdown_prose(text: str) -> Markup:
    """`html_prose` in Markdown: the quoted parts as code spans (read literally, so written
    as they are), the rest as `markdown_text` writes any text."""
    from markupsafe import Markup

    parts = _CODE_SPAN.split(text)  # prose, then code, then prose...
    return Markup("".join(f"`{_LINE_BREAK.sub(' ', part)}`" if n % 2 else markdown_text(part)
                          for n, part in enumerate(parts)))


_LINE_BREAK = re.compile(r"\r\n?|\n")
_INLINE_SYNTAX = re.compile(r"[\\`*\[\]#|~$]|(?<![^\W_])_|_(?![^\W_])")
_LINE_START_MARKER = re.compile(r"^\s*(?:(?:[-+]|\d{1,9}[.)])(?=\s|$)|-(?=-))")


def markdown_text(value: object) -> str:
    """A value written into Markdown so that it reads as its own literal text, wherever the
    template puts it: a heading, a table cell, a list item, a paragraph.

    Meant for CommonMark and GitHub's Markdown (the wikis'):
    - `&`, `<` and `>` become entities: no tag, autolink or entity is read in the text
      (every renderer decodes entities, not every one honours `\\<`);
    - a line break becomes a space, as in the HTML document: it ends no table row, list item
      or heading;
    - the other characters of inline syntax are backslash-escaped: `\\` `` ` `` `*` `[` `]`
      `#` `|` `~` `$`, and `_` where it could open or close emphasis (not between two
      letters or digits: `decide_within_hours` stays as it is). So a `|` does not split a
      table cell, a `#` does not close a heading, a `$` opens no formula;
    - a list marker (`- `, `+ `, `1. `, `1) `) or a rule (`---`) that begins the text is
      escaped, for a text that begins a line.
    A value marked safe (`| safe`, as the steps of an indented code block are) stays as it is.
    """
    if hasattr(value, "__html__"):  # markupsafe's Markup, made by `| safe`
        return str(value)
    text = _INLINE_SYNTAX.sub(r"\\\g<0>", _LINE_BREAK.sub(" ", escape(str(value), quote=False)))
    return _LINE_START_MARKER.sub(lambda marker: f"{marker[0][:-1]}\\{marker[0][-1]}", text)


# -- the parts ---------------------------------------------------------------------------


def _area(
    area: Area,
    run: VerificationRun | None,
    zone: Any,
    kpis: dict[str, Any],
    breaches: list[dict[str, str]],
    missed: list[dict[str, str]],
    hours: float | None,
    measured_at: str,
    as_of: str | None = None,
    versions: int = 0,
    team: bool = True,
) -> dict[str, Any]:
    return {
        "feature": area.feature,
        "title": area.title,
        "description": area.description,
        "background": [step.split(" ", 1)[-1] for step in area.background],
        "clauses": [
            {
                "name": clause.name,
                "reason": clause.reason,
                "examples": clause.examples,
                "verified": _verified(area, clause, run, zone, as_of),
                "honoured": evidence_for(measure_for(area.feature, clause.name), kpis,
                                         breaches, hours, partial(_local_iso, zone=zone),
                                         missed, measured_at, versions, team),
                "measure": measure_for(area.feature, clause.name),
                "charts": [],
            }
            for clause in area.clauses
        ],
    }


def _team_named(register: AgreementRegister, period: Period, as_of: datetime | None) -> bool:
    """Whether a version in force on a day of the period names a team: without one, anyone
    may record any step, and the clauses on the team's sides bind nobody."""
    days = (period.first_day + timedelta(days=n)
            for n in range((period.last_day - period.first_day).days + 1))
    return any(found is not None and Team.of(found.terms) is not None
               for found in (register.in_force_on(day, as_of=as_of) for day in days))


def _verified(
    area: Area, clause: Clause, run: VerificationRun | None, zone: Any,
    as_of: str | None = None,
) -> dict[str, str]:
    """The verified mark of a clause, from the last run (`as_of`: the document's instant in
    words, when it is written as of one: running `sla verify` now changes nothing then)."""
    count = len(clause.examples)
    if not count:
        return {"mark": "no example", "text": "This clause has no example: nothing checks it."}
    if run is None and as_of is not None:
        return {"mark": "not verified",
                "text": f"No run of `handoff sla verify` was recorded by {as_of}."}
    if run is None:
        return {"mark": "not verified",
                "text": "Not verified yet: run `handoff sla verify`."}
    check = run.check_for(area.feature, clause.name)
    when = f"handoff {run.handoff_version}, {_local(run.ran_at, zone)}"
    if check is None:
        return {"mark": "not verified",
                "text": f"Written after the last verification ({when}): run "
                        "`handoff sla verify`."}
    stale = (f" (this is handoff {handoff_version()}: run `handoff sla verify` again)"
             if run.handoff_version != handoff_version() else "")
    if check.failed:
        return {"mark": "failed",
                "text": f"{len(check.failed)} of {check.examples} examples failed on {when}: "
                        f"{'; '.join(check.failed)}{stale}."}
    plural = "example passes" if check.examples == 1 else f"{check.examples} examples pass"
    return {"mark": "verified", "text": f"{plural.capitalize()} on {when}{stale}."}


def _plan(app: HandoffApp, period: Period, on: date | None, as_of: datetime | None,
          version: AppliedVersion, kpis: dict[str, Any]) -> dict[str, Any] | None:
    """The plan beside its actuals; `qualified`, when marketing states its own promise
    (`qualified_per_month`) and the month is measured against it (`kpi`'s target, the chart
    below the table) rather than against the funnel's figure the table shows."""
    try:
        plan = plan_with_actuals(app, on, as_of)
    except NoGoal:
        return None
    month = period.first_day.strftime("%Y-%m")
    share = next((m for m in plan["per_month"] if m["month"] == month), None)
    actual = plan["actual"]
    rows = [
        {
            "stage": STAGE_WORDS.get(key, key),
            "whole": plan["total"][key],
            "to_date": actual[key] if actual else None,
            "month_plan": share[key] if share else None,
            "month_actual": share["actual"][key] if share and share["actual"] else None,
            "key": key,
        }
        for key in PLAN_KEYS
    ]
    promise = kpis["targets"].get("qualified")
    qualified = None
    if (share is not None and version.terms.qualified_per_month is not None
            and promise is not None and promise != share["qualified"]):
        qualified = {"promise": promise, "funnel": share["qualified"],
                     "per_month": version.terms.qualified_per_month}
    return {"from": plan["period"]["from"], "to": plan["period"]["to"],
            "open_ended": plan["period"]["open_ended"],
            "to_date": actual["to"] if actual else None, "month": share is not None,
            "month_label": _share_label(share, period), "rows": rows,
            "qualified": qualified}


def _no_plan_words(version: AppliedVersion) -> str:
    """Why there is no funnel, when there is none: the plan needs the goal's two figures."""
    revenue, average_deal = version.terms.goal("revenue"), version.terms.goal("average_deal")
    if revenue is not None and average_deal is None:
        return ("The agreement states a revenue goal but no average deal (`[goal] average_deal`),"
                " so the deals to win, and the funnel behind them, cannot be planned.")
    if revenue is None and average_deal is not None:
        return ("The agreement states an average deal but no revenue goal (`[goal] revenue`),"
                " so there is no funnel to plan.")
    return "The agreement states no revenue goal, so there is no funnel to plan."


def _share_label(share: dict[str, Any] | None, period: Period) -> str | None:
    """The days the month's plan and actuals cover, when not the whole month: only those the
    planned version is in force on (one that began or ended within the month)."""
    if share is None or (share["from"], share["to"]) == (period.first_day.isoformat(),
                                                         period.last_day.isoformat()):
        return None
    return f"{share['from']} to {share['to']}"


def _versions(register: AgreementRegister, zone: Any) -> list[dict[str, Any]]:
    """Every version recorded (in force or proposed), who signed it, and what it changed."""
    rows = []
    versions = register.history()
    for version, record in zip(versions, history_records(versions), strict=True):
        # No version in force before it (the first, or one after proposals never signed):
        # nothing it changed, as `sla history` says (not every term "added").
        first = record["compared_with"] is None
        rows.append({
            "number": record["version"],
            "name": record["name"],
            "effective": version.terms.dates,
            "status": record["status"],
            "applied_at": _local_iso(record["applied_at"], zone),
            "proposed_at": _local_iso(record["proposed_at"], zone),
            "applied_by": record["applied_by"],
            "signatures": [
                {"side": s["side"], "actor": s["actor"], "at": _local_iso(s["signed_at"], zone)}
                for s in record["signatures"]
            ],
            "changes": [] if first else [_change_words(c) for c in record["changes"]],
            "compared_with": record["compared_with"],
            "restates": record["restates"],
            "overtaken_by": version.overtaken_by if isinstance(version, Proposal) else None,
        })
    return rows


def _change_words(change: dict[str, Any]) -> str:
    key, before, after = change["key"], change["before"], change["after"]
    if before is None:
        return f"{key} added ({_term(after)})"
    if after is None:
        return f"{key} dropped (was {_term(before)})"
    return f"{key} {_term(before)} → {_term(after)}"


def _term(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _local_iso(instant: str | None, zone: Any) -> str:
    return "" if instant is None else _local(datetime.fromisoformat(instant), zone)


def _last_run(runs: list[VerificationRun], as_of: datetime | None) -> VerificationRun | None:
    """The last run of `sla verify` recorded (as of `as_of`, by then)."""
    return next((run for run in reversed(runs) if as_of is None or run.ran_at <= as_of), None)


def _run(run: VerificationRun | None, zone: Any) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"at": _local(run.ran_at, zone), "handoff_version": run.handoff_version,
            "actor": run.actor, "passed": run.passed,
            "current": run.handoff_version == handoff_version()}


def _story_agreement() -> AppliedVersion:
    terms = parse_agreement(features_text(GROWTH_AGREEMENT_FILE))
    return AppliedVersion(0, terms, datetime.combine(terms.effective_from, datetime.min.time()),
                          "maria")


def _local(instant: datetime, zone: Any) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

