"""Which leads a correction (SPEC §2) has touched, from the read model when it is caught up;
and a lead's key (or a day's traffic's day) as the read model holds it, for a record the log
no longer names, or for a key typed in another case.

Every correction the projection meets moves the lead's rows to `read_event_past`
(`page.Batch.lead_corrected`), so the leads with rows there are the corrected ones:
found from a small table instead of a scan of the whole event log for a few kinds of
entry (the csv export: 1.3 s of ~12 at a million events). Read with the event store's
own connection, as one state (`report_now.reading`); None when the read model is missing,
made by another release (`versions`), or (for the corrected leads) behind the log, for the
caller to ask the log itself.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from eventsourcing.persistence import PersistenceError

from handoff import eventstore
from handoff.projections.report_now import reading

if TYPE_CHECKING:
    from handoff.application import HandoffApp


def corrected_leads(app: HandoffApp) -> set[str] | None:
    """The lead ids (hex) with a correction recorded, if the projection has every event."""
    last_event = eventstore.last_notification_id(app)
    try:
        with reading(app) as reader:
            if not reader.of_this_release() or reader.position() < last_event:
                return None
            leads = reader.rows(
                "SELECT lead_id FROM read_lead WHERE lead_ref IN"
                " (SELECT DISTINCT lead_ref FROM read_event_past)"
            )
    except PersistenceError:  # no read model yet, or an older one
        return None
    return {lead_id for (lead_id,) in leads}


def projected_key(app: HandoffApp, lead_id: str) -> str | None:
    """The key of a lead (its id as hex) as the read model holds it: a lead whose entries
    were removed from the log underneath handoff is still named (`audit`); None when the
    read model has no such lead.

    Read as the model stands, even behind the log, and not caught up first: a lead's key
    is its capture's, which no later entry changes (its id is derived from the key), so a
    model yet to project the latest entries names every lead it holds rightly, and a
    catch-up could add none whose entries are gone; it would only project the entries of a
    log the audit found changed, and fails for a user who may only read. A model a rebuild
    has emptied meanwhile names none (nor will it once rebuilt)."""
    try:
        with reading(app) as reader:
            if not reader.of_this_release():
                return None
            found = reader.rows('SELECT "key" FROM read_lead WHERE lead_id = {0}', lead_id)
    except PersistenceError:  # no read model yet, or an older one
        return None
    return str(found[0][0]) if found else None


def projected_day(app: HandoffApp, day_id: str) -> str | None:
    """The day (ISO) of a day's traffic (its id as hex) as the read model holds its visits,
    read as `projected_key` reads a lead's key: a day whose entries were removed from the
    log underneath handoff is still named (`audit`); None when the model has no such day."""
    from handoff.domain.traffic import traffic_day_id

    try:
        with reading(app) as reader:
            if not reader.of_this_release():
                return None
            days = reader.rows("SELECT DISTINCT day FROM read_visits")
    except PersistenceError:  # no read model yet, or an older one
        return None
    return next((str(day) for (day,) in days
                 if traffic_day_id(date.fromisoformat(str(day))).hex == day_id), None)


def keys_but_for_case(app: HandoffApp, key: str) -> list[str]:
    """The keys of the leads the read model holds that read as `key` but for letter case
    (`L1` for `l1`), sorted: what a refusal of an unknown lead may suggest, since keys tell
    case apart. Read as the model stands, not caught up first (as `projected_key`): a hint
    on an error's path, which must neither write nor fail; none when there is no model."""
    try:
        with reading(app) as reader:
            if not reader.of_this_release():
                return []
            found = reader.rows('SELECT "key" FROM read_lead WHERE length("key") = {0}',
                                len(key))
    except PersistenceError:  # no read model yet, or an older one
        return []
    wanted = key.casefold()
    return sorted(str(k) for (k,) in found if str(k) != key and str(k).casefold() == wanted)
