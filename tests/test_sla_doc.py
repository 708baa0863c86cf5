"""`handoff sla doc`: the agreement as both teams read it, with its clauses' two marks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml
from markdown_it import MarkdownIt  # comes with rich

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


def rendered(markdown: str) -> str:
    """The Markdown as a wiki shows it: CommonMark with GitHub's tables and strikethrough,
    raw HTML let through."""
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return parser.render(markdown)


def shown(text: str) -> str:
    """A literal text as the rendered HTML carries it (markdown-it escapes these four)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def clause_section(markdown: str, name: str) -> str:
    """The Markdown of one clause: from its heading to the next heading."""
    found = re.search(rf"^#### [\d.]+ {re.escape(name)}\n(.*?)(?=^#)", markdown, re.M | re.S)
    assert found, name
    return found.group(1)


def test_the_follow_up_clause_names_the_accepted_leads_that_missed_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Two attempts within 7 days of the acceptance: "called", accepted on Monday 2 March at
    11:00 and called twice that week, met it; "cold", accepted at 11:00 too and called once,
    missed it when its week closed on Monday 9 March at 11:00 (CDT since the 8th)."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT, {
        "sales.follow_up": "{ attempts = 2, within_days = 7 }"}))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    for key, calls in (("called", ("03", "05")), ("cold", ("04",))):
        handoff.ok("lead", "capture", key, "--source", "webinar", "--at", "2026-03-02T09:00")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T09:30")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T10:00")
        handoff.ok("lead", "accept", key, "--at", "2026-03-02T11:00", actor="sam")
        for day in calls:
            handoff.ok("lead", "contact", key, "--at", f"2026-03-{day}T10:00", actor="sam")
    markdown = write(handoff, tmp_path / "sla.md")
    clause = clause_section(
        markdown, "An accepted lead gets the agreed follow-up within the days after its acceptance")
    assert "1 of 2 accepted leads got the agreed follow-up (50.0 %); 1 missed it" in clause
    assert ("Missed by: cold (sam, accepted Mon 02 Mar 11:00 CST, 1 of 2 attempts by"
            " Mon 09 Mar 11:00 CDT).") in clause, clause
    assert "called (" not in clause
    html = write(handoff, tmp_path / "sla.html")
    missed = html.split("The 1 accepted lead that missed it")[1].split("</table>")[0]
    assert "<td>cold</td>" in missed and "Mon 09 Mar 11:00 CDT" in missed
    assert "called" not in missed


def test_every_clause_of_the_features_is_in_the_document(march: Handoff, tmp_path: Path) -> None:
    html = write(march, tmp_path / "sla.html")
    page = rendered(write(march, tmp_path / "sla.md"))
    with features_folder() as folder:
        protocol = read_protocol(folder)
    for area in protocol:
        assert f". {shown(area.title)}</h3>" in page
        for clause in area.clauses:
            assert f" {shown(clause.name)}</h4>" in page
            assert clause.name.replace("'", "&#39;") in html
            for example in clause.examples:  # "An agreement with <key> set to <value> ..."
                assert f"<em>{shown(example.name)}</em>" in page


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
    assert "1 of 3 handoffs was decided after its due instant, counted as a breach." in late
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
    assert "The period's flow KPIs count 11 steps" in lifecycle


def test_the_verified_mark_follows_the_last_run_of_sla_verify(
    march: Handoff, tmp_path: Path
) -> None:
    before = write(march, tmp_path / "before.md")
    assert "The examples have not been verified on this store yet" in before
    # The mark's text reads as the HTML document shows it, the command set as code.
    assert ("**Verified: not verified.** Not verified yet: run `handoff sla verify`."
            in before)
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
                     r"signed, put in force \S+ \S+ \S+ \| \S+ \S+ \S+ by maria \| "
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


def test_the_document_names_a_restatement_its_reason_and_what_it_changed(
    march: Handoff, tmp_path: Path
) -> None:
    """Managers sign what they read: a restatement is named in the version history with
    its reason, and the clause on restatements says which of the month's figures it
    changed, as `kpi` and `report` do."""
    name = "A restatement, signed by both sides with a reason, judges past handoffs again"
    before = clause_section(write(march, tmp_path / "before.md"), name)
    assert ("**Honoured in March 2026: measured.** No restatement changed the period's"
            " figures: each handoff is judged by the terms in force when it was recorded."
            ) in before
    revision = tmp_path / "revision.toml"
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "40"}))
    march.ok("sla", "apply", str(revision))  # proposed by maria
    march.ok("sla", "sign", "2", "--restate", "--why", "8 hours ignored the trade fair",
             actor="sam")
    markdown = write(march, tmp_path / "sla.md")
    versions = markdown.split("## 3.")[1].split("## 4.")[0]
    assert ("Version 2 restates the past (it judges the handoffs recorded before it too):"
            " \u201c8 hours ignored the trade fair\u201d.") in versions
    clause = clause_section(markdown, name)
    # 40 business hours: the rejection half an hour past the 8 hours is in time now; the
    # lead never decided is overdue either way (due on Monday 9 March at 10:00).
    assert "**Honoured in March 2026: measured.**" in clause
    assert re.search(r"Restated by version 2 \(2026 growth agreement\), signed into force by"
                     r" sam on \S+ \S+ \S+: \u201c8 hours ignored the trade fair\u201d\. 1"
                     r" handoff of this period judged otherwise under it", clause), clause


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


NAME = "<b>X</b> | pipe *not bold* [not](a link) `no code` #1 ~no strike~ & a\\ backslash"
RENAMED = "_<b>X</b>_ | pipe, revised"
LEAD = "<img src=x onerror=alert(1)>|k1"
SALES = "s|am_"


@pytest.fixture
def marked_up(handoff: Handoff, tmp_path: Path) -> Handoff:
    """Texts that look like markup: the agreement's name, a salesperson's name, a lead's key;
    a revision (proposed, not yet signed) renames the agreement. The lead, handed on Monday
    2 March 2026, was never decided."""
    agreement = {"name": f'"{NAME.replace(chr(92), chr(92) * 2)}"',
                 "team.sales": f'["{SALES}"]'}
    toml = tmp_path / "marked.toml"
    toml.write_text(agreement_toml(AGREEMENT, agreement))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor=SALES)
    toml.write_text(agreement_toml(AGREEMENT, {**agreement, "name": f'"{RENAMED}"'}))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("lead", "capture", LEAD, "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", LEAD, "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", LEAD, "--owner", SALES, "--at", "2026-03-02T10:00")
    return handoff


def write_marked_up(handoff: Handoff, out: Path) -> str:
    handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(out))
    return out.read_text(encoding="utf-8")


def cell_count(row: str) -> int:
    """The cells of a table row: its pipes, less one, a backslash-escaped pipe not counted."""
    return sum(token == "|" for token in re.findall(r"\\.|\|", row)) - 1


def test_a_pipe_in_a_users_text_does_not_split_a_table_cell(
    marked_up: Handoff, tmp_path: Path
) -> None:
    markdown = write_marked_up(marked_up, tmp_path / "sla.md")
    tables = re.findall(r"(?:^\|.*\n)+", markdown, re.M)
    assert len(tables) >= 3  # the terms, the versions, the examples' tables
    for table in tables:
        header, *rows = table.splitlines()
        assert [cell_count(row) for row in rows] == [cell_count(header)] * len(rows), table


def test_a_users_text_carries_no_html_into_the_markdown(
    marked_up: Handoff, tmp_path: Path
) -> None:
    markdown = write_marked_up(marked_up, tmp_path / "sla.md")
    page = rendered(markdown)
    for tag in ("<b>", "</b>", "<img"):
        assert tag not in markdown and tag not in page


def test_a_users_text_reads_as_written_once_the_markdown_is_rendered(
    marked_up: Handoff, tmp_path: Path
) -> None:
    page = rendered(write_marked_up(marked_up, tmp_path / "sla.md"))
    assert f"<h1>{shown(NAME)}</h1>" in page
    rows = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)]
    assert ["Agreement", f"{shown(NAME)}, version 1"] in rows
    assert ["Team", f"marketing: maria, li; sales: {shown(SALES)}"] in rows
    versions = {row[0]: row for row in rows if row and row[0] in ("1", "2")}
    assert versions["1"][1] == shown(NAME) and versions["2"][1] == shown(RENAMED)
    assert f"; sales: {shown(SALES)} (" in versions["1"][5]
    assert f"name {shown(NAME)} → {shown(RENAMED)}" in page
    assert f"Broken by: {shown(LEAD)} ({shown(SALES)}, overdue," in page


def test_a_line_break_in_a_text_reads_as_a_space_and_keeps_its_table_row_whole() -> None:
    """No command records a name or key over two lines; the document's texts are held to it
    all the same, as the HTML document shows a line break: a space."""
    text = "first line\r\n- second | line\nthird"
    table = f"| text | after |\n|---|---|\n| {agreement_doc.markdown_text(text)} | x |\n"
    assert re.findall(r"<td>(.*?)</td>", rendered(table)) == [
        "first line - second | line third", "x"]


def test_a_version_after_a_proposal_never_in_force_changed_nothing(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Version 2 replaces no version in force (version 1 was never signed): the document
    lists no change for it, as `sla history` does, rather than 'changed from version None'
    with every term 'added'."""
    first = tmp_path / "first.toml"
    first.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(first))  # awaiting sales, then overtaken
    second = tmp_path / "second.toml"
    second.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "6"}))
    handoff.ok("sla", "apply", str(second))
    handoff.ok("sla", "sign", "2", actor="sam")
    for out in (tmp_path / "sla.md", tmp_path / "sla.html"):
        handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(out))
        page = out.read_text(encoding="utf-8")
        assert "version None" not in page and " added (" not in page


def test_the_summary_accounts_for_every_clauses_honoured_mark(
    march: Handoff, tmp_path: Path
) -> None:
    markdown = write(march, tmp_path / "sla.md")
    marks = re.findall(r"^- \*\*Honoured in March 2026: (.+?)\.\*\*", markdown, re.M)
    summary = re.search(r"^\*\*(\d+) clauses\*\*:.*\n(.*)$", markdown, re.M)
    assert summary and int(summary.group(1)) == len(marks)
    said = dict((words, int(n)) for n, words in re.findall(r"(\d+) ([a-z ]+)", summary.group(2)))
    assert said.get("honoured or enforced", 0) == marks.count("honoured") + marks.count("enforced")
    assert said.get("not honoured", 0) == marks.count("not honoured")
    assert said.get("measured without a target", 0) == marks.count("measured")
    assert said.get("with nothing to measure yet", 0) == marks.count("nothing to measure")
    assert said.get("with no measure", 0) == marks.count("no measure")
    assert sum(said.values()) == len(marks)


def revised_on_16_march(handoff: Handoff, tmp_path: Path) -> None:
    """The growth agreement, revised from Monday 16 March to 4 business hours (signed by
    both sides), under the name "2026 growth agreement (4 hours)"."""
    first, revised = tmp_path / "growth.toml", tmp_path / "revised.toml"
    first.write_text(agreement_toml(AGREEMENT))
    revised.write_text(agreement_toml(AGREEMENT, {
        "name": '"2026 growth agreement (4 hours)"', "effective_from": "2026-03-16",
        "sales.decide_within_hours": "4"}))
    handoff.ok("sla", "apply", str(first))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("sla", "apply", str(revised))
    handoff.ok("sla", "sign", "2", actor="sam")


def test_a_month_over_a_revision_of_the_window_names_no_single_window(
    handoff: Handoff, tmp_path: Path
) -> None:
    # 8 business hours until Sunday 15 March, 4 from Monday 16 March (09:00 to 17:00).
    revised_on_16_march(handoff, tmp_path)
    # Handed Monday 16 March at 10:00, due at 14:00 under the 4 hours; accepted at 16:00,
    # 6 business hours later: within 8 business hours, yet late.
    handoff.ok("lead", "capture", "slow", "--source", "webinar", "--at", "2026-03-16T09:00")
    handoff.ok("lead", "qualify", "slow", "--at", "2026-03-16T09:30")
    handoff.ok("lead", "handoff", "slow", "--owner", "sam", "--at", "2026-03-16T10:00")
    handoff.ok("lead", "accept", "slow", "--at", "2026-03-16T16:00", actor="sam")
    in_time = clause_section(write_revised(handoff, tmp_path / "sla.md"),
                             "A handoff decided by its due instant is decided in time")
    assert "0 of 1 judged handoffs decided in time (0.0 %)" in in_time
    assert "within 8 business hours" not in in_time


def test_a_month_over_a_revision_plans_the_revisions_days_under_their_dates(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The document plans the version in force at the month's end: from Monday 16 March, a
    revision with the same goal and rates over the rest of 2026 (291 days). Its share and the
    month's steps from 16 March on are those of 16 days, and say so: under "March 2026" a
    manager would read them as the month's, which `kpi --month` counts whole."""
    revised_on_16_march(handoff, tmp_path)
    for key, day in (("early", "2026-03-02"), ("late", "2026-03-17")):
        handoff.ok("lead", "capture", key, "--source", "webinar", "--at", f"{day}T09:00")
    markdown = write_revised(handoff, tmp_path / "sla.md")
    funnel = markdown.split("## 2.")[1].split("## 3.")[0]
    assert ("| 2026-03-16 to 2026-03-31: plan | 2026-03-16 to 2026-03-31: actual |"
            in funnel), funnel
    assert "March 2026: plan" not in funnel
    # Only the lead captured on the 17th falls in those days, to date as in the month.
    assert re.search(r"^\| Leads captured \|[^|]+\| 1 \|[^|]+\| 1 \|$", funnel, re.M), funnel
    html = write_revised(handoff, tmp_path / "sla.html")
    assert ('<th><span class="date">2026-03-16</span> to <span class="date">2026-03-31</span>:'
            ' plan</th>') in html
    # Marketing's promise is the month's (40), the funnel's figure those 16 days' alone.
    assert re.search(r"own promise of 40 a month \(`qualified_per_month`\), 40 for the month;"
                     r" the funnel above needs \d+ from 2026-03-16 to 2026-03-31 to reach",
                     funnel), funnel


def test_a_month_over_a_revision_names_the_version_that_held_its_first_days(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The terms shown are the revision's, in force from 16 March: the month's evidence
    judges its first fortnight by the first version, and the document says so."""
    revised_on_16_march(handoff, tmp_path)
    terms = write_revised(handoff, tmp_path / "sla.md").split("## 1.")[1].split("## 2.")[0]
    assert "| Agreement | 2026 growth agreement (4 hours), version 2 |" in terms
    assert ("Also in force during March 2026: 2026 growth agreement (version 1) from"
            " 2026-03-01 to 2026-03-15. The evidence for the month judges each handoff by the"
            " version that governs it.") in terms
    assert "(version 2) from" not in terms
    html = write_revised(handoff, tmp_path / "sla.html")
    assert "Also in force during March 2026: 2026 growth agreement (version 1) from" in html


def test_a_month_under_one_version_names_no_other(march: Handoff, tmp_path: Path) -> None:
    assert "Also in force" not in write(march, tmp_path / "sla.md")


def test_a_whole_month_is_named_by_its_name(march: Handoff, tmp_path: Path) -> None:
    funnel = write(march, tmp_path / "sla.md").split("## 2.")[1].split("## 3.")[0]
    assert "| March 2026: plan | March 2026: actual |" in funnel, funnel


@pytest.mark.parametrize(
    ("dropped", "words"),
    [
        ("goal.average_deal", "The agreement states a revenue goal but no average deal"
                              " (`[goal] average_deal`), so the deals to win"),
        ("goal.revenue", "The agreement states an average deal but no revenue goal"
                         " (`[goal] revenue`), so there is no funnel to plan."),
        ("goal", "The agreement states no revenue goal, so there is no funnel to plan."),
    ],
)
def test_a_goal_without_its_two_figures_says_which_one_the_plan_lacks(
    handoff: Handoff, tmp_path: Path, dropped: str, words: str
) -> None:
    """A goal of 1,200,000 without an average deal read "The agreement states no revenue
    goal", beside the terms listing that very goal."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT, {dropped: None}))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    funnel = write(handoff, tmp_path / "sla.md").split("## 2.")[1].split("## 3.")[0]
    assert words in funnel, funnel
    html = write(handoff, tmp_path / "sla.html")
    assert words.replace("`", "<code>", 1).replace("`", "</code>", 1) in html


def test_one_open_handoff_reads_in_the_singular(handoff: Handoff, tmp_path: Path) -> None:
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("lead", "capture", "fresh", "--source", "webinar")
    handoff.ok("lead", "qualify", "fresh")
    handoff.ok("lead", "handoff", "fresh", "--owner", "sam")  # just now: 8 business hours left
    month = f"{datetime.now(ZoneInfo('America/Chicago')):%Y-%m}"
    out = tmp_path / "sla.md"
    handoff.ok("sla", "doc", "--month", month, "--out", str(out))
    still_open = clause_section(
        out.read_text(encoding="utf-8"),
        "An undecided handoff is pending until its due instant, then overdue")
    assert "1 handoff pending and 0 overdue" in still_open


def write_revised(handoff: Handoff, out: Path) -> str:
    said = handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(out))
    assert said.startswith("wrote '2026 growth agreement (4 hours)' with ")
    return out.read_text(encoding="utf-8")


def test_what_the_features_quote_between_backticks_reads_as_code(
    march: Handoff, tmp_path: Path
) -> None:
    """The features quote commands and settings between backticks (`handoff lead history`,
    `country_holidays = "US"`): the managers reading the document saw the backticks, escaped
    as a user's text is. Both formats set them as code; a user's text stays as typed
    (test_a_users_text_reads_as_written_once_the_markdown_is_rendered)."""
    march.ok("sla", "doc", "--month", "2026-03", "--out", str(tmp_path / "sla.html"))
    html = (tmp_path / "sla.html").read_text(encoding="utf-8")
    page = rendered(write_marked_up(march, tmp_path / "sla.md"))
    for code in ("handoff lead history", 'country_holidays = "US"'):
        assert f"<code>{shown(code).replace('&quot;', chr(34))}</code>" in html
        assert f"<code>{shown(code)}</code>" in page
    assert "`handoff lead history`" not in html and "`handoff lead history`" not in page
    # ... as are the commands the marks name (before `sla verify` has run on this store).
    assert "Not verified yet: run <code>handoff sla verify</code>." in html
    assert "Not verified yet: run <code>handoff sla verify</code>." in page
    # ... in the honoured mark too, where a clause has no measure behind it.
    assert "are checked by <code>sla verify</code>." in html
    assert "are checked by <code>sla verify</code>." in page
    assert "`sla verify`" not in html and "`sla verify`" not in page


def test_a_restatements_reason_in_the_honoured_mark_reads_as_typed(
    march: Handoff, tmp_path: Path
) -> None:
    revision = tmp_path / "revision.toml"
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "40"}))
    march.ok("sla", "apply", str(revision))
    why = "the `fair` closed the office"
    march.ok("sla", "sign", "2", "--restate", "--why", why, actor="sam")
    html, page = write(march, tmp_path / "sla.html"), rendered(write(march, tmp_path / "sla.md"))
    # The reason as both the HTML and the rendered Markdown show it: backticks and all.
    for document in (html, page):
        assert "\u201cthe `fair` closed the office\u201d. 1 handoff" in document
        assert "<code>fair</code>" not in document


def test_prose_quoting_markup_between_backticks_is_code_and_nothing_else() -> None:
    text = "run `<b>x</b> | y` then <i>z</i> * `a_b`"
    assert agreement_doc.html_prose(text) == (
        "run <code>&lt;b&gt;x&lt;/b&gt; | y</code> then &lt;i&gt;z&lt;/i&gt; * <code>a_b</code>")
    assert rendered(agreement_doc.markdown_prose(text)) == (
        "<p>run <code>&lt;b&gt;x&lt;/b&gt; | y</code> then &lt;i&gt;z&lt;/i&gt; * <code>a_b</code>"
        "</p>\n")


def test_one_handoff_that_broke_a_clause_reads_in_the_singular(
    march: Handoff, tmp_path: Path
) -> None:
    """March's one late decision ("late") broke the clause on late decisions, and its one
    overdue handoff ("silent") the clause on open ones: the HTML read "The 1 handoffs that
    broke it" above each; the clause on decisions in time lists both."""
    html = write(march, tmp_path / "sla.html")
    assert html.count("The 1 handoff that broke it") == 3  # late; open; the alarm's (open)
    assert html.count("The 2 handoffs that broke it") == 1  # decided in time: late and silent
    assert "The 1 handoffs" not in html


def test_a_restatement_awaiting_its_second_signature_is_named_as_proposed(
    march: Handoff, tmp_path: Path
) -> None:
    """Maria proposes a restatement; sales has not signed it: it judges nothing yet, so the
    document may not say it "restates the past" (it did, beside "awaiting sales")."""
    revision = tmp_path / "revision.toml"
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "40"}))
    march.ok("sla", "apply", str(revision), "--restate", "--why", "the trade fair")
    proposed = ("was proposed as a restatement (once both sides have signed it, it judges the"
                " handoffs recorded before it too): \u201cthe trade fair\u201d")
    versions = write(march, tmp_path / "sla.md").split("## 3.")[1].split("## 4.")[0]
    assert f"Version 2 {proposed}." in versions
    assert "restates the past" not in versions
    html = write(march, tmp_path / "sla.html").split("<h2>3.")[1].split("<h2>4.")[0]
    assert "Proposed as a restatement (once both sides" in html
    assert "Restates the past" not in html
    march.ok("sla", "sign", "2", actor="sam")  # in force: now it restates the past
    versions = write(march, tmp_path / "sla.md").split("## 3.")[1].split("## 4.")[0]
    assert ("Version 2 restates the past (it judges the handoffs recorded before it too):"
            " \u201cthe trade fair\u201d.") in versions


def test_a_restatement_overtaken_before_its_second_signature_is_said_to_judge_nothing(
    march: Handoff, tmp_path: Path
) -> None:
    """Maria proposes a restatement; before sales signs it, a revision comes into force and
    overtakes it, so it can never be signed. The document still said "once both sides have
    signed it, it judges the handoffs recorded before it too"."""
    restated, revision = tmp_path / "restated.toml", tmp_path / "revision.toml"
    restated.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "40"}))
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "12"}))
    march.ok("sla", "apply", str(restated), "--restate", "--why", "the trade fair")
    march.ok("sla", "apply", str(revision))
    march.ok("sla", "sign", "3", actor="sam")
    overtaken = ("proposed as a restatement, \u201cthe trade fair\u201d, and overtaken by"
                 " version 3 before both sides signed it: it never came into force, and"
                 " judges no handoff")
    versions = write(march, tmp_path / "sla.md").split("## 3.")[1].split("## 4.")[0]
    assert f"Version 2 was {overtaken}." in versions
    assert "once both sides have signed it" not in versions
    html = write(march, tmp_path / "sla.html").split("<h2>3.")[1].split("<h2>4.")[0]
    assert f"P{overtaken[1:]}" in html
    assert "once both sides have signed it" not in html


def test_the_funnel_says_which_qualified_figure_the_month_is_measured_against(
    march: Handoff, tmp_path: Path
) -> None:
    """The plan's March share of 1,200,000 over 2026 is 101,917.81: 4 deals, 12 proposals,
    30 accepted, 38 handed, 43 qualified; marketing promised 40 a month, and `kpi`, the
    review and the chart under the table measure March against 40. The table read 43 and
    the chart "of 40" a line below, with nothing saying why."""
    funnel = write(march, tmp_path / "sla.md").split("## 2.")[1].split("## 3.")[0]
    assert re.search(r"^\| Leads qualified by marketing \| [\d,]+ \| \d+ \| 43 \| 3 \|$",
                     funnel, re.M), funnel
    assert march.json("kpi", "--month", "2026-03")["targets"][
        "qualified"] == 40
    words = ("Leads qualified by marketing: `handoff kpi` and the monthly review measure March"
             " 2026 against marketing's own promise of 40 a month (`qualified_per_month`), 40"
             " for the month; the funnel above needs 43 to reach the revenue goal.")
    assert words in funnel
    html = write(march, tmp_path / "sla.html")
    assert ("measure March 2026 against marketing's own promise of 40 a month (<code>"
            "qualified_per_month</code>), 40 for the month; the funnel above needs 43") in html


def test_without_marketings_own_promise_the_funnel_needs_no_word_on_qualified(
    handoff: Handoff, tmp_path: Path
) -> None:
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT, {"marketing.qualified_per_month": None}))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    funnel = write(handoff, tmp_path / "sla.md").split("## 2.")[1].split("## 3.")[0]
    assert "| Leads qualified by marketing |" in funnel
    assert "marketing's own promise" not in funnel


def test_a_date_in_the_html_is_kept_on_one_line(march: Handoff, tmp_path: Path) -> None:
    """Printed, the versions table read `2026-01-` above `01`, and each verified mark
    `2026-11-` above `30 17:34 CST`: a browser breaks a line after a hyphen."""
    html = write(march, tmp_path / "sla.html")
    assert ".date { white-space: nowrap; }" in html
    versions = html.split("<h2>3.")[1].split("<h2>4.")[0]
    assert '<td class="text"><span class="date">2026-01-01</span> to open-ended</td>' in versions
    assert re.search(r"\(<span class=\"date\">\d{4}-\d\d-\d\d</span> \d\d:\d\d C[SD]T\)",
                     versions), versions
    assert agreement_doc.html_dates("<b>2026-03-02</b> and CRM-2026-03-02-7") == (
        '&lt;b&gt;<span class="date">2026-03-02</span>&lt;/b&gt; and CRM-2026-03-02-7')


def test_the_clauses_on_the_agreement_itself_are_evidenced_by_its_versions(
    march: Handoff, tmp_path: Path
) -> None:
    """"A malformed agreement is refused" read "The period's flow KPIs count 11 steps; the
    tool refuses any step against this clause": a month's lead steps say nothing of an
    agreement file. One version was recorded (proposed by maria, signed by sam)."""
    markdown = write(march, tmp_path / "sla.md")
    malformed = clause_section(
        markdown, "A malformed agreement is refused with the key at fault and the reason")
    assert ("**Honoured in March 2026: enforced.** The tool refuses any agreement file or"
            " signature against this clause: the one version recorded so far kept it."
            ) in malformed
    # The sides' own steps are the month's steps; what "in force" means is a definition.
    sides = clause_section(markdown, "When the agreement names a team, only marketing members"
                                     " record marketing's steps and only sales members record"
                                     " sales' steps")
    assert "The period's flow KPIs count 11 steps" in sides
    handed = clause_section(
        markdown, "When the agreement names a team, leads are handed only to its sales side")
    assert "The period's flow KPIs count 11 steps" in handed
    in_force = clause_section(markdown, "The version in force at an instant is the"
                                        " latest-applied one whose dates contain it")
    assert "**Honoured in March 2026: no measure.**" in in_force
    revision = tmp_path / "revision.toml"
    revision.write_text(agreement_toml(AGREEMENT, {"sales.decide_within_hours": "40"}))
    march.ok("sla", "apply", str(revision))  # proposed, not signed: recorded all the same
    identical = clause_section(write(march, tmp_path / "sla.md"),
                               "Applying terms identical to a recorded version writes nothing")
    assert "each of the 2 versions recorded so far kept it." in identical


def test_the_terms_table_of_the_markdown_has_a_header_a_wiki_shows(
    march: Handoff, tmp_path: Path
) -> None:
    """The header row was empty (`| | |`): a wiki drew an empty band above the terms."""
    page = rendered(write(march, tmp_path / "sla.md"))
    terms = page.split("1. The terms in force</h2>")[1].split("</table>")[0]
    assert "<thead>\n<tr>\n<th>term</th>\n<th>agreed</th>\n</tr>\n</thead>" in terms, terms
    assert "<td>Agreement</td>\n<td>2026 growth agreement, version 1</td>" in terms


def test_a_month_of_one_step_and_no_handoff_reads_as_such(
    handoff: Handoff, tmp_path: Path
) -> None:
    """One lead captured in March and nothing else: the enforced clauses read "1 steps", and
    the clause on late decisions "0 of 0 handoffs were decided after their due instant, each
    counted as a breach", marked honoured, where the clause on decisions in time said there
    was nothing to judge."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("lead", "capture", "solo", "--source", "webinar", "--at", "2026-03-02T09:00")
    markdown = write(handoff, tmp_path / "sla.md")
    lifecycle = clause_section(
        markdown, "Marketing qualifies a captured lead, then hands it to a named sales owner")
    assert "The period's flow KPIs count 1 step; the tool refuses" in lifecycle
    late = clause_section(markdown,
                          "A decision after the due instant is late, and counts as a breach")
    assert ("**Honoured in March 2026: nothing to measure.** No handoff of the period was"
            " judged yet (0 pending).") in late
    assert "0 of 0" not in markdown


def test_a_month_without_a_late_decision_says_so_in_words(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Two handoffs on Monday 2 March at 10:00, both accepted that afternoon: in time. The
    clause on late decisions read "0 of 2 handoffs were decided after their due instant,
    each counted as a breach"."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    for key in ("one", "two"):
        handoff.ok("lead", "capture", key, "--source", "webinar", "--at", "2026-03-02T09:00")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T09:30")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T10:00")
        handoff.ok("lead", "accept", key, "--at", "2026-03-02T15:30", actor="sam")
    late = clause_section(write(handoff, tmp_path / "sla.md"),
                          "A decision after the due instant is late, and counts as a breach")
    assert ("**Honoured in March 2026: honoured.** No handoff of the period was decided after"
            " its due instant (2 handoffs in all).") in late


def test_the_clauses_on_the_team_do_not_apply_to_an_agreement_without_one(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Without a [team], anyone records any step and a lead goes to any owner: the clauses
    "When the agreement names a team, ..." read 'enforced ... so none broke it', a promise
    the tool kept for nobody. A step of the month's own lifecycle still reads enforced."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(toml))  # in force at once: no team to sign it
    handoff.ok("lead", "capture", "acme", "--source", "webinar", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "acme", "--at", "2026-03-02T09:30", actor="pat")
    markdown = write(handoff, tmp_path / "sla.md")
    for clause in ("When the agreement names a team, only marketing members record"
                   " marketing's steps and only sales members record sales' steps",
                   "When the agreement names a team, leads are handed only to its sales side"):
        assert ("**Honoured in March 2026: nothing to measure.** No agreement in force in the"
                " period names a team, so this clause did not apply.") in clause_section(
                    markdown, clause)
    lifecycle = clause_section(
        markdown, "Marketing qualifies a captured lead, then hands it to a named sales owner")
    assert "**Honoured in March 2026: enforced.** The period's flow KPIs count 2 steps" in lifecycle


def test_a_month_no_agreement_covered_says_so_beside_the_terms_in_force_now(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The growth agreement runs from 1 January 2026; June 2025 had none. The document
    showed the 2026 terms as "the terms in force" and marked June's clauses honoured or
    enforced, with no word that no agreement bound the month (the review says so)."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    said = ("No agreement was in force in June 2025: these are the terms in force now. The"
            " month had no targets and no SLA clock, so none of its handoffs was judged.")
    for name in ("june.md", "june.html"):
        out = tmp_path / name
        handoff.ok("sla", "doc", "--month", "2025-06", "--out", str(out))
        text = re.sub(r'<span class="date">([^<]*)</span>', r"\1",
                      out.read_text(encoding="utf-8"))
        assert said in text, name
    assert "No agreement was in force" not in write(handoff, tmp_path / "march.md")


def test_a_follow_up_of_one_attempt_missed_reads_in_the_singular(
    handoff: Handoff, tmp_path: Path
) -> None:
    """One attempt within 2 days: "cold", accepted on Monday 2 March at 11:00 and never
    called, missed it on Wednesday at 11:00; it read "0 of 1 attempts"."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT, {
        "sales.follow_up": "{ attempts = 1, within_days = 2 }"}))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("lead", "capture", "cold", "--source", "webinar", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "cold", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "cold", "--owner", "sam", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "accept", "cold", "--at", "2026-03-02T11:00", actor="sam")
    markdown = write(handoff, tmp_path / "sla.md")
    assert "| Follow-up | 1 attempt within 2 days |" in markdown
    clause = clause_section(
        markdown, "An accepted lead gets the agreed follow-up within the days after its acceptance")
    assert ("Missed by: cold (sam, accepted Mon 02 Mar 11:00 CST, 0 of 1 attempt by"
            " Wed 04 Mar 11:00 CST).") in clause, clause


def test_the_workdays_read_as_the_days_people_name(handoff: Handoff, tmp_path: Path) -> None:
    """The terms read 'mon, tue, wed, thu, fri, 09:00 to 17:00': the file's keys, where the
    managers signing it say 'Monday to Friday' (the review shows the same terms)."""
    toml = tmp_path / "growth.toml"
    toml.write_text(agreement_toml(AGREEMENT))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "1", actor="sam")
    assert "| Business hours | Monday to Friday, 09:00 to 17:00 |" in write(
        handoff, tmp_path / "sla.md")
    toml.write_text(agreement_toml(AGREEMENT, {
        "effective_from": "2026-03-16", "calendar.workdays": '["fri", "mon", "wed"]'}))
    handoff.ok("sla", "apply", str(toml))
    handoff.ok("sla", "sign", "2", actor="sam")
    out = tmp_path / "review.html"
    handoff.ok("report", "--month", "2026-04", "--out", str(out))
    review = re.sub(r'<span class="date">([^<]*)</span>', r"\1", out.read_text(encoding="utf-8"))
    assert "Monday, Wednesday and Friday, 09:00 to 17:00" in review
    assert "mon, " not in review
