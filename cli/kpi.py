"""`handoff kpi`, `sla breaches` and `projections`: the numbers read from projections.

The modules behind these commands load SQLAlchemy; they are imported inside each
command so that other commands start fast.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import click

from handoff.cli.output import (
    Instants,
    exit_status,
    note_no_agreement,
    note_unknown_filter,
    output_option,
    print_csv,
    print_json,
)
from handoff.cli.progress import stages
from handoff.cli.tables import print_paragraph, print_table
from handoff.cli.values import FILTER_NAME
from handoff.words import money, percent, rounded, whole

OVERDUE_EXIT = 3


def _as_of(app: Any, text: str | None) -> datetime | None:
    """--as-of T: an instant that has passed; without an offset, local to the agreement in
    force that day. A malformed instant is bad input like any other: one line, exit 1.
    """
    return None if text is None else app.as_of(text)


@click.command()
@click.option("--month", metavar="M", help="A calendar month, like 2026-03.")
@click.option("--quarter", metavar="Q", help="A calendar quarter, like 2026Q1.")
@click.option("--from", "start", metavar="D", help="First day (with --to), like 2026-03-01.")
@click.option("--to", "end", metavar="D", help="Last day, inclusive (with --from).")
@click.option("--basis", type=click.Choice(["flow", "cohort"]), default="flow", show_default=True,
              help="flow: events in the period; cohort: what became of the leads captured in it.")
@click.option("--by", type=click.Choice(["source", "owner"]), help="Also break it down by group.")
@click.option("--as-of", "as_of", metavar="T",
              help="Replay the report as it read at this instant (default: now).")
@output_option("table", "json", "csv")
@click.pass_obj
def kpi(obj: Any, month: str | None, quarter: str | None, start: str | None, end: str | None,
        basis: str, by: str | None, as_of: str | None, fmt: str) -> None:
    """KPIs and SLA compliance for a period of whole local days, beside the targets.

    The period is local to the time zone of the agreement in force on its first day.
    """
    from handoff.kpi import NotOnePeriod, check_one_period, compute_kpis, period_from_options

    try:
        check_one_period(month, quarter, start, end)
    except NotOnePeriod as error:
        raise click.UsageError(str(error)) from None
    app = obj.app
    instant = _as_of(app, as_of)
    period = period_from_options(
        app.agreement_register(), month=month, quarter=quarter, start=start, end=end,
        as_of=instant,
    )
    result = compute_kpis(app, period, basis=basis, by=by, as_of=instant)
    if fmt == "json":
        print_json(result)
    elif fmt == "csv":
        print_csv([*_CSV_COLUMNS, *_CSV_CONTEXT, _CSV_GROUPED_BY], list(_csv_rows(result, by)))
    else:
        print_kpi_table(result, by, obj.instants)


_CSV_COLUMNS = ("group", "section", "metric", "actual", "target")
# What every row was computed on (SPEC §5: the basis always named; §3: the restatements
# that changed the period's figures, by version, as `sla history` lists them).
_CSV_CONTEXT = ("basis", "from", "to", "timezone", "as_of", "restated_by_versions")
# Which rows are a group's: `group` names the report's totals `all`, and a source or an
# owner may be named `all` too; empty for the totals, `source` or `owner` for a group.
_CSV_GROUPED_BY = "grouped_by"


def _csv_rows(result: dict[str, Any], by: str | None) -> Iterator[list[Any]]:
    period = result["period"]
    context = [
        result["basis"], period["from"], period["to"], period["timezone"], result["as_of"],
        ";".join(str(r["version"]) for r in result["restatements"]),
    ]
    for row, grouped_by in _metric_rows(result, by):
        yield [*row, *context, grouped_by]


def _metric_rows(result: dict[str, Any], by: str | None) -> Iterator[tuple[list[Any], str]]:
    """Each metric's row, with what its group is one of (empty for the totals): the
    targets are the totals' alone, whatever a group is named."""
    blocks = [("all", result, result["targets"], ""),
              *((name, block, {}, by or "") for name, block in result.get("groups", {}).items())]
    for group, block, targets, grouped_by in blocks:
        for row in _block_rows(group, block, targets):
            yield row, grouped_by


def _block_rows(group: str, block: dict[str, Any], targets: dict[str, Any]) -> Iterator[list[Any]]:
    for name, value in block["counts"].items():
        yield [group, "counts", name, value, targets.get(name)]
    yield [group, "revenue", "revenue_won", block["revenue_won"], targets.get("revenue_won")]
    for name, value in block["rates"].items():
        yield [group, "rates", name, value, targets.get(name)]
    for name, value in block["sla"].items():
        yield [group, "sla", name, value, None]
    for section in ("follow_up", "speed_to_lead"):
        for name, value in (block.get(section) or {}).items():
            yield [group, section, name, value, None]


def _as_read(instants: Instants | None, instant: str) -> str:
    """An ISO instant as people read it (as given, when no zone is known)."""
    return instant if instants is None else str(instants.text(instant))


def print_kpi_table(
    result: dict[str, Any], by: str | None = None, instants: Instants | None = None
) -> None:
    """The KPI object as tables: counts, rates (as percentages) and SLA, beside targets.

    Rates are marked for people (`kpi.rate_marks`: thin, or over 100 % in flow), with a
    footnote under each table that has a mark; a table by owner shows only the stages and
    rates an owner answers for (`kpi.GROUP_ROWS`)."""
    period, targets, basis = result["period"], result["targets"], result["basis"]
    click.echo(
        f"KPIs {period['from']} to {period['to']} ({period['timezone']}), "
        f"{basis} basis, as of {_as_read(instants, result['as_of'])}"
    )
    counts = result["counts"]
    rows: list[list[Any]] = [
        [name, _count(value), _count(targets.get(name))] for name, value in counts.items()
    ]
    rows.append(["revenue_won", _money(result["revenue_won"]), _money(targets["revenue_won"])])
    print_table(["stage", "actual", "target"], rows, title="Funnel")
    marks = _Marks(basis)
    rate_rows = [[name, marks.percent(result, name, value), _percent(targets.get(name))]
                 for name, value in result["rates"].items()]
    print_table(["rate", "actual", "target"], rate_rows, title="Conversion")
    marks.footnotes()
    sla_rows = [[name, marks.percent(result, name, value) if name == "compliance"
                 else _sla_value(name, value)] for name, value in result["sla"].items()]
    print_table(["sla", "value"], sla_rows, title="Handoff SLA")
    marks.footnotes()
    from handoff.kpi import unjudged_handoffs_note

    unjudged = unjudged_handoffs_note(result)
    if unjudged:
        click.echo(unjudged)
    if result.get("restatements"):
        from handoff.views import restatement_words  # with the lead's views: only when needed

        for restatement in result["restatements"]:
            when = _as_read(instants, restatement["restated_at"])
            print_paragraph(restatement_words(restatement, when))
    follow_up_rows = _follow_up_rows(result, marks)
    if follow_up_rows:
        print_table(["measure", "value"], follow_up_rows, title="Follow-up and speed to lead")
        marks.footnotes()
    groups = result.get("groups")
    if groups and by:
        _print_groups(groups, by, marks)


def _print_groups(groups: dict[str, Any], by: str, marks: _Marks) -> None:
    from handoff.kpi import GROUP_ROWS

    stages, rates = GROUP_ROWS[by]
    # A group with nothing to show here (by owner: the unassigned events of marketing's
    # stages) gets no column.
    names = [g for g in groups if groups[g]["sla"]["handoffs"]
             or any(groups[g]["counts"].get(stage) for stage in stages)]
    if not names:
        return
    metrics: list[list[Any]] = [
        [stage, *(_count(groups[g]["counts"][stage]) for g in names)]
        for stage in stages if stage in groups[names[0]]["counts"]
    ]
    metrics.append(["revenue_won", *(_money(groups[g]["revenue_won"]) for g in names)])
    for rate in rates:
        if rate in groups[names[0]]["rates"]:
            metrics.append([rate, *(marks.percent(groups[g], rate, groups[g]["rates"][rate])
                                    for g in names)])
    for name in ("handoffs", "breached", "compliance", "median_response_hours"):
        metrics.append([name, *(
            marks.percent(groups[g], name, groups[g]["sla"][name]) if name == "compliance"
            else _sla_value(name, groups[g]["sla"][name]) for g in names)])
    print_table(["metric", *names], metrics, title=f"By {by}")
    marks.footnotes()


class _Marks:
    """Rates as percentages with their marks, and the footnotes of the marks shown since
    the last footnotes."""

    def __init__(self, basis: str) -> None:
        self.basis = basis
        self.shown: set[str] = set()

    def percent(self, block: dict[str, Any], rate: str, value: float | None) -> str:
        from handoff.kpi import rate_marks

        marks = rate_marks(block, rate, self.basis)
        self.shown.update(marks)
        return _percent(value) + (f" {marks}" if marks else "")

    def footnotes(self) -> None:
        from handoff.kpi import OVER_MARK, OVER_NOTE, THIN_MARK, THIN_NOTE

        for mark, note in ((OVER_MARK, OVER_NOTE), (THIN_MARK, THIN_NOTE)):
            if mark in self.shown:
                click.echo(note)
        self.shown.clear()


def _follow_up_rows(result: dict[str, Any], marks: _Marks) -> list[list[Any]]:
    rows: list[list[Any]] = []
    follow_up = result.get("follow_up")
    if follow_up:
        from handoff.domain.service_level import FOLLOW_UP_OUTCOMES

        rows += [[f"follow-up {name}", follow_up[name]]
                 for name in ("accepted", *FOLLOW_UP_OUTCOMES)]
        rows.append(["follow-up compliance", marks.percent(follow_up, "follow_up",
                                                           follow_up["compliance"])])
    speed = result.get("speed_to_lead")
    if speed:
        rows += [["speed to lead: contacted", speed["contacted"]],
                 ["speed to lead: median", _sla_value("median_response_hours",
                                                       speed["median_hours"])],
                 ["speed to lead: 90th percentile", _sla_value("median_response_hours",
                                                                speed["p90_hours"])]]
    return rows


def _sla_value(name: str, value: Any) -> str:
    if name == "compliance":
        return _percent(value)
    if name == "median_response_hours":
        return "" if value is None else f"{rounded(value, 2)} business h"
    return _count(value)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{percent(value)}%"


def _money(value: Decimal | None) -> str:
    return "" if value is None else money(value)


def _count(value: int | None) -> str:
    """A count as every table and report writes one: `27,870`, as `plan` and the review
    do (and as revenue beside it does)."""
    return "" if value is None else whole(value)


@click.command()
@click.option("--month", metavar="M", help="Handed in this calendar month, like 2026-03.")
@click.option("--from", "start", metavar="D", help="Handed from this day (with --to).")
@click.option("--to", "end", metavar="D", help="Handed up to this day, inclusive (with --from).")
@click.option("--owner", metavar="O", type=FILTER_NAME, help="Only the handoffs to this owner.")
@click.option("--open", "open_only", is_flag=True,
              help="Only the overdue ones (still undecided), not those decided late.")
@click.option("--follow-up", "follow_up", is_flag=True,
              help="The accepted leads that missed their follow-up, instead of the handoffs"
                   " (a period keeps those accepted in it).")
@click.option("--as-of", "as_of", metavar="T",
              help="Evaluate at this instant, with only what was recorded by then.")
@output_option("table", "json")
@click.pass_obj
def breaches(obj: Any, month: str | None, start: str | None, end: str | None,
             owner: str | None, open_only: bool, follow_up: bool, as_of: str | None,
             fmt: str) -> None:
    """Handoffs decided late or overdue, with their due instant and business hours past due.

    --month or --from/--to keep those handed in that period of whole local days (the
    agreement's time zone, as for `kpi`). Exits with status 3 when an open overdue
    handoff is among those listed (now, or --as-of), so that a scheduled job can raise
    the alarm; one decided late sounds none.

    --follow-up lists the other promise of sales instead: each accepted lead whose
    follow-up window closed before it got the attempts the agreement asks (those `kpi`
    counts as missed), with the attempts it got. It sounds no alarm (status 0).
    """
    from handoff.kpi import NotOnePeriod, check_one_period, period_from_options
    from handoff.sla import alarm, missed_follow_ups, sla_breaches

    period = None
    given = (month, start, end) != (None, None, None)
    if given:
        try:
            check_one_period(month, None, start, end)
        except NotOnePeriod:
            raise click.UsageError(
                "give one period: --month YYYY-MM, or --from D --to D (both days)"
            ) from None
    if follow_up and open_only:
        raise click.UsageError("--open is for handoffs: a missed follow-up's window has closed")
    app = obj.app
    instant = _as_of(app, as_of)
    if given:
        period = period_from_options(app.agreement_register(), month=month, start=start,
                                     end=end, as_of=instant)
    if follow_up:
        missed = missed_follow_ups(app, instant, period=period, owner=owner)
        note_unknown_filter(app, owner, missed)
        note_no_agreement(app, missed)
        if fmt == "json":
            print_json(missed)
            return
        header = ["lead", "owner", "accepted_at", "window_closed_at", "attempts", "asked"]
        print_table(header, _shown(obj, header, missed),
                    title=f"Missed follow-ups ({len(missed)})")
        return
    found = sla_breaches(app, instant, period=period, owner=owner, open_only=open_only)
    note_unknown_filter(app, owner, found)
    note_no_agreement(app, found)
    alarmed = alarm(found)
    if alarmed:  # decided before printing: a reader gone mid-table leaves the alarm on
        exit_status(OVERDUE_EXIT)
    if fmt == "json":
        print_json(found)
    else:
        header = ["lead", "owner", "status", "handed_at", "due_at", "decided_at",
                  "hours_past_due", "version"]  # the version judging it, named short
        rows = [{**breach, "version": breach["judged_by_version"]} for breach in found]
        print_table(header, _shown(obj, header, rows), title=f"SLA breaches ({len(found)})")
    if alarmed:
        sys.exit(OVERDUE_EXIT)


@click.command()
@click.option("--within", metavar="DURATION",
              help="Only those due within this much clock time from now: 30m, 2h, 1d. "
                   "Default: every pending handoff.")
@click.option("--owner", metavar="O", type=FILTER_NAME, help="Only the handoffs to this owner.")
@output_option("table", "json")
@click.pass_obj
def due(obj: Any, within: str | None, owner: str | None, fmt: str) -> None:
    """Handoffs still pending (undecided, not yet overdue), soonest due first: lead, owner,
    handed and due instants and the business hours left to decide."""
    from handoff.instants import parse_duration
    from handoff.sla import sla_due

    span = None if within is None else parse_duration(within)
    found = sla_due(obj.app, span, owner)
    note_unknown_filter(obj.app, owner, found)
    note_no_agreement(obj.app, found)
    if fmt == "json":
        print_json(found)
        return
    header = ["lead", "owner", "handed_at", "due_at", "business_hours_left"]
    print_table(header, _shown(obj, header, found), title=f"Handoffs due ({len(found)})")
    # Past due, they are no longer "due": said beside them, so a rep's morning list does
    # not read as all there is to decide.
    from handoff.sla import sla_breaches

    overdue = len(sla_breaches(obj.app, obj.app.clock(), owner=owner, open_only=True))
    if overdue:
        whose = "" if owner is None else f" --owner {shlex.quote(owner)}"
        click.echo(f"and {overdue} overdue (past due, still undecided): `handoff sla breaches"
                   f" --open{whose}`")


def _shown(obj: Any, header: list[str], records: list[dict[str, Any]]) -> list[list[Any]]:
    """Records as table rows, their instants (`..._at`) as people read them and their
    business hours (`...hours...`, unrounded as data) to two places."""
    shown = obj.instants.text

    def cell(name: str, value: Any) -> Any:
        if name.endswith("_at"):
            return shown(value)
        return rounded(value, 2) if "hours" in name and isinstance(value, float) else value

    return [[cell(h, record[h]) for h in header] for record in records]


@click.group()
def projections() -> None:
    """The read models behind kpi and sla breaches (rebuilt from the events at any time)."""


@projections.command()
@output_option("table", "json")
@click.pass_obj
def status(obj: Any, fmt: str) -> None:
    """How far the projections have read the event log, and their row counts."""
    from handoff import projections as read_models

    found = read_models.status(obj.app)
    record = {"position": found.position, "last_event": found.last_event,
              "behind": found.behind, "rows": found.rows}
    if fmt == "json":
        print_json(record)
        return
    rows = [["position", found.position], ["last event", found.last_event],
            ["behind", found.behind], *([f"rows in {n}", c] for n, c in found.rows.items())]
    print_table(["projection", "value"], rows, title="Projections")


@projections.command()
@click.pass_obj
def rebuild(obj: Any) -> None:
    """Empty the projections and read the whole event log again."""
    from handoff import projections as read_models

    with stages() as shown:
        count = read_models.rebuild(obj.app, progress=shown.log_position("rebuilding"))
    click.echo(f"rebuilt the projections from {count} events")
