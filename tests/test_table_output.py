"""Tables as people read them: a long table drawn line by line looks as rich draws it."""

from __future__ import annotations

import pytest

from handoff.cli import output


def _drawn(capsys: pytest.CaptureFixture[str], rows: list[list[object]]) -> str:
    output.print_table(["lead", "owner", "hours_past_due"], rows, title=f"Breaches ({len(rows)})")
    return capsys.readouterr().out


def test_a_long_table_reads_exactly_as_rich_draws_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[object]] = [[f"lead-{n}", "Zoë" if n % 3 else None, n * 1.25]
                                for n in range(output._RICH_ROWS + 1)]
    drawn_plain = _drawn(capsys, rows)
    monkeypatch.setattr(output, "_RICH_ROWS", len(rows))
    drawn_by_rich = _drawn(capsys, rows)
    assert drawn_plain == drawn_by_rich
    assert "│ lead-3 " in drawn_plain and "│ Zoë " in drawn_plain


def test_a_long_table_with_a_cell_of_several_lines_is_left_to_rich(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[object]] = [["a", "b", 1]] * output._RICH_ROWS + [["two\nlines", "b", 1]]
    drawn = _drawn(capsys, rows)
    monkeypatch.setattr(output, "_RICH_ROWS", len(rows))
    assert drawn == _drawn(capsys, rows)
