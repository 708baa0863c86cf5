"""Domain errors: every refusal a user can meet, each with one clear sentence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Wording = Callable[[datetime], str]  # how an instant is put to the people reading it

# A record read from the log whose entries are not in order, or one of them not JSON as
# handoff writes it (`eventstore.changed_underneath`).
LOG_CHANGED_AT = "the log was changed underneath handoff"
LOG_CHANGED = (
    f"{LOG_CHANGED_AT}: an entry of a lead, of the agreement or of a day's traffic is missing,"
    " out of its place or unreadable; `handoff audit verify` names it"
)


def out_of_order(position: int) -> str:
    """A reader of the log in order meeting an entry its record cannot have there."""
    return f"log entry {position} is out of its record's order: {LOG_CHANGED}"


class Refused(Exception):
    """A protocol rule, an unknown lead or bad input refused the command; nothing was written."""

    def worded(self, instant: Wording) -> str:
        """The sentence, with the instants it names as `instant` words them (as its str:
        ISO-8601 in UTC, when it names any)."""
        return str(self)


class UnknownLead(Refused):
    def __init__(self, key: str) -> None:
        super().__init__(f"unknown lead {key!r}")
        self.key = key


class LeadExists(Refused):
    def __init__(self, key: str) -> None:
        super().__init__(f"lead {key!r} already exists")


class TransitionRefused(Refused):
    """The lead's state does not allow this step of the protocol."""


class TimeRefused(Refused):
    """An event would go back in time within its lead, or lie in the future.

    The instants it names are worded by whoever shows it (`worded`): a person reads them
    in the agreement's local time, as they gave them.
    """

    def __init__(self, sentence: Callable[[Wording], str]) -> None:
        from handoff.instants import iso  # which imports this module: asked for when used

        super().__init__(sentence(iso))
        self._sentence = sentence

    def worded(self, instant: Wording) -> str:
        return self._sentence(instant)


class MissedStepRefused(TimeRefused):
    """A step dated before its lead's latest, where only a reason for recording it late
    lets it in: `remedy` says how to give one, in the words of where the step came from
    (a command's --why; a file cannot give one)."""

    def __init__(self, sentence: Callable[[Wording], str], remedy: str) -> None:
        super().__init__(lambda at: f"{sentence(at)}; {remedy}")
        self._bare = sentence

    def remedied(self, remedy: str) -> MissedStepRefused:
        """The same refusal, with another way to remedy it."""
        return MissedStepRefused(self._bare, remedy)


class ActorRefused(Refused):
    """The agreement's team does not let this actor record this event."""


class OwnerRefused(Refused):
    """The agreement's team does not have this owner on its sales side."""


class SignatureRefused(Refused):
    """This person may not propose or sign this version of the agreement."""


class InvalidInput(Refused):
    """A value given by the user is malformed (a timestamp, an amount, a count)."""


class InvalidAgreement(Refused):
    """The agreement file is malformed; the message names the key and the reason."""


class NoAgreement(Refused):
    """No agreement is in force where one is needed."""


class ConcurrentChange(Refused):
    """Another process changed the store at the same time; nothing was written."""
