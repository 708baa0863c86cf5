"""Only a command that records something creates a store (SPEC §7): on SQLite a new store
is written to a draft beside it and put in place only once something is recorded, so a
refused command leaves none behind; commands creating the same store run one at a time."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from cli_helpers import Handoff
from sqlalchemy.engine import make_url

from handoff.application import HandoffApp
from handoff.store import locate

HEADER = "lead,event,at,actor,source,name,email,company,score,owner,reason,channel,amount,visits"
FILES = {
    "bad.csv": HEADER + "\nk,captured,garbage,maria,web,,,,,,,,,\n",
    "bad-backup.jsonl": '{"handoff_backup": 1}\n{"n": 1, "id": "zz"}\n',
}


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
    handoff = Handoff(store)
    result = handoff(*command)
    assert result.exit_code == 1, result.output
    assert _what_is_there(store) == []  # no store, no draft, no journal; no table
    assert "no store at" in handoff.refused("kpi", "--month", "2026-03")


def test_a_store_in_a_folder_that_does_not_exist_is_missing_or_cannot_be_created(
    tmp_path: Path
) -> None:
    """A command that only reads says the store is not there, as for any missing store; one
    that records says why it cannot create it."""
    handoff = Handoff(str(tmp_path / "no-such-folder" / "handoff.sqlite"))
    assert handoff.refused("kpi", "--month", "2026-03").startswith(
        "Error: no store at '" + str(tmp_path / "no-such-folder" / "handoff.sqlite") + "'")
    cannot = (f"Error: cannot create store '{tmp_path / 'no-such-folder' / 'handoff.sqlite'}':"
              f" folder {tmp_path / 'no-such-folder'} does not exist")
    assert handoff.refused("lead", "capture", "K", "--source", "web") == cannot
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at,source\nK,captured,2026-03-02T09:00Z,web\n", encoding="utf-8")
    assert handoff.refused("import", "--dry-run", str(rows)) == cannot  # as the import would be
    assert not (tmp_path / "no-such-folder").exists()


def _what_is_there(store: str) -> list[str]:
    """The files in a SQLite store's folder, or the tables in a PostgreSQL database."""
    if "://" not in store:
        return [p.name for p in Path(store).parent.iterdir()]
    url = make_url(store).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        cursor = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return [name for (name,) in cursor.fetchall()]


def test_a_command_that_records_puts_its_new_store_in_place(tmp_path: Path) -> None:
    handoff = Handoff(str(tmp_path / "new.sqlite"))
    handoff.ok("lead", "capture", "zz", "--source", "web", "--at", "2026-03-02T09:00")
    assert [p.name for p in tmp_path.iterdir()] == ["new.sqlite"]  # whole, WAL folded in
    assert handoff.json("lead", "show", "zz")["state"] == "captured"
    assert "1 entries match their seals" in handoff.ok("audit", "verify")


def test_a_store_whose_lock_file_cannot_be_made_is_refused_in_one_line(tmp_path: Path) -> None:
    """A folder where the lock file beside a new store goes (`.NAME.creating`)."""
    (tmp_path / ".s.sqlite.creating").mkdir()
    line = Handoff(str(tmp_path / "s.sqlite")).refused("lead", "capture", "k", "--source", "web")
    assert line == (f"Error: cannot create store '{tmp_path / 's.sqlite'}': Is a directory:"
                    f" {tmp_path / '.s.sqlite.creating'}")
    assert not (tmp_path / "s.sqlite").exists()


def test_a_refused_command_leaves_a_file_that_was_there(tmp_path: Path) -> None:
    existing = tmp_path / "store.sqlite"
    existing.touch()  # made by someone else: not this command's to remove
    Handoff(str(existing)).refused("lead", "capture", "zz", "--at", "garbage", "--source", "w")
    assert existing.exists()


def _capture_in_another_process(store: str, key: str) -> subprocess.Popen[str]:
    handoff = str(Path(sys.executable).with_name("handoff"))
    return subprocess.Popen(
        [handoff, "--store", store, "--actor", "ana", "lead", "capture", key, "--source", "web",
         "--at", "2026-03-02T10:00"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_a_new_store_still_open_when_its_command_ends_is_put_in_place_whole(
    tmp_path: Path,
) -> None:
    """A command interrupted mid-way (a Ctrl-C while an import's KPIs caught up) may end
    with a connection to its new store still open: what it recorded is put in place with
    the store's log, not thrown away with the draft."""
    location = locate(str(tmp_path / "new.sqlite"))
    new = location.draft()
    assert new is not None
    app = HandoffApp(new.draft)
    app.capture("mine", "web", "maria", at="2026-03-02T09:00")
    app.close()
    still_open = sqlite3.connect(new.draft.sqlite_path)
    still_open.execute("BEGIN")
    still_open.execute("SELECT count(*) FROM stored_events").fetchall()  # reading, a lock
    try:
        new.put_in_place(recorded=True)
    finally:
        still_open.close()
    assert Handoff(location.given).json("lead", "show", "mine")["state"] == "captured"
    assert "the log is intact" in Handoff(location.given).ok("audit", "verify")
    assert sorted(p.name for p in tmp_path.iterdir()) <= ["new.sqlite", "new.sqlite-wal"]


@pytest.mark.parametrize("first_records", [True, False])
def test_a_command_creating_a_store_another_is_creating_waits_then_records_into_it(
    tmp_path: Path, first_records: bool
) -> None:
    """Two commands create the same store at once: the second waits for the first to put
    its store in place (or to be refused, leaving none), then records into that store, or
    creates it; neither is refused for the other, nor loses anything."""
    location = locate(str(tmp_path / "new.sqlite"))
    first = location.draft()
    assert first is not None
    app = HandoffApp(first.draft)
    if first_records:
        app.capture("mine", "web", "maria", at="2026-03-02T09:00")
    app.close()
    second = _capture_in_another_process(location.given, "theirs")
    with pytest.raises(subprocess.TimeoutExpired):
        second.wait(timeout=2)  # it waits for the first command's store
    assert not (tmp_path / "new.sqlite").exists()
    first.put_in_place(recorded=first_records)
    _, errors = second.communicate(timeout=60)
    assert second.returncode == 0, errors
    assert [p.name for p in tmp_path.iterdir()] == ["new.sqlite"]  # no lock, no draft left
    handoff = Handoff(location.given)
    assert handoff.json("lead", "show", "theirs")["state"] == "captured"
    mine = handoff("lead", "show", "mine")
    assert mine.exit_code == (0 if first_records else 1), mine.output


def test_another_programs_sqlite_database_is_refused_and_left_as_it_was(
    tmp_path: Path
) -> None:
    """A --store naming another program's database (a typo, a wrong variable): handoff
    added its tables to it, even for a command it then refused, after which reports read
    it as an empty store of theirs rather than say there was none."""
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO customers (name) VALUES ('Ann')")
    connection.close()
    _refused_and_left_as_it_was(database, "it holds tables handoff does not know, such as"
                                " 'customers'", [
        ("lead", "capture", "zz", "--at", "garbage", "--source", "web"),
        ("lead", "capture", "zz", "--source", "web"), ("kpi", "--month", "2026-03"),
        ("export",)])


def _refused_and_left_as_it_was(
    database: Path, why: str, commands: list[tuple[str, ...]]
) -> None:
    """Each command refused, saying the database is another program's and `why`; the file
    left byte for byte as it was, and nothing made beside it."""
    before = database.read_bytes()
    handoff = Handoff(str(database))
    said = (f"Error: store '{database}' is another program's SQLite database ({why}): give a"
            " handoff store's file, or a new one")
    for command in commands:
        assert handoff.refused(*command) == said
    assert database.read_bytes() == before
    assert [p.name for p in database.parent.iterdir()] == [database.name]


@pytest.mark.parametrize("columns, row", [
    ("originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB",
     ("a1", 1, "shop.domain:Order.Placed", b"{}")),  # another eventsourcing application's
    ("id INTEGER PRIMARY KEY, payload TEXT", (1, "{}")),  # a table of that name, laid out otherwise
])
def test_another_programs_events_table_of_the_same_name_is_refused_and_left_as_it_was(
    tmp_path: Path, columns: str, row: tuple[object, ...]
) -> None:
    """The library names a SQLite store's events table `stored_events` for every
    application: another one's store passed for handoff's, which added its tables to it,
    counted the other program's events in its audit chain and recorded its leads among
    them (or failed with `no such column`, its tables added all the same)."""
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        connection.execute(f"CREATE TABLE stored_events ({columns})")
        connection.execute(f"INSERT INTO stored_events VALUES ({', '.join('?' * len(row))})", row)
    connection.close()
    _refused_and_left_as_it_was(database, "its table 'stored_events' holds events handoff did"
                                " not write", [
        ("lead", "capture", "zz", "--source", "web"), ("kpi", "--month", "2026-03"),
        ("audit", "verify"), ("projections", "status"), ("export",)])
