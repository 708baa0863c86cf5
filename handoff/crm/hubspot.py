"""A HubSpot contacts export (CSV, as Contacts > Export writes it) read as handoff's steps.

HubSpot keeps, per contact, the instant each lifecycle stage was first reached ("Became a
... Date"); those are the steps. The mapping, column by column, is in the README
("Importing from HubSpot"); in short: Lead -> captured, Marketing Qualified Lead ->
qualified, the owner's assignment -> handed, Sales Qualified Lead -> accepted, Customer ->
proposal and won for the contact's deal amount, Lead Status Unqualified or Bad Timing ->
rejected (or lost, once accepted).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from handoff.crm.steps import (
    CLOSED,
    CLOSED_BY_MARKETING,
    Origin,
    Reading,
    Step,
    ZoneForDay,
    column,
    read_amount,
    read_instant,
    read_table,
)
from handoff.domain.errors import Refused
from handoff.importer import MalformedFile

KEY = ("Contact ID", "Record ID")
SOURCE = ("Original Source", "Original Traffic Source", "Original Source Type")
BECAME = {
    "lead": "Became a Lead Date",
    "marketingqualifiedlead": "Became a Marketing Qualified Lead Date",
    "salesqualifiedlead": "Became a Sales Qualified Lead Date",
    "opportunity": "Became an Opportunity Date",
    "customer": "Became a Customer Date",
}
# What dates a lead's capture: its Became a Lead Date, else its Create Date.
DATED = (BECAME["lead"], "Create Date")
# What a won deal's amount is read from: the deal's, else the contact's revenue.
DEAL_AMOUNT = ("Recent Deal Amount", "Total Revenue")
# Every column the mapping reads (the others are not kept in memory).
READ = (
    *KEY, *SOURCE, *BECAME.values(), "Create Date", "Lifecycle Stage", "Lead Status",
    "Contact owner", "Owner Assigned Date", "First Name", "Last Name", "Email", "Company Name",
    *DEAL_AMOUNT, "Last Activity Date",
)
# Lead Status values that close a lead without a sale (HubSpot's defaults).
CLOSING_STATUSES = frozenset({"unqualified", "bad timing"})
NOT_LEADS = "contacts that never became leads (no Lead or later stage)"
OPEN_DEALS = "open opportunities whose proposal is not recorded (no deal amount on a contact)"


def read_hubspot(path: Path, zone_for_day: ZoneForDay, text: str | None = None) -> Reading:
    """The contacts of the export at `path` (or of its `text`, named by `path`)."""
    header, rows = read_table(path, text, READ)
    key_column = column(header, *KEY)
    source_column = column(header, *SOURCE)
    for needed, names in (
        (key_column, KEY), (column(header, *DATED), DATED),
        (source_column, SOURCE),
    ):
        if needed is None:
            raise MalformedFile(
                f"{path}: line 1: a HubSpot contacts export needs the column "
                f"{' or '.join(repr(n) for n in names)}"
            )
    assert key_column is not None and source_column is not None
    reading = Reading("HubSpot")
    first_lines: dict[str, int] = {}  # each contact's line
    for line, row in rows:
        reading.records += 1
        contact = _Contact(row, Origin(str(path), line), zone_for_day)
        key = row.get(key_column) or None
        try:
            if key is not None and first_lines.setdefault(key, line) != line:
                raise Refused(
                    f"{_named(key_column, KEY)} {key!r} is on line {first_lines[key]} too: a "
                    "contacts export has one row per contact"
                )
            contact.read_into(reading, key_column, source_column)
        except Refused as error:
            reading.refuse(contact.origin, str(error), key)
    return reading


def _next(became: dict[str, datetime | None]) -> datetime | None:
    """The instant of the first stage dated after the MQL: the SQL's, else the deal's."""
    return became["salesqualifiedlead"] or became["opportunity"] or became["customer"]


def _named(found: str, names: tuple[str, ...]) -> str:
    """A column as HubSpot names it (the header is read in any letter case)."""
    return next((name for name in names if name.casefold() == found), found)


class _Contact:
    """One row of the export: one contact, its dated stages and what it says of its deal."""

    def __init__(self, row: dict[str, str], origin: Origin, zone_for_day: ZoneForDay) -> None:
        self.row = row
        self.origin = origin
        self.zone_for_day = zone_for_day

    def cell(self, *names: str) -> str:
        for name in names:
            value = self.row.get(name.casefold(), "")
            if value.strip():
                return value
        return ""

    def when(self, name: str) -> datetime | None:
        value = self.cell(name)
        return read_instant(value, self.zone_for_day, name) if value else None

    def read_into(self, reading: Reading, key_column: str, source_column: str) -> None:
        key = self.row.get(key_column, "")
        if not key:
            raise Refused(f"{_named(key_column, KEY)} is empty: every lead needs its key")
        became = {stage: self.when(label) for stage, label in BECAME.items()}
        created = self.when("Create Date")
        stage = "".join(self.cell("Lifecycle Stage").casefold().split())
        if stage == "evangelist":
            stage = "customer"
        if not any(became.values()) and stage not in BECAME:
            reading.leave_out(NOT_LEADS)
            return
        if stage in BECAME and stage != "lead" and became[stage] is None:
            raise Refused(
                f"Lifecycle Stage is {self.cell('Lifecycle Stage')!r} but "
                f"{BECAME[stage]!r} is empty: the stage cannot be dated"
            )
        captured_at = became["lead"] or created
        if captured_at is None:
            raise Refused(f"{' and '.join(DATED)} are empty: the lead cannot be dated")
        self.check_order(captured_at, became)
        source = self.row.get(source_column, "")
        if not source:
            raise Refused(f"{_named(source_column, SOURCE)} is empty: every lead needs a source")
        owner = self.cell("Contact owner")
        if owner:
            reading.owners[key] = owner
        steps = [self.step(key, "captured", captured_at, self.lead_data(source),
                           reached=False)]
        mql, sql = became["marketingqualifiedlead"], became["salesqualifiedlead"]
        if mql is not None:
            steps.append(self.step(key, "qualified", mql))
            if owner:
                # HubSpot keeps only the latest owner: its instant is a guess.
                steps.append(self.step(key, "handed", self.handed_at(mql, _next(became)),
                                       {"owner": owner}))
        if sql is not None:
            steps.append(self.step(key, "accepted", sql))
        steps.extend(self.deal_steps(key, became, reading))
        steps.extend(self.closing(key, became, owner, reading))
        reading.steps.extend(steps)

    def check_order(self, captured_at: datetime, became: dict[str, datetime | None]) -> None:
        """The dates the steps are read from follow the lifecycle."""
        dated = [(BECAME["lead"] if became["lead"] else "Create Date", captured_at)]
        for stage in list(BECAME)[1:]:  # after the lead's own
            at = became[stage]
            if at is not None:
                dated.append((BECAME[stage], at))
        for (before, earlier), (label, later) in pairwise(dated):
            if later < earlier:
                raise Refused(
                    f"{label} {self.cell(label)!r} is before {before} {self.cell(before)!r}: "
                    "a contact's stage dates follow the lifecycle"
                )

    def step(
        self, key: str, event: str, at: datetime, data: dict[str, str] | None = None,
        reached: bool = True,
    ) -> Step:
        """A step of the contact: a stage HubSpot says was reached (its "Became a ... Date" is
        when first reached), but its capture."""
        return Step(key, event, at, self.origin, data or {}, reached)

    def lead_data(self, source: str) -> dict[str, str]:
        name = " ".join(part for part in (self.cell("First Name"), self.cell("Last Name")) if part)
        return {"source": source, "name": name, "email": self.cell("Email"),
                "company": self.cell("Company Name")}

    def handed_at(self, mql: datetime, following: datetime | None) -> datetime:
        """When the owner was assigned, if that was between the MQL instant and the next
        stage's (`following`); otherwise the MQL instant (an owner assigned earlier gets the
        lead when marketing qualifies it; HubSpot keeps only the latest assignment, which
        may be a later one)."""
        assigned = self.when("Owner Assigned Date")
        if assigned is not None and mql <= assigned and (following is None
                                                         or assigned <= following):
            return assigned
        return mql

    def deal_steps(
        self, key: str, became: dict[str, datetime | None], reading: Reading
    ) -> list[Step]:
        won_at, opportunity_at = became["customer"], became["opportunity"]
        if won_at is None:
            if opportunity_at is None:
                return []
            # Sales works the deal: it took the lead (if not sales qualified before), but a
            # contacts export holds no open deal's amount to propose.
            reading.leave_out(OPEN_DEALS)
            return [self.step(key, "accepted", opportunity_at)]
        named = next((name for name in DEAL_AMOUNT if self.cell(name)), None)
        if named is None:
            raise Refused(
                "Became a Customer Date is set but Recent Deal Amount and Total Revenue are "
                "empty: a won deal needs its amount"
            )
        amount = self.cell(named)
        read_amount(amount, named)  # refused naming its column, as a date is
        return [
            self.step(key, "proposal", opportunity_at or won_at, {"amount": amount}),
            self.step(key, "won", won_at, {"amount": amount}),
        ]

    def closing(
        self, key: str, became: dict[str, datetime | None], owner: str, reading: Reading
    ) -> list[Step]:
        """Unqualified or Bad Timing closes a lead sales had, at the last activity logged."""
        status = self.cell("Lead Status")
        with_sales = owner and (became["marketingqualifiedlead"] or became["salesqualifiedlead"])
        if status.casefold() not in CLOSING_STATUSES or became["customer"]:
            return []
        if not with_sales:  # never handed: no rejection, said as left out
            reading.leave_out(CLOSED_BY_MARKETING)
            return []
        at = self.when("Last Activity Date")
        if at is None:
            raise Refused(
                f"Lead Status is {status!r} but Last Activity Date is empty: HubSpot keeps no "
                "date for a status, so the closing cannot be dated (export Last Activity Date)"
            )
        # Dated by the last activity, which moves; no earlier than the last stage the contact
        # reached: HubSpot dates no status, and one set after the stages it closes came no
        # earlier (read before them, the closing was a rejection, and the lead was handed
        # again to reach its later stage: two handoffs, and the lead open).
        reached = [day for day in became.values() if day is not None]
        at = max(at, *reached) if reached else at
        return [replace(self.step(key, CLOSED, at, {"reason": status}), undated=True)]
