"""Plain-data views of the domain (str and numbers out), for the command line and exports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from handoff.domain.agreement import AgreementVersion, AppliedVersion, Proposal, changes_between
from handoff.domain.errors import UnknownLead
from handoff.domain.lead import EVENT_NAMES, FORGOTTEN, Lead
from handoff.instants import iso


def steps_as_of(lead: Lead, as_of: datetime | None) -> list[Lead.Event]:
    """The lead's events that had been recorded by `as_of` (all of them when None)."""
    if as_of is None:
        return list(lead.steps)
    return [s for s in lead.steps if s.stamp.recorded_at <= as_of]


def lead_summary(lead: Lead, as_of: datetime | None = None) -> dict[str, Any]:
    """The lead as it stood once every event recorded by `as_of` was known.

    Each stage's instant is `<stage>_at`: the latest occurrence (a recycled lead's second
    handoff, say), or null when the lead has not reached it.
    """
    steps = steps_as_of(lead, as_of)
    if not steps:
        raise UnknownLead(lead.key)
    captured = steps[0].data
    stages: dict[str, str | None] = dict.fromkeys(EVENT_NAMES)
    state = "captured"
    owner = None
    proposal: Decimal | None = None
    won: Decimal | None = None
    for step in steps:
        stages[step.event] = iso(step.stamp.occurred_at)
        if step.event != "contacted":
            state = step.event
        if step.event == "handed":
            owner = step.data["owner"]
        elif step.event == "proposal":
            proposal = step.data["amount"]
        elif step.event == "won":
            won = step.data["amount"]
    last = steps[-1].stamp
    return {
        "key": lead.key,
        "state": state,
        "source": captured["source"],
        "owner": owner,
        **_person(lead, captured),
        **{f"{stage}_at": when for stage, when in stages.items()},
        "contacts": sum(1 for s in steps if s.event == "contacted"),
        "handoffs": sum(1 for s in steps if s.event == "handed"),
        "last_proposal": proposal,
        "won_amount": won,
        "events": len(steps),
        "last_recorded_at": iso(last.recorded_at),
        "as_of": iso(as_of),
    }


def step_record(step: Lead.Event) -> dict[str, Any]:
    """One audit-trail entry: what, when it happened, when and by whom it was written."""
    record: dict[str, Any] = {
        "event": step.event,
        "occurred_at": iso(step.stamp.occurred_at),
        "recorded_at": iso(step.stamp.recorded_at),
        "actor": step.stamp.actor,
        "agreement": step.stamp.agreement,
        "agreement_version": step.stamp.agreement_version,
    }
    record.update(step.data)
    return record


def _person(lead: Lead, captured: dict[str, Any]) -> dict[str, Any]:
    """Who the lead is, unless they were forgotten (then whatever `as_of`: it is gone)."""
    fields = ("name", "email", "company")
    if lead.forgotten is not None:
        return dict.fromkeys(fields, FORGOTTEN)
    return {field: captured.get(field) for field in fields}


def history_entries(lead: Lead, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """The lead's audit trail: every step, and who forgot the person and why, in the order
    they were recorded; with `as_of`, only the entries recorded by then."""
    entries = [step_record(step) for step in steps_as_of(lead, as_of)]
    forgotten = lead.forgotten
    if forgotten is not None and (as_of is None or forgotten.timestamp <= as_of):
        before = sum(1 for step in lead.steps if step.stamp.recorded_at <= forgotten.timestamp)
        entries.insert(before, {
            "event": "forgotten", "occurred_at": iso(forgotten.timestamp),
            "recorded_at": iso(forgotten.timestamp), "actor": forgotten.actor,
            "agreement": None, "agreement_version": None, "why": forgotten.why,
        })
    return entries


_ENTRY_KEYS = ("event", "occurred_at", "recorded_at", "actor", "agreement", "agreement_version")


def entry_details(entry: dict[str, Any]) -> str:
    """An audit-trail entry's own data as one short line, for tables."""
    return ", ".join(
        f"{k}={v}" for k, v in entry.items() if k not in _ENTRY_KEYS and v is not None
    )


def step_details(step: Lead.Event) -> str:
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
        "document": terms.document,
    }


def version_status(version: AgreementVersion) -> str:
    if isinstance(version, Proposal):
        if version.overtaken_by is not None:
            return f"overtaken by version {version.overtaken_by}"
        return f"awaiting {version.awaiting}"
    return "signed" if version.signatures else "applied"


def history_records(versions: list[AgreementVersion]) -> list[dict[str, Any]]:
    """Every version with what changed from the one before it (`before`/`after` null when
    a term was added or dropped)."""
    records = []
    previous = None
    for version in versions:
        record = version_record(version)
        record["changes"] = [
            {"key": c.key, "before": c.before, "after": c.after}
            for c in changes_between(previous, version.terms)
        ]
        records.append(record)
        previous = version.terms
    return records
