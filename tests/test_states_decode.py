"""An event's state is decoded by orjson where it can be, and always to exactly what json's
own decoder gives: the same values of the same types, keys in the same order, or the
same kind of error (every state json cannot decode: `eventstore.UnreadableEntry`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_eventstore_contract import every_kind_of_event

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.projections import states

_json_decode = json.JSONDecoder().raw_decode  # what states.state gave before orjson


def decoded_by_json(data: bytes) -> Any:
    try:
        return repr(_json_decode(data.decode())[0])
    except (ValueError, RecursionError):  # what json cannot decode, the log's readers name
        return eventstore.UnreadableEntry  # as an entry edited underneath handoff
    except Exception as error:  # the kind of error is what is compared
        return type(error)


def decoded(data: bytes) -> Any:
    try:
        return repr(states.state(data))
    except Exception as error:
        return type(error)


def test_every_state_the_application_writes_is_decoded_as_json_decodes_it(
    app: HandoffApp,
) -> None:
    every_kind_of_event(app)
    found = [data for page in eventstore.log_pages(app) for _, _, _, data in page]
    assert len(found) == 20
    for data in found:
        assert decoded(data) == decoded_by_json(data)
        assert states.state(data) == json.loads(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"b":2,"a":3}',  # a repeated key: the last value, in the first one's place
        b' {"a":1}',  # whitespace before the document: json refuses it
        b'\n{"a":1}',
        b'{"a":1} ',  # after it: both ignore it
        b'{"a":1}{"b":2}',  # text after the document: json ignores it
        b'{"a":1}x',
        b'{"a":NaN,"b":Infinity,"c":-Infinity}',
        b'{"a":1e400,"b":-1e400,"c":1e-400,"d":-0.0,"e":-0}',
        b'{"a":9223372036854775807,"b":-9223372036854775808}',  # 64 bits: orjson's ints
        b'{"a":-9223372036854775809}',  # beyond: orjson would give a float
        b'{"a":18446744073709551616,"b":123456789012345678901234567890}',
        b'{"a":1234567890123456789.5}',  # a float with many digits
        b'{"a":"1234567890123456789012"}',  # digits in a string
        b'{"a":"\\ud800"}',  # a lone surrogate, escaped: json keeps it
        b'{"a":"\\ud83d\\ude00","b":"\\u00e9\\"\\\\\\/\\n"}',
        '{"name":"Zoë Ørsted 田中","e":"\u2028"}'.encode(),
        b'{"a":"\xff"}',  # not UTF-8
        b'{"a":"\xed\xa0\x80"}',  # a surrogate encoded in UTF-8
        b'\xef\xbb\xbf{"a":1}',  # a byte order mark
        b'{"a":"\x01"}',  # a control character in a string
        b'{"a":[1,2.5,{"b":[null,true,false]}],"c":{}}',
        b'{ "a" : 1 , "b" : [ 1 , 2 ] }',
        b'[1,2]',
        b'"text"',
        b'{"a":1',
        b"{}",
        b"",
        b"{" * 5000 + b"}" * 5000,  # deeper than either decoder goes
    ],
)
def test_an_unusual_state_is_decoded_as_json_decodes_it(data: bytes) -> None:
    assert decoded(data) == decoded_by_json(data)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(
    st.dictionaries(st.text(max_size=8), _values, max_size=6),
    st.booleans(),
    st.sampled_from([(",", ":"), (", ", ": ")]),
)
def test_any_state_is_decoded_as_json_decodes_it(
    state: dict[str, Any], ascii_only: bool, separators: tuple[str, str]
) -> None:
    data = json.dumps(state, ensure_ascii=ascii_only, separators=separators).encode(
        "utf-8", "surrogatepass")
    assert decoded(data) == decoded_by_json(data)
