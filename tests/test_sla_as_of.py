"""`sla show`, `sla history` and `sla doc` with `--as-of T`: the agreement as it had been
recorded by T (SPEC §3, §7, §10), so that an auditor can reproduce the document both teams
signed as it stood when they signed it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml

CHICAGO = ZoneInfo("America/Chicago")
HANDOFF_SLA = "A handoff decided by its due instant is decided in time"


def now() -> str:
    return datetime.now(UTC).isoformat()


def read(instant: str) -> str:
    """An instant as handoff shows it to people: in the agreement's zone (Chicago)."""
    return datetime.fromisoformat(instant).astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M %Z")


@dataclass
class Record:
    """The store, and the instants between its entries an auditor asks about."""

    handoff: Handoff
    before_any: str  # the store exists; no version recorded yet
    first_signed: str  # version 1 signed by both sides; the late handoff recorded
    second_proposed: str  # version 2 proposed by maria, not signed by sales yet


def handed(handoff: Handoff, key: str, day: str) -> None:
    handoff.ok("lead", "capture", key, "--source", "webinar", "--at", f"2026-03-{day}T09:00")
    handoff.ok("lead", "qualify", key, "--at", f"2026-03-{day}T09:30")
    handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", f"2026-03-{day}T10:00")


def signed_with_a_late_handoff(handoff: Handoff, tmp_path: Path) -> None:
    """Version 1 signed by maria and sam; "late", handed on Monday 2 March at 10:00 (due
    Tuesday at 10:00), rejected on Tuesday at 10:30."""
    first = tmp_path / "v1.toml"
    first.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(first))
    handoff.ok("sla", "sign", "1", actor="sam")
    handed(handoff, "late", "02")
    handoff.ok("lead", "reject", "late", "--reason", "no budget", "--at", "2026-03-03T10:30",
               actor="sam")


@pytest.fixture
def record(handoff: Handoff, tmp_path: Path) -> Record:
    """Version 1 (revenue goal 1,200,000) signed by maria and sam; "late", handed on Monday
    2 March at 10:00 (due Tuesday at 10:00), rejected on Tuesday at 10:30; then version 2
    (revenue goal 1,500,000, nothing else changed) proposed by maria and signed by sam;
    then "prompt", handed on Wednesday 4 March at 10:00 and accepted at 11:00."""
    handoff.ok("traffic", "record", "--date", "2026-03-01", "--visits", "100")  # the store
    before_any = now()
    signed_with_a_late_handoff(handoff, tmp_path)
    first_signed = now()
    second = tmp_path / "v2.toml"
    second.write_text(agreement_toml(AGREEMENT, {"goal.revenue": "1500000"}))
    assert "proposed version 2" in handoff.ok("sla", "apply", str(second))
    second_proposed = now()
    handoff.ok("sla", "sign", "2", actor="sam")
    handed(handoff, "prompt", "04")
    handoff.ok("lead", "accept", "prompt", "--at", "2026-03-04T11:00", actor="sam")
    return Record(handoff, before_any, first_signed, second_proposed)


def signatures(record: dict[str, object]) -> list[tuple[str, str]]:
    return [(s["side"], s["actor"]) for s in record["signatures"]]  # type: ignore[attr-defined]


# -- sla history ------------------------------------------------------------------------


def test_history_as_of_lists_only_the_versions_and_signatures_recorded_by_then(
    record: Record,
) -> None:
    h = record.handoff
    then = h.json("sla", "history", "--as-of", record.first_signed)
    assert [(r["version"], r["status"], signatures(r)) for r in then] == [
        (1, "signed", [("marketing", "maria"), ("sales", "sam")])]
    # Version 2 proposed, sam's signature not yet given: awaiting sales, not in force.
    proposed = h.json("sla", "history", "--as-of", record.second_proposed)
    assert [(r["version"], r["status"], signatures(r)) for r in proposed] == [
        (1, "signed", [("marketing", "maria"), ("sales", "sam")]),
        (2, "awaiting sales", [("marketing", "maria")]),
    ]
    assert proposed[1]["applied_at"] is None
    assert proposed[1]["changes"] == [
        {"key": "goal.revenue", "before": "1200000", "after": "1500000"}]  # exact, as text
    # Now: both versions signed.
    assert [(r["version"], r["status"], len(r["signatures"]))
            for r in h.json("sla", "history")] == [(1, "signed", 2), (2, "signed", 2)]


def test_history_as_of_names_the_instant_in_json_and_in_its_table(record: Record) -> None:
    h = record.handoff
    then = h.json("sla", "history", "--as-of", record.first_signed)
    assert all(datetime.fromisoformat(r["as_of"]) == datetime.fromisoformat(record.first_signed)
               for r in then)
    assert all("as_of" not in r for r in h.json("sla", "history"))
    table = h.ok("sla", "history", "--as-of", record.second_proposed)
    assert f"Agreement versions as of {read(record.second_proposed)}" in table
    assert "awaiting sales" in table
    assert "version 2 changes from version 1: goal.revenue: 1200000 -> 1500000" in table
    assert "awaiting" not in h.ok("sla", "history", "--as-of", record.first_signed)


def test_history_as_of_before_any_version_lists_none_as_on_a_store_without_one(
    record: Record,
) -> None:
    assert record.handoff.json("sla", "history", "--as-of", record.before_any) == []


# -- sla show -----------------------------------------------------------------------------


def test_show_as_of_shows_the_version_in_force_as_recorded_then(record: Record) -> None:
    h = record.handoff
    shown = h.json("sla", "show", "--as-of", record.first_signed)
    assert (shown["version"], shown["document"]["goal"]["revenue"]) == (1, "1200000")
    assert datetime.fromisoformat(shown["as_of"]) == datetime.fromisoformat(record.first_signed)
    # Proposed and not signed by sales, version 2 is not in force yet.
    assert h.json("sla", "show", "--as-of", record.second_proposed)["version"] == 1
    now_shown = h.json("sla", "show")
    assert (now_shown["version"], now_shown["document"]["goal"]["revenue"]) == (2, "1500000")
    assert "as_of" not in now_shown


def test_show_at_a_day_as_of_an_instant_combines_both(record: Record) -> None:
    """--at D: the day whose terms; --as-of T: the record as it stood at T."""
    h = record.handoff
    then = h.json("sla", "show", "--at", "2026-03-02", "--as-of", record.second_proposed)
    assert (then["version"], then["document"]["goal"]["revenue"]) == (1, "1200000")
    assert h.json("sla", "show", "--at", "2026-03-02")["version"] == 2
    table = h.ok("sla", "show", "--at", "2026-03-02", "--as-of", record.first_signed)
    assert f"Agreement in force on 2026-03-02 as of {read(record.first_signed)}" in table
    assert "revenue = 1200000" in table and "1500000" not in table


def test_show_as_of_before_any_version_is_refused_naming_the_instant(record: Record) -> None:
    line = record.handoff.refused("sla", "show", "--as-of", record.before_any)
    # How it stood then, not advice for today (the store holds two versions now).
    then = "none had been applied then; `handoff sla history` shows what was recorded since"
    assert line == f"Error: no agreement is in force as of {read(record.before_any)}: {then}"
    line = record.handoff.refused("sla", "show", "--at", "2026-03-02",
                                  "--as-of", record.before_any)
    assert line == (f"Error: no agreement is in force on 2026-03-02 as of"
                    f" {read(record.before_any)}: {then}")


# -- sla doc ------------------------------------------------------------------------------


def document(h: Handoff, out: Path, *options: str) -> str:
    said = h.ok("sla", "doc", "--month", "2026-03", "--out", str(out), *options)
    assert said.startswith("wrote '2026 growth agreement' with ")
    return out.read_text(encoding="utf-8")


def clause_section(markdown: str, name: str) -> str:
    found = re.search(rf"^#### [\d.]+ {re.escape(name)}\n(.*?)(?=^#)", markdown, re.M | re.S)
    assert found, name
    return found.group(1)


def test_doc_as_of_shows_the_terms_and_versions_signed_by_then(
    record: Record, tmp_path: Path
) -> None:
    h = record.handoff
    then = document(h, tmp_path / "then.md", "--as-of", record.first_signed)
    assert "| Agreement | 2026 growth agreement, version 1 |" in then
    assert "| Revenue goal | 1,200,000 for the whole period; average deal 30,000 |" in then
    versions = then.split("## 3.")[1].split("## 4.")[0]
    assert re.findall(r"^\| (\d+) \| 2026 growth agreement \|", versions, re.M) == ["1"]
    assert "Version 2" not in then
    assert f"The agreement and its evidence as recorded by {read(record.first_signed)}:" in then
    # Version 2 proposed and awaiting sales: listed as such, its terms not in force.
    proposed = document(h, tmp_path / "proposed.md", "--as-of", record.second_proposed)
    assert "| Revenue goal | 1,200,000 for the whole period; average deal 30,000 |" in proposed
    assert re.search(r"^\| 2 \| 2026 growth agreement \| 2026-01-01 to open-ended \| "
                     r"awaiting sales \| \S+ \S+ \S+ by maria \| marketing: maria \(\S+ \S+"
                     r" \S+\) \|$", proposed, re.M), proposed.split("## 3.")[1][:600]
    current = document(h, tmp_path / "now.md")
    assert "| Agreement | 2026 growth agreement, version 2 |" in current
    assert "| Revenue goal | 1,500,000 for the whole period; average deal 30,000 |" in current
    assert "The agreement and its evidence as recorded by" not in current


def test_doc_as_of_measures_the_evidence_as_of_then(record: Record, tmp_path: Path) -> None:
    """At the first signature only "late" was handed (decided 30 minutes late); "prompt",
    decided in time, was recorded after it."""
    h = record.handoff
    then = document(h, tmp_path / "then.md", "--as-of", record.first_signed)
    clause = clause_section(then, HANDOFF_SLA)
    assert ("0 of 1 judged handoffs decided within 8 business hours (0.0 %); 0 still pending."
            in clause)
    assert "late (sam, decided late" in clause and "prompt" not in clause
    still_open = clause_section(
        then, "An undecided handoff is pending until its due instant, then overdue")
    assert (f"0 handoffs pending and 0 overdue (undecided past their due instant) as of"
            f" {read(record.first_signed)}.") in still_open
    # The funnel's actuals, to date and in March: one lead handed then, two now.
    def handed_row(count: int) -> re.Pattern[str]:
        return re.compile(rf"^\| Leads handed to sales \| [\d,]+ \| {count} \| [\d,]+ \|"
                          rf" {count} \|$", re.M)

    assert handed_row(1).search(then), then.split("## 2.")[1].split("## 3.")[0]
    markdown = document(h, tmp_path / "now.md")
    assert handed_row(2).search(markdown)
    current = clause_section(markdown, HANDOFF_SLA)
    assert ("1 of 2 judged handoffs decided within 8 business hours (50.0 %); 0 still pending."
            in current)


def test_doc_as_of_before_the_last_verification_shows_the_run_before_it(
    record: Record, tmp_path: Path
) -> None:
    h = record.handoff
    h.ok("sla", "verify")
    then = document(h, tmp_path / "then.md", "--as-of", record.second_proposed)
    # Not "run `handoff sla verify`, then write this document again": a run now is recorded
    # after T, and changes nothing in the document as of T.
    by = read(record.second_proposed)
    assert (f"No run of `handoff sla verify` was recorded by {by}: the examples had not been"
            " verified on this store then.") in then
    assert "run `handoff sla verify`" not in then
    clause = clause_section(then, HANDOFF_SLA)
    assert f"- **Verified: not verified.** No run of `handoff sla verify` was recorded by {by}." \
        in clause
    assert "Last verification:" in document(h, tmp_path / "now.md")


def test_doc_as_of_before_any_version_is_refused_as_without_one(
    record: Record, tmp_path: Path
) -> None:
    out = tmp_path / "sla.md"
    line = record.handoff.refused("sla", "doc", "--month", "2026-03", "--out", str(out),
                                  "--as-of", record.before_any)
    assert line == (f"Error: no agreement was in force in March 2026, nor was one as of"
                    f" {read(record.before_any)}: none had been applied then; `handoff sla"
                    " history` shows what was recorded since")
    assert not out.exists()


def test_doc_as_of_while_the_first_version_awaited_sales_does_not_ask_to_sign_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """An auditor replays the document as of the moment maria had proposed version 1 and
    sam had not signed it yet. The refusal said "version 1 ... is in force once sales signs
    it (sam, ola): `handoff sla sign 1`", though sam signed it long since: how things stood
    then, read as something to do now."""
    first = tmp_path / "v1.toml"
    first.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(first))
    proposed = now()
    handoff.ok("sla", "sign", "1", actor="sam")
    out = tmp_path / "sla.md"
    line = handoff.refused("sla", "doc", "--month", "2026-03", "--out", str(out),
                           "--as-of", proposed)
    assert line == (f"Error: no agreement was in force in March 2026, nor was one as of"
                    f" {read(proposed)}: version 1, '2026 growth agreement', 2026-01-01 to"
                    " open-ended, still awaited the signature of sales then; `handoff sla"
                    " history` shows what was recorded since")
    assert "sla sign" not in handoff.refused("sla", "show", "--as-of", proposed)
    assert "sla sign" not in handoff.refused("plan", "--as-of", proposed)


# -- plan -------------------------------------------------------------------------------


def test_plan_as_of_plans_the_goal_recorded_by_then_beside_the_actuals_as_of_then(
    record: Record,
) -> None:
    """As of version 1's signatures, March is planned from its 1,200,000 goal, and its
    actuals hold the one handoff recorded by then ("late"); now, version 2's 1,500,000 and
    both handoffs."""
    h = record.handoff
    then = h.json("plan", "--at", "2026-03-02", "--as-of", record.first_signed)
    assert (then["agreement"]["version"], then["total"]["revenue"]) == (1, 1_200_000)
    assert then["actual"]["handed"] == 1
    assert datetime.fromisoformat(then["as_of"]) == datetime.fromisoformat(record.first_signed)
    now_ = h.json("plan", "--at", "2026-03-02")
    assert (now_["agreement"]["version"], now_["total"]["revenue"]) == (2, 1_500_000)
    assert now_["actual"]["handed"] == 2 and "as_of" not in now_
    table = h.ok("plan", "--as-of", record.first_signed)
    assert f"as of {read(record.first_signed)}" in table.splitlines()[0], table


# -- a bad T --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("sla", "history"), ("sla", "show"),
                                     ("sla", "doc", "--out", "sla.md"), ("plan",)])
def test_a_bad_as_of_is_refused_as_kpi_refuses_it(
    record: Record, command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    h = record.handoff
    for bad in ("garbage", "2199-01-01T00:00Z"):
        kpi = h.refused("kpi", "--month", "2026-03", "--as-of", bad)
        assert h.refused(*command, "--as-of", bad) == kpi
    assert not (tmp_path / "sla.md").exists()


def test_a_restatement_signed_after_t_is_not_one_as_of_t(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Maria proposes 40 hours to decide, plainly; Sam signs it as a restatement later. As
    of an instant between, it was a plain proposal awaiting sales: not a restatement, not
    in force, and the March handoff decided 30 minutes late stays late in the document."""
    signed_with_a_late_handoff(handoff, tmp_path)
    revision = tmp_path / "v2.toml"
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "40"}))
    handoff.ok("sla", "apply", str(revision))
    proposed = now()
    handoff.ok("sla", "sign", "2", "--restate", "--why", "the fair", actor="sam")
    then = handoff.json("sla", "history", "--as-of", proposed)
    assert [(r["version"], r["status"], r["restates"]) for r in then] == [
        (1, "signed", None), (2, "awaiting sales", None)]
    assert [(r["status"], r["restates"]) for r in handoff.json("sla", "history")][1] == (
        "signed as a restatement", "the fair")
    markdown = document(handoff, tmp_path / "then.md", "--as-of", proposed)
    assert "restates the past" not in markdown
    assert ("0 of 1 judged handoffs decided within 8 business hours (0.0 %)"
            in clause_section(markdown, HANDOFF_SLA))
    # Now the restatement judges it by 40 hours: in time.
    assert ("1 of 1 judged handoffs decided within 40 business hours (100.0 %)"
            in clause_section(document(handoff, tmp_path / "now.md"), HANDOFF_SLA))


def test_a_doc_names_the_instant_it_was_read_as_of_and_replays_to_the_same_document(
    record: Record, tmp_path: Path
) -> None:
    """Written without --as-of, every part of the document is read as of one instant, which
    its last line gives with the command that writes it again: the evidence it writes then
    is the document's, and stays so after another handoff of March."""
    h = record.handoff
    written = document(h, tmp_path / "now.md")
    [instant] = re.findall(r"`handoff sla doc --month 2026-03 --as-of ([0-9T:.Z-]+) --out FILE`"
                           r" writes it again as it reads here", written)
    replayed = document(h, tmp_path / "replayed.md", "--as-of", instant)
    judged = "1 of 2 judged handoffs decided within 8 business hours (50.0 %); 0 still pending."
    assert judged in clause_section(written, HANDOFF_SLA)
    assert judged in clause_section(replayed, HANDOFF_SLA)
    handed(h, "newcomer", "05")  # overdue now
    again = document(h, tmp_path / "again.md", "--as-of", instant)
    assert again.split("\nWritten ")[0] == replayed.split("\nWritten ")[0]
    assert "newcomer" not in again and "newcomer" in document(h, tmp_path / "after.md")
