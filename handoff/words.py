"""How counts, amounts and quoted texts are written for people, in every message of the
command line and the library."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The days of the week as people write them, Monday first (as `date.weekday()` counts).
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def counted(count: int, noun: str, plural: str | None = None, *, grouped: bool = False) -> str:
    """A count and its noun as people write them: `1 row`, `2 rows`, `1 entry`; `grouped`:
    with thousands separators, as reports write counts (`1,201 handoffs`)."""
    return f"{whole(count) if grouped else count} {noun if count == 1 else plural or noun + 's'}"


def whole(number: Any) -> str:
    """A count or an amount as people read it, in whole units with thousands separators
    (`302,000`), exactly: through a float, a plan's far stages would read 99,999,999,999,899,
    992,064 for 99,999,999,999,900,000,000."""
    return f"{Decimal(str(number)):,.0f}"


def money(amount: Any) -> str:
    """An amount of money as people read it: thousands separators, and its cents when it
    has any (`30,000`, `30,000.50`), to the cent as the JSON carries it: the same text in
    `kpi`'s table, the review and the document."""
    cents = Decimal(str(amount)).quantize(Decimal("0.01"))
    return f"{cents:,.0f}" if cents == cents.to_integral_value() else f"{cents:,.2f}"


def rounded(value: Any, places: int = 1) -> str:
    """A figure to `places` decimals as people round by hand, from the digits the JSON
    carries: a half up (7.25 hours read 7.3, where Python's formatting of the float would
    round it to even, 7.2). A figure above zero that would read as none reads `<0.01`: an
    overdue handoff is never shown 0.00 hours past due."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    step = Decimal(1).scaleb(-places)
    shown = exact.quantize(step, rounding=ROUND_HALF_UP)
    return f"<{step}" if exact > 0 and shown == 0 else f"{shown:f}"


def percent(rate: Any, places: int = 1) -> str:
    """A rate as a percentage's digits, rounded as `rounded` does (0.0725 reads 7.3)."""
    exact = rate if isinstance(rate, Decimal) else Decimal(str(rate))
    return rounded(exact.scaleb(2), places)


def shortened(text: str, most: int) -> str:
    """A text as a message quotes it: cut short, with an ellipsis, beyond `most` characters."""
    return text if len(text) <= most else text[: most - 3] + "..."
