"""Binds features/import.feature: what importing a file does to what is recorded.

The steps run the import use case (`Importer` over `read_rows`), as `handoff import` does,
and read its report and the leads back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from handoff.application import HandoffApp
from handoff.backup import backup_lines, restore
from handoff.crm import CrmImport, import_reading
from handoff.crm.hubspot import read_hubspot
from handoff.crm.salesforce import read_salesforce
from handoff.crm.steps import DETAILS_KEPT
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import Refused, UnknownLead
from handoff.importer import Importer, ImportReport, read_rows
from handoff.store import locate
from handoff.verification.world import (
    AGREEMENT,
    WHEN,
    FakeClock,
    actor_id,
    agreement_toml,
    build_lead,
    local_at,
    put_in_force,
    story_day,
    story_instant,
)
from handoff.views import lead_summary

FEATURES = ("import.feature",)
HEADER = "lead,event,at,actor,source,amount,visits\n"


def import_rows(app: HandoffApp, actor: str, rows: str) -> ImportReport:
    return Importer(app, actor_id(actor)).run(read_rows(HEADER + rows))


@given(parsers.re(rf'a lead "(?P<key>[^"]+)" won for (?P<amount>\d+) {WHEN}'))
def _(app: HandoffApp, key: str, amount: str, day: str, time: str) -> None:
    build_lead(app, key, "accepted")
    app.record(key, "proposal", "sam", local_at("Monday", "12:00"), amount=amount)
    app.record(key, "won", "sam", local_at(day, time), amount=amount)


@given(
    parsers.re(r"a traffic file that records (?P<first>\d+) visits on (?P<day>\w+) and then "
               r"(?P<second>\d+)"),
    target_fixture="traffic_rows",
)
def _(first: str, day: str, second: str) -> str:
    at = story_day(day).isoformat()
    return f",visits,{at},li,,,{first}\n,visits,{at},li,,,{second}\n"


@when(
    parsers.re(rf'(?P<actor>\w+) imports a win of "(?P<key>[^"]+)" for (?P<amount>[\d.]+) {WHEN}'),
    target_fixture="imported",
)
def _(app: HandoffApp, actor: str, key: str, amount: str, day: str, time: str) -> ImportReport:
    return import_rows(app, actor, f"{key},won,{local_at(day, time)},sam,,{amount},\n")


@when(
    parsers.re(rf'(?P<actor>\w+) imports a capture of "(?P<key>[^"]+)" from "(?P<source>\w+)" '
               rf"{WHEN}"),
    target_fixture="imported",
)
def _(app: HandoffApp, actor: str, key: str, source: str, day: str, time: str) -> ImportReport:
    return import_rows(app, actor, f"{key},captured,{local_at(day, time)},{actor},{source},,\n")


@when(parsers.re(r"(?P<actor>\w+) imports it (?P<times>\d+) times"), target_fixture="imported")
def _(app: HandoffApp, actor: str, traffic_rows: str, times: str) -> ImportReport:
    reports = [import_rows(app, actor, traffic_rows) for _ in range(int(times))]
    assert all(r.ok for r in reports), [r.errors for r in reports]
    return reports[-1]


# The steps a story corrects, by their business noun.
CORRECTED = {"acceptance": "accepted", "win": "won"}


def entry_of(app: HandoffApp, key: str, noun: str) -> int:
    """The number (as `lead history` shows it) of the lead's step of that noun."""
    return next(f.n for f in app.lead(key).facts() if f.name == CORRECTED[noun])


@given(parsers.re(r'(?P<actor>\w+) voided the (?P<noun>acceptance|win) of "(?P<key>[^"]+)" '
                  r'because "(?P<why>[^"]+)"'))
def _(app: HandoffApp, actor: str, noun: str, key: str, why: str) -> None:
    app.void(key, entry_of(app, key, noun), why, actor_id(actor))


@given(parsers.re(r'(?P<actor>\w+) amended the win of "(?P<key>[^"]+)" to (?P<amount>\d+) '
                  r'because "(?P<why>[^"]+)"'))
def _(app: HandoffApp, actor: str, key: str, amount: str, why: str) -> None:
    app.amend(key, entry_of(app, key, "win"), why, actor_id(actor), amount=amount)


@when(
    parsers.re(rf'(?P<actor>\w+) imports an acceptance of "(?P<key>[^"]+)" by (?P<by>\w+) '
               rf"{WHEN}"),
    target_fixture="imported",
)
def _(app: HandoffApp, actor: str, key: str, by: str, day: str, time: str) -> ImportReport:
    return import_rows(app, actor, f"{key},accepted,{local_at(day, time)},{actor_id(by)},,,\n")


@then(parsers.re(r'the import is refused at line (?P<line>\d+), saying "(?P<text>[^"]+)"'))
def _(imported: ImportReport, line: str, text: str) -> None:
    assert [e.line for e in imported.errors] == [int(line)], imported.errors
    assert text in imported.errors[0].reason, imported.errors


@then(parsers.re(r"the import skips (?P<count>\d+) rows? as already recorded"))
def _(imported: ImportReport, count: str) -> None:
    assert imported.ok, imported.errors
    assert (imported.recorded, imported.skipped) == (0, int(count))


@then(parsers.re(r"the deal is still won for (?P<amount>\d+)"))
def _(app: HandoffApp, amount: str) -> None:
    summary = lead_summary(app.lead("ACME-1"))
    assert (summary["state"], summary["won_amount"]) == ("won", Decimal(amount))


@then(parsers.re(r"(?P<day>\w+)'s visits are (?P<visits>\d+)"))
def _(app: HandoffApp, day: str, visits: str) -> None:
    assert app.traffic_day(story_day(day)).visits == int(visits)


@then(parsers.re(r"(?P<day>\w+)'s visits were recorded (?P<times>\d+) times"))
def _(app: HandoffApp, day: str, times: str) -> None:
    assert len(app.traffic_day(story_day(day)).counts) == int(times)


@then(parsers.re(r'the lead "(?P<key>[^"]+)" exists'))
def _(app: HandoffApp, key: str) -> None:
    assert app.lead(key).key == key


@then(parsers.re(r'the lead "(?P<key>[^"]+)" is (?P<state>\w+) to (?P<owner>\w+)'))
def _(app: HandoffApp, key: str, state: str, owner: str) -> None:
    summary = lead_summary(app.lead(key))
    assert (summary["state"], summary["owner"]) == (state, actor_id(owner))


@then(parsers.re(r'the lead "(?P<key>[^"]+)" does not exist'))
def _(app: HandoffApp, key: str) -> None:
    with pytest.raises(UnknownLead):
        app.lead(key)


HUBSPOT_HEADER = (
    "Record ID,Contact owner,Lifecycle Stage,Create Date,Original Source,"
    "Became a Sales Qualified Lead Date\n"
)


@given(
    parsers.re(
        r'a HubSpot contact "(?P<key>[^"]+)" created on (?P<created_day>\w+) at '
        r"(?P<created_time>\d{1,2}:\d{2}), owned by (?P<owner>\w+) and sales qualified "
        rf"{WHEN}"
    ),
    target_fixture="hubspot_export",
)
def _(key: str, created_day: str, created_time: str, owner: str, day: str, time: str) -> str:
    created = local_at(created_day, created_time).replace("T", " ")
    qualified = local_at(day, time).replace("T", " ")
    return HUBSPOT_HEADER + (
        f"{key},{actor_id(owner)},Sales Qualified Lead,{created},Organic Search,{qualified}\n"
    )


@when(parsers.re(r"(?P<actor>\w+) imports the HubSpot export"), target_fixture="crm_import")
def _(app: HandoffApp, actor: str, hubspot_export: str) -> CrmImport:
    zone_for_day = app.zone_for_day(app.agreement_register())
    reading = read_hubspot(Path("contacts.csv"), zone_for_day, hubspot_export)
    done = import_reading(app, actor_id(actor), reading)
    assert done.ok, [str(e) for e in done.errors]
    return done


@then(
    parsers.re(
        r'the lead "(?P<key>[^"]+)" was qualified, handed to (?P<owner>\w+) and accepted by '
        rf"(?P<by>\w+) {WHEN}"
    )
)
def _(app: HandoffApp, key: str, owner: str, by: str, day: str, time: str) -> None:
    at = story_instant(app, day, time)
    later = [(s.name, s.occurred_at, s.actor, s.data.get("owner")) for s in app.lead(key).steps][1:]
    assert later == [
        ("qualified", at, "maria", None),
        ("handed", at, "maria", actor_id(owner)),
        ("accepted", at, actor_id(by), None),
    ]


# A week's contacts export, one contact: the columns a later export may have moved.
HUBSPOT_WEEK_HEADER = (
    "Record ID,Contact owner,Owner Assigned Date,Lead Status,Lifecycle Stage,Create Date,"
    "Original Source,Became a Marketing Qualified Lead Date,Became a Customer Date,"
    "Recent Deal Amount,Last Activity Date,Email\n"
)


def hubspot_contact(**cells: str) -> str:
    """The export of one contact: its cells by column name, in lower case with _, the
    others empty."""
    names = HUBSPOT_WEEK_HEADER.strip().split(",")
    row = [cells.get(name.lower().replace(" ", "_"), "") for name in names]
    return HUBSPOT_WEEK_HEADER + ",".join(row) + "\n"


def hubspot_at(day: str, clock_time: str) -> str:
    """An instant as HubSpot exports it: local time, a space before the time."""
    return local_at(day, clock_time).replace("T", " ")


@given(
    parsers.re(
        rf'a HubSpot contact "(?P<key>[^"]+)" handed to (?P<owner>\w+) {WHEN}, then marked '
        r"(?P<status>\w+) and last active on (?P<last_day>\w+) at "
        r"(?P<last_time>\d{1,2}:\d{2})"
    ),
    target_fixture="hubspot_week",
)
def _(key: str, owner: str, day: str, time: str, status: str, last_day: str,
      last_time: str) -> dict[str, str]:
    return {
        **handed_contact(key, owner, day, time), "lead_status": status,
        "lifecycle_stage": "Marketing Qualified Lead",
        "last_activity_date": hubspot_at(last_day, last_time),
    }


def handed_contact(key: str, owner: str, day: str, clock_time: str) -> dict[str, str]:
    """A contact created on Monday at 09:00, marketing qualified and given its owner then."""
    return {
        "record_id": key, "contact_owner": actor_id(owner),
        "owner_assigned_date": hubspot_at(day, clock_time),
        "create_date": hubspot_at("Monday", "09:00"), "original_source": "Organic Search",
        "became_a_marketing_qualified_lead_date": hubspot_at(day, clock_time),
    }


@given(
    parsers.re(
        rf'a HubSpot customer "(?P<key>[^"]+)" handed to (?P<owner>\w+) {WHEN} and won for '
        r"(?P<amount>\d+) on (?P<won_day>\w+) at (?P<won_time>\d{1,2}:\d{2})"
    ),
    target_fixture="hubspot_week",
)
def _(key: str, owner: str, day: str, time: str, amount: str, won_day: str,
      won_time: str) -> dict[str, str]:
    return {
        **handed_contact(key, owner, day, time), "lifecycle_stage": "Customer",
        "became_a_customer_date": hubspot_at(won_day, won_time), "recent_deal_amount": amount,
        "last_activity_date": hubspot_at(won_day, won_time),
    }


@given(
    parsers.re(
        r'a Salesforce lead "(?P<key>[^"]+)" created on (?P<created_day>\w+) at '
        r'(?P<created_time>\d{1,2}:\d{2}), closed as "(?P<status>[^"]+)" on (?P<closed_day>\w+) at '
        r'(?P<closed_time>\d{1,2}:\d{2})(?:, marked "(?P<again>[^"]+)" on (?P<again_day>\w+) at '
        rf"(?P<again_time>\d{{1,2}}:\d{{2}}))? and given to (?P<owner>\w+) {WHEN}"
    ),
    target_fixture="salesforce_export",
)
def _(tmp_path: Path, key: str, created_day: str, created_time: str, status: str,
      closed_day: str, closed_time: str, again: str | None, again_day: str | None,
      again_time: str | None, owner: str, day: str, time: str) -> list[Path]:
    """The Lead and LeadHistory exports of one lead: its status changes, then its owner's."""
    changes = [(closed_day, closed_time, "Status", status)]
    if again is not None and again_day is not None and again_time is not None:
        changes.append((again_day, again_time, "Status", again))
    changes.append((day, time, "Owner", actor_id(owner)))
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    created = local_at(created_day, created_time)
    leads.write_text(f"Id,CreatedDate,LeadSource\n{key},{created},Web\n")
    history.write_text("LeadId,CreatedDate,Field,NewValue\n" + "".join(
        f"{key},{local_at(d, t)},{field},{value}\n" for d, t, field, value in changes))
    return [leads, history]


def user_id(name: str) -> str:
    """A Salesforce user's id (15 characters, starting 005) made of a person's name."""
    return f"005{actor_id(name).upper():0<12.12}"


@given(
    parsers.re(
        r'a Salesforce lead "(?P<key>[^"]+)" created on (?P<created_day>\w+) at '
        r"(?P<created_time>\d{1,2}:\d{2}), owned by (?P<owner>\w+)'s user id and set to "
        rf'"(?P<status>[^"]+)" {WHEN}'
    ),
    target_fixture="salesforce_export",
)
def _(tmp_path: Path, key: str, created_day: str, created_time: str, owner: str,
      status: str, day: str, time: str) -> list[Path]:
    """The Lead export naming the lead's owner by id (as Data Loader writes it), and the
    LeadHistory export of its one change of status."""
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    leads.write_text("Id,CreatedDate,LeadSource,OwnerId\n"
                     f"{key},{local_at(created_day, created_time)},Web,{user_id(owner)}\n")
    history.write_text(f"LeadId,CreatedDate,Field,NewValue\n{key},{local_at(day, time)},"
                       f"Status,{status}\n")
    return [leads, history]


@given(parsers.re(r"the Salesforce history gives another lead to (?P<owner>\w+), naming "
                  r"(?P=owner)'s user id"))
def _(salesforce_export: list[Path], owner: str) -> None:
    """Another lead, captured on Monday at 09:00 and given to the owner at 10:00: the change
    written twice, as Salesforce writes it (the new owner's id, then their name)."""
    leads, history = salesforce_export
    other, created, given = "00Q9", local_at("Monday", "09:00"), local_at("Monday", "10:00")
    with leads.open("a") as rows:
        rows.write(f"{other},{created},Web,{user_id(owner)}\n")
    with history.open("a") as rows:
        rows.write(f"{other},{given},Owner,{user_id(owner)}\n"
                   f"{other},{given},Owner,{actor_id(owner)}\n")


@when(parsers.re(r"(?P<actor>\w+) imports the Salesforce export"), target_fixture="crm_import")
def _(app: HandoffApp, actor: str, salesforce_export: list[Path]) -> CrmImport:
    zone_for_day = app.zone_for_day(app.agreement_register())
    done = import_reading(app, actor_id(actor), read_salesforce(salesforce_export, zone_for_day))
    assert done.ok, [str(e) for e in done.errors]
    return done


@then(parsers.re(r'the lead "(?P<key>[^"]+)" is still captured, handed to nobody'))
def _(app: HandoffApp, key: str) -> None:
    summary = lead_summary(app.lead(key))
    assert (summary["state"], summary["owner"], summary["handoffs"]) == ("captured", None, 0)


def import_hubspot(app: HandoffApp, actor: str, export: str) -> CrmImport:
    zone_for_day = app.zone_for_day(app.agreement_register())
    reading = read_hubspot(Path("contacts.csv"), zone_for_day, export)
    return import_reading(app, actor_id(actor), reading)


@given(parsers.re(r"(?P<actor>\w+) imported the HubSpot export"))
def _(app: HandoffApp, actor: str, hubspot_week: dict[str, str]) -> None:
    done = import_hubspot(app, actor, hubspot_contact(**hubspot_week))
    assert done.ok, [str(e) for e in done.errors]


@when(
    parsers.re(
        r"the contact is (?:last active|reassigned to (?P<owner>\w+)) on (?P<day>\w+) at "
        r"(?P<time>\d{1,2}:\d{2}) and (?P<actor>\w+) imports the HubSpot export again"
    ),
    target_fixture="imported",
)
def _(app: HandoffApp, hubspot_week: dict[str, str], owner: str | None, day: str, time: str,
      actor: str) -> ImportReport:
    moved = {"last_activity_date": hubspot_at(day, time)}
    if owner is not None:
        moved = {"contact_owner": actor_id(owner), "owner_assigned_date": hubspot_at(day, time)}
    done = import_hubspot(app, actor, hubspot_contact(**{**hubspot_week, **moved}))
    assert done.ok, [str(e) for e in done.errors]
    return done.report


@when(
    parsers.re(
        r'the contact\'s e-mail is changed to "(?P<email>[^"]+)" and (?P<actor>\w+) imports the '
        r"HubSpot export again"
    ),
    target_fixture="crm_import",
)
def _(app: HandoffApp, hubspot_week: dict[str, str], email: str, actor: str) -> CrmImport:
    done = import_hubspot(app, actor, hubspot_contact(**{**hubspot_week, "email": email}))
    assert done.ok, [str(e) for e in done.errors]
    return done


@then(
    parsers.re(r"the import skips (?P<count>\d+) rows as already recorded and says (?P<changed>\d+)"
               r" contacts?'s? details changed since")
)
def _(crm_import: CrmImport, count: str, changed: str) -> None:
    assert crm_import.report.skipped == int(count), crm_import.report
    assert crm_import.reading.left_out.get(DETAILS_KEPT) == int(changed), crm_import.reading


@then(parsers.re(r'the lead "(?P<key>[^"]+)" still has the e-mail it was captured with'))
def _(app: HandoffApp, key: str) -> None:
    assert lead_summary(app.lead(key))["email"] is None  # the first export had none


@then(parsers.re(rf'the lead "(?P<key>[^"]+)" was rejected by (?P<by>\w+) {WHEN}'))
def _(app: HandoffApp, key: str, by: str, day: str, time: str) -> None:
    steps = [(s.name, s.occurred_at, s.actor) for s in app.lead(key).steps]
    assert steps[-1] == ("rejected", story_instant(app, day, time), actor_id(by)), steps
    assert [name for name, _, _ in steps].count("rejected") == 1, steps


@then(parsers.re(rf'the lead "(?P<key>[^"]+)" was handed to (?P<owner>\w+) {WHEN} and is won'))
def _(app: HandoffApp, key: str, owner: str, day: str, time: str) -> None:
    handoffs = [(s.occurred_at, s.data.get("owner")) for s in app.lead(key).steps
                if s.name == "handed"]
    assert handoffs == [(story_instant(app, day, time), actor_id(owner))]
    assert lead_summary(app.lead(key))["state"] == "won"


@then(parsers.re(r"the import says (?P<count>\d+) stages HubSpot skipped were recorded so"))
def _(crm_import: CrmImport, count: str) -> None:
    assert crm_import.reading.filled == int(count)


# -- restoring a backup (`export --format jsonl`, then `import`) ----------------------------


def backup_of(tmp_path: Path, clock: FakeClock, record: Callable[[HandoffApp], Any]) -> str:
    """The backup of a store of its own on which `record` was done."""
    source = HandoffApp(locate(str(tmp_path / "source.sqlite")), clock=clock)
    try:
        record(source)
        return "".join(backup_lines(source))
    finally:
        source.close()


@given(
    parsers.re(rf'a backup of the lead "(?P<key>[^"]+)" captured {WHEN} and qualified '
               r"on (?P<then_day>.+?) at (?P<then_time>\d{1,2}:\d{2})"),
    target_fixture="backup",
)
def _(tmp_path: Path, clock: FakeClock, key: str, day: str, time: str, then_day: str,
      then_time: str) -> str:
    def record(source: HandoffApp) -> None:
        source.capture(key, "webinar", "maria", at=local_at(day, time))
        source.record(key, "qualified", "maria", local_at(then_day, then_time))

    return backup_of(tmp_path, clock, record)


@given(
    parsers.re(rf'a backup of the lead "(?P<key>[^"]+)" handed over to (?P<owner>\w+) {WHEN} '
               r"under the agreement"),
    target_fixture="backup",
)
def _(tmp_path: Path, clock: FakeClock, key: str, owner: str, day: str, time: str) -> str:
    def record(source: HandoffApp) -> None:
        put_in_force(source, parse_agreement(agreement_toml(AGREEMENT)))
        at = local_at(day, time)
        source.capture(key, "webinar", "maria", at=at)
        source.record(key, "qualified", "maria", at)
        source.record(key, "handed", "li", at, owner=actor_id(owner))

    return backup_of(tmp_path, clock, record)


@given(
    parsers.re(rf'a backup of the lead "(?P<key>[^"]+)" handed over to (?P<owner>\w+) {WHEN}, '
               r"recorded the day after the agreement was revised"),
    target_fixture="backup",
)
def _(tmp_path: Path, clock: FakeClock, key: str, owner: str, day: str, time: str) -> str:
    """Under the agreement and its revision (same name, 16 business hours), both covering
    the day the lead was handed over."""
    def record(source: HandoffApp) -> None:
        put_in_force(source, parse_agreement(agreement_toml(AGREEMENT)))
        put_in_force(source, parse_agreement(agreement_toml(
            AGREEMENT, {"sales.decide_within_hours": "16"})))
        clock.advance(days=1)
        at = local_at(day, time)
        source.capture(key, "webinar", "maria", at=at)
        source.record(key, "qualified", "maria", at)
        source.record(key, "handed", "li", at, owner=actor_id(owner))

    return backup_of(tmp_path, clock, record)


@given(parsers.re(r"a backup of (?P<visits>\d+) visits recorded for (?P<day>\w+)"),
       target_fixture="backup")
def _(tmp_path: Path, clock: FakeClock, visits: str, day: str) -> str:
    return backup_of(tmp_path, clock,
                     lambda source: source.record_visits(story_day(day), int(visits), "li"))


def edited(backup: str, kind: str, edit: Callable[[dict[str, Any]], None]) -> str:
    """The backup with the state of its entry of this kind (the first) edited by hand."""
    lines = [json.loads(line) for line in backup.splitlines()]
    entry = next(e for e in lines[1:] if e["topic"].endswith(f".{kind}"))
    edit(entry["state"])
    return "".join(json.dumps(line) + "\n" for line in lines)


def restored(app: HandoffApp, text: str) -> Refused | None:
    """`handoff import` of a backup: None when restored, else why it was refused."""
    try:
        restore(app, text)
    except Refused as refusal:
        return refusal
    return None


@when(parsers.re(rf"(?P<actor>\w+) restores it edited so that the lead was qualified {WHEN}"),
      target_fixture="refusal")
def _(app: HandoffApp, backup: str, day: str, time: str) -> Refused | None:
    at = story_instant(app, day, time).isoformat()
    return restored(app, edited(backup, "Qualified", lambda state: state["occurred_at"].update(
        _data_=at)))


@when(parsers.re(r"(?P<actor>\w+) restores it edited so that (?P<day>\w+) had "
                 r"(?P<visits>\d+) visits"), target_fixture="refusal")
def _(app: HandoffApp, backup: str, visits: str) -> Refused | None:
    return restored(app, edited(backup, "VisitsRecorded",
                                lambda state: state.update(visits=int(visits))))


@when(parsers.re(r"(?P<actor>\w+) restores it edited so that (?P<other>\w+) handed it over"),
      target_fixture="refusal")
def _(app: HandoffApp, backup: str, other: str) -> Refused | None:
    return restored(app, edited(backup, "Handed", lambda state: state.update(
        actor=actor_id(other))))


@when(parsers.re(r"(?P<actor>\w+) restores it edited so that (?P<other>\w+) signed the "
                 r"agreement"), target_fixture="refusal")
def _(app: HandoffApp, backup: str, other: str) -> Refused | None:
    return restored(app, edited(backup, "VersionSigned", lambda state: state.update(
        actor=actor_id(other))))


@when(parsers.re(r"(?P<actor>\w+) restores it edited so that the agreement in force gives "
                 r"sales (?P<hours>\d+) business hours"), target_fixture="refusal")
def _(app: HandoffApp, backup: str, hours: str) -> Refused | None:
    return restored(app, edited(backup, "VersionApplied", lambda state: state["document"][
        "sales"].update(decide_within_hours=hours)))


@when(parsers.re(r"(?P<actor>\w+) restores it edited so that the handoff names version "
                 r"(?P<number>\d+) of the agreement"), target_fixture="refusal")
def _(app: HandoffApp, backup: str, number: str) -> Refused | None:
    return restored(app, edited(backup, "Handed", lambda state: state.update(
        agreement_version=int(number))))


@when(parsers.re(r"(?P<actor>\w+) restores it as it was exported"), target_fixture="refusal")
def _(app: HandoffApp, backup: str) -> Refused | None:
    refusal = restored(app, backup)
    assert refusal is None, refusal
    return refusal


@when(parsers.re(r"(?P<actor>\w+) restores only its first (?P<count>\d+) lines"),
      target_fixture="refusal")
def _(app: HandoffApp, backup: str, count: str) -> Refused | None:
    return restored(app, "".join(backup.splitlines(keepends=True)[: int(count)]))


@when(parsers.re(r"(?P<actor>\w+) restores it without its line (?P<line>\d+)"),
      target_fixture="refusal")
def _(app: HandoffApp, backup: str, line: str) -> Refused | None:
    lines = backup.splitlines(keepends=True)
    return restored(app, "".join(lines[: int(line) - 1] + lines[int(line):]))


@then(parsers.re(r'the restore is refused, saying "(?P<text>[^"]+)"'))
def _(refusal: Refused | None, text: str) -> None:
    assert refusal is not None, "the backup was restored"
    assert text in str(refusal), refusal


@then(parsers.re(r'the restore is refused at line (?P<line>\d+), saying "(?P<text>[^"]+)"'))
def _(refusal: Refused | None, line: str, text: str) -> None:
    assert refusal is not None, "the backup was restored"
    assert str(refusal).startswith(f"line {line}: "), refusal
    assert text in str(refusal), refusal


@then("the store is still empty")
def _(app: HandoffApp) -> None:
    assert list(backup_lines(app))[1:-1] == []  # the header and the count alone
