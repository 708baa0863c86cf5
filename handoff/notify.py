"""`handoff sla notify`: warn sales before a breach, tell them of one, and send a digest
each business morning, each notice once per channel.

What is due is read from the same queries as `sla due` (pending handoffs, with the
calendar that set their due instants) and `sla breaches --open`; the marks and the
record of what was sent are the domain's (`domain.notices`). Delivery:

1. claim: write the notice's first event (or, for a failed or abandoned one, its next
   event). The store accepts one write of a given aggregate version, so of two runs at
   once only one holds the claim; the other skips the notice.
2. deliver on the channel;
3. record the outcome: delivered, or failed with its reason. A failed notice is claimed
   again by the next run (never remembered as sent); one left claimed by a run that
   died mid-way is claimed again once `CLAIM_LEASE` has passed.

A channel out of reach (it timed out, refused the connection, or its host is unknown) is
given up for the rest of the run, and so is every address sent through the same SMTP
server: their other notices are claimed and recorded as failed with that reason, untried,
so that the next run sends them again, and a run waits out one timeout per webhook or
server rather than one per notice or address. The other channel is still served.

Claiming first means at most one delivery per notice when runs overlap. The other order
(deliver, then record) would let two overlapping runs both deliver. The price of
claiming first: a run killed between delivering and recording leaves a claim that a
later run takes over, so that notice may arrive twice rather than never.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementRegister, AppliedVersion
from handoff.domain.business_time import BusinessCalendar
from handoff.domain.notices import (
    AT_RISK_MARKS,
    BREACH,
    DIGEST,
    Notice,
    at_risk_kind,
    mark_reached,
    notice_id,
)
from handoff.domain.steps import lead_id
from handoff.instants import iso
from handoff.notify_channels import Channel, DeliveryFailed, Message
from handoff.sla import PendingHandoff, pending_handoffs, sla_breaches
from handoff.words import rounded

__all__ = ["Channel", "DeliveryFailed", "Draft", "Message", "RunReport", "due_notices",
           "send_notices"]

# A handoff that went overdue longer ago than this gets no breach notice of its own (the
# digest still counts it): a first run on an old store does not flood the channel.
BREACH_LOOKBACK = timedelta(days=7)
# Said of a notice left untried because its channel's server was given up this run.
GIVEN_UP = "; not tried again this run"
# The digest's "at risk": the first warning mark reached.
_AT_RISK_SHARE = Fraction(AT_RISK_MARKS[0], 100)


@dataclass(frozen=True)
class Draft:
    """A notice due now: what it is about, its kind, and what it says."""

    subject: str  # a handoff ("<lead id>@<handed instant>") or a local day (the digest)
    kind: str
    title: str
    text: str


@dataclass(frozen=True)
class Attempt:
    draft: Draft
    channel: str  # the channel's label
    reason: str | None = None  # why it failed; None when delivered (or, dry, to deliver)


@dataclass
class RunReport:
    """What a run did: notices sent, failed, and those another run had already sent or
    was sending (skipped). A dry run lists what it would send in `sent`."""

    dry_run: bool
    sent: list[Attempt] = field(default_factory=list)
    failed: list[Attempt] = field(default_factory=list)
    skipped: int = 0

    def failure_reasons(self) -> list[str]:
        """Each failing channel's first reason, once: a channel given up with another
        because their server did not answer (two addresses of one SMTP server) adds
        nothing to the failure that gave it up."""
        first: dict[str, str] = {}
        for attempt in self.failed:
            first.setdefault(attempt.channel, attempt.reason or "")
        said = dict.fromkeys(first.values())
        return [reason for reason in said
                if not (reason.endswith(GIVEN_UP) and reason.removesuffix(GIVEN_UP) in said)]


def send_notices(app: HandoffApp, channels: list[Channel], *, actor: str,
                 dry_run: bool = False, report: RunReport | None = None) -> RunReport:
    """Deliver every notice due now on every channel that has not had it yet; `report`,
    when given, is filled as the run goes (what it delivered before a failure stopped
    it, the store busy say)."""
    now = app.clock()
    report = RunReport(dry_run) if report is None else report
    out_of_reach: dict[str, str] = {}  # channel server -> why it was given up
    for draft in due_notices(app, now):
        for channel in channels:
            the_id = notice_id(draft.subject, draft.kind, channel.key)
            if dry_run:
                if _open(app, the_id, now):
                    report.sent.append(Attempt(draft, channel.label))
                else:
                    report.skipped += 1
                continue
            notice = _claim(app, draft, channel.key, now, actor)
            if notice is None:
                report.skipped += 1
                continue
            try:
                if channel.server in out_of_reach:
                    raise DeliveryFailed(out_of_reach[channel.server])
                channel.deliver(Message(str(the_id), draft.title, draft.text))
            except DeliveryFailed as failure:
                if failure.unreachable:
                    out_of_reach[channel.server] = f"{failure}{GIVEN_UP}"
                notice.failed(at=app.clock(), reason=str(failure))
                report.failed.append(Attempt(draft, channel.label, str(failure)))
            else:
                notice.delivered(at=app.clock())
                report.sent.append(Attempt(draft, channel.label))
            _record_outcome(app, notice)
    return report


def _open(app: HandoffApp, the_id: Any, now: datetime) -> bool:
    """Whether a run now would claim the notice (never sent, failed, or abandoned)."""
    try:
        notice: Notice = app.repository.get(the_id)
    except AggregateNotFoundError:
        return True
    return notice.claimable(now)


def _claim(app: HandoffApp, draft: Draft, channel: str, now: datetime,
           actor: str) -> Notice | None:
    """The notice, claimed for this run; None when it was sent or another run holds it."""
    try:
        notice: Notice = app.repository.get(notice_id(draft.subject, draft.kind, channel))
    except AggregateNotFoundError:
        notice = Notice(subject=draft.subject, kind=draft.kind, channel=channel,
                        claimed_at=now, actor=actor)
    else:
        if not notice.claimable(now):
            return None
        notice.claim_again(now, actor)
    try:
        app.save(notice)
    except RecordConflictError:  # another run wrote this version first: it is theirs
        return None
    return notice


def _record_outcome(app: HandoffApp, notice: Notice) -> None:
    # A conflict here: our claim outlived its lease and another run took the notice over;
    # its record stands (the notice may have gone out twice: see the module's note).
    with suppress(RecordConflictError):
        app.save(notice)


# -- what is due ------------------------------------------------------------------------


def due_notices(app: HandoffApp, now: datetime) -> list[Draft]:
    """The notices due at `now`: a breach notice for each handoff gone overdue within
    BREACH_LOOKBACK, a warning for each pending handoff at the highest mark it has reached,
    soonest due first, then the day's digest (on a business day, from its opening)."""
    register = app.agreement_register()
    pending = pending_handoffs(app, now)
    overdue = sla_breaches(app, now, open_only=True)
    zone = _zone(register, now)
    drafts = [
        _breach(row, zone) for row in overdue
        if now - _instant(row["due_at"]) <= BREACH_LOOKBACK
    ]
    for handoff in pending:
        mark = mark_reached(handoff.window_used(now))
        if mark is not None:
            drafts.append(_at_risk(handoff, mark, now))
    digest = _digest(app, register, now, pending, overdue)
    if digest is not None:
        drafts.append(digest)
    return drafts


def _subject(lead: str, handed_at: datetime) -> str:
    return f"{lead_id(lead)}@{iso(handed_at)}"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _zone(register: AgreementRegister, now: datetime) -> ZoneInfo:
    version = _version_at(register, now)
    return version.terms.timezone if version else ZoneInfo("UTC")


def _version_at(register: AgreementRegister, now: datetime) -> AppliedVersion | None:
    """The agreement in force now, else the last applied (its zone and calendar)."""
    return register.in_force_at(now) or (register.versions[-1] if register.versions else None)


def _at_risk(handoff: PendingHandoff, mark: int, now: datetime) -> Draft:
    zone = handoff.calendar.timezone
    return Draft(
        subject=_subject(handoff.lead, handoff.handed_at),
        kind=at_risk_kind(mark),
        title=f"At risk: {handoff.lead} ({handoff.owner}), {mark} % of the decision window used",
        text=(
            f"At risk: lead {handoff.lead} (owner {handoff.owner}) has used {mark} % of its "
            f"decision window: handed {_local(handoff.handed_at, zone)}, due "
            f"{_local(handoff.due_at, zone)}, {rounded(handoff.hours_left(now))} business hours "
            "left to accept or reject it."
        ),
    )


def _breach(row: dict[str, Any], zone: ZoneInfo) -> Draft:
    handed, due = _instant(row["handed_at"]), _instant(row["due_at"])
    return Draft(
        subject=_subject(row["lead"], handed),
        kind=BREACH,
        title=f"Overdue: {row['lead']} ({row['owner']}), due {_local(due, zone)}",
        text=(
            f"Overdue: lead {row['lead']} (owner {row['owner']}) was due "
            f"{_local(due, zone)} and is still neither accepted nor rejected (handed "
            f"{_local(handed, zone)})."
        ),
    )


# -- the digest -------------------------------------------------------------------------


def _digest(
    app: HandoffApp, register: AgreementRegister, now: datetime,
    pending: list[PendingHandoff], overdue: list[dict[str, Any]],
) -> Draft | None:
    """The day's digest: on a business day of the agreement in force, from its opening."""
    version = register.in_force_at(now)
    if version is None:
        return None
    calendar = version.terms.calendar
    today = calendar.local_date(now)
    opening = calendar.opening_hours(today)
    if opening is None or now < opening[0]:
        return None
    previous = _previous_business_day(calendar, today)
    lines = [f"Handoff digest for {today:%A} {today.isoformat()} ({calendar.timezone.key})"]
    at_risk = [h for h in pending if h.window_used(now) >= _AT_RISK_SHARE]
    before = ""
    if previous is not None:
        then = calendar.opening_hours(previous)
        assert then is not None
        then_pending = pending_handoffs(app, then[0])
        then_at_risk = sum(h.window_used(then[0]) >= _AT_RISK_SHARE for h in then_pending)
        then_overdue = len(sla_breaches(app, then[0], open_only=True))
        before = f"{previous:%A}'s opening"
        lines.append(f"Overdue, still undecided: {len(overdue)} (at {before}: {then_overdue})")
        lines.append(f"At risk, half the window or more used: {len(at_risk)} "
                     f"(at {before}: {then_at_risk})")
    else:
        lines.append(f"Overdue, still undecided: {len(overdue)}")
        lines.append(f"At risk, half the window or more used: {len(at_risk)}")
    due_today = sum(calendar.local_date(h.due_at) == today for h in pending)
    lines.append(f"Pending: {len(pending)}, of which due today: {due_today}")
    if previous is not None:
        lines.append(_handed_since(app, previous, today, now))
    if overdue:
        oldest = overdue[0]
        lines.append(f"Oldest overdue: {oldest['lead']} ({oldest['owner']}), due "
                     f"{_local(_instant(oldest['due_at']), calendar.timezone)}")
    owners = _by_owner(overdue, at_risk)
    if owners:
        lines.append(f"By owner: {owners}")
    return Draft(subject=today.isoformat(), kind=DIGEST, title=lines[0], text="\n".join(lines))


def _previous_business_day(calendar: BusinessCalendar, today: date) -> date | None:
    day = today - timedelta(days=1)
    for _ in range(31):
        if calendar.opening_hours(day) is not None:
            return day
        day -= timedelta(days=1)
    return None


def _handed_since(app: HandoffApp, first: date, today: date, now: datetime) -> str:
    """What became of the handoffs made from the previous business day to yesterday, as
    `kpi --from FIRST --to YESTERDAY` counts them."""
    from handoff.kpi import Period, compute_kpis, period_zone

    # The days in the zone kpi reads them in: that of the agreement in force on the first.
    zone = period_zone(app.agreement_register(), first, now)
    period = Period(first, today - timedelta(days=1), zone)
    sla = compute_kpis(app, period, as_of=now)["sla"]
    return (
        f"Handed since {first:%A} {first.isoformat()}: {sla['handoffs']}; decided in time "
        f"{sla['decided_in_time']}, late {sla['decided_late']}; still undecided "
        f"{sla['pending'] + sla['overdue']}"
    )


def _by_owner(overdue: list[dict[str, Any]], at_risk: list[PendingHandoff]) -> str:
    late = Counter(str(row["owner"]) for row in overdue)
    risky = Counter(h.owner for h in at_risk)
    parts = []
    for owner in sorted(set(late) | set(risky)):
        counts = [f"{late[owner]} overdue"] if late[owner] else []
        counts += [f"{risky[owner]} at risk"] if risky[owner] else []
        parts.append(f"{owner} {', '.join(counts)}")
    return "; ".join(parts)
