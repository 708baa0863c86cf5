"""Summaries: stage counts and decided handoffs pre-aggregated by UTC day.

A report as of now (an as-of instant after every recorded event) sums the whole UTC days
of its period here, and reads only the partial days at its two ends (a period is local
days in the agreement's zone, whatever its offset) from the per-event tables, with the
same SELECT restricted to those instants. So a year is a few thousand rows, not a million.

They are kept up to date two ways, and only two: a catch-up counts what its events and
decisions add as it projects them (`tally`) and adds that once at its end (`add`); when
that count cannot be trusted (an agreement version applied moves due instants of
handoffs already decided; another process projected meanwhile), `refresh` recomputes
them from the per-event tables in one pass. Either way they count the verdicts stored
with each row (`in_flow`, `in_cohort`, `in_time`), never a rule of their own.
`read_summary.position` says how far they are valid; a report uses them only while that
is the projection's own position.

This module builds SQL text only, so that reading a report needs no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from handoff.domain.service_level import DAY_US as DAY_US  # re-exported
from handoff.projections import amounts

# The rows of this projection in read_position and of its summaries in read_summary.
PROJECTION = "kpi"
NAME = PROJECTION

# Run SQL with `?`/`%s` parameters, as the driver does: a tuple once, a list of tuples
# once per tuple (executemany).
Execute = Callable[[str, Any], Any]
# Insert rows into a table (name, columns, rows), those meeting a row already there
# handled by an ON CONFLICT clause (`writing.merge`, on the catch-up's connection).
Merge = Callable[[str, Sequence[str], list[tuple[Any, ...]], str], None]

# basis -> (the instant that places a row on a day, the column saying which events count:
# the verdict of service_level.counts_in_flow or counts_in_cohort, stored with each event)
STAGE_BASES = {"flow": ("occurred_us", "in_flow"), "cohort": ("captured_us", "in_cohort")}
# basis -> the instant that places a handoff in a period: in every report, the
# summaries, follow-up and speed to lead, and the restatements a report names.
SLA_BASES = {"flow": "handed_us", "cohort": "captured_us"}
# dim -> group value. By owner, a cohort groups by the lead's latest owner, which moves
# with each handoff: it is read from the per-lead tables instead.
GROUPS = {"": "''", "source": "source", "owner": "COALESCE(owner, '')"}
DIMS = {"flow": ("", "source", "owner"), "cohort": ("", "source")}
_DECIDED = "decision IS NOT NULL AND due_us IS NOT NULL"


def day_of(column: str) -> str:
    """The UTC midnight at or before an instant. Integer division truncates towards zero
    on both databases, so instants before 1970 are floored by hand (and `%` is left out:
    psycopg would read it as a parameter)."""
    return (
        f"(CASE WHEN {column} >= 0 THEN {column} / {DAY_US} * {DAY_US}"
        f" ELSE -((-{column} - 1) / {DAY_US} + 1) * {DAY_US} END)"
    )


def stage_select(basis: str, dim: str, where: str) -> str:
    """(basis, dim, day_us, grp, event, events, amount_high, amount_low) of lead events
    (the sum of their amounts in two parts: see `amounts`)."""
    instant, counted = STAGE_BASES[basis]
    day, grp = day_of(instant), GROUPS[dim]
    return (
        f"SELECT '{basis}' AS basis, '{dim}' AS dim, {day} AS day_us, {grp} AS grp, event,"
        f" COUNT(*) AS events, {amounts.sums('amount_cents')}"
        f" FROM read_event WHERE {counted} AND {where}"
        f" GROUP BY {_grouping(day, dim)}, event"
    )


def sla_select(basis: str, dim: str, where: str) -> str:
    """(basis, dim, day_us, grp, in_time, late) of decided handoffs under an agreement."""
    day, grp = day_of(SLA_BASES[basis]), GROUPS[dim]
    return (
        f"SELECT '{basis}' AS basis, '{dim}' AS dim, {day} AS day_us, {grp} AS grp,"
        " SUM(CASE WHEN in_time THEN 1 ELSE 0 END) AS in_time,"
        " SUM(CASE WHEN in_time THEN 0 ELSE 1 END) AS late"
        f" FROM read_handoff WHERE {_DECIDED} AND {where} GROUP BY {_grouping(day, dim)}"
    )


def _grouping(day: str, dim: str) -> str:
    """PostgreSQL refuses a constant in GROUP BY: the one-group dim has none."""
    return f"{day}, {GROUPS[dim]}" if dim else day


def _all(select: Callable[[str, str, str], str], where: str) -> str:
    parts = [select(basis, dim, where) for basis, dims in DIMS.items() for dim in dims]
    # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
    return "SELECT * FROM (" + " UNION ALL ".join(parts) + ") AS found WHERE 1 = 1"


def _stage_rollup(where: str) -> str:
    """Every (basis, dim) of `stage_select` at once: each basis's events are grouped
    once by day, source, owner and event, and the dims summed from that (five passes
    over a million events would cost seconds at the end of a rebuild)."""
    fine = {
        basis: (
            f"{basis}_fine AS MATERIALIZED (SELECT {day_of(instant)} AS day_us, source,"
            " COALESCE(owner, '') AS owner, event, COUNT(*) AS events,"
            f" {amounts.sums('amount_cents')}"
            f" FROM read_event WHERE {counted} AND {where}"
            f" GROUP BY {day_of(instant)}, source, COALESCE(owner, ''), event)"
        )
        for basis, (instant, counted) in STAGE_BASES.items()
    }
    parts = [
        f"SELECT '{basis}' AS basis, '{dim}' AS dim, day_us, {grp} AS grp, event,"
        " SUM(events) AS events, SUM(amount_high) AS amount_high,"
        f" SUM(amount_low) AS amount_low FROM {basis}_fine"
        f" GROUP BY day_us, {'' if not dim else dim + ', '}event"
        for basis, dims in DIMS.items()
        for dim in dims
        for grp in (f"{dim}" if dim else "''",)
    ]
    return (
        "SELECT * FROM (WITH " + ", ".join(fine.values()) + " "
        + " UNION ALL ".join(parts) + ") AS found WHERE 1 = 1"
    )


_STAGE_COLUMNS = ("basis", "dim", "day_us", "grp", "event", "events", "amount_high",
                  "amount_low")
_STAGE_INSERT = f"INSERT INTO read_stage_day ({', '.join(_STAGE_COLUMNS)}) "
_STAGE_ADD = (
    " ON CONFLICT (basis, dim, day_us, grp, event) DO UPDATE SET"
    " events = read_stage_day.events + excluded.events,"
    " amount_high = read_stage_day.amount_high + excluded.amount_high,"
    " amount_low = read_stage_day.amount_low + excluded.amount_low"
)
_SLA_COLUMNS = ("basis", "dim", "day_us", "grp", "in_time", "late")
_SLA_INSERT = f"INSERT INTO read_sla_day ({', '.join(_SLA_COLUMNS)}) "
_SLA_ADD = (
    " ON CONFLICT (basis, dim, day_us, grp) DO UPDATE SET"
    " in_time = read_sla_day.in_time + excluded.in_time,"
    " late = read_sla_day.late + excluded.late"
)


def refresh(execute: Execute, position: int) -> None:
    """Recompute the summaries from the per-event tables, valid at `position`."""
    execute("DELETE FROM read_stage_day", ())
    execute("DELETE FROM read_sla_day", ())
    execute(_STAGE_INSERT + _stage_rollup("1 = 1"), ())
    execute(_SLA_INSERT + _all(sla_select, "1 = 1"), ())
    execute(
        "UPDATE read_summary SET position = {0},"
        " recorded_us = (SELECT COALESCE(MAX(recorded_us), 0) FROM read_event)"
        " WHERE name = {0}",
        (position, NAME),
    )


def add(
    execute: Execute,
    merge: Merge,
    stage_rows: list[tuple[Any, ...]],
    sla_rows: list[tuple[Any, ...]],
    position: int,
    recorded_us: int,
    taken_back: bool = False,
) -> None:
    """Add counts made elsewhere (see tally.py) to the summaries, then valid at `position`.
    `taken_back`: some counts are negative (rows a correction replaced), so rows may have
    fallen to nothing: they go, as a recompute would not write them."""
    merge("read_stage_day", _STAGE_COLUMNS, stage_rows, _STAGE_ADD)
    merge("read_sla_day", _SLA_COLUMNS, sla_rows, _SLA_ADD)
    if taken_back:
        execute("DELETE FROM read_stage_day WHERE events = 0", ())
        execute("DELETE FROM read_sla_day WHERE in_time = 0 AND late = 0", ())
    _advance(execute, position, recorded_us)


def _advance(execute: Execute, position: int, recorded_us: int) -> None:
    execute(
        "UPDATE read_summary SET position = {0},"
        " recorded_us = CASE WHEN recorded_us < {0} THEN {0} ELSE recorded_us END"
        " WHERE name = {0}",
        (position, recorded_us, recorded_us, NAME),
    )
