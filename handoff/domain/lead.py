"""The lead: one inquiry's journey from capture to won or lost, as a protocol of events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from handoff.domain.errors import InvalidInput, TimeRefused, TransitionRefused

FUTURE_SKEW = timedelta(minutes=5)

# The lifecycle: the states from which each event may be recorded.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "qualified": frozenset({"captured", "rejected"}),
    "handed": frozenset({"qualified"}),
    "accepted": frozenset({"handed"}),
    "rejected": frozenset({"handed"}),
    "contacted": frozenset({"handed", "accepted", "proposal"}),
    "proposal": frozenset({"accepted", "proposal"}),
    "won": frozenset({"proposal"}),
    "lost": frozenset({"accepted", "proposal"}),
}
EVENT_NAMES = ("captured", *ALLOWED_FROM)
FINAL_STATES = frozenset({"won", "lost"})


def lead_id(key: str) -> UUID:
    """A lead's stable aggregate id, derived from the key the user chose."""
    return uuid5(NAMESPACE_URL, f"handoff:lead:{key}")


@dataclass(frozen=True)
class Stamp:
    """What every lead event carries besides its own data."""

    occurred_at: datetime
    recorded_at: datetime
    actor: str
    agreement_version: int | None = None
    agreement: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
            "agreement_version": self.agreement_version,
            "agreement": self.agreement,
        }


@dataclass(frozen=True)
class Step:
    """One recorded event of a lead, as the audit trail shows it."""

    event: str
    stamp: Stamp
    data: dict[str, Any]


class Lead(Aggregate):
    """A lead and the protocol it follows; each public method is one business step."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return lead_id(key)

    @event("Captured")
    def __init__(
        self,
        key: str,
        source: str,
        name: str | None,
        email: str | None,
        company: str | None,
        occurred_at: datetime,
        recorded_at: datetime,
        actor: str,
        agreement_version: int | None,
        agreement: str | None,
    ) -> None:
        self.key = key
        self.source = source
        self.name = name
        self.email = email
        self.company = company
        self.state = "captured"
        self.owner: str | None = None
        self.last_proposal: Decimal | None = None
        self.steps: list[Step] = []
        self._record(
            "captured",
            occurred_at, recorded_at, actor, agreement_version, agreement,
            {"source": source, "name": name, "email": email, "company": company},
        )

    @classmethod
    def capture(
        cls,
        key: str,
        source: str,
        stamp: Stamp,
        name: str | None = None,
        email: str | None = None,
        company: str | None = None,
    ) -> Lead:
        if not key.strip():
            raise InvalidInput("a lead needs a key")
        if not source.strip():
            raise InvalidInput("a captured lead needs a source")
        check_not_in_future(stamp)
        return cls(
            key=key, source=source, name=name, email=email, company=company, **stamp.fields()
        )

    # -- the protocol ---------------------------------------------------------------

    def qualify(self, stamp: Stamp, score: int | None = None) -> None:
        self._check("qualified", stamp)
        self._qualified(score=score, **stamp.fields())

    def hand_to(self, owner: str, stamp: Stamp) -> None:
        if not owner.strip():
            raise InvalidInput("a handoff needs an owner")
        self._check("handed", stamp)
        self._handed(owner=owner, **stamp.fields())

    def accept(self, stamp: Stamp) -> None:
        self._check("accepted", stamp)
        self._accepted(**stamp.fields())

    def reject(self, reason: str, stamp: Stamp) -> None:
        _require_reason(reason, "a rejection")
        self._check("rejected", stamp)
        self._rejected(reason=reason, **stamp.fields())

    def contact(self, stamp: Stamp, channel: str | None = None) -> None:
        self._check("contacted", stamp)
        self._contacted(channel=channel, **stamp.fields())

    def send_proposal(self, amount: Decimal, stamp: Stamp) -> None:
        check_amount(amount)
        self._check("proposal", stamp)
        self._proposal_sent(amount=amount, **stamp.fields())

    def win(self, stamp: Stamp, amount: Decimal | None = None) -> None:
        self._check("won", stamp)
        if amount is None:
            amount = self.last_proposal
        if amount is None:  # pragma: no cover - won needs a proposal first
            raise InvalidInput("a won deal needs an amount")
        check_amount(amount)
        self._won(amount=amount, **stamp.fields())

    def lose(self, reason: str, stamp: Stamp) -> None:
        _require_reason(reason, "a lost deal")
        self._check("lost", stamp)
        self._lost(reason=reason, **stamp.fields())

    # -- guards ---------------------------------------------------------------------

    def _check(self, event_name: str, stamp: Stamp) -> None:
        self.check_transition(event_name)
        self.check_time(stamp)

    def check_transition(self, event_name: str) -> None:
        if self.state in FINAL_STATES:
            raise TransitionRefused(
                f"lead {self.key!r} is {self.state}, which is final: cannot record {event_name}"
            )
        if self.state not in ALLOWED_FROM[event_name]:
            allowed = " or ".join(sorted(ALLOWED_FROM[event_name]))
            raise TransitionRefused(
                f"lead {self.key!r} is {self.state}: {event_name} needs a lead that is {allowed}"
            )

    def check_time(self, stamp: Stamp) -> None:
        previous = self.steps[-1].stamp.occurred_at
        if stamp.occurred_at < previous:
            raise TimeRefused(
                f"lead {self.key!r}: {_iso(stamp.occurred_at)} is before its previous event "
                f"({self.steps[-1].event} at {_iso(previous)})"
            )
        check_not_in_future(stamp)

    def has_step(self, event_name: str, occurred_at: datetime) -> bool:
        return any(s.event == event_name and s.stamp.occurred_at == occurred_at for s in self.steps)

    # -- events -----------------------------------------------------------------------

    def _record(
        self,
        name: str,
        occurred_at: datetime,
        recorded_at: datetime,
        actor: str,
        agreement_version: int | None,
        agreement: str | None,
        data: dict[str, Any],
    ) -> None:
        stamp = Stamp(occurred_at, recorded_at, actor, agreement_version, agreement)
        self.steps.append(Step(name, stamp, data))
        if name != "contacted":
            self.state = name

    @event("Qualified")
    def _qualified(self, score: int | None, occurred_at: datetime, recorded_at: datetime,
                   actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self._record("qualified", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"score": score})

    @event("Handed")
    def _handed(self, owner: str, occurred_at: datetime, recorded_at: datetime,
                actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self.owner = owner
        self._record("handed", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"owner": owner})

    @event("Accepted")
    def _accepted(self, occurred_at: datetime, recorded_at: datetime,
                  actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self._record("accepted", occurred_at, recorded_at, actor, agreement_version, agreement, {})

    @event("Rejected")
    def _rejected(self, reason: str, occurred_at: datetime, recorded_at: datetime,
                  actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self._record("rejected", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"reason": reason})

    @event("Contacted")
    def _contacted(self, channel: str | None, occurred_at: datetime, recorded_at: datetime,
                   actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self._record("contacted", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"channel": channel})

    @event("ProposalSent")
    def _proposal_sent(self, amount: Decimal, occurred_at: datetime, recorded_at: datetime,
                       actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self.last_proposal = amount
        self._record("proposal", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"amount": amount})

    @event("Won")
    def _won(self, amount: Decimal, occurred_at: datetime, recorded_at: datetime,
             actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self._record("won", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"amount": amount})

    @event("Lost")
    def _lost(self, reason: str, occurred_at: datetime, recorded_at: datetime,
              actor: str, agreement_version: int | None, agreement: str | None) -> None:
        self._record("lost", occurred_at, recorded_at, actor, agreement_version, agreement,
                     {"reason": reason})


def check_not_in_future(stamp: Stamp) -> None:
    if stamp.occurred_at > stamp.recorded_at + FUTURE_SKEW:
        raise TimeRefused(
            f"{_iso(stamp.occurred_at)} is in the future (more than 5 minutes after now)"
        )


def check_amount(amount: Decimal) -> None:
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"amount must be greater than 0, got {amount}")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"amount must have at most 2 decimals, got {amount}")


def _require_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise InvalidInput(f"{what} needs a reason")


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _lifecycle_events() -> dict[type, str]:
    names = {
        "Captured": "captured", "Qualified": "qualified", "Handed": "handed",
        "Accepted": "accepted", "Rejected": "rejected", "Contacted": "contacted",
        "ProposalSent": "proposal", "Won": "won", "Lost": "lost",
    }
    return {getattr(Lead, cls): name for cls, name in names.items()}


# Each stored event class of a lead, with the business name the SPEC gives it.
LIFECYCLE_EVENTS: dict[type, str] = _lifecycle_events()
