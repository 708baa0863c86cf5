"""Export every lead event and traffic count in the import format, so that it round-trips.

The log is read a large page at a time straight from the events table
(`eventstore.log_pages`) and each state decoded as JSON, as the projection reads it:
building a domain event object per row (the library's route, `HandoffApp.events_after`)
costs five times as much at a million events, for the same rows (see the differential
test in `tests/test_exporter.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS, Lead
from handoff.domain.traffic import TrafficDay
from handoff.importer import COLUMNS
from handoff.instants import iso
from handoff.projections import states
from handoff.projections.corrected import corrected_leads

_LEAD_EVENTS = {get_topic(cls): (name, cls) for cls, name in LIFECYCLE_EVENTS.items()}
_VISITS_TOPIC = get_topic(TrafficDay.VisitsRecorded)  # type: ignore[attr-defined]
_CORRECTION_TOPICS = [get_topic(cls) for cls in CORRECTIONS]
# Each event's own fields, in the order the import format lists them: (column, state key).
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "captured": (("source", "source"), ("name", "lead_name"), ("email", "email"),
                 ("company", "company")),
}
for _event in LIFECYCLE_EVENTS:
    _class: type[Lead.Event] = _event
    _FIELDS.setdefault(_class.name, tuple((field, field) for field in _class.data_fields))
# The same as (index in COLUMNS, state key).
_CELLS = {
    name: tuple((COLUMNS.index(column), key) for column, key in fields)
    for name, fields in _FIELDS.items()
}
_LEAD, _EVENT, _AT, _ACTOR, _AMOUNT, _VISITS = (
    COLUMNS.index(column) for column in ("lead", "event", "at", "actor", "amount", "visits")
)


def export_rows(app: HandoffApp) -> Iterator[dict[str, Any]]:
    """One import row per recorded lead event and traffic count, in the order recorded.

    Values are as the domain events hold them: instants as UTC ISO text with a Z,
    amounts as Decimal, scores and visits as int; fields the event lacks are left out.
    A lead that was corrected (SPEC §2) is exported as its corrected steps, in the order
    they happened, where it was captured: importing the file gives the figures of now
    (the full backup, `export --format jsonl`, keeps every entry and correction).
    """
    for cells in export_cells(app):
        yield {
            column: value for column, value in zip(COLUMNS, cells, strict=True)
            if value is not None
        }


def export_cells(app: HandoffApp) -> Iterator[list[Any]]:
    """The rows of `export_rows` as cells in the order of the import format's COLUMNS,
    None where the event has no value (the CSV export: a dictionary built per row and
    read back column by column cost half of its time)."""
    keys: dict[str, str] = {}
    state, tagged, width = states.state, states.tagged, len(COLUMNS)
    corrected = corrected_leads(app)
    if corrected is None:  # the read model cannot tell: one scan of the log
        corrected = eventstore.originators_of_kinds(app, _CORRECTION_TOPICS)
    for page in eventstore.log_pages(app):
        for _, originator, topic, data in page:
            found = _LEAD_EVENTS.get(topic)
            if found is not None and originator in corrected:
                if found[0] == "captured":
                    for row in _corrected_rows(app, originator):
                        yield [row.get(column) for column in COLUMNS]
            elif found is not None:
                name = found[0]
                values = state(data)
                if name == "captured":
                    keys[originator] = values["key"]
                cells: list[Any] = [None] * width
                cells[_LEAD], cells[_EVENT], cells[_ACTOR] = keys[originator], name, values["actor"]
                cells[_AT] = _utc(tagged(values["occurred_at"], "datetime_iso"))
                for index, key in _CELLS[name]:
                    value = values[key]
                    if value is not None:
                        cells[index] = (
                            Decimal(tagged(value, "decimal_str")) if index == _AMOUNT else value
                        )
                yield cells
            elif topic == _VISITS_TOPIC:
                values = state(data)
                cells = [None] * width
                cells[_EVENT], cells[_AT], cells[_ACTOR] = "visits", values["day"], values["actor"]
                cells[_VISITS] = values["visits"]
                yield cells


def _corrected_rows(app: HandoffApp, originator: str) -> Iterator[dict[str, Any]]:
    lead: Lead = app.repository.get(UUID(originator))
    for fact in lead.facts():
        row: dict[str, Any] = {
            "lead": lead.key, "event": fact.name, "at": iso(fact.occurred_at),
            "actor": fact.actor,
        }
        row.update({k: v for k, v in fact.data.items() if v is not None})
        yield row


def _utc(text: str) -> str:
    """As instants.iso: UTC with a Z (the store keeps UTC; another offset is converted)."""
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")
