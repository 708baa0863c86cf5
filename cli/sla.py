"""`handoff sla ...`: apply, sign, check, show and list the versions of the agreement."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from handoff import inputs
from handoff.cli.livingdoc import doc, verify
from handoff.cli.output import note_no_agreement, output_option, print_json, shown
from handoff.cli.tables import print_fields, print_table
from handoff.cli.values import FILE_NAME, WHOLE_NUMBER, as_of_option, recorded_by
from handoff.domain.agreement import (
    AgreementRegister,
    AgreementTerms,
    AppliedVersion,
    Change,
    Proposal,
)
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import InvalidAgreement, NoAgreement
from handoff.instants import iso, parse_day
from handoff.views import history_records, version_record
from handoff.words import counted

if TYPE_CHECKING:
    from handoff.notify import RunReport


@click.group()
def sla() -> None:
    """The service level agreement: its versions and what it demands."""


def read_text(path: str) -> str:
    """A file the user named, or a refusal saying why it cannot be read."""
    try:
        # Line ends as Path.read_text reads them (a file saved on an old Mac ends lines in "\r").
        return inputs.read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    except inputs.CannotRead as error:
        raise InvalidAgreement(str(error)) from None


def read_terms(file: str) -> AgreementTerms:
    """The agreement in a TOML FILE, or a refusal naming the file, the key and the reason."""
    text = read_text(file)
    try:
        return parse_agreement(text)
    except InvalidAgreement as error:
        raise InvalidAgreement(f"{file}: {error}") from None


def restatement_options(command: Any) -> Any:
    """`--restate --why W`: the version also judges the handoffs recorded before it."""
    command = click.option(
        "--why", metavar="W", help="Why the past is restated (with --restate)."
    )(command)
    return click.option(
        "--restate", is_flag=True,
        help="Also judge the handoffs recorded before this version (a restatement, named "
        "in every report of the periods it changes); needs --why.",
    )(command)


def _restates(restate: bool, why: str | None) -> str | None:
    if restate and why is None:
        raise click.UsageError("--restate needs --why with the reason")
    if why is not None and not restate:
        raise click.UsageError("--why goes with --restate")
    return why


@sla.command("apply")
@click.argument("file", metavar="FILE", type=FILE_NAME)
@restatement_options
@click.pass_obj
def apply_command(obj: Any, file: str, restate: bool, why: str | None) -> None:
    """Record a new version of the agreement from a TOML FILE (versions are never edited).

    Without a [team] (in the file or in the version in force) the version is in force at
    once. With one, applying proposes the version and signs it for your side; it comes
    into force when a member of the other side runs `handoff sla sign N`. Terms identical
    to a recorded version record nothing.

    A version judges the handoffs recorded after it; those recorded before keep the terms
    they were judged by, unless it is signed with --restate --why W.
    """
    restates = _restates(restate, why)
    terms = read_terms(file)
    taken = _taken_over(obj, terms)
    version, new = obj.app.apply_agreement(terms, obj.actor, restates)
    if not new:
        said = f"identical to version {version.number} ({version.name!r}); nothing recorded"
        if isinstance(version, Proposal):
            # Sales applying the file marketing proposed agrees to nothing: say what does.
            said += f". Proposed by {version.actor}, it is {_until_signed(version)}"
        latest = obj.app.agreement_register().history()[-1]
        if latest.number > version.number:
            said += (f". Version {latest.number} ({latest.name!r}) was recorded since: to return"
                     " to these terms, apply them under another name")
        click.echo(said)
        return
    described = f"{terms.name!r}, {terms.dates} ({terms.document['timezone']})"
    if isinstance(version, AppliedVersion):
        when = _dates_not_today(obj, terms) or ", in force now"
        click.echo(f"applied version {version.number}: {described}{when}")
    else:
        side = version.signatures[0].side
        click.echo(
            f"proposed version {version.number}: {described}, signed by {version.actor} for "
            f"{side}; {_until_signed(version)}"
        )
    in_force = isinstance(version, AppliedVersion)
    _say_taken_over(taken, f"version {version.number}" if in_force
                    else f"version {version.number}, once signed,", in_force)
    if restates is not None:
        _say_restated_beyond(obj, version.number)


def _until_signed(proposal: Proposal) -> str:
    """When a proposal comes into force, and the command that does it."""
    side = proposal.awaiting
    return (f"in force once {side} signs it ({proposal.team.describe(side)}): "
            f"handoff sla sign {proposal.number}")


@sla.command("sign")
@click.argument("number", metavar="N", type=WHOLE_NUMBER)
@restatement_options
@click.pass_obj
def sign_command(obj: Any, number: int, restate: bool, why: str | None) -> None:
    """Sign version N for your side of the team; with both sides' signatures it is in force
    from now on. With --restate --why W (or when proposed so), it also judges the handoffs
    recorded before it."""
    restates = _restates(restate, why)
    waiting = next((v for v in obj.app.agreement_register().history() if v.number == number
                    and isinstance(v, Proposal)), None)
    taken = [] if waiting is None else _taken_over(obj, waiting.terms)
    version = obj.app.sign_agreement(number, obj.actor, restates)
    signature = version.signatures[-1]
    not_today = _dates_not_today(obj, version.terms)
    state = (
        f"is signed{not_today}" if not_today
        else f"is in force from {obj.instants.text(version.applied_at)}"
    )
    click.echo(f"signed version {version.number} for {signature.side}: {version.name!r} {state}")
    _say_taken_over(taken, f"version {version.number}", in_force=True)
    if version.restates is not None:
        _say_restated_beyond(obj, version.number)


def _say_restated_beyond(obj: Any, number: int) -> None:
    """What a restatement changes for the handoffs recorded under an earlier version other
    than the one it revises (`sla history`'s `restates_changes`): a revision that restated
    nothing, whose terms the restatement carries back over the past too, said before the
    other side signs rather than found in a report."""
    records = history_records(obj.app.agreement_register().history())
    record = next(r for r in records if r["version"] == number)
    for earlier in record.get("restates_changes", []):
        if earlier["version"] == record["compared_with"]:
            continue  # what the line above (or `sla check`) says it changes
        changes = _described(earlier["changes"])
        click.echo(shown(f"note: as a restatement, version {number} also judges the handoffs"
                         f" recorded under version {earlier['version']} again: {changes}"))


def _taken_over(obj: Any, terms: AgreementTerms) -> list[tuple[AppliedVersion, date, date]]:
    """The versions in force now whose days the terms would take over beyond the version
    they revise (`AgreementRegister.taken_over_by`)."""
    register: AgreementRegister = obj.app.agreement_register()
    return register.taken_over_by(terms)


def _say_taken_over(taken: list[tuple[AppliedVersion, date, date]], subject: str,
                    in_force: bool) -> None:
    """A note for each version whose days `subject` takes over beyond the one it revises,
    said before the other side signs rather than found in next month's targets: with the
    dates of one half-year and a holiday added, a file takes the second quarter back from
    the revision in force on it."""
    governs = "governs" if in_force else "would govern"
    for version, first, last in taken:
        days = f"from {first.isoformat()} on" if last == date.max else (
            f"on {first.isoformat()}" if first == last
            else f"from {first.isoformat()} to {last.isoformat()}")
        click.echo(shown(
            f"note: {subject} {governs} the days {days} (their targets, and the handoffs"
            f" recorded from then on) instead of version {version.number} ({version.name!r}),"
            " in force on them until now: of two versions covering a day, the one that came"
            " into force last governs it"))


def _dates_not_today(obj: Any, terms: AgreementTerms) -> str | None:
    """Why a version in force is not in force today: its dates begin later, or have ended
    (None when they hold today). `sla apply` and `sla sign` say it the same way."""
    today = obj.app.clock().astimezone(terms.timezone).date()
    if terms.covers(today):
        return None
    if today < terms.effective_from:
        return f", in force from {terms.effective_from.isoformat()}"
    end = terms.effective_to.isoformat() if terms.effective_to else "open-ended"
    return f"; its dates ended on {end}"


@sla.command("check")
@click.argument("file", metavar="FILE", type=FILE_NAME)
@output_option("table", "json")
@click.pass_obj
def check_command(obj: Any, file: str, fmt: str) -> None:
    """Validate a TOML FILE and show how it differs from the version in force on the
    file's first day (when none is, the last to come into force); records nothing."""
    terms = read_terms(file)
    current, changes = obj.app.check_agreement(terms)  # a missing store is refused (SPEC §7)
    identical = obj.app.agreement_register().identical_to(terms)
    taken = [] if identical is not None else _taken_over(obj, terms)
    if fmt == "json":
        print_json({
            "valid": True,
            "in_force": None if current is None else current.number,
            "identical_to": None if identical is None else identical.number,
            "changes": [_change_record(c) for c in changes],
            "takes_over": [
                {"version": version.number, "from": first.isoformat(),
                 "to": None if last == date.max else last.isoformat()}
                for version, first, last in taken],
        })
        return
    against = (
        "no version in force" if current is None
        else f"version {current.number} ({current.name!r})"
    )
    click.echo(f"{file}: valid; compared with {against}")
    if identical is not None:
        click.echo(f"identical to version {identical.number}: applying it would record nothing")
    elif not changes:
        click.echo("no change")
    else:
        # The version compared with, by number: "in force" read as today's terms, where it
        # may have ended (H1, in December) or hold only some of the file's days.
        compared = "no version" if current is None else f"version {current.number}"
        print_table(["term", compared, "in the file"],
                    [[c.key, _value_or_dash(c.before), _value_or_dash(c.after)] for c in changes])
    _say_taken_over(taken, "applied and in force, this file", in_force=False)


def _value_or_dash(value: Any) -> str:
    return "-" if value is None else _value(value)


def _change_record(change: Change) -> dict[str, Any]:
    return {"key": change.key, "before": change.before, "after": change.after}


@sla.command()
@click.option("--at", metavar="D",
              help="The local date to look at. Default: the version in force now (with "
              "--as-of, then).")
@as_of_option
@output_option("table", "json")
@click.pass_obj
def show(obj: Any, at: str | None, as_of: str | None, fmt: str) -> None:
    """The version of the agreement in force on a date (--at D), as recorded by an instant
    (--as-of T)."""
    app = obj.app
    instant, then = recorded_by(obj, as_of)
    register = app.agreement_register(instant)
    if at is None:
        version = register.in_force_at(instant or app.clock())
        when = then or "now"
    else:
        version = register.in_force_on(parse_day(at))
        when = " ".join(filter(None, (f"on {at}", then)))
    if version is None:
        from handoff.report import no_agreement_hint

        raise NoAgreement(
            f"no agreement is in force {when}:"
            f" {no_agreement_hint(register, '--at a day', replayed=instant is not None)}")
    record = version_record(version)
    # The days its country's calendar closes, which the file names only by the country's
    # code ("US" closes Veterans Day too): for a year from the day asked about (or today).
    from datetime import timedelta

    first = parse_day(at) if at is not None else (instant or app.clock()).astimezone(
        version.terms.timezone).date()
    ahead = version.terms.public_holidays_between(first, first + timedelta(days=365))
    if version.terms.document.get("calendar", {}).get("country_holidays"):
        record["public_holidays_ahead"] = [{"day": day.isoformat(), "name": name}
                                           for day, name in ahead]
    if fmt == "json":
        print_json(record if instant is None else {**record, "as_of": iso(instant)})
        return
    document = record.pop("document")
    if "public_holidays_ahead" in record:
        record["public_holidays_ahead"] = "; ".join(
            f"{day:%Y-%m-%d} {name}" for day, name in ahead) or "none within a year"
    record["signatures"] = "; ".join(
        f"{s.actor} for {s.side}, {obj.instants.text(s.signed_at)}" for s in version.signatures
    ) or None
    pairs = [(k, obj.instants.text(v) if k.endswith("_at") and isinstance(v, str) else v)
             for k, v in record.items()]
    pairs += [(section, _flat(value)) for section, value in document.items()
              if isinstance(value, dict)]
    print_fields(pairs, title=f"Agreement in force {when}")


def _flat(section: dict[str, Any]) -> str:
    return "; ".join(f"{k} = {_value(v)}" for k, v in section.items())


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@sla.command()
@as_of_option
@output_option("table", "json")
@click.pass_obj
def history(obj: Any, as_of: str | None, fmt: str) -> None:
    """Every version of the agreement ever applied or proposed, oldest first: who proposed
    it, who signed it and when, and what changed from the version before. With --as-of T,
    as recorded by T: a version proposed then and signed since reads as awaiting a side."""
    instant, then = recorded_by(obj, as_of)
    versions = obj.app.agreement_register(instant).history()
    records = history_records(versions)
    if fmt == "json":
        print_json(records if instant is None
                   else [{**record, "as_of": iso(instant)} for record in records])
        return
    header = ["version", "name", "effective", "status", "proposed", "signed"]
    rows = []
    for version, record in zip(versions, records, strict=True):
        proposed = obj.instants.text(record["proposed_at"])
        signed = "; ".join(
            f"{s.actor} for {s.side}, {obj.instants.text(s.signed_at)}"
            for s in version.signatures
        )
        rows.append([
            version.number, version.name, version.terms.dates,
            record["status"], f"{version.actor}, {proposed}", signed or "-",
        ])
    print_table(header, rows, title=" ".join(filter(None, ("Agreement versions", then))))
    for record in records[1:]:
        if record["compared_with"] is None:
            continue
        changes = _described(record["changes"]) or "no term changed"
        click.echo(shown(f"version {record['version']} changes from version "
                         f"{record['compared_with']}: {changes}"))
    for version, record in zip(versions, records, strict=True):
        if isinstance(version, Proposal) and version.overtaken_by is not None:
            continue  # never in force: it judges no handoff, as its status says
        # One still awaiting its second signature judges nothing yet either.
        changes_for = ("a restatement, changes for" if isinstance(version, AppliedVersion)
                       else "proposed as a restatement, would change once signed for")
        for earlier in record.get("restates_changes", []):
            changes = _described(earlier["changes"])
            click.echo(shown(f"version {record['version']}, {changes_for} the handoffs"
                             f" recorded under version {earlier['version']}: {changes}"))


def _described(changes: list[dict[str, Any]]) -> str:
    """Changes of terms in one line, as `sla history` and `sla apply` say them."""
    return "; ".join(_describe(c) for c in changes)


def _describe(change: dict[str, Any]) -> str:
    if change["before"] is None:
        return f"{change['key']} added: {_value(change['after'])}"
    if change["after"] is None:
        return f"{change['key']} dropped (was {_value(change['before'])})"
    return f"{change['key']}: {_value(change['before'])} -> {_value(change['after'])}"


# Why `sla notify` takes each channel once (`cli.strict_options` refuses a repeated option).
_ONE_CHANNEL = {
    "webhook": "a run sends to one webhook (run `sla notify` once for each)",
    "smtp": "a run sends to one SMTP server (run `sla notify` once for each)",
}


@sla.command("notify")
@click.option("--webhook", metavar="URL", envvar="HANDOFF_WEBHOOK", show_envvar=True,
              help="A Slack-compatible incoming webhook: each notice is POSTed as "
                   '{"text": ...}. (From the environment, it stays out of `ps`.)')
@click.option("--smtp", metavar="URL", envvar="HANDOFF_SMTP", show_envvar=True,
              help="An SMTP server: smtp://[user:password@]host[:port] (STARTTLS when the "
                   "server offers it) or smtps://... (TLS); with --to.")
@click.option("--to", multiple=True, metavar="ADDR",
              help="An e-mail address the notices go to; repeat it for several (each gets "
                   "every notice).")
@click.option("--from", "sender", metavar="ADDR",
              help="The sender's address. Default: the URL's user when it is an address, "
                   "else handoff@HOSTNAME, this machine's name.")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and record nothing.")
@click.pass_obj
def notify_command(obj: Any, webhook: str | None, smtp: str | None, to: tuple[str, ...],
                   sender: str | None, dry_run: bool) -> None:
    """Send sales the notices due now, each once per channel (run it from cron).

    A warning when an undecided handoff has used 50 %, 75 % and 90 % of its decision
    window, a notice when it becomes overdue, and a digest on each business day from
    its opening time. Each notice is recorded in the store and sent once per webhook
    or address, even when two runs overlap; one that could not be delivered is sent
    again by the next run. Exits 1 when a delivery failed (after trying the others).
    """
    from handoff.cli import given
    from handoff.notify import RunReport, send_notices

    ctx = click.get_current_context()
    channels = _channels(given(ctx, "webhook", webhook), given(ctx, "smtp", smtp), to, sender)
    report = RunReport(dry_run)
    try:
        send_notices(obj.app, channels, actor=obj.actor, dry_run=dry_run, report=report)
    except BaseException:
        if not dry_run:  # stopped (the store busy, a Ctrl-C): what sales received all the same
            _said_sent(report)
        raise
    _said_sent(report)
    for attempt in report.failed:
        click.echo(shown(f"not sent by {attempt.channel}: {attempt.draft.title}"))
    # Nothing due for want of an agreement: the cron log says why, as `sla due` does.
    note_no_agreement(obj.app, [*report.sent, *report.failed])
    if dry_run:
        click.echo(f"dry run: {_notices(len(report.sent))} would be sent "
                   f"({report.skipped} already sent); nothing sent, nothing recorded")
        return
    click.echo(f"{_notices(len(report.sent))} sent, {len(report.failed)} failed, "
               f"{report.skipped} already sent")
    if report.failed:
        reasons = "; ".join(report.failure_reasons())
        raise click.ClickException(
            f"{_notices(len(report.failed))} not delivered ({reasons}); the next run sends "
            f"{'it' if len(report.failed) == 1 else 'them'} again"
        )


def _said_sent(report: RunReport) -> None:
    """A line per notice delivered (a dry run: the text of each it would send)."""
    for attempt in report.sent:
        if report.dry_run:
            click.echo(f"would send by {attempt.channel}:")
            click.echo(shown("  " + attempt.draft.text.replace("\n", "\n  ")))
        else:
            click.echo(shown(f"sent by {attempt.channel}: {attempt.draft.title}"))


def _notices(count: int) -> str:
    return counted(count, "notice")


def _channels(webhook: str | None, smtp: str | None, to: tuple[str, ...],
              sender: str | None) -> list[Any]:
    """The channels the options name, one per address (an address given twice, in any
    case, once); a usage error (exit 2) when none or half of one."""
    from handoff.notify_channels import BadDestination, Mailbox, Webhook

    for option, value in (("--webhook (or HANDOFF_WEBHOOK)", webhook),
                          ("--smtp (or HANDOFF_SMTP)", smtp)):
        if value is not None and not value.strip():
            raise click.UsageError(f"{option} is empty: give its URL, or leave it out")
    if (smtp is None) != (not to):
        raise click.UsageError("--smtp and --to go together")
    if webhook is None and smtp is None:
        raise click.UsageError("give at least one channel: --webhook URL, or --smtp URL --to ADDR")
    if sender is not None and smtp is None:
        raise click.UsageError("--from goes with --smtp and --to")
    channels: list[Any] = []
    try:
        if webhook is not None:
            channels.append(Webhook(webhook))
        if smtp is not None:
            for address in to:
                box = Mailbox(smtp, address, sender)
                if all(box.key != other.key for other in channels):
                    channels.append(box)
    except BadDestination as error:
        raise click.UsageError(str(error)) from None
    return channels


# `sla verify` and `sla doc` live with the living document they feed (imported above);
# `sla breaches` and `sla due` read the projections, with `kpi`.
from handoff.cli.kpi import breaches, due  # noqa: E402

for _command in (verify, doc, breaches, due):
    sla.add_command(_command)
for _param in notify_command.params:
    if _param.name in _ONE_CHANNEL:
        _param.given_once_because = _ONE_CHANNEL[_param.name]  # type: ignore[attr-defined]
