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


def test_a_table_too_narrow_for_its_borders_keeps_its_keys_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In 50 columns, the borders of five columns (16 characters) would leave too little
    for a key, a state and two instants even split between date and time: the columns are
    drawn a space apart instead, each key and state whole, each instant its date above its
    time; a long table drawn line by line reads as rich draws it."""
    monkeypatch.setenv("COLUMNS", "50")
    due = output.InstantText("2026-03-03 17:00 CST")
    rows: list[list[object]] = [
        [f"CRM-{10000 + n}", "qualified" if n % 2 else "lost",
         output.InstantText("2026-03-02 09:00 CST"), due if n % 3 else None, "sam"]
        for n in range(output._RICH_ROWS + 1)
    ]

    def drawn() -> str:
        output.print_table(["key", "state", "handed_at", "due_at", "owner"], rows)
        return capsys.readouterr().out

    plain = drawn()
    monkeypatch.setattr(output, "_RICH_ROWS", len(rows))
    assert plain == drawn()
    lines = plain.splitlines()
    # widths: key 9, state 9 ("qualified"), instants 10 ("2026-03-02"), owner 5; 4 gaps
    assert lines[0] == "key       state     handed_at  due_at     owner"
    assert lines[1] == "─" * 47
    assert lines[2] == "CRM-10000 lost      2026-03-02            sam  "
    assert lines[3] == "                    09:00 CST                  "
    assert lines[4] == "CRM-10001 qualified 2026-03-02 2026-03-03 sam  "
    assert lines[5] == "                    09:00 CST  17:00 CST       "
    assert len(lines) == 2 + 2 * len(rows)
