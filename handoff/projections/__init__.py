"""The read side: read models fed from the event log, and the reports read from them.

It depends on the event log (`handoff.eventstore`), the domain and two process utilities
(`handoff.switches`: the GC pause and SQLite's pragmas; `handoff.child`: the page writer's
process), nothing else. A map, in the order an event travels:

Reading the log
    states        an event's JSON state: values, tagged instants and amounts
    lead_facts    the few facts of a lead event, read from its usual shape (fast path)
Projecting it
    schema        the read model's tables, beside the events in the same database
    readmodel     opening the read model; where the projection and its summaries stand
    versions      which tables and which rules' verdicts a read model holds
    catchup       catch_up and rebuild: incremental or bulk, summaries brought up to date;
                  projected: a read of the caught-up model that no rebuild empties
    exclusive     a transaction with tables to itself, all locked at once or tried again
                  (PostgreSQL): none waits for a report holding one, to deadlock with it
    projector     the page loop: each page one transaction with its position
    page_writer   a page's rows and position committed here, or by a worker meanwhile
    page          one page of events turned into rows, each verdict stored with its row
    writing       rows written in bulk: executemany on SQLite, COPY on PostgreSQL
    due           due instants and response times on microseconds (service_level's rules)
    instants      instants as stored: integer microseconds since the epoch
Counting
    tally         what a catch-up adds to the summaries, counted as it projects
    summaries     stage and SLA counts by UTC day: SQL to refresh, add and select them
    amounts       sums of amounts in two parts, so that none overflows
    verdicts      the one verdict read at report time (pending or overdue), as SQL
Reporting
    totals        what a report returns, per group (plain data)
    report_now    a report as of now, from the summaries (no SQLAlchemy needed)
    report_as_of  a report as of any instant, from the per-event tables
    corrected     which leads a correction touched (for the export), when caught up

The rules themselves live in `handoff.domain.service_level`; the only other forms are
fast paths held to them by differential tests. The names below are loaded on first
use: `readmodel` needs SQLAlchemy, which takes longer to import than a report as of now
takes to answer (`report_now` reads with the driver alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handoff.projections.catchup import catch_up, projected, rebuild
    from handoff.projections.readmodel import (
        PROJECTION,
        ReadModel,
        Status,
        position,
        read_model,
        status,
    )

_HOMES = {
    "catch_up": "catchup", "projected": "catchup", "rebuild": "catchup", "PROJECTION": "readmodel",
    "ReadModel": "readmodel", "Status": "readmodel", "position": "readmodel",
    "read_model": "readmodel", "status": "readmodel",
}
__all__ = [
    "PROJECTION", "ReadModel", "Status", "catch_up", "position", "projected", "read_model",
    "rebuild", "status",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"handoff.projections.{home}"), name)
