"""Agreement versions, validation and team roles (SPEC §3), from features/agreement.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused
from handoff.verification.world import AGREEMENT, Outcome, agreement_toml, story_day, story_instant
from handoff.views import version_record

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
    app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT, changes)), actor="maria")


@when(
    parsers.re(r"(?P<actor>\w+) applies the agreement with (?P<key>[\w.]+) = (?P<value>.+)"),
    target_fixture="outcome",
)
def _(app: HandoffApp, actor: str, key: str, value: str) -> Outcome:
    return apply_changed_agreement(app, actor, {key: value})


@when(
    parsers.re(r"(?P<actor>\w+) applies the agreement without (?P<key>[\w.]+)"),
    target_fixture="outcome",
)
def _(app: HandoffApp, actor: str, key: str) -> Outcome:
    return apply_changed_agreement(app, actor, {key: None})


def apply_changed_agreement(
    app: HandoffApp, actor: str, changes: dict[str, str | None]
) -> Outcome:
    """What `handoff sla apply FILE` does: read the file, then record it as a new version."""
    try:
        app.apply_agreement(parse_agreement(agreement_toml(AGREEMENT, changes)), actor.lower())
    except Refused as refusal:
        return Outcome(refusal=refusal)
    return Outcome()


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
    assert [version_record(v) for v in app.agreement_register().versions] == []


@then(
    parsers.re(
        r'the agreement history lists version (?P<number>\d+) "(?P<name>[^"]+)", '
        r"applied by (?P<actor>\w+)"
    )
)
def _(app: HandoffApp, outcome: Outcome, number: str, name: str, actor: str) -> None:
    assert outcome.refusal is None, str(outcome.refusal)
    listed = [version_record(v) for v in app.agreement_register().versions]
    assert [(v["version"], v["name"], v["applied_by"]) for v in listed] == [
        (int(number), name, actor)
    ]
