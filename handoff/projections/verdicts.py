"""The one SLA rule a report judges as it reads: pending or overdue, as SQL.

Every other verdict is stored as the projection writes it, by the rules themselves
(`domain.service_level`): whether an event counts in flow and in cohort, whether a
decision was in time. Whether an undecided handoff is pending or overdue depends on the
instant a report is read at, so SQL judges it, in the form below, held to
`service_level.outcome` by a differential test (`tests/test_service_level.py`).

SQL text only (no SQLAlchemy), so that a report as of now needs none.
"""

from __future__ import annotations

from handoff.domain.service_level import IN_TIME, LATE, OVERDUE, PENDING


def waiting_sql(due: str, as_of_us: int) -> str:
    """The outcome of an undecided handoff whose due instant is the column `due`."""
    return f"CASE WHEN {due} >= {int(as_of_us)} THEN '{PENDING}' ELSE '{OVERDUE}' END"


def outcome_sql(decided: str, in_time: str, due: str, as_of_us: int) -> str:
    """The outcome of a handoff from the columns saying whether it is decided (as of the
    report), whether that was in time, and its due instant."""
    return (
        f"CASE WHEN {decided} THEN (CASE WHEN {in_time} THEN '{IN_TIME}' ELSE '{LATE}' END)"
        f" ELSE {waiting_sql(due, as_of_us)} END"
    )
