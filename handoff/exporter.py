"""Export every lead event and traffic count in the import format, so that it round-trips."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from handoff.application import HandoffApp
from handoff.domain.lead import LIFECYCLE_EVENTS
from handoff.domain.traffic import TrafficDay
from handoff.instants import iso


def export_rows(app: HandoffApp) -> Iterator[dict[str, Any]]:
    """One import row per recorded lead event and traffic count, in the order recorded."""
    keys: dict[UUID, str] = {}
    visits_recorded = TrafficDay.VisitsRecorded  # type: ignore[attr-defined]
    for _, event in app.events_after(0):
        name = LIFECYCLE_EVENTS.get(type(event))
        if name is not None:
            if name == "captured":
                keys[event.originator_id] = event.key
            row: dict[str, Any] = {
                "lead": keys[event.originator_id],
                "event": name,
                "at": iso(event.occurred_at),
                "actor": event.actor,
            }
            row.update((k, v) for k, v in event.data.items() if v is not None)
            yield row
        elif isinstance(event, visits_recorded):
            yield {"event": "visits", "at": event.day, "actor": event.actor,
                   "visits": event.visits}
