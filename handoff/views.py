"""Plain-data views of the domain (str and numbers out), for the command line and exports."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from handoff.domain.agreement import (
    AgreementVersion,
    AppliedVersion,
    Proposal,
    changes_between,
    revised_by,
)
from handoff.domain.errors import TimeRefused, UnknownLead, Wording
from handoff.domain.lead import CORRECTIONS, Lead
from handoff.domain.steps import EVENT_NAMES, FORGOTTEN, PERSONAL_DATA, Fact
from handoff.instants import iso
from handoff.words import counted


def lead_summary(lead: Lead, as_of: datetime | None = None) -> dict[str, Any]:
    """The lead as it stood once every entry recorded by `as_of` was known, corrections
    included (its steps as they then read, in the order they happened).

    Each stage's instant is `<stage>_at`: the latest occurrence (a recycled lead's second
    handoff, say), or null when the lead has not reached it.
    """
    facts = lead.facts(as_of)
    if not facts and as_of is not None and lead.entries:
        recorded, asked = lead.entries[0].timestamp, as_of

        def sentence(at: Wording) -> str:
            then = at(recorded)
            if then == at(asked):  # the same minute, as people read it: say how much later
                seconds = math.ceil((recorded - asked).total_seconds())
                then += f", {counted(seconds, 'second')} later"
            return (f"lead {lead.key!r} was not recorded yet as of {at(asked)}: its capture"
                    f" was recorded at {then}")

        raise TimeRefused(sentence)
    if not facts:
        raise UnknownLead(lead.key)
    captured = facts[0].data
    stages: dict[str, str | None] = dict.fromkeys(EVENT_NAMES)
    state = "captured"
    owner = None
    proposal: Decimal | None = None
    won: Decimal | None = None
    for fact in facts:
        stages[fact.name] = iso(fact.occurred_at)
        if fact.name != "contacted":
            state = fact.name
        if fact.name == "handed":
            owner = fact.data["owner"]
        elif fact.name == "proposal":
            proposal = fact.data["amount"]
        elif fact.name == "won":
            won = fact.data["amount"]
    known = [e for e in lead.entries if as_of is None or e.timestamp <= as_of]
    return {
        "key": lead.key,
        "state": state,
        "source": captured["source"],
        "owner": owner,
        **_person(lead, {field: captured.get(field) for field in PERSONAL_DATA}),
        **{f"{stage}_at": when for stage, when in stages.items()},
        "contacts": sum(1 for f in facts if f.name == "contacted"),
        "handoffs": sum(1 for f in facts if f.name == "handed"),
        "last_proposal": proposal,
        "won_amount": won,
        "events": len(facts),
        "corrections": sum(1 for e in known if isinstance(e, CORRECTIONS)),
        "last_recorded_at": iso(max(e.timestamp for e in known)),
        "as_of": iso(as_of),
    }


def step_record(step: Lead.Event, n: int | None = None) -> dict[str, Any]:
    """One audit-trail entry: what, when it happened, when and by whom it was written;
    a correction also names the entry it corrects (`target`), why, and what changed."""
    record: dict[str, Any] = {} if n is None else {"n": n}
    record.update({
        "event": step.event,
        "occurred_at": iso(step.stamp.occurred_at),
        "recorded_at": iso(step.stamp.recorded_at),
        "actor": step.stamp.actor,
        "agreement": step.stamp.agreement,
        "agreement_version": step.stamp.agreement_version,
    })
    if isinstance(step, Lead.Voided | Lead.Amended):
        record["target"] = step.target
        record["why"] = step.why
        if isinstance(step, Lead.Amended):
            record.update(_changed(step.changes))
        return record
    record.update(step.data)
    if isinstance(step, Lead.MissedStep):
        record["why"] = step.why
    return record


def _changed(changes: dict[str, Any]) -> dict[str, Any]:
    """An amendment's new values by field (`at`: the instant the step now happened)."""
    return {k: iso(v) if k == "at" else v for k, v in changes.items()}


def _person(lead: Lead, shown: dict[str, Any]) -> dict[str, Any]:
    """What a view shows of the lead (a summary, an entry), its person's details (name,
    e-mail, company) `[forgotten]` once the lead was forgotten (whatever `as_of`: they are
    gone), given or not: nobody takes them for never given."""
    if lead.forgotten is None:
        return shown
    return {k: FORGOTTEN if k in PERSONAL_DATA else v for k, v in shown.items()}


def history_entries(lead: Lead, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """The lead's audit trail: every entry (steps, corrections, who forgot the person and
    why), numbered from 1 in the order recorded; with `as_of`, only those recorded by then.
    An entry a correction voids or amends names it (`corrected_by`: their numbers)."""
    entries: list[dict[str, Any]] = []
    for n, entry in enumerate(lead.entries, 1):
        if as_of is not None and entry.timestamp > as_of:
            continue
        if isinstance(entry, Lead.Forgotten):
            entries.append({
                "n": n, "event": "forgotten", "occurred_at": iso(entry.timestamp),
                "recorded_at": iso(entry.timestamp), "actor": entry.actor,
                "agreement": None, "agreement_version": None, "why": entry.why,
            })
        else:
            entries.append(_person(lead, step_record(entry, n)))
    # Each entry a correction (known by then) voids or amends names it: an auditor reading
    # entry 9 learns there that entry 13 voided it, not only by scanning for a 13.
    corrections: dict[int, list[int]] = {}
    for record in entries:
        if "target" in record:
            corrections.setdefault(record["target"], []).append(record["n"])
    for record in entries:
        if record["n"] in corrections:
            record["corrected_by"] = corrections[record["n"]]
    return entries


_ENTRY_KEYS = (
    "n", "event", "occurred_at", "recorded_at", "actor", "agreement", "agreement_version"
)


def entry_details(entry: dict[str, Any]) -> str:
    """An audit-trail entry's own data as one short line, for tables (the corrections of
    it last: `corrected by #13`). A field an amendment empties is said to be cleared: left
    out, the amendment would read as changing nothing."""
    amends = entry["event"] == "amended"
    said = [f"{k}={v}" if v is not None else f"{k} cleared" for k, v in entry.items()
            if k not in _ENTRY_KEYS and k != "corrected_by" and (v is not None or amends)]
    if entry.get("corrected_by"):
        said.append("corrected by " + ", ".join(f"#{n}" for n in entry["corrected_by"]))
    return ", ".join(said)


def step_details(step: Lead.Event | Fact) -> str:
    """The event's own data as one short line, for tables."""
    return ", ".join(f"{k}={v}" for k, v in step.data.items() if v is not None)


def version_record(version: AgreementVersion) -> dict[str, Any]:
    """A version as `sla show` and `sla history` print it; `applied_at` is when it came
    into force (null while it awaits a signature), `applied_by` who applied (proposed) it."""
    terms = version.terms
    applied = version if isinstance(version, AppliedVersion) else None
    proposed_at = version.proposed_at or (applied.applied_at if applied else None)
    return {
        "version": version.number,
        "name": terms.name,
        "effective_from": terms.effective_from.isoformat(),
        "effective_to": terms.effective_to.isoformat() if terms.effective_to else None,
        "timezone": terms.document["timezone"],
        "status": version_status(version),
        "applied_at": iso(applied.applied_at) if applied else None,
        "applied_by": version.actor,
        "proposed_at": iso(proposed_at),
        "signatures": [
            {"side": s.side, "actor": s.actor, "signed_at": iso(s.signed_at)}
            for s in version.signatures
        ],
        "restates": version.restates,
        "document": terms.document,
    }


def version_status(version: AgreementVersion) -> str:
    restating = " as a restatement" if version.restates else ""
    if isinstance(version, Proposal):
        if version.overtaken_by is not None:
            return f"overtaken by version {version.overtaken_by}"
        return f"awaiting {version.awaiting}{restating}"
    return ("signed" if version.signatures else "applied") + restating


def history_records(versions: list[AgreementVersion]) -> list[dict[str, Any]]:
    """Every version with what changed (`changes`: `before`/`after` null when a term was
    added or dropped) from the terms it revises (`compared_with`, null for the first;
    `agreement.revised_by`): of the versions in force before it, the one in force on its
    first day, else the last; never a proposal that did not come into force. A proposal is
    compared with the versions in force when it was proposed, as `sla check` showed its
    proposer: one overtaken since did not propose changes to the version overtaking it.

    A restatement also judges the handoffs recorded under every earlier version sharing a
    day with it, whose terms may differ from it by more than `changes` (a revision that
    restated nothing, say): `restates_changes` lists, for each such version that differs,
    its `version` and the `changes` from it."""
    records = []
    applied: list[AppliedVersion] = []
    for version in versions:
        record = version_record(version)
        known = applied if isinstance(version, AppliedVersion) else [
            v for v in applied if v.applied_at <= version.proposed_at]
        revised = revised_by(known, version.terms)
        record["compared_with"] = None if revised is None else revised.number
        record["changes"] = _changes(revised, version)
        if version.restates:
            record["restates_changes"] = [
                {"version": earlier.number, "changes": _changes(earlier, version)}
                for earlier in known
                if _overlap(earlier, version) and changes_between(earlier.terms, version.terms)
            ]
        records.append(record)
        if isinstance(version, AppliedVersion):
            applied.append(version)
    return records


def _changes(before: AgreementVersion | None, after: AgreementVersion) -> list[dict[str, Any]]:
    return [{"key": c.key, "before": c.before, "after": c.after}
            for c in changes_between(before.terms if before else None, after.terms)]


def _overlap(one: AgreementVersion, other: AgreementVersion) -> bool:
    """Whether the two versions' dates share a day."""
    a, b = one.terms, other.terms
    return ((b.effective_to is None or a.effective_from <= b.effective_to)
            and (a.effective_to is None or b.effective_from <= a.effective_to))


def restatement_words(restatement: dict[str, Any], when: str) -> str:
    """One restatement of a report's `restatements`, in a sentence both teams can read
    (`when`: its `restated_at` as people read instants)."""
    count, follow_up = restatement["handoffs"], restatement.get("follow_up", 0)
    changed = [f"{counted(count, 'handoff', grouped=True)} of this period judged otherwise"
               " under it (another verdict or response time)"] if count else []
    if follow_up:
        leads = counted(follow_up, "accepted lead's", "accepted leads'", grouped=True)
        changed.append(f"{leads} follow-up judged otherwise")
    if restatement.get("targets"):
        changed.append("its terms set the period's targets anew")
    said = "; ".join(changed) or ("it moved the period's days into its own time zone, and"
                                  " judges no handoff of this period otherwise")
    return (
        f"Restated by version {restatement['version']} ({restatement['name']}), signed into "
        f"force by {restatement['restated_by']} on {when}: \u201c{restatement['why']}\u201d. "
        + said[:1].upper() + said[1:]
        + "; a report as of before it shows the figures as first reported."
    )
