"""`lead list`: the leads as they stand now, read from the read model, filtered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff.application import HandoffApp
from handoff.domain.bounds import check_text
from handoff.instants import iso
from handoff.projections import projected
from handoff.projections.instants import from_micros
from handoff.projections.report_as_of import lead_rows
from handoff.sla import scope_at

if TYPE_CHECKING:
    from handoff.kpi import Period

COLUMNS = ("key", "state", "source", "owner", "captured_at", "handed_at", "due_at", "handoff")


def list_leads(
    app: HandoffApp, *, state: str | None = None, owner: str | None = None,
    source: str | None = None, captured: Period | None = None, handoff: str | None = None,
) -> list[dict[str, Any]]:
    """Every lead, oldest captured first; `captured`: those captured in the period's local
    days; `handoff`: those whose latest handoff is pending or overdue now. `handoff` in
    each record is that handoff's outcome now (in_time, late, pending, overdue), null when
    the lead was never handed under an agreement. A filter is a text as a lead holds one:
    one that no lead can hold (not valid text) is refused, not searched for."""
    check_text("--owner", owner)
    check_text("--source", source)
    with projected(app) as conn:
        now = app.clock()
        scope = scope_at(app.agreement_register(), now, captured)
        rows = lead_rows(conn, scope, in_period=captured is not None, state=state, owner=owner,
                         source=source, handoff=handoff)
    return [
        {
            "key": row["key"],
            "state": row["state"],
            "source": row["source"],
            "owner": row["owner"],
            "captured_at": iso(from_micros(row["captured_us"])),
            "handed_at": None if row["handed_us"] is None else iso(from_micros(row["handed_us"])),
            "due_at": None if row["due_us"] is None else iso(from_micros(row["due_us"])),
            "handoff": row["outcome"],
        }
        for row in rows
    ]
