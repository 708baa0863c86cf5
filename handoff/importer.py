"""Import a CSV of lead events and traffic (SPEC §8): check the whole file, then write it."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from handoff import switches
from handoff.application import HandoffApp, apply_step
from handoff.domain.agreement import AgreementRegister
from handoff.domain.bounds import check_actor, json_value, whole_number
from handoff.domain.errors import (
    ConcurrentChange,
    InvalidInput,
    LeadExists,
    MissedStepRefused,
    Refused,
    TimeRefused,
    UnknownLead,
    Wording,
)
from handoff.domain.lead import (
    STEP_EVENTS,
    Journey,
    Lead,
    captured_attributes,
    check_capture,
    check_step,
    given,
    quoted,
)
from handoff.domain.steps import EVENT_NAMES, PERSONAL_DATA, Fact, Stamp, lead_id
from handoff.domain.traffic import TrafficDay, traffic_day_id
from handoff.eventstore import Ahead, EncodedRow, Unbuilt
from handoff.instants import parse_amount, parse_day, parse_instant
from handoff.spreadsheet import restored
from handoff.switches import no_cyclic_gc as no_cyclic_gc  # re-exported (cli, benchmarks)

if TYPE_CHECKING:
    from handoff import import_halves

COLUMNS = (
    "lead", "event", "at", "actor", "source", "name", "email", "company",
    "score", "owner", "reason", "channel", "amount", "visits",
)
REQUIRED_COLUMNS = ("lead", "event", "at")
DATA_COLUMNS = {
    "captured": ("source", "name", "email", "company"),
    "qualified": ("score",),
    "handed": ("owner",),
    "accepted": (),
    "rejected": ("reason",),
    "contacted": ("channel",),
    "proposal": ("amount",),
    "won": ("amount",),
    "lost": ("reason",),
}


class MalformedFile(Refused):
    """The file cannot be read as an import file at all (encoding, header)."""


class UnknownColumns(MalformedFile):
    """A header naming columns handoff's CSV does not have: its names kept (`header`), so
    that the command can say when they are a CRM's export (`crm.export_named_by`)."""

    def __init__(self, message: str, header: list[str]) -> None:
        super().__init__(message)
        self.header = header


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    rows: int = 0
    recorded: int = 0
    skipped: int = 0
    leads: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    # The forgotten leads whose person the file still names (skipped, never written back):
    # the person is still where the file came from, to be erased there too.
    forgotten: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def writes(self) -> bool:
        """Whether the import writes what it found: every row good, and not a dry run."""
        return self.ok and not self.dry_run


Row = tuple[int, dict[str, str]]


class ImportProgress(Protocol):
    """What a long import tells a person watching: rows checked, then events written."""

    def checking(self, rows: Sequence[Row]) -> Iterable[Row]: ...

    def writing(self, events: int) -> None: ...


class _Quiet:
    def checking(self, rows: Sequence[Row]) -> Iterable[Row]:
        return rows

    def writing(self, events: int) -> None:
        pass


# The columns whose cells may span lines; in any other, a line break means a stray quote.
MULTILINE_COLUMNS = frozenset({"reason"})
# Cells read as they are written (a key, a name); the others are parsed and may be padded.
TEXT_COLUMNS = frozenset(
    {"lead", "actor", "source", "name", "email", "company", "owner", "reason", "channel"}
)
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
# Excel's first line naming the separator (`sep=,`), which some tools write before the header.
_SEPARATOR_HINT = re.compile(r"sep=.", re.IGNORECASE)


# Which of a file's rows a reader keeps (`import_halves`): all of them when not given.
Keep = Callable[[dict[str, str]], bool]


class Reader(Protocol):
    """`read_rows` or `read_jsonl_rows`."""

    def __call__(self, text: str, keep: Keep | None = None) -> list[Row]: ...


def named_twice(column: str) -> str:
    """The refusal of a header naming a column twice (its names read in any letter case)."""
    return (f"the column {column!r} is named twice (in any letter case): the import cannot"
            " tell which one to read")


def read_rows(text: str, keep: Keep | None = None) -> list[Row]:
    """The rows with their line numbers (those `keep` keeps); refuses a header with unknown
    or missing columns.

    Text cells are kept exactly as written, as the command line keeps what it is given (a
    cell neutralised by `export` against spreadsheet formulas reads back as recorded).
    """
    end = text.find("\n")  # the first line, without copying the rest of a large file
    refuse_other_separators(text if end < 0 else text[:end])
    with switches.cells_of_any_length():
        return _read_rows(csv.reader(io.StringIO(text, newline=""), strict=True), keep)


def _read_rows(reader: Any, keep: Keep | None) -> list[Row]:
    try:
        # Named in any letter case, as a spreadsheet's headings are typed (`Lead,Event`).
        header = [name.lower() if name.lower() in COLUMNS else name
                  for name in (h.strip() for h in next(reader))]
    except StopIteration:
        raise MalformedFile("the file is empty: it needs a header line") from None
    except csv.Error as error:
        raise MalformedFile(f"line 1: {error}") from None
    if not any(header):  # a blank first line (a file of blank lines, a header after them)
        raise MalformedFile(
            f"line 1: the header line is empty: the file begins with its columns"
            f" ({','.join(COLUMNS)})"
        )
    unknown = [h for h in header if h not in COLUMNS]
    if "" in unknown:  # a column once filled, then cleared: a spreadsheet still saves it
        raise UnknownColumns(
            f"line 1: column {header.index('') + 1} has no name (a blank cell in the header "
            f"row): delete that column, or name it as one of {','.join(COLUMNS)}",
            header,
        )
    if unknown:
        raise UnknownColumns(
            f"line 1: unknown column {unknown[0]!r} (the columns are {','.join(COLUMNS)})",
            header,
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise MalformedFile(f"line 1: missing column {missing[0]!r}")
    twice = next((name for name in header if header.count(name) > 1), None)
    if twice is not None:
        raise MalformedFile(f"line 1: {named_twice(twice)}")
    rows: list[Row] = []
    width = len(header)
    line = reader.line_num + 1
    try:
        for values in reader:
            if is_blank(values):
                line = reader.line_num + 1
                continue
            if len(values) != width:
                cells = {_BAD_ROW: f"{len(values)} fields, header has {width}"}
            else:
                cells = _cells(header, values)
            if keep is None or keep(cells):
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        reason = "a quote is never closed" if "end of data" in str(error) else str(error)
        raise MalformedFile(f"line {line}: {reason}") from None
    return rows


# How a file records a step it dates before its lead's later ones.
_IN_FILE_ORDER = (
    "a file's rows are applied in their order: put this row before the lead's later ones"
    " (a step missed and logged late is recorded by its lead command, with --why)"
)

_BAD_ROW = "__bad__"  # a row that could not be read into cells, with the reason


def _cells(header: list[str], values: list[str]) -> dict[str, str]:
    """The filled cells of one row (only those: a large file's rows stay small in memory)."""
    cells: dict[str, str] = {}
    for column, value in zip(header, values, strict=True):
        if not value:
            continue
        if column in TEXT_COLUMNS:
            if value[0] == "'":  # only such a cell can have been neutralised
                value = restored(value)
            if ("\n" in value or "\r" in value) and column not in MULTILINE_COLUMNS:
                return {_BAD_ROW: f"a line break inside {column} (a stray quote?)"}
        else:
            value = value.strip()
            if not value:  # a number padded with spaces is the number; spaces alone, none
                continue
        cells[column] = value
    return cells


def refuse_other_separators(first_line: str) -> None:
    """A header line holding no comma but another separator (Excel saves CSV with `;` where
    the decimal point is a comma), quoted or not, is refused as such: read as one column,
    it said a column was missing, or that a quote was wrong. So is Excel's note of the
    separator (`sep=,`) in the header's place: it was told its second column had no name."""
    if _SEPARATOR_HINT.fullmatch(first_line.strip()):
        raise MalformedFile(
            f"line 1: {first_line.strip()!r} is a spreadsheet's note of the separator, not the"
            " header: delete that line (the file begins with its columns)")
    if "," in first_line:
        return
    for separator, name in _SEPARATORS.items():
        if separator in first_line:
            raise MalformedFile(
                f"line 1: the file is separated by {name}; handoff reads comma-separated "
                "files (save it as CSV with commas)"
            )


def is_blank(values: Sequence[str]) -> bool:
    """A row of empty cells (Excel writes `,,,,` for a row it once held): no row at all."""
    if values and values[0].strip():  # the usual row, told at once (its first cell filled)
        return False
    return not any(value.strip() for value in values)


class NewLead:
    """A lead this file captures, recorded from its rows without building its events: the
    lifecycle's guards check each step against its `Journey`, and its events are written
    as the library would write them (`eventstore.Unbuilt`). The steps of a lead the
    store holds are applied to the `Lead` itself."""

    __slots__ = ("events", "id", "journey", "recorded", "version")

    def __init__(self, aggregate_id: UUID, key: str, captured_at: datetime) -> None:
        self.id = aggregate_id
        self.events: list[Unbuilt] = []  # not collected yet
        self.version = 0
        # Each step's data by its business name and instant (`Lead.steps_at`): one at
        # most, as a row naming a recorded one is skipped or refused; in the order
        # recorded, which its journey places a step dated earlier among.
        self.recorded: dict[tuple[str, datetime], dict[str, Any]] = {}
        self.journey = Journey(key, captured_at, self.recorded)

    def add(self, event_name: str, occurred_at: datetime, attributes: dict[str, Any],
            data: dict[str, Any]) -> None:
        self.version += 1
        self.events.append(Unbuilt(Lead, STEP_EVENTS[event_name], self.id, self.version,
                                   attributes))
        self.recorded[event_name, occurred_at] = data

    def steps_at(self, event_name: str, occurred_at: datetime) -> list[Fact]:
        """`Lead.steps_at`: the step of this name at this instant, if any."""
        found = self.recorded.get((event_name, occurred_at))
        if found is None:
            return []
        return [Fact(0, event_name, occurred_at, occurred_at, found)]

    def collect_events(self) -> list[Unbuilt]:
        """Its events not collected yet, as an aggregate's (each written once)."""
        events, self.events = self.events, []
        return events


class Importer:
    """Applies rows in file order to leads held in memory, then saves them in one transaction.

    `describe_new_leads` (the default): the leads the file captures are recorded as
    `NewLead`s, under the same rules, rather than as `Lead`s (whose events cost more to
    build than to check and write); False applies every row to a `Lead`.
    """

    def __init__(
        self, app: HandoffApp, actor: str, describe_new_leads: bool = True,
        wording: Wording | None = None,
    ) -> None:
        self.app = app
        # How a refusal words the instants it names (`Refused.worded`): as the command shows
        # instants; None, in ISO-8601.
        self.wording = wording
        self.actor = actor
        self.describe_new_leads = describe_new_leads
        self.recorded_at = app.clock()
        self.register: AgreementRegister = app.agreement_register()
        self.zone_for_day = app.zone_for_day(self.register)
        self.stamp = self.register.stamper(self.recorded_at)
        self.leads: dict[str, Lead | None] = {}
        self.captured_here: set[str] = set()  # the leads of `leads` this file captures
        self.forgotten_named: set[str] = set()  # see ImportReport.forgotten
        self.new_leads: dict[str, NewLead] = {}
        self.days: dict[date, TrafficDay] = {}
        # What the file changes, by lead key or day (in the order first changed).
        self.changed: dict[str | date, Lead | NewLead | TrafficDay] = {}
        self.ids: dict[str, UUID] = {}
        self.days_recorded: set[date] = set()  # days whose rows the store holds already
        self._looked_up: dict[UUID, Any] = {}  # what the store holds of each id asked for
        # How many of the file's events are committed (an interrupt then comes too late).
        self.written: int | None = None

    def run(
        self, rows: Sequence[Row], dry_run: bool = False, progress: ImportProgress | None = None
    ) -> ImportReport:
        """Check every row, then write them all when all are good. Rows given as a list
        are emptied once checked (`let_go`)."""
        with no_cyclic_gc():
            return self._run(rows, dry_run, progress or _Quiet())

    def run_file(
        self, text: str, reader: Reader, dry_run: bool = False,
        progress: ImportProgress | None = None, meanwhile: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """`run`, on the rows `reader` (`read_rows`, `read_jsonl_rows`) reads in a file's
        text: from HALVES_FROM lines, read and checked in two halves at once, half of the
        leads by a copy of this process (`import_halves`). Raises what `reader` raises.
        `meanwhile(events)`: work of the caller's for once the rows are written (loading
        the read side, say), done once they are all handed to be written, given how many
        (`HandoffApp.save_in_bulk`'s `sent`: while they commit, where a second process
        writes them); and, should the copy still check its half when this one is good,
        first then, given this half's (done twice, it does nothing the second time that
        it did the first)."""
        from handoff import import_halves

        with no_cyclic_gc():
            progress = progress or _Quiet()
            other = None
            if text.count("\n") >= import_halves.HALVES_FROM:
                other = import_halves.OtherHalf.start(self, text, reader, dry_run)
            if other is None:
                return self._run(reader(text), dry_run, progress, meanwhile)
            try:
                return self._run_beside(other, text, reader, dry_run, progress, meanwhile)
            finally:
                other.end()

    def _run(self, rows: Sequence[Row], dry_run: bool, progress: ImportProgress,
             meanwhile: Callable[[int], None] | None = None) -> ImportReport:
        report = ImportReport(rows=len(rows), dry_run=dry_run)
        self._load_existing(rows)
        self._check_all(rows, report, progress)
        return self._saved(report, progress, meanwhile=meanwhile)

    def _run_beside(
        self, other: import_halves.OtherHalf, text: str, reader: Reader, dry_run: bool,
        progress: ImportProgress, meanwhile: Callable[[int], None] | None,
    ) -> ImportReport:
        """This process's half read, loaded and checked while the copy does the same with
        its own; the copy's leads loaded here and given to it (it reads no store). Should
        this half be good, the time this process would wait for the copy goes to
        `meanwhile`, then to making this half's rows ahead of the write: the same rows, in
        the same order among the copy's as when made at the write."""
        from handoff import import_halves

        mine = import_halves.Mine()
        rows = reader(text, keep=mine)
        report = ImportReport(rows=len(rows) + mine.others, dry_run=dry_run)
        entries: list[EncodedRow] = []  # given first: the copy waits for them
        if not self.app.is_empty():
            entries = self.app.entries_of(list(lead_ids(mine.their_keys).values()))
        other.give(entries)
        self._load_existing(rows)
        self._check_all(rows, report, progress)
        ahead = None
        if report.writes:
            if meanwhile is not None and other.still_checking():
                meanwhile(report.recorded)  # this half's; again with all, as they commit
            ahead = self.app.rows_ahead(self.changed.values())
            while other.still_checking() and ahead.make_one():
                pass
        found = other.found()
        if found is None:  # it ended before it could tell: its half read and checked here
            theirs = reader(text, keep=import_halves.theirs)
            self._load_existing(theirs, self.app.aggregates_from(entries))
            self._check_all(theirs, report, _Quiet())
            return self._saved(report, progress, ahead=ahead, meanwhile=meanwhile)
        refusals, recorded, skipped, leads_changed, _, forgotten = found
        report.errors.extend(RowError(line, reason) for line, reason in refusals)
        report.forgotten.extend(forgotten)
        report.recorded += recorded
        report.skipped += skipped
        report.leads += leads_changed
        other.go(report.writes)
        return self._saved(report, progress, other, ahead, meanwhile)

    def _check_all(self, rows: Sequence[Row], report: ImportReport,
                   progress: ImportProgress) -> None:
        for line, row in progress.checking(rows):
            self._check(line, row, report)
        let_go(rows)

    def _saved(
        self, report: ImportReport, progress: ImportProgress,
        other: import_halves.OtherHalf | None = None, ahead: Ahead | None = None,
        meanwhile: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Every event written at once (with those the copy made, if any; this process's
        own begin with those whose rows were made `ahead`), when every row is good;
        `meanwhile` done as the last are written (`run_file`)."""
        report.errors.sort(key=lambda error: error.line)  # in file order, however checked
        report.leads += self.leads_changed()
        report.forgotten = sorted({*report.forgotten, *self.forgotten_named})
        if report.writes and (self.changed or (other and other.events)):
            progress.writing(report.recorded)
            try:
                made = other if other is not None and other.events else None
                self.app.save_in_bulk(self.changed.values(),
                                      committed=partial(self._committed, report.recorded),
                                      made=made, ahead=ahead,
                                      sent=None if meanwhile is None else partial(
                                          meanwhile, report.recorded))
            except RecordConflictError:
                raise ConcurrentChange(
                    "another process changed these leads during the import; nothing was "
                    "written: run the import again (rows already recorded are skipped)"
                ) from None
        self._let_go()
        return report

    def _let_go(self) -> None:
        """The file's leads, days and events, not held once written (while the KPIs
        catch up, say)."""
        for held in (self.changed, self.leads, self.captured_here, self.new_leads, self.days,
                     self._looked_up, self.ids):
            held.clear()

    def check_half(self, rows: Sequence[Row], entries: list[EncodedRow], dry_run: bool
                   ) -> ImportReport:
        """In the copy (`import_halves`): its rows checked, on its leads as `entries`
        make them (given by the process that read the store)."""
        self._load_existing(rows, self.app.aggregates_from(entries))
        report = ImportReport(dry_run=dry_run)
        self._check_all(rows, report, _Quiet())
        report.forgotten = sorted(self.forgotten_named)
        return report

    def leads_changed(self) -> int:
        """How many leads the rows checked here change."""
        return sum(1 for c in self.changed.values() if not isinstance(c, TrafficDay))

    def _check(self, line: int, row: dict[str, str], report: ImportReport) -> None:
        """Apply one row, counted in `report` as recorded, skipped or refused."""
        try:
            if self._apply(row):
                report.recorded += 1
            else:
                report.skipped += 1
        except MissedStepRefused as error:  # a file gives no --why: its order is the remedy
            report.errors.append(RowError(line, self._said(error.remedied(_IN_FILE_ORDER))))
        except Refused as error:
            report.errors.append(RowError(line, self._said(error)))

    def _said(self, error: Refused) -> str:
        return str(error) if self.wording is None else error.worded(self.wording)

    def _committed(self, events: int) -> None:
        self.written = events

    def _load_existing(self, rows: Sequence[Row], found: dict[UUID, Any] | None = None) -> None:
        """Load the leads and traffic days these rows name that the store already has (or
        take them from `found`, made from their entries by the process that read them)."""
        ids = lead_ids(row["lead"] for _, row in rows if row.get("lead"))
        self.ids.update(ids)
        days: dict[UUID, date] = {}
        counts: dict[date, list[int]] = {}
        for _, row in rows:
            if is_traffic(row):
                with suppress(Refused):
                    day = parse_day(row.get("at", ""))
                    days[traffic_day_id(day)] = day
                    counts.setdefault(day, []).append(whole_number(row.get("visits", ""), "v"))
        if found is None:
            found = self.look_up([*ids.values(), *days])
        for key, aggregate_id in ids.items():
            self.leads[key] = found.get(aggregate_id)
        for aggregate_id, day in days.items():
            self.days[day] = found.get(aggregate_id) or TrafficDay(day=day.isoformat())
            if _holds_run(self.days[day].counts, counts.get(day, [])):
                self.days_recorded.add(day)

    def look_up(self, ids: Sequence[UUID]) -> dict[UUID, Any]:
        """The aggregates among `ids` that the store holds, each read from it once for the
        import (a CRM's later export is walked beside its leads before they are checked)."""
        missing = [i for i in ids if i not in self._looked_up]
        if missing:
            found = self.app.aggregates(missing)
            self._looked_up.update((i, found.get(i)) for i in missing)
        looked_up = self._looked_up
        return {i: looked_up[i] for i in ids if looked_up[i] is not None}

    def _apply(self, row: dict[str, str]) -> bool:
        """Apply one row; False when it was already recorded."""
        if _BAD_ROW in row:
            raise InvalidInput(row[_BAD_ROW])
        event_name = row.get("event", "")
        if is_traffic(row):
            return self._apply_visits(row)
        if event_name not in EVENT_NAMES:
            raise InvalidInput(
                f"unknown event {event_name!r} (one of {', '.join(EVENT_NAMES)}, visits)"
            )
        key = row.get("lead", "")
        if not key:
            raise InvalidInput("lead is required")
        _refuse_foreign_columns(row, event_name)
        at = row.get("at", "")
        if not at:
            raise InvalidInput("at is required")
        occurred_at = parse_instant(at, self.zone_for_day)
        new = self.new_leads.get(key)
        if new is not None:
            return self._apply_new(new, key, event_name, occurred_at, row)
        lead = self.leads.get(key)
        if lead is not None and (recorded := lead.steps_at(event_name, occurred_at)):
            _refuse_different_data(recorded, key, row, forgotten=lead.forgotten is not None,
                                   this_file=key in self.captured_here)
            if lead.forgotten is not None and any(row.get(f) for f in PERSONAL_DATA):
                self.forgotten_named.add(key)
            return False
        stamp = self._stamp(event_name, occurred_at, row)
        if event_name == "captured":
            if lead is not None:
                raise LeadExists(key)
            if self.describe_new_leads:
                self._capture_new(key, stamp, row)
                return True
            lead = Lead.capture(
                key, row.get("source", ""), stamp, name=row.get("name"),
                email=row.get("email"), company=row.get("company"), id=self.ids[key],
            )
            self.leads[key] = lead
            self.captured_here.add(key)
        elif lead is None:
            raise UnknownLead(key)
        else:
            apply_step(lead, event_name, stamp, _step_data(row, event_name))
        self.changed[key] = lead
        return True

    def _actor_of(self, row: dict[str, str]) -> str:
        """Who records the row: its `actor` cell, or whoever runs the import when it is empty."""
        cell = row.get("actor")
        return check_actor("actor", cell) if cell else self.actor

    def _stamp(self, event_name: str, occurred_at: datetime, row: dict[str, str]) -> Stamp:
        actor = self._actor_of(row)
        owner = row.get("owner") if event_name == "handed" else None
        return self.stamp(event_name, actor, occurred_at, owner=owner)

    def _capture_new(self, key: str, stamp: Stamp, row: dict[str, str]) -> None:
        """`Lead.capture`, described: the same checks, the same event."""
        source, name = row.get("source", ""), given(row.get("name"))
        email, company = given(row.get("email")), given(row.get("company"))
        check_capture(key, source, stamp, name, email, company)
        new = NewLead(self.ids[key], key, stamp.occurred_at)
        new.add("captured", stamp.occurred_at,
                captured_attributes(key, source, stamp, name, email, company),
                {"source": source, "name": name, "email": email, "company": company})
        self.new_leads[key] = new
        self.changed[key] = new

    def _apply_new(
        self, new: NewLead, key: str, event_name: str, occurred_at: datetime,
        row: dict[str, str],
    ) -> bool:
        """A row of a lead this file captured: as `_apply` and `apply_step` would apply it
        to a `Lead` (the same checks, in the same order), recorded on the `NewLead`."""
        if recorded := new.steps_at(event_name, occurred_at):
            _refuse_different_data(recorded, key, row, this_file=True)
            return False
        stamp = self._stamp(event_name, occurred_at, row)
        if event_name == "captured":
            raise LeadExists(key)
        data = _step_data(row, event_name)
        journey = new.journey
        if "amount" in data:
            if data["amount"] is not None:
                data["amount"] = parse_amount(data["amount"])
            elif event_name == "won":  # the last proposal's (`Lead.win`)
                data["amount"] = journey.last_proposal
                if data["amount"] is None:
                    journey.check(event_name, stamp)  # the lifecycle refuses it first
                    raise InvalidInput("a won deal needs an amount")  # pragma: no cover
        check_step(event_name, data)
        journey.check(event_name, stamp)
        journey.record(event_name, occurred_at, data)
        # The step's data, and its event's attributes: one dict (a large file's steps
        # are all held until written), the data fields read by name only.
        attributes = data
        attributes.update(stamp.fields())
        new.add(event_name, occurred_at, attributes, attributes)
        return True

    def _apply_visits(self, row: dict[str, str]) -> bool:
        """Record a day's count, unless the store already holds it at this point of the file.

        When the store recorded a day's counts of the file already, in the same order, all
        of that day's rows are skipped: re-importing a file that set a day to 100 and then
        200 records nothing. Otherwise a row that changes the day's count is recorded.
        """
        if row.get("lead"):
            raise InvalidInput("a visits row has no lead")
        _refuse_foreign_columns(row, "visits")
        day = parse_day(row.get("at", ""))
        visits = whole_number(row.get("visits", ""), "visits")
        actor = self._actor_of(row)
        traffic = self.days[day]
        if day in self.days_recorded or traffic.visits == visits:
            return False
        traffic.record(visits, actor=actor, recorded_at=self.recorded_at,
                       zone=self.zone_for_day(day))
        self.changed[day] = traffic
        return True


def is_traffic(row: dict[str, str]) -> bool:
    """Whether a row records a day's traffic (a `visits` row) rather than a lead's step."""
    return row.get("event") == "visits"


def let_go(rows: Sequence[Row]) -> None:
    """A large file's rows (a third of an import's memory) are not held once checked,
    while its events are written: emptied, when the caller gave them as a list."""
    if isinstance(rows, list):
        rows.clear()


def lead_ids(keys: Iterable[str]) -> dict[str, UUID]:
    """The aggregate id of each lead key, made once per key (not per row); a key that is
    no key is left out, to be refused with its rows."""
    ids: dict[str, UUID] = {}
    for key in dict.fromkeys(keys):
        with suppress(Refused):
            ids[key] = lead_id(key)
    return ids


def _refuse_foreign_columns(row: dict[str, str], event_name: str) -> None:
    allowed = _ALLOWED_COLUMNS[event_name]
    if row.keys() <= allowed:  # rows hold only their filled cells
        return
    foreign = row.keys() - allowed
    if foreign:
        column = min(foreign, key=COLUMNS.index)
        # A cell a spreadsheet shows empty (`, ,` in a hand-written file): said, or the
        # row reads as having no such cell to take out.
        blank = " (its cell holds only spaces: leave it empty)" if not row[column].strip() else ""
        raise InvalidInput(f"{event_name} takes no {column}{blank}")


_ALLOWED_COLUMNS = {
    name: frozenset(COLUMNS[:4]) | frozenset(own) for name, own in DATA_COLUMNS.items()
} | {"visits": frozenset(COLUMNS[1:4]) | {"visits"}}  # its stamp but a lead, its count


def _step_data(row: dict[str, str], event_name: str) -> dict[str, Any]:
    data: dict[str, Any] = {c: row.get(c) or None for c in DATA_COLUMNS[event_name]}
    if data.get("score") is not None:
        data["score"] = whole_number(data["score"], "score")
    for required in ("owner", "reason"):
        if required in data and not data[required]:
            raise InvalidInput(f"{event_name} needs {required}")
    if event_name == "proposal" and data["amount"] is None:
        raise InvalidInput("proposal needs amount")
    return data


def _holds_run(recorded: list[int], counts: list[int]) -> bool:
    """Whether `counts` were recorded one after the other, somewhere in `recorded`."""
    width = len(counts)
    return 0 < width <= len(recorded) and any(
        recorded[start : start + width] == counts for start in range(len(recorded) - width + 1)
    )


def _refuse_different_data(
    recorded: list[Fact], key: str, row: dict[str, str], forgotten: bool = False,
    this_file: bool = False,
) -> None:
    """A row naming a recorded event (same lead, event and instant) must say the same as
    one of the steps recorded so (`this_file`: by an earlier row of this file, of a lead it
    captures: a step is known by its lead, event and instant, `lead.check_one_step_then`).

    Skipping it silently would drop a correction the file means to make; corrections are
    recorded as corrections, never by re-importing a different value. A forgotten lead's
    person is not compared: the file may still hold what was erased, which is neither
    written back nor a reason to refuse the file.
    """
    event_name, occurred_at = recorded[0].name, recorded[0].occurred_at
    given = _step_data(row, event_name) if event_name != "captured" else {
        "source": row.get("source"), "name": row.get("name") or None,
        "email": row.get("email") or None, "company": row.get("company") or None,
    }
    if forgotten:
        given = {f: v for f, v in given.items() if f not in PERSONAL_DATA}
    first: tuple[Fact, str] | None = None  # the step as it now reads, when it still counts
    for step in recorded:
        differing = [
            field for field, value in given.items()
            if not (value is None and event_name == "won")
            and _comparable(field, value) != _comparable(field, step.data.get(field))
        ]
        if not differing:
            return
        first = first or (step, differing[0])
    assert first is not None  # `recorded` holds at least one step
    step, field = first
    held, given_here = step.data.get(field), given[field]
    why = ("a lead is captured once" if this_file and event_name == "captured" else
           "a step is known by its lead, event and instant: give this row its own instant"
           if this_file else "a recorded event is not changed by importing it again (record a"
           " correction: lead amend)")
    raise TimeRefused(
        lambda at: f"lead {key!r} already has {event_name} at {at(occurred_at)} with "
        f"{f'no {field}' if held is None else f'{field} {quoted(held)}'}"
        f"{' on an earlier line' if this_file else ''}, not "
        f"{'an empty one' if given_here is None else quoted(given_here)}: {why}"
    )


def _comparable(field: str, value: Any) -> Any:
    if value is None or field not in ("amount", "score"):
        return value
    try:
        return parse_amount(value) if field == "amount" else int(value)
    except (Refused, ValueError):
        return value


def read_jsonl_rows(text: str, keep: Keep | None = None) -> list[Row]:
    """The JSON-lines form of the same rows (as `export --format jsonl` writes them)."""
    rows: list[Row] = []
    # Lines end at line feeds only (a "\r" before one is JSON's whitespace): a text may hold
    # any other line break, U+2028 written as is among them.
    for line, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            cells = _json_cells(raw)
        except InvalidInput as error:  # the row is bad; every bad row is reported
            cells = {_BAD_ROW: str(error)}
        if keep is None or keep(cells):
            rows.append((line, cells))
    return rows


def _json_cells(raw: str) -> dict[str, str]:
    """The filled cells of one JSON line, or InvalidInput saying why it holds none."""
    item = json_value(raw, numbers_as_written=True)  # as a CSV's cell holds it
    if not isinstance(item, dict):
        raise InvalidInput("expected a JSON object")
    unknown = [k for k in item if k not in COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}")
    # A cell holds a text or a number: an object, a list or true would be read as
    # Python's text for it.
    odd = [k for k, v in item.items() if isinstance(v, dict | list | bool)]
    if odd:
        shown = json.dumps(json_value(raw)[odd[0]])  # its numbers as json writes them
        raise InvalidInput(
            f"{odd[0]} holds {shown[:40]}, where a cell holds a text or a number"
        )
    # As a CSV row's empty cells, a null or empty field is no value (a table written as
    # JSON lines names every column, null where the cell is empty); as a CSV row's, a value
    # other than a text is read without the spaces around it (" captured ").
    cells = {k: str(v) if k in TEXT_COLUMNS else str(v).strip()
             for k, v in item.items() if v is not None}
    return {k: v for k, v in cells.items() if v != ""}
