"""Shared fixtures: a fresh store per test, on SQLite and (when configured) on PostgreSQL.

The features' steps and their story world live in the package (`handoff.verification`),
so that `handoff sla verify` runs the same examples on an installed version; here they
are bound once more, with the `store` fixture below running them on both backends.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cli_helpers import Handoff
from sqlalchemy.engine import make_url

from handoff.verification.steps.common import *  # noqa: F403  (the shared steps and fixtures)
from handoff.verification.world import (  # noqa: F401  (imported by tests from conftest)
    AGREEMENT,
    FakeClock,
    Outcome,
    agreement_toml,
    local_at,
    story_day,
    story_instant,
)

POSTGRES_URL = os.environ.get("HANDOFF_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL"
        ),
    ),
]


def _fresh_postgres_database() -> Iterator[str]:
    assert POSTGRES_URL
    base = make_url(POSTGRES_URL)
    name = f"handoff_test_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_store() -> Iterator[str]:
    """A PostgreSQL database of its own, for what concerns PostgreSQL only (libpq's URLs,
    database users and their rights)."""
    if not POSTGRES_URL:
        pytest.skip("set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL")
    yield from _fresh_postgres_database()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A `--store` value naming an empty store of its own, on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
    else:
        yield from _fresh_postgres_database()


@pytest.fixture
def handoff(store: str) -> Handoff:
    """The real command line, run in-process on this test's store."""
    return Handoff(store)


TEAM_AGREEMENT = """
name = "2026 H1 growth agreement"
effective_from = 2026-01-01
effective_to = 2026-06-30
timezone = "America/Chicago"

[sales]
decide_within_hours = 8

[team]
marketing = ["maria", "li"]
sales = ["sam", "ola"]
"""


@pytest.fixture
def signed(handoff: Handoff, tmp_path: Path) -> Handoff:
    """The store with an H1 2026 agreement both sides signed (maria, li | sam, ola)."""
    path = tmp_path / "agreement.toml"
    path.write_text(TEAM_AGREEMENT)
    handoff.ok("sla", "apply", str(path))
    handoff.ok("sla", "sign", "1", actor="sam")
    return handoff
class BulkWriter:
    """Where a test's bulk writes put their rows into SQLite's events table: in this
    process, or (`elsewhere`) by a second one (`log_writer`), as a large import's are
    (from `WRITER_FROM` rows); `started` names the database of each second process."""

    def __init__(self, elsewhere: bool) -> None:
        self.elsewhere = elsewhere
        self.started: list[str] = []

    def assert_went(self, store: str, writes: int) -> None:
        """Each of `writes` bulk writes went through a second process into the store's
        file when asked to, on SQLite; PostgreSQL's rows are copied by this process."""
        sqlite = not store.startswith("postgresql")
        assert len(self.started) == (writes if self.elsewhere and sqlite else 0)
        assert all(Path(database) == Path(store) for database in self.started)


@pytest.fixture(params=["here", "by a second process"])
def bulk_writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> BulkWriter:
    """A test's bulk writes on SQLite made in this process, or by a second one."""
    from handoff import eventstore, log_writer

    writer = BulkWriter(elsewhere=request.param != "here")
    if writer.elsewhere:
        monkeypatch.setattr(eventstore, "WRITER_FROM", 1)
        start = log_writer.Writer.__init__

        def counted(self: log_writer.Writer, database: str, *rest: Any) -> None:
            writer.started.append(database)
            start(self, database, *rest)

        monkeypatch.setattr(log_writer.Writer, "__init__", counted)
    return writer


@pytest.fixture(autouse=True)
def no_page_writer_left_waiting() -> Iterator[None]:
    """A page writer started ahead of a catch-up (`page_writer.prepare`) and not taken ends
    with its test: the next test may run in another folder, with other settings."""
    yield
    page_writer = sys.modules.get("handoff.projections.page_writer")
    if page_writer is not None:
        page_writer.discard_spare()


@pytest.fixture
def written_ahead(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A rebuild in pages of 7 events, each written by a process of its own while the next
    is turned into rows (as a backlog of WRITE_AHEAD_FROM events is); one entry per such
    run: whether its pages were written by a process."""
    from handoff.projections import catchup, page_writer, projector

    runs: list[bool] = []
    ahead = page_writer.ahead

    @contextmanager
    def counted(model: Any, conn: Any, in_process: bool) -> Iterator[Any]:
        runs.append(in_process)
        with ahead(model, conn, in_process) as write:
            yield write

    monkeypatch.setattr(projector, "WRITE_AHEAD_FROM", 0)
    monkeypatch.setattr(catchup, "REBUILD_PAGE", 7)
    monkeypatch.setattr(catchup, "REBUILD_PAGE_POSTGRES", 7)
    monkeypatch.setattr(catchup, "BULK_PAGE_AT_LEAST", 7)
    monkeypatch.setattr(page_writer, "ahead", counted)
    return runs
