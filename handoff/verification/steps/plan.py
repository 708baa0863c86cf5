"""Binds features/plan.feature: the reverse funnel as the agreement states it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pytest_bdd import given, parsers, then, when

from handoff.domain.agreement import MARKETING_RATES, AgreementRegister, AgreementTerms
from handoff.domain.agreement_file import parse_agreement
from handoff.kpi import period_from_options, targets
from handoff.plan import Plan, plan_for

FEATURES = ("plan.feature",)


def _version(start: str, end: str, revenue: str, average_deal: str) -> dict[str, Any]:
    return {
        "head": (
            f'name = "plan"\neffective_from = {start}\neffective_to = {end}\n'
            f"[goal]\nrevenue = {revenue}\naverage_deal = {average_deal}\n"
        ),
        "rates": {},
    }


_GOAL = (
    "from {start} to {end} with a revenue goal of {revenue} and an average deal of {average_deal}"
)


@given(parsers.parse(f"an agreement {_GOAL}"), target_fixture="agreement")
def _(start: str, end: str, revenue: str, average_deal: str) -> list[dict[str, Any]]:
    """The versions applied, in order: this one first."""
    return [_version(start, end, revenue, average_deal)]


@given(parsers.parse(f"a revision {_GOAL}"))
def _(agreement: list[dict[str, Any]], start: str, end: str, revenue: str,
      average_deal: str) -> None:
    agreement.append(_version(start, end, revenue, average_deal))


@given(parsers.parse("its rates are {rates}"))
def _(agreement: list[dict[str, Any]], rates: str) -> None:
    """The rates of the version given last."""
    for pair in rates.split(", "):
        name, value = pair.split()
        agreement[-1]["rates"][name] = value


def _terms(agreement: dict[str, Any]) -> AgreementTerms:
    rates = agreement["rates"]
    marketing = ", ".join(f"{k} = {v}" for k, v in rates.items() if k in MARKETING_RATES)
    sales = ", ".join(f"{k} = {v}" for k, v in rates.items() if k not in MARKETING_RATES)
    text = (
        agreement["head"]
        + f"[marketing]\nrates = {{ {marketing} }}\n"
        + f"[sales]\ndecide_within_hours = 8\nrates = {{ {sales} }}\n"
    )
    return parse_agreement(text)


@when("the plan is drawn up", target_fixture="plan")
def _(agreement: list[dict[str, Any]]) -> Plan:
    return plan_for(_terms(agreement[-1]))


@when(parsers.parse("the targets of a report from {first} to {last} are read"),
      target_fixture="targets")
def _(agreement: list[dict[str, Any]], first: str, last: str) -> dict[str, Any]:
    """The targets `handoff kpi --from FIRST --to LAST` shows, the versions applied in
    order, a day apart."""
    register = AgreementRegister()
    for day, version in enumerate(agreement, start=1):
        register.apply(_terms(version), actor="maria", at=datetime(2025, 12, day, tzinfo=UTC))
    as_of = datetime(2027, 1, 1, tzinfo=UTC)
    period = period_from_options(register, start=first, end=last, as_of=as_of)
    return targets(register, period, as_of)


@then(parsers.parse("they hold a revenue goal of {revenue} and need {needs}"))
def _(targets: dict[str, Any], revenue: str, needs: str) -> None:
    expected = _needs(needs)
    assert Decimal(str(targets["revenue_won"])) == Decimal(revenue)
    assert {stage: targets[stage] for stage in expected} == expected


@then(parsers.parse("they hold a {rate} rate of {value}"))
def _(targets: dict[str, Any], rate: str, value: str) -> None:
    assert targets[rate] == float(Decimal(value))


def _needs(text: str) -> dict[str, int]:
    return {stage: int(count) for count, stage in (pair.split() for pair in text.split(", "))}


@then(parsers.parse("the whole period needs {needs}"))
def _(plan: Plan, needs: str) -> None:
    expected = _needs(needs)
    assert {stage: plan.total.counts[stage] for stage in expected} == expected


@then(
    parsers.parse(
        "{month} has {days:d} days, a revenue goal of {revenue} and needs {needs}"
    )
)
def _(plan: Plan, month: str, days: int, revenue: str, needs: str) -> None:
    share = next(m for m in plan.per_month if m.month == month)
    expected = _needs(needs)
    assert share.days == days
    assert share.targets.revenue == Decimal(revenue)
    assert {stage: share.targets.counts[stage] for stage in expected} == expected
