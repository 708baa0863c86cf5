"""Two people recording into one store at the same moment never lose a step.

Each test starts real OS processes on the same store (SQLite file or PostgreSQL
database): workers spawned with `multiprocessing`, and the `handoff` command itself.
A change that conflicts with another process's is decided again on fresh state, or
refused with one clear sentence; it never ends in a traceback.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff.application import HandoffApp
from handoff.domain.errors import Refused
from handoff.store import locate
from handoff.views import step_record

LEADS_PER_PROCESS = 30
SHARED = "SHARED-1"
HANDOFF = str(Path(sys.executable).with_name("handoff"))


@dataclass
class Tally:
    """What one worker did, as it saw it."""

    actor: str
    captured: list[str] = field(default_factory=list)
    contacts: int = 0
    refused: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)


def record_alongside(store: str, actor: str, start: Any, results: Any) -> None:
    """A worker process: capture its own leads while following up on the shared one."""
    tally = Tally(actor)
    try:
        app = HandoffApp(locate(store))
        start.wait(timeout=120)
        for number in range(LEADS_PER_PROCESS):
            key = f"{actor}-{number}"
            try:
                app.capture(key, "webinar", actor)
                tally.captured.append(key)
                app.record(SHARED, "contacted", actor, None, channel="phone")
                tally.contacts += 1
            except Refused as refusal:
                tally.refused.append(str(refusal))
        app.close()
    except Exception:
        tally.crashed.append(traceback.format_exc())
    finally:
        results.put(tally)


def run_side_by_side(store: str, actors: list[str]) -> list[Tally]:
    """Start one worker per actor, let them go at the same moment, and collect their tallies."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(len(actors))
    results = spawn.Queue()
    workers = [
        spawn.Process(target=record_alongside, args=(store, actor, start, results), daemon=True)
        for actor in actors
    ]
    for worker in workers:
        worker.start()
    try:
        tallies: list[Tally] = [results.get(timeout=300) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0] * len(workers)
    return sorted(tallies, key=lambda t: t.actor)


def a_lead_with_sales(app: HandoffApp, key: str) -> None:
    app.capture(key, "webinar", "maria", at="2026-11-02T09:00Z")
    app.record(key, "qualified", "maria", "2026-11-02T09:30Z")
    app.record(key, "handed", "maria", "2026-11-02T10:00Z", owner="sam")
    app.record(key, "accepted", "sam", "2026-11-02T11:00Z")


def test_two_processes_recording_at_once_lose_no_capture_and_no_follow_up(
    app: HandoffApp, store: str
) -> None:
    a_lead_with_sales(app, SHARED)

    tallies = run_side_by_side(store, ["ola", "sam"])

    assert [t.crashed for t in tallies] == [[], []], tallies
    for tally in tallies:
        assert all("kept changing" in reason for reason in tally.refused), tally.refused
        assert len(tally.captured) == LEADS_PER_PROCESS
        for key in tally.captured:
            assert app.lead(key).steps[0].event == "captured"
    trail = [step_record(step) for step in app.lead(SHARED).steps]
    assert [r["event"] for r in trail[:4]] == ["captured", "qualified", "handed", "accepted"]
    for tally in tallies:
        contacts = [r for r in trail if r["event"] == "contacted" and r["actor"] == tally.actor]
        assert len(contacts) == tally.contacts
    assert len(trail) == 4 + sum(t.contacts for t in tallies)
    assert [r["occurred_at"] for r in trail] == sorted(r["occurred_at"] for r in trail)


def test_the_shared_leads_history_is_stored_without_gaps(app: HandoffApp, store: str) -> None:
    a_lead_with_sales(app, SHARED)

    tallies = run_side_by_side(store, ["li", "ola", "sam"])

    assert [t.crashed for t in tallies] == [[], [], []], tallies
    lead = app.lead(SHARED)
    assert lead.version == len(lead.steps) == 4 + sum(t.contacts for t in tallies)


def handoff(store: str, *args: str, actor: str = "maria") -> subprocess.Popen[str]:
    """Start one `handoff` command, as a person at another desk would type it."""
    env = {**os.environ, "HANDOFF_STORE": store, "HANDOFF_ACTOR": actor}
    return subprocess.Popen(
        [HANDOFF, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(command: subprocess.Popen[str]) -> tuple[int, str]:
    """Its exit status and what it said on stderr."""
    _, complaint = command.communicate(timeout=120)
    return command.returncode, complaint


def history(store: str, key: str) -> list[dict[str, Any]]:
    shown = subprocess.run(
        [HANDOFF, "--store", store, "lead", "history", key, "--format", "json"],
        capture_output=True, text=True, check=True,
    )
    events: list[dict[str, Any]] = json.loads(shown.stdout)
    return events


def test_two_people_capturing_the_same_key_at_once_one_is_told_it_exists(
    app: HandoffApp, store: str
) -> None:
    keys = [f"ACME-{n}" for n in range(4)]
    pairs = {
        key: [handoff(store, "lead", "capture", key, "--source", s) for s in ("web", "fair")]
        for key in keys
    }

    for key, pair in pairs.items():
        (won, _), (lost, complaint) = sorted(finish(command) for command in pair)
        assert (won, lost) == (0, 1)
        assert complaint.strip().splitlines() == [f"Error: lead {key!r} already exists"]
        assert [e["event"] for e in history(store, key)] == ["captured"]


def test_follow_ups_typed_at_the_same_moment_are_all_recorded(
    app: HandoffApp, store: str
) -> None:
    a_lead_with_sales(app, SHARED)

    calls = [
        handoff(store, "lead", "contact", SHARED, "--channel", "phone", actor=actor)
        for actor in ("sam", "ola") * 3
    ]
    finished = [finish(call) for call in calls]

    assert all(code == 0 or "kept changing" in complaint for code, complaint in finished)
    assert all("Traceback" not in complaint for _, complaint in finished)
    recorded = sum(1 for code, _ in finished if code == 0)
    contacts = [e for e in history(store, SHARED) if e["event"] == "contacted"]
    assert len(contacts) == recorded > 0


def test_the_first_commands_on_a_new_store_may_run_at_the_same_time(store: str) -> None:
    calls = [handoff(store, "lead", "capture", f"NEW-{n}", "--source", "web") for n in range(4)]
    finished = [finish(call) for call in calls]

    assert [code for code, _ in finished] == [0, 0, 0, 0], finished
    for n in range(4):
        assert [e["event"] for e in history(store, f"NEW-{n}")] == ["captured"]
