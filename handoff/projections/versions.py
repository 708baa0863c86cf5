"""Which tables, and which rules' verdicts, a read model holds: rows of `read_position`.

A read model is derived data: one made by another release, whose tables have another
shape (`SCHEMA_VERSION`) or whose stored verdicts were judged by other rules
(`service_level.RULES_VERSION`), is dropped and projected anew (`readmodel`), and no report
reads it meanwhile (`report_now`, which checks it here with the driver alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handoff.domain import service_level

# Bumped whenever a table changes shape, or the meaning of a column's values does (the
# order of schema.STAGE_BITS, say).
SCHEMA_VERSION = 10  # 10: the position before the first entry is BEFORE_FIRST, not 0

# The rows of read_position holding them; a read model made before the rules were
# versioned has no rules row, and holds the first version's verdicts.
SCHEMA_ROW, RULES_ROW = "schema", "rules"
_FIRST_RULES = 1


def current() -> tuple[int, int]:
    """The versions this release's read model holds: (tables, rules)."""
    return SCHEMA_VERSION, service_level.RULES_VERSION


def held(rows: Iterable[tuple[str, Any]]) -> tuple[int, int] | None:
    """The versions a read model holds, from its rows of read_position (name, position);
    None when it has no tables' version (made by a release older than any of these)."""
    found = {name: int(position) for name, position in rows}
    if SCHEMA_ROW not in found:
        return None
    return found[SCHEMA_ROW], found.get(RULES_ROW, _FIRST_RULES)


# The rows `held` reads, with the driver's parameter mark for {0}.
SELECT = "SELECT name, position FROM read_position WHERE name IN ({0}, {0})"
