"""How counts are written for people, in every message of the command line and the library."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun as people write them: `1 row`, `2 rows`, `1 entry`."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
