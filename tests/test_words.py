"""How figures are rounded for people (`handoff.words`): halves up, from the digits the JSON
carries, and nothing above zero shown as zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handoff.words import percent, rounded


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (7.25, 1, "7.3"),  # exact in binary: Python's f"{7.25:.1f}" says 7.2
        (2.675, 2, "2.68"),  # 2.67499999... in binary: f"{2.675:.2f}" says 2.67
        (7.249, 1, "7.2"),
        (0.5, 0, "1"),
        (0, 2, "0.00"),
        (0.004, 2, "<0.01"),  # above zero: never shown as none
        (-0.25, 1, "-0.3"),
        (Decimal("12.35"), 1, "12.4"),
    ],
)
def test_a_figure_is_rounded_as_by_hand(value: object, places: int, shown: str) -> None:
    assert rounded(value, places) == shown


@pytest.mark.parametrize(
    ("rate", "places", "shown"),
    [
        (0.0725, 1, "7.3"),  # 7.249999... when the float is multiplied by 100
        (0.125, 0, "13"),
        (0.5, 1, "50.0"),
        (0.000417, 1, "<0.1"),  # March's visit_to_captured is not 0.0 %
        (Decimal(1) / Decimal(3), 0, "33"),
    ],
)
def test_a_rate_reads_as_a_rounded_percentage(rate: object, places: int, shown: str) -> None:
    assert percent(rate, places) == shown
