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
from typing import Any, NamedTuple
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

_VISITS_TOPIC = get_topic(TrafficDay.VisitsRecorded)  # type: ignore[attr-defined]
_CORRECTION_TOPICS = [get_topic(cls) for cls in CORRECTIONS]
_LEAD, _EVENT, _AT, _ACTOR, _AMOUNT, _VISITS = (
    COLUMNS.index(column) for column in ("lead", "event", "at", "actor", "amount", "visits")
)


class _Kind(NamedTuple):
    """How a kind of lead event becomes cells in the order of the import format's COLUMNS."""

    name: str
    blank: list[Any]  # the cells of a row of this kind before its values: only its name
    fields: tuple[tuple[int, str], ...]  # its own fields but the amount: (index, state key)
    has_amount: bool  # whether it carries an amount (a tagged Decimal)


# The fields of a captured lead in the import format (column, state key); another event's
# are its data fields under their own names.
_CAPTURED_FIELDS = (("source", "source"), ("name", "lead_name"), ("email", "email"),
                    ("company", "company"))


def _kind(event: type[Lead.Event], name: str) -> _Kind:
    fields = (_CAPTURED_FIELDS if name == "captured"
              else tuple((field, field) for field in event.data_fields))
    blank: list[Any] = [None] * len(COLUMNS)
    blank[_EVENT] = name
    return _Kind(
        name, blank,
        tuple((COLUMNS.index(column), key) for column, key in fields if column != "amount"),
        any(column == "amount" for column, _ in fields),
    )


_LEAD_EVENTS = {get_topic(event): _kind(event, name) for event, name in LIFECYCLE_EVENTS.items()}


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
    state, instant_text = states.state, states.instant_text
    corrected = corrected_leads(app)
    if corrected is None:  # the read model cannot tell: one scan of the log
        corrected = eventstore.originators_of_kinds(app, _CORRECTION_TOPICS)
    for page in eventstore.log_pages(app):
        for _, originator, topic, data in page:
            kind = _LEAD_EVENTS.get(topic)
            if kind is None:
                if topic == _VISITS_TOPIC:
                    yield _visits_cells(state(data))
            elif originator in corrected:
                if kind.name == "captured":
                    for row in _corrected_rows(app, originator):
                        yield [row.get(column) for column in COLUMNS]
            else:
                name, blank, fields, has_amount = kind
                values = state(data)
                if name == "captured":
                    keys[originator] = values["key"]
                cells = blank.copy()
                cells[_LEAD], cells[_ACTOR] = keys[originator], values["actor"]
                cells[_AT] = _utc(instant_text(values["occurred_at"]))
                for index, key in fields:
                    cells[index] = values[key]  # None (null) leaves the cell empty
                if has_amount and (amount := values["amount"]) is not None:
                    cells[_AMOUNT] = Decimal(states.tagged(amount, "decimal_str"))
                yield cells


def _visits_cells(values: dict[str, Any]) -> list[Any]:
    cells: list[Any] = [None] * len(COLUMNS)
    cells[_EVENT], cells[_AT], cells[_ACTOR] = "visits", values["day"], values["actor"]
    cells[_VISITS] = values["visits"]
    return cells


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
