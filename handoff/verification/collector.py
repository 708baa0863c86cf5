"""A pytest plugin, loaded only by `handoff sla verify`: which example passed or failed.

pytest-bdd names each example's feature and scenario before running it; every report of
that test (set-up, call, tear-down) then counts for the example. The outcomes are written
as JSON to the file named by HANDOFF_VERIFY_RESULTS when the session ends.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

RESULTS_VARIABLE = "HANDOFF_VERIFY_RESULTS"
_examples: dict[str, dict[str, Any]] = {}
_failed: dict[str, str] = {}


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    _examples[request.node.nodeid] = {
        "feature": Path(feature.filename).name,
        "line": scenario.line_number,
    }


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and report.nodeid not in _failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = getattr(crash, "message", None) or str(report.longrepr).splitlines()[-1]
        _failed[report.nodeid] = message.splitlines()[0] if message else "failed"


def pytest_sessionfinish(session: pytest.Session) -> None:
    outcomes = [
        {**example, "passed": nodeid not in _failed, "why": _failed.get(nodeid)}
        for nodeid, example in _examples.items()
    ]
    Path(os.environ[RESULTS_VARIABLE]).write_text(json.dumps(outcomes), encoding="utf-8")
