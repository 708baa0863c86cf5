"""Group tables that make sense to people (issue 10 item 5): by owner, the stages and rates
an owner answers for; flow rates over 100 % and thin rates marked, with footnotes; JSON
keeps every number."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml


@pytest.fixture
def handoff(store: str, tmp_path: Path) -> Handoff:
    """Two leads qualified in February and one in March, all three handed to Sam in March
    (March, flow: 1 qualified, 3 handed); Sam accepts two."""
    cli = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    cli.ok("sla", "apply", str(agreement))
    for key, qualified in (("ann", "2026-02-10"), ("bob", "2026-02-11"), ("cy", "2026-03-02")):
        cli.ok("lead", "capture", key, "--source", "web", "--at", f"{qualified}T09:00")
        cli.ok("lead", "qualify", key, "--at", f"{qualified}T10:00")
        cli.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-03T09:00")
    for key in ("ann", "bob"):
        cli.ok("lead", "accept", key, "--at", "2026-03-03T10:00")
    return cli


def _rows(table: str) -> dict[str, list[str]]:
    """A rich table's rows by their first cell."""
    found = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃").split("│")]
        if len(cells) > 1:
            found[cells[0]] = cells[1:]
    return found


def test_a_table_by_owner_shows_the_sales_stages_and_rates_only(handoff: Handoff) -> None:
    table = handoff.ok("kpi", "--month", "2026-03", "--by", "owner")
    by_owner = _rows(table.split("By owner")[1])
    for shown in ("handed", "accepted", "rejected", "contacted", "proposal", "won", "lost",
                  "handed_to_accepted", "accepted_to_proposal", "proposal_to_won", "win_rate"):
        assert shown in by_owner, shown
    for hidden in ("captured", "qualified", "captured_to_qualified", "qualified_to_handed"):
        assert hidden not in by_owner, hidden
    assert by_owner["handed"] == ["3"]  # one column: Sam (nothing is unassigned here)
    assert by_owner["handed_to_accepted"] == ["66.7% *"]  # 2 of 3: thin


def test_json_by_owner_keeps_every_count_and_rate(handoff: Handoff) -> None:
    sam = handoff.json("kpi", "--month", "2026-03", "--by", "owner")["groups"]["sam"]
    assert sam["counts"]["handed"] == 3
    assert "captured" in sam["counts"] and "qualified" in sam["counts"]
    assert "captured_to_qualified" in sam["rates"] and "qualified_to_handed" in sam["rates"]


def test_a_flow_rate_over_100_percent_is_marked_and_explained(handoff: Handoff) -> None:
    table = handoff.ok("kpi", "--month", "2026-03", "--by", "source")
    # 3 handed over 1 qualified in March: 300 %, and thin (1 lead).
    assert _rows(table.split("Conversion")[1])["qualified_to_handed"][0] == "300.0% †*"
    assert _rows(table.split("By source")[1])["qualified_to_handed"] == ["300.0% †*"]
    assert "† over 100 %: flow counts the events of the period" in table
    assert "* built on fewer than 10 leads" in table
    assert handoff.json("kpi", "--month", "2026-03")["rates"]["qualified_to_handed"] == 3.0


def test_a_cohort_rate_is_never_marked_as_over_100_percent(handoff: Handoff) -> None:
    table = handoff.ok("kpi", "--month", "2026-03", "--basis", "cohort")
    assert "†" not in table
    assert _rows(table.split("Conversion")[1])["qualified_to_handed"][0] == "100.0% *"


def test_the_review_marks_a_flow_rate_over_100_percent(handoff: Handoff, tmp_path: Path
                                                       ) -> None:
    page = tmp_path / "review.html"
    handoff.ok("report", "--month", "2026-03", "--out", str(page))
    html = page.read_text()
    assert "300.0% †*" in html
    assert "over 100 %: flow counts the events of the period" in html
