"""Only a command that records something creates a store (SPEC §7): one that is refused
leaves none behind, and never removes what another command recorded at the same moment."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from cli_helpers import Handoff
from sqlalchemy.engine import make_url

from handoff.application import HandoffApp
from handoff.new_store import TABLES_SQL
from handoff.store import locate

HEADER = "lead,event,at,actor,source,name,email,company,score,owner,reason,channel,amount,visits"
FILES = {
    "bad.csv": HEADER + "\nk,captured,garbage,maria,web,,,,,,,,,\n",
    "bad-backup.jsonl": '{"handoff_backup": 1}\n{"n": 1, "id": "zz"}\n',
}


def what_is_there(store: str) -> list[str]:
    """The store's files (SQLite: its folder holds nothing else) or tables (PostgreSQL)."""
    if "://" not in store:
        return sorted(path.name for path in Path(store).parent.iterdir())
    url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        return sorted(f"{schema}.{name}" for schema, name in connection.execute(TABLES_SQL))


@pytest.mark.parametrize(
    "command",
    [
        ("lead", "capture", "zz", "--at", "garbage", "--source", "web"),
        ("lead", "capture", "zz", "--source", "web\x01"),
        ("traffic", "record", "--date", "2026-02-30", "--visits", "3"),
        ("import", "bad.csv"),
        ("import", "bad-backup.jsonl"),
    ],
)
def test_a_refused_command_leaves_no_store_where_there_was_none(
    store: str, tmp_path_factory: pytest.TempPathFactory, command: tuple[str, ...]
) -> None:
    files = tmp_path_factory.mktemp("files")  # apart from the store's folder
    for name, text in FILES.items():
        (files / name).write_text(text)
    command = tuple(str(files / part) if part in FILES else part for part in command)
    result = Handoff(store)(*command)
    assert result.exit_code == 1, result.output
    assert what_is_there(store) == []
    assert "no store at" in Handoff(store).refused("kpi", "--month", "2026-03")


def test_a_refused_command_leaves_a_file_that_was_there(tmp_path: Path) -> None:
    existing = tmp_path / "store.sqlite"
    existing.touch()  # made by someone else: not this command's to remove
    Handoff(str(existing)).refused("lead", "capture", "zz", "--at", "garbage", "--source", "w")
    assert existing.exists()


def test_what_a_command_records_in_a_store_another_is_creating_is_kept(store: str) -> None:
    creating = HandoffApp(locate(store), provisional=True)  # as a command that will be refused
    other = subprocess.Popen(
        [sys.executable, "-c", "from handoff.cli import main; main()", "--store", store,
         "lead", "capture", "k", "--source", "web"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 3  # PostgreSQL: it records; SQLite: it waits for `creating`
    while other.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if "://" not in store:
        assert other.poll() is None  # it opens the file only once its creator is done
    creating.close()  # nothing recorded by this one
    _, stderr = other.communicate(timeout=60)
    assert other.returncode == 0, stderr
    assert Handoff(store).json("lead", "show", "k")["state"] == "captured"
