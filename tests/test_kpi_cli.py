"""`handoff kpi`, `sla breaches` and `projections`, driven through the real command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml


@pytest.fixture
def handoff(store: str, tmp_path: Path) -> Handoff:
    return a_march_lead(store, tmp_path)


def a_march_lead(store: str, tmp_path: Path) -> Handoff:
    """A store under the 2026 agreement (no team), with one lead through each March stage."""
    cli = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    cli.ok("sla", "apply", str(agreement))
    cli.ok("lead", "capture", "acme", "--source", "web", "--at", "2026-03-02T09:00")
    cli.ok("lead", "qualify", "acme", "--at", "2026-03-02T09:30")
    cli.ok("lead", "handoff", "acme", "--owner", "sam", "--at", "2026-03-02T10:00")
    cli.ok("lead", "accept", "acme", "--at", "2026-03-03T11:00")  # an hour late
    cli.ok("lead", "proposal", "acme", "--amount", "1234.56", "--at", "2026-03-04T10:00")
    cli.ok("lead", "win", "acme", "--at", "2026-03-05T10:00")
    cli.ok("traffic", "record", "--date", "2026-03-02", "--visits", "50")
    return cli


def test_kpi_json_is_the_spec_object(handoff: Handoff) -> None:
    result = handoff.json("kpi", "--month", "2026-03")
    # SPEC §5; "follow_up" too when the agreement has a follow-up clause (this one has none).
    assert list(result) == ["period", "basis", "as_of", "counts", "revenue_won", "rates", "sla",
                            "targets", "speed_to_lead", "restatements"]
    assert result["period"] == {"from": "2026-03-01", "to": "2026-03-31",
                                "timezone": "America/Chicago"}
    assert result["basis"] == "flow"
    assert result["counts"]["visits"] == 50
    assert result["counts"]["won"] == 1
    assert result["revenue_won"] == 1234.56
    assert result["rates"]["visit_to_captured"] == 0.02
    assert result["rates"]["win_rate"] == 1.0
    assert result["sla"]["decided_late"] == result["sla"]["breached"] == 1
    assert result["sla"]["compliance"] == 0.0
    assert result["sla"]["median_response_hours"] == 9.0
    assert result["targets"]["qualified"] == 40
    assert result["targets"]["handed_to_accepted"] == 0.8


def test_kpi_by_owner_has_groups_without_visits(handoff: Handoff) -> None:
    result = handoff.json("kpi", "--quarter", "2026Q1", "--basis", "cohort", "--by", "owner")
    assert result["basis"] == "cohort"
    assert set(result["groups"]) == {"sam"}
    assert "visits" not in result["groups"]["sam"]["counts"]
    assert "visit_to_captured" not in result["groups"]["sam"]["rates"]


def test_kpi_table_names_the_basis_and_flags_thin_rates(handoff: Handoff) -> None:
    output = handoff.ok("kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--basis", "cohort")
    assert "cohort basis" in output
    assert "100.0% *" in output
    assert "fewer than 10 leads" in output


def test_kpi_table_writes_counts_as_the_plan_and_the_review_do(handoff: Handoff) -> None:
    """12,395 visits read `12395` beside revenue's `1,234.56` in the same table, where
    `plan` and the review write `12,395`; JSON and CSV keep the number (data)."""
    handoff.ok("traffic", "record", "--date", "2026-03-03", "--visits", "12345")
    table = handoff.ok("kpi", "--month", "2026-03")
    [visits] = [line for line in table.splitlines() if line.startswith("│ visits ")]
    assert visits.split("│")[2].strip() == "12,395"  # 50 + 12,345
    assert "│ revenue_won │ 1,234.56" in table
    assert handoff.json("kpi", "--month", "2026-03")["counts"]["visits"] == 12395


def test_kpi_csv_has_one_row_per_metric(handoff: Handoff) -> None:
    lines = handoff.ok("kpi", "--month", "2026-03", "--format", "csv").splitlines()
    assert lines[0] == (
        "group,section,metric,actual,target,basis,from,to,timezone,as_of,restated_by_versions,"
        "grouped_by"
    )
    assert any(line.startswith("all,counts,qualified,1,40,flow,2026-03-01,2026-03-31,")
               for line in lines)


def test_kpi_csv_tells_a_group_named_all_from_the_totals(handoff: Handoff) -> None:
    handoff.ok("lead", "capture", "fair-1", "--source", "all", "--at", "2026-03-03T09:00")
    text = handoff.ok("kpi", "--month", "2026-03", "--by", "source", "--format", "csv")
    captured = [(r["group"], r["grouped_by"], r["actual"], r["target"])
                for r in csv.DictReader(io.StringIO(text))
                if r["section"] == "counts" and r["metric"] == "captured"]
    # The totals alone carry the targets (a group was given them by its name `all`).
    assert sorted(captured) == [("all", "", "2", "144"), ("all", "source", "1", ""),
                                ("web", "source", "1", "")]


def test_kpi_csv_names_what_every_row_was_computed_on(handoff: Handoff) -> None:
    """SPEC §5: the basis is always named, in CSV too (a cohort file cannot pass for flow)."""
    as_of = "2026-04-01T00:00Z"
    text = handoff.ok("kpi", "--month", "2026-03", "--basis", "cohort", "--as-of", as_of,
                      "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["basis"], r["from"], r["to"], r["as_of"], r["restated_by_versions"])
            for r in rows} == {("cohort", "2026-03-01", "2026-03-31", "2026-04-01T00:00:00Z", "")}


def test_kpi_as_of_replays_an_earlier_report(handoff: Handoff) -> None:
    earlier = handoff.json("kpi", "--month", "2026-03", "--as-of", "2026-01-01T00:00Z")
    assert earlier["as_of"] == "2026-01-01T00:00:00Z"
    assert earlier["counts"]["captured"] == 0


def test_a_report_is_replayed_only_as_of_an_instant_that_has_passed(
    handoff: Handoff, tmp_path: Path
) -> None:
    """An as-of a year ahead would judge today's pending handoffs overdue: not a replay."""
    next_year = datetime.now(UTC) + timedelta(days=365)
    later = next_year.strftime("%Y-%m-%dT%H:%MZ")
    for command in (("kpi", "--month", "2026-03"), ("sla", "breaches"),
                    ("report", "--month", "2026-03", "--out", str(tmp_path / "never.html")),
                    ("lead", "show", "acme"), ("lead", "history", "acme")):
        line = handoff.refused(*command, "--as-of", later)
        assert "is in the future" in line, command
    assert not (tmp_path / "never.html").exists()
    a_minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%MZ")
    handoff.ok("kpi", "--month", "2026-03", "--as-of", a_minute_ago)


@pytest.mark.parametrize(
    "options",
    [
        ["--month", "2026-03", "--quarter", "2026Q1"],
        ["--from", "2026-03-01"],
        [],
    ],
)
def test_naming_no_period_or_two_is_a_usage_error(handoff: Handoff, options: list[str]) -> None:
    result = handoff("kpi", *options)
    assert result.exit_code == 2, result.output
    assert "give one period" in result.stderr or "go together" in result.stderr


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["--month", "March"], "not a month (YYYY-MM): 'March'"),
        (["--quarter", "2026Q5"], "not a quarter"),
        (["--from", "2026-03-31", "--to", "2026-03-01"], "is before --from"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], "2026-02-30"),
        (["--month", "2026-03", "--as-of", "yesterday"], "not an ISO-8601 timestamp"),
    ],
)
def test_a_malformed_period_or_instant_is_refused_in_one_line(
    handoff: Handoff, options: list[str], reason: str
) -> None:
    assert reason in handoff.refused("kpi", *options)


def test_sla_breaches_lists_late_decisions(handoff: Handoff) -> None:
    [late] = json.loads(handoff.ok("sla", "breaches", "--format", "json"))
    assert late["lead"] == "acme"
    assert late["status"] == "decided late"
    assert late["due_at"] == "2026-03-03T16:00:00Z"
    assert late["hours_past_due"] == 1.0


def test_sla_breaches_json_carries_hours_unrounded_and_the_table_rounds_them(
    handoff: Handoff,
) -> None:
    # Handed at 10:00 on Monday, due at 10:00 on Tuesday, decided 20 minutes late: a third
    # of an hour, whole in JSON (data, SPEC §5), to two places in the table.
    handoff.ok("lead", "capture", "slow", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "slow", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "slow", "--owner", "sam", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "accept", "slow", "--at", "2026-03-03T10:20")
    found = {row["lead"]: row for row in
             json.loads(handoff.ok("sla", "breaches", "--format", "json"))}
    assert found["slow"]["hours_past_due"] == 1 / 3
    assert "0.33" in handoff.ok("sla", "breaches")


def test_the_table_rounds_halves_up_and_never_shows_a_late_decision_as_none_past_due(
    handoff: Handoff,
) -> None:
    # Due on Tuesday at 10:00 (8 business hours after Monday 10:00): one decided 15 seconds
    # late, a 240th of an hour (0.00417), and one 7 minutes 30 seconds late, 0.125 h. The
    # table shows two places: "<0.01" rather than 0.00 for the first, and 0.13 for the
    # second, a half rounded up as people do by hand (Python's round() says 0.12).
    for key, decided in (("slow", "2026-03-03T10:00:15"), ("slower", "2026-03-03T10:07:30")):
        handoff.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T09:30")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T10:00")
        handoff.ok("lead", "accept", key, "--at", decided)
    found = {row["lead"]: row for row in
             json.loads(handoff.ok("sla", "breaches", "--format", "json"))}
    assert found["slow"]["hours_past_due"] == pytest.approx(1 / 240)
    assert found["slower"]["hours_past_due"] == 0.125
    rows = {line.split("│")[1].strip(): line for line in handoff.ok("sla", "breaches").splitlines()
            if "│" in line}
    assert "<0.01" in rows["slow"] and "0.00 " not in rows["slow"]
    assert "0.13" in rows["slower"] and "0.12" not in rows["slower"]


def test_sla_breaches_exits_3_while_a_handoff_is_overdue(handoff: Handoff) -> None:
    handoff.ok("lead", "capture", "open", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "open", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "open", "--owner", "ola", "--at", "2026-03-02T10:00")
    result = handoff("sla", "breaches")
    assert result.exit_code == 3
    assert "overdue" in result.stdout
    before_due = handoff("sla", "breaches", "--as-of", "2026-03-02T12:00")
    assert before_due.exit_code == 0


def _hand(handoff: Handoff, key: str, owner: str, at: str) -> None:
    handoff.ok("lead", "capture", key, "--source", "web", "--at", at)
    handoff.ok("lead", "qualify", key, "--at", at)
    handoff.ok("lead", "handoff", key, "--owner", owner, "--at", at)


@pytest.fixture
def three_breaches(handoff: Handoff) -> Handoff:
    """acme: handed to sam on 2 March, decided late; open: handed to ola on 2 March, never
    decided; night: handed to sam at 23:30 Chicago time on 28 February (05:30 UTC on
    1 March), never decided. Today is long after every due instant."""
    _hand(handoff, "open", "ola", "2026-03-02T10:00")
    _hand(handoff, "night", "sam", "2026-02-28T23:30")
    return handoff


def _breached(handoff: Handoff, *options: str) -> tuple[list[tuple[str, str]], int]:
    result = handoff("sla", "breaches", *options, "--format", "json")
    assert result.exit_code in (0, 3), result.output
    return [(row["lead"], row["status"]) for row in json.loads(result.stdout)], result.exit_code


def test_sla_breaches_of_a_month_are_those_handed_in_its_local_days(
    three_breaches: Handoff,
) -> None:
    march = _breached(three_breaches, "--month", "2026-03")
    assert march == ([("acme", "decided late"), ("open", "overdue")], 3)
    assert _breached(three_breaches, "--month", "2026-02") == ([("night", "overdue")], 3)
    assert _breached(three_breaches, "--month", "2026-04") == ([], 0)
    days = _breached(three_breaches, "--from", "2026-03-01", "--to", "2026-03-01")
    assert days == ([], 0)
    days = _breached(three_breaches, "--from", "2026-02-28", "--to", "2026-03-02")
    assert sorted(days[0]) == [("acme", "decided late"), ("night", "overdue"),
                               ("open", "overdue")]


def test_sla_breaches_by_owner_and_open_only(three_breaches: Handoff) -> None:
    # sam's March breach was decided late: listed, but no alarm.
    assert _breached(three_breaches, "--month", "2026-03", "--owner", "sam") == (
        [("acme", "decided late")], 0)
    found, status = _breached(three_breaches, "--open")
    assert sorted(found) == [("night", "overdue"), ("open", "overdue")]
    assert status == 3
    assert _breached(three_breaches, "--owner", "nobody") == ([], 0)
    assert _breached(three_breaches, "--month", "2026-03", "--owner", "sam", "--open") == ([], 0)


@pytest.mark.parametrize(
    "options",
    [["--month", "2026-03", "--from", "2026-03-01", "--to", "2026-03-02"],
     ["--from", "2026-03-01"], ["--to", "2026-03-01"]],
)
def test_sla_breaches_names_one_period_or_none(handoff: Handoff, options: list[str]) -> None:
    result = handoff("sla", "breaches", *options)
    assert result.exit_code == 2, result.output
    assert "give one period" in result.stderr


@pytest.mark.parametrize(
    ("options", "reason"),
    [(["--month", "March"], "not a month (YYYY-MM): 'March'"),
     (["--from", "2026-03-31", "--to", "2026-03-01"], "is before --from")],
)
def test_sla_breaches_refuses_a_malformed_period(
    handoff: Handoff, options: list[str], reason: str
) -> None:
    assert reason in handoff.refused("sla", "breaches", *options)


@pytest.mark.parametrize(
    ("command", "reason"),
    [(("sla", "breaches", "--month", ""), "not a month (YYYY-MM): ''"),
     (("sla", "breaches", "--from", "", "--to", ""), "not a date (YYYY-MM-DD): ''"),
     (("lead", "list", "--from", "", "--to", ""), "not a date (YYYY-MM-DD): ''"),
     (("kpi", "--month", ""), "not a month (YYYY-MM): ''"),
     (("report", "--month", "", "--out", "review.html"), "not a month (YYYY-MM): ''"),
     (("report", "--month", "2026-03", "--out", "review.html", "--as-of", ""),
      "not an ISO-8601 timestamp: ''"),
     (("sla", "doc", "--month", "", "--out", "sla.md"), "not a month (YYYY-MM): ''"),
     (("plan", "--at", ""), "not a date (YYYY-MM-DD): ''")],
)
def test_an_option_given_empty_is_refused_not_read_as_absent(
    three_breaches: Handoff, command: tuple[str, ...], reason: str
) -> None:
    """`--month "$MONTH"` with MONTH unset in a cron job: read as no --month, `sla breaches`
    listed every month's breaches (and sounded the alarm for them), the review and the
    document were written as of now or for the last full month."""
    assert reason in three_breaches.refused(*command)


@pytest.mark.parametrize("command", [("sla", "breaches", "--owner", ""),
                                     ("lead", "list", "--owner", ""),
                                     ("lead", "list", "--source", " ")])
def test_a_filter_given_empty_is_refused_not_read_as_selecting_nothing(
    three_breaches: Handoff, command: tuple[str, ...]
) -> None:
    """`--owner "$OWNER"` with OWNER unset: `sla breaches` listed none of the three breaches
    and exited 0, all clear; a usage error now, as a filter naming nobody."""
    result = three_breaches(*command)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: Invalid value for '{command[2]}': must name one (an empty"
                           " name selects nothing) (see '")  # (the runner's program name)
    assert line.endswith(f" {command[0]} {command[1]} --help')")


def test_projections_status_and_rebuild(handoff: Handoff) -> None:
    handoff.ok("kpi", "--month", "2026-03")
    status = handoff.json("projections", "status")
    assert status["behind"] == 0
    assert status["rows"]["read_event"] == 6
    assert "rebuilt the projections" in handoff.ok("projections", "rebuild")
    assert handoff.json("projections", "status")["rows"] == status["rows"]


def test_import_leaves_the_projections_caught_up(handoff: Handoff, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at,source\nbeta,captured,2026-03-09T09:00,web\n")
    handoff.ok("import", str(rows))
    assert handoff.json("projections", "status")["behind"] == 0


def test_json_and_csv_carry_rates_unrounded_and_tables_round_them(handoff: Handoff) -> None:
    """SPEC §5: one lead captured from 2,400 visits converts at 1/2400 = 0.000416...;
    rounded to 4 decimals it would read 0.0004, 4 % off."""
    handoff.ok("traffic", "record", "--date", "2026-03-03", "--visits", "2350")
    rate = handoff.json("kpi", "--month", "2026-03")["rates"]["visit_to_captured"]
    assert rate == 1 / 2400
    csv_rows = handoff.ok("kpi", "--month", "2026-03", "--format", "csv").splitlines()
    assert any(row.startswith(f"all,rates,visit_to_captured,{1 / 2400!r},0.02,")
               for row in csv_rows)
    table = handoff.ok("kpi", "--month", "2026-03")
    assert "0.0%" in table and repr(1 / 2400) not in table


def test_targets_count_only_the_days_an_agreement_is_in_force(
    store: str, tmp_path: Path
) -> None:
    """As the plan gives a month cut by the agreement's end only its days (plan.feature),
    a period running past the agreement's end gets targets for its days in force alone:
    1,200,000 over the 181 days of H1 2026, for the 16 days of 15-30 June, is
    106,077.35; 4 deals of 30,000 (3.54 rounded up), 12 proposals at 0.35 (11.4 up); and
    marketing's 40 qualified a month, for 16 of June's 30 days, 21.3: 22 (July's 15 days
    would have added 19.4)."""
    cli = Handoff(store)
    agreement = tmp_path / "h1.toml"
    agreement.write_text(
        'name = "H1"\neffective_from = 2026-01-01\neffective_to = 2026-06-30\n'
        'timezone = "America/Chicago"\n[goal]\nrevenue = 1200000\naverage_deal = 30000\n'
        "[marketing]\nqualified_per_month = 40\n"
        "[sales]\ndecide_within_hours = 8\nrates = { proposal_to_won = 0.35 }\n"
    )
    cli.ok("sla", "apply", str(agreement))
    targets = cli.json("kpi", "--from", "2026-06-15", "--to", "2026-07-15")["targets"]
    assert (targets["revenue_won"], targets["won"], targets["proposal"]) == (106077.35, 4, 12)
    assert targets["qualified"] == 22
    whole_june = cli.json("kpi", "--month", "2026-06")["targets"]  # 30 of 181 days
    assert whole_june["revenue_won"] == round(1_200_000 * 30 / 181, 2)


def test_a_revenue_goal_without_an_average_deal_is_still_the_revenue_target(
    store: str, tmp_path: Path
) -> None:
    """No average deal, no deals to plan: the counts have no target, yet the goal is one.
    1,200,000 over H1's 181 days, for March's 31: 205,524.86 (it read null)."""
    cli = Handoff(store)
    agreement = tmp_path / "h1.toml"
    agreement.write_text(
        'name = "H1"\neffective_from = 2026-01-01\neffective_to = 2026-06-30\n'
        'timezone = "America/Chicago"\n[goal]\nrevenue = 1200000\n'
        "[sales]\ndecide_within_hours = 8\n"
    )
    cli.ok("sla", "apply", str(agreement))
    targets = cli.json("kpi", "--month", "2026-03")["targets"]
    assert targets["revenue_won"] == 205524.86
    assert (targets["won"], targets["proposal"], targets["captured"]) == (None, None, None)


def test_a_period_over_a_revision_has_each_versions_targets_for_its_days(
    store: str, tmp_path: Path
) -> None:
    """plan.feature: H1 promises 40 qualified a month and proposal_to_won 0.35; H2, signed
    as its revision, 60 and 0.40. 16 June - 15 July has 15 days of each: marketing owes
    40 * 15/30 + 60 * 15/31 = 20 + 29.03, 50 qualified (H1's 40 a month over both halves
    would say 40); the rate is (0.35 * 15 + 0.40 * 15) / 30 = 0.375; the goal 1,200,000
    * 15/181 + 2,400,000 * 15/184 = 99,447.51 + 195,652.17 = 295,099.69, and the deals
    each half's funnel asks for its share: 4 + 7 won (3.3 and 6.5 rounded up), 12 + 18
    proposals (4 / 0.35 = 11.4 and 7 / 0.40 = 17.5 rounded up)."""
    cli = Handoff(store)
    for name, first, last, revenue, per_month, rate in (
        ("H1", "2026-01-01", "2026-06-30", 1200000, 40, "0.35"),
        ("H2", "2026-07-01", "2026-12-31", 2400000, 60, "0.40"),
    ):
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'name = "{name}"\neffective_from = {first}\neffective_to = {last}\n'
            f'timezone = "America/Chicago"\n[goal]\nrevenue = {revenue}\naverage_deal = 30000\n'
            f"[marketing]\nqualified_per_month = {per_month}\n"
            f"[sales]\ndecide_within_hours = 8\nrates = {{ proposal_to_won = {rate} }}\n"
        )
        cli.ok("sla", "apply", str(path))
    targets = cli.json("kpi", "--from", "2026-06-16", "--to", "2026-07-15")["targets"]
    assert targets["qualified"] == 50
    assert targets["proposal_to_won"] == 0.375
    assert (targets["revenue_won"], targets["won"], targets["proposal"]) == (295099.69, 11, 30)


def test_the_table_says_why_handoffs_under_no_agreement_are_not_in_the_sla_block(
    store: str, tmp_path: Path
) -> None:
    """SPEC §4: a handoff made while no agreement is in force has no due instant and is left
    out of the SLA block. H1 ends on 30 June: of the three handed from 29 June to 2 July,
    the table read 'handed 3' above 'handoffs 1', and nothing said where two had gone."""
    cli = Handoff(store)
    agreement = tmp_path / "h1.toml"
    agreement.write_text(
        'name = "H1"\neffective_from = 2026-01-01\neffective_to = 2026-06-30\n'
        'timezone = "America/Chicago"\n[sales]\ndecide_within_hours = 8\n')
    cli.ok("sla", "apply", str(agreement))
    for key, day in (("june", "2026-06-29"), ("july-1", "2026-07-01"), ("july-2", "2026-07-02")):
        cli.ok("lead", "capture", key, "--source", "web", "--at", f"{day}T09:00-05:00")
        cli.ok("lead", "qualify", key, "--at", f"{day}T09:30-05:00")
        cli.ok("lead", "handoff", key, "--owner", "sam", "--at", f"{day}T10:00-05:00")
    flow = cli.json("kpi", "--from", "2026-06-15", "--to", "2026-07-15")
    assert (flow["counts"]["handed"], flow["sla"]["handoffs"]) == (3, 1)
    table = cli.ok("kpi", "--from", "2026-06-15", "--to", "2026-07-15")
    assert ("2 handoffs of the period were made while no agreement was in force: with no due"
            " instant, they are left out of the SLA block.") in table
    july = cli.ok("kpi", "--month", "2026-07")
    assert ("1 handoff of the period was made while no agreement was in force" not in july
            and "2 handoffs of the period were made while no agreement was in force" in july)
    for covered in (cli.ok("kpi", "--month", "2026-06"),
                    cli.ok("kpi", "--from", "2026-06-15", "--to", "2026-07-15",
                           "--basis", "cohort")):
        assert "while no agreement was in force" not in covered
