"""The SLA rules in one place (`domain.service_level`), and the forms held to them.

Reports count the verdicts the projection stores by calling the rules; the one verdict
SQL judges itself, pending or overdue at the report's as-of instant, is checked here
against the rule on both databases, as is the projection's choice of the version that
governs a handoff against the agreement register's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from conftest import AGREEMENT, BACKENDS, POSTGRES_URL, agreement_toml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from handoff.domain.agreement import AgreementRegister
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.service_level import (
    IN_TIME,
    LATE,
    OVERDUE,
    PENDING,
    counts_in_cohort,
    counts_in_flow,
    decided_in_time,
    first_contact,
    governing_version,
    outcome,
)
from handoff.domain.steps import EVENT_NAMES
from handoff.follow_up import _SPEED_EVENTS
from handoff.projections import verdicts
from handoff.projections.due import KnownVersion
from handoff.projections.instants import micros


def test_a_decision_at_its_due_instant_is_in_time() -> None:
    due = datetime(2026, 3, 3, 23, tzinfo=UTC)
    assert decided_in_time(due, due)
    assert not decided_in_time(due + timedelta(microseconds=1), due)
    assert outcome(due, due - timedelta(hours=1), due + timedelta(days=9)) == IN_TIME
    assert outcome(due, due + timedelta(seconds=1), due) == LATE


def test_an_undecided_handoff_is_pending_until_its_due_instant_has_passed() -> None:
    due = datetime(2026, 3, 3, 23, tzinfo=UTC)
    assert outcome(due, None, due) == PENDING
    assert outcome(due, None, due + timedelta(microseconds=1)) == OVERDUE


def test_a_resent_proposal_does_not_count_in_flow_nor_in_cohort() -> None:
    assert counts_in_flow("proposal", first_of_kind=True)
    assert not counts_in_flow("proposal", first_of_kind=False)
    assert counts_in_flow("contacted", first_of_kind=False)  # every contact is an event
    assert not counts_in_cohort("contacted", first_of_kind=False)  # a cohort counts leads
    assert counts_in_cohort("won", first_of_kind=True)


def test_speed_to_lead_reads_every_event_first_contact_answers_by() -> None:
    """`follow_up` reads only the events named in _SPEED_EVENTS for speed to lead: any
    other step between a handoff and its contact leaves first_contact's answer as it is."""
    for name in sorted(set(EVENT_NAMES) - set(_SPEED_EVENTS)):
        for after in ([], [("contacted", 3)]):
            assert first_contact(0, [(name, 1), *after]) == first_contact(0, after), name


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A DB-API connection to each database the read model runs on."""
    if request.param == "sqlite":
        connection: Any = sqlite3.connect(":memory:")
    else:
        assert POSTGRES_URL
        url = make_url(POSTGRES_URL).set(drivername="postgresql")
        connection = psycopg.connect(url.render_as_string(hide_password=False))
    try:
        yield connection
    finally:
        connection.close()


instants = st.integers(-10**12, 10**12)


@settings(max_examples=150, deadline=None)
@given(due=instants, decided=st.none() | instants, as_of=instants)
@example(due=5, decided=None, as_of=5)
@example(due=5, decided=5, as_of=0)
@example(due=5, decided=6, as_of=0)
def test_sql_judges_each_handoff_as_the_rule_does(
    database: Any, due: int, decided: int | None, as_of: int
) -> None:
    is_decided = decided is not None
    in_time = decided is not None and decided_in_time(decided, due)
    sql = verdicts.outcome_sql("d", "t", "due", as_of)
    cursor = database.cursor()
    cursor.execute(f"SELECT {sql} FROM (SELECT {_bool(database, is_decided)} AS d,"
                   f" {_bool(database, in_time)} AS t, {due} AS due) AS handoff")
    assert cursor.fetchone()[0] == outcome(due, decided, as_of)


def _bool(database: Any, value: bool) -> str:
    """A stored verdict as each database keeps it (SQLite: 0 or 1; PostgreSQL: boolean)."""
    if isinstance(database, sqlite3.Connection):
        return str(int(value))
    return "TRUE" if value else "FALSE"


WINDOWS = [("2026-01-01", None), ("2026-03-01", "2026-03-31"), ("2026-03-15", None),
           ("2025-06-01", "2026-02-28"), ("2026-03-03", "2026-03-03")]


@settings(max_examples=100, deadline=None)
@given(windows=st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=4),
       minutes=st.integers(0, 120 * 24 * 60))
def test_the_projection_picks_the_version_the_register_says_governs(
    windows: list[tuple[str, str | None]], minutes: int
) -> None:
    register = AgreementRegister()
    applied = datetime(2025, 1, 1, tzinfo=UTC)
    known = []
    for number, (start, end) in enumerate(windows, start=1):
        terms = parse_agreement(agreement_toml(
            AGREEMENT, {"team": None, "effective_from": start, "effective_to": end}))
        register.apply_version(terms, actor="maria", applied_at=applied)
        known.append(KnownVersion(number, micros(applied), terms))
    handed = datetime(2026, 1, 20, tzinfo=UTC) + timedelta(minutes=minutes)
    in_force = register.in_force_at(handed)
    governing = governing_version(known, lambda v: v.covers(micros(handed)))
    assert (None if governing is None else governing.number) == (
        None if in_force is None else in_force.number)


def test_the_report_names_the_agreements_rates_and_the_lifecycles_stages() -> None:
    from handoff.domain.agreement import MARKETING_RATES, SALES_RATES
    from handoff.domain.steps import EVENT_NAMES
    from handoff.kpi import COUNT_NAMES, RATES, SLA_NAMES, rate_base

    assert tuple(RATES) == (*MARKETING_RATES, *SALES_RATES, "win_rate")
    assert ("visits", *EVENT_NAMES) == COUNT_NAMES
    assert SLA_NAMES[:5] == ("handoffs", "decided_in_time", "decided_late", PENDING, OVERDUE)
    assert rate_base("win_rate") == ("won", "lost")
