"""A bulk catch-up counts the summaries as it projects; they equal the SQL recompute."""

from __future__ import annotations

import gc
import io
import marshal
import os
import pickle
import sys
import threading
from collections.abc import Iterator
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, POSTGRES_URL, FakeClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import URL, make_url
from sqlalchemy.engine import default
from test_kpi_property import START, fresh_store, lead_histories, queries, record_history
from test_projections import agree, lead_to, rows, summary_rows

from handoff import child, eventstore, projections, switches
from handoff.application import HandoffApp
from handoff.projections import page_writer, summaries
from handoff.projections.page import Writes
from handoff.projections.tally import Tally
from handoff.store import locate


def recomputed(app: HandoffApp) -> dict[str, list[tuple[Any, ...]]]:
    """The summaries as the SQL recompute gives them, from the per-event tables."""
    model = projections.read_model(app)
    mark = "%s" if model.is_postgres else "?"
    with model.engine.begin() as conn:

        def execute(sql: str, parameters: Any) -> Any:
            return conn.exec_driver_sql(sql.format(mark), tuple(parameters) or None)

        summaries.refresh(execute, projections.position(app))
    return summary_rows(app)


@pytest.fixture
def recomputes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The positions at which the catch-up fell back to the SQL recompute."""
    found: list[int] = []
    refresh = summaries.refresh

    def counting(execute: summaries.Execute, position: int) -> None:
        found.append(position)
        refresh(execute, position)

    monkeypatch.setattr(summaries, "refresh", counting)
    return found


def a_month_of_leads(app: HandoffApp, first: int = 0, count: int = 12) -> None:
    for number in range(first, first + count):
        lead_to(app, f"lead-{number}", 2 + number % 20, ("handed", "accepted", "won")[number % 3],
                owner=("sam", "ola")[number % 2])


def edge_cases(app: HandoffApp) -> None:
    """Of the leads above: a decision at its due instant exactly, one late, a re-sent
    proposal (flow and cohort count only a lead's first)."""
    app.record("lead-0", "accepted", "sam", "2026-03-03T11:00")  # handed Monday 11:00
    app.record("lead-3", "accepted", "sam", "2026-03-25T10:00")
    for day, amount in ((20, "100.10"), (21, "200.20")):
        app.record("lead-1", "proposal", "sam", f"2026-03-{day}T10:00", amount=amount)


def test_a_rebuild_counts_the_summaries_instead_of_recomputing_them(
    app: HandoffApp, recomputes: list[int]
) -> None:
    agree(app)
    a_month_of_leads(app)
    edge_cases(app)
    projections.rebuild(app)
    assert recomputes == []
    counted = summary_rows(app)
    assert counted["read_stage_day"] and counted["read_sla_day"]
    assert recomputed(app) == counted


def test_a_bulk_catch_up_adds_what_it_counts_to_the_summaries_it_continues(
    app: HandoffApp, recomputes: list[int]
) -> None:
    agree(app)
    a_month_of_leads(app)
    projections.catch_up(app, bulk=False)  # recomputes: it applied the agreement
    recomputes.clear()
    a_month_of_leads(app, first=12)  # more of the same days, owners and sources
    edge_cases(app)  # of leads handed before this catch-up
    projections.catch_up(app, page=5, bulk=True)
    assert recomputes == []
    assert summary_rows(app) == recomputed(app)


def test_pages_written_ahead_are_counted_by_their_writer_and_added_up(
    app: HandoffApp, recomputes: list[int], written_ahead: list[bool]
) -> None:
    agree(app)
    a_month_of_leads(app, count=24)
    edge_cases(app)
    projections.rebuild(app)  # pages of 7 events, written by a process on SQLite
    assert written_ahead == [True] and recomputes == []
    assert summary_rows(app) == recomputed(app)


def test_a_tally_adds_what_another_counted_under_codes_of_its_own() -> None:
    day = summaries.DAY_US
    rows = [  # read_event's columns: what a tally reads of them
        (1, 1, "captured", 3 * day, 3 * day, 3 * day, "web", None, None, True, True, 3 * day),
        (2, 1, "handed", 4 * day, 4 * day, 3 * day, "web", "sam", None, True, True, 4 * day),
        (3, 5, "captured", 4 * day, 4 * day, 4 * day, "ads", None, None, True, True, 4 * day),
        (4, 1, "won", 9 * day, 9 * day, 3 * day, "web", "sam", 12_050, True, True, 9 * day),
    ]
    decisions = [(4, 3, "web", "sam", True)]
    whole, first, second = Tally(0), Tally(0), Tally(0)
    whole.count(rows, decisions, 7)
    first.count(rows[:2], [], 5)
    second.count(rows[2:], decisions, 7)  # its codes in another order
    first.add(second)
    assert (first.stage_rows(), first.sla_rows(), first.recorded_us) == (
        whole.stage_rows(), whole.sla_rows(), whole.recorded_us)


def test_an_agreement_that_moves_due_instants_mid_way_has_the_summaries_recomputed(
    app: HandoffApp, clock: FakeClock, recomputes: list[int]
) -> None:
    a_month_of_leads(app)  # handed and decided before any agreement: no due instants
    clock.advance(hours=1)
    agree(app)
    projections.rebuild(app)
    assert recomputes == [projections.position(app)]
    assert summary_rows(app)["read_sla_day"]
    assert summary_rows(app) == recomputed(app)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories=lead_histories, query=queries, page=st.integers(1, 40))
def test_summaries_of_a_bulk_catch_up_equal_the_sql_recompute(
    backend: str, histories: list[Any], query: dict[str, Any], page: int
) -> None:
    with fresh_store(backend) as store:
        clock = FakeClock(START - timedelta(days=61))
        app = HandoffApp(locate(store), clock=clock)
        try:
            record_history(app, clock, histories, query)
            projections.catch_up(app, page=page, bulk=True)
            assert summary_rows(app) == recomputed(app)
        finally:
            app.close()



def test_a_ctrl_c_at_the_terminal_stops_the_command_not_its_page_writer(
    tmp_path: Path,
) -> None:
    """Ctrl-C reaches every process of the terminal's foreground group. The page writer
    runs in a group of its own: the command stops giving it pages, the page in hand is
    committed or not at all, and nothing of the writer's (a traceback) reaches the user."""
    url = URL.create("sqlite", database=str(tmp_path / "store.sqlite"))
    with page_writer._Process(url) as writer:
        assert os.getpgid(writer.child.pid) != os.getpgid(0)
    assert writer.child.returncode == 0  # it ended with its input


def test_pages_written_ahead_reach_a_store_whose_path_holds_url_characters(
    tmp_path: Path, clock: FakeClock, written_ahead: list[bool]
) -> None:
    """The page writer opens the very file the command has open, whatever its path holds
    ('#' and '?' end a URL's path when it is written out as text)."""
    folder = tmp_path / "q3 #1 ?draft"
    folder.mkdir()
    app = HandoffApp(locate(str(folder / "store.sqlite")), clock=clock)
    agree(app)
    for number in range(6):
        lead_to(app, f"lead-{number}", 2 + number, "won")
    projections.rebuild(app)  # pages of 7 events, written by a process on SQLite
    assert written_ahead == [True]  # by a process of its own
    status = projections.status(app)
    assert status.position == status.last_event > 0
    assert status.rows["read_lead"] == 6
    app.close()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(p.parent == folder for p in files)  # none where '#' would cut


def test_what_a_writer_counted_for_a_discarded_tally_is_not_added_to_the_next(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A projector overtaken mid-way discards its tally and counts again in a new one
    (Projector._run): pages the writing process counted for the old one stay out of it."""
    app = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)
    model = projections.read_model(app)
    day = summaries.DAY_US

    def page(nid: int) -> Writes:
        captured = (nid, nid, "captured", nid * day, nid * day, nid * day, "web", None, None,
                    True, True, nid * day)
        return Writes([], [], [captured], [], [], [], [], [], [], [])

    start = eventstore.BEFORE_FIRST  # where a new read model stands
    discarded, kept, expected = Tally(start), Tally(1), Tally(1)
    expected.count(page(2).events, [], 0)
    with page_writer.ahead(model, model.engine.connect(), in_process=True) as writer:
        writer.submit(start, 1, page(1), (discarded.token, [], 0)).result(discarded)
        writer.submit(1, 2, page(2), (kept.token, [], 0)).result(kept)
        writer.gather(kept)
        writer.gather(discarded)
    assert kept.stage_rows() == expected.stage_rows() != []
    assert discarded.stage_rows() == []
    app.close()


def test_a_page_writer_started_before_a_catch_up_needs_it_is_the_one_that_writes(
    app: HandoffApp, written_ahead: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import starts the process that will write its catch-up's pages while its events
    are committed (`catchup.prepare`): the catch-up takes that one rather than starting
    another, and projects the same rows and summaries as one that started its own."""
    from handoff.projections import catchup

    monkeypatch.setattr(catchup, "BULK_FROM", 0)
    agree(app)
    a_month_of_leads(app)
    edge_cases(app)
    projections.rebuild(app)  # by a process it started itself
    expected = rows(app), summary_rows(app)
    catchup.prepare(coming=1)
    spare = page_writer._spare
    assert spare is not None
    writing: list[int] = []
    start = page_writer._Process.__init__

    def noted(self: Any, url: URL) -> None:
        start(self, url)
        writing.append(self.child.pid)

    monkeypatch.setattr(page_writer._Process, "__init__", noted)
    projections.rebuild(app)
    assert writing == [spare.pid] and page_writer._spare is None
    assert written_ahead == [True, True]
    assert (rows(app), summary_rows(app)) == expected


def served(app: HandoffApp, page_token: int, gathered_token: int,
           monkeypatch: pytest.MonkeyPatch, counting: Any) -> list[Any]:
    """The page writer's answers, run in this process (`page_writer._serve`), to a page of
    one capture counted for `page_token` (by `counting`, in Tally.count's place, given
    what was answered so far), then to a gathering of `gathered_token`'s counts."""
    model = projections.read_model(app)
    day = summaries.DAY_US
    captured = (1, 1, "captured", day, day, day, "web", None, None, True, True, day)
    page = Writes([], [], [captured], [], [], [], [], [], [], [])
    messages = [
        page_writer._where(model.engine.url),
        (eventstore.BEFORE_FIRST, 1, tuple(getattr(page, f.name) for f in fields(page)),
         (page_token, [], 0)),
        (gathered_token,),
    ]
    given = io.BytesIO(b"".join(child.framed(marshal.dumps(m, 2)) for m in messages))
    answered = io.BytesIO()
    monkeypatch.setattr(Tally, "count", lambda *_: counting(answered.getvalue()))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(answered))
    page_writer._serve(given)
    sys.stdout.flush()
    answered.seek(0)
    return [pickle.load(answered), pickle.load(answered)]


def test_a_page_is_answered_once_committed_and_a_miscount_said_when_counts_are_gathered(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page writer answers a page as soon as it is committed, then counts it (the
    projector makes its next message meanwhile): counting that fails is not the page's
    failure (its rows and position are committed) but the counts', said when they are
    gathered, so that summaries missing a page are never written."""
    app = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)
    answered_first: list[bool] = []

    def miscounting(answered: bytes) -> None:
        answered_first.append(answered != b"")  # the page's answer, already out
        raise ValueError("a count that failed")

    token = Tally(eventstore.BEFORE_FIRST).token
    (page_failed, _), (counts_failed, counts) = served(app, token, token, monkeypatch,
                                                        miscounting)
    assert page_failed is None and projections.position(app) == 1
    assert answered_first == [True]
    assert isinstance(counts_failed, ValueError) and counts is None
    app.close()


def test_a_miscount_of_a_discarded_tally_is_not_said_for_the_next(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A projector overtaken after a page whose count failed discards that tally and counts
    again in a new one: asked for the new one's counts, the writer has nothing against
    them (the failure belonged to counts nobody will write)."""
    app = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)

    def miscounting(_: bytes) -> None:
        raise ValueError("a count that failed")

    discarded, kept = Tally(eventstore.BEFORE_FIRST).token, Tally(1).token
    answers = served(app, discarded, kept, monkeypatch, miscounting)
    # The page, committed; the new tally's counts: none, and no failure.
    assert answers == [(None, None), (None, None)]
    assert projections.position(app) == 1
    app.close()


def test_a_command_interrupted_while_its_writer_answers_at_length_still_ends(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A Ctrl-C between asking the page writer for its counts (a rebuild's: more than a
    pipe holds) and reading them: the command ends, and so does the writer (it waited to
    write its answer, the command waited for it to end, for ever)."""
    app = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)
    model = projections.read_model(app)
    day = summaries.DAY_US
    captured = [(n, n, "captured", n * day, n * day, n * day, f"source-{n}", None, None,
                 True, True, n * day) for n in range(1, 5001)]
    tally = Tally(eventstore.BEFORE_FIRST)  # where a new read model stands
    writer_process: list[Any] = []
    gathered: list[bool] = []  # the page written and its counts asked for: the premise

    def interrupted() -> None:
        with page_writer.ahead(model, model.engine.connect(), in_process=True) as writer:
            writer_process.append(writer)
            page = Writes([], [], captured, [], [], [], [], [], [], [])
            writer.submit(eventstore.BEFORE_FIRST, 5000, page, (tally.token, [], 0)).result(
                tally)
            writer._send(marshal.dumps((tally.token,), 2))  # gather: its answer not read
            gathered.append(True)

    ending = threading.Thread(target=interrupted, daemon=True)
    ending.start()
    ending.join(timeout=120)
    assert not ending.is_alive(), "the command waits for its page writer for ever"
    assert gathered == [True]
    assert writer_process[0].child.returncode is not None  # it ended too
    app.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="set HANDOFF_TEST_POSTGRES_URL to run on PostgreSQL")
def test_a_page_writer_gets_the_database_password_on_its_input_not_its_command_line() -> None:
    """Every user of the machine may read a process's command line (`ps`)."""
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL).set(password="s3cret-pw")  # trust auth lets it in
    with page_writer._Process(url) as writer:
        writer.gather(Tally(0))  # answered once it has connected
        command_line = Path(f"/proc/{writer.child.pid}/cmdline").read_bytes()
    assert b"s3cret-pw" not in command_line and b"page_writer" in command_line
    assert writer.child.returncode == 0


def test_a_ctrl_c_while_a_page_is_written_stops_the_rebuild_at_once(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that reaches SQLite's driver in the middle of a page's rows leaves that
    statement unfinished, its connection holding the write lock until the interruption's
    traceback is gone: the command stops there and then (it waited the whole lock wait
    for itself, then said the store was busy), and the next command completes what it
    left, as after a crash: the same rows and summaries as a rebuild run to its end."""
    monkeypatch.setattr(switches, "LOCK_WAIT_SECONDS", 1)
    app = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)
    agree(app)
    a_month_of_leads(app)
    projections.rebuild(app)
    expected = rows(app), summary_rows(app)
    write_rows = default.DefaultDialect.do_executemany

    def interrupted(self: Any, cursor: Any, statement: str, parameters: Any,
                    context: Any = None) -> None:
        def given() -> Iterator[Any]:
            yield from parameters[:1]
            raise KeyboardInterrupt  # as the driver asks for the next row

        cursor.executemany(statement, given())

    monkeypatch.setattr(default.DefaultDialect, "do_executemany", interrupted)
    with pytest.raises(KeyboardInterrupt):
        projections.rebuild(app)
    monkeypatch.setattr(default.DefaultDialect, "do_executemany", write_rows)
    app.close()
    gc.collect()  # the interruption's traceback, which the command's end lets go of
    again = HandoffApp(locate(str(tmp_path / "store.sqlite")), clock=clock)
    projections.catch_up(again)
    assert (rows(again), summary_rows(again)) == expected
    again.close()
