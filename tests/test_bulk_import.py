"""A large import is one transaction written in bounded pieces, and others keep recording.

On PostgreSQL an import of ~18,000 rows or more used to hang for ever (one INSERT of the
whole file in a psycopg pipeline), holding the events table's lock so that every other
writer hung too. The timeouts below only keep a regression from hanging the test run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import Handoff
from conftest import BulkWriter
from eventsourcing.persistence import RecordConflictError

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.domain.lead import Lead
from handoff.domain.steps import Stamp
from handoff.store import locate

HEADER = "lead,event,at,actor,source,score,owner\n"
_HANG_GUARD_SECONDS = 600


def handoff_process(store: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from handoff.cli import main; main()", "--store", store,
               "--actor", "maria", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_large_import_completes_while_another_process_records_a_lead(
    store: str, tmp_path: Path
) -> None:
    leads = 8_000
    lines = [HEADER]
    for n in range(leads):
        lines += [
            f"big-{n},captured,2026-03-02T09:00Z,maria,web,,\n",
            f"big-{n},qualified,2026-03-02T10:00Z,maria,,60,\n",
            f"big-{n},handed,2026-03-02T11:00Z,maria,,,sam\n",
        ]
    rows = tmp_path / "big.csv"
    rows.write_text("".join(lines))
    Handoff(store).ok("traffic", "record", "--date", "2026-03-01", "--visits", "1")

    importing = handoff_process(store, "import", str(rows))
    time.sleep(1.0)  # let the import start reading and checking
    capturing = handoff_process(store, "lead", "capture", "walk-in", "--source", "phone")
    captured = capturing.communicate(timeout=_HANG_GUARD_SECONDS)
    imported = importing.communicate(timeout=_HANG_GUARD_SECONDS)

    assert capturing.returncode == 0, captured[1]
    assert importing.returncode == 0, imported[1]
    assert f"imported {3 * leads} rows: {3 * leads} recorded" in imported[0]
    handoff = Handoff(store)
    assert handoff.json("lead", "show", "walk-in")["state"] == "captured"
    assert handoff.json("lead", "show", f"big-{leads - 1}")["owner"] == "sam"
    march = handoff.json("kpi", "--month", "2026-03")
    assert march["counts"]["handed"] == leads


def test_a_bulk_write_meeting_a_key_recorded_meanwhile_writes_nothing(
    store: str, bulk_writer: BulkWriter
) -> None:
    """All or nothing: the bulk write refuses as a whole when a lead appeared underneath."""
    app = HandoffApp(locate(store))
    try:
        stamp = Stamp(datetime(2026, 3, 2, 9, tzinfo=UTC), datetime.now(UTC), "maria")
        leads = [Lead.capture(f"k-{n}", "web", stamp) for n in range(50)]
        Handoff(store).ok("lead", "capture", "k-49", "--source", "phone")
        with pytest.raises(RecordConflictError):
            app.save_in_bulk(leads)
    finally:
        app.close()
    assert "unknown lead" in Handoff(store).refused("lead", "show", "k-0")
    bulk_writer.assert_went(store, writes=1)


def test_work_done_while_a_bulk_write_commits_never_stops_its_commit(
    store: str, bulk_writer: BulkWriter
) -> None:
    """What a command does once its rows are handed over (an import loads the KPIs'
    catch-up then) may fail: the rows are committed all the same, and the command goes on;
    it meets the failure again, in its own turn, where it can say it. Where a second
    process writes the rows, it is done while that process commits them (before the
    command hears they are); where this one writes them, once they are committed (a
    Ctrl-C meanwhile finds the command knowing its rows recorded)."""
    app = HandoffApp(locate(store))
    done: list[str] = []

    def failing() -> None:
        done.append("tried")
        raise RuntimeError("the catch-up could not be loaded")

    try:
        stamp = Stamp(datetime(2026, 3, 2, 9, tzinfo=UTC), datetime.now(UTC), "maria")
        app.save_in_bulk([Lead.capture(f"k-{n}", "web", stamp) for n in range(50)],
                         committed=lambda: done.append("committed"), sent=failing)
    finally:
        app.close()
    elsewhere = bulk_writer.elsewhere and not store.startswith("postgresql")
    assert done == (["tried", "committed"] if elsewhere else ["committed", "tried"])
    assert Handoff(store).json("lead", "show", "k-49")["source"] == "web"
    bulk_writer.assert_went(store, writes=1)


def test_a_bulk_write_stopped_midway_writes_nothing_and_holds_no_lock(
    store: str, bulk_writer: BulkWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C while a large import's rows are being made (some already written, in this
    process or by a second one) leaves the log as it was, and the next command writes."""
    monkeypatch.setattr(eventstore, "CHUNK", 10)
    app = HandoffApp(locate(store))
    try:
        stamp = Stamp(datetime(2026, 3, 2, 9, tzinfo=UTC), datetime.now(UTC), "maria")
        events = [e for n in range(50) for e in Lead.capture(f"k-{n}", "web", stamp)
                  .collect_events()]
        before = eventstore.last_notification_id(app)

        def stopped() -> Iterator[eventstore.Chunk]:
            chunks = eventstore.encoded(app, events)
            yield next(chunks)
            yield next(chunks)
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            eventstore.record_encoded(app, stopped(), size=len(events))
        assert eventstore.last_notification_id(app) == before
    finally:
        app.close()
    Handoff(store).ok("lead", "capture", "k-0", "--source", "phone")  # not locked out
    assert Handoff(store).json("lead", "show", "k-0")["source"] == "phone"
    bulk_writer.assert_went(store, writes=1)


def test_a_bulk_catch_up_reports_its_progress_where_the_command_line_shows_it(
    app: HandoffApp,
) -> None:
    from handoff.projections import rebuild

    for n in range(3):
        app.capture(f"k-{n}", "web", "maria", at="2026-03-02T09:00Z")
    reached: list[tuple[int, int]] = []
    app.catch_up_progress = lambda at, last: reached.append((at, last))
    rebuild(app)  # projects in bulk, as the first report after a large load does
    assert reached and reached[-1][0] == reached[-1][1] >= 3


def test_a_bulk_write_from_a_folder_holding_another_handoff_runs_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process writing a large import's entries (and a rebuild's pages) runs this copy
    of handoff, not one the working directory holds (a checkout of another version)."""
    other = tmp_path / "checkout" / "handoff"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    (other / "log_writer.py").write_text("raise SystemExit(3)\n")
    monkeypatch.chdir(other.parent)
    monkeypatch.setattr(eventstore, "WRITER_FROM", 1)
    store = str(tmp_path / "store.sqlite")
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "w-1,captured,2026-03-02T09:00Z,maria,web,,\n")
    assert "1 recorded" in Handoff(store).ok("import", str(rows))
    assert Handoff(store).json("lead", "show", "w-1")["state"] == "captured"
