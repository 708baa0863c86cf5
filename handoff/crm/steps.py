"""What every CRM import shares: steps read from an export with the line that says each,
the order of a lead's steps, the stages a CRM skips, and the rows handed to the importer."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from handoff import switches
from handoff.application import HandoffApp
from handoff.domain.agreement import SALES_EVENTS
from handoff.domain.errors import InvalidInput, Refused
from handoff.domain.lead import Lead, check_amount
from handoff.domain.steps import (
    ALLOWED_FROM,
    EVENT_NAMES,
    FINAL_STATES,
    PERSONAL_DATA,
    state_after,
    transition_refusal,
)
from handoff.importer import (
    Importer,
    ImportReport,
    MalformedFile,
    Row,
    is_blank,
    lead_ids,
    named_twice,
    refuse_other_separators,
)
from handoff.inputs import CannotRead, open_text
from handoff.instants import iso, parse_amount, parse_instant

ZoneForDay = Callable[[date], ZoneInfo]

# Ties in the same second: a lead's steps at one instant follow the lifecycle's order.
LIFECYCLE_ORDER = {name: rank for rank, name in enumerate(EVENT_NAMES)}
# A CRM's signal that the lead was closed without a sale: a rejection while sales decides
# on the handoff, a lost deal once sales accepted it, nothing while marketing still has it.
CLOSED = "closed"
# A closing after a win contradicts it: as a loss, the lifecycle refuses it with its line.
_CLOSED_AS = {"handed": "rejected", "accepted": "lost", "proposal": "lost", "won": "lost"}
# The stage just before each one on the lifecycle's main path, for the stages a CRM skips.
_BEFORE = {
    "qualified": "captured", "handed": "qualified", "accepted": "handed",
    "rejected": "handed", "contacted": "handed", "proposal": "accepted",
    "won": "proposal", "lost": "accepted",
}


@dataclass(frozen=True)
class Origin:
    """Where a step was read: the file and its line (a CSV line, counted from 1)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}: line {self.line}"


@dataclass(frozen=True)
class Step:
    """One step of a lead as a CRM says it, in handoff's words and import columns.

    `reached` marks a CRM's signal that a stage was reached (a status set, an owner
    changed, a stage it skipped and handoff fills in): when the lead is past that stage
    already, in the export or in the store (a later export), the signal adds nothing and
    is dropped. Every other step is a fact the import must record or refuse.
    """

    key: str
    event: str
    at: datetime
    origin: Origin
    data: Mapping[str, str] = field(default_factory=dict)
    reached: bool = False
    # Its instant is not when it happened, only a bound (HubSpot dates a status by the
    # contact's last activity, which moves): the same closing, later, is no new one.
    undated: bool = False


@dataclass(frozen=True)
class CrmError:
    origin: Origin
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass
class Reading:
    """What a CRM's export says in handoff's steps, what it could not map, what it left out."""

    crm: str
    records: int = 0  # contacts or leads read
    steps: list[Step] = field(default_factory=list)
    errors: list[CrmError] = field(default_factory=list)
    failed_keys: set[str] = field(default_factory=set)  # leads with a row that cannot be mapped
    owners: dict[str, str] = field(default_factory=dict)  # whom a skipped handoff was made to
    left_out: dict[str, int] = field(default_factory=dict)  # why -> how many, in words
    filled: int = 0  # stages the CRM skipped, recorded at the next stage's instant

    def refuse(self, origin: Origin, reason: str, key: str | None = None) -> None:
        self.errors.append(CrmError(origin, reason))
        if key is not None:
            self.failed_keys.add(key)

    def leave_out(self, why: str, count: int = 1) -> None:
        self.left_out[why] = self.left_out.get(why, 0) + count


# -- reading an export ------------------------------------------------------------------


def read_table(
    path: Path, text: str | None = None, keep: Collection[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV export's header (names folded to lower case) and rows with their line numbers
    (the file's text, or `text` when given, named by `path`), each row holding the columns
    named in `keep` only (an export of every property has hundreds). The file is read as a
    stream: only the kept cells stay in memory.

    CRMs write cells that span lines (notes, addresses): a row's line is the line it starts on.
    """
    try:
        with (
            io.StringIO(text, newline="") if text is not None else open_text(path)
        ) as stream, switches.cells_of_any_length():
            lines = _refuse_other_separators(path, stream)
            return _read_rows(path, lines, {name.casefold() for name in keep})
    except CannotRead as error:
        raise MalformedFile(str(error)) from None


def _refuse_other_separators(path: Path, stream: TextIO) -> Iterator[str]:
    """`refuse_other_separators`, on the export's first line; the export's lines, that one
    first (read once: a pipe, `/dev/stdin`, cannot be read again from its start)."""
    first_line = stream.readline()
    if not first_line:  # a download that failed, say: no header to read
        raise MalformedFile(f"{path}: the file is empty: it needs a header line")
    try:
        refuse_other_separators(first_line)
    except MalformedFile as error:
        raise MalformedFile(f"{path}: {error}") from None
    return itertools.chain([first_line], stream)


def _read_rows(
    path: Path, lines: Iterable[str], kept: set[str]
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    reader = csv.reader(lines, strict=True)
    try:
        header = [name.strip().casefold() for name in next(reader)]
    except StopIteration:
        raise MalformedFile(f"{path}: the file is empty: it needs a header line") from None
    except csv.Error as error:
        raise MalformedFile(f"{path}: line 1: {error}") from None
    if not any(header):  # a blank first line
        raise MalformedFile(f"{path}: line 1: the header line is empty: the export begins "
                            "with its column names")
    wanted = [(n, name) for n, name in enumerate(header) if name in kept]
    names = [name for _, name in wanted]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:  # which of the two holds the contact's? The export does not say
        raise MalformedFile(f"{path}: line 1: {named_twice(twice)}")
    rows: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num + 1
    try:
        for values in reader:
            if not is_blank(values):
                rows.append((line, {name: values[n] for n, name in wanted if n < len(values)}))
            line = reader.line_num + 1
    except csv.Error as error:
        reason = "a quote is never closed" if "end of data" in str(error) else str(error)
        raise MalformedFile(f"{path}: line {line}: {reason}") from None
    return header, rows


def column(header: Iterable[str], *names: str) -> str | None:
    """The first of `names` (any case) that the header has."""
    present = set(header)
    return next((name.casefold() for name in names if name.casefold() in present), None)


_HAS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")
_DATE_ALONE = re.compile(r"\d{4}-\d{2}-\d{2}$")
_YEAR_FIRST = re.compile(r"\d{4}\D")


def read_instant(text: str, zone_for_day: ZoneForDay, what: str) -> datetime:
    """An instant as a CRM exports it (ISO-8601, `2026-03-02 09:15` or with T, seconds,
    fractions, an offset or Z); without an offset, local to the agreement in force that day.
    A date alone cannot time a handoff, so it is refused."""
    cleaned = text.strip()
    if not _HAS_TIME.match(cleaned):
        # A date alone lacks its time; anything else (`03/03/2026 10:00 AM`, as a
        # spreadsheet saves a CRM's file) has one, in an order that is not the CRM's.
        if _DATE_ALONE.match(cleaned):
            hint = "export it with its time"
        elif _YEAR_FIRST.match(cleaned):  # `2026/03/02 09:15`: a spreadsheet's own format
            hint = "write it in that form, as the CRM exports it"
        else:
            hint = "write it year first, as the CRM exports it"
        raise Refused(
            f"{what} {text!r} is not a date and time (like 2026-03-02 09:15 or "
            f"2026-03-02T15:15:00.000Z): {hint}"
        )
    try:
        return parse_instant(cleaned, zone_for_day)
    except InvalidInput as error:  # which of the export's date columns: it has a dozen
        raise InvalidInput(f"{what}: {error}") from None


def read_amount(text: str, what: str) -> Decimal:
    """An amount as a CRM exports it (24000, 18000.50), checked as a step's amount is; a
    refusal names the column it came from (`what`), as `read_instant`'s does."""
    try:
        amount = parse_amount(text)
        check_amount(amount)
    except InvalidInput as error:  # which of the export's amount columns: it has several
        raise InvalidInput(f"{what}: {error}") from None
    return amount


# -- from steps to the importer's rows ----------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What the store holds of a lead, which a later export is walked beside
    (`in_lifecycle_order`): its steps as they now read, in the order they happened, each
    (step, instant, its owner if a handoff); and every step it ever recorded, as first
    recorded, voided ones too (step, instant, reason if a closing); and the details its
    capture now reads with (source, name, e-mail, company), None once the person was
    forgotten."""

    steps: list[tuple[str, datetime, str | None]]
    ever: list[tuple[str, datetime, str | None]]
    details: Mapping[str, str | None] | None = None


NOTHING_RECORDED = Recorded([], [])
# A later export's contact details that differ from those recorded: the CRM's today, not a
# correction of the record (which `lead amend` makes, with its reason).
DETAILS_KEPT = ("contact details changed in the CRM since the lead was captured (the "
                "recorded ones stand; lead amend corrects them)")
# A status closing a lead while marketing had it (never handed, or HubSpot's dated by a
# last activity before the owner's assignment): neither a rejection nor a loss, no step.
CLOSED_BY_MARKETING = "statuses closing a lead marketing still had (no rejection)"
_CLOSINGS = frozenset({"rejected", "lost"})
_DETAILS = ("source", *PERSONAL_DATA)


def in_lifecycle_order(
    reading: Reading, stored: Mapping[str, Recorded] | None = None
) -> list[Step]:
    """Every lead's steps in time order, ties broken by the lifecycle, closings resolved,
    stages the CRM skipped filled in, and signals of stages already passed dropped: passed
    in the export, or in what the store holds of the lead (`stored`, by key: a later
    export of the CRM, which may say less than the earlier one did).

    Leads follow each other by key; the importer applies the rows of each in this order.
    """
    by_lead: dict[str, list[Step]] = {}
    for step in reading.steps:
        if step.key not in reading.failed_keys:
            by_lead.setdefault(step.key, []).append(step)
    ordered: list[Step] = []
    for key in sorted(by_lead):
        steps = sorted(
            by_lead[key],
            key=lambda s: (s.at, LIFECYCLE_ORDER.get(s.event, len(LIFECYCLE_ORDER)),
                           s.origin.file, s.origin.line),
        )
        ordered.extend(_walk(steps, reading, (stored or {}).get(key, NOTHING_RECORDED)))
    return ordered


def _walk(steps: list[Step], reading: Reading, recorded: Recorded) -> list[Step]:
    """The lead's steps, each of sales in the name of the owner it was handed to: the CRM
    does not say who recorded a stage, and the agreement's team lets only sales record them.
    """
    walked: list[Step] = []
    for step, owner in _in_force(steps, reading, recorded):
        if step.event in SALES_EVENTS and owner:
            step = replace(step, data={**step.data, "actor": owner})
        walked.append(step)
    return walked


def _in_force(
    steps: list[Step], reading: Reading, recorded: Recorded
) -> Iterator[tuple[Step, str | None]]:
    """The lead's steps as the lifecycle takes them, each with the owner the lead was
    handed to by then: closings resolved, skipped stages filled in, signals of stages
    already passed dropped. What the store holds of the lead (`recorded`) resolves a
    closing and names the owner where it went further, by then, than the export; a signal
    the store holds already (at this instant or a later one; a closing for the same
    reason, even voided since) or of a stage the lead is past by then adds nothing."""
    state: str | None = None  # the export's, as walked, and since when
    state_at: datetime | None = None
    owner: tuple[datetime, str | None] | None = None  # the latest handoff: when, to whom
    contacted_at: datetime | None = None  # the latest contact, the export's or the store's
    held = iter(recorded.steps)
    upcoming = next(held, None)
    in_store: str | None = None  # the store's, by the step's instant, and since when
    in_store_at: datetime | None = None
    for step in steps:
        if step.event == "captured" and any(name == "captured" for name, _, _ in recorded.ever):
            # The store holds the lead: its capture as the CRM reads it today (an e-mail
            # changed since, a lead date set again) adds nothing and refuses nothing.
            if recorded.details is not None and any(
                (step.data.get(f) or None) != recorded.details.get(f) for f in _DETAILS
            ):
                reading.leave_out(DETAILS_KEPT)
            continue
        while upcoming is not None and upcoming[1] <= step.at:  # the store's, by then
            name, in_store_at, handed_to = upcoming
            in_store = state_after(in_store or name, name)
            if name == "handed" and (owner is None or in_store_at > owner[0]):
                owner = (in_store_at, handed_to)
            if name == "contacted":
                contacted_at = max(in_store_at, contacted_at or in_store_at)
            upcoming = next(held, None)
        # Whichever moved last: the store (a step recorded in handoff itself, say) or the
        # export (a lead the CRM recycled since).
        now = in_store if in_store_at is not None and (
            state_at is None or in_store_at > state_at) else state
        if step.event == CLOSED:
            closed_as = _CLOSED_AS.get(now or "")
            if closed_as is None:  # closed while marketing still had it, or closed already
                if now in (None, "captured", "qualified"):
                    reading.leave_out(CLOSED_BY_MARKETING)
                continue
            step = replace(step, event=closed_as)
        missing = None if now is None or step.event == "captured" else _missing(
            now, step.event)
        if step.reached and (
            (missing is None and _passed(now, step.event)) or _holds(recorded, step)
            or (step.event == "contacted" and _contacted_since(owner, contacted_at))
        ):
            # Past that stage already, in the export or the store (a later export): the
            # lead stays where it was.
            state, state_at = now, step.at
            continue
        for stage in missing or ():
            if stage == "handed" and not reading.owners.get(step.key):
                reading.refuse(
                    step.origin,
                    f"{step.event} at {iso(step.at)} needs a handoff to sales first, and "
                    "the export names no owner it was handed to",
                )
                return
            filled = _filled(stage, step, reading)
            if stage == "handed":
                owner = (filled.at, filled.data.get("owner"))
            yield filled, None if owner is None else owner[1]
            reading.filled += 1
        if step.event == "handed":
            owner = (step.at, step.data.get("owner"))
        elif step.event == "contacted":
            contacted_at = step.at
        yield step, None if owner is None else owner[1]
        state, state_at = state_after(now or step.event, step.event), step.at


def _holds(recorded: Recorded, step: Step) -> bool:
    """Whether the store holds this step already, at this instant or a later one; an
    undated closing, if it ever recorded a closing for the same reason, at any instant,
    even voided since (the status the CRM still shows)."""
    if step.undated and step.event in _CLOSINGS:
        reason = step.data.get("reason")
        return any(name in _CLOSINGS and said == reason for name, _, said in recorded.ever)
    return any(name == step.event and at >= step.at for name, at, _ in recorded.steps)


def _contacted_since(
    owner: tuple[datetime, str | None] | None, contacted_at: datetime | None
) -> bool:
    """Whether the lead was contacted since its latest handoff: a status saying so again
    (a second Working - Contacted) is no new call; handed again, a lead's first one is."""
    return owner is not None and contacted_at is not None and contacted_at >= owner[0]


def _passed(state: str | None, event: str) -> bool:
    """Whether a lead in this state is past the stage `event` reaches: the lifecycle takes
    no such step from there, and the state comes no earlier in it (a lead handed again after
    a rejection is not past its handoff); a deal lost is not past its win, nor won past its
    loss: that contradiction is the lifecycle's to refuse."""
    return (
        state is not None
        and transition_refusal("", state, event) is not None
        and LIFECYCLE_ORDER[state] >= LIFECYCLE_ORDER[event]
        and not (state in FINAL_STATES and event in FINAL_STATES and state != event)
    )


def _missing(state: str, event: str) -> list[str] | None:
    """The stages to pass between `state` and `event`, or None when none lead there."""
    if state in ALLOWED_FROM[event]:
        return []
    if state in FINAL_STATES:
        return None
    before = _BEFORE[event]
    if before == "captured":
        return None
    path = _missing(state, before)
    return None if path is None else [*path, before]


def _filled(stage: str, step: Step, reading: Reading) -> Step:
    """A stage the CRM skipped, recorded at the instant of the next stage it dates."""
    data: dict[str, str] = {}
    if stage == "handed":
        owner = reading.owners.get(step.key)
        if owner:
            data["owner"] = owner
    elif stage == "proposal" and step.data.get("amount"):
        data["amount"] = step.data["amount"]
    return Step(step.key, stage, step.at, step.origin, data, reached=True)


def as_rows(steps: list[Step]) -> list[Row]:
    """The import rows of the steps; a row's line is its place in `steps`, counted from 1."""
    rows: list[Row] = []
    for n, step in enumerate(steps, 1):
        row = {"lead": step.key, "event": step.event, "at": iso(step.at) or ""}
        row.update((name, value) for name, value in step.data.items() if value)
        rows.append((n, row))
    return rows


def _recorded_of(importer: Importer, reading: Reading) -> dict[str, Recorded]:
    """What the store holds of the leads the export names (`Recorded`, by key), read by
    the importer that checks their steps next (which reads each lead once)."""
    ids = lead_ids(step.key for step in reading.steps)
    found = importer.look_up(list(ids.values()))
    return {
        key: Recorded(
            [(fact.name, fact.occurred_at, fact.data.get("owner")) for fact in lead.facts()],
            [(entry.event, entry.occurred_at, entry.data.get("reason")) for entry in lead.steps],
            _details(lead),
        )
        for key, aggregate_id in ids.items()
        if (lead := found.get(aggregate_id)) is not None
    }


def _details(lead: Lead) -> dict[str, str | None] | None:
    """The details the lead's capture now reads with; None once its person was forgotten."""
    if lead.forgotten is not None:
        return None
    captured = next((fact for fact in lead.facts() if fact.name == "captured"), None)
    return None if captured is None else {f: captured.data.get(f) for f in _DETAILS}


@dataclass
class CrmImport:
    """The outcome: the importer's report, and every refusal named by file and line."""

    reading: Reading
    report: ImportReport
    errors: list[CrmError]

    @property
    def ok(self) -> bool:
        return not self.errors


def import_reading(
    app: HandoffApp, actor: str, reading: Reading, dry_run: bool = False,
    importer: Importer | None = None,
) -> CrmImport:
    """Hand the reading's steps to the importer (`importer`, made for `app` and `actor`
    when not given); nothing is written when any row is bad.

    A lead's first refusal is reported; its later steps depend on it and are not reported.
    """
    importer = importer or Importer(app, actor)
    steps = in_lifecycle_order(reading, _recorded_of(importer, reading))
    report = importer.run(as_rows(steps), dry_run=dry_run or bool(reading.errors))
    # Counted as the export says them, whatever the store held (a later export's signals
    # of stages passed since are skipped, as the rows recorded already are).
    said = Reading(reading.crm, steps=reading.steps, failed_keys=set(reading.failed_keys),
                   owners=reading.owners)
    report.rows = max(len(in_lifecycle_order(said)), len(steps))
    report.skipped = report.rows - report.recorded - len(report.errors)
    report.dry_run = dry_run
    errors = list(reading.errors)
    failed: set[str] = set()
    for error in report.errors:
        step = steps[error.line - 1]
        if step.key not in failed:
            failed.add(step.key)
            errors.append(CrmError(step.origin, error.reason))
    errors.sort(key=lambda e: (e.origin.file, e.origin.line))
    return CrmImport(reading, report, errors)
