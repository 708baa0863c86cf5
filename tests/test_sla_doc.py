"""`handoff sla doc`: the agreement as both teams read it, with its clauses' two marks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml

from handoff import agreement_doc
from handoff.verification.protocol import features_folder, read_protocol


@pytest.fixture
def march(handoff: Handoff, tmp_path: Path) -> Handoff:
    """Three handoffs on Monday 2 March 2026 at 10:00 (due Tuesday at 10:00): one accepted
    that afternoon, one rejected half an hour late, one never decided (overdue since)."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")  # the team's two sides both sign it
    for key in ("in-time", "late", "silent"):
        handoff.ok("lead", "capture", key, "--source", "webinar", "--at", "2026-03-02T09:00")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T09:30")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "accept", "in-time", "--at", "2026-03-02T15:30", actor="sam")
    handoff.ok("lead", "reject", "late", "--reason", "no budget", "--at", "2026-03-03T10:30",
               actor="sam")
    return handoff


def write(handoff: Handoff, out: Path, *options: str) -> str:
    said = handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(out), *options)
    assert said.startswith("wrote '2026 growth agreement' with ")
    return out.read_text(encoding="utf-8")


def clause_section(markdown: str, name: str) -> str:
    """The Markdown of one clause: from its heading to the next heading."""
    found = re.search(rf"^#### [\d.]+ {re.escape(name)}\n(.*?)(?=^#)", markdown, re.M | re.S)
    assert found, name
    return found.group(1)


def test_every_clause_of_the_features_is_in_the_document(march: Handoff, tmp_path: Path) -> None:
    html = write(march, tmp_path / "sla.html")
    markdown = write(march, tmp_path / "sla.md")
    with features_folder() as folder:
        protocol = read_protocol(folder)
    for area in protocol:
        assert area.title in markdown
        for clause in area.clauses:
            assert f" {clause.name}\n" in markdown
            assert clause.name.replace("'", "&#39;") in html
            for example in clause.examples:
                assert example.name in markdown


def test_the_sla_clauses_show_the_months_evidence_and_the_leads_that_broke_them(
    march: Handoff, tmp_path: Path
) -> None:
    markdown = write(march, tmp_path / "sla.md")
    # Judged: in-time (decided in time), late and silent (both breaches): 1 of 3.
    in_time = clause_section(markdown, "A handoff decided by its due instant is decided in time")
    assert ("**Honoured in March 2026: not honoured.** 1 of 3 judged handoffs decided within "
            "8 business hours (33.3 %); 0 still pending.") in in_time
    assert "late (sam, decided late" in in_time and "silent (sam, overdue" in in_time
    late = clause_section(markdown,
                          "A decision after the due instant is late, and counts as a breach")
    assert "1 of 3 handoffs were decided after their due instant" in late
    assert "Broken by: late (sam, decided late, 30 min past due)." in late
    still_open = clause_section(
        markdown, "An undecided handoff is pending until its due instant, then overdue")
    assert "0 handoffs pending and 1 overdue" in still_open
    assert "Broken by: silent (sam, overdue," in still_open
    weekend = clause_section(markdown, "Business hours stop over the weekend")
    assert "**Honoured in March 2026: no measure.**" in weekend
    # Three leads captured, qualified and handed, one accepted, one rejected: 11 steps.
    lifecycle = clause_section(
        markdown, "Marketing qualifies a captured lead, then hands it to a named sales owner")
    assert "11 steps happened in the period, as its flow KPIs count them" in lifecycle


def test_the_verified_mark_follows_the_last_run_of_sla_verify(
    march: Handoff, tmp_path: Path
) -> None:
    before = write(march, tmp_path / "before.md")
    assert "The examples have not been verified on this store yet" in before
    assert "**Verified: not verified.** Not verified yet: run `handoff sla verify`." in before
    march.ok("sla", "verify")
    after = write(march, tmp_path / "after.md")
    assert "not verified" not in after
    section = clause_section(after, "Business hours stop over the weekend")
    assert re.search(r"\*\*Verified: verified\.\*\* Example passes on handoff \S+, "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d C[SD]T\.", section), section


def test_the_terms_goal_and_versions_read_in_words(march: Handoff, tmp_path: Path) -> None:
    markdown = write(march, tmp_path / "sla.md")
    assert "| Handoff decision | accept or reject within 8 business hours |" in markdown
    assert "| Revenue goal | 1,200,000 for the whole period; average deal 30,000 |" in markdown
    # won = 1,200,000 / 30,000 = 40 over the twelve months; March's share is 31/365 of it.
    assert "| Deals won | 40 |" in markdown
    assert re.search(r"^\| 1 \| 2026 growth agreement \| 2026-01-01 to open-ended \| "
                     r"signed, in force since \S+ \S+ \S+ \| \S+ \S+ \S+ by maria \| "
                     r"marketing: maria \(\S+ \S+ \S+\); sales: sam \(\S+ \S+ \S+\) \|$",
                     markdown, re.M), markdown.split("## 3.")[1][:600]
    assert "SPEC" not in markdown


def test_the_document_says_what_each_version_changed(march: Handoff, tmp_path: Path) -> None:
    revision = tmp_path / "revision.toml"
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "6"}))
    march.ok("sla", "apply", str(revision))  # proposed by maria: awaiting sales
    markdown = write(march, tmp_path / "sla.md")
    assert re.search(r"^\| 2 \| 2026 growth agreement \| 2026-01-01 to open-ended \| "
                     r"awaiting sales \| \S+ \S+ \S+ by maria \| marketing: maria ",
                     markdown, re.M), markdown.split("## 3.")[1][:600]
    assert ("Version 2 changed from version 1: sales.decide_within_hours 8 → 6."
            in markdown)
    # Not signed by sales: version 1 is still the one in force, and the one measured.
    assert "| Handoff decision | accept or reject within 8 business hours |" in markdown


def test_the_html_document_stands_alone(march: Handoff, tmp_path: Path) -> None:
    html = write(march, tmp_path / "sla.html")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://|<script|<link|<img", html)
    charts = re.findall(r'<figure class="chart" data-chart="(\w+)"><svg ', html)
    assert charts == ["funnel", "evidence", "evidence"]


@pytest.fixture
def a_clause_without_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "features"
    with features_folder() as installed:
        shutil.copytree(installed, folder)
    with (folder / "lifecycle.feature").open("a", encoding="utf-8") as feature:
        feature.write("\n  Rule: Sales calls back within a day\n    Nobody wrote an example.\n")

    @contextmanager
    def these_features() -> Iterator[Path]:
        yield folder

    monkeypatch.setattr(agreement_doc, "features_folder", these_features)
    return "Sales calls back within a day"


def test_a_clause_without_example_or_measure_is_flagged(
    march: Handoff, tmp_path: Path, a_clause_without_example: str
) -> None:
    section = clause_section(write(march, tmp_path / "sla.md") + "#",
                             a_clause_without_example)
    assert "**Verified: no example.** This clause has no example: nothing checks it." in section


def test_a_file_that_is_neither_html_nor_markdown_is_refused(
    march: Handoff, tmp_path: Path
) -> None:
    result = march("sla", "doc", "--out", str(tmp_path / "sla.pdf"))
    assert result.exit_code == 2
    assert "--out" in result.stderr and "must end in .html or .md" in result.stderr
    assert not (tmp_path / "sla.pdf").exists()
