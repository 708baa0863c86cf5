"""Read models fed from the notification log (see `model`), and the summaries behind
reports as of now (see `summaries` and `latest`).

The names below are loaded on first use: `model` needs SQLAlchemy, which takes longer to
import than a report as of now takes to answer (`latest` reads with the driver alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handoff.projections.model import (
        PROJECTION,
        ReadModel,
        Status,
        catch_up,
        position,
        read_model,
        rebuild,
        status,
    )

__all__ = [
    "PROJECTION", "ReadModel", "Status", "catch_up", "position", "read_model", "rebuild",
    "status",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from handoff.projections import model

    return getattr(model, name)
