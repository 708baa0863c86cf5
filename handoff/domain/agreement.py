"""The agreement: the terms of one version, and the register of every version applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from handoff.domain.business_time import WEEKDAYS, BusinessCalendar
from handoff.domain.errors import ActorRefused
from handoff.domain.lead import Stamp

MARKETING_RATES = ("visit_to_captured", "captured_to_qualified", "qualified_to_handed")
SALES_RATES = ("handed_to_accepted", "accepted_to_proposal", "proposal_to_won")
MARKETING_EVENTS = frozenset({"captured", "qualified", "handed"})
SALES_EVENTS = frozenset({"accepted", "rejected", "contacted", "proposal", "won", "lost"})

@dataclass(frozen=True)
class AgreementTerms:
    """One version of the agreement, as validated from its TOML document."""

    document: dict[str, Any]  # JSON-safe: dates and decimals as strings

    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def effective_from(self) -> date:
        return date.fromisoformat(self.document["effective_from"])

    @property
    def effective_to(self) -> date | None:
        value = self.document.get("effective_to")
        return date.fromisoformat(value) if value else None

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.document.get("timezone", "UTC"))

    def covers(self, day: date) -> bool:
        end = self.effective_to
        return self.effective_from <= day and (end is None or day <= end)

    def covers_instant(self, instant: datetime) -> bool:
        return self.covers(instant.astimezone(self.timezone).date())

    @cached_property
    def calendar(self) -> BusinessCalendar:
        section = self.document.get("calendar", {})
        opens, closes = section.get("hours", ["09:00", "17:00"])
        return BusinessCalendar(
            timezone=self.timezone,
            workdays=frozenset(
                WEEKDAYS.index(d) for d in section.get("workdays", WEEKDAYS[:5])
            ),
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
            holidays=frozenset(date.fromisoformat(d) for d in section.get("holidays", [])),
            country_holidays=section.get("country_holidays"),
        )

    @property
    def decide_within_hours(self) -> Decimal:
        return Decimal(self.document["sales"]["decide_within_hours"])

    def rate(self, name: str) -> Decimal | None:
        side = "marketing" if name in MARKETING_RATES else "sales"
        value = self.document.get(side, {}).get("rates", {}).get(name)
        return None if value is None else Decimal(value)

    def goal(self, name: str) -> Decimal | None:
        value = self.document.get("goal", {}).get(name)
        return None if value is None else Decimal(value)

    @property
    def qualified_per_month(self) -> int | None:
        value = self.document.get("marketing", {}).get("qualified_per_month")
        return None if value is None else int(value)

    def team_for(self, event_name: str) -> list[str] | None:
        """Who may record this event, or None when the agreement does not restrict it.

        A `[team]` that names only one side restricts only that side: leaving `sales`
        out is read as "not agreed", not as "nobody may sell".
        """
        side = "marketing" if event_name in MARKETING_EVENTS else "sales"
        members = self.document.get("team", {}).get(side)
        return None if members is None else list(members)


@dataclass(frozen=True)
class AppliedVersion:
    number: int
    terms: AgreementTerms
    applied_at: datetime
    actor: str

    @property
    def name(self) -> str:
        return self.terms.name


class AgreementRegister(Aggregate):
    """Every version of the agreement ever applied; versions are never edited."""

    ID = uuid5(NAMESPACE_URL, "handoff:agreement-register")

    @staticmethod
    def create_id() -> UUID:
        return AgreementRegister.ID

    @event("Opened")
    def __init__(self) -> None:
        self.versions: list[AppliedVersion] = []

    def apply_version(self, terms: AgreementTerms, actor: str, applied_at: datetime) -> None:
        self._version_applied(document=terms.document, actor=actor, applied_at=applied_at)

    @event("VersionApplied")
    def _version_applied(self, document: dict[str, Any], actor: str, applied_at: datetime) -> None:
        number = len(self.versions) + 1
        self.versions.append(AppliedVersion(number, AgreementTerms(document), applied_at, actor))

    def known_at(self, as_of: datetime | None) -> list[AppliedVersion]:
        if as_of is None:
            return self.versions
        return [v for v in self.versions if v.applied_at <= as_of]

    def in_force_at(
        self, instant: datetime, as_of: datetime | None = None
    ) -> AppliedVersion | None:
        """The latest-applied version whose effective dates contain the instant."""
        for version in reversed(self.known_at(as_of)):
            if version.terms.covers_instant(instant):
                return version
        return None

    def in_force_on(self, day: date, as_of: datetime | None = None) -> AppliedVersion | None:
        """The latest-applied version whose effective dates contain the local day."""
        for version in reversed(self.known_at(as_of)):
            if version.terms.covers(day):
                return version
        return None

    def stamp(
        self, event_name: str, actor: str, occurred_at: datetime, recorded_at: datetime
    ) -> Stamp:
        """Stamp a lead event with the version in force; refuse an actor outside its team."""
        version = self.in_force_at(occurred_at)
        if version is None:
            return Stamp(occurred_at, recorded_at, actor)
        team = version.terms.team_for(event_name)
        if team is not None and actor not in team:
            raise ActorRefused(
                f"{actor!r} may not record {event_name}: the agreement {version.name!r} "
                f"lets only {', '.join(team) or 'nobody'} do that"
            )
        return Stamp(occurred_at, recorded_at, actor, version.number, version.name)
