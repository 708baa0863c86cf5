"""`handoff lead ...`: record each step of a lead's journey, and read it back."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any

import click

from handoff.cli.output import note_unknown_filter, output_option, print_csv, print_json, shown
from handoff.cli.tables import print_fields, print_table
from handoff.cli.values import FILTER_NAME, WHOLE_NUMBER
from handoff.domain.lead import Lead
from handoff.domain.steps import EVENT_NAMES, Fact
from handoff.views import entry_details, history_entries, lead_summary, step_details

at_option = click.option(
    "--at",
    metavar="T",
    help="When it happened (ISO-8601; no offset = the agreement's zone). Default: now.",
)
why_option = click.option(
    "--why",
    metavar="W",
    help="A step that was missed: recorded at its true --at, before the lead's latest step, "
    "with this reason.",
)


@click.group()
def lead() -> None:
    """Record and read the steps of a lead's journey."""


def _done(obj: Any, lead: Lead) -> None:
    step = lead.steps[-1]
    click.echo(shown(f"{lead.key}: {_reads(obj, step.event, step.stamp.occurred_at, step)}"))


def _reads(obj: Any, event: str, occurred_at: datetime, step: Lead.Event | Fact) -> str:
    """A step as the confirmations say it: `proposal at 2026-03-05 10:00 CST (amount=25000)`."""
    details = step_details(step)
    return f"{event} at {obj.instants.text(occurred_at)}" + (f" ({details})" if details else "")


def _record(obj: Any, key: str, event_name: str, at: str | None, why: str | None,
            **data: Any) -> None:
    _done(obj, obj.app.record(key, event_name, obj.actor, at, why, **data))


@lead.command()
@click.argument("key")
@click.option("--source", required=True, metavar="SOURCE",
              help="Where the lead came from (web, event, referral…).")
@click.option("--name", metavar="NAME", help="The person's name.")
@click.option("--email", metavar="EMAIL", help="Their e-mail address.")
@click.option("--company", metavar="COMPANY", help="Their company.")
@at_option
@click.pass_obj
def capture(obj: Any, key: str, source: str, name: str | None, email: str | None,
            company: str | None, at: str | None) -> None:
    """Marketing: a new lead KEY (a CRM id or an e-mail address) exists."""
    _done(obj, obj.app.capture(key, source, obj.actor, at=at, name=name, email=email,
                               company=company))


@lead.command()
@click.argument("key")
@click.option("--score", type=WHOLE_NUMBER, help="The qualification score (a whole number).")
@at_option
@why_option
@click.pass_obj
def qualify(obj: Any, key: str, score: int | None, at: str | None,
            why: str | None) -> None:
    """Marketing: the lead is qualified (an MQL); also requalifies a rejected lead."""
    _record(obj, key, "qualified", at, why, score=score)


@lead.command()
@click.argument("key")
@click.option("--owner", required=True, metavar="OWNER",
              help="The sales owner who must accept or reject it.")
@at_option
@why_option
@click.pass_obj
def handoff(obj: Any, key: str, owner: str, at: str | None,
            why: str | None) -> None:
    """Marketing: hand a qualified lead to a named sales owner; starts the SLA clock."""
    _record(obj, key, "handed", at, why, owner=owner)


@lead.command()
@click.argument("key")
@at_option
@why_option
@click.pass_obj
def accept(obj: Any, key: str, at: str | None,
           why: str | None) -> None:
    """Sales: accept a handed lead (a SAL)."""
    _record(obj, key, "accepted", at, why)


@lead.command()
@click.argument("key")
@click.option("--reason", required=True, metavar="REASON",
              help="Why sales sends it back to marketing.")
@at_option
@why_option
@click.pass_obj
def reject(obj: Any, key: str, reason: str, at: str | None,
           why: str | None) -> None:
    """Sales: send a handed lead back to marketing, with a reason."""
    _record(obj, key, "rejected", at, why, reason=reason)


@lead.command()
@click.argument("key")
@click.option("--channel", metavar="CHANNEL", help="How: phone, email, meeting…")
@at_option
@why_option
@click.pass_obj
def contact(obj: Any, key: str, channel: str | None, at: str | None,
            why: str | None) -> None:
    """Sales: one follow-up attempt on a lead sales holds."""
    _record(obj, key, "contacted", at, why, channel=channel)


@lead.command()
@click.argument("key")
@click.option("--amount", required=True, metavar="AMOUNT",
              help="The proposal's amount (greater than 0).")
@at_option
@why_option
@click.pass_obj
def proposal(obj: Any, key: str, amount: str, at: str | None,
             why: str | None) -> None:
    """Sales: a proposal was sent (again, if re-sent)."""
    _record(obj, key, "proposal", at, why, amount=amount)


@lead.command()
@click.argument("key")
@click.option("--amount", metavar="AMOUNT", help="The closed amount. Default: the last proposal's.")
@at_option
@why_option
@click.pass_obj
def win(obj: Any, key: str, amount: str | None, at: str | None,
        why: str | None) -> None:
    """Sales: the deal closed."""
    _record(obj, key, "won", at, why, amount=amount)


@lead.command()
@click.argument("key")
@click.option("--reason", required=True, metavar="REASON", help="Why the deal was lost.")
@at_option
@why_option
@click.pass_obj
def lose(obj: Any, key: str, reason: str, at: str | None,
         why: str | None) -> None:
    """Sales: the deal was lost, with a reason."""
    _record(obj, key, "lost", at, why, reason=reason)


@lead.command()
@click.argument("key")
@click.option("--as-of", metavar="T", help="Show the lead as recorded by this instant.")
@output_option("table", "json")
@click.pass_obj
def show(obj: Any, key: str, as_of: str | None, fmt: str) -> None:
    """The lead's state, source, owner and the instant of each stage."""
    from handoff.sla import handoff_standing

    app = obj.app
    instant = None if as_of is None else app.as_of(as_of)
    summary = lead_summary(app.lead(key), instant)
    # How its latest handoff stands, beside how many it had (as `lead list` says it).
    items = list(summary.items())
    after = [name for name, _ in items].index("handoffs") + 1
    summary = dict(items[:after] + list(handoff_standing(app, key, summary["handed_at"],
                                                         instant).items()) + items[after:])
    if fmt == "json":
        print_json(summary)
        return
    print_fields([(k, obj.instants.text(v) if k.endswith("_at") or k == "as_of" else v)
                  for k, v in summary.items() if v is not None], title=f"Lead {key}")


@lead.command()
@click.argument("key")
@click.option("--as-of", metavar="T", help="Only the entries recorded by this instant.")
@output_option("table", "json")
@click.pass_obj
def history(obj: Any, key: str, as_of: str | None, fmt: str) -> None:
    """Every entry of the lead, numbered in the order recorded, corrections included: when
    it occurred, when and by whom it was recorded, and under which agreement version; a
    correction names the entry it corrects (target), why, and what changed."""
    app = obj.app
    instant = None if as_of is None else app.as_of(as_of)
    entries = history_entries(app.lead(key), instant)
    if fmt == "json":
        print_json(entries)
        return
    print_table(
        ["#", "event", "occurred", "recorded", "actor", "agreement", "details"],
        [
            [e["n"], e["event"], obj.instants.text(e["occurred_at"]),
             obj.instants.text(e["recorded_at"]), e["actor"],
             e["agreement"] and f"{e['agreement']} (v{e['agreement_version']})",
             entry_details({**e, "at": obj.instants.text(e["at"])} if "at" in e else e)]
            for e in entries
        ],
        title=f"History of lead {key}",
    )


@lead.command("list")
@click.option("--state", type=click.Choice([n for n in EVENT_NAMES if n != "contacted"]),
              help="Only leads in this state (their latest step other than contacted).")
@click.option("--owner", metavar="O", type=FILTER_NAME,
              help="Only leads whose latest handoff went to O.")
@click.option("--source", metavar="S", type=FILTER_NAME, help="Only leads from this source.")
@click.option("--from", "start", metavar="D", help="Captured from this day (with --to).")
@click.option("--to", "end", metavar="D", help="Captured up to this day, inclusive (with --from).")
@click.option("--pending", is_flag=True,
              help="Only leads whose latest handoff waits for a decision, not yet due.")
@click.option("--overdue", is_flag=True,
              help="Only leads whose latest handoff is undecided past its due instant.")
@output_option("table", "json", "csv")
@click.pass_obj
def list_command(obj: Any, state: str | None, owner: str | None, source: str | None,
                 start: str | None, end: str | None, pending: bool, overdue: bool,
                 fmt: str) -> None:
    """The leads as they stand now, oldest captured first: state, source, owner, when
    captured and last handed, and how that handoff stands (in_time, late, pending,
    overdue). --from/--to are whole local days, as for `kpi`."""
    from handoff.kpi import NotOnePeriod, check_one_period, period_from_options
    from handoff.lead_list import COLUMNS, list_leads

    if pending and overdue:
        raise click.UsageError("give --pending or --overdue, not both: a handoff that waits "
                               "for a decision is either not yet due or past it")
    from handoff.domain.service_level import OVERDUE, PENDING

    handoff = PENDING if pending else OVERDUE if overdue else None
    app = obj.app
    captured = None
    if start is not None or end is not None:
        try:
            check_one_period(None, None, start, end)
        except NotOnePeriod as error:
            raise click.UsageError(str(error)) from None
        captured = period_from_options(app.agreement_register(), start=start, end=end)
    found = list_leads(app, state=state, owner=owner, source=source, captured=captured,
                       handoff=handoff)
    note_unknown_filter(app, owner, found, source)
    if fmt == "json":
        print_json(found)
    elif fmt == "csv":
        print_csv(list(COLUMNS), [[row[c] for c in COLUMNS] for row in found])
    else:
        shown = obj.instants.text
        print_table(list(COLUMNS), [[shown(row[c]) if c.endswith("_at") else row[c]
                                     for c in COLUMNS] for row in found],
                    title=f"Leads ({len(found)})")


@lead.command()
@click.argument("key")
@click.option("--why", required=True, metavar="W", help="Why (the person's request, a ticket).")
@click.pass_obj
def forget(obj: Any, key: str, why: str) -> None:
    """Erase the person behind lead KEY: name, e-mail and company, from every entry already
    written too. The lead's steps stay, so every KPI and SLA figure stays as it was; the
    history keeps who forgot it, when and why. This cannot be undone."""
    obj.app.forget(key, why, obj.actor)
    click.echo(f"{key}: forgotten (name, e-mail and company erased)")
    if "@" in key:  # the key names the lead in every entry and report: it cannot go
        click.echo(f"note: the key {key!r} itself stays, as it names the lead; a lead keyed "
                   "by an e-mail address keeps that address (key leads by a CRM id instead)")


@lead.command()
@click.argument("key")
@click.argument("n", type=WHOLE_NUMBER)
@click.option("--why", required=True, metavar="W", help="Why entry N no longer counts.")
@click.pass_obj
def void(obj: Any, key: str, n: int, why: str) -> None:
    """Correct the record: entry N of lead KEY (as numbered by `lead history`) no longer
    counts, say for a step recorded on the wrong lead. The entry stays in the history;
    every view, KPI and breach uses the corrected steps from now on."""
    before = obj.app.lead(key)  # the step as it read until now, for the confirmation
    obj.app.void(key, n, why, obj.actor)
    fact = before.step(n)
    click.echo(shown(f"{key}: entry {n} voided: "
                     f"{_reads(obj, fact.name, fact.occurred_at, fact)} no longer counts"))


@lead.command()
@click.argument("key")
@click.argument("n", type=WHOLE_NUMBER)
@click.option("--at", metavar="T", help="When the step truly happened.")
@click.option("--owner", metavar="OWNER", help="The sales owner a handoff went to.")
@click.option("--amount", metavar="AMOUNT", help="A proposal's or a win's amount.")
@click.option("--score", type=WHOLE_NUMBER, metavar="SCORE",
              help="A qualification's score (a whole number).")
@click.option("--reason", metavar="REASON", help="A rejection's or a loss's reason.")
@click.option("--channel", metavar="CHANNEL", help="How a contact was made.")
@click.option("--source", metavar="SOURCE", help="Where a captured lead came from.")
@click.option("--name", metavar="NAME", help="The person's name, as captured.")
@click.option("--email", metavar="EMAIL", help="Their e-mail address.")
@click.option("--company", metavar="COMPANY", help="Their company.")
@click.option("--why", required=True, metavar="W", help="Why the entry is amended.")
@click.pass_obj
def amend(obj: Any, /, key: str, n: int, why: str, at: str | None, **fields: Any) -> None:
    """Correct the record: entry N of lead KEY (as numbered by `lead history`) now reads
    with the values given, say a mistyped amount or a wrong instant. The entry stays in
    the history as first written; every view, KPI and breach uses the corrected values."""
    lead = obj.app.amend(key, n, why, obj.actor, at=at, **fields)
    fact = lead.step(n)  # what the entry now reads, all of it: was it the right entry?
    click.echo(shown(f"{key}: entry {n} amended: {_reads(obj, fact.name, fact.occurred_at, fact)}"))
    win = lead.win_apart_from(n) if fields.get("amount") is not None else None
    if win is not None:
        amount = lead.step(n).data["amount"]
        click.echo(
            f"{key}: the win, entry {win.n}, still holds {win.data['amount']}, the amount it was"
            f" won for; if the deal closed for {amount}, amend it too: handoff lead amend"
            f" {shlex.quote(key)} {win.n} --amount {amount} --why W"
        )
