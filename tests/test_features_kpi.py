"""KPIs, SLA compliance and replays as of an instant: kpi, sla_compliance and as_of.feature.

The steps are `handoff.verification.steps.kpi`, which `handoff sla verify` runs too.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytest_bdd import scenarios

from handoff.application import HandoffApp
from handoff.verification.steps.kpi import *  # noqa: F403  (the steps of these features)
from handoff.verification.steps.kpi import FEATURES, report

scenarios(*FEATURES)


@pytest.fixture(autouse=True)
def every_story_runs_on_each_store(app: HandoffApp) -> HandoffApp:
    """Ask for the application up front, so each scenario runs on SQLite and PostgreSQL."""
    return app


def test_revenue_is_exact_to_the_cent(app: HandoffApp) -> None:
    """Amounts are summed as cents, never as floats."""
    for number, amount in enumerate(("0.10", "0.20", "1000.07")):
        key = f"deal-{number}"
        app.capture(key, "web", "maria", at="2026-03-02T09:00Z")
        for event, data in (("qualified", {}), ("handed", {"owner": "sam"}),
                            ("accepted", {}), ("proposal", {"amount": amount}), ("won", {})):
            app.record(key, event, "sam", "2026-03-02T10:00Z", **data)
    assert report(app, "March 2026", None)["revenue_won"] == Decimal("1000.37")
