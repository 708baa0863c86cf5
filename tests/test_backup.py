"""The full backup: `export --format jsonl` restored by `import` gives the same store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import Handoff, nothing_recorded
from conftest import AGREEMENT, agreement_toml

from handoff.demo import build_demo

TODAY = date(2026, 11, 27)
# Instants inside the demo's recorded history (its events are recorded on a simulated
# clock shortly after they occur), at which a replayed report differs from today's.
PAST = ("2026-10-20T00:00Z", "2026-11-03T15:00Z", "2026-11-20T22:30Z")


def backup_of(handoff: Handoff, tmp_path: Path) -> Path:
    path = tmp_path / f"backup-{abs(hash(handoff.store))}.jsonl"
    path.write_text(handoff.ok("export", "--format", "jsonl"), encoding="utf-8")
    return path


def same_store(original: Handoff, restored: Handoff, keys: list[str]) -> None:
    for as_of in PAST:
        for options in ((), ("--basis", "cohort", "--by", "owner")):
            asked = ("kpi", "--month", "2026-10", "--as-of", as_of, *options)
            assert restored.json(*asked) == original.json(*asked)
        breaches = ("sla", "breaches", "--as-of", as_of, "--format", "json")
        assert restored(*breaches).stdout == original(*breaches).stdout
    assert restored.json("sla", "history") == original.json("sla", "history")
    for key in keys:
        assert restored.json("lead", "history", key) == original.json("lead", "history", key)
    assert restored.ok("export") == original.ok("export")


def test_a_restored_demo_replays_every_past_report(handoff: Handoff, tmp_path: Path) -> None:
    demo = tmp_path / "demo.sqlite"
    built = build_demo(demo, seed=4, today=TODAY, months=3)
    original = Handoff(str(demo))
    backup = backup_of(original, tmp_path)
    said = handoff.ok("import", str(backup))
    entries = len(backup.read_text().splitlines()) - 2  # the header, the line counting them
    assert said == (
        f"restored {entries} entries from the backup: {entries} written, 0 skipped"
        " (already in the store)\n"
    )
    keys = [row.split(",")[0] for row in original.ok("export").splitlines()[1:40]]
    assert built.leads > 100
    same_store(original, handoff, [k for k in keys if k])


def test_a_backup_cut_short_is_refused_and_one_of_the_first_format_restored(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A copy that stopped short (`head`, a transfer cut off) restores nothing; a backup
    written before backups ended with a line counting their entries (format 1) restores."""
    original = Handoff(str(tmp_path / "original.sqlite"))
    for n in range(3):
        original.ok("lead", "capture", f"k-{n}", "--source", "web", "--at", "2026-03-02T09:00")
        original.ok("lead", "qualify", f"k-{n}", "--at", "2026-03-02T10:00")
    lines = backup_of(original, tmp_path).read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 1 + 6 + 1 and json.loads(lines[-1]) == {
        "handoff_backup_end": {"entries": 6}}
    cut, first_format = tmp_path / "cut.jsonl", tmp_path / "format-1.jsonl"
    cut.write_text("".join(lines[:5]), encoding="utf-8")
    first_format.write_text("".join(['{"handoff_backup": 1}\n', *lines[1:-1]]), encoding="utf-8")

    assert handoff.refused("import", str(cut)) == (
        "Error: the backup stops at line 5, short of its last line (which counts its"
        " entries): it was cut short; nothing was written")
    assert nothing_recorded(handoff)
    # Not cut short, but added to: a note written after its last line.
    noted = tmp_path / "noted.jsonl"
    noted.write_text("".join([*lines, "\n", "copied from the laptop on 30 November\n"]),
                     encoding="utf-8")
    assert handoff.refused("import", str(noted)) == (
        "Error: the backup goes on after its last line (line 8, which counts its entries) to"
        " line 10: something was added to the file; nothing was written")
    assert nothing_recorded(handoff)
    assert handoff.ok("import", str(first_format)).startswith(
        "restored 6 entries from the backup: 6 written")
    assert handoff.ok("export") == original.ok("export")


def test_identical_events_signatures_and_erasures_survive_a_round_trip(
    handoff: Handoff, tmp_path: Path
) -> None:
    terms = tmp_path / "agreement.toml"
    terms.write_text(agreement_toml(AGREEMENT), encoding="utf-8")  # with a [team]
    handoff.ok("sla", "apply", str(terms), actor="maria")
    handoff.ok("sla", "sign", "1", actor="sam")
    handoff.ok("lead", "capture", "twice", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "twice", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "twice", "--owner", "sam", "--at", "2026-03-02T10:00",
               actor="li")
    handoff.ok("lead", "accept", "twice", "--at", "2026-03-02T11:00", actor="sam")
    for _ in range(2):  # the same proposal sent twice at the same minute: two events
        handoff.ok("lead", "proposal", "twice", "--amount", "1000", "--at", "2026-03-02T12:00",
                   actor="sam")
    handoff.ok("lead", "capture", "ann", "--source", "web", "--name", "Ann Lee",
               "--at", "2026-03-02T09:00")
    handoff.ok("lead", "forget", "ann", "--why", "asked to be forgotten")
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "120")
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "130")
    backup = backup_of(handoff, tmp_path)
    restored = Handoff(str(tmp_path / "restored.sqlite"))
    restored.ok("import", str(backup))
    for key in ("twice", "ann"):
        assert restored.json("lead", "history", key) == handoff.json("lead", "history", key)
    assert [e["event"] for e in restored.json("lead", "history", "twice")].count("proposal") == 2
    assert restored.json("lead", "show", "ann")["name"] == "[forgotten]"
    assert restored.json("sla", "history") == handoff.json("sla", "history")
    assert restored.json("kpi", "--month", "2026-03")["counts"] == (
        handoff.json("kpi", "--month", "2026-03")["counts"]
    )
    assert "the log is intact" in restored.ok("audit", "verify")
    # The restored store's own backup is the same, entry for entry, but for positions.
    again = [json.loads(line) for line in backup_of(restored, tmp_path).read_text().splitlines()]
    first = [json.loads(line) for line in backup.read_text().splitlines()]
    assert [{k: v for k, v in e.items() if k != "n"} for e in again] == (
        [{k: v for k, v in e.items() if k != "n"} for e in first]
    )


def test_importing_a_backup_again_writes_nothing(handoff: Handoff, tmp_path: Path) -> None:
    handoff.ok("lead", "capture", "a", "--source", "web", "--at", "2026-03-02T09:00")
    backup = backup_of(handoff, tmp_path)
    assert handoff.ok("import", str(backup)) == (
        "restored 1 entry from the backup: 0 written, 1 skipped (already in the store)\n"
    )
    assert len(handoff.json("lead", "history", "a")) == 1


def test_a_backup_is_not_restored_onto_a_store_holding_other_entries(
    handoff: Handoff, tmp_path: Path
) -> None:
    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "a", "--source", "web", "--at", "2026-03-02T09:00")
    backup = backup_of(source, tmp_path)
    handoff.ok("lead", "capture", "mine", "--source", "ads", "--at", "2026-03-02T09:00")
    before = handoff.ok("export", "--format", "jsonl")
    assert handoff.refused("import", str(backup)) == (
        "Error: this store holds 1 entry that is not in the backup: restore into an empty"
        " store; nothing was written"
    )  # the one capture of "mine"
    assert handoff.ok("export", "--format", "jsonl") == before


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda line: line.replace("Lead.Captured", "Lead.Hacked"),
         "line 2: an unknown kind of entry: 'handoff.domain.lead:Lead.Hacked'"),
        (lambda line: line[:-5], "line 2: "),
        (lambda line: line.replace('"v":1', '"v":2'), "line 2: entry 2 of"),
        (lambda line: line.replace('"source":"web"', '"source":7,"x":1'),
         "line 2: handoff cannot read this entry back"),
    ],
    ids=["unknown kind", "cut short", "out of order", "unreadable state"],
)
def test_a_damaged_backup_is_refused_with_its_line_and_writes_nothing(
    handoff: Handoff, tmp_path: Path, edit: object, reason: str
) -> None:
    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "a", "--source", "web", "--at", "2026-03-02T09:00")
    lines = source.ok("export", "--format", "jsonl").splitlines()
    damaged = tmp_path / "damaged.jsonl"
    edited = edit(lines[1])  # type: ignore[operator]
    damaged.write_text("\n".join([lines[0], edited, *lines[2:]]) + "\n")
    refusal = handoff.refused("import", str(damaged))
    assert refusal.startswith(f"Error: {reason}"), refusal
    assert refusal.endswith("nothing was written")
    assert nothing_recorded(handoff)


def test_a_dry_run_of_a_restore_checks_and_creates_nothing(tmp_path: Path) -> None:
    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "a", "--source", "web", "--at", "2026-03-02T09:00")
    backup = backup_of(source, tmp_path)
    target = tmp_path / "new.sqlite"
    assert Handoff(str(target)).ok("import", str(backup), "--dry-run") == (
        "dry run: the backup's 1 entry is valid: 1 would be restored, 0 already in the"
        " store; nothing was written\n"
    )
    assert not target.exists()


def test_a_backup_with_a_handoff_to_unassigned_from_an_earlier_release_restores(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands now refuse an owner named as the group of the leads nobody owns; an
    earlier release recorded one, and its backup restores as it was recorded."""
    from handoff.domain import agreement

    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "a", "--source", "web", "--at", "2026-03-02T09:00Z")
    source.ok("lead", "qualify", "a", "--at", "2026-03-02T10:00Z")
    with monkeypatch.context() as earlier_release:
        earlier_release.setattr(agreement, "check_owner_named", lambda owner: None)
        source.ok("lead", "handoff", "a", "--owner", "unassigned", "--at", "2026-03-02T11:00Z")
    backup = backup_of(source, tmp_path)
    handoff.ok("import", str(backup))
    assert handoff.json("lead", "show", "a")["owner"] == "unassigned"
    assert handoff.ok("export") == source.ok("export")
    by_owner = handoff.json("kpi", "--month", "2026-03", "--by", "owner")["groups"]
    assert by_owner["unassigned"]["counts"]["handed"] == 1  # counted in that group
