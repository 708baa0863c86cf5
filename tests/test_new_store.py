"""Only a command that records something creates a store (SPEC §7): on SQLite a new store
is written to a draft beside it and put in place only once something is recorded, so a
refused command leaves none behind, and never replaces one another command made."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Handoff

from handoff.application import HandoffApp
from handoff.store import StoreUnavailable, locate

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
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, command: tuple[str, ...]
) -> None:
    files = tmp_path_factory.mktemp("files")  # apart from the store's folder
    for name, text in FILES.items():
        (files / name).write_text(text)
    command = tuple(str(files / part) if part in FILES else part for part in command)
    handoff = Handoff(str(tmp_path / "new.sqlite"))
    result = handoff(*command)
    assert result.exit_code == 1, result.output
    assert list(tmp_path.iterdir()) == []  # no store, no draft, no journal
    assert "no store at" in handoff.refused("kpi", "--month", "2026-03")


def test_a_command_that_records_puts_its_new_store_in_place(tmp_path: Path) -> None:
    handoff = Handoff(str(tmp_path / "new.sqlite"))
    handoff.ok("lead", "capture", "zz", "--source", "web", "--at", "2026-03-02T09:00")
    assert [p.name for p in tmp_path.iterdir()] == ["new.sqlite"]  # whole, WAL folded in
    assert handoff.json("lead", "show", "zz")["state"] == "captured"
    assert "1 entries match their seals" in handoff.ok("audit", "verify")


def test_a_refused_command_leaves_a_file_that_was_there(tmp_path: Path) -> None:
    existing = tmp_path / "store.sqlite"
    existing.touch()  # made by someone else: not this command's to remove
    Handoff(str(existing)).refused("lead", "capture", "zz", "--at", "garbage", "--source", "w")
    assert existing.exists()


def test_a_store_another_command_created_meanwhile_is_kept_and_this_draft_refused(
    tmp_path: Path,
) -> None:
    """Two commands create the same store at once: the first to finish puts its store in
    place; the other's entries are refused (to be recorded again), never merged or lost
    silently, and its draft goes."""
    location = locate(str(tmp_path / "new.sqlite"))
    draft = location.draft()
    assert draft is not None
    app = HandoffApp(draft)
    app.capture("mine", "web", "maria", at="2026-03-02T09:00")
    app.close()
    Handoff(location.given).ok("lead", "capture", "theirs", "--source", "web",
                               "--at", "2026-03-02T10:00")
    with pytest.raises(StoreUnavailable, match="created by another command meanwhile"):
        location.put_in_place(draft, recorded=True)
    assert [p.name for p in tmp_path.iterdir()] == ["new.sqlite"]
    assert "unknown lead" in Handoff(location.given).refused("lead", "show", "mine")
    assert Handoff(location.given).json("lead", "show", "theirs")["state"] == "captured"
