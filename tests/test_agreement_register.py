"""The register of agreement versions: signatures, and the order versions come into force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import AGREEMENT, agreement_toml
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.domain.agreement import AgreementRegister, AgreementTerms, AppliedVersion, Proposal
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused, SignatureRefused

START = datetime(2026, 3, 2, 15, tzinfo=UTC)
PEOPLE = ("maria", "li", "sam", "ola", "pat")
SIDE_OF = {"maria": "marketing", "li": "marketing", "sam": "sales", "ola": "sales"}


def terms(hours: int, team: bool = True) -> AgreementTerms:
    changes: dict[str, str | None] = {"sales.decide_within_hours": str(hours)}
    if not team:
        changes["team"] = None
    return parse_agreement(agreement_toml(AGREEMENT, changes))


def test_a_version_recorded_before_signing_existed_is_numbered_in_order() -> None:
    """Stores written by earlier releases hold VersionApplied events without a number."""
    register = AgreementRegister()
    for hours in (8, 6):
        register._version_applied(document=terms(hours).document, actor="maria", applied_at=START)
    assert [v.number for v in register.versions] == [1, 2]
    replayed = None
    for event in register.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, AgreementRegister)
    assert [v.terms.decide_within_hours for v in replayed.versions] == [8, 6]


# Each action: (who, apply terms with these hours | sign the version with this number).
actions = st.lists(
    st.tuples(
        st.sampled_from(PEOPLE),
        st.one_of(
            st.tuples(st.just("apply"), st.integers(1, 6), st.booleans()),
            st.tuples(st.just("sign"), st.integers(1, 8), st.just(True)),
        ),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(actions)
def test_versions_come_into_force_in_number_order_and_only_with_both_sides(
    script: list[tuple[str, tuple[str, int, bool]]],
) -> None:
    register = AgreementRegister()
    at = START
    for actor, (action, value, team) in script:
        at += timedelta(minutes=1)
        try:
            if action == "apply":
                register.apply(terms(value, team), actor, at)
            else:
                register.sign(value, actor, at)
        except SignatureRefused:
            pass
    in_force = register.versions
    assert [v.number for v in in_force] == sorted({v.number for v in in_force})
    assert [v.applied_at for v in in_force] == sorted(v.applied_at for v in in_force)
    for version in in_force:
        if version.signatures:
            first, second = version.signatures
            assert {first.side, second.side} == {"marketing", "sales"}
            assert first.actor != second.actor
            assert SIDE_OF[first.actor] == first.side and SIDE_OF[second.actor] == second.side
            assert version.applied_at == second.signed_at
    for proposal in register.proposals.values():
        # Overtaken by the first version to come into force after it was proposed, if any.
        assert len(proposal.signatures) == 1
        later = [v.number for v in in_force if v.applied_at > proposal.proposed_at]
        assert proposal.overtaken_by == (later[0] if later else None)
    numbers = [v.number for v in register.history()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_signing_an_unknown_version_is_refused() -> None:
    register = AgreementRegister()
    with pytest.raises(SignatureRefused, match="there is no version 3"):
        register.sign(3, "sam", START)


def test_the_proposal_keeps_the_team_that_must_sign_it() -> None:
    """A file naming a new team is signed by the team in force, not by its own."""
    register = AgreementRegister()
    register.apply(terms(8), "maria", START)
    register.sign(1, "sam", START)
    new_team = parse_agreement(agreement_toml(AGREEMENT, {
        "team.sales": '["kim"]', "sales.decide_within_hours": "6"}))
    proposal = register.apply(new_team, "maria", START)
    assert isinstance(proposal, Proposal)
    with pytest.raises(SignatureRefused, match="neither side"):
        register.sign(proposal.number, "kim", START)
    assert isinstance(register.sign(proposal.number, "ola", START), AppliedVersion)


def test_an_import_stamps_and_refuses_each_event_as_the_register_does() -> None:
    """`stamper`, which remembers the version in force per local day and its verdicts per
    event, actor and owner, held to `stamp` itself: three versions in two time zones with
    overlapping dates, teams and none, and instants every 50 minutes across local midnights
    and the days the versions change."""
    register = AgreementRegister()
    for changes in (
        {"effective_to": "2026-03-10"},  # Chicago, from 2026-01-01, the default team
        {"timezone": '"Europe/Berlin"', "effective_from": "2026-03-08", "team": None},
        {"effective_from": "2026-03-09", "effective_to": "2026-03-09", "team.sales": '["kim"]'},
    ):
        register.apply_version(
            parse_agreement(agreement_toml(AGREEMENT, changes)), "maria", START
        )
    recorded_at = datetime(2026, 4, 1, tzinfo=UTC)
    stamp = register.stamper(recorded_at)
    at = datetime(2025, 12, 31, 3, tzinfo=UTC)
    while at < datetime(2026, 3, 13, tzinfo=UTC):
        for event_name in ("captured", "handed", "accepted", "won"):
            for actor in ("maria", "sam", "kim", "pat"):
                owner = actor if event_name == "handed" else None
                try:
                    expected: object = register.stamp(
                        event_name, actor, at, recorded_at, owner=owner)
                except Refused as refusal:
                    expected = (type(refusal), str(refusal))
                try:
                    found: object = stamp(event_name, actor, at, owner=owner)
                except Refused as refusal:
                    found = (type(refusal), str(refusal))
                assert found == expected, (at, event_name, actor)
        at += timedelta(minutes=50)
    assert len(stamp.versions) > 3 and stamp.verdicts  # remembered, not asked again
