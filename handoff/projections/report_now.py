"""Reports as of now, from the summaries, read with the event store's own connection.

A report whose as-of instant follows every recorded event, with every agreement version
already applied, needs no as-of filtering: whole UTC days come from the summaries, the
partial days at the period's ends and the few undecided handoffs from the per-event
tables, and each median from walking the index of response times. Nothing here imports
SQLAlchemy, so `handoff kpi` answers in about the time Python takes to start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from handoff import eventstore
from handoff.domain.errors import Refused
from handoff.domain.service_level import IN_TIME, LATE
from handoff.domain.steps import UNASSIGNED
from handoff.projections import amounts, summaries, verdicts, versions
from handoff.projections.summaries import DAY_US, GROUPS, SLA_BASES, STAGE_BASES
from handoff.projections.totals import ALL, HandoffTotals, Scope, StageTotals

if TYPE_CHECKING:
    from handoff.application import HandoffApp

_NAMES = {"source": "source", "owner": f"COALESCE(owner, '{UNASSIGNED}')"}  # group names


@dataclass(frozen=True)
class Report:
    stages: dict[str, StageTotals]
    handoffs: dict[str, HandoffTotals]
    visits: int


class Behind(Exception):
    """The read model has not projected every event yet: catch up, then ask again."""


class EmptiedAgain(Refused):
    """Rebuilds run meanwhile emptied the read model each time a read had caught it up."""

    def __init__(self) -> None:
        super().__init__("the tables reports read were emptied again and again by rebuilds"
                         " run meanwhile (projections rebuild): run the command again once"
                         " they have ended")


# How often a read catches the read model up again after a rebuild emptied it.
READ_ATTEMPTS = 5
# A rebuild empties the read model only once it has each of its tables to itself
# (`catchup._exclusively`): on PostgreSQL a read holding one of them in share mode keeps
# the read model as it found it until the read ends (SQLite's reads are snapshots). In
# READ COMMITTED each statement would see what other catch-ups committed meanwhile: the
# read is one snapshot (REPEATABLE READ), taken by its first query, after the lock.
HELD_TABLE = "read_lead"
HOLD_POSTGRES = (
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    f"LOCK TABLE {HELD_TABLE} IN ACCESS SHARE MODE",
)
POSITION = f"SELECT position FROM read_position WHERE name = '{summaries.PROJECTION}'"


class _Reader:
    """SQL written with `{0}` for each parameter, run on one read transaction."""

    def __init__(self, cursor: Any, mark: str) -> None:
        self.cursor = cursor
        self.mark = mark

    def position(self) -> int:
        """The projection's position, as this read sees the read model."""
        return int(self.rows(POSITION)[0][0])

    def of_this_release(self) -> bool:
        """Whether this release made the read model (`versions`): one another release made
        may hold other things, and no read reads it until it is projected anew."""
        return versions.held(self.rows(versions.SELECT, versions.SCHEMA_ROW,
                                       versions.RULES_ROW)) == versions.current()

    def hint(self, index: str) -> str:
        """SQLite's planner, without statistics, prefers a range on the period's column to
        these partial indexes; PostgreSQL's has statistics and needs no telling. A bulk
        catch-up drops the indexes while it projects (even one that finds everything
        projected by another meanwhile): read without them then."""
        if self.mark == "%s" or not self.rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = {0}", index
        ):
            return ""
        return f" INDEXED BY {index}"

    def rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql.format(self.mark), parameters)
        return eventstore.rows(self.cursor)


@contextmanager
def reading_projected(app: HandoffApp, recorded: int) -> Iterator[_Reader]:
    """`reading`, of a read model that holds the events up to `recorded` (caught up first
    when it does not, and again if another process's rebuild empties it meanwhile)."""
    for _ in range(READ_ATTEMPTS):
        with reading(app) as reader:
            if reader.position() >= recorded:
                yield reader
                return
        from handoff.projections.catchup import catch_up

        catch_up(app)
    raise EmptiedAgain()


@contextmanager
def reading(app: HandoffApp) -> Iterator[_Reader]:
    """A read transaction on the store's own connection, which no rebuild empties the read
    model under (HELD_TABLE); SQL written with `{0}` marks."""
    with eventstore.read_transaction(app) as cursor:
        if app.location.is_postgres:
            for statement in HOLD_POSTGRES:
                cursor.execute(statement)
        yield _Reader(cursor, "%s" if app.location.is_postgres else "?")


def report(
    app: HandoffApp, scope: Scope, first_day: str, last_day: str
) -> Report | None:
    """The report from the summaries, or None when they cannot give it exactly (an
    earlier as-of instant, stale summaries, a cohort by owner). Raises Behind."""
    if not scope.all_versions_known or (scope.basis, scope.by) == ("cohort", "owner"):
        return None
    try:
        with reading(app) as reader:
            # The log's end as this transaction sees the read model: read before it, a
            # large import and its bulk catch-up (indexes dropped) could come in between,
            # and the read model would look caught up without its indexes.
            last_event = eventstore.last_notification_id_read(app, reader.cursor)
            return _report(reader, scope, first_day, last_day, last_event)
    except PersistenceError as error:  # no read model yet, or an older one: the full path
        if eventstore.busy(error):  # the same lock waited for again there: said once
            raise
        return None


def _report(
    reader: _Reader, scope: Scope, first_day: str, last_day: str, last_event: int
) -> Report | None:

    if not reader.of_this_release():
        return None  # the full path projects it anew
    found = reader.rows(
        "SELECT p.position AS projected, s.position AS summarised, s.recorded_us"
        " FROM read_position p, read_summary s WHERE p.name = {0} AND s.name = {0}",
        summaries.PROJECTION, summaries.NAME,
    )
    if not found:
        return None
    position, valid, recorded = found[0]
    if position < last_event:
        raise Behind()
    if valid != position or scope.as_of_us < recorded:
        return None
    return Report(
        stage_totals(reader, scope),
        handoff_totals(reader, scope),
        visits(reader, first_day, last_day, scope.as_of_us),
    )


def _split(scope: Scope) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """The whole UTC days of the period, and the partial days at its ends."""
    first = -(-scope.start_us // DAY_US) * DAY_US
    last = scope.end_us // DAY_US * DAY_US
    if first >= last:
        return (0, 0), [(scope.start_us, scope.end_us)]
    edges = [(a, b) for a, b in ((scope.start_us, first), (last, scope.end_us)) if a < b]
    return (first, last), edges


def _dim(scope: Scope) -> str:
    return scope.by or ""


def _name(scope: Scope, group: str) -> str:
    return UNASSIGNED if scope.by == "owner" and group == "" else group


def stage_totals(reader: _Reader, scope: Scope) -> dict[str, StageTotals]:
    totals: dict[str, StageTotals] = defaultdict(StageTotals)
    (first, last), edges = _split(scope)
    found = reader.rows(
        "SELECT grp, event, SUM(events) AS events, SUM(amount_high) AS amount_high,"
        " SUM(amount_low) AS amount_low FROM read_stage_day WHERE basis = {0} AND dim = {0}"
        " AND day_us >= {0} AND day_us < {0} GROUP BY grp, event",
        scope.basis, _dim(scope), first, last,
    )
    instant = STAGE_BASES[scope.basis][0]
    for start, end in edges:
        within = f"{instant} >= {{0}} AND {instant} < {{0}}"
        sql = summaries.stage_select(scope.basis, _dim(scope), within)
        found += [row[3:] for row in reader.rows(sql, start, end)]
    for group, event, count, high, low in found:
        totals[_name(scope, group)].add(event, count, amounts.joined(high, low))
    return totals


def handoff_totals(reader: _Reader, scope: Scope) -> dict[str, HandoffTotals]:
    """As report_as_of.handoff_totals: per group, and the whole report's (ALL) when grouped."""
    totals: dict[str, HandoffTotals] = defaultdict(HandoffTotals)
    whole = HandoffTotals()
    for group, outcome, count in _decided(reader, scope) + _waiting(reader, scope):
        totals[_name(scope, group)].add(outcome, count)
        whole.add(outcome, count)
    for group, block in totals.items():
        block.median_response_hours = _median(reader, scope, group, block.decided)
    if scope.by is not None:
        whole.median_response_hours = _median(reader, scope, None, whole.decided)
        totals[ALL] = whole
    return totals


def _decided(reader: _Reader, scope: Scope) -> list[tuple[str, str, int]]:
    (first, last), edges = _split(scope)
    found = reader.rows(
        "SELECT grp, SUM(in_time) AS in_time, SUM(late) AS late FROM read_sla_day"
        " WHERE basis = {0} AND dim = {0} AND day_us >= {0} AND day_us < {0} GROUP BY grp",
        scope.basis, _dim(scope), first, last,
    )
    instant = SLA_BASES[scope.basis]
    for start, end in edges:
        within = f"{instant} >= {{0}} AND {instant} < {{0}}"
        sql = summaries.sla_select(scope.basis, _dim(scope), within)
        found += [row[3:] for row in reader.rows(sql, start, end)]
    return [
        (group, outcome, int(count or 0))
        for group, in_time, late in found
        for outcome, count in ((IN_TIME, in_time), (LATE, late))
    ]


def _waiting(reader: _Reader, scope: Scope) -> list[tuple[str, str, int]]:
    """Undecided handoffs: pending while their due instant is not past, then overdue."""
    instant, grp = SLA_BASES[scope.basis], GROUPS[_dim(scope)]
    found = reader.rows(
        f"SELECT {grp} AS grp, {verdicts.waiting_sql('due_us', scope.as_of_us)}"
        f" AS outcome, COUNT(*) AS handoffs FROM read_handoff{reader.hint('read_handoff_waiting')}"
        f" WHERE decision IS NULL AND due_us IS NOT NULL AND {instant} >= {{0}}"
        f" AND {instant} < {{0}} GROUP BY 1, 2",
        scope.start_us, scope.end_us,
    )
    return [(group, outcome, int(count)) for group, outcome, count in found]


def _median(reader: _Reader, scope: Scope, group: str | None, decided: int) -> float | None:
    """The median response time of `decided` handoffs: the middle one or two, found by
    walking the index of response times (no sort of a year of handoffs)."""
    if decided == 0:
        return None
    instant = SLA_BASES[scope.basis]
    hint = reader.hint("read_handoff_response")
    sql = (
        f"SELECT response_hours FROM read_handoff{hint} WHERE response_hours IS NOT NULL"
        f" AND {instant} >= {{0}} AND {instant} < {{0}}"
    )
    parameters: list[Any] = [scope.start_us, scope.end_us]
    if group is not None and scope.by is not None:
        sql += f" AND {_NAMES[scope.by]} = {{0}}"
        parameters.append(group)
    sql += " ORDER BY response_hours LIMIT {0} OFFSET {0}"
    parameters += [2 - decided % 2, (decided - 1) // 2]
    middle: Sequence[float] = [row[0] for row in reader.rows(sql, *parameters)]
    return sum(middle) / len(middle)


def visits(reader: _Reader, first_day: str, last_day: str, as_of_us: int) -> int:
    """As report_as_of.visits: the latest record of each day known at as-of."""
    found = reader.rows(
        "SELECT day, visits FROM read_visits WHERE day >= {0} AND day <= {0}"
        " AND recorded_us <= {0} ORDER BY recorded_us, notification_id",
        first_day, last_day, as_of_us,
    )
    return sum({day: int(count) for day, count in found}.values())
