"""Tables as people read them, fitted to the terminal by one rule (`_layout`).

A table is drawn in the first of these that fits the width:

1. with borders, each column as wide as its widest cell, or narrower, its text wrapped
   between words: a word (a number, a month, a metric's name) is never cut;
2. the same, each instant wrapped between its date and its time (`2026-03-02` above
   `09:00 CST`);
3. without borders, the columns a space apart under a rule: as 1, then as 2;
4. without borders, the longest words that hold no digit (an e-mail address, a long name)
   cut, as few and as little as will fit, none to fewer than _NARROWEST characters a line
   (narrower, a cut word no longer reads); a word with a digit (a number, a month, an
   amount, an instant, a lead's key) is never cut;
5. when even that is too wide: without borders, no word cut, wider than the terminal (a
   pager such as `less -S` reads it; the terminal wraps its lines).

Within the layout that fits, the widest columns give way first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from handoff.cli.output import InstantText, print_lines, shown

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

_PIPE_WIDTH = 160
# Past this many rows a table is drawn line by line rather than by rich, which spends
# about a millisecond a row laying it out (45,000 breaches: 50 s instead of 1 s).
_RICH_ROWS = 500
_DIGIT = re.compile(r"\d")
_NARROWEST = 5  # a column whose words must be cut keeps at least this much of them a line


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    """A table of rows that fits the console as the module's rule says."""
    console = _console()
    layout = _layout(header, rows, console.width)
    console.width = max(console.width, layout.total)  # (the rule's last step)
    if len(rows) > _RICH_ROWS and _print_plain(console, header, rows, title, layout):
        return
    table = _table(title, layout)
    for name, width in zip(header, layout.widths, strict=True):
        table.add_column(_cell(name, width), width=width, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v, w) for v, w in zip(row, layout.widths, strict=True)))
    console.print(table)


def print_fields(pairs: Sequence[tuple[str, Any]], title: str | None = None) -> None:
    """A two-column table of one record's fields, fitted as any table."""
    console = _console()
    layout = _layout(["", ""], pairs, console.width)
    console.width = max(console.width, layout.total)
    table = _table(title, layout, show_header=False)
    table.add_column(style="bold", width=layout.widths[0], overflow="fold")
    table.add_column(width=layout.widths[1], overflow="fold")
    for name, value in pairs:
        table.add_row(_cell(name, layout.widths[0]), _cell(value, layout.widths[1]))
    console.print(table)


def print_paragraph(text: str) -> None:
    """A sentence or two beside the tables, wrapped to the terminal's width between words (a
    word longer than a line, a long name say, on a line of its own, never cut); to a pipe or
    a file, one line, as a script reads it."""
    import textwrap

    width = _terminal_width()
    click.echo(text if width is None else textwrap.fill(
        text, width=width, break_long_words=False, break_on_hyphens=False))


def _console() -> Console:
    """stdout, as wide as the terminal; as wide as the command's context says when it says
    (a test's `terminal_width`), or COLUMNS; when it is a pipe or a file, wide enough that
    rows don't wrap."""
    from rich.console import Console  # rich loads slowly; only commands that draw need it

    width = _terminal_width()
    return Console(soft_wrap=False, width=_PIPE_WIDTH if width is None else width)


def _terminal_width() -> int | None:
    """The width asked for (`_asked_width`), else the terminal's; None for a pipe or a file."""
    width = _asked_width()
    if width is not None:
        return width
    from rich.console import Console

    console = Console(soft_wrap=False)
    return console.width if console.is_terminal else None


def _asked_width() -> int | None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.terminal_width:
        return ctx.terminal_width
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


@dataclass(frozen=True)
class _Layout:
    widths: list[int]  # each column's width, its padding and borders aside
    compact: bool = False  # no borders: the columns a space apart, the header above a rule

    @property
    def total(self) -> int:
        return sum(self.widths) + _rules(len(self.widths), self.compact)


def _rules(columns: int, compact: bool) -> int:
    """The width a table's borders and padding take: `│ a │ b │`, or `a b` compact."""
    return columns - 1 if compact else 3 * columns + 1


def _layout(header: Sequence[str], rows: Sequence[Sequence[Any]], width: int) -> _Layout:
    """The module's rule: the first layout that fits `width`, its columns' widths."""
    columns = [_measured([name, *(row[n] for row in rows)]) for n, name in enumerate(header)]
    whole, word = [c.whole for c in columns], [c.word for c in columns]
    split, halves = [c.split for c in columns], [c.halves for c in columns]
    for compact in (False, True):
        room = width - _rules(len(header), compact=compact)
        for floor, ceiling in ((word, whole), (split, halves)):
            if sum(floor) <= room:
                return _Layout(_spread(floor, ceiling, room), compact)
    room = width - _rules(len(header), compact=True)
    cut = [max(c.kept, min(c.split, _NARROWEST)) for c in columns]
    if sum(cut) <= room:
        return _Layout(_spread(_spread(cut, split, room), halves, room), compact=True)
    return _Layout(split, compact=True)  # wider than the terminal: no word cut


@dataclass(frozen=True)
class _Measures:
    """A column's widths, each that of its widest cell (its header's included)."""

    whole: int  # a cell's lines as they are
    word: int  # a cell's longest word, an instant whole
    split: int  # a cell's longest word, an instant's date or time
    halves: int  # a cell's lines, an instant's date above its time
    kept: int  # a cell's longest word with a digit, an instant's date or time: never cut


def _measured(values: Iterable[Any]) -> _Measures:
    from rich.cells import cell_len

    whole = word = split = halves = kept = 1
    for instant, text in {(isinstance(v, InstantText), str(v)) for v in values if v is not None}:
        if text.isascii() and text.isprintable() and " " not in text:  # one word: most cells
            width = len(text)
            whole, word, split, halves = (max(whole, width), max(word, width),
                                          max(split, width), max(halves, width))
            kept = max(kept, width) if _DIGIT.search(text) else kept
            continue
        lines = max(cell_len(line) for line in text.split("\n"))
        whole = max(whole, lines)
        if instant:
            date_or_time = max(cell_len(part) for part in text.split(" ", 1))
            word, halves = max(word, lines), max(halves, date_or_time)
            split, kept = max(split, date_or_time), max(kept, date_or_time)
            continue
        words = [(cell_len(w), bool(_DIGIT.search(w))) for w in text.split()]
        longest = max((n for n, _ in words), default=0)
        word, split, halves = max(word, longest), max(split, longest), max(halves, lines)
        kept = max([kept, *(n for n, digit in words if digit)])
    return _Measures(whole, word, split, halves, kept)


def _spread(floor: list[int], ceiling: list[int], room: int) -> list[int]:
    """Widths between each column's floor and ceiling in `room`: the widest columns give way
    first, down to a common width, none below its floor (the floors, when they alone fill
    the room)."""
    def at(level: int) -> list[int]:
        return [max(least, min(most, level)) for least, most in zip(floor, ceiling, strict=True)]

    low, high = 0, max(ceiling, default=0)
    while low < high:  # the highest level whose widths fit
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(at(middle)) <= room else (low, middle - 1)
    widths = at(low)
    left = room - sum(widths)
    for n, most in enumerate(ceiling):  # less than one a column at the level: the first get it
        if left > 0 and widths[n] < most:
            widths[n] += 1
            left -= 1
    return widths


def _shown(value: Any, width: int) -> str:
    """A cell's text in a column `width` wide: an instant wider than that, its date above
    its time."""
    if value is None:
        return ""
    if isinstance(value, InstantText) and len(value) > width:  # (ASCII: its width)
        return value.replace(" ", "\n", 1)
    return shown(str(value))


def _cell(value: Any, width: int) -> Text:
    """A value as a table shows it: literally (rich would take `[forgotten]` or a name
    such as `[VIP] Ann` for markup and drop it)."""
    from rich.text import Text

    return Text(_shown(value, width))


def _table(title: str | None, layout: _Layout, show_header: bool = True) -> Table:
    """The table, titled; compact: no edges, no padding, the columns one space apart (the
    box's blank separator), the header above a rule."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    compact: dict[str, Any] = (
        {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False, "padding": 0}
        if layout.compact else {})
    return Table(title=None if title is None else Text(title), title_justify="left",
                 show_header=show_header, **compact)


def _print_plain(
    console: Console, header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None,
    layout: _Layout,
) -> bool:
    """A long table as rich draws it (same box, same padding, cells wrapped as rich wraps
    them), line by line; False, left to rich, when a cell holds a line break or a tab."""
    from rich.cells import cell_len

    if any(isinstance(value, str) and ("\n" in value or "\r" in value or "\t" in value)
           for row in rows for value in row):
        return False
    widths = layout.widths

    def lines_of(row: Sequence[Any], edge: str) -> Iterable[str]:
        parts = [_lines(console, value, width) for value, width in zip(row, widths, strict=True)]
        for n in range(max(len(part) for part in parts)):
            texts = [part[n] if n < len(part) else "" for part in parts]
            padded = [text + " " * (width - (len(text) if text.isascii() else cell_len(text)))
                      for text, width in zip(texts, widths, strict=True)]
            yield " ".join(padded) if layout.compact else \
                edge + edge.join(f" {text} " for text in padded) + edge

    def rule(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (width + 2) for width in widths) + right

    lines = [] if title is None else [title.ljust(layout.total)]
    if layout.compact:
        lines += [*lines_of(header, ""), "─" * layout.total]
        lines += [line for row in rows for line in lines_of(row, "")]
    else:
        lines += [rule("┏", "━", "┳", "┓"), *lines_of(header, "┃"), rule("┡", "━", "╇", "┩")]
        lines += [line for row in rows for line in lines_of(row, "│")]
        lines.append(rule("└", "─", "┴", "┘"))
    print_lines(f"{text}\n" for text in lines)
    return True


def _lines(console: Console, value: Any, width: int) -> list[str]:
    """A cell's lines in a column `width` wide, as rich wraps them (rich only when a line
    is too wide: most cells fit)."""
    text = _shown(value, width)
    if text.isascii() and len(text) <= width and "\n" not in text:  # most cells
        return [text]
    from rich.cells import cell_len

    lines = text.split("\n")
    if all(cell_len(line) <= width for line in lines):
        return lines
    wrapped = _cell(value, width).wrap(console, width, overflow="fold")
    return [line.plain.rstrip() for line in wrapped]
