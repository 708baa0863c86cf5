"""The full backup: every entry of the log, exactly, and its restore (SPEC §8).

`handoff export --format jsonl` writes a header line, then one line per entry of the log
in the order recorded: lead steps, corrections, erasures, agreement versions and their
signatures, traffic, whatever handoff records now or later. Each line carries the entry's
aggregate, its number in that aggregate, its kind and its state as JSON (the instants it
occurred and was recorded, who recorded it, under which agreement, its data). A last line
counts the entries, so that a copy cut short is refused rather than restored in part:

    {"handoff_backup": 2}
    {"n": 1, "id": "e005...", "v": 1, "topic": "handoff.domain.lead:Lead.Captured", "state": {...}}
    ...
    {"handoff_backup_end": {"entries": 9503}}

A backup of format 1 (written before the last line was) is restored as it is.

`handoff import` of such a file restores those entries as they were, `recorded_at`
included, so that every history, past KPI, agreement history and breach list of the
restored store equals the original's. Nothing is merged or deduplicated by content: two
identical events of a lead are two entries. Entries the store already holds (the same
entry of the same aggregate, with the same state) are skipped, so an interrupted restore is
finished by running it again; a store holding anything else is refused, as is a file
whose entries handoff cannot read back. The whole file is checked before anything is
written.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from handoff import audit, eventstore
from handoff.domain import agreement_file, lead, traffic, verification
from handoff.domain.agreement import AgreementRegister, AgreementTerms
from handoff.domain.bounds import check_instant, json_value
from handoff.domain.errors import (
    LOG_CHANGED,
    LOG_CHANGED_AT,
    InvalidInput,
    Refused,
    out_of_order,
)
from handoff.domain.lead import LIFECYCLE_EVENTS, Lead
from handoff.domain.notices import Notice
from handoff.domain.steps import (
    FUTURE_SKEW,
    PERSONAL_DATA,
    PERSONAL_FIELDS,
    erase_person,
    in_the_future,
)
from handoff.domain.traffic import TrafficDay
from handoff.domain.verification import VerificationLog
from handoff.exporter import FORGOTTEN_TOPIC, forgotten_ids
from handoff.instants import iso, now_utc
from handoff.words import counted, shortened

FORMAT = 2
# The lowest position a backup's entry may have: where the library numbers the log from.
FIRST_N = 1
# What a backup does at an entry no restore would take.
_STOPS = "the backup stops before it, short of its last line, and no restore takes it"
HEADER = {"handoff_backup": FORMAT}
_FORMATS = (1, FORMAT)  # those restored: format 1 has no last line
_END = "handoff_backup_end"
_MAX_ERRORS = 20


class BadBackup(Refused):
    """A backup file that cannot be restored as it is."""


class LogChanged(Refused):
    """The log was changed underneath handoff: a record's entries out of their order, or its
    last entries removed."""


def _aggregates() -> dict[type, type]:
    """Each kind of entry handoff writes, with the kind of record it belongs to."""
    return {
        kind: aggregate
        for aggregate in (Lead, AgreementRegister, TrafficDay, VerificationLog, Notice)
        for kind in eventstore.event_kinds(aggregate)
    }


_AGGREGATES = _aggregates()
# The topic of the class the library builds a record from, for each record's first entry
# (None for the others).
_AGGREGATE_TOPICS = {
    kind: eventstore.first_entry_topic(kind, aggregate) for kind, aggregate in _AGGREGATES.items()
}
# Each kind of entry by its topic. A backup may hold nothing else (a topic names a class
# to load, so an unknown one is never followed).
_KINDS = {get_topic(kind): kind for kind in _AGGREGATES}
KNOWN_TOPICS = frozenset(_KINDS)


def backup_lines(app: Any) -> Iterator[str]:
    """The backup, a line at a time (each ends with a newline); none of a log whose last
    entries were removed (`audit.sealed_beyond_the_log`): it would read as whole."""
    cut = audit.sealed_beyond_the_log(app)
    if cut is not None:
        ends = f"ends at entry {cut[0]}" if cut[0] else "holds no entry"
        raise LogChanged(
            f"the log {ends}, where its seals reach entry {cut[1]}: {LOG_CHANGED_AT} (its"
            " last entries removed); no backup is written of it"
        )
    yield json.dumps(HEADER) + "\n"
    unwrap = eventstore.plain_state_reader(app)
    entries = 0
    versions: dict[str, int] = {}  # each record's last entry so far
    # A forgotten lead's entries as `lead forget` leaves them: one cut short before it
    # rewrote them holds the person still, whom no view shows and no restore would take.
    forgotten = forgotten_ids(app)
    for n, originator, version, topic, state in eventstore.every_stored_entry(app):
        if originator in forgotten:
            state = eventstore.rewritten(app, state, erase_person) or state
        if version != versions.get(originator, 0) + 1:  # no restore would take it
            raise LogChanged(f"{out_of_order(n)}; {_STOPS}")
        if topic not in KNOWN_TOPICS:  # its kind edited underneath handoff: no restore would
            raise LogChanged(  # take it
                f"log entry {n} is of no kind handoff writes: {LOG_CHANGED}; {_STOPS}")
        if n < FIRST_N:  # every reader reads it (`eventstore.BEFORE_FIRST`); no restore would
            raise LogChanged(
                f"log entry {n} lies before the log's first position: {LOG_CHANGED}; {_STOPS}")
        versions[originator] = version
        entries += 1
        yield (
            f'{{"n":{n},"id":"{originator}","v":{version},"topic":{json.dumps(topic)},'
            f'"state":{unwrap(state).decode()}}}\n'
        )
    yield json.dumps({_END: {"entries": entries}}) + "\n"


def is_backup(text: str) -> bool:
    first = text.split("\n", 1)[0].strip()
    if not first.startswith('{"handoff_backup"'):
        return False
    try:
        header = json_value(first)
    except InvalidInput:
        return False
    return isinstance(header, dict) and bool(header.get("handoff_backup"))


@dataclass(frozen=True)
class Restored:
    entries: int  # in the file
    written: int
    skipped: int  # already in the store


@dataclass(frozen=True)
class _Entry:
    line: int
    originator: UUID
    version: int
    topic: str
    state: bytes  # plain JSON, as the transcoder writes it


def restore(app: Any, text: str, dry_run: bool = False) -> Restored:
    """Check the whole backup, then write the entries the store lacks, in file order."""
    entries = _read(app, text)
    held = eventstore.held_entries(app)
    fresh: list[_Entry] = []
    matched = 0
    for entry in entries:
        stored = held.get((entry.originator.hex, entry.version))
        if stored is None:
            fresh.append(entry)
        elif json.loads(stored) == json.loads(entry.state):
            matched += 1
        else:
            raise BadBackup(
                f"line {entry.line}: entry {entry.version} of"
                f" {_record(entries, entry.originator)} differs from the one this store holds"
                " (restore into an empty store); nothing was written"
            )
    if matched != len(held):
        extra = len(held) - matched
        raise BadBackup(
            f"this store holds {counted(extra, 'entry', 'entries')} that"
            f" {'is' if extra == 1 else 'are'} not in the backup: restore into an empty store;"
            " nothing was written"
        )
    if not dry_run and fresh:  # one transaction: all or nothing, as every import
        eventstore.insert_plain_entries(
            app, [(e.originator, e.version, e.topic, e.state) for e in fresh]
        )
    return Restored(len(entries), 0 if dry_run else len(fresh), matched)


def _read(app: Any, text: str) -> list[_Entry]:
    lines = text.split("\n")
    if not is_backup(text):
        raise BadBackup("not a handoff backup (its first line is not a backup header)")
    given = json_value(lines[0].strip())["handoff_backup"]
    if type(given) is not int or given not in _FORMATS:
        raise BadBackup(f"a backup of format {json.dumps(given)}, this handoff reads formats"
                        f" {' and '.join(map(str, _FORMATS))}")
    counted_there = None
    if given != 1:
        lines, counted_there = _without_end(lines)
    parsed: list[_Entry] = []
    errors: dict[int, str] = {}  # by line number
    encode = app.mapper.transcoder.encode
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            parsed.append(_entry(number, line, encode))
        except (Refused, ValueError, TypeError, KeyError, AttributeError) as error:
            errors[number] = str(error)
            if len(errors) >= _MAX_ERRORS:
                break
    entries = _replay(app, parsed, errors)
    if not errors and counted_there is not None and len(entries) != counted_there:
        errors[len(lines) + 1] = (
            f"the backup holds {counted(len(entries), 'entry', 'entries')} where its last"
            f" line counts {counted_there}")
    if errors:
        said = [f"line {number}: {shortened(error, 200)}"
                for number, error in sorted(errors.items())]
        raise BadBackup("; ".join(said[:3]) + (f" (and {len(said) - 3} more)"
                                               if len(said) > 3 else "")
                        + "; nothing was written")
    return entries


def _without_end(lines: list[str]) -> tuple[list[str], int]:
    """The backup's lines before its last, and how many entries that last line counts (the
    entries are then held to it): a file without it was cut short, and is refused."""
    last = max(number for number, line in enumerate(lines) if line.strip())
    entries = _end_count(lines[last])
    if last == 0 or entries is None:
        # Its last line further up (an error path, so read back only now): text was added.
        end = next((n for n in range(last - 1, 0, -1)
                    if _END in lines[n] and _end_count(lines[n]) is not None), None)
        if end is not None:
            raise BadBackup(f"the backup goes on after its last line (line {end + 1}, which"
                            f" counts its entries) to line {last + 1}: something was added"
                            " to the file; nothing was written")
        raise BadBackup(f"the backup stops at line {last + 1}, short of its last line (which"
                        " counts its entries): it was cut short; nothing was written")
    return lines[:last], entries


def _end_count(line: str) -> int | None:
    """How many entries the line counts, if it is a backup's last line; None otherwise."""
    try:
        end = json_value(line.strip())
    except InvalidInput:
        return None
    counts = end.get(_END) if isinstance(end, dict) and len(end) == 1 else None
    entries = counts.get("entries") if isinstance(counts, dict) and len(counts) == 1 else None
    return entries if type(entries) is int else None


def _record(entries: list[_Entry], originator: UUID) -> str:
    """A record of the backup named in words, from its first entry (a message's few)."""
    first = next(entry for entry in entries if entry.originator == originator)
    return _record_named(_KINDS[first.topic], json.loads(first.state).get)


def _replay(app: Any, parsed: list[_Entry], errors: dict[int, str]) -> list[_Entry]:
    """The entries each aggregate's history accepts, in order; why the others are not."""
    entries: list[_Entry] = []
    last_version: dict[UUID, int] = {}
    # Each aggregate as its entries so far build it, until its last one: a large backup's
    # leads are not all held at once.
    restored: dict[UUID, Any] = {}
    last = {entry.originator: n for n, entry in enumerate(parsed)}
    refused: set[UUID] = set()  # aggregates with a bad entry: only the first is reported
    # The latest instant an entry can have been recorded at: the store's clock (a story's
    # clock, in the protocol's examples), or the wall clock the library stamps some with.
    now = max(app.clock(), now_utc())
    register: AgreementRegister | None = None  # as the entries so far left it
    decisions = _Decisions()  # its entries held to sla apply and sla sign
    # The digests of the entries so far, as restored, of each lead the backup forgets (its
    # erasures name them), until its last entry.
    forgets = {entry.originator for entry in parsed if entry.topic == FORGOTTEN_TOPIC}
    digests: dict[UUID, set[str]] = {}
    for n, entry in enumerate(parsed):
        originator = entry.originator
        if originator in refused:
            continue
        if len(errors) >= _MAX_ERRORS:
            break
        try:
            expected = last_version.get(originator, 0) + 1
            if entry.version != expected:
                raise ValueError(f"entry {entry.version} of {_record(parsed, originator)} comes"
                                 f" where entry {expected} should")
            event = eventstore.read_back(app, originator, entry.version, entry.topic,
                                         entry.state)
            _check_fields(event)
            aggregate = _replayed(restored.pop(originator, None), event, now, register,
                                  partial(decisions.check, line=entry.line))
            if isinstance(event, Lead.Forgotten):
                _check_forgetting(aggregate, event, digests.get(originator, set()))
                if last[originator] == n:
                    digests.pop(originator, None)
        except (Refused, ValueError, TypeError, KeyError, AttributeError) as error:
            errors[entry.line] = str(error)
            refused.add(originator)
            continue
        if last[originator] != n:
            restored[originator] = aggregate
        if isinstance(aggregate, AgreementRegister):
            register = aggregate
        last_version[originator] = entry.version
        entries.append(entry)
        if originator in forgets and last[originator] != n:
            digests.setdefault(originator, set()).add(audit.content_digest(
                originator.hex, entry.version, entry.topic, entry.state).hex())
    unfinished = decisions.unfinished()
    if unfinished is not None and AgreementRegister.ID not in refused:
        errors[unfinished[0]] = unfinished[1]
    return entries


def _replayed(
    aggregate: Any, event: Any, now: datetime, register: AgreementRegister | None,
    decided: Callable[[AgreementRegister, Any, str], None],
) -> Any:
    """The aggregate once this entry is applied to it (None: before its first entry), after
    the checks the command recording the entry made on the aggregate as it then stood, and
    on the agreement register as the entries before it left it (`register`): a restored
    store holds only what the commands could have recorded (SPEC §7)."""
    named = f"entry {event.originator_version} of {_named(aggregate, event)}"
    if aggregate is not None and _AGGREGATE_TOPICS[type(event)] is not None:
        raise InvalidInput(f"{named} opens the record again (only its first entry does)")
    # When it occurred, was recorded, signed, applied, claimed, ran: each from a clock, so
    # none after now.
    for name, value in vars(event).items():
        if isinstance(value, datetime):
            check_instant(value)
            if name != "timestamp" and in_the_future(value, now):  # (said below if it is)
                raise InvalidInput(f"{named} holds {iso(value)}, after now")
    if aggregate is not None and event.timestamp < aggregate.modified_on:
        raise InvalidInput(f"{named} is recorded before entry {aggregate.version}")
    if in_the_future(event.timestamp, now):
        raise InvalidInput(f"{named} is recorded at {iso(event.timestamp)}, after now")
    for kind, check in _DOMAIN_CHECKS:
        if isinstance(event, kind):
            check(aggregate, event)
    if aggregate is None:
        _check_own_id(event, named)
    if isinstance(event, Lead.Event):
        _check_stamp(register, aggregate, event, named)
    if isinstance(event, AgreementRegister.Event) and aggregate is not None:
        decided(aggregate, event, named)
    try:
        return event.mutate(aggregate)
    except Exception as error:  # a state the checks let through that its aggregate refuses
        raise ValueError(f"handoff cannot read this entry back ({error!r})") from None


# The checks each kind of entry passes before it is restored: those of the commands that
# record it (Notice entries are written by handoff alone, never from what a user types:
# their instants, fields and types are checked as every entry's are; a verification run's
# clauses, which the living document reads, are held to their shape).
_DOMAIN_CHECKS: tuple[tuple[type, Callable[[Any, Any], None]], ...] = (
    (Lead.Event, lead.check_entry),
    (TrafficDay.Event, traffic.check_entry),
    (AgreementRegister.Event, agreement_file.check_entry),
    (VerificationLog.Event, verification.check_entry),
)


def _check_own_id(event: Any, named: str) -> None:
    """A record's first entry is filed under the id its kind gives it (`create_id`: the
    register's and the verification log's are fixed, a notice's comes from what it is
    about; a lead's and a day's, from its key and its day, are checked with their entries):
    every command reads the record there, so another would stand beside it or in its place."""
    aggregate = _AGGREGATES[type(event)]
    if "create_id" not in vars(aggregate):
        return
    create_id: Callable[..., UUID] = getattr(aggregate, "create_id")  # noqa: B009
    made = create_id(**{name: getattr(event, name)
                        for name in inspect.signature(create_id).parameters})
    if made != event.originator_id:
        raise InvalidInput(f"{named} is filed under {event.originator_id.hex}, which is not its"
                           " own id")


def _check_stamp(
    register: AgreementRegister | None, lead: Lead | None, event: Lead.Event, named: str
) -> None:
    """The agreement version a lead's entry names had come into force before the entry was
    recorded, covers the day its step happened and has that name, and no version signed
    after it had replaced it for that day by then; and the step's actor (and a handoff's
    owner) are those its team lets record it, as the command's stamp checked
    (`AgreementRegister.stamp`; a correction's, for the step it corrects). An entry naming
    none is as a command records one when no agreement is in force (or none it knew of yet:
    another process's was being applied)."""
    number = event.agreement_version
    step, day, owner = _stamped(lead, event)
    if number is None and event.agreement is not None:
        raise InvalidInput(f"{named} names the agreement {event.agreement!r} without its version")
    # The version in force for its day, known for longer than a command takes, would have
    # stamped it, or one signed later still (`AgreementRegister.stamp`).
    known = None if register is None or step is None else register.in_force_at(
        day, as_of=event.timestamp - FUTURE_SKEW)
    if number is None:
        if known is not None:
            raise InvalidInput(
                f"{named} names no agreement, yet {known.name!r} (version {known.number}) was"
                " in force for it when it was recorded"
            )
        return
    version = next((v for v in register.versions if v.number == number), None) if register \
        else None
    if (version is None or version.name != event.agreement
            or not version.terms.covers_instant(day)):
        raise InvalidInput(
            f"{named} names the agreement {event.agreement!r} (version {number}), which was"
            " not in force for it when it was recorded"
        )
    if known is not None and known.number > number:
        raise InvalidInput(
            f"{named} names the agreement {event.agreement!r} (version {number}), which"
            f" version {known.number} had replaced for it when it was recorded"
        )
    if step is not None:
        version.check_team(step, event.actor, owner)


def _stamped(lead: Lead | None, event: Lead.Event) -> tuple[str | None, datetime, str | None]:
    """What an entry's stamp was given: the step it records or corrects (None: neither), the
    instant that step happened, which chose the agreement, and the owner it names (a
    correction's: `Lead.corrected_step`)."""
    if isinstance(event, Lead.MissedStep):
        return event.step, event.occurred_at, event.details.get("owner")
    if isinstance(event, Lead.Voided | Lead.Amended) and lead is not None:
        return lead.corrected_step(event.target, getattr(event, "changes", None))
    if isinstance(event, tuple(LIFECYCLE_EVENTS)):
        return LIFECYCLE_EVENTS[type(event)], event.occurred_at, getattr(event, "owner", None)
    return None, event.occurred_at, None


class _Decisions:
    """The agreement register's entries decided again by `sla apply` and `sla sign` on the
    register as the entries before them left it, with each entry's own inputs (who, when,
    which terms or version), and held to what those commands record
    (`AgreementRegister.apply` and `sign`): a version proposed or signed by someone its team
    does not let, or for another side, or put in force with other terms than both sides
    signed, is refused as the command refuses it. (The instants are the entry's own: the
    commands take them from the clock, and no rule orders a signature after its proposal.)
    `sla sign` records two entries, the signature and the version it puts in force: the one
    checked with the other. Versions put in force before signing existed have no number;
    they are restored as they were recorded then, and only before any numbered entry."""

    def __init__(self) -> None:
        self.numbered = False  # an entry with a version number was restored
        # The register before a signature that puts a version in force, the signature and
        # its line: the next entry of the register must be that version coming into force.
        self.signing: tuple[AgreementRegister, Any, int] | None = None

    def check(self, register: AgreementRegister, event: Any, named: str, line: int) -> None:
        kind = type(event).__name__
        if kind == "Opened":
            return
        if self.signing is not None:
            before, signed, _ = self.signing
            self.signing = None
            if kind != "VersionApplied":
                raise InvalidInput(f"{named} comes where version {signed.number}, signed by both"
                                   " sides, comes into force (sla sign records both)")
            before.sign(signed.number, signed.actor, signed.signed_at,
                        getattr(event, "restates", None))
            _same(before, before.collect_events()[1:], event, named, "sla sign")
            return
        if kind == "VersionApplied" and getattr(event, "number", None) is None:
            if self.numbered:
                raise InvalidInput(f"{named} puts a version in force without its number")
            return
        self.numbered = True
        decided = deepcopy(register)
        restates = getattr(event, "restates", None)
        if kind == "VersionSigned":
            decided.sign(event.number, event.actor, event.signed_at)
            made = decided.collect_events()
            if len(made) > 1:  # the signature that completes it: its version comes next
                self.signing = (deepcopy(register), event, line)
            _same(register, made[:1], event, named, "sla sign")
        elif kind == "VersionApplied":
            decided.apply(AgreementTerms(event.document), event.actor, event.applied_at, restates)
            _same(register, decided.collect_events(), event, named, "sla apply")
        elif kind == "VersionProposed":
            decided.apply(AgreementTerms(event.document), event.actor, event.proposed_at,
                          restates)
            _same(register, decided.collect_events(), event, named, "sla apply")

    def unfinished(self) -> tuple[int, str] | None:
        """The line of a signature whose version never came into force, and why it is refused."""
        if self.signing is None:
            return None
        _, signed, line = self.signing
        return line, (f"version {signed.number} is signed by both sides, yet the backup never"
                      " puts it in force (sla sign records both)")


# What each field of an agreement entry says, to name what differs.
_FIELD_WORDS = {
    "document": "the terms", "actor": "who made it", "side": "the side",
    "number": "the version number", "team": "the team", "restates": "the reason for restating",
    "proposed_at": "the instant", "signed_at": "the instant", "applied_at": "the instant",
    "originator_version": "the entry number",
}


def _same(register: AgreementRegister, made: Sequence[Any], event: Any, named: str,
          command: str) -> None:
    """Refuse the entry unless it is the one event the command made (its timestamp aside)."""
    kind = type(event).__name__
    if not made:
        existing = register.identical_to(AgreementTerms(event.document))
        number = f" as version {existing.number}" if existing is not None else ""
        raise InvalidInput(f"{named} records terms already recorded{number}, which {command}"
                           " records once")
    if type(made[0]) is not type(event):
        if kind == "VersionApplied":
            raise InvalidInput(f"{named} puts a version in force at once, where its team must"
                               f" sign it first ({command} only proposes it)")
        raise InvalidInput(f"{named} proposes a version that no team binds ({command} puts it"
                           " in force at once)")
    differ = dict.fromkeys(
        _FIELD_WORDS.get(name, name)
        for name in sorted({*vars(made[0]), *vars(event)} - {"timestamp"})
        if getattr(made[0], name, None) != getattr(event, name, None)
    )
    if differ:
        raise InvalidInput(f"{named} is not what {command} records: it differs in"
                           f" {', '.join(differ)}")


def _check_forgetting(lead: Lead, event: Any, digests: set[str]) -> None:
    """A forgetting as `lead forget` records it (`lead` once it is applied): the person's
    details erased from every entry before it (`steps.erase_person`: a backup holding them
    again was edited, and restoring it would bring the person back); each entry it names as
    erased ([its position, its digest once erased]) one of the lead's entries before it, as
    the backup holds them (`audit verify` takes an entry that reads so for an erasure, not an
    edit, so any other digest would let a later edit of the restored log pass for one); and
    something left to erase when the lead was forgotten already (`Lead.check_forget`)."""
    named = _named(lead, event)
    for n, entry in enumerate(lead.entries, start=1):
        if isinstance(entry, Lead.Captured):
            held = [getattr(entry, field) for field in PERSONAL_FIELDS]
        elif isinstance(entry, Lead.Amended):
            held = [entry.changes.get(field) for field in PERSONAL_DATA]
        else:
            continue
        if any(value is not None for value in held):
            raise InvalidInput(
                f"{named} is forgotten, yet its entry {n} still holds the person's details"
            )
    for erased in event.erased:
        if not (isinstance(erased, list) and len(erased) == 2 and type(erased[0]) is int
                and erased[0] > 0 and erased[1] in digests):
            raise InvalidInput(f"{named} is forgotten with an erasure that is none of its"
                               " entries")
    before = [item for entry in lead.entries[:-1] if isinstance(entry, Lead.Forgotten)
              for item in entry.erased]
    if before and all(item in before for item in event.erased):
        raise InvalidInput(f"{named} was forgotten already")


def _named(aggregate: Any, event: Any) -> str:
    """The record an entry belongs to, in words, as the entries so far left it."""
    return _record_named(type(event), partial(getattr, aggregate or event))


def _record_named(kind: type, field: Callable[[str, Any], Any]) -> str:
    """The record an entry of this kind belongs to, in words, from its fields as `field`
    gives them (its text cut short: a message quotes it)."""
    def quoted(name: str) -> str:
        return shortened(str(field(name, "?")), 60)

    if issubclass(kind, Lead.Event):
        return f"lead {quoted('key')!r}"
    if issubclass(kind, TrafficDay.Event):
        return f"the traffic of {quoted('day')}"
    if issubclass(kind, AgreementRegister.Event):
        return "the agreement register"
    if issubclass(kind, VerificationLog.Event):
        return "the verification log"
    return f"the notice {quoted('subject')!r}"


def _check_fields(event: Any) -> None:
    """Every field of the event is one its class declares, of the declared type: a state
    edited by hand (a number for a text, a field too many or too few) is not restored, so
    that nothing restored can break a later read."""
    _check_library_fields(event)
    hints = _hints(type(event))
    fields = {k: v for k, v in vars(event).items() if k not in eventstore.LIBRARY_FIELDS}
    unknown = sorted(set(fields) - set(hints))
    if unknown:
        raise ValueError(f"handoff cannot read this entry back (unknown field {unknown[0]!r})")
    for name, hint in hints.items():
        if name not in fields:
            # Read as its method's default, where one declares it (a field added since);
            # else as nothing at all, which no command could read.
            if not (_optional(hint) and eventstore.fills_defaults(type(event))):
                raise ValueError(f"handoff cannot read this entry back ({name} is missing)")
            continue
        if not _conforms(fields[name], hint):
            raise ValueError(
                f"handoff cannot read this entry back ({name} is {fields[name]!r})"
            )


def _check_library_fields(event: Any) -> None:
    """The fields the library gives every entry: when it was recorded, and on the first
    entry of a lead, a day or the register the class the library builds it from, which must
    be that one's own: a topic names a class to load, so no other is ever followed."""
    state = vars(event)
    if not isinstance(state.get("timestamp"), datetime):
        said = "missing" if "timestamp" not in state else repr(state["timestamp"])
        raise ValueError(f"handoff cannot read this entry back (timestamp is {said})")
    own = _AGGREGATE_TOPICS[type(event)]
    if own is None and "originator_topic" in state:
        raise ValueError("handoff cannot read this entry back (unknown field 'originator_topic')")
    if own is not None and state.get("originator_topic") != own:
        said = repr(state["originator_topic"]) if "originator_topic" in state else "missing"
        raise ValueError(f"handoff cannot read this entry back (originator_topic is {said})")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The fields an event class declares (its own and its business base's), with types."""
    if cls not in _HINTS:
        _HINTS[cls] = {
            name: hint
            for name, hint in typing.get_type_hints(cls).items()
            if name not in eventstore.LIBRARY_FIELDS
            and typing.get_origin(hint) is not typing.ClassVar
            and not isinstance(hint, typing.TypeVar)
        }
    return _HINTS[cls]


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def _conforms(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_conforms(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is not None:  # list[...], dict[...]: the container's kind is what is checked
        return isinstance(value, origin)
    if hint is int:
        return type(value) is int
    if hint is float:
        return type(value) in (int, float)
    return isinstance(value, hint) if isinstance(hint, type) else True


_ENTRY_KEYS = frozenset({"originator_id", "originator_version", "class_version"})


def _entry(number: int, line: str, encode: Any) -> _Entry:
    value = json_value(line)
    if not isinstance(value, dict) or set(value) != {"n", "id", "v", "topic", "state"}:
        raise ValueError("not an entry of a handoff backup")
    topic, state, version = value["topic"], value["state"], value["v"]
    if topic not in KNOWN_TOPICS:
        raise ValueError(f"an unknown kind of entry: {topic!r}")
    if not isinstance(state, dict):
        raise ValueError("an entry's state must be a JSON object")
    if type(version) is not int or version < 1:
        raise ValueError(f"an entry number must be a positive whole number, not {version!r}")
    if type(value["n"]) is not int or value["n"] < FIRST_N:
        raise ValueError(f"a position must be a positive whole number, not {value['n']!r}")
    held = sorted(_ENTRY_KEYS.intersection(state))
    if held:  # the library takes them from the entry, never from its state
        raise ValueError(f"handoff cannot read this entry back (unknown field {held[0]!r})")
    try:
        plain = encode(state)
    except UnicodeEncodeError:
        raise ValueError("it holds a text that is not valid Unicode (a lone surrogate)") from None
    try:
        originator = UUID(hex=str(value["id"]))
    except ValueError:
        raise ValueError(f"not an entry id: {value['id']!r}") from None
    return _Entry(number, originator, version, topic, plain)
