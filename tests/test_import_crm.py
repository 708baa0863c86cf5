"""`import --from hubspot|salesforce` (SPEC §8): CRM exports, mapped as the README says.

The fixtures are written from the CRMs' published column lists; every expected count and
figure below is worked out by hand from their rows (Chicago time, CST = UTC-6 in the first
week of March 2026; business hours 09:00-17:00 Monday to Friday, 8 to decide).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff

FIXTURES = Path(__file__).parent / "fixtures"
HUBSPOT = FIXTURES / "hubspot_contacts.csv"
SALESFORCE = FIXTURES / "salesforce"
AGREEMENT = """\
name = "2026 agreement"
effective_from = 2026-01-01
timezone = "America/Chicago"

[goal]
revenue = 1200000
average_deal = 30000

[calendar]
workdays = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00", "17:00"]

[sales]
decide_within_hours = 8
"""


@pytest.fixture
def signed(handoff: Handoff, tmp_path: Path) -> Handoff:
    """A store whose agreement (in Chicago time) is in force from 2026."""
    terms = tmp_path / "agreement.toml"
    terms.write_text(AGREEMENT)
    handoff.ok("sla", "apply", str(terms))
    return handoff


def march(handoff: Handoff) -> Any:
    return handoff.json("kpi", "--month", "2026-03")


def steps(handoff: Handoff, key: str) -> list[tuple[str, str, Any]]:
    """A lead's history as (event, occurred_at, its datum)."""
    return [
        (e["event"], e["occurred_at"], e.get("owner") or e.get("amount") or e.get("reason"))
        for e in handoff.json("lead", "history", key)
    ]


# -- HubSpot ----------------------------------------------------------------------------


def test_a_hubspot_export_gives_the_kpis_its_contacts_say(signed: Handoff) -> None:
    out = signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    # 9 contacts: 107 is only a subscriber; the others give 6+4+4+3+1+6+4+5 steps.
    assert "imported 9 HubSpot contacts: 33 steps, 33 recorded, 0 skipped" in out
    assert "left out: contacts that never became leads" in out
    assert "left out: open opportunities whose proposal is not recorded" in out
    kpi = march(signed)
    assert kpi["counts"] == {
        "visits": 0, "captured": 8, "qualified": 7, "handed": 7, "accepted": 5,
        "rejected": 1, "contacted": 0, "proposal": 2, "won": 2, "lost": 1,
    }
    assert kpi["revenue_won"] == 42000.5  # 101's 24000 and 106's Total Revenue 18000.50
    # In time: 101 (4 h), 103 (3 h), 106 (0 h), 108 (2.5 h), 109 (1 h 50 + 30 min);
    # late: 102 (handed Monday 15:30, due Tuesday 15:30, accepted Wednesday 10:00, 10.5 h);
    # overdue: 104 (handed Wednesday 09:05, never accepted).
    assert kpi["sla"] == {
        "handoffs": 7, "decided_in_time": 5, "decided_late": 1, "pending": 0, "overdue": 1,
        "breached": 2, "compliance": 5 / 7, "median_response_hours": 2.75,
    }


def test_an_export_piped_in_is_read_as_a_file_is(signed: Handoff, tmp_path: Path) -> None:
    """`curl ... | handoff import /dev/stdin --from hubspot` in a cron job: a pipe is read
    once, from its start (it was refused: 'underlying stream is not seekable')."""
    pipe = tmp_path / "contacts.csv"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_bytes(HUBSPOT.read_bytes()), daemon=True)
    writer.start()
    out = signed.ok("import", str(pipe), "--from", "hubspot")
    writer.join(timeout=10)
    assert "imported 9 HubSpot contacts: 33 steps, 33 recorded, 0 skipped" in out


def test_hubspot_dates_are_local_to_the_agreement_and_stages_map_one_by_one(
    signed: Handoff,
) -> None:
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    assert steps(signed, "101") == [
        ("captured", "2026-03-02T14:10:00Z", None),  # 08:10 in Chicago
        ("qualified", "2026-03-02T15:30:00Z", None),
        ("handed", "2026-03-02T16:00:00Z", "Sam Ortiz"),  # when the owner was assigned
        ("accepted", "2026-03-02T20:00:00Z", None),  # became a sales qualified lead
        ("proposal", "2026-03-03T16:00:00Z", 24000),  # became an opportunity
        ("won", "2026-03-05T22:00:00Z", 24000),  # became a customer
    ]
    shown = signed.json("lead", "show", "101")
    assert (shown["source"], shown["owner"]) == ("Organic Search", "Sam Ortiz")
    # Marketing's steps by the person importing, sales' by the owner it was handed to.
    actors = [e["actor"] for e in signed.json("lead", "history", "101")]
    assert actors == ["maria", "maria", "maria", "Sam Ortiz", "Sam Ortiz", "Sam Ortiz"]


def test_a_hubspot_owner_assigned_before_the_mql_gets_the_lead_when_it_qualifies(
    signed: Handoff,
) -> None:
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    assert steps(signed, "103") == [
        ("captured", "2026-03-03T15:00:00Z", None),
        ("qualified", "2026-03-03T16:00:00Z", None),
        ("handed", "2026-03-03T16:00:00Z", "Sam Ortiz"),  # assigned 20 Feb, before the MQL
        ("rejected", "2026-03-03T19:00:00Z", "Unqualified"),  # at the last activity
    ]
    assert steps(signed, "109")[-1] == ("lost", "2026-03-06T17:00:00Z", "Bad Timing")


def test_stages_hubspot_skipped_are_recorded_at_the_next_stage(signed: Handoff) -> None:
    out = signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    assert "2 stages HubSpot skipped are recorded at the instant of the next stage" in out
    at = "2026-03-05T17:00:00Z"  # 106 went straight to sales qualified at 11:00
    assert steps(signed, "106") == [
        ("captured", "2026-03-02T15:00:00Z", None),  # no Lead date: its Create Date
        ("qualified", at, None),
        ("handed", at, "Sam Ortiz"),
        ("accepted", at, None),
        ("proposal", at, 18000.5),
        ("won", "2026-03-06T18:00:00Z", 18000.5),
    ]


def test_reimporting_a_hubspot_export_records_nothing_twice(signed: Handoff) -> None:
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    out = signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    assert "33 steps, 0 recorded, 33 skipped (already recorded)" in out
    assert march(signed)["counts"]["captured"] == 8


def test_a_later_export_reads_each_lead_from_the_store_once(
    signed: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export's leads are walked beside what the store holds, then checked: one read."""
    from handoff.application import HandoffApp

    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    asked: list[Any] = []
    aggregates = HandoffApp.aggregates

    def counted(app: HandoffApp, ids: list[Any]) -> dict[Any, Any]:
        asked.extend(ids)
        return aggregates(app, ids)

    monkeypatch.setattr(HandoffApp, "aggregates", counted)
    assert "0 recorded, 33 skipped" in signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    assert len(asked) == len(set(asked)) == 8  # the export's eight contacts, each once


def test_a_later_export_adds_only_what_happened_since(signed: Handoff, tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.csv"
    before_closing = '"Connected","Sales Qualified Lead"'  # 109 before sales closed it
    earlier.write_text(
        HUBSPOT.read_text().replace('"Bad Timing","Sales Qualified Lead"', before_closing)
    )
    signed.ok("import", str(earlier), "--from", "hubspot")
    out = signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    assert "33 steps, 1 recorded, 32 skipped" in out  # 109 lost, Friday 11:00


def test_a_later_export_whose_owner_and_status_moved_adds_nothing(
    signed: Handoff, tmp_path: Path
) -> None:
    """HubSpot keeps only the latest owner, and dates a status by the last activity: a week
    later, 101 (won) is reassigned to Ola Berg and 103 (rejected at 13:00) was active again."""
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    later = tmp_path / "later.csv"
    later.write_text(
        HUBSPOT.read_text()
        .replace('"Sam Ortiz","2026-03-02 10:00"', '"Ola Berg","2026-03-09 09:00"')
        .replace('"2026-03-03 09:00","2026-03-03 13:00"', '"2026-03-03 09:00","2026-03-10 09:00"')
    )
    out = signed.ok("import", str(later), "--from", "hubspot")
    assert "33 steps, 0 recorded, 33 skipped" in out
    # As the first export said: handed to Sam Ortiz at 10:00 CST, 103 rejected at 13:00 CST.
    assert ("handed", "2026-03-02T16:00:00Z", "Sam Ortiz") in steps(signed, "101")
    assert [s for s in steps(signed, "103") if s[0] == "rejected"] == [
        ("rejected", "2026-03-03T19:00:00Z", "Unqualified")
    ]


def test_a_later_status_closes_what_sales_accepted_in_handoff_since(
    signed: Handoff, tmp_path: Path
) -> None:
    """104 was handed to Ola Berg (4 March, 09:05 CST); she accepted it in handoff itself.
    The next export marks it Unqualified, last active on 6 March at 12:00 CST: sales had
    accepted it, so it is lost then (not rejected, which the lifecycle would refuse, nor
    skipped, which would keep it open for good)."""
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    signed.ok("lead", "accept", "104", "--at", "2026-03-04T10:00", actor="Ola Berg")
    later = edited(tmp_path, 4, '"New","Marketing Qualified Lead","Marketing contact",'
                   '"2026-03-03 12:00",""', '"Unqualified","Marketing Qualified Lead",'
                   '"Marketing contact","2026-03-03 12:00","2026-03-06 12:00"')
    assert "1 recorded" in signed.ok("import", str(later), "--from", "hubspot")
    last = signed.json("lead", "history", "104")[-1]
    assert (last["event"], last["occurred_at"], last["reason"], last["actor"]) == (
        "lost", "2026-03-06T18:00:00Z", "Unqualified", "Ola Berg")


def test_a_later_owner_before_the_decision_leaves_the_handoff_as_recorded(
    signed: Handoff, tmp_path: Path
) -> None:
    """104, handed to Ola Berg on 4 March, is reassigned to Sam Ortiz on 5 March at 09:00
    and sales qualified at 12:00 (CST): HubSpot keeps only the latest owner. The lead was
    handed once, to Ola Berg, who is taken to have accepted it."""
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    later = edited(tmp_path, 4, '"Ola Berg","2026-03-04 09:05","New","Marketing Qualified Lead"',
                   '"Sam Ortiz","2026-03-05 09:00","New","Sales Qualified Lead"')
    later.write_text(later.read_text().replace(
        '"2026-03-03 12:00","2026-03-04 09:00","","",', '"2026-03-03 12:00","2026-03-04 09:00",'
        '"2026-03-05 12:00","",'))
    assert "1 recorded" in signed.ok("import", str(later), "--from", "hubspot")
    history = signed.json("lead", "history", "104")
    assert [(e["event"], e.get("owner"), e["actor"]) for e in history[2:]] == [
        ("handed", "Ola Berg", "maria"), ("accepted", None, "Ola Berg")]
    assert history[-1]["occurred_at"] == "2026-03-05T18:00:00Z"


def later_salesforce(tmp_path: Path, **appended: str) -> Path:
    """The Salesforce fixture as a later export: rows appended to its files, by name."""
    folder = tmp_path / "later"
    shutil.copytree(SALESFORCE, folder)
    for name, rows in appended.items():
        path = folder / f"{name}.csv"
        path.write_text(path.read_text() + rows)
    return folder


B = "00Q8d000001BbbBEAS"  # Raj Patel: handed to Ola Berg, closed not converted on 4 March
MARIA, SAM = "0058d000000MarAAAQ", "0058d000000SamAAAQ"  # Salesforce users


def lead_history(lead: str, by: str, *changes: tuple[str, str, str, str, str, str]) -> str:
    """LeadHistory rows of a later export, made by that user: each change is (row id,
    CreatedDate, Field, DataType, OldValue, NewValue)."""
    return "".join(
        f'"{row}","false","{lead}","{by}","{created}","{field}","{kind}","{old}","{new}"\n'
        for row, created, field, kind, old, new in changes
    )


def recycled_by_maria(series: str, then: str) -> str:
    """B, closed on 4 March, made marketing qualified again on 10 March, given to Sam Ortiz
    on the 11th, and set to status `then` on the 12th, each at 15:00Z (rows 0178d00000A1BBBB
    + series + 1..3)."""
    return lead_history(
        B, MARIA,
        (f"0178d00000A1BBBB{series}1", "2026-03-10T15:00:00.000Z", "Status", "Text",
         "Closed - Not Converted", "Marketing Qualified"),
        (f"0178d00000A1BBBB{series}2", "2026-03-11T15:00:00.000Z", "Owner", "Text", "Ola Berg",
         "Sam Ortiz"),
        (f"0178d00000A1BBBB{series}3", "2026-03-12T15:00:00.000Z", "Status", "Text",
         "Marketing Qualified", then),
    )


def test_a_lead_the_crm_recycled_since_is_qualified_and_handed_again(
    signed: Handoff, tmp_path: Path
) -> None:
    """B, rejected on 4 March, is made marketing qualified again on 10 March at 15:00Z
    and given to Sam Ortiz at 16:00Z: new facts, recorded (SPEC §2: rejected -> qualified)."""
    signed.ok("import", str(SALESFORCE), "--from", "salesforce")
    history = lead_history(
        B, MARIA,
        ("0178d00000A1BBBBB5", "2026-03-10T15:00:00.000Z", "Status", "Text",
         "Closed - Not Converted", "Marketing Qualified"),
        ("0178d00000A1BBBBB6", "2026-03-10T16:00:00.000Z", "Owner", "Text", "Ola Berg",
         "Sam Ortiz"),
    )
    later = later_salesforce(tmp_path, LeadHistory=history)
    assert "2 recorded" in signed.ok("import", str(later), "--from", "salesforce")
    assert steps(signed, B)[-2:] == [("qualified", "2026-03-10T15:00:00Z", None),
                                     ("handed", "2026-03-10T16:00:00Z", "Sam Ortiz")]


def test_a_later_export_with_a_contact_renamed_keeps_the_details_recorded(
    signed: Handoff, tmp_path: Path
) -> None:
    """A week later, Globex is renamed Globex Corporation on Raj Patel's (B) lead: the rest
    of the export is imported, the change named in the summary, the capture as recorded."""
    signed.ok("import", str(SALESFORCE), "--from", "salesforce")
    later = tmp_path / "later"
    shutil.copytree(SALESFORCE, later)
    leads = later / "Lead.csv"
    leads.write_text(leads.read_text().replace('"Globex"', '"Globex Corporation"'))
    out = signed.ok("import", str(later), "--from", "salesforce")
    assert "19 steps, 0 recorded, 19 skipped" in out
    assert "contact details changed in the CRM since the lead was captured" in out
    assert out.rstrip().endswith(": 1")  # Raj Patel's only
    assert signed.json("lead", "show", B)["company"] == "Globex"


def test_a_reassignment_within_sales_leaves_the_lead_where_it_was(
    signed: Handoff, tmp_path: Path
) -> None:
    """Ann Lee (A), contacted by Sam Ortiz on 2 March, is reassigned to Ola Berg on 3 March
    before it converts: a reassignment within sales adds nothing, and the conversion's
    acceptance signal finds the lead accepted already (it was refused: the dropped
    reassignment set the lead back to handed)."""
    a = "00Q8d000001AaaAEAS"
    reassigned = lead_history(
        a, SAM,
        ("0178d00000A1AAAAB1", "2026-03-03T15:00:00.000Z", "Owner", "EntityId", SAM,
         "0058d000000OlaAAAQ"),
        ("0178d00000A1AAAAB1", "2026-03-03T15:00:00.000Z", "Owner", "Text", "Sam Ortiz",
         "Ola Berg"),
    )
    later = later_salesforce(tmp_path, LeadHistory=reassigned)
    assert "19 steps, 19 recorded" in signed.ok("import", str(later), "--from", "salesforce")
    assert [(e, owner) for e, _, owner in steps(signed, a) if e == "handed"] == [
        ("handed", "Sam Ortiz")]


def test_a_second_working_contacted_status_is_no_second_contact(
    signed: Handoff, tmp_path: Path
) -> None:
    """Ann Lee (A), Working - Contacted on 2 March at 17:30Z, is set back to Open - Not
    Contacted on 3 March and to Working - Contacted again an hour later, before it
    converts: the status says again what was said (README: a second Working - Contacted
    adds nothing); it was recorded as a second contact (3 contacted in March, not 2).
    Handed again after a rejection, a lead's Working - Contacted is a contact of its own."""
    a = "00Q8d000001AaaAEAS"
    flipped = lead_history(
        a, SAM,
        ("0178d00000A1AAAAC1", "2026-03-03T15:00:00.000Z", "Status", "Text",
         "Working - Contacted", "Open - Not Contacted"),
        ("0178d00000A1AAAAC2", "2026-03-03T16:00:00.000Z", "Status", "Text",
         "Open - Not Contacted", "Working - Contacted"),
    )
    recycled = recycled_by_maria("D", "Working - Contacted")
    later = later_salesforce(tmp_path, LeadHistory=flipped + recycled)
    assert "23 steps, 23 recorded" in signed.ok("import", str(later), "--from", "salesforce")
    assert [e for e, _, _ in steps(signed, a)].count("contacted") == 1
    assert [e for e, _, _ in steps(signed, B)][-4:] == [
        "qualified", "handed", "accepted", "contacted"]
    assert march(signed)["counts"]["contacted"] == 3  # Ann Lee, Tom Hill, B once handed again
    assert "0 recorded, 23 skipped" in signed.ok("import", str(later), "--from", "salesforce")


def test_a_lead_recycled_and_closed_again_in_the_crm_is_rejected_again(
    signed: Handoff, tmp_path: Path
) -> None:
    """B, closed on 4 March, is qualified again on 10 March, given to Sam Ortiz on the 11th
    and closed again on the 12th, each dated by Salesforce: a second rejection, recorded."""
    signed.ok("import", str(SALESFORCE), "--from", "salesforce")
    history = recycled_by_maria("C", "Closed - Not Converted")
    later = later_salesforce(tmp_path, LeadHistory=history)
    assert "3 recorded" in signed.ok("import", str(later), "--from", "salesforce")
    assert steps(signed, B)[-1] == ("rejected", "2026-03-12T15:00:00Z", "Closed - Not Converted")


@pytest.mark.parametrize(("row", "lead", "said"), [
    # Tom Hill's opportunity was lost on 20 March: its win after that (12,000 that would
    # vanish from every count, were it dropped).
    ('"0088d00000H1BBBBB3","false","0068d000002OppBBBQ","0058d000000OlaAAAQ",'
     '"2026-03-25T15:00:00.000Z","Closed Won","12000.00","12000.00","2026-03-25","100",'
     '"Closed","2026-03-25T15:00:00.000Z"', "00Q8d000001DddDEAS", "is lost, which is final:"
     " cannot record won"),
    # Ann Lee's was won on 10 March: its loss after that.
    ('"0088d00000H1AAAAA5","false","0068d000002OppAAAQ","0058d000000SamAAAQ",'
     '"2026-03-12T19:00:00.000Z","Closed Lost","27500.00","0.00","2026-03-12","0",'
     '"Omitted","2026-03-12T19:00:00.000Z"', "00Q8d000001AaaAEAS", "is won, which is final:"
     " cannot record lost"),
], ids=["won after lost", "lost after won"])
def test_a_deal_closed_both_ways_is_refused_with_its_line(
    signed: Handoff, tmp_path: Path, row: str, lead: str, said: str
) -> None:
    later = later_salesforce(tmp_path, OpportunityHistory=row + "\n")
    result = signed("import", str(later), "--from", "salesforce")
    assert result.exit_code == 1
    assert f"OpportunityHistory.csv: line 10: lead '{lead}' {said}" in result.stderr


def test_an_owner_assigned_after_the_deal_gets_the_lead_when_marketing_qualified_it(
    signed: Handoff, tmp_path: Path
) -> None:
    """101 with no SQL or opportunity date, its owner (as HubSpot keeps it) assigned on 6
    March at 10:00, after the customer date (5 March, 16:00): handed at the MQL instant
    (2 March, 09:30 CST), the stages between filled in at the win (it was refused: handed
    after the win)."""
    later = edited(tmp_path, 1, '"Sam Ortiz","2026-03-02 10:00"', '"Sam Ortiz","2026-03-06 10:00"')
    later.write_text(later.read_text().replace(
        '"2026-03-02 09:30","2026-03-02 14:00","2026-03-03 10:00",',
        '"2026-03-02 09:30","","",'))
    signed.ok("import", str(later), "--from", "hubspot")
    assert steps(signed, "101")[2] == ("handed", "2026-03-02T15:30:00Z", "Sam Ortiz")


def test_a_later_status_neither_undoes_a_void_nor_closes_a_recycled_lead_again(
    signed: Handoff, tmp_path: Path
) -> None:
    """103, rejected as Unqualified on 3 March: its rejection voided in one store, the lead
    recycled in handoff (qualified, handed to Ola Berg) in another. The next export still
    says Unqualified, last active on 11 March: the same status, nothing new."""
    later = edited(tmp_path, 3, '"2026-03-03 09:00","2026-03-03 13:00"',
                   '"2026-03-03 09:00","2026-03-11 09:00"')
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    rejection = next(e["n"] for e in signed.json("lead", "history", "103")
                     if e["event"] == "rejected")
    signed.ok("lead", "void", "103", str(rejection), "--why", "rejected the wrong contact",
              actor="Sam Ortiz")
    assert "0 recorded" in signed.ok("import", str(later), "--from", "hubspot")
    assert signed.json("lead", "show", "103")["state"] == "handed"  # the void stands
    recycled = Handoff(str(tmp_path / "recycled.sqlite"))
    recycled.ok("sla", "apply", str(tmp_path / "agreement.toml"))
    recycled.ok("import", str(HUBSPOT), "--from", "hubspot")
    recycled.ok("lead", "qualify", "103", "--at", "2026-03-09T09:00")
    recycled.ok("lead", "handoff", "103", "--owner", "Ola Berg", "--at", "2026-03-09T10:00")
    assert "0 recorded" in recycled.ok("import", str(later), "--from", "hubspot")
    assert [e for e, _, _ in steps(recycled, "103")][-2:] == ["qualified", "handed"]


def test_a_stage_decided_in_handoff_is_not_recorded_again_at_the_crms_instant(
    signed: Handoff, tmp_path: Path
) -> None:
    """Ola Berg accepted 104 in handoff at 11:00 CST on 4 March; the next export dates its
    SQL at 12:00: the lead is past that stage, nothing is recorded."""
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    signed.ok("lead", "accept", "104", "--at", "2026-03-04T11:00", actor="Ola Berg")
    later = edited(tmp_path, 4, '"New","Marketing Qualified Lead"', '"New","Sales Qualified Lead"')
    later.write_text(later.read_text().replace(
        '"2026-03-03 12:00","2026-03-04 09:00","","",', '"2026-03-03 12:00","2026-03-04 09:00",'
        '"2026-03-04 12:00","",'))
    assert "0 recorded" in signed.ok("import", str(later), "--from", "hubspot")
    assert [e for e, at, _ in steps(signed, "104")].count("accepted") == 1


def test_a_file_of_steps_is_not_read_as_a_crms_signals(signed: Handoff, tmp_path: Path) -> None:
    """Only what a CRM says through an owner or a status is skipped once the lead is past it:
    a row of a handoff file is a step, and one the lifecycle refuses refuses the file."""
    signed.ok("import", str(HUBSPOT), "--from", "hubspot")
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at,actor,reason\n103,rejected,2026-03-10T09:00,sam,Unqualified\n")
    result = signed("import", str(rows))
    assert result.exit_code == 1
    assert "line 2: lead '103' is rejected: rejected needs a lead in state handed" in result.stderr


CLOSED_BY_MARKETING = "  left out: statuses closing a lead marketing still had (no rejection): {}"


def test_a_status_closing_a_lead_marketing_still_had_is_counted_as_left_out(
    signed: Handoff, tmp_path: Path
) -> None:
    """HubSpot: 501 marked Bad Timing at its last activity (10:30), before its owner was
    assigned (11:00), and 502 marked Unqualified with no owner; Salesforce: set to
    Unqualified before anyone was given the lead. None is a rejection (marketing still had
    the lead), and none was said: the summary counted every other row it did not map."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "Record ID,Lifecycle Stage,Lead Status,Create Date,Became a Marketing Qualified Lead "
        "Date,Contact owner,Owner Assigned Date,Last Activity Date,Original Traffic Source\n"
        "501,Marketing Qualified Lead,Bad Timing,2026-03-02 09:00,2026-03-02 10:00,Sam Ortiz,"
        "2026-03-02 11:00,2026-03-02 10:30,Web\n")
    contacts.write_text(contacts.read_text() + "502,Lead,Unqualified,2026-03-02 09:00,,,,,Web\n")
    out = signed.ok("import", str(contacts), "--from", "hubspot")
    # 501 captured to handed; 502, never handed, marked Unqualified by marketing
    assert "imported 2 HubSpot contacts: 4 steps, 4 recorded" in out
    assert CLOSED_BY_MARKETING.format(2) in out.splitlines()[1:]
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    leads.write_text("Id,CreatedDate,LeadSource\n00Q5,2026-03-02T15:00:00Z,Web\n")
    history.write_text("LeadId,CreatedDate,Field,NewValue\n"
                       "00Q5,2026-03-02T16:00:00Z,Status,Unqualified\n")
    out = signed.ok("import", str(leads), str(history), "--from", "salesforce")
    assert "imported 1 Salesforce lead: 1 step, 1 recorded" in out
    assert CLOSED_BY_MARKETING.format(1) in out.splitlines()[1:]
    assert [e for e, _, _ in steps(signed, "00Q5")] == ["captured"]


def test_a_closing_status_last_active_before_a_later_stage_closes_the_lead_after_it(
    signed: Handoff, tmp_path: Path
) -> None:
    """503: marketing qualified at 10:00 and given to Sam Ortiz, last active at 11:00, sales
    qualified at 12:00 (CST), and Unqualified now. HubSpot dates no status: set after the
    stages it closes, it came no earlier than the last of them. It was read at 11:00, a
    rejection before the acceptance, and the lead handed again to reach sales qualified:
    two handoffs and an accepted lead, where HubSpot says the lead was closed. It is lost
    at 12:00, once accepted, as a status set after the acceptance is."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "Record ID,Lifecycle Stage,Lead Status,Create Date,Became a Marketing Qualified Lead "
        "Date,Became a Sales Qualified Lead Date,Contact owner,Owner Assigned Date,"
        "Last Activity Date,Original Traffic Source\n"
        "503,Sales Qualified Lead,Unqualified,2026-03-02 09:00,2026-03-02 10:00,"
        "2026-03-02 12:00,Sam Ortiz,2026-03-02 10:00,2026-03-02 11:00,Web\n")
    signed.ok("import", str(contacts), "--from", "hubspot")
    assert [(event, at) for event, at, _ in steps(signed, "503")] == [
        ("captured", "2026-03-02T15:00:00Z"), ("qualified", "2026-03-02T16:00:00Z"),
        ("handed", "2026-03-02T16:00:00Z"), ("accepted", "2026-03-02T18:00:00Z"),
        ("lost", "2026-03-02T18:00:00Z")]


def test_a_dry_run_of_a_hubspot_export_writes_nothing(handoff: Handoff) -> None:
    out = handoff.ok("import", str(HUBSPOT), "--from", "hubspot", "--dry-run")
    assert "dry run: 9 HubSpot contacts give 33 steps: 33 would be recorded" in out
    assert "no store at" in handoff.refused("lead", "show", "101")


def test_bad_contacts_are_refused_with_their_lines_and_nothing_is_written(
    signed: Handoff, tmp_path: Path
) -> None:
    lines = HUBSPOT.read_text().splitlines()
    lines[3] = lines[3].replace('"2026-03-03 10:00"', '"03/03/2026 10:00 AM"')  # 103
    lines[6] = lines[6].replace('"18000.50"', '""')  # 106, a customer without an amount
    lines[9] = lines[9].replace('"Offline Sources"', '""')  # 109
    bad = tmp_path / "contacts.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert [e.split(": ")[1] for e in errors[:-1]] == ["line 4", "line 7", "line 10"]
    assert "'03/03/2026 10:00 AM' is not a date and time" in errors[0]
    # it has its time: the hint is the order of its parts, not a time to add
    assert "export it with its time" not in errors[0]
    assert errors[0].endswith("write it year first, as the CRM exports it")
    assert "a won deal needs its amount" in errors[1]
    assert "every lead needs a source" in errors[2]
    assert errors[-1] == "Error: 3 rows are bad; nothing was written"
    assert march(signed)["counts"]["captured"] == 0


def test_a_date_without_its_time_is_refused_asking_for_the_time(
    signed: Handoff, tmp_path: Path
) -> None:
    lines = HUBSPOT.read_text().splitlines()
    lines[3] = lines[3].replace('"2026-03-03 10:00"', '"2026-03-03"')  # 103's MQL date
    bad = tmp_path / "contacts.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith(
        "line 4: Became a Marketing Qualified Lead Date '2026-03-03' is not a date and time "
        "(like 2026-03-02 09:15 or 2026-03-02T15:15:00.000Z): export it with its time"
    )


BAD_INSTANTS = {
    # 103's MQL date, a month and day that do not exist
    "not a date": ('"2026-13-45 10:00"', "not an ISO-8601 timestamp: '2026-13-45 10:00'"),
    # the hour Chicago's clocks skip on 8 March 2026
    "a skipped hour": ('"2026-03-08 02:30"', "2026-03-08 02:30 does not exist in America/Chicago"),
}


@pytest.mark.parametrize(("written", "reason"), BAD_INSTANTS.values(), ids=BAD_INSTANTS.keys())
def test_an_instant_that_cannot_be_read_is_refused_naming_its_column(
    signed: Handoff, tmp_path: Path, written: str, reason: str
) -> None:
    """An export of every property has a dozen date columns: the refusal names the one
    (it said only `line 4: not an ISO-8601 timestamp: ...`)."""
    bad = edited(tmp_path, 3, '"2026-03-03 10:00"', written)
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{bad}: line 4: Became a Marketing Qualified Lead Date: {reason}"
    )
    assert march(signed)["counts"]["captured"] == 0


# (the cells of contact 101's Recent Deal Amount and Total Revenue, the refusal of its row)
BAD_DEAL_AMOUNTS = {
    "a Recent Deal Amount as a spreadsheet shows it": (
        '"24000","24000"', '"$24,000.00","24000"',
        "Recent Deal Amount: not an amount: '$24,000.00' (write it like 1200 or 1200.50)"),
    "a Total Revenue read for want of a deal amount": (
        '"24000","24000"', '"","24,000"',
        "Total Revenue: not an amount: '24,000' (write it like 1200 or 1200.50)"),
    "a deal amount with a third decimal": (
        '"24000","24000"', '"24000.125",""',
        "Recent Deal Amount: amount must have at most 2 decimals, got 24000.125"),
}


@pytest.mark.parametrize(("old", "new", "reason"), BAD_DEAL_AMOUNTS.values(),
                         ids=BAD_DEAL_AMOUNTS.keys())
def test_an_amount_that_cannot_be_read_is_refused_naming_its_column(
    signed: Handoff, tmp_path: Path, old: str, new: str, reason: str
) -> None:
    """A contacts export has several amount columns: the refusal names the one it read, as
    a date's does (it said only `line 2: not an amount: ...`)."""
    bad = edited(tmp_path, 1, old, new)
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"{bad}: line 2: {reason}", "Error: 1 row is bad; nothing was written",
    ]
    assert march(signed)["counts"]["captured"] == 0


def test_a_date_written_year_first_otherwise_is_not_asked_to_be_written_year_first(
    signed: Handoff, tmp_path: Path
) -> None:
    """'2026/03/03 10:00' (a spreadsheet's own format) was told 'write it year first'."""
    bad = edited(tmp_path, 3, '"2026-03-03 10:00"', '"2026/03/03 10:00"')
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{bad}: line 4: Became a Marketing Qualified Lead Date '2026/03/03 10:00' is not a "
        "date and time (like 2026-03-02 09:15 or 2026-03-02T15:15:00.000Z): write it in that "
        "form, as the CRM exports it\n"
    )


def test_an_export_without_create_date_dates_its_leads_by_became_a_lead_date(
    signed: Handoff, tmp_path: Path
) -> None:
    """The README maps `Became a Lead Date`, else `Create Date`, to the capture: an export
    without the Create Date column imports (it was refused for lacking it); contact 106, a
    customer with no Became a Lead Date, then has nothing to date it by (107, a subscriber,
    never became a lead: left out either way)."""
    import csv

    with HUBSPOT.open(newline="") as file:
        rows = list(csv.DictReader(file))
    columns = [c for c in rows[0] if c != "Create Date"]

    def written(keep: list[dict[str, str]]) -> str:
        out = tmp_path / "contacts.csv"
        with out.open("w", newline="") as file:
            writer = csv.DictWriter(file, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(keep)
        return str(out)

    result = signed("import", written(rows), "--from", "hubspot")
    assert result.exit_code == 1
    assert [line.split(": ", 1)[1] for line in result.stderr.splitlines()[:-1]] == [
        f"line {n}: Became a Lead Date and Create Date are empty: the lead cannot be dated"
        for n in (7,)]
    dated = [row for row in rows if row["Record ID"] != "106"]
    signed.ok("import", written(dated), "--from", "hubspot")
    assert march(signed)["counts"]["captured"] == 7


def test_an_empty_key_is_refused_naming_the_column_as_hubspot_does(
    signed: Handoff, tmp_path: Path
) -> None:
    lines = HUBSPOT.read_text().splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[0], '""', 1)
    bad = tmp_path / "contacts.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[0] == (
        f"{bad}: line 2: Record ID is empty: every lead needs its key"  # not 'Record Id'
    )
    assert march(signed)["counts"]["captured"] == 0


def test_a_tab_in_a_contacts_name_is_refused_with_its_line(
    signed: Handoff, tmp_path: Path
) -> None:
    lines = HUBSPOT.read_text().splitlines()
    lines[1] = lines[1].replace('"Ann"', '"An\tn"')  # 101
    bad = tmp_path / "contacts.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{bad}: line 2: name holds a control character")
    assert march(signed)["counts"]["captured"] == 0


def edited(tmp_path: Path, line: int, old: str, new: str) -> Path:
    """The HubSpot fixture with one line (counted from 0, the header) edited."""
    lines = HUBSPOT.read_text().splitlines()
    lines[line] = lines[line].replace(old, new)
    bad = tmp_path / "contacts.csv"
    bad.write_text("\n".join(lines) + "\n")
    return bad


def test_an_open_opportunity_the_crm_skipped_sales_qualifying_is_accepted(
    signed: Handoff, tmp_path: Path
) -> None:
    """108 made an Opportunity straight from MQL (no SQL date): sales took it on 6 March at
    09:00 CST, Friday. It was recorded as only handed, and reported overdue for ever; it is
    accepted at the opportunity's instant (an open opportunity stays accepted), in time:
    handed Thursday 10:30, due Friday 10:30 (6.5 business hours that Thursday, 1.5 the
    next day)."""
    later = edited(tmp_path, 8, '"2026-03-05 10:00","2026-03-05 13:00","2026-03-06 09:00"',
                   '"2026-03-05 10:00","","2026-03-06 09:00"')
    out = signed.ok("import", str(later), "--from", "hubspot")
    assert "left out: open opportunities whose proposal is not recorded" in out
    assert steps(signed, "108") == [
        ("captured", "2026-03-05T15:00:00Z", None),
        ("qualified", "2026-03-05T16:00:00Z", None),
        ("handed", "2026-03-05T16:30:00Z", "Ola Berg"),
        ("accepted", "2026-03-06T15:00:00Z", None),
    ]
    breaches = signed("sla", "breaches", "--month", "2026-03", "--format", "json")
    assert breaches.exit_code == 3  # 104, never decided, is overdue
    assert [b["lead"] for b in json.loads(breaches.stdout)] == ["102", "104"]  # not 108
    assert "0 recorded" in signed.ok("import", str(later), "--from", "hubspot")


def test_a_step_out_of_lifecycle_order_is_refused_with_its_line(
    signed: Handoff, tmp_path: Path
) -> None:
    # 108 marketing-qualified at 14:00, after sales qualified it at 13:00
    bad = edited(tmp_path, 8, '"2026-03-05 10:00","2026-03-05 13:00"',
                 '"2026-03-05 14:00","2026-03-05 13:00"')
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{bad}: line 9: Became a Sales Qualified Lead Date '2026-03-05 13:00' is before "
        "Became a Marketing Qualified Lead Date '2026-03-05 14:00': a contact's stage dates "
        "follow the lifecycle"
    )


def test_a_contact_qualified_before_it_became_a_lead_is_refused_saying_so(
    signed: Handoff, tmp_path: Path
) -> None:
    # 104 became a lead on 3 March at 12:00; marketing-qualified, as edited, on 2 March
    bad = edited(tmp_path, 4, '"2026-03-03 12:00","2026-03-04 09:00"',
                 '"2026-03-03 12:00","2026-03-02 09:00"')
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{bad}: line 5: Became a Marketing Qualified Lead Date '2026-03-02 09:00' is before "
        "Became a Lead Date '2026-03-03 12:00'"
    )
    assert march(signed)["counts"]["captured"] == 0


def test_a_contact_on_two_rows_is_refused_naming_both_lines(
    signed: Handoff, tmp_path: Path
) -> None:
    lines = HUBSPOT.read_text().splitlines()
    bad = tmp_path / "contacts.csv"
    bad.write_text("\n".join([*lines, lines[4].replace('"2026-03-04 09:00"', '"2026-03-04 11:00"')])
                   + "\n")
    result = signed("import", str(bad), "--from", "hubspot")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{bad}: line 11: Record ID '104' is on line 5 too: a contacts export has one row per "
        "contact"
    )
    assert march(signed)["counts"]["captured"] == 0


def test_an_older_export_with_contact_id_and_original_source(signed: Handoff) -> None:
    out = signed.ok("import", str(FIXTURES / "hubspot_contacts_legacy.csv"), "--from", "hubspot")
    assert "imported 1 HubSpot contact: 4 steps, 4 recorded" in out
    assert signed.json("lead", "show", "551")["source"] == "Organic Search"


def test_a_hubspot_column_the_import_does_not_read_may_hold_a_long_text(
    signed: Handoff, tmp_path: Path
) -> None:
    """An export of every property carries long notes (an e-mail's body): a cell of 200,000
    characters refused the whole export as 'field larger than field limit (131072)'."""
    rows = HUBSPOT.read_text(encoding="utf-8-sig").splitlines()
    notes = tmp_path / "contacts.csv"
    notes.write_text("\n".join([rows[0] + ",Notes", *(r + ',"' + "n" * 200_000 + '"'
                                                       for r in rows[1:])]) + "\n")
    assert "imported" in signed.ok("import", str(notes), "--from", "hubspot")


def test_a_column_the_import_reads_named_twice_refuses_the_export(
    signed: Handoff, tmp_path: Path
) -> None:
    """A custom property labelled as a default one ('Email' beside 'EMAIL'): the last of
    the two was read, silently. One the import does not read may come twice."""
    rows = HUBSPOT.read_text(encoding="utf-8-sig").splitlines()
    twice = tmp_path / "contacts.csv"
    twice.write_text("\n".join([rows[0] + ",EMAIL,Notes,Notes",
                                *(r + ",someone@else.example,a,b" for r in rows[1:])]) + "\n")
    assert signed.refused("import", str(twice), "--from", "hubspot") == (
        f"Error: {twice}: line 1: the column 'email' is named twice (in any letter case): the"
        " import cannot tell which one to read")
    assert signed.ok("lead", "list", "--format", "csv").splitlines()[1:] == []


@pytest.mark.parametrize("quoted", [True, False], ids=["quoted", "unquoted"])
def test_an_export_saved_with_semicolons_is_refused_as_such(
    signed: Handoff, tmp_path: Path, quoted: bool
) -> None:
    """Opened in Excel in a European locale and saved again, an export is separated by
    `;`: it was refused as missing its 'Record ID' column (which it has), or with "','
    expected after '\"'"."""
    rows = HUBSPOT.read_text(encoding="utf-8-sig").splitlines()
    saved = "\r\n".join(row.replace('","', '";"') if quoted else
                         row.replace('","', ";").replace('"', "") for row in rows[:3])
    semicolons = tmp_path / "contacts.csv"
    semicolons.write_text(saved + "\r\n", encoding="utf-8-sig")
    assert signed.refused("import", str(semicolons), "--from", "hubspot") == (
        f"Error: {semicolons}: line 1: the file is separated by semicolons; handoff reads"
        " comma-separated files (save it as CSV with commas)")
    lead_file = tmp_path / "Lead.csv"
    lead_file.write_text((SALESFORCE / "Lead.csv").read_text().replace('","', '";"'))
    assert signed.refused("import", str(lead_file), "--from", "salesforce") == (
        f"Error: {lead_file}: line 1: the file is separated by semicolons; handoff reads"
        " comma-separated files (save it as CSV with commas)")


def test_an_export_with_excels_separator_note_first_is_refused_as_such(
    signed: Handoff, tmp_path: Path
) -> None:
    """Saved for Excel, an export may begin with `sep=,` on a line of its own, before the
    header: refused as such, as a handoff CSV is, rather than read as a header without
    the export's columns."""
    noted = tmp_path / "contacts.csv"
    noted.write_text("sep=,\r\n" + HUBSPOT.read_text(encoding="utf-8-sig"), encoding="utf-8")
    assert signed.refused("import", str(noted), "--from", "hubspot") == (
        f"Error: {noted}: line 1: 'sep=,' is a spreadsheet's note of the separator, not the"
        " header: delete that line (the file begins with its columns)")
    assert signed.ok("lead", "list", "--format", "csv").splitlines()[1:] == []


EMPTY_EXPORTS = {
    # a download that failed (`curl -s` in a cron job writes nothing), or saved with a BOM only
    "nothing": ("", "the file is empty: it needs a header line"),
    "a BOM only": ("\ufeff", "the file is empty: it needs a header line"),
    "a blank first line": ("\r\n\"Record ID\"\r\n",
                           "line 1: the header line is empty: the export begins with its "
                           "column names"),
}


@pytest.mark.parametrize(("text", "reason"), EMPTY_EXPORTS.values(), ids=EMPTY_EXPORTS.keys())
def test_an_empty_export_is_refused_as_empty(
    signed: Handoff, tmp_path: Path, text: str, reason: str
) -> None:
    """It was refused as lacking its key column ('needs the column 'Contact ID' or 'Record
    ID'', 'not a Salesforce Lead ... export'), as if it were another file."""
    for crm, name in (("hubspot", "contacts.csv"), ("salesforce", "Lead.csv")):
        export = tmp_path / name
        export.write_text(text, encoding="utf-8")
        assert signed.refused("import", str(export), "--from", crm) == f"Error: {export}: {reason}"
    assert signed.ok("lead", "list", "--format", "csv").splitlines()[1:] == []


def test_a_file_that_is_not_a_hubspot_export_is_refused_in_one_line(
    signed: Handoff, tmp_path: Path
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("lead,event,at\n")
    assert "needs the column 'Contact ID' or 'Record ID'" in signed.refused(
        "import", str(other), "--from", "hubspot"
    )
    assert signed("import", str(HUBSPOT), str(HUBSPOT), "--from", "hubspot").exit_code == 2


# -- Salesforce -------------------------------------------------------------------------


def test_a_salesforce_export_gives_the_kpis_its_history_says(signed: Handoff) -> None:
    out = signed.ok("import", str(SALESFORCE), "--from", "salesforce")
    # Jane Roe 8 steps, Raj Patel 4, Mia Chen 1 (handed to a queue only), Tom Hill 6.
    assert "imported 4 Salesforce leads: 19 steps, 19 recorded, 0 skipped" in out
    assert "4 stages Salesforce skipped are recorded" in out
    assert "left out: rows deleted in Salesforce (IsDeleted): 1" in out
    assert "opportunities no lead of the export became: 2" in out  # created in sales
    kpi = march(signed)
    assert kpi["counts"] == {
        "visits": 0, "captured": 4, "qualified": 3, "handed": 3, "accepted": 2,
        "rejected": 1, "contacted": 2, "proposal": 1, "won": 1, "lost": 1,
    }
    assert kpi["revenue_won"] == 27500
    # Jane in 2.5 h and Tom at once; Raj handed Tuesday 10:00, due Wednesday 10:00,
    # closed Wednesday 14:00 (12 h).
    assert kpi["sla"] == {
        "handoffs": 3, "decided_in_time": 2, "decided_late": 1, "pending": 0, "overdue": 0,
        "breached": 1, "compliance": 2 / 3, "median_response_hours": 2.5,
    }


@pytest.mark.parametrize("again", ['"Web"', '"Trade Show"'], ids=["the same", "another source"])
def test_a_salesforce_lead_on_two_rows_is_refused_naming_both_lines(
    signed: Handoff, tmp_path: Path, again: str
) -> None:
    """Jane Roe's row (line 2) pasted again at the end of the Lead export: read as is, an
    identical row gave 'dry run: 5 Salesforce leads ... 1 already recorded' in an empty
    store; one saying another source, that the lead 'already has captured ... on an
    earlier line'. A Lead export has one row per lead, as a contacts export has one per
    contact."""
    export = tmp_path / "export"
    shutil.copytree(SALESFORCE, export)
    lead_file = export / "Lead.csv"
    rows = lead_file.read_text().splitlines()
    lead_file.write_text("\n".join([*rows, rows[1].replace('"Web"', again)]) + "\n")
    result = signed("import", str(export), "--from", "salesforce", "--dry-run")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"{lead_file}: line 7: Id '00Q8d000001AaaAEAS' is on line 2 too: a Lead export has "
        "one row per lead",
        "Error: 1 row is bad; nothing was written",
    ]


def test_a_salesforce_change_before_its_lead_was_created_is_refused_saying_so(
    signed: Handoff, tmp_path: Path
) -> None:
    """Jane Roe created, as edited, at 16:00 UTC, after the queue gave her to Sam at 15:00
    (LeadHistory lines 3 and 4, the new owner's id and name): the change was refused as of
    an 'unknown lead', though the Lead export holds her."""
    export = tmp_path / "export"
    shutil.copytree(SALESFORCE, export)
    lead_file = export / "Lead.csv"
    lead_file.write_text(lead_file.read_text().replace(
        '"2026-03-04","0068d000002OppAAAQ","2026-03-02T14:05:00.000Z"',
        '"2026-03-04","0068d000002OppAAAQ","2026-03-02T16:00:00.000Z"'))
    result = signed("import", str(export), "--from", "salesforce")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"{export / 'LeadHistory.csv'}: line 4: this change, at 2026-03-02T15:00:00Z, is "
        f"before lead '00Q8d000001AaaAEAS' was created (CreatedDate 2026-03-02T16:00:00Z, "
        f"{lead_file}: line 2): a lead's history follows its creation",
        "Error: 1 row is bad; nothing was written",
    ]
    assert march(signed)["counts"]["captured"] == 0


@pytest.mark.parametrize("deleted", ["1", "TRUE"])
def test_a_row_deleted_in_salesforce_is_left_out_however_its_checkbox_is_written(
    signed: Handoff, tmp_path: Path, deleted: str
) -> None:
    """A checkbox exported as 1 (as tools and spreadsheets write a boolean) was read as not
    deleted: the deleted lead was imported as a live one."""
    leads = tmp_path / "Lead.csv"
    leads.write_text("Id,IsDeleted,CreatedDate,LeadSource\n"
                     f"00Q6,{deleted},2026-03-02T15:00:00Z,Web\n"
                     "00Q7,0,2026-03-02T15:00:00Z,Web\n")
    out = signed.ok("import", str(leads), "--from", "salesforce")
    assert "imported 1 Salesforce lead: 1 step, 1 recorded" in out
    assert "  left out: rows deleted in Salesforce (IsDeleted): 1" in out.splitlines()
    assert "unknown lead '00Q6'" in signed.refused("lead", "show", "00Q6")


def test_salesforce_history_maps_owner_status_and_opportunity_stages(signed: Handoff) -> None:
    signed.ok("import", str(SALESFORCE), "--from", "salesforce")
    assert steps(signed, "00Q8d000001AaaAEAS") == [
        ("captured", "2026-03-02T14:05:00Z", None),
        ("qualified", "2026-03-02T15:00:00Z", None),  # skipped: at the handoff
        ("handed", "2026-03-02T15:00:00Z", "Sam Ortiz"),  # the queue gave it to Sam
        ("accepted", "2026-03-02T17:30:00Z", None),  # Working - Contacted
        ("contacted", "2026-03-02T17:30:00Z", None),
        ("proposal", "2026-03-05T15:00:00Z", 30000),  # Proposal/Price Quote
        ("proposal", "2026-03-06T18:00:00Z", 27500),  # a new Amount in Negotiation/Review
        ("won", "2026-03-10T19:00:00Z", 27500),  # Closed Won
    ]
    assert steps(signed, "00Q8d000001BbbBEAS")[-1] == (
        "rejected", "2026-03-04T20:00:00Z", "Closed - Not Converted"
    )
    assert signed.json("lead", "show", "00Q8d000001CccCEAS")["state"] == "captured"


def skipping_lead(lead: str, owner_id: str) -> dict[str, str]:
    """A lead owned by `owner_id` in the Lead export (Data Loader writes the user's id, not
    Owner.Name), captured on 5 March at 15:00Z and set straight to Working - Contacted at
    16:00Z: Salesforce skipped its qualification and its handoff."""
    return {
        "Lead": f'"{lead}","false","Fox","Dee","Dee Fox","Hooli","dee@hooli.example","Web",'
                f'"Working - Contacted","{owner_id}","false","","","2026-03-05T15:00:00.000Z",'
                f'"{MARIA}"\n',
        "LeadHistory": lead_history(
            lead, MARIA, (f"0178d00000A1{lead[-6:]}", "2026-03-05T16:00:00.000Z", "Status",
                          "Text", "Open - Not Contacted", "Working - Contacted")),
    }


def test_a_handoff_salesforce_skipped_is_made_to_the_owner_its_history_names(
    signed: Handoff, tmp_path: Path
) -> None:
    """The Lead export names Dee Fox's owner by Ola Berg's user id; the history's owner
    changes name that user too (each is written twice: the ids, then the names), so the
    handoff Salesforce skipped is made to Ola Berg, as every other handoff to her."""
    dee = "00Q8d000001FffFEAS"
    export = later_salesforce(tmp_path, **skipping_lead(dee, "0058d000000OlaAAAQ"))
    signed.ok("import", str(export), "--from", "salesforce")
    assert steps(signed, dee) == [
        ("captured", "2026-03-05T15:00:00Z", None),
        ("qualified", "2026-03-05T16:00:00Z", None),
        ("handed", "2026-03-05T16:00:00Z", "Ola Berg"),
        ("accepted", "2026-03-05T16:00:00Z", None),
        ("contacted", "2026-03-05T16:00:00Z", None),
    ]
    by_owner = signed.json("kpi", "--month", "2026-03", "--by", "owner")["groups"]
    assert "0058d000000OlaAAAQ" not in by_owner
    # Raj Patel's handoff (an owner change), Tom Hill's (skipped, the same user's id in the
    # Lead export) and Dee Fox's.
    assert by_owner["Ola Berg"]["counts"]["handed"] == 3


def test_a_user_the_salesforce_history_never_names_keeps_its_id(
    signed: Handoff, tmp_path: Path
) -> None:
    """A user no owner change names (Kim, 0058d000000KimAAAQ): the export does not say who
    that is, so the skipped handoff is made to the id as exported."""
    dee = "00Q8d000001FffFEAS"
    export = later_salesforce(tmp_path, **skipping_lead(dee, "0058d000000KimAAAQ"))
    signed.ok("import", str(export), "--from", "salesforce")
    assert ("handed", "2026-03-05T16:00:00Z", "0058d000000KimAAAQ") in steps(signed, dee)


def edited_opportunity_history(tmp_path: Path, old: str, new: str) -> tuple[Path, Path]:
    """A copy of the Salesforce export whose OpportunityHistory.csv says `new` where it
    said `old`: the export's folder and that file."""
    export = tmp_path / "export"
    shutil.copytree(SALESFORCE, export)
    deals = export / "OpportunityHistory.csv"
    assert old in deals.read_text()
    deals.write_text(deals.read_text().replace(old, new))
    return export, deals


def test_an_amount_written_otherwise_is_not_a_revised_proposal(
    signed: Handoff, tmp_path: Path
) -> None:
    # The deal moves on to Negotiation/Review at the same amount, written without cents.
    export, _ = edited_opportunity_history(tmp_path, '"Negotiation/Review","27500.00"',
                                           '"Negotiation/Review","30000"')
    signed.ok("import", str(export), "--from", "salesforce")
    assert [(e, amount) for e, _, amount in steps(signed, "00Q8d000001AaaAEAS")][-3:] == [
        ("contacted", None), ("proposal", 30000), ("won", 27500),  # one proposal, not two
    ]


def test_salesforce_files_are_known_by_their_headers_in_any_order(
    signed: Handoff, tmp_path: Path
) -> None:
    # Data Loader writes headers in capitals, and the rows of one second in any order.
    history = (SALESFORCE / "LeadHistory.csv").read_text().splitlines()
    shuffled = tmp_path / "lead_history_extract.csv"
    shuffled.write_text("\n".join([history[0].upper(), *reversed(history[1:])]) + "\n")
    files = [SALESFORCE / "OpportunityHistory.csv", shuffled, SALESFORCE / "Lead.csv"]
    signed.ok("import", *map(str, files), "--from", "salesforce")
    # Tom Hill's stages of one second follow the lifecycle, whatever the file's order.
    assert [e for e, _, _ in steps(signed, "00Q8d000001DddDEAS")] == [
        "captured", "qualified", "handed", "accepted", "contacted", "lost",
    ]
    out = signed.ok("import", str(SALESFORCE), "--from", "salesforce")
    assert "19 steps, 0 recorded, 19 skipped (already recorded)" in out


# (what OpportunityHistory.csv says instead, the refusal of its row): the Proposal/Price
# Quote row is line 3, Negotiation/Review line 4.
BAD_OPPORTUNITY_ROWS = {
    "a proposal without an Amount": (
        ('"Proposal/Price Quote","30000.00"', '"Proposal/Price Quote",""'),
        "line 3: Proposal/Price Quote without an Amount: a proposal needs one"),
    "a later Amount that is not one": (
        ('"Negotiation/Review","27500.00"', '"Negotiation/Review","27,500"'),
        "line 4: Amount: not an amount: '27,500' (write it like 1200 or 1200.50)"),
    # Read at its own row, not when the next stage compares with it (it was line 4's).
    "a first Amount that is not one": (
        ('"Proposal/Price Quote","30000.00"', '"Proposal/Price Quote","30,000"'),
        "line 3: Amount: not an amount: '30,000' (write it like 1200 or 1200.50)"),
    # A refused amount names its column, as a refused date does (it said only `line 5:
    # not an amount: ...`): the row has four amounts (ExpectedRevenue, Probability...).
    "a won Amount that is not one": (
        ('"Closed Won","27500.00"', '"Closed Won","$27,500"'),
        "line 5: Amount: not an amount: '$27,500' (write it like 1200 or 1200.50)"),
    "a proposal of nothing": (
        ('"Proposal/Price Quote","30000.00"', '"Proposal/Price Quote","0"'),
        "line 3: Amount: amount must be greater than 0, got 0"),
}


@pytest.mark.parametrize(("edit", "refusal"), BAD_OPPORTUNITY_ROWS.values(),
                         ids=BAD_OPPORTUNITY_ROWS.keys())
def test_a_bad_salesforce_row_is_refused_with_its_file_and_line(
    signed: Handoff, tmp_path: Path, edit: tuple[str, str], refusal: str
) -> None:
    export, deals = edited_opportunity_history(tmp_path, *edit)
    result = signed("import", str(export), "--from", "salesforce", "--dry-run")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"{deals}: {refusal}", "Error: 1 row is bad; nothing was written",
    ]


def test_a_salesforce_export_given_twice_is_refused_rather_than_counted_twice(
    signed: Handoff
) -> None:
    """The Lead export named twice (or its directory and the file in it) was read twice:
    'imported 8 Salesforce leads', its captures 'skipped (already recorded)' in an empty
    store."""
    lead_file = SALESFORCE / "Lead.csv"
    for given in ([lead_file, lead_file], [SALESFORCE, lead_file]):
        line = signed.refused("import", *map(str, given), "--from", "salesforce")
        assert line == f"Error: {lead_file}: given twice: give each export once"
    assert signed.ok("lead", "list", "--format", "csv").splitlines()[1:] == []


def test_salesforce_history_without_the_lead_export_is_refused(signed: Handoff) -> None:
    line = signed.refused(
        "import", str(SALESFORCE / "LeadHistory.csv"), "--from", "salesforce"
    )
    assert "needs the Lead export" in line


def test_only_a_salesforce_import_takes_several_files(signed: Handoff) -> None:
    lead_file = str(SALESFORCE / "Lead.csv")
    assert signed("import", lead_file, lead_file).exit_code == 2  # handoff's own: one FILE
    assert signed("import", str(HUBSPOT), lead_file, "--from", "hubspot").exit_code == 2


def test_a_salesforce_file_name_too_long_for_the_file_system_is_refused_in_one_line(
    signed: Handoff, tmp_path: Path
) -> None:
    """Asked whether it was a directory, a name over 255 bytes was an internal error; it
    cannot be read, as a handoff or HubSpot file of that name cannot."""
    too_long = tmp_path / ("Lead" * 70 + ".csv")
    line = signed.refused("import", str(too_long), "--from", "salesforce")
    assert line == f"Error: {too_long}: cannot read: File name too long"
