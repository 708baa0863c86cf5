"""`handoff lead forget` through the command line, on both stores."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_helpers import Handoff
from test_exporter import parts_made

from handoff import application, eventstore, import_halves
from handoff.application import HandoffApp
from handoff.domain.steps import PERSONAL_FIELDS
from handoff.store import locate


def ann_lee(handoff: Handoff) -> None:
    handoff.ok("lead", "capture", "acme-1", "--source", "web", "--name", "Ann Lee",
               "--email", "ann@acme.example", "--company", "Acme", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "acme-1", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "handoff", "acme-1", "--owner", "sam", "--at", "2026-03-02T11:00")


def held_states(handoff: Handoff) -> str:
    """Every entry's state as the store holds it, whatever the commands show of it."""
    app = HandoffApp(locate(handoff.store))
    try:
        return "\n".join(state.decode() for state in eventstore.held_entries(app).values())
    finally:
        app.close()


def test_a_forgotten_lead_keeps_its_figures_and_loses_its_person(handoff: Handoff) -> None:
    ann_lee(handoff)
    kpis_before = handoff.json("kpi", "--month", "2026-03")
    assert handoff.ok("lead", "forget", "acme-1", "--why", "GDPR request 17") == (
        "acme-1: forgotten (name, e-mail and company erased)\n"
    )
    shown = handoff.json("lead", "show", "acme-1")
    assert (shown["name"], shown["email"], shown["company"]) == ("[forgotten]",) * 3
    assert (shown["state"], shown["owner"], shown["source"]) == ("handed", "sam", "web")
    kpis_after = handoff.json("kpi", "--month", "2026-03")
    assert {k: v for k, v in kpis_after.items() if k != "as_of"} == {
        k: v for k, v in kpis_before.items() if k != "as_of"
    }
    exported = handoff.ok("export") + handoff.ok("export", "--format", "jsonl")
    for personal in ("Ann Lee", "ann@acme.example", "Acme"):
        assert personal not in exported
    assert "1 of them with a person's details erased" in handoff.ok("audit", "verify")


def test_forgetting_a_lead_keyed_by_an_email_address_says_the_key_stays(
    handoff: Handoff,
) -> None:
    """SPEC §2 lets a key be an e-mail address; the key names the lead and stays."""
    handoff.ok("lead", "capture", "ann@acme.example", "--source", "web",
               "--email", "ann@acme.example", "--at", "2026-03-02T09:00")
    said = handoff.ok("lead", "forget", "ann@acme.example", "--why", "GDPR request 18")
    assert said.startswith("ann@acme.example: forgotten (name, e-mail and company erased)\n")
    assert "note: the key 'ann@acme.example' itself stays" in said
    assert handoff.json("lead", "show", "ann@acme.example")["email"] == "[forgotten]"


def test_the_history_says_who_forgot_the_lead_when_and_why(handoff: Handoff) -> None:
    ann_lee(handoff)
    handoff.ok("lead", "forget", "acme-1", "--why", "GDPR request 17")
    handoff.ok("lead", "accept", "acme-1", "--at", "2026-03-02T12:00", actor="sam")
    history = json.loads(handoff.ok("lead", "history", "acme-1", "--format", "json"))
    assert [e["event"] for e in history] == [
        "captured", "qualified", "handed", "forgotten", "accepted"
    ]
    assert (history[3]["actor"], history[3]["why"]) == ("maria", "GDPR request 17")
    assert history[0]["name"] == "[forgotten]"  # SPEC §9: views show `[forgotten]`
    table = handoff.ok("lead", "history", "acme-1")
    assert "why=GDPR request 17" in table and "name=[forgotten]" in table


def test_forgetting_is_refused_without_a_reason_twice_or_for_an_unknown_lead(
    handoff: Handoff,
) -> None:
    ann_lee(handoff)
    assert handoff.refused("lead", "forget", "acme-1", "--why", "  ") == (
        "Error: forgetting a lead needs a reason"
    )
    assert handoff.json("lead", "show", "acme-1")["name"] == "Ann Lee"
    assert handoff.refused("lead", "forget", "nobody", "--why", "x").startswith(
        "Error: unknown lead 'nobody'"
    )
    handoff.ok("lead", "forget", "acme-1", "--why", "GDPR request 17")
    assert handoff.refused("lead", "forget", "acme-1", "--why", "again") == (
        "Error: lead 'acme-1' was forgotten already"
    )
    result = handoff("lead", "forget", "acme-1")
    assert result.exit_code == 2 and "--why" in result.stderr


def test_details_given_in_an_amendment_are_erased_and_so_is_what_an_earlier_forget_left(
    handoff: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lead forgotten when forgetting erased only the capture's own fields kept the details
    an amendment gave: forgetting it again erases them, and the record stays intact."""
    ann_lee(handoff)
    handoff.ok("lead", "amend", "acme-1", "1", "--name", "Ann Smith", "--email",
               "ann@smith.example", "--company", "Smithco", "--why", "mistyped")

    def capture_fields_only(state: dict[str, Any]) -> bool:  # as forgetting erased before
        held = [name for name in PERSONAL_FIELDS if state.get(name) is not None]
        state.update({name: None for name in held})
        return bool(held)

    with monkeypatch.context() as patched:
        patched.setattr(application, "erase_person", capture_fields_only)
        handoff.ok("lead", "forget", "acme-1", "--why", "GDPR request 17")
    left = held_states(handoff)  # the backup erases a forgotten lead's entries anyway
    assert "Ann Smith" in left and "Ann Lee" not in left
    assert "Ann Smith" not in handoff.ok("export", "--format", "jsonl")

    handoff.ok("lead", "forget", "acme-1", "--why", "GDPR request 17: the amended details")
    exported = handoff.ok("export") + handoff.ok("export", "--format", "jsonl")
    for personal in ("Ann Lee", "Ann Smith", "ann@smith.example", "Smithco"):
        assert personal not in exported
    assert "2 of them with a person's details erased" in handoff.ok("audit", "verify")
    assert [e["event"] for e in handoff.json("lead", "history", "acme-1")][-2:] == [
        "forgotten", "forgotten"
    ]
    assert handoff.refused("lead", "forget", "acme-1", "--why", "again") == (
        "Error: lead 'acme-1' was forgotten already"
    )


def test_with_a_team_in_force_only_its_members_forget_a_lead(signed: Handoff) -> None:
    # The team in force says who may record (maria, li | sam, ola): an erasure is recorded
    # too, for good, and someone on neither side may not make it.
    ann_lee(signed)
    assert signed.refused("lead", "forget", "acme-1", "--why", "request 4711",
                          actor="pat") == (
        "Error: 'pat' may not forget a lead: the agreement '2026 H1 growth agreement' lets"
        " only its team record (marketing: maria, li; sales: sam, ola)"
    )
    assert signed.json("lead", "show", "acme-1")["name"] == "Ann Lee"  # nothing written
    signed.ok("lead", "forget", "acme-1", "--why", "request 4711", actor="ola")
    assert signed.json("lead", "show", "acme-1")["name"] == "[forgotten]"


def test_a_forget_cut_short_before_it_rewrote_the_entries_leaves_no_export_holding_them(
    handoff: Handoff, monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
) -> None:
    """The erasure recorded and sealed, the command killed before it rewrote the entries
    (README: run it again to finish it): until then the lead shows "[forgotten]", so
    neither export may give the person back, and the backup taken meanwhile restores (its
    restore refuses a forgotten lead's entry holding the details). Found by a DPO's trial."""
    ann_lee(handoff)
    handoff.ok("lead", "amend", "acme-1", "1", "--name", "Ann Smith", "--why", "mistyped")
    with monkeypatch.context() as killed:
        def killed_before_rewriting(*_: Any) -> None:
            raise RuntimeError("killed")

        killed.setattr(application.eventstore, "rewrite_states", killed_before_rewriting)
        assert handoff("lead", "forget", "acme-1", "--why", "ticket 7").exit_code == 1
    assert handoff.json("lead", "show", "acme-1")["name"] == "[forgotten]"
    assert "Ann Smith" in held_states(handoff)  # until `lead forget` is run again
    # The capture and the amendment: the auditor is told, and what to do.
    assert ("lead 'acme-1' is forgotten, yet 2 of its entries still hold the person's"
            " details: its `lead forget` was cut short; run it again to erase them"
            ) in handoff.ok("audit", "verify").splitlines()
    csv_text, backup = handoff.ok("export"), handoff.ok("export", "--format", "jsonl")
    for personal in ("Ann Lee", "Ann Smith", "ann@acme.example", "Acme"):
        assert personal not in csv_text and personal not in backup
    path = tmp_path / "backup.jsonl"
    path.write_text(backup, encoding="utf-8")
    restored = Handoff(str(tmp_path / "restored.sqlite"))
    restored.ok("import", str(path))
    assert restored.json("lead", "show", "acme-1")["name"] == "[forgotten]"
    verified = restored.ok("audit", "verify")
    assert verified.startswith("the log is intact: ")
    assert "cut short" not in verified  # its entries are erased
    handoff.ok("lead", "forget", "acme-1", "--why", "ticket 7")  # finishes it
    assert "Ann Smith" not in held_states(handoff)
    assert handoff.ok("audit", "verify").startswith(
        "the log is intact: 5 entries match their seals, 2 of them with a person's details"
        " erased (lead forget)\ndigest ")


@pytest.mark.parametrize("halves_from", [10**9, 1], ids=["one-process", "in-halves"])
def test_importing_a_file_that_still_names_a_forgotten_person_says_so(
    handoff: Handoff, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, halves_from: int,
) -> None:
    """Last week's CRM export still holds Ann and Bob after they were forgotten: their
    captures are skipped, nothing of them is written back, and the import names their
    leads, for the DPO to erase them in the CRM too (features/privacy.feature). A file of
    the store's own export after the forgetting holds no details: no note. Read in halves
    too (`import_halves`), the copy's leads are named as well. Found by a DPO's trial."""
    monkeypatch.setattr(import_halves, "HALVES_FROM", halves_from)
    ann_lee(handoff)
    handoff.ok("lead", "capture", "bob-2", "--source", "web", "--name", "Bob Ode",
               "--at", "2026-03-02T09:30")
    crm_file = tmp_path / "last-week.csv"
    crm_file.write_text(handoff.ok("export"), encoding="utf-8")
    for key in ("acme-1", "bob-2"):
        handoff.ok("lead", "forget", key, "--why", "GDPR request 17")
    handoff.ok("lead", "capture", "cy-3", "--source", "web", "--name", "Cy Pal",
               "--at", "2026-03-03T09:00Z")
    crm_file.write_text(crm_file.read_text(encoding="utf-8")
                        + "cy-3,captured,2026-03-03T09:00:00Z,maria,web,Cy Pal,,,,,,,,\n",
                        encoding="utf-8")
    note = ("note: the file still holds the details of 2 forgotten leads ('acme-1', 'bob-2'),"
            " not written back: erase them where the file came from too\n")
    assert handoff.ok("import", str(crm_file), "--dry-run").endswith(note)
    assert handoff.ok("import", str(crm_file)) == (
        "imported 5 rows: 0 recorded, 5 skipped (already recorded), 0 leads changed\n" + note)
    assert "Ann Lee" not in held_states(handoff) and "Bob Ode" not in held_states(handoff)
    own_file = tmp_path / "own.csv"
    own_file.write_text(handoff.ok("export"), encoding="utf-8")
    assert "note:" not in handoff.ok("import", str(own_file))


def test_a_forget_cut_short_leaves_no_part_of_a_long_export_holding_the_person(
    handoff: Handoff, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long log is exported in two parts at once, the later one by a second process
    (`exporter.SPLIT_FROM`): it is told the forgotten leads as it is told the corrected
    ones, and leaves their details out too. Here the capture lies in the later part."""
    for key in ("b-1", "b-2", "b-3"):
        handoff.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-01T09:00")
    ann_lee(handoff)  # entries 4 to 6: the later part begins after 55 % of the 7
    with monkeypatch.context() as killed:
        def killed_before_rewriting(*_: Any) -> None:
            raise RuntimeError("killed")

        killed.setattr(application.eventstore, "rewrite_states", killed_before_rewriting)
        assert handoff("lead", "forget", "acme-1", "--why", "ticket 7").exit_code == 1
    whole = handoff.ok("export")
    made = parts_made(monkeypatch)
    parted = handoff.ok("export")
    assert made == [True]  # the later part was the second process's
    assert parted == whole
    assert "acme-1,captured," in parted
    for personal in ("Ann Lee", "ann@acme.example", "Acme"):
        assert personal not in parted
