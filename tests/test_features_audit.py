"""Tamper evidence, from features/audit.feature.

The steps are `handoff.verification.steps.audit`, which `handoff sla verify` runs too.
"""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

from handoff.application import HandoffApp
from handoff.verification.steps.audit import *  # noqa: F403  (the steps of these features)
from handoff.verification.steps.audit import FEATURES

scenarios(*FEATURES)


@pytest.fixture(autouse=True)
def every_story_runs_on_each_store(app: HandoffApp) -> HandoffApp:
    """Ask for the application up front, so each scenario runs on SQLite and PostgreSQL."""
    return app
