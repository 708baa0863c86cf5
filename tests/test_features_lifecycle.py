"""The lead lifecycle of SPEC §2, as the sales director reads it in features/lifecycle.feature."""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

from handoff.application import HandoffApp

scenarios("lifecycle.feature")


@pytest.fixture(autouse=True)
def every_story_runs_on_each_store(app: HandoffApp) -> HandoffApp:
    """Ask for the application up front, so each scenario runs on SQLite and PostgreSQL."""
    return app
