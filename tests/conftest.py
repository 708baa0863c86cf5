"""Shared fixtures: a fresh store per test, on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from handoff.application import HandoffApp
from handoff.store import locate

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


class FakeClock:
    """The wall clock, under the test's control."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))


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


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A `--store` value naming an empty store of its own, on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
    else:
        yield from _fresh_postgres_database()


@pytest.fixture
def app(store: str, clock: FakeClock) -> Iterator[HandoffApp]:
    application = HandoffApp(locate(store), clock=clock)
    yield application
    application.close()
