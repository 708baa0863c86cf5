"""The projections catch up incrementally, rebuild to the same rows, and never count twice."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

from conftest import AGREEMENT, FakeClock, agreement_toml
from sqlalchemy import select

from handoff import projections
from handoff.application import HandoffApp
from handoff.domain.agreement import parse_agreement
from handoff.kpi import compute_kpis, period_from_options
from handoff.projections import tables
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
            for table in tables.PROJECTED_TABLES
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
