"""Event states as JSON values, fast enough to rebuild a million events.

The projection reads the event store's table in large pages (`eventstore.page_reader`,
with its own connection to the same database, inside the transaction that writes its
rows) and decodes only the JSON of each event's state: building a `Notification`, a
`UUID` and a domain event object per row costs more than projecting it. Tagged values
(see `eventstore`) are converted only where a field is read. Lead events, nearly all of
the log, are read without decoding them in full (`decode`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from handoff import eventstore
from handoff.projections.instants import micros

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TYPE, _DATA = eventstore.TYPE_KEY, eventstore.DATA_KEY

LogRow = eventstore.LogRow


_scan = json.JSONDecoder().raw_decode


def state(data: bytes) -> dict[str, Any]:
    """The event's state as JSON values (raw_decode skips json.loads' encoding sniffing
    and whitespace checks, a third of the decoding time)."""
    value: dict[str, Any] = _scan(data.decode())[0]
    return value


tagged = eventstore.tagged_text


def instant(value: Any) -> datetime:
    return datetime.fromisoformat(tagged(value, "datetime_iso"))


def instant_us(value: Any) -> int:
    """As micros(instant(value)), with the tag checked inline: twice per event."""
    if type(value) is dict and value.get(_TYPE) == "datetime_iso":
        return (datetime.fromisoformat(value[_DATA]) - _EPOCH) // _MICROSECOND
    return micros(instant(value))  # raises the error of a malformed value


def amount(value: Any) -> Decimal:
    return Decimal(tagged(value, "decimal_str"))

