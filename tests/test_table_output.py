"""Tables as people read them: a long table drawn line by line looks as rich draws it; in 80
columns no number, month, metric's name or other word is cut (cli/tables.py, its rule)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from click.testing import CliRunner
from conftest import AGREEMENT, agreement_toml

from handoff.cli import main, output, tables
from handoff.demo import build_demo
from handoff.kpi import OVER_NOTE, THIN_NOTE


def _drawn(capsys: pytest.CaptureFixture[str], rows: list[list[object]]) -> str:
    tables.print_table(["lead", "owner", "hours_past_due"], rows, title=f"Breaches ({len(rows)})")
    return capsys.readouterr().out


def test_a_long_table_reads_exactly_as_rich_draws_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[object]] = [[f"lead-{n}", "Zoë" if n % 3 else None, n * 1.25]
                                for n in range(tables._RICH_ROWS + 1)]
    drawn_plain = _drawn(capsys, rows)
    monkeypatch.setattr(tables, "_RICH_ROWS", len(rows))
    drawn_by_rich = _drawn(capsys, rows)
    assert drawn_plain == drawn_by_rich
    assert "│ lead-3 " in drawn_plain and "│ Zoë " in drawn_plain


def test_a_long_table_with_a_cell_of_several_lines_is_left_to_rich(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[object]] = [["a", "b", 1]] * tables._RICH_ROWS + [["two\nlines", "b", 1]]
    drawn = _drawn(capsys, rows)
    monkeypatch.setattr(tables, "_RICH_ROWS", len(rows))
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
        for n in range(tables._RICH_ROWS + 1)
    ]

    def drawn() -> str:
        tables.print_table(["key", "state", "handed_at", "due_at", "owner"], rows)
        return capsys.readouterr().out

    plain = drawn()
    monkeypatch.setattr(tables, "_RICH_ROWS", len(rows))
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


def test_a_long_table_wrapped_between_words_reads_as_rich_draws_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With borders, a name wrapped between its words (60 columns); without them, a name and
    an e-mail address cut where nothing else fits (40 columns): line by line as rich draws
    it, every key and amount whole."""
    rows: list[list[object]] = [
        [f"CRM-{n}", "Ann Smith-Jones of Harbor Trading" if n % 2 else "sam",
         "ann@harbor.example", 1234567.5 + n]
        for n in range(tables._RICH_ROWS + 1)
    ]
    header = ["key", "owner", "email", "amount"]
    rich_from = tables._RICH_ROWS

    def drawn() -> str:
        tables.print_table(header, rows, title="Leads")
        return capsys.readouterr().out

    for width in ("60", "40"):
        monkeypatch.setenv("COLUMNS", width)
        monkeypatch.setattr(tables, "_RICH_ROWS", rich_from)
        plain = drawn()
        monkeypatch.setattr(tables, "_RICH_ROWS", len(rows))
        assert plain == drawn(), width
        assert all(len(line) <= int(width) for line in plain.splitlines())
        assert plain.count("1234568.5") == 1 and plain.count("CRM-500") == 1


def test_a_word_with_a_digit_wider_than_the_terminal_is_drawn_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    tables.print_table(["key", "amount"], [["northwind-traders-international-1", 1234567.55]])
    drawn = capsys.readouterr().out
    assert "northwind-traders-international-1 1234567.55" in drawn  # wider than 20: not cut


# In 80 columns, on the demo store and on a store of long names and large amounts: every
# word of a table is as it reads in a terminal wide enough for it (none cut); every
# number, month, metric's name, name and key of the command's JSON answer on one line.

WIDE = 1000
_RULES = re.compile(r"[│┃┏┓┗┛┡┩┌┐└┘━─┳┻╇┴┬]")
_ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT")


def test_the_footnotes_under_a_table_fit_80_columns() -> None:
    """The footnote of a rate over 100 % ran to 86 columns, wrapped by the terminal."""
    lines = [line for note in (OVER_NOTE, THIN_NOTE) for line in note.splitlines()]
    assert len(lines) >= 2
    assert [line for line in lines if len(line) > 80] == []


def _at_width(store: str, width: int, *args: str) -> str:
    result = CliRunner().invoke(main, ["--store", store, *args], terminal_width=width)
    assert result.exit_code in (0, 3), result.output
    return result.stdout


def _words(drawn: str) -> Counter[str]:
    return Counter(_RULES.sub(" ", drawn).split())


def _whole_on_a_line(value: str, drawn: str) -> bool:
    """Some line holds the value, not as a piece of a longer word or number."""
    whole = re.compile(rf"(?<![\w.,]){re.escape(value)}(?![\w.,])")
    return any(whole.search(line) for line in drawn.splitlines())


def _table_lines(drawn: str) -> list[str]:
    """The lines of the tables and their footnotes (not the KPIs' heading)."""
    return [line for line in drawn.splitlines() if not line.startswith("KPIs ")]


def _kpi_values(answer: dict[str, Any]) -> list[str]:
    """The group names, metric names and numbers of `kpi --by`'s JSON answer, as the
    tables write them: counts as they are, amounts with thousands and cents, rates as
    percentages with one decimal, hours with two."""
    found = []
    for name, group in answer["groups"].items():
        found.append(name)
        found += [str(count) for count in group["counts"].values()]
        found.append(f"{group['revenue_won']:,.2f}")
        found += [f"{rate:.1%}" for rate in group["rates"].values() if rate is not None]
        found += [str(group["sla"][count]) for count in ("handoffs", "breached")]
        hours = group["sla"]["median_response_hours"]
        found += [] if hours is None else [f"{hours:.2f}"]
        found += [*group["counts"], "revenue_won", *group["rates"], *group["sla"]]
    return found


def _plan_values(answer: dict[str, Any]) -> list[str]:
    """The months, stages and numbers of `plan`'s JSON answer, as the tables write them:
    whole numbers with thousands."""
    found = [*answer["total"], *(f"{n:,.0f}" for n in answer["total"].values())]
    for month in answer["per_month"]:
        found.append(month["month"])
        found += [f"{month[stage]:,.0f}" for stage in answer["total"]]
        if month["actual"] is not None:
            found += [f"{month['actual'][stage]:,.0f}" for stage in answer["total"]]
    return found


def _fits_80_columns_whole(store: str, args: list[str], values: list[str]) -> None:
    drawn, wide = _at_width(store, 80, *args), _at_width(store, WIDE, *args)
    too_long = [line for line in _table_lines(drawn) if len(line) > 80]
    assert not too_long, drawn
    assert _words(drawn) == _words(wide), drawn  # no word cut
    shown = [v for v in values if v in _words(wide)]  # (by owner: not marketing's stages)
    assert len(shown) > len(values) / 2, wide
    missing = [v for v in shown if not _whole_on_a_line(v, drawn)]
    assert not missing, (missing, drawn)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two months of the demo, October and November 2026 (its plan, from October 2026)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    build_demo(path, seed=1, today=date(2026, 11, 27), months=2)
    return str(path)


@pytest.mark.parametrize("basis", ["flow", "cohort"])
@pytest.mark.parametrize("by", ["source", "owner"])
def test_in_80_columns_the_kpi_groups_of_the_demo_cut_no_word(demo: str, by: str, basis: str
                                                               ) -> None:
    args = ["kpi", "--month", "2026-10", "--by", by, "--basis", basis]
    answer = json.loads(_at_width(demo, WIDE, *args, "--format", "json"))
    _fits_80_columns_whole(demo, args, _kpi_values(answer))


def test_in_80_columns_the_plan_of_the_demo_cuts_no_number_or_month(demo: str) -> None:
    answer = json.loads(_at_width(demo, WIDE, "plan", "--format", "json"))
    values = _plan_values(answer)
    assert "2026-10" in values and "2,640,000" in values
    _fits_80_columns_whole(demo, ["plan"], values)


@pytest.fixture
def long_names(store: str, tmp_path: Path) -> Handoff:
    """Six leads from three sources of long names, handed in March to three sales people
    (two of long names), won for amounts in the millions; each e-mail address longer than
    a column can hold in 80 columns."""
    cli = Handoff(store)
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(agreement_toml(AGREEMENT, {"team": None}))
    cli.ok("sla", "apply", str(agreement))
    leads = [("linkedin-paid-social", "anastasia.papadopoulou"),
             ("trade-show-hannover", "maximilian.hohenberg"),
             ("partner-referrals", "li.wei")] * 2
    for n, (source, owner) in enumerate(leads, start=1):
        key = f"northwind-{n}"
        cli.ok("lead", "capture", key, "--source", source, "--name", "Bartholomew Fairweather",
               "--email", f"bartholomew.fairweather.{'abcdef'[n - 1]}@northwind-traders.example",
               "--at", f"2026-03-02T09:0{n}")
        cli.ok("lead", "qualify", key, "--at", "2026-03-02T10:00")
        cli.ok("lead", "handoff", key, "--owner", owner, "--at", "2026-03-02T11:00")
        cli.ok("lead", "accept", key, "--at", f"2026-03-0{2 + n}T11:00")  # two late
        cli.ok("lead", "proposal", key, "--amount", f"{n}234567.55", "--at", "2026-03-09T11:00")
        cli.ok("lead", "win", key, "--at", "2026-03-10T11:00")
    return cli


@pytest.mark.parametrize("by", ["source", "owner"])
def test_in_80_columns_long_names_and_millions_cut_no_word_in_a_kpi_group(
    long_names: Handoff, by: str
) -> None:
    args = ["kpi", "--month", "2026-03", "--by", by]
    answer = json.loads(_at_width(long_names.store, WIDE, *args, "--format", "json"))
    assert "5,469,135.10" in _kpi_values(answer)  # the first and the fourth lead's
    _fits_80_columns_whole(long_names.store, args, _kpi_values(answer))


@pytest.mark.parametrize("args", [["lead", "list"], ["sla", "breaches"],
                                  ["lead", "show", "northwind-4"],
                                  ["lead", "history", "northwind-1"]])
def test_in_80_columns_a_word_with_a_digit_is_never_cut(long_names: Handoff, args: list[str]
                                                        ) -> None:
    """Words with no digit (an e-mail address) are cut only when nothing else fits, and then
    within 80 columns; a key, an amount, a date, a time never: a table that cannot hold them
    in 80 columns is drawn wider, no word cut."""
    drawn, wide = (_at_width(long_names.store, width, *args) for width in (80, WIDE))
    with_digits = Counter({word: n for word, n in _words(wide).items()
                           if any(c.isdigit() for c in word)})
    assert with_digits <= _words(drawn), drawn
    if any(len(line) > 80 for line in drawn.splitlines()):
        assert _words(drawn) == _words(wide), drawn
    answer = json.loads(_at_width(long_names.store, WIDE, *args, "--format", "json"))
    for record in answer if isinstance(answer, list) else [answer]:
        for value in record.values():
            if isinstance(value, str) and not _ISO_INSTANT.match(value):  # (instants: above)
                for word in value.split():
                    if any(c.isdigit() for c in word):
                        assert _whole_on_a_line(word, drawn), (word, drawn)
            elif isinstance(value, int) and not isinstance(value, bool):
                assert _whole_on_a_line(str(value), drawn), (value, drawn)
            elif isinstance(value, float):  # hours, to two places (whole hours here)
                assert _whole_on_a_line(f"{value:.2f}", drawn), (value, drawn)


def test_a_direction_override_in_a_text_is_shown_not_obeyed(handoff: Handoff) -> None:
    """A name or source holding a direction override (U+202E) or isolate (U+2066) made the
    terminal draw the rest of each line it was printed on right to left: the table's borders,
    the next columns, the confirmation. The table and the confirmation show such a character
    as its escape; JSON keeps the text as typed (found by a hostile-input trial)."""
    # (A source may not hold one: reports group by it, so it is typed as it is seen.)
    said = handoff.ok("lead", "capture", "k", "--source", "web", "--company", "\u2066Acme",
                      "--name", "Ann\u202eeeL", "--at", "2026-03-02T09:00Z")
    for printed in (said, handoff.ok("lead", "show", "k"), handoff.ok("lead", "list"),
                    handoff.ok("lead", "history", "k")):
        assert "\u202e" not in printed and "\u2066" not in printed, printed
    assert "Ann\\u202eeeL" in handoff.ok("lead", "show", "k")
    assert "\\u2066Acme" in handoff.ok("lead", "show", "k")
    assert "name=Ann\\u202eeeL, company=\\u2066Acme" in said
    shown = handoff.json("lead", "show", "k")
    assert (shown["name"], shown["company"]) == ("Ann\u202eeeL", "\u2066Acme")


def test_a_direction_override_in_an_agreements_name_is_shown_not_obeyed(
    handoff: Handoff, tmp_path: Path
) -> None:
    """`sla history` says what each version changed on a line of its own, outside its table:
    a name holding U+202E turned that line right to left too."""
    path = tmp_path / "agreement.toml"
    path.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(path))
    path.write_text(agreement_toml(AGREEMENT, {"team": None, "name": "\"Growth \u202e H1\""}))
    handoff.ok("sla", "apply", str(path))
    history = handoff.ok("sla", "history")
    assert "\u202e" not in history
    assert "-> Growth \\u202e H1" in history
