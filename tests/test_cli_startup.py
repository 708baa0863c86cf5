"""Every command starts without loading the code of the others (a cron job running
`handoff kpi` or `handoff sla breaches` every few minutes pays only for what it uses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from test_kpi_cli import a_march_lead

from handoff.cli import main

_LOADED_BY = """
import sys
import click
from handoff.cli import main
ctx = click.Context(main)
main.get_command(ctx, {command!r})
print(" ".join(sorted(sys.modules)))
"""


def loaded_by(command: str) -> set[str]:
    """The modules a fresh interpreter holds once `handoff COMMAND` is loaded."""
    found = subprocess.run([sys.executable, "-c", _LOADED_BY.format(command=command)],
                           capture_output=True, text=True, check=True)
    return set(found.stdout.split())


def test_the_kpi_command_loads_no_import_export_notify_or_crm_code() -> None:
    loaded = loaded_by("kpi")
    assert "handoff.cli.kpi" in loaded
    for unused in ("handoff.importer", "handoff.exporter", "handoff.backup", "handoff.notify",
                   "handoff.crm", "handoff.cli.data", "handoff.cli.lead",
                   "concurrent.futures"):  # (and its logging: only bulk reads need threads)
        assert unused not in loaded, unused


def test_help_still_lists_every_command() -> None:
    said = CliRunner().invoke(main, ["--help"]).output
    for command in ("audit", "demo", "export", "import", "kpi", "lead", "plan", "projections",
                    "report", "sla", "traffic"):
        assert f"  {command} " in said, command
    sla = CliRunner().invoke(main, ["sla", "--help"]).output
    for command in ("apply", "breaches", "check", "doc", "due", "history", "notify", "show",
                    "sign", "verify"):
        assert f"  {command} " in sla, command


_MODULES_AFTER = """
import sys
from handoff.cli import main
try:
    main({args!r}, standalone_mode=False)
finally:
    print("\\nMODULES", " ".join(sorted(sys.modules)))
"""


def test_a_report_from_caught_up_summaries_builds_no_lead_and_no_sqlalchemy(
    store: str, tmp_path: Path
) -> None:
    """`handoff kpi` read from the summaries needs the agreement, not the Lead aggregate's
    event classes (building them is a fifth of its start-up), nor SQLAlchemy (more than its
    whole answer): both are loaded only by what writes leads or reads the per-event tables."""
    cli = a_march_lead(store, tmp_path)
    args = ["--store", store, "kpi", "--month", "2026-03", "--format", "json"]
    first = cli.json(*args[2:-2])  # catches the summaries up (json adds --format json)
    found = subprocess.run([sys.executable, "-c", _MODULES_AFTER.format(args=args)],
                           capture_output=True, text=True, check=True)
    answer, _, modules = found.stdout.rpartition("\nMODULES ")
    assert json.loads(answer)["counts"] == first["counts"]
    assert first["counts"]["qualified"] == 1
    loaded = set(modules.split())
    assert "handoff.kpi" in loaded
    for unused in ("handoff.domain.lead", "sqlalchemy"):
        assert unused not in loaded, unused
