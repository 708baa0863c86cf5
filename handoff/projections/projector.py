"""Projecting the notification log page by page, each page one transaction with its position.

The position is advanced with a compare-and-set in the same transaction as the page's
rows (see `catchup` for what a collision means and how a catch-up recovers from it).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from handoff import eventstore, switches
from handoff.domain.agreement import AgreementRegister
from handoff.domain.errors import Refused, out_of_order
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS, Lead
from handoff.domain.traffic import TrafficDay
from handoff.projections import lead_facts, page_writer, states
from handoff.projections import schema as t
from handoff.projections.due import KnownVersion, version_from_row
from handoff.projections.lead_facts import LeadFacts
from handoff.projections.page import Batch, LeadState
from handoff.projections.page_writer import Moved, claim
from handoff.projections.readmodel import PROJECTION, ReadModel, current
from handoff.projections.tally import Tally

if TYPE_CHECKING:
    from handoff.application import HandoffApp


_ATTEMPTS = 20
# A bulk catch-up this far behind has its pages written by a process of its own while it
# turns the next into rows (page_writer.ahead): starting that process costs a few tenths
# of a second, which a smaller backlog would not win back (on PostgreSQL, a thread writes
# a smaller one).
WRITE_AHEAD_FROM = 200_000
# The first page of a catch-up reads the agreement versions, and is projected in place; when
# the pages after it are written ahead, it is a short one, so that the log's bulk goes to
# the writer (a rebuild of a million events: a second less in this process).
FIRST_PAGE = 5_000

Progress = Callable[[int, int], None]  # (position reached, last notification id)


def writes_ahead_in_process(bulk: bool, behind: int) -> bool:
    """Whether a catch-up this far behind has its pages written by a process of its own."""
    return bulk and behind >= WRITE_AHEAD_FROM


_LEAD_TOPICS = {get_topic(cls): name for cls, name in LIFECYCLE_EVENTS.items()}
_LATER_TOPICS = frozenset(topic for topic, name in _LEAD_TOPICS.items() if name != "captured")
_CAPTURED_TOPIC = next(topic for topic, name in _LEAD_TOPICS.items() if name == "captured")
_VISITS_TOPIC = get_topic(TrafficDay.VisitsRecorded)  # type: ignore[attr-defined]
_VERSION_TOPIC = get_topic(AgreementRegister.VersionApplied)  # type: ignore[attr-defined]
# Corrections (SPEC §2): the lead's rows are projected again from its corrected steps.
_CORRECTION_TOPICS = frozenset(get_topic(cls) for cls in CORRECTIONS)


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
        self._ahead: Generator[Sequence[states.LogRow], None, None] | None = None
        self._ahead_after = 0
        self._peeked: tuple[int, Sequence[states.LogRow]] | None = None  # (after, page)
        # In bulk, pages are turned into rows while the one before is written (see
        # page_writer.ahead): on PostgreSQL always (by a thread for a small backlog), on
        # SQLite only for a large backlog (_run).
        self._ahead_of_writes = bulk and model.is_postgres
        self._in_process = False  # the pages written by a process of its own (_run)
        self._last_event = 0
        self._workers = ExitStack()  # what run() closes as it ends: the page writer
        self._writer: page_writer.Writer | None = None

    def run(self) -> int:
        # One connection for every page (each still its own transaction): SQLite keeps
        # its page cache from one transaction to the next only within a connection.
        with self.model.engine.connect() as conn, ExitStack() as self._workers:
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
        self._last_event = last_event
        if writes_ahead_in_process(self.bulk, eventstore.positions_behind(at, last_event)):
            self._ahead_of_writes = self._in_process = True
        collisions = 0
        while True:
            try:
                read = self._project_ahead(conn, at) if self._ahead_of_writes else 0
                if read:
                    projected += read
                    at = self._at
                    continue
                read = self._project_page(conn, at)
            except (Moved, IntegrityError) as moved:
                # Someone else projected these events (or reset the model): our in-memory
                # state may be stale, so start again from their position. Being overtaken
                # is progress; colliding on keys again and again would be a bug.
                collisions += isinstance(moved, IntegrityError)
                if collisions > _ATTEMPTS:
                    again = self._captured_again(conn, at)
                    if again is not None:  # not another process: the log changed underneath
                        raise Refused(out_of_order(again)) from None
                    raise
                self.leads.clear()
                self.versions = None
                self._peeked = None
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
            # Writing first takes the write lock (SQLite) or the row lock (PostgreSQL)
            # before anything is read, so the page and the position belong together.
            claim(conn, at, at, self.bulk)
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

    def _captured_again(self, conn: Connection, at: int) -> int | None:
        """The first capture, in the page after `at`, of a lead the read model holds from
        another capture: its row collides with the lead's, again and again, as no other
        process's would (the page itself refuses a lead captured twice within what it
        holds); None when every collision is with the same capture's row."""
        page = self.model.read_page(conn.connection, at, self.page)
        captures: dict[str, int] = {}
        for nid, lead_id, topic, _ in page:
            if topic == _CAPTURED_TOPIC:
                captures.setdefault(lead_id, nid)
        if not captures:
            return None
        with conn.begin():
            held = conn.execute(
                select(t.lead.c.lead_id, t.lead.c.lead_ref)
                .where(t.lead.c.lead_id.in_(list(captures)))
            ).all()
        return min((captures[lead_id] for lead_id, lead_ref in held
                    if lead_ref != captures[lead_id]), default=None)

    def _page_after(self, conn: Connection, at: int) -> Sequence[states.LogRow]:
        """The notifications after `at`, a page of them: the page `_project_ahead` read
        and left to this transaction, or else read in it."""
        peeked, self._peeked = self._peeked, None
        if peeked is not None and peeked[0] == at:
            return peeked[1]
        first = self.versions is None and self._ahead_of_writes
        return self.model.read_page(conn.connection, at, min(FIRST_PAGE, self.page) if first
                                    else self.page)

    def _read_ahead(self, at: int) -> Sequence[states.LogRow] | None:
        """The page after `at` read by eventstore.log_pages, outside the page's transaction
        (each next page is read while this one is projected); None at the end of the log.
        These are the rows the transaction would read: ids are committed in order
        (PostgreSQL's writers hold the events table's lock, see eventstore), the log only
        grows, and the compare-and-set checks that nobody projected past `at`. At the
        log's end a page may hold fewer."""
        if self._ahead is None or self._ahead_after != at:
            self._stop_reading_ahead()
            self._ahead = eventstore.log_pages(self.app, self.page, after=at)
        found = next(self._ahead, None)
        if found is None:
            self._stop_reading_ahead()
            return None
        self._ahead_after = found[-1][0]
        return found

    def _stop_reading_ahead(self) -> None:
        if self._ahead is not None:
            self._ahead.close()  # its reading thread ends with it
            self._ahead = None

    def _project(self, conn: Connection, notifications: Sequence[states.LogRow]) -> Batch:
        if self.versions is None:
            rows = conn.execute(select(t.agreement).order_by(t.agreement.c.version))
            self.versions = [version_from_row(r) for r in rows.mappings()]
        batch = Batch(conn, self.leads, self.versions, self.tally)
        # Leads this page continues that are neither in memory nor captured in it: a lead
        # captured in the page has no row yet (a rebuild asked for 150,000 of them).
        continued = {lead_id for _, lead_id, topic, _ in notifications if topic in _LATER_TOPICS}
        captured = {lead_id for _, lead_id, topic, _ in notifications if topic == _CAPTURED_TOPIC}
        batch.load_leads(continued.difference(self.leads, captured))
        self._turn(batch, notifications)
        batch.flush()
        return batch

    def _turn(self, batch: Batch, notifications: Sequence[states.LogRow]) -> None:
        """Turn the notifications into the batch's rows, in order."""
        from handoff.backup import KNOWN_TOPICS  # only here: the one list of them

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
            elif topic not in KNOWN_TOPICS:  # edited underneath handoff: read as no kind
                raise eventstore.UnreadableEntry(f"an entry of an unknown kind: {topic!r}")

    # -- in bulk: the next page turned into rows while another worker writes this one ----

    def _project_ahead(self, conn: Connection, at: int) -> int:
        """Project pages after `at` that need nothing from the read model (`_self_contained`)
        two at a time: another worker (page_writer.ahead) writes and commits one page, each
        page still one transaction with its position, while the next is turned into rows.
        Stops before any other page, left to `_project_page`; returns the events projected."""
        projected = 0
        if self.versions is None:
            return 0  # the first page, projected in place (FIRST_PAGE)
        if self._writer is None:  # one writer for the whole run (a process takes a while)
            self._writer = self._workers.enter_context(
                page_writer.ahead(self.model, conn, self._in_process))
        writer = self._writer
        in_flight: tuple[page_writer.Pending, int, int] | None = None  # (write, position, events)
        try:
            while True:
                page = self._read_ahead(at)
                if page is None:
                    break
                if not self._self_contained(page):
                    self._peeked = (at, page)
                    break
                assert self.versions is not None  # checked by _self_contained
                # Counted once committed: by a writing process (a sixth of the Python work
                # of a page, done beside this one), by this one when a thread writes.
                batch = Batch(conn, self.leads, self.versions)
                self._turn(batch, page)
                counted = (None if self.tally is None
                           else (self.tally.token, batch.judged, batch.recorded_us))
                rows, last = batch.take(), page[-1][0]
                if in_flight is not None:
                    done, in_flight = in_flight, None
                    projected += self._written(*done)
                in_flight = (writer.submit(at, last, rows, counted), last, len(page))
                at = last
        finally:
            if in_flight is not None:  # written (or failed) before anything goes on
                projected += self._written(*in_flight)
        if self.tally is not None:  # what the writer counted and kept, once
            writer.gather(self.tally)
        return projected

    def _self_contained(self, page: Sequence[states.LogRow]) -> bool:
        """Whether turning the page into rows reads nothing from the read model: the
        versions are known, every lead it continues is in memory (or captured in it), and
        it holds no agreement version or correction (they read and rewrite rows)."""
        if self.versions is None:
            return False
        leads, captured = self.leads, set()
        for _, lead_id, topic, _ in page:
            if topic in _LATER_TOPICS:
                if lead_id not in leads and lead_id not in captured:
                    return False
            elif topic in _LEAD_TOPICS:
                captured.add(lead_id)
            elif topic == _VERSION_TOPIC or topic in _CORRECTION_TOPICS:
                return False
        return True

    def _written(self, write: page_writer.Pending, last: int, events: int) -> int:
        """Wait for a page's write (raising what it raised), counted; the page's events."""
        write.result(self.tally)
        self._at = last
        if self.tally is not None:
            self.tally.end = last
        if self.progress:
            self.progress(last, max(self._last_event, last))
        return events

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
