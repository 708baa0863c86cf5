"""Binds features/follow_up.feature: the follow-up clause and speed to lead, read from
the KPIs as `handoff kpi` reports them. The clock and report steps are the KPI ones."""

from __future__ import annotations

import re
from typing import Any

from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.verification.steps.kpi import *  # noqa: F403  (it is now ..., the report)
from handoff.verification.steps.kpi import report
from handoff.verification.world import AGREEMENT, agreement_toml

FEATURES = ("follow_up.feature",)
_FACT = re.compile(
    r"(?P<number>\d+) (?P<name>accepted|met|missed|pending)"
    r"|compliance (?:(?P<percent>\d+(?:\.\d+)?)%|(?P<null>null))"
)


@given(
    parsers.re(r"the 2026 growth agreement asks for (?P<attempts>\d+) follow-up attempts "
               r"within (?P<days>\d+) days"),
    target_fixture="agreement_name",
)
def _(app: HandoffApp, attempts: str, days: str) -> str:
    changes = {"team": None,
               "sales.follow_up": f"{{ attempts = {attempts}, within_days = {days} }}"}
    terms = parse_agreement(agreement_toml(AGREEMENT, changes))
    app.apply_agreement(terms, actor="maria")
    return terms.name


@when(
    parsers.re(
        r"the agreement is revised to (?:open from (?P<opens>\d\d:\d\d) to (?P<closes>\d\d:\d\d)"
        r"|ask for (?P<attempts>\d+) follow-up attempts? within (?P<days>\d+) days)"
        r'(?:, as a restatement because "(?P<why>[^"]+)")?'
    )
)
def _(app: HandoffApp, opens: str | None, closes: str | None, attempts: str | None,
      days: str | None, why: str | None) -> None:
    """A revision of the background's agreement from 1 March 2026, in force at once."""
    changes = {"team": None, "name": '"2026 growth agreement, revised"',
               "effective_from": "2026-03-01",
               "sales.follow_up": f"{{ attempts = {attempts or 2}, within_days = {days or 7} }}"}
    if opens is not None:
        changes["calendar.hours"] = f'["{opens}", "{closes}"]'
    app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT, changes)), actor="maria",
                        restates=why)


@then(parsers.re(r"the (?P<month>\w+ \d{4}) follow-up reads (?P<facts>.+)"))
def _(app: HandoffApp, month: str, facts: str) -> None:
    follow_up: dict[str, Any] = report(app, month, None)["follow_up"]
    for fact in re.split(r", | and ", facts):
        found = _FACT.fullmatch(fact.strip())
        assert found, f"not a fact about the follow-up: {fact!r}"
        if found["name"]:
            assert follow_up[found["name"]] == int(found["number"]), follow_up
        else:
            expected = None if found["null"] else float(found["percent"]) / 100
            assert follow_up["compliance"] == expected, follow_up


@then(
    parsers.re(r"the (?P<month>\w+ \d{4}) speed to lead reads (?P<contacted>\d+) contacted, "
               r"median (?P<median>[\d.]+) hours and 90th percentile (?P<p90>[\d.]+) hours")
)
def _(app: HandoffApp, month: str, contacted: str, median: str, p90: str) -> None:
    speed = report(app, month, None)["speed_to_lead"]
    assert speed["contacted"] == int(contacted), speed
    assert round(speed["median_hours"], 2) == float(median), speed
    assert round(speed["p90_hours"], 2) == float(p90), speed
