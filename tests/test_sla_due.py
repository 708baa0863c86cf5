"""`handoff sla due`: the handoffs still pending, soonest due first, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, FakeClock, agreement_toml
from test_kpi_cli import a_march_lead

from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.instants import parse_duration
from handoff.sla import sla_due
from handoff.verification.world import put_in_force


def _hand(app: HandoffApp, key: str, at: str) -> None:
    app.capture(key, "web", "maria", at=at)
    app.record(key, "qualified", "maria", at)
    app.record(key, "handed", "maria", at, owner="sam")


@pytest.fixture
def monday_afternoon(app: HandoffApp, clock: FakeClock) -> HandoffApp:
    """Monday 2 March 2026, 16:00 in Chicago (CST, 22:00 UTC), under the 2026 agreement
    (8 business hours, 09:00-17:00 on weekdays):
    - early: handed today 10:00, due Tuesday 10:00 (16:00 UTC); 2 business hours left;
    - late: handed today 14:00, due Tuesday 14:00 (20:00 UTC); 6 business hours left;
    - done: handed today 10:00 and accepted: not pending;
    - gone: handed Friday 10:00, due today 10:00: overdue, not pending."""
    clock.now = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    put_in_force(app, parse_agreement(agreement_toml(AGREEMENT, {"team": None})))
    clock.now = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    _hand(app, "late", "2026-03-02T14:00")
    _hand(app, "early", "2026-03-02T10:00")
    _hand(app, "done", "2026-03-02T10:00")
    app.record("done", "accepted", "sam", "2026-03-02T11:00")
    _hand(app, "gone", "2026-02-27T10:00")
    return app


def test_pending_handoffs_soonest_due_first(monday_afternoon: HandoffApp) -> None:
    assert sla_due(monday_afternoon) == [
        {"lead": "early", "owner": "sam", "handed_at": "2026-03-02T16:00:00Z",
         "due_at": "2026-03-03T16:00:00Z", "business_hours_left": 2.0},
        {"lead": "late", "owner": "sam", "handed_at": "2026-03-02T20:00:00Z",
         "due_at": "2026-03-03T20:00:00Z", "business_hours_left": 6.0},
    ]


def test_the_hours_left_are_data_unrounded(monday_afternoon: HandoffApp, clock: FakeClock
                                           ) -> None:
    # Twenty seconds later, early has 1 hour 59 minutes 40 seconds left: 7,180 seconds
    # (SPEC §5: JSON carries hours unrounded; the table rounds them).
    clock.now += timedelta(seconds=20)
    assert sla_due(monday_afternoon)[0]["business_hours_left"] == 7180 / 3600


def test_a_handoff_dated_a_few_minutes_ahead_has_its_whole_window_left(
    monday_afternoon: HandoffApp,
) -> None:
    """Handed at 16:04 when the clock says 16:00 (a step may be up to five minutes ahead,
    a clock's skew): due Tuesday at 16:04 CST (22:04 UTC), 56 minutes today and 7 hours 4
    minutes tomorrow. It has its 8 business hours left, where `sla due` said 8.07, more
    than the agreement gives, counting the 4 minutes before the handoff."""
    _hand(monday_afternoon, "skewed", "2026-03-02T16:04")
    row = next(r for r in sla_due(monday_afternoon) if r["lead"] == "skewed")
    assert (row["due_at"], row["business_hours_left"]) == ("2026-03-03T22:04:00Z", 8.0)


def test_within_counts_clock_time_up_to_the_due_instant(monday_afternoon: HandoffApp) -> None:
    # early is due 18 clock hours from now, late 22.
    assert [r["lead"] for r in sla_due(monday_afternoon, timedelta(hours=18))] == ["early"]
    assert sla_due(monday_afternoon, timedelta(hours=17, minutes=59)) == []
    assert [r["lead"] for r in sla_due(monday_afternoon, timedelta(days=1))] == ["early", "late"]


def test_an_owner_sees_their_own_pending_handoffs(monday_afternoon: HandoffApp,
                                                  clock: FakeClock) -> None:
    # Ola gets one too, handed at 15:00: due Tuesday 15:00 (21:00 UTC), 7 hours left.
    monday_afternoon.capture("olas", "web", "maria", at="2026-03-02T15:00")
    monday_afternoon.record("olas", "qualified", "maria", "2026-03-02T15:00")
    monday_afternoon.record("olas", "handed", "maria", "2026-03-02T15:00", owner="ola")
    assert [r["lead"] for r in sla_due(monday_afternoon, owner="sam")] == ["early", "late"]
    assert [r["lead"] for r in sla_due(monday_afternoon, owner="ola")] == ["olas"]
    assert [r["lead"] for r in sla_due(monday_afternoon)] == ["early", "late", "olas"]
    assert sla_due(monday_afternoon, timedelta(hours=18), owner="ola") == []


@pytest.mark.parametrize(
    ("text", "span"),
    [("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), (" 1d ", timedelta(days=1))],
)
def test_durations_as_typed(text: str, span: timedelta) -> None:
    assert parse_duration(text) == span


def test_sla_due_on_the_command_line(store: str, tmp_path: Path) -> None:
    handoff = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(agreement))
    handoff.ok("lead", "capture", "now", "--source", "web")
    handoff.ok("lead", "qualify", "now")
    handoff.ok("lead", "handoff", "now", "--owner", "sam")
    # Handed just now: due 8 business hours later, at least 8 clock hours away.
    [row] = handoff.json("sla", "due")
    assert (row["lead"], row["owner"]) == ("now", "sam")
    # Eight business hours less the moments between the handoff and this read.
    assert 7.99 <= row["business_hours_left"] <= 8.0
    due_at = datetime.fromisoformat(row["due_at"])
    assert due_at - datetime.fromisoformat(row["handed_at"]) >= timedelta(hours=8)
    assert handoff.json("sla", "due", "--within", "1m") == []
    # Each read is a moment later: within the calendar's hours (a run at 09:30 in Chicago),
    # fewer business hours are left than at the read before.
    [later] = json.loads(handoff.ok("sla", "due", "--within", "36500d", "--format", "json"))
    assert _but_hours_left(later) == _but_hours_left(row)
    assert 7.99 <= later["business_hours_left"] <= row["business_hours_left"]
    table = handoff.ok("sla", "due")
    assert "Handoffs due (1)" in table and "business_hours_left" in table
    [sams] = handoff.json("sla", "due", "--owner", "sam")
    assert _but_hours_left(sams) == _but_hours_left(row)
    assert handoff.json("sla", "due", "--owner", "ola") == []


def _but_hours_left(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "business_hours_left"}


@pytest.mark.parametrize(("within", "reason"), [
    ("2", "not a duration: '2'"), ("2 hours", "not a duration"), ("-1h", "not a duration"),
    ("1.5h", "not a duration"), ("36501d", "too long"), ("9999999999999d", "too long"),
])
def test_a_bad_duration_is_refused_in_one_line(store: str, tmp_path: Path, within: str,
                                               reason: str) -> None:
    handoff = Handoff(store)
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "1")  # a store exists
    assert reason in handoff.refused("sla", "due", "--within", within)


def test_sla_due_refuses_a_missing_store(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    assert "no store at" in Handoff(str(missing)).refused("sla", "due")
    assert not missing.exists()


def test_the_readme_cron_recipe_alerts_on_an_open_breach_handed_last_month(
    store: str, tmp_path: Path
) -> None:
    """Found in trial P (a rep's cron job on 1 December): the README's recipe read
    `sla breaches --month "$(date +%Y-%m)" --open`, which lists only the handoffs handed
    this month, so a lead handed on 30 November and overdue on 1 December never sounded
    the alarm (exit 0). The recipe, run as the README writes it, exits 3 for an undecided
    handoff handed on the first day of last month: weeks past its 8 business hours."""
    recipe = next(line for line in Path(__file__).parents[1].joinpath("README.md")
                  .read_text(encoding="utf-8").splitlines() if "[ $? = 3 ] && mail" in line)
    command = recipe.split("`handoff ", 1)[1].split(" >/dev/null", 1)[0]
    now = datetime.now(UTC)
    this_month = now.strftime("%Y-%m")
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    args = command.replace('"$(date +%Y-%m)"', this_month).split()
    handoff = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(agreement))
    handed = f"{last_month}-01T10:00"
    handoff.ok("lead", "capture", "old", "--source", "web", "--at", handed)
    handoff.ok("lead", "qualify", "old", "--at", handed)
    handoff.ok("lead", "handoff", "old", "--owner", "sam", "--at", handed)
    result = handoff(*args)
    assert result.exit_code == 3, (args, result.output)


@pytest.mark.parametrize("command", [("sla", "due"), ("sla", "breaches", "--open"),
                                     ("lead", "list")])
def test_an_owner_nobody_was_handed_to_is_noted_on_stderr(
    store: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A rep's cron job ran `sla breaches --open --owner Sam` for sam: an empty list and
    exit 0 every day, whatever sam's breaches (trial P). The answer stays empty and the
    status 0 (a filter is not a refusal), but stderr, which cron mails, says so and names
    the owner meant. An owner who has handoffs, none of them listed, gets no note."""
    handoff = a_march_lead(store, tmp_path)  # acme, handed to sam, accepted and won
    typo = handoff(*command, "--owner", "Sam", "--format", "json")
    assert typo.exit_code == 0, typo.output
    assert json.loads(typo.stdout) == []
    assert typo.stderr == "note: no lead was ever handed to 'Sam' (did you mean 'sam'?)\n"
    # A script's variable read from a padded cell (`OWNER=" SAM"`): the name meant, too.
    padded = handoff(*command, "--owner", " SAM", "--format", "json")
    assert padded.stderr == "note: no lead was ever handed to ' SAM' (did you mean 'sam'?)\n"
    nobody = handoff(*command, "--owner", "zed", "--format", "json")
    assert nobody.stderr == "note: no lead was ever handed to 'zed'\n"
    if command != ("lead", "list"):  # sam's one handoff was decided: none due or open
        known = handoff(*command, "--owner", "sam", "--format", "json")
        assert (json.loads(known.stdout), known.stderr) == ([], "")


def test_a_source_no_lead_came_from_is_noted_on_stderr(store: str, tmp_path: Path) -> None:
    """Trial B listed `lead list --source Web` for the leads from `web`: an empty list, exit 0,
    where `--owner Olga` beside it noted that it meant `olga`. A source is a filter a typo
    empties for ever as well: the same note, naming the source meant."""
    handoff = a_march_lead(store, tmp_path)  # acme, captured from web
    typo = handoff("lead", "list", "--source", "Web", "--format", "json")
    assert typo.exit_code == 0, typo.output
    assert json.loads(typo.stdout) == []
    assert typo.stderr == "note: no lead was ever captured from 'Web' (did you mean 'web'?)\n"
    nobody = handoff("lead", "list", "--source", "fax", "--format", "json")
    assert nobody.stderr == "note: no lead was ever captured from 'fax'\n"
    # A known source that the other filters empty gets no note.
    known = handoff("lead", "list", "--source", "web", "--state", "lost", "--format", "json")
    assert (json.loads(known.stdout), known.stderr) == ([], "")


def test_sla_due_says_how_many_are_overdue_beside_it(store: str, tmp_path: Path) -> None:
    """A rep's morning list, `sla due --owner sam`, listed what is still due and nothing of
    the handoff already past due (trial P): under the table, how many are overdue and the
    command that lists them. JSON stays the list of pending handoffs (data)."""
    handoff = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(agreement))
    long_ago = "2026-03-02T10:00"  # undecided since: far past its 8 business hours
    for key, owner in (("old", "sam"), ("older", "ola")):
        handoff.ok("lead", "capture", key, "--source", "web", "--at", long_ago)
        handoff.ok("lead", "qualify", key, "--at", long_ago)
        handoff.ok("lead", "handoff", key, "--owner", owner, "--at", long_ago)
    assert handoff.ok("sla", "due", "--owner", "sam").splitlines()[-1] == (
        "and 1 overdue (past due, still undecided): `handoff sla breaches --open --owner sam`")
    assert handoff.ok("sla", "due").splitlines()[-1] == (
        "and 2 overdue (past due, still undecided): `handoff sla breaches --open`")
    assert handoff.json("sla", "due") == []


@pytest.mark.parametrize("command", [("sla", "due"), ("sla", "breaches"),
                                     ("sla", "breaches", "--follow-up")])
def test_lists_before_any_agreement_note_why_they_are_empty(
    store: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Handed while no agreement was ever applied, a lead has no due instant (SPEC §4: an
    agreement's version judges it): none is due, late or overdue, and the lists said
    nothing but an empty table, exit 0, as if every handoff were in time. Stderr says why
    (the answer stays empty: nothing is refused), and what puts one in force. Once one
    covering its day is applied, the note is gone and the handoff is judged: handed Monday
    2 March 11:00, due 8 business hours later, it is long overdue today."""
    handoff = Handoff(store)
    handoff.ok("lead", "capture", "acme", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "acme", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "handoff", "acme", "--owner", "sam", "--at", "2026-03-02T11:00")
    before = handoff(*command, "--format", "json")
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout) == []
    assert before.stderr == (
        "note: no agreement has been in force, so no handoff has a due instant to be judged"
        " by: apply one with `handoff sla apply`\n")
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(agreement))
    after = handoff(*command, "--format", "json")
    assert after.stderr == ""
    if command == ("sla", "breaches"):
        assert after.exit_code == 3  # an open overdue handoff
        assert [(b["lead"], b["status"]) for b in json.loads(after.stdout)] == [
            ("acme", "overdue")]
    else:  # overdue is not due; never accepted, it has no follow-up window
        assert (after.exit_code, json.loads(after.stdout)) == (0, [])
