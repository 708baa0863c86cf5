"""A large file is read and checked in two halves at once (`import_halves`): what it
records, skips and refuses, and what the store then reports, are what one process reading
every row finds. Here every file is "large" (HALVES_FROM lowered); the reference is the
same file imported, one process reading every row, into a SQLite store of its own."""

from __future__ import annotations

import json
import marshal
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from click.testing import Result

from handoff import child, eventstore, import_halves, log_writer
from handoff.application import HandoffApp

MONTH = ("kpi", "--from", "2026-03-01", "--to", "2026-03-31")


class Halves:
    """What the copies of a test's imports were given (how many entries of the leads the
    store holds) and found (None: it ended without telling)."""

    def __init__(self) -> None:
        self.given: list[int] = []
        self.found: list[import_halves.Found | None] = []


@pytest.fixture
def halves(monkeypatch: pytest.MonkeyPatch) -> Halves:
    seen = Halves()
    monkeypatch.setattr(import_halves, "HALVES_FROM", 1)
    give, found = import_halves.OtherHalf.give, import_halves.OtherHalf.found

    def given(self: import_halves.OtherHalf, entries: list[Any]) -> None:
        seen.given.append(len(entries))
        give(self, entries)

    def told(self: import_halves.OtherHalf) -> import_halves.Found | None:
        said = found(self)
        seen.found.append(said)
        return said

    monkeypatch.setattr(import_halves.OtherHalf, "give", given)
    monkeypatch.setattr(import_halves.OtherHalf, "found", told)
    return seen


def one_process(tmp_path: Path) -> Handoff:
    """The reference store, into which every import is checked by one process."""
    return Handoff(str(tmp_path / "one-process.sqlite"))


def imported(handoff: Handoff, rows: Path, monkeypatch: pytest.MonkeyPatch,
             in_halves: bool, *args: str) -> Result:
    with monkeypatch.context() as patched:
        if not in_halves:
            patched.setattr(import_halves, "HALVES_FROM", 10**9)
        return handoff("import", *args, str(rows))


def journeys(leads: int) -> list[str]:
    """Rows of `leads` leads in March 2026 (each its own way through the lifecycle), in
    the order a CRM exports them: by step, every lead's capture first."""
    rows = []
    for n in range(leads):
        rows.append(f"m-{n},captured,2026-03-02T09:{n % 60:02d}Z,maria,web,,,,,\n")
    for n in range(leads):
        rows.append(f"m-{n},qualified,2026-03-03T09:00Z,maria,,{40 + n},,,,\n")
        if n % 3:
            rows.append(f"m-{n},handed,2026-03-03T10:00Z,maria,,,sam,,,\n")
    for n in range(leads):
        if n % 3 == 1:
            rows.append(f"m-{n},accepted,2026-03-03T14:00Z,sam,,,,,,\n")
        elif n % 3 == 2:
            rows.append(f"m-{n},rejected,2026-03-04T14:00Z,sam,,,,not a fit,,\n")
    return rows


HEADER = "lead,event,at,actor,source,score,owner,reason,visits,amount\n"


HELD = 6  # leads the store holds before the import (m-0 to m-5: in both halves)


def held_before(handoff: Handoff) -> None:
    """What the store holds before the import: leads the file goes on with (captured and
    qualified as the file says), a day's traffic."""
    for n in range(HELD):
        handoff.ok("lead", "capture", f"m-{n}", "--source", "web",
                   "--at", f"2026-03-02T09:{n:02d}Z", actor="maria")
        handoff.ok("lead", "qualify", f"m-{n}", "--score", f"{40 + n}",
                   "--at", "2026-03-03T09:00Z", actor="maria")
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "500")


def reported(handoff: Handoff, keys: list[str]) -> dict[str, Any]:
    """What the store reports after the import (the instants it was recorded at aside)."""
    month = handoff.json(*MONTH)
    month.pop("as_of")
    histories = {}
    for key in keys:
        history = handoff.json("lead", "history", key)
        for entry in history:
            entry.pop("recorded_at", None)
        histories[key] = history
    return {"month": month, "histories": histories,
            "export": sorted(handoff.ok("export").splitlines())}


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_file_read_in_halves_records_and_skips_what_one_process_does(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    lines = [
        HEADER, *journeys(40),
        "m-0,qualified,2026-03-03T09:00Z,maria,,40,,,,\n",  # recorded already: skipped
        ",visits,2026-03-02,li,,,,,700,\n",
        ",visits,2026-03-03,li,,,,,650,\n",
    ]
    rows = tmp_path / f"march.{kind}"
    rows.write_text("".join(lines) if kind == "csv" else as_json_lines(lines))
    handoff, reference = Handoff(store), one_process(tmp_path)
    for each in (handoff, reference):
        held_before(each)

    dry = imported(handoff, rows, monkeypatch, True, "--dry-run")
    said = imported(handoff, rows, monkeypatch, True)
    expected = imported(reference, rows, monkeypatch, False)

    assert said.exit_code == expected.exit_code == 0, said.output
    assert said.stdout == expected.stdout
    # 40 captures, 40 qualifications, 26 handoffs (not m-0, m-3, ...), 13 acceptances,
    # 13 rejections, m-0's qualification again and two days: 135 rows. The six leads
    # held are captured and qualified already (13 rows skipped); m-0, m-3 change no more.
    assert expected.stdout == (
        "imported 135 rows: 122 recorded, 13 skipped (already recorded), 38 leads changed\n")
    assert dry.stdout.startswith("dry run: 135 rows are valid: 122 would be recorded, 13 ")
    keys = [f"m-{n}" for n in range(40)]
    assert reported(handoff, keys) == reported(reference, keys)
    # Both halves took leads, the store's among them: the copy was given the entries of
    # the held leads it reads (each has two), and recorded some rows.
    assert len(halves.found) == 2  # the dry run, then the import
    assert halves.given[0] == halves.given[1] and halves.given[1] in range(2, 2 * HELD, 2)
    copy = halves.found[1]
    assert copy is not None and not copy[0]
    assert 20 < copy[1] < 100 and copy[3] > 5

    again = imported(handoff, rows, monkeypatch, True)  # every lead held now, in both halves
    assert again.stdout == imported(reference, rows, monkeypatch, False).stdout
    assert again.stdout.startswith("imported 135 rows: 0 recorded, 135 skipped")


def test_a_file_whose_new_rows_are_all_in_one_half_is_recorded(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-import of an exported file with a day's traffic or a lead added (the copy's
    half recording nothing new), and a file of traffic alone."""
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(20)]))
    handoff = Handoff(store)
    handoff.ok("import", str(rows))
    more = tmp_path / "more.csv"
    more.write_text(rows.read_text() + ",visits,2026-03-09,li,,,,,800,\n")
    traffic = tmp_path / "traffic.csv"
    traffic.write_text(HEADER + ",visits,2026-03-10,li,,,,,900,\n")

    # 20 captures and qualifications, 13 handoffs, 7 acceptances, 6 rejections: 66 rows.
    assert handoff.ok("import", str(more)).startswith("imported 67 rows: 1 recorded, 66 skipped")
    assert handoff.ok("import", str(traffic)).startswith("imported 1 row: 1 recorded")
    assert [found[4] for found in halves.found[1:] if found] == [0, 0]  # the copy: nothing
    visits = handoff.json("kpi", "--from", "2026-03-09", "--to", "2026-03-10")["counts"]
    assert visits["visits"] == 800 + 900


def test_a_file_imported_in_halves_is_logged_in_the_same_order_whatever_the_timing(
    tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log's order of a file's entries (an export's rows, the order of ties) does not
    depend on which half made its rows first, nor on how many of its rows this process
    made ahead of the write, while the copy was still checking: none, one chunk or all."""
    monkeypatch.setattr(eventstore, "CHUNK", 7)
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(30)]))
    send = import_halves._send

    def slow(to: int, message: Any) -> None:
        if message[0] == "rows":
            time.sleep(0.05)  # the copy, busier than this process
        send(to, message)

    exports = []
    for run, (ahead, copy_is_slow) in enumerate(
        [("none", False), ("none", True), ("one", False), ("all", True)]
    ):
        with monkeypatch.context() as patched:
            if copy_is_slow:
                patched.setattr(import_halves, "_send", slow)
            made = made_ahead(ahead, patched)
            handoff = Handoff(str(tmp_path / f"store-{run}.sqlite"))
            handoff.ok("import", str(rows))
        exports.append(handoff.ok("export"))
        assert made == {"none": [], "one": [True, False]}.get(ahead, made)
        if ahead == "all":  # chunks of 7 of about half of 83 rows, the last call told none was left
            assert len(made) > 3 and all(made[:-1]) and made[-1] is False
    assert exports[0] == exports[1] == exports[2] == exports[3]


def made_ahead(how: str, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """This process makes none of its rows ahead of the write, one chunk, or all of them,
    whatever the copy's timing: what each `Ahead.make_one` it called answered."""
    answers: list[bool] = []
    make_one = eventstore.Ahead.make_one

    def answered(self: eventstore.Ahead) -> bool:
        made = False if how == "one" and answers else make_one(self)
        answers.append(made)
        return made

    monkeypatch.setattr(import_halves.OtherHalf, "still_checking", lambda _: how != "none")
    monkeypatch.setattr(eventstore.Ahead, "make_one", answered)
    return answers


def as_json_lines(lines: list[str]) -> str:
    """The CSV lines as JSON lines (as `export --format jsonl` writes rows)."""
    header = lines[0].strip().split(",")
    return "".join(
        json.dumps({k: v for k, v in zip(header, line.strip().split(","), strict=True) if v})
        + "\n" for line in lines[1:]
    )


def test_bad_rows_in_both_halves_are_each_reported_in_file_order_and_nothing_is_written(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = journeys(30)
    # An acceptance of a lead never handed (m-0, m-3, ...), and an instant that is none.
    bad += [f"m-{n},accepted,2026-03-05T09:00Z,sam,,,,,,\n" for n in range(0, 30, 3)]
    bad.insert(5, "m-4,qualified,the fourth of March,maria,,50,,,,\n")
    rows = tmp_path / "bad.csv"
    rows.write_text("".join([HEADER, *bad]))
    handoff, reference = Handoff(store), one_process(tmp_path)
    for each in (handoff, reference):
        held_before(each)

    said = imported(handoff, rows, monkeypatch, True)
    expected = imported(reference, rows, monkeypatch, False)

    assert said.exit_code == expected.exit_code == 1
    assert said.stderr == expected.stderr
    refusals = said.stderr.strip().splitlines()
    assert len(refusals) == 1 + 10 + 1  # the instant, ten acceptances, the summary
    lines = [int(refusal.split("line ")[1].split(":")[0]) for refusal in refusals[:-1]]
    assert lines == sorted(lines)
    assert refusals[-1] == "Error: 11 rows are bad; nothing was written"
    assert copy_refused(halves) and "unknown lead" in handoff.refused("lead", "show", "m-11")


def copy_refused(halves: Halves) -> bool:
    """The copy found some of the bad rows itself."""
    return any(found is not None and found[0] for found in halves.found)


def ends_within(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy killed as it writes its first message of this kind: half of it sent."""
    send = import_halves._send

    def cut(to: int, message: Any) -> None:
        if message[0] != kind:
            return send(to, message)
        framed = child.framed(marshal.dumps(message, 2))
        os.write(to, framed[: len(framed) // 2])
        os._exit(1)

    monkeypatch.setattr(import_halves, "_send", cut)


@pytest.mark.parametrize("ends", ["as it starts", "within its message"])
def test_a_copy_that_ends_before_it_tells_leaves_its_half_to_this_process(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch, ends: str
) -> None:
    """Its half is read and checked here: its bad rows reported in file order among these."""
    if ends == "as it starts":
        monkeypatch.setattr(import_halves, "_read_and_check", lambda *_: os._exit(1))
    else:
        ends_within("found", monkeypatch)
    good, bad = tmp_path / "march.csv", tmp_path / "bad.csv"
    good.write_text("".join([HEADER, *journeys(20)]))
    bad.write_text("".join(
        [HEADER, *journeys(20), *(f"m-{n},won,2026-03-09T09:00Z,sam,,,,,,\n" for n in range(20))]
    ))
    handoff, reference = Handoff(store), one_process(tmp_path)

    refused = imported(handoff, bad, monkeypatch, True)
    expected_refusal = imported(reference, bad, monkeypatch, False)
    said = imported(handoff, good, monkeypatch, True)
    expected = imported(reference, good, monkeypatch, False)

    assert refused.exit_code == 1 and refused.stderr == expected_refusal.stderr
    assert "Error: 20 rows are bad; nothing was written" in refused.stderr  # none was won
    assert said.exit_code == 0 and said.stdout == expected.stdout
    assert halves.found == [None, None]
    keys = [f"m-{n}" for n in range(20)]
    assert reported(handoff, keys) == reported(reference, keys)


def test_a_copy_gone_before_it_tells_leaves_the_same_log_whether_rows_were_made_ahead(
    tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process's rows made while it waited for a copy that then ended (none of them,
    or all), then the copy's half checked here: the log holds the same entries in the same
    order (this half's, then the copy's)."""
    monkeypatch.setattr(eventstore, "CHUNK", 7)
    monkeypatch.setattr(import_halves, "_read_and_check", lambda *_: os._exit(1))
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(30)]))
    exports = []
    for how in ("none", "all"):
        with monkeypatch.context() as patched:
            made = made_ahead(how, patched)
            handoff = Handoff(str(tmp_path / f"store-{how}.sqlite"))
            handoff.ok("import", str(rows))
        exports.append(handoff.ok("export"))
        assert (made == []) if how == "none" else (len(made) > 3 and made[-1] is False)
    assert halves.found == [None, None]
    assert exports[0] == exports[1]
    assert sorted(exports[0].splitlines()) == sorted(
        one_process_export(tmp_path, rows, monkeypatch).splitlines())


def one_process_export(tmp_path: Path, rows: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    reference = one_process(tmp_path)
    assert imported(reference, rows, monkeypatch, False).exit_code == 0
    return reference.ok("export")


@pytest.mark.parametrize("ends", ["between two chunks", "within a chunk"])
def test_a_copy_that_ends_while_its_rows_are_written_leaves_nothing_written(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch, ends: str
) -> None:
    rows_in_bulk = HandoffApp.rows_in_bulk

    def ends_midway(self: HandoffApp, aggregates: Any) -> tuple[int, Iterator[Any]]:
        events, chunks = rows_in_bulk(self, aggregates)

        def first_then_gone() -> Iterator[Any]:
            yield next(chunks)
            os._exit(1)  # in the copy: killed as it sends its rows

        return events, first_then_gone()

    if ends == "between two chunks":
        monkeypatch.setattr(HandoffApp, "rows_in_bulk", ends_midway)
    else:
        ends_within("rows", monkeypatch)
    monkeypatch.setattr("handoff.eventstore.CHUNK", 5)
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(30)]))
    handoff = Handoff(store)
    held_before(handoff)

    refusal = handoff.refused("import", str(rows))

    assert "nothing was written" in refusal and "run the import again" in refusal
    assert "unknown lead" in handoff.refused("lead", "show", "m-11")
    assert "unknown lead" in handoff.refused("lead", "show", "m-12")


def test_a_fault_in_the_copy_is_reported_as_it_would_be_here_and_nothing_is_written(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch
) -> None:
    def faulty(*_: Any) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(HandoffApp, "aggregates_from", faulty)  # only the copy calls it
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(20)]))
    handoff = Handoff(store)
    held_before(handoff)

    result = handoff("import", str(rows))

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == (
        "Error: internal error: RuntimeError: the process checking half of the import"
        " failed: ValueError: a bug (set HANDOFF_DEBUG=1 to see the traceback)"
    )
    assert "unknown lead" in handoff.refused("lead", "show", "m-11")


def test_a_key_no_text_can_hold_is_refused_as_one_process_refuses_it(
    store: str, tmp_path: Path, halves: Halves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON line may write a lone surrogate, which no UTF-8 text holds."""
    rows = tmp_path / "odd.jsonl"
    rows.write_text('{"lead":"a\\ud800b","event":"captured","at":"2026-03-02T09:00Z",'
                    '"source":"web"}\n')
    handoff, reference = Handoff(store), one_process(tmp_path)

    said = imported(handoff, rows, monkeypatch, True)
    expected = imported(reference, rows, monkeypatch, False)

    assert said.exit_code == expected.exit_code == 1
    assert said.stderr == expected.stderr and "line 1:" in said.stderr


def test_a_ctrl_c_once_the_commit_is_asked_for_says_the_events_were_recorded(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the log's writer commits what it was asked to: a Ctrl-C then waits for
    it, and the import says its rows were recorded (PostgreSQL's commit is the
    driver's own, as for any write)."""
    monkeypatch.setattr(eventstore, "WRITER_FROM", 1)
    end = log_writer.Writer._end
    pressed: list[bool] = []

    def interrupted(self: log_writer.Writer) -> None:
        end(self)
        if not pressed:  # once, as the child commits
            pressed.append(True)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(log_writer.Writer, "_end", interrupted)
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(3)]))
    handoff = Handoff(store)

    result = handoff("import", str(rows))

    if store.startswith("postgresql"):
        assert result.exit_code == 0  # no writer process: nothing interrupted
    else:
        assert result.exit_code == 130  # as the shell gives a program SIGINT stops
        # Three captures and qualifications, two handoffs, an acceptance, a rejection.
        assert "interrupted: the import's 10 rows were recorded" in result.stderr
    assert handoff.json("lead", "show", "m-2")["state"] == "rejected"


def test_a_log_writer_killed_before_it_answers_leaves_a_line_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of memory, say, as it commits: whether it committed is not known here."""
    monkeypatch.setattr(eventstore, "WRITER_FROM", 1)
    end = log_writer.Writer._end

    def killed(self: log_writer.Writer) -> None:
        self.child.kill()
        self.child.wait()
        end(self)

    monkeypatch.setattr(log_writer.Writer, "_end", killed)
    rows = tmp_path / "march.csv"
    rows.write_text("".join([HEADER, *journeys(3)]))
    handoff = Handoff(str(tmp_path / "store.sqlite"))
    held_before(handoff)

    refusal = handoff.refused("import", str(rows))

    assert "ended before it said whether they were recorded" in refusal
    assert "run the import again" in refusal


@pytest.mark.parametrize("in_halves", [True, False])
def test_what_an_import_does_meanwhile_is_given_the_events_it_writes(
    store: str, halves: Halves, monkeypatch: pytest.MonkeyPatch, in_halves: bool
) -> None:
    """The caller's `meanwhile` (the command line loads the KPIs' catch-up then) is given
    how many events the import writes, once they are all handed to be written; a dry run,
    which writes nothing, never calls it. Read in halves, it may be called first with this
    process's half alone, while the copy still checks its own."""
    from handoff.importer import Importer, read_rows
    from handoff.store import locate

    if not in_halves:
        monkeypatch.setattr(import_halves, "HALVES_FROM", 10**9)
    text = "".join([HEADER, *journeys(30)])
    rows = len(journeys(30))  # 30 captured, 30 qualified, 20 handed, 10 accepted, 10 rejected
    app = HandoffApp(locate(store))
    calls: list[int] = []
    try:
        dry = Importer(app, "maria").run_file(text, read_rows, dry_run=True,
                                              meanwhile=calls.append)
        assert dry.ok and calls == []
        report = Importer(app, "maria").run_file(text, read_rows, meanwhile=calls.append)
    finally:
        app.close()
    assert report.recorded == rows == 100
    assert calls[-1] == rows and all(0 < called <= rows for called in calls)
    assert len(calls) == 1 or (in_halves and len(calls) == 2)
