"""The lead: one inquiry's journey from capture to won or lost, as a protocol of events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from handoff.domain.bounds import check_amount_bound, check_count, check_key, check_text
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
# What a captured event says of the person behind the lead: erased when they are forgotten.
PERSONAL_FIELDS = ("lead_name", "email", "company")
FORGOTTEN = "[forgotten]"


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
        """The event fields; the store's own `timestamp` is when the event was recorded."""
        return {
            "occurred_at": self.occurred_at,
            "timestamp": self.recorded_at,
            "actor": self.actor,
            "agreement_version": self.agreement_version,
            "agreement": self.agreement,
        }


class Lead(Aggregate):
    """A lead and the protocol it follows; each public method is one business step.

    Events are explicit classes with an `apply` (rather than `@event` methods) because
    bulk imports create hundreds of thousands of them, and this path is several times
    cheaper. Each recorded event is also one step of the lead's audit trail.
    """

    class Event(Aggregate.Event):
        occurred_at: datetime
        actor: str
        agreement_version: int | None
        agreement: str | None

        name: ClassVar[str] = ""
        data_fields: ClassVar[tuple[str, ...]] = ()

        @property
        def event(self) -> str:
            return self.name

        @property
        def recorded_at(self) -> datetime:
            return self.timestamp

        @property
        def stamp(self) -> Stamp:
            return Stamp(self.occurred_at, self.timestamp, self.actor,
                         self.agreement_version, self.agreement)

        @property
        def data(self) -> dict[str, Any]:
            return {field: getattr(self, field) for field in self.data_fields}

        def apply(self, aggregate: Any) -> None:
            lead: Lead = aggregate
            lead.steps.append(self)
            if self.name != "contacted":
                lead.state = self.name

    class Captured(Event, Aggregate.Created):
        key: str
        source: str
        lead_name: str | None  # `name` is the event's business name
        email: str | None
        company: str | None
        name = "captured"

        @property
        def data(self) -> dict[str, Any]:
            return {"source": self.source, "name": self.lead_name, "email": self.email,
                    "company": self.company}

    class Qualified(Event):
        score: int | None
        name = "qualified"
        data_fields = ("score",)

    class Handed(Event):
        owner: str
        name = "handed"
        data_fields = ("owner",)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.owner = self.owner

    class Accepted(Event):
        name = "accepted"

    class Rejected(Event):
        reason: str
        name = "rejected"
        data_fields = ("reason",)

    class Contacted(Event):
        channel: str | None
        name = "contacted"
        data_fields = ("channel",)

    class ProposalSent(Event):
        amount: Decimal
        name = "proposal"
        data_fields = ("amount",)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.last_proposal = self.amount

    class Won(Event):
        amount: Decimal
        name = "won"
        data_fields = ("amount",)

    class Lost(Event):
        reason: str
        name = "lost"
        data_fields = ("reason",)

    class Forgotten(Event):
        """The person behind the lead asked to be forgotten: their details were erased from
        the lead's entries (`erased`: each one's log position and digest once erased). Not
        a step of the protocol: it changes no state and no figure."""

        why: str
        erased: list[list[Any]]
        name = "forgotten"

        def apply(self, aggregate: Any) -> None:
            lead: Lead = aggregate
            lead.name = lead.email = lead.company = None
            lead.forgotten = self

    def __init__(self, key: str, source: str, lead_name: str | None, email: str | None,
                 company: str | None) -> None:
        self.key = key
        self.source = source
        self.name = lead_name
        self.email = email
        self.company = company
        self.state = "captured"
        self.owner: str | None = None
        self.last_proposal: Decimal | None = None
        self.steps: list[Lead.Event] = []
        self.forgotten: Lead.Forgotten | None = None

    @classmethod
    def capture(
        cls,
        key: str,
        source: str,
        stamp: Stamp,
        name: str | None = None,
        email: str | None = None,
        company: str | None = None,
        id: UUID | None = None,  # a caller that already derived it saves hashing the key again
    ) -> Lead:
        check_key(key)
        if not source.strip():
            raise InvalidInput("a captured lead needs a source")
        for what, text in (("source", source), ("name", name), ("email", email),
                           ("company", company)):
            check_text(what, text)
        check_not_in_future(stamp)
        return cls._create(
            cls.Captured, id=id or lead_id(key), key=key, source=source, lead_name=name,
            email=email, company=company, **stamp.fields(),
        )

    # -- the protocol ---------------------------------------------------------------

    def qualify(self, stamp: Stamp, score: int | None = None) -> None:
        if score is not None:
            check_count(score, "score")
        self._check("qualified", stamp)
        self.trigger_event(self.Qualified, score=score, **stamp.fields())

    def hand_to(self, owner: str, stamp: Stamp) -> None:
        if not owner.strip():
            raise InvalidInput("a handoff needs an owner")
        check_text("owner", owner)
        self._check("handed", stamp)
        self.trigger_event(self.Handed, owner=owner, **stamp.fields())

    def accept(self, stamp: Stamp) -> None:
        self._check("accepted", stamp)
        self.trigger_event(self.Accepted, **stamp.fields())

    def reject(self, reason: str, stamp: Stamp) -> None:
        _require_reason(reason, "a rejection")
        self._check("rejected", stamp)
        self.trigger_event(self.Rejected, reason=reason, **stamp.fields())

    def contact(self, stamp: Stamp, channel: str | None = None) -> None:
        check_text("channel", channel)
        self._check("contacted", stamp)
        self.trigger_event(self.Contacted, channel=channel, **stamp.fields())

    def send_proposal(self, amount: Decimal, stamp: Stamp) -> None:
        check_amount(amount)
        self._check("proposal", stamp)
        self.trigger_event(self.ProposalSent, amount=amount, **stamp.fields())

    def win(self, stamp: Stamp, amount: Decimal | None = None) -> None:
        self._check("won", stamp)
        if amount is None:
            amount = self.last_proposal
        if amount is None:  # pragma: no cover - won needs a proposal first
            raise InvalidInput("a won deal needs an amount")
        check_amount(amount)
        self.trigger_event(self.Won, amount=amount, **stamp.fields())

    def lose(self, reason: str, stamp: Stamp) -> None:
        _require_reason(reason, "a lost deal")
        self._check("lost", stamp)
        self.trigger_event(self.Lost, reason=reason, **stamp.fields())

    def forget(
        self, why: str, actor: str, recorded_at: datetime, erased: list[list[Any]]
    ) -> None:
        """Erase the person's details; the lead's steps, and so every figure, stay."""
        _require_reason(why, "forgetting a lead")
        if self.forgotten is not None:
            raise TransitionRefused(f"lead {self.key!r} was forgotten already")
        stamp = Stamp(recorded_at, recorded_at, actor)
        self.trigger_event(self.Forgotten, why=why, erased=erased, **stamp.fields())

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
        last = self.steps[-1]
        if stamp.occurred_at < last.occurred_at:
            raise TimeRefused(
                f"lead {self.key!r}: {_iso(stamp.occurred_at)} is before its previous event "
                f"({last.name} at {_iso(last.occurred_at)})"
            )
        check_not_in_future(stamp)

    def has_step(self, event_name: str, occurred_at: datetime) -> bool:
        return any(s.name == event_name and s.occurred_at == occurred_at for s in self.steps)


def check_not_in_future(stamp: Stamp) -> None:
    if stamp.occurred_at > stamp.recorded_at + FUTURE_SKEW:
        raise TimeRefused(
            f"{_iso(stamp.occurred_at)} is in the future (more than 5 minutes after now)"
        )


def check_amount(amount: Decimal) -> None:
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"amount must be greater than 0, got {amount}")
    check_amount_bound(amount)
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"amount must have at most 2 decimals, got {amount}")


def _require_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise InvalidInput(f"{what} needs a reason")
    check_text("the reason", reason, multiline=True)


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


# Each stored event class of a lead, with the business name the SPEC gives it.
LIFECYCLE_EVENTS: dict[type, str] = {
    cls: cls.name
    for cls in (Lead.Captured, Lead.Qualified, Lead.Handed, Lead.Accepted, Lead.Rejected,
                Lead.Contacted, Lead.ProposalSent, Lead.Won, Lead.Lost)
}
