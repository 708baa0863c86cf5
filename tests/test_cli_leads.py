"""The lead commands, driven through the real command line on each store."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest
from cli_helpers import Handoff
from click.testing import CliRunner
from conftest import TEAM_AGREEMENT as AGREEMENT

from handoff.cli import main


def walk_to_won(h: Handoff, key: str = "acme-1") -> None:
    h.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
    h.ok("lead", "qualify", key, "--score", "70", "--at", "2026-03-02T10:00")
    h.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T11:00")
    h.ok("lead", "accept", key, "--at", "2026-03-02T15:30", actor="sam")
    h.ok("lead", "contact", key, "--channel", "phone", "--at", "2026-03-03T10:00", actor="sam")
    h.ok("lead", "proposal", key, "--amount", "12000", "--at", "2026-03-05T10:00", actor="sam")
    h.ok("lead", "proposal", key, "--amount", "11500.50", "--at", "2026-03-09T10:00", actor="sam")
    h.ok("lead", "win", key, "--at", "2026-03-12T10:00", actor="sam")


def test_a_lead_recorded_from_capture_to_won_shows_its_journey(signed: Handoff) -> None:
    walk_to_won(signed)
    shown = signed.json("lead", "show", "acme-1")
    assert shown["state"] == "won"
    assert shown["source"] == "web"
    assert shown["owner"] == "sam"
    assert shown["won_amount"] == 11500.5
    assert shown["handed_at"] == "2026-03-02T17:00:00Z"  # 11:00 in Chicago (CST)


def test_history_names_who_recorded_each_event_and_the_agreement_in_force(
    signed: Handoff,
) -> None:
    walk_to_won(signed)
    history = signed.json("lead", "history", "acme-1")
    assert [e["event"] for e in history] == [
        "captured", "qualified", "handed", "accepted", "contacted", "proposal", "proposal", "won",
    ]
    assert [e["actor"] for e in history[2:4]] == ["maria", "sam"]
    assert {e["agreement"] for e in history} == {"2026 H1 growth agreement"}
    assert history[3]["occurred_at"] == "2026-03-02T21:30:00Z"
    assert all(e["recorded_at"] for e in history)
    assert history[-1]["amount"] == 11500.5


def test_history_as_a_table_lists_every_event(signed: Handoff) -> None:
    walk_to_won(signed)
    table = signed.ok("lead", "history", "acme-1")
    assert "contacted" in table and "2026 H1 growth agreement (v1)" in table


def test_show_as_of_an_earlier_instant_replays_what_was_recorded_then(handoff: Handoff) -> None:
    handoff.ok("lead", "capture", "acme-2", "--source", "event", "--at", "2026-03-02T09:00Z")
    recorded = handoff.json("lead", "history", "acme-2")[0]["recorded_at"]
    handoff.ok("lead", "qualify", "acme-2", "--at", "2026-03-02T10:00Z")
    assert handoff.json("lead", "show", "acme-2")["state"] == "qualified"
    before = handoff.json("lead", "show", "acme-2", "--as-of", recorded)
    assert before["state"] == "captured"
    assert before["qualified_at"] is None


def handed_monday(h: Handoff, key: str) -> None:
    """Handed to sam on Monday 2 March 2026 at 11:00 in Chicago: 8 business hours (09:00 to
    17:00, Monday to Friday) later is Tuesday at 11:00 CST, 17:00 UTC."""
    h.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
    h.ok("lead", "qualify", key, "--at", "2026-03-02T10:00")
    h.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T11:00")


def test_show_says_when_the_latest_handoff_is_due_and_how_it_stands(signed: Handoff) -> None:
    """A sales rep asks of one lead what `lead list` says of each: its latest handoff's due
    instant, and whether it was decided in time, late, or is pending or overdue now."""
    for key in ("early", "late", "waiting", "new"):
        if key != "new":
            handed_monday(signed, key)
        else:
            signed.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
    signed.ok("lead", "accept", "early", "--at", "2026-03-02T15:30", actor="sam")
    signed.ok("lead", "reject", "late", "--reason", "no budget", "--at", "2026-03-04T09:00",
              actor="sam")
    standing = {key: (shown["due_at"], shown["handoff"]) for key in ("early", "late", "waiting")
                for shown in (signed.json("lead", "show", key),)}
    assert standing == {
        "early": ("2026-03-03T17:00:00Z", "in_time"),
        "late": ("2026-03-03T17:00:00Z", "late"),
        "waiting": ("2026-03-03T17:00:00Z", "overdue"),  # undecided, and it is November now
    }
    new = signed.json("lead", "show", "new")
    assert (new["due_at"], new["handoff"]) == (None, None)  # never handed
    table = signed.ok("lead", "show", "waiting")
    assert "2026-03-03 11:00 CST" in table and "overdue" in table


def test_show_as_of_an_earlier_instant_judges_the_handoff_as_it_stood_then(
    signed: Handoff,
) -> None:
    """As of when the handoff was recorded, before its acceptance was: undecided then, and
    already past its due instant (the steps are dated in March, recorded now)."""
    handed_monday(signed, "early")
    recorded = signed.json("lead", "history", "early")[-1]["recorded_at"]
    signed.ok("lead", "accept", "early", "--at", "2026-03-02T15:30", actor="sam")
    before = signed.json("lead", "show", "early", "--as-of", recorded)
    assert (before["state"], before["handoff"]) == ("handed", "overdue")
    assert signed.json("lead", "show", "early")["handoff"] == "in_time"


def test_a_lead_not_yet_recorded_at_the_as_of_instant_says_when_it_was(handoff: Handoff) -> None:
    """It said "unknown lead 'acme-3'" of a lead the store holds, recorded since."""
    handoff.ok("lead", "capture", "acme-3", "--source", "web", "--at", "2026-03-02T09:00Z")
    recorded = handoff.json("lead", "history", "acme-3")[0]["recorded_at"]
    line = handoff.refused("lead", "show", "acme-3", "--as-of", "2020-01-01T00:00Z")
    shown = f"{recorded[:10]} {recorded[11:16]} UTC"  # the store has no agreement: in UTC
    assert line == (f"Error: lead 'acme-3' was not recorded yet as of 2020-01-01 00:00 UTC:"
                    f" its capture was recorded at {shown}")
    assert "unknown lead 'acme-4'" in handoff.refused("lead", "show", "acme-4")


def test_a_key_typed_in_another_case_names_the_lead_it_may_mean(handoff: Handoff) -> None:
    """Found in trial B: `lead qualify l1` said only "unknown lead 'l1'" of a store holding
    L1 (keys tell case apart, as Salesforce's ids do), and a user retyping it saw no reason.
    The refusal stands (nothing written) and names the keys that differ by case alone, of
    the leads the KPIs' read model holds (as it stands: a hint neither writes nor waits),
    which every read command brings up to date, here `lead list`."""
    handoff.ok("lead", "capture", "CRM-7a", "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("lead", "capture", "crm-7A", "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("lead", "list")
    before = handoff.json("lead", "history", "CRM-7a")
    line = handoff.refused("lead", "qualify", "crm-7a", "--at", "2026-03-02T10:00Z")
    assert line == "Error: unknown lead 'crm-7a' (did you mean 'CRM-7a' or 'crm-7A'?)"
    assert handoff.json("lead", "history", "CRM-7a") == before
    assert handoff.refused("lead", "show", "crm-8") == "Error: unknown lead 'crm-8'"


def test_a_lead_recorded_later_in_the_same_minute_says_how_much_later(handoff: Handoff) -> None:
    """Found in trial P replaying a Monday at 17:00: `--as-of` a few seconds before a lead's
    capture was recorded said it "was not recorded yet as of 17:00 CST: its capture was
    recorded at 17:00 CST", the same instant as far as anyone reading it can tell. When the
    two read alike, the refusal says how many seconds later it was recorded."""
    handoff.ok("lead", "capture", "acme-5", "--source", "web", "--at", "2026-03-02T09:00Z")
    recorded = datetime.fromisoformat(handoff.json("lead", "history", "acme-5")[0]["recorded_at"])
    asked = recorded.replace(second=0, microsecond=0)
    if asked == recorded:
        pytest.skip("recorded on a whole minute: no earlier instant reads alike")
    later = math.ceil((recorded - asked).total_seconds())
    shown = recorded.strftime("%Y-%m-%d %H:%M UTC")  # the store has no agreement: in UTC
    line = handoff.refused("lead", "show", "acme-5", "--as-of", asked.isoformat())
    assert line == (f"Error: lead 'acme-5' was not recorded yet as of {shown}: its capture"
                    f" was recorded at {shown}, {later} second{'s' if later != 1 else ''}"
                    " later")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("lead", "accept", "nobody"), "unknown lead 'nobody'"),
        (("lead", "capture", "acme-1", "--source", "web"), "already exists"),
        (("lead", "accept", "acme-1"), "accepted needs a lead in state handed"),
        (("lead", "qualify", "acme-1", "--at", "yesterday"), "not an ISO-8601 timestamp"),
        # Days are written YYYY-MM-DD, in an instant too: not as a week or without dashes.
        (("lead", "qualify", "acme-1", "--at", "2026W101T09:00"), "not an ISO-8601 timestamp"),
        (("lead", "qualify", "acme-1", "--at", "20260302T0900"), "not an ISO-8601 timestamp"),
        # As a spreadsheet shows a time (h:mm): the hour to write, not a form to guess.
        (("lead", "qualify", "acme-1", "--at", "2026-03-02 9:30"),
         "not an ISO-8601 timestamp: '2026-03-02 9:30' (write the hour with two digits:"
         " 2026-03-02 09:30)"),
        (("lead", "qualify", "acme-1", "--at", "2026-03-01T00:00Z"), "before its previous event"),
        (("lead", "qualify", "acme-1", "--at", "2099-01-01T00:00Z"), "in the future"),
    ],
)
def test_a_refused_command_says_why_in_one_line_and_writes_nothing(
    handoff: Handoff, args: tuple[str, ...], reason: str
) -> None:
    handoff.ok("lead", "capture", "acme-1", "--source", "web", "--at", "2026-03-02T09:00Z")
    before = handoff.json("lead", "history", "acme-1")
    assert reason in handoff.refused(*args)
    assert handoff.json("lead", "history", "acme-1") == before


def test_a_refusal_names_instants_as_everything_else_shows_them(signed: Handoff) -> None:
    """Instants are given and shown in the agreement's local time (SPEC §7); a refusal
    quoting them in UTC would send a user looking for a step they never recorded."""
    signed.ok("lead", "capture", "acme-1", "--source", "web", "--at", "2026-03-02T09:00")
    line = signed.refused("lead", "qualify", "acme-1", "--at", "2026-03-01T16:30")
    # Chicago keeps CST (UTC-6) until 8 March 2026.
    assert ("2026-03-01 16:30 CST is before its previous event (captured at 2026-03-02 "
            "09:00 CST)") in line
    line = signed.refused("--utc", "lead", "qualify", "acme-1", "--at", "2026-03-01T16:30")
    assert ("2026-03-01 22:30 UTC is before its previous event (captured at 2026-03-02 "
            "15:00 UTC)") in line
    line = signed.refused("lead", "qualify", "acme-1", "--at", "2099-03-02T09:00Z")
    # No agreement is in force then: in the zone of the latest version (CST until 8 March).
    assert "2099-03-02 03:00 CST is in the future" in line


def test_bad_amounts_are_refused(signed: Handoff) -> None:
    signed.ok("lead", "capture", "a", "--source", "web", "--at", "2026-03-02T09:00")
    signed.ok("lead", "qualify", "a", "--at", "2026-03-02T10:00")
    signed.ok("lead", "handoff", "a", "--owner", "sam", "--at", "2026-03-02T11:00")
    signed.ok("lead", "accept", "a", "--at", "2026-03-02T12:00", actor="sam")
    for amount, reason in [("0", "greater than 0"), ("-5", "greater than 0"),
                           ("12.345", "at most 2 decimals"), ("lots", "not an amount"),
                           # Said as typed, not as the exponent Python would write it in.
                           ("0.000000000000000000001",
                            "at most 2 decimals, got 0.000000000000000000001")]:
        line = signed.refused("lead", "proposal", "a", "--amount", amount, actor="sam")
        assert reason in line


def test_only_the_agreed_team_may_record_its_side_of_the_protocol(signed: Handoff) -> None:
    line = signed.refused(
        "lead", "capture", "x", "--source", "web", "--at", "2026-03-02T09:00", actor="sam"
    )
    assert "'sam' may not record captured" in line
    signed.ok("lead", "capture", "x", "--source", "web", "--at", "2026-03-02T09:00")
    signed.ok("lead", "qualify", "x", "--at", "2026-03-02T10:00")
    signed.ok("lead", "handoff", "x", "--owner", "sam", "--at", "2026-03-02T11:00")
    assert "'maria' may not record accepted" in signed.refused(
        "lead", "accept", "x", "--at", "2026-03-02T12:00"
    )


def test_a_missing_required_option_is_a_usage_error(handoff: Handoff) -> None:
    result = handoff("lead", "capture", "acme-9")
    assert result.exit_code == 2
    assert "--source" in result.stderr


def test_a_mistyped_global_option_is_a_usage_error_in_one_line() -> None:
    args = ["--stor", "x.sqlite", "kpi", "--month", "2026-03"]
    result = CliRunner().invoke(main, args, prog_name="handoff")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: No such option '--stor'. (Did you mean one of: '--actor', '--store'?)"
        " (see 'handoff --help')"
    ]


def test_an_unsupported_store_url_is_refused() -> None:
    line = Handoff("mysql://root@localhost/x").refused("lead", "show", "a")
    assert "unsupported store" in line


def test_a_store_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a store\n")
    line = Handoff(str(path)).refused("lead", "show", "a")
    assert line.endswith("file is not a database")
    assert path.read_text() == "these are my notes, not a store\n"


def test_an_unreachable_database_is_named_with_the_servers_reason() -> None:
    line = Handoff("postgresql+psycopg://nobody@127.0.0.1:1/handoff").refused("lead", "show", "a")
    assert "cannot open store" in line and "Connection refused" in line


def test_a_team_that_names_only_marketing_leaves_sales_events_open(
    handoff: Handoff, tmp_path: Path
) -> None:
    path = tmp_path / "marketing-only.toml"
    path.write_text(AGREEMENT.replace('sales = ["sam", "ola"]\n', ""))
    handoff.ok("sla", "apply", str(path))
    handoff.ok("sla", "sign", "1", actor="kim")  # anyone off marketing signs for sales
    handoff.ok("lead", "capture", "m", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "m", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "handoff", "m", "--owner", "kim", "--at", "2026-03-02T11:00")
    handoff.ok("lead", "accept", "m", "--at", "2026-03-02T12:00", actor="kim")
    assert "'kim' may not record captured" in handoff.refused(
        "lead", "capture", "n", "--source", "web", "--at", "2026-03-02T09:00", actor="kim"
    )


@pytest.mark.parametrize(
    "args",
    [("lead", "qualify", "x", "--score", "high"), ("lead", "capture", "x"), ("lead", "promote")],
)
def test_a_usage_error_is_one_line_that_points_at_help(
    handoff: Handoff, args: tuple[str, ...]
) -> None:
    result = handoff(*args)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "--help')" in line


def test_the_top_level_help_names_the_environment_variables() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "env var: HANDOFF_STORE" in result.output
    assert "env var: HANDOFF_ACTOR" in result.output


def test_no_command_hands_a_lead_to_the_group_of_leads_nobody_owns(
    handoff: Handoff, tmp_path: Path
) -> None:
    """By owner, the steps of a lead before any handoff are grouped as 'unassigned' (SPEC
    §5): with no team in the agreement to stop it, a salesperson of that name had their
    handoffs counted in that group, one row of the report for two kinds of leads."""
    for key in ("a", "b"):
        handoff.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00Z")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T10:00Z")
    before = handoff.json("lead", "history", "a")
    line = handoff.refused("lead", "handoff", "a", "--owner", "unassigned")
    assert "owner 'unassigned' is taken" in line
    assert handoff.json("lead", "history", "a") == before

    handoff.ok("lead", "handoff", "a", "--owner", "sam", "--at", "2026-03-02T11:00Z")
    before = handoff.json("lead", "history", "a")
    line = handoff.refused("lead", "amend", "a", "3", "--owner", "unassigned", "--why", "typo")
    assert "owner 'unassigned' is taken" in line
    assert handoff.json("lead", "history", "a") == before

    # A file: a lead it captures (checked by the import's own path) and one the store holds.
    rows = tmp_path / "rows.csv"
    for handed in ("c,handed,2026-03-02T11:00Z", "b,handed,2026-03-02T11:00Z"):
        rows.write_text(
            "lead,event,at,source,owner\n"
            "c,captured,2026-03-02T09:00Z,web,\nc,qualified,2026-03-02T10:00Z,,\n"
            f"{handed},,unassigned\n"
        )
        result = handoff("import", str(rows))
        assert result.exit_code == 1
        assert f"{rows}: line 4: owner 'unassigned' is taken" in result.stderr
        assert "nothing was written" in result.stderr
    assert [lead["key"] for lead in handoff.json("lead", "list")] == ["a", "b"]
    assert [e["event"] for e in handoff.json("lead", "history", "b")] == [
        "captured", "qualified"]

    # Owners, as groups, are told apart by case: another spelling is an owner of its own.
    handoff.ok("lead", "handoff", "b", "--owner", "Unassigned", "--at", "2026-03-02T11:00Z")
    by_owner = handoff.json("kpi", "--month", "2026-03", "--by", "owner")["groups"]
    assert by_owner["unassigned"]["counts"]["captured"] == 2  # both captured before a handoff
    assert by_owner["unassigned"]["counts"]["handed"] == 0
    assert by_owner["sam"]["counts"]["handed"] == 1
    assert by_owner["Unassigned"]["counts"]["handed"] == 1


@pytest.mark.parametrize("command", [("lead", "show"), ("lead", "history"), ("lead", "qualify")])
def test_a_key_beginning_with_a_dash_is_shown_how_to_give(
    handoff: Handoff, command: tuple[str, ...]
) -> None:
    """A CRM's key `-5` (imported from a file, where it is a cell like any other) read as
    an option on the command line: "No such option '-5'" said nothing of `--`, which
    Unix commands take before such a word (a hostile-input trial, N)."""
    result = handoff(*command, "-5")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: No such option '-5'; a key beginning with '-' is given after '--' (`-- -5`)"
        " (see '")
    assert result.stderr.endswith(f" {' '.join(command)} --help')\n")  # (in-process: 'main')
    handoff.ok("lead", "capture", "--source", "web", "--at", "2026-03-02T09:00Z", "--", "-5")
    shown = json.loads(handoff.ok("lead", "show", "--format", "json", "--", "-5"))
    assert shown["key"] == "-5"  # given as the hint says
    mistyped = handoff("lead", "show", "--stor", "x")  # an option mistyped is not a key
    assert "is given after" not in mistyped.stderr


def test_an_entry_numbered_below_1_is_shown_how_entries_are_numbered(handoff: Handoff) -> None:
    """`lead amend acme -1 ...` (the last entry, as a list counts from its end) was told
    how to give a key beginning with a dash, of a key it had given: entries are numbered
    from 1, as `lead history` lists them, and the dash is the option's (or a key's)."""
    handoff.ok("lead", "capture", "acme", "--source", "web", "--at", "2026-03-02T09:00Z")
    result = handoff("lead", "amend", "acme", "-1", "--source", "ads", "--why", "typo")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: No such option '-1'; entries are numbered from 1, as `lead history` lists"
        " them, and a key beginning with '-' is given after '--' (`-- -1`) (see '")
    assert handoff.ok("lead", "history", "acme").count("source=web") == 1  # nothing amended
