"""The lead: one inquiry's journey from capture to won or lost, as a protocol of events."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from handoff.domain.bounds import (
    check_amount_bound,
    check_count,
    check_entry_actor,
    check_entry_key,
    check_group_name,
    check_instant,
    check_key,
    check_text,
    in_cents,
    plain_decimal,
)
from handoff.domain.errors import (
    InvalidInput,
    MissedStepRefused,
    TimeRefused,
    TransitionRefused,
    Wording,
)
from handoff.domain.steps import (
    PERSONAL_DATA,
    Fact,
    Stamp,
    in_the_future,
    lead_id,
    state_after,
    transition_refusal,
)


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

        def as_recorded(self, n: int) -> Fact:
            """The step this entry (the lead's n-th) recorded, before any correction."""
            return Fact(n, self.event, self.occurred_at, self.timestamp, self.data,
                        self.actor, self.agreement_version, self.agreement)

        def apply(self, aggregate: Any) -> None:
            lead: Lead = aggregate
            lead.entries.append(self)
            lead.state = state_after(lead.state, self.name)
            lead.latest_at = self.occurred_at

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
            lead.entries.append(self)
            lead.name = lead.email = lead.company = None
            lead.forgotten = self

    # -- corrections (SPEC §2): entries of their own, each with a reason ------------------

    class Correction(Event):
        """An entry that changes what the lead's steps read: the lead's state is derived
        again from its corrected steps."""

        why: str

        def apply(self, aggregate: Any) -> None:
            lead: Lead = aggregate
            lead.entries.append(self)
            lead.settle()

    class MissedStep(Correction):
        """A step recorded after a later one, at the instant it truly happened (`step`: its
        business name, `details`: its data). It counts like any step, in its place."""

        step: str
        details: dict[str, Any]

        @property
        def event(self) -> str:
            return self.step

        @property
        def data(self) -> dict[str, Any]:
            return dict(self.details)

    class Voided(Correction):
        """Entry `target` no longer counts. The event's own instants are when the
        correction was made."""

        target: int
        name = "voided"

    class Amended(Correction):
        """Entry `target` now reads with `changes` (its data fields, and `at`: the instant
        it happened); `agreement` is the version in force at that instant."""

        target: int
        changes: dict[str, Any]
        name = "amended"

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
        self.entries: list[Lead.Event] = []  # every entry, numbered from 1 in that order
        self.latest_at: datetime | None = None  # when its latest step (as corrected) occurred
        self.forgotten: Lead.Forgotten | None = None

    @property
    def steps(self) -> list[Lead.Event]:
        """The lifecycle's entries (missed steps included), in the order recorded."""
        return [e for e in self.entries if e.name not in NOT_STEPS]

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
        name, email, company = given(name), given(email), given(company)
        check_capture(key, source, stamp, name, email, company)
        return cls._create(
            cls.Captured, id=id or lead_id(key),
            **captured_attributes(key, source, stamp, name, email, company),
        )

    # -- the protocol ---------------------------------------------------------------
    # Each step takes `why`: given, the step is recorded where it truly happened among the
    # lead's steps (a missed step, SPEC §2); without it, it must come after the latest.

    def qualify(self, stamp: Stamp, score: int | None = None, why: str | None = None) -> None:
        self._step(self.Qualified, stamp, why, score=score)

    def hand_to(self, owner: str, stamp: Stamp, why: str | None = None) -> None:
        self._step(self.Handed, stamp, why, owner=owner)

    def accept(self, stamp: Stamp, why: str | None = None) -> None:
        self._step(self.Accepted, stamp, why)

    def reject(self, reason: str, stamp: Stamp, why: str | None = None) -> None:
        self._step(self.Rejected, stamp, why, reason=reason)

    def contact(self, stamp: Stamp, channel: str | None = None, why: str | None = None) -> None:
        self._step(self.Contacted, stamp, why, channel=given(channel))

    def send_proposal(self, amount: Decimal, stamp: Stamp, why: str | None = None) -> None:
        self._step(self.ProposalSent, stamp, why, amount=amount)

    def win(self, stamp: Stamp, amount: Decimal | None = None, why: str | None = None) -> None:
        if amount is None:  # the last proposal's, before the win
            last = _last_proposal(self.facts(), stamp.occurred_at)
            amount = None if last is None else last.data["amount"]
        if amount is None:  # the lifecycle refuses a win without a proposal before it
            if why is None:
                self._check("won", stamp)
            missed = Fact(len(self.entries) + 1, "won", stamp.occurred_at, stamp.recorded_at, {})
            self.check_sequence(sorted([*self.facts(), missed], key=Fact.order))
            raise InvalidInput("a won deal needs an amount")  # pragma: no cover
        self._step(self.Won, stamp, why, amount=amount)

    def lose(self, reason: str, stamp: Stamp, why: str | None = None) -> None:
        self._step(self.Lost, stamp, why, reason=reason)

    def _step(self, cls: type[Lead.Event], stamp: Stamp, why: str | None, **data: Any) -> None:
        self.check_new_step(cls.name, stamp, why, data)
        # Of a command's step, not of a backup's entry (`check_entry`): an earlier release
        # recorded such steps, and their backups restore. Against the steps as they now read
        # (an export's): one voided may be logged again as it was; one amended may not be.
        check_one_step_then(self.key, cls.name, stamp.occurred_at, data,
                            self.steps_at(cls.name, stamp.occurred_at, as_recorded=False))
        if why is None:
            self.trigger_event(cls, **data, **stamp.fields())
            return
        self.trigger_event(self.MissedStep, step=cls.name, details=data, why=why,
                           **stamp.fields())

    def check_new_step(
        self, event_name: str, stamp: Stamp, why: str | None, data: dict[str, Any]
    ) -> None:
        """What a step must satisfy to be recorded on the lead as it stands: its data's
        checks, then the lifecycle's after the latest step (with `why`: in its place)."""
        check_step(event_name, data)
        if why is None:
            self._check(event_name, stamp)
            return
        _require_reason(why, "a correction")
        check_not_in_future(stamp)
        missed = Fact(len(self.entries) + 1, event_name, stamp.occurred_at, stamp.recorded_at,
                      data)
        self.check_sequence(sorted([*self.facts(), missed], key=Fact.order))

    def forget(
        self, why: str, actor: str, recorded_at: datetime, erased: list[list[Any]]
    ) -> None:
        """Erase the person's details; the lead's steps, and so every figure, stay.
        `erased`: [log position, digest once erased] of each entry to erase. A lead
        forgotten already is forgotten again only to erase what was left behind."""
        self.check_forget(why, erased)
        stamp = Stamp(recorded_at, recorded_at, actor)
        self.trigger_event(self.Forgotten, why=why, erased=erased, **stamp.fields())

    def check_forget(self, why: str, erased: list[list[Any]]) -> None:
        _require_reason(why, "forgetting a lead")
        if self.forgotten is not None and not erased:
            raise TransitionRefused(f"lead {self.key!r} was forgotten already")

    def erasures(self) -> list[list[Any]]:
        """[log position, digest once erased] of every entry a forgetting recorded."""
        return [erased for entry in self.entries if isinstance(entry, Lead.Forgotten)
                for erased in entry.erased]

    # -- corrections ------------------------------------------------------------------

    def step(self, n: int) -> Fact:
        """Entry n (numbered from 1 in the order recorded) as it now reads, which must be a
        step that still counts."""
        if not 1 <= n <= len(self.entries):
            raise InvalidInput(f"lead {self.key!r} has no entry {n} (it has {len(self.entries)})")
        entry = self.entries[n - 1]
        if entry.name in NOT_STEPS:
            raise TransitionRefused(
                f"entry {n} of lead {self.key!r} is a correction ({entry.name}), not a step: "
                "only a step can be corrected"
            )
        found = next((f for f in self.facts() if f.n == n), None)
        if found is None:
            raise TransitionRefused(f"entry {n} of lead {self.key!r} was voided already")
        return found

    def win_apart_from(self, n: int) -> Fact | None:
        """The win that proposal n came last before, when it holds another amount than n now
        reads with. A win recorded without an amount takes the last proposal's as it read
        then, and is an entry of its own: amending the proposal afterwards leaves it (the
        deal may have closed for the first figure), so whoever amends is told."""
        facts = self.facts()
        win = next((f for f in facts if f.name == "won"), None)
        if win is None:
            return None
        last = _last_proposal(facts, win.occurred_at)
        if last is None or last.n != n or last.data["amount"] == win.data["amount"]:
            return None
        return win

    def corrected_step(
        self, n: int, changes: dict[str, Any] | None = None
    ) -> tuple[str, datetime, str | None]:
        """What a correction of entry n (`lead void`, `lead amend` with `changes`) is stamped
        for: its step's name, the instant that step happened (an amendment's new one),
        which chooses the agreement, and the owner it names, whenever it is made."""
        fact = self.step(n)
        changes = changes or {}
        return fact.name, changes.get("at", fact.occurred_at), changes.get("owner")

    def void(self, n: int, why: str, stamp: Stamp) -> None:
        """Entry n no longer counts."""
        self.check_void(n, why)
        self.trigger_event(self.Voided, target=n, why=why, **stamp.fields())

    def check_void(self, n: int, why: str) -> None:
        _require_reason(why, "a correction")
        if self.step(n).name == "captured":
            raise TransitionRefused(
                f"the capture of a lead cannot be voided (entry {n} of lead {self.key!r})"
            )
        self.check_sequence([f for f in self.facts() if f.n != n], f"voiding entry {n}")

    def amend(self, n: int, changes: dict[str, Any], why: str, stamp: Stamp) -> None:
        """Entry n now reads with these values (`at`: the instant it happened; the
        stamp's agreement is the one in force then)."""
        changes = {k: given(v) if k in OPTIONAL_TEXTS else v for k, v in changes.items()}
        self.check_amend(n, changes, why, stamp)
        step = self.step(n).amended(changes)  # (as `_step`: a command's, not an entry's)
        check_one_step_then(self.key, step.name, step.occurred_at, step.data, [
            f for f in self.steps_at(step.name, step.occurred_at, as_recorded=False) if f.n != n])
        self.trigger_event(self.Amended, target=n, changes=changes, why=why, **stamp.fields())

    def check_amend(
        self, n: int, changes: dict[str, Any], why: str, stamp: Stamp, erased: bool = False
    ) -> None:
        """`erased`: the person's details in `changes` may have been erased since (a
        restored amendment of a forgotten lead), so one reading as changing nothing is not
        refused for that."""
        if not changes:
            raise InvalidInput("an amendment needs at least one value to change")
        _require_reason(why, "a correction")
        fact = self.step(n)
        allowed = AMENDABLE[fact.name]
        for field, value in changes.items():
            if field not in allowed:
                raise InvalidInput(
                    f"entry {n} of lead {self.key!r} is {fact.name}: it has no {field} "
                    f"(it can be amended with {', '.join(sorted(allowed))})"
                )
            check_value(field, value)
            if self.forgotten is not None and field in PERSONAL_DATA:
                raise TransitionRefused(
                    f"lead {self.key!r} was forgotten: its {field} cannot be given again"
                )
        if not erased and all(fact.value(f) == v for f, v in changes.items()):
            raise InvalidInput(f"entry {n} of lead {self.key!r} already reads so: nothing to amend")
        if "at" in changes:
            check_not_in_future(replace(stamp, occurred_at=changes["at"]))
        amended = [f.amended(changes) if f.n == n else f for f in self.facts()]
        self.check_sequence(sorted(amended, key=Fact.order), f"amending entry {n}")

    def facts(self, as_of: datetime | None = None) -> list[Fact]:
        """The lead's steps as they now read, in the order they happened: every entry
        recorded by `as_of` (all when None), less those voided, with their amendments."""
        known = [e for e in self.entries if as_of is None or e.timestamp <= as_of]
        voided = {c.target for c in known if isinstance(c, Lead.Voided)}
        amended: dict[int, list[Lead.Amended]] = {}
        for c in known:
            if isinstance(c, Lead.Amended):
                amended.setdefault(c.target, []).append(c)
        facts = []
        for n, entry in enumerate(known, 1):
            if entry.name in NOT_STEPS or n in voided:
                continue
            fact = entry.as_recorded(n)
            for amendment in amended.get(n, ()):
                fact = fact.amended(amendment.changes, amendment)
            facts.append(fact)
        return sorted(facts, key=Fact.order)

    def settle(self) -> None:
        """Derive the lead's state from its corrected steps (after a correction)."""
        facts = self.facts()
        captured = facts[0].data
        self.source = captured["source"]
        if self.forgotten is None:
            self.name, self.email, self.company = (
                captured["name"], captured["email"], captured["company"])
        self.state, self.owner, self.last_proposal = "captured", None, None
        for fact in facts:
            self.state = state_after(self.state, fact.name)
            if fact.name == "handed":
                self.owner = fact.data["owner"]
            elif fact.name == "proposal":
                self.last_proposal = fact.data["amount"]
        self.latest_at = facts[-1].occurred_at

    def check_sequence(self, facts: list[Fact], correction: str | None = None) -> None:
        """The steps, in the order they happened, must still follow the lifecycle from the
        capture on. For the steps a `correction` would leave, the refusal names it: the state
        it speaks of is not the lead's as it stands."""
        refusal = sequence_refusal(self.key, [fact.name for fact in facts])
        if refusal is None:
            return
        if correction is not None:
            refusal = (f"{correction} of lead {self.key!r} would leave its steps against the"
                       f" protocol: {refusal}")
        raise TransitionRefused(refusal)

    # -- guards ---------------------------------------------------------------------

    def _check(self, event_name: str, stamp: Stamp) -> None:
        latest = self.latest_at
        if latest is not None and stamp.occurred_at < latest:
            # A step before the latest is told to give its reason only where it would fit
            # in its place (recorded with --why, it is judged in the order things happened:
            # a call logged late on a lead won since); one that would not is refused as the
            # lifecycle refuses it now, or, where it allows it now (a call dated before the
            # handoff), with the reason it refuses it in its place, which --why cannot cure.
            in_place = self._refusal_in_place(event_name, stamp)
            now = transition_refusal(self.key, self.state, event_name)
            if in_place is not None and now is not None:
                raise TransitionRefused(now)
            last = next(f for f in reversed(self.facts()) if f.occurred_at == latest)
            raise before_previous(self.key, stamp.occurred_at, last.name, latest, in_place)
        self.check_transition(event_name)
        check_not_in_future(stamp)

    def _refusal_in_place(self, event_name: str, stamp: Stamp) -> str | None:
        """Why the lifecycle refuses the step in its place among the lead's steps (None
        when it allows it there)."""
        step = Fact(len(self.entries) + 1, event_name, stamp.occurred_at, stamp.recorded_at, {})
        in_place = sorted([*self.facts(), step], key=Fact.order)
        return sequence_refusal(self.key, [fact.name for fact in in_place])

    def check_transition(self, event_name: str) -> None:
        refusal = transition_refusal(self.key, self.state, event_name)
        if refusal:
            raise TransitionRefused(refusal)

    def steps_at(
        self, event_name: str, occurred_at: datetime, as_recorded: bool = True
    ) -> list[Fact]:
        """The steps of this name at this instant that the lead has recorded (usually none
        or one): as they now read, then as first recorded. A step voided or amended since
        is still one the lead recorded: a file naming it as it was first recorded (an import
        run again) neither brings it back nor changes it. `as_recorded` False: only as they
        now read, as an export writes them."""
        # Only an amendment gives a step another instant than its entry's: without one, no
        # entry of that name at that instant means no such step, known without `facts()`
        # (a sort per call: an import checking each row of a long lead was quadratic).
        for e in self.entries:
            if (e.occurred_at == occurred_at and e.event == event_name) or isinstance(
                e, Lead.Amended
            ):
                now = [
                    f for f in self.facts() if f.name == event_name and f.occurred_at == occurred_at
                ]
                return now if not as_recorded else now + [
                    e.as_recorded(n) for n, e in enumerate(self.entries, 1)
                    if e.name not in NOT_STEPS
                    and e.event == event_name and e.occurred_at == occurred_at
                ]
        return []


# What each step's entry can be amended with (`at`: the instant it happened).
AMENDABLE: dict[str, frozenset[str]] = {
    "captured": frozenset({"at", "source", "name", "email", "company"}),
    "qualified": frozenset({"at", "score"}),
    "handed": frozenset({"at", "owner"}),
    "accepted": frozenset({"at"}),
    "rejected": frozenset({"at", "reason"}),
    "contacted": frozenset({"at", "channel"}),
    "proposal": frozenset({"at", "amount"}),
    "won": frozenset({"at", "amount"}),
    "lost": frozenset({"at", "reason"}),
}


def sequence_refusal(key: str, steps: list[str]) -> str | None:
    """Why a lead's steps, in the order they happened, do not follow the lifecycle from the
    capture on (None when they do)."""
    if not steps or steps[0] != "captured":
        return f"lead {key!r} would have a step before its capture"
    state = "captured"
    for name in steps[1:]:
        refusal = transition_refusal(key, state, name)
        if refusal:
            return refusal
        state = state_after(state, name)
    return None


def quoted(value: Any) -> str:
    """A step's value as a refusal quotes it: texts quoted, numbers (amounts) as written."""
    return repr(value) if isinstance(value, str) else str(value)


def _last_proposal(facts: list[Fact], at: datetime) -> Fact | None:
    """The last proposal among the steps (in the order they happened) made by `at`: the one
    a win then takes its amount from."""
    return next((f for f in reversed(facts) if f.name == "proposal" and f.occurred_at <= at),
                None)


def check_one_step_then(
    key: str, event_name: str, occurred_at: datetime, data: dict[str, Any], steps: list[Fact]
) -> None:
    """A step is known by its lead, its event and its instant: an export writes it so, and
    an import reads it back so (a row saying otherwise than the step recorded there is
    refused). A step saying otherwise than every one of `steps` (the lead's of that name
    at that instant) would make an export that does not import again: refused, told to
    take its own instant. The same step again stays two steps, as typed."""
    if not steps or any(all(f.data.get(k) == v for k, v in data.items()) for f in steps):
        return
    held = steps[0]
    field = next(k for k, v in data.items() if held.data.get(k) != v)

    def said(value: Any) -> str:
        return f"no {field}" if value is None else f"{field} {quoted(value)}"

    raise TimeRefused(
        lambda at: f"lead {key!r} already has {event_name} at {at(occurred_at)} with "
        f"{said(held.data.get(field))}, not {said(data[field])}: a step is known by its lead,"
        " event and instant (an export of both would not import again); give this one its"
        " own instant"
    )


def before_previous(
    key: str, occurred_at: datetime, previous: str, latest: datetime,
    refused_in_place: str | None = None,
) -> TimeRefused:
    """The refusal of a step at `occurred_at` on a lead whose latest step is `previous`, at
    `latest` (a later instant), when no reason for recording it late is given: told to give
    one, unless the lifecycle refuses the step in its place too (`refused_in_place`)."""
    def sentence(at: Wording) -> str:
        return (f"lead {key!r}: {at(occurred_at)} is before its previous event "
                f"({previous} at {at(latest)})")

    if refused_in_place is None:
        return MissedStepRefused(
            sentence, "to record a step that was missed at its true time, give --why with"
            " the reason")
    return TimeRefused(lambda at: f"{sentence(at)}, where the protocol refuses it too"
                                  f" ({refused_in_place})")


def check_capture(
    key: str, source: str, stamp: Stamp, name: str | None, email: str | None,
    company: str | None, entry: bool = False,
) -> None:
    """What a capture must satisfy before a lead exists (`entry`: a backup's capture,
    whose key an earlier release may have recorded: `bounds.check_entry_key`)."""
    (check_entry_key if entry else check_key)(key)
    if not source.strip():
        raise InvalidInput("a captured lead needs a source")
    if not entry:  # reports group by it (`kpi --by source`): one way to type each
        check_group_name("the source", source)
    for what, text in (("source", source), ("name", name), ("email", email),
                       ("company", company)):
        check_text(what, text)
    check_not_in_future(stamp)


def captured_attributes(
    key: str, source: str, stamp: Stamp, name: str | None, email: str | None,
    company: str | None,
) -> dict[str, Any]:
    """The attributes of a lead's `Captured` event (besides the lead's id and version)."""
    return {"key": key, "source": source, "lead_name": name, "email": email,
            "company": company, **stamp.fields()}


def check_step(event_name: str, data: dict[str, Any]) -> None:
    """The checks of a step's own data, made before the lifecycle's (`data`: its event's
    data fields, a won deal's amount already the last proposal's when none was given)."""
    if event_name == "qualified":
        if data.get("score") is not None:
            check_count(data["score"], "score")
    elif event_name == "handed":
        check_owner(data["owner"])
    elif event_name == "rejected":
        _require_reason(data["reason"], "a rejection")
    elif event_name == "contacted":
        check_text("channel", data.get("channel"))
    elif event_name in ("proposal", "won"):
        check_amount(data["amount"])
    elif event_name == "lost":
        _require_reason(data["reason"], "a lost deal")


class Journey:
    """A lead whose steps are recorded in the order they happened, with no correction
    among them (a lead an import captures): what the lifecycle's guards need of it,
    without its events. `Lead` guards itself with the same rules (`transition_refusal`,
    `before_previous`, `check_not_in_future`, `state_after`); for such a lead its latest
    step is its latest entry, and a won deal's amount defaults to its latest proposal's
    (`Lead.win`: the last proposal before the win, the latest when the win is in order).
    """

    __slots__ = ("key", "last_proposal", "latest_at", "latest_step", "recorded", "state")

    def __init__(self, key: str, captured_at: datetime,
                 recorded: Mapping[tuple[str, datetime], Any]) -> None:
        """`recorded`: its steps so far, (business name, instant) in the order recorded (the
        order they happened), kept by whoever records them (an import's `NewLead`)."""
        self.key = key
        self.state = "captured"
        self.latest_at = captured_at
        self.latest_step = "captured"
        self.last_proposal: Decimal | None = None
        self.recorded = recorded

    def check(self, event_name: str, stamp: Stamp) -> None:
        """`Lead._check`: refuses a step the lifecycle or the order of time refuses, in the
        same words (an import's new lead: none of its steps can be recorded in its place,
        since a row gives no reason for recording it late)."""
        refusal = transition_refusal(self.key, self.state, event_name)
        if stamp.occurred_at < self.latest_at:
            # Its place: after every step that happened by then (at the same instant, in
            # the order recorded), as `Fact.order` places it among a lead's steps.
            steps = list(self.recorded)
            place = bisect_right(steps, stamp.occurred_at, key=lambda step: step[1])
            names = [name for name, _ in steps]
            in_place = sequence_refusal(self.key, [*names[:place], event_name, *names[place:]])
            if in_place is not None and refusal is not None:
                raise TransitionRefused(refusal)
            raise before_previous(self.key, stamp.occurred_at, self.latest_step, self.latest_at,
                                  in_place)
        if refusal:
            raise TransitionRefused(refusal)
        check_not_in_future(stamp)

    def record(self, event_name: str, occurred_at: datetime, data: dict[str, Any]) -> None:
        """The step, checked, is recorded (as its event's `apply` does to a lead)."""
        self.state = state_after(self.state, event_name)
        self.latest_at = occurred_at
        self.latest_step = event_name
        if event_name == "proposal":
            self.last_proposal = data["amount"]


# The texts a step may go without: an empty one is not given (`given`).
OPTIONAL_TEXTS = frozenset({"name", "email", "company", "channel"})


def given(text: str | None) -> str | None:
    """An optional text as typed: an empty one (`--email ""`, an import's empty cell) is
    not given, so that a lead captured without an e-mail reads as one whose e-mail is ''
    nowhere, and an amendment to '' changes nothing."""
    return text or None


def check_entry(lead: Lead | None, entry: Lead.Event) -> None:
    """Refuse an entry (a backup's) that the command recording it would have refused on the
    lead as it then stood (None: not captured yet): the same checks, in the same words, so
    that a restored lead reads as one the commands recorded."""
    check_entry_actor(entry.actor)
    if lead is None or isinstance(entry, Lead.Captured):
        if lead is not None or not isinstance(entry, Lead.Captured):
            raise InvalidInput("a lead's entries begin with its capture, and only there")
        if lead_id(entry.key) != entry.originator_id:
            raise InvalidInput(
                f"this capture of lead {entry.key!r} is filed under another lead's id"
            )
        check_capture(entry.key, entry.source, entry.stamp, entry.lead_name, entry.email,
                      entry.company, entry=True)
    elif isinstance(entry, Lead.MissedStep):
        if entry.step not in STEP_EVENTS or entry.step == "captured":
            raise InvalidInput(f"a missed step is a step after the capture, not {entry.step!r}")
        expected = set(STEP_EVENTS[entry.step].data_fields)
        if set(entry.details) != expected:
            raise InvalidInput(
                f"a missed {entry.step} holds {', '.join(sorted(expected)) or 'no data'}, "
                f"not {', '.join(sorted(entry.details)) or 'none'}"
            )
        _check_value_types(entry.details)
        lead.check_new_step(entry.step, entry.stamp, entry.why, entry.details)
    elif isinstance(entry, Lead.Voided | Lead.Amended | Lead.Forgotten) and (
        entry.occurred_at != entry.timestamp
    ):  # their stamps are made now (`HandoffApp.void`, `amend`, `forget`)
        raise InvalidInput("a correction or a forgetting happens when it is recorded, not"
                           " at another instant")
    elif isinstance(entry, Lead.Voided):
        lead.check_void(entry.target, entry.why)
    elif isinstance(entry, Lead.Amended):
        _check_value_types(entry.changes)
        if "at" in entry.changes:
            check_instant(entry.changes["at"])
        erased = any(entry.changes.get(field, "") is None for field in PERSONAL_DATA)
        lead.check_amend(entry.target, entry.changes, entry.why, entry.stamp, erased)
    elif isinstance(entry, Lead.Forgotten):
        lead.check_forget(entry.why, entry.erased)
    else:
        lead.check_new_step(entry.name, entry.stamp, None, entry.data)


# The type of each value a step's data or an amendment may give (None where a command may
# leave it out, or a forgetting erased it).
_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "at": (datetime,), "amount": (Decimal,), "score": (int, type(None)), "owner": (str,),
    "reason": (str,), "source": (str,), "channel": (str, type(None)),
    **dict.fromkeys(PERSONAL_DATA, (str, type(None))),
}


def _check_value_types(values: dict[str, Any]) -> None:
    for field, value in values.items():
        kinds = _VALUE_TYPES.get(field)
        if kinds is None:
            raise InvalidInput(f"a step has no {field}")
        if type(value) not in kinds:  # exactly: True is no score
            raise InvalidInput(f"{field} cannot be {value!r}")


def check_owner(owner: str) -> None:
    if not owner.strip():
        raise InvalidInput("a handoff needs an owner")
    check_text("owner", owner)


def check_value(field: str, value: Any) -> None:
    """A value an amendment gives a step's field: the same checks as when recorded."""
    if field == "amount":
        check_amount(value)
    elif field == "score":
        if value is not None:
            check_count(value, "score")
    elif field == "owner":
        check_owner(value)
    elif field == "reason":
        _require_reason(value, "the amended entry")
    elif field == "source":
        if not value.strip():
            raise InvalidInput("a captured lead needs a source")
        check_text("source", value)
    elif field in ("name", "email", "company", "channel"):
        check_text(field, value)


def check_not_in_future(stamp: Stamp) -> None:
    if in_the_future(stamp.occurred_at, stamp.recorded_at):
        raise TimeRefused(
            lambda at: f"{at(stamp.occurred_at)} is in the future (more than 5 minutes after now)"
        )


def check_amount(amount: Decimal) -> None:
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(f"amount must be greater than 0, got {amount}")
    check_amount_bound(amount)
    if not in_cents(amount):  # said in digits, as typed (not 1E-21)
        raise InvalidInput(f"amount must have at most 2 decimals, got {amount:f}")
    plain_decimal(str(amount), "amount")  # as typed: an export writes it so (not 1E+3)


def _require_reason(reason: str, what: str) -> None:
    if not reason.strip():
        raise InvalidInput(f"{what} needs a reason")
    check_text("the reason", reason, multiline=True)


# Each stored event class of a lead, with the business name the SPEC gives it.
LIFECYCLE_EVENTS: dict[type[Lead.Event], str] = {
    cls: cls.name
    for cls in (Lead.Captured, Lead.Qualified, Lead.Handed, Lead.Accepted, Lead.Rejected,
                Lead.Contacted, Lead.ProposalSent, Lead.Won, Lead.Lost)
}
# The event class recording each step of the lifecycle, by its business name.
STEP_EVENTS: dict[str, type[Lead.Event]] = {name: cls for cls, name in LIFECYCLE_EVENTS.items()}

# The entries that correct a lead's steps (SPEC §2): a lead with any of them is read from
# its corrected steps (`Lead.facts`) rather than entry by entry.
CORRECTIONS: tuple[type[Lead.Event], ...] = (Lead.MissedStep, Lead.Voided, Lead.Amended)
# The entries that are not steps of the protocol.
NOT_STEPS = frozenset({"voided", "amended", "forgotten"})
