"""Sums of amounts that cannot overflow, on either database, at any row count.

Amounts are stored as integer cents (BIGINT), each below 10^14 (SPEC §7 bounds amounts
below 10^12). A SQL SUM of them overflows a 64-bit integer past about 92,000 of the
largest: SQLite raises "integer overflow", and a PostgreSQL sum (exact NUMERIC) no longer
fits a BIGINT summary column. So every sum of amounts is taken as two sums: of each
amount's high part (cents // SPLIT, below 10^5) and of its low part (cents % SPLIT,
below 10^9); neither can overflow before some 9 billion rows, and Python joins them into
one exact integer. The summary tables keep the two parts in two columns for the same
reason. This module is the one home of that split.
"""

from __future__ import annotations

from typing import Any

SPLIT = 10**9


def high(column: str) -> str:
    """SQL for the high part of an amount in cents (amounts are never negative, so integer
    division, which truncates on both databases, floors)."""
    return f"({column} / {SPLIT})"


def low(column: str) -> str:
    """SQL for the low part (written without `%`, which psycopg reads as a parameter)."""
    return f"({column} - {column} / {SPLIT} * {SPLIT})"


def sums(column: str, names: tuple[str, str] = ("amount_high", "amount_low")) -> str:
    """`SUM(high) AS ..., SUM(low) AS ...` of a column of cents, zeros when there is none."""
    return (
        f"COALESCE(SUM({high(column)}), 0) AS {names[0]},"
        f" COALESCE(SUM({low(column)}), 0) AS {names[1]}"
    )


def split(cents: int) -> tuple[int, int]:
    """An exact sum in cents as the summary columns keep it: (high, low)."""
    return divmod(cents, SPLIT)


def joined(high_sum: Any, low_sum: Any) -> int:
    """The exact sum in cents from the sums of its two parts (None for no rows; PostgreSQL
    gives a NUMERIC sum as a Decimal)."""
    return int(high_sum or 0) * SPLIT + int(low_sum or 0)
