"""Tamper evidence: `audit verify` names the first entry changed underneath handoff.

Each test records a small history through the real command line, then edits the store
the way someone with the file or database access would (`sqlite3`, `psql`: plain SQL on
the events table), and asks `handoff audit verify` what it sees.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from cli_helpers import Handoff
from conftest import AGREEMENT, agreement_toml
from sqlalchemy.engine import make_url

from handoff import audit, eventstore
from handoff.application import HandoffApp
from handoff.domain.errors import LOG_CHANGED_AT
from handoff.instants import now_utc
from handoff.store import locate


@pytest.fixture
def history(handoff: Handoff, tmp_path: Any) -> Handoff:
    """An agreement, two leads and a day of traffic: entries 1..N of the log."""
    path = tmp_path / "agreement.toml"
    path.write_text(agreement_toml(AGREEMENT, {"team": None}))
    handoff.ok("sla", "apply", str(path))  # entry 1 (and 2: the register's creation)
    handoff.ok("lead", "capture", "acme-1", "--source", "web", "--name", "Ann Lee",
               "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "acme-1", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "handoff", "acme-1", "--owner", "sam", "--at", "2026-03-02T11:00")
    handoff.ok("lead", "accept", "acme-1", "--at", "2026-03-02T12:00", actor="sam")
    handoff.ok("lead", "proposal", "acme-1", "--amount", "30000", "--at", "2026-03-03T10:00",
               actor="sam")
    handoff.ok("lead", "capture", "beta-2", "--source", "ads", "--at", "2026-03-02T09:30")
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "1200")
    return handoff


class Tamperer:
    """Plain SQL on the store's database, as someone with `sqlite3` or `psql` would run it."""

    def __init__(self, store: str) -> None:
        app = HandoffApp(locate(store))
        self.events, self.postgres = eventstore.events_table(app), eventstore.is_postgres(app)
        app.close()
        self.position = "notification_id" if self.postgres else "rowid"
        self.store = store

    def run(self, *statements: str) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        if self.postgres:
            url = make_url(self.store).set(drivername="postgresql")
            with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
                for sql in statements:
                    cursor = connection.execute(self._fill(sql))
                    found = list(cursor.fetchall()) if cursor.description else []
            return found
        connection = sqlite3.connect(self.store)
        try:
            for sql in statements:
                found = connection.execute(self._fill(sql)).fetchall()
            connection.commit()
        finally:
            connection.close()
        return found

    def at(self, topic_end: str) -> int:
        """The log position of the single entry whose kind ends with `topic_end`."""
        found = self.run(f"SELECT {{position}} FROM {{events}} WHERE topic LIKE '%{topic_end}'")
        assert len(found) == 1, found
        return int(found[0][0])

    def slip_in_copy_after(self, position: int) -> None:
        """Room made after the entry at `position`, as a tamperer would (every later entry
        moved down one place), and a copy of it slipped in there as entry 99 of its record."""
        self.run(
            f"UPDATE {{events}} SET {{position}} = {{position}} + 1000"
            f" WHERE {{position}} > {position}",
            "UPDATE {events} SET {position} = {position} - 999 WHERE {position} > 1000",
        )
        self.insert_copy(position, at=position + 1, version=99)

    def insert_copy(self, position: int, at: int, version: int) -> None:
        """A copy of the entry at `position` slipped in at `at`, as entry `version` of its
        record."""
        self.run(
            "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state)"
            f" SELECT {at}, originator_id, {version}, topic, state FROM {{events}}"
            f" WHERE {{position}} = {position}"
        )

    def replace_in_state(self, position: int, old: str, new: str) -> None:
        state = (
            f"convert_to(replace(convert_from(state, 'UTF8'), '{old}', '{new}'), 'UTF8')"
            if self.postgres
            else f"CAST(replace(CAST(state AS TEXT), '{old}', '{new}') AS BLOB)"
        )
        self.run(f"UPDATE {{events}} SET state = {state} WHERE {{position}} = {position}")

    def _fill(self, sql: str) -> str:
        return sql.format(events=self.events, position=self.position)


def test_an_untouched_log_verifies_and_its_digest_names_every_entry(history: Handoff) -> None:
    verdict = history.ok("audit", "verify")
    # 2 entries for the agreement register (created, version applied), 6 lead steps,
    # 2 for the day of traffic (opened, visits recorded).
    assert "10 entries match their seals" in verdict
    digest = history.ok("audit", "digest").strip()
    assert re.fullmatch(r"10-[0-9a-f]{64}", digest)
    assert f"digest {digest}" in verdict


def test_an_edited_amount_is_named_with_its_lead(history: Handoff) -> None:
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.ProposalSent")
    tamper.replace_in_state(at, "30000", "90000")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'acme-1') was edited"
    )


def test_a_deleted_event_is_named(history: Handoff) -> None:
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.Accepted")
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} = {at}")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'acme-1') was removed"
    )


def test_commands_on_a_log_with_an_entry_removed_say_so_and_write_no_backup(
    history: Handoff,
) -> None:
    """A lead read from its entries fails to be: each command says the log was changed
    underneath handoff (not an internal error), and the backup stops before its last line,
    so that no restore takes it for whole."""
    tamper = Tamperer(history.store)
    qualified = tamper.at("Lead.Qualified")
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} = {qualified}")
    # The entry named, as `audit verify` names it, the log being checked on that path.
    said = (f"the log was changed underneath handoff: log entry {qualified} (lead 'acme-1')"
            " was removed")
    for command in (("lead", "history", "acme-1"), ("lead", "reject", "acme-1", "--reason", "r"),
                    ("lead", "show", "acme-1")):
        assert history.refused(*command) == f"Error: {said}", command
    backup = history("export", "--format", "jsonl")
    assert backup.exit_code == 1 and backup.stderr.startswith(
        f"Error: log entry {tamper.at('Lead.Handed')} is out of its record's order:")
    assert "handoff_backup_end" not in backup.stdout


@pytest.mark.parametrize("removed", ["the last entry", "every entry"])
def test_no_backup_is_written_of_a_log_whose_last_entries_were_removed(
    history: Handoff, removed: str,
) -> None:
    """Entries deleted from the log's end leave every entry left in its order: the backup
    read as whole (exit 0, its last line counting what was left). It compares where the
    log ends with where its seals reach first, and writes nothing; `audit verify` names
    the first entry removed."""
    tamper = Tamperer(history.store)
    positions = [int(row[0]) for row in
                 tamper.run("SELECT {position} FROM {events} ORDER BY {position}")]
    kept = positions[:-1] if removed == "the last entry" else []
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} > {kept[-1] if kept else 0}")
    backup = history("export", "--format", "jsonl")
    assert backup.exit_code == 1 and backup.stdout == ""
    ends = f"ends at entry {kept[-1]}" if kept else "holds no entry"
    assert backup.stderr == (
        f"Error: the log {ends}, where its seals reach entry {positions[-1]}: the log was"
        " changed underneath handoff (its last entries removed); no backup is written of it\n"
    )
    assert history.refused("audit", "verify").startswith(
        f"Error: log entry {positions[len(kept)]} (")


@pytest.mark.parametrize("edit", ["cut short", "as text"])
def test_commands_on_a_log_with_an_entry_edited_past_reading_say_so(
    history: Handoff, edit: str,
) -> None:
    """An entry cut short, or edited with sqlite3's `replace()` (which makes the state text):
    the lead cannot be read, and each command says the log was changed underneath handoff
    (it said `internal error: MapperDeserialisationError`); `audit verify` names the entry."""
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.ProposalSent")
    if edit == "as text" and tamper.postgres:
        pytest.skip("a bytea column keeps bytes: only SQLite stores the text replace() gives")
    state = {
        ("cut short", False): "CAST(substr(CAST(state AS TEXT), 1, 40) AS BLOB)",
        ("cut short", True): "substring(state from 1 for 40)",
        ("as text", False): "replace(CAST(state AS TEXT), '30000', '90000')",
    }[edit, tamper.postgres]
    tamper.run(f"UPDATE {{events}} SET state = {state} WHERE {{position}} = {at}")
    said = (f"Error: the log was changed underneath handoff: log entry {at} (lead 'acme-1')"
            " was edited")
    for command in (("lead", "show", "acme-1"), ("lead", "history", "acme-1"),
                    ("lead", "win", "acme-1")):
        assert history.refused(*command) == said, command
    for command in (("export",), ("projections", "rebuild")):
        if edit == "as text":  # read as edited, as an entry edited but left bytes is
            history.ok(*command)
        else:
            assert history.refused(*command) == said, command
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'acme-1') was edited"
    )


@pytest.mark.parametrize(("found", "put"), [
    ('"occurred_at"', '"occurred_on"'),  # a field renamed: the step has no instant
    ('"30000"', '"thirty"'),  # an amount no longer a number
])
def test_commands_on_a_log_with_an_entry_edited_but_still_json_name_the_entry(
    history: Handoff, found: str, put: str,
) -> None:
    """An entry edited by hand and left valid JSON (a field renamed, an amount made a word):
    the commands that build the lead or project it failed as `internal error: KeyError:
    'occurred_at'` (or AttributeError, ValueError), as if handoff had a bug. The log is
    checked against its seals on that path: each says which entry was changed underneath
    handoff, as `audit verify` does."""
    history.ok("kpi", "--month", "2026-03")  # the read model up to date, sealed
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.ProposalSent")
    text = "convert_from(state, 'UTF8')" if tamper.postgres else "CAST(state AS TEXT)"
    back = ("convert_to({0}, 'UTF8')" if tamper.postgres else "CAST({0} AS BLOB)").format(
        f"replace({text}, '{found}', '{put}')")
    assert tamper.run(f"SELECT count(*) FROM {{events}} WHERE {{position}} = {at}"
                      f" AND {text} LIKE '%{found}%'") == [(1,)]
    tamper.run(f"UPDATE {{events}} SET state = {back} WHERE {{position}} = {at}")
    said = (f"Error: the log was changed underneath handoff: log entry {at} (lead 'acme-1')"
            " was edited")
    for command in (("lead", "show", "acme-1"), ("lead", "win", "acme-1"),
                    ("projections", "rebuild")):
        assert history.refused(*command) == said, command
    assert history.refused("audit", "verify") == f"Error: log entry {at} (lead 'acme-1') was edited"


def test_an_entry_whose_kind_was_edited_is_never_loaded_and_the_commands_say_so(
    history: Handoff,
) -> None:
    """An entry's kind names the class handoff builds it from: edited by hand to name
    another module of the installation (`this`, which prints a poem as it is imported),
    no command loads it (it imported the module, then said `internal error: TypeError`);
    each says the log was changed underneath handoff, no backup is written of it (none
    would restore), and `audit verify` names the entry."""
    sys.modules.pop("this", None)
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.ProposalSent")
    tamper.run(f"UPDATE {{events}} SET topic = 'this:s' WHERE {{position}} = {at}")
    for command in (("lead", "show", "acme-1"), ("lead", "history", "acme-1"),
                    ("lead", "win", "acme-1"), ("projections", "rebuild")):
        assert history.refused(*command) == (
            f"Error: {LOG_CHANGED_AT}: log entry {at} (lead 'acme-1') was edited"), command
    assert history.refused("export", "--format", "jsonl").startswith(
        f"Error: log entry {at} is of no kind handoff writes: ")  # no restore would take it
    assert "this" not in sys.modules
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'acme-1') was edited"
    )


def test_a_removed_lead_whose_every_entry_is_gone_is_named_by_its_key(history: Handoff) -> None:
    """The log holds nothing of beta-2 any more; the KPIs' record of it names it still."""
    history.ok("kpi", "--month", "2026-03")  # the read model holds every lead
    tamper = Tamperer(history.store)
    # The second capture is beta-2's (acme-1 was captured first).
    [(at,)] = tamper.run("SELECT MAX({position}) FROM {events} WHERE topic LIKE '%Lead.Captured'")
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} = {at}")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'beta-2') was removed"
    )



def test_a_removed_day_of_traffic_whose_every_entry_is_gone_is_named_by_its_day(
    history: Handoff,
) -> None:
    """The last rows deleted (`DELETE ... WHERE rowid > N`) took a day's traffic whole: the
    KPIs' record of its visits names the day still, not an aggregate's id."""
    history.ok("kpi", "--month", "2026-03")  # the read model holds the day's visits
    tamper = Tamperer(history.store)
    opened = tamper.at("TrafficDay.Opened")
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} >= {opened}")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {opened} (traffic of 2026-03-02) was removed"
    )


def test_a_removed_lead_is_named_by_its_key_by_a_read_model_behind_the_log(
    history: Handoff,
) -> None:
    """A lead's key is its capture's, which no later entry changes: a read model that has
    yet to project the latest entries names the leads it holds rightly, and the audit reads
    it as it stands (it brings nothing up to date from a log it finds changed)."""
    history.ok("kpi", "--month", "2026-03")
    history.ok("traffic", "record", "--date", "2026-03-03", "--visits", "800")
    assert history.json("projections", "status")["behind"] == 2  # the day opened, its visits
    tamper = Tamperer(history.store)
    [(at,)] = tamper.run("SELECT MAX({position}) FROM {events} WHERE topic LIKE '%Lead.Captured'")
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} = {at}")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'beta-2') was removed"
    )

def test_a_removed_erasure_is_named_rather_than_the_entries_it_rewrote(
    history: Handoff,
) -> None:
    """`lead forget` rewrote the capture (its seal no longer matches it) and recorded why in
    an entry of its own: with that entry removed, the removal is what was done underneath
    handoff, not an edit of the capture."""
    history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.Forgotten")
    tamper.run(f"DELETE FROM {{events}} WHERE {{position}} = {at}")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'acme-1') was removed"
    )


def test_a_removed_erasure_with_the_gap_closed_is_named(history: Handoff) -> None:
    """The erasure removed and the entries after it moved up to close the gap: the capture
    it rewrote matches neither its seal nor a recorded erasure, and the removal explains it;
    the entry now at the erasure's place is another's, not the erasure."""
    history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    history.ok("lead", "capture", "gamma-3", "--source", "web", "--at", "2026-03-02T09:45")
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.Forgotten")
    tamper.run(
        f"DELETE FROM {{events}} WHERE {{position}} = {at}",
        f"UPDATE {{events}} SET {{position}} = {{position}} + 1000 WHERE {{position}} > {at}",
        "UPDATE {events} SET {position} = {position} - 1001 WHERE {position} > 1000",
    )
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (lead 'acme-1') was removed"
    )


def _edited_proposal(tamper: Tamperer) -> tuple[int, str, int, str]:
    """The proposal's amount edited underneath handoff: its position, its lead's id (32 hex
    digits), its lead's last entry number, and the digest the edited entry has."""
    at = tamper.at("Lead.ProposalSent")
    tamper.replace_in_state(at, "30000", "90000")
    [(originator, topic, version, state)] = tamper.run(
        "SELECT originator_id, topic, originator_version, state FROM {events}"
        f" WHERE {{position}} = {at}")
    lead = UUID(str(originator)).hex
    [(last,)] = tamper.run("SELECT MAX(originator_version) FROM {events} WHERE"
                           f" {{position}} >= {at} AND topic LIKE 'handoff.domain.lead:%'")
    return at, lead, int(last), audit.content_digest(lead, version, topic, bytes(state)).hex()


def test_an_erasure_added_by_hand_excuses_no_edited_entry(history: Handoff) -> None:
    """An entry edited, and an erasure appended by hand that names the edited entry's new
    digest: only an erasure `lead forget` recorded, sealed as recorded, says which entries it
    rewrote; the edit is named, whatever digest is kept of the log."""
    kept = history.ok("audit", "digest").strip()
    tamper = Tamperer(history.store)
    at, lead, last, digest = _edited_proposal(tamper)
    erasure = (
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-03-20T12:00:00+00:00"},'
        '"occurred_at":{"_type_":"datetime_iso","_data_":"2026-03-20T12:00:00+00:00"},'
        '"actor":"maria","agreement_version":null,"agreement":null,"why":"ticket 7",'
        f'"erased":[[{at},"{digest}"]]}}'
    )
    braced = erasure.replace("{", "{{").replace("}", "}}")  # as `Tamperer.run` reads SQL
    state = (f"convert_to('{braced}', 'UTF8')" if tamper.postgres
             else f"CAST('{braced}' AS BLOB)")
    originator = f"'{UUID(lead)}'" if tamper.postgres else f"'{lead}'"
    tamper.run(
        "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state)"
        f" SELECT MAX({{position}}) + 1, {originator}, {last + 1},"
        f" 'handoff.domain.lead:Lead.Forgotten', {state} FROM {{events}}"
    )
    expected = f"Error: log entry {at} (lead 'acme-1') was edited"
    assert history.refused("audit", "verify") == expected
    assert history.refused("audit", "verify", "--digest", kept) == expected


def test_an_erasure_edited_to_excuse_an_edit_is_named_as_edited(history: Handoff) -> None:
    """`lead forget` recorded which entries it rewrote; that record edited underneath handoff
    to name an edited entry too vouches for none of them: the edited record, which no
    longer says which entries the erasure rewrote, is what is named."""
    history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    tamper = Tamperer(history.store)
    at, _, _, digest = _edited_proposal(tamper)
    erasure = tamper.at("Lead.Forgotten")
    tamper.replace_in_state(erasure, '"erased":[[', f'"erased":[[{at},"{digest}"],[')
    assert history.refused("audit", "verify") == (
        f"Error: log entry {erasure} (lead 'acme-1') was edited"
    )


def test_a_forget_cut_short_before_its_seal_is_finished_by_running_it_again(
    late_at_once: None, history: Handoff, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The erasure recorded, the command killed before it sealed it: the next command seals
    it late, so it vouches for nothing; `lead forget` run again records an erasure that does,
    and the log is intact."""
    with monkeypatch.context() as killed:
        def killed_before_sealing(app: Any) -> int:
            raise RuntimeError("killed")

        killed.setattr(audit, "seal", killed_before_sealing)
        assert history("lead", "forget", "acme-1", "--why", "ticket 7").exit_code == 1
    history.ok("kpi", "--month", "2026-03")  # seals the erasure, late
    history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    assert [entry["name"] for entry in history.json("lead", "history", "acme-1")
            if entry["event"] == "captured"] == ["[forgotten]"]
    assert history.ok("audit", "verify").startswith(
        "the log is intact: 12 entries match their seals, 1 of them with a person's details"
        " erased (lead forget)")


def test_a_swapped_pair_is_named_as_reordered(history: Handoff) -> None:
    tamper = Tamperer(history.store)
    accepted, proposal = tamper.at("Lead.Accepted"), tamper.at("Lead.ProposalSent")
    tamper.run(
        f"UPDATE {{events}} SET {{position}} = -1 WHERE {{position}} = {accepted}",
        f"UPDATE {{events}} SET {{position}} = {accepted} WHERE {{position}} = {proposal}",
        f"UPDATE {{events}} SET {{position}} = {proposal} WHERE {{position}} = -1",
    )
    assert history.refused("audit", "verify") == (
        f"Error: log entry {accepted} (lead 'acme-1') was reordered"
    )


def test_a_forgotten_leads_capture_swapped_with_its_next_entry_is_named_as_reordered(
    history: Handoff,
) -> None:
    """`lead forget` rewrote the capture, so it no longer matches its seal but the digest its
    erasure vouches for: moved one place down, it is still the capture, moved, not removed."""
    history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    tamper = Tamperer(history.store)
    qualified = tamper.at("Lead.Qualified")
    [(captured,)] = tamper.run(
        "SELECT {position} FROM {events} WHERE topic LIKE '%Lead.Captured'"
        f" AND {{position}} < {qualified} ORDER BY {{position}} DESC LIMIT 1")
    tamper.run(
        f"UPDATE {{events}} SET {{position}} = -1 WHERE {{position}} = {captured}",
        f"UPDATE {{events}} SET {{position}} = {captured} WHERE {{position}} = {qualified}",
        f"UPDATE {{events}} SET {{position}} = {qualified} WHERE {{position}} = -1",
    )
    assert history.refused("audit", "verify") == (
        f"Error: log entry {captured} (lead 'acme-1') was reordered"
    )


def test_an_edited_agreement_version_is_named(history: Handoff) -> None:
    tamper = Tamperer(history.store)
    at = tamper.at("VersionApplied")
    tamper.replace_in_state(at, "decide_within_hours", "decide_within_hourz")
    assert history.refused("audit", "verify") == (
        f"Error: log entry {at} (the agreement's versions) was edited"
    )


@pytest.mark.parametrize("forgotten", [False, True])
def test_an_entry_inserted_among_sealed_ones_is_named(history: Handoff, forgotten: bool) -> None:
    """Forgotten: `lead forget` rewrote the capture and vouched for it in its erasure,
    sealed where it was recorded; an entry slipped in before the erasure moves it down one
    place, still the erasure its seal was taken of: the insertion is the first change, not
    an edit of the erasure or of the capture it vouches for."""
    if forgotten:
        history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    tamper = Tamperer(history.store)
    proposal = tamper.at("Lead.ProposalSent")
    tamper.slip_in_copy_after(proposal)
    assert history.refused("audit", "verify") == (
        f"Error: log entry {proposal + 1} (lead 'acme-1') was inserted"
    )


def test_an_entry_appended_by_hand_out_of_its_records_order_is_named(
    history: Handoff
) -> None:
    """A copy of a proposal appended as entry 99 of its lead, then sealed as it came by the
    next command: the lead could no longer be read ('the log was changed underneath
    handoff ...; `handoff audit verify` names it'), while audit verify said the log was
    intact."""
    tamper = Tamperer(history.store)
    proposal = tamper.at("Lead.ProposalSent")
    tamper.insert_copy(proposal, at=1000, version=99)
    named = ("Error: log entry 1000 (lead 'acme-1') is out of its record's order: inserted,"
             " or an earlier entry of its record removed or moved")
    assert history.refused("audit", "verify") == named
    history.ok("kpi", "--month", "2026-03")  # its end seals the entry as it stands
    assert history.refused("lead", "history", "acme-1") == (
        f"Error: {LOG_CHANGED_AT}: {named.removeprefix('Error: ')}")
    assert history.refused("audit", "verify") == named


@pytest.mark.parametrize("position", [0, -7, -(2**63)])
def test_an_entry_inserted_before_the_first_is_named(history: Handoff, position: int) -> None:
    """Neither store numbers an entry below 1, but either takes one numbered so by hand
    (down to the lowest a 64-bit integer holds): it is the log's first entry all the same,
    and the lead it names reads it as one of its steps."""
    tamper = Tamperer(history.store)
    proposal = tamper.at("Lead.ProposalSent")
    tamper.insert_copy(proposal, at=position, version=99)
    assert history.refused("audit", "verify") == (
        f"Error: log entry {position} (lead 'acme-1') was inserted"
    )


def test_every_reader_reads_an_entry_numbered_below_1_as_part_of_the_log(
    history: Handoff,
) -> None:
    """The KPIs, the CSV export and the backup read the log from its lowest position, as
    `audit verify` does and as a record reads its own entries: a day's visits slipped in
    at entry 0 count, and the backup meets the entry first, before its day's own."""
    history.ok("kpi", "--month", "2026-03")  # the read model holds the log up to here
    tamper = Tamperer(history.store)
    visits = tamper.at("VisitsRecorded")
    tamper.insert_copy(visits, at=0, version=3)
    tamper.replace_in_state(0, "2026-03-02", "2026-03-03")
    history.ok("projections", "rebuild")
    # Each day counts its latest record: 1200 on the 2nd, and the slipped-in 1200 on the 3rd.
    assert history.json("kpi", "--month", "2026-03")["counts"]["visits"] == 2400
    csv = history.ok("export").splitlines()
    assert [line.split(",")[2] for line in csv if ",visits," in line] == [
        "2026-03-03", "2026-03-02"]
    backup = history("export", "--format", "jsonl")
    assert backup.exit_code == 1
    assert backup.stderr.startswith("Error: log entry 0 is out of its record's order:")


@pytest.mark.parametrize("position", [0, -7])
def test_no_backup_is_written_of_a_log_with_an_entry_moved_below_1(
    history: Handoff, position: int
) -> None:
    """beta-2's capture, its only entry, moved below 1: the log still holds each record's
    entries in order, but a restore takes only positions from 1 (`backup._entry`), so the
    backup stops before that entry rather than end as if whole."""
    tamper = Tamperer(history.store)
    captured = tamper.run("SELECT MAX({position}) FROM {events} WHERE topic LIKE"
                          " '%Lead.Captured'")[0][0]
    tamper.run(f"UPDATE {{events}} SET {{position}} = {position} WHERE {{position}} ="
               f" {captured}")
    backup = history("export", "--format", "jsonl")
    assert backup.exit_code == 1, backup.stdout[-300:]
    assert backup.stderr.startswith(f"Error: log entry {position} lies before the log's first"
                                    " position: the log was changed underneath handoff"), (
        backup.stderr)
    assert "handoff_backup_end" not in backup.stdout


@pytest.mark.parametrize("position", [0, 1000])
def test_the_kpis_of_a_log_with_a_lead_entry_before_its_capture_say_the_log_was_changed(
    history: Handoff, position: int
) -> None:
    """A step of acme-1 slipped in before the first entry, or its capture moved after its
    steps: the KPIs say so, as `lead show` and the backup do, rather than fail inside."""
    tamper = Tamperer(history.store)
    if position:
        captured = tamper.run("SELECT MIN({position}) FROM {events} WHERE topic LIKE"
                              " '%Lead.Captured'")[0][0]
        tamper.run(f"UPDATE {{events}} SET {{position}} = {position} WHERE {{position}} ="
                   f" {captured}")
        out_of_order = tamper.at("Lead.Qualified")
    else:
        tamper.insert_copy(tamper.at('Lead.ProposalSent'), at=0, version=99)
        out_of_order = 0
    refusal = history.refused("projections", "rebuild")
    assert refusal.startswith(f"Error: log entry {out_of_order} is out of its record's order:"
                              " the log was changed underneath handoff"), refusal
    assert history.refused("kpi", "--month", "2026-03") == refusal


def test_the_kpis_of_a_log_with_a_lead_captured_again_later_say_the_log_was_changed(
    history: Handoff,
) -> None:
    """acme-1's capture moved past the log's end once the KPIs had read it: the next
    catch-up meets a second capture of a lead it holds, which only a change underneath
    puts there (it failed inside, on the read model's key of the lead)."""
    history.ok("kpi", "--month", "2026-03")  # the read model holds acme-1
    tamper = Tamperer(history.store)
    captured = tamper.run("SELECT MIN({position}) FROM {events} WHERE topic LIKE"
                          " '%Lead.Captured'")[0][0]
    tamper.run(f"UPDATE {{events}} SET {{position}} = 11 WHERE {{position}} = {captured}")
    assert history.refused("kpi", "--month", "2026-03") == (
        "Error: log entry 11 is out of its record's order: the log was changed underneath"
        " handoff: an entry of a lead, of the agreement or of a day's traffic is missing, out"
        " of its place or unreadable; `handoff audit verify` names it")


@pytest.mark.parametrize("forgotten", [False, True])
def test_an_entry_removed_and_the_gap_closed_is_named(history: Handoff, forgotten: bool) -> None:
    """Forgotten: as an insertion before a forgotten lead's erasure (test_an_entry_inserted_
    among_sealed_ones_is_named), the erasure moved up one place by the removal of an entry
    before it: the removal is named, not the erasure."""
    if forgotten:
        history.ok("lead", "forget", "acme-1", "--why", "ticket 7")
    tamper = Tamperer(history.store)
    accepted = tamper.at("Lead.Accepted")
    tamper.run(
        f"DELETE FROM {{events}} WHERE {{position}} = {accepted}",
        f"UPDATE {{events}} SET {{position}} = {{position}} + 1000 WHERE {{position}} > {accepted}",
        "UPDATE {events} SET {position} = {position} - 1001 WHERE {position} > 1000",
    )
    assert history.refused("audit", "verify") == (
        f"Error: log entry {accepted} (lead 'acme-1') was removed"
    )


def test_a_rewritten_log_and_seals_are_caught_by_a_kept_digest(history: Handoff) -> None:
    kept = history.ok("audit", "digest").strip()
    history.ok("lead", "contact", "acme-1", "--at", "2026-03-04T10:00", actor="sam")
    assert f"it extends digest {kept}" in history.ok("audit", "verify", "--digest", kept)
    tamper = Tamperer(history.store)
    at = tamper.at("Lead.ProposalSent")
    tamper.replace_in_state(at, "30000", "90000")
    tamper.run("DELETE FROM handoff_audit_chain")  # the seals re-made from the edited log
    history.ok("audit", "verify")
    refusal = history.refused("audit", "verify", "--digest", kept)
    position = kept.split("-")[0]
    assert refusal.startswith(f"Error: the log is not the one digested at entry {position}:")


@pytest.fixture
def blocks_of_four(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 entries: the fixture's 10 entries are sealed in blocks 1-4, 5-8, 9-10."""
    monkeypatch.setattr(audit, "BLOCK", 4)


@pytest.fixture
def late_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries left unsealed by their command are named late by the next that seals them,
    however recently recorded (rather than only after audit.LATE_AFTER): these tests run
    their commands a few seconds apart."""
    monkeypatch.setattr(audit, "LATE_AFTER", timedelta(0))


# When a command sealed entries late, as `audit verify` shows an instant to people.
SHOWN_AT = r"at \d{4}-\d\d-\d\d \d\d:\d\d [A-Z]{3,4}"
BEFORE = "only a digest kept from before vouches for them"


def test_entries_whose_seals_were_deleted_are_said_to_be_sealed_late_ever_after(
    blocks_of_four: None, late_at_once: None, history: Handoff
) -> None:
    """The last block's seals deleted and the day's visits edited meanwhile: the check finds
    the entries unsealed, its end seals them as they stand, and every check after it says
    so, naming the command and when; a digest kept from before still tells them apart."""
    kept = history.ok("audit", "digest").strip()
    tamper = Tamperer(history.store)
    visits = tamper.at("VisitsRecorded")
    assert visits == 10
    tamper.run("DELETE FROM handoff_audit_chain WHERE first_position = 9")
    tamper.replace_in_state(visits, "1200", "9999")
    assert history.ok("audit", "verify").splitlines()[:2] == [
        "the log is intact: 8 entries match their seals",
        f"2 entries, 9 to 10, have no seal yet: {BEFORE}",
    ]
    for _ in range(2):
        verdict = history.ok("audit", "verify").splitlines()
        assert verdict[0] == "the log is intact: 10 entries match their seals"
        assert re.fullmatch(
            f"entries 9 to 10 were sealed late by `handoff audit verify` {SHOWN_AT}, not by"
            f" the command that recorded them: {BEFORE}", verdict[1]), verdict[1]
    assert history.refused("audit", "verify", "--digest", kept) == (
        "Error: the log is not the one digested at entry 10: it was rewritten since, seals"
        " included"
    )


def test_a_read_command_that_seals_entries_another_recorded_is_named_by_the_check(
    blocks_of_four: None, late_at_once: None, history: Handoff
) -> None:
    """Any command seals what it finds unsealed as it ends; a command sealing what it
    recorded itself seals it on time."""
    Tamperer(history.store).run("DELETE FROM handoff_audit_chain WHERE first_position = 9")
    history.ok("kpi", "--month", "2026-03")
    history.ok("lead", "qualify", "beta-2", "--at", "2026-03-02T10:30")  # entry 11, its own
    verdict = history.ok("audit", "verify").splitlines()
    assert verdict[0] == "the log is intact: 11 entries match their seals"
    assert re.fullmatch(
        f"entries 9 to 10 were sealed late by `handoff kpi` {SHOWN_AT}, not by the command"
        f" that recorded them: {BEFORE}", verdict[1]), verdict[1]
    assert verdict[2].startswith("digest 11-")


def test_only_entries_recorded_before_a_command_began_are_sealed_late_by_it(
    late_at_once: None, store: str,
) -> None:
    """Entry 2 was left unsealed by its command (killed before its end, say) before the
    sealing command began; entry 3 was recorded by another command while it ran, which
    would have sealed it as it ended."""
    handoff = Handoff(store)
    handoff.ok("lead", "capture", "a-1", "--source", "web", "--at", "2026-03-02T09:00")
    earlier = HandoffApp(locate(store))
    earlier.capture("b-2", "web", "maria", at="2026-03-02T09:10")
    earlier.close()
    sealing = HandoffApp(locate(store))
    meanwhile = HandoffApp(locate(store))
    meanwhile.capture("c-3", "web", "maria", at="2026-03-02T09:20")
    meanwhile.close()
    assert audit.seal(sealing) == 2
    sealing.close()
    verdict = handoff.ok("audit", "verify").splitlines()
    assert verdict[0] == "the log is intact: 3 entries match their seals"
    assert re.fullmatch(f"entry 2 was sealed late {SHOWN_AT}, not by the command that"
                        " recorded it: only a digest kept from before vouches for it",
                        verdict[1]), verdict[1]
    assert verdict[2].startswith("digest 3-")


@pytest.mark.parametrize("dry_run", [
    ("import", "{rows}", "--dry-run"),
    ("sla", "notify", "--webhook", "http://127.0.0.1:9/", "--dry-run"),
], ids=["import", "sla notify"])
def test_a_dry_run_leaves_entries_it_finds_unsealed_as_they_are(
    blocks_of_four: None, late_at_once: None, history: Handoff, tmp_path: Any,
    dry_run: tuple[str, ...],
) -> None:
    """A dry run writes nothing at all (SPEC §7), not even the seals of entries another
    command left unsealed: the check after it finds them unsealed still, not sealed late
    by a command that said it wrote nothing."""
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at\n")
    Tamperer(history.store).run("DELETE FROM handoff_audit_chain WHERE first_position = 9")
    history.ok(*(arg.format(rows=rows) for arg in dry_run))
    assert history.ok("audit", "verify").splitlines()[:2] == [
        "the log is intact: 8 entries match their seals",
        f"2 entries, 9 to 10, have no seal yet: {BEFORE}",
    ]


@pytest.mark.parametrize(("minutes", "late"), [(59, False), (61, True)])
def test_an_entry_its_command_has_yet_to_seal_is_not_named_late_by_a_shorter_one(
    store: str, minutes: int, late: bool
) -> None:
    """A command goes on after recording (sla notify delivers its notices, a step brings the
    KPIs up to date): a shorter command begun meanwhile ends first and seals its entry. That
    is no sign of tampering; an entry left unsealed an hour and more is one (LATE_AFTER)."""
    Handoff(store).ok("lead", "capture", "a-1", "--source", "web", "--at", "2026-03-02T09:00")
    notifying = HandoffApp(locate(store))
    notifying.capture("b-2", "web", "maria", at="2026-03-02T09:10")  # its seal yet to come
    recorded = notifying.clock()
    shorter = HandoffApp(locate(store), clock=lambda: recorded + timedelta(minutes=minutes))
    assert audit.seal(shorter) == 1
    shorter.close()
    notifying.close()
    checking = HandoffApp(locate(store))
    verdict = audit.verify(checking)
    checking.close()
    assert verdict.unsealed is None
    assert [(seal.first, seal.last) for seal in verdict.late] == ([(2, 2)] if late else [])


def test_entries_dated_ahead_by_hand_are_not_taken_for_recent_ones(
    blocks_of_four: None, history: Handoff
) -> None:
    """Seals deleted, the visits edited and both entries dated in 2999 to pass for ones
    recorded within the hour for ever: a command sealing them two hours on names them late
    all the same (an entry is dated a clock's skew ahead at most)."""
    tamper = Tamperer(history.store)
    tamper.run("DELETE FROM handoff_audit_chain WHERE first_position = 9")
    tamper.replace_in_state(10, "1200", "9999")
    dated = '"datetime_iso","_data_":"'
    for position in (9, 10):
        tamper.replace_in_state(position, f"{dated}20", f"{dated}29")
    sealing = HandoffApp(locate(history.store), clock=lambda: now_utc() + timedelta(hours=2))
    assert audit.seal(sealing) == 2
    sealing.close()
    checking = HandoffApp(locate(history.store))
    assert [(seal.first, seal.last) for seal in audit.verify(checking).late] == [(9, 10)]
    checking.close()


def test_a_store_sealed_by_a_release_that_kept_no_record_of_late_seals_is_verified(
    history: Handoff,
) -> None:
    """Such a store has no table of late seals: it is checked as it is, and the first
    command that seals makes that table."""
    tamper = Tamperer(history.store)
    tamper.run("DROP TABLE handoff_audit_late")
    assert history.ok("audit", "verify").splitlines()[:2] == [
        "the log is intact: 10 entries match their seals", "digest " + history.ok(
            "audit", "digest").strip()]
    history.ok("lead", "qualify", "beta-2", "--at", "2026-03-02T10:30")
    assert "11 entries match their seals\ndigest 11-" in history.ok("audit", "verify")


def test_a_log_whose_seals_table_was_dropped_with_a_lead_forgotten_is_said_unsealed(
    history: Handoff,
) -> None:
    """The seals gone whole (`DROP TABLE handoff_audit_chain`) from a log holding an
    erasure: every entry is unsealed, said so as when its seals were deleted, not a store
    error; the check's end seals them again."""
    history.ok("lead", "forget", "acme-1", "--why", "erasure request")
    Tamperer(history.store).run("DROP TABLE handoff_audit_chain")
    assert history.ok("audit", "verify").splitlines()[:2] == [
        "the log is intact: 0 entries match their seals",
        f"11 entries, 1 to 11, have no seal yet: {BEFORE}",
    ]
    assert history.ok("audit", "verify").splitlines()[0] == (
        "the log is intact: 11 entries match their seals")


def test_a_store_whose_events_table_was_dropped_is_said_to_have_lost_its_log(
    history: Handoff,
) -> None:
    """The events table dropped by hand (`DROP TABLE`), the seals and the KPI tables left:
    no command reads the KPIs of a log that is gone, and none records into a new, empty one
    beside them; each says what happened, and nothing is written."""
    tamper = Tamperer(history.store)
    tamper.run(f"DROP TABLE {tamper.events}")
    lost = (f"Error: store {history.store!r} has lost its log: its events table is gone,"
            " its seals are still there (dropped underneath handoff): restore the last"
            " backup into a new store")
    for command in (("kpi", "--month", "2026-03"), ("lead", "list"), ("audit", "verify"),
                    ("lead", "capture", "new-1", "--source", "web")):
        assert history.refused(*command) == lost
    assert history.refused("lead", "capture", "new-1", "--source", "web") == lost
    found = (tamper.run("SELECT to_regclass('handoff_events') IS NOT NULL") if tamper.postgres
             else tamper.run("SELECT count(*) FROM sqlite_master WHERE name = 'stored_events'"))
    assert not found[0][0]


MALFORMED = (
    "Error: not a digest printed by 'handoff audit digest' (an entry's position in the log,"
    " a dash and 64 hex digits): "
)
LINK = "ab" * 32


@pytest.mark.parametrize("text", [
    "12-abc",
    f"0-{LINK}",  # the log's entries are numbered from 1
    f"-1-{LINK}",
    f"99999999999999999999999-{LINK}",  # beyond what a store can number (2**63 - 1)
    f"9223372036854775808-{LINK}",
    f"\u0663-{LINK}",  # an Arabic-Indic 3
    f"12-{LINK[:-2]} f",
])
def test_a_malformed_digest_is_refused_in_one_line(history: Handoff, text: str) -> None:
    assert history.refused("audit", "verify", "--digest", text) == f"{MALFORMED}{text!r}"


def test_the_last_line_of_a_verify_is_a_digest_to_keep_as_it_is(history: Handoff) -> None:
    """`audit verify` ends with `digest 10-...`: copied whole, it is the digest (it was
    refused as "not a digest")."""
    last = history.ok("audit", "verify").strip().splitlines()[-1]
    assert last.startswith("digest 10-")
    assert f"it extends digest {last.split()[1]}" in history.ok("audit", "verify", "--digest",
                                                                 last)


@pytest.mark.parametrize("position", ["11", "99", "9223372036854775807"])
def test_a_digest_past_the_end_of_the_log_says_the_log_is_shorter(
    history: Handoff, position: str
) -> None:
    """The fixture's log holds entries 1 to 10 (its seals test names them)."""
    kept = history.ok("audit", "digest").strip()
    refusal = history.refused("audit", "verify", "--digest", f"{position}-{kept[-64:]}")
    assert refusal == (
        f"Error: the log ends at entry 10, before the digest's entry {position}: entries"
        " were removed since, or the digest was taken of another store (the one this store was"
        " restored from, when its PostgreSQL log skipped positions: a restore numbers the"
        " entries anew, without gaps)"
    )


def test_seals_edited_by_hand_are_named(history: Handoff) -> None:
    tamper = Tamperer(history.store)
    tamper.run("UPDATE handoff_audit_chain SET link = previous")
    assert history.refused("audit", "verify") == (
        "Error: the seals of log entries 1 to 10 were edited"
    )


def test_a_large_log_is_sealed_in_blocks_and_verified_across_them(store: str) -> None:
    """More entries than a block holds, written by several commands and one import."""
    handoff = Handoff(store)
    rows = ["lead,event,at,source"] + [
        f"bulk-{i},captured,2026-03-02T09:{i % 60:02d}:00Z,web" for i in range(1200)
    ]
    csv_path = f"{store}.csv" if not store.startswith("postgresql") else "/tmp/audit-bulk.csv"
    with open(csv_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")
    handoff.ok("import", csv_path)
    kept = handoff.ok("audit", "digest").strip()
    assert kept.startswith("1200-")
    handoff.ok("lead", "capture", "late-1", "--source", "web", "--at", "2026-03-03T09:00")
    assert "1201 entries match their seals" in handoff.ok("audit", "verify", "--digest", kept)
    tamper = Tamperer(store)
    tamper.replace_in_state(1100, "bulk-", "bulc-")
    assert handoff.refused("audit", "verify") == (
        "Error: log entry 1100 (lead 'bulc-1099') was edited"
    )


@pytest.mark.parametrize("unsealed_before", [False, True], ids=["sealed", "unsealed-before"])
def test_an_import_is_sealed_as_its_entries_are_written_with_the_seals_read_from_the_log(
    store: str, unsealed_before: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk write seals its entries from the digests taken as their rows were made (a
    chunk at a time), across blocks, with the very seals that reading them back from the
    log makes; after an entry some command left unsealed, it seals from the log."""
    monkeypatch.setattr(eventstore, "CHUNK", 64)
    handoff = Handoff(store)
    handoff.ok("lead", "capture", "first-1", "--source", "web", "--at", "2026-03-02T08:00")
    if unsealed_before:
        app = HandoffApp(locate(store))
        app.capture("unsealed-1", "web", "maria", at="2026-03-02T08:30")
        app.close()
    rows = ["lead,event,at,source"] + [
        f"bulk-{i},captured,2026-03-02T09:{i % 60:02d}:00Z,web" for i in range(1200)
    ]
    csv_path = f"{store}.csv" if not store.startswith("postgresql") else "/tmp/audit-sealed.csv"
    with open(csv_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(rows) + "\n")
    read_back: list[int] = []
    seal = audit.seal
    monkeypatch.setattr(audit, "seal", lambda app: read_back.append(seal(app)) or 0)
    handoff.ok("import", csv_path)
    assert read_back == ([1201] if unsealed_before else [])
    monkeypatch.undo()
    tamper = Tamperer(store)
    chain = "SELECT * FROM handoff_audit_chain ORDER BY first_position"
    sealed_as_written = tamper.run(chain)

    tamper.run("DELETE FROM handoff_audit_chain")
    entries = 1201 + unsealed_before
    assert f"{entries} entries, 1 to {entries}, have no seal yet" in handoff.ok("audit", "verify")
    assert tamper.run(chain) == sealed_as_written  # as that verify's end sealed them again
    assert f"{entries} entries match their seals" in handoff.ok("audit", "verify")
