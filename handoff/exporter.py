"""Export every lead event and traffic count in the import format, so that it round-trips.

The log is read a large page at a time straight from the events table
(`eventstore.log_pages`) and each state decoded as JSON, as the projection reads it:
building a domain event object per row (the library's route, `HandoffApp.events_after`)
costs five times as much at a million events, for the same rows (see the differential
test in `tests/test_exporter.py`).
"""

from __future__ import annotations

import contextlib
import io
import marshal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO, NamedTuple
from uuid import UUID

from eventsourcing.utils import get_topic

from handoff import child, eventstore
from handoff.application import HandoffApp
from handoff.domain.lead import CORRECTIONS, LIFECYCLE_EVENTS, Lead
from handoff.domain.steps import PERSONAL_DATA
from handoff.domain.traffic import TrafficDay
from handoff.importer import COLUMNS, TEXT_COLUMNS
from handoff.instants import iso
from handoff.projections import states
from handoff.projections.corrected import corrected_leads
from handoff.spreadsheet import csv_chunks, neutralised_cells
from handoff.store import StoreLocation

_VISITS_TOPIC = get_topic(TrafficDay.VisitsRecorded)  # type: ignore[attr-defined]
_CORRECTION_TOPICS = [get_topic(cls) for cls in CORRECTIONS]
FORGOTTEN_TOPIC = get_topic(Lead.Forgotten)
_PERSONAL = [COLUMNS.index(column) for column in PERSONAL_DATA]
_LEAD, _EVENT, _AT, _ACTOR, _AMOUNT, _VISITS = (
    COLUMNS.index(column) for column in ("lead", "event", "at", "actor", "amount", "visits")
)


class _Kind(NamedTuple):
    """How a kind of lead event becomes cells in the order of the import format's COLUMNS."""

    name: str
    blank: list[Any]  # the cells of a row of this kind before its values: only its name
    fields: tuple[tuple[int, str], ...]  # its own fields but the amount: (index, state key)
    has_amount: bool  # whether it carries an amount (a tagged Decimal)


# The fields of a captured lead in the import format (column, state key); another event's
# are its data fields under their own names.
_CAPTURED_FIELDS = (("source", "source"), ("name", "lead_name"), ("email", "email"),
                    ("company", "company"))


def _kind(event: type[Lead.Event], name: str) -> _Kind:
    fields = (_CAPTURED_FIELDS if name == "captured"
              else tuple((field, field) for field in event.data_fields))
    blank: list[Any] = [None] * len(COLUMNS)
    blank[_EVENT] = name
    return _Kind(
        name, blank,
        tuple((COLUMNS.index(column), key) for column, key in fields if column != "amount"),
        any(column == "amount" for column, _ in fields),
    )


_LEAD_EVENTS = {get_topic(event): _kind(event, name) for event, name in LIFECYCLE_EVENTS.items()}
_CAPTURED_TOPIC = next(topic for topic, kind in _LEAD_EVENTS.items() if kind.name == "captured")


def export_rows(app: HandoffApp) -> Iterator[dict[str, Any]]:
    """One import row per recorded lead event and traffic count, in the order recorded.

    Values are as the domain events hold them: instants as UTC ISO text with a Z,
    amounts as Decimal, scores and visits as int; fields the event lacks are left out.
    A lead that was corrected (SPEC §2) is exported as its corrected steps, in the order
    they happened, where it was captured: importing the file gives the figures of now
    (the full backup, `export --format jsonl`, keeps every entry and correction).
    """
    for cells in export_cells(app):
        yield {
            column: value for column, value in zip(COLUMNS, cells, strict=True)
            if value is not None
        }


def export_cells(
    app: HandoffApp, keys: dict[str, str] | None = None, corrected: set[str] | None = None,
    after: int = eventstore.BEFORE_FIRST, upto: int | None = None,
    forgotten: set[str] | None = None,
) -> Iterator[list[Any]]:
    """The rows of `export_rows` as cells in the order of the import format's COLUMNS,
    None where the event has no value (the CSV export: a dictionary built per row and
    read back column by column cost half of its time).

    Of the log after `after`, up to `upto` (inclusive; None: its end). `keys`: each lead's
    key (its id as hex -> key) for every lead captured at or before `after`, added to as
    leads are captured; `corrected`: the leads exported as their corrected steps
    (`corrected_ids`); `forgotten`: those whose person was forgotten (`forgotten_ids`)."""
    keys = {} if keys is None else keys
    corrected = corrected_ids(app) if corrected is None else corrected
    # A forgotten lead's capture reads "[forgotten]" in every view: here, empty. The entry
    # holds the person still when `lead forget` was cut short before rewriting it.
    forgotten = forgotten_ids(app) if forgotten is None else forgotten
    state, instant_text = states.state, states.instant_text
    for page in eventstore.log_pages(app, after=after):
        ends = upto is not None and page[-1][0] >= upto
        if upto is not None and page[-1][0] > upto:
            page = [row for row in page if row[0] <= upto]
        for _, originator, topic, data in page:
            kind = _LEAD_EVENTS.get(topic)
            if kind is None:
                if topic == _VISITS_TOPIC:
                    yield _visits_cells(state(data))
            elif originator in corrected:
                if kind.name == "captured":
                    for row in _corrected_rows(app, originator):
                        yield [row.get(column) for column in COLUMNS]
            else:
                name, blank, fields, has_amount = kind
                values = state(data)
                if name == "captured":
                    keys[originator] = values["key"]
                cells = blank.copy()
                cells[_LEAD], cells[_ACTOR] = keys[originator], values["actor"]
                cells[_AT] = _utc(instant_text(values["occurred_at"]))
                for index, key in fields:
                    cells[index] = values[key]  # None (null) leaves the cell empty
                if originator in forgotten:
                    for index in _PERSONAL:
                        cells[index] = None
                if has_amount and (amount := values["amount"]) is not None:
                    cells[_AMOUNT] = Decimal(states.tagged(amount, eventstore.DECIMAL_TAG))
                yield cells
        if ends:
            return


def forgotten_ids(app: Any) -> set[str]:
    """The leads (ids as hex) whose person was forgotten (`lead forget`), in one scan."""
    return eventstore.originators_of_kinds(app, [FORGOTTEN_TOPIC])


def corrected_ids(app: HandoffApp) -> set[str]:
    """The leads (ids as hex) with a correction recorded."""
    corrected = corrected_leads(app)
    if corrected is None:  # the read model cannot tell: one scan of the log
        corrected = eventstore.originators_of_kinds(app, _CORRECTION_TOPICS)
    return corrected


def _captured_keys(app: HandoffApp, upto: int) -> dict[str, str]:
    """The key of each lead captured up to `upto` (its id as hex -> key)."""
    state = states.state
    return {
        originator: state(data)["key"]
        for originator, data in eventstore.entries_of_kind(app, _CAPTURED_TOPIC, upto)
    }


# -- the CSV export, a long log's two parts made at once ---------------------------------

# A log this long is exported in two parts at once, its later part by a second process
# (`_LaterPart`): starting one costs about a third of a second, and reading the keys of the
# leads captured before its part about as much again at a million events.
SPLIT_FROM = 200_000
# The share of the log this process exports itself: the other part's process starts later.
_OWN_SHARE = 0.55


def csv_export(app: HandoffApp) -> Iterator[str]:
    """The CSV export as text, a chunk at a time: the header, then the rows of
    `export_cells`, each cell a spreadsheet would run neutralised (`spreadsheet`).

    A log of SPLIT_FROM events or more is exported in two parts at the same time, on two
    cores: this process writes the first part while a second process writes the rest
    into a temporary file, copied out after it. The text is the same; should the second
    process fail, this one exports the rest itself.
    """
    corrected, forgotten = corrected_ids(app), forgotten_ids(app)  # one answer for both parts
    last = eventstore.last_notification_id(app)
    cut = int(last * _OWN_SHARE) if last >= SPLIT_FROM else None
    keys: dict[str, str] = {}
    if cut is None:
        yield from _csv(export_cells(app, keys, corrected, forgotten=forgotten), header=COLUMNS)
        return
    with _LaterPart(app, cut, corrected, forgotten) as later:
        yield from _csv(export_cells(app, keys, corrected, upto=cut, forgotten=forgotten),
                        header=COLUMNS)
        made = later.text()
        if made is not None:
            yield from made
            return
    yield from _csv(export_cells(app, keys, corrected, after=cut, forgotten=forgotten))


def _csv(cells: Iterator[list[Any]], header: Sequence[str] | None = None) -> Iterator[str]:
    return csv_chunks(neutralised_cells(cells, COLUMNS, TEXT_COLUMNS), header)


class _LaterPart:
    """A second process exporting the log after `cut` (`_export_later_part`) as CSV text
    into a temporary file; `text` reads it back once the process has ended well."""

    def __init__(self, app: HandoffApp, cut: int, corrected: set[str], forgotten: set[str]
                 ) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.spool: BinaryIO | None = None
        self.started = time.monotonic()
        location = app.location
        try:
            self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stop
            self.process = child.start(
                __name__, stdout=subprocess.DEVNULL, pass_fds=(self.spool.fileno(),)
            )
            message = child.framed(marshal.dumps((
                location.given, location.event_store_env, cut, sorted(corrected),
                sorted(forgotten), self.spool.fileno(),
            )))
            # Written by a thread: a message larger than the pipe holds (thousands of
            # corrected leads) would otherwise keep this process waiting for the child to
            # start. Its input stays open: it ends with this process (child.end_with_input).
            threading.Thread(target=self._send, args=(self.process, message),
                             daemon=True).start()
        except (OSError, subprocess.SubprocessError):  # no file or no process: all here
            self._stop()

    def __enter__(self) -> _LaterPart:
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def text(self) -> Iterator[str] | None:
        """The part's text, a chunk at a time; None if the process failed, or took more
        than twice as long as this process took for its larger part (and some seconds
        more): then this process makes the part itself, the same text."""
        if self.process is None or self.spool is None:
            return None
        patience = 2 * (time.monotonic() - self.started) + _PATIENCE_S
        try:
            ended = self.process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            return None
        if ended != 0:
            return None
        self.spool.seek(0)
        made = io.TextIOWrapper(self.spool, encoding="utf-8", newline="")
        # Each chunk ends at a line's end, as this process's own do (`click.echo` treats
        # each chunk apart).
        return iter(lambda: made.read(_SPOOL_CHUNK) + made.readline(), "")

    @staticmethod
    def _send(process: subprocess.Popen[bytes], message: bytes) -> None:
        assert process.stdin is not None
        # It ended at once (`text` finds it failed), or was stopped while this was written.
        with contextlib.suppress(OSError, ValueError):
            process.stdin.write(message)
            process.stdin.flush()

    def _stop(self) -> None:
        if self.process is not None:  # this process failed, or its reader stopped early
            self.process.kill()
            self.process.wait()
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()
            self.process = None
        if self.spool is not None:
            self.spool.close()
            self.spool = None


_SPOOL_CHUNK = 1 << 20  # characters
_PATIENCE_S = 10.0


def _export_later_part(given: BinaryIO) -> None:
    """In the second process: export the part it is given into the file it is given."""
    message = child.read_message(given)
    if message is None:
        raise EOFError("no part to export was given")
    where, env, cut, corrected, forgotten, spool = marshal.loads(message)
    child.end_with_input(given)
    app = HandoffApp(StoreLocation(where, env), create=False)
    try:
        cells = export_cells(app, _captured_keys(app, cut), set(corrected), after=cut,
                             forgotten=set(forgotten))
        with open(spool, "w", encoding="utf-8", newline="", closefd=False) as file:
            for text in _csv(cells):
                file.write(text)
    finally:
        app.close()


def _visits_cells(values: dict[str, Any]) -> list[Any]:
    cells: list[Any] = [None] * len(COLUMNS)
    cells[_EVENT], cells[_AT], cells[_ACTOR] = "visits", values["day"], values["actor"]
    cells[_VISITS] = values["visits"]
    return cells


def _corrected_rows(app: HandoffApp, originator: str) -> Iterator[dict[str, Any]]:
    lead: Lead = app.repository.get(UUID(originator))
    for fact in lead.facts():
        row: dict[str, Any] = {
            "lead": lead.key, "event": fact.name, "at": iso(fact.occurred_at),
            "actor": fact.actor,
        }
        row.update({k: v for k, v in fact.data.items() if v is not None
                    and not (lead.forgotten is not None and k in PERSONAL_DATA)})
        yield row


def _utc(text: str) -> str:
    """As instants.iso: UTC with a Z (the store keeps UTC; another offset is converted)."""
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    sys.exit(child.serve(_export_later_part))
