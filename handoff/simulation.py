"""The simulated year behind the demo: leads, people and traffic, told as the protocol.

Each lead's story is played with the domain's own methods, so every event obeys the
protocol; each event is recorded a little after it happened, as people really type things
in, and never before the lead's previous step was recorded (nobody types in a decision on a
handoff not yet recorded), and stamped as a command recording it then would stamp it: with
the agreement in force when it happened, of the versions signed by then. Stories stop at
the cutoff instant.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from handoff.application import apply_step
from handoff.domain.agreement import AgreementRegister
from handoff.domain.business_time import BusinessCalendar
from handoff.domain.lead import Lead
from handoff.domain.steps import Stamp
from handoff.domain.traffic import TrafficDay

TIMEZONE = ZoneInfo("America/Chicago")
MARKETING = ("maria", "li", "priya")
SALES = ("sam", "ola", "jonas")
NEW_HIRE = "kim"  # joins sales with the revised agreement
_BEGINNING = datetime.min.replace(tzinfo=UTC)

# source: (share of daily leads, chance marketing qualifies it, typical deal)
SOURCES: dict[str, tuple[float, float, int]] = {
    "web": (0.42, 0.24, 26000),
    "paid-social": (0.14, 0.18, 22000),
    "events": (0.12, 0.34, 30000),
    "referral": (0.14, 0.55, 32000),
    "partner": (0.18, 0.44, 38000),
}
# Leads per month move with the buying season: slow summer and December.
SEASON = (0.9, 1.0, 1.15, 1.1, 1.05, 0.95, 0.8, 0.75, 1.1, 1.2, 1.05, 0.7)
# Median business hours each salesperson takes to accept or reject a handoff.
RESPONSE_HOURS = {"sam": 2.5, "ola": 4.0, "jonas": 9.0, "kim": 5.0}
REJECT_REASONS = ("not a fit", "no budget", "duplicate", "student project", "wrong region")
LOST_REASONS = ("price", "competitor", "no decision", "timing", "went silent")
CHANNELS = ("phone", "email", "video call", "linkedin")
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jade",
               "Kofi", "Lena", "Mateo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara")
LAST_NAMES = ("Adams", "Brook", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
              "Jensen", "Khan", "Lopez", "Moreau", "Novak", "Okafor", "Park", "Rossi", "Silva")
COMPANIES = ("Acme", "Bluefin", "Cobalt", "Driftwood", "Evergreen", "Foxglove", "Granite",
             "Harbor", "Ironwood", "Juniper", "Keystone", "Lumen", "Meridian", "Northwind")


class _StoryEnds(Exception):
    """The next step of a lead's story would happen after the demo's cutoff."""


@dataclass
class Simulation:
    """Leads and traffic day by day, all drawn from one seeded random generator."""

    rng: random.Random
    register: AgreementRegister
    cutoff: datetime
    revision_day: date
    leads: list[Lead] = field(default_factory=list)

    def calendar_at(self, instant: datetime) -> BusinessCalendar:
        """The business hours people keep at the instant: those of the version in force
        then, as signed by then (a restatement signed later changes no one's past day)."""
        version = self.register.in_force_at(instant, as_of=instant) or self.register.versions[0]
        return version.terms.calendar

    def stamp(self, event_name: str, actor: str, at: datetime, recorded_at: datetime) -> Stamp:
        """As a command recording the event then stamps it: the register holds every
        version of the story, and those signed after `recorded_at` were not signed yet."""
        return self.register.stamp(event_name, actor, at, recorded_at, as_of=recorded_at)

    def simulate_leads(self, first_day: date, last_day: date) -> list[Lead]:
        show_days = self._trade_show_days(first_day, last_day)
        day = first_day
        while day <= last_day:
            for source in self._sources_of_the_day(day, show_days):
                _LeadStory(self, source).tell(self._capture_instant(day))
            day += timedelta(days=1)
        return self.leads

    def simulate_traffic(self, first_day: date, last_day: date) -> list[TrafficDay]:
        days: list[TrafficDay] = []
        day = first_day
        while day <= last_day:
            expected = self._leads_expected(day) / 0.021
            visits = round(expected * self.rng.uniform(0.85, 1.15))
            morning = datetime.combine(day + timedelta(days=1), time(8, 30), TIMEZONE)
            recorded_at = min(
                morning.astimezone(UTC) + timedelta(minutes=self.rng.uniform(0, 90)),
                self.cutoff,
            )
            traffic = TrafficDay(day=day.isoformat())
            traffic.record(visits, actor="li", recorded_at=recorded_at, zone=TIMEZONE)
            days.append(traffic)
            day += timedelta(days=1)
        return days

    def _leads_expected(self, day: date) -> float:
        weekday_factor = 1.0 if day.weekday() < 5 else 0.35
        return 8.8 * SEASON[day.month - 1] * weekday_factor

    def _sources_of_the_day(self, day: date, show_days: set[date]) -> list[str]:
        count = _poisson(self.rng, self._leads_expected(day))
        names = list(SOURCES)
        sources = self.rng.choices(names, weights=[SOURCES[n][0] for n in names], k=count)
        if day in show_days:  # a trade show brings a wave of event leads
            sources += ["events"] * self.rng.randint(12, 25)
        return sources

    def _trade_show_days(self, first_day: date, last_day: date) -> set[date]:
        span = (last_day - first_day).days
        starts = {first_day + timedelta(days=self.rng.randrange(span)) for _ in range(3)}
        return {start + timedelta(days=i) for start in starts for i in range(2)}

    def _capture_instant(self, day: date) -> datetime:
        if self.rng.random() < 0.7:
            minute = self.rng.uniform(9 * 60, 17 * 60)
        else:
            minute = self.rng.uniform(6 * 60, 23 * 60)
        local = datetime.combine(day, time(0), TIMEZONE) + timedelta(minutes=minute)
        return local.astimezone(UTC).replace(microsecond=0)


@dataclass
class _LeadStory:
    """One lead's journey through the protocol, as the people involved would record it."""

    world: Simulation
    source: str
    lead: Lead | None = None
    at: datetime = _BEGINNING
    recorded: datetime = _BEGINNING  # when the lead's latest step was recorded

    @property
    def rng(self) -> random.Random:
        return self.world.rng

    def tell(self, captured_at: datetime) -> None:
        try:
            self._capture(captured_at)
            self._marketing()
        except _StoryEnds:
            pass
        if self.lead is not None:
            self.world.leads.append(self.lead)

    def _step(self, event_name: str, at: datetime, actor: str, **data: Any) -> None:
        if at >= self.world.cutoff:
            raise _StoryEnds
        stamp = self.world.stamp(event_name, actor, at, self._recorded_at(at))
        assert self.lead is not None
        apply_step(self.lead, event_name, stamp, data)
        self.at = at

    def _recorded_at(self, at: datetime) -> datetime:
        """A little after the step happened, and not before the previous step was recorded:
        a step typed in late holds back the ones after it (they are typed in together)."""
        roll = self.rng.random()
        if roll < 0.8:
            delay = timedelta(minutes=self.rng.uniform(1, 30))
        elif roll < 0.95:
            delay = timedelta(hours=self.rng.uniform(1, 6))
        else:  # typed in the next working day
            delay = timedelta(hours=self.rng.uniform(16, 40))
        recorded = max(min(at + delay, self.world.cutoff).replace(microsecond=0), self.recorded)
        self.recorded = recorded
        return recorded

    def _later(self, low: float, high: float) -> datetime:
        """An instant some business hours after the last step (people act in office hours)."""
        hours = self.rng.uniform(low, high)
        instant = self.world.calendar_at(self.at).add_business_hours(self.at, hours)
        return instant.replace(microsecond=0)

    def _capture(self, at: datetime) -> None:
        if at >= self.world.cutoff:
            raise _StoryEnds
        number = len(self.world.leads) + 1
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        company = self.rng.choice(COMPANIES)
        actor = {"events": "priya", "referral": "maria", "partner": "maria"}.get(self.source, "li")
        stamp = self.world.stamp("captured", actor, at, self._recorded_at(at))
        self.lead = Lead.capture(
            f"CRM-{10000 + number}", self.source, stamp,
            name=f"{first} {last}", email=f"{first}.{last}@{company}.example".lower(),
            company=f"{company} {self.rng.choice(('Inc', 'GmbH', 'Ltd', 'LLC'))}",
        )
        self.at = at

    def _marketing(self) -> None:
        if self.rng.random() >= SOURCES[self.source][1]:
            return  # never qualified: nurtured or discarded by marketing
        for attempt in (1, 2):
            self._step("qualified", self._later(1, 20), self.rng.choice(("maria", "priya")),
                       score=self.rng.randint(40, 95))
            if self.rng.random() >= 0.92:
                return  # qualified but kept by marketing for nurturing
            owner = self._owner()
            self._step("handed", self._later(0.2, 6), self.rng.choice(("maria", "li")),
                       owner=owner)
            rejected = self._decide(owner, recycled=attempt == 2)
            if not rejected or attempt == 2 or self.rng.random() >= 0.35:
                return
            self.at += timedelta(days=self.rng.uniform(10, 40))  # recycled: requalified later

    def _owner(self) -> str:
        people: tuple[str, ...] = SALES
        weights: tuple[float, ...] = (0.4, 0.35, 0.25)
        if self.at.astimezone(TIMEZONE).date() >= self.world.revision_day:
            people, weights = (*SALES, NEW_HIRE), (0.3, 0.25, 0.2, 0.25)
        if self.source == "partner":
            weights = tuple(w * (3 if p == "jonas" else 1) for p, w in zip(people, weights,
                                                                           strict=True))
        return self.rng.choices(people, weights=weights)[0]

    def _decide(self, owner: str, recycled: bool) -> bool:
        """Sales decides on the handoff; True when it came back rejected (may be recycled)."""
        if self.rng.random() < 0.02:
            raise _StoryEnds  # a missed handoff: nobody ever decides on it
        median = RESPONSE_HOURS[owner]
        if self.at.astimezone(TIMEZONE).date() >= self.world.revision_day:
            median *= 0.7  # the revision came with a daily triage meeting
        hours = min(median * self.rng.lognormvariate(0, 0.8), 60)
        decided_at = self._later(hours, hours)
        if self.rng.random() < (0.85 if recycled else 0.8):
            self._step("accepted", decided_at, owner)
            self._sales(owner)
            return False
        self._step("rejected", decided_at, owner, reason=self.rng.choice(REJECT_REASONS))
        return True

    def _sales(self, owner: str) -> None:
        for _ in range(self.rng.randint(1, 5)):
            self._step("contacted", self._later(1, 24), owner, channel=self.rng.choice(CHANNELS))
        if self.rng.random() >= 0.38:
            if self.rng.random() < 0.6:
                self._step("lost", self._later(16, 120), owner, reason="went silent")
            return
        amount = self._deal_size()
        self._step("proposal", self._later(8, 60), owner, amount=amount)
        if self.rng.random() < 0.3:  # re-sent after a negotiation round
            amount = Decimal(int(round(float(amount) * self.rng.uniform(0.85, 0.97), -2)))
            self._step("proposal", self._later(16, 80), owner, amount=amount)
        closed_at = self._later(40, 240)
        if self.rng.random() < 0.36:
            self._step("won", closed_at, owner)
        else:
            self._step("lost", closed_at, owner, reason=self.rng.choice(LOST_REASONS))

    def _deal_size(self) -> Decimal:
        typical = SOURCES[self.source][2]
        return Decimal(int(round(typical * self.rng.lognormvariate(0, 0.35), -2)))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: fine for the small daily means used here)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def month_start(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
