"""Crash safety: `handoff` killed with SIGKILL at random moments loses and doubles nothing.

For each store, a clean run records the reference: an agreement, then one import of a
few thousand leads. Then, on fresh stores, the same import is killed at random moments
(while it checks rows, writes events, catches the KPIs up or seals the log) and simply
run again; and on the reference store `projections rebuild` is killed at random moments,
then the KPIs asked for. Every time, the events (as exported), the KPIs (by owner,
`--format json`) and `audit verify` must equal the clean run's.

Bounded: KILLS kills of each kind per store, each at a moment drawn (from a fixed seed)
within the clean run's own duration.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import AGREEMENT, POSTGRES_URL, agreement_toml
from sqlalchemy.engine import make_url

HANDOFF = str(Path(sys.executable).with_name("handoff"))
LEADS = 3000
KILLS = 4  # per kind of kill, per store
COLUMNS = "lead,event,at,actor,source,owner,reason,amount,visits"


def write_leads(path: Path) -> None:
    """A seeded quarter of leads through every stage, and daily traffic."""
    rng = random.Random(11)
    rows = [COLUMNS]
    for n in range(LEADS):
        day, minute = 2 + n % 27, n % 400
        at = f"2026-03-{day:02d}T{9 + minute // 60:02d}:{minute % 60:02d}"
        key = f"crash-{n}"
        rows.append(f"{key},captured,{at}:00,maria,{rng.choice(['web', 'ads', 'event'])},,,,")
        if rng.random() < 0.3:
            continue
        rows.append(f"{key},qualified,{at}:10,maria,,,,,")
        rows.append(f"{key},handed,{at}:20,li,,{rng.choice(['sam', 'ola'])},,,")
        if rng.random() < 0.2:
            rows.append(f"{key},rejected,{at}:30,sam,,,not a fit,,")
            continue
        rows.append(f"{key},accepted,{at}:40,sam,,,,,")
        if rng.random() < 0.5:
            rows.append(f"{key},proposal,{at}:50,sam,,,,{rng.randint(10, 90) * 1000},")
            rows.append(f"{key},won,{at}:55,sam,,,,,")
    rows += [f",visits,2026-03-{day:02d},,,,,,{1000 + day}" for day in range(2, 29)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def run(store: str, *args: str) -> str:
    done = subprocess.run(
        [HANDOFF, "--store", store, "--actor", "maria", *args],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def killed(store: str, after: float, *args: str) -> bool:
    """Start a command, SIGKILL it `after` seconds in; False if it ended first."""
    process = subprocess.Popen(
        [HANDOFF, "--store", store, "--actor", "maria", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return True


class KillInstants:
    """Instants to kill a command at, from `earliest` to its duration as timed once, until
    KILLS of them have landed mid-command (`send` says whether each did): on a machine
    busier when it was timed than now, a command ends before the kill more often, and the
    range is narrowed to its first part each time it does (at most 3 x KILLS tries)."""

    def __init__(self, seconds: float, earliest: float, rng: random.Random) -> None:
        self.latest, self.earliest, self.rng = seconds, earliest, rng
        self.landed = self.tries = 0

    def __iter__(self) -> Iterator[float]:
        while self.landed < KILLS and self.tries < 3 * KILLS:
            self.tries += 1
            yield self.rng.uniform(self.earliest, max(self.latest, self.earliest))

    def send(self, landed: bool) -> None:
        self.landed += landed
        if not landed:
            self.latest = self.earliest + (self.latest - self.earliest) / 2


def outcome(store: str) -> dict[str, Any]:
    """What must not change: every event, the KPIs by owner, and the log's integrity."""
    kpis = json.loads(run(store, "kpi", "--month", "2026-03", "--by", "owner", "--format",
                          "json"))
    kpis.pop("as_of")
    verdict = run(store, "audit", "verify")
    assert "the log is intact" in verdict
    return {"events": run(store, "export"), "kpis": kpis}


class Stores:
    """Fresh stores of one kind, dropped at the end."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.folder, self.databases = kind, folder, []  # type: list[str]

    def new(self) -> str:
        if self.kind == "sqlite":
            return str(self.folder / f"{uuid.uuid4().hex[:8]}.sqlite")
        assert POSTGRES_URL
        name = f"handoff_crash_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop(self) -> None:
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            for name in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _admin() -> str:
        assert POSTGRES_URL
        return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(
            hide_password=False
        )


@pytest.mark.parametrize(
    "kind",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
        not POSTGRES_URL, reason="set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL"))],
)
def test_killed_imports_catch_ups_and_rebuilds_lose_and_double_nothing(
    kind: str, tmp_path: Path
) -> None:
    leads, agreement = tmp_path / "leads.csv", tmp_path / "agreement.toml"
    write_leads(leads)
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}), encoding="utf-8")
    stores = Stores(kind, tmp_path)
    rng = random.Random(f"crash-{kind}")
    try:
        reference = stores.new()
        run(reference, "sla", "apply", str(agreement))
        started = time.monotonic()
        run(reference, "import", str(leads))
        import_seconds = time.monotonic() - started
        expected = outcome(reference)
        assert expected["kpis"]["counts"]["captured"] == LEADS

        kills = 0
        import_kills = KillInstants(import_seconds, 0.2, rng)
        for after in import_kills:
            store = stores.new()
            run(store, "sla", "apply", str(agreement))
            import_kills.send(killed(store, after, "import", str(leads)))
            run(store, "import", str(leads))  # run again, as the user would
            assert outcome(store) == expected
        kills += import_kills.landed

        started = time.monotonic()
        run(reference, "projections", "rebuild")
        rebuild_seconds = time.monotonic() - started
        rebuild_kills = KillInstants(rebuild_seconds, 0.1, rng)
        for after in rebuild_kills:
            rebuild_kills.send(killed(reference, after, "projections", "rebuild"))
            assert outcome(reference) == expected  # the next command catches up
        kills += rebuild_kills.landed

        # The kills must land while the command runs, or the test proves little.
        print(f"{kind}: {kills} kills landed mid-command"
              f" (import {import_seconds:.1f} s, rebuild {rebuild_seconds:.1f} s)")
        assert import_kills.landed >= KILLS and rebuild_kills.landed >= KILLS
    finally:
        if kind == "postgres":
            stores.drop()
