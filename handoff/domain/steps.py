"""A lead's steps in plain terms: their names and order, what each carries, and the lead's id.

The vocabulary of the protocol, without the aggregate that enforces it (`lead`): a command
that only reads (`handoff kpi`) starts without building the aggregate's event classes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from handoff.domain.bounds import check_entry_key, check_group_name
from handoff.domain.errors import InvalidInput

if TYPE_CHECKING:
    from handoff.domain.lead import Lead

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
# The same details as a step's data names them (`lead amend --name`): erased from an
# amendment's changes too.
PERSONAL_DATA = ("name", "email", "company")


def erase_person(state: dict[str, Any]) -> bool:
    """Null the person's details in a lead event's state, wherever the event carries them:
    a capture's own fields, an amendment's changes. Whether it held any."""
    changes = state.get("changes")
    held = [(state, name) for name in PERSONAL_FIELDS if state.get(name) is not None]
    if isinstance(changes, dict):
        held += [(changes, name) for name in PERSONAL_DATA if changes.get(name) is not None]
    for holder, name in held:
        holder[name] = None
    return bool(held)
FORGOTTEN = "[forgotten]"
# By owner, a report puts every step a lead takes before its first handoff in this group
# (SPEC §5): no command hands a lead to an owner of that name (`check_owner_named`).
UNASSIGNED = "unassigned"


def check_owner_named(owner: str) -> None:
    """Refuse a handoff that a command makes now (a step, an amendment, an import's row) to
    an owner named as the group of the leads nobody owns: that person's leads would be
    counted in with those. Not checked of a backup's entry: an earlier release recorded
    such handoffs, and its backups restore. Exactly that name: owners, as keys, are told
    apart by case, and so are the groups ('Unassigned' is a group of its own),
    so a CRM's placeholder user of another spelling still imports. Typed as it is seen,
    as a key is, and without a space at either end (`check_group_name`): reports group by
    it, and an owner with an invisible character in it was a second group named as the
    first."""
    check_group_name("the owner", owner)
    if owner == UNASSIGNED:
        raise InvalidInput(
            f"owner {owner!r} is taken: reports by owner group under {UNASSIGNED!r} the"
            " steps of leads not handed to anyone yet; give the salesperson's own name"
        )


def lead_id(key: str) -> UUID:
    """A lead's stable aggregate id, derived from the key the user chose."""
    try:
        return uuid5(NAMESPACE_URL, f"handoff:lead:{key}")
    except UnicodeEncodeError:  # a lone surrogate: bytes that were not UTF-8 (`bounds`)
        check_entry_key(key)  # says why
        raise


# A clock's skew: how far ahead of now a step may be dated (SPEC §2: 5 minutes).
FUTURE_SKEW = timedelta(minutes=5)


def in_the_future(instant: datetime, now: datetime) -> bool:
    """Whether `instant` is still ahead of `now`, beyond a clock's skew: nothing recorded
    (a step, a day's traffic) may say it happened then."""
    return instant > now + FUTURE_SKEW


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


@dataclass(frozen=True)
class Fact:
    """A step as it reads after every correction: entry `n`, its business name, when it
    happened, when its entry was recorded, and its data."""

    n: int
    name: str
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]
    actor: str = ""
    agreement_version: int | None = None
    agreement: str | None = None

    def order(self) -> tuple[datetime, int]:
        """Steps in the order they happened; at the same instant, in the order recorded."""
        return (self.occurred_at, self.n)

    def value(self, field: str) -> Any:
        return self.occurred_at if field == "at" else self.data.get(field)

    def amended(self, changes: dict[str, Any], by: Lead.Amended | None = None) -> Fact:
        data = {**self.data, **{k: v for k, v in changes.items() if k != "at"}}
        fact = replace(self, data=data, occurred_at=changes.get("at", self.occurred_at))
        if by is not None:  # the version in force at the instant it now happened
            fact = replace(fact, agreement_version=by.agreement_version, agreement=by.agreement)
        return fact


def transition_refusal(key: str, state: str, event_name: str) -> str | None:
    """Why the lifecycle refuses this event on a lead in this state (None: it allows it)."""
    if state in FINAL_STATES:
        return f"lead {key!r} is {state}, which is final: cannot record {event_name}"
    if state not in ALLOWED_FROM[event_name]:
        # In the lifecycle's order (a state is named by the step that led to it).
        allowed = [name for name in EVENT_NAMES if name in ALLOWED_FROM[event_name]]
        listed = " or ".join([", ".join(allowed[:-1]), allowed[-1]] if len(allowed) > 1
                             else allowed)
        return f"lead {key!r} is {state}: {event_name} needs a lead in state {listed}"
    return None


def state_after(state: str, event_name: str) -> str:
    """The lead's state once this step is recorded: contacted leaves it as it was."""
    return state if event_name == "contacted" else event_name
