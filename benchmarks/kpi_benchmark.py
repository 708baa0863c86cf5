"""KPI benchmark: rebuild, export, catch-up, `compute_kpis`, `handoff kpi` and pandas.

    python benchmarks/kpi_benchmark.py [--events 1000000] [--seed 11] [--store PATH]
                                       [--postgres URL]  (or HANDOFF_BENCH_POSTGRES_URL)
                                       [--repeat 1]

Builds a seeded SQLite store of about `--events` lead events (two years of leads under
one agreement, plus daily traffic), written in large transactions, then times in one run:

- on SQLite, and on PostgreSQL with `--postgres URL` (a database that exists; its store
  is built there when it holds no events), side by side: only reading the event rows
  (the floor), the library's own read and decode, a full projection rebuild (target
  >= 60,000 events/s), and `handoff export` in CSV and JSON lines as commands (target
  >= 100,000 events/s), each as events/s and as a ratio to the raw read;
- an incremental catch-up after one new event (target <= 50 ms);
- `compute_kpis` for a month and for a year, on each basis, in-process (target <= 100 ms);
- the whole `handoff kpi --month` command, run as a user would (a new process);
- the same flow KPIs computed by pandas from the CSV of `handoff export`
  (target: `handoff kpi` at least 10x faster than pandas).

Timings are the best of a few runs (the raw read twice; the library's read, the rebuild
and the exports `--repeat` times); machines are shared and noisy, so read the ratios
(and the events/s of this process's CPU time, printed beside the wall clock's). A store
given with `--store` or `--postgres` is reused when it holds events.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handoff import eventstore, projections
from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.lead import Lead
from handoff.domain.steps import Stamp
from handoff.domain.traffic import TrafficDay
from handoff.kpi import compute_kpis, period_from_options
from handoff.store import locate

AGREEMENT = """
name = "benchmark agreement"
effective_from = 2024-01-01
timezone = "America/Chicago"
[goal]
revenue = 24000000
average_deal = 30000
[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00", "17:00"]
[marketing]
qualified_per_month = 2000
rates = { visit_to_captured = 0.02, captured_to_qualified = 0.30, qualified_to_handed = 0.90 }
[sales]
decide_within_hours = 8
rates = { handed_to_accepted = 0.80, accepted_to_proposal = 0.40, proposal_to_won = 0.35 }
"""
START = datetime(2024, 1, 1, 14, tzinfo=UTC)
ZONE = ZoneInfo("America/Chicago")  # the agreement's
DAYS = 730
SOURCES = ("web", "events", "referral", "partner", "outbound")
SALES = ("sam", "ola", "kim", "jonas")
SAVE_BATCH = 5_000
RECORDING_LAG = timedelta(minutes=10)
PAST = datetime(2025, 6, 1, tzinfo=UTC)  # an as-of instant for replayed reports
# The benchmark's "now": its leads run to the end of 2025, recorded ten minutes after each
# step. The command is asked as of then, as compute_kpis is (its app's clock): the same
# report as of the real clock, which has passed it (an as-of must have: `kpi` refuses one
# in the future).
NOW = datetime(2026, 1, 10, tzinfo=UTC)


class Journey:
    """One lead's life, following the protocol, recorded ten minutes after each step."""

    def __init__(self, rng: random.Random, number: int) -> None:
        self.rng = rng
        self.at = START + timedelta(minutes=rng.randint(0, DAYS * 24 * 60 - 30 * 24 * 60))
        self.lead = Lead.capture(f"L{number:07d}", rng.choice(SOURCES), self._stamp(),
                                 company="Acme")

    def _stamp(self) -> Stamp:
        self.at += timedelta(minutes=self.rng.randint(20, 60 * 30))
        return Stamp(self.at, self.at + RECORDING_LAG, "bench", 1, "benchmark agreement")

    def live(self) -> Lead:
        rng, lead = self.rng, self.lead
        for _attempt in range(2):
            if rng.random() > 0.6:
                return lead
            lead.qualify(self._stamp(), score=rng.randint(1, 100))
            if rng.random() > 0.9:
                return lead
            lead.hand_to(rng.choice(SALES), self._stamp())
            if rng.random() < 0.05:
                return lead  # still waiting for a decision
            if rng.random() < 0.2:
                lead.reject("not a fit", self._stamp())
                continue
            lead.accept(self._stamp())
            break
        else:
            return lead
        if lead.state != "accepted":
            return lead
        for _ in range(rng.randint(0, 3)):
            lead.contact(self._stamp(), channel="phone")
        if rng.random() < 0.5:
            for _ in range(rng.choice((1, 1, 2))):
                lead.send_proposal(Decimal(rng.randint(50, 900) * 100), self._stamp())
            if rng.random() < 0.4:
                lead.win(self._stamp())
            elif rng.random() < 0.5:
                lead.lose("price", self._stamp())
        elif rng.random() < 0.3:
            lead.lose("no budget", self._stamp())
        return lead


def build_store(app: HandoffApp, events: int, seed: int) -> int:
    """About `events` lead events, saved in large transactions; returns the count."""
    app.apply_agreement(parse_agreement(AGREEMENT), actor="bench")
    rng = random.Random(seed)
    written, number, pending = 0, 0, []
    while written < events:
        lead = Journey(rng, number).live()
        number += 1
        written += len(lead.pending_events)
        pending.append(lead)
        if len(pending) >= SAVE_BATCH:
            app.save_in_bulk(pending)
            pending = []
    days = []
    for offset in range(DAYS):
        counted = START + timedelta(days=offset)  # 14:00 UTC: the day has begun in Chicago
        day = TrafficDay(day=counted.date().isoformat())
        day.record(rng.randint(5_000, 20_000), actor="bench", recorded_at=counted, zone=ZONE)
        days.append(day)
    app.save_in_bulk([*pending, *days])
    return written + DAYS


def best(run: Callable[[], Any], times: int = 5) -> float:
    """The best wall time of a few runs, in seconds."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        spent.append(time.perf_counter() - started)
    return min(spent)


def read_raw(path: Path, table: str) -> int:
    """Only read every stored event row from SQLite, as the rebuild must at least do."""
    connection = sqlite3.connect(path)
    rows = 0
    cursor = connection.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid")
    while batch := cursor.fetchmany(20_000):
        rows += len(batch)
    connection.close()
    return rows


def handoff_command(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    handoff = Path(sys.executable).with_name("handoff")
    return subprocess.run(
        [str(handoff), "--store", str(store), *args], check=True, capture_output=True, text=True
    )


def pandas_flow_kpis(csv_path: Path, first: date, last: date) -> dict[str, Any]:
    """The flow counts of the period from the exported CSV, as an analyst would compute them."""
    import pandas as pd

    frame = pd.read_csv(csv_path, dtype=str)
    leads = frame[frame["event"] != "visits"].copy()
    leads["at"] = pd.to_datetime(leads["at"], utc=True).dt.tz_convert("America/Chicago")
    leads["day"] = leads["at"].dt.date
    in_period = leads[(leads["day"] >= first) & (leads["day"] <= last)]
    counts = in_period.groupby("event").size().to_dict()
    proposals = leads[leads["event"] == "proposal"].sort_values("at")
    firsts = proposals.drop_duplicates("lead")
    counts["proposal"] = int(((firsts["day"] >= first) & (firsts["day"] <= last)).sum())
    won = in_period[in_period["event"] == "won"]["amount"].astype(float).sum()
    traffic = frame[frame["event"] == "visits"]
    days = pd.to_datetime(traffic["at"]).dt.date
    visits = traffic[(days >= first) & (days <= last)]["visits"].astype(int).sum()
    return {"counts": counts, "revenue_won": won, "visits": int(visits)}


def report(label: str, seconds: float, note: str = "") -> None:
    print(f"{label:<44} {seconds * 1000:10.1f} ms  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--store", type=Path, help="keep the store here (reused if it exists)")
    parser.add_argument(
        "--postgres", metavar="URL", default=os.environ.get("HANDOFF_BENCH_POSTGRES_URL"),
        help="also measure reading, rebuilding and exporting on this PostgreSQL database"
        " (built there when it holds no events; the database must exist;"
        " default: $HANDOFF_BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="runs of the read, rebuild and exports on each store; the best of each is kept",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or Path(folder) / "bench.sqlite"
        run(store, args.postgres, args.events, args.seed, Path(folder), max(args.repeat, 1))


def open_store(given: str, events: int, seed: int) -> HandoffApp:
    """The store's app, after building its events when it has none."""
    app = HandoffApp(locate(given), clock=lambda: NOW)
    if not eventstore.last_notification_id(app):
        started = time.perf_counter()
        written = build_store(app, events, seed)
        print(f"built {given}: {written:,} events in {time.perf_counter() - started:.1f} s")
    return app


def read_raw_postgres(app: HandoffApp) -> int:
    """Only read every stored event row from PostgreSQL (a server-side cursor, in pages)."""
    import psycopg

    env = app.location.event_store_env
    rows = 0
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
    ) as connection, connection.cursor(name="raw", binary=True) as cursor:
        cursor.execute(  # the columns as the projection reads them (see eventstore)
            "SELECT notification_id, encode(uuid_send(originator_id), 'hex'), topic, state"
            f" FROM {eventstore.events_table(app)} ORDER BY notification_id"
        )
        while batch := cursor.fetchmany(20_000):
            rows += len(batch)
    return rows


def log_figures(
    app: HandoffApp, given: str, work: Path, repeat: int = 1
) -> dict[str, tuple[float, float]]:
    """(seconds, CPU seconds of this process) of reading, rebuilding and exporting the log."""
    figures: dict[str, tuple[float, float]] = {}

    def timed(name: str, run: Callable[[], Any], times: int = 1) -> None:
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(times):
            wall, cpu = time.perf_counter(), cpu_seconds()
            run()
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, cpu_seconds() - cpu)
        figures[name] = (best_wall, best_cpu)

    if app.location.is_postgres:
        timed("raw", lambda: read_raw_postgres(app), times=max(2, repeat))
    else:
        timed("raw", lambda: read_raw(Path(given), eventstore.events_table(app)),
              times=max(2, repeat))
    timed("decode", lambda: eventstore.read_and_decode(app), times=repeat)
    projections.read_model(app)  # its tables made (or an older shape dropped) beforehand
    timed("rebuild", lambda: projections.rebuild(app), times=repeat)
    for fmt in ("csv", "jsonl"):
        out = work / f"export-{abs(hash(given))}.{fmt}"
        timed(f"export {fmt}", lambda f=fmt, o=out: export(given, f, o),  # type: ignore[misc]
              times=repeat)
    return figures


def cpu_seconds() -> float:
    """CPU time of this process and of the commands it ran (not of a database server)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def export(given: str, fmt: str, out: Path) -> None:
    """`handoff export --format FMT > OUT`, as a user runs it (a new process)."""
    handoff = Path(sys.executable).with_name("handoff")
    with out.open("w") as file:
        subprocess.run([str(handoff), "--store", given, "export", "--format", fmt],
                       check=True, stdout=file)


LOG_ROWS = (
    ("raw", "read the rows only (the floor)", ""),
    ("decode", "the library's own read + decode", ""),
    ("rebuild", "projection rebuild", "target >= 60,000/s"),
    ("export csv", "handoff export --format csv", "target >= 100,000/s"),
    ("export jsonl", "handoff export --format jsonl", "target >= 100,000/s"),
)


def print_log_figures(total: int, stores: dict[str, dict[str, tuple[float, float]]]) -> None:
    """events/s (wall clock), its share of the raw read, and events/s of the CPU time spent
    by this process and its commands (a PostgreSQL server's own CPU is not counted)."""
    names = list(stores)
    print(f"\n{total:,} events; events/s by wall clock (x raw read in the same run),"
          " [events/s of CPU time, this process and its commands]")
    print(f"{'':<34}" + "".join(f"{name:>34}" for name in names))
    for key, label, target in LOG_ROWS:
        cells = []
        for name in names:
            wall, cpu = stores[name][key]
            raw = stores[name]["raw"][0]
            cpu_rate = f"[{total / cpu:,.0f}]" if cpu > 0.05 else "[-]"
            cells.append(f"{total / wall:>12,.0f} ({raw / wall:4.2f}x) {cpu_rate:>12}")
        print(f"{label:<34}" + "".join(f"{cell:>34}" for cell in cells) + f"  {target}")
    print()


def run(
    store: Path, postgres: str | None, events: int, seed: int, work: Path, repeat: int = 1
) -> None:
    app = open_store(str(store), events, seed)
    total = eventstore.last_notification_id(app)
    print(f"store: {store} ({total:,} notifications, {store.stat().st_size / 1e6:.0f} MB)")
    stores = {"SQLite": log_figures(app, str(store), work, repeat)}
    if postgres:
        pg_app = open_store(postgres, events, seed)
        if eventstore.last_notification_id(pg_app) != total:
            print("(the PostgreSQL store holds another number of events than the SQLite one)")
        stores["PostgreSQL"] = log_figures(pg_app, postgres, work, repeat)
        pg_app.close()
    print_log_figures(total, stores)
    catch_ups = []
    for number in range(5):
        app.capture(f"NEW{time.time_ns()}-{number}", "web", "bench", at="2026-01-09T10:00")
        started = time.perf_counter()
        projections.catch_up(app)
        catch_ups.append(time.perf_counter() - started)
    report("catch-up after one new event (median of 5)", statistics.median(catch_ups),
           "(target <= 50 ms)")

    register = app.agreement_register()
    periods = {
        "month 2025-03": period_from_options(register, month="2025-03"),
        "year 2025": period_from_options(register, start="2025-01-01", end="2025-12-31"),
    }
    for name, period in periods.items():
        for basis in ("flow", "cohort"):
            seconds = best(lambda p=period, b=basis: compute_kpis(app, p, basis=b))  # type: ignore[misc]
            report(f"compute_kpis {name}, {basis}", seconds, "(target <= 100 ms)")
        seconds = best(lambda p=period: compute_kpis(app, p, by="owner"), times=3)  # type: ignore[misc]
        report(f"compute_kpis {name}, flow by owner", seconds)
        seconds = best(lambda p=period: compute_kpis(app, p, as_of=PAST), times=3)  # type: ignore[misc]
        report(f"compute_kpis {name}, flow as of 2025-06-01", seconds)

    as_of = NOW.isoformat().replace("+00:00", "Z")
    compile_bytecode()
    command = best(lambda: handoff_command(store, "kpi", "--month", "2025-03", "--format", "json",
                                           "--as-of", as_of), times=3)
    report("handoff kpi --month 2025-03 (whole command)", command)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_start = time.perf_counter() - started
    report("  of which starting Python itself", python_start)
    csv_path = work / "export.csv"
    export(str(store), "csv", csv_path)
    first, last = date(2025, 3, 1), date(2025, 3, 31)
    by_pandas = best(lambda: pandas_flow_kpis(csv_path, first, last), times=2)
    report("pandas flow KPIs from the exported CSV", by_pandas)
    print(f"ratio pandas / handoff kpi command: {by_pandas / command:.1f}x (target >= 10x)")
    check_same_counts(app, periods["month 2025-03"], pandas_flow_kpis(csv_path, first, last))
    app.close()


def compile_bytecode() -> None:
    """Compile handoff's modules, as `pip install .` does when it installs them: run from
    an editable install under PYTHONDONTWRITEBYTECODE (as on this project's machines),
    every command would compile them from source again (about 50 ms of `handoff kpi`)."""
    import compileall
    import importlib.util

    for package in ("handoff", "handoff.cli"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def check_same_counts(app: HandoffApp, period: Any, by_pandas: dict[str, Any]) -> None:
    """Both ways must agree, or the comparison means nothing."""
    ours = compute_kpis(app, period)
    theirs = {name: int(by_pandas["counts"].get(name, 0)) for name in ours["counts"]}
    theirs["visits"] = by_pandas["visits"]
    status = "agree" if theirs == ours["counts"] else f"DIFFER: {theirs} vs {ours['counts']}"
    print(f"handoff and pandas counts for 2025-03 {status}")



if __name__ == "__main__":
    main()
