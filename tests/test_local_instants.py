"""Instants as people read them (SPEC §7, issue 10 item 1): in the agreement's time zone with
the abbreviation of its offset, or in UTC with --utc; JSON keeps ISO-8601; tables fit 80
columns without cutting an instant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import Handoff
from click.testing import CliRunner

from handoff.cli import main


@pytest.fixture
def handoff(store: str, tmp_path: Path) -> Handoff:
    """Under the 2026 agreement (America/Chicago): a lead handed on Monday 2 March at 09:00
    and accepted late, another handed in July (daylight time) and left waiting."""
    cli = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(
        'name = "local"\neffective_from = 2026-01-01\ntimezone = "America/Chicago"\n'
        '[calendar]\nworkdays = ["mon", "tue", "wed", "thu", "fri"]\n'
        'hours = ["09:00", "17:00"]\n[sales]\ndecide_within_hours = 8\n'
    )
    cli.ok("sla", "apply", str(agreement))
    for key, day in (("acme-corporation-1", "2026-03-02"), ("bolt-industries-22", "2026-07-06")):
        cli.ok("lead", "capture", key, "--source", "web", "--at", f"{day}T08:00")
        cli.ok("lead", "qualify", key, "--at", f"{day}T08:30")
        cli.ok("lead", "handoff", key, "--owner", "sam", "--at", f"{day}T09:00")
    cli.ok("lead", "accept", "acme-corporation-1", "--at", "2026-03-04T10:00")  # late
    return cli


def _at_width(store: str, width: int, *args: str) -> str:
    result = CliRunner().invoke(main, ["--store", store, *args], terminal_width=width)
    assert result.exit_code in (0, 3), result.output
    return result.stdout


def test_a_recorded_step_is_echoed_in_local_time_or_in_utc(handoff: Handoff) -> None:
    assert handoff.ok("lead", "contact", "acme-corporation-1", "--at", "2026-03-05T09:30") \
        == "acme-corporation-1: contacted at 2026-03-05 09:30 CST\n"
    assert handoff.ok("--utc", "lead", "contact", "acme-corporation-1",
                      "--at", "2026-03-05T10:00") \
        == "acme-corporation-1: contacted at 2026-03-05 16:00 UTC\n"


def test_lead_views_show_local_instants_and_json_keeps_iso(handoff: Handoff) -> None:
    shown = handoff.ok("lead", "show", "bolt-industries-22")
    assert "2026-07-06 09:00 CDT" in shown  # daylight time in July
    history = handoff.ok("lead", "history", "acme-corporation-1")
    assert "2026-03-02 09:00 CST" in history and "2026-03-04 10:00 CST" in history
    assert "2026-03-02 15:00 UTC" in handoff.ok("--utc", "lead", "history",
                                                  "acme-corporation-1")
    entries = handoff.json("lead", "history", "acme-corporation-1")
    assert entries[2]["occurred_at"] == "2026-03-02T15:00:00Z"
    listed = handoff.ok("lead", "list")
    assert "2026-03-02 09:00 CST" in listed and "2026-07-06 09:00 CDT" in listed


def test_sla_breaches_show_local_instants(handoff: Handoff) -> None:
    table = handoff("sla", "breaches").stdout
    # Handed Monday 09:00, due after 8 business hours: Monday 17:00; decided Wednesday.
    assert "2026-03-02 17:00 CST" in table and "2026-03-04 10:00 CST" in table
    assert "2026-03-02 23:00 UTC" in handoff("--utc", "sla", "breaches").stdout
    found = json.loads(handoff("sla", "breaches", "--format", "json").stdout)
    assert found[0]["due_at"] == "2026-03-02T23:00:00Z"


@pytest.mark.parametrize("width", [80, 100, 160])
def test_tables_fit_the_terminal_without_cutting_an_instant(handoff: Handoff, width: int
                                                             ) -> None:
    for args in (["sla", "breaches"], ["lead", "history", "acme-corporation-1"],
                 ["lead", "list"], ["sla", "due", "--format", "table"]):
        table = _at_width(handoff.store, width, *args)
        lines = table.splitlines()
        assert all(len(line) <= width for line in lines), (args, table)
        assert "…" not in table, table
        for day, time in (("2026-03-02", "09:00 CST"), ("2026-07-06", "09:00 CDT")):
            if f"{day} {time}" in table or day not in table:
                continue
            # wrapped between its date and its time: the time right under the date
            assert any(
                lines[n + 1][column:column + len(time)] == time
                for n, line in enumerate(lines[:-1])
                for column in range(len(line)) if line.startswith(day, column)
            ), table


def test_the_kpi_table_says_as_of_when_in_local_time(handoff: Handoff) -> None:
    header = handoff.ok("kpi", "--month", "2026-03", "--as-of", "2026-03-31T12:00").splitlines()[0]
    assert header.endswith("as of 2026-03-31 12:00 CDT")


def test_a_lead_shown_as_of_an_instant_says_it_in_local_time(handoff: Handoff) -> None:
    # The next whole minute: after the lead was recorded, within a clock's skew of now.
    as_of = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    typed = as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    in_chicago = as_of.astimezone(ZoneInfo("America/Chicago")).strftime("%Y-%m-%d %H:%M %Z")
    shown = handoff.ok("lead", "show", "acme-corporation-1", "--as-of", typed)
    [line] = [line for line in shown.splitlines() if " as_of " in line]
    assert in_chicago in line and in_chicago[-3:] in ("CST", "CDT")
    assert handoff.json("lead", "show", "acme-corporation-1", "--as-of", typed)["as_of"] == typed


def test_an_instant_copied_from_a_table_is_read_back(handoff: Handoff) -> None:
    """Trial A: an instant copied from `lead history` (`2026-03-05 09:30 CST`) into --at or
    --as-of was 'not an ISO-8601 timestamp'. Its abbreviation names the offset in the
    agreement's zone, and which passing of the hour the clocks repeat on 1 November."""
    key = "acme-corporation-1"  # accepted on Wednesday 4 March at 10:00 CST
    assert handoff.ok("lead", "contact", key, "--at", "2026-03-05 09:30 CST") \
        == f"{key}: contacted at 2026-03-05 09:30 CST\n"
    handoff.ok("lead", "contact", key, "--at", "2026-03-05 16:00 UTC")
    handoff.ok("lead", "contact", key, "--at", "2026-11-01 01:30 CDT")
    handoff.ok("lead", "contact", key, "--at", "2026-11-01 01:30 CST")
    assert [e["occurred_at"] for e in handoff.json("lead", "history", key)[-4:]] == [
        "2026-03-05T15:30:00Z", "2026-03-05T16:00:00Z",  # 15:30 UTC, 16:00 UTC
        "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z",  # daylight time, then standard
    ]
    before = handoff.json("lead", "history", key)
    assert handoff.refused("lead", "contact", key, "--at", "2026-03-05 09:30 CDT") == (
        "Error: 2026-03-05 09:30 CDT: CDT is not the time of the agreement's zone then"
        " (America/Chicago: CST); give the offset, like 2026-03-05T09:30-06:00"
    )
    assert "not an ISO-8601 timestamp" in handoff.refused(
        "lead", "contact", key, "--at", "2026-03-05 09:30-06:00 CST")
    assert handoff.json("lead", "history", key) == before
    # --as-of too: the lead, recorded today, was not recorded yet on 5 March.
    assert "not recorded yet as of 2026-03-05 09:30 CST" in handoff.refused(
        "lead", "show", key, "--as-of", "2026-03-05 09:30 CST")


def test_an_instant_past_the_agreement_reads_in_its_zone(store: str, tmp_path: Path) -> None:
    """A handoff at 16:00 on the agreement's last day (Tuesday 30 June) is due after its 8
    business hours: one that day, seven the next from 09:00, so at 16:00 on 1 July, Chicago
    time, when no agreement is in force any more. It reads in the agreement's zone beside
    the handoff, not in UTC (21:00)."""
    cli = Handoff(store)
    agreement = tmp_path / "h1.toml"
    agreement.write_text(
        'name = "H1"\neffective_from = 2026-01-01\neffective_to = 2026-06-30\n'
        'timezone = "America/Chicago"\n[calendar]\nworkdays = ["mon", "tue", "wed", "thu", '
        '"fri"]\nhours = ["09:00", "17:00"]\n[sales]\ndecide_within_hours = 8\n'
    )
    cli.ok("sla", "apply", str(agreement))
    cli.ok("lead", "capture", "late-june", "--source", "web", "--at", "2026-06-30T15:00")
    cli.ok("lead", "qualify", "late-june", "--at", "2026-06-30T15:30")
    cli.ok("lead", "handoff", "late-june", "--owner", "sam", "--at", "2026-06-30T16:00")
    listed = _at_width(store, 160, "lead", "list")
    assert "2026-06-30 16:00 CDT" in listed and "2026-07-01 16:00 CDT" in listed
    assert "UTC" not in listed
