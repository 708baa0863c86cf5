"""The projections catch up incrementally, rebuild to the same rows, and never count twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from conftest import AGREEMENT, FakeClock, agreement_toml
from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError

from handoff import eventstore, projections
from handoff.application import HandoffApp
from handoff.domain import service_level
from handoff.domain.agreement_file import parse_agreement
from handoff.kpi import Period, compute_kpis, period_from_options
from handoff.lead_list import list_leads
from handoff.projections import (
    catchup,
    exclusive,
    page,
    readmodel,
    report_now,
    schema,
    versions,
    writing,
)
from handoff.projections.instants import micros
from handoff.projections.totals import Scope
from handoff.store import locate

MARCH = "2026-03"


def agree(app: HandoffApp) -> None:
    app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT, {"team": None})), "maria")


def lead_to(app: HandoffApp, key: str, day: int, last: str, owner: str = "sam") -> None:
    """A lead taken through the protocol on one March day, up to `last`."""
    path = [("qualified", {}), ("handed", {"owner": owner}), ("accepted", {}),
            ("proposal", {"amount": "1200.50"}), ("won", {})]
    app.capture(key, "web", "maria", at=f"2026-03-{day:02d}T09:00")
    for hour, (event, data) in enumerate(path, start=10):
        app.record(key, event, "sam", f"2026-03-{day:02d}T{hour}:00", **data)
        if event == last:
            return


def rows(app: HandoffApp) -> dict[str, list[tuple[Any, ...]]]:
    """Every projected row, table by table, in a stable order."""
    with projections.read_model(app).engine.connect() as conn:
        return {
            table.name: sorted(tuple(r) for r in conn.execute(select(table)))
            for table in schema.PROJECTED_TABLES
        }


def march(app: HandoffApp) -> dict[str, Any]:
    return compute_kpis(app, period_from_options(app.agreement_register(), month=MARCH))


def test_catch_up_reads_only_what_is_new(app: HandoffApp) -> None:
    agree(app)
    lead_to(app, "a", 2, "accepted")
    first = projections.catch_up(app)
    lead_to(app, "b", 3, "handed")
    assert projections.catch_up(app) == 3
    assert projections.catch_up(app) == 0
    status = projections.status(app)
    assert status.position == status.last_event == first + 3
    assert status.behind == 0
    assert march(app)["counts"]["handed"] == 2


def test_a_report_catches_up_before_answering(app: HandoffApp) -> None:
    agree(app)
    lead_to(app, "a", 2, "won")
    assert march(app)["counts"]["won"] == 1
    lead_to(app, "b", 3, "won")
    assert march(app)["revenue_won"] == Decimal("2401.00")


def test_a_report_begun_as_an_import_is_caught_up_in_bulk_catches_up_too(
    app: HandoffApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report that found the read model caught up, and then an import recorded and its
    bulk catch-up dropped the indexes (a large import, as a `kpi` from cron ran): the
    report reads the log's end in its own transaction and finds itself behind, to catch
    up (it failed with "no such index" on SQLite)."""
    agree(app)
    lead_to(app, "a", 2, "won")
    period = period_from_options(app.agreement_register(), month=MARCH)
    assert march(app)["counts"]["won"] == 1  # caught up, summaries valid
    meanwhile = report_now.reading

    @contextmanager
    def reading_after_an_import(app: HandoffApp) -> Iterator[Any]:
        lead_to(app, "b", 3, "won")
        catchup._drop_indexes(projections.read_model(app))
        with meanwhile(app) as reader:
            yield reader

    monkeypatch.setattr(report_now, "reading", reading_after_an_import)
    scope = Scope("flow", None, micros(period.start), micros(period.end), micros(app.clock()))
    with pytest.raises(report_now.Behind):
        report_now.report(app, scope, period.first_day.isoformat(), period.last_day.isoformat())


def test_rebuild_gives_the_rows_of_incremental_catch_up(app: HandoffApp) -> None:
    lead_to(app, "early", 2, "accepted")  # before any agreement: no due instant yet
    projections.catch_up(app)
    agree(app)  # covers the earlier handoff from now on
    lead_to(app, "a", 3, "won")
    projections.catch_up(app)
    lead_to(app, "b", 4, "handed", owner="ola")
    app.record_visits(date(2026, 3, 4), 120, "li")
    projections.catch_up(app)
    incremental = rows(app)
    report = march(app)
    assert projections.rebuild(app) == projections.status(app).last_event
    assert rows(app) == incremental
    assert march(app) == report


def test_two_rebuilds_at_once_and_a_report_beside_them_all_end_well(
    app: HandoffApp, store: str, clock: FakeClock
) -> None:
    """Two people (or cron jobs) rebuild at once while a third asks for a report: each
    rebuild says how many events the projections hold, the report gives every figure, and
    nothing fails (one rebuild dropped the indexes the other was building, a report
    deadlocked with a rebuild, another read a model a rebuild had just emptied)."""
    agree(app)
    for number in range(40):
        lead_to(app, f"lead-{number}", 2 + number % 20, "won")
    report = march(app)  # caught up
    incremental = rows(app)
    entries = eventstore.entries_up_to(app, projections.status(app).last_event)
    others = [HandoffApp(locate(store), clock=clock) for _ in range(2)]
    try:
        for _ in range(3):
            errors, counts = at_once(
                lambda: projections.rebuild(app), lambda: projections.rebuild(others[0]),
                lambda: march(others[1]),
            )
            assert not errors, errors
            assert counts == [entries, entries, report]
            assert rows(app) == incremental
            assert march(app) == report
    finally:
        for other in others:
            other.close()


def emptied_by_another_rebuild(store: str, clock: FakeClock) -> Any:
    """Empty the read model as a rebuild run from another process begins (its first step),
    and nothing more."""
    other = HandoffApp(locate(store), clock=clock)
    try:
        model = projections.read_model(other)
        catchup._exclusively(model, [table.name for table in catchup._REBUILT],
                             lambda conn: catchup._empty(model, conn))
    finally:
        other.close()


def test_a_rebuild_emptied_by_another_after_its_last_page_projects_the_log_again(
    app: HandoffApp, store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second rebuild may empty the read model between the first one's last page and its
    end: the first still answers with the whole log, and leaves it projected."""
    agree(app)
    for number in range(12):
        lead_to(app, f"lead-{number}", 2 + number, "won")
    report = march(app)  # caught up
    incremental = rows(app)
    entries = eventstore.entries_up_to(app, projections.status(app).last_event)
    run = catchup.Projector.run
    emptied: list[int] = []

    def then_emptied(projector: catchup.Projector) -> int:
        read = run(projector)
        if not emptied:
            emptied.append(read)
            emptied_by_another_rebuild(store, clock)
        return read

    monkeypatch.setattr(catchup.Projector, "run", then_emptied)
    assert projections.rebuild(app) == entries
    assert emptied  # the premise: the model was emptied after the first run's pages
    assert projections.status(app).behind == 0
    assert rows(app) == incremental
    assert march(app) == report


def test_a_report_reads_without_the_indexes_a_bulk_catch_up_has_dropped(
    app: HandoffApp, store: str, clock: FakeClock
) -> None:
    """A bulk catch-up drops the indexes before its first page; one begun while another
    process projected the same events finds nothing left to project: the model is then
    caught up without its indexes until the first ends, and reports still read it."""
    agree(app)
    for number in range(12):
        lead_to(app, f"lead-{number}", 2 + number, ("handed", "accepted", "won")[number % 3])
    report = march(app)  # caught up
    other = HandoffApp(locate(store), clock=clock)  # another process, its read model open
    try:
        projections.read_model(other)
        catchup._drop_indexes(projections.read_model(app))
        assert march(other) == report
    finally:
        other.close()


SEAMS = {  # where another process's rebuild empties the read model, and in which report
    "before the report": ("_report", ("now", "as of")),
    "after the catch-up before the per-event tables are read": ("catch_up", ("as of",)),
    "before follow-up and speed to lead": ("reading_projected", ("now", "as of")),
    "before the restatements": ("restatements", ("now", "as of")),
}


@pytest.mark.parametrize("when", list(SEAMS))
def test_a_report_read_while_another_rebuild_empties_the_read_model_gives_every_figure(
    app: HandoffApp, store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """A report asked while someone rebuilds the read model elsewhere gives the figures the
    log holds, never those of a model the rebuild has just emptied."""
    agree(app)
    for number in range(12):
        lead_to(app, f"lead-{number}", 2 + number, ("handed", "accepted", "won")[number % 3])
    with_a_restatement(app)
    clock.advance(minutes=1)
    as_of = clock.now  # a report as of an instant reads the per-event tables
    clock.advance(minutes=1)
    for number in range(3):
        lead_to(app, f"later-{number}", 20 + number, "accepted")
    reports = {
        "now": lambda: march(app),
        "as of": lambda: compute_kpis(
            app, period_from_options(app.agreement_register(), month=MARCH), as_of=as_of),
    }
    name, which = SEAMS[when]
    expected = {report: reports[report]() for report in which}
    assert all(found["restatements"] and found["follow_up"] for found in expected.values())
    from handoff import follow_up, kpi

    module = {"reading_projected": follow_up, "catch_up": catchup}.get(name, kpi)
    original = getattr(module, name)
    emptied: list[bool] = []

    def emptied_on_the_way(*args: Any, **kwargs: Any) -> Any:
        if name != "catch_up" and not emptied:
            emptied.append(True)
            emptied_by_another_rebuild(store, clock)
        found = original(*args, **kwargs)
        if name == "catch_up" and not emptied:  # once caught up, and before reading
            emptied.append(True)
            emptied_by_another_rebuild(store, clock)
        return found

    monkeypatch.setattr(module, name, emptied_on_the_way)
    for report in which:
        emptied.clear()
        assert reports[report]() == expected[report], report
        assert emptied  # the premise: the model was emptied on the way


@pytest.mark.parametrize("read", ["projected", "reading"])
def test_a_held_read_is_one_state_that_neither_a_catch_up_nor_a_rebuild_elsewhere_changes(
    app: HandoffApp, store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    """Another process projects new events, then tries to empty the read model, while a
    report reads it: the report sees the state it began with throughout (on PostgreSQL
    in READ COMMITTED each statement saw the new rows; the rebuild is refused there)."""
    agree(app)
    for number in range(3):
        lead_to(app, f"lead-{number}", 2 + number, "won")
    projections.catch_up(app)
    monkeypatch.setattr(exclusive, "_WAIT_AT_MOST", 0.1)
    other = HandoffApp(locate(store), clock=clock)
    try:
        model = projections.read_model(other)

        def leads(held: Any) -> int:
            sql = "SELECT COUNT(*) FROM read_lead"
            if read == "reading":
                return int(held.rows(sql)[0][0])
            return int(held.exec_driver_sql(sql).scalar_one())

        holds = catchup.projected(app) if read == "projected" else report_now.reading(app)
        with holds as held:
            before = leads(held)
            lead_to(other, "later", 20, "won")
            projections.catch_up(other)
            assert leads(held) == before
            try:
                catchup._exclusively(model, [table.name for table in catchup._REBUILT],
                                     lambda conn: catchup._empty(model, conn))
            except exclusive.Busy:
                assert store.startswith("postgresql")  # SQLite's read is a snapshot
            assert leads(held) == before
    finally:
        other.close()


def test_the_status_shows_the_rows_of_the_position_it_shows_while_a_rebuild_empties_them(
    app: HandoffApp, store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`projections status` asked while another process begins a rebuild shows a position
    and the rows of that one state (it read the position, then counted the rows of a model
    the rebuild had just emptied: every event projected, and no rows)."""
    agree(app)
    for number in range(12):
        lead_to(app, f"lead-{number}", 2 + number, "won")
    projections.catch_up(app)
    counted = {name: len(found) for name, found in rows(app).items()}
    assert (counted["read_lead"], counted["read_event"]) == (12, 12 * 6)  # 6 steps each
    monkeypatch.setattr(exclusive, "_WAIT_AT_MOST", 0.1)
    read = readmodel.position_of
    emptied: list[bool] = []

    def then_emptied(conn: Any) -> int:
        at = read(conn)
        if not emptied:
            emptied.append(True)
            try:
                emptied_by_another_rebuild(store, clock)
            except exclusive.Busy:
                assert store.startswith("postgresql")  # SQLite's read is a snapshot
        return at

    monkeypatch.setattr(readmodel, "position_of", then_emptied)
    status = projections.status(app)
    assert emptied  # the premise: another rebuild began once the position was read
    assert status.position == status.last_event
    assert status.rows == counted


def with_a_restatement(app: HandoffApp) -> None:
    """A follow-up clause, then the window restated to half an hour: every handoff decided
    an hour after it was made, in time before, is late now."""
    clause = {"team": None, "sales.follow_up.attempts": "2", "sales.follow_up.within_days": "5"}
    app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT, clause)), "maria")
    restated = agreement_toml(AGREEMENT, {**clause, "sales.decide_within_hours": "0.5"})
    app.apply_agreement(parse_agreement(restated), "maria", "the window was half an hour")


def at_once(*jobs: Any) -> tuple[list[BaseException], list[Any]]:
    """Run the jobs in threads of their own, together: what they raised, what they gave."""
    errors: list[BaseException] = []
    given: list[Any] = [None] * len(jobs)

    def run(number: int) -> None:
        try:
            given[number] = jobs[number]()
        except BaseException as error:  # pragma: no cover - reported by the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors, given


def test_an_agreement_applied_later_gives_earlier_handoffs_a_due_instant(
    app: HandoffApp, clock: FakeClock
) -> None:
    lead_to(app, "a", 2, "handed")
    before = clock()
    assert march(app)["sla"]["handoffs"] == 0
    clock.advance(hours=1)
    agree(app)
    assert march(app)["sla"]["overdue"] == 1
    # As of an instant before the agreement was applied, the handoff had no due instant.
    period = period_from_options(app.agreement_register(), month=MARCH, as_of=before)
    assert compute_kpis(app, period, as_of=before)["sla"]["handoffs"] == 0


def test_two_concurrent_catch_ups_never_count_twice(app: HandoffApp, store: str,
                                                    clock: FakeClock) -> None:
    agree(app)
    for number in range(30):
        lead_to(app, f"lead-{number}", 2 + number % 20, "won")
    other = HandoffApp(locate(store), clock=clock)
    try:
        errors: list[BaseException] = []

        def catch_up(application: HandoffApp) -> None:
            try:
                # Small pages: many transactions, so the two really interleave.
                projections.catch_up(application, page=7)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=catch_up, args=(a,)) for a in (app, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        counts = march(app)["counts"]
        assert counts["captured"] == counts["won"] == 30
        assert len(rows(app)["read_event"]) == 30 * 6
    finally:
        other.close()


def summary_rows(app: HandoffApp) -> dict[str, list[tuple[Any, ...]]]:
    with projections.read_model(app).engine.connect() as conn:
        return {
            table.name: sorted(tuple(r) for r in conn.execute(select(table)))
            for table in schema.SUMMARY_TABLES
        }


def both_ways(app: HandoffApp, period: Period, basis: str, by: str | None) -> dict[str, Any]:
    """The report from the summaries, checked against the per-event tables."""
    fast = compute_kpis(app, period, basis, by)  # catches up first
    now = app.clock()
    scope = Scope(basis, by, micros(period.start), micros(period.end), micros(now))
    days = period.first_day.isoformat(), period.last_day.isoformat()
    assert report_now.report(app, scope, *days) is not None  # the summaries do answer
    assert fast == compute_kpis(app, period, basis, by, exact=True)
    return fast


def test_summaries_followed_page_by_page_equal_summaries_recomputed(app: HandoffApp) -> None:
    agree(app)
    for number in range(12):
        lead_to(app, f"lead-{number}", 2 + number, ("handed", "accepted", "won")[number % 3],
                owner=("sam", "ola")[number % 2])
        projections.catch_up(app, page=4)
    followed = summary_rows(app)
    assert followed["read_stage_day"] and followed["read_sla_day"]
    projections.rebuild(app)
    assert summary_rows(app) == followed


def test_a_period_in_a_zone_off_the_hour_reads_its_partial_days_exactly(
    app: HandoffApp, clock: FakeClock
) -> None:
    # Kathmandu is UTC+05:45: every local midnight falls inside a UTC day.
    toml = agreement_toml(AGREEMENT, {"team": None, "timezone": '"Asia/Kathmandu"'})
    app.apply_agreement(parse_agreement(toml), "maria")
    for number, at in enumerate(("2026-03-01T00:10", "2026-03-31T23:50", "2026-04-01T00:05",
                                 "2026-02-28T23:55", "2026-03-15T12:00")):
        key = f"edge-{number}"
        app.capture(key, ("web", "events")[number % 2], "maria", at=at)
        app.record(key, "qualified", "sam", at)
        app.record(key, "handed", "sam", at, owner=("sam", "ola")[number % 2])
    clock.advance(days=1)
    period = period_from_options(app.agreement_register(), month=MARCH)
    for basis, by in (("flow", None), ("flow", "owner"), ("cohort", "source")):
        assert both_ways(app, period, basis, by)["counts"]["handed"] == 3


def test_the_median_of_an_even_number_of_responses_is_the_mean_of_the_middle_two(
    app: HandoffApp,
) -> None:
    agree(app)
    for number, decided in enumerate(("10:00", "11:00", "13:00", "16:00")):
        key = f"lead-{number}"
        app.capture(key, "web", "maria", at="2026-03-02T08:00")
        app.record(key, "qualified", "sam", "2026-03-02T08:30")
        app.record(key, "handed", "sam", "2026-03-02T09:00", owner="sam")
        app.record(key, "accepted", "sam", f"2026-03-02T{decided}")
    period = period_from_options(app.agreement_register(), month=MARCH)
    report = both_ways(app, period, "flow", "owner")
    assert report["sla"]["median_response_hours"] == 3.0  # of 1, 2, 4 and 7 hours
    assert report["groups"]["sam"]["sla"]["median_response_hours"] == 3.0


def test_a_bulk_catch_up_gives_the_rows_and_indexes_of_an_incremental_one(
    app: HandoffApp,
) -> None:
    agree(app)
    for number in range(6):
        lead_to(app, f"lead-{number}", 2 + number, "won")
    projections.catch_up(app, bulk=False)
    incremental = rows(app), summary_rows(app)
    projections.rebuild(app)  # always in bulk
    assert (rows(app), summary_rows(app)) == incremental
    with projections.read_model(app).engine.connect() as conn:
        found = {i["name"] for t in ("read_event", "read_handoff")
                 for i in inspect(conn).get_indexes(t)}
    assert {str(index.name) for index in schema.SECONDARY_INDEXES} <= found


def test_rows_projected_twice_collide_on_their_keys_as_a_catch_up_expects(
    app: HandoffApp,
) -> None:
    """A second process projecting the same events collides on the rows' keys; the
    catch-up then starts again from the new position. PostgreSQL writes rows with COPY,
    whose collision must read as the same IntegrityError as SQLite's INSERT."""
    agree(app)
    lead_to(app, "acme", 2, "won")
    projections.catch_up(app)
    model = projections.read_model(app)
    with model.engine.connect() as conn:
        first = conn.execute(select(schema.event).order_by(schema.event.c.notification_id))
        row = tuple(first.first() or ())
    with pytest.raises(IntegrityError), model.engine.begin() as conn:
        writing.insert(conn, schema.event.name, [c.name for c in schema.event.columns], [row])
    with model.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(schema.event)).scalar()
    assert count == 6  # captured, qualified, handed, accepted, proposal, won: nothing added


def test_pages_written_while_the_next_is_turned_give_the_rows_of_an_incremental_catch_up(
    app: HandoffApp, written_ahead: list[bool]
) -> None:
    agree(app)
    for number in range(12):
        lead_to(app, f"lead-{number}", 2 + number, ("handed", "accepted", "won")[number % 3])
    projections.catch_up(app, bulk=False)
    incremental = rows(app), summary_rows(app)
    projections.rebuild(app)
    assert written_ahead == [True]  # by a process of its own
    assert (rows(app), summary_rows(app)) == incremental


def test_a_page_written_ahead_that_collides_fails_as_a_collision(
    app: HandoffApp, written_ahead: list[bool]
) -> None:
    """Rows already at a later page's keys (another process projecting the same events):
    the write fails with the IntegrityError a catch-up recovers from, wherever it ran."""
    agree(app)
    for number in range(6):
        lead_to(app, f"lead-{number}", 2 + number, "won")
    projections.catch_up(app, bulk=False)
    with projections.read_model(app).engine.connect() as conn:
        last = tuple(conn.execute(
            select(schema.event).order_by(schema.event.c.notification_id.desc())
        ).first() or ())
    projections.rebuild(app)  # empties the tables and projects them again
    model = projections.read_model(app)
    with model.engine.begin() as conn:
        conn.execute(update(schema.position).values(position=0))
        conn.execute(delete(schema.event).where(schema.event.c.notification_id < last[0]))
    with pytest.raises(IntegrityError):
        projections.catch_up(app, bulk=True)
    assert written_ahead


def test_a_read_model_judged_by_other_rules_is_projected_again(
    store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The read model stores each decision's verdict: a release whose rules judge otherwise
    # (here every decision late) says so by its rules' version, and the store's verdicts
    # are judged again by the new rules, rather than kept from the old ones.
    first = HandoffApp(locate(store), clock=clock)
    agree(first)
    lead_to(first, "a", 2, "accepted")  # handed at 10:00, accepted at 11:00
    assert march(first)["sla"]["decided_in_time"] == 1
    first.close()
    monkeypatch.setattr(page, "decided_in_time", lambda decided, due: False)
    monkeypatch.setattr(service_level, "RULES_VERSION", service_level.RULES_VERSION + 1)
    later = HandoffApp(locate(store), clock=clock)
    try:
        assert (march(later)["sla"]["decided_in_time"], march(later)["sla"]["decided_late"]) == (
            0, 1)
    finally:
        later.close()


def test_a_read_model_of_another_shape_is_projected_again(
    store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = HandoffApp(locate(store), clock=clock)
    agree(first)
    lead_to(first, "a", 2, "won")
    expected = march(first)
    with projections.read_model(first).engine.begin() as conn:
        conn.execute(delete(schema.event))  # rows an older release would not have read
    first.close()
    monkeypatch.setattr(versions, "SCHEMA_VERSION", versions.SCHEMA_VERSION + 1)
    later = HandoffApp(locate(store), clock=clock)
    try:
        assert march(later) == expected
    finally:
        later.close()


@pytest.mark.parametrize("dropped", [
    f"DROP TABLE {schema.lead.name}", f"DROP TABLE {schema.summary.name}",
    f"ALTER TABLE {schema.event.name} DROP COLUMN owner",
])
def test_a_read_model_table_dropped_by_hand_is_projected_again(
    store: str, clock: FakeClock, dropped: str
) -> None:
    # The KPI tables are derived from the log: one an admin dropped (`DROP TABLE read_lead`
    # in sqlite3 or psql) is built again from the log, as a read model of another release
    # is, rather than every report failing on it, `projections rebuild` included. So are
    # they when a column of one is dropped (a report by owner, `kpi --by owner` or the
    # review, failed on `read_event.owner` with an internal error).
    first = HandoffApp(locate(store), clock=clock)
    agree(first)
    lead_to(first, "a", 2, "won")
    expected = march(first), march_by_owner(first)
    with projections.read_model(first).engine.begin() as conn:
        conn.exec_driver_sql(dropped)
    first.close()
    later = HandoffApp(locate(store), clock=clock)
    try:
        assert (march(later), march_by_owner(later)) == expected
        assert expected[1]["groups"]
        assert [(lead["key"], lead["state"]) for lead in list_leads(later)] == [("a", "won")]
    finally:
        later.close()


def march_by_owner(app: HandoffApp) -> dict[str, Any]:
    return compute_kpis(app, period_from_options(app.agreement_register(), month=MARCH),
                        by="owner")


def a_lock_waited_for(app: HandoffApp) -> None:
    """On PostgreSQL, until a transaction of the store's database waits for a lock (at most
    a second: none may ever wait)."""
    if not app.location.is_postgres:
        return
    waiting = ("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND database ="
               " (SELECT oid FROM pg_database WHERE datname = current_database())")
    with projections.read_model(app).engine.connect() as conn:
        for _ in range(100):
            if conn.exec_driver_sql(waiting).scalar_one():
                return
            conn.rollback()
            time.sleep(0.01)


def test_a_release_that_projects_anew_and_a_report_reading_meanwhile_both_end_well(
    app: HandoffApp, store: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new release opens the store to drop the read model of the one before while a
    report holds it: on PostgreSQL the drop locked the tables one at a time (read_event
    among them, then waited for read_lead, held by the report), the report waited for
    read_event, and the server aborted one of them for a deadlock. The report reads what
    it began with, and the release projects anew."""
    agree(app)
    lead_to(app, "a", 2, "won")
    expected = march(app)  # the report's read model, caught up
    made = versions.current()
    monkeypatch.setattr(versions, "SCHEMA_VERSION", versions.SCHEMA_VERSION + 1)
    reading, dropping = threading.Event(), threading.Event()
    held = readmodel._held

    def found(conn: Any) -> Any:
        there = held(conn)
        dropping.set()  # a model of another release found: the drop comes next
        return there

    monkeypatch.setattr(readmodel, "_held", found)

    def report() -> tuple[Any, ...]:
        with report_now.reading(app) as reader:
            leads = reader.rows("SELECT COUNT(*) FROM read_lead")[0][0]
            reading.set()
            assert dropping.wait(10)
            a_lock_waited_for(app)
            made_by = versions.held(reader.rows(
                versions.SELECT, versions.SCHEMA_ROW, versions.RULES_ROW))
            return leads, made_by, reader.rows("SELECT COUNT(*) FROM read_event")[0][0]

    later = HandoffApp(locate(store), clock=clock)
    try:

        def release() -> None:
            assert reading.wait(10)
            projections.read_model(later)

        errors, (seen, _) = at_once(report, release)
        assert not errors, errors
        assert seen == (1, made, 6)  # captured, qualified, handed, accepted, proposal, won
        assert march(later) == expected
    finally:
        later.close()
