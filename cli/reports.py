"""`handoff plan`, `report` and `demo`: the reverse funnel, the monthly review, a sample store."""

from __future__ import annotations

import shlex
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from handoff.cli.output import output_option, print_json
from handoff.cli.tables import print_table
from handoff.cli.values import as_of_option, recorded_by
from handoff.instants import iso, now_utc, parse_day
from handoff.plan import PLAN_KEYS, figure_words
from handoff.store import without_password
from handoff.words import percent


@click.command()
@click.option("--at", metavar="D", help="Plan the agreement in force on this local date. "
              "Default: the one in force now (with --as-of, then).")
@as_of_option
@output_option("table", "json")
@click.pass_obj
def plan(obj: Any, at: str | None, as_of: str | None, fmt: str) -> None:
    """The reverse funnel: what each stage must reach for the agreement's revenue goal.

    won = ceil(revenue / average_deal), then each stage above is the one below divided
    by its target rate, rounded up (a rate the agreement leaves out counts as 1). Each
    month gets the goal prorated by its days. Shown beside the actuals to date (flow).
    An open-ended agreement is planned over the twelve months from its start. With
    --as-of T, the plan and its actuals as recorded by T.
    """
    from handoff.report import plan_with_actuals

    instant, then = recorded_by(obj, as_of)
    result = plan_with_actuals(obj.app, parse_day(at) if at is not None else None, instant)
    if fmt == "json":
        print_json(result if instant is None else {**result, "as_of": iso(instant)})
        return
    _print_plan(result, then)


def _print_plan(result: dict[str, Any], then: str = "") -> None:
    agreement, period, actual = result["agreement"], result["period"], result["actual"]
    span = f"{period['from']} to {period['to']}"
    if period["open_ended"]:
        span += " (open-ended: planned over its first twelve months)"
    through = f"actual to {actual['to']}" if actual else "actual"
    rows = [
        [key, figure_words(key, result["total"][key]),
         figure_words(key, actual[key]) if actual else "",
         _share(actual[key], result["total"][key]) if actual else ""]
        for key in PLAN_KEYS
    ]
    click.echo(f"Plan of {agreement['name']!r} (version {agreement['version']}), {span}"
               + (f", {then}" if then else ""))
    print_table(["stage", "plan", through, "% of plan"], rows, title="Whole period")
    monthly = [
        [_month_named(month), *(_beside(month, key) for key in PLAN_KEYS)]
        for month in result["per_month"]
    ]
    print_table(["month", *PLAN_KEYS], monthly, title="By month: actual / plan")
    replaced = result["replaced"]
    if replaced is not None:
        click.echo(f"version {replaced['version']} is in force from {replaced['from']}: the"
                   " months from then on are planned by it (`handoff plan --at"
                   f" {replaced['from']}`)")


def _month_named(month: dict[str, Any]) -> str:
    """A month of the plan, and the days it covers when not all of them (an agreement that
    begins or ends within it): `2026-03 (16-31)`."""
    first = date.fromisoformat(month["from"])
    last = date.fromisoformat(month["to"])
    whole = first.day == 1 and (last + timedelta(days=1)).day == 1
    return month["month"] if whole else f"{month['month']} ({first.day}-{last.day})"


def _beside(month: dict[str, Any], key: str) -> str:
    planned = figure_words(key, month[key])
    return planned if month["actual"] is None else (
        f"{figure_words(key, month['actual'][key])} / {planned}")


def _share(actual: int | Decimal, planned: int | Decimal) -> str:
    return f"{percent(Decimal(actual) / Decimal(planned), 0)}%" if planned else ""


@click.command()
@click.option("--month", metavar="M", help="The month to review (YYYY-MM).")
@click.option("--quarter", metavar="Q", help="Or the quarter to review (YYYYQn).")
@click.option("--out", required=True, metavar="FILE.html", help="The HTML file to write.")
@click.option("--as-of", "as_of", metavar="T",
              help="Use only events recorded by T: replays the report as it stood then. "
              "Default: now.")
@click.pass_obj
def report(obj: Any, month: str | None, quarter: str | None, out: str, as_of: str | None) -> None:
    """Write the joint review of a month (or a quarter) as one self-contained HTML file.

    Charts first (the funnel beside the plan, twelve-month trends of each rate and of SLA
    compliance against their targets, the distribution of response times), then the
    agreement in force, flow and cohort KPIs beside its targets, the handoff SLA, tables
    by source and by owner, and the handoffs of the period that breached it.
    """
    if (month is None) == (quarter is None):
        raise click.UsageError("give one period: --month YYYY-MM or --quarter YYYYQn")
    if Path(out).suffix.lower() != ".html":  # as `sla doc` names what it writes by its suffix
        raise click.BadParameter("must end in .html (the review is an HTML page)",
                                 param_hint="--out")
    from handoff.report import monthly_review, render_review

    app = obj.app
    instant = app.as_of(as_of) if as_of is not None else None
    review = monthly_review(app, month, as_of=instant, quarter=quarter)
    page = render_review(review)
    try:
        Path(out).write_text(page, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(f"wrote the {month or quarter} review to {out}")


def _demo_file(ctx: click.Context, out: str) -> str:
    """The file the demo builds: --out, or the global --store typed before `demo`, where
    every other command reads its store (HANDOFF_STORE is not taken: it may name a team's
    store, which the demo would refuse anyway)."""
    root = ctx.find_root()
    if root.get_parameter_source("store") is not ParameterSource.COMMANDLINE:
        if not out.strip():  # Path("") is the current folder, "not a demo store"
            raise click.UsageError("--out is empty: name the file the demo builds")
        return out
    store = str(root.params["store"])
    if not store.strip():
        raise click.UsageError("--store is empty: name the file the demo builds")
    if ctx.get_parameter_source("out") is ParameterSource.COMMANDLINE and out != store:
        raise click.UsageError(f"--store {without_password(store)!r} and --out "
                               f"{without_password(out)!r} name two files: the "
                               "demo builds one (give --out alone)")
    return store


@click.command()
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed builds the same store (on the same day).")
@click.option("--out", default="handoff-demo.sqlite", show_default=True, metavar="FILE",
              help="The store file to build (or --store typed before demo); an earlier "
              "demo there is replaced, any other file is left alone.")
@click.option("--months", type=click.IntRange(min=2, max=36), default=12, show_default=True,
              help="Months of history before the current one.")
@click.pass_context
def demo(ctx: click.Context, seed: int, out: str, months: int) -> None:
    """Build a realistic sample store, then print the KPIs of its last full month.

    A year of leads from several sources with seasonality, daily traffic, recycled
    leads, late and missed handoffs, re-sent proposals, won and lost deals, a team of
    marketing and sales people, an agreement both sides signed and its mid-year revision,
    a restatement of it, and a few corrections. The demo is always a SQLite file.
    """
    from handoff.store import creating, locate

    out = _demo_file(ctx, out)
    if "://" in out:
        raise click.UsageError("the demo builds a SQLite file, not a database: "
                               f"{without_password(out)!r} is a URL (give a file name)")
    # Two demos at once on one file run one after the other: the second replaces the first's
    # store only once that one has printed from it.
    locate(out).refuse_if_uncreatable(replacing=True)  # its lock file is made there first
    with creating(Path(out)):
        _build_and_show_demo(out, seed, months)


def _build_and_show_demo(out: str, seed: int, months: int) -> None:
    from handoff.application import HandoffApp
    from handoff.cli.kpi import print_kpi_table
    from handoff.cli.output import Instants
    from handoff.demo import build_demo
    from handoff.kpi import compute_kpis, period_from_options
    from handoff.simulation import TIMEZONE
    from handoff.store import locate

    today = now_utc().astimezone(TIMEZONE).date()
    built = build_demo(Path(out), seed=seed, today=today, months=months)
    click.echo(
        f"Built the demo store {out}: {built.leads:,} leads, {built.events:,} events and "
        f"{built.traffic_days} days of traffic from {built.first_day} to {built.last_day}, "
        "under an agreement with a mid-year revision, restated five weeks later (three "
        "versions: handoff sla history).\n"
    )
    app = HandoffApp(locate(out))
    try:
        register = app.agreement_register()
        period = period_from_options(register, month=built.last_full_month)
        result = compute_kpis(app, period)
        print_kpi_table(result, instants=Instants.of(register))
    finally:
        app.close()
    store = f"handoff --store {shlex.quote(out)}"
    month = built.last_full_month
    click.echo(
        "\nTry next:\n"
        f"  {store} kpi --month {month} --by owner\n"
        f"  {store} sla breaches\n"
        f"  {store} plan\n"
        f"  {store} report --month {month} --out review-{month}.html"
    )
