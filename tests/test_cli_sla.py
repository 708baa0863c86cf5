"""`handoff sla apply|show|history` through the command line."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import Handoff, nothing_recorded
from conftest import AGREEMENT, TEAM_AGREEMENT, agreement_toml

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
    """After the README's tour (an agreement for the first half of 2026, run in November),
    `sla show` said only 'no agreement is in force now', as if the one just signed were
    lost: it says which days the latest version covers, as `plan` does."""
    handoff.ok("traffic", "record", "--date", "2026-03-01", "--visits", "10")
    assert handoff.refused("sla", "show", "--at", "2026-07-01") == (
        "Error: no agreement is in force on 2026-07-01: apply one with `handoff sla apply`"
    )
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    hint = ("the latest version, 'H1', covers 2026-01-01 to 2026-06-30 (give --at a day it"
            " covers), or apply one with `handoff sla apply`")
    assert handoff.refused("sla", "show", "--at", "2026-07-01") == (
        f"Error: no agreement is in force on 2026-07-01: {hint}"
    )
    assert handoff.refused("sla", "show") == f"Error: no agreement is in force now: {hint}"


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
        # Trial B wrote Germany's code as `de`: refused as if no such country existed.
        (("[sales]", "[calendar]\ncountry_holidays = 'de-by'\n[sales]"),
         "calendar.country_holidays: unknown country code 'de' (codes are written in"
         " capitals: 'DE-BY')"),
    ],
)
def test_a_malformed_agreement_is_refused_with_key_and_reason_and_nothing_recorded(
    handoff: Handoff, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "10")  # a store exists
    path = agreement(tmp_path, H1.replace(*change))
    line = handoff.refused("sla", "apply", path)
    assert line.startswith(f"Error: {path}: ")
    assert message in line
    assert handoff.json("sla", "history") == []


def test_a_missing_agreement_file_is_refused(handoff: Handoff, tmp_path: Path) -> None:
    assert "cannot read" in handoff.refused("sla", "apply", str(tmp_path / "none.toml"))


def test_a_file_saved_with_a_byte_order_mark_is_read_as_without_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    # Notepad on Windows starts a UTF-8 file with U+FEFF; the CSV import reads past it too.
    path = tmp_path / "bom.toml"
    path.write_text("\ufeff" + H1, encoding="utf-8")
    assert "applied version 1: 'H1'" in handoff.ok("sla", "apply", str(path))
    assert "identical to version 1" in handoff.ok("sla", "apply", agreement(tmp_path, H1))


def test_show_as_a_table_names_each_section(handoff: Handoff, tmp_path: Path) -> None:
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    table = handoff.ok("sla", "show", "--at", "2026-02-01")
    assert "decide_within_hours = 8" in table and "America/Chicago" in table


TEAM = H1 + '[team]\nmarketing = ["maria", "li"]\nsales = ["sam", "ola"]\n'


def handed_to_ola(handoff: Handoff, day: str) -> None:
    """Lead m-1, captured at 09:00 that day, qualified at 09:30, handed to Ola at 10:00."""
    handoff.ok("lead", "capture", "m-1", "--source", "web", "--at", f"{day}T09:00")
    handoff.ok("lead", "qualify", "m-1", "--at", f"{day}T09:30")
    handoff.ok("lead", "handoff", "m-1", "--owner", "ola", "--at", f"{day}T10:00")


def test_with_a_team_a_version_is_in_force_only_once_the_other_side_signs(
    handoff: Handoff, tmp_path: Path
) -> None:
    said = handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    assert said.startswith("proposed version 1:") and "handoff sla sign 1" in said
    assert handoff.refused("sla", "show", "--at", "2026-03-02") == (
        "Error: no agreement is in force on 2026-03-02: version 1, 'H1', 2026-01-01 to"
        " 2026-06-30, is in force once sales signs it (sam, ola): `handoff sla sign 1`, or"
        " apply one with `handoff sla apply`"
    )
    assert handoff.refused("sla", "sign", "1", actor="li") == (
        "Error: version 1 is already signed for marketing; it needs a signature from sales "
        "(sam, ola)"
    )
    assert "neither side" in handoff.refused("sla", "sign", "1", actor="pat")
    assert handoff.ok("sla", "sign", "1", actor="sam").startswith("signed version 1 for sales")
    assert handoff.json("sla", "show", "--at", "2026-03-02")["status"] == "signed"
    assert handoff.refused("sla", "sign", "1", actor="ola") == (
        "Error: version 1 is already in force"
    )
    (version,) = handoff.json("sla", "history")
    assert [(s["actor"], s["side"]) for s in version["signatures"]] == [
        ("maria", "marketing"), ("sam", "sales")
    ]
    assert version["applied_at"] == version["signatures"][1]["signed_at"]


def test_the_other_side_applying_the_proposed_file_is_told_to_sign_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Trial A: Sam applied the file Maria had proposed and was told only "identical to
    version 1; nothing recorded", exit 0, as if he had agreed: the version was still not in
    force. Nothing is recorded, and he is told how it comes into force."""
    path = agreement(tmp_path, TEAM)
    handoff.ok("sla", "apply", path)
    assert handoff.ok("sla", "apply", path, actor="sam") == (
        "identical to version 1 ('H1'); nothing recorded. Proposed by maria, it is in force"
        " once sales signs it (sam, ola): handoff sla sign 1\n"
    )
    (version,) = handoff.json("sla", "history")
    assert version["status"] == "awaiting sales"


def test_a_version_number_that_is_not_a_whole_number_is_named_so(
    handoff: Handoff, tmp_path: Path
) -> None:
    # The same words as for an entry number (`lead void KEY N`): a usage error, one line.
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    for typed in ("x", "1.5", "1e3"):
        result = handoff("sla", "sign", typed, actor="sam")
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(
            f"Error: Invalid value for 'N': must be a whole number, got {typed!r} (see '"
        ), line
    assert handoff.refused("sla", "sign", "0", actor="sam") == "Error: there is no version 0"


def test_check_and_identical_terms_record_nothing(handoff: Handoff, tmp_path: Path) -> None:
    path = agreement(tmp_path, H1)
    handoff.ok("sla", "apply", path)
    assert "identical to version 1" in handoff.ok("sla", "apply", path)
    lax = agreement(tmp_path, H1.replace("= 8", "= 800"), "lax.toml")
    checked = handoff.json("sla", "check", lax)
    assert checked["in_force"] == 1 and checked["identical_to"] is None
    assert checked["changes"] == [
        {"key": "sales.decide_within_hours", "before": "8", "after": "800"}
    ]
    assert len(handoff.json("sla", "history")) == 1
    bad = agreement(tmp_path, H1.replace("= 8", "= 'eight'"), "bad.toml")
    assert "sales.decide_within_hours: must be a number" in handoff.refused("sla", "check", bad)


def assert_identical_to_the_first(handoff: Handoff, path: str) -> None:
    """The file's terms are version 1's: checked, no change; applied, nothing recorded."""
    checked = handoff.json("sla", "check", path)
    assert checked["identical_to"] == 1 and checked["changes"] == []
    assert "identical to version 1" in handoff.ok("sla", "apply", path)
    assert [v["version"] for v in handoff.json("sla", "history")] == [1]


def test_terms_written_with_an_empty_table_are_identical_to_the_same_terms_without_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    # An empty [goal] and an empty rates table promise nothing more than leaving them out.
    padded = agreement(tmp_path, H1 + "rates = {}\n[goal]\n[calendar]\n", "padded.toml")
    assert_identical_to_the_first(handoff, padded)


def test_the_same_days_listed_in_another_order_are_identical_terms(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A calendar names a set of workdays and a set of holidays: the order they are listed
    in, or a day listed twice, promises nothing else."""
    days = '[calendar]\nworkdays = [{}]\nholidays = [{}]\n'
    handoff.ok("sla", "apply", agreement(tmp_path, H1 + days.format(
        '"mon", "tue", "wed"', '"2026-05-25", "2026-01-01"')))
    reordered = agreement(tmp_path, H1 + days.format(
        '"wed", "mon", "tue", "mon"', '"2026-01-01", "2026-05-25", "2026-01-01"'), "b.toml")
    assert_identical_to_the_first(handoff, reordered)


def test_leads_are_handed_only_to_the_sales_side_of_the_team(
    handoff: Handoff, tmp_path: Path
) -> None:
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("lead", "capture", "m-1", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "m-1", "--at", "2026-03-02T09:30")
    assert handoff.refused(
        "lead", "handoff", "m-1", "--owner", "nobody", "--at", "2026-03-02T10:00"
    ) == "Error: 'nobody' is not on the sales side of the agreement 'H1' (sam, ola)"
    rows = agreement(tmp_path, (
        "lead,event,at,actor,owner\nm-1,handed,2026-03-02T10:00,li,nobody\n"
    ), "rows.csv")
    imported = handoff("import", rows)  # an import lists each bad row, then refuses
    assert imported.exit_code == 1 and "'nobody' is not on the sales side" in imported.stderr
    assert handoff.json("lead", "show", "m-1")["state"] == "qualified"


def test_a_lax_agreement_signed_by_one_side_changes_no_figure(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Sam (sales) proposes 800 hours to decide instead of 8: October's late decision stays a
    breach until marketing signs too, and `--as-of` before that signature still shows it."""
    team = TEAM.replace('effective_to = 2026-06-30\n', "")
    handoff.ok("sla", "apply", agreement(tmp_path, team))
    handoff.ok("sla", "sign", "1", actor="sam")
    handed_to_ola(handoff, "2026-10-05")
    # 8 business hours from Monday 10:00 end on Tuesday at 10:00; Wednesday is late.
    handoff.ok("lead", "accept", "m-1", "--at", "2026-10-07T10:00", actor="ola")

    def october() -> tuple[int, int]:
        sla = handoff.json("kpi", "--month", "2026-10")["sla"]
        return sla["decided_in_time"], sla["decided_late"]

    assert october() == (0, 1)
    lax = agreement(tmp_path, team.replace("= 8", "= 800"), "lax.toml")
    assert "proposed version 2" in handoff.ok("sla", "apply", lax, actor="sam")
    assert october() == (0, 1)
    # Signed by both sides, a revision judges the handoffs recorded after it, not October's.
    handoff.ok("sla", "sign", "2", actor="maria")
    assert october() == (0, 1)
    assert handoff.json("kpi", "--month", "2026-10")["restatements"] == []
    # Only a restatement both sides sign, with a reason, judges the past again; it is named.
    laxer = agreement(tmp_path, team.replace("= 8", "= 900"), "laxer.toml")
    handoff.ok("sla", "apply", laxer, "--restate", "--why", "the window ignored the fair",
               actor="sam")
    assert october() == (0, 1)
    before_signing = datetime.now(UTC).isoformat()
    handoff.ok("sla", "sign", "3", actor="maria")
    assert october() == (1, 0)
    named = handoff.json("kpi", "--month", "2026-10")["restatements"]
    assert [(r["version"], r["restated_by"], r["why"], r["handoffs"]) for r in named] == [
        (3, "maria", "the window ignored the fair", 1)]
    # A correction of the lead since (its source mistyped) leaves the handoff one the
    # restatement judged again: its entry was recorded before the restatement.
    handoff.ok("lead", "amend", "m-1", "1", "--source", "event", "--why", "typo")
    assert handoff.json("kpi", "--month", "2026-10")["restatements"] == named
    rows = list(csv.DictReader(io.StringIO(handoff.ok("kpi", "--month", "2026-10",
                                                      "--format", "csv"))))
    assert {row["restated_by_versions"] for row in rows} == {"3"}  # named on every row
    as_of = handoff.json("kpi", "--month", "2026-10", "--as-of", before_signing)
    assert (as_of["sla"]["decided_in_time"], as_of["sla"]["decided_late"]) == (0, 1)
    assert as_of["restatements"] == []
    assert "--restate needs --why" in handoff("sla", "sign", "3", "--restate").output


def test_terms_already_in_force_may_still_be_signed_as_a_restatement(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Version 2 (800 hours) was signed without --restate: October's late decision stays
    late. The same file applied again with --restate asks for something version 2 did
    not: to judge the past by those terms. It is recorded (proposed, then signed), not
    taken for the identical version."""
    team = TEAM.replace('effective_to = 2026-06-30\n', "")
    handoff.ok("sla", "apply", agreement(tmp_path, team))
    handoff.ok("sla", "sign", "1", actor="sam")
    handed_to_ola(handoff, "2026-10-05")
    handoff.ok("lead", "accept", "m-1", "--at", "2026-10-07T10:00", actor="ola")
    lax = agreement(tmp_path, team.replace("= 8", "= 800"), "lax.toml")
    handoff.ok("sla", "apply", lax, actor="sam")
    handoff.ok("sla", "sign", "2", actor="maria")
    sla = handoff.json("kpi", "--month", "2026-10")["sla"]
    assert (sla["decided_in_time"], sla["decided_late"]) == (0, 1)
    assert "proposed version 3" in handoff.ok("sla", "apply", lax, "--restate", "--why",
                                              "the fair week", actor="sam")
    handoff.ok("sla", "sign", "3", actor="maria")
    sla = handoff.json("kpi", "--month", "2026-10")["sla"]
    assert (sla["decided_in_time"], sla["decided_late"]) == (1, 0)
    # Applied again, restatement and all, it is identical to version 3: nothing recorded.
    assert "identical to version 3" in handoff.ok("sla", "apply", lax, "--restate", "--why",
                                                  "again", actor="sam")
    assert "identical to version 2" in handoff.ok("sla", "apply", lax, actor="sam")


def test_a_restatement_without_a_reason_is_refused_even_on_terms_already_recorded(
    handoff: Handoff, tmp_path: Path
) -> None:
    """`--restate --why ""` gives no reason: refused as on new terms, not answered with
    "identical to version 1" because a version restating with those terms exists."""
    text = agreement(tmp_path, H1)
    handoff.ok("sla", "apply", text, "--restate", "--why", "the fair week")
    for why in ("", "  "):
        assert handoff.refused("sla", "apply", text, "--restate", "--why", why) == (
            "Error: a restatement needs a reason (--why)"
        )
    assert len(handoff.json("sla", "history")) == 1


def test_terms_awaiting_a_signature_are_restated_by_that_signature(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Sam proposes 800 hours (version 2); proposing it again with --restate would leave two
    identical proposals waiting for Maria: she is told to sign version 2 as a restatement."""
    team = TEAM.replace('effective_to = 2026-06-30\n', "")
    handoff.ok("sla", "apply", agreement(tmp_path, team))
    handoff.ok("sla", "sign", "1", actor="sam")
    lax = agreement(tmp_path, team.replace("= 8", "= 800"), "lax.toml")
    handoff.ok("sla", "apply", lax, actor="sam")
    assert handoff.refused("sla", "apply", lax, "--restate", "--why", "the fair",
                           actor="maria") == (
        "Error: these terms are version 2, proposed and awaiting a signature: to restate the"
        " past with them, the other side signs it with `handoff sla sign 2 --restate --why W`")
    assert len(handoff.json("sla", "history")) == 2  # nothing recorded
    handoff.ok("sla", "sign", "2", "--restate", "--why", "the fair", actor="maria")
    assert handoff.json("sla", "history")[1]["restates"] == "the fair"


def test_a_file_is_not_checked_against_a_store_that_does_not_exist(
    handoff: Handoff, tmp_path: Path
) -> None:
    """sla check records nothing, so it refuses a missing store as every such command does
    (SPEC §7): a mistyped --store compared the file with no version in force, and said so
    as if that were the store's answer."""
    line = handoff.refused("sla", "check", agreement(tmp_path, H1))
    assert line.startswith("Error: no store at '")
    assert nothing_recorded(handoff)


def test_history_compares_each_version_with_the_terms_it_replaces(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A proposal that never came into force is not what a later version changes."""
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM.replace("= 8", "= 800"), "lax.toml"),
               actor="sam")  # version 2: never signed
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM.replace("= 8", "= 40"), "r.toml"))
    handoff.ok("sla", "sign", "3", actor="sam")
    third = handoff.json("sla", "history")[2]
    assert third["compared_with"] == 1
    assert third["changes"] == [{"key": "sales.decide_within_hours", "before": "8", "after": "40"}]
    assert "version 3 changes from version 1: sales.decide_within_hours" in handoff.ok(
        "sla", "history")


def test_history_compares_an_overtaken_proposal_with_the_terms_it_was_proposed_against(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Against the 8 hours in force, Sam proposes 7 and Maria 6; Li signs Sam's, and
    Maria's proposal is overtaken. She proposed 8 -> 6, as `sla check` showed her; the
    history read 7 -> 6, against a version that came into force after she proposed."""
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM.replace("= 8", "= 7"), "seven.toml"),
               actor="sam")
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM.replace("= 8", "= 6"), "six.toml"))
    handoff.ok("sla", "sign", "2", actor="li")
    second, third = handoff.json("sla", "history")[1:]
    assert third["status"] == "overtaken by version 2"
    assert third["compared_with"] == 1
    assert third["changes"] == [{"key": "sales.decide_within_hours", "before": "8", "after": "6"}]
    assert second["compared_with"] == 1  # in force: what it changed from version 1, as before
    assert "version 3 changes from version 1: sales.decide_within_hours: 8 -> 6" in handoff.ok(
        "sla", "history")


def test_history_compares_a_revision_of_earlier_days_with_the_version_it_revises(
    handoff: Handoff, tmp_path: Path
) -> None:
    """H1, then H2 from July, then H1 again with 5 hours, as a restatement: version 3
    revises version 1, with which it shares its days, not version 2, with which it shares
    none (compared with version 2 it read as changing the name, both dates and the hours)."""
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    h2 = H1.replace('"H1"', '"H2"').replace("2026-01-01", "2026-07-01").replace(
        "2026-06-30", "2026-12-31").replace("= 8", "= 4")
    handoff.ok("sla", "apply", agreement(tmp_path, h2, "h2.toml"))
    handoff.ok("sla", "apply", agreement(tmp_path, H1.replace("= 8", "= 5"), "h1b.toml"),
               "--restate", "--why", "five hours")
    third = handoff.json("sla", "history")[2]
    assert third["compared_with"] == 1
    assert third["changes"] == [{"key": "sales.decide_within_hours", "before": "8", "after": "5"}]
    assert handoff.json("sla", "history")[1]["compared_with"] == 1  # H2 continues H1


def test_a_restatement_that_changes_no_figure_is_not_named(
    handoff: Handoff, tmp_path: Path
) -> None:
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    handoff.ok("sla", "sign", "1", actor="sam")
    handed_to_ola(handoff, "2026-03-02")
    handoff.ok("lead", "accept", "m-1", "--at", "2026-03-02T11:00", actor="ola")  # in 1 hour
    # 40 hours instead of 8: the one handoff was in time under both, in 1 business hour.
    lax = agreement(tmp_path, TEAM.replace("= 8", "= 40"), "lax.toml")
    handoff.ok("sla", "apply", lax, "--restate", "--why", "longer window", actor="sam")
    handoff.ok("sla", "sign", "2", actor="maria")
    march = handoff.json("kpi", "--month", "2026-03")
    assert (march["sla"]["decided_in_time"], march["restatements"]) == (1, [])


def moved_to_new_york(handoff: Handoff, tmp_path: Path) -> str:
    """February in Chicago (version 1): m-1 handed on Friday 27 February and accepted, m-2
    handed on Saturday 28 February at 23:50; then version 2, restating it in New York
    (signed by both); the terms of version 2."""
    handoff.ok("sla", "apply", agreement(tmp_path, TEAM))
    handoff.ok("sla", "sign", "1", actor="sam")
    handed_to_ola(handoff, "2026-02-27")
    handoff.ok("lead", "accept", "m-1", "--at", "2026-02-27T11:00", actor="ola")
    handoff.ok("lead", "capture", "m-2", "--source", "web", "--at", "2026-02-28T23:30")
    handoff.ok("lead", "qualify", "m-2", "--at", "2026-02-28T23:40")
    handoff.ok("lead", "handoff", "m-2", "--owner", "ola", "--at", "2026-02-28T23:50")
    assert handoff.json("kpi", "--month", "2026-02")["sla"]["handoffs"] == 2
    east = TEAM.replace('"H1"', '"H1 east"').replace("America/Chicago", "America/New_York")
    handoff.ok("sla", "apply", agreement(tmp_path, east, "east.toml"), "--restate", "--why",
               "the office moved to New York", actor="sam")
    handoff.ok("sla", "sign", "2", actor="maria")
    return east


def test_a_restatement_that_moves_the_periods_days_is_named(
    handoff: Handoff, tmp_path: Path
) -> None:
    """SPEC §3: a report names every restatement that changed its figures. One that moves
    the agreement to New York moves February's days with it: m-2, handed on Saturday 28
    February at 23:50 Chicago time, is handed on 1 March at 00:50 in New York. February
    then counts 1 handoff where it counted 2, though neither is judged otherwise (m-1 is
    accepted in 1 business hour in either zone, m-2 is overdue in either), so it names the
    restatement, with no handoff judged otherwise."""
    moved_to_new_york(handoff, tmp_path)
    february = handoff.json("kpi", "--month", "2026-02")
    assert (february["period"]["timezone"], february["sla"]["handoffs"]) == (
        "America/New_York", 1)
    assert [(r["version"], r["why"], r["handoffs"]) for r in february["restatements"]] == [
        (2, "the office moved to New York", 0)]
    assert "moved the period's days" in handoff.ok("kpi", "--month", "2026-02")


def test_a_restatement_that_moved_the_periods_days_is_named_after_another_restates_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """As above, version 2 moves February's days to New York (1 handoff where 2 were first
    reported); version 3 then restates it in New York under another name only, moving no
    day and judging no handoff otherwise. February's figures are still not those first
    reported: version 2 is named, version 3 is not."""
    east = moved_to_new_york(handoff, tmp_path)
    renamed = east.replace('"H1 east"', '"H1 New York"')
    handoff.ok("sla", "apply", agreement(tmp_path, renamed, "renamed.toml"), "--restate",
               "--why", "its name", actor="sam")
    handoff.ok("sla", "sign", "3", actor="maria")
    february = handoff.json("kpi", "--month", "2026-02")
    assert (february["period"]["timezone"], february["sla"]["handoffs"]) == (
        "America/New_York", 1)
    assert [(r["version"], r["why"], r["handoffs"]) for r in february["restatements"]] == [
        (2, "the office moved to New York", 0)]


def test_terms_identical_to_a_version_applied_before_the_one_in_force_say_how_to_return(
    handoff: Handoff, tmp_path: Path
) -> None:
    """SPEC §3: terms identical to a recorded version record nothing. When that version
    is no longer the latest, the user is told so, and how to go back to its terms."""
    path = agreement(tmp_path, H1)
    handoff.ok("sla", "apply", path)
    handoff.ok("sla", "apply", agreement(tmp_path, H1.replace("= 8", "= 12"), "12h.toml"))
    assert handoff.ok("sla", "apply", path) == (
        "identical to version 1 ('H1'); nothing recorded. Version 2 ('H1') was recorded "
        "since: to return to these terms, apply them under another name\n"
    )
    assert handoff.json("sla", "show", "--at", "2026-03-02")["version"] == 2
    handoff.ok("sla", "apply", agreement(tmp_path, H1.replace('"H1"', '"H1 again"')))
    assert handoff.json("sla", "show", "--at", "2026-03-02")["version"] == 3


def test_apply_says_whether_the_versions_dates_hold_today(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A version applied is in force for its own dates only: one whose dates have ended, or
    not begun, is not said to be in force now."""
    year = datetime.now(UTC).year

    def dated(name: str, first: int, last: int) -> str:
        text = H1.replace('"H1"', f'"{name}"').replace("2026-01-01", f"{first}-01-01")
        return agreement(tmp_path, text.replace("2026-06-30", f"{last}-12-31"), f"{name}.toml")

    out = handoff.ok("sla", "apply", dated("past", year - 2, year - 1))
    assert out.endswith(f"(America/Chicago); its dates ended on {year - 1}-12-31\n")
    out = handoff.ok("sla", "apply", dated("later", year + 1, year + 2))
    assert out.endswith(f"(America/Chicago), in force from {year + 1}-01-01\n")
    out = handoff.ok("sla", "apply", dated("now", year - 1, year + 1))
    first, note = out.splitlines()  # it takes next year over from "later", and says so
    assert first.endswith("(America/Chicago), in force now")
    assert note.startswith(f"note: version 3 governs the days from {year + 1}-01-01 to")


def test_sign_says_whether_the_versions_dates_hold_today(
    handoff: Handoff, tmp_path: Path
) -> None:
    """As `sla apply` does: the second signature puts a version in force for its own dates
    only, so one whose dates have ended, or not begun, is not said to be in force now
    (`sla show` would then say that no agreement is)."""
    year = datetime.now(UTC).year

    def dated(name: str, first: int, last: int) -> str:
        text = TEAM.replace('"H1"', f'"{name}"').replace("2026-01-01", f"{first}-01-01")
        return agreement(tmp_path, text.replace("2026-06-30", f"{last}-12-31"), f"{name}.toml")

    handoff.ok("sla", "apply", dated("past", year - 2, year - 1))
    out = handoff.ok("sla", "sign", "1", actor="sam")
    assert out == (
        f"signed version 1 for sales: 'past' is signed; its dates ended on {year - 1}-12-31\n"
    )
    handoff.ok("sla", "apply", dated("later", year + 1, year + 2))
    out = handoff.ok("sla", "sign", "2", actor="sam")
    assert out == (
        f"signed version 2 for sales: 'later' is signed, in force from {year + 1}-01-01\n"
    )
    handoff.ok("sla", "apply", dated("now", year - 1, year + 1))
    out = handoff.ok("sla", "sign", "3", actor="sam")
    assert out.startswith("signed version 3 for sales: 'now' is in force from ")


def test_the_public_holidays_a_country_code_closes_are_named_by_date(
    store: str, tmp_path: Path
) -> None:
    """`country_holidays = "US"` closes Veterans Day, which many sales teams work: a
    handoff of Tuesday 10 November was due Thursday, and nothing said why (trial P). The
    agreement shows the days ahead it closes, the review and the document those of their
    period. US days of 2026 by the federal calendar: Columbus Day is October's second
    Monday (the 12th), Veterans Day 11 November, Thanksgiving November's fourth Thursday
    (the 26th); Christmas 25 December."""
    handoff = Handoff(store)
    agreement = tmp_path / "us.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None,
                                                    "calendar.country_holidays": '"US"'}))
    handoff.ok("sla", "apply", str(agreement))
    shown = handoff.json("sla", "show", "--at", "2026-11-01")
    ahead = [(h["day"], h["name"]) for h in shown["public_holidays_ahead"]]
    assert ahead[:3] == [("2026-11-11", "Veterans Day"), ("2026-11-26", "Thanksgiving Day"),
                         ("2026-12-25", "Christmas Day")]
    assert "2026-11-11 Veterans Day; 2026-11-26 Thanksgiving Day" in handoff.ok(
        "sla", "show", "--at", "2026-11-01")
    handoff.ok("sla", "doc", "--month", "2026-10", "--out", str(tmp_path / "doc.md"))
    assert "US public holidays (in this period: 2026-10-12 Columbus Day)" in (
        tmp_path / "doc.md").read_text()
    handoff.ok("report", "--month", "2026-11", "--out", str(tmp_path / "review.html"))
    review = (tmp_path / "review.html").read_text()  # its dates each kept on one line
    assert ("US public holidays (in this period: 2026-11-11 Veterans Day, 2026-11-26"
            " Thanksgiving Day)") in re.sub(r'<span class="date">([^<]*)</span>', r"\1", review)
    handoff.ok("sla", "doc", "--month", "2026-09", "--out", str(tmp_path / "september.md"))
    assert "US public holidays (in this period: 2026-09-07 Labor Day)" in (
        tmp_path / "september.md").read_text()


def test_a_file_over_days_a_later_revision_governs_says_it_takes_them_over(
    handoff: Handoff, tmp_path: Path
) -> None:
    """H1 (January to June, 8 hours) was revised from April (4 hours). Maria adds a holiday
    to H1's file as it stands: its dates take April to June back from the revision, since
    the version in force last governs a day. `sla check` compared it with H1 only (name
    and holidays), and applying it said nothing of the revision it replaced."""
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    handoff.ok("sla", "apply", agreement(tmp_path, REVISION, "b.toml"))
    moved = H1.replace('"H1"', '"H1, office move"') + '[calendar]\nholidays = ["2026-03-09"]\n'
    whole, first_quarter = (
        agreement(tmp_path, moved, "c.toml"),
        agreement(tmp_path, moved.replace("2026-06-30", "2026-03-31"), "d.toml"))

    note = ("the days from 2026-04-01 to 2026-06-30 (their targets, and the handoffs recorded"
            " from then on) instead of version 2 ('H1 revised')")
    assert f"would govern {note}" in handoff.ok("sla", "check", whole)
    assert handoff.json("sla", "check", whole)["takes_over"] == [
        {"version": 2, "from": "2026-04-01", "to": "2026-06-30"}]
    assert "note:" not in handoff.ok("sla", "check", first_quarter)
    assert handoff.json("sla", "check", first_quarter)["takes_over"] == []

    assert f"note: version 3 governs {note}" in handoff.ok("sla", "apply", whole)
    assert handoff.json("sla", "show", "--at", "2026-05-04")["version"] == 3


def test_signing_a_proposal_over_a_later_revisions_days_says_it_takes_them_over(
    signed: Handoff, tmp_path: Path
) -> None:
    """With a team, the proposer is told what the proposal would take over, and the other
    side, whose signature puts it in force, what it now does."""
    revision = TEAM_AGREEMENT.replace("2026-01-01", "2026-04-01").replace(
        '"2026 H1 growth agreement"', '"revised"').replace("= 8", "= 4")
    signed.ok("sla", "apply", agreement(tmp_path, revision, "b.toml"))
    signed.ok("sla", "sign", "2", actor="sam")
    moved = TEAM_AGREEMENT.replace("[team]", '[calendar]\nholidays = ["2026-03-09"]\n\n[team]')

    note = "the days from 2026-04-01 to 2026-06-30"
    proposed = signed.ok("sla", "apply", agreement(tmp_path, moved, "c.toml"))
    assert f"note: version 3, once signed, would govern {note}" in proposed
    assert f"note: version 3 governs {note}" in signed.ok("sla", "sign", "3", actor="sam")


def test_check_names_the_version_it_compares_with_above_its_terms(
    handoff: Handoff, tmp_path: Path
) -> None:
    """H1 ended on 30 June; a file checked in the autumn is compared with it, the last to
    come into force. The table's column read "in force", beside terms no longer in force."""
    handoff.ok("sla", "apply", agreement(tmp_path, H1))
    lax = agreement(tmp_path, H1.replace("= 8", "= 9"), "lax.toml")
    header = next(line for line in handoff.ok("sla", "check", lax).splitlines()
                  if "term" in line)
    assert re.fullmatch(r"\W*term\W+version 1\W+in the file\W*", header)
