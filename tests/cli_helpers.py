"""Driving the real `handoff` command line in-process, as a user would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner, Result

from handoff.cli import main


@dataclass
class Handoff:
    """`handoff --store STORE --actor ACTOR ...`, run in-process."""

    store: str
    actor: str = "maria"

    def __call__(self, *args: str, actor: str | None = None, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main, ["--store", self.store, "--actor", actor or self.actor, *args], input=input
        )

    def ok(self, *args: str, actor: str | None = None) -> str:
        result = self(*args, actor=actor)
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--format", "json"))

    def refused(self, *args: str, actor: str | None = None) -> str:
        """Run a command that must be refused: exit 1, one line on stderr, no traceback."""
        result = self(*args, actor=actor)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "internal error" not in lines[0], lines[0]
        return lines[0]


def stopped(handoff: Handoff, *args: str) -> str:
    """Run a command a Ctrl-C stops: the shell's status for SIGINT (130, not a refusal's 1),
    one line on stderr saying what stands, no traceback."""
    result = handoff(*args)
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def nothing_recorded(handoff: Handoff) -> bool:
    """A refused command that would have created the store left none: no SQLite file, no
    table in the PostgreSQL database; a later command says there is no store."""
    result = handoff("export")
    return result.exit_code == 1 and "no store at" in result.stderr
