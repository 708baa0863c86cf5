"""Agreement versions, signatures, validation and team roles (SPEC §3), from
features/agreement.feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.agreement import Change
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused
from handoff.verification.world import (
    AGREEMENT,
    WHEN,
    FakeClock,
    Outcome,
    actor_id,
    agreement_toml,
    history,
    put_in_force,
    story_day,
    story_instant,
)
from handoff.views import history_records

FEATURES = ("agreement.feature",)


@given(
    parsers.re(
        r'the agreement "(?P<name>[^"]+)" applies from (?P<first>.+?)'
        r"(?: to (?P<last>.+)| onwards)"
    )
)
def _(app: HandoffApp, name: str, first: str, last: str | None) -> None:
    changes = {
        "name": f'"{name}"',
        "effective_from": story_day(first).isoformat(),
        "effective_to": None if last is None else story_day(last).isoformat(),
    }
    put_in_force(app, parse_agreement(agreement_toml(AGREEMENT, changes)))


@dataclass(frozen=True)
class AgreementOutcome(Outcome):
    """What the last agreement command did, besides any refusal."""

    identical_to: int | None = None
    changes: list[Change] = field(default_factory=list)


@when(
    parsers.re(r"(?P<actor>\w+) applies the agreement with (?P<key>[\w.]+) = (?P<value>.+)"),
    target_fixture="outcome",
)
def _(app: HandoffApp, outcome: Outcome, actor: str, key: str, value: str) -> Outcome:
    return apply_changed_agreement(app, actor, {key: value}, outcome)


@when(
    parsers.re(r"(?P<actor>\w+) applies the agreement without (?P<key>[\w.]+)"),
    target_fixture="outcome",
)
def _(app: HandoffApp, outcome: Outcome, actor: str, key: str) -> Outcome:
    return apply_changed_agreement(app, actor, {key: None}, outcome)


def apply_changed_agreement(
    app: HandoffApp, actor: str, changes: dict[str, str | None], previous: Outcome | None = None
) -> Outcome:
    """What `handoff sla apply FILE` does: read the file, then record it as a new version."""
    if previous is not None and previous.refusal is not None:
        return previous
    try:
        terms = parse_agreement(agreement_toml(AGREEMENT, changes))
        version, new = app.apply_agreement(terms, actor_id(actor))
    except Refused as refusal:
        return AgreementOutcome(refusal=refusal)
    return AgreementOutcome(identical_to=None if new else version.number)


@when(
    parsers.re(
        r'(?P<actor>\w+) proposes the agreement "(?P<name>[^"]+)" from (?P<first>.+?) onwards'
    ),
    target_fixture="outcome",
)
def _(app: HandoffApp, actor: str, name: str, first: str) -> Outcome:
    changes: dict[str, str | None] = {
        "name": f'"{name}"', "effective_from": story_day(first).isoformat()
    }
    return apply_changed_agreement(app, actor, changes)


@given(parsers.re(rf'(?P<actor>\w+) has proposed the agreement "(?P<name>[^"]+)" {WHEN}'))
def _(app: HandoffApp, clock: FakeClock, actor: str, name: str, day: str, time: str) -> None:
    clock.now = story_instant(app, day, time)
    outcome = apply_changed_agreement(app, actor, {"name": f'"{name}"'})
    assert outcome.refusal is None, str(outcome.refusal)


@when(parsers.re(rf"(?P<actor>\w+) signs version (?P<number>\d+) {WHEN}"),
      target_fixture="outcome")
def _(app: HandoffApp, clock: FakeClock, outcome: Outcome, actor: str, number: str, day: str,
      time: str) -> Outcome:
    """What `handoff sla sign N` does, at that moment."""
    if outcome.refusal is not None:
        return outcome
    clock.now = story_instant(app, day, time)
    try:
        app.sign_agreement(int(number), actor_id(actor))
    except Refused as refusal:
        return AgreementOutcome(refusal=refusal)
    return AgreementOutcome()


@when(
    parsers.re(r"(?P<actor>\w+) checks the agreement with (?P<key>[\w.]+) = (?P<value>.+)"),
    target_fixture="outcome",
)
def _(app: HandoffApp, actor: str, key: str, value: str) -> Outcome:
    """What `handoff sla check FILE` does: compare the file with the version in force."""
    terms = parse_agreement(agreement_toml(AGREEMENT, {key: value}))
    _, changes = app.check_agreement(terms)
    return AgreementOutcome(changes=changes)


@then(
    parsers.re(
        r"on (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}) the agreement in force is "
        r'"(?P<name>[^"]+)"'
    )
)
def _(app: HandoffApp, day: str, time: str, name: str) -> None:
    version = app.agreement_register().in_force_at(story_instant(app, day, time))
    assert version is not None and version.name == name


@then(parsers.re(r"on (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}) no agreement is in force"))
def _(app: HandoffApp, day: str, time: str) -> None:
    assert app.agreement_register().in_force_at(story_instant(app, day, time)) is None


@then("no agreement version is recorded")
def _(app: HandoffApp) -> None:
    assert listed(app) == []


@then(
    parsers.re(
        r'the agreement history lists version (?P<number>\d+) "(?P<name>[^"]+)", '
        r"applied by (?P<actor>\w+)"
    )
)
def _(app: HandoffApp, outcome: Outcome, number: str, name: str, actor: str) -> None:
    assert outcome.refusal is None, str(outcome.refusal)
    assert [(v["version"], v["name"], v["applied_by"]) for v in listed(app)] == [
        (int(number), name, actor)
    ]


@then(parsers.re(r"on (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}) the agreement in force is "
                 r"version (?P<number>\d+)"))
def _(app: HandoffApp, day: str, time: str, number: str) -> None:
    version = app.agreement_register().in_force_at(story_instant(app, day, time))
    assert version is not None and version.number == int(number)


@then(parsers.re(r"on (?P<day>.+?) at (?P<time>\d{1,2}:\d{2}) sales must decide within "
                 r"(?P<hours>\d+) business hours"))
def _(app: HandoffApp, day: str, time: str, hours: str) -> None:
    version = app.agreement_register().in_force_at(story_instant(app, day, time))
    assert version is not None and version.terms.decide_within_hours == Decimal(hours)


def listed(app: HandoffApp) -> list[dict[str, object]]:
    """The agreement history as `handoff sla history --format json` prints it."""
    return history_records(app.agreement_register().history())


@then(parsers.re(
    r"the agreement history shows version (?P<number>\d+) proposed by (?P<proposer>\w+), "
    r"signed by (?P<first>\w+) for (?P<first_side>\w+) and (?P<second>\w+) for "
    r"(?P<second_side>\w+)"
))
def _(app: HandoffApp, number: str, proposer: str, first: str, first_side: str, second: str,
      second_side: str) -> None:
    record = next(r for r in listed(app) if r["version"] == int(number))
    assert record["applied_by"] == proposer and record["status"] == "signed"
    signatures = record["signatures"]
    assert isinstance(signatures, list)
    assert [(s["actor"], s["side"]) for s in signatures] == [
        (first, first_side), (second, second_side)
    ]
    assert record["applied_at"] == signatures[-1]["signed_at"]


@then(parsers.re(r"the agreement history shows version (?P<number>\d+) awaiting a signature "
                 r"from (?P<side>\w+)"))
def _(app: HandoffApp, number: str, side: str) -> None:
    record = next(r for r in listed(app) if r["version"] == int(number))
    assert record["status"] == f"awaiting {side}"
    assert record["applied_at"] is None


@then("the agreement history lists only version 1")
def _(app: HandoffApp) -> None:
    assert [r["version"] for r in listed(app)] == [1]


@then(parsers.re(r"(?:she|he) is told it is identical to version (?P<number>\d+)"))
def _(outcome: AgreementOutcome, number: str) -> None:
    assert outcome.refusal is None and outcome.identical_to == int(number)


@then(parsers.re(r"the check shows (?P<key>[\w.]+) changing from (?P<before>\S+) to "
                 r"(?P<after>\S+)"))
def _(outcome: AgreementOutcome, key: str, before: str, after: str) -> None:
    assert [(c.key, c.before, c.after) for c in outcome.changes] == [(key, before, after)]


@then(parsers.re(r'lead "(?P<key>[^"]+)" was recorded under the "(?P<name>[^"]+)"'))
def _(app: HandoffApp, key: str, name: str) -> None:
    assert history(app, key)[0]["agreement"] == name
