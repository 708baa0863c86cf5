"""Follow-up and speed to lead for a period (SPEC §5), from the read model's events.

Each accepted lead and each handoff in scope is judged by `domain.service_level`
(`follow_up_outcome`, `first_contact`) under the agreement version that judges it, as
the SLA judges a handoff (SPEC §3): of the versions known at the report's as-of instant,
those in force when the entry of its acceptance (handoff) was recorded, whatever was
corrected since, and restatements, the one governing the instant it was accepted
(handed). In flow, the scope is the acceptances (handoffs) that occurred in the period;
in cohort, those of the leads captured in it.

Speed to lead reads the first contact the projection keeps with each handoff (a fast
path of `first_contact`, held to it by tests/test_kpi_property.py); when a row known at
as-of was replaced since by a correction, or a follow-up is asked for, it reads the
events of the leads in scope instead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any

from handoff import eventstore
from handoff.application import HandoffApp
from handoff.domain import service_level
from handoff.domain.agreement import AgreementRegister
from handoff.projections.due import KnownVersion, judging
from handoff.projections.instants import micros
from handoff.projections.report_now import reading_projected
from handoff.projections.summaries import SLA_BASES

_EVENTS = ("handed", "accepted", "rejected", "contacted", "proposal")
_SPEED_EVENTS = ("handed", "rejected", "contacted")  # all that service_level.first_contact reads


def follow_up_and_speed(
    app: HandoffApp, register: AgreementRegister, start: datetime, end: datetime,
    basis: str, as_of: datetime, recorded: int,
) -> dict[str, Any]:
    """`{"follow_up": {...}, "speed_to_lead": {...}}`, from a read model holding the log up
    to `recorded`; follow_up when the agreement in
    force at the period's start asks for one, or a version judging an acceptance in scope
    did (a revision since, not a restatement, judges only those recorded after it)."""
    start_us, end_us, as_of_us = micros(start), micros(end), micros(as_of)
    in_force = register.in_force_at(start, as_of)
    asks = in_force is not None and in_force.terms.follow_up is not None
    follow_up = any(v.terms.follow_up is not None for v in register.known_at(as_of))
    # SQL text on the driver's own cursor (no SQLAlchemy: `handoff kpi` stays quick).
    with reading_projected(app, recorded) as reader:
        table = _events_known(reader, as_of_us)
        if table == "read_event" and not follow_up:
            # The usual case: the projection keeps each handoff's first contact.
            contacts = _first_contacts(reader, basis, start_us, end_us, as_of_us)
            lives = None
        else:
            lives = _lives(reader, table, follow_up, basis, start_us, end_us, as_of_us)

    def in_scope(at: int) -> bool:
        return basis == "cohort" or start_us <= at < end_us

    versions = [KnownVersion(v.number, micros(v.applied_at), v.terms, v.restates)
                for v in register.known_at(as_of)]
    result: dict[str, Any] = {}
    if lives is not None:
        if follow_up:
            accepted = [
                (events, at, recorded_us)
                for events in lives.values()
                for name, at, recorded_us in events
                if name == "accepted" and in_scope(at)
            ]
            outcomes = [_follow_up(versions, *acceptance, as_of_us) for acceptance in accepted]
            if asks or any(outcome is not None for outcome in outcomes):
                result["follow_up"] = _follow_up_block(outcomes)
                result["restated_follow_up"] = _restated(versions, accepted, as_of_us)
        contacts = [
            (at, recorded_us, contact)
            for events in lives.values()
            for i, (name, at, recorded_us) in enumerate(events)
            if name == "handed" and in_scope(at)
            and (contact := service_level.first_contact(
                at, [(later, when) for later, when, _ in events[i + 1:]])) is not None
        ]
    ordered = sorted(_speeds(versions, contacts))
    result["speed_to_lead"] = {
        "contacted": len(ordered),
        "median_hours": median(ordered) if ordered else None,
        # The nearest rank: the smallest value that 90 % of the handoffs reach or beat.
        "p90_hours": ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None,
    }
    return result


def missed_follow_ups(
    app: HandoffApp, register: AgreementRegister, start: datetime, end: datetime,
    as_of: datetime,
) -> list[dict[str, Any]]:
    """The acceptances of [start, end) (flow) whose follow-up was missed as known at `as_of`,
    in the order accepted, each judged as `follow_up_and_speed` judges it: the lead's key and
    owner (of its latest handoff), `accepted_us`, `window_end_us` (when its window closed),
    `made` (the contacts it got in the window) and `asked` (the attempts asked)."""
    start_us, end_us, as_of_us = micros(start), micros(end), micros(as_of)
    versions = [KnownVersion(v.number, micros(v.applied_at), v.terms, v.restates)
                for v in register.known_at(as_of)]
    missed: list[dict[str, Any]] = []
    from handoff.projections.catchup import catch_up

    catch_up(app)  # the read model made, of this release, before it is read (`sla breaches`)
    with reading_projected(app, eventstore.last_notification_id(app)) as reader:
        table = _events_known(reader, as_of_us)
        lives = _lives(reader, table, True, "flow", start_us, end_us, as_of_us)
        for lead, events in lives.items():
            for name, at, recorded_us in events:
                if name != "accepted" or not start_us <= at < end_us:
                    continue
                judged = _judged_follow_up(versions, events, at, recorded_us, as_of_us)
                if judged is None or judged[0] != service_level.MISSED:
                    continue
                version = judged[1]
                assert version.terms.follow_up is not None  # judged: the version asks one
                asked, within_days = version.terms.follow_up
                made, window_end = service_level.follow_up_attempts(
                    at, [when for step, when, _ in events if step == "contacted"], within_days,
                    as_of_us, version.terms.timezone)
                missed.append({"lead_ref": lead, "accepted_us": at, "window_end_us": window_end,
                               "made": made, "asked": asked})
        refs = sorted({m["lead_ref"] for m in missed})
        named = {ref: (key, owner) for ref, key, owner in reader.rows(
            "SELECT lead_ref, key, owner FROM read_lead WHERE lead_ref IN"
            f" ({', '.join('{0}' for _ in refs)})", *refs)} if refs else {}
    for found in missed:
        found["lead"], found["owner"] = named[found.pop("lead_ref")]
    return sorted(missed, key=lambda m: m["accepted_us"])


def _first_contacts(
    reader: Any, basis: str, start_us: int, end_us: int, as_of_us: int
) -> list[tuple[int, int, int]]:
    """(handed, when its entry was recorded, first contact) of each handoff in scope contacted
    as known at as-of, from
    the first contact the projection keeps with each handoff. Valid when no row known
    then was replaced since (`_events_known`): a lead's events are then known in the
    order they happened, so a first contact recorded after as-of had none before it."""
    scope = SLA_BASES[basis]
    found: list[tuple[int, int, int]] = reader.rows(
        f"SELECT handed_us, handed_entry_us, contact_us FROM read_handoff"
        f"{reader.hint(f'read_handoff_contact_{basis}')} WHERE {scope} >= {{0}}"
        f" AND {scope} < {{0}} AND handed_recorded_us <= {{0}}"
        " AND contact_us IS NOT NULL AND contact_recorded_us <= {0}",
        start_us, end_us, as_of_us, as_of_us,
    )
    return found


def _lives(
    reader: Any, table: str, follow_up: bool, basis: str, start_us: int, end_us: int,
    as_of_us: int,
) -> dict[int, list[tuple[str, int, int]]]:
    """The events of each lead in scope that follow-up and speed to lead read, known at
    as-of, in the order they happened: (event, occurred, when its entry was recorded)."""
    # Speed to lead alone reads only handoffs and what may end their wait (first_contact):
    # the acceptances and proposals are a third of the rows.
    kinds = ", ".join(f"'{name}'" for name in (_EVENTS if follow_up else _SPEED_EVENTS))
    starts = "'handed', 'accepted'" if follow_up else "'handed'"
    sql = (
        f"SELECT lead_ref, event, occurred_us, entry_us FROM {table}"
        f" WHERE recorded_us <= {{0}} AND event IN ({kinds})"
    )
    parameters: list[Any] = [as_of_us]
    if basis == "flow":
        # Only the leads handed or accepted in the period (their events found through
        # the read_event_lead index), and only what follows the period's start: a year
        # of a million events would be read for each report.
        sql += (
            f" AND occurred_us >= {{0}} AND lead_ref IN (SELECT lead_ref FROM {table}"
            f" WHERE event IN ({starts}) AND occurred_us >= {{0}} AND occurred_us < {{0}}"
            " AND recorded_us <= {0})"
        )
        parameters += [start_us, start_us, end_us, as_of_us]
    else:
        sql += " AND captured_us >= {0} AND captured_us < {0}"
        parameters += [start_us, end_us]
    lives: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for lead, name, at, recorded_us in reader.rows(
            sql + " ORDER BY occurred_us, notification_id", *parameters):
        lives[lead].append((name, at, recorded_us))
    return lives


def _follow_up_block(outcomes: list[str | None]) -> dict[str, Any]:
    judged = [o for o in outcomes if o is not None]
    counts = {outcome: judged.count(outcome) for outcome in service_level.FOLLOW_UP_OUTCOMES}
    met, missed = counts[service_level.MET], counts[service_level.MISSED]
    return {
        "accepted": len(judged), **counts,
        "compliance": met / (met + missed) if met + missed else None,
    }


def _events_known(reader: Any, as_of_us: int) -> str:
    """read_event as a report as of `as_of_us` reads it: with the rows a later correction
    replaced in place of their replacements (as `report_as_of.known_rows`)."""
    later = f"superseded_us > {int(as_of_us)}"
    if not reader.rows(f"SELECT 1 FROM read_event_past WHERE {later} LIMIT 1"):
        return "read_event"
    columns = ("lead_ref, event, occurred_us, recorded_us, entry_us, captured_us,"
               " notification_id")
    return (
        f"(SELECT {columns} FROM read_event UNION ALL"
        f" SELECT {columns} FROM read_event_past WHERE {later}) AS known_events"
    )


def _restated(
    versions: list[KnownVersion], accepted: list[tuple[list[tuple[str, int, int]], int, int]],
    as_of_us: int,
) -> dict[int, int]:
    """For each restatement, how many of the acceptances in scope recorded before it it
    judges otherwise (met, missed, pending, or not judged) than the versions known just
    before it did: as `report_as_of.restated_handoffs` counts the handoffs, each against
    just before it, whatever was signed since."""
    changed: dict[int, int] = defaultdict(int)
    for version in versions:
        if version.restates is None:
            continue
        through = [v for v in versions if v.applied_us <= version.applied_us]
        earlier = [v for v in through if v.applied_us < version.applied_us]
        for events, at, recorded_us in accepted:
            if recorded_us <= version.applied_us and _follow_up(
                through, events, at, recorded_us, as_of_us
            ) != _follow_up(earlier, events, at, recorded_us, as_of_us):
                changed[version.number] += 1
    return dict(changed)


def _follow_up(
    versions: list[KnownVersion], events: list[tuple[str, int, int]], accepted_us: int,
    recorded_us: int, as_of_us: int,
) -> str | None:
    """The follow-up's outcome of an acceptance; None when no version judging it asks one."""
    judged = _judged_follow_up(versions, events, accepted_us, recorded_us, as_of_us)
    return judged[0] if judged else None


def _judged_follow_up(
    versions: list[KnownVersion], events: list[tuple[str, int, int]], accepted_us: int,
    recorded_us: int, as_of_us: int,
) -> tuple[str, KnownVersion] | None:
    """The follow-up's outcome of an acceptance (`service_level.follow_up_outcome`) and
    the version that judged it; None when no version judging it asks for a follow-up."""
    version = _judging(versions, accepted_us, recorded_us)
    terms = version.terms.follow_up if version else None
    if version is None or terms is None:
        return None
    attempts, within_days = terms
    return service_level.follow_up_outcome(
        accepted_us,
        [at for name, at, _ in events if name == "contacted"],
        [at for name, at, _ in events if name == "proposal"],
        attempts, within_days, as_of_us, version.terms.timezone,
    ), version


def _speeds(versions: list[KnownVersion], contacts: list[tuple[int, int, int]]
            ) -> list[float]:
    """Business hours from each handoff (handed, when its entry was recorded, first
    contact) to its first contact, under the version judging the handoff (on microseconds:
    `projections.due`, held to the calendar's answers); none for a handoff that no version
    judges. In one pass when one version judges them all (the usual case: every version
    was in force when the first of them was recorded, and the latest covers them all)."""
    if not contacts:
        return []
    handed = [at for at, _, _ in contacts]
    first_recorded = min(recorded for _, recorded, _ in contacts)
    latest = versions[-1] if versions else None
    if (latest is not None and latest.covers(min(handed)) and latest.covers(max(handed))
            and (len(versions) == 1
                 or all(v.applied_us <= first_recorded for v in versions))):
        # The latest version may judge each handoff (`due.judging`: the only one, which
        # covers it; or every version, all in force when it was recorded), and governs it
        # as the latest applied of those covering it (its effective dates are one span).
        return latest.response_hours_many(handed, [contact for _, _, contact in contacts])
    return [version.response_hours(at, contact) for at, recorded, contact in contacts
            if (version := _judging(versions, at, recorded)) is not None]


def _judging(versions: list[KnownVersion], at_us: int, recorded_us: int
             ) -> KnownVersion | None:
    """The version judging a step made at `at_us` and recorded at `recorded_us` (a
    handoff, an acceptance), as the SLA judges a handoff: `service_level.governing_version`
    of `judging_versions` (`due.judging`)."""
    return service_level.governing_version(
        judging(versions, recorded_us, at_us), lambda v: v.covers(at_us))
