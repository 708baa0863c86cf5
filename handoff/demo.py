"""A realistic sample store: a year of leads under an agreement, its signed revision and a
restatement of it, with a few corrections.

Everything is simulated in memory with the domain's own methods (so every event obeys
the protocol), stamped with a simulated clock (each event is recorded shortly after it
happened, so `--as-of` replays show what the report said back then), and saved in a
few large transactions. The store depends only on the seed and the day it is built:
the simulation stops at the start of that day.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.audit import seal
from handoff.domain.agreement import AgreementRegister, AgreementTerms
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused
from handoff.domain.lead import Lead
from handoff.domain.steps import Stamp
from handoff.plan import months_between
from handoff.simulation import MARKETING, NEW_HIRE, SALES, TIMEZONE, Simulation, month_start
from handoff.store import draft_beside, locate, sqlite_uri

DEFAULT_DEMO_FILE = "handoff-demo.sqlite"
DEMO_AGREEMENT = "Demo growth agreement"  # the name of its first version marks a demo store
_SAVE_BATCH = 1000
_SQLITE_HEADER = b"SQLite format 3\x00"


class NotADemoStore(Refused):
    """The demo would overwrite a file that it did not build."""


@dataclass(frozen=True)
class DemoStore:
    """What the demo built and where."""

    path: Path
    first_day: date
    last_day: date
    leads: int
    events: int
    traffic_days: int
    last_full_month: str


def build_demo(path: Path, seed: int, today: date, months: int = 12) -> DemoStore:
    """Build a demo store of `months` months up to `today` in a file, replacing an old demo."""
    if months < 2:
        raise Refused("the demo needs at least 2 months (one per agreement version)")
    locate(str(path)).refuse_if_uncreatable(replacing=True)
    _refuse_unless_demo(path)  # before the work, and again before replacing it
    first_day = month_start(today, -months)
    revision_day = month_start(today, -(months - months // 2))
    cutoff = datetime.combine(today, time(0), TIMEZONE).astimezone(UTC)
    # The register holds every version before the story is told, each signed at its own
    # simulated instant; a step is stamped with those signed by the time it is recorded, as
    # a command recording it then would stamp it (`Simulation.stamp`).
    register = _agreements(first_day, revision_day, today)
    _restate(register, revision_day, cutoff)
    world = Simulation(random.Random(seed), register, cutoff, revision_day)
    leads = world.simulate_leads(first_day, today - timedelta(days=1))
    traffic = world.simulate_traffic(first_day, today - timedelta(days=1))
    _correct(leads, register, cutoff, random.Random(seed + 1))
    # Written to a draft, put in place whole: a demo interrupted (Ctrl-C) leaves no half
    # store that the next demo would refuse as not its own, and two at once do not mix.
    draft = draft_beside(path)
    try:
        app = HandoffApp(locate(str(draft)))
        try:
            app.save_in_bulk([register])
            for start in range(0, len(leads), _SAVE_BATCH):
                app.save_in_bulk(leads[start : start + _SAVE_BATCH])
            app.save_in_bulk(traffic)
            seal(app)  # as every command seals what it wrote
            written = eventstore.last_notification_id(app)
        finally:
            app.close()
        _mark_as_demo(draft, written)
        clear_demo_file(path)
        draft.replace(path)
    finally:
        _remove_sqlite_files(draft)
    return DemoStore(
        path=path,
        first_day=first_day,
        last_day=today - timedelta(days=1),
        leads=len(leads),
        events=sum(lead.version for lead in leads),
        traffic_days=len(traffic),
        last_full_month=month_start(today, -1).strftime("%Y-%m"),
    )


def clear_demo_file(path: Path) -> None:
    """Remove an earlier demo store at `path`; refuse to touch any other file."""
    _refuse_unless_demo(path)
    _remove_sqlite_files(path)


def _refuse_unless_demo(path: Path) -> None:
    if path.exists() and (path.is_dir() or not is_demo_store(path)):
        raise NotADemoStore(
            f"{path} exists and is not a demo store, or something was recorded in it since "
            "the demo built it (a lead, a verification): the demo will not overwrite it "
            "(choose another file with --out, or remove it yourself)"
        )


def _remove_sqlite_files(path: Path) -> None:
    for sibling in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        sibling.unlink(missing_ok=True)


def is_demo_store(path: Path) -> bool:
    """A store the demo built and nobody wrote to since: its first agreement is the demo's,
    and its last event is the last one the demo wrote (a lead captured in it since,
    or anything else recorded, makes it a store the demo will not remove)."""
    with path.open("rb") as file:
        if file.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            return False
    # Look before opening it as a store: opening would add tables to a foreign database.
    with sqlite3.connect(sqlite_uri(path, "mode=ro"), uri=True) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        (demo_wrote,) = connection.execute("PRAGMA user_version").fetchone()
    if eventstore.SQLITE_EVENTS_TABLE not in tables or not demo_wrote:
        return False
    app = HandoffApp(locate(str(path)), create=False)
    try:
        versions = app.agreement_register().versions
        last = eventstore.last_notification_id(app)
    finally:
        app.close()
    return bool(versions) and versions[0].name == DEMO_AGREEMENT and last == demo_wrote


def _mark_as_demo(path: Path, events: int) -> None:
    """Note in the file how many events the demo wrote (SQLite's user_version, which
    nothing else uses): a store holding more is no longer the demo's to remove."""
    connection = sqlite3.connect(path)
    try:
        connection.execute(f"PRAGMA user_version = {int(events)}")
        # Self-contained, its write-ahead log folded in, before it is moved into place.
        connection.execute("PRAGMA journal_mode = DELETE")
    finally:
        connection.close()


# -- the agreement ---------------------------------------------------------------------

_AGREEMENT = """\
name = "{name}"
effective_from = {start}
effective_to = {end}
timezone = "America/Chicago"

[goal]
revenue = {revenue}
average_deal = {average_deal}

[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00", "17:00"]
country_holidays = "US"

[marketing]
qualified_per_month = {qualified_per_month}
rates = {{ visit_to_captured = 0.02, captured_to_qualified = {captured_to_qualified}, \
qualified_to_handed = 0.90 }}

[sales]
decide_within_hours = {decide_within_hours}
follow_up = {{ attempts = 6, within_days = 14 }}
rates = {{ handed_to_accepted = {handed_to_accepted}, accepted_to_proposal = 0.40, \
proposal_to_won = {proposal_to_won} }}

[team]
marketing = {marketing}
sales = {sales}
"""


def _agreements(first_day: date, revision_day: date, today: date) -> AgreementRegister:
    """The first agreement, then a revision that tightens the handoff and revises rates.

    The revision runs for a year, and at least to the end of next month, so that an
    agreement is in force today whatever the span of the demo.
    """
    first_months = len(months_between(first_day, revision_day - timedelta(days=1)))
    revision_end = max(month_start(revision_day, 12), month_start(today, 2))
    revised_months = len(months_between(revision_day, revision_end - timedelta(days=1)))
    first = _AGREEMENT.format(
        name=DEMO_AGREEMENT, start=first_day, end=revision_day - timedelta(days=1),
        revenue=200000 * first_months, average_deal=30000, qualified_per_month=70,
        captured_to_qualified="0.30", decide_within_hours=16, handed_to_accepted="0.80",
        proposal_to_won="0.35", marketing=_toml_list(MARKETING), sales=_toml_list(SALES),
    )
    revised = _AGREEMENT.format(
        name=f"{DEMO_AGREEMENT} (revised)", start=revision_day,
        end=revision_end - timedelta(days=1),
        revenue=220000 * revised_months, average_deal=28000, qualified_per_month=80,
        captured_to_qualified="0.32", decide_within_hours=8, handed_to_accepted="0.85",
        proposal_to_won="0.33", marketing=_toml_list(MARKETING),
        sales=_toml_list((*SALES, NEW_HIRE)),
    )
    register = AgreementRegister()
    # Each version is a contract between the two sides: marketing proposes, sales signs.
    proposed = register.apply(parse_agreement(first), "maria", _local(first_day, -8, 10))
    register.sign(proposed.number, "sam", _local(first_day, -6, 10))
    proposed = register.apply(parse_agreement(revised), "maria", _local(revision_day, -8, 10))
    register.sign(proposed.number, "sam", _local(revision_day, -6, 15))
    return register


def _restate(register: AgreementRegister, revision_day: date, cutoff: datetime) -> None:
    """Five weeks into the revision, both sides restate it: the office was closed on the
    second Monday of it (or the next Monday open for business, as the second Monday of
    October is Columbus Day), which was no business day, for the handoffs already judged
    too (SPEC §3); the review of that month names the restatement."""
    revised = register.versions[-1].terms
    closed = revision_day + timedelta(days=7 + (7 - revision_day.weekday()) % 7)
    while not revised.calendar.is_business_day(closed):
        closed += timedelta(days=7)
    at = _local(revision_day, 35, 10)
    if at >= cutoff - timedelta(days=2):
        return  # a demo too short to show it
    calendar = revised.document.get("calendar", {})
    holidays = sorted({*calendar.get("holidays", []), closed.isoformat()})
    document = {**revised.document, "calendar": {**calendar, "holidays": holidays}}
    why = f"the office was closed for the move on {closed:%A %d %B}: no business hours that day"
    proposed = register.apply(AgreementTerms(document), "maria", at, restates=why)
    register.sign(proposed.number, "sam", at + timedelta(hours=3))


def _correct(leads: list[Lead], register: AgreementRegister, cutoff: datetime,
             rng: random.Random) -> None:
    """A few corrections, as people make them (SPEC §2): follow-up calls logged days
    later at their true time, a call logged on the wrong lead voided, a won amount
    amended. Each is recorded after the lead's latest entry, and before the demo's end."""
    settled = [lead for lead in leads
               if lead.entries[-1].timestamp < cutoff - timedelta(days=10)]
    accepted = [lead for lead in settled if any(f.name == "accepted" for f in lead.facts())]
    for lead in rng.sample(accepted, min(3, len(accepted))):
        decided = next(f for f in lead.facts() if f.name == "accepted")
        stamp = _correction_stamp(lead, register, "contacted", decided.occurred_at
                                  + timedelta(hours=1))
        lead.contact(stamp, channel="phone", why="the call was logged from the phone days later")
    contacted = [lead for lead in settled if any(f.name == "contacted" for f in lead.facts())]
    for lead in rng.sample(contacted, min(1, len(contacted))):
        call = next(f for f in lead.facts() if f.name == "contacted")
        stamp = _correction_stamp(lead, register, "contacted", call.occurred_at)
        lead.void(call.n, "this call was with another lead's contact", _now(stamp))
    won = [lead for lead in settled if lead.state == "won"]
    for lead in rng.sample(won, min(1, len(won))):
        deal = next(f for f in lead.facts() if f.name == "won")
        amount = (deal.data["amount"] * Decimal("0.9")).quantize(Decimal("0.01"))
        stamp = _correction_stamp(lead, register, "won", deal.occurred_at)
        lead.amend(deal.n, {"amount": amount}, "the 10% discount was left out", _now(stamp))


def _correction_stamp(
    lead: Lead, register: AgreementRegister, event_name: str, occurred_at: datetime
) -> Stamp:
    """A step of the lead's owner, recorded two days after the lead's latest entry (under
    the versions signed by then, as the simulation's steps)."""
    recorded_at = lead.entries[-1].timestamp + timedelta(days=2)
    return register.stamp(event_name, lead.owner or SALES[0], occurred_at, recorded_at,
                          as_of=recorded_at)


def _now(stamp: Stamp) -> Stamp:
    """A correction's own stamp: made when recorded."""
    return replace(stamp, occurred_at=stamp.recorded_at)


def _local(day: date, days: int, hour: int) -> datetime:
    return datetime.combine(day + timedelta(days=days), time(hour), TIMEZONE).astimezone(UTC)


def _toml_list(names: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"
