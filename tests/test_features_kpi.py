"""Binds features/kpi.feature, sla_compliance.feature and as_of.feature.

The lifecycle steps (agreement, leads, what people do) are the common ones in
conftest.py; the steps here read reports the way `handoff kpi` does.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from conftest import FakeClock, local_at, story_instant
from pytest_bdd import parsers, scenarios, then, when

from handoff.application import HandoffApp
from handoff.kpi import compute_kpis, period_from_options

scenarios("kpi.feature", "sla_compliance.feature", "as_of.feature")


@pytest.fixture(autouse=True)
def every_story_runs_on_each_store(app: HandoffApp) -> HandoffApp:
    """Ask for the application up front, so each scenario runs on SQLite and PostgreSQL."""
    return app

_FACT = re.compile(
    r"(?P<number>\d+) (?P<count>[a-z ]+)"
    r"|(?P<ratio>[a-z ]+) (?:(?P<percent>\d+(?:\.\d+)?)%|(?P<null>null))"
    r"|median response (?P<hours>\d+(?:\.\d+)?) hours"
)


def report(
    app: HandoffApp, month: str, basis: str | None, as_of: datetime | None = None
) -> dict[str, Any]:
    """The month's KPIs, as `handoff kpi --month ... --basis ... --as-of ...` shows them."""
    first = datetime.strptime(month, "%B %Y").strftime("%Y-%m")
    period = period_from_options(app.agreement_register(), month=first, as_of=as_of)
    return compute_kpis(app, period, basis=basis or "flow", as_of=as_of)


def check_facts(result: dict[str, Any], facts: str) -> None:
    """'2 handed and 1 rejected', '1 pending, 0 breached and compliance null', ..."""
    for fact in re.split(r", | and ", facts):
        found = _FACT.fullmatch(fact.strip())
        assert found, f"not a fact about a report: {fact!r}"
        if found["hours"]:
            assert result["sla"]["median_response_hours"] == float(found["hours"])
        elif found["count"]:
            name = found["count"].replace(" ", "_")
            actual = result["counts"].get(name, result["sla"].get(name))
            assert actual == int(found["number"]), f"{name}: {actual} in {result}"
        else:
            name = found["ratio"].replace(" ", "_")
            actual = result["rates"].get(name, result["sla"].get(name))
            expected = None if found["null"] else float(found["percent"]) / 100
            assert actual == expected, f"{name}: {actual} in {result}"


@when(parsers.re(r"it is now (?P<day>.+?) at (?P<time>\d{1,2}:\d{2})"))
def _(app: HandoffApp, clock: FakeClock, day: str, time: str) -> None:
    clock.now = story_instant(app, day, time)


@when(
    parsers.re(
        r"the (?P<event>win|acceptance) of (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}) "
        r"is recorded on (?P<rday>.+?) at (?P<rtime>\d{1,2}:\d{2})"
    )
)
def _(app: HandoffApp, clock: FakeClock, lead_key: str, event: str, day: str, time: str,
      rday: str, rtime: str) -> None:
    clock.now = story_instant(app, rday, rtime)
    name = {"win": "won", "acceptance": "accepted"}[event]
    app.record(lead_key, name, "sam", local_at(day, time))


@then(
    parsers.re(
        r"the (?P<month>\w+ \d{4}) report"
        r"(?: as of (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}))?"
        r"(?: on the (?P<basis>flow|cohort) basis)? (?:counts|reads) (?P<facts>.+)"
    )
)
def _(app: HandoffApp, month: str, day: str | None, time: str | None, basis: str | None,
      facts: str) -> None:
    as_of = story_instant(app, day, time) if day and time else None
    check_facts(report(app, month, basis, as_of), facts)


def test_revenue_is_exact_to_the_cent(app: HandoffApp) -> None:
    """Amounts are summed as cents, never as floats."""
    for number, amount in enumerate(("0.10", "0.20", "1000.07")):
        key = f"deal-{number}"
        app.capture(key, "web", "maria", at="2026-03-02T09:00Z")
        for event, data in (("qualified", {}), ("handed", {"owner": "sam"}),
                            ("accepted", {}), ("proposal", {"amount": amount}), ("won", {})):
            app.record(key, event, "sam", "2026-03-02T10:00Z", **data)
    assert report(app, "March 2026", None)["revenue_won"] == Decimal("1000.37")
