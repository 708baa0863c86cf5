"""One page of the notification log turned into read-model rows, written in one transaction.

Events of one lead are recorded in the order they occurred, so the projection can place
each event from the lead's state so far: its source, the owner of its latest handoff,
whether it already had a proposal, and which handoff a decision closes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from handoff.domain.agreement import AgreementTerms
from handoff.projections import tables as t
from handoff.projections.instants import from_micros, micros

Row = dict[str, Any]
_CHUNK = 500


@dataclass
class LeadState:
    lead_id: str
    lead_ref: int
    key: str
    source: str
    captured_us: int
    owner: str | None = None
    last_handoff: int | None = None
    last_handed_us: int | None = None
    has_proposal: bool = False

    def row(self) -> Row:
        return dict(self.__dict__)


@dataclass(frozen=True)
class KnownVersion:
    """An applied agreement version, with the business-time rules the SLA needs."""

    number: int
    applied_us: int
    terms: AgreementTerms

    def covers(self, handed: datetime) -> bool:
        return self.terms.covers_instant(handed)

    def due(self, handed: datetime) -> datetime:
        hours = float(self.terms.decide_within_hours)
        return self.terms.calendar.add_business_hours(handed, hours)

    def response_hours(self, handed: datetime, decided: datetime) -> float:
        return self.terms.calendar.business_hours_between(handed, decided)

    def instant_range_us(self) -> tuple[int, int | None]:
        """Instants whose local date lies in the effective dates (end exclusive, None: open)."""
        zone = self.terms.timezone
        start = datetime.combine(self.terms.effective_from, time(), zone)
        end_day = self.terms.effective_to
        if end_day is None:
            return micros(start), None
        return micros(start), micros(datetime.combine(end_day + timedelta(days=1), time(), zone))


def version_from_row(row: Mapping[Any, Any]) -> KnownVersion:
    terms = AgreementTerms(json.loads(row["document"]))
    return KnownVersion(row["version"], row["applied_us"], terms)


class Batch:
    """The rows one page of events adds or changes; `flush` writes them all."""

    def __init__(
        self, conn: Connection, leads: dict[str, LeadState], versions: list[KnownVersion]
    ) -> None:
        self.conn = conn
        self.leads = leads
        self.versions = versions
        self.dirty: set[str] = set()
        self.events: list[Row] = []
        self.handoffs: dict[int, Row] = {}
        self.terms: dict[int, list[Row]] = {}
        self.decisions: list[Row] = []
        self.decision_terms: list[Row] = []
        self.visits: list[Row] = []
        self.agreements: list[Row] = []

    # -- lead events ----------------------------------------------------------------

    def load_leads(self, lead_ids: Iterable[str]) -> None:
        """Read the state of leads this page continues, unless it is already in memory."""
        missing = sorted({i for i in lead_ids if i not in self.leads})
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            query = select(t.lead).where(t.lead.c.lead_id.in_(chunk))
            for found in self.conn.execute(query).mappings():
                self.leads[found["lead_id"]] = LeadState(**found)

    def lead_event(self, nid: int, lead_id: str, name: str, data: Mapping[str, Any]) -> None:
        if name == "captured":
            self.leads[lead_id] = LeadState(
                lead_id, nid, data["key"], data["source"], micros(data["occurred_at"])
            )
        lead = self.leads[lead_id]
        self.dirty.add(lead_id)
        occurred: datetime = data["occurred_at"]
        row: Row = {
            "notification_id": nid,
            "lead_ref": lead.lead_ref,
            "event": name,
            "occurred_us": micros(occurred),
            # A lead event's recorded_at is the store's own timestamp of the event.
            "recorded_us": micros(data["timestamp"]),
            "captured_us": lead.captured_us,
            "source": lead.source,
            "owner": lead.owner,
            "amount_cents": None,
            "first_proposal": False,
        }
        if name == "handed":
            lead.owner = row["owner"] = data["owner"]
            self._handed(nid, lead, row, occurred)
        elif name in ("accepted", "rejected"):
            self._decided(lead, name, row, occurred)
        elif name == "proposal":
            row["first_proposal"] = not lead.has_proposal
            lead.has_proposal = True
        if name in ("proposal", "won"):
            row["amount_cents"] = _cents(data["amount"])
        self.events.append(row)

    def _handed(self, nid: int, lead: LeadState, row: Row, handed: datetime) -> None:
        lead.last_handoff = nid
        lead.last_handed_us = row["occurred_us"]
        handoff: Row = {
            "handoff_id": nid,
            "lead_ref": lead.lead_ref,
            "owner": lead.owner,
            "source": lead.source,
            "captured_us": lead.captured_us,
            "handed_us": row["occurred_us"],
            "handed_recorded_us": row["recorded_us"],
            "decision": None,
            "decided_us": None,
            "decided_recorded_us": None,
            "agreement_version": None,
            "due_us": None,
            "response_hours": None,
        }
        terms = [
            {
                "handoff_id": nid,
                "agreement_version": v.number,
                "applied_us": v.applied_us,
                "due_us": micros(v.due(handed)),
                "response_hours": None,
            }
            for v in self.versions
            if v.covers(handed)
        ]
        if terms:
            handoff["agreement_version"] = terms[-1]["agreement_version"]
            handoff["due_us"] = terms[-1]["due_us"]
        self.handoffs[nid] = handoff
        self.terms[nid] = terms

    def _decided(self, lead: LeadState, name: str, row: Row, decided: datetime) -> None:
        handoff_id, handed_us = lead.last_handoff, lead.last_handed_us
        if handoff_id is None or handed_us is None:  # pragma: no cover - the lifecycle forbids it
            return
        handed = from_micros(handed_us)
        responses = {
            v.number: v.response_hours(handed, decided) for v in self.versions if v.covers(handed)
        }
        current = responses[max(responses)] if responses else None
        decision = {
            "decision": name,
            "decided_us": row["occurred_us"],
            "decided_recorded_us": row["recorded_us"],
            "response_hours": current,
        }
        pending = self.handoffs.get(handoff_id)
        if pending is not None:
            pending.update(decision)
            for terms in self.terms[handoff_id]:
                terms["response_hours"] = responses[terms["agreement_version"]]
            return
        self.decisions.append({"b_handoff_id": handoff_id, **decision})
        self.decision_terms.extend(
            {"b_handoff_id": handoff_id, "b_version": number, "response_hours": hours}
            for number, hours in responses.items()
        )

    # -- traffic and the agreement ------------------------------------------------------

    def visits_recorded(self, nid: int, data: Mapping[str, Any]) -> None:
        self.visits.append(
            {
                "notification_id": nid,
                "day": date.fromisoformat(data["day"]).isoformat(),
                "visits": int(data["visits"]),
                "recorded_us": micros(data["recorded_at"]),
            }
        )

    def version_applied(self, nid: int, data: Mapping[str, Any]) -> None:
        """A new version applies to every handoff it covers, recorded before or after it."""
        version = KnownVersion(
            len(self.versions) + 1, micros(data["applied_at"]), AgreementTerms(data["document"])
        )
        self.versions.append(version)
        self.agreements.append(
            {
                "version": version.number,
                "notification_id": nid,
                "applied_us": version.applied_us,
                "document": json.dumps(data["document"]),
            }
        )
        self.flush()
        start, end = version.instant_range_us()
        query = select(t.handoff.c.handoff_id, t.handoff.c.handed_us, t.handoff.c.decided_us)
        query = query.where(t.handoff.c.handed_us >= start)
        if end is not None:
            query = query.where(t.handoff.c.handed_us < end)
        terms: list[Row] = []
        for handoff_id, handed_us, decided_us in self.conn.execute(query):
            handed = from_micros(handed_us)
            if not version.covers(handed):
                continue
            response = (
                None
                if decided_us is None
                else version.response_hours(handed, from_micros(decided_us))
            )
            terms.append(
                {
                    "handoff_id": handoff_id,
                    "agreement_version": version.number,
                    "applied_us": version.applied_us,
                    "due_us": micros(version.due(handed)),
                    "response_hours": response,
                }
            )
        if terms:
            self.conn.execute(t.handoff_terms.insert(), terms)
            self.conn.execute(
                update(t.handoff)
                .where(t.handoff.c.handoff_id == bindparam("b_handoff_id"))
                .values(
                    agreement_version=bindparam("agreement_version"),
                    due_us=bindparam("due_us"),
                    response_hours=bindparam("response_hours"),
                ),
                [{"b_handoff_id": r["handoff_id"], **_without(r, "handoff_id", "applied_us")}
                 for r in terms],
            )

    # -- writing ------------------------------------------------------------------------

    def flush(self) -> None:
        conn = self.conn
        if self.dirty:
            leads = [self.leads[i].row() for i in sorted(self.dirty)]
            conn.execute(_upsert_leads(conn), leads)
            self.dirty.clear()
        for table, rows in (
            (t.event, self.events),
            (t.handoff, list(self.handoffs.values())),
            (t.handoff_terms, [r for terms in self.terms.values() for r in terms]),
            (t.visits, self.visits),
            (t.agreement, self.agreements),
        ):
            if rows:
                conn.execute(table.insert(), rows)
        if self.decisions:
            conn.execute(
                update(t.handoff)
                .where(t.handoff.c.handoff_id == bindparam("b_handoff_id"))
                .values(
                    decision=bindparam("decision"),
                    decided_us=bindparam("decided_us"),
                    decided_recorded_us=bindparam("decided_recorded_us"),
                    response_hours=bindparam("response_hours"),
                ),
                self.decisions,
            )
        if self.decision_terms:
            conn.execute(
                update(t.handoff_terms)
                .where(t.handoff_terms.c.handoff_id == bindparam("b_handoff_id"))
                .where(t.handoff_terms.c.agreement_version == bindparam("b_version"))
                .values(response_hours=bindparam("response_hours")),
                self.decision_terms,
            )
        self.events, self.visits, self.agreements = [], [], []
        self.handoffs, self.terms = {}, {}
        self.decisions, self.decision_terms = [], []


def _upsert_leads(conn: Connection) -> Any:
    insert: Callable[[Any], Any] = (
        postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    )
    statement = insert(t.lead)
    changing = ("owner", "last_handoff", "last_handed_us", "has_proposal")
    return statement.on_conflict_do_update(
        index_elements=[t.lead.c.lead_id],
        set_={name: statement.excluded[name] for name in changing},
    )


def _cents(amount: Decimal) -> int:
    return int(Decimal(amount).scaleb(2).to_integral_value())


def _without(row: Row, *names: str) -> Row:
    return {k: v for k, v in row.items() if k not in names}
