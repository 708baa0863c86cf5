"""The few facts the projection reads from a lead event's JSON state, without decoding all of it.

Decoding every state with json costs more than anything else the projection does per
event (nested dicts for each tagged value, strings for fields nobody reads). Events
written by eventsourcing's JSON transcoder (see `eventstore`) have a fixed shape: the
same keys in the same order, in compact form. A compiled pattern per event matches that
whole shape (every key, in order, to the closing brace) and captures only what is read.

The fast path is exact by construction, never a guess: it matches only documents whose
every key is fixed (so no key repeats, as json would let a later one win) and whose
every string is printable ASCII with no escape (so its bytes are its text). Anything
else, an escaped quote, a non-ASCII name, a reordered, missing or extra key, whitespace,
goes through json and the tagged-value checks of `log`, which raise on malformed states.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from handoff import eventstore
from handoff.domain.bounds import MAX_COUNT
from handoff.domain.steps import Fact
from handoff.projections import states
from handoff.projections.instants import micros

# (recorded_us, occurred_us, key, source, owner, amount_cents): "" for a text the event
# does not carry. A plain tuple: a named one costs a measurable share at a million events.
LeadFacts = tuple[int, int, str, str, str, int | None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_TEXT = rb'"([\x20\x21\x23-\x5b\x5d-\x7e]*)"'  # printable ASCII without " or \, captured
# A value nobody reads (still validated, so that json would accept the document too).
_ANY = rb'(?:"[\x20\x21\x23-\x5b\x5d-\x7e]*"|null|true|false|-?(?:0|[1-9][0-9]*))'


def _tagged(type_name: bytes) -> bytes:
    return eventstore.tagged_pattern(type_name, _TEXT)


# A UTC instant as datetime.isoformat writes it, in three parts: the day, the time of
# day (the ranges fromisoformat accepts) and optional microseconds. Days and times of
# day repeat across events, so each is parsed once (see _Days, _Times); parsing every
# instant in full cost as much as matching the whole state.
_INSTANT = eventstore.tagged_pattern(
    eventstore.DATETIME_TAG.encode(),
    rb'"([0-9]{4}-[0-9]{2}-[0-9]{2})'
    rb'T((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])(?:\.([0-9]{6}))?\+00:00"',
)
_HEAD = (
    rb'\{"timestamp":' + _INSTANT
    + rb'(?:,"originator_topic":' + _ANY + rb")?"
    + rb',"occurred_at":' + _INSTANT
    + rb',"actor":' + _ANY + rb',"agreement_version":' + _ANY + rb',"agreement":' + _ANY
)
# What follows the stamp in each event, in the order the domain's events declare it.
_TAILS = {
    "captured": rb',"key":' + _TEXT + rb',"source":' + _TEXT
    + rb',"lead_name":' + _ANY + rb',"email":' + _ANY + rb',"company":' + _ANY,
    "qualified": rb',"score":' + _ANY,
    "handed": rb',"owner":' + _TEXT,
    "accepted": b"",
    "rejected": rb',"reason":' + _ANY,
    "contacted": rb',"channel":' + _ANY,
    "proposal": rb',"amount":' + _tagged(eventstore.DECIMAL_TAG.encode()),
    "won": rb',"amount":' + _tagged(eventstore.DECIMAL_TAG.encode()),
    "lost": rb',"reason":' + _ANY,
}
_SHAPES = {name: re.compile(_HEAD + tail + rb"\}").fullmatch for name, tail in _TAILS.items()}


def lead_facts(name: str, data: bytes) -> LeadFacts:
    """What the projection reads from the state of a lead event of this business name."""
    found = _SHAPES[name](data)
    if found is None:
        return json_facts(name, data)
    groups = found.groups()
    day, time, fraction = groups[0:3]
    recorded_us = _days[day] + _times[time] + (int(fraction) if fraction else 0)
    day, time, fraction = groups[3:6]
    occurred_us = _days[day] + _times[time] + (int(fraction) if fraction else 0)
    if name == "captured":
        return recorded_us, occurred_us, groups[6].decode(), groups[7].decode(), "", None
    if name == "handed":
        return recorded_us, occurred_us, "", "", groups[6].decode(), None
    if name == "proposal" or name == "won":
        return recorded_us, occurred_us, "", "", "", _cents(groups[6].decode())
    return recorded_us, occurred_us, "", "", "", None


def fast_facts(name: str, data: bytes) -> LeadFacts | None:
    """The facts from the event's usual shape; None when the state has another."""
    return lead_facts(name, data) if _SHAPES[name](data) else None


def json_facts(name: str, data: bytes) -> LeadFacts:
    """The facts from the whole decoded state: any shape json accepts."""
    state = states.state(data)
    occurred_us = states.instant_us(state["occurred_at"])
    recorded_us = states.instant_us(state["timestamp"])
    if name == "captured":
        return recorded_us, occurred_us, state["key"], state["source"], "", None
    if name == "handed":
        return recorded_us, occurred_us, "", "", state["owner"], None
    if name == "proposal" or name == "won":
        amount = states.tagged(state["amount"], eventstore.DECIMAL_TAG)
        return recorded_us, occurred_us, "", "", "", _cents(amount)
    return recorded_us, occurred_us, "", "", "", None


def fact_facts(key: str, fact: Fact) -> LeadFacts:
    """The facts of a step as a correction left it (`Lead.facts`); recorded_us is when its
    entry was recorded."""
    amount = fact.data.get("amount") if fact.name in ("proposal", "won") else None
    return (
        micros(fact.recorded_at), micros(fact.occurred_at), key if fact.name == "captured" else "",
        fact.data["source"] if fact.name == "captured" else "",
        fact.data["owner"] if fact.name == "handed" else "",
        None if amount is None else _cents(str(amount)),
    )


class _Days(dict[bytes, int]):
    """Microseconds from the epoch to the start of a UTC day; fromisoformat rejects a day
    the calendar lacks (2025-02-30) as the json path would."""

    def __missing__(self, day: bytes) -> int:
        start = datetime.fromisoformat(day.decode() + "T00:00:00+00:00")
        micros = self[day] = (start - _EPOCH) // _MICROSECOND
        return micros


class _Times(dict[bytes, int]):
    """Microseconds into the day of "HH:MM:SS" (its ranges already checked by the pattern)."""

    def __missing__(self, time: bytes) -> int:
        hours, minutes, seconds = (int(part) for part in time.split(b":"))
        micros = self[time] = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000
        return micros


_days = _Days()
_times = _Times()


def _cents(text: str) -> int | None:
    # An amount beyond the bounds (stored before they were enforced) counts as unknown:
    # the event still counts, its amount is skipped, and no sum can overflow.
    cents = int(Decimal(text).scaleb(2))
    return cents if 0 <= cents < MAX_COUNT * 100 else None
