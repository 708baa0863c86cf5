"""Random command lines, CSV rows and agreement files through the real command line (SPEC §7).

Whatever is typed: the exit status is 0, 1, 2 or 3; an error is one line on stderr, never a
traceback or an internal error; a refused command writes nothing; and every read command
still works afterwards. The number of examples is bounded so the suite stays quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
NUMBER = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["1e3", "1E+3", "1_000", "\u0661\u0662\u0663", "\uff11\uff12", "nan", "inf",
                     "-0", "0.001", "999999999999.99", "1000000000000", "12.5", " 7 ", ""]),
    TEXT,
)
INSTANT = st.one_of(
    st.sampled_from(["2026-03-08T02:30", "2026-11-01T01:30", "0001-01-01T00:00Z",
                     "9999-12-31T23:59", "1899-12-31T23:00Z", "2026-03-04T09:00Z",
                     "2026-03-04", "2199-12-31T23:59-12:00", "now"]),
    TEXT,
)
DAY = st.one_of(st.sampled_from(["2026-03-02", "0001-01-01", "9999-12-31", "2026-02-30"]), TEXT)
MONTH = st.one_of(st.sampled_from(["2026-03", "9999-12", "0001-01", "1899-12", "2026-13"]), TEXT)
KEY = st.one_of(st.sampled_from(["k", " k", "k ", "a\nb", "x" * 300, "=1+1", "new"]), TEXT)

COMMAND = st.one_of(
    st.tuples(st.just("lead"), st.just("capture"), KEY, st.just("--source"), TEXT,
              st.just("--name"), TEXT, st.just("--at"), INSTANT),
    st.tuples(st.just("lead"), st.just("contact"), KEY, st.just("--channel"), TEXT,
              st.just("--at"), INSTANT),
    st.tuples(st.just("lead"), st.just("proposal"), KEY, st.just("--amount"), NUMBER,
              st.just("--at"), INSTANT),
    st.tuples(st.just("lead"), st.just("lose"), KEY, st.just("--reason"), TEXT,
              st.just("--at"), INSTANT),
    st.tuples(st.just("traffic"), st.just("record"), st.just("--date"), DAY,
              st.just("--visits"), NUMBER),
    st.tuples(st.just("lead"), st.just("show"), KEY, st.just("--as-of"), INSTANT),
    st.tuples(st.just("kpi"), st.just("--month"), MONTH),
    st.tuples(st.just("kpi"), st.just("--from"), DAY, st.just("--to"), DAY),
    st.tuples(st.just("sla"), st.just("breaches"), st.just("--as-of"), INSTANT),
    st.lists(TEXT, max_size=4).map(tuple),
)
CELL = st.one_of(NUMBER, INSTANT, KEY, st.sampled_from(["captured", "proposal", "visits", ""]))
CSV_ROW = st.lists(CELL, min_size=4, max_size=8)
AGREEMENT_CHANGE = st.dictionaries(
    st.sampled_from(["effective_from", "effective_to", "timezone", "goal.revenue",
                     "sales.decide_within_hours", "calendar.hours", "calendar.workdays",
                     "marketing.qualified_per_month", "sales.follow_up", "name"]),
    st.one_of(NUMBER, st.sampled_from(["9999-12-31", "1800-01-01", "2026-01-01", "1e300",
                                       "inf", "nan", '["mon"]', '["09:00", "09:01"]',
                                       '"Mars/Olympus"', "{ attempts = 1e9 }"])),
    max_size=3,
)
READS = (("lead", "show", "k"), ("lead", "history", "k"), ("kpi", "--month", "2026-03"),
         ("sla", "breaches"), ("sla", "show"), ("sla", "history"), ("export",),
         ("plan", "--at", "2026-03-01"))
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def seeded(handoff: Handoff, tmp_path: Path) -> Handoff:
    """A store with an agreement and an accepted lead `k`, as a team would have it."""
    path = tmp_path / "agreement.toml"
    path.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(path))
    for step in (("capture", "k", "--source", "web", "--at", "2026-03-02T09:00"),
                 ("qualify", "k", "--at", "2026-03-02T10:00"),
                 ("handoff", "k", "--owner", "sam", "--at", "2026-03-02T11:00"),
                 ("accept", "k", "--at", "2026-03-02T12:00")):
        handoff.ok("lead", *step)
    return handoff


def snapshot(handoff: Handoff) -> tuple[str, str]:
    return handoff.ok("export", "--format", "jsonl"), handoff.ok("sla", "history")


def check_outcome(handoff: Handoff, args: tuple[str, ...], before: tuple[str, str]) -> None:
    result = handoff(*args)
    shown = f"{args!r}: {result.output}"
    assert result.exit_code in (0, 1, 2, 3), shown
    assert "Traceback" not in result.output and "internal error" not in result.output, shown
    if result.exit_code in (1, 2):
        *bad_rows, last = result.stderr.strip().splitlines()
        assert last.startswith("Error: "), shown
        # An import names each bad row on a line of its own (SPEC §8), then refuses.
        assert all(args[0] == "import" and ": line " in row for row in bad_rows), shown
        assert snapshot(handoff)[0] == before[0] and snapshot(handoff)[1] == before[1], shown
    for read in READS:
        outcome = handoff(*read)
        assert outcome.exit_code in (0, 1, 3), f"{args!r} then {read!r}: {outcome.output}"
        assert "internal error" not in outcome.output, f"{args!r} then {read!r}"


def test_any_command_line(seeded: Handoff) -> None:
    @FUZZ
    @given(args=COMMAND)
    def run(args: tuple[str, ...]) -> None:
        check_outcome(seeded, args, snapshot(seeded))

    run()


def test_any_csv_file(seeded: Handoff, tmp_path: Path) -> None:
    header = "lead,event,at,actor,source,score,amount,visits"

    @FUZZ
    @given(rows=st.lists(CSV_ROW, max_size=4), quote=st.booleans())
    def run(rows: list[list[str]], quote: bool) -> None:
        lines = [",".join(cell.replace(",", " ") for cell in row) for row in rows]
        text = header + "\n" + "\n".join(lines) + ('\n"' if quote else "\n")
        path = tmp_path / "rows.csv"
        path.write_text(text, encoding="utf-8", errors="replace")
        check_outcome(seeded, ("import", str(path)), snapshot(seeded))

    run()


def test_any_agreement_file(seeded: Handoff, tmp_path: Path) -> None:
    @FUZZ
    @given(changes=AGREEMENT_CHANGE)
    def run(changes: dict[str, Any]) -> None:
        path = tmp_path / "changed.toml"
        path.write_text(agreement_toml(AGREEMENT, {"team": None, **changes}),
                        encoding="utf-8", errors="replace")
        check_outcome(seeded, ("sla", "apply", str(path)), snapshot(seeded))

    run()
