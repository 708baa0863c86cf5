"""The projection reads a lead event's facts from its usual JSON shape without decoding it all;
whatever the state, it reads exactly what decoding it in full gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.projections.lead_facts import fast_facts, json_facts, lead_facts

_transcoder = JSONTranscoder()
_transcoder.register(DatetimeAsISO())
_transcoder.register(DecimalAsStr())

# The fields each event carries after the stamp, in the order the domain declares them.
FIELDS: dict[str, tuple[str, ...]] = {
    "captured": ("key", "source", "lead_name", "email", "company"),
    "qualified": ("score",),
    "handed": ("owner",),
    "accepted": (),
    "rejected": ("reason",),
    "contacted": ("channel",),
    "proposal": ("amount",),
    "won": ("amount",),
    "lost": ("reason",),
}
AT = datetime(2025, 5, 22, 14, 5, tzinfo=UTC)


def stored(name: str, **changes: Any) -> dict[str, Any]:
    """A state as the store holds it: the stamp, then the event's own fields."""
    state: dict[str, Any] = {"timestamp": AT + timedelta(minutes=10)}
    if name == "captured":
        state["originator_topic"] = "handoff.domain.lead:Lead"
    state.update(occurred_at=AT, actor="bench", agreement_version=1, agreement="benchmark")
    values = {"key": "L0000001", "source": "web", "lead_name": None, "email": None,
              "company": "Acme", "score": 79, "owner": "sam", "reason": "price",
              "channel": "phone", "amount": Decimal("8000")}
    state.update((field, values[field]) for field in FIELDS[name])
    state.update(changes)
    return state


def encoded(state: dict[str, Any]) -> bytes:
    return _transcoder.encode(state)


def same_facts(name: str, data: bytes) -> None:
    """lead_facts returns what the full decoding returns, or raises as it does."""
    try:
        expected: Any = json_facts(name, data)
    except Exception as error:  # the kind of error is what is compared
        expected = type(error)
    try:
        found: Any = lead_facts(name, data)
    except Exception as error:
        found = type(error)
    assert found == expected


@pytest.mark.parametrize("name", list(FIELDS))
def test_the_usual_shape_of_every_lead_event_is_read_without_full_decoding(name: str) -> None:
    data = encoded(stored(name))
    assert fast_facts(name, data) is not None
    assert fast_facts(name, data) == json_facts(name, data)


def test_microseconds_and_amounts_in_cents_are_read_exactly() -> None:
    data = encoded(stored("won", timestamp=datetime(2026, 2, 28, 23, 59, 59, 999_999, tzinfo=UTC),
                          amount=Decimal("1234.567")))
    assert fast_facts("won", data) == json_facts("won", data)
    assert json_facts("won", data)[5] == 123456


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("captured", {"company": 'Acme "Quoted"'}),  # an escaped quote
        ("captured", {"company": "Ünïcode"}),  # escaped as \u00dc by json
        ("handed", {"owner": "back\\slash"}),
        ("captured", {"source": "tab\there"}),
        ("handed", {"occurred_at": AT.astimezone(timezone(timedelta(hours=2)))}),
        ("won", {"amount": None}),
        ("qualified", {"score": 1.5}),
        ("handed", {"extra": "field"}),
    ],
)
def test_unusual_values_are_decoded_in_full(name: str, changes: dict[str, Any]) -> None:
    data = encoded(stored(name, **changes))
    assert fast_facts(name, data) is None
    same_facts(name, data)


@pytest.mark.parametrize("name", ["captured", "handed", "won"])
def test_unusual_shapes_are_decoded_in_full(name: str) -> None:
    state = stored(name)
    missing = dict(state)
    del missing[FIELDS[name][0]]
    reordered = dict(reversed(list(state.items())))
    plain = json.dumps(json.loads(encoded(state)))  # with spaces after separators
    for data in (encoded(missing), encoded(reordered), plain.encode(), encoded(state) + b" "):
        assert fast_facts(name, data) is None
        same_facts(name, data)


def test_an_impossible_day_or_time_fails_as_in_full_decoding() -> None:
    good = encoded(stored("handed"))
    for bad in (b"2025-02-30", b"2025-13-01"):
        same_facts("handed", good.replace(b"2025-05-22", bad))
    same_facts("handed", good.replace(b"T14:05:00", b"T24:05:00"))
    same_facts("handed", good.replace(b"T14:05:00", b"T14:05:60"))


_texts = st.text() | st.text(alphabet="abc\"\\ \té€", max_size=8) | st.sampled_from(["web", ""])
_instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]),
)
_values = st.none() | st.booleans() | st.integers() | _texts | st.decimals(allow_nan=False)


@given(
    name=st.sampled_from(list(FIELDS)),
    changes=st.dictionaries(
        st.sampled_from(["timestamp", "occurred_at", "actor", "agreement_version", "key",
                         "source", "owner", "amount", "lead_name", "company", "other"]),
        _values | _instants | st.decimals(allow_nan=False, allow_infinity=False),
        max_size=4,
    ),
    dropped=st.sampled_from([None, "timestamp", "occurred_at", "actor", "key", "owner"]),
    reverse=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_state_gives_what_decoding_it_in_full_gives(
    name: str, changes: dict[str, Any], dropped: str | None, reverse: bool
) -> None:
    state = stored(name, **changes)
    state.pop(dropped or "", None)
    if reverse:
        state = dict(reversed(list(state.items())))
    same_facts(name, encoded(state))
