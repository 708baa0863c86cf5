"""The record of every run of the protocol's examples (`handoff sla verify`).

Both teams sign an agreement whose clauses are checked by examples; this log says when
they were last run, on which version of handoff, and which clauses held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from handoff.domain.bounds import check_count, check_entry_actor, check_text
from handoff.domain.errors import InvalidInput
from handoff.words import shortened


@dataclass(frozen=True)
class ClauseCheck:
    """One clause's examples in one run: how many there were and which failed."""

    feature: str
    clause: str
    examples: int
    failed: tuple[str, ...]

    @property
    def verdict(self) -> str:
        if self.examples == 0:
            return "no example"
        return "failed" if self.failed else "verified"

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "clause": self.clause, "examples": self.examples,
                "failed": list(self.failed)}


@dataclass(frozen=True)
class VerificationRun:
    """A run of every example, on one version of handoff."""

    ran_at: datetime
    handoff_version: str
    actor: str
    clauses: tuple[ClauseCheck, ...]

    @property
    def passed(self) -> bool:
        return not any(check.failed for check in self.clauses)

    def check_for(self, feature: str, clause: str) -> ClauseCheck | None:
        return next(
            (c for c in self.clauses if (c.feature, c.clause) == (feature, clause)), None
        )


class VerificationLog(Aggregate):
    """Every run of the protocol's examples, oldest first; runs are never edited."""

    ID = uuid5(NAMESPACE_URL, "handoff:verification-log")

    @staticmethod
    def create_id() -> UUID:
        return VerificationLog.ID

    @event("Opened")
    def __init__(self) -> None:
        self.runs: list[VerificationRun] = []

    def record(self, run: VerificationRun) -> None:
        self._verified(
            ran_at=run.ran_at,
            handoff_version=run.handoff_version,
            actor=run.actor,
            clauses=[check.as_dict() for check in run.clauses],
        )

    @event("Verified")
    def _verified(
        self, ran_at: datetime, handoff_version: str, actor: str, clauses: list[dict[str, Any]]
    ) -> None:
        checks = tuple(
            ClauseCheck(c["feature"], c["clause"], c["examples"], tuple(c["failed"]))
            for c in clauses
        )
        self.runs.append(VerificationRun(ran_at, handoff_version, actor, checks))

    @property
    def last(self) -> VerificationRun | None:
        return self.runs[-1] if self.runs else None


_CLAUSE_KEYS = {"feature", "clause", "examples", "failed"}


def check_entry(log: VerificationLog | None, entry: Any) -> None:
    """Refuse an entry (a backup's) that `sla verify` would not have recorded: each clause
    named by its feature and its words, with a count of examples and the names of those
    that failed."""
    if type(entry).__name__ != "Verified":  # the log's events are declared by its methods
        return
    check_text("handoff_version", entry.handoff_version)
    check_entry_actor(entry.actor)
    for clause in entry.clauses:
        if not isinstance(clause, dict) or set(clause) != _CLAUSE_KEYS:
            raise InvalidInput(f"a verified clause holds {', '.join(sorted(_CLAUSE_KEYS))},"
                               f" not {json_text(clause)}")
        if not all(isinstance(clause[k], str) for k in ("feature", "clause")) or not (
            type(clause["examples"]) is int and isinstance(clause["failed"], list)
            and all(isinstance(name, str) for name in clause["failed"])
        ):
            raise InvalidInput(f"a verified clause cannot read {json_text(clause)}")
        check_count(clause["examples"], "examples")
        if len(clause["failed"]) > clause["examples"]:
            raise InvalidInput(f"a verified clause has more failed examples than examples:"
                               f" {json_text(clause)}")


def json_text(value: Any) -> str:
    """A value as a short line of JSON, for a message."""
    import json

    return shortened(json.dumps(value, default=str), 80)
