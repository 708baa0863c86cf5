"""`handoff sla verify`: the agreement's examples run on the installed version, per clause."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import Handoff

from handoff.application import HandoffApp
from handoff.domain.verification import ClauseCheck
from handoff.store import locate
from handoff.verification import runner
from handoff.verification.protocol import Area, Clause, Example, features_folder, read_protocol


def installed_protocol() -> list[Area]:
    with features_folder() as folder:
        return read_protocol(folder)


def test_every_clause_of_the_installed_features_is_verified(handoff: Handoff, store: str) -> None:
    output = handoff.ok("sla", "verify").splitlines()
    clauses = [(Path(area.feature).stem, clause.name)
               for area in installed_protocol() for clause in area.clauses]
    assert len(clauses) > 20
    for topic, name in clauses:
        assert any(line.split(maxsplit=1)[-1].startswith(f"{topic}: {name} (") and
                   line.strip().startswith("verified") for line in output), (topic, name)
    assert output[-1].startswith(f"{len(clauses)} of {len(clauses)} clauses verified (")
    app = HandoffApp(locate(store))
    try:
        last = app.verification_log().last
    finally:
        app.close()
    assert last is not None and last.passed and last.actor == "maria"
    assert last.handoff_version == runner.handoff_version()
    assert {(Path(c.feature).stem, c.clause) for c in last.clauses} == set(clauses)


@pytest.fixture
def features_with_a_wrong_expectation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The installed features, with one example expecting what the agreement does not say."""
    folder = tmp_path / "features"
    with features_folder() as installed:
        shutil.copytree(installed, folder)
    feature = folder / "sla_compliance.feature"
    text = feature.read_text(encoding="utf-8")
    right = "reads 1 decided in time and compliance 100%"
    assert text.count(right) == 1
    feature.write_text(text.replace(right, "reads 1 decided in time and compliance 50%"))

    @contextmanager
    def wrong_features() -> Iterator[Path]:
        yield folder

    monkeypatch.setattr(runner, "features_folder", wrong_features)
    return folder


def test_a_failing_example_fails_its_clause_and_the_command(
    handoff: Handoff, features_with_a_wrong_expectation: Path
) -> None:
    result = handoff("sla", "verify")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        "Error: 1 clause of the agreement failed verification on this version of handoff "
        "(see above)"
    )
    failed = [line for line in result.stdout.splitlines() if line.strip().startswith("FAILED")]
    assert failed == [
        "  FAILED      sla_compliance: A handoff decided by its due instant is decided in time "
        "(1 example)"
    ]
    assert "- Accepted on the due instant: " in result.stdout
    assert ", 1 FAILED" in result.stdout.splitlines()[-1]


def test_a_clause_is_verified_only_when_each_of_its_examples_ran_and_passed() -> None:
    def example(line: int) -> Example:
        return Example(f"example {line}", line, ())

    area = Area("x.feature", "X", "", (), (
        Clause("x.feature", "passes", "", (example(3), example(8))),
        Clause("x.feature", "one fails", "", (example(13), example(18))),
        Clause("x.feature", "one never ran", "", (example(23),)),
        Clause("x.feature", "an outline row fails", "", (example(28),)),
        Clause("x.feature", "bare", "", ()),
    ))
    outcomes = [runner.ExampleOutcome("x.feature", line, passed, None) for line, passed in (
        (3, True), (8, True), (13, True), (18, False), (28, True), (28, False), (28, True))]
    run = runner.tally([area], outcomes, datetime(2026, 3, 2, tzinfo=UTC), "maria")
    assert [(c.clause, c.verdict, c.failed) for c in run.clauses] == [
        ("passes", "verified", ()),
        ("one fails", "failed", ("example 18",)),
        ("one never ran", "failed", ("example 23",)),
        ("an outline row fails", "failed", ("example 28",)),
        ("bare", "no example", ()),
    ]
    assert not run.passed
    assert ClauseCheck("x.feature", "bare", 0, ()).verdict == "no example"


def test_the_recorded_verification_survives_a_backup_and_restore(
    handoff: Handoff, store: str, tmp_path: Path
) -> None:
    handoff.ok("sla", "verify")
    backup = tmp_path / "backup.jsonl"
    backup.write_text(handoff.ok("export", "--format", "jsonl"), encoding="utf-8")
    restored = Handoff(str(tmp_path / "restored.sqlite"))
    restored.ok("import", str(backup))
    apps = [HandoffApp(locate(where)) for where in (store, restored.store)]
    try:
        original, copy = (app.verification_log().runs for app in apps)
    finally:
        for app in apps:
            app.close()
    assert copy == original and len(copy) == 1
