"""The application: one method per use case, each loading, deciding and saving once."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
    Transcoder,
)

from handoff import eventstore
from handoff.domain.agreement import (
    AgreementRegister,
    AgreementTerms,
    AgreementVersion,
    AppliedVersion,
    Change,
    changes_between,
    check_restatement,
    revised_by,
)
from handoff.domain.bounds import check_group_name
from handoff.domain.errors import ConcurrentChange, LeadExists, UnknownLead
from handoff.domain.steps import Stamp, erase_person, in_the_future, lead_id
from handoff.instants import now_utc, parse_amount, parse_typed_instant
from handoff.store import NewStore, StoreLocation, StoreUnavailable, cannot_write, printable

if TYPE_CHECKING:  # imported where used: a command that only reads needs none of them
    from handoff.domain.lead import Lead
    from handoff.domain.traffic import TrafficDay
    from handoff.domain.verification import VerificationLog, VerificationRun

Clock = Callable[[], datetime]
T = TypeVar("T")
_ATTEMPTS = 5
_UTC = ZoneInfo("UTC")
_ANALYZE_FROM_EVENTS = 10_000  # a bulk write this large refreshes PostgreSQL's statistics


class Recorded(NamedTuple):
    """What applying an agreement did: the version, and whether it was recorded just now."""

    version: AgreementVersion
    new: bool


_DOMAIN = f"{AgreementRegister.__module__.rpartition('.')[0]}."  # handoff.domain.


class _OwnKindsMapper(Mapper[Any]):
    """The library's mapper, building an entry only from a class of handoff's domain: an
    entry's topic names the class to build it from, and the library imports the module it
    names, so one edited underneath handoff (`os:system`, a module that acts as it is
    imported) would have any installed module loaded; it is taken for an entry edited past
    reading. Checked by the topic's package alone (`backup.KNOWN_TOPICS`, the kinds
    themselves, would load the lead's classes, which a report from the summaries never
    needs: tests/test_cli_startup); a topic naming a domain class that is no entry's is
    found by `audit verify`, which the command line runs when a command fails so."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        if not stored_event.topic.startswith(_DOMAIN):
            raise eventstore.UnreadableEntry(
                f"an entry of an unknown kind: {stored_event.topic!r}")
        return super().to_domain_event(stored_event)


class HandoffApp(Application[Any]):
    """The shared record of the agreement: leads, agreement versions and traffic."""

    name = "handoff"
    # Where a long catch-up of the read models reports its progress, when nobody asked
    # (the first report after a large load): set by the command line on a terminal.
    catch_up_progress: Callable[[int, int], None] | None = None
    # The command running, in the command line's words ("kpi", "audit verify"): named
    # where it seals entries another command recorded (`audit.seal`). Empty elsewhere.
    command = ""
    # Set by `audit` once another process held the audit chain for a whole lock wait: the
    # command does not wait for it again (a report behind it waited three times: to seal,
    # to read the chain's head for its digest, to seal as it ended).
    chain_busy = False

    def __init__(
        self,
        location: StoreLocation,
        clock: Clock = now_utc,
        create: bool = True,
        provisional: bool = False,
    ) -> None:
        """Open the store; with `create` False, refuse one that does not exist yet.

        With `provisional` (a command that may create the store), a store this opening
        creates is kept only if something is recorded in it before `close` (SPEC §7: a
        refused command writes nothing): on SQLite it is written to a draft beside it and
        put in place then; on PostgreSQL its new tables are dropped then, if empty. Meanwhile
        any other command creating the same store waits, and then records into it.
        """
        self._new: NewStore | None = None
        self._schema_lock: _SchemaLock | None = None
        location.refuse_if_another_programs()
        if not create:
            location.refuse_if_missing()
        else:
            location.refuse_if_uncreatable()
        if create and provisional:
            self._new = location.draft()
        opened = self._new.draft if self._new else location
        self.location = opened
        self.clock = clock
        # The library's tables are created below, under the schema lock, where missing
        # (`eventstore.create_log_where_missing`), not by the library as it is set up.
        env = {**opened.event_store_env, "CREATE_TABLE": "n"}
        lock = _SchemaLock.take(location)
        try:
            if lock and provisional and create:
                lock.before = lock.tables()
            with _opening(location):
                super().__init__(env=env)
                from handoff import audit

                lost = not eventstore.table_exists(self) and eventstore.table_exists(
                    self, audit.TABLE)  # dropped by hand: a new log would lie beside its seals
                if create and not lost:
                    eventstore.create_log_where_missing(self)
                missing = not create and not eventstore.table_exists(self)
            if lock:
                lock.tables_created()
                if lock.before is not None and lock.tables() - lock.before:
                    self._schema_lock, lock = lock, None  # it created them: held until close
        except BaseException:
            if self._new is not None:
                self._new.put_in_place(recorded=False)
            raise
        finally:
            if lock is not None:
                lock.release()
        if lost or missing:
            self.close()
            raise location.log_lost() if lost else location.missing()
        # Read once the schema locks are let go: behind a lock on the events table (psql's
        # `LOCK TABLE`, a VACUUM FULL) this read waits, and every other command opening the
        # store would wait for it before its own wait began.
        try:
            with _opening(location):
                # The log's end as this opening began: an entry up to it that is still
                # unsealed when this app seals was recorded by an earlier command, which
                # did not seal it (`audit.seal` says so).
                self.log_end_at_open = eventstore.last_notification_id(self)
        except BaseException:
            with suppress(Exception):  # what stopped the read is what the command says
                self.close()
            raise

    def close(self) -> None:
        """Close the store; a store this provisional opening created is kept only if
        something was recorded in it (see `__init__`)."""
        settling = self._new is not None or self._schema_lock is not None
        recorded = False
        try:
            recorded = settling and eventstore.last_notification_id(self) > 0
        finally:
            super().close()
            new, lock = self._new, self._schema_lock
            self._new = self._schema_lock = None
            if lock is not None:
                lock.release(drop=not recorded)
            if new is not None:
                new.put_in_place(recorded)

    def construct_transcoder(self) -> Transcoder:
        return eventstore.without_cycle_check(super().construct_transcoder())

    def construct_mapper(self) -> Mapper[Any]:
        return self.factory.mapper(transcoder=self.construct_transcoder(),
                                   mapper_class=_OwnKindsMapper)

    # -- the agreement ------------------------------------------------------------------

    def agreement_register(self, as_of: datetime | None = None) -> AgreementRegister:
        """Every version of the agreement; with `as_of` (`--as-of T`), the register as it
        stood then: replayed from its entries recorded by that instant (a proposal, a
        signature, a version coming into force, each recorded at its own instant), so a
        version, a signature or a restatement recorded later is not in it."""
        projector = project_aggregate if as_of is None else partial(_recorded_by, as_of)
        try:
            register: AgreementRegister = self.repository.get(
                AgreementRegister.ID, projector_func=projector)
        except AggregateNotFoundError:
            register = AgreementRegister()
        return register

    def apply_agreement(
        self, terms: AgreementTerms, actor: str, restates: str | None = None
    ) -> Recorded:
        """`sla apply`: in force at once without a team; with one, proposed and signed for
        the actor's side. Terms identical to a recorded version: that version, nothing
        written."""

        def change() -> Recorded:
            # A reason given empty is refused before the terms are compared: the terms of
            # a restatement already recorded would otherwise answer it with "identical".
            check_restatement(restates)
            register = self.agreement_register()
            existing = register.identical_to(terms, restates)
            if existing is not None:
                return Recorded(existing, new=False)
            version = register.apply(terms, actor=actor, at=self.clock(), restates=restates)
            self.save(register)
            return Recorded(version, new=True)

        return self._retrying(change)

    def sign_agreement(
        self, number: int, actor: str, restates: str | None = None
    ) -> AppliedVersion:
        """`sla sign N`: the other side's signature puts version N in force now."""

        def change() -> AppliedVersion:
            register = self.agreement_register()
            version = register.sign(number, actor=actor, at=self.clock(), restates=restates)
            self.save(register)
            return version

        return self._retrying(change)

    def check_agreement(self, terms: AgreementTerms) -> tuple[AppliedVersion | None, list[Change]]:
        """`sla check`: the version the terms would follow (in force on their first day, else
        the last to come into force) and how the terms differ from it."""
        current = revised_by(self.agreement_register().versions, terms)
        return current, changes_between(current.terms if current else None, terms)

    def zone_for_day(self, register: AgreementRegister) -> Callable[[date], ZoneInfo]:
        def zone(day: date) -> ZoneInfo:
            version = register.in_force_on(day)
            return version.terms.timezone if version else _UTC

        return zone

    def instant(self, text: str, register: AgreementRegister | None = None) -> datetime:
        """An instant as a user typed it; without an offset, local to the agreement in force."""
        return parse_typed_instant(
            text, self.zone_for_day(register or self.agreement_register()))

    def as_of(self, text: str) -> datetime:
        """`--as-of T`: the instant a report is replayed at, which has passed (or is now:
        a few minutes ahead, as for a step, is a clock's skew); a later one would judge
        handoffs pending today as overdue, which nobody was told."""
        from handoff.domain.errors import TimeRefused

        instant = self.instant(text)
        if in_the_future(instant, self.clock()):
            raise TimeRefused(
                lambda at: f"--as-of {at(instant)} is in the future: a report is replayed as "
                "of an instant that has passed, or now"
            )
        return instant

    def stamp(
        self, register: AgreementRegister, event_name: str, actor: str, at: str | None,
        owner: str | None = None,
    ) -> Stamp:
        """When, by whom and under which agreement an event happens; refuses outsiders."""
        recorded_at = self.clock()
        occurred_at = recorded_at if at is None else self.instant(at, register)
        return register.stamp(event_name, actor, occurred_at, recorded_at, owner=owner)

    # -- leads --------------------------------------------------------------------------

    def lead(self, key: str) -> Lead:
        try:
            lead: Lead = self.repository.get(lead_id(key))
        except AggregateNotFoundError:
            raise UnknownLead(key) from None
        return lead

    def capture(
        self,
        key: str,
        source: str,
        actor: str,
        at: str | None = None,
        name: str | None = None,
        email: str | None = None,
        company: str | None = None,
    ) -> Lead:
        from handoff.domain.lead import Lead

        def change() -> Lead:
            if lead_id(key) in self.repository:
                raise LeadExists(key)
            stamp = self.stamp(self.agreement_register(), "captured", actor, at)
            lead = Lead.capture(key, source, stamp, name=name, email=email, company=company)
            self.save(lead)
            return lead

        return self._retrying(change)

    def record(
        self, key: str, event_name: str, actor: str, at: str | None, why: str | None = None,
        **data: Any,
    ) -> Lead:
        """Record one step of the protocol on an existing lead; with `why`, a step that was
        missed, at the instant it truly happened (SPEC §2, corrections)."""

        def change() -> Lead:
            lead = self.lead(key)
            register = self.agreement_register()
            stamp = self.stamp(register, event_name, actor, at, owner=data.get("owner"))
            apply_step(lead, event_name, stamp, data, why)
            self.save(lead)
            return lead

        return self._retrying(change)

    def void(self, key: str, n: int, why: str, actor: str) -> Lead:
        """`lead void KEY N`: entry N no longer counts. Who may record the step may void it."""

        def change() -> Lead:
            lead = self.lead(key)
            lead.check_void(n, why)  # what is refused whoever asks, before who asks
            lead.void(n, why, self._correction_stamp(actor, *lead.corrected_step(n)))
            self.save(lead)
            return lead

        return self._retrying(change)

    def amend(
        self, key: str, n: int, why: str, actor: str, at: str | None = None, **fields: Any
    ) -> Lead:
        """`lead amend KEY N`: entry N now reads with the values given (None: unchanged)."""

        def change() -> Lead:
            lead = self.lead(key)
            lead.step(n)  # an entry that can be amended, before its values are read
            changes = {k: v for k, v in fields.items() if v is not None}
            if "amount" in changes:
                changes["amount"] = parse_amount(changes["amount"])
            if "source" in changes:  # of a command only, as a capture's (`check_capture`)
                check_group_name("the source", changes["source"])
            if at is not None:
                changes["at"] = self.instant(at)
            stamp = self._correction_stamp(actor, *lead.corrected_step(n, changes))
            if "at" in changes:
                # Moved: by someone who may record the step where it stood too, or anyone
                # outside a team could take a step out of its agreement's reach. Of a
                # command only: a backup an earlier release wrote so still restores.
                self._correction_stamp(actor, *lead.corrected_step(n))
            lead.amend(n, changes, why, stamp)
            self.save(lead)
            return lead

        return self._retrying(change)

    def _correction_stamp(
        self, actor: str, event_name: str, occurred_at: datetime, owner: str | None
    ) -> Stamp:
        """A correction is made now, under the agreement in force when its step happened,
        by someone that agreement lets record the step."""
        now = self.clock()
        stamp = self.agreement_register().stamp(event_name, actor, occurred_at, now, owner=owner)
        return replace(stamp, occurred_at=now)

    def forget(self, key: str, why: str, actor: str) -> Lead:
        """Erase the person behind a lead from every entry of it (SPEC §9), keeping its steps.

        The erasure is recorded and sealed into the audit chain first, with the digest each
        erased entry will have, so that the chain knows the new bytes for what they are;
        then the entries are rewritten and the freed space scrubbed. Run again after a
        crash, it finishes the erasure the first run recorded.
        """
        from handoff import audit, eventstore

        def erasures(lead: Lead) -> list[eventstore.StoredEntry]:
            found = []
            for entry in eventstore.entries_of(self, lead.id):
                erased = eventstore.rewritten(self, entry[4], erase_person)
                if erased is not None:
                    found.append((*entry[:4], erased))
            return found

        def change() -> Lead:
            binding = self.agreement_register().binding(self.clock())
            if binding is not None:  # an erasure is recorded: by whom its team lets record
                binding.check_member(actor, "forget a lead")
            lead = self.lead(key)
            # Entries to erase that no erasure vouches for yet: all of them the first time;
            # none after a crash between recording and rewriting (unless a later command
            # sealed that erasure late: it vouches for nothing); details a forgetting
            # left behind (amended ones, before it erased them too) when forgotten again.
            erased = [(e[0], audit.entry_digest(e)) for e in erasures(lead)]
            vouched = audit.vouched_erasures(self, lead.id.hex)
            unrecorded: list[list[Any]] = [
                [position, digest.hex()] for position, digest in erased
                if vouched.get(position) != (lead.id.hex, digest)
            ]
            if lead.forgotten is None or unrecorded:
                lead.forget(why, actor, self.clock(), unrecorded)
                self.save(lead)
            elif not erased:
                lead.forget(why, actor, self.clock(), [])  # refused: forgotten already
            return lead

        lead = self._retrying(change)
        audit.seal(self)
        pending = erasures(lead)
        if pending:
            eventstore.rewrite_states(self, pending)
            eventstore.scrub_freed_space(self)
        return self.lead(key)

    # -- traffic ------------------------------------------------------------------------

    def traffic_day(self, day: date) -> TrafficDay:
        from handoff.domain.traffic import TrafficDay, traffic_day_id

        try:
            traffic: TrafficDay = self.repository.get(traffic_day_id(day))
        except AggregateNotFoundError:
            traffic = TrafficDay(day=day.isoformat())
        return traffic

    def record_visits(self, day: date, visits: int, actor: str) -> TrafficDay:
        zone = self.zone_for_day(self.agreement_register())(day)

        def change() -> TrafficDay:
            traffic = self.traffic_day(day)
            traffic.record(visits, actor=actor, recorded_at=self.clock(), zone=zone)
            self.save(traffic)
            return traffic

        return self._retrying(change)

    # -- the log ------------------------------------------------------------------------

    def events_after(self, position: int, page: int = 2000) -> Iterator[tuple[int, Any]]:
        """Every domain event after a notification id, in the order they were recorded."""
        while True:
            notifications = self.recorder.select_notifications(
                start=position, limit=page, inclusive_of_start=False
            )
            if not notifications:
                return
            for notification in notifications:
                event: DomainEventProtocol[Any] = self.mapper.to_domain_event(notification)
                yield notification.id, event
            position = notifications[-1].id

    def save_in_bulk(
        self, aggregates: Iterable[Any], committed: Callable[[], None] | None = None,
        made: eventstore.MadeElsewhere | None = None, ahead: eventstore.Ahead | None = None,
        sent: Callable[[], None] | None = None,
    ) -> None:
        """Save many aggregates in one transaction (imports, the demo), and seal them;
        `committed` is called once the transaction is. `made`: the rows of more events,
        made by another process (`rows_in_bulk`), written among theirs as they come.
        `ahead`: the rows of events collected before (`rows_ahead`), some made already:
        these aggregates' events follow them. `sent`: the caller's work (writing nothing)
        done once every row is handed over (while they commit, where a second process
        writes them: `eventstore.record_encoded`).

        Hands the events straight to the event store: `save()` would check every object
        against runtime protocols, which costs more than writing it. The entries are
        sealed from the digests taken as their rows were made (`audit.seal_recorded_quietly`),
        rather than read back at the command's end.
        """
        from handoff import audit

        events = _pending(aggregates)
        size = (len(events) + (ahead.events if ahead is not None else 0)
                + (made.events if made is not None else 0))
        recorded = eventstore.record_in_bulk(self, events, digest=audit.content_digest,
                                             made=made, committed=committed, ahead=ahead,
                                             sent=sent)
        if self.location.is_postgres and size >= _ANALYZE_FROM_EVENTS:
            eventstore.analyze(self)
        if recorded is not None:
            audit.seal_recorded_quietly(self, recorded)

    def rows_in_bulk(self, aggregates: Iterable[Any]) -> tuple[int, Iterator[eventstore.Chunk]]:
        """How many events these aggregates hold, and the rows `save_in_bulk` writes for
        them, a chunk at a time with their digests (made by another process: `made`)."""
        rows = self.rows_ahead(aggregates)
        return rows.events, rows.chunks()

    def rows_ahead(self, aggregates: Iterable[Any]) -> eventstore.Ahead:
        """The rows `save_in_bulk` writes for these aggregates' events, to be made in part
        before the write (`Ahead.make_one`), then written by it (`ahead`)."""
        from handoff import audit

        return eventstore.Ahead(self, _pending(aggregates), audit.content_digest)

    def aggregates(self, ids: list[UUID]) -> dict[UUID, Any]:
        """Those of these aggregates that have events, loaded in a few queries rather than
        one each (the leads and days an import names)."""
        return eventstore.aggregates_of(self, ids)

    def is_empty(self) -> bool:
        """Whether the store holds no event at all (a new store)."""
        return eventstore.last_notification_id(self) == 0

    def entries_of(self, ids: list[UUID]) -> list[eventstore.EncodedRow]:
        """The entries `aggregates` reads for these aggregates, for another process to
        make them from (`aggregates_from`; where `eventstore.loads_in_bulk`)."""
        return eventstore.entries_of_each(self, ids)

    def aggregates_from(self, entries: list[eventstore.EncodedRow]) -> dict[UUID, Any]:
        """The aggregates these entries (`entries_of`) make; reads nothing from the store."""
        return eventstore.aggregates_from(self, entries)

    # -- the protocol's examples, as last verified ---------------------------------------

    def verification_log(self) -> VerificationLog:
        from handoff.domain.verification import VerificationLog

        try:
            log: VerificationLog = self.repository.get(VerificationLog.ID)
        except AggregateNotFoundError:
            log = VerificationLog()
        return log

    def record_verification(self, run: VerificationRun) -> None:
        def change() -> None:
            log = self.verification_log()
            log.record(run)
            self.save(log)

        self._retrying(change)

    def _retrying(self, change: Callable[[], T]) -> T:
        """Run a load-decide-save; if another process saved first, decide again on fresh state."""
        for _ in range(_ATTEMPTS):
            try:
                return change()
            except RecordConflictError:
                continue
        raise ConcurrentChange("the store kept changing under this command; nothing was written")


# The instant each entry of the agreement register was recorded at (its "Opened" has none).
_REGISTER_INSTANTS = ("proposed_at", "signed_at", "applied_at")


def _recorded_by(
    as_of: datetime, register: AgreementRegister | None, entries: Iterable[Any]
) -> AgreementRegister | None:
    """The register from its entries up to the first recorded after `as_of` (entries are
    recorded in the order of their instants: the clock is read as each is decided)."""
    for entry in entries:
        instant = next((getattr(entry, name) for name in _REGISTER_INSTANTS
                        if hasattr(entry, name)), None)
        if instant is not None and instant > as_of:
            break
        register = entry.mutate(register)
    return register


@contextmanager
def _opening(location: StoreLocation) -> Iterator[None]:
    """The library's errors as it opens the store, said in one line."""
    try:
        yield
    except (PersistenceError, OSError, sqlite3.Error) as error:
        reason = printable(str(error).strip().splitlines()[0]) if str(error).strip() else error
        raise StoreUnavailable(
            cannot_write(error) or f"cannot open store {location.given!r}: {reason}"
        ) from None


class _SchemaLock:
    """On PostgreSQL, one process at a time creates the tables of a new store.

    Two `CREATE TABLE IF NOT EXISTS` racing on a new database can both try to create the
    same row type and one fails; a session advisory lock around the library's set-up
    serialises them. Connecting first also names an unreachable database at once with the
    server's reason, where the library's pool would retry quietly until its timeout.
    A provisional opening that created the tables holds a second lock, which every opening
    takes first, until it closes, and then drops them if nothing was recorded.
    """

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.before: set[str] | None = None  # the tables there were, for a provisional opening

    @classmethod
    def take(cls, location: StoreLocation) -> _SchemaLock | None:
        if not location.is_postgres:
            return None
        connection = location.connect_postgres()
        try:
            for key in (eventstore.NEW_STORE_LOCK_KEY, eventstore.SCHEMA_LOCK_KEY):
                connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        except BaseException:
            connection.close()
            raise
        return cls(connection)

    def tables(self) -> set[str]:
        """The tables of the schema the store's tables are created in."""
        cursor = self.connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {name for (name,) in cursor.fetchall()}

    def tables_created(self) -> None:
        """Other openings may create tables again (the read model's, the seals'); a new
        store's stays held."""
        self.connection.execute("SELECT pg_advisory_unlock(%s)", (eventstore.SCHEMA_LOCK_KEY,))

    def release(self, drop: bool = False) -> None:
        """Let the next opening go on; first, with `drop`, drop the tables created under it."""
        try:
            created = self.tables() - self.before if drop and self.before is not None else set()
            if created:
                tables = ", ".join(f'"{name}"' for name in sorted(created))
                self.connection.execute(f"DROP TABLE IF EXISTS {tables} CASCADE")
        finally:
            self.connection.close()  # which lets go of its locks


def _pending(aggregates: Iterable[Any]) -> list[Any]:
    """The events these aggregates hold that were never collected, collected (so once)."""
    return [e for aggregate in aggregates for e in aggregate.collect_events()]


def apply_step(
    lead: Lead, event_name: str, stamp: Stamp, data: dict[str, Any], why: str | None = None
) -> None:
    """Call the lead's method for one lifecycle event with its data."""
    if event_name == "qualified":
        lead.qualify(stamp, score=data.get("score"), why=why)
    elif event_name == "handed":
        lead.hand_to(data["owner"], stamp, why=why)
    elif event_name == "accepted":
        lead.accept(stamp, why=why)
    elif event_name == "rejected":
        lead.reject(data["reason"], stamp, why=why)
    elif event_name == "contacted":
        lead.contact(stamp, channel=data.get("channel"), why=why)
    elif event_name == "proposal":
        lead.send_proposal(parse_amount(data["amount"]), stamp, why=why)
    elif event_name == "won":
        amount = data.get("amount")
        lead.win(stamp, amount=None if amount is None else parse_amount(amount), why=why)
    elif event_name == "lost":
        lead.lose(data["reason"], stamp, why=why)
    else:
        raise ValueError(f"not a lifecycle step: {event_name}")
