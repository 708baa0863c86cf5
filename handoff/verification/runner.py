"""Run every example of the installed features on a temporary store, tallied per clause.

The examples run in a separate pytest process (so nothing of them stays in the caller),
on a throw-away SQLite store each, with only pytest-bdd and our collector as plugins.
Each step module of `handoff.verification.steps` names the features it binds; a feature
no module names runs with the shared steps alone.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from handoff.domain.verification import ClauseCheck, VerificationRun
from handoff.verification import steps
from handoff.verification.collector import RESULTS_VARIABLE
from handoff.verification.protocol import Area, features_folder, read_protocol

_SHARED = "common"


@dataclass(frozen=True)
class ExampleOutcome:
    feature: str
    line: int
    passed: bool
    why: str | None


def handoff_version() -> str:
    try:
        return version("handoff")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def step_modules() -> dict[str, tuple[str, ...]]:
    """Each step module (but the shared one) and the features it binds."""
    bound: dict[str, tuple[str, ...]] = {}
    for info in pkgutil.iter_modules(steps.__path__):
        if info.name != _SHARED:
            module = importlib.import_module(f"{steps.__name__}.{info.name}")
            bound[info.name] = tuple(getattr(module, "FEATURES", ()))
    return bound


Verified = tuple[list[Area], VerificationRun, list[ExampleOutcome]]


def verify(ran_at: datetime, actor: str) -> Verified:
    """Run the examples; the protocol read, the run to record, and each example's outcome."""
    with features_folder() as folder, tempfile.TemporaryDirectory(prefix="handoff-verify-") as work:
        protocol = read_protocol(folder)
        outcomes = _run_pytest(folder, Path(work), [area.feature for area in protocol])
    return protocol, tally(protocol, outcomes, ran_at, actor), outcomes


def tally(
    protocol: list[Area], outcomes: list[ExampleOutcome], ran_at: datetime, actor: str
) -> VerificationRun:
    """A clause is verified when each of its examples ran and passed."""
    passed: dict[tuple[str, int], bool] = {}
    for o in outcomes:  # an outline runs once per row: each row must pass
        passed[o.feature, o.line] = passed.get((o.feature, o.line), True) and o.passed
    checks = []
    for area in protocol:
        for clause in area.clauses:
            failed = tuple(
                example.name
                for example in clause.examples
                if not passed.get((area.feature, example.line), False)
            )
            checks.append(ClauseCheck(area.feature, clause.name, len(clause.examples), failed))
    return VerificationRun(ran_at, handoff_version(), actor, tuple(checks))


def _run_pytest(features: Path, work: Path, feature_files: list[str]) -> list[ExampleOutcome]:
    _write_test_modules(features, work, feature_files)
    results = work / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", RESULTS_VARIABLE: str(results)})
    command = [
        sys.executable, "-m", "pytest", str(work), "-q", "--no-header", "-p", "no:cacheprovider",
        "-p", "pytest_bdd.plugin", "-p", "handoff.verification.collector",
        "-c", str(work / "pytest.ini"), "--rootdir", str(work), "--basetemp", str(work / "tmp"),
    ]
    done = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
    if not results.exists():
        last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"the examples could not be run: {last[0]}")
    raw: list[dict[str, Any]] = json.loads(results.read_text(encoding="utf-8"))
    return [ExampleOutcome(r["feature"], r["line"], r["passed"], r["why"]) for r in raw]


def _write_test_modules(features: Path, work: Path, feature_files: list[str]) -> None:
    (work / "pytest.ini").write_text(
        f"[pytest]\nbdd_features_base_dir = {features}\n", encoding="utf-8"
    )
    (work / "conftest.py").write_text(
        f"from {steps.__name__}.{_SHARED} import *  # noqa: F403\n", encoding="utf-8"
    )
    claimed: set[str] = set()
    for name, bound in step_modules().items():
        mine = [f for f in bound if f in feature_files]
        claimed.update(mine)
        if mine:
            _write_module(work / f"test_{name}.py", f"{steps.__name__}.{name}", mine)
    for feature in feature_files:
        if feature not in claimed:
            _write_module(work / f"test_{Path(feature).stem}.py", None, [feature])


def _write_module(path: Path, steps_module: str | None, feature_files: list[str]) -> None:
    lines = ["from pytest_bdd import scenarios"]
    if steps_module:
        lines.append(f"from {steps_module} import *  # noqa: F403")
    lines.append(f"scenarios(*{feature_files!r})")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
