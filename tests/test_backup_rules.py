"""A backup is restored only if every entry in it is one the commands could have recorded
(SPEC §7: nothing a user can type, a backup edited by hand included, may leave a store
that a later command cannot read, or that reads wrong figures)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff, nothing_recorded
from conftest import AGREEMENT, TEAM_AGREEMENT, agreement_toml

from handoff.domain import bounds
from handoff.domain.traffic import traffic_day_id

Entry = dict[str, Any]


def instant(text: str) -> dict[str, str]:
    return {"_type_": "datetime_iso", "_data_": text}


def recorded_history(tmp_path: Path) -> Handoff:
    """A store whose backup reads, line by line: 1 the header, 2 captured, 3 qualified,
    4 handed, 5 rejected, 6 the day's traffic opened, 7 its visits."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "L", "--source", "web", "--at", "2026-03-02T09:00")
    source.ok("lead", "qualify", "L", "--at", "2026-03-02T10:00")
    source.ok("lead", "handoff", "L", "--owner", "sam", "--at", "2026-03-02T11:00")
    source.ok("lead", "reject", "L", "--reason", "not now", "--at", "2026-03-02T12:00")
    source.ok("traffic", "record", "--date", "2026-03-02", "--visits", "100")
    return source


def edited_backup(source: Handoff, tmp_path: Path, kind: str,
                  edit: Callable[[Entry], None]) -> Path:
    """The source's backup with the state of its (first) entry of this kind edited."""
    lines = backup_lines_of(source)
    entry = next(e for e in lines[1:] if e["topic"].endswith(f".{kind}"))
    edit(entry["state"])
    path = tmp_path / "edited.jsonl"
    path.write_text(as_backup(lines), encoding="utf-8")
    return path


def set_to(field: str, value: Any) -> Callable[[Entry], None]:
    return lambda state: state.__setitem__(field, value)


EDITS = {
    "a step dated before its lead's capture":
        ("Qualified", set_to("occurred_at", instant("2020-01-01T00:00:00+00:00")),
         "line 3: lead 'L': 2020-01-01T00:00:00Z is before its previous event"),
    "a capture dated after 2200":
        ("Captured", set_to("occurred_at", instant("9999-12-31T00:00:00+00:00")),
         "line 2: 9999-12-31T00:00:00+00:00 is out of range"),
    "a capture dated before 1900":
        ("Captured", set_to("occurred_at", instant("1800-01-01T00:00:00+00:00")),
         "line 2: 1800-01-01T00:00:00+00:00 is out of range"),
    "an instant without its offset":
        ("Handed", set_to("occurred_at", instant("2026-03-02T11:00:00")),
         "line 4: 2026-03-02T11:00:00 has no offset from UTC"),
    "a step recorded before the entry it follows":
        ("Qualified", set_to("timestamp", instant("2026-03-02T10:00:00+00:00")),
         "line 3: entry 2 of lead 'L' is recorded before entry 1"),
    "an entry recorded after now":
        ("Rejected", set_to("timestamp", instant("2100-01-01T00:00:00+00:00")),
         "line 5: entry 4 of lead 'L' is recorded at 2100-01-01T00:00:00Z, after now"),
    "an empty owner":
        ("Handed", set_to("owner", " "), "line 4: a handoff needs an owner"),
    "a source on two lines":
        ("Captured", set_to("source", "web\nads"), "line 2: source must be one line"),
    "a control character in a reason":
        ("Rejected", set_to("reason", "not\x07now"), "line 5: the reason holds a control"),
    "a key that is not its lead's":
        ("Captured", set_to("key", "M"),
         "line 2: this capture of lead 'M' is filed under another lead's id"),
    "visits far beyond the bound":
        ("VisitsRecorded", set_to("visits", 9 * 10**18),
         "line 7: visits must be between 0 and 999999999999, got 9000000000000000000"),
    "visits at the bound":
        ("VisitsRecorded", set_to("visits", 10**12),
         "line 7: visits must be between 0 and 999999999999, got 1000000000000"),
    "negative visits":
        ("VisitsRecorded", set_to("visits", -1), "line 7: visits must be between 0"),
    "a recording instant that is a number":
        ("Captured", set_to("timestamp", 12345),
         "line 2: handoff cannot read this entry back (timestamp is 12345)"),
    "no recording instant":
        ("Qualified", lambda state: state.pop("timestamp"),
         "line 3: handoff cannot read this entry back (timestamp is missing)"),
    "a capture building another kind of record":
        ("Captured", set_to("originator_topic", "handoff.domain.traffic:TrafficDay"),
         "line 2: handoff cannot read this entry back (originator_topic is"
         " 'handoff.domain.traffic:TrafficDay')"),
    "a capture building no kind of record at all":
        ("Captured", set_to("originator_topic", 12),
         "line 2: handoff cannot read this entry back (originator_topic is 12)"),
    "a later step naming a kind of record":
        ("Qualified", set_to("originator_topic", "handoff.domain.lead:Lead"),
         "line 3: handoff cannot read this entry back (unknown field 'originator_topic')"),
    "a score left out":
        ("Qualified", lambda state: state.pop("score"),
         "line 3: handoff cannot read this entry back (score is missing)"),
    "visits recorded after now":
        ("VisitsRecorded", set_to("recorded_at", instant("2100-01-01T00:00:00+00:00")),
         "line 7: entry 2 of the traffic of 2026-03-02 holds 2100-01-01T00:00:00Z, after now"),
    "an instant that is not one":
        ("Captured", set_to("timestamp", instant("yesterday")),
         "line 2: handoff cannot read this entry back (an instant, an amount or an id written"
         " otherwise than handoff writes it)"),
    "an instant that is a number":
        ("Captured", set_to("occurred_at", {"_type_": "datetime_iso", "_data_": 5}),
         "line 2: handoff cannot read this entry back (an instant, an amount or an id written"
         " otherwise than handoff writes it)"),
    "a day written in another form":
        ("Opened", set_to("day", "20260302"), "line 6: not a day: '20260302'"),
    "a tagged value of a kind handoff never writes":
        ("Captured", set_to("timestamp", {"_type_": "pickle", "_data_": "x"}),
         "line 2: handoff cannot read this entry back (a tagged value of a kind handoff never"
         " writes)"),
    "an agreement named without its version":
        ("Captured", set_to("agreement", "Fake agreement"),
         "line 2: entry 1 of lead 'L' names the agreement 'Fake agreement' without its version"),
    "an entry's id inside its state":
        ("Qualified", set_to("originator_id", "x"),
         "line 3: handoff cannot read this entry back (unknown field 'originator_id')"),
    "a class version inside a state":
        ("Qualified", set_to("class_version", 2),
         "line 3: handoff cannot read this entry back (unknown field 'class_version')"),
    "visits of another day":
        ("VisitsRecorded", set_to("day", "2026-03-03"),
         "line 7: these visits are of 2026-03-03, not of 2026-03-02"),
}


@pytest.mark.parametrize(("kind", "edit", "reason"), EDITS.values(), ids=EDITS.keys())
def test_a_backup_holding_what_no_command_would_record_is_refused_and_writes_nothing(
    handoff: Handoff, tmp_path: Path, kind: str, edit: Callable[[Entry], None], reason: str
) -> None:
    backup = edited_backup(recorded_history(tmp_path), tmp_path, kind, edit)
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith(f"Error: {reason}"), refusal
    assert refusal.endswith("nothing was written"), refusal
    assert nothing_recorded(handoff)


def test_a_backup_of_steps_an_earlier_release_recorded_by_a_blank_actor_is_restored(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Before the import refused an actor cell of spaces, it recorded one as it was: the
    backup of such a store is restored as it was recorded, not refused."""
    backup = edited_backup(recorded_history(tmp_path), tmp_path, "Qualified",
                           set_to("actor", "   "))
    handoff.ok("import", str(backup))
    steps = handoff.json("lead", "history", "L")
    assert [(s["event"], s["actor"]) for s in steps][:2] == [
        ("captured", "maria"), ("qualified", "   ")
    ]


def test_a_backup_of_a_lead_an_earlier_release_keyed_as_typed_apart_is_restored(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before a key had to be typed as it is seen (composed, NFC; no invisible character),
    one was recorded as typed: the backup of such a store is restored as it was recorded,
    not refused, and its lead is named as it was."""
    key = "jose\u0301"  # the accent typed apart from its letter
    source = Handoff(str(tmp_path / "source.sqlite"))
    with monkeypatch.context() as earlier_release:
        earlier_release.setattr(bounds, "check_seen_as_written", lambda what, text: None)
        source.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00")
    assert "the lead's key" in source.refused("lead", "capture", "jo\u200bse", "--source", "w")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    handoff.ok("import", str(backup))
    assert handoff.json("lead", "show", key)["key"] == key
    handoff.ok("lead", "qualify", key, "--at", "2026-03-02T10:00")


def test_a_backup_of_two_calls_an_earlier_release_recorded_at_one_instant_is_restored(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before a step was known by its lead, event and instant, a call by phone and one by
    e-mail could be logged at the same instant (its CSV export did not import again): the
    backup of such a store is restored as it was recorded, both calls."""
    from handoff.domain import lead

    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "L", "--source", "web", "--at", "2026-03-02T09:00")
    source.ok("lead", "qualify", "L", "--at", "2026-03-02T10:00")
    source.ok("lead", "handoff", "L", "--owner", "sam", "--at", "2026-03-02T11:00")
    with monkeypatch.context() as earlier_release:
        earlier_release.setattr(lead, "check_one_step_then", lambda *_: None)
        for channel in ("phone", "email"):
            source.ok("lead", "contact", "L", "--channel", channel, "--at", "2026-03-02T11:30")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    handoff.ok("import", str(backup))
    assert [(s["event"], s.get("channel")) for s in handoff.json("lead", "history", "L")][3:] == [
        ("contacted", "phone"), ("contacted", "email")]


def test_a_backup_never_makes_handoff_load_a_module_it_names(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The library builds a lead, a day or the register from the class its first entry names
    (`originator_topic`): a backup naming any other is refused before anything is loaded
    (here the standard library's `this`, which prints a poem when it is imported)."""
    assert "this" not in sys.modules
    backup = edited_backup(recorded_history(tmp_path), tmp_path, "Captured",
                           set_to("originator_topic", "this:s"))
    result = handoff("import", str(backup))
    assert result.exit_code == 1
    assert result.stderr == ("Error: line 2: handoff cannot read this entry back"
                             " (originator_topic is 'this:s'); nothing was written\n")
    assert "Zen" not in result.stdout
    assert "this" not in sys.modules
    assert nothing_recorded(handoff)


def _line(number: int, text: str) -> Callable[[list[str]], None]:
    return lambda lines: lines.__setitem__(number - 1, text)


def _state(number: int, **values: Any) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        entry = json.loads(lines[number - 1])
        entry["state"].update(values)
        lines[number - 1] = json.dumps(entry)
    return edit


UNREADABLE = {
    "a line that is not JSON":
        (_line(3, "{not json"), "line 3: not JSON: Expecting property name enclosed in double"
                                " quotes (column 2)"),
    "JSON nested beyond reading":
        (_line(3, "[" * 100_000 + "]" * 100_000), "line 3: not JSON handoff reads: nested too"
                                                  " deeply"),
    "a number of five thousand digits":
        (lambda lines: lines.__setitem__(2, lines[2].replace('"score":null',
                                                             '"score":' + "9" * 5000)),
         "line 3: not JSON handoff reads: a number too long"),
    "a lone surrogate in a name":
        (_state(2, source="web\ud800"), "line 2: it holds a text that is not valid Unicode"),
    "an id that is not one":
        (lambda lines: lines.__setitem__(2, re.sub(r'"id":"[0-9a-f]+"', '"id":"' + "g" * 32 + '"',
                                                   lines[2])),
         "line 3: not an entry id: '" + "g" * 32 + "'"),
    "a key as long as a book":
        (lambda lines: lines.__setitem__(1, lines[1].replace('"key":"L"', '"key":"' + "K" * 100_000
                                                             + '"')),
         "line 2: this capture of lead 'KKKK"),
    "an entry out of its record's order":
        (lambda lines: lines.__setitem__(2, lines[2].replace('"v":2', '"v":5')),
         "line 3: entry 5 of lead 'L' comes where entry 2 should"),
    "a record opened twice":
        (lambda lines: lines.__setitem__(slice(5, 7), [
            lines[5], lines[5].replace('"v":1', '"v":2'), lines[6].replace('"v":2', '"v":3')]),
         "line 7: entry 2 of the traffic of 2026-03-02 opens the record again"),
}


@pytest.mark.parametrize(("edit", "reason"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_backup_line_handoff_cannot_read_is_named_in_words(
    handoff: Handoff, tmp_path: Path, edit: Callable[[list[str]], None], reason: str
) -> None:
    """What json or the library would say in Python's words is said in one line of ours."""
    lines = recorded_history(tmp_path).ok("export", "--format", "jsonl").splitlines()
    edit(lines)
    backup = tmp_path / "edited.jsonl"
    backup.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith(f"Error: {reason}"), refusal[:300]
    assert refusal.endswith("nothing was written"), refusal[-300:]
    assert len(refusal) < 1000  # what it quotes is cut short
    assert nothing_recorded(handoff)


@pytest.fixture(scope="module")
def verified_backup(tmp_path_factory: pytest.TempPathFactory) -> list[Entry]:
    """The backup of a store holding one run of `sla verify` (run once: it runs every
    example): 1 the header, 2 the log opened, 3 the run."""
    source = Handoff(str(tmp_path_factory.mktemp("verified") / "source.sqlite"))
    result = source("sla", "verify")
    assert result.exit_code in (0, 1), result.output  # 1: a clause failed, still recorded
    return backup_lines_of(source)


CLAUSE_EDITS = {
    "a clause without its words":
        (lambda clause: clause.pop("clause"), "line 3: a verified clause holds clause,"
                                              " examples, failed, feature, not"),
    "a count of examples in words":
        (lambda clause: clause.__setitem__("examples", "many"),
         "line 3: a verified clause cannot read"),
    "failures that are not a list":
        (lambda clause: clause.__setitem__("failed", 5), "line 3: a verified clause cannot read"),
    "a negative count":
        (lambda clause: clause.__setitem__("examples", -5),
         "line 3: examples must be between 0 and 999999999999"),
}


@pytest.mark.parametrize(("edit", "reason"), CLAUSE_EDITS.values(), ids=CLAUSE_EDITS.keys())
def test_a_verification_run_restores_only_clauses_it_could_have_recorded(
    handoff: Handoff, tmp_path: Path, verified_backup: list[Entry],
    edit: Callable[[Entry], None], reason: str
) -> None:
    lines = json.loads(json.dumps(verified_backup))
    edit(lines[2]["state"]["clauses"][0])
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith(f"Error: {reason}"), refusal
    assert nothing_recorded(handoff)


def test_a_verification_run_is_restored_as_it_was(
    handoff: Handoff, tmp_path: Path, verified_backup: list[Entry]
) -> None:
    handoff.ok("import", str(written(tmp_path, json.loads(json.dumps(verified_backup)))))
    restored = backup_lines_of(handoff)
    assert [e["state"] for e in restored[1:]] == [e["state"] for e in verified_backup[1:]]


def test_a_backup_restored_into_a_store_holding_other_entries_names_the_record(
    handoff: Handoff, tmp_path: Path
) -> None:
    handoff.ok("lead", "capture", "L", "--source", "ads", "--at", "2026-03-02T08:00")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(recorded_history(tmp_path).ok("export", "--format", "jsonl"),
                      encoding="utf-8")
    refusal = handoff.refused("import", str(backup))
    assert refusal == ("Error: line 2: entry 1 of lead 'L' differs from the one this store"
                       " holds (restore into an empty store); nothing was written"), refusal


def test_the_trial_backup_no_longer_breaks_the_lead_and_the_visits(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The outside trial's file: a qualification moved before the capture and 9·10^18 visits,
    which once restored made `lead show` fail and `kpi` count no visit."""
    source = recorded_history(tmp_path)
    lines = backup_lines_of(source)
    for line in lines[1:]:
        if line["topic"].endswith("Lead.Qualified"):
            line["state"]["occurred_at"]["_data_"] = "2020-01-01T00:00:00+00:00"
        if line["topic"].endswith("VisitsRecorded"):
            line["state"]["visits"] = 9 * 10**18
    backup = tmp_path / "trial.jsonl"
    backup.write_text(as_backup(lines), encoding="utf-8")
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith("Error: line 3: "), refusal
    assert "line 7: visits must be between 0 and 999999999999" in refusal
    assert nothing_recorded(handoff)
    assert handoff.refused("import", str(backup), "--dry-run").startswith("Error: line 3: ")


AGREEMENT_EDITS = {
    "a rate above 1": (
        lambda document: document["sales"]["rates"].__setitem__("proposal_to_won", "5"),
        "line 3: sales.rates.proposal_to_won: must be a rate between 0 and 1"),
    "no window to decide in": (
        lambda document: document["sales"].__setitem__("decide_within_hours", "0"),
        "line 3: sales.decide_within_hours: must be greater than 0"),
    "a goal beyond the bound": (
        lambda document: document["goal"].__setitem__("revenue", str(10**15)),
        "line 3: goal.revenue: must be below 1000000000000"),
    "an unknown term": (
        lambda document: document.__setitem__("bonus", "1"),
        "line 3: bonus: unknown key"),
    "an unknown time zone": (
        lambda document: document.__setitem__("timezone", "Mars/Olympus"),
        "line 3: timezone: unknown time zone"),
}


@pytest.mark.parametrize(("edit", "reason"), AGREEMENT_EDITS.values(), ids=AGREEMENT_EDITS.keys())
def test_a_backup_holding_an_agreement_no_file_could_state_is_refused(
    handoff: Handoff, tmp_path: Path, edit: Callable[[Entry], None], reason: str
) -> None:
    source = Handoff(str(tmp_path / "source.sqlite"))
    terms = tmp_path / "agreement.toml"
    terms.write_text(agreement_toml(AGREEMENT, {"team": None}), encoding="utf-8")
    source.ok("sla", "apply", str(terms))
    backup = edited_backup(source, tmp_path, "VersionApplied",
                           lambda state: edit(state["document"]))  # type: ignore[func-returns-value]
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith(f"Error: {reason}"), refusal
    assert nothing_recorded(handoff)


def test_corrections_restatements_and_erasures_are_restored(
    handoff: Handoff, tmp_path: Path
) -> None:
    """What backups legitimately hold is restored as it was: back-dated steps, voided and
    amended entries, two identical steps, a restatement, a lead forgotten after its name
    was amended."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    terms = tmp_path / "agreement.toml"
    terms.write_text(agreement_toml(AGREEMENT, {"team": None}), encoding="utf-8")
    source.ok("sla", "apply", str(terms))
    source.ok("lead", "capture", "K", "--source", "web", "--name", "Kim",
              "--at", "2026-03-02T09:00")
    source.ok("lead", "qualify", "K", "--score", "40", "--at", "2026-03-02T10:00")
    source.ok("lead", "handoff", "K", "--owner", "sam", "--at", "2026-03-02T11:00")
    source.ok("lead", "accept", "K", "--at", "2026-03-02T15:00")
    source.ok("lead", "contact", "K", "--at", "2026-03-02T14:00", "--why", "forgot to log it")
    for _ in range(2):
        source.ok("lead", "contact", "K", "--channel", "phone", "--at", "2026-03-03T09:00")
    source.ok("lead", "proposal", "K", "--amount", "1200.50", "--at", "2026-03-04T09:00")
    source.ok("lead", "void", "K", "7", "--why", "called twice by mistake")
    source.ok("lead", "amend", "K", "2", "--score", "55", "--why", "typo\non two lines")
    source.ok("lead", "amend", "K", "8", "--amount", "1300", "--at", "2026-03-04T10:00",
              "--why", "the sent amount")
    source.ok("lead", "amend", "K", "1", "--name", "Kimberly", "--why", "full name")
    source.ok("lead", "win", "K", "--at", "2026-03-05T09:00")
    source.ok("lead", "forget", "K", "--why", "asked to be forgotten")
    changed = agreement_toml(AGREEMENT, {"team": None, "sales.decide_within_hours": "6"})
    terms.write_text(changed, encoding="utf-8")
    source.ok("sla", "apply", str(terms), "--restate", "--why", "six hours, as agreed")
    source.ok("traffic", "record", "--date", "2026-03-02", "--visits", "999999999999")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    handoff.ok("import", str(backup))
    assert handoff.json("lead", "history", "K") == source.json("lead", "history", "K")
    assert handoff.json("lead", "show", "K") == source.json("lead", "show", "K")
    restored, original = (h.json("kpi", "--month", "2026-03") for h in (handoff, source))
    assert {**restored, "as_of": None} == {**original, "as_of": None}
    assert handoff.json("sla", "history") == source.json("sla", "history")
    assert handoff.ok("export") == source.ok("export")


def signed_history(tmp_path: Path) -> Handoff:
    """A store under an agreement with a team (marketing maria and li, sales sam and ola),
    in force from its signature, and a lead handed to sam and accepted."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    terms = tmp_path / "team.toml"
    terms.write_text(TEAM_AGREEMENT, encoding="utf-8")
    source.ok("sla", "apply", str(terms))
    source.ok("sla", "sign", "1", actor="sam")
    source.ok("lead", "capture", "L", "--source", "web", "--at", "2026-03-02T09:00")
    source.ok("lead", "qualify", "L", "--at", "2026-03-02T10:00")
    source.ok("lead", "handoff", "L", "--owner", "sam", "--at", "2026-03-02T11:00")
    source.ok("lead", "accept", "L", "--at", "2026-03-02T12:00", actor="sam")
    return source


TEAM_EDITS = {
    "a handoff by someone not on the team":
        ("Handed", set_to("actor", "mallory"),
         "'mallory' may not record handed: the agreement '2026 H1 growth agreement' lets"
         " only maria, li do that"),
    "a handoff to an owner not on the sales side":
        ("Handed", set_to("owner", "bob"),
         "'bob' is not on the sales side of the agreement '2026 H1 growth agreement'"
         " (sam, ola)"),
    "a decision by marketing":
        ("Accepted", set_to("actor", "li"), "'li' may not record accepted"),
    "a version never applied":
        ("Captured", set_to("agreement_version", 7),
         "names the agreement '2026 H1 growth agreement' (version 7), which was not in"
         " force for it when it was recorded"),
    "another agreement's name":
        ("Qualified", set_to("agreement", "Fake agreement"),
         "names the agreement 'Fake agreement' (version 1), which was not in force"),
    "a signature after now":
        ("VersionSigned", set_to("signed_at", instant("2100-01-01T00:00:00+00:00")),
         "line 4: entry 3 of the agreement register holds 2100-01-01T00:00:00Z, after now"),
    "a version for a day it does not cover":
        ("Captured", set_to("occurred_at", instant("2025-12-31T12:00:00+00:00")),
         "(version 1), which was not in force for it"),
    # The agreement's own entries, as `sla apply` and `sla sign` record them.
    "a version proposed by someone not on the team":
        ("VersionProposed", set_to("actor", "mallory"),
         "line 3: 'mallory' is on neither side of the team (marketing: maria, li; sales: sam,"
         " ola)"),
    "a proposal signed for the other side":
        ("VersionProposed", set_to("side", "sales"),
         "line 3: entry 2 of the agreement register is not what sla apply records: it differs"
         " in the side"),
    "a second signature from the proposer's side":
        ("VersionSigned", set_to("actor", "li"),
         "line 4: version 1 is already signed for marketing; it needs a signature from sales"),
    "terms in force other than those both sides signed":
        ("VersionApplied", lambda state: state["document"]["sales"].__setitem__(
            "decide_within_hours", "80"),
         "line 5: entry 4 of the agreement register is not what sla sign records: it differs"
         " in the terms"),
    "a version put in force by its signer rather than its proposer":
        ("VersionApplied", set_to("actor", "sam"),
         "line 5: entry 4 of the agreement register is not what sla sign records: it differs"
         " in who made it"),
}


@pytest.mark.parametrize(("kind", "edit", "reason"), TEAM_EDITS.values(), ids=TEAM_EDITS.keys())
def test_a_backup_naming_an_agreement_or_a_team_member_the_commands_would_not_is_refused(
    handoff: Handoff, tmp_path: Path, kind: str, edit: Callable[[Entry], None], reason: str
) -> None:
    """Each lead entry was stamped with the agreement in force for its day, and recorded by
    someone its team lets record it (`AgreementRegister.stamp`): a backup edited to say
    otherwise would show a version, an agreement or an actor the protocol never had."""
    backup = edited_backup(signed_history(tmp_path), tmp_path, kind, edit)
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith("Error: line ") and reason in refusal, refusal
    assert refusal.endswith("nothing was written"), refusal
    assert nothing_recorded(handoff)


def test_corrections_made_after_their_agreement_ended_are_restored(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A correction is stamped with the agreement in force on its step's day, whenever it is
    made (`lead void`, `lead amend`): here months after that agreement's last day (which
    once refused the backup, as if the agreement had to cover the day of the correction)."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    terms = tmp_path / "q1.toml"
    terms.write_text(agreement_toml(AGREEMENT, {"team": None, "effective_to": "2026-03-31"}),
                     encoding="utf-8")
    source.ok("sla", "apply", str(terms))
    source.ok("lead", "capture", "K", "--source", "web", "--at", "2026-03-02T09:00")
    source.ok("lead", "qualify", "K", "--score", "40", "--at", "2026-03-02T10:00")
    source.ok("lead", "handoff", "K", "--owner", "sam", "--at", "2026-03-02T11:00")
    source.ok("lead", "contact", "K", "--at", "2026-03-03T11:00")
    source.ok("lead", "amend", "K", "2", "--score", "55", "--why", "typo")
    source.ok("lead", "amend", "K", "3", "--at", "2026-03-02T10:30", "--why", "the true time")
    source.ok("lead", "void", "K", "4", "--why", "logged on the wrong lead")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    handoff.ok("import", str(backup))
    assert handoff.json("lead", "history", "K") == source.json("lead", "history", "K")
    assert handoff.ok("export") == source.ok("export")


def test_a_correction_by_someone_the_team_does_not_let_record_its_step_is_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Who may record a step may correct it (`lead void`): a backup whose voiding of sam's
    acceptance is edited to be li's (marketing) is refused, as the command refuses li."""
    source = signed_history(tmp_path)
    source.ok("lead", "void", "L", "4", "--why", "accepted by mistake", actor="sam")
    backup = edited_backup(source, tmp_path, "Voided", set_to("actor", "li"))
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith("Error: line 10: ") and "'li' may not record accepted" in refusal, \
        refusal
    assert nothing_recorded(handoff)


def with_hours(hours: int) -> str:
    """The team's agreement, sales deciding within these business hours."""
    changed = TEAM_AGREEMENT.replace("decide_within_hours = 8", f"decide_within_hours = {hours}")
    assert changed != TEAM_AGREEMENT
    return changed


def backup_lines_of(source: Handoff) -> list[Entry]:
    """The header and the entries of the source's backup (its last line, which counts them,
    is written again by `as_backup`)."""
    lines = [json.loads(line) for line in source.ok("export", "--format", "jsonl").splitlines()]
    assert lines[-1] == {"handoff_backup_end": {"entries": len(lines) - 2}}
    return lines[:-1]


def as_backup(lines: list[Entry]) -> str:
    """The header and the entries as a backup's text, ending with the line counting them."""
    end = {"handoff_backup_end": {"entries": len(lines) - 1}}
    return "".join(json.dumps(e) + "\n" for e in [*lines, end])


def written(tmp_path: Path, lines: list[Entry]) -> Path:
    """The entries as a backup file, numbered again in order (`n`, and `v` per record)."""
    versions: dict[str, int] = {}
    for n, line in enumerate(lines[1:], start=1):
        line["n"], versions[line["id"]] = n, versions.get(line["id"], 0) + 1
        line["v"] = versions[line["id"]]
    path = tmp_path / "written.jsonl"
    path.write_text(as_backup(lines), encoding="utf-8")
    return path


def as_before_signing(lines: list[Entry]) -> list[Entry]:
    """A backup as handoff wrote it before agreements were signed: each version put in
    force at once, by the one who applied it, without a number."""
    kept = [e for e in lines if not e.get("topic", "").endswith(("VersionProposed",
                                                                  "VersionSigned"))]
    for entry in kept[1:]:
        if entry["topic"].endswith("VersionApplied"):
            entry["state"].pop("number")
            entry["state"]["actor"] = "maria"
    return kept


def test_a_backup_from_before_signing_existed_is_restored(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Its versions were put in force at once, a team's terms too, the same terms even
    twice, and carry no number: restored as they were recorded then, numbered by order."""
    lines = as_before_signing(backup_lines_of(signed_history(tmp_path)))
    applied = next(n for n, e in enumerate(lines) if e.get("topic", "").endswith("Applied"))
    lines.insert(applied + 1, json.loads(json.dumps(lines[applied])))  # applied twice
    handoff.ok("import", str(written(tmp_path, lines)))
    history = handoff.json("sla", "history")
    assert [(v["version"], v["applied_by"], v["signatures"]) for v in history] == [
        (1, "maria", []), (2, "maria", [])
    ]
    assert handoff.json("lead", "show", "L")["state"] == "accepted"


def test_a_version_without_a_number_after_numbered_ones_is_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Only versions from before signing existed come without a number, so only before any
    numbered entry: later, one would take the number of a proposal and its signatures."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    terms = tmp_path / "agreement.toml"
    for hours in ("8", "6"):
        terms.write_text(agreement_toml(AGREEMENT, {"team": None,
                                                    "sales.decide_within_hours": hours}),
                         encoding="utf-8")
        source.ok("sla", "apply", str(terms))
    lines = backup_lines_of(source)
    lines[-1]["state"].pop("number")
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith("Error: line 4: entry 3 of the agreement register puts a version"
                              " in force without its number"), refusal
    assert nothing_recorded(handoff)
    # ... and after a signature, it is not the version that signature puts in force.
    (tmp_path / "signed").mkdir()
    lines = backup_lines_of(signed_history(tmp_path / "signed"))
    next(e for e in lines[1:] if e["topic"].endswith("VersionApplied"))["state"].pop("number")
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith("Error: line 5: entry 4 of the agreement register is not what"
                              " sla sign records: it differs in the version number"), refusal


def test_a_signature_whose_version_never_comes_into_force_is_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """`sla sign` records the signature and the version it puts in force together: a backup
    holding one without the other would leave a proposal signed twice and never in force."""
    lines = [e for e in backup_lines_of(signed_history(tmp_path))
             if not e.get("topic", "").endswith("VersionApplied")]
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith(
        "Error: line 4: version 1 is signed by both sides, yet the backup never puts it in"
        " force (sla sign records both)"), refusal
    assert nothing_recorded(handoff)


def test_restatements_signed_and_proposals_overtaken_are_restored(
    handoff: Handoff, tmp_path: Path
) -> None:
    """What the register legitimately holds under a team: a restatement whose reason the
    signer gave, and a proposal overtaken by another version before it was signed."""
    source = signed_history(tmp_path)
    terms = tmp_path / "team.toml"
    for hours in (6, 7):
        terms.write_text(with_hours(hours), encoding="utf-8")
        source.ok("sla", "apply", str(terms))
    source.ok("sla", "sign", "3", "--restate", "--why", "seven hours, from the start", actor="sam")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    handoff.ok("import", str(backup))
    assert handoff.json("sla", "history") == source.json("sla", "history")
    assert handoff.ok("export") == source.ok("export")


@pytest.mark.parametrize("moved", ["a second register", "the register under another id"])
def test_the_agreement_register_is_filed_under_its_own_id_only(
    handoff: Handoff, tmp_path: Path, moved: str
) -> None:
    """Every command reads the one register handoff files under its own id: another would
    be restored beside it (and break the figures) or instead of it (no agreement at all)."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    terms = tmp_path / "agreement.toml"
    terms.write_text(agreement_toml(AGREEMENT, {"team": None}), encoding="utf-8")
    source.ok("sla", "apply", str(terms))
    lines = backup_lines_of(source)
    register = [e for e in lines[1:] if "AgreementRegister" in e["topic"]]
    other = "ab" * 16
    if moved == "a second register":
        lines.extend({**json.loads(json.dumps(e)), "id": other} for e in register)
        line = 4
    else:
        for entry in register:
            entry["id"] = other
        line = 2
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith(
        f"Error: line {line}: entry 1 of the agreement register is filed under {other},"
        " which is not its own id"), refusal
    assert nothing_recorded(handoff)


def test_visits_of_a_day_that_had_not_begun_when_recorded_are_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """`traffic record` counts a day once it has begun: a backup's visits recorded before
    their day began anywhere are refused, as the command refuses them."""
    def move(lines: list[Entry]) -> None:
        for entry in lines[1:]:
            if "TrafficDay" in entry["topic"]:
                entry["id"] = str(traffic_day_id(date(2026, 12, 25)).hex)
                entry["state"]["day"] = "2026-12-25"
                entry["state"].get("recorded_at", {}).update(_data_="2026-03-03T00:00:00+00:00")

    lines = backup_lines_of(recorded_history(tmp_path))
    move(lines)
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith("Error: line 7: 2026-12-25 has not begun yet"), refusal
    assert nothing_recorded(handoff)


def forgotten_history(tmp_path: Path) -> Handoff:
    """A lead with a proposal whose person was forgotten: its backup reads 1 the header,
    2 captured, 3 qualified, 4 handed, 5 accepted, 6 proposal, 7 forgotten."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "K", "--source", "web", "--name", "Kim",
              "--at", "2026-03-02T09:00")
    source.ok("lead", "qualify", "K", "--at", "2026-03-02T10:00")
    source.ok("lead", "handoff", "K", "--owner", "sam", "--at", "2026-03-02T11:00")
    source.ok("lead", "accept", "K", "--at", "2026-03-02T12:00")
    source.ok("lead", "proposal", "K", "--amount", "1000", "--at", "2026-03-03T12:00")
    source.ok("lead", "forget", "K", "--why", "asked to be forgotten")
    return source


FORGOTTEN_EDITS = {
    "an erased entry at no position": (
        "Forgotten", set_to("erased", [[1e400, "00"]]),
        "line 7: lead 'K' is forgotten with an erasure that is none of its entries"),
    "an erased digest of no entry of the lead": (
        "Forgotten", lambda state: state["erased"].__setitem__(0, [3, "ab" * 32]),
        "line 7: lead 'K' is forgotten with an erasure that is none of its entries"),
    "a forgetting dated before it was recorded": (
        "Forgotten", set_to("occurred_at", instant("2026-03-04T00:00:00+00:00")),
        "line 7: a correction or a forgetting happens when it is recorded"),
    "an amount that is not a number": (
        "ProposalSent", lambda state: state["amount"].__setitem__("_data_", "abc"),
        "line 6: handoff cannot read this entry back (an instant, an amount or an id written"
        " otherwise than handoff writes it)"),
    "an amount written with an exponent": (
        "ProposalSent", lambda state: state["amount"].__setitem__("_data_", "1E+3"),
        "line 6: not an amount: '1E+3' (write it like 1200 or 1200.50)"),
}


@pytest.mark.parametrize(("kind", "edit", "reason"), FORGOTTEN_EDITS.values(),
                         ids=FORGOTTEN_EDITS.keys())
def test_a_forgotten_lead_restores_only_the_erasures_of_its_own_entries(
    handoff: Handoff, tmp_path: Path, kind: str, edit: Callable[[Entry], None], reason: str
) -> None:
    """A forgetting names each entry it erased, with its digest once erased: `audit verify`
    takes an entry reading so for an erasure, not an edit. In a backup, those must be the
    lead's own entries as the backup holds them; any other would let a later edit of the
    restored log pass for one (or break `audit verify`)."""
    backup = edited_backup(forgotten_history(tmp_path), tmp_path, kind, edit)
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith(f"Error: {reason}"), refusal
    assert nothing_recorded(handoff)


def test_a_lead_forgotten_twice_with_nothing_left_to_erase_is_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """`lead forget` on a lead forgotten already erases only what was left: a backup
    holding its forgetting twice over is no command's record."""
    lines = backup_lines_of(forgotten_history(tmp_path))
    lines.append(json.loads(json.dumps(lines[-1])))
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith("Error: line 8: lead 'K' was forgotten already"), refusal
    assert nothing_recorded(handoff)


@pytest.mark.parametrize(("header", "position", "reason"), [
    ({"handoff_backup": True}, 1, "a backup of format true, this handoff reads formats 1 and 2"),
    ({"handoff_backup": 1.0}, 1, "a backup of format 1.0, this handoff reads formats 1 and 2"),
    ({"handoff_backup": 1}, "x", "line 2: a position must be a positive whole number, not 'x'"),
])
def test_a_backup_header_and_positions_are_whole_numbers(
    handoff: Handoff, tmp_path: Path, header: Entry, position: Any, reason: str
) -> None:
    lines = backup_lines_of(recorded_history(tmp_path))
    lines[0] = header
    path = written(tmp_path, lines)
    text = path.read_text(encoding="utf-8").splitlines()
    entry = json.loads(text[1])
    entry["n"] = position
    path.write_text("\n".join([text[0], json.dumps(entry), *text[2:]]) + "\n", encoding="utf-8")
    refusal = handoff.refused("import", str(path))
    assert refusal.startswith(f"Error: {reason}"), refusal
    assert nothing_recorded(handoff)


def test_a_forgotten_lead_is_restored_with_its_erasures(handoff: Handoff, tmp_path: Path) -> None:
    source = forgotten_history(tmp_path)
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    kept = source.ok("audit", "digest").strip()
    handoff.ok("import", str(backup))
    assert handoff.ok("export") == source.ok("export")
    assert "1 of them with a person's details erased" not in handoff.ok("audit", "verify")
    # A digest kept of the original: its seals were of the details erased since, which no
    # backup holds. Said as such beside "rewritten", not left to read as tampering alone.
    said = handoff.refused("audit", "verify", "--digest", kept)
    assert said.endswith("it was rewritten since, seals included (or restored from a backup"
                         " since a lead was forgotten: a restored store is sealed anew, and"
                         " the digest's seals were taken of the details erased since)"), said
    assert source.ok("audit", "verify", "--digest", kept)  # the original extends it


def test_a_step_naming_no_agreement_under_one_known_in_force_is_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A command stamps a step with the version in force for its day: an entry naming none,
    recorded when one had been in force for longer than a command takes (here an hour),
    would escape its team's rules (mallory handing the lead over)."""
    lines = backup_lines_of(signed_history(tmp_path))
    for entry in lines[1:]:
        state = entry["state"]
        if entry["topic"].endswith(("VersionSigned", "VersionApplied")):
            moment = "signed_at" if "signed_at" in state else "applied_at"
            state[moment]["_data_"] = "2026-01-01T00:00:00+00:00"
        if entry["topic"].endswith("Lead.Handed"):
            state.update(actor="mallory", agreement=None, agreement_version=None)
    refusal = handoff.refused("import", str(written(tmp_path, lines)))
    assert refusal.startswith(
        "Error: line 8: entry 3 of lead 'L' names no agreement, yet '2026 H1 growth agreement'"
        " (version 1) was in force for it when it was recorded"), refusal
    assert nothing_recorded(handoff)


def test_a_backup_under_a_team_agreement_is_restored_as_it_was(
    handoff: Handoff, tmp_path: Path
) -> None:
    source = signed_history(tmp_path)
    backup = tmp_path / "backup.jsonl"
    backup.write_text(source.ok("export", "--format", "jsonl"), encoding="utf-8")
    handoff.ok("import", str(backup))
    assert handoff.json("lead", "history", "L") == source.json("lead", "history", "L")
    assert handoff.json("sla", "history") == source.json("sla", "history")


@pytest.mark.parametrize("kind", ["Captured", "Amended"])
def test_a_backup_holding_a_forgotten_persons_details_is_refused(
    handoff: Handoff, tmp_path: Path, kind: str
) -> None:
    """Forgetting a lead erased its person's details from every entry before it: a backup
    that holds them again was edited, and restoring it would bring the person back."""
    source = Handoff(str(tmp_path / "source.sqlite"))
    source.ok("lead", "capture", "F", "--source", "web", "--name", "Carol",
              "--email", "carol@example.com", "--at", "2026-03-02T09:00")
    source.ok("lead", "amend", "F", "1", "--company", "Carol's shop", "--why", "her company")
    source.ok("lead", "forget", "F", "--why", "asked to be forgotten")
    if kind == "Captured":
        edit = set_to("lead_name", "Carol Secret")
    else:
        def edit(state: Entry) -> None:
            state["changes"]["company"] = "Carol's shop"
    backup = edited_backup(source, tmp_path, kind, edit)
    refusal = handoff.refused("import", str(backup))
    assert refusal.startswith("Error: line 4: lead 'F' is forgotten, yet its entry "), refusal
    assert "still holds the person's details" in refusal
    assert nothing_recorded(handoff)
