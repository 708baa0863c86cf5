"""One page of the notification log turned into read-model rows, written in one transaction.

Events of one lead are recorded in the order they occurred, so the projection can place
each event from the lead's state so far: its source, the owner of its latest handoff,
whether it already had a proposal, and which handoff a decision closes.

Rows are plain tuples in column order, written in bulk by `writing`: at a million
events, building and binding dictionaries through SQLAlchemy would cost more than SQLite
spends storing them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, select

from handoff.domain.agreement import AgreementTerms
from handoff.domain.bounds import MAX_COUNT
from handoff.domain.errors import Refused, out_of_order
from handoff.domain.service_level import (
    counts_in_cohort,
    counts_in_flow,
    decided_in_time,
    governing_version,
)
from handoff.projections import schema as t
from handoff.projections import states, writing
from handoff.projections.due import KnownVersion, judging
from handoff.projections.lead_facts import LeadFacts
from handoff.projections.summaries import DAY_US
from handoff.projections.tally import DecisionKey, Tally

_CHUNK = 500
_BITS = t.STAGE_BITS
# (event, first of its kind for the lead) -> whether flow and cohort count it: the rules'
# answers to every question they can be asked, so each event looks one up.
_VERDICTS = {
    (name, first): (counts_in_flow(name, first), counts_in_cohort(name, first))
    for name in _BITS for first in (False, True)
}


@dataclass
class LeadState:
    """Field order is the column order of `read_lead`."""

    lead_id: str
    lead_ref: int
    key: str
    source: str
    captured_us: int
    owner: str | None = None
    last_handoff: int | None = None
    last_handed_us: int | None = None
    last_handed_entry_us: int | None = None  # when that handoff's entry was recorded
    stages: int = 0  # bit set (schema.STAGE_BITS) of the events it has had
    awaiting_contact: bool = False  # its latest handoff has had no first contact yet


@dataclass
class HandoffRow:
    """Field order is the column order of `read_handoff`."""

    handoff_id: int
    lead_ref: int
    owner: str
    source: str
    captured_us: int
    handed_us: int
    handed_recorded_us: int
    decision: str | None = None
    decided_us: int | None = None
    decided_recorded_us: int | None = None
    agreement_version: int | None = None
    due_us: int | None = None
    response_hours: float | None = None
    in_time: bool | None = None  # decided_in_time, once decided under an agreement
    contact_us: int | None = None  # its first contact (service_level.first_contact)
    contact_recorded_us: int | None = None
    handed_entry_us: int = 0  # when the handed entry was recorded (set as it is made)


class Batch:
    """The rows one page of events adds or changes; `flush` writes them all."""

    def __init__(
        self,
        conn: Connection,
        leads: dict[str, LeadState],
        versions: list[KnownVersion],
        tally: Tally | None = None,
    ) -> None:
        self.conn = conn
        self.leads = leads
        self.versions = versions
        self.tally = tally  # counts the summaries as rows are written
        self.judged: list[DecisionKey] = []  # decisions of handoffs with a due instant
        self.dirty: dict[str, LeadState] = {}
        # Leads captured in this batch, not written yet: inserted rather than upserted (a
        # rebuild captures 200,000 leads; an upsert checks each against the table first).
        self.captured: set[str] = set()
        self.events: list[tuple[Any, ...]] = []
        self.handoffs: dict[int, HandoffRow] = {}
        self.terms: dict[int, list[list[Any]]] = {}  # handoff id -> rows of read_handoff_terms
        self.decisions: list[tuple[Any, ...]] = []
        self.decision_terms: list[tuple[Any, ...]] = []
        self.contacts: list[tuple[int, int, int]] = []  # first contacts of handoffs written
        self.judging: dict[int, list[KnownVersion]] = {}  # handoff id -> versions judging it
        self.visits: list[tuple[Any, ...]] = []
        self.agreements: list[tuple[Any, ...]] = []
        self.recorded_us = 0  # the latest recorded_at of a lead event in the page
        self.versions_applied = False
        self.dues_moved = False  # a version applied to handoffs already projected

    # -- lead events ----------------------------------------------------------------

    def load_leads(self, lead_ids: Iterable[str]) -> None:
        """Read the state of leads this page continues, unless it is already in memory."""
        missing = sorted({i for i in lead_ids if i not in self.leads})
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            query = select(t.lead).where(t.lead.c.lead_id.in_(chunk))
            for found in self.conn.execute(query).mappings():
                self.leads[found["lead_id"]] = LeadState(**found)

    def lead_event(
        self, nid: int, lead_id: str, name: str, facts: LeadFacts, entry_us: int | None = None
    ) -> None:
        """`entry_us`: when the event's entry was recorded, if a correction made its row
        known only later (`recorded_us`)."""
        # A lead event's recorded_at is the store's own timestamp of the event.
        recorded_us, occurred_us, key, source, owner, amount_cents = facts
        if recorded_us > self.recorded_us:
            self.recorded_us = recorded_us
        if name == "captured":
            known = self.leads.get(lead_id)
            if known is not None and known.lead_ref != nid:
                raise Refused(out_of_order(nid))  # captured again: only a change underneath
            lead = LeadState(lead_id, nid, key, source, occurred_us)
            self.leads[lead_id] = lead
            self.captured.add(lead_id)
        else:
            try:
                lead = self.leads[lead_id]
            except KeyError:  # before its capture, where only a change underneath puts it
                raise Refused(out_of_order(nid)) from None
        self.dirty[lead_id] = lead
        bit = _BITS[name]
        # The rules' verdicts, stored with the event: no query or summary judges again.
        in_flow, in_cohort = _VERDICTS[name, not lead.stages & bit]
        lead.stages |= bit
        if name == "handed":
            lead.owner = owner
            self._handed(nid, lead, occurred_us, recorded_us,
                         recorded_us if entry_us is None else entry_us)
        elif name == "accepted" or name == "rejected":
            self._decided(lead, name, occurred_us, recorded_us)
        elif name == "contacted" and lead.awaiting_contact:
            self._first_contact(lead, occurred_us, recorded_us)
        self.events.append(
            (nid, lead.lead_ref, name, occurred_us, recorded_us, lead.captured_us, lead.source,
             lead.owner, amount_cents, in_flow, in_cohort,
             recorded_us if entry_us is None else entry_us)
        )

    def _handed(
        self, nid: int, lead: LeadState, handed_us: int, recorded_us: int, entry_us: int
    ) -> None:
        lead.last_handoff = nid
        lead.last_handed_us = handed_us
        lead.awaiting_contact = True
        lead.last_handed_entry_us = entry_us
        assert lead.owner is not None
        row = HandoffRow(
            nid, lead.lead_ref, lead.owner, lead.source, lead.captured_us, handed_us, recorded_us,
            handed_entry_us=entry_us,
        )
        # Its due instant under every version that may judge it and covers it, for reports
        # as of an earlier instant; the governing version's on the handoff itself.
        versions = self.judging[nid] = judging(self.versions, entry_us, handed_us)
        dues = {v.number: v.due_us(handed_us) for v in versions if v.covers(handed_us)}
        governing = governing_version(versions, lambda v: v.number in dues)
        if governing is not None:
            row.agreement_version, row.due_us = governing.number, dues[governing.number]
        self.handoffs[nid] = row
        self.terms[nid] = [
            [nid, v.number, v.applied_us, dues[v.number], None, None]
            for v in versions if v.number in dues
        ]

    def _decided(self, lead: LeadState, name: str, decided_us: int, recorded_us: int) -> None:
        if name == "rejected":
            lead.awaiting_contact = False  # a rejected handoff gets no first contact
        handoff_id, handed_us = lead.last_handoff, lead.last_handed_us
        if handoff_id is None or handed_us is None:  # pragma: no cover - the lifecycle forbids it
            return
        # Under each version that may judge the handoff and covers it: (response hours,
        # due, in time).
        versions = self.judging.get(handoff_id) or judging(
            self.versions, lead.last_handed_entry_us or 0, handed_us)
        judged = {
            v.number: (v.response_hours(handed_us, decided_us), due,
                       decided_in_time(decided_us, due))
            for v in versions
            if v.covers(handed_us)
            for due in (v.due_us(handed_us),)
        }
        version = governing_version(versions, lambda v: v.number in judged)
        governing = None if version is None else judged[version.number]
        hours, in_time = (None, None) if governing is None else (governing[0], governing[2])
        if governing is not None:
            assert lead.owner is not None
            self.judged.append(
                (handed_us // DAY_US, lead.captured_us // DAY_US, lead.source, lead.owner,
                 governing[2])
            )
        pending = self.handoffs.get(handoff_id)
        if pending is not None:
            pending.decision, pending.decided_us = name, decided_us
            pending.decided_recorded_us, pending.response_hours = recorded_us, hours
            pending.in_time = in_time
            for terms in self.terms[handoff_id]:
                terms[4], _, terms[5] = judged[terms[1]]
            return
        self.decisions.append((name, decided_us, recorded_us, hours, in_time, handoff_id))
        self.decision_terms.extend(
            (hours, in_time, handoff_id, number)
            for number, (hours, _, in_time) in judged.items()
        )

    def _first_contact(self, lead: LeadState, contact_us: int, recorded_us: int) -> None:
        """service_level.first_contact: the first contacted event after a handoff, before
        the lead is rejected or handed again (a lead's events arrive in the order they
        happened, so the first one seen while the handoff awaits it)."""
        lead.awaiting_contact = False
        handoff_id = lead.last_handoff
        if handoff_id is None:  # pragma: no cover - awaiting a contact means handed
            return
        pending = self.handoffs.get(handoff_id)
        if pending is not None:
            pending.contact_us, pending.contact_recorded_us = contact_us, recorded_us
        else:
            self.contacts.append((contact_us, recorded_us, handoff_id))

    def lead_corrected(
        self, lead_id: str, steps: Sequence[tuple[int, str, LeadFacts]], since_us: int,
        entries: Sequence[int],
    ) -> None:
        """A correction (SPEC §2) was recorded at `since_us`: the lead's rows are replaced
        by those of its corrected steps (`steps`: each one's notification id, business
        name and facts, in the order they happened), each known from then on. The rows
        replaced are kept in the `_past` tables, superseded then, for reports as of
        earlier instants; the summaries lose what they counted of them. `entries`: the
        notification ids of the lead's entries so far, which key all its rows (found by
        primary key: a bulk rebuild projects without the secondary indexes)."""
        self.flush()
        self.load_leads([lead_id])
        conn, mark = self.conn, writing.mark(self.conn)
        ids = ", ".join(mark for _ in entries)
        of_lead = {
            t.event: f"notification_id IN ({ids})",
            t.handoff: f"handoff_id IN ({ids})",
            t.handoff_terms: f"handoff_id IN ({ids})",
        }
        keys = tuple(entries)
        if self.tally is not None:
            names = ", ".join(c.name for c in t.event.columns)
            rows = conn.exec_driver_sql(
                f"SELECT {names} FROM read_event WHERE {of_lead[t.event]}", keys
            ).all()
            judged = conn.exec_driver_sql(
                f"SELECT handed_us, captured_us, source, owner, in_time FROM read_handoff"
                f" WHERE {of_lead[t.handoff]} AND decision IS NOT NULL AND due_us IS NOT NULL",
                keys,
            ).all()
            self.tally.uncount(
                [tuple(row) for row in rows],
                [(h // DAY_US, c // DAY_US, source, owner, bool(in_time))
                 for h, c, source, owner, in_time in judged],
            )
        for table, past in t.SUPERSEDED.items():
            names = ", ".join(c.name for c in table.columns)
            conn.exec_driver_sql(
                f"INSERT INTO {past.name} ({names}, superseded_us)"
                f" SELECT {names}, {mark} FROM {table.name} WHERE {of_lead[table]}",
                (since_us, *keys),
            )
            conn.exec_driver_sql(f"DELETE FROM {table.name} WHERE {of_lead[table]}", keys)
        del self.leads[lead_id]
        for nid, name, (recorded_us, occurred_us, key, source, owner, cents) in steps:
            known_us = max(recorded_us, since_us)
            self.lead_event(nid, lead_id, name, (known_us, occurred_us, key, source, owner, cents),
                            entry_us=recorded_us)
        self.captured.discard(lead_id)  # its row is there already: updated, not inserted
        self.flush()

    # -- traffic and the agreement ------------------------------------------------------

    def visits_recorded(self, nid: int, data: dict[str, Any]) -> None:
        day = date.fromisoformat(data["day"]).isoformat()
        visits = int(data["visits"])
        if not 0 <= visits < MAX_COUNT:
            return  # beyond the bounds (stored before they were enforced): skipped
        self.visits.append((nid, day, visits, states.instant_us(data["recorded_at"])))

    def version_applied(self, nid: int, data: dict[str, Any]) -> None:
        """A new version judges the handoffs recorded after it; signed as a restatement,
        every handoff it covers, recorded before it too (SPEC §3)."""
        version = KnownVersion(  # numbered by the register (proposals never signed too)
            data.get("number") or len(self.versions) + 1, states.instant_us(data["applied_at"]),
            AgreementTerms(data["document"]), data.get("restates"),
        )
        self.versions.append(version)
        self.versions_applied = True
        self.agreements.append(
            (version.number, nid, version.applied_us, json.dumps(data["document"]),
             version.restates)
        )
        self.flush()
        query = select(t.handoff.c.handoff_id, t.handoff.c.handed_us, t.handoff.c.decided_us)
        if version.restates is None:
            # Every handoff projected so far was recorded before it: it judges only those
            # that no version judged yet (service_level.judging_versions).
            query = query.where(t.handoff.c.due_us.is_(None))
        query = query.where(t.handoff.c.handed_us >= version.start_us)
        if version.end_us is not None:
            query = query.where(t.handoff.c.handed_us < version.end_us)
        terms: list[tuple[Any, ...]] = []
        for handoff_id, handed_us, decided_us in self.conn.execute(query):
            if not version.covers(handed_us):
                continue
            due_us = version.due_us(handed_us)
            response = in_time = None
            if decided_us is not None:
                response = version.response_hours(handed_us, decided_us)
                in_time = decided_in_time(decided_us, due_us)
            terms.append(
                (handoff_id, version.number, version.applied_us, due_us, response, in_time)
            )
        self.dues_moved = self.dues_moved or bool(terms)
        _insert(self.conn, t.handoff_terms, terms)
        # The new version governs every handoff it covers (the latest applied).
        writing.execute_many(
            self.conn,
            "UPDATE read_handoff SET agreement_version = {0}, due_us = {0}, response_hours = {0},"
            " in_time = {0} WHERE handoff_id = {0}",
            [(number, due, hours, in_time, handoff_id)
             for handoff_id, number, _, due, hours, in_time in terms],
        )

    # -- writing ------------------------------------------------------------------------

    def flush(self) -> None:
        self.take().write(self.conn)

    def take(self) -> Writes:
        """The rows the batch has made so far, as plain tuples (counted by the tally, if
        any); the batch goes on from empty. Taken before they are written, so that the
        next page may change the leads in memory while these are being written."""
        if self.tally is not None:
            self.tally.count(self.events, self.judged, self.recorded_us)
        captured = self.captured
        writes = Writes(
            new_leads=[_values(lead) for lead_id, lead in self.dirty.items()
                       if lead_id in captured],
            leads=[_values(lead) for lead_id, lead in self.dirty.items()
                   if lead_id not in captured],
            events=self.events,
            handoffs=[_values(row) for row in self.handoffs.values()],
            terms=[tuple(r) for rows in self.terms.values() for r in rows],
            visits=self.visits,
            agreements=self.agreements,
            decisions=self.decisions,
            decision_terms=self.decision_terms,
            contacts=self.contacts,
        )
        self.dirty, self.captured = {}, set()
        self.events, self.visits, self.agreements = [], [], []
        self.handoffs, self.terms, self.judging = {}, {}, {}
        self.decisions, self.decision_terms, self.judged, self.contacts = [], [], [], []
        return writes


@dataclass
class Writes:
    """The rows a batch writes: new rows, and changes to rows already written."""

    new_leads: list[tuple[Any, ...]]
    leads: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    handoffs: list[tuple[Any, ...]]
    terms: list[tuple[Any, ...]]
    visits: list[tuple[Any, ...]]
    agreements: list[tuple[Any, ...]]
    decisions: list[tuple[Any, ...]]
    decision_terms: list[tuple[Any, ...]]
    contacts: list[tuple[int, int, int]]

    def write(self, conn: Connection) -> None:
        """In the connection's transaction (SQL only: it may run in a thread of its own)."""
        _insert(conn, t.lead, self.new_leads)
        writing.merge(conn, t.lead.name, _LEAD_COLUMNS, self.leads, _LEAD_UPSERT)
        _insert(conn, t.event, self.events)
        _insert(conn, t.handoff, self.handoffs)
        _insert(conn, t.handoff_terms, self.terms)
        _insert(conn, t.visits, self.visits)
        _insert(conn, t.agreement, self.agreements)
        writing.execute_many(
            conn,
            "UPDATE read_handoff SET decision = {0}, decided_us = {0}, decided_recorded_us = {0},"
            " response_hours = {0}, in_time = {0} WHERE handoff_id = {0}",
            self.decisions,
        )
        writing.execute_many(
            conn,
            "UPDATE read_handoff_terms SET response_hours = {0}, in_time = {0}"
            " WHERE handoff_id = {0} AND agreement_version = {0}",
            self.decision_terms,
        )
        writing.execute_many(
            conn,
            "UPDATE read_handoff SET contact_us = {0}, contact_recorded_us = {0}"
            " WHERE handoff_id = {0}",
            self.contacts,
        )


def _values(row: LeadState | HandoffRow) -> tuple[Any, ...]:
    """A dataclass's fields in order (dataclasses.astuple deep-copies, which is slow)."""
    return tuple(row.__dict__.values())


def _insert(conn: Connection, table: Table, values: Sequence[tuple[Any, ...]]) -> None:
    writing.insert(conn, table.name, [column.name for column in table.columns], values)


# A lead seen before is merged with its row: every column but its keys may have moved.
_LEAD_COLUMNS = [column.name for column in t.lead.columns]
_LEAD_UPSERT = "ON CONFLICT (lead_id) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name in _LEAD_COLUMNS if name not in ("lead_id", "lead_ref")
)
