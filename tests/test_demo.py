"""The demo: a realistic sample store, the same for the same seed, never over someone's file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from handoff.application import HandoffApp
from handoff.cli import main
from handoff.demo import NotADemoStore, build_demo, is_demo_store
from handoff.domain.lead import Lead
from handoff.store import locate

TODAY = date(2026, 11, 27)


def export(path: Path) -> str:
    result = CliRunner().invoke(main, ["--store", str(path), "export"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_same_seed_builds_the_same_store(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    build_demo(first, seed=3, today=TODAY, months=2)
    build_demo(second, seed=3, today=TODAY, months=2)
    assert export(first) == export(second)


def test_another_seed_builds_another_store(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    build_demo(first, seed=3, today=TODAY, months=2)
    build_demo(second, seed=4, today=TODAY, months=2)
    assert export(first) != export(second)


def test_the_store_holds_the_story_of_two_agreement_versions(tmp_path: Path) -> None:
    built = build_demo(tmp_path / "demo.sqlite", seed=1, today=TODAY, months=2)
    assert (built.first_day, built.last_day) == (date(2026, 9, 1), date(2026, 11, 26))
    assert built.last_full_month == "2026-10"
    assert built.leads > 300
    rows = export(built.path)
    for event in ("rejected", "won", "lost", "visits"):
        assert f",{event}," in rows
    result = CliRunner().invoke(main, ["--store", str(built.path), "sla", "history"])
    assert "Demo growth agreement (revised)" in result.output


def test_a_rebuild_replaces_an_old_demo_store(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    build_demo(path, seed=1, today=TODAY, months=2)
    build_demo(path, seed=2, today=TODAY, months=2)
    rebuilt = export(path)
    build_demo(tmp_path / "fresh.sqlite", seed=2, today=TODAY, months=2)
    assert rebuilt == export(tmp_path / "fresh.sqlite")


def interrupt_the_second_save(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the demo writes its leads, its agreement written already."""
    save_in_bulk = HandoffApp.save_in_bulk
    saves = iter(range(2))

    def saving(app: HandoffApp, *args: object, **kwargs: object) -> object:
        if next(saves, None) is None:
            raise KeyboardInterrupt
        return save_in_bulk(app, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HandoffApp, "save_in_bulk", saving)


def test_a_demo_interrupted_while_it_writes_leaves_no_store_and_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.sqlite"
    with monkeypatch.context() as interrupted:
        interrupt_the_second_save(interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_demo(path, seed=1, today=TODAY, months=2)
    assert list(tmp_path.iterdir()) == []
    build_demo(path, seed=1, today=TODAY, months=2)
    build_demo(tmp_path / "whole.sqlite", seed=1, today=TODAY, months=2)
    assert export(path) == export(tmp_path / "whole.sqlite")


def test_an_interrupted_rebuild_keeps_the_old_demo_store_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.sqlite"
    build_demo(path, seed=1, today=TODAY, months=2)
    before = export(path)
    with monkeypatch.context() as interrupted:
        interrupt_the_second_save(interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_demo(path, seed=2, today=TODAY, months=2)
    assert export(path) == before
    build_demo(path, seed=2, today=TODAY, months=2)  # still the demo's own to replace


def test_two_demos_at_once_on_one_file_both_build_it(tmp_path: Path) -> None:
    """One after the other: neither writes into, nor removes, the store the other built."""
    handoff = str(Path(sys.executable).with_name("handoff"))
    demos = [
        subprocess.Popen([handoff, "demo", "--months", "2", "--out", "demo.sqlite"],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(2)
    ]
    for demo in demos:
        out, err = demo.communicate(timeout=300)
        assert (demo.returncode, err) == (0, "")
        assert "Try next:" in out
    assert is_demo_store(tmp_path / "demo.sqlite")


def test_the_demo_never_overwrites_a_file_it_did_not_build(tmp_path: Path) -> None:
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes")
    with pytest.raises(NotADemoStore, match="is not a demo store"):
        build_demo(notes, seed=1, today=TODAY, months=2)
    assert notes.read_text() == "my notes"


def test_the_demo_never_overwrites_a_real_store(tmp_path: Path) -> None:
    store = tmp_path / "real.sqlite"
    runner = CliRunner()
    runner.invoke(main, ["--store", str(store), "traffic", "record", "--date", "2026-11-02",
                         "--visits", "40"])
    with pytest.raises(NotADemoStore):
        build_demo(store, seed=1, today=TODAY, months=2)
    assert "2026-11-02" in export(store)


def test_the_demo_never_removes_a_demo_store_holding_a_real_lead(tmp_path: Path) -> None:
    """A lead captured in a demo store is real data: the demo refuses, and the lead stays."""
    path = tmp_path / "dd.sqlite"
    build_demo(path, seed=1, today=TODAY, months=2)
    captured = CliRunner().invoke(
        main, ["--store", str(path), "--actor", "maria", "lead", "capture", "real-1", "--source",
               "phone"]
    )
    assert captured.exit_code == 0, captured.output
    with pytest.raises(NotADemoStore):
        build_demo(path, seed=1, today=TODAY, months=2)
    shown = CliRunner().invoke(main, ["--store", str(path), "lead", "show", "real-1"])
    assert shown.exit_code == 0, shown.output


def test_handoff_demo_builds_a_store_and_prints_the_last_full_month(tmp_path: Path) -> None:
    out = tmp_path / "demo.sqlite"
    result = CliRunner().invoke(main, ["demo", "--seed", "5", "--months", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Built the demo store {out}" in result.output
    assert "Funnel" in result.output and "Handoff SLA" in result.output
    assert f"handoff --store {out} kpi --month" in result.output
    first = export(out)
    again = CliRunner().invoke(main, ["demo", "--seed", "5", "--months", "2", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert export(out) == first


def test_handoff_demo_refuses_to_overwrite_another_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    result = CliRunner().invoke(main, ["demo", "--months", "2", "--out", str(notes)])
    assert result.exit_code == 1
    assert "is not a demo store" in result.stderr
    assert notes.read_text() == "keep me"


def test_every_demo_entry_is_recorded_after_what_it_follows(tmp_path: Path) -> None:
    """An auditor replaying the demo never sees a step before the one it follows: per lead,
    in the order the steps happened, each was recorded no earlier than the step before."""
    built = build_demo(tmp_path / "demo.sqlite", seed=1, today=TODAY, months=12)
    app = HandoffApp(locate(str(built.path)))
    try:
        steps: dict[UUID, list[Lead.Event]] = {}
        for _, event in app.events_after(0):
            if isinstance(event, Lead.Event):
                steps.setdefault(event.originator_id, []).append(event)
    finally:
        app.close()
    assert len(steps) == built.leads
    missed = 0
    for lead_steps in steps.values():
        in_occurred_order = sorted(lead_steps, key=lambda e: (e.occurred_at, e.originator_version))
        # A step recorded as missed (SPEC §2) is recorded after every step it follows, and
        # after the later steps it was missed among; every other entry in order.
        on_time = [e for e in in_occurred_order if not isinstance(e, Lead.MissedStep)]
        recorded = [e.stamp.recorded_at for e in on_time]
        assert recorded == sorted(recorded), on_time[0].stamp
        for index, entry in enumerate(in_occurred_order):
            if isinstance(entry, Lead.MissedStep):
                missed += 1
                assert all(entry.timestamp > e.timestamp for e in in_occurred_order[:index])
                assert all(entry.timestamp > e.timestamp for e in lead_steps
                           if e.originator_version < entry.originator_version)
    assert missed == 3  # the follow-up calls logged late


def test_every_demo_step_names_the_version_in_force_as_signed_when_it_was_recorded(
    tmp_path: Path,
) -> None:
    """SPEC §2-§3, as a command stamps a step: of the versions signed by the instant the step
    was recorded, the last signed whose dates hold the local day it happened (a correction,
    the day of the step it corrects). The demo's simulated clock records steps after its
    restatement came into force: those name it, and the steps recorded before it do not."""
    built = build_demo(tmp_path / "demo.sqlite", seed=1, today=TODAY, months=2)
    listed = CliRunner().invoke(
        main, ["--store", str(built.path), "sla", "history", "--format", "json"])
    versions = json.loads(listed.output)
    restatement = versions[-1]
    assert restatement["restates"] is not None

    def named_by_rule(happened: datetime, recorded: datetime) -> int | None:
        named = None
        for version in versions:  # in the order signed
            day = happened.astimezone(ZoneInfo(version["timezone"])).date().isoformat()
            if (datetime.fromisoformat(version["applied_at"]) <= recorded
                    and version["effective_from"] <= day
                    and (version["effective_to"] is None or day <= version["effective_to"])):
                named = version["version"]
        return named

    app = HandoffApp(locate(str(built.path)))
    try:
        entries: dict[UUID, list[Lead.Event]] = {}
        for _, event in app.events_after(0):
            if isinstance(event, Lead.Event):
                entries.setdefault(event.originator_id, []).append(event)
    finally:
        app.close()
    named: Counter[tuple[int | None, int | None]] = Counter()
    for lead_entries in entries.values():
        for entry in lead_entries:
            happened = entry.occurred_at
            if isinstance(entry, Lead.Voided | Lead.Amended):  # the demo amends no instant
                happened = lead_entries[entry.target - 1].occurred_at
            named[entry.agreement_version, named_by_rule(happened, entry.recorded_at)] += 1
    assert {carried for carried, by_rule in named if carried != by_rule} == set(), named
    assert named[restatement["version"], restatement["version"]] > 0


def test_each_demo_version_is_proposed_by_marketing_and_signed_by_sales(tmp_path: Path) -> None:
    # As `sla apply` and `sla sign` record them: a version whose file names a team is a
    # contract between its two sides (and a backup of the demo restores, as its checks).
    built = build_demo(tmp_path / "demo.sqlite", seed=1, today=TODAY, months=2)
    result = CliRunner().invoke(
        main, ["--store", str(built.path), "sla", "history", "--format", "json"]
    )
    first, revision, restatement = json.loads(result.output)
    for version in (first, revision):
        assert version["status"] == "signed" and version["applied_by"] == "maria"
        assert [(s["actor"], s["side"]) for s in version["signatures"]] == [
            ("maria", "marketing"), ("sam", "sales")
        ]
    # Signed before the revision's first day, so it governs from that day on.
    assert revision["applied_at"] < revision["effective_from"]
    # Five weeks in, both sides restate it: one more holiday, for the past too.
    assert restatement["status"] == "signed as a restatement"
    assert "office was closed" in restatement["restates"]
    assert [c["key"] for c in restatement["changes"]] == ["calendar.holidays"]
    assert restatement["applied_at"] > revision["effective_from"]


def test_the_demo_store_is_sealed_for_audit_when_built(tmp_path: Path) -> None:
    out = tmp_path / "demo.sqlite"
    build_demo(out, seed=3, today=TODAY, months=2)
    verdict = CliRunner().invoke(main, ["--store", str(out), "audit", "verify"])
    assert verdict.exit_code == 0, verdict.output
    assert "the log is intact" in verdict.output
    assert "no seal yet" not in verdict.output and "sealed late" not in verdict.output


def test_the_demo_review_names_its_restatement_and_replays_before_it(tmp_path: Path) -> None:
    built = build_demo(tmp_path / "demo.sqlite", seed=1, today=TODAY, months=12)

    def kpi(*options: str) -> dict[str, object]:
        result = CliRunner().invoke(main, ["--store", str(built.path), "kpi", "--month",
                                           "2026-05", "--format", "json", *options])
        found: dict[str, object] = json.loads(result.output)
        return found

    restated = kpi()["restatements"]
    assert isinstance(restated, list) and len(restated) == 1
    assert restated[0]["restated_by"] == "sam" and restated[0]["handoffs"] > 0
    signed = datetime.fromisoformat(str(restated[0]["restated_at"]))
    before = kpi("--as-of", (signed - timedelta(seconds=1)).isoformat())
    assert before["restatements"] == []
    assert before["sla"] != kpi()["sla"]


def test_the_demo_closes_the_office_on_a_business_day_when_its_second_monday_is_a_holiday(
    tmp_path: Path,
) -> None:
    """A demo built in April revises its agreement from October, whose second Monday is
    Columbus Day, a US public holiday already: closing the office that day restated
    nothing, and no review named the restatement the README promises. The office closes
    on the next Monday instead: 20 October 2025 (1 October a Wednesday, 13 October
    Columbus Day)."""
    built = build_demo(tmp_path / "demo.sqlite", seed=1, today=date(2026, 4, 20), months=12)
    result = CliRunner().invoke(main, ["--store", str(built.path), "kpi", "--month",
                                       "2025-10", "--format", "json"])
    restated = json.loads(result.output)["restatements"]
    assert len(restated) == 1, result.output
    assert "Monday 20 October" in restated[0]["why"]
    assert restated[0]["handoffs"] > 0


@pytest.mark.parametrize("where", ["--out", "--store"])
def test_the_demo_is_a_sqlite_file_not_a_database_url(where: str) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1/x"
    named = ["demo", "--out", url] if where == "--out" else ["--store", url, "demo"]
    result = CliRunner().invoke(main, named)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: the demo builds a SQLite file, not a database: "
                                    f"{url!r} is a URL"), result.stderr


@pytest.mark.parametrize("named", [
    ["demo", "--out", "postgresql+psycopg://maria:s3cret@db.example/leads"],
    ["--store", "postgresql+psycopg://maria:s3cret@db.example/leads", "demo"],
    ["--store", "postgresql+psycopg://maria:s3cret@db.example/leads", "demo", "--out", "d.db"],
])
def test_the_demo_refusing_a_database_url_never_shows_its_password(named: list[str]) -> None:
    result = CliRunner().invoke(main, named)
    assert result.exit_code == 2
    assert "s3cret" not in result.output + result.stderr
    assert "maria:***@db.example/leads" in result.stderr


def test_the_global_store_typed_before_demo_names_the_file_it_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`handoff --store mine.sqlite demo`, the way every other command takes its store,
    built handoff-demo.sqlite in the current folder and left mine.sqlite missing."""
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine.sqlite"
    result = CliRunner().invoke(main, ["--store", str(mine), "demo", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert f"Built the demo store {mine}" in result.output
    assert mine.exists() and not (tmp_path / "handoff-demo.sqlite").exists()
    other = CliRunner().invoke(main, ["--store", str(mine), "demo", "--out", "b.sqlite"])
    assert other.exit_code == 2
    assert other.stderr.startswith(f"Error: --store {str(mine)!r} and --out 'b.sqlite' name"
                                   " two files"), other.stderr


@pytest.mark.parametrize("named", [["demo", "--out", ""], ["--store", "", "demo"]])
def test_an_empty_name_for_the_demos_file_is_refused_as_such(named: list[str]) -> None:
    """Path('') is the current folder: the demo said '. exists and is not a demo store'."""
    result = CliRunner().invoke(main, named)
    assert result.exit_code == 2
    option = named[named.index("") - 1]
    assert result.stderr == (f"Error: {option} is empty: name the file the demo builds (see"
                             " 'main demo --help')\n"), result.stderr
