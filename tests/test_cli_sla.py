"""`handoff sla apply|show|history` through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Handoff

H1 = """
name = "H1"
effective_from = 2026-01-01
effective_to = 2026-06-30
timezone = "America/Chicago"
[sales]
decide_within_hours = 8
"""
REVISION = H1.replace('"H1"', '"H1 revised"').replace("2026-01-01", "2026-04-01").replace(
    "= 8", "= 4"
)


def agreement(tmp_path: Path, text: str, name: str = "a.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_each_apply_records_a_new_version_and_the_latest_applied_is_in_force(
    handoff: Handoff, tmp_path: Path
) -> None:
    assert "applied version 1" in handoff.ok("sla", "apply", agreement(tmp_path, H1))
    revision = agreement(tmp_path, REVISION, "b.toml")
    assert "applied version 2" in handoff.ok("sla", "apply", revision)
    assert handoff.json("sla", "show", "--at", "2026-03-31")["name"] == "H1"
    assert handoff.json("sla", "show", "--at", "2026-04-01")["name"] == "H1 revised"
    history = handoff.json("sla", "history")
    assert [(v["version"], v["name"], v["applied_by"]) for v in history] == [
        (1, "H1", "maria"), (2, "H1 revised", "maria"),
    ]


def test_no_agreement_in_force_is_said_plainly(handoff: Handoff, tmp_path: Path) -> None:
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    assert handoff.refused("sla", "show", "--at", "2026-07-01") == (
        "Error: no agreement is in force on 2026-07-01"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[sales]", "colour = 'red'\n[sales]"), "colour: unknown key"),
        (("decide_within_hours = 8", "decide_within_hours = 'eight'"),
         "sales.decide_within_hours: must be a number"),
        (("decide_within_hours = 8", "decide_within_hours = 8\nrates = { proposal_to_won = 1.5 }"),
         "sales.rates.proposal_to_won: must be a rate between 0 and 1"),
        (("America/Chicago", "Mars/Olympus"), "timezone: unknown time zone 'Mars/Olympus'"),
        (("2026-06-30", "2025-06-30"), "effective_to: is before effective_from"),
        (("[sales]", "[calendar]\nhours = ['17:00', '09:00']\n[sales]"),
         "calendar.hours: must be increasing"),
        (("name = ", "name = = "), "not valid TOML"),
    ],
)
def test_a_malformed_agreement_is_refused_with_key_and_reason_and_nothing_recorded(
    handoff: Handoff, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = agreement(tmp_path, H1.replace(*change))
    line = handoff.refused("sla", "apply", path)
    assert line.startswith(f"Error: {path}: ")
    assert message in line
    assert handoff.json("sla", "history") == []


def test_a_missing_agreement_file_is_refused(handoff: Handoff, tmp_path: Path) -> None:
    assert "cannot read" in handoff.refused("sla", "apply", str(tmp_path / "none.toml"))


def test_show_as_a_table_names_each_section(handoff: Handoff, tmp_path: Path) -> None:
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    table = handoff.ok("sla", "show", "--at", "2026-02-01")
    assert "decide_within_hours = 8" in table and "America/Chicago" in table
