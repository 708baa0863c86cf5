"""The summaries counted in Python while a bulk catch-up projects, written once at its end.

Recomputing them in SQL from a million per-event rows takes seconds; counting the rows
as each page produces them takes a fraction of that. The counts are kept at a fine grain
(day, source, owner, event) and rolled up into every (basis, dim) of `summaries` only
when written, as `summaries.refresh` does in SQL.

A tally is exact only for the events it saw, so it is written only when the summaries
were valid where it started and the projection is still where it stopped; a page that
moves the due instants of handoffs already projected (a new agreement version), or
another process projecting meanwhile, discards it, and `summaries.refresh` runs instead.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from handoff.projections import amounts
from handoff.projections.summaries import DAY_US, DIMS

# A stage is counted under one integer: the code of its (source, owner, event) in the
# high bits, its day since the epoch (offset to be positive) in the low 22 bits, which
# hold every day of years 1 to 9999. With tuples for keys, a million events meant a
# million hashes of four fields and as many cache misses in a dict of a hundred thousand
# tuples: most of the counting time. Flow places a row by occurred_us; cohort by
# captured_us, with no owner (a cohort is not summarised by owner).
_DAY_BITS = 22
_DAY_OFFSET = 1 << 20
_DAY_MASK = (1 << _DAY_BITS) - 1
Group = tuple[str, str | None, str]  # (source, owner, event)
# (handed day, captured day, source, owner, decided in time): a decision under an agreement
DecisionKey = tuple[int, int, str, str, bool]
_TOKENS = itertools.count(1)


class _Codes(dict[Group, int]):
    """A small number for each (source, owner, event), given on first sight."""

    def __missing__(self, group: Group) -> int:
        code = self[group] = len(self) << _DAY_BITS
        return code


class Tally:
    """What the events of positions (start, end] add to the summaries."""

    def __init__(self, start: int) -> None:
        # Names this tally to a process counting pages for it (page_writer): a tally
        # discarded and begun again is another one.
        self.token = next(_TOKENS)
        self.start = start
        self.end = start
        self.recorded_us = 0
        self.codes = _Codes()
        self.flow: Counter[int] = Counter()
        self.cohort: Counter[int] = Counter()
        self.flow_cents: Counter[int] = Counter()
        self.cohort_cents: Counter[int] = Counter()
        self.decisions: Counter[DecisionKey] = Counter()
        self.taken_back = False  # some counts were taken back (see uncount)

    def count(
        self, events: Sequence[tuple[Any, ...]], decisions: Iterable[DecisionKey],
        recorded_us: int,
    ) -> None:
        """Count rows of read_event (in column order) and decided handoffs that have a due
        instant; the caller moves `end` once they are committed."""
        self.recorded_us = max(self.recorded_us, recorded_us)
        codes, day, offset = self.codes, DAY_US, _DAY_OFFSET
        # Which rows each basis counts: the verdicts stored with each row (in_flow,
        # in_cohort). A list comprehension and Counter.update (which counts in C) cost a
        # third of a loop doing the same.
        self.flow.update([
            codes[(source, owner, name)] + occurred // day + offset
            for _, _, name, occurred, _, _, source, owner, _, in_flow, _, _ in events
            if in_flow
        ])
        self.cohort.update([
            codes[(source, None, name)] + captured // day + offset
            for _, _, name, _, _, captured, source, _, _, _, in_cohort, _ in events
            if in_cohort
        ])
        for _, _, name, occurred, _, captured, source, owner, cents, in_flow, in_cohort, _ in [
            row for row in events if row[8] is not None
        ]:
            if in_flow:
                self.flow_cents[codes[(source, owner, name)] + occurred // day + offset] += cents
            if in_cohort:
                self.cohort_cents[codes[(source, None, name)] + captured // day + offset] += cents
        self.decisions.update(decisions)

    def add(self, other: Tally) -> None:
        """Add what another tally counted (its codes its own): a page counted elsewhere."""
        codes = [self.codes[group] for group in other.codes]  # its code's number -> mine
        for mine, theirs in ((self.flow, other.flow), (self.cohort, other.cohort),
                             (self.flow_cents, other.flow_cents),
                             (self.cohort_cents, other.cohort_cents)):
            mine.update({codes[key >> _DAY_BITS] + (key & _DAY_MASK): count
                         for key, count in theirs.items()})
        self.decisions.update(other.decisions)
        self.recorded_us = max(self.recorded_us, other.recorded_us)
        self.taken_back = self.taken_back or other.taken_back

    def uncount(
        self, events: Sequence[tuple[Any, ...]], decisions: Iterable[DecisionKey]
    ) -> None:
        """Take back what rows counted: those a correction replaced."""
        self.taken_back = True
        undo = Tally(self.start)
        undo.codes = self.codes
        undo.count(events, decisions, 0)
        for mine, theirs in ((self.flow, undo.flow), (self.cohort, undo.cohort),
                             (self.flow_cents, undo.flow_cents),
                             (self.cohort_cents, undo.cohort_cents)):
            mine.subtract(theirs)
        self.decisions.subtract(undo.decisions)

    def stage_rows(self) -> list[tuple[str, str, int, str, str, int, int, int]]:
        """Rows of read_stage_day: (basis, dim, day_us, grp, event, events, amount_high,
        amount_low); Python sums the cents exactly, the columns keep them split."""
        # (basis, dim, day, grp, event) -> [events, amount_cents]
        rows: dict[tuple[str, str, int, str, str], list[int]] = {}
        groups = list(self.codes)  # in the order of their codes
        for basis, counts, cents in (
            ("flow", self.flow, self.flow_cents), ("cohort", self.cohort, self.cohort_cents)
        ):
            by_owner = "owner" in DIMS[basis]  # both bases have "" and "source"
            for key, count in counts.items():
                amount = cents.get(key, 0)
                source, owner, name = groups[key >> _DAY_BITS]
                day = (key & _DAY_MASK) - _DAY_OFFSET
                found_in = [(basis, "", day, "", name), (basis, "source", day, source, name)]
                if by_owner:
                    found_in.append((basis, "owner", day, owner or "", name))
                for row in found_in:
                    found = rows.get(row)
                    if found is None:
                        rows[row] = [count, amount]
                    else:
                        found[0] += count
                        found[1] += amount
        return [
            (basis, dim, day * DAY_US, grp, name, count, *amounts.split(amount))
            for (basis, dim, day, grp, name), (count, amount) in rows.items()
        ]

    def sla_rows(self) -> list[tuple[str, str, int, str, int, int]]:
        """Rows of read_sla_day: (basis, dim, day_us, grp, in_time, late)."""
        rows: dict[tuple[str, str, int, str], list[int]] = {}
        for (handed_day, captured_day, source, owner, on_time), count in self.decisions.items():
            groups = {"": "", "source": source, "owner": owner}
            for basis, day in (("flow", handed_day), ("cohort", captured_day)):
                for dim in DIMS[basis]:
                    found = rows.setdefault((basis, dim, day, groups[dim]), [0, 0])
                    found[0 if on_time else 1] += count
        return [
            (basis, dim, day * DAY_US, grp, in_time, late)
            for (basis, dim, day, grp), (in_time, late) in rows.items()
        ]

