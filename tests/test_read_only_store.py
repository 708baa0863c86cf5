"""A store on read-only media (a copy kept for an audit, another user's file) can be read."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff, nothing_recorded
from sqlalchemy import Engine, create_engine, inspect, make_url
from sqlalchemy.pool import NullPool

from handoff import eventstore
from handoff.demo import build_demo
from handoff.projections import schema, versions


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system mounted read-only (needs the right to mount, as root)."""
    folder = tmp_path / "media"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a read-only file system here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_every_read_command_works_on_a_store_on_read_only_media(
    tmp_path: Path, read_only_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tmp_path / "demo.sqlite"
    build_demo(original, seed=2, today=date(2026, 11, 27), months=2)
    Handoff(str(original)).ok("kpi", "--month", "2026-10")  # its KPIs up to date
    shutil.copy(original, read_only_folder / "demo.sqlite")
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)],
                               capture_output=True)
    assert remounted.returncode == 0, remounted.stderr
    copy, source = Handoff(str(read_only_folder / "demo.sqlite")), Handoff(str(original))
    key = source.ok("export").splitlines()[1].split(",")[0]
    for period in (("--month", "2026-10"), ("--month", "2026-10", "--by", "owner",
                                            "--as-of", "2026-10-20T00:00Z")):
        read, kept = copy.json("kpi", *period), source.json("kpi", *period)
        assert {**read, "as_of": None} == {**kept, "as_of": None}
    for asked in (("lead", "show", key), ("lead", "history", key), ("export",),
                  ("lead", "list", "--overdue"), ("sla", "history")):
        assert copy(*asked).stdout == source(*asked).stdout, asked
    breaches = copy("sla", "breaches")
    assert breaches.exit_code in (0, 3) and breaches.stdout == source("sla", "breaches").stdout
    assert "the log is intact" in copy.ok("audit", "verify")
    refusal = copy.refused("traffic", "record", "--date", "2026-10-01", "--visits", "3")
    assert refusal.startswith("Error: ") and "read-only" in refusal, refusal
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at,actor,source\nro-1,captured,2026-10-05T09:00Z,maria,web\n")
    monkeypatch.setattr(eventstore, "WRITER_FROM", 1)  # written as a large import's are
    refusal = copy.refused("import", str(rows))
    assert refusal.startswith("Error: ") and "read-only" in refusal, refusal
    verification = copy("sla", "verify")  # it records its outcome: refused before it runs
    assert verification.exit_code == 1 and "read-only" in verification.stderr
    assert verification.stdout == ""


def test_a_store_is_not_created_in_a_folder_that_may_not_be_written(
    read_only_folder: Path,
) -> None:
    """Every command that would create the store there says so in one line, the demo too,
    rather than failing on the lock file it would write beside the store."""
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)],
                               capture_output=True)
    assert remounted.returncode == 0, remounted.stderr
    new = Handoff(str(read_only_folder / "new.sqlite"))
    for command in (("lead", "capture", "k", "--source", "web"),
                    ("traffic", "record", "--date", "2026-10-01", "--visits", "3"),
                    ("demo",)):
        refusal = new.refused(*command)
        assert refusal == (f"Error: cannot create store '{new.store}': folder"
                           f" {read_only_folder} may not be written (read-only media, or no"
                           " permission)"), refusal


def test_the_demo_is_not_rebuilt_over_its_store_on_read_only_media(
    tmp_path: Path, read_only_folder: Path
) -> None:
    built = tmp_path / "demo.sqlite"
    build_demo(built, seed=2, today=date(2026, 11, 27), months=2)
    shutil.copy(built, read_only_folder / "demo.sqlite")
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)],
                               capture_output=True)
    assert remounted.returncode == 0, remounted.stderr
    refusal = Handoff(str(read_only_folder / "demo.sqlite")).refused("demo")
    assert f"folder {read_only_folder} may not be written" in refusal, refusal


def test_a_postgresql_user_who_may_only_read_is_told_so_in_one_line(
    pg_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An auditor's database user granted SELECT only: a command that would have to bring
    the KPIs up to date (write) is refused in one line; once they are, it reads."""
    store = pg_store
    writer = Handoff(store)
    writer.ok("lead", "capture", "r-1", "--source", "web", "--at", "2026-03-02T09:00Z")
    writer.ok("kpi", "--month", "2026-03")  # every table made, then one more event
    writer.ok("lead", "capture", "r-2", "--source", "web", "--at", "2026-03-02T10:00Z")
    with reading_only(store) as (role, admin):
        reader = Handoff(make_url(store).set(username=role, password="secret")
                         .render_as_string(hide_password=False))
        refusal = reader.refused("kpi", "--month", "2026-03")
        assert "this database user lacks a right this command needs (permission denied for" \
            in refusal and "secret" not in refusal, refusal
        # A command that records (the store opened to write, its tables made if missing).
        refusal = reader.refused("lead", "capture", "r-3", "--source", "web")
        assert refusal.startswith("Error: this database user lacks a right this command needs"
                                  " (permission denied for"), refusal
        assert writer.json("kpi", "--month", "2026-03")["counts"]["captured"] == 2
        # An index missing (a bulk catch-up interrupted): the reader cannot build it, and
        # reads without it rather than being refused.
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP INDEX {schema.SECONDARY_INDEXES[-1].name}")
        cohort = ("kpi", "--month", "2026-03", "--basis", "cohort", "--by", "owner")  # per event
        assert reader.json(*cohort)["counts"]["captured"] == 2
        assert writer.json(*cohort)["counts"]["captured"] == 2  # which builds it again
        with admin.connect() as conn:
            assert inspect(conn).has_index(str(schema.SECONDARY_INDEXES[-1].table),
                                           str(schema.SECONDARY_INDEXES[-1].name))
        # A release whose read model has another shape: the reader cannot drop the one there
        # (nor lock its tables to do so), and is refused in one line; the writer can (and
        # makes tables the reader is granted nothing on yet).
        monkeypatch.setattr(versions, "SCHEMA_VERSION", versions.SCHEMA_VERSION + 1)
        refusal = reader.refused("kpi", "--month", "2026-03")
        assert refusal.startswith("Error: this database user lacks a right this command needs"
                                  " ("), refusal
        assert writer.json("kpi", "--month", "2026-03")["counts"]["captured"] == 2


def test_a_dry_run_is_refused_a_new_postgresql_store_as_the_import_would_be(
    pg_store: str, tmp_path: Path
) -> None:
    """A dry run checks a file against the store it would import into. A store this database
    user may not create (no right to create tables in its schema), or that a server which
    only reads would not let anyone create: the dry run is refused with the import's own
    line, where it said the row would be recorded; and it wrote nothing either way."""
    rows = tmp_path / "leads.csv"
    rows.write_text("lead,event,at,actor,source\nL1,captured,2026-03-02T10:00:00Z,maria,web\n")
    with reading_only(pg_store) as (role, admin):
        with admin.connect() as conn:  # as on PostgreSQL 15 and later, said outright
            conn.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        reader = Handoff(make_url(pg_store).set(username=role, password="secret")
                         .render_as_string(hide_password=False))
        refused = reader.refused("import", str(rows))
        assert refused.startswith("Error: this database user lacks a right this command needs"
                                  " (permission denied for schema public)"), refused
        assert reader.refused("import", "--dry-run", str(rows)) == refused
    replica = Handoff(pg_store + "?options=-c%20default_transaction_read_only%3Don")
    refused = replica.refused("import", str(rows))
    assert refused.startswith("Error: the store is read-only: "), refused
    assert replica.refused("import", "--dry-run", str(rows)) == refused
    owner = Handoff(pg_store)  # who may create it: its dry run passes, and writes nothing
    assert owner.ok("import", "--dry-run", str(rows)).startswith("dry run: 1 row is valid")
    assert nothing_recorded(owner)


@contextmanager
def reading_only(store: str) -> Iterator[tuple[str, Engine]]:
    """A database user of the store's database granted SELECT on its tables, as an auditor
    is (its name), and a connection of the store's own user (the admin): the user is gone
    after."""
    role = f"handoff_reader_{uuid.uuid4().hex[:12]}"
    admin = create_engine(store, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        yield role, admin
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


def _three_leads_unsealed(store: str) -> tuple[Handoff, str]:
    """Three leads recorded, the KPIs brought up to date (a reader needs them not to write),
    the log's digest kept, then every seal deleted (by hand)."""
    handoff = Handoff(store)
    for n in range(1, 4):
        handoff.ok("lead", "capture", f"ro-{n}", "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("kpi", "--month", "2026-03")
    kept = handoff.ok("audit", "digest").strip()
    engine = create_engine(store if "://" in store else f"sqlite:///{store}", poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM handoff_audit_chain")
    engine.dispose()
    return handoff, kept


def _verified_unsealed(reader: Handoff, kept: str) -> None:
    """What `audit verify` says of that log, writing nothing."""
    assert reader.ok("audit", "verify", "--digest", kept).splitlines() == [
        f"the log is intact: 0 entries match their seals; it extends digest {kept}",
        "3 entries, 1 to 3, have no seal yet: only a digest kept from before vouches for them",
        f"digest {kept}",
    ]
    assert reader.ok("audit", "digest").strip() == kept


def test_a_postgresql_server_that_only_reads_is_said_to_be_read_only(pg_store: str) -> None:
    """A replica (a hot standby), or a database set to read only: each command that must write
    says the store is read-only, as on SQLite; reading commands work."""
    Handoff(pg_store).ok("lead", "capture", "k", "--source", "web")
    replica = Handoff(pg_store + "?options=-c%20default_transaction_read_only%3Don")
    assert replica.json("lead", "show", "k")["key"] == "k"
    for command in (("lead", "capture", "k2", "--source", "web"),
                    ("lead", "qualify", "k"), ("projections", "rebuild")):
        assert replica.refused(*command).startswith("Error: the store is read-only: "), command


def test_a_read_only_copy_whose_seals_are_missing_is_verified_without_writing(
    tmp_path: Path, read_only_folder: Path
) -> None:
    original = tmp_path / "store.sqlite"
    _, kept = _three_leads_unsealed(str(original))
    shutil.copy(original, read_only_folder / "store.sqlite")
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)],
                               capture_output=True)
    assert remounted.returncode == 0, remounted.stderr
    _verified_unsealed(Handoff(str(read_only_folder / "store.sqlite")), kept)


def test_a_postgresql_user_who_may_only_read_verifies_a_log_whose_seals_are_missing(
    pg_store: str,
) -> None:
    _, kept = _three_leads_unsealed(pg_store)
    with reading_only(pg_store) as (role, admin):
        _verified_unsealed(Handoff(make_url(pg_store).set(username=role)
                                   .render_as_string(hide_password=False)), kept)
        with admin.connect() as conn:  # and nothing was sealed meanwhile
            assert conn.exec_driver_sql("SELECT count(*) FROM handoff_audit_chain").scalar() == 0


def test_a_write_refused_by_the_server_is_told_as_the_server_said_it_whenever_it_answers(
    pg_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library sends a write's statements in one pipeline (its table lock, a notify, the
    inserts). When the server's refusal of the first comes back before the next is sent, as
    on a busy machine, the rest of the pipeline is aborted: the user is told what the server
    refused (here a right this user lacks), never that a pipeline was aborted
    (`eventstore._pipeline_collected`; the library's `_notify_channel` made slow here)."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    Handoff(pg_store).ok("lead", "capture", "r-1", "--source", "web")
    notify = PostgresApplicationRecorder._notify_channel

    def answered_first(self: Any, curs: Any) -> None:
        time.sleep(0.3)  # the server's answer to the lock is in before the notify is sent
        notify(self, curs)

    monkeypatch.setattr(PostgresApplicationRecorder, "_notify_channel", answered_first)
    with reading_only(pg_store) as (role, _):
        reader = Handoff(make_url(pg_store).set(username=role, password="secret")
                         .render_as_string(hide_password=False))
        refusal = reader.refused("lead", "capture", "r-2", "--source", "web")
        assert refusal.startswith("Error: this database user lacks a right this command needs"
                                  " (permission denied for table "), refusal


def test_an_import_with_nothing_new_on_read_only_media_says_the_store_is_read_only(
    tmp_path: Path, read_only_folder: Path
) -> None:
    """Its KPIs behind (a step recorded after the last read command), the copy cannot be
    brought up to date: the import says the store is read-only, not to run `projections
    rebuild`, which no one can run on read-only media either."""
    original = Handoff(str(tmp_path / "store.sqlite"))
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at,actor,source\nro-1,captured,2026-10-05T09:00Z,maria,web\n")
    original.ok("import", str(rows))
    original.ok("lead", "qualify", "ro-1", "--at", "2026-10-05T10:00Z")
    shutil.copy(original.store, read_only_folder / "store.sqlite")
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)],
                               capture_output=True)
    assert remounted.returncode == 0, remounted.stderr
    refusal = Handoff(str(read_only_folder / "store.sqlite")).refused("import", str(rows))
    assert refusal.startswith("Error: the import recorded nothing new, but the KPIs could not"
                              " be brought up to date: the store is read-only"), refusal
    assert "rebuild" not in refusal, refusal
