"""Import benchmark: `handoff import` of a large CSV against the physical floor, in one run.

    python benchmarks/import_benchmark.py [--leads 50000] [--seed 7] [--repeat 1]
                                          [--postgres postgresql+psycopg://user@host/db]

Writes a seeded synthetic CSV (≈50,000 leads, ≈225,000 events), times the real
`handoff import` command into an empty SQLite store, then times the floor: parsing
the same CSV and writing each row as a JSON blob into SQLite with `executemany` in one
transaction. Prints both, the ratio (target: import <= 4x the floor) and the import's
peak memory, all its processes together (target: under 500 MB). With `--postgres URL` (a
server where that user may create databases), the same command also imports into a fresh
PostgreSQL database, made and dropped by the benchmark, and its time is printed beside
SQLite's. Machines are shared and noisy: read the ratio, and the CPU seconds in brackets
(a busy machine stretches the wall clock more than the CPU time).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

COLUMNS = (
    "lead", "event", "at", "actor", "source", "name", "email", "company",
    "score", "owner", "reason", "channel", "amount", "visits",
)
SOURCES = ("web", "event", "referral", "partner", "outbound")
MARKETING = ("maria", "li")
SALES = ("sam", "ola", "kim")


def journey(rng: random.Random, start: datetime) -> list[tuple[str, dict[str, str]]]:
    """One lead's events, following the protocol, about 4.5 events on average."""
    steps: list[tuple[str, dict[str, str]]] = [
        ("captured", {"source": rng.choice(SOURCES), "actor": rng.choice(MARKETING)})
    ]
    for _attempt in range(2):
        if rng.random() > 0.62:
            return steps
        steps.append(("qualified", {"score": str(rng.randint(1, 100)), "actor": "maria"}))
        if rng.random() > 0.9:
            return steps
        steps.append(("handed", {"owner": rng.choice(SALES), "actor": "li"}))
        if rng.random() < 0.2:
            steps.append(("rejected", {"reason": "not a fit", "actor": "sam"}))
            continue
        steps.append(("accepted", {"actor": "sam"}))
        break
    else:
        return steps
    if steps[-1][0] != "accepted":
        return steps
    for _ in range(rng.randint(0, 4)):
        steps.append(("contacted", {"channel": rng.choice(("phone", "email")), "actor": "ola"}))
    if rng.random() < 0.45:
        steps.append(("proposal", {"amount": f"{rng.randint(50, 900) * 100}.00", "actor": "ola"}))
        if rng.random() < 0.4:
            steps.append(("won", {"actor": "ola"}))
        elif rng.random() < 0.5:
            steps.append(("lost", {"reason": "price", "actor": "ola"}))
    elif rng.random() < 0.3:
        steps.append(("lost", {"reason": "no budget", "actor": "ola"}))
    return steps


def write_csv(path: Path, leads: int, seed: int) -> int:
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, 8, tzinfo=UTC)
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(leads):
            at = base + timedelta(minutes=rng.randint(0, 60 * 24 * 600))
            for event, data in journey(rng, at):
                row = dict.fromkeys(COLUMNS, "")
                row.update(data, lead=f"L{n:06d}", event=event, at=at.isoformat())
                writer.writerow(row.values())
                rows += 1
                at += timedelta(hours=rng.randint(1, 72))
        for day in range(600):
            date = (base + timedelta(days=day)).date().isoformat()
            row = dict.fromkeys(COLUMNS, "")
            row.update(event="visits", at=date, visits=str(rng.randint(500, 3000)), actor="li")
            writer.writerow(row.values())
            rows += 1
    return rows


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_import(csv_path: Path, store: Path) -> tuple[float, float]:
    """Seconds and CPU seconds of the real command, run as a user would."""
    handoff = Path(sys.executable).with_name("handoff")
    cpu, started = _children_cpu(), time.perf_counter()
    subprocess.run(
        [str(handoff), "--store", str(store), "--actor", "li", "import", str(csv_path)],
        check=True, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, _children_cpu() - cpu


def import_memory(csv_path: Path, store: Path) -> tuple[float, float]:
    """Peak memory (MB) of the real command, in a run of its own (sampling it costs CPU):
    of all its processes together (the sum of their proportional set sizes, every 10 ms:
    pages they share are counted once), and of its largest process."""
    handoff = Path(sys.executable).with_name("handoff")
    command = subprocess.Popen(
        [str(handoff), "--store", str(store), "--actor", "li", "import", str(csv_path)],
        stdout=subprocess.DEVNULL,
    )
    together = 0
    while command.poll() is None:
        together = max(together, sum(_proportional_kib(pid) for pid in _tree(command.pid)))
        time.sleep(0.01)
    if command.returncode:
        raise SystemExit(f"handoff import failed ({command.returncode})")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return together / 1024, largest


def _tree(pid: int) -> list[int]:
    """A process and its descendants (Linux)."""
    found = [pid]
    with suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                for child in children.read().split():
                    found += _tree(int(child))
    return found


def _proportional_kib(pid: int) -> int:
    """A process's proportional set size (its pages, each shared one split between the
    processes sharing it), in KiB; 0 once it has ended."""
    with suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def time_postgres_import(csv_path: Path, server_url: str) -> float:
    """Seconds of the same command into a fresh PostgreSQL database (dropped afterwards)."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    name = f"handoff_bench_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        store = base.set(database=name).render_as_string(hide_password=False)
        handoff = Path(sys.executable).with_name("handoff")
        started = time.perf_counter()
        subprocess.run(
            [str(handoff), "--store", store, "--actor", "li", "import", str(csv_path)],
            check=True, stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - started
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def time_phases(csv_path: Path, store: Path) -> tuple[float, float, float]:
    """In-process: seconds to check and record the events, to catch the read models up, and
    to seal the new entries into the audit chain (each part of the whole command)."""
    from handoff import audit
    from handoff.application import HandoffApp
    from handoff.eventstore import Recorded
    from handoff.importer import Importer, read_rows
    from handoff.projections import catch_up
    from handoff.store import locate

    app = HandoffApp(locate(str(store)))
    # The import seals its entries as it writes them (from their digests): timed apart.
    sealing = [0.0]
    seal_recorded = audit.seal_recorded_quietly

    def timed_seal(app: HandoffApp, recorded: Recorded) -> None:
        started = time.perf_counter()
        seal_recorded(app, recorded)
        sealing[0] += time.perf_counter() - started

    audit.seal_recorded_quietly = timed_seal
    started = time.perf_counter()
    Importer(app, "li").run_file(csv_path.read_text(encoding="utf-8"), read_rows)
    recorded = time.perf_counter()
    catch_up(app)
    caught_up = time.perf_counter()
    audit.seal(app)  # what is left to seal (nothing, unless the seal as written failed)
    sealed = time.perf_counter()
    audit.seal_recorded_quietly = seal_recorded
    app.close()
    return recorded - started - sealing[0], caught_up - recorded, sealed - caught_up + sealing[0]


def settle(work: Path) -> None:
    """Before a timed run: the stores of the runs before it deleted and every write of
    theirs on the disk, so that no run shares the disk with the writing back of another's
    pages (its commits wait for the disk: an import run after a floor and an import whose
    stores were kept took 5.3-5.6 s, against 5.1-5.2 s on a settled disk)."""
    for path in work.glob("*.sqlite*"):
        path.unlink()
    os.sync()


def time_floor(csv_path: Path, db: Path) -> tuple[float, float]:
    """Parse the CSV and write each row as a JSON blob with executemany in one transaction:
    seconds and CPU seconds."""
    cpu, started = time.process_time(), time.perf_counter()
    with csv_path.open(newline="") as handle:
        blobs = [(json.dumps(row).encode(),) for row in csv.DictReader(handle)]
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, state BLOB)")
    with connection:
        connection.executemany("INSERT INTO rows (state) VALUES (?)", blobs)
    connection.close()
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best of each is kept")
    parser.add_argument("--postgres", metavar="URL",
                        default=os.environ.get("HANDOFF_BENCH_POSTGRES_URL"),
                        help="also import into PostgreSQL there (a fresh database, dropped"
                        " after; default: $HANDOFF_BENCH_POSTGRES_URL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        csv_path = work / "leads.csv"
        rows = write_csv(csv_path, args.leads, args.seed)
        print(f"{args.leads} leads, {rows} rows ({csv_path.stat().st_size / 1e6:.1f} MB CSV)")
        imports, floors, records, catch_ups, seals = [], [], [], [], []
        import_cpus, floor_cpus = [], []
        for run in range(args.repeat):
            settle(work)
            seconds, cpu = time_floor(csv_path, work / f"floor{run}.sqlite")
            floors.append(seconds)
            floor_cpus.append(cpu)
            settle(work)
            seconds, cpu = time_import(csv_path, work / f"store{run}.sqlite")
            imports.append(seconds)
            import_cpus.append(cpu)
            settle(work)
            recording, catching_up, sealing = time_phases(csv_path, work / f"phases{run}.sqlite")
            records.append(recording)
            catch_ups.append(catching_up)
            seals.append(sealing)
        settle(work)
        peak, largest = import_memory(csv_path, work / "memory.sqlite")
        best_import, best_floor = min(imports), min(floors)
        best_record, best_catch_up = min(records), min(catch_ups)
        best_import_cpu, best_floor_cpu = min(import_cpus), min(floor_cpus)
        print(f"handoff import : {best_import:7.2f} s  ({rows / best_import:,.0f} rows/s)"
              f"  [{best_import_cpu:.2f} s CPU]")
        print(f"  of which, in-process: checking and recording the events {best_record:.2f} s,"
              f" catching up the read models {best_catch_up:.2f} s")
        print(f"  sealing the new entries (audit chain) {min(seals):.2f} s ="
              f" {min(seals) / best_import:.0%} of the import (target < 15%)")
        print(f"floor          : {best_floor:7.2f} s  ({rows / best_floor:,.0f} rows/s)"
              f"  [{best_floor_cpu:.2f} s CPU]")
        print(f"ratio          : {best_import / best_floor:7.2f}x  (target <= 4x)"
              f"  [CPU: {best_import_cpu / best_floor_cpu:.2f}x]")
        print(f"  recording the events alone: {best_record / best_floor:.2f}x the floor")
        print(f"peak memory    : {peak:7.0f} MB, all its processes together (target < 500 MB;"
              f" its largest process {largest:.0f} MB)")
        if args.postgres:
            settle(work)
            postgres = min(time_postgres_import(csv_path, args.postgres)
                           for _ in range(args.repeat))
            print(f"PostgreSQL     : {postgres:7.2f} s  ({rows / postgres:,.0f} rows/s)"
                  f" beside SQLite's {best_import:.2f} s, the same command"
                  f" ({postgres / best_floor:.2f}x the SQLite floor)")


if __name__ == "__main__":
    main()
