"""Process-wide and connection-wide switches are set, and put back, in one place."""

from __future__ import annotations

import csv
import gc
import io
import sqlite3
from pathlib import Path

import psycopg
import pytest
from conftest import POSTGRES_URL
from sqlalchemy import make_url

from handoff.switches import (
    POSTGRES_INDEX_BUILD_MEMORY,
    SQLITE_BULK_CACHE_KIB,
    SQLITE_CACHE_KIB,
    SQLITE_INDEX_BUILD_CACHE_KIB,
    SQLITE_INDEX_BUILD_THREADS,
    cells_of_any_length,
    no_cyclic_gc,
    sqlite_index_builds,
    tune_postgres_for_index_builds,
    tune_sqlite,
    tune_sqlite_for_bulk,
)


def test_the_cyclic_collector_is_paused_and_then_restored() -> None:
    assert gc.isenabled()
    with no_cyclic_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_restored_when_the_work_fails() -> None:
    with pytest.raises(RuntimeError), no_cyclic_gc():
        raise RuntimeError("the import failed")
    assert gc.isenabled()


def test_a_collector_already_paused_by_the_caller_stays_paused() -> None:
    gc.disable()
    try:
        with no_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_read_model_connection_gets_a_large_cache_and_no_fsync_per_commit(
    tmp_path: Path,
) -> None:
    connection = sqlite3.connect(tmp_path / "store.sqlite")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA secure_delete = ON")  # as Debian's SQLite starts
    tune_sqlite(connection)
    assert connection.execute("PRAGMA cache_size").fetchone()[0] == -SQLITE_CACHE_KIB
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    # Rows it deletes are not overwritten with zeros: they hold nothing the log does not.
    assert connection.execute("PRAGMA secure_delete").fetchone()[0] == 0
    tune_sqlite_for_bulk(connection)
    assert connection.execute("PRAGMA cache_size").fetchone()[0] == -SQLITE_BULK_CACHE_KIB
    connection.close()


def test_sqlite_index_builds_sort_in_threads_then_the_connection_is_put_back(
    tmp_path: Path,
) -> None:
    connection = sqlite3.connect(tmp_path / "store.sqlite")
    tune_sqlite(connection)

    def settings() -> tuple[int, int]:
        return (connection.execute("PRAGMA cache_size").fetchone()[0],
                connection.execute("PRAGMA threads").fetchone()[0])

    # SQLite caps the threads at the number it was built to allow (8 unless set otherwise).
    built = dict(option.partition("=")[::2] for (option,) in
                 connection.execute("PRAGMA compile_options"))
    threads = min(SQLITE_INDEX_BUILD_THREADS, int(built.get("MAX_WORKER_THREADS", 8)))
    with sqlite_index_builds(connection):
        assert settings() == (-SQLITE_INDEX_BUILD_CACHE_KIB, threads)
    assert settings() == (-SQLITE_CACHE_KIB, 0)
    # ... also when a build fails (the pooled connection serves the next command).
    with pytest.raises(sqlite3.OperationalError), sqlite_index_builds(connection):
        connection.execute("CREATE INDEX broken ON missing (x)")
    assert settings() == (-SQLITE_CACHE_KIB, 0)
    # A build interrupted, its connection closed on the way: the interrupt is what is said.
    with pytest.raises(KeyboardInterrupt), sqlite_index_builds(connection):
        connection.close()
        raise KeyboardInterrupt


@pytest.mark.skipif(not POSTGRES_URL, reason="set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL")
def test_index_builds_get_more_memory_to_sort_in_for_their_transaction_only() -> None:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        before = connection.execute("SHOW maintenance_work_mem").fetchone()
        with connection.transaction():
            tune_postgres_for_index_builds(connection)
            during = connection.execute("SHOW maintenance_work_mem").fetchone()
        after = connection.execute("SHOW maintenance_work_mem").fetchone()
    assert during == (POSTGRES_INDEX_BUILD_MEMORY,)
    assert after == before != during


def test_csv_cells_of_any_length_are_read_for_the_duration_only() -> None:
    before = csv.field_size_limit()
    with cells_of_any_length():
        assert next(csv.reader(io.StringIO("x" * (before + 1)))) == ["x" * (before + 1)]
    assert csv.field_size_limit() == before
