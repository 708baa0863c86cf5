"""Importing a file (SPEC §8), as the teams read it in features/import.feature."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import Handoff
from click.testing import Result
from conftest import WHEN, build_lead, local_at, story_day
from pytest_bdd import given, parsers, scenarios, then, when

from handoff.application import HandoffApp
from handoff.domain.errors import UnknownLead
from handoff.views import lead_summary

scenarios("import.feature")

HEADER = "lead,event,at,actor,source,amount,visits\n"


@pytest.fixture(autouse=True)
def every_story_runs_on_each_store(app: HandoffApp) -> HandoffApp:
    return app


def import_file(handoff: Handoff, tmp_path: Path, text: str) -> Result:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + text)
    return handoff("import", str(path))


@given(parsers.re(rf'a lead "(?P<key>[^"]+)" won for (?P<amount>\d+) {WHEN}'))
def _(app: HandoffApp, key: str, amount: str, day: str, time: str) -> None:
    build_lead(app, key, "accepted")
    app.record(key, "proposal", "sam", local_at("Monday", "12:00"), amount=amount)
    app.record(key, "won", "sam", local_at(day, time), amount=amount)


@given(
    parsers.re(r"a traffic file that records (?P<first>\d+) visits on (?P<day>\w+) and then "
               r"(?P<second>\d+)"),
    target_fixture="traffic_rows",
)
def _(first: str, day: str, second: str) -> str:
    at = story_day(day).isoformat()
    return f",visits,{at},li,,,{first}\n,visits,{at},li,,,{second}\n"


@when(
    parsers.re(rf'(?P<actor>\w+) imports a win of "(?P<key>[^"]+)" for (?P<amount>[\d.]+) {WHEN}'),
    target_fixture="imported",
)
def _(handoff: Handoff, tmp_path: Path, actor: str, key: str, amount: str, day: str,
      time: str) -> Result:
    return import_file(handoff, tmp_path, f"{key},won,{local_at(day, time)},sam,,{amount},\n")


@when(
    parsers.re(rf'(?P<actor>\w+) imports a capture of "(?P<key>[^"]+)" from "(?P<source>\w+)" '
               rf"{WHEN}"),
    target_fixture="imported",
)
def _(handoff: Handoff, tmp_path: Path, actor: str, key: str, source: str, day: str,
      time: str) -> Result:
    row = f"{key},captured,{local_at(day, time)},maria,{source},,\n"
    return import_file(handoff, tmp_path, row)


@when(parsers.re(r"(?P<actor>\w+) imports it (?P<times>\d+) times"), target_fixture="imported")
def _(handoff: Handoff, tmp_path: Path, traffic_rows: str, times: str) -> Result:
    results = [import_file(handoff, tmp_path, traffic_rows) for _ in range(int(times))]
    assert all(r.exit_code == 0 for r in results), [r.output for r in results]
    return results[-1]


@then(parsers.re(r'the import is refused at line (?P<line>\d+), saying "(?P<text>[^"]+)"'))
def _(imported: Result, line: str, text: str) -> None:
    assert imported.exit_code == 1, imported.output
    assert f"line {line}: " in imported.stderr and text in imported.stderr, imported.stderr
    assert "nothing was written" in imported.stderr


@then(parsers.re(r"the import skips (?P<count>\d+) rows? as already recorded"))
def _(imported: Result, count: str) -> None:
    assert imported.exit_code == 0, imported.output
    assert f"0 recorded, {count} skipped (already recorded)" in imported.stdout


@then(parsers.re(r"the deal is still won for (?P<amount>\d+)"))
def _(app: HandoffApp, amount: str) -> None:
    summary = lead_summary(app.lead("ACME-1"))
    assert (summary["state"], summary["won_amount"]) == ("won", Decimal(amount))


@then(parsers.re(r"(?P<day>\w+)'s visits are (?P<visits>\d+)"))
def _(app: HandoffApp, day: str, visits: str) -> None:
    assert app.traffic_day(story_day(day)).visits == int(visits)


@then(parsers.re(r"(?P<day>\w+)'s visits were recorded (?P<times>\d+) times"))
def _(handoff: Handoff, day: str, times: str) -> None:
    exported = handoff.ok("export").splitlines()
    at = story_day(day).isoformat()
    assert sum(1 for row in exported if f",visits,{at}," in row) == int(times)


@then(parsers.re(r'the lead "(?P<key>[^"]+)" exists'))
def _(handoff: Handoff, key: str) -> None:
    assert handoff.json("lead", "show", key)["key"] == key


@then(parsers.re(r'the lead "(?P<key>[^"]+)" does not exist'))
def _(app: HandoffApp, key: str) -> None:
    with pytest.raises(UnknownLead):
        app.lead(key)
