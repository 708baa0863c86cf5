"""The agreement file: SPEC §3's TOML, checked key by key and refused with the key and reason."""

from __future__ import annotations

import tomllib
from contextlib import suppress
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from handoff.domain.agreement import (
    MARKETING_RATES,
    SALES_RATES,
    SIDES,
    AgreementRegister,
    AgreementTerms,
    changes_between,
    check_restatement,
)
from handoff.domain.bounds import (
    MAX_COUNT,
    check_day,
    check_entry_actor,
    check_seen_as_written,
    check_text,
    day_from_text,
    in_cents,
)
from handoff.domain.business_time import END_OF_DAY, WEEKDAYS, public_holidays, time_of_day
from handoff.domain.errors import InvalidAgreement, InvalidInput

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
_FOLLOW_UP_BELOW = {"attempts": 1000, "within_days": 3660}
_REQUIRED = (("name",), ("effective_from",), ("sales", "decide_within_hours"))


def parse_agreement(text: str) -> AgreementTerms:
    """Validate an agreement TOML document; refuse it with the key and the reason."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise InvalidAgreement(f"not valid TOML: {error}") from None
    except RecursionError:  # its reader recurses once per level of arrays and tables
        raise InvalidAgreement("not TOML handoff reads: nested too deeply") from None
    terms = _checked(raw)
    # Checked on the file only: a backup of an earlier release, which recorded such terms,
    # is restored as it was recorded. A goal is money, to the cent as the plan counts it.
    for key, value in raw.get("goal", {}).items():
        if not in_cents(Decimal(value)):
            reason = f"must be money to the cent (at most 2 decimals), got {value}"
            raise _fail(f"goal.{key}", reason)
    if terms.decide_within_hours * 60 < 1:  # shorter than a minute: a slipped decimal point
        raise _fail("sales.decide_within_hours", "must be at least one minute (0.0167 hours),"
                    f" got {_plain(terms.decide_within_hours)}")
    # A member is typed as they are seen, as an owner is (a handoff names them): 'sa\u200bm'
    # on the sales side could never be handed a lead.
    for side, members in (terms.document.get("team") or {}).items():
        for member in members or ():
            try:
                check_seen_as_written("the name", member)
            except InvalidInput as error:
                raise _fail(f"team.{side}", str(error)) from None
    return terms


def check_document(document: dict[str, Any]) -> None:
    """Refuse a version's terms as recorded (a backup's) unless `sla apply` could have
    recorded them: read back as the file's values, they pass the same checks and are
    recorded the same."""
    terms = _checked(_as_parsed(document, _SCHEMA))
    differing = next((c.key for c in changes_between(terms, AgreementTerms(document))), None)
    if differing is not None:
        raise _fail(differing, "is not written as sla apply records it")


def _checked(raw: dict[str, Any]) -> AgreementTerms:
    _check_shape(raw, _SCHEMA, prefix="")
    for path in _REQUIRED:
        node: Any = raw
        for part in path:
            if not isinstance(node, dict) or part not in node:
                raise InvalidAgreement(f"{'.'.join(path)}: is required")
            node = node[part]
    terms = AgreementTerms(_normalise(raw))
    _check_due_instants(terms)
    return terms


def _as_parsed(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A recorded document's values as the TOML file gave them (dates and numbers are
    recorded as text); anything else is left for the checks to refuse."""
    parsed: dict[str, Any] = {}
    for key, value in node.items():
        expected = schema.get(key) if isinstance(schema, dict) else None
        if isinstance(expected, dict) and isinstance(value, dict):
            value = _as_parsed(value, expected)
        elif expected is date and isinstance(value, str):
            with suppress(ValueError):
                value = day_from_text(value)
        elif expected is Decimal and isinstance(value, str):
            with suppress(ArithmeticError):
                value = Decimal(value)
        parsed[key] = value
    return parsed


# `effective_to = 9999-12-31` is how many systems write "for ever": read as open-ended.
_FOREVER = date(9999, 12, 31)
_MAX_DECIDE_HOURS = Decimal(8760)  # a year of hours, far beyond any handoff window
_MIN_RATE = Decimal("0.000001")
# A goal is money: a cent at least. The plan divides the revenue by the average deal, and
# a deal of 5e-324 planned 10^329 wins, beyond what any report can chart.
_MIN_GOAL = Decimal("0.01")


def _check_due_instants(terms: AgreementTerms) -> None:
    """Refuse terms whose due instants the calendar cannot find (say, 5,000 business hours
    on a calendar open one hour a week, or 8 behind years of holidays) from a day of the
    version: found now, when the file is applied, rather than by every report later. An
    open-ended version is checked as far as its holidays go: beyond them its weeks repeat."""
    calendar, hours = terms.calendar, terms.decide_within_hours
    first = terms.effective_from
    day = calendar.first_day_short_of(
        hours, first, terms.effective_to or max([first, *calendar.holidays])
    )
    if day is None:
        day = terms.effective_to or first
        try:
            due = calendar.add_business_hours(datetime.combine(day, time(0), terms.timezone),
                                              hours)
        except (ValueError, OverflowError):
            due = None
        if due is not None and due.year < 2200:
            return
    raise _fail(
        "sales.decide_within_hours",
        f"{hours} business hours after {day} cannot be reached within three years on this"
        " calendar (check calendar.workdays, hours and holidays)",
    )


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
            raise _fail(path, f"must be {_TYPE_WORDS[expected]}, got {_as_written(value)}"
                        + _unquote_hint(value, expected))


def _unquote_hint(value: Any, expected: type) -> str:
    """What to do when the value is right but for its quotes (`"2026-06-30"`, `"8"`): the
    message would otherwise read "must be a date (YYYY-MM-DD), got '2026-06-30'"."""
    if not isinstance(value, str) or expected is str:
        return ""
    try:
        unquoted = tomllib.loads(f"value = {value}", parse_float=Decimal)["value"]
    except tomllib.TOMLDecodeError:
        return ""
    return " (in quotes it is a text: write it without them)" if _is_type(
        unquoted, expected) else ""


def _as_written(value: Any) -> str:
    """A value as the file writes it (`true`, `2026-01-01T09:00:00`, `inf`), not as Python
    shows it (`True`, `datetime.datetime(...)`, `Decimal('Infinity')`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, time)):  # a datetime is a date
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value).lower().replace("infinity", "inf")
    return repr(value)


_TYPE_WORDS = {
    str: "a string",
    date: "a date (YYYY-MM-DD)",
    Decimal: "a number",
    int: "a whole number",
    list: "a list",
}


def _is_type(value: Any, expected: type) -> bool:
    if expected is Decimal:  # inf and nan are not numbers of an agreement
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, Decimal) and value.is_finite()
        )
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    return isinstance(value, expected)


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Check values and return a JSON-safe document (dates and decimals as strings)."""
    doc: dict[str, Any] = {"name": _text("name", raw["name"]).strip()}
    if not doc["name"]:
        raise _fail("name", "must not be empty")
    doc["effective_from"] = _day("effective_from", raw["effective_from"]).isoformat()
    if "effective_to" in raw and raw["effective_to"] != _FOREVER:
        if raw["effective_to"] < raw["effective_from"]:
            raise _fail("effective_to", "is before effective_from")
        doc["effective_to"] = _day("effective_to", raw["effective_to"]).isoformat()
    doc["timezone"] = _timezone(raw.get("timezone", "UTC"))
    if "goal" in raw:
        doc["goal"] = {k: _goal(f"goal.{k}", v) for k, v in raw["goal"].items()}
    if "calendar" in raw:
        doc["calendar"] = _calendar(raw["calendar"])
    if "marketing" in raw:
        doc["marketing"] = _side("marketing", raw["marketing"])
    doc["sales"] = _side("sales", raw["sales"])
    if "team" in raw:
        doc["team"] = {
            side: _names(f"team.{side}", members) for side, members in raw["team"].items()
        }
        both = set(doc["team"].get("marketing", ())) & set(doc["team"].get("sales", ()))
        if both:  # nobody could sign for the other side: the version would never be in force
            raise _fail("team", f"{min(both)!r} is on both sides")
    return _without_empty_tables(doc)


def _without_empty_tables(section: dict[str, Any]) -> dict[str, Any]:
    """An empty table (`[goal]` with nothing under it, `rates = {}`) states no term: recorded,
    it would make the same terms a new version, whose history reads "no term changed"."""
    kept = {k: _without_empty_tables(v) if isinstance(v, dict) else v for k, v in section.items()}
    return {k: v for k, v in kept.items() if v != {}}


def _day(key: str, day: date) -> date:
    try:
        return check_day(day)
    except InvalidInput as error:
        hint = " (omit effective_to, or write 9999-12-31, for open-ended)" if key == (
            "effective_to") else ""
        raise _fail(key, f"{error}{hint}") from None


def _text(key: str, value: str) -> str:
    try:
        check_text(key, value)
    except InvalidInput as error:  # "name must be one line": the key is said once, first
        raise _fail(key, str(error).removeprefix(f"{key} ")) from None
    return value


def _timezone(name: str) -> str:
    if name not in _iana_zones():
        raise _fail("timezone", f"unknown time zone {name!r}")
    return name


@cache
def _iana_zones() -> frozenset[str]:
    """The IANA names this machine knows. The tz folder holds other files ZoneInfo opens too:
    `localtime` (this machine's own zone: another machine reading the store would judge the
    same handoff by its own clock), `posixrules`, and `posix/` and `right/` copies that only
    some systems ship."""
    return frozenset(available_timezones()) - {"localtime"}


def _positive(key: str, value: int | Decimal, below: int | Decimal = MAX_COUNT) -> str:
    if value <= 0:
        raise _fail(key, f"must be greater than 0, got {value}")
    if value >= below:
        raise _fail(key, f"must be below {below}, got {value}")
    return _plain(value)


def _goal(key: str, value: int | Decimal) -> str:
    written = _positive(key, value)
    if value < _MIN_GOAL:
        raise _fail(key, f"must be at least {_MIN_GOAL}, got {value}")
    return written


def _calendar(section: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "workdays" in section:
        days = section["workdays"]
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown or not days:
            raise _fail("calendar.workdays", f"must be a non-empty list of {', '.join(WEEKDAYS)}")
        # Sets of days, written in one order (the week's, the calendar's) and once each:
        # listed otherwise, the same calendar would read as changed terms.
        out["workdays"] = [day for day in WEEKDAYS if day in days]
    if "hours" in section:
        out["hours"] = _hours(section["hours"])
    if "holidays" in section:
        out["holidays"] = sorted({_holiday(item) for item in section["holidays"]})
    if "country_holidays" in section:
        code = section["country_holidays"]
        try:  # the package loads slowly: only when an agreement names a country
            days = public_holidays(code)
        except ValueError as error:
            raise _fail("calendar.country_holidays", f"{error}{_in_capitals(code)}") from None
        # Written one way (`USA` is the package's alias of `US`): the same days written
        # otherwise would read as changed terms.
        out["country_holidays"] = f"{days.country}-{days.subdiv}" if days.subdiv else days.country
    return out


def _in_capitals(code: Any) -> str:
    """How a code written in small letters (`de`, `US-ca`) is written, when in capitals it
    names a country (and region) the package knows; else nothing to add."""
    if not isinstance(code, str) or code.upper() == code:
        return ""
    try:
        public_holidays(code.upper())
    except ValueError:
        return ""
    return f" (codes are written in capitals: {code.upper()!r})"


def _hours(hours: list[Any]) -> list[str]:
    key = "calendar.hours"
    if len(hours) != 2 or not all(isinstance(h, (str, time)) for h in hours):
        raise _fail(key, 'must be two times, like ["09:00", "17:00"]')
    try:
        opens, closes = (
            h if isinstance(h, time) else time_of_day(h, closing=n == 1)
            for n, h in enumerate(hours)
        )
    except ValueError:
        raise _fail(key, f"not a time of day (HH:MM, or {END_OF_DAY} to close at"
                         f" midnight): {hours!r}") from None
    assert opens is not None  # only a closing hour is the end of the day
    for hour in (opens, closes):
        # An offset would be dropped (the hours are the agreement's own time zone's), as
        # would seconds (stored as HH:MM): refused rather than changed without a word.
        if hour is not None and (hour.tzinfo is not None or hour.second or hour.microsecond):
            written = [h if isinstance(h, str) else h.isoformat() for h in hours]
            raise _fail(key, "times of day are HH:MM on the agreement's own clock (no"
                             f" seconds, no offset): {written!r}")
    if closes is None:
        return [opens.isoformat("minutes"), END_OF_DAY]
    if closes <= opens:
        raise _fail(key, "must be increasing (opening before closing)")
    return [opens.isoformat("minutes"), closes.isoformat("minutes")]


def _holiday(item: Any) -> str:
    day = None
    if isinstance(item, date) and not isinstance(item, datetime):
        day = item
    elif isinstance(item, str):
        with suppress(ValueError):
            day = day_from_text(item)
    if day is None:
        raise _fail("calendar.holidays", f"not a date (YYYY-MM-DD): {_as_written(item)}")
    try:
        return check_day(day).isoformat()
    except InvalidInput as error:
        raise _fail("calendar.holidays", str(error)) from None


def _side(side: str, section: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in section.items():
        path = f"{side}.{key}"
        if key == "rates":
            out["rates"] = {name: _rate(f"{path}.{name}", v) for name, v in value.items()}
        elif key == "follow_up":
            out["follow_up"] = {
                k: int(_positive(f"{path}.{k}", v, _FOLLOW_UP_BELOW[k])) for k, v in value.items()
            }
            missing = [k for k in _FOLLOW_UP_BELOW if k not in value]
            if missing:  # half a clause would promise something nobody could measure
                raise _fail(f"{path}.{missing[0]}", "is required")
        elif key == "qualified_per_month":
            if value < 0:
                raise _fail(path, f"must not be negative, got {value}")
            if value >= MAX_COUNT:
                raise _fail(path, f"must be below {MAX_COUNT}, got {value}")
            out[key] = value
        elif key == "decide_within_hours":
            out[key] = _positive(path, value, below=_MAX_DECIDE_HOURS + 1)
        else:
            out[key] = _positive(path, value)
    return out


def _rate(key: str, value: int | Decimal) -> str:
    if not 0 < value <= 1:
        raise _fail(key, f"must be a rate between 0 and 1 (above 0), got {value}")
    if value < _MIN_RATE:
        raise _fail(key, f"must be at least {_MIN_RATE}, got {value}")
    return _plain(value)


def _plain(value: int | Decimal) -> str:
    """A number as people write it (TOML reads `1e5` too): 100000, not 1E+5."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _names(key: str, members: list[Any]) -> list[str]:
    if not members:
        raise _fail(key, "must name at least one person (leave the side out to let anyone "
                         "record its steps)")
    if not all(isinstance(m, str) and m.strip() for m in members):
        raise _fail(key, "must be a list of names")
    return [_text(key, m).strip() for m in members]


def check_entry(register: AgreementRegister | None, entry: Any) -> None:
    """Refuse an entry of the agreement register (a backup's) that `sla apply` or `sla sign`
    would not have recorded: terms no file could state, a team, side, signer or reason
    out of bounds."""
    kind = type(entry).__name__  # the register's events are declared by its methods
    if kind == "Opened":
        return
    check_entry_actor(entry.actor)
    if kind in ("VersionProposed", "VersionApplied"):
        check_document(entry.document)
        check_restatement(getattr(entry, "restates", None))
    if kind == "VersionProposed":
        for side, members in entry.team.items():
            if side not in SIDES:
                raise _fail(f"team.{side}", "unknown key")
            if members is not None:
                _names(f"team.{side}", members)
    if kind in ("VersionProposed", "VersionSigned") and entry.side not in SIDES:
        raise InvalidAgreement(f"a version is signed for marketing or sales, not {entry.side!r}")
