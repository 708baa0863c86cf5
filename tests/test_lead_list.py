"""`handoff lead list` and `lead history --as-of`, through the command line, on both stores."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml


@pytest.fixture
def leads(store: str, tmp_path: Path) -> Handoff:
    """Under the 2026 agreement (Chicago time), oldest captured first:
    - night: captured from web at 23:30 Chicago time on 28 February (05:30 UTC, 1 March);
    - acme: from web, handed to sam on 2 March, accepted in time, then contacted;
    - beta: from ads, handed to ola on 2 March, never decided: overdue by now;
    - fresh: from web, handed to sam just now: pending."""
    cli = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    cli.ok("sla", "apply", str(agreement))
    cli.ok("lead", "capture", "night", "--source", "web", "--at", "2026-02-28T23:30")
    for key, source, owner in (("acme", "web", "sam"), ("beta", "ads", "ola")):
        cli.ok("lead", "capture", key, "--source", source, "--at", "2026-03-02T09:00")
        cli.ok("lead", "qualify", key, "--at", "2026-03-02T09:30")
        cli.ok("lead", "handoff", key, "--owner", owner, "--at", "2026-03-02T10:00")
    cli.ok("lead", "accept", "acme", "--at", "2026-03-03T09:00")
    cli.ok("lead", "contact", "acme", "--at", "2026-03-03T10:00")
    cli.ok("lead", "capture", "fresh", "--source", "web")
    cli.ok("lead", "qualify", "fresh")
    cli.ok("lead", "handoff", "fresh", "--owner", "sam")
    return cli


def _keys(cli: Handoff, *options: str) -> list[str]:
    return [row["key"] for row in cli.json("lead", "list", *options)]


def test_every_lead_with_its_state_and_handoff(leads: Handoff) -> None:
    found = {row["key"]: row for row in leads.json("lead", "list")}
    assert list(found) == ["night", "acme", "beta", "fresh"]
    assert found["night"] == {"key": "night", "state": "captured", "source": "web",
                              "owner": None, "captured_at": "2026-03-01T05:30:00Z",
                              "handed_at": None, "due_at": None, "handoff": None}
    # contacted is not a state: acme stays accepted, its handoff decided in time.
    assert (found["acme"]["state"], found["acme"]["handoff"]) == ("accepted", "in_time")
    assert found["acme"]["handed_at"] == "2026-03-02T16:00:00Z"
    assert found["acme"]["due_at"] == "2026-03-03T16:00:00Z"
    assert (found["beta"]["state"], found["beta"]["handoff"]) == ("handed", "overdue")
    assert (found["fresh"]["owner"], found["fresh"]["handoff"]) == ("sam", "pending")


@pytest.mark.parametrize(
    ("options", "keys"),
    [
        (["--state", "handed"], ["beta", "fresh"]),
        (["--state", "accepted"], ["acme"]),
        (["--owner", "sam"], ["acme", "fresh"]),
        (["--source", "ads"], ["beta"]),
        (["--from", "2026-03-01", "--to", "2026-03-31"], ["acme", "beta"]),
        (["--from", "2026-02-28", "--to", "2026-02-28"], ["night"]),
        (["--pending"], ["fresh"]),
        (["--overdue"], ["beta"]),
        (["--overdue", "--owner", "sam"], []),
        (["--state", "won"], []),
    ],
)
def test_filters(leads: Handoff, options: list[str], keys: list[str]) -> None:
    assert _keys(leads, *options) == keys


@pytest.mark.parametrize(
    "options",
    [["--owner", "sam"], ["--source", "web"], ["--from", "2026-03-01", "--to", "2026-03-31"],
     ["--pending"], ["--overdue"], ["--owner", "sam", "--state", "accepted"]],
)
def test_a_lead_found_by_a_filter_reads_as_in_the_whole_list(
    leads: Handoff, options: list[str]
) -> None:
    whole = {row["key"]: row for row in leads.json("lead", "list")}
    found = leads.json("lead", "list", *options)
    assert found
    assert all(row == whole[row["key"]] for row in found)


def test_csv_and_table(leads: Handoff) -> None:
    rows = list(csv.reader(io.StringIO(leads.ok("lead", "list", "--format", "csv"))))
    assert rows[0] == ["key", "state", "source", "owner", "captured_at", "handed_at", "due_at",
                       "handoff"]
    assert rows[1] == ["night", "captured", "web", "", "2026-03-01T05:30:00Z", "", "", ""]
    assert len(rows) == 5
    assert "Leads (1)" in leads.ok("lead", "list", "--overdue")


@pytest.mark.parametrize(
    "options", [["--from", "2026-03-01"], ["--to", "2026-03-01"], ["--state", "contacted"],
                ["--state", "nonsense"]],
)
def test_usage_errors(leads: Handoff, options: list[str]) -> None:
    result = leads("lead", "list", *options)
    assert result.exit_code == 2, result.output


def test_pending_and_overdue_are_alternatives(leads: Handoff) -> None:
    """No handoff is both pending and overdue: asking for both is a slip, not an empty list."""
    result = leads("lead", "list", "--pending", "--overdue")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "--pending" in line and "--overdue" in line


@pytest.mark.parametrize(
    ("options", "reason"),
    [(["--from", "2026-02-30", "--to", "2026-03-01"], "2026-02-30"),
     (["--from", "2026-03-31", "--to", "2026-03-01"], "is before --from")],
)
def test_a_bad_day_is_refused_in_one_line(leads: Handoff, options: list[str],
                                          reason: str) -> None:
    assert reason in leads.refused("lead", "list", *options)


def test_lead_list_refuses_a_missing_store(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    assert "no store at" in Handoff(str(missing)).refused("lead", "list")
    assert not missing.exists()


def test_lead_history_as_of_keeps_the_entries_recorded_by_then(leads: Handoff) -> None:
    full = leads.json("lead", "history", "acme")
    assert [e["event"] for e in full] == ["captured", "qualified", "handed", "accepted",
                                          "contacted"]
    accepted_recorded = full[3]["recorded_at"]
    then = leads.json("lead", "history", "acme", "--as-of", accepted_recorded)
    assert [e["event"] for e in then] == ["captured", "qualified", "handed", "accepted"]
    assert then == full[:4]
    assert leads.json("lead", "history", "acme", "--as-of", "2026-01-01T00:00Z") == []
    table = leads.ok("lead", "history", "acme", "--as-of", accepted_recorded)
    assert "accepted" in table and "contacted" not in table


def test_lead_history_as_of_refuses_a_malformed_instant(leads: Handoff) -> None:
    reason = leads.refused("lead", "history", "acme", "--as-of", "yesterday")
    assert "not an ISO-8601 timestamp" in reason
