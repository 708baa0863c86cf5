"""Traffic, import and export: getting data in and out of the store in bulk."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from handoff.backup import backup_lines, is_backup, restore
from handoff.cli import Interrupted, note_interrupted
from handoff.cli.output import print_lines
from handoff.cli.progress import Stages, stages
from handoff.cli.values import FILE_NAME, WHOLE_NUMBER
from handoff.exporter import csv_export
from handoff.importer import (
    Importer,
    ImportReport,
    MalformedFile,
    Row,
    UnknownColumns,
    no_cyclic_gc,
    read_jsonl_rows,
    read_rows,
)
from handoff.inputs import CannotRead, read_text
from handoff.instants import parse_day
from handoff.store import cannot_write, driver_said, without_password
from handoff.words import counted

_PROGRESS_FROM_ROWS = 2000


@click.group()
def traffic() -> None:
    """Website traffic: the visits that feed visit_to_captured."""


@traffic.command("record")
@click.option("--date", "day", required=True, metavar="D", help="The local day (YYYY-MM-DD).")
@click.option("--visits", required=True, type=WHOLE_NUMBER, help="Visits that day.")
@click.pass_obj
def record_traffic(obj: Any, day: str, visits: int) -> None:
    """Record the visits of one day (recording a day again corrects it)."""
    recorded = parse_day(day)
    obj.app.record_visits(recorded, visits, obj.actor)
    click.echo(f"{recorded.isoformat()}: {visits} visits")


@click.command("import")
@click.argument("files", metavar="FILE...", nargs=-1, required=True, type=FILE_NAME)
@click.option("--from", "crm", type=click.Choice(["handoff", "hubspot", "salesforce"]),
              default="handoff", show_default=True,
              help="The file's maker: handoff's CSV/JSONL, a HubSpot contacts export, or "
                   "Salesforce's Lead, LeadHistory and OpportunityHistory exports (files or "
                   "a directory holding them).")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.pass_obj
def import_command(obj: Any, files: tuple[str, ...], crm: str, dry_run: bool) -> None:
    """Import lead events and traffic from a CSV FILE (or .jsonl, as exported), or a
    CRM's export (--from hubspot | salesforce; the README maps each column).

    The whole file is checked first: if any row is bad, every bad row is reported
    with its line number and nothing is written. Rows already recorded (same lead,
    event, time and data) are skipped, so re-running an interrupted import is safe;
    a row naming a recorded step with other data is refused.
    """
    if crm != "handoff":
        from handoff.cli.crm import import_from_crm

        import_from_crm(obj, crm, files, dry_run)
        return
    if len(files) != 1:
        raise click.UsageError("import reads one FILE (several only with --from salesforce)")
    file = files[0]
    try:
        # As written: a line break inside a quoted cell (a reason pasted from Windows,
        # "\r\n") is the cell's own; the CSV reader tells it from the rows' line ends.
        text = read_text(file)
    except CannotRead as error:
        raise MalformedFile(str(error)) from None
    if is_backup(text):
        _restore(obj, text, dry_run)
        return
    # JSON lines by the file's name, or by its first character (`import -` has no name):
    # a CSV begins with its header, never with "{".
    json_lines = file.endswith(".jsonl") or text.lstrip().startswith("{")
    reader = read_jsonl_rows if json_lines else read_rows
    with stages() as shown, no_cyclic_gc():
        lines = text.count("\n")
        progress = _ImportProgress(shown) if lines >= _PROGRESS_FROM_ROWS else None
        app = obj.app_to_check_against() if dry_run else obj.app
        importer = Importer(app, obj.actor, wording=obj.instant_words())
        with interrupt_said(importer, "rows"):  # until the KPIs are up to date
            try:
                report = importer.run_file(text, reader, dry_run=dry_run, progress=progress,
                                           meanwhile=_catch_up_prepared)
            except UnknownColumns as error:
                raise MalformedFile(f"{file}: {error}{_crm_hint(error.header)}") from None
            except MalformedFile as error:
                raise MalformedFile(f"{file}: {error}") from None  # named like each bad row
            del text  # not held while the KPIs catch up (nor the leads: `Importer.run`)
            if report.writes:
                from handoff.projections import catch_up  # KPIs ready when the import ends

                updating = shown.log_position("updating the KPIs") if progress else None
                with recorded_before(recorded_words(report.recorded, "rows"), obj.store):
                    catch_up(obj.app, progress=updating)
    if not report.ok:
        for bad_row in report.errors:
            click.echo(f"{file}: {bad_row}", err=True)
        raise bad_rows(len(report.errors))
    if dry_run:
        click.echo(
            f"dry run: {counted(report.rows, 'row')} {'is' if report.rows == 1 else 'are'} "
            f"valid: {report.recorded} would be recorded, {report.skipped} already recorded; "
            "nothing was written"
        )
    else:
        click.echo(
            f"imported {counted(report.rows, 'row')}: {report.recorded} recorded, "
            f"{report.skipped} skipped (already recorded), {counted(report.leads, 'lead')} "
            "changed"
        )
    say_forgotten_named(report)


def say_forgotten_named(report: ImportReport) -> None:
    """The forgotten leads whose person the file still names: nothing of them was written,
    and they are still where the file came from (README, "Forgetting a person")."""
    if not report.forgotten:
        return
    keys = ", ".join(repr(key) for key in report.forgotten[:_KEYS_NAMED])
    more = len(report.forgotten) - _KEYS_NAMED
    click.echo(
        "note: the file still holds the details of"
        f" {counted(len(report.forgotten), 'forgotten lead')}"
        f" ({keys}{f' and {more} more' if more > 0 else ''}), not written back: erase them"
        " where the file came from too"
    )


_KEYS_NAMED = 5


def _catch_up_prepared(coming: int) -> None:
    """The KPIs' catch-up, its modules loaded (SQLAlchemy takes a few tenths of a second)
    and what it needs for `coming` more events begun (`catchup.prepare`)."""
    from handoff.projections import catchup

    catchup.prepare(coming)


def _restore(obj: Any, text: str, dry_run: bool) -> None:
    """A full backup (`export --format jsonl`): every entry restored as it was recorded."""
    with no_cyclic_gc():
        app = obj.app_to_check_against() if dry_run else obj.app
        done = restore(app, text, dry_run=dry_run)
        if done.written:
            from handoff.projections import catch_up

            with recorded_before(f"the backup's {counted(done.written, 'entry', 'entries')}"
                                  " were restored", obj.store):
                catch_up(obj.app)
    if dry_run:
        click.echo(
            f"dry run: the backup's {counted(done.entries, 'entry', 'entries')} "
            f"{'is' if done.entries == 1 else 'are'} valid: {done.entries - done.skipped}"
            f" would be restored, {done.skipped} already in the store; nothing was written"
        )
    else:
        click.echo(
            f"restored {counted(done.entries, 'entry', 'entries')} from the backup: "
            f"{done.written} written, {done.skipped} skipped (already in the store)"
        )


@contextmanager
def recorded_before(done: str, store: str) -> Iterator[None]:
    """What is `done` is committed (the import's events, the backup's entries): a failure
    after that must not read as "nothing was written" (or as an internal error), but say
    what happened and how to finish."""
    try:
        yield
    except KeyboardInterrupt:
        note_interrupted()
        raise Interrupted(interrupted_after(done)) from None
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as error:
        denied = cannot_write(error)  # read-only, busy, a right lacking: a rebuild fails too
        if denied is not None:
            raise click.ClickException(
                f"{done}, but the KPIs could not be brought up to date: {denied}") from None
        raise click.ClickException(
            f"{done}, but bringing the KPIs up to date failed ({driver_said(error)[:200]});"
            f" run `handoff --store {shlex.quote(shown := without_password(store))} projections"
            f" rebuild`{' (your password where *** stands)' if shown != store else ''} to finish"
            " (re-running the import records nothing twice)"
        ) from None


@contextmanager
def interrupt_said(importer: Importer, noun: str) -> Iterator[None]:
    """An import interrupted once its `noun` (rows, steps) are committed (while their
    entries are sealed, or the KPIs catch up) says so; before, it wrote nothing, and ends
    as any interrupted command."""
    try:
        yield
    except KeyboardInterrupt:
        note_interrupted()
        if importer.written is not None:
            raise Interrupted(
                interrupted_after(recorded_words(importer.written, noun))) from None
        raise


def _crm_hint(header: list[str]) -> str:
    """What to add when a CRM's export is imported as handoff's CSV (without `--from`)."""
    from handoff.crm import export_named_by  # read only for this refusal: startup stays quick

    crm = export_named_by(header)
    names = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
    return f": a {names[crm]} export? import it with --from {crm}" if crm else ""


def bad_rows(count: int) -> click.ClickException:
    """The refusal of a file (a CSV, a CRM's export) with `count` bad rows, said above it."""
    return click.ClickException(
        f"{counted(count, 'row')} {'is' if count == 1 else 'are'} bad; nothing was written")


def recorded_words(count: int, noun: str) -> str:
    """What an import committed, in words: its `count` `noun` (rows, steps)."""
    if count == 0:
        return "the import recorded nothing new"
    return f"the import's {count} {noun} were recorded" if count > 1 else (
        f"the import's one {noun.removesuffix('s')} was recorded")


def interrupted_after(done: str) -> str:
    """An interrupt once what is `done` was committed: it stays."""
    return (
        f"interrupted: {done}; the next command brings the KPIs up to date (re-running the"
        " import records nothing twice)"
    )


class _ImportProgress:
    def __init__(self, shown: Stages) -> None:
        self.shown = shown

    def checking(self, rows: Sequence[Row]) -> Iterable[Row]:
        return self.shown.track(rows, "checking rows")

    def writing(self, events: int) -> None:
        self.shown.stage(f"writing {events:,} events")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True, help="CSV (the import format) or JSON lines.")
@click.pass_obj
def export_command(obj: Any, fmt: str) -> None:
    """Print the store: CSV, every lead event and traffic count in the import format; or
    JSON lines, the full backup (every entry as recorded, corrections, agreement versions
    and their signatures included), which `handoff import` restores into an empty store."""
    with no_cyclic_gc():  # a million short-lived rows, no cycles
        if fmt == "jsonl":
            print_lines(backup_lines(obj.app))
        else:
            for text in csv_export(obj.app):
                click.echo(text, nl=False)
