"""Follow-up and speed to lead as `kpi` (table, JSON, CSV), `report` and `sla doc` show them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementTerms
from handoff.domain.agreement_file import parse_agreement
from handoff.store import locate


@pytest.fixture
def march(handoff: Handoff, tmp_path: Path) -> Handoff:
    """Under 2 attempts within 7 days: 'quick' is accepted and called twice (met), 'slow'
    is accepted and called once (missed); both were handed on Monday 2 March at 10:00 and
    first called at 11:00 (1 business hour) and on Tuesday at 10:00 (8 business hours)."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT, {
        "team": None, "sales.follow_up": "{ attempts = 2, within_days = 7 }"}))
    handoff.ok("sla", "apply", str(toml))
    for key in ("quick", "slow"):
        handoff.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T09:30")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T10:00")
        handoff.ok("lead", "accept", key, "--at", "2026-03-02T10:30")
    handoff.ok("lead", "contact", "quick", "--at", "2026-03-02T11:00")
    handoff.ok("lead", "contact", "quick", "--at", "2026-03-04T11:00")
    handoff.ok("lead", "contact", "slow", "--at", "2026-03-03T10:00")
    return handoff


def test_kpi_json_carries_both_blocks(march: Handoff) -> None:
    result = march.json("kpi", "--month", "2026-03")
    assert result["follow_up"] == {"accepted": 2, "met": 1, "missed": 1, "pending": 0,
                                   "compliance": 0.5}
    assert result["speed_to_lead"] == {"contacted": 2, "median_hours": 4.5, "p90_hours": 8.0}


def test_kpi_csv_and_table_show_them(march: Handoff) -> None:
    rows = list(csv.reader(io.StringIO(march.ok("kpi", "--month", "2026-03", "--format",
                                                 "csv"))))
    metrics = [row[:5] for row in rows]  # then what each was computed on: basis, period...
    assert ["all", "follow_up", "compliance", "0.5", ""] in metrics
    assert ["all", "speed_to_lead", "p90_hours", "8.0", ""] in metrics
    table = march.ok("kpi", "--month", "2026-03")
    assert "Follow-up and speed to lead" in table
    assert "50.0% *" in table  # 2 leads judged: thin


def test_the_review_and_the_document_show_them(march: Handoff, tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    march.ok("report", "--month", "2026-03", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "50.0% * compliance: 1 met, 1 missed, 0 pending of 2 accepted leads" in page
    assert "median 4.5 h, 90th percentile 8.0 h, over 2 handoffs contacted" in page
    doc = tmp_path / "sla.md"
    march.ok("sla", "doc", "--month", "2026-03", "--out", str(doc))
    text = doc.read_text(encoding="utf-8")
    assert ("**Honoured in March 2026: not honoured.** 1 of 2 accepted leads got the agreed "
            "follow-up (50.0 %); 1 missed it, 0 still within their window.") in text
    assert ("**Honoured in March 2026: measured.** Median 4.5 business hours from handoff to "
            "first contact, 90th percentile 8.0, over 2 contacted handoffs") in text


@pytest.mark.parametrize("half", [{"attempts": 2}, {"within_days": 7}])
def test_half_a_follow_up_clause_is_refused_and_one_recorded_before_measures_nothing(
    handoff: Handoff, tmp_path: Path, half: dict[str, int]
) -> None:
    """A follow-up needs both its attempts and its days: half of one is refused by name. A
    version recorded with half of one before files were refused for it (applied here as
    the store took it then) asks for no follow-up, and every report still reads."""
    given = ", ".join(f"{key} = {value}" for key, value in half.items())
    missing = "within_days" if "attempts" in half else "attempts"
    toml = tmp_path / "half.toml"
    toml.write_text(agreement_toml(AGREEMENT, {"team": None,
                                               "sales.follow_up": f"{{ {given} }}"}))
    for command in ("check", "apply"):
        assert handoff.refused("sla", command, str(toml)) == (
            f"Error: {toml}: sales.follow_up.{missing}: is required")

    whole = parse_agreement(agreement_toml(AGREEMENT, {"team": None}))
    document = {**whole.document, "sales": {**whole.document["sales"], "follow_up": half}}
    app = HandoffApp(locate(handoff.store))
    app.apply_agreement(AgreementTerms(document), "maria")
    app.close()
    handoff.ok("lead", "capture", "kim", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "kim", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "kim", "--owner", "sam", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "accept", "kim", "--at", "2026-03-02T10:30")
    handoff.ok("lead", "contact", "kim", "--at", "2026-03-02T11:00")
    result = handoff.json("kpi", "--month", "2026-03")
    assert "follow_up" not in result
    assert result["speed_to_lead"] == {"contacted": 1, "median_hours": 1.0, "p90_hours": 1.0}
    handoff.ok("kpi", "--month", "2026-03", "--as-of", "2026-03-31T12:00")
    handoff.ok("report", "--month", "2026-03", "--out", str(tmp_path / "review.html"))
    handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(tmp_path / "doc.md"))


# Acme accepted at 10:30 on the day of its handoff, and called the next day.
ACCEPTED_AND_CALLED = [("accept", "acme", "--at", "2026-03-02T10:30"),
                       ("contact", "acme", "--at", "2026-03-03T10:00")]


def revision_after(handoff: Handoff, tmp_path: Path, first: dict[str, str],
                   revised: dict[str, str], steps: list[tuple[str, ...]]) -> Path:
    """Lead acme captured, qualified and handed to sam on Monday 2 March (09:00, 09:30,
    10:00), then `steps` (lead subcommand and its options), all under the agreement with
    `first`'s changes; returns the file of the revision with `revised`'s, to apply."""
    applied, revision = tmp_path / "first.toml", tmp_path / "revised.toml"
    applied.write_text(agreement_toml(AGREEMENT, {"team": None, **first}))
    revision.write_text(agreement_toml(AGREEMENT, {"team": None, "name": '"revised"',
                                                   **revised}))
    handoff.ok("sla", "apply", str(applied))
    handoff.ok("lead", "capture", "acme", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "acme", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "acme", "--owner", "sam", "--at", "2026-03-02T10:00")
    for step in steps:
        handoff.ok("lead", *step)
    return revision


@pytest.mark.parametrize(("restate", "hours"), [(False, 1.5), (True, 0.5)])
def test_speed_to_lead_without_a_follow_up_clause_keeps_the_terms_that_judge_the_handoff(
    handoff: Handoff, tmp_path: Path, restate: bool, hours: float
) -> None:
    # Without a follow-up clause the speed comes from the first contact the projection
    # keeps with each handoff: it too is measured by the version judging the handoff. A
    # revision opening at 11:00 instead of 09:00, applied after the handoff was recorded,
    # changes its speed (10:00 -> 11:30: 1.5 hours, or 0.5 from the revised opening) only
    # as a restatement.
    revised = revision_after(handoff, tmp_path, {}, {"calendar.hours": '["11:00", "17:00"]'},
                             [("contact", "acme", "--at", "2026-03-02T11:30")])
    handoff.ok("sla", "apply", str(revised), *(["--restate", "--why", "late opening"]
                                               if restate else []))
    speed = handoff.json("kpi", "--month", "2026-03")["speed_to_lead"]
    assert speed == {"contacted": 1, "median_hours": hours, "p90_hours": hours}
    # A correction since (a typo in the name) changes nothing of that: the handoff's entry
    # was still recorded before the revision.
    handoff.ok("lead", "amend", "acme", "1", "--name", "Acme Inc", "--why", "typo")
    assert handoff.json("kpi", "--month", "2026-03")["speed_to_lead"] == speed


def test_a_correction_leaves_the_follow_up_judged_by_the_terms_of_its_acceptance(
    handoff: Handoff, tmp_path: Path
) -> None:
    # Two calls within 7 days were asked when the acceptance was recorded; one call within
    # 7 days, applied later and not as a restatement, does not judge it, correction or not.
    revised = revision_after(
        handoff, tmp_path, {"sales.follow_up": "{ attempts = 2, within_days = 7 }"},
        {"sales.follow_up": "{ attempts = 1, within_days = 7 }"}, ACCEPTED_AND_CALLED)
    handoff.ok("sla", "apply", str(revised))
    missed = {"accepted": 1, "met": 0, "missed": 1, "pending": 0, "compliance": 0.0}
    assert handoff.json("kpi", "--month", "2026-03")["follow_up"] == missed
    handoff.ok("lead", "amend", "acme", "1", "--company", "Acme", "--why", "typo")
    assert handoff.json("kpi", "--month", "2026-03")["follow_up"] == missed


def test_a_revision_without_a_follow_up_clause_keeps_the_follow_up_it_did_not_judge(
    handoff: Handoff, tmp_path: Path
) -> None:
    # March's acceptance was judged by a version asking for one call within 7 days; a
    # revision that drops the clause, signed later and not as a restatement, judges the
    # acceptances recorded after it: March's follow-up is still reported, met.
    revised = revision_after(
        handoff, tmp_path, {"sales.follow_up": "{ attempts = 1, within_days = 7 }"}, {},
        ACCEPTED_AND_CALLED)
    met = {"accepted": 1, "met": 1, "missed": 0, "pending": 0, "compliance": 1.0}
    assert handoff.json("kpi", "--month", "2026-03")["follow_up"] == met
    handoff.ok("sla", "apply", str(revised))
    assert handoff.json("kpi", "--month", "2026-03")["follow_up"] == met


def test_a_restatement_that_changes_only_the_follow_up_is_named(
    march: Handoff, tmp_path: Path
) -> None:
    """SPEC §3: a report names every restatement that changed its figures. Restated to one
    call within 7 days, 'slow' (called once) meets the follow-up it missed: March's
    follow-up goes from 1 met and 1 missed to 2 met, no handoff is judged otherwise (both
    accepted in half an hour), and the restatement is named with the one acceptance."""
    one_call = tmp_path / "one-call.toml"
    one_call.write_text(agreement_toml(AGREEMENT, {
        "team": None, "sales.follow_up": "{ attempts = 1, within_days = 7 }"}))
    march.ok("sla", "apply", str(one_call), "--restate", "--why", "one call is enough")
    result = march.json("kpi", "--month", "2026-03")
    assert result["follow_up"] == {"accepted": 2, "met": 2, "missed": 0, "pending": 0,
                                   "compliance": 1.0}
    assert [(r["version"], r["handoffs"], r["follow_up"]) for r in result["restatements"]
            ] == [(2, 0, 1)]
    assert "1 accepted lead's follow-up judged otherwise" in march.ok("kpi", "--month", "2026-03")


def test_the_document_words_a_clause_of_one_call_within_one_day_in_the_singular(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The terms in force read as managers write them: "1 attempt within 1 day", not
    "1 attempts within 1 days"."""
    toml = tmp_path / "one.toml"
    toml.write_text(agreement_toml(AGREEMENT, {
        "team": None, "sales.follow_up": "{ attempts = 1, within_days = 1 }"}))
    handoff.ok("sla", "apply", str(toml))
    doc = tmp_path / "sla.md"
    handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(doc))
    assert "| Follow-up | 1 attempt within 1 day |" in doc.read_text(encoding="utf-8")


def test_a_restatement_of_the_follow_up_stays_named_once_another_restates_it(
    march: Handoff, tmp_path: Path
) -> None:
    """As above, version 2 turns 'slow''s missed follow-up into a met one; version 3 then
    restates it under another name only, judging no follow-up otherwise. March's follow-up
    is still not as first reported: version 2 is named with its one acceptance (as each
    restatement is counted for the handoffs it judges otherwise), version 3 is not."""
    one_call = {"team": None, "sales.follow_up": "{ attempts = 1, within_days = 7 }"}
    first = tmp_path / "one-call.toml"
    first.write_text(agreement_toml(AGREEMENT, one_call))
    march.ok("sla", "apply", str(first), "--restate", "--why", "one call is enough")
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(agreement_toml(AGREEMENT, {**one_call, "name": '"H1, one call"'}))
    march.ok("sla", "apply", str(renamed), "--restate", "--why", "its name")
    result = march.json("kpi", "--month", "2026-03")
    assert result["follow_up"]["met"] == 2
    assert [(r["version"], r["handoffs"], r["follow_up"]) for r in result["restatements"]
            ] == [(2, 0, 1)]


def test_sla_breaches_follow_up_lists_the_accepted_leads_that_missed_it(march: Handoff) -> None:
    """'slow' was accepted on Monday 2 March at 10:30 Chicago time (16:30 UTC) and called
    once; its 7 calendar days closed on Monday 9 March at 10:30, daylight time by then
    (15:30 UTC). 'quick' got its 2 calls: not listed."""
    missed = {"lead": "slow", "owner": "sam", "accepted_at": "2026-03-02T16:30:00Z",
              "window_closed_at": "2026-03-09T15:30:00Z", "attempts": 1, "asked": 2}
    assert march.json("sla", "breaches", "--follow-up", "--month", "2026-03") == [missed]
    assert march.json("sla", "breaches", "--follow-up") == [missed]  # every period
    assert march.json("sla", "breaches", "--follow-up", "--month", "2026-04") == []
    assert march.json("sla", "breaches", "--follow-up", "--owner", "ola") == []
    # As many as kpi counts missed, for the same month.
    assert march.json("kpi", "--month", "2026-03")["follow_up"]["missed"] == 1
    table = march.ok("sla", "breaches", "--follow-up")
    assert "Missed follow-ups (1)" in table
    assert "2026-03-02 10:30 CST" in table and "2026-03-09 10:30 CDT" in table


def test_sla_breaches_follow_up_sounds_no_alarm_and_has_nothing_open(march: Handoff) -> None:
    march.ok("lead", "capture", "late", "--source", "web", "--at", "2026-03-02T09:00")
    march.ok("lead", "qualify", "late", "--at", "2026-03-02T09:30")
    march.ok("lead", "handoff", "late", "--owner", "sam", "--at", "2026-03-02T10:00")
    assert march("sla", "breaches").exit_code == 3  # 'late' is overdue, still undecided
    assert march("sla", "breaches", "--follow-up").exit_code == 0
    refused = march("sla", "breaches", "--follow-up", "--open")
    assert refused.exit_code == 2
    assert "--open is for handoffs" in refused.stderr
