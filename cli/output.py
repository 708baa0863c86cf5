"""How read commands print: one `--format` option, data on stdout, diagnostics on stderr."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import sys
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import click

from handoff.spreadsheet import neutralised

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

F = TypeVar("F", bound=Callable[..., Any])
_PIPE_WIDTH = 160


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


def print_csv_records(header: Sequence[str], records: Iterable[dict[str, Any]]) -> None:
    """CSV of dictionaries under `header` (missing keys and None left empty), written a
    chunk of rows at a time (csv.DictWriter checks every row's keys: a third of the time)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    chunk: list[list[Any]] = []
    for record in records:
        chunk.append([record.get(name) for name in header])
        if len(chunk) >= 10_000:
            writer.writerows(chunk)
            click.echo(buffer.getvalue(), nl=False)
            buffer.seek(0)
            buffer.truncate()
            chunk = []
    writer.writerows(chunk)
    click.echo(buffer.getvalue(), nl=False)


def print_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else neutralised(v) for v in row] for row in rows)


def _console() -> Console:
    """stdout; when it is a pipe or a file, wide enough that rows don't wrap."""
    from rich.console import Console  # rich loads slowly; only commands that draw need it

    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=_PIPE_WIDTH)
    return console


# Past this many rows a table is drawn line by line rather than by rich, which spends
# about a millisecond a row laying it out (45,000 breaches: 50 s instead of 1 s).
_RICH_ROWS = 500


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    from rich.table import Table

    console = _console()
    if len(rows) > _RICH_ROWS and _print_plain_table(console, header, rows, title):
        return
    table = Table(title=title, title_justify="left")
    for name in header:
        table.add_column(name)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _print_plain_table(
    console: Console, header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None
) -> bool:
    """A long table as rich draws it (same box, same padding), when it fits the console's
    width as it is (nothing to wrap); False when it does not."""
    from rich.cells import cell_len

    cells = [[str(name) for name in header]]
    cells += [["" if value is None else str(value) for value in row] for row in rows]
    if any("\n" in cell or "\r" in cell for row in cells for cell in row):
        return False  # a cell of several lines: rich lays it out
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
