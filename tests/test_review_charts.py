"""The review's charts (inline SVG), quarterly reviews, and thin rates marked wherever shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import FakeClock
from test_report import (
    MARCH,
    march,  # noqa: F401  (the fixture: a March of three handoffs)
    review,
    step,
)

from handoff import charts
from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.kpi import period_from_options
from handoff.review_charts import decisions


def figures(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, svg in re.findall(r'<figure class="chart" data-chart="(\w+)">(<svg .*?</svg>)'
                                r"</figure>", page, re.S):
        found.setdefault(kind, []).append(svg)
    return found


def test_the_review_draws_the_funnel_the_trends_and_the_response_times(
    march: Handoff, tmp_path: Path  # noqa: F811
) -> None:
    out = tmp_path / "review.html"
    march.ok("report", "--month", "2026-03", "--out", str(out))
    drawn = figures(out.read_text(encoding="utf-8"))
    assert [len(drawn.get(k, [])) for k in ("funnel", "trend", "responses")] == [1, 8, 1]
    funnel = drawn["funnel"][0]
    assert ">handed<" in funnel and ">3 of " in funnel  # three handoffs against the plan
    titles = [re.search(r"<title>(.*?)</title>", svg).group(1) for svg in drawn["trend"]]
    assert titles == ["Visits to captured", "Captured to qualified", "Qualified to handed",
                      "Handed to accepted", "Accepted to proposal", "Proposal to won",
                      "Win rate (won / won + lost)", "SLA compliance"]
    # Twelve months, April 2025 to March 2026; only March has a value.
    compliance = drawn["trend"][-1]
    assert re.findall(r"<circle ", compliance) and len(re.findall(r"<circle ", compliance)) == 1
    assert "Mar: 33.3% (thin: few leads)" in compliance  # 1 in time of 3 judged, < 10 leads
    # ACME-1 decided after 1 business hour; BOLT-2 after 16 (Tue 10-17, Wed 9-17, Thu 9-10).
    responses = drawn["responses"][0]
    assert "<title>0-1 h: 1</title>" in responses
    assert "<title>15-16 h: 1 (1 late)</title>" in responses
    assert "<title>16+ h: 0</title>" in responses


def test_response_times_are_those_of_the_periods_decided_handoffs(
    march: Handoff, app: HandoffApp  # noqa: F811
) -> None:
    period = period_from_options(app.agreement_register(), month="2026-03")
    assert sorted(decisions(app, period, None)) == [(1.0, True), (16.0, False)]


@pytest.fixture
def friday(app: HandoffApp, clock: FakeClock) -> Handoff:
    """Two handoffs made on Friday 6 March 2026 at 09:00, due at 17:00 as the day closes
    (8 business hours): EARLY accepted at 16:30, after 7.5 business hours; LATE at 20:00,
    after its due instant, yet after 8 business hours only (none passes after 17:00)."""
    clock.set("2025-12-20T10:00:00Z")
    app.apply_agreement(parse_agreement(MARCH), "maria")
    for key in ("EARLY", "LATE"):
        step(app, clock, "2026-03-06T08:00", key, "captured", source="web")
        step(app, clock, "2026-03-06T08:30", key, "qualified")
        step(app, clock, "2026-03-06T09:00", key, "handed", owner="sam")
    step(app, clock, "2026-03-06T16:30", "EARLY", "accepted")
    step(app, clock, "2026-03-06T20:00", "LATE", "accepted")
    return Handoff(app.location.given)


def test_the_response_chart_draws_each_decision_as_the_sla_judged_it(
    friday: Handoff, tmp_path: Path
) -> None:
    """A bar of the chart holds the decisions of one hour of response time; whether each was
    in time is the SLA's verdict (its decision against its due instant), not which side
    of the agreement's hours its bar lies: LATE shares EARLY's bar, yet was late."""
    sla = friday.json("kpi", "--month", "2026-03")["sla"]
    assert (sla["decided_in_time"], sla["decided_late"]) == (1, 1)
    responses = figures(review(friday, tmp_path))["responses"][0]
    bar = re.search(r'<g class="bar"><title>7-8 h: 2 \(1 late\)</title>(.*?)</g>', responses)
    assert bar, responses
    assert re.findall(r'fill="(#\w+)"', bar.group(1)) == [charts.GOOD, charts.BAD]


def test_thin_rates_are_starred_in_the_review_and_its_groups(
    march: Handoff, tmp_path: Path  # noqa: F811
) -> None:
    out = tmp_path / "review.html"
    march.ok("report", "--month", "2026-03", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "<td>handed to accepted</td><td>66.7% *</td>" in page  # 2 of 3 handed
    assert "<td>visit to captured</td><td>0.6%</td>" in page  # visits are not leads
    by_owner = page.split("By owner (flow)")[1].split("Breaches")[0]
    assert "100.0% *" in by_owner  # sam: 1 judged handoff, decided in time
    assert "rests on fewer than 10 leads" in page


def test_thin_rates_are_starred_in_the_kpi_groups(march: Handoff) -> None:  # noqa: F811
    table = march.ok("kpi", "--month", "2026-03", "--by", "owner")
    by_group = table.split("By owner")[1]
    assert "100.0% *" in by_group
    assert "* built on fewer than 10 leads: read it with care" in by_group


def test_a_quarterly_review(march: Handoff, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "q1.html"
    assert "wrote the 2026Q1 review" in march.ok("report", "--quarter", "2026Q1", "--out",
                                                  str(out))
    page = out.read_text(encoding="utf-8")
    assert "joint review: Q1 2026 (January to March)" in page
    assert "2026-01-01 to 2026-03-31" in page
    assert "<h2>Breaches of the quarter</h2>" in page
    assert "handoff report --quarter 2026Q1" in page
    assert len(figures(page)["trend"]) == 8


def test_a_review_names_one_period(march: Handoff, tmp_path: Path) -> None:  # noqa: F811
    for options in ((), ("--month", "2026-03", "--quarter", "2026Q1")):
        result = march("report", *options, "--out", str(tmp_path / "r.html"))
        assert result.exit_code == 2, result.output
        assert "give one period" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_trend_draws_thin_months_hollow_and_breaks_at_months_without_data() -> None:
    svg = charts.trend([charts.Point("Jan", 0.5), charts.Point("Feb", None),
                        charts.Point("Mar", 0.25, thin=True), charts.Point("Apr", 0.3)],
                       target=0.4, title="Handed to accepted")
    assert svg.count("<polyline") == 2  # Jan alone, then Mar to Apr
    assert svg.count('fill="#fff"') == 1 and ">*</text>" in svg
    assert "Handed to accepted: 30.0% (target 40.0%)" in svg


def test_a_review_of_the_first_month_days_can_hold_trends_from_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """January 1900, the first month a period may be (`kpi` reports it): its trends have
    no months before it to show, rather than refusing the month for one of them."""
    terms = tmp_path / "agreement.toml"
    terms.write_text('name = "x"\neffective_from = 1900-01-01\n[sales]\n'
                     "decide_within_hours = 8\n", encoding="utf-8")
    handoff.ok("sla", "apply", str(terms))
    handoff.ok("lead", "capture", "K", "--source", "web", "--at", "1900-01-02T09:00")
    out = tmp_path / "review.html"
    assert "wrote the 1900-01 review" in handoff.ok("report", "--month", "1900-01",
                                                     "--out", str(out))
    visits = figures(out.read_text(encoding="utf-8"))["trend"][0]
    assert "Jan" in visits and "Dec" not in visits  # one month, January's
    assert handoff.ok("sla", "doc", "--month", "1900-01", "--out", str(tmp_path / "doc.md"))


def test_a_trend_of_nothing_but_zeros_has_ticks_that_read_apart() -> None:
    """SLA compliance at 0 % two months running, and no target: the axis read 0.0%, 0.0%,
    0.0% (its top was a hundredth of a percent); it now runs to 2 %."""
    svg = charts.trend([charts.Point("Feb", 0.0, True), charts.Point("Mar", 0.0, True)],
                       None, "SLA compliance")
    ticks = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert ticks == ["0.0%", "1.0%", "2.0%"]
