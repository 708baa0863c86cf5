"""Revenue sums stay exact past what a 64-bit integer holds, on both stores.

Amounts are below 10^12 each (SPEC §7), so a sum of cents overflows 2^63 from about
92,234 of the largest. One store with 93,001 such wins on one day (one summary row, one
group) is read every way a report reads amounts: the summaries counted while the import
is projected, the summaries recomputed in SQL after a new agreement version, and the
per-event tables for a report as of an earlier instant.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff
from conftest import BACKENDS, _fresh_postgres_database

BIG = 93_001  # wins of the largest amount, all on 2026-03-10 from source "web"
LARGEST = "999999999999.99"
# Reasoned: BIG * 99,999,999,999,999 cents (above 2^63 = 9,223,372,036,854,775,808),
# then one small win of 10.50 from another source.
WEB_REVENUE = Decimal(BIG * 99_999_999_999_999) / 100
FAIR_REVENUE = Decimal("10.50")
AGREEMENT = """
name = "sums"
effective_from = 2026-01-01
timezone = "America/Chicago"
[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00", "17:00"]
[sales]
decide_within_hours = {hours}
"""
STEPS = (  # event, local time on 2026-03-10, extra columns (owner, amount)
    ("captured", "09:00", "web", "", ""),
    ("qualified", "09:01", "", "", ""),
    ("handed", "09:02", "", "sam", ""),
    ("accepted", "09:03", "", "", ""),
    ("proposal", "09:04", "", "", LARGEST),
    ("won", "09:05", "", "", ""),  # the proposal's amount
)


def _csv(path: Path) -> Path:
    lines = ["lead,event,at,actor,source,owner,amount\n"]
    for n in range(BIG):
        lines += [f"w{n},{event},2026-03-10T{at},maria,{source},{owner},{amount}\n"
                  for event, at, source, owner, amount in STEPS]
    lines += [f"fair,{event},2026-03-10T{at},maria,{source and 'fair'},{owner},"
              f"{amount and '10.50'}\n" for event, at, source, owner, amount in STEPS]
    path.write_text("".join(lines))
    return path


@pytest.fixture(scope="module", params=BACKENDS)
def big(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[Handoff, str]]:
    """The store after the import, and an instant between the import and a second
    agreement version (a report as of it reads the per-event tables)."""
    folder = tmp_path_factory.mktemp("sums")
    stores = (iter([str(folder / "store.sqlite")]) if request.param == "sqlite"
              else _fresh_postgres_database())
    store = next(stores)
    handoff = Handoff(store)
    agreement = folder / "agreement.toml"
    agreement.write_text(AGREEMENT.format(hours=8))
    handoff.ok("sla", "apply", str(agreement))
    handoff.ok("import", str(_csv(folder / "wins.csv")))
    yield handoff, datetime.now(UTC).isoformat()
    for _ in stores:  # drops the PostgreSQL database
        pass


def _kpi(handoff: Handoff, *args: str) -> Any:
    text = handoff.ok("kpi", "--month", "2026-03", *args, "--format", "json")
    return json.loads(text, parse_float=Decimal)


def _assert_exact(handoff: Handoff, *args: str) -> None:
    for basis in ("flow", "cohort"):
        found = _kpi(handoff, "--basis", basis, "--by", "source", *args)
        assert found["counts"]["won"] == found["counts"]["proposal"] == BIG + 1
        assert found["revenue_won"] == WEB_REVENUE + FAIR_REVENUE, basis
        assert found["groups"]["web"]["revenue_won"] == WEB_REVENUE, basis
        assert found["groups"]["fair"]["revenue_won"] == FAIR_REVENUE, basis


def test_revenue_past_2_to_the_63_cents_is_exact_from_the_counted_summaries(
    big: tuple[Handoff, str]
) -> None:
    handoff, _ = big
    assert Decimal(BIG * 99_999_999_999_999) > 2**63
    _assert_exact(handoff)
    by_owner = _kpi(handoff, "--basis", "cohort", "--by", "owner")
    assert by_owner["groups"]["sam"]["revenue_won"] == WEB_REVENUE + FAIR_REVENUE


def test_revenue_stays_exact_when_a_new_version_recomputes_the_summaries(
    big: tuple[Handoff, str], tmp_path: Path
) -> None:
    handoff, before = big
    revised = tmp_path / "revised.toml"
    revised.write_text(AGREEMENT.format(hours=9))
    time.sleep(0.01)  # the version is applied after `before`
    handoff.ok("sla", "apply", str(revised))
    _assert_exact(handoff)
    # As of before the version: the per-event tables, as the report read then.
    _assert_exact(handoff, "--as-of", before)
