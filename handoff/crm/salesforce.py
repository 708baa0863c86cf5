"""Salesforce's Lead, LeadHistory and OpportunityHistory exports read as handoff's steps.

The Lead export names the leads (key, creation, source, person, owner, the opportunity a
lead was converted to); LeadHistory dates each change of a lead's Status and Owner;
OpportunityHistory dates each change of the converted opportunity's stage and amount.
Each file is known by its header, in any order and any letter case (Data Loader writes
headers in capitals, the weekly Data Export as the API names them). The mapping is in
the README ("Importing from Salesforce").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from handoff.crm.steps import (
    CLOSED,
    Origin,
    Reading,
    Step,
    ZoneForDay,
    read_amount,
    read_instant,
    read_table,
)
from handoff.domain.errors import Refused
from handoff.importer import MalformedFile
from handoff.instants import iso

# The names of the files in Salesforce's weekly Data Export, read from a directory.
EXPORT_FILES = ("Lead.csv", "LeadHistory.csv", "OpportunityHistory.csv")
# Lead Status values (Salesforce's defaults first, then common custom ones), by meaning.
QUALIFYING = frozenset({"marketing qualified", "marketing qualified lead", "mql"})
ACCEPTING = frozenset({
    "working - contacted", "working", "contacted", "closed - converted", "converted",
    "qualified", "sales accepted", "accepted", "sal",
})
CONTACTING = frozenset({"working - contacted", "contacted"})
CLOSING = frozenset({"closed - not converted", "unqualified", "disqualified", "rejected"})
NOT_IN_LEADS = "history rows of leads not in the Lead export"
NOT_CONVERTED = "opportunity history rows of opportunities no lead of the export became"
DELETED = "rows deleted in Salesforce (IsDeleted)"
CLOSED_REASSIGNED = "owner changes of leads closed in Salesforce (no handoff)"
# A record id: 15 or 18 letters and digits; users start with 005, queues with 00G.
_RECORD_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_USER, _QUEUE = "005", "00G"
# A checkbox as exported: `true` (Data Loader, Data Export) or `1` (as tools and spreadsheets
# write a boolean).
_CHECKED = frozenset({"true", "1"})

# Every column the mapping reads, in the three exports (the others are not kept in memory).
READ = (
    "Id", "IsDeleted", "CreatedDate", "LeadSource", "FirstName", "LastName", "Email",
    "Company", "OwnerId", "Owner.Name", "ConvertedOpportunityId", "LeadId", "Field",
    "NewValue", "OpportunityId", "StageName", "Amount",
)

_Rows = list[tuple[Origin, dict[str, str]]]


def export_files(paths: Sequence[Path]) -> list[Path]:
    """The files given, a directory standing for the export files it holds. A file given
    twice (by name, or in its directory too) is refused: its rows read twice counted each
    lead twice, and its steps as already recorded."""
    files: list[Path] = []
    for path in paths:
        try:
            is_dir = path.is_dir()
        except OSError:  # a name the file system refuses (too long): reading it says so
            is_dir = False
        if not is_dir:
            files.append(path)
            continue
        found = {p.name.casefold(): p for p in path.iterdir() if p.is_file()}
        held = [found[name.casefold()] for name in EXPORT_FILES if name.casefold() in found]
        if not held:
            raise MalformedFile(f"{path}: holds none of {', '.join(EXPORT_FILES)}")
        files.extend(held)
    seen: set[Path] = set()
    for file in files:
        if file.resolve() in seen:
            raise MalformedFile(f"{file}: given twice: give each export once")
        seen.add(file.resolve())
    return files


def read_salesforce(paths: Sequence[Path], zone_for_day: ZoneForDay) -> Reading:
    tables: dict[str, _Rows] = {"lead": [], "leadhistory": [], "opportunityhistory": []}
    for path in export_files(paths):
        header, rows = read_table(path, keep=READ)
        tables[_kind(path, header)].extend((Origin(str(path), line), row) for line, row in rows)
    if not tables["lead"]:
        raise MalformedFile(
            "a Salesforce import needs the Lead export (Id, CreatedDate, LeadSource, ...): "
            "the history exports name no source and no converted opportunity"
        )
    reading = Reading("Salesforce")
    converted = _read_leads(tables["lead"], reading, zone_for_day)
    _read_lead_history(tables["leadhistory"], reading, zone_for_day)
    _read_opportunity_history(tables["opportunityhistory"], converted, reading, zone_for_day)
    _refuse_history_before_creation(reading)
    return reading


def _refuse_history_before_creation(reading: Reading) -> None:
    """A change dated before its lead's CreatedDate (history migrated in, a CreatedDate set
    by hand) is refused with its line: read in time order, it came before the lead existed."""
    created = {step.key: step for step in reading.steps if step.event == "captured"}
    failed, refused = set(reading.failed_keys), set[Origin]()
    for step in reading.steps:
        capture = created.get(step.key)
        if (capture is None or step.at >= capture.at or step.key in failed
                or step.origin in refused):
            continue
        refused.add(step.origin)
        reading.refuse(
            step.origin,
            f"this change, at {iso(step.at)}, is before lead {step.key!r} was created "
            f"(CreatedDate {iso(capture.at)}, {capture.origin}): a lead's history follows "
            "its creation",
            step.key,
        )


def kind_of(header: Iterable[str]) -> str | None:
    """Which Salesforce export a header (its names in lower case) is, if any."""
    names = set(header)
    if {"leadid", "field", "newvalue", "createddate"} <= names:
        return "leadhistory"
    if {"opportunityid", "stagename", "createddate"} <= names:
        return "opportunityhistory"
    if {"id", "createddate", "leadsource"} <= names:
        return "lead"
    return None


def _kind(path: Path, header: list[str]) -> str:
    kind = kind_of(header)
    if kind is not None:
        return kind
    raise MalformedFile(
        f"{path}: line 1: not a Salesforce Lead (Id, CreatedDate, LeadSource), LeadHistory "
        "(LeadId, CreatedDate, Field, NewValue) or OpportunityHistory (OpportunityId, "
        "CreatedDate, StageName, Amount) export"
    )


def _live(rows: _Rows, reading: Reading) -> _Rows:
    live = [(o, r) for o, r in rows
            if r.get("isdeleted", "").strip().casefold() not in _CHECKED]
    if len(live) < len(rows):
        reading.leave_out(DELETED, len(rows) - len(live))
    return live


def _instant(row: dict[str, str], zone_for_day: ZoneForDay) -> datetime:
    value = row.get("createddate", "")
    if not value.strip():
        raise Refused("CreatedDate is empty")
    return read_instant(value, zone_for_day, "CreatedDate")


def _read_leads(rows: _Rows, reading: Reading, zone_for_day: ZoneForDay) -> dict[str, str]:
    """The leads' captures; returns the lead each converted opportunity came from."""
    converted: dict[str, str] = {}
    first: dict[str, Origin] = {}  # each lead's row
    for origin, row in _live(rows, reading):
        reading.records += 1
        key = row.get("id", "")
        try:
            if not key:
                raise Refused("Id is empty: every lead needs its key")
            if first.setdefault(key, origin) != origin:
                raise Refused(
                    f"Id {key!r} is on {_also(first[key], origin)} too: a Lead export has one "
                    "row per lead"
                )
            source = row.get("leadsource", "")
            if not source:
                raise Refused("LeadSource is empty: every lead needs a source")
            name = " ".join(p for p in (row.get("firstname", ""), row.get("lastname", "")) if p)
            data = {"source": source, "name": name, "email": row.get("email", ""),
                    "company": row.get("company", "")}
            reading.steps.append(Step(key, "captured", _instant(row, zone_for_day), origin, data))
        except Refused as error:
            reading.refuse(origin, str(error), key or None)
            continue
        owner_id = row.get("ownerid", "")
        owner = row.get("owner.name", "") or owner_id
        if owner and not owner_id.startswith(_QUEUE):
            reading.owners[key] = owner
        opportunity = row.get("convertedopportunityid", "")
        if opportunity:
            converted[opportunity] = key
    return converted


def _also(other: Origin, origin: Origin) -> str:
    """Where a lead's other row is: its line, and its file if another one."""
    return f"line {other.line}" if other.file == origin.file else str(other)


def _read_lead_history(rows: _Rows, reading: Reading, zone_for_day: ZoneForDay) -> None:
    leads = {step.key for step in reading.steps} | reading.failed_keys
    owner_changes: dict[tuple[str, str], list[tuple[Origin, str]]] = {}
    statuses: dict[str, list[tuple[datetime, bool]]] = {}  # lead -> (when, closing it?)
    for origin, row in _live(rows, reading):
        key = row.get("leadid", "")
        if key not in leads:
            reading.leave_out(NOT_IN_LEADS)
            continue
        field = row.get("field", "").strip().casefold()
        if field == "owner":
            owner_changes.setdefault((key, row.get("createddate", "")), []).append(
                (origin, row.get("newvalue", ""))
            )
            continue
        try:
            if field == "status":
                steps = _status_steps(key, row, origin, zone_for_day)
                reading.steps.extend(steps)
                # Every status, closing the lead or not (one opening it again counts too).
                statuses.setdefault(key, []).append(
                    (_instant(row, zone_for_day), any(step.event == CLOSED for step in steps)))
            elif field == "leadconverted":
                reading.steps.append(
                    Step(key, "accepted", _instant(row, zone_for_day), origin, reached=True)
                )
        except Refused as error:
            reading.refuse(origin, str(error), key)
    _name_owners(reading, owner_changes.values())
    for (key, created), changes in owner_changes.items():
        origin = changes[0][0]
        try:
            handed = _handoff(key, created, changes, zone_for_day)
        except Refused as error:
            reading.refuse(origin, str(error), key)
            continue
        if handed is None:
            continue
        if _closed_then(statuses.get(key, []), handed.at):
            reading.leave_out(CLOSED_REASSIGNED)
        else:
            reading.steps.append(handed)


def _closed_then(statuses: list[tuple[datetime, bool]], at: datetime) -> bool:
    """Whether the lead's latest status by `at` (the status set at that instant counts)
    closed it: an owner change then hands a lead nobody works to nobody in particular (a
    cleanup after someone left), not a lead marketing sends to sales."""
    latest: tuple[datetime, bool] | None = None
    for status in statuses:  # in the export's order: of two at one instant, the later
        if status[0] <= at and (latest is None or status[0] >= latest[0]):
            latest = status
    return latest is not None and latest[1]


def _status_steps(
    key: str, row: dict[str, str], origin: Origin, zone_for_day: ZoneForDay
) -> list[Step]:
    status = row.get("newvalue", "")
    meaning = status.strip().casefold()
    at = _instant(row, zone_for_day)
    if meaning in QUALIFYING:
        return [Step(key, "qualified", at, origin, reached=True)]
    if meaning in ACCEPTING:
        steps = [Step(key, "accepted", at, origin, reached=True)]
        if meaning in CONTACTING:
            steps.append(Step(key, "contacted", at, origin, reached=True))
        return steps
    if meaning in CLOSING:
        return [Step(key, CLOSED, at, origin, {"reason": status}, reached=True)]
    return []


def _ids_and_names(changes: list[tuple[Origin, str]]) -> tuple[list[str], list[str]]:
    """An owner change as Salesforce writes it, twice: the new owner's id, then its name."""
    values = [value for _, value in changes]
    ids = [v for v in values if _RECORD_ID.fullmatch(v)]
    return ids, [v for v in values if v and v not in ids]


def _name_owners(reading: Reading, owner_changes: Iterable[list[tuple[Origin, str]]]) -> None:
    """The owners the Lead export names by a user's id (Data Loader writes `OwnerId`, not
    `Owner.Name`), named as the history's owner changes name that user (the latest change
    to that user, of one owner at a time, says it); a user no change names keeps the id.
    Ids are matched on their first 15 characters (an 18-character id adds a checksum)."""
    names: dict[str, str] = {}
    for changes in owner_changes:
        ids, named = _ids_and_names(changes)
        if len(ids) == 1 and len(named) == 1 and ids[0].startswith(_USER):
            names[ids[0][:15]] = named[0]
    for key, owner in reading.owners.items():
        if _RECORD_ID.fullmatch(owner):
            reading.owners[key] = names.get(owner[:15], owner)


def _handoff(
    key: str, created: str, changes: list[tuple[Origin, str]], zone_for_day: ZoneForDay
) -> Step | None:
    """An owner change. A change to a queue (an id starting 00G) hands the lead to nobody
    in particular: not a handoff."""
    ids, names = _ids_and_names(changes)
    if any(v.startswith(_QUEUE) for v in ids):
        return None
    owner = (names or ids or [""])[0]
    if not owner:
        return None
    at = read_instant(created, zone_for_day, "CreatedDate")
    return Step(key, "handed", at, changes[-1][0], {"owner": owner}, reached=True)


def _read_opportunity_history(
    rows: _Rows, converted: dict[str, str], reading: Reading, zone_for_day: ZoneForDay
) -> None:
    by_opportunity: dict[str, list[tuple[datetime, Origin, dict[str, str]]]] = {}
    for origin, row in _live(rows, reading):
        opportunity = row.get("opportunityid", "")
        if opportunity not in converted:
            reading.leave_out(NOT_CONVERTED)
            continue
        try:
            at = _instant(row, zone_for_day)
        except Refused as error:
            reading.refuse(origin, str(error), converted[opportunity])
            continue
        by_opportunity.setdefault(opportunity, []).append((at, origin, row))
    for opportunity, history in by_opportunity.items():
        key = converted[opportunity]
        try:
            reading.steps.extend(_deal_steps(key, sorted(history, key=lambda h: (h[0], h[1].line))))
        except _RowRefused as refused:
            reading.refuse(refused.origin, refused.reason, key)


class _RowRefused(Exception):
    def __init__(self, origin: Origin, reason: str) -> None:
        self.origin, self.reason = origin, reason


def _deal_steps(
    key: str, history: list[tuple[datetime, Origin, dict[str, str]]]
) -> list[Step]:
    """Proposal from the first Proposal/Price Quote stage, again at each later change of
    Amount while open; Closed Won -> won for its Amount; Closed Lost -> lost."""
    steps: list[Step] = []
    proposed: str | None = None  # the amount of the latest proposal, as written
    proposed_value: Decimal | None = None  # and as a number
    for at, origin, row in history:
        stage = row.get("stagename", "").strip()
        meaning = stage.casefold()
        amount = row.get("amount", "").strip()
        if meaning == "closed won":
            if amount:
                _value(amount, origin)  # refused at its own row, naming its column
            amount = amount or proposed or ""
            if not amount:
                raise _RowRefused(origin, "Closed Won without an Amount: a won deal needs one")
            steps.append(Step(key, "won", at, origin, {"amount": amount}, reached=True))
        elif meaning == "closed lost":
            steps.append(Step(key, CLOSED, at, origin, {"reason": stage}, reached=True))
        elif proposed is not None or "proposal" in meaning or "quote" in meaning:
            if not amount:
                raise _RowRefused(origin, f"{stage} without an Amount: a proposal needs one")
            value = _value(amount, origin)  # read at its own row, once
            if value != proposed_value:
                steps.append(Step(key, "proposal", at, origin, {"amount": amount}, reached=True))
                proposed, proposed_value = amount, value
    return steps


def _value(amount: str, origin: Origin) -> Decimal:
    """An Amount as a number: 30000.00 and 30000 are the same amount, not a revision."""
    try:
        return read_amount(amount, "Amount")
    except Refused as error:
        raise _RowRefused(origin, str(error)) from None
