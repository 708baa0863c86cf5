"""Reading and writing instants and days as users type them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from handoff.domain.errors import InvalidInput


def parse_instant(text: str, zone_for_day: Callable[[date], ZoneInfo]) -> datetime:
    """An ISO-8601 instant; one without an offset is local to the zone in force that day."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"not an ISO-8601 timestamp: {text!r} (try 2026-03-02T15:30 or 2026-03-02T15:30Z)"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone_for_day(instant.date()))
    return instant.astimezone(UTC)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {text!r}") from None


def iso(instant: datetime | None) -> str | None:
    """An instant as UTC ISO-8601 with a Z, to the second (or finer when it has it)."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_amount(value: str | Decimal | int) -> Decimal:
    """A money amount as typed (1200, 1200.50); checked for sign and cents by the domain."""
    if isinstance(value, Decimal):
        return value
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise InvalidInput(f"not an amount: {value!r}")
    return amount
