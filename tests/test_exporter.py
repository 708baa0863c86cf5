"""`handoff export` reads the log straight from the events table; it gives exactly the rows
that the library's own route (domain event objects, one at a time) gives."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.utils import get_topic
from test_eventstore_contract import every_kind_of_event

from handoff import eventstore, projections
from handoff.application import HandoffApp
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS
from handoff.domain.steps import lead_id
from handoff.domain.traffic import TrafficDay
from handoff.exporter import export_rows
from handoff.instants import iso
from handoff.projections.corrected import corrected_leads


def rows_from_domain_events(app: HandoffApp) -> list[dict[str, Any]]:
    """The import rows, built from each recorded domain event's own attributes."""
    keys: dict[Any, str] = {}
    found: list[dict[str, Any]] = []
    for _, event in app.events_after(0):
        name = LIFECYCLE_EVENTS.get(type(event))
        if name is not None:
            if name == "captured":
                keys[event.originator_id] = event.key
            row = {"lead": keys[event.originator_id], "event": name,
                   "at": iso(event.occurred_at), "actor": event.actor}
            row.update((k, v) for k, v in event.data.items() if v is not None)
            found.append(row)
        elif isinstance(event, TrafficDay.VisitsRecorded):  # type: ignore[attr-defined]
            found.append({"event": "visits", "at": event.day, "actor": event.actor,
                          "visits": event.visits})
    return found


def test_the_export_reads_every_event_as_the_domain_records_it(app: HandoffApp) -> None:
    every_kind_of_event(app)
    app.record_visits(date(2026, 3, 2), 1300, "maria")  # a correction
    expected = rows_from_domain_events(app)
    exported = list(export_rows(app))
    assert exported == expected
    assert [type(v) for row in exported for v in row.values()] == [
        type(v) for row in expected for v in row.values()
    ]
    assert {row["event"] for row in exported} == {*LIFECYCLE_EVENTS.values(), "visits"}


def test_the_read_model_names_the_corrected_leads_as_the_log_does(app: HandoffApp) -> None:
    every_kind_of_event(app)
    correction_topics = [get_topic(cls) for cls in CORRECTIONS]
    assert corrected_leads(app) is None  # nothing projected yet: the log must be asked
    projections.catch_up(app)
    assert corrected_leads(app) == set() == eventstore.originators_of_kinds(
        app, correction_topics)
    app.void("lost-lead", 5, "lost was typed on the wrong lead", "kim")
    assert corrected_leads(app) is None  # the read model is behind the correction
    projections.catch_up(app)
    assert corrected_leads(app) == {lead_id("lost-lead").hex} == (
        eventstore.originators_of_kinds(app, correction_topics))
    assert [row["event"] for row in export_rows(app) if row.get("lead") == "lost-lead"] == [
        "captured", "qualified", "handed", "accepted"]


def test_text_of_any_kind_is_exported_as_the_domain_records_it(app: HandoffApp) -> None:
    """Names with quotes, backslashes, non-ASCII letters, a reason with a tab: states that
    the JSON decoders read through their slower paths (escapes, UTF-8)."""
    app.capture("Zoë-1", "web", "maria", at="2026-03-02T09:00", name='Zoë "Z" Ørsted\\田中',
                email="zoe@example.com", company="Ünïcode, Inc.")
    app.record("Zoë-1", "qualified", "maria", "2026-03-02T10:00", score=0)
    app.record("Zoë-1", "handed", "maria", "2026-03-02T11:00", owner="sam")
    app.record("Zoë-1", "rejected", "sam", "2026-03-02T12:00", reason='"=1+2"\t☹')
    app.record_visits(date(2026, 3, 2), 0, "maria")
    assert list(export_rows(app)) == rows_from_domain_events(app)
    assert next(export_rows(app))["name"] == 'Zoë "Z" Ørsted\\田中'
