"""`handoff import --from hubspot|salesforce`: a CRM's export, checked and recorded as one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from handoff.cli.data import bad_rows, interrupt_said, recorded_before, recorded_words
from handoff.crm import import_reading
from handoff.crm.hubspot import read_hubspot
from handoff.crm.salesforce import read_salesforce
from handoff.importer import Importer, no_cyclic_gc
from handoff.words import counted


def import_from_crm(obj: Any, crm: str, files: tuple[str, ...], dry_run: bool) -> None:
    """Read the export(s), hand the steps to the importer, say what happened."""
    if crm == "hubspot" and len(files) != 1:
        raise click.UsageError("--from hubspot reads one contacts export FILE")
    app = obj.app_to_check_against() if dry_run else obj.app
    zone_for_day = app.zone_for_day(app.agreement_register())
    paths = [Path(file) for file in files]
    with no_cyclic_gc():
        if crm == "hubspot":
            reading = read_hubspot(paths[0], zone_for_day)
        else:
            reading = read_salesforce(paths, zone_for_day)
        importer = Importer(app, obj.actor, wording=obj.instant_words())
        with interrupt_said(importer, "steps"):  # until the KPIs are up to date
            done = import_reading(app, obj.actor, reading, dry_run=dry_run, importer=importer)
            if done.ok and not dry_run and done.report.recorded:
                from handoff.projections import catch_up  # KPIs ready when the import ends

                with recorded_before(recorded_words(done.report.recorded, "steps"),
                                     obj.store):
                    catch_up(obj.app)
    if not done.ok:
        for error in done.errors:
            click.echo(str(error), err=True)
        raise bad_rows(len(done.errors))
    kind = "contact" if crm == "hubspot" else "lead"
    records = counted(reading.records, f"{reading.crm} {kind}")
    report = done.report
    if dry_run:
        click.echo(
            f"dry run: {records} give{'s' if reading.records == 1 else ''} "
            f"{counted(report.rows, 'step')}: "
            f"{report.recorded} would be recorded, {report.skipped} already recorded; "
            "nothing was written"
        )
    else:
        click.echo(
            f"imported {records}: {counted(report.rows, 'step')}, "
            f"{report.recorded} recorded, {report.skipped} skipped (already recorded), "
            f"{counted(report.leads, 'lead')} changed"
        )
    if reading.filled:
        click.echo(
            f"  {reading.filled} stages {reading.crm} skipped are recorded at the instant of "
            "the next stage"
        )
    for why, count in reading.left_out.items():
        click.echo(f"  left out: {why}: {count}")
