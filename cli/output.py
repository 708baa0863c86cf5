"""How read commands print: one `--format` option, data on stdout, diagnostics on stderr
(tables, fitted to the terminal: `tables`)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click

from handoff.spreadsheet import csv_chunks, neutralised

if TYPE_CHECKING:
    from handoff.domain.agreement import AgreementRegister

F = TypeVar("F", bound=Callable[..., Any])
_LOCAL = "%Y-%m-%d %H:%M %Z"
# Unicode's explicit direction controls (embeddings, overrides, isolates): one left open in
# a name draws the rest of the terminal's line right to left, borders and columns and all.
_DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")


# Where a command keeps the exit status it has decided before printing (`exit_status`).
_STATUS = "handoff.exit_status"


def exit_status(status: int) -> None:
    """Keep the status the running command has decided (`sla breaches`' alarm, 3) for the
    case its reader goes away mid-output (`| head -1`): that ends it quietly, and says
    nothing about what it found, so it exits with this status rather than 0."""
    click.get_current_context().meta[_STATUS] = status


def decided_status(ctx: click.Context) -> int:
    """The status `exit_status` kept for the running command, else 0."""
    status: int = ctx.meta.get(_STATUS, 0)
    return status


def shown(text: str) -> str:
    """A text as a terminal line shows it: a direction control as its escape (`\\u202e`),
    seen rather than obeyed. JSON and CSV keep the text as typed: data."""
    if text.isascii():
        return text
    return _DIRECTION.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class InstantText(str):
    """An instant as people read it (`Instants.text`): tables keep it on one line when they
    can, and never cut it."""


class Instants:
    """How instants are shown to people (SPEC §7): in the time zone of the agreement in force
    at each instant, with the abbreviation of its offset (`2026-03-02 09:00 CST`), or in UTC
    (`--utc`: `2026-03-02 15:00 UTC`). JSON and CSV keep ISO-8601 with an offset: data."""

    def __init__(self, zone_at: Callable[[datetime], tzinfo] | None) -> None:
        self._zone_at = zone_at  # None: UTC
        self._zones: dict[int, tzinfo] = {}

    @classmethod
    def of(cls, register: AgreementRegister | None) -> Instants:
        """In the zone of the register's agreement in force at each instant; where none is
        (a due instant past an agreement's last day), in the zone of the latest version
        applied, so that it reads beside the others; UTC when none was ever applied; with
        no register (`--utc`), in UTC."""
        if register is None:
            return cls(None)
        latest = register.versions[-1].terms.timezone if register.versions else UTC

        def zone_at(instant: datetime) -> tzinfo:
            version = register.in_force_at(instant)
            return latest if version is None else version.terms.timezone

        return cls(zone_at)

    def text(self, instant: datetime | str | None) -> InstantText | None:
        """The instant (a datetime, or ISO-8601 text as the views give it) as people read it."""
        if instant is None:
            return None
        if isinstance(instant, str):
            instant = datetime.fromisoformat(instant)
        return InstantText(instant.astimezone(self._zone(instant)).strftime(_LOCAL))

    def _zone(self, instant: datetime) -> tzinfo:
        if self._zone_at is None:
            return UTC
        # The agreement in force changes only at a local midnight, on a whole quarter hour
        # of UTC in every zone of today's rules: one look-up per quarter hour (a long
        # table repeats them).
        quarter = int(instant.timestamp()) // 900
        zone = self._zones.get(quarter)
        if zone is None:
            zone = self._zones[quarter] = self._zone_at(instant)
        return zone


def output_option(*formats: str) -> Callable[[F], F]:
    """The shared `--format` option of read commands; the first format is the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(formats),
        default=formats[0],
        show_default=True,
        help="How to print the answer.",
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return money(value)
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def money(amount: Decimal) -> int | float:
    """An amount as a JSON number with at most 2 decimals, exact to the cent (one amount
    is below 10^12, so a float holds its cents; see `print_json` for sums)."""
    cents = amount.quantize(Decimal("0.01"))
    return int(cents) if cents == cents.to_integral_value() else float(cents)


def money_text(amount: Decimal) -> str:
    """An amount as JSON number text, exact at any size: at most 2 decimals, written as
    `money` would (1200, 1200.5, 0.05)."""
    cents = amount.quantize(Decimal("0.01"))
    if cents == cents.to_integral_value():
        return str(int(cents))
    return f"{cents:f}".rstrip("0")


def print_json(data: Any) -> None:
    """One JSON document. Amounts (Decimal) are written digit for digit: a sum of many can
    pass 2^53 cents, beyond what a float holds exactly. json writes only its own types as
    numbers, so each amount goes out as a string marked with a token no text can hold,
    then loses its quotes."""
    token = secrets.token_hex(8)

    def marked(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{token}{money_text(value)}"
        return _jsonable(value)

    text = json.dumps(data, default=marked, ensure_ascii=False)
    click.echo(re.sub(f'"{token}([-0-9.]+)"', r"\1", text))


def print_lines(lines: Iterable[str], chunk: int = 10_000) -> None:
    """Lines that already end with a newline, written a chunk at a time."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= chunk:
            click.echo("".join(batch), nl=False)
            batch = []
    if batch:
        click.echo("".join(batch), nl=False)


def print_jsonl(records: Iterable[Any], chunk: int = 10_000) -> None:
    """One JSON document per line, written a chunk of lines at a time (an export's million
    rows, echoed one by one, would spend more time in writing than in reading them)."""
    dumps = json.JSONEncoder(default=_jsonable, ensure_ascii=False).encode
    lines: list[str] = []
    for record in records:
        lines.append(dumps(record))
        if len(lines) >= chunk:
            click.echo("\n".join(lines))
            lines = []
    if lines:
        click.echo("\n".join(lines))


def print_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    for text in csv_chunks(([neutralised(v) for v in row] for row in rows), header):
        click.echo(text, nl=False)


def note_no_agreement(app: Any, found: list[Any]) -> None:
    """Under an empty answer of the SLA's lists, a note on stderr when no agreement was ever
    put in force: a handoff is judged by the version in force when it was handed, so none
    is due, late or overdue yet, and the empty list, exit 0, would read as all in time."""
    if found:
        return
    from handoff.report import no_agreement_hint

    register = app.agreement_register()
    if not register.versions:
        click.echo("note: no agreement has been in force, so no handoff has a due instant to"
                   f" be judged by: {no_agreement_hint(register, '')}", err=True)


def note_unknown_filter(app: Any, owner: str | None, found: list[Any],
                       source: str | None = None) -> None:
    """Under an empty answer filtered by `--owner` (or `--source`), a note on stderr when
    no lead was ever handed to that owner (captured from that source): a typo would
    otherwise list nothing, exit 0, for ever."""
    if found:
        return
    from handoff.sla import unknown_owner, unknown_source

    for said in (None if owner is None else unknown_owner(app, owner),
                 None if source is None else unknown_source(app, source)):
        if said is not None:
            click.echo(said, err=True)
