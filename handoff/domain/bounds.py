"""The bounds of every value a user can give (SPEC §7), so that nothing stored breaks a read.

Counts and amounts stay below 10^12, instants between 1900 and 2200, keys and texts short
enough to show, and numbers are written in plain ASCII digits: Arabic-Indic or full-width
digits, `1_000` and `1E+3` are what Python's parsers accept, not what a person types.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from handoff.domain.errors import InvalidInput

MAX_COUNT = 10**12  # counts and amounts are below this
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # instants are before this
MAX_KEY_LENGTH = 200
MAX_TEXT_LENGTH = 2000

_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


class WrittenNumber(str):
    """A JSON number as its text was written (`json_value(numbers_as_written=True)`)."""


def json_value(text: str, numbers_as_written: bool = False) -> Any:
    """One line of JSON a user gave (an import's row, a backup's entry); InvalidInput saying
    why not, in one line, for anything json refuses, nesting too deep to read back or a
    number too long to hold, or an object naming a field twice (json would keep the last
    value without a word). `numbers_as_written`: each number is its text as written (a
    `WrittenNumber`), for values read as a cell of a table is (1e3 is not made 1000.0)."""
    try:
        if numbers_as_written:
            return json.loads(text, parse_int=WrittenNumber, parse_float=WrittenNumber,
                              object_pairs_hook=_fields_once)
        return json.loads(text, object_pairs_hook=_fields_once)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"not JSON: {error.msg} (column {error.colno})") from None
    except RecursionError:
        raise InvalidInput("not JSON handoff reads: nested too deeply") from None
    except ValueError:  # the integer string conversion limit
        raise InvalidInput("not JSON handoff reads: a number too long") from None


def _fields_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's fields, each named once."""
    fields = dict(pairs)
    if len(fields) != len(pairs):
        names = [name for name, _ in pairs]
        twice = next(name for n, name in enumerate(names) if name in names[:n])
        raise InvalidInput(f"not JSON handoff reads: the field {twice!r} is named twice")
    return fields


def whole_number(text: str, what: str) -> int:
    """A count or score as typed: plain ASCII digits, at least 0, below 10^12."""
    cleaned = text.strip()
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidInput(f"{what} must be a whole number, got {text!r}")
    return check_count(int(cleaned), what)


def check_count(value: int, what: str) -> int:
    if not 0 <= value < MAX_COUNT:
        raise InvalidInput(f"{what} must be between 0 and 999999999999, got {value}")
    return value


def plain_decimal(text: str, what: str) -> Decimal:
    """An amount as typed (1200, 1200.50): plain ASCII digits and one point, nothing else."""
    cleaned = text.strip()
    if not _DECIMAL.fullmatch(cleaned):
        raise InvalidInput(f"not an amount: {text!r} (write it like 1200 or 1200.50)")
    return Decimal(cleaned)


def in_cents(amount: Decimal) -> bool:
    """Money is counted in cents: an amount with a third decimal (10.005) is no amount."""
    return amount == amount.quantize(Decimal("0.01"))


def check_amount_bound(amount: Decimal) -> None:
    if amount >= MAX_COUNT:
        raise InvalidInput(f"amount must be below 1000000000000, got {amount}")


def check_instant(instant: datetime) -> datetime:
    if instant.utcoffset() is None:  # a stored instant always has one (a backup's may not)
        raise InvalidInput(f"{instant.isoformat()} has no offset from UTC")
    if not EARLIEST <= instant < LATEST:
        raise InvalidInput(
            f"{instant.isoformat()} is out of range: instants lie between 1900 and 2200"
        )
    return instant


# A day is written YYYY-MM-DD, the one form every help text and error names: other ISO-8601
# forms (20261221, the week date 2026W521) were taken for days nobody wrote.
DAY_TEXT = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DAY_TEXT = re.compile(DAY_TEXT, re.ASCII)


def day_from_text(text: str) -> date:
    """The day written YYYY-MM-DD; ValueError for any other text."""
    if _DAY_TEXT.fullmatch(text) is None:
        raise ValueError(text)
    return date.fromisoformat(text)


def check_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"{day.isoformat()} is out of range: days lie between 1900 and 2199")
    return day


def check_key(key: str) -> str:
    """A new lead's key, kept exactly as typed: not empty, one line, at most 200
    characters, and typed as it is seen."""
    check_entry_key(key)
    check_seen_as_written("the lead's key", key)
    return key


def check_entry_key(key: str) -> str:
    """The key of a capture a backup holds: as `check_key`, but possibly typed otherwise
    than it is seen. A release before `check_seen_as_written` recorded such a key as it
    was typed, and a backup of that store is restored as it was recorded, not refused."""
    if not key.strip():
        raise InvalidInput("a lead needs a key")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"a lead's key has at most {MAX_KEY_LENGTH} characters, got {len(key)}"
        )
    _check_one_line("the lead's key", key)
    return key


def check_seen_as_written(what: str, text: str) -> None:
    """A key is kept exactly as typed, so it must be typed one way only: as it is seen. An
    accent typed apart from its letter (`e` + U+0301, as macOS names files) or an invisible
    character pasted in (a zero-width space, a byte order mark, a direction mark) would make
    a second lead that no one can tell from the first, nor name again. So would a space
    other than the space bar's (a no-break space, U+00A0, as word processors paste it).
    The same holds of what reports group by (a source, an owner): 'web' with a zero-width
    space was a second group `kpi --by source` showed as 'web' beside the first."""
    if text.isascii():
        return
    if any(unicodedata.category(c) == "Cf" for c in text):
        raise InvalidInput(
            f"{what} holds an invisible character: {text[:40]!a} (retype it)")
    if any(unicodedata.category(c) == "Zs" and c != " " for c in text):
        raise InvalidInput(
            f"{what} holds a space other than the space bar's: {text[:40]!a}"
            " (retype it)")
    if not unicodedata.is_normalized("NFC", text):
        raise InvalidInput(
            f"{what} is not in Unicode's composed form (NFC), as an accent typed apart"
            f" from its letter is: {text[:40]!a} (retype it)")


def check_group_name(what: str, text: str) -> None:
    """What reports group by (a source, an owner) is typed as it is seen, and without a
    space at either end: 'sam ' (a spreadsheet's cell, a hand-written CSV's `, sam`) was a
    second owner beside 'sam', two columns both reading 'sam' in `kpi --by owner`, and a
    rep's `sla due --owner sam` left its handoffs out. (A key may hold such spaces: it is
    kept exactly as typed, and named again as typed.)"""
    if text != text.strip():
        raise InvalidInput(
            f"{what} begins or ends with a space: {text[:40]!r} (reports would show it as a"
            f" second {text.strip()[:40]!r}: write it without)")
    check_seen_as_written(what, text)


def check_actor(what: str, actor: str) -> str:
    """Who records an entry now (SPEC §2: every event carries who recorded it): named, not
    blank, wherever the name comes from (--actor, an import's cell), and one line, as any
    text. What a backup's entries hold is checked by check_entry_actor."""
    if not actor.strip():
        raise InvalidInput(f"{what} is empty: give who is recording")
    check_text(what, actor)
    return actor


def check_entry_actor(actor: str) -> None:
    """Who recorded an entry a backup holds: one line, as any text, but possibly blank. A
    release before check_actor recorded an import's actor cell of spaces as it was, and a
    backup of that store is restored as it was recorded, not refused."""
    check_text("actor", actor)


def check_text(what: str, value: str | None, multiline: bool = False) -> str | None:
    """A free text (source, owner, name, reason...): bounded, and one line unless it may wrap.

    Only a text that may wrap (a reason) may hold tabs: in a key or a one-line text a tab
    splits what it names into two columns of every table and spreadsheet.
    """
    if value is None:
        return None
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"{what} has at most {MAX_TEXT_LENGTH} characters, got {len(value)}")
    if _CONTROL.search(value) is None:  # no line break, tab or control character at all
        return value
    if multiline:
        _check_printable(what, _LINE_BREAKS.sub("", value).replace("\t", ""))
    else:
        _check_one_line(what, value)
    return value


def _check_one_line(what: str, value: str) -> None:
    if _LINE_BREAKS.search(value):
        raise InvalidInput(f"{what} must be one line: {value[:40]!r}")
    _check_printable(what, value)


def _check_printable(what: str, value: str) -> None:
    found = _CONTROL.search(value)
    if found is None:
        return
    character = found.group()
    if "\udc80" <= character <= "\udcff":
        # A byte that was not UTF-8, as Python reads it from the command line or a file's
        # name (surrogateescape): said as the byte, not as a character nobody typed.
        raise InvalidInput(f"{what} is not UTF-8 text (byte 0x{ord(character) - 0xdc00:02x})")
    if "\ud800" <= character <= "\udfff":
        raise InvalidInput(
            f"{what} is not valid text (a lone surrogate, U+{ord(character):04X})")
    raise InvalidInput(f"{what} holds a control character: {value[:40]!r}")


# Unicode's control characters (category Cc), lone surrogates (Cs) and line and paragraph
# separators (Zl, Zp), as one search: an import checks every text of every row.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
# What breaks a line: a line feed, a carriage return, Unicode's line and paragraph separators.
_LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")
