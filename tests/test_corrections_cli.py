"""Correcting the record (SPEC §2) through the real command line, on each store.

The agreement (conftest's TEAM_AGREEMENT) gives sales 8 business hours (09:00-17:00,
Chicago) to decide a handoff: a lead handed on Monday 2 March 2026 at 11:00 is due on
Tuesday at 11:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from conftest import TEAM_AGREEMENT as AGREEMENT

MARCH = ("kpi", "--month", "2026-03")


def handed_and_contacted(h: Handoff, key: str = "acme") -> None:
    """Entries 1-4: captured, qualified, handed on Monday at 11:00, contacted on Tuesday."""
    h.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
    h.ok("lead", "qualify", key, "--at", "2026-03-02T10:00")
    h.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T11:00")
    h.ok("lead", "contact", key, "--at", "2026-03-03T14:00", actor="sam")


def breaches(h: Handoff) -> list[dict[str, Any]]:
    """`sla breaches` exits 3 while a handoff is overdue: its JSON all the same."""
    result = h("sla", "breaches", "--format", "json")
    assert result.exit_code in (0, 3), result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def last_recorded(h: Handoff, key: str = "acme") -> str:
    entries: list[dict[str, Any]] = h.json("lead", "history", key)
    return str(entries[-1]["recorded_at"])


def test_a_missed_acceptance_needs_a_reason_and_then_counts_in_time(signed: Handoff) -> None:
    handed_and_contacted(signed)
    before = last_recorded(signed)
    refusal = signed.refused("lead", "accept", "acme", "--at", "2026-03-02T15:30", actor="sam")
    assert "is before its previous event" in refusal and "--why" in refusal
    assert len(signed.json("lead", "history", "acme")) == 4  # nothing written

    signed.ok("lead", "accept", "acme", "--at", "2026-03-02T15:30", "--why",
              "accepted on the phone, forgot to record it", actor="sam")

    entry = signed.json("lead", "history", "acme")[-1]
    assert (entry["n"], entry["event"], entry["actor"]) == (5, "accepted", "sam")
    assert entry["occurred_at"] == "2026-03-02T21:30:00Z"
    assert entry["why"] == "accepted on the phone, forgot to record it"
    assert signed.json("lead", "show", "acme")["state"] == "accepted"
    now = signed.json(*MARCH)
    assert (now["counts"]["accepted"], now["sla"]["decided_in_time"]) == (1, 1)
    assert now["sla"]["overdue"] == 0
    # As of before the correction: no acceptance, and the handoff was overdue then.
    then = signed.json(*MARCH, "--as-of", before)
    assert (then["counts"]["accepted"], then["sla"]["overdue"]) == (0, 1)
    assert signed.json("lead", "show", "acme", "--as-of", before)["state"] == "handed"


def test_a_missed_call_on_a_won_lead_is_told_to_give_its_reason(signed: Handoff,
                                                                 tmp_path: Path) -> None:
    # The lead is won, which is final for new steps; a call that happened before the win
    # and was never logged is a missed step, which --why records at its true time.
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T09:00", "--why", "on the phone",
              actor="sam")
    signed.ok("lead", "proposal", "acme", "--amount", "5000", "--at", "2026-03-04T09:00",
              actor="sam")
    signed.ok("lead", "win", "acme", "--at", "2026-03-04T10:00", actor="sam")
    refusal = signed.refused("lead", "contact", "acme", "--at", "2026-03-03T16:00",
                             actor="sam")
    assert "is before its previous event" in refusal and "--why" in refusal
    assert len(signed.json("lead", "history", "acme")) == 7  # nothing written
    signed.ok("lead", "contact", "acme", "--at", "2026-03-03T16:00", "--why",
              "logged from the phone later", actor="sam")
    assert signed.json("lead", "history", "acme")[-1]["event"] == "contacted"
    # A new step after the win is still refused: the lead is final; and so is a loss
    # before the win, which --why could not record in its place either.
    assert "which is final" in signed.refused("lead", "contact", "acme", "--at",
                                              "2026-03-05T10:00", actor="sam")
    assert signed.refused("lead", "lose", "acme", "--reason", "price", "--at",
                          "2026-03-04T09:30", actor="sam") == (
        "Error: lead 'acme' is won, which is final: cannot record lost")
    # An import, which has no --why, says the same of such a row.
    rows = tmp_path / "late-loss.csv"
    rows.write_text("lead,event,at,actor,reason\nacme,lost,2026-03-04T09:30,sam,price\n")
    imported = signed("import", str(rows))
    assert imported.exit_code == 1
    assert "line 2: lead 'acme' is won, which is final: cannot record lost" in imported.stderr


def test_a_step_dated_where_the_protocol_refuses_it_is_not_told_to_give_a_reason(
    signed: Handoff,
) -> None:
    # The lead is with sales now, so a call is allowed now; dated Monday 10:30, before the
    # 11:00 handoff, it lands on a qualified lead, which --why would not change: the line
    # says so rather than sending the user to try again with --why.
    handed_and_contacted(signed)
    refusal = signed.refused("lead", "contact", "acme", "--at", "2026-03-02T10:30",
                             actor="sam")
    assert refusal == (
        "Error: lead 'acme': 2026-03-02 10:30 CST is before its previous event (contacted at "
        "2026-03-03 14:00 CST), where the protocol refuses it too (lead 'acme' is qualified: "
        "contacted needs a lead in state handed, accepted or proposal)")
    assert "--why" not in refusal
    assert len(signed.json("lead", "history", "acme")) == 4  # nothing written
    # A call after the handoff fits in its place: that one is told to give its reason.
    assert "give --why" in signed.refused("lead", "contact", "acme", "--at",
                                          "2026-03-02T11:30", actor="sam")


def test_a_voided_step_no_longer_counts_and_stays_in_the_history(signed: Handoff) -> None:
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T15:00", actor="sam")  # entry 5
    before = last_recorded(signed)

    said = signed.ok("lead", "void", "acme", "5", "--why", "accepted the wrong lead",
                     actor="ola")
    # It names the step that no longer counts, as `lead amend` says what an entry now reads.
    assert said == "acme: entry 5 voided: accepted at 2026-03-03 15:00 CST no longer counts\n"

    entries = signed.json("lead", "history", "acme")
    assert [e["event"] for e in entries] == [
        "captured", "qualified", "handed", "contacted", "accepted", "voided"]
    voided = entries[-1]
    assert (voided["n"], voided["target"], voided["actor"]) == (6, 5, "ola")
    assert voided["why"] == "accepted the wrong lead"
    # The voided entry says so itself (an auditor reading entry 5 need not find entry 6).
    assert entries[4]["corrected_by"] == [6]
    assert all("corrected_by" not in e for e in entries[:4] + entries[5:])
    [row] = [line for line in signed.ok("lead", "history", "acme").splitlines()
             if line.startswith("│ 5 ")]
    assert "corrected by #6" in row
    assert "corrected_by" not in signed.json("lead", "history", "acme", "--as-of", before)[4]
    assert signed.json("lead", "show", "acme")["state"] == "handed"
    now = signed.json(*MARCH)
    assert (now["counts"]["accepted"], now["sla"]["overdue"], now["sla"]["decided_late"]) == (
        0, 1, 0)
    then = signed.json(*MARCH, "--as-of", before)
    assert (then["counts"]["accepted"], then["sla"]["decided_late"]) == (1, 1)
    assert [b["lead"] for b in breaches(signed)] == ["acme"]


def test_an_amended_amount_counts_now_and_the_old_one_as_of_before(signed: Handoff) -> None:
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T15:00", actor="sam")
    signed.ok("lead", "proposal", "acme", "--amount", "12000", "--at", "2026-03-05T10:00",
              actor="sam")
    signed.ok("lead", "win", "acme", "--amount", "120000", "--at", "2026-03-06T10:00", actor="sam")
    before = last_recorded(signed)

    signed.ok("lead", "amend", "acme", "7", "--amount", "12000", "--why", "a zero too many",
              actor="sam")

    amended = signed.json("lead", "history", "acme")[-1]
    assert (amended["event"], amended["target"]) == ("amended", 7)
    assert amended["why"] == "a zero too many"
    assert Decimal(str(amended["amount"])) == Decimal("12000")
    assert signed.json("lead", "show", "acme")["won_amount"] == 12000
    assert Decimal(str(signed.json(*MARCH)["revenue_won"])) == Decimal("12000")
    assert Decimal(str(signed.json(*MARCH, "--as-of", before)["revenue_won"])) == Decimal(
        "120000")


def test_amending_a_won_deals_proposal_says_the_win_still_holds_its_amount(
    signed: Handoff,
) -> None:
    # Entries 5-7: accepted, a proposal of 30000 (a typo for 25000), won without an amount,
    # which took the proposal's 30000 then.
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T15:00", actor="sam")
    signed.ok("lead", "proposal", "acme", "--amount", "30000", "--at", "2026-03-05T10:00",
              actor="sam")
    signed.ok("lead", "win", "acme", "--at", "2026-03-06T10:00", actor="sam")

    said = signed.ok("lead", "amend", "acme", "6", "--amount", "25000", "--why", "a typo",
                     actor="sam")

    assert said.splitlines() == [
        "acme: entry 6 amended: proposal at 2026-03-05 10:00 CST (amount=25000)",
        "acme: the win, entry 7, still holds 30000, the amount it was won for; if the deal"
        " closed for 25000, amend it too: handoff lead amend acme 7 --amount 25000 --why W",
    ]
    assert signed.json("lead", "show", "acme")["won_amount"] == 30000
    # Following the advice, the deal counts for 25000; the win now holds the proposal's
    # amount, and amending the proposal's instant says nothing more.
    # The confirmation says what the entry now reads (trial B: "entry 4 amended" alone sent
    # the user to `lead history` to see whether the right entry took the right value).
    assert signed.ok("lead", "amend", "acme", "7", "--amount", "25000", "--why", "the same typo",
                     actor="sam") == (
        "acme: entry 7 amended: won at 2026-03-06 10:00 CST (amount=25000)\n")
    assert Decimal(str(signed.json(*MARCH)["revenue_won"])) == Decimal("25000")
    assert signed.ok("lead", "amend", "acme", "6", "--at", "2026-03-05T11:00", "--why",
                     "sent an hour later", actor="sam") == (
        "acme: entry 6 amended: proposal at 2026-03-05 11:00 CST (amount=25000)\n")


def test_an_amended_instant_moves_the_step_to_its_month(signed: Handoff) -> None:
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T15:00", actor="sam")
    signed.ok("lead", "proposal", "acme", "--amount", "12000", "--at", "2026-03-30T10:00",
              actor="sam")  # entry 6, truly sent on 2 April
    signed.ok("lead", "amend", "acme", "6", "--at", "2026-04-02T10:00", "--why", "wrong day",
              actor="sam")
    assert signed.json(*MARCH)["counts"]["proposal"] == 0
    assert signed.json("kpi", "--month", "2026-04")["counts"]["proposal"] == 1
    # People read the new instant in the agreement's time zone, as every other instant.
    assert "at=2026-04-02 10:00 CDT" in signed.ok("lead", "history", "acme")


@pytest.mark.parametrize(
    ("args", "actor", "says"),
    [
        (("void", "acme", "9", "--why", "x"), "sam", "has no entry 9"),
        (("void", "acme", "1", "--why", "x"), "maria", "capture of a lead cannot be voided"),
        # Whoever asks: not sent to marketing, who would be refused too.
        (("void", "acme", "1", "--why", "x"), "sam", "capture of a lead cannot be voided"),
        (("void", "acme", "3", "--why", "x"), "maria", "contacted needs a lead in state"),
        (("void", "acme", "4", "--why", "x"), "maria", "may not record contacted"),
        (("void", "acme", "4", "--why", " "), "sam", "needs a reason"),
        (("amend", "acme", "4", "--amount", "5", "--why", "x"), "sam", "has no amount"),
        (("amend", "acme", "3", "--owner", "nobody", "--why", "x"), "maria",
         "not on the sales side"),
        (("amend", "acme", "2", "--at", "2026-03-02T08:00", "--why", "x"), "maria",
         "a step before its capture"),
        (("amend", "acme", "4", "--at", "2099-01-01T00:00", "--why", "x"), "sam",
         "in the future"),
        (("amend", "acme", "2", "--why", "x"), "maria", "at least one value"),
        (("amend", "acme", "3", "--owner", "sam", "--why", "x"), "maria", "already reads so"),
        # An empty text is no text, as in a capture: the lead was captured without them.
        (("amend", "acme", "1", "--email", "", "--why", "x"), "maria", "already reads so"),
        (("amend", "acme", "1", "--name", "", "--company", "", "--why", "x"), "maria",
         "already reads so"),
        (("amend", "acme", "4", "--channel", "", "--why", "x"), "sam", "already reads so"),
    ],
)
def test_a_correction_that_breaks_a_rule_is_refused_and_writes_nothing(
    signed: Handoff, args: tuple[str, ...], actor: str, says: str
) -> None:
    handed_and_contacted(signed)
    before = signed.json("lead", "history", "acme")
    assert says in signed.refused("lead", *args, actor=actor)
    assert signed.json("lead", "history", "acme") == before


def test_an_empty_text_is_no_text_in_a_capture_and_in_an_amendment(signed: Handoff) -> None:
    signed.ok("lead", "capture", "zed", "--source", "web", "--name", "Zed", "--email", "",
              "--at", "2026-03-02T09:00")
    assert signed.json("lead", "history", "zed")[0]["email"] is None
    signed.ok("lead", "amend", "zed", "1", "--name", "", "--why", "not the person's name")
    shown = signed.json("lead", "show", "zed")
    assert (shown["name"], shown["email"]) == (None, None)
    assert signed.json("lead", "history", "zed")[1]["name"] is None


def test_an_amendment_that_clears_a_detail_says_so_in_the_history_table(
    signed: Handoff
) -> None:
    """Trial A: an e-mail cleared by `amend --email ""` showed in `lead history` as
    "target=1, why=typo", an amendment that seemed to change nothing."""
    signed.ok("lead", "capture", "zed", "--source", "web", "--email", "z@x.com",
              "--at", "2026-03-02T09:00")
    signed.ok("lead", "amend", "zed", "1", "--email", "", "--why", "not the person's")
    table = signed.ok("lead", "history", "zed")
    assert "target=1, why=not the person's, email cleared" in table


def test_corrected_figures_are_those_a_rebuild_finds(signed: Handoff) -> None:
    """The projection replaces a corrected lead's rows in place; projecting the whole log
    again from zero must give the same report, now and as of before each correction."""
    for key in ("a", "b", "c"):
        handed_and_contacted(signed, key)
    signed.ok("lead", "accept", "a", "--at", "2026-03-02T12:00", "--why", "missed", actor="sam")
    first = last_recorded(signed, "a")
    signed.ok("lead", "reject", "b", "--reason", "no budget", "--at", "2026-03-03T15:00",
              actor="sam")
    signed.ok("lead", "void", "b", "5", "--why", "wrong lead", actor="sam")
    signed.ok("lead", "amend", "c", "3", "--at", "2026-03-02T16:00", "--why", "late handoff")
    signed.ok("lead", "accept", "c", "--at", "2026-03-04T09:00", actor="sam")
    reports = [("kpi", "--month", "2026-03", *extra)
               for extra in ((), ("--basis", "cohort"), ("--by", "owner"), ("--as-of", first))]

    def figures() -> list[Any]:  # less the instant each was read at
        read = [signed.json(*report) for report in reports] + breaches(signed)
        return [{k: v for k, v in r.items() if k not in ("as_of", "hours_past_due")}
                for r in read]

    seen = figures()
    signed.ok("projections", "rebuild")
    assert figures() == seen
    assert seen[0]["counts"]["accepted"] == 2 and seen[0]["counts"]["rejected"] == 0


def test_the_full_backup_restores_corrections_and_restatements(
    signed: Handoff, store: str, tmp_path: Path
) -> None:
    """`export --format jsonl` into an empty store gives the same history, figures now and
    as of before each correction and the restatement."""
    handed_and_contacted(signed)
    before_missed = last_recorded(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T12:00", "--why", "missed",
              actor="sam")  # a day late: a breach under 8 business hours
    before_restatement = last_recorded(signed)
    lax = tmp_path / "lax.toml"
    lax.write_text(AGREEMENT.replace("= 8", "= 40"))
    signed.ok("sla", "apply", str(lax), "--restate", "--why", "8 hours was a typo")
    signed.ok("sla", "sign", "2", actor="sam")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(signed.ok("export", "--format", "jsonl"))

    restored = Handoff(_other_store(store, tmp_path))
    restored.ok("import", str(backup))
    assert restored.json("lead", "history", "acme") == signed.json("lead", "history", "acme")
    for as_of in ((), ("--as-of", before_missed), ("--as-of", before_restatement)):
        mine, theirs = (h.json(*MARCH, *as_of) for h in (signed, restored))
        assert {k: v for k, v in mine.items() if k != "as_of"} == {
            k: v for k, v in theirs.items() if k != "as_of"}
    now = restored.json(*MARCH)
    assert (now["sla"]["decided_in_time"], len(now["restatements"])) == (1, 1)
    late = restored.json(*MARCH, "--as-of", before_restatement)
    assert (late["sla"]["decided_late"], late["restatements"]) == (1, [])


def test_the_csv_export_carries_a_corrected_lead_as_it_now_reads(
    signed: Handoff, store: str, tmp_path: Path
) -> None:
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-02T12:00", "--why", "missed",
              actor="sam")
    signed.ok("lead", "void", "acme", "4", "--why", "the call was another lead's",
              actor="sam")
    exported = tmp_path / "leads.csv"
    exported.write_text(signed.ok("export"))
    rows = exported.read_text().splitlines()
    assert [row.split(",")[1] for row in rows[1:]] == [
        "captured", "qualified", "handed", "accepted"]
    copy = Handoff(_other_store(store, tmp_path))
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(AGREEMENT)
    copy.ok("sla", "apply", str(agreement))
    copy.ok("sla", "sign", "1", actor="sam")
    copy.ok("import", str(exported))
    mine, theirs = signed.json(*MARCH), copy.json(*MARCH)
    assert mine["counts"] == theirs["counts"] and mine["sla"] == theirs["sla"]
    assert signed.json("lead", "history", "acme")[-1]["event"] == "voided"  # unchanged


def _other_store(store: str, tmp_path: Path) -> str:
    """A second, empty store (SQLite: a PostgreSQL original is exported to it, so both
    directions are tried across the two parametrizations)."""
    return str(tmp_path / "copy.sqlite")


def test_a_correction_that_breaks_the_lifecycle_says_which_correction(signed: Handoff) -> None:
    """Voiding the handoff of a lead sales has since called leaves the call on a qualified
    lead. The refusal names the correction, so that 'lead acme is qualified' (the lead is
    with sales) does not read as a description of the lead as it stands."""
    handed_and_contacted(signed)
    assert signed.refused("lead", "void", "acme", "3", "--why", "x", actor="maria") == (
        "Error: voiding entry 3 of lead 'acme' would leave its steps against the protocol: "
        "lead 'acme' is qualified: contacted needs a lead in state handed, accepted or "
        "proposal"
    )
    assert signed.refused(
        "lead", "amend", "acme", "3", "--at", "2026-03-03T15:00", "--why", "x", actor="maria"
    ).startswith("Error: amending entry 3 of lead 'acme' would leave its steps against the "
                 "protocol: lead 'acme' is qualified: contacted needs a lead in state")


def test_a_reimported_row_that_differs_is_refused_in_plain_words(
    signed: Handoff, tmp_path: Path
) -> None:
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T15:00", actor="sam")
    signed.ok("lead", "proposal", "acme", "--amount", "25200", "--at", "2026-03-04T10:00",
              actor="sam")
    rows = tmp_path / "again.csv"
    rows.write_text("lead,event,at,actor,amount\nacme,proposal,2026-03-04T16:00:00Z,sam,99999\n")
    result = signed("import", str(rows))
    assert result.exit_code == 1
    assert "with amount 25200, not '99999'" in result.stderr and "Decimal" not in result.stderr


def test_each_breach_and_lead_show_name_the_agreement_version_that_judged_it(
    signed: Handoff, tmp_path: Path
) -> None:
    """An auditor reads which version judged each breach, now and as first reported: the
    handoff's own entry keeps naming the version it was recorded under (version 1), so
    after a restatement only the breach itself can say that version 2 judges it now.

    Handed on Monday at 11:00 and accepted on Tuesday at 14:00: under version 1's 8
    business hours it was due on Tuesday at 11:00 (3 hours late); under the restatement's
    9 hours, at 12:00 (2 hours late)."""
    handed_and_contacted(signed)
    signed.ok("lead", "accept", "acme", "--at", "2026-03-03T14:00", "--why", "missed",
              actor="sam")
    before_restatement = last_recorded(signed)
    nine = tmp_path / "nine.toml"
    nine.write_text(AGREEMENT.replace("= 8", "= 9"))
    signed.ok("sla", "apply", str(nine), "--restate", "--why", "9 hours were agreed")
    signed.ok("sla", "sign", "2", actor="sam")

    [now] = breaches(signed)
    assert (now["judged_by_version"], now["hours_past_due"]) == (2, 2.0)
    [then] = json.loads(signed.ok("sla", "breaches", "--format", "json",
                                  "--as-of", before_restatement))
    assert (then["judged_by_version"], then["hours_past_due"]) == (1, 3.0)
    assert signed.json("lead", "history", "acme")[2]["agreement_version"] == 1
    assert signed.json("lead", "show", "acme")["judged_by_version"] == 2
    shown = signed.json("lead", "show", "acme", "--as-of", before_restatement)
    assert (shown["handoff"], shown["judged_by_version"]) == ("late", 1)
    header = next(line for line in signed.ok("sla", "breaches").splitlines()
                  if "lead" in line and "owner" in line)
    assert header.strip("┃│ ").split()[-1] == "version"  # the table names it short


def test_sla_history_names_what_a_restatement_changes_for_each_version_it_judges_again(
    signed: Handoff, tmp_path: Path
) -> None:
    """Version 2 gives 9 hours and restates nothing; version 3 adds a holiday to it and
    restates. Compared with version 2 it only adds the holiday, but the handoffs recorded
    under version 1 are judged by it too: for them it also turns 8 hours into 9, which an
    auditor reading only "changes from version 2" would not know."""
    nine = AGREEMENT.replace("= 8", "= 9")
    for number, (text, restate) in enumerate(
            ((nine, ()),
             (nine.replace("[team]", '[calendar]\nholidays = ["2026-03-04"]\n\n[team]'),
              ("--restate", "--why", "the office was closed on 4 March"))), start=2):
        path = tmp_path / f"v{number}.toml"
        path.write_text(text)
        signed.ok("sla", "apply", str(path), *restate)
        signed.ok("sla", "sign", str(number), actor="sam")

    records = signed.json("sla", "history")
    assert [r.get("restates_changes") for r in records[:2]] == [None, None]
    rejudged = {found["version"]: {c["key"] for c in found["changes"]}
                for found in records[2]["restates_changes"]}
    assert rejudged == {1: {"sales.decide_within_hours", "calendar.holidays"},
                        2: {"calendar.holidays"}}
    lines = signed.ok("sla", "history").splitlines()
    said = next(line for line in lines if "recorded under version 1" in line)
    assert "sales.decide_within_hours: 8 -> 9" in said


def test_sla_history_says_a_restatement_not_signed_judges_no_handoff(
    signed: Handoff, tmp_path: Path
) -> None:
    """Maria proposes 9 hours as a restatement; before sales signs it, a revision of 10
    hours comes into force and overtakes it. History said of both proposals "version 2, a
    restatement, changes for the handoffs recorded under version 1: 8 -> 9", as of one in
    force: an auditor read that March's verdicts had been judged again under 9 hours."""
    nine, ten = tmp_path / "nine.toml", tmp_path / "ten.toml"
    nine.write_text(AGREEMENT.replace("= 8", "= 9"))
    ten.write_text(AGREEMENT.replace("= 8", "= 10"))
    signed.ok("sla", "apply", str(nine), "--restate", "--why", "9 hours were agreed")

    said = [line for line in signed.ok("sla", "history").splitlines()
            if line.startswith("version 2,")]
    assert said == ["version 2, proposed as a restatement, would change once signed for the"
                    " handoffs recorded under version 1: sales.decide_within_hours: 8 -> 9"]

    signed.ok("sla", "apply", str(ten))
    signed.ok("sla", "sign", "3", actor="sam")
    lines = signed.ok("sla", "history").splitlines()
    assert not [line for line in lines if line.startswith("version 2,")]
    assert not [line for line in lines if "restatement" in line]


def test_a_restatement_says_when_applied_and_signed_what_it_carries_back(
    signed: Handoff, tmp_path: Path
) -> None:
    """Version 2 gives 9 hours and restates nothing; version 3 adds a holiday and restates.
    Beside "changes from version 2" (the holiday), the handoffs recorded under version 1
    are judged by its 9 hours too: its proposer and its signer are told so as they record
    it (an auditor's trial, O, found it only in October's compliance)."""
    nine = AGREEMENT.replace("= 8", "= 9")
    path = tmp_path / "v2.toml"
    path.write_text(nine)
    assert "note:" not in signed.ok("sla", "apply", str(path))
    signed.ok("sla", "sign", "2", actor="sam")
    path = tmp_path / "v3.toml"
    path.write_text(nine.replace("[team]", '[calendar]\nholidays = ["2026-03-04"]\n\n[team]'))
    # Both changes from version 1, in the agreement's order of terms (the calendar first).
    note = ("note: as a restatement, version 3 also judges the handoffs recorded under"
            " version 1 again: calendar.holidays added: 2026-03-04;"
            " sales.decide_within_hours: 8 -> 9")
    proposed = signed.ok("sla", "apply", str(path), "--restate", "--why", "closed on 4 March")
    assert proposed.splitlines()[-1] == note
    assert "under version 2" not in proposed  # its changes from version 2: `sla history`
    assert signed.ok("sla", "sign", "3", actor="sam").splitlines()[-1] == note


def test_a_restatement_that_sets_a_periods_targets_anew_is_named_by_its_report(
    signed: Handoff, tmp_path: Path
) -> None:
    """H1 (January to June, 181 days) had no goal; both sides restate it with a goal of
    1,810,000, which gives March's 31 days 310,000. No handoff is judged otherwise, so the
    March report named no restatement: its target moved from none to 310,000 unexplained.
    A restatement adding a holiday in May changes nothing of March, and is not named."""
    before = datetime.now(UTC).isoformat()
    goal = tmp_path / "goal.toml"
    goal.write_text(AGREEMENT.replace("[sales]", "[goal]\nrevenue = 1810000\n\n[sales]"))
    signed.ok("sla", "apply", str(goal), "--restate", "--why", "the goal was left out")
    signed.ok("sla", "sign", "2", actor="sam")
    may = tmp_path / "may.toml"
    may.write_text(goal.read_text().replace("[sales]", '[calendar]\nholidays = ["2026-05-04"]'
                                            "\n\n[sales]"))
    signed.ok("sla", "apply", str(may), "--restate", "--why", "closed on 4 May")
    signed.ok("sla", "sign", "3", actor="sam")

    march = signed.json(*MARCH)
    assert Decimal(str(march["targets"]["revenue_won"])) == Decimal("310000")
    assert [(r["version"], r["handoffs"], r["targets"]) for r in march["restatements"]] == [
        (2, 0, True)]
    table = signed.ok(*MARCH)
    assert "\u201cthe goal was left out\u201d. Its terms set the period's targets anew;" in table
    then = signed.json(*MARCH, "--as-of", before)
    assert (then["targets"]["revenue_won"], then["restatements"]) == (None, [])
