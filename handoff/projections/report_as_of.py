"""SQL aggregates over the read model: stage counts, handoff outcomes and visits.

Every query takes the report's as-of instant and keeps only rows recorded by then, so a
past report is replayed from the same tables as today's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    func,
    literal,
    literal_column,
    select,
    union_all,
)

from handoff.domain.service_level import BREACHED, OVERDUE, PENDING, outcome
from handoff.domain.steps import UNASSIGNED
from handoff.projections import amounts, verdicts
from handoff.projections import schema as t
from handoff.projections.summaries import SLA_BASES
from handoff.projections.totals import (
    ALL,
    HandoffTotals,
    Scope,
    StageTotals,
    median,
)

__all__ = ["ALL", "HandoffTotals", "Scope", "StageTotals"]

# -- the rows as they stood at the as-of instant ------------------------------------------

# A current row's `superseded_us`: never.
_NEVER = 2**62


def with_corrections(conn: Connection, scope: Scope) -> Scope:
    """The scope, told whether a correction recorded after its as-of instant replaced rows
    (then the report reads the `_past` tables too; otherwise, as usual, only the present)."""
    query = select(literal(1)).where(t.event_past.c.superseded_us > scope.as_of_us).limit(1)
    found = conn.execute(query).first() is not None
    return replace(scope, corrected_after=found) if found != scope.corrected_after else scope


def known_rows(table: Table, scope: Scope) -> Any:
    """`table`'s rows as a report as of the scope's instant reads them: the present ones,
    and, when a later correction replaced some, those it replaced instead (SPEC §2). Each
    row has `superseded_us` (never, for the present): rows of one handoff join on it."""
    if not scope.corrected_after:
        return table
    past = t.SUPERSEDED[table]
    names = [c.name for c in table.columns]
    present = select(*table.c, literal(_NEVER).label("superseded_us"))
    replaced = select(*(past.c[n] for n in names), past.c.superseded_us).where(
        past.c.superseded_us > scope.as_of_us
    )
    return union_all(present, replaced).subquery(table.name)


def _same_generation(left: Any, right: Any) -> Any:
    """Rows of one handoff under the same correction (always true without corrections)."""
    if "superseded_us" not in left.c:
        return literal(True)
    return left.c.superseded_us == right.c.superseded_us


# -- stages -----------------------------------------------------------------------------


def stage_totals(conn: Connection, scope: Scope) -> dict[str, StageTotals]:
    """Per group: each stage's count (events in flow, distinct leads in cohort) and revenue."""
    scope = with_corrections(conn, scope)
    e = known_rows(t.event, scope)
    known = e.c.recorded_us <= scope.as_of_us
    totals: dict[str, StageTotals] = defaultdict(StageTotals)
    if scope.basis == "flow":
        group = _group(scope, e.c.source, e.c.owner)
        query = (
            select(group, e.c.event, func.count(), *_amount_sums())
            .where(_between(e.c.occurred_us, scope), known, e.c.in_flow)
            .group_by(*_grouping(scope, group), e.c.event)
        )
        for name, event, count, high, low in conn.execute(query):
            totals[name].add(event, count, amounts.joined(high, low))
        return totals
    latest = _latest_owner(scope)
    group = _group(scope, e.c.source, latest.c.owner)
    query = select(group, e.c.event, func.count(), *_amount_sums())
    if scope.by == "owner":
        query = query.join_from(e, latest, latest.c.lead_ref == e.c.lead_ref)
    query = query.where(_between(e.c.captured_us, scope), known, e.c.in_cohort)
    query = query.group_by(*_grouping(scope, group), e.c.event)
    for name, event, count, high, low in conn.execute(query):
        totals[name].add(event, count, amounts.joined(high, low))
    return totals


def _amount_sums() -> tuple[Any, Any]:
    """The sum of the events' amounts in its two parts (see `amounts`)."""
    column = f"{t.event.name}.{t.event.c.amount_cents.name}"
    return (func.sum(literal_column(amounts.high(column))),
            func.sum(literal_column(amounts.low(column))))


def _between(column: Any, scope: Scope) -> ColumnElement[bool]:
    return and_(column >= scope.start_us, column < scope.end_us)


def _group(scope: Scope, source: Any, owner: Any) -> Any:
    if scope.by == "source":
        return source.label("grp")
    if scope.by == "owner":
        return func.coalesce(owner, UNASSIGNED).label("grp")
    return literal(ALL).label("grp")


def _grouping(scope: Scope, group: Any) -> list[Any]:
    """GROUP BY terms for the group column (none when the report is not grouped: PostgreSQL
    refuses a constant there)."""
    return [] if scope.by is None else [group]


def _latest(e: Any) -> Any:
    """A lead's events from the latest, in the order they happened (recorded, at one
    instant): a missed step recorded later takes its place among them."""
    return func.row_number().over(
        partition_by=e.c.lead_ref, order_by=(e.c.occurred_us.desc(), e.c.notification_id.desc())
    )


def _latest_owner(scope: Scope) -> Any:
    """Each cohort lead's latest owner as of the report: the owner on its latest event."""
    e = known_rows(t.event, scope)
    ranked = (
        select(
            e.c.lead_ref,
            e.c.owner,
            _latest(e).label("rank"),
        )
        .where(_between(e.c.captured_us, scope), e.c.recorded_us <= scope.as_of_us)
        .subquery("ranked")
    )
    return (
        select(ranked.c.lead_ref, ranked.c.owner).where(ranked.c.rank == 1).subquery("latest")
    )


# -- handoffs ---------------------------------------------------------------------------


def handoff_rows(
    scope: Scope, in_period: str | None = None, owner: str | None = None
) -> Select[Any]:
    """Handoffs recorded by the as-of instant, with the due instant known then.

    Columns: handoff_id, lead_ref, owner, source, handed_us, decided_us, decided (as of),
    due_us, response_hours, in_time, agreement_version, under the version governing the
    handoff at as-of. Handoffs under no agreement are left out. `in_period`: only those
    whose `handed_us` (or `captured_us`) is in the scope's period; `owner`: only that
    owner's.
    """
    h = known_rows(t.handoff, scope)
    decided = and_(
        h.c.decided_recorded_us.is_not(None), h.c.decided_recorded_us <= scope.as_of_us
    )
    if scope.all_versions_known:
        due, response, version = h.c.due_us, h.c.response_hours, h.c.agreement_version
        in_time = h.c.in_time
        source: Any = h
        condition: Any = h.c.due_us.is_not(None)
    else:
        terms = known_rows(t.handoff_terms, scope)
        later = known_rows(t.handoff_terms, scope).alias("later")
        newest_known = (
            select(func.max(later.c.agreement_version))
            .where(later.c.handoff_id == h.c.handoff_id, later.c.applied_us <= scope.as_of_us,
                   _same_generation(later, h))
            .scalar_subquery()
        )
        due, response, version = terms.c.due_us, terms.c.response_hours, terms.c.agreement_version
        in_time = terms.c.in_time
        source = h.join(
            terms,
            and_(terms.c.handoff_id == h.c.handoff_id, terms.c.agreement_version == newest_known,
                 _same_generation(terms, h)),
        )
        condition = literal(True)
    query = (
        select(
            h.c.handoff_id,
            h.c.lead_ref,
            h.c.owner,
            h.c.source,
            h.c.captured_us,
            h.c.handed_us,
            h.c.decided_us,
            decided.label("decided"),
            due.label("due_us"),
            response.label("response_hours"),
            in_time.label("in_time"),
            version.label("agreement_version"),
        )
        .select_from(source)
        .where(condition, h.c.handed_recorded_us <= scope.as_of_us)
    )
    if in_period is not None:
        query = query.where(_between(h.c[in_period], scope))
    if owner is not None:
        query = query.where(h.c.owner == owner)
    return query


def handoff_totals(conn: Connection, scope: Scope) -> dict[str, HandoffTotals]:
    """Per group: handoffs in scope, decided in time or late, pending or overdue at as-of,
    and the median response time; with a grouping, the whole report's too (group ALL)."""
    scope = with_corrections(conn, scope)
    rows = handoff_rows(scope, in_period=SLA_BASES[scope.basis]).subquery("handoffs")
    owner: Any = rows.c.owner
    latest = None
    if scope.basis == "cohort" and scope.by == "owner":
        latest = _latest_owner(scope)
        owner = latest.c.owner
    group = _group(scope, rows.c.source, owner)
    outcome = _outcome(rows, scope)
    source: Any = rows
    if latest is not None:
        source = rows.join(latest, latest.c.lead_ref == rows.c.lead_ref)
    counted = (
        select(group, outcome, func.count())
        .select_from(source)
        .group_by(*_grouping(scope, group), outcome)
    )
    totals: dict[str, HandoffTotals] = defaultdict(HandoffTotals)
    whole = HandoffTotals()
    for name, kind, count in conn.execute(counted):
        totals[name].add(kind, count)
        if scope.by is not None:
            whole.add(kind, count)
    responses: dict[str, list[float]] = defaultdict(list)
    query = select(group, rows.c.response_hours).select_from(source).where(rows.c.decided)
    for name, hours in conn.execute(query):
        responses[name].append(hours)
    for name, block in totals.items():
        block.median_response_hours = median(responses[name])
    if scope.by is not None:
        whole.median_response_hours = median(h for found in responses.values() for h in found)
        totals[ALL] = whole
    return totals


def _outcome(rows: Any, scope: Scope) -> Any:
    """in_time, late, pending or overdue at the report's as-of instant (service_level.outcome
    as SQL: `verdicts`)."""
    name = rows.name
    return literal_column(
        verdicts.outcome_sql(f"{name}.decided", f"{name}.in_time", f"{name}.due_us",
                             scope.as_of_us)
    ).label("outcome")


def breaches(
    conn: Connection, scope: Scope, *, in_period: bool = False, owner: str | None = None,
    open_only: bool = False,
) -> list[dict[str, Any]]:
    """Every handoff decided late or overdue at the as-of instant, oldest due first.

    `in_period`: only those handed in the scope's period; `owner`: only that owner's;
    `open_only`: only the overdue (undecided) ones.
    """
    scope = with_corrections(conn, scope)
    rows = handoff_rows(
        scope, in_period="handed_us" if in_period else None, owner=owner
    ).subquery("handoffs")
    outcome = _outcome(rows, scope)
    kinds = [OVERDUE] if open_only else list(BREACHED)
    query = (
        select(rows, t.lead.c.key)
        .join_from(rows, t.lead, t.lead.c.lead_ref == rows.c.lead_ref)
        .where(outcome.in_(kinds))
        .order_by(rows.c.due_us, rows.c.handoff_id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def pending(conn: Connection, scope: Scope) -> list[dict[str, Any]]:
    """Every handoff pending at the as-of instant (undecided, not yet due), soonest due
    first."""
    scope = with_corrections(conn, scope)
    rows = handoff_rows(scope).subquery("handoffs")
    query = (
        select(rows, t.lead.c.key)
        .join_from(rows, t.lead, t.lead.c.lead_ref == rows.c.lead_ref)
        .where(_outcome(rows, scope) == PENDING)
        .order_by(rows.c.due_us, rows.c.handoff_id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def handoff_of_lead(
    conn: Connection, scope: Scope, lead_id: str, handed_us: int
) -> dict[str, Any] | None:
    """The lead's handoff made at `handed_us` (of two at one instant, the later entry), as
    recorded by the as-of instant: its due_us, outcome then (in_time, late, pending,
    overdue) and the agreement_version judging it; None unless made under an agreement.
    Found by the instant (indexed), not by the lead (which no index of the handoffs leads
    with)."""
    scope = with_corrections(conn, scope)
    rows = handoff_rows(scope).subquery("handoffs")
    query = (
        select(rows.c.due_us, _outcome(rows, scope), rows.c.agreement_version)
        .join_from(rows, t.lead, t.lead.c.lead_ref == rows.c.lead_ref)
        .where(rows.c.handed_us == handed_us, t.lead.c.lead_id == lead_id)
        .order_by(rows.c.handoff_id.desc())
        .limit(1)
    )
    found = conn.execute(query).mappings().first()
    return None if found is None else dict(found)


def lead_rows(
    conn: Connection, scope: Scope, *, in_period: bool = False, state: str | None = None,
    owner: str | None = None, source: str | None = None, handoff: str | None = None,
) -> list[dict[str, Any]]:
    """Leads as they stand now (the read model's present), oldest captured first: key,
    source, owner (of its latest handoff), captured_us, state (its latest step other than
    contacted), handed_us and due_us of its latest handoff, and that handoff's outcome at
    the scope's as-of instant (null without a handoff under an agreement).

    `in_period`: captured in the scope's period; `handoff`: only leads whose latest
    handoff has that outcome (pending, overdue, ...).
    """
    scope = with_corrections(conn, scope)
    e, lead = known_rows(t.event, scope), t.lead
    handoffs = handoff_rows(scope).subquery("handoffs")
    outcome = _outcome(handoffs, scope)
    chosen: list[Any] = []  # the filters on the lead and its latest handoff
    if in_period:
        chosen.append(_between(lead.c.captured_us, scope))
    if owner is not None:
        chosen.append(lead.c.owner == owner)
    if source is not None:
        chosen.append(lead.c.source == source)
    if handoff is not None:
        chosen += [handoffs.c.due_us.is_not(None), outcome == handoff]
    ranked = select(
        e.c.lead_ref,
        e.c.event.label("state"),
        _latest(e).label("rank"),
    ).where(e.c.event != "contacted", e.c.recorded_us <= scope.as_of_us)
    if chosen:  # rank only the chosen leads' events, not every lead's (a whole lead each)
        ranked = ranked.where(e.c.lead_ref.in_(
            select(lead.c.lead_ref)
            .outerjoin(handoffs, handoffs.c.handoff_id == lead.c.last_handoff)
            .where(*chosen)
        ))
    latest = ranked.subquery("ranked")
    query = (
        select(
            lead.c.key, lead.c.source, lead.c.captured_us, latest.c.state, lead.c.owner,
            lead.c.last_handed_us.label("handed_us"), handoffs.c.due_us, outcome,
        )
        .join_from(lead, latest, and_(latest.c.lead_ref == lead.c.lead_ref, latest.c.rank == 1))
        .outerjoin(handoffs, handoffs.c.handoff_id == lead.c.last_handoff)
        .where(*chosen)
        .order_by(lead.c.captured_us, lead.c.lead_ref)
    )
    if state is not None:
        query = query.where(latest.c.state == state)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        if row["due_us"] is None:  # no handoff under an agreement: nothing to judge
            row["outcome"] = None
    return rows


# -- restatements -------------------------------------------------------------------------


def restated_handoffs(conn: Connection, scope: Scope) -> dict[int, int]:
    """For each restatement known at as-of (a version signed to judge past handoffs too):
    how many handoffs in scope, recorded before it, it judges otherwise than the version
    that judged them until then (another verdict or response time, overdue where it was
    pending, or any verdict where none was). Restatements that changed no figure in scope
    are left out."""
    a = t.agreement
    restating: dict[int, int] = {
        version: applied_us
        for version, applied_us in conn.execute(
            select(a.c.version, a.c.applied_us)
            .where(a.c.restates.is_not(None), a.c.applied_us <= scope.as_of_us)
        )
    }
    if not restating:
        return {}
    scope = with_corrections(conn, scope)
    h, terms = known_rows(t.handoff, scope), known_rows(t.handoff_terms, scope)
    in_scope = h.c[SLA_BASES[scope.basis]]
    query = (
        select(h.c.handoff_id, h.c.handed_entry_us, h.c.decided_recorded_us,
               terms.c.agreement_version, terms.c.due_us, terms.c.in_time,
               terms.c.response_hours)
        .join_from(h, terms, and_(terms.c.handoff_id == h.c.handoff_id,
                                  _same_generation(terms, h)))
        .where(_between(in_scope, scope), h.c.handed_recorded_us <= scope.as_of_us,
               terms.c.applied_us <= scope.as_of_us)
        .order_by(h.c.handoff_id, terms.c.agreement_version)
    )
    judged: dict[int, list[tuple[int, int, tuple[Any, ...]]]] = defaultdict(list)
    for handoff_id, entry_us, decided_us, version, due_us, in_time, hours in conn.execute(
        query
    ):
        # What the handoff adds to the report's figures under that version: its verdict
        # and response time once decided (by as-of), else whether it is overdue then.
        if decided_us is not None and decided_us <= scope.as_of_us:
            figures: tuple[Any, ...] = (bool(in_time), hours)
        else:
            figures = (outcome(due_us, None, scope.as_of_us) == OVERDUE,)
        judged[handoff_id].append((entry_us, version, figures))
    changed: dict[int, int] = defaultdict(int)
    for rows in judged.values():
        # A restatement changes what a handoff recorded before it adds (its entry's
        # instant: a correction since does not make it a later one).
        for i, (entry_us, version, figures) in enumerate(rows):
            applied_us = restating.get(version)
            if applied_us is None or entry_us > applied_us:
                continue
            before = [r for r in rows[:i] if r[1] not in restating or restating[r[1]] < applied_us]
            if not before or before[-1][2] != figures:
                changed[version] += 1
    return dict(changed)


# -- traffic ----------------------------------------------------------------------------


def visits(conn: Connection, first_day: str, last_day: str, as_of_us: int) -> int:
    """Visits of the days in the period: the latest record of each day known at as-of."""
    v = t.visits
    query = (
        select(v.c.day, v.c.visits)
        .where(v.c.day >= first_day, v.c.day <= last_day, v.c.recorded_us <= as_of_us)
        .order_by(v.c.recorded_us, v.c.notification_id)
    )
    latest = {day: count for day, count in conn.execute(query)}
    return sum(latest.values())
