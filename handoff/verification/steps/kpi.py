"""Binds features/kpi.feature, sla_compliance.feature and as_of.feature.

The lifecycle steps (agreement, leads, what people do) are the common ones in
conftest.py; the steps here read reports the way `handoff kpi` does.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pytest_bdd import parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.errors import Refused
from handoff.kpi import compute_kpis, period_from_options
from handoff.sla import alarm, sla_breaches
from handoff.verification.world import FakeClock, Outcome, local_at, story_instant

FEATURES: tuple[str, ...] = ("kpi.feature", "sla_compliance.feature", "as_of.feature")



_FACT = re.compile(
    r"(?P<number>\d+) (?P<count>[a-z ]+)"
    r"|(?P<ratio>[a-z ]+) (?:(?P<percent>\d+(?:\.\d+)?)%|(?P<null>null))"
    r"|median response (?P<hours>\d+(?:\.\d+)?) hours"
    r"|revenue won (?P<revenue>\d+(?:\.\d+)?)"
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
        if found["revenue"]:
            assert Decimal(str(result["revenue_won"])) == Decimal(found["revenue"]), result
        elif found["hours"]:
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


@when(
    parsers.re(r"the (?P<month>\w+ \d{4}) report is asked for as of (?P<day>.+?) at "
               r"(?P<time>\d{1,2}:\d{2})"),
    target_fixture="outcome",
)
def _(app: HandoffApp, month: str, day: str, time: str) -> Outcome:
    """`handoff kpi --month ... --as-of T`, T as the user types it (local time)."""
    try:
        report(app, month, None, app.as_of(local_at(day, time)))
    except Refused as refusal:
        return Outcome(refusal=refusal)
    return Outcome()


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



@then(
    parsers.re(
        r"the breaches handed in (?P<month>\w+ \d{4}) list "
        r'(?:nothing|"(?P<key>[^"]+)" (?P<status>overdue|decided late)) '
        r"and sound (?P<sound>the|no) alarm"
    )
)
def _(app: HandoffApp, month: str, key: str | None, status: str | None, sound: str) -> None:
    first = datetime.strptime(month, "%B %Y").strftime("%Y-%m")
    period = period_from_options(app.agreement_register(), month=first)
    found = sla_breaches(app, period=period)
    expected = [] if key is None else [(key, status)]
    assert [(row["lead"], row["status"]) for row in found] == expected, found
    assert alarm(found) is (sound == "the")
