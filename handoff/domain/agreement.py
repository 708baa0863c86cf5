"""The agreement: its terms, the TOML that states them, and the register of applied versions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate, event

from handoff.domain.business_time import WEEKDAYS, BusinessCalendar
from handoff.domain.errors import ActorRefused, InvalidAgreement
from handoff.domain.lead import Stamp

MARKETING_RATES = ("visit_to_captured", "captured_to_qualified", "qualified_to_handed")
SALES_RATES = ("handed_to_accepted", "accepted_to_proposal", "proposal_to_won")
MARKETING_EVENTS = frozenset({"captured", "qualified", "handed"})
SALES_EVENTS = frozenset({"accepted", "rejected", "contacted", "proposal", "won", "lost"})

_SCHEMA: dict[str, Any] = {
    "name": str,
    "effective_from": date,
    "effective_to": date,
    "timezone": str,
    "goal": {"revenue": Decimal, "average_deal": Decimal},
    "calendar": {"workdays": list, "hours": list, "holidays": list, "country_holidays": str},
    "marketing": {"qualified_per_month": int, "rates": dict.fromkeys(MARKETING_RATES, Decimal)},
    "sales": {
        "decide_within_hours": Decimal,
        "follow_up": {"attempts": int, "within_days": int},
        "rates": dict.fromkeys(SALES_RATES, Decimal),
    },
    "team": {"marketing": list, "sales": list},
}
_REQUIRED = (("name",), ("effective_from",), ("sales", "decide_within_hours"))


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


def parse_agreement(text: str) -> AgreementTerms:
    """Validate an agreement TOML document; refuse it with the key and the reason."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise InvalidAgreement(f"not valid TOML: {error}") from None
    _check_shape(raw, _SCHEMA, prefix="")
    for path in _REQUIRED:
        node: Any = raw
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise InvalidAgreement(f"{'.'.join(path)}: is required")
            node = node[part]
    return AgreementTerms(_normalise(raw))


def _fail(key: str, reason: str) -> InvalidAgreement:
    return InvalidAgreement(f"{key}: {reason}")


def _check_shape(node: dict[str, Any], schema: dict[str, Any], prefix: str) -> None:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if key not in schema:
            raise _fail(path, "unknown key")
        expected = schema[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise _fail(path, "must be a table")
            _check_shape(value, expected, prefix=f"{path}.")
        elif not _is_type(value, expected):
            raise _fail(path, f"must be {_TYPE_WORDS[expected]}, got {value!r}")


_TYPE_WORDS = {
    str: "a string",
    date: "a date (YYYY-MM-DD)",
    Decimal: "a number",
    int: "a whole number",
    list: "a list",
}


def _is_type(value: Any, expected: type) -> bool:
    if expected is Decimal:
        return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    return isinstance(value, expected)


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Check values and return a JSON-safe document (dates and decimals as strings)."""
    doc: dict[str, Any] = {"name": raw["name"].strip()}
    if not doc["name"]:
        raise _fail("name", "must not be empty")
    doc["effective_from"] = raw["effective_from"].isoformat()
    if "effective_to" in raw:
        if raw["effective_to"] < raw["effective_from"]:
            raise _fail("effective_to", "is before effective_from")
        doc["effective_to"] = raw["effective_to"].isoformat()
    doc["timezone"] = _timezone(raw.get("timezone", "UTC"))
    if "goal" in raw:
        doc["goal"] = {k: _positive(f"goal.{k}", v) for k, v in raw["goal"].items()}
    if "calendar" in raw:
        doc["calendar"] = _calendar(raw["calendar"])
    if "marketing" in raw:
        doc["marketing"] = _side("marketing", raw["marketing"])
    doc["sales"] = _side("sales", raw["sales"])
    if "team" in raw:
        doc["team"] = {
            side: _names(f"team.{side}", members) for side, members in raw["team"].items()
        }
    return doc


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail("timezone", f"unknown time zone {name!r}") from None
    return name


def _positive(key: str, value: int | Decimal) -> str:
    if value <= 0:
        raise _fail(key, f"must be greater than 0, got {value}")
    return str(value)


def _calendar(section: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "workdays" in section:
        days = section["workdays"]
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown or not days:
            raise _fail("calendar.workdays", f"must be a non-empty list of {', '.join(WEEKDAYS)}")
        out["workdays"] = list(dict.fromkeys(days))
    if "hours" in section:
        out["hours"] = _hours(section["hours"])
    if "holidays" in section:
        out["holidays"] = [_holiday(item) for item in section["holidays"]]
    if "country_holidays" in section:
        code = section["country_holidays"]
        import holidays  # slow to load: only when an agreement names a country

        if code not in holidays.list_supported_countries():
            raise _fail("calendar.country_holidays", f"unknown country code {code!r}")
        out["country_holidays"] = code
    return out


def _hours(hours: list[Any]) -> list[str]:
    key = "calendar.hours"
    if len(hours) != 2 or not all(isinstance(h, (str, time)) for h in hours):
        raise _fail(key, 'must be two times, like ["09:00", "17:00"]')
    try:
        opens, closes = (h if isinstance(h, time) else time.fromisoformat(h) for h in hours)
    except ValueError:
        raise _fail(key, f"not a time of day (HH:MM): {hours!r}") from None
    if closes <= opens:
        raise _fail(key, "must be increasing (opening before closing)")
    return [opens.isoformat("minutes"), closes.isoformat("minutes")]


def _holiday(item: Any) -> str:
    if isinstance(item, date) and not isinstance(item, datetime):
        return item.isoformat()
    if isinstance(item, str):
        try:
            return date.fromisoformat(item).isoformat()
        except ValueError:
            pass
    raise _fail("calendar.holidays", f"not a date (YYYY-MM-DD): {item!r}")


def _side(side: str, section: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in section.items():
        path = f"{side}.{key}"
        if key == "rates":
            out["rates"] = {name: _rate(f"{path}.{name}", v) for name, v in value.items()}
        elif key == "follow_up":
            out["follow_up"] = {k: int(_positive(f"{path}.{k}", v)) for k, v in value.items()}
        elif key == "qualified_per_month":
            if value < 0:
                raise _fail(path, f"must not be negative, got {value}")
            out[key] = value
        else:
            out[key] = _positive(path, value)
    return out


def _rate(key: str, value: int | Decimal) -> str:
    if not 0 < value <= 1:
        raise _fail(key, f"must be a rate between 0 and 1 (above 0), got {value}")
    return str(value)


def _names(key: str, members: list[Any]) -> list[str]:
    if not all(isinstance(m, str) and m.strip() for m in members):
        raise _fail(key, "must be a list of names")
    return [m.strip() for m in members]


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
