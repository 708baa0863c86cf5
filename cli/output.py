"""How read commands print: one `--format` option, data on stdout, diagnostics on stderr."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click

from handoff.spreadsheet import csv_chunks, neutralised

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from handoff.domain.agreement import AgreementRegister

F = TypeVar("F", bound=Callable[..., Any])
_PIPE_WIDTH = 160
_LOCAL = "%Y-%m-%d %H:%M %Z"


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


def _console() -> Console:
    """stdout, as wide as the terminal; as wide as the command's context says when it says
    (a test's `terminal_width`), or COLUMNS; when it is a pipe or a file, wide enough that
    rows don't wrap."""
    from rich.console import Console  # rich loads slowly; only commands that draw need it

    width = _asked_width()
    if width is not None:
        return Console(soft_wrap=False, width=width)
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=_PIPE_WIDTH)
    return console


def _asked_width() -> int | None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.terminal_width:
        return ctx.terminal_width
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


# Past this many rows a table is drawn line by line rather than by rich, which spends
# about a millisecond a row laying it out (45,000 breaches: 50 s instead of 1 s).
_RICH_ROWS = 500
_WORD = 10  # a column of text keeps its words whole up to this length when it must wrap


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    """A table of rows that fits the console. When it is too wide as it is, columns of text
    wrap (between words, and inside a word longer than _WORD), while columns of instants
    (InstantText) stay on one line; when even that cannot fit, an instant wraps between
    its date and its time (`2026-03-02` above `09:00 CST`). An instant is never cut. When
    the borders alone would cut words (a list of leads in 80 columns), the table is drawn
    without them, its columns a space apart under a rule, rather than cut a lead's key."""
    from rich.table import Table

    console = _console()
    layout = _layout(header, rows, console.width)
    if len(rows) > _RICH_ROWS and _print_plain_table(console, header, rows, title, layout):
        return
    table = Table(title=title, title_justify="left", **_compact() if layout.compact else {})
    for name, options in zip(header, layout.columns, strict=True):
        table.add_column(name, **options)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


@dataclass(frozen=True)
class _Layout:
    columns: list[dict[str, Any]]  # each column's options for rich
    compact: bool = False  # no borders: the columns a space apart, the header above a rule
    instant: tuple[bool, ...] = ()  # compact: which columns hold instants


def _layout(header: Sequence[str], rows: Sequence[Sequence[Any]], width: int) -> _Layout:
    from rich.cells import cell_len

    columns = range(len(header))
    texts = [[str(row[n]) for row in rows if row[n] is not None] for n in columns]
    instant = [any(isinstance(row[n], InstantText) for row in rows) for n in columns]
    whole = [max([cell_len(header[n]), *(cell_len(text) for text in texts[n])]) for n in columns]
    if sum(whole) + 3 * len(header) + 1 <= width:
        return _Layout([{"no_wrap": True} if instant[n] else {} for n in columns])
    words = [min(_WORD, max(cell_len(word) for text in [header[n], *texts[n]]
                            for word in text.split() or [""])) for n in columns]
    split = [max(cell_len(part) for text in [header[n], *texts[n]]
                 for part in text.split(" ", 1)) for n in columns]
    borders = 3 * len(header) + 1
    text_room = sum(words[n] for n in columns if not instant[n])
    if sum(whole[n] for n in columns if instant[n]) + text_room + borders <= width:
        return _Layout([{"no_wrap": True, "min_width": whole[n]} if instant[n]
                        else {"overflow": "fold", "min_width": words[n]} for n in columns])
    instants_split = sum(split[n] for n in columns if instant[n])
    keep_words = instants_split + text_room + borders <= width
    if not keep_words and instants_split + sum(
            whole[n] for n in columns if not instant[n]) + len(header) - 1 <= width:
        return _Layout([{"width": split[n], "overflow": "fold"} if instant[n]
                        else {"width": whole[n], "no_wrap": True} for n in columns],
                       compact=True, instant=tuple(instant))
    return _Layout([{"width": split[n], "overflow": "fold"} if instant[n]
                    else {"overflow": "fold", "min_width": words[n] if keep_words else None}
                    for n in columns])


def _print_plain_table(
    console: Console, header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None,
    layout: _Layout,
) -> bool:
    """A long table as rich draws it (same box, same padding), when it fits the console's
    width as it is (nothing to wrap) or in the compact layout (instants wrapped between
    words, as rich wraps them); False when it does not."""
    from rich.cells import cell_len

    cells = [[str(name) for name in header]]
    cells += [["" if value is None else str(value) for value in row] for row in rows]
    if any("\n" in cell or "\r" in cell for row in cells for cell in row):
        return False  # a cell of several lines: rich lays it out
    if layout.compact:
        _print_compact(header, cells[1:], title, layout)
        return True
    widths = [max(cell_len(row[column]) for row in cells) for column in range(len(header))]
    if sum(widths) + 3 * len(widths) + 1 > console.width:
        return False

    def line(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (width + 2) for width in widths) + right

    def row_line(edge: str, row: list[str]) -> str:
        padded = (f" {cell}{' ' * (width - cell_len(cell))} "
                  for cell, width in zip(row, widths, strict=True))
        return edge + edge.join(padded) + edge

    top = line("┏", "━", "┳", "┓")
    lines = [] if title is None else [title.ljust(cell_len(top))]
    lines += [top, row_line("┃", cells[0]), line("┡", "━", "╇", "┩")]
    lines += [row_line("│", row) for row in cells[1:]]
    lines.append(line("└", "─", "┴", "┘"))
    print_lines(f"{text}\n" for text in lines)
    return True


def _compact() -> dict[str, Any]:
    """The compact layout's table: no edges, no padding, the columns one space apart (the
    box's blank separator), the header above a rule."""
    from rich import box

    return {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False, "padding": 0}


def _print_compact(
    header: Sequence[str], rows: list[list[str]], title: str | None, layout: _Layout
) -> None:
    """The compact layout line by line: each column at its width, an instant wrapped
    between its words where it is wider (its date above its time)."""
    from rich.cells import cell_len

    widths = [options["width"] for options in layout.columns]
    total = sum(widths) + len(widths) - 1

    def lines_of(row: list[str]) -> Iterable[str]:
        parts = [_wrapped(cell, width) if instant else [cell]
                 for cell, width, instant in zip(row, widths, layout.instant, strict=True)]
        for n in range(max(len(part) for part in parts)):
            texts = (part[n] if n < len(part) else "" for part in parts)
            yield " ".join(text + " " * (width - cell_len(text))
                           for text, width in zip(texts, widths, strict=True))

    lines = [] if title is None else [title.ljust(total)]
    lines += [*lines_of([str(name) for name in header]), "─" * total]
    lines += [line for row in rows for line in lines_of(row)]
    print_lines(f"{text}\n" for text in lines)


def _wrapped(text: str, width: int) -> list[str]:
    """A text of words in lines of at most `width`, each line as many words as fit."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def print_fields(pairs: Sequence[tuple[str, Any]], title: str | None = None) -> None:
    """A two-column table of one record's fields."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in pairs:
        table.add_row(name, _cell(value))
    _console().print(table)


def _cell(value: Any) -> Text:
    """A value as a table shows it: literally (rich would take `[forgotten]` or a name
    such as `[VIP] Ann` for markup and drop it)."""
    from rich.text import Text

    return Text("" if value is None else str(value))
