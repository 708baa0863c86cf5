"""The agreement: the terms of one version, and the register of every version applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from handoff.domain.bounds import check_text
from handoff.domain.business_time import WEEKDAYS, BusinessCalendar, time_of_day
from handoff.domain.errors import (
    ActorRefused,
    InvalidInput,
    OwnerRefused,
    Refused,
    SignatureRefused,
)
from handoff.domain.service_level import governing_version
from handoff.domain.steps import EVENT_NAMES, Stamp, check_owner_named

# The funnel's rates, from the top down: each rate's stage (its numerator) and the stage
# above it, which it is taken over (its denominator). Marketing promises the first three,
# sales the last three.
FUNNEL_RATES: dict[str, tuple[str, str]] = {
    "visit_to_captured": ("captured", "visits"),
    "captured_to_qualified": ("qualified", "captured"),
    "qualified_to_handed": ("handed", "qualified"),
    "handed_to_accepted": ("accepted", "handed"),
    "accepted_to_proposal": ("proposal", "accepted"),
    "proposal_to_won": ("won", "proposal"),
}
MARKETING_RATES = tuple(FUNNEL_RATES)[:3]
SALES_RATES = tuple(FUNNEL_RATES)[3:]
MARKETING_EVENTS = frozenset({"captured", "qualified", "handed"})
SALES_EVENTS = frozenset(EVENT_NAMES) - MARKETING_EVENTS

@dataclass(frozen=True)
class AgreementTerms:
    """One version of the agreement, as validated from its TOML document."""

    document: dict[str, Any]  # JSON-safe: dates and decimals as strings

    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def effective_from(self) -> date:
        return date.fromisoformat(self.document["effective_from"])

    @property
    def effective_to(self) -> date | None:
        value = self.document.get("effective_to")
        return date.fromisoformat(value) if value else None

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.document.get("timezone", "UTC"))

    @property
    def dates(self) -> str:
        """Its dates as people read them: `2026-01-01 to 2026-06-30`, or `... to open-ended`."""
        end = self.effective_to
        return f"{self.effective_from.isoformat()} to {end.isoformat() if end else 'open-ended'}"

    def covers(self, day: date) -> bool:
        end = self.effective_to
        return self.effective_from <= day and (end is None or day <= end)

    def covers_instant(self, instant: datetime) -> bool:
        return self.covers(instant.astimezone(self.timezone).date())

    def public_holidays_between(self, first: date, last: date) -> list[tuple[date, str]]:
        """The public holidays of `country_holidays` (its region's too) from `first` to
        `last` within these terms' dates, each with its name as the `holidays` package
        gives it ("Columbus Day", "Independence Day (observed)"): the days the calendar
        closes without the agreement listing them; none without `country_holidays`."""
        code = self.document.get("calendar", {}).get("country_holidays")
        if code is None:
            return []
        from handoff.domain.business_time import public_holidays

        known = public_holidays(code)
        day, last = max(first, self.effective_from), min(last, self.effective_to or last)
        found = []
        while day <= last:
            name = known.get(day)
            if name is not None:
                found.append((day, name))
            day += timedelta(days=1)
        return found

    @cached_property
    def calendar(self) -> BusinessCalendar:
        section = self.document.get("calendar", {})
        opens, closes = section.get("hours", ["09:00", "17:00"])
        return BusinessCalendar(
            timezone=self.timezone,
            workdays=frozenset(
                WEEKDAYS.index(d) for d in section.get("workdays", WEEKDAYS[:5])
            ),
            opens=time.fromisoformat(opens),
            closes=time_of_day(closes, closing=True),
            holidays=frozenset(date.fromisoformat(d) for d in section.get("holidays", [])),
            country_holidays=section.get("country_holidays"),
        )

    @property
    def decide_within_hours(self) -> Decimal:
        return Decimal(self.document["sales"]["decide_within_hours"])

    def rate(self, name: str) -> Decimal | None:
        side = "marketing" if name in MARKETING_RATES else "sales"
        value = self.document.get(side, {}).get("rates", {}).get(name)
        return None if value is None else Decimal(value)

    def goal(self, name: str) -> Decimal | None:
        value = self.document.get("goal", {}).get(name)
        return None if value is None else Decimal(value)

    @property
    def follow_up(self) -> tuple[int, int] | None:
        """(attempts, within days) of the follow-up sales owes an accepted lead; None when
        the version asks for none, or for half of one (a version recorded before files
        were refused for that: it measures nothing rather than break every report)."""
        terms = self.document.get("sales", {}).get("follow_up") or {}
        if "attempts" not in terms or "within_days" not in terms:
            return None
        return int(terms["attempts"]), int(terms["within_days"])

    @property
    def qualified_per_month(self) -> int | None:
        value = self.document.get("marketing", {}).get("qualified_per_month")
        return None if value is None else int(value)

    def team_for(self, event_name: str) -> list[str] | None:
        """Who may record this event, or None when the agreement does not restrict it.

        A `[team]` that names only one side restricts only that side: leaving `sales`
        out is read as "not agreed", not as "nobody may sell".
        """
        side = "marketing" if event_name in MARKETING_EVENTS else "sales"
        members = self.document.get("team", {}).get(side)
        return None if members is None else list(members)


SIDES = ("marketing", "sales")


def check_restatement(why: str | None) -> None:
    if why is not None and not why.strip():
        raise InvalidInput("a restatement needs a reason (--why)")
    if why is not None:
        check_text("the reason", why, multiline=True)


def _restating(why: str | None) -> dict[str, str]:
    """The event field of a restatement (none otherwise: versions recorded before
    restatements existed, and every other version, read the same)."""
    return {} if why is None else {"restates": why}


def flat_terms(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every term of an agreement document by its dotted key (`sales.decide_within_hours`)."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update(flat_terms(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@dataclass(frozen=True)
class Change:
    """One term that differs between two versions (None: absent from that version)."""

    key: str
    before: Any
    after: Any


def revised_by(applied: Sequence[AppliedVersion], terms: AgreementTerms
               ) -> AppliedVersion | None:
    """The version that terms revise, of those applied before them: the one in force on
    their first day, else (a revision of days no version covered) the last applied."""
    return governing_version(applied, lambda v: v.terms.covers(terms.effective_from)) or (
        applied[-1] if applied else None)


def changes_between(before: AgreementTerms | None, after: AgreementTerms) -> list[Change]:
    """The terms `after` adds, drops or changes, by dotted key in the order written."""
    old = flat_terms(before.document) if before else {}
    new = flat_terms(after.document)
    keys = list(dict.fromkeys([*new, *old]))
    return [Change(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


@dataclass(frozen=True)
class Signature:
    side: str
    actor: str
    signed_at: datetime


@dataclass(frozen=True)
class Team:
    """The two sides whose members must both sign a version (a side not named: anyone else)."""

    marketing: tuple[str, ...] | None
    sales: tuple[str, ...] | None

    @staticmethod
    def of(terms: AgreementTerms) -> Team | None:
        return Team.from_document(terms.document.get("team") or {})

    @staticmethod
    def from_document(team: dict[str, list[str] | None]) -> Team | None:
        sides = [None if team.get(s) is None else tuple(team[s] or ()) for s in SIDES]
        return None if sides == [None, None] else Team(*sides)

    def as_document(self) -> dict[str, list[str] | None]:
        return {s: None if (m := self.members(s)) is None else list(m) for s in SIDES}

    def members(self, side: str) -> tuple[str, ...] | None:
        return self.marketing if side == "marketing" else self.sales

    def sides_of(self, actor: str) -> list[str]:
        """The sides the actor may sign for: those naming them, or an unnamed side."""
        named = [s for s in SIDES if actor in (self.members(s) or ())]
        if named:
            return named
        return [s for s in SIDES if self.members(s) is None and self._other(s) is not None]

    def _other(self, side: str) -> tuple[str, ...] | None:
        return self.members("sales" if side == "marketing" else "marketing")

    def describe(self, side: str | None = None) -> str:
        if side is not None:
            return ", ".join(self.members(side) or ("anyone else",))
        return "; ".join(f"{s}: {self.describe(s)}" for s in SIDES)


@dataclass(frozen=True)
class AppliedVersion:
    """A version that came into force at `applied_at`: when applied without a team, or
    when the second side signed it."""

    number: int
    terms: AgreementTerms
    applied_at: datetime
    actor: str  # who applied (proposed) it
    proposed_at: datetime | None = None  # when it was proposed, if it waited for a signature
    signatures: tuple[Signature, ...] = ()
    restates: str | None = None  # why, when signed as a restatement of the past

    @property
    def name(self) -> str:
        return self.terms.name

    @property
    def restated_by(self) -> str:
        """Who put the restatement in force (the second signature, or who applied it)."""
        return self.signatures[-1].actor if self.signatures else self.actor

    def check_member(self, actor: str, doing: str) -> None:
        """Refuse an actor on neither side of its team (when it has one) what only those
        who may record may do (`doing`: "forget a lead")."""
        team = Team.of(self.terms)
        if team is not None and not team.sides_of(actor):
            raise ActorRefused(
                f"{actor!r} may not {doing}: the agreement {self.name!r} lets only its team"
                f" record ({team.describe()})"
            )

    def check_team(self, event_name: str, actor: str, owner: str | None = None) -> None:
        """Refuse an actor its team does not let record this event, and a handoff to an
        owner outside its sales side."""
        team = self.terms.team_for(event_name)
        if team is not None and actor not in team:
            raise ActorRefused(
                f"{actor!r} may not record {event_name}: the agreement {self.name!r} "
                f"lets only {', '.join(team) or 'nobody'} do that"
            )
        sales = self.terms.team_for("accepted")
        if owner is not None and sales is not None and owner not in sales:
            raise OwnerRefused(
                f"{owner!r} is not on the sales side of the agreement {self.name!r} "
                f"({', '.join(sales) or 'nobody'})"
            )


@dataclass(frozen=True)
class Proposal:
    """A version signed by one side, not in force until the other side signs it."""

    number: int
    terms: AgreementTerms
    actor: str
    proposed_at: datetime
    team: Team
    signatures: tuple[Signature, ...]
    overtaken_by: int | None = None  # a version that came into force after it was proposed
    restates: str | None = None  # why, when proposed as a restatement of the past

    @property
    def name(self) -> str:
        return self.terms.name

    @property
    def awaiting(self) -> str:
        signed = {s.side for s in self.signatures}
        return next(side for side in SIDES if side not in signed)


AgreementVersion = AppliedVersion | Proposal


class AgreementRegister(Aggregate):
    """Every version of the agreement ever applied or proposed; versions are never edited.

    `versions` holds those that came into force, in the order they did (which is also the
    order of their numbers: a version coming into force overtakes every proposal still
    waiting, which must be proposed again); `proposals` those proposed and not signed.
    """

    ID = uuid5(NAMESPACE_URL, "handoff:agreement-register")

    @staticmethod
    def create_id() -> UUID:
        return AgreementRegister.ID

    @event("Opened")
    def __init__(self) -> None:
        self.versions: list[AppliedVersion] = []
        self.proposals: dict[int, Proposal] = {}

    # -- deciding ---------------------------------------------------------------------

    def history(self) -> list[AgreementVersion]:
        """Every version recorded, in force or proposed, by number."""
        recorded: list[AgreementVersion] = [*self.versions, *self.proposals.values()]
        return sorted(recorded, key=lambda v: v.number)

    def identical_to(
        self, terms: AgreementTerms, restates: str | None = None
    ) -> AgreementVersion | None:
        """The recorded version with exactly these terms (an overtaken proposal aside); when
        they are to restate the past (`restates`), one that restates it too: terms recorded
        without a restatement, asked for as one, ask for what they did not."""
        for version in self.history():
            if (version.terms.document == terms.document
                    and not (isinstance(version, Proposal) and version.overtaken_by)
                    and (restates is None or version.restates is not None)):
                return version
        return None

    def team_binding(self, terms: AgreementTerms, at: datetime) -> Team | None:
        """Whose two sides must sign these terms: the team of the version `binding` at
        `at`, else the file's own team."""
        current = self.binding(at)
        team = Team.of(current.terms) if current else None
        return team or Team.of(terms)

    def binding(self, at: datetime) -> AppliedVersion | None:
        """The version whose team says who may act at `at` beyond recording a step: the
        one in force, or when none is, the last one to come into force."""
        return self.in_force_at(at) or (self.versions[-1] if self.versions else None)

    def apply(
        self, terms: AgreementTerms, actor: str, at: datetime, restates: str | None = None
    ) -> AgreementVersion:
        """Record terms: in force at once without a team, else proposed and signed for the
        actor's side. Terms identical to a recorded version record nothing. `restates`:
        why the version also judges the handoffs recorded before it (SPEC §3)."""
        check_restatement(restates)
        existing = self.identical_to(terms, restates)
        if existing is not None:
            return existing
        waiting = self.identical_to(terms)
        if isinstance(waiting, Proposal):  # one overtaken is never identical_to's answer
            # Proposed again as a restatement, they would wait beside themselves for the
            # same signature: the one they wait for can make them a restatement.
            raise SignatureRefused(
                f"these terms are version {waiting.number}, proposed and awaiting a signature:"
                f" to restate the past with them, the other side signs it with `handoff sla"
                f" sign {waiting.number} --restate --why W`"
            )
        team = self.team_binding(terms, at)
        if team is None:
            self.apply_version(terms, actor, at, restates)
            return self.versions[-1]
        sides = team.sides_of(actor)
        if not sides:
            raise SignatureRefused(f"{actor!r} is on neither side of the team ({team.describe()})")
        self._version_proposed(
            number=self._next_number(), document=terms.document, actor=actor,
            proposed_at=at, side=sides[0],
            team=team.as_document(), **_restating(restates),
        )
        return self.proposals[self._last_number()]

    def sign(
        self, number: int, actor: str, at: datetime, restates: str | None = None
    ) -> AppliedVersion:
        """The other side's signature: the proposal comes into force now; as a restatement
        when it was proposed as one or `restates` says why."""
        check_restatement(restates)
        proposal = self.proposals.get(number)
        if proposal is None:
            if any(v.number == number for v in self.versions):
                raise SignatureRefused(f"version {number} is already in force")
            raise SignatureRefused(f"there is no version {number}")
        if proposal.overtaken_by is not None:
            raise SignatureRefused(
                f"version {number} was overtaken by version {proposal.overtaken_by}, in force "
                "since it was proposed; apply its file again to propose it anew"
            )
        team, side = proposal.team, proposal.awaiting
        sides = team.sides_of(actor)
        if not sides:
            raise SignatureRefused(f"{actor!r} is on neither side of the team ({team.describe()})")
        if side not in sides or any(s.actor == actor for s in proposal.signatures):
            signed = proposal.signatures[0].side
            raise SignatureRefused(
                f"version {number} is already signed for {signed}; it needs a signature "
                f"from {side} ({team.describe(side)})"
            )
        if restates is not None and proposal.restates not in (None, restates):
            # One reason per restatement, the one both sides signed (SPEC §3: who, when
            # and why): another in the signature would stand over the proposer's.
            raise SignatureRefused(
                f"version {number} was proposed as a restatement because"
                f" \u201c{proposal.restates}\u201d: sign it as proposed (without --restate),"
                " or propose a version of your own with your reason"
            )
        self._version_signed(number=number, actor=actor, side=side, signed_at=at)
        self._version_applied(
            document=proposal.terms.document, actor=proposal.actor, applied_at=at,
            number=number, **_restating(restates or proposal.restates),
        )
        return self.versions[-1]

    def apply_version(
        self, terms: AgreementTerms, actor: str, applied_at: datetime,
        restates: str | None = None,
    ) -> None:
        """Put terms in force at once (no team binds them)."""
        self._version_applied(
            document=terms.document, actor=actor, applied_at=applied_at,
            number=self._next_number(), **_restating(restates),
        )

    def _next_number(self) -> int:
        return self._last_number() + 1

    def _last_number(self) -> int:
        return max((v.number for v in self.history()), default=0)

    # -- what happened ------------------------------------------------------------------

    @event("VersionProposed")
    def _version_proposed(
        self, number: int, document: dict[str, Any], actor: str, proposed_at: datetime,
        side: str, team: dict[str, list[str] | None], restates: str | None = None,
    ) -> None:
        binding = Team.from_document(team)
        assert binding is not None  # a proposal is made only under a team
        signature = Signature(side, actor, proposed_at)
        self.proposals[number] = Proposal(
            number, AgreementTerms(document), actor, proposed_at, binding, (signature,),
            restates=restates,
        )

    @event("VersionSigned")
    def _version_signed(self, number: int, actor: str, side: str, signed_at: datetime) -> None:
        proposal = self.proposals[number]
        signatures = (*proposal.signatures, Signature(side, actor, signed_at))
        self.proposals[number] = replace(proposal, signatures=signatures)

    @event("VersionApplied")
    def _version_applied(
        self, document: dict[str, Any], actor: str, applied_at: datetime,
        number: int | None = None,  # absent from versions recorded before signing existed
        restates: str | None = None,  # why it restates the past (absent: it does not)
    ) -> None:
        """A version came into force: applied without a team, or signed by both sides."""
        number = number or len(self.versions) + 1
        proposal = self.proposals.pop(number, None)
        self.versions.append(
            AppliedVersion(
                number, AgreementTerms(document), applied_at, actor,
                proposal.proposed_at if proposal else None,
                proposal.signatures if proposal else (),
                restates,
            )
        )
        for waiting, other in list(self.proposals.items()):
            if other.overtaken_by is None:
                self.proposals[waiting] = replace(other, overtaken_by=number)

    # -- reading ------------------------------------------------------------------------
    def taken_over_by(self, terms: AgreementTerms) -> list[tuple[AppliedVersion, date, date]]:
        """The versions in force now on some of the terms' days, other than the one they
        revise (`revised_by`), each with the first and last of those days: once in force,
        the terms govern those days instead, as the version applied last governs a day
        (a file adding a holiday to H1 over a revision from April takes April to June back
        from the revision). Read by breakpoints: between two dates where a version begins
        or ends, the same version governs every day."""
        revised = revised_by(self.versions, terms)
        bounds = {terms.effective_from}
        for version in self.versions:
            bounds.add(version.terms.effective_from)
            if version.terms.effective_to is not None:
                bounds.add(version.terms.effective_to + timedelta(days=1))
        if terms.effective_to is not None:
            bounds.add(terms.effective_to + timedelta(days=1))
        starts = sorted(day for day in bounds if terms.covers(day))
        taken: dict[int, tuple[AppliedVersion, date, date]] = {}
        for start, end in zip(starts, [*starts[1:], None], strict=True):
            governing = self.in_force_on(start)
            if governing is None or governing is revised:
                continue
            last = (end - timedelta(days=1) if end is not None
                    else terms.effective_to or governing.terms.effective_to)
            if last is None:  # both open-ended: from `start` on, for good
                last = date.max
            first = taken[governing.number][1] if governing.number in taken else start
            taken[governing.number] = (governing, first, last)
        return list(taken.values())

    def known_at(self, as_of: datetime | None) -> list[AppliedVersion]:
        if as_of is None:
            return self.versions
        return [v for v in self.versions if v.applied_at <= as_of]

    def in_force_at(
        self, instant: datetime, as_of: datetime | None = None
    ) -> AppliedVersion | None:
        """The latest-applied version whose effective dates contain the instant (the
        version that governs a handoff made then: `service_level.governing_version`)."""
        return governing_version(self.known_at(as_of), lambda v: v.terms.covers_instant(instant))

    def in_force_on(self, day: date, as_of: datetime | None = None) -> AppliedVersion | None:
        """The latest-applied version whose effective dates contain the local day."""
        return governing_version(self.known_at(as_of), lambda v: v.terms.covers(day))

    def stamp(
        self, event_name: str, actor: str, occurred_at: datetime, recorded_at: datetime,
        owner: str | None = None, as_of: datetime | None = None,
    ) -> Stamp:
        """Stamp a lead event with the version in force when it occurred, of the versions
        in force when it is recorded (SPEC §2-§3: one signed later, a restatement too,
        never rewrites the entry); refuse an actor outside that version's team, and a
        handoff to an owner outside its sales side. A command records with the register
        as it stands; a history told on a simulated clock (the demo's), whose register
        already holds the versions signed later in the story, gives the instant each
        event is recorded as `as_of`."""
        if owner is not None:
            check_owner_named(owner)
        version = self.in_force_at(occurred_at, as_of)
        if version is None:
            return Stamp(occurred_at, recorded_at, actor)
        version.check_team(event_name, actor, owner)
        return Stamp(occurred_at, recorded_at, actor, version.number, version.name)

    def stamper(self, recorded_at: datetime) -> Stamper:
        """`stamp` for many events recorded at one instant (an import), the register as it
        stands: the same stamps and refusals, with the version in force looked up once per
        local day and its checks made once per event, actor and owner."""
        return Stamper(self, recorded_at)


class Stamper:
    """`AgreementRegister.stamp` remembered for one register and one recording instant.

    The version in force at an instant depends only on the instant's local day in each
    version's time zone (`AgreementTerms.covers_instant`), and a version's refusals only on
    the event, the actor and the owner: each is worked out by `stamp` itself, once.
    """

    def __init__(self, register: AgreementRegister, recorded_at: datetime) -> None:
        self.register = register
        self.recorded_at = recorded_at
        self.zones = list(dict.fromkeys(v.terms.timezone for v in register.versions))
        self.versions: dict[tuple[date, ...], AppliedVersion | None] = {}
        self.verdicts: dict[tuple[int, str, str, str | None], Stamp | Refused] = {}

    def __call__(
        self, event_name: str, actor: str, occurred_at: datetime, owner: str | None = None
    ) -> Stamp:
        if owner is not None:
            check_owner_named(owner)
        if not self.zones:
            return Stamp(occurred_at, self.recorded_at, actor)
        days = tuple([occurred_at.astimezone(zone).date() for zone in self.zones])
        try:
            version = self.versions[days]
        except KeyError:
            version = self.versions[days] = self.register.in_force_at(occurred_at)
        if version is None:
            return Stamp(occurred_at, self.recorded_at, actor)
        key = (id(version), event_name, actor, owner)
        verdict = self.verdicts.get(key)
        if verdict is None:
            try:
                verdict = self.register.stamp(
                    event_name, actor, occurred_at, self.recorded_at, owner=owner
                )
            except Refused as refusal:
                verdict = refusal
            self.verdicts[key] = verdict
        if isinstance(verdict, Refused):
            raise type(verdict)(*verdict.args)
        return Stamp(occurred_at, self.recorded_at, actor, verdict.agreement_version,
                     verdict.agreement)
