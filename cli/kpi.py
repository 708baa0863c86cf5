"""`handoff kpi`, `plan`, `sla breaches` and `projections`: the numbers read from projections."""

from __future__ import annotations

import click


def register(main: click.Group, sla: click.Group) -> None:
    """Attach the reporting commands (built on the projections) to the command groups."""
