"""CSV cells that a spreadsheet would run as formulas, neutralised on the way out.

A name such as `=HYPERLINK("http://evil.example", "click")` exported as is becomes a live
formula when the CSV is opened in Excel or LibreOffice (CSV injection). Every text cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`,
which spreadsheets show as text; a cell that itself starts with `'` gets one more, so that
`handoff import` can take exactly one away and read back what was recorded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralised(value: Any) -> Any:
    """The cell as written to a CSV: text that a spreadsheet would run gets a leading `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def restored(cell: str) -> str:
    """The text a neutralised cell stands for (the inverse of `neutralised`)."""
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS):
        return cell[1:]
    return cell


def neutralised_cells(
    rows: Iterable[list[Any]], header: Sequence[str], text_columns: Iterable[str]
) -> Iterator[list[Any]]:
    """Rows for a CSV, given as cells in the order of `header`: each text cell a
    spreadsheet would run given a leading `'`."""
    indexes = [i for i, column in enumerate(header) if column in frozenset(text_columns)]
    first = _FIRST_CHARACTERS
    for row in rows:
        for i in indexes:
            value = row[i]
            if value and value[0] in first:
                row[i] = "'" + value
        yield row


_FIRST_CHARACTERS = frozenset(c[0] for c in _FORMULA_STARTS)


def csv_chunks(
    rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None, chunk: int = 10_000
) -> Iterator[str]:
    """CSV text of rows given as cells (None left empty), `chunk` rows at a time, after the
    header if given (csv.DictWriter checks every row's keys: a third of the time, and a
    dictionary per row costs as much again)."""
    remaining = iter(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    while True:
        rows_now = list(islice(remaining, chunk))
        start = buffer.tell()
        writer.writerows(rows_now)
        text = buffer.getvalue()
        if "\r" in text:  # rare: a reason pasted with a carriage return
            buffer.seek(start)
            buffer.truncate()
            _write_quoting_carriage_returns(buffer, rows_now)
            text = buffer.getvalue()
        if text:
            yield text
        if len(rows_now) < chunk:
            return
        buffer.seek(0)
        buffer.truncate()


def _write_quoting_carriage_returns(buffer: io.StringIO, rows: list[Sequence[Any]]) -> None:
    """The rows, each cell holding a carriage return quoted: csv quotes a cell holding a
    character of its line terminator ("\n") but not a lone "\r", which a CSV reader takes
    for the end of a row. A row holding one is written as with "\r\n" line ends, which
    quotes it, and ended with "\n" as the others."""
    writer = csv.writer(buffer, lineterminator="\n")
    row_text = io.StringIO()
    carriage = csv.writer(row_text, lineterminator="\r\n")
    for row in rows:
        if any(isinstance(cell, str) and "\r" in cell for cell in row):
            row_text.seek(0)
            row_text.truncate()
            carriage.writerow(row)
            buffer.write(row_text.getvalue()[:-2] + "\n")
        else:
            writer.writerow(row)
