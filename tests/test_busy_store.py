"""A store another process holds (an import stopped with Ctrl-Z, a rebuild, someone's
database tool): a command that reads only what is there reads it; one that must write waits
a while (switches.LOCK_WAIT_SECONDS), then says so in one line, on both stores."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cli_helpers import Handoff
from sqlalchemy.engine import make_url

from handoff import eventstore, switches
from handoff.projections import exclusive, schema

BUSY = (
    "Error: the store is busy: another command has held it for 1 s (an import, a rebuild,"
    " someone's database tool); run this one again once it has ended"
)


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(switches, "LOCK_WAIT_SECONDS", 1)


@pytest.fixture
def history(handoff: Handoff) -> Handoff:
    """A lead handed in March 2026, the KPIs brought up to date with it."""
    handoff.ok("lead", "capture", "acme-1", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "acme-1", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "acme-1", "--owner", "sam", "--at", "2026-03-02T10:00")
    handoff.ok("kpi", "--month", "2026-03")
    return handoff


@contextmanager
def held(store: str) -> Iterator[None]:
    """The store's write lock (SQLite) or its tables (PostgreSQL) held by another process,
    as a stopped import or `LOCK TABLE` in psql holds them."""
    if store.startswith("postgresql"):
        url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url) as connection:
            connection.execute("LOCK TABLE read_position, handoff_events IN EXCLUSIVE MODE")
            yield
            connection.rollback()
        return
    connection = sqlite3.connect(store, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def test_a_report_on_a_caught_up_store_reads_it_while_another_holds_it(
    short_waits: None, history: Handoff
) -> None:
    """Opening the KPIs' tables took the write lock on SQLite even when they were there and
    current: every report failed inside ("database is locked") behind a stopped import."""
    before = history("sla", "due")  # (no agreement in force: its note on stderr)
    assert before.exit_code == 0, before.output
    with held(history.store):
        started = time.monotonic()
        result = history("sla", "due")
        waited = time.monotonic() - started
    assert (result.exit_code, result.stderr) == (0, before.stderr), result.stderr
    assert result.stdout == before.stdout
    if not history.store.startswith("postgresql"):
        assert waited < switches.LOCK_WAIT_SECONDS  # read without waiting for the lock


@pytest.mark.parametrize("command", [
    ("lead", "contact", "acme-1", "--at", "2026-03-02T11:00"),  # records
    ("projections", "rebuild"),  # writes the KPIs' tables
])
def test_a_command_that_must_write_says_the_store_is_busy_in_one_line(
    short_waits: None, history: Handoff, command: tuple[str, ...]
) -> None:
    with held(history.store):
        result = history(*command, actor="sam")
    assert result.exit_code == 1
    assert result.stderr.strip() == BUSY


@pytest.mark.parametrize("command", [
    ("lead", "contact", "acme-1", "--at", "2026-03-02T11:00"),  # records
    ("sla", "due"),  # reads: the log's end, behind a lock on the whole table
])
def test_a_command_behind_a_lock_says_the_store_is_busy_after_one_wait_not_ten(
    short_waits: None, history: Handoff, command: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL the library tried its reads and writes ten times on a lock not had in
    time: `kpi` behind psql's plain `LOCK TABLE` (or a VACUUM FULL) waited five minutes.
    The command's statements that ran out of their lock wait are counted: one."""
    if not history.store.startswith("postgresql"):
        pytest.skip("SQLite's readers are never locked out; its writers wait once")
    url = make_url(history.store).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    with psycopg.connect(url) as connection:
        connection.execute("LOCK TABLE handoff_events")  # psql's default: ACCESS EXCLUSIVE
        waits = _counting_lock_waits(monkeypatch)
        result = history(*command, actor="sam")
        monkeypatch.undo()
        connection.rollback()
    assert (result.exit_code, result.stderr.strip()) == (1, BUSY)
    assert len(waits) == 1, waits  # one wait of 1 s, not ten


def test_the_command_goes_on_once_the_store_is_free_within_the_wait(
    short_waits: None, history: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(switches, "LOCK_WAIT_SECONDS", 10)
    released = threading.Event()

    def hold_briefly() -> None:
        with held(history.store):
            released.wait(timeout=0.5)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    time.sleep(0.2)
    try:
        history.ok("lead", "contact", "acme-1", "--at", "2026-03-02T11:00", actor="sam")
    finally:
        released.set()
        holder.join()
    assert history.json("lead", "show", "acme-1")["state"] == "handed"


@pytest.mark.parametrize("command", [
    ("lead", "contact", "acme-1", "--at", "2026-03-02T11:00"),  # records: may create tables
    ("sla", "due"),  # reads
])
def test_a_command_waiting_for_a_locked_table_lets_the_next_command_wait_beside_it(
    history: Handoff, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """On PostgreSQL every command opening the store takes two advisory locks (one process
    at a time creates tables); a command waiting for a table behind psql's `LOCK TABLE`
    held them meanwhile, so the next command waited for it before its own wait began:
    five commands from cron behind a VACUUM FULL gave up after 30, 60, 90, 120 and 150 s.
    While one waits for the table, the locks are free for the next."""
    if not history.store.startswith("postgresql"):
        pytest.skip("SQLite has no advisory locks: each command waits for the file alone")
    monkeypatch.setattr(switches, "LOCK_WAIT_SECONDS", 20)
    url = make_url(history.store).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    outcome: list[Any] = []
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
        holder.execute("LOCK TABLE handoff_events")  # psql's default: ACCESS EXCLUSIVE
        waiting = threading.Thread(target=lambda: outcome.append(history(*command, actor="sam")))
        waiting.start()
        try:
            assert _waits_for_a_table(watcher, deadline=time.monotonic() + 15)
            free = _advisory_locks_free(watcher)
        finally:
            holder.rollback()  # the table free again: the command goes on
            waiting.join()
    assert free == [True, True]
    assert outcome[0].exit_code == 0, outcome[0].stderr


def _advisory_locks_free(watcher: psycopg.Connection[Any]) -> list[bool]:
    """Whether each advisory lock every opening takes first (`application._SchemaLock`) may be
    taken now, by another session (let go again at once)."""
    free = [watcher.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
            for key in (eventstore.NEW_STORE_LOCK_KEY, eventstore.SCHEMA_LOCK_KEY)]
    watcher.execute("SELECT pg_advisory_unlock_all()")
    return free


def _waits_for_a_table(
    watcher: psycopg.Connection[Any], deadline: float, statement: str = ""
) -> bool:
    """Whether another session waits for a lock on a table (polled until `deadline`); with
    `statement`, in a statement that begins so."""
    while time.monotonic() < deadline:
        found = watcher.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
            " WHERE NOT granted AND locktype = 'relation' AND query LIKE %s",
            (f"{statement}%",),
        ).fetchone()
        if found and found[0]:
            return True
        time.sleep(0.05)
    return False


def _counting_lock_waits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements of this process that run out of their lock wait, as they do."""
    waits: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(cursor: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return execute(cursor, *args, **kwargs)
        except psycopg.errors.LockNotAvailable:
            waits.append(str(args[0]))
            raise

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return waits


def _behind_lock_table(
    history: Handoff, table: str, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[str]]:
    """The command's result while another session holds `table` as psql's `LOCK TABLE`
    does (ACCESS EXCLUSIVE), and the statements of it that ran out of their lock wait."""
    url = make_url(history.store).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    with psycopg.connect(url) as connection:
        connection.execute(f"LOCK TABLE {table}")
        waits = _counting_lock_waits(monkeypatch)
        result = history(*command)
        monkeypatch.undo()
        connection.rollback()
    return result, waits


@pytest.mark.parametrize("command", [
    ("kpi", "--month", "2026-03"),
    ("report", "--month", "2026-03", "--out", "review.html"),
])
def test_a_report_behind_a_lock_on_the_kpis_tables_says_busy_after_one_wait_not_two(
    short_waits: None, history: Handoff, command: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """A report reads the KPIs' summaries first, and reads the per-event tables (catching
    up) when the summaries cannot answer: the store busy was taken for "no KPIs' tables
    yet", so `kpi` behind psql's `LOCK TABLE read_position` waited the whole lock wait
    twice (a minute) before saying the store had been busy for 30 s."""
    if not history.store.startswith("postgresql"):
        pytest.skip("SQLite's readers are never locked out")
    monkeypatch.chdir(tmp_path)
    result, waits = _behind_lock_table(history, "read_position", command, monkeypatch)
    assert (result.exit_code, result.stderr.strip()) == (1, BUSY)
    assert len(waits) == 1, waits
    assert not (tmp_path / "review.html").exists()


@pytest.mark.parametrize("command", [
    ("report", "--month", "2026-03", "--out", "review.html"),
    ("report", "--month", "2026-03", "--out", "review.html", "--as-of", "2026-03-20T00:00Z"),
    ("lead", "capture", "acme-2", "--source", "web"),
])
def test_a_command_behind_a_lock_on_the_audit_chain_waits_for_it_once(
    short_waits: None, history: Handoff, command: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """A report seals what is unsealed, reads the chain's head for its digest, and seals
    again as every command ends: behind psql's `LOCK TABLE handoff_audit_chain` it waited
    the whole lock wait three times. It waits once, then does without the seal (the next
    command seals) and its report without the digest, as when it gave up three times."""
    if not history.store.startswith("postgresql"):
        pytest.skip("SQLite's chain is locked with the whole store (test_busy_store above)")
    monkeypatch.chdir(tmp_path)
    result, waits = _behind_lock_table(history, "handoff_audit_chain", command, monkeypatch)
    assert result.exit_code == 0, result.output
    assert len(waits) == 1, waits
    assert "intact" in history.ok("audit", "verify")  # sealed by this next command


def test_a_report_building_a_missing_index_behind_a_locked_table_lets_others_open_the_store(
    history: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report finding an index of the KPIs' tables missing (a rebuild stopped midway
    leaves them so) builds it under the advisory lock that every command opening the store
    takes: behind psql's `LOCK TABLE read_event` (a VACUUM FULL), every capture from a
    script waited for the report's whole lock wait before its own began, and for the next
    report's after it. While the report waits for the table, the store opens for others."""
    if not history.store.startswith("postgresql"):
        pytest.skip("SQLite has no advisory locks: each command waits for the file alone")
    monkeypatch.setattr(switches, "LOCK_WAIT_SECONDS", 20)
    url = make_url(history.store).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    index = schema.SECONDARY_INDEXES[0]
    outcome: list[Any] = []
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
        watcher.execute(f"DROP INDEX {index.name}")
        holder.execute(f"LOCK TABLE {index.table}")  # psql's default: ACCESS EXCLUSIVE
        waiting = threading.Thread(target=lambda: outcome.append(history("sla", "breaches")))
        waiting.start()
        try:
            assert _waits_for_a_table(watcher, deadline=time.monotonic() + 15,
                                      statement="CREATE INDEX")
            free = _advisory_locks_free(watcher)
        finally:
            holder.rollback()  # the table free again: the report goes on
            waiting.join()
        built = watcher.execute("SELECT to_regclass(%s) IS NOT NULL", (index.name,)).fetchone()
    assert free == [True, True]
    assert outcome[0].exit_code == 0, outcome[0].stderr
    assert built == (True,)


def test_a_rebuild_behind_a_lock_on_the_kpis_tables_does_not_blame_reports_that_never_ran(
    short_waits: None, history: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild takes the KPIs' tables to itself, tried again while reports read them (in
    share mode): behind psql's `LOCK TABLE read_lead` (a VACUUM FULL of it) it said "the
    KPIs' tables are being read without a pause: run the command again once the reports
    running now have ended", though no report ran. It says how long they were in use, and
    by what they may be."""
    if not history.store.startswith("postgresql"):
        pytest.skip("SQLite's rebuild waits for its one writer as any command does")
    monkeypatch.setattr(exclusive, "_WAIT_AT_MOST", 1.0)
    url = make_url(history.store).set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    with psycopg.connect(url) as connection:
        connection.execute("LOCK TABLE read_lead")  # psql's default: ACCESS EXCLUSIVE
        result = history("projections", "rebuild")
        connection.rollback()
    assert (result.exit_code, result.stderr.strip()) == (1, (
        "Error: the KPIs' tables have been in use for 1 s (reports reading them, someone's"
        " database tool); run this one again once they have ended"
    ))
