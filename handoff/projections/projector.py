"""Projecting the notification log page by page, each page one transaction with its position.

The position is advanced with a compare-and-set in the same transaction as the page's
rows (see `catchup` for what a collision means and how a catch-up recovers from it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from handoff import eventstore, switches
from handoff.domain.agreement import AgreementRegister
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS, Lead
from handoff.domain.traffic import TrafficDay
from handoff.projections import lead_facts, states
from handoff.projections import schema as t
from handoff.projections.due import KnownVersion, version_from_row
from handoff.projections.lead_facts import LeadFacts
from handoff.projections.page import Batch, LeadState
from handoff.projections.readmodel import PROJECTION, ReadModel, current
from handoff.projections.tally import Tally

if TYPE_CHECKING:
    from handoff.application import HandoffApp


_ATTEMPTS = 20

Progress = Callable[[int, int], None]  # (position reached, last notification id)

_LEAD_TOPICS = {get_topic(cls): name for cls, name in LIFECYCLE_EVENTS.items()}
_LATER_TOPICS = frozenset(topic for topic, name in _LEAD_TOPICS.items() if name != "captured")
_VISITS_TOPIC = get_topic(TrafficDay.VisitsRecorded)  # type: ignore[attr-defined]
_VERSION_TOPIC = get_topic(AgreementRegister.VersionApplied)  # type: ignore[attr-defined]
# Corrections (SPEC §2): the lead's rows are projected again from its corrected steps.
_CORRECTION_TOPICS = frozenset(get_topic(cls) for cls in CORRECTIONS)


class Moved(Exception):
    """Another process advanced (or reset) the position first."""


class Projector:
    """Reads the log page by page; each page is one transaction with its position."""

    def __init__(
        self, app: HandoffApp, model: ReadModel, page: int, progress: Progress | None,
        bulk: bool,
    ) -> None:
        self.app = app
        self.model = model
        self.page = page
        self.progress = progress
        self.bulk = bulk
        self.leads: dict[str, LeadState] = {}
        self.versions: list[KnownVersion] | None = None
        # A bulk catch-up counts the summaries as it goes (None: they will be recomputed).
        self.tally: Tally | None = None
        # PostgreSQL, in bulk: the log's pages, each next one read while this one is
        # projected (eventstore.log_pages), with the position the next one follows.
        self._ahead: Iterator[Sequence[states.LogRow]] | None = None
        self._ahead_after = 0

    def run(self) -> int:
        # One connection for every page (each still its own transaction): SQLite keeps
        # its page cache from one transaction to the next only within a connection.
        with self.model.engine.connect() as conn:
            if self.bulk and not self.model.is_postgres:
                switches.tune_sqlite_for_bulk(conn.connection.driver_connection)
            try:
                return self._run(conn)
            finally:
                self._stop_reading_ahead()

    def _run(self, conn: Connection) -> int:
        projected = 0
        last_event = eventstore.last_notification_id(self.app)
        at = current(conn)
        if at >= last_event:
            return 0  # nothing new: no write lock taken, and a read-only store stays readable
        self.tally = Tally(at)
        collisions = 0
        while True:
            try:
                read = self._project_page(conn, at)
            except (Moved, IntegrityError) as moved:
                # Someone else projected these events (or reset the model): our in-memory
                # state may be stale, so start again from their position. Being overtaken
                # is progress; colliding on keys again and again would be a bug.
                collisions += isinstance(moved, IntegrityError)
                if collisions > _ATTEMPTS:
                    raise
                self.leads.clear()
                self.versions = None
                at = current(conn)
                self.tally = Tally(at)  # counting from there on

                continue
            except BaseException:
                self.tally = None  # it may hold the rows of a page that was rolled back
                raise
            if read == 0:
                return projected
            if self.tally is not None:
                self.tally.end = self._at
            projected += read
            at = self._at
            if self.progress:
                self.progress(at, max(last_event, at))

    def _project_page(self, conn: Connection, at: int) -> int:
        """Project the page after `at` in one transaction; returns the events read."""
        with conn.begin():
            if self.bulk and self.model.is_postgres:
                # As SQLite's synchronous = NORMAL (switches.tune_sqlite): the commit does
                # not wait for its WAL to reach the disk. A crash may lose the last pages,
                # rows and position together, which the next catch-up projects again.
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            # Writing first takes the write lock (SQLite) or the row lock (PostgreSQL)
            # before anything is read, so the page and the position belong together.
            claimed = conn.execute(
                update(t.position)
                .where(t.position.c.name == PROJECTION, t.position.c.position == at)
                .values(position=at)
            )
            if claimed.rowcount != 1:
                raise Moved()
            notifications = self._page_after(conn, at)
            if not notifications:
                return 0
            self._at = notifications[-1][0]
            conn.execute(
                update(t.position)
                .where(t.position.c.name == PROJECTION)
                .values(position=self._at)
            )
            batch = self._project(conn, notifications)
            if batch.dues_moved:
                self.tally = None  # decisions it judged under the old due instants
            return len(notifications)

    def _page_after(self, conn: Connection, at: int) -> Sequence[states.LogRow]:
        """The notifications after `at`, a page of them. On PostgreSQL, in bulk, read ahead
        while the page before was projected: the server finds and sends it meanwhile (a
        page takes it a tenth of a second). Rows read before this transaction are the
        ones it would read: ids are committed in order (every writer holds the events
        table's lock, see eventstore), and the compare-and-set has just checked that
        nobody projected past `at`; at the log's end it may hold fewer, read next time."""
        if not (self.bulk and self.model.is_postgres):
            return self.model.read_page(conn.connection, at, self.page)
        if self._ahead is None or self._ahead_after != at:
            self._stop_reading_ahead()
            self._ahead = eventstore.log_pages(self.app, self.page, after=at)
        rows = next(self._ahead, None)
        if rows is None:
            self._stop_reading_ahead()
            return self.model.read_page(conn.connection, at, self.page)
        self._ahead_after = rows[-1][0]
        return rows

    def _stop_reading_ahead(self) -> None:
        if self._ahead is not None:
            close = getattr(self._ahead, "close", None)
            if close is not None:
                close()
            self._ahead = None

    def _project(self, conn: Connection, notifications: Sequence[states.LogRow]) -> Batch:
        if self.versions is None:
            rows = conn.execute(select(t.agreement).order_by(t.agreement.c.version))
            self.versions = [version_from_row(r) for r in rows.mappings()]
        batch = Batch(conn, self.leads, self.versions, self.tally)
        continued = {lead_id for _, lead_id, topic, _ in notifications if topic in _LATER_TOPICS}
        batch.load_leads(continued.difference(self.leads))
        state, facts, lead_event = states.state, lead_facts.lead_facts, batch.lead_event
        lead_name = _LEAD_TOPICS.get
        for nid, originator, topic, data in notifications:
            name = lead_name(topic)
            if name is not None:
                lead_event(nid, originator, name, facts(name, data))
            elif topic == _VISITS_TOPIC:
                batch.visits_recorded(nid, state(data))
            elif topic == _VERSION_TOPIC:
                batch.version_applied(nid, state(data))
            elif topic in _CORRECTION_TOPICS:
                since_us = states.instant_us(state(data)["timestamp"])
                steps, entries = self._corrected_steps(originator, nid)
                batch.lead_corrected(originator, steps, since_us, entries)
        batch.flush()
        return batch

    def _corrected_steps(
        self, lead_id: str, nid: int
    ) -> tuple[list[tuple[int, str, LeadFacts]], list[int]]:
        """The lead's steps as they read once the entry at `nid` was recorded, in the
        order they happened, with the notification id of each one's entry; and the
        notification ids of all its entries so far."""
        entries = [e for e in eventstore.entries_of(self.app, UUID(lead_id)) if e[0] <= nid]
        version_nids = {version: entry_nid for entry_nid, _, version, _, _ in entries}
        lead: Lead = self.app.repository.get(UUID(lead_id), version=entries[-1][2])
        steps = [
            (version_nids[fact.n], fact.name, lead_facts.fact_facts(lead.key, fact))
            for fact in lead.facts()
        ]
        return steps, list(version_nids.values())
