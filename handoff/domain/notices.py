"""Notices to sales (`handoff sla notify`): which are due, and the record of each one sent.

A notice is about a subject (a handoff, or a local day for the digest), of a kind (a
mark of the decision window, the breach, the digest), on a channel (one webhook, one
mailbox). Each is an aggregate of its own whose id is derived from those three, so two
runs that decide to send the same notice both try to write its first event, and the
event store lets only one of them: that run owns the delivery. A notice is claimed
before it is delivered, then recorded as delivered or as failed; a failed one (or one
whose run vanished before saying how it went) is claimed again by a later run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

# Sales is warned when an undecided handoff has used these shares of its window.
AT_RISK_MARKS = (50, 75, 90)
BREACH, DIGEST = "breach", "digest"
# A claim older than this, with no outcome, was left by a run that stopped (killed,
# crashed) between claiming and recording: a later run may claim the notice again.
# It is far longer than one delivery may take (see notify_channels' timeouts).
CLAIM_LEASE = timedelta(minutes=10)
CLAIMED, DELIVERED, FAILED = "claimed", "delivered", "failed"


def at_risk_kind(mark: int) -> str:
    return f"at_risk_{mark}"


def mark_reached(used: Fraction) -> int | None:
    """The highest warning mark (percent of the window) that a share used has reached."""
    reached = [mark for mark in AT_RISK_MARKS if used >= Fraction(mark, 100)]
    return reached[-1] if reached else None


def notice_id(subject: str, kind: str, channel: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"handoff:notice:{subject}:{kind}:{channel}")


class Notice(Aggregate):
    """One notice on one channel: claimed by a run, then delivered, or failed."""

    @staticmethod
    def create_id(subject: str, kind: str, channel: str, claimed_at: datetime,
                  actor: str) -> UUID:
        return notice_id(subject, kind, channel)

    @event("Claimed")
    def __init__(self, subject: str, kind: str, channel: str, claimed_at: datetime,
                 actor: str) -> None:
        self.subject = subject
        self.kind = kind
        self.channel = channel
        self.status = CLAIMED
        self.claimed_at = claimed_at
        self.attempts = 1
        self.reason: str | None = None

    def claimable(self, at: datetime) -> bool:
        """Whether a run may (re)claim it: it failed, or its claim was abandoned."""
        if self.status == FAILED:
            return True
        return self.status == CLAIMED and at - self.claimed_at > CLAIM_LEASE

    def claim_again(self, at: datetime, actor: str) -> None:
        assert self.claimable(at), "claimed again only when claimable"
        self._claimed_again(claimed_at=at, actor=actor)

    @event("ClaimedAgain")
    def _claimed_again(self, claimed_at: datetime, actor: str) -> None:
        self.status = CLAIMED
        self.claimed_at = claimed_at
        self.attempts += 1

    @event("Delivered")
    def delivered(self, at: datetime) -> None:
        self.status = DELIVERED

    @event("Failed")
    def failed(self, at: datetime, reason: str) -> None:
        self.status = FAILED
        self.reason = reason
