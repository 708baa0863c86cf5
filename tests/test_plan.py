"""The reverse funnel: exact arithmetic, rounding up at every step, prorating by days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import Handoff

from handoff.domain.agreement import AgreementTerms
from handoff.domain.agreement_file import parse_agreement
from handoff.plan import NoGoal, months_between, plan_for, reverse_funnel

H1 = """
name = "2026 H1 growth agreement"
effective_from = 2026-01-01
effective_to = 2026-06-30
timezone = "America/Chicago"

[goal]
revenue = 1200000
average_deal = 30000

[marketing]
rates = { visit_to_captured = 0.02, captured_to_qualified = 0.30, qualified_to_handed = 0.90 }

[sales]
decide_within_hours = 8
rates = { handed_to_accepted = 0.80, accepted_to_proposal = 0.40, proposal_to_won = 0.35 }
"""


def terms(text: str = H1) -> AgreementTerms:
    return parse_agreement(text)


def test_the_chain_rounds_up_at_every_step() -> None:
    total = plan_for(terms()).total
    assert total.as_dict() == {
        "revenue": Decimal("1200000.00"),
        "won": 40,
        "proposal": 115,  # 40 / 0.35 = 114.29
        "accepted": 288,  # 115 / 0.40 = 287.5
        "handed": 360,  # 288 / 0.80 = 360 exactly, not 361
        "qualified": 400,
        "captured": 1334,  # 400 / 0.30 = 1333.33
        "visits": 66700,
    }


def test_exact_division_is_never_rounded_up_by_binary_noise() -> None:
    rates = {"handed_to_accepted": Decimal("0.8")}
    # 480 deals of 1 each: handed = 480 / 0.8 = 600, never 601
    targets = reverse_funnel(Decimal(480), Decimal(1), rates.get)
    assert targets.counts["handed"] == 600


def test_a_missing_rate_counts_as_one() -> None:
    targets = reverse_funnel(Decimal(100000), Decimal(30000), {}.get)
    assert set(targets.counts.values()) == {4}


def test_each_month_gets_the_goal_prorated_by_its_days() -> None:
    plan = plan_for(terms())
    march = next(m for m in plan.per_month if m.month == "2026-03")
    # 1,200,000 x 31 / 181 days = 205,524.86 -> 7 deals of 30,000
    assert march.days == 31
    assert march.targets.revenue == Decimal("205524.86")
    assert march.targets.counts["won"] == 7
    assert [m.month for m in plan.per_month] == [f"2026-0{n}" for n in range(1, 7)]


def test_months_are_clipped_to_the_agreement_period() -> None:
    assert months_between(date(2026, 1, 15), date(2026, 3, 10)) == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]


def test_an_open_ended_agreement_plans_the_twelve_months_from_its_start() -> None:
    plan = plan_for(terms(H1.replace("effective_to = 2026-06-30\n", "")))
    assert plan.open_ended
    assert (plan.start, plan.end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert len(plan.per_month) == 12


def test_an_agreement_without_a_goal_has_nothing_to_plan() -> None:
    text = H1.replace("[goal]\nrevenue = 1200000\naverage_deal = 30000\n", "")
    with pytest.raises(NoGoal, match="no \\[goal\\]"):
        plan_for(terms(text))


# -- `handoff plan` ----------------------------------------------------------------------


def agreement_file(tmp_path: Path, text: str = H1) -> str:
    path = tmp_path / "agreement.toml"
    path.write_text(text)
    return str(path)


def test_plan_prints_the_funnel_by_month_beside_the_actuals(store: str, tmp_path: Path) -> None:
    handoff = Handoff(store)
    handoff.ok("sla", "apply", agreement_file(tmp_path))
    handoff.ok("lead", "capture", "ACME-1", "--source", "web", "--at", "2026-02-03T10:00")
    handoff.ok("traffic", "record", "--date", "2026-02-03", "--visits", "120")
    result = handoff.json("plan", "--at", "2026-03-01")
    assert result["agreement"]["name"] == "2026 H1 growth agreement"
    assert result["total"]["handed"] == 360
    assert [m["month"] for m in result["per_month"]] == [f"2026-0{n}" for n in range(1, 7)]
    february = result["per_month"][1]
    assert (february["days"], february["won"]) == (28, 7)
    assert february["actual"]["captured"] == 1 and february["actual"]["visits"] == 120
    assert result["actual"]["captured"] == 1
    assert result["actual"]["to"] == "2026-06-30"
    table = handoff.ok("plan", "--at", "2026-03-01")
    assert "66,700" in table and "1 / 234" in table


def test_plan_is_refused_without_an_agreement_in_force(store: str) -> None:
    Handoff(store).ok("traffic", "record", "--date", "2026-03-01", "--visits", "10")
    assert Handoff(store).refused("plan", "--at", "2026-03-01") == (
        "Error: no agreement is in force on 2026-03-01: apply one with `handoff sla apply`"
    )


def test_plan_out_of_the_agreements_dates_names_the_days_the_last_one_covers(
    store: str, tmp_path: Path
) -> None:
    """The tour's agreement ended on 30 June: `plan` (as of now) and `plan --at` a day after
    it are refused, saying which days to ask about rather than to apply an agreement the
    store already holds."""
    handoff = Handoff(store)
    handoff.ok("sla", "apply", agreement_file(tmp_path))
    hint = ("the latest version, '2026 H1 growth agreement', covers 2026-01-01 to 2026-06-30"
            " (give --at a day it covers), or apply one with `handoff sla apply`")
    assert handoff.refused("plan") == f"Error: no agreement is in force now: {hint}"
    assert handoff.refused("plan", "--at", "2026-07-01") == (
        f"Error: no agreement is in force on 2026-07-01: {hint}")


def test_plan_of_a_version_awaiting_a_signature_says_to_sign_it(
    store: str, tmp_path: Path
) -> None:
    """The tour's agreement proposed by marketing, sales not signed yet: `plan` said to
    'apply one with `handoff sla apply`', which records nothing (identical to version 1);
    it names the version waiting and the command that brings it into force."""
    handoff = Handoff(store)
    team = '[team]\nmarketing = ["maria"]\nsales = ["sam", "ola"]\n'
    handoff.ok("sla", "apply", agreement_file(tmp_path, H1 + team))
    assert handoff.refused("plan", "--at", "2026-03-02") == (
        "Error: no agreement is in force on 2026-03-02: version 1, '2026 H1 growth"
        " agreement', 2026-01-01 to 2026-06-30, is in force once sales signs it (sam, ola):"
        " `handoff sla sign 1`, or apply one with `handoff sla apply`")


def test_plan_is_refused_for_an_agreement_without_a_goal(store: str, tmp_path: Path) -> None:
    handoff = Handoff(store)
    handoff.ok("sla", "apply", agreement_file(tmp_path, H1.split("[goal]")[0] + H1.split(
        "average_deal = 30000")[1]))
    assert "has no [goal]" in handoff.refused("plan", "--at", "2026-03-01")


def test_the_plan_table_writes_the_figures_of_the_json_exactly(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A goal at the bounds' edge and rates of one in a million: figures far beyond a
    float's 17 digits, which the table once wrote through one (99,999,999,999,899,992,064)."""
    monkeypatch.setenv("COLUMNS", "200")
    handoff = Handoff(store)
    edge = H1.replace("revenue = 1200000", "revenue = 999999999999").replace(
        "average_deal = 30000", "average_deal = 0.01").replace("0.35 }", "0.000001 }")
    handoff.ok("sla", "apply", agreement_file(tmp_path, edge))
    table = handoff.ok("plan", "--at", "2026-03-01")
    # won = 999,999,999,999 / 0.01; a proposal a million times as many (proposal_to_won).
    assert "│ 99,999,999,999,900 " in table
    assert "│ 99,999,999,999,900,000,000 " in table
    assert handoff.json("plan", "--at", "2026-03-01")["total"]["proposal"] == 10**20 - 10**8
    for document in ("sla.md", "sla.html"):  # the living document's plan too
        handoff.ok("sla", "doc", "--month", "2026-03", "--out", str(tmp_path / document))
        assert "99,999,999,999,900,000,000" in (tmp_path / document).read_text()


def test_plan_shows_revenue_as_every_view_shows_money(store: str, tmp_path: Path) -> None:
    """A deal won for 1,000.50 reads 1,000.50 in `plan`'s table, as in `kpi`'s (it read
    1,000, rounded half to even); the month's share of the goal to the cent."""
    handoff = Handoff(store)
    handoff.ok("sla", "apply", agreement_file(tmp_path))
    handoff.ok("lead", "capture", "ACME-1", "--source", "web", "--at", "2026-02-03T10:00")
    handoff.ok("lead", "qualify", "ACME-1", "--at", "2026-02-03T10:30")
    handoff.ok("lead", "handoff", "ACME-1", "--owner", "sam", "--at", "2026-02-03T11:00")
    handoff.ok("lead", "accept", "ACME-1", "--at", "2026-02-03T12:00")
    handoff.ok("lead", "proposal", "ACME-1", "--amount", "1000.50", "--at", "2026-02-04T10:00")
    handoff.ok("lead", "win", "ACME-1", "--amount", "1000.50", "--at", "2026-02-05T10:00")
    table = handoff.ok("plan", "--at", "2026-03-01")
    kpi = handoff.ok("kpi", "--month", "2026-02")
    assert "1,000.50" in kpi
    revenue = next(line for line in table.splitlines() if line.startswith("│ revenue"))
    assert "1,000.50" in revenue, table
    february = next(line for line in table.splitlines() if line.startswith("│ 2026-02"))
    assert "1,000.50 / " in february, table


def test_a_plan_revised_mid_month_names_the_days_and_the_version_taking_over(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H1 revised from 16 March (version 2, to 30 June): `plan --at` a day of version 1
    planned all six months by it, with no word that version 2 plans them from the 16th;
    and version 2's plan labelled its sixteen days of March '2026-03', a whole month."""
    monkeypatch.setenv("COLUMNS", "200")
    handoff = Handoff(store)
    handoff.ok("sla", "apply", agreement_file(tmp_path))
    revised = H1.replace("2026-01-01", "2026-03-16").replace("1200000", "900000")
    handoff.ok("sla", "apply", agreement_file(tmp_path, revised))
    first = handoff.json("plan", "--at", "2026-02-01")
    assert first["agreement"]["version"] == 1
    assert first["replaced"] == {"from": "2026-03-16", "version": 2}
    assert handoff.ok("plan", "--at", "2026-02-01").splitlines()[-1] == (
        "version 2 is in force from 2026-03-16: the months from then on are planned by it"
        " (`handoff plan --at 2026-03-16`)")
    second = handoff.json("plan", "--at", "2026-04-01")
    assert second["replaced"] is None
    assert (second["per_month"][0]["from"], second["per_month"][0]["days"]) == ("2026-03-16", 16)
    table = handoff.ok("plan", "--at", "2026-04-01")
    assert "│ 2026-03 (16-31) │" in table
    assert "│ 2026-04         │" in table  # a whole month keeps its plain name
    assert "version" not in table.splitlines()[-1]
