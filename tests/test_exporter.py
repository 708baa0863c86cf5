"""`handoff export` reads the log straight from the events table; it gives exactly the rows
that the library's own route (domain event objects, one at a time) gives."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from conftest import POSTGRES_URL, _fresh_postgres_database
from eventsourcing.utils import get_topic
from sqlalchemy.engine import make_url
from test_eventstore_contract import every_kind_of_event

from handoff import child, eventstore, exporter, projections
from handoff.application import HandoffApp
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS
from handoff.domain.steps import lead_id
from handoff.domain.traffic import TrafficDay
from handoff.exporter import export_rows
from handoff.instants import iso
from handoff.projections import versions
from handoff.projections.corrected import corrected_leads, projected_key
from handoff.store import locate


def rows_from_domain_events(app: HandoffApp) -> list[dict[str, Any]]:
    """The import rows, built from each recorded domain event's own attributes."""
    keys: dict[Any, str] = {}
    found: list[dict[str, Any]] = []
    for _, event in app.events_after(0):
        name = LIFECYCLE_EVENTS.get(type(event))
        if name is not None:
            if name == "captured":
                keys[event.originator_id] = event.key
            row = {"lead": keys[event.originator_id], "event": name,
                   "at": iso(event.occurred_at), "actor": event.actor}
            row.update((k, v) for k, v in event.data.items() if v is not None)
            found.append(row)
        elif isinstance(event, TrafficDay.VisitsRecorded):  # type: ignore[attr-defined]
            found.append({"event": "visits", "at": event.day, "actor": event.actor,
                          "visits": event.visits})
    return found


def test_the_export_reads_every_event_as_the_domain_records_it(app: HandoffApp) -> None:
    every_kind_of_event(app)
    app.record_visits(date(2026, 3, 2), 1300, "maria")  # a correction
    expected = rows_from_domain_events(app)
    exported = list(export_rows(app))
    assert exported == expected
    assert [type(v) for row in exported for v in row.values()] == [
        type(v) for row in expected for v in row.values()
    ]
    assert {row["event"] for row in exported} == {*LIFECYCLE_EVENTS.values(), "visits"}


def test_the_read_model_names_the_corrected_leads_as_the_log_does(app: HandoffApp) -> None:
    every_kind_of_event(app)
    correction_topics = [get_topic(cls) for cls in CORRECTIONS]
    assert corrected_leads(app) is None  # nothing projected yet: the log must be asked
    projections.catch_up(app)
    assert corrected_leads(app) == set() == eventstore.originators_of_kinds(
        app, correction_topics)
    app.void("lost-lead", 5, "lost was typed on the wrong lead", "kim")
    assert corrected_leads(app) is None  # the read model is behind the correction
    projections.catch_up(app)
    assert corrected_leads(app) == {lead_id("lost-lead").hex} == (
        eventstore.originators_of_kinds(app, correction_topics))
    assert [row["event"] for row in export_rows(app) if row.get("lead") == "lost-lead"] == [
        "captured", "qualified", "handed", "accepted"]



def test_a_read_model_another_release_made_is_asked_neither_corrections_nor_keys(
    app: HandoffApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read model of another release (`versions`: its tables may hold other things) is
    read by no report until it is projected anew: the export asks the log which leads were
    corrected, and the audit names a lead by its id."""
    every_kind_of_event(app)
    app.void("lost-lead", 5, "lost was typed on the wrong lead", "kim")
    projections.catch_up(app)
    lost = lead_id("lost-lead").hex
    assert (corrected_leads(app), projected_key(app, lost)) == ({lost}, "lost-lead")
    monkeypatch.setattr(versions, "SCHEMA_VERSION", versions.SCHEMA_VERSION + 1)
    assert (corrected_leads(app), projected_key(app, lost)) == (None, None)
    assert exporter.corrected_ids(app) == {lost}  # from the log

def test_text_of_any_kind_is_exported_as_the_domain_records_it(app: HandoffApp) -> None:
    """Names with quotes, backslashes, non-ASCII letters, a reason with a tab: states that
    the JSON decoders read through their slower paths (escapes, UTF-8)."""
    app.capture("Zoë-1", "web", "maria", at="2026-03-02T09:00", name='Zoë "Z" Ørsted\\田中',
                email="zoe@example.com", company="Ünïcode, Inc.")
    app.record("Zoë-1", "qualified", "maria", "2026-03-02T10:00", score=0)
    app.record("Zoë-1", "handed", "maria", "2026-03-02T11:00", owner="sam")
    app.record("Zoë-1", "rejected", "sam", "2026-03-02T12:00", reason='"=1+2"\t☹')
    app.record_visits(date(2026, 3, 2), 0, "maria")
    assert list(export_rows(app)) == rows_from_domain_events(app)
    assert next(export_rows(app))["name"] == 'Zoë "Z" Ørsted\\田中'


# -- a long log exported in two parts at once ---------------------------------------------

_HEADER = "lead,event,at,actor,source,name,email,company,score,owner,reason,channel,amount,visits\n"
# Imported in two files: each lead's later steps come after every capture in the log.
CAPTURES = _HEADER + (
    'a-1,captured,2026-03-02T09:00Z,maria,web,"Zoë ""Z"" Ørsted",,=SUM(A1),,,,,,\n'
    "b-2,captured,2026-03-02T09:30Z,li,event,,,,,,,,,\n"
    "c-3,captured,2026-03-02T09:45Z,li,partner,,,'quoted,,,,,,\n"
    ",visits,2026-03-02,li,,,,,,,,,,1200\n"
)
LATER_STEPS = _HEADER + (
    "a-1,qualified,2026-03-02T10:00Z,maria,,,,,60,,,,,\n"
    "a-1,handed,2026-03-02T11:00Z,maria,,,,,,sam,,,,\n"
    "a-1,accepted,2026-03-02T12:00Z,sam,,,,,,,,,,\n"
    "a-1,proposal,2026-03-03T12:00Z,sam,,,,,,,,,9000.50,\n"
    "a-1,won,2026-03-04T12:00Z,sam,,,,,,,,,8000,\n"
    "b-2,qualified,2026-03-02T10:30Z,maria,,,,,70,,,,,\n"
    "b-2,handed,2026-03-02T11:30Z,maria,,,,,,ola,,,,\n"
    "b-2,rejected,2026-03-02T12:30Z,ola,,,,,,,-no budget,,,\n"
    "c-3,qualified,2026-03-02T10:45Z,maria,,,,,80,,,,,\n"
    "c-3,handed,2026-03-02T11:45Z,maria,,,,,,sam,,,,\n"
    "c-3,accepted,2026-03-02T12:45Z,sam,,,,,,,,,,\n"
    "c-3,contacted,2026-03-03T12:45Z,sam,,,,,,,,email,,\n"
    "c-3,lost,2026-03-04T12:45Z,sam,,,,,,,price,,,\n"
    ",visits,2026-03-03,li,,,,,,,,,,900\n"
)


@pytest.fixture
def spanning(store: str, tmp_path: Path) -> Handoff:
    """Leads captured early whose later steps come late in the log, one of them corrected
    at its end, traffic early and late, cells a spreadsheet would run, non-ASCII text."""
    handoff = Handoff(store)
    for name, text in (("captures.csv", CAPTURES), ("later.csv", LATER_STEPS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        handoff.ok("import", str(tmp_path / name))
    handoff.ok("lead", "void", "c-3", "6", "--why", "lost was typed on the wrong lead",
               actor="sam")
    return handoff


def parts_made(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every export's split from now on, each entry whether its later part was the
    second process's: every log is long enough to be split."""
    made: list[bool] = []
    text = exporter._LaterPart.text

    def noted(later: exporter._LaterPart) -> Iterator[str] | None:
        found = text(later)
        made.append(found is not None)
        return found

    monkeypatch.setattr(exporter._LaterPart, "text", noted)
    monkeypatch.setattr(exporter, "SPLIT_FROM", 0)
    return made


def test_a_long_log_exported_in_two_parts_at_once_gives_the_same_text(
    spanning: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = spanning.ok("export")
    made = parts_made(monkeypatch)
    assert spanning.ok("export") == whole
    assert made == [True]
    # Reasoned from the files: every row but c-3's voided loss, in the order recorded,
    # c-3's other steps where it was captured (a corrected lead, SPEC §2).
    lines = whole.splitlines()
    assert [tuple(line.split(",")[:2]) for line in lines] == [
        ("lead", "event"), ("a-1", "captured"), ("b-2", "captured"),
        *[("c-3", step) for step in ("captured", "qualified", "handed", "accepted", "contacted")],
        ("", "visits"),
        *[("a-1", step) for step in ("qualified", "handed", "accepted", "proposal", "won")],
        *[("b-2", step) for step in ("qualified", "handed", "rejected")],
        ("", "visits"),
    ]
    assert lines[1].endswith(',web,"Zoë ""Z"" Ørsted",,\'=SUM(A1),,,,,,')
    assert lines[13] == "a-1,won,2026-03-04T12:00:00Z,sam,,,,,,,,,8000,"
    assert lines[16] == "b-2,rejected,2026-03-02T12:30:00Z,ola,,,,,,,'-no budget,,,"


def test_when_the_second_process_fails_the_export_makes_its_part_itself(
    spanning: Handoff, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    whole = spanning.ok("export")
    made = parts_made(monkeypatch)
    start = child.start

    def failing(module: str, **popen: Any) -> Any:
        return start("handoff.no_such_module", **popen)  # python -m exits 1 at once

    monkeypatch.setattr(exporter.child, "start", failing)
    assert spanning.ok("export") == whole
    assert made == [False]
    assert capfd.readouterr().err == ""  # not Python's "No module named ...": its own


def test_without_a_temporary_file_the_export_makes_both_parts_itself(
    spanning: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = spanning.ok("export")
    made = parts_made(monkeypatch)

    def no_room() -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exporter.tempfile, "TemporaryFile", no_room)
    assert spanning.ok("export") == whole
    assert made == [False]


def test_a_second_process_that_takes_too_long_is_stopped_and_its_part_made_here(
    spanning: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = spanning.ok("export")
    made = parts_made(monkeypatch)
    started: list[subprocess.Popen[bytes]] = []

    def stuck(module: str, **popen: Any) -> Any:
        started.append(subprocess.Popen(  # never reads its input, never writes its part
            [sys.executable, "-c", "import time; time.sleep(120)"], stdin=subprocess.PIPE,
            stdout=popen["stdout"], pass_fds=popen["pass_fds"]))
        return started[-1]

    monkeypatch.setattr(exporter.child, "start", stuck)
    monkeypatch.setattr(exporter, "_PATIENCE_S", 0.5)
    assert spanning.ok("export") == whole
    assert made == [False]
    assert started[0].poll() is not None  # stopped, not left behind


def test_a_child_ends_when_its_command_ends() -> None:
    """Killed (a `timeout`, a closed terminal), the command leaves no child working on."""
    process = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from handoff import child;"
         " child.end_with_input(sys.stdin.buffer); print('waiting', flush=True);"
         " time.sleep(120)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    assert process.stdout.readline() == b"waiting\n"
    process.stdin.close()  # what the system does to its input when its command ends
    assert process.wait(timeout=30) == 1
    process.stdout.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL")
def test_the_second_process_gets_the_database_password_on_its_input_not_its_command_line(
) -> None:
    """Every user of the machine may read a process's command line (`ps`)."""
    with contextmanager(_fresh_postgres_database)() as database:
        url = make_url(database).set(password="s3cret-pw")  # trust auth lets it in
        app = HandoffApp(locate(url.render_as_string(hide_password=False)))
        try:
            app.capture("k-1", "web", "maria", at="2026-03-02T09:00")
            with exporter._LaterPart(app, 0, set(), set()) as later:
                assert later.process is not None
                command_line = Path(f"/proc/{later.process.pid}/cmdline").read_bytes()
                made = later.text()
                assert made is not None
                assert "".join(made).startswith("k-1,captured,2026-03-02T09:00:00Z,maria,web,")
        finally:
            app.close()
    assert b"s3cret-pw" not in command_line and b"handoff.exporter" in command_line
