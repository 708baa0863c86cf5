"""`handoff plan`, `report` and `demo`: the reverse funnel, the monthly report and a sample store."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Attach the plan, report and demo commands to the main group."""
