"""SLA breaches (every handoff decided late or still undecided past its due instant) and
the handoffs still pending, soonest due first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from handoff.application import HandoffApp
from handoff.domain.agreement import AgreementRegister
from handoff.domain.bounds import EARLIEST, LATEST, check_text
from handoff.domain.business_time import BusinessCalendar
from handoff.domain.service_level import OVERDUE, window_used
from handoff.domain.steps import lead_id
from handoff.instants import iso
from handoff.projections import projected
from handoff.projections.due import KnownVersion
from handoff.projections.instants import from_micros, micros
from handoff.projections.report_as_of import Scope, breaches, handoff_of_lead, pending

# A breach's status: overdue (undecided past its due instant, service_level.OVERDUE) or this.
DECIDED_LATE = "decided late"

if TYPE_CHECKING:
    from handoff.kpi import Period


def missed_follow_ups(
    app: HandoffApp, as_of: datetime | None = None, *, period: Period | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """The acceptances whose follow-up was missed as known at `as_of` (default now), in the
    order accepted: of those accepted in `period` when given, of `owner` (the lead's) when
    given. Each with `accepted_at`, `window_closed_at` and the `attempts` it got in its
    window of the `asked` ones (follow_up.missed_follow_ups judges them)."""
    from handoff.follow_up import missed_follow_ups as judged_missed

    check_text("--owner", owner)
    as_of = as_of or app.clock()
    start, end = (EARLIEST, LATEST) if period is None else (period.start, period.end)
    return [
        {"lead": found["lead"], "owner": found["owner"],
         "accepted_at": iso(from_micros(found["accepted_us"])),
         "window_closed_at": iso(from_micros(found["window_end_us"])),
         "attempts": found["made"], "asked": found["asked"]}
        for found in judged_missed(app, app.agreement_register(), start, end, as_of)
        if owner is None or found["owner"] == owner
    ]


def sla_breaches(
    app: HandoffApp, as_of: datetime | None = None, *, period: Period | None = None,
    owner: str | None = None, open_only: bool = False,
) -> list[dict[str, Any]]:
    """The handoffs breached at `as_of` (default now), oldest due first: of those handed
    in `period` (whole local days) when given, of `owner` when given, and only the
    overdue (undecided) ones with `open_only`.

    `hours_past_due` is in business hours, like the SLA itself: from the due instant to
    the decision (late) or to `as_of` (overdue), under the agreement version that set
    the due instant, `judged_by_version`.
    """
    check_text("--owner", owner)
    with projected(app) as conn:
        as_of = as_of or app.clock()
        register = app.agreement_register()
        scope = scope_at(register, as_of, period)
        rows = breaches(conn, scope, in_period=period is not None, owner=owner,
                        open_only=open_only)
    versions = _versions(register)
    as_of_us = micros(as_of)
    found = []
    for row in rows:
        decided = row["decided_us"] if row["decided"] else None
        version = versions[row["agreement_version"]]
        found.append(
            {
                "lead": row["key"],
                "owner": row["owner"],
                "status": OVERDUE if decided is None else DECIDED_LATE,
                "handed_at": iso(from_micros(row["handed_us"])),
                "due_at": iso(from_micros(row["due_us"])),
                "decided_at": None if decided is None else iso(from_micros(decided)),
                # The version that judged it (as of `as_of`): after a restatement, not the
                # one its entries name, which is the version they were recorded under.
                "judged_by_version": row["agreement_version"],
                # Unrounded, as data (SPEC §5); a table rounds it.
                "hours_past_due": version.response_hours(
                    row["due_us"], as_of_us if decided is None else decided),
            }
        )
    return found


def handoff_standing(
    app: HandoffApp, key: str, handed_at: str | None, as_of: datetime | None = None
) -> dict[str, Any]:
    """How the lead's latest handoff (made at `handed_at`, as the lead shows it as of
    `as_of`, default now) stands then, as `lead list` says it: `due_at`, `handoff` its
    outcome (in_time, late, pending, overdue) and `judged_by_version` the version judging
    it (after a restatement, not the one its entry names); all null for a lead never
    handed, or whose latest handoff was made under no agreement."""
    if handed_at is None:
        return {"due_at": None, "handoff": None, "judged_by_version": None}
    with projected(app) as conn:
        as_of = as_of or app.clock()
        found = handoff_of_lead(conn, scope_at(app.agreement_register(), as_of, None),
                                lead_id(key).hex, micros(datetime.fromisoformat(handed_at)))
    if found is None:
        return {"due_at": None, "handoff": None, "judged_by_version": None}
    return {"due_at": iso(from_micros(found["due_us"])), "handoff": found["outcome"],
            "judged_by_version": found["agreement_version"]}


def unknown_owner(app: HandoffApp, owner: str) -> str | None:
    """When no lead was ever handed to `owner` (a filter a typo made, `--owner Sam` for
    sam, which lists nothing and exits 0 for ever in a cron job), what to say of it, with
    the owners of that name but for case, spaces at either end or a letter; None when
    some lead was."""
    from handoff.projections.schema import handoff

    return _never(app, handoff.c.owner, owner, "handed to")


def unknown_source(app: HandoffApp, source: str) -> str | None:
    """As `unknown_owner`, for a source no lead was ever captured from (`--source Web`)."""
    from handoff.projections.schema import lead

    return _never(app, lead.c.source, source, "captured from")


def _never(app: HandoffApp, column: Any, name: str, done: str) -> str | None:
    """The note for a filter naming what `column` never held, with the names it holds
    that read alike but for case, spaces at either end or a letter; None when it holds
    `name`."""
    import difflib

    from sqlalchemy import select

    with projected(app) as conn:
        names = list(conn.execute(select(column).distinct()).scalars())
    if name in names:
        return None
    near = sorted({n for n in names if n.strip().casefold() == name.strip().casefold()}
                  | set(difflib.get_close_matches(name, names, n=3)))
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    return f"note: no lead was ever {done} {name!r}{hint}"


def _versions(register: AgreementRegister) -> dict[int, KnownVersion]:
    """Each version's business-time rules on microseconds (projections.due: the calendar's
    own answers, without a time-zone conversion per question)."""
    return {v.number: KnownVersion(v.number, micros(v.applied_at), v.terms)
            for v in register.versions}


def alarm(found: list[dict[str, Any]]) -> bool:
    """The alarm (`sla breaches` exit status 3) sounds for an open overdue handoff among
    the breaches asked about; one decided late is history and sounds none."""
    return any(row["status"] == OVERDUE for row in found)


@dataclass(frozen=True)
class PendingHandoff:
    """A handoff still undecided and not yet due, with the calendar of the version that set
    its due instant."""

    lead: str
    owner: str
    handed_at: datetime
    due_at: datetime
    calendar: BusinessCalendar

    def hours_left(self, at: datetime) -> float:
        """The business hours from `at` to the due instant, at most the whole window: a
        handoff dated a few minutes ahead (a clock's skew) has not started its clock."""
        return self.calendar.business_hours_between(max(at, self.handed_at), self.due_at)

    def window_used(self, at: datetime) -> Fraction:
        return window_used(self.calendar, self.handed_at, self.due_at, at)


def pending_handoffs(app: HandoffApp, as_of: datetime | None = None) -> list[PendingHandoff]:
    """The handoffs pending at `as_of` (default now), soonest due first, as recorded by
    then."""
    with projected(app) as conn:
        as_of = as_of or app.clock()
        register = app.agreement_register()
        rows = pending(conn, scope_at(register, as_of, None))
    calendars = {v.number: v.terms.calendar for v in register.versions}
    return [
        PendingHandoff(row["key"], row["owner"], from_micros(row["handed_us"]),
                       from_micros(row["due_us"]), calendars[row["agreement_version"]])
        for row in rows
    ]


def sla_due(
    app: HandoffApp, within: timedelta | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    """The handoffs pending now (undecided, not yet due), soonest due first; with `within`,
    only those due before that much time has passed; with `owner`, only that owner's.
    `business_hours_left` is in business hours, from now to the due instant, under the
    version that set it."""
    now = app.clock()
    found = []
    for handoff in pending_handoffs(app, now):
        if within is not None and handoff.due_at > now + within:
            break
        if owner is not None and handoff.owner != owner:
            continue
        found.append(
            {
                "lead": handoff.lead,
                "owner": handoff.owner,
                "handed_at": iso(handoff.handed_at),
                "due_at": iso(handoff.due_at),
                "business_hours_left": handoff.hours_left(now),
            }
        )
    return found


def scope_at(register: AgreementRegister, as_of: datetime, period: Period | None) -> Scope:
    """The read model's view at `as_of` of the handoffs (in `period`, when given), under
    the agreement versions applied by then."""
    return Scope(
        basis="flow",
        by=None,
        start_us=0 if period is None else micros(period.start),
        end_us=0 if period is None else micros(period.end),
        as_of_us=micros(as_of),
        all_versions_known=all(v.applied_at <= as_of for v in register.versions),
    )
