"""Correcting the record, from features/corrections.feature: missed steps, voids and
amendments, and what the reports show before and after them."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused
from handoff.domain.lead import Lead
from handoff.verification.steps.kpi import *  # noqa: F403  (it is now ..., the report)
from handoff.verification.steps.kpi import report
from handoff.verification.world import (
    AGREEMENT,
    Outcome,
    actor_id,
    agreement_toml,
    attempt,
    local_at,
    story_instant,
    touched,
)

FEATURES = ("corrections.feature", "restatements.feature")

# The steps a story names by their business noun.
NOUNS = {"acceptance": "accepted", "rejection": "rejected", "win": "won", "handoff": "handed"}
_BECAUSE = r' because "(?P<why>[^"]*)"'


@when(
    parsers.re(
        r"(?P<actor>\w+) records the (?P<noun>acceptance|rejection|win|handoff) of "
        r"(?P<day>.+?) at (?P<time>\d{1,2}:\d{2})" + _BECAUSE
    ),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, noun: str, day: str,
      time: str, why: str) -> Outcome:
    at = local_at(day, time)
    return attempt(app, lead_key, outcome,
                   lambda: app.record(lead_key, NOUNS[noun], actor_id(actor), at, why))


@when(
    parsers.re(r"(?P<actor>\w+) voids entry (?P<n>\d+)" + _BECAUSE), target_fixture="outcome"
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, n: str, why: str
      ) -> Outcome:
    return attempt(app, lead_key, outcome,
                   lambda: app.void(lead_key, int(n), why, actor_id(actor)))


@when(
    parsers.re(
        r"(?P<actor>\w+) amends entry (?P<n>\d+) to "
        r"(?:an amount of (?P<amount>[\d.]+)|the owner (?P<owner>\w+)"
        r"|(?P<day>.+?) at (?P<time>\d{1,2}:\d{2}))"
        + _BECAUSE
    ),
    target_fixture="outcome",
)
def _(app: HandoffApp, lead_key: str, outcome: Outcome, actor: str, n: str,
      amount: str | None, owner: str | None, day: str | None, time: str | None,
      why: str) -> Outcome:
    at = local_at(day, time) if day and time else None
    owner = None if owner is None else actor_id(owner)
    return attempt(app, lead_key, outcome,
                   lambda: app.amend(lead_key, int(n), why, actor_id(actor), at=at,
                                     amount=amount, owner=owner))


@then(parsers.re(r"(?P<actor>\w+) is told that entry (?P<n>\d+), the win, still holds "
                 r"(?P<amount>[\d.]+)"))
def _(app: HandoffApp, outcome: Outcome, actor: str, n: str, amount: str) -> None:
    lead = app.lead(touched(outcome))
    amended = [e for e in lead.entries if isinstance(e, Lead.Amended)][-1]
    win = lead.win_apart_from(amended.target)
    assert win is not None, "the win holds the amended proposal's amount"
    assert (win.n, win.data["amount"]) == (int(n), Decimal(amount))


# -- restatements -----------------------------------------------------------------------


def sign_revision(app: HandoffApp, why: str | None) -> None:
    """Maria proposes the revision (40 business hours from 1 March 2026), Sam signs it."""
    number = propose_revision(app, why)
    app.sign_agreement(number, actor="sam")


def propose_revision(app: HandoffApp, why: str | None) -> int:
    """Maria proposes the revision, signed for her side; its number."""
    terms = parse_agreement(agreement_toml(AGREEMENT, {
        "name": '"2026 growth agreement, revised"', "effective_from": "2026-03-01",
        "sales.decide_within_hours": "40",
    }))
    version, _ = app.apply_agreement(terms, actor="maria", restates=why)
    return version.number


@given(parsers.re(r'Maria proposes the revision as a restatement because "(?P<why>[^"]+)"'),
       target_fixture="revision")
def _(app: HandoffApp, why: str) -> int:
    return propose_revision(app, why)


@when(parsers.re(r'Sam signs the revision as a restatement because "(?P<why>[^"]+)"'),
      target_fixture="outcome")
def _(app: HandoffApp, revision: int, why: str) -> Outcome:
    try:
        app.sign_agreement(revision, actor="sam", restates=why)
    except Refused as refusal:
        return Outcome(refusal=refusal)
    return Outcome()


@then("the revision is not in force")
def _(app: HandoffApp, revision: int) -> None:
    register = app.agreement_register()
    assert revision in register.proposals
    assert all(version.number != revision for version in register.versions)


_SIGN = (r"Maria and Sam sign the revision"
         r'(?: as a restatement because "(?P<why>[^"]+)")?')


@given(parsers.re(_SIGN))
def _(app: HandoffApp, why: str | None) -> None:
    sign_revision(app, why)


@when(parsers.re(_SIGN))
def _(app: HandoffApp, why: str | None) -> None:
    sign_revision(app, why)


@then(
    parsers.re(
        r"the (?P<month>\w+ \d{4}) report"
        r"(?: as of (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}))? names "
        r'(?:no restatement|the restatement signed by (?P<actor>\w+) because "(?P<why>[^"]+)")'
    )
)
def _(app: HandoffApp, month: str, day: str | None, time: str | None, actor: str | None,
      why: str | None) -> None:
    as_of = story_instant(app, day, time) if day and time else None
    named = report(app, month, None, as_of)["restatements"]
    expected = [] if actor is None else [(actor_id(actor), why)]
    assert [(r["restated_by"], r["why"]) for r in named] == expected, named
