"""Every value a user types is bounded and plainly written (SPEC §7); refused in one line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import Handoff, nothing_recorded

HEADER = "lead,event,at,actor,source,score,amount,visits,reason\n"


def accepted_lead(handoff: Handoff, key: str = "k") -> None:
    handoff.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("lead", "qualify", key, "--at", "2026-03-02T10:00Z")
    handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T11:00Z")
    handoff.ok("lead", "accept", key, "--at", "2026-03-02T12:00Z")


@pytest.mark.parametrize(
    "amount",
    ["\u0661\u0662\u0663", "\uff11\uff12\uff13", "1_000", "1E+3", "1e3", "NaN", "Infinity",
     "1000000000000", "0x10"],
)
def test_an_amount_is_plain_ascii_digits_below_a_trillion(handoff: Handoff, amount: str) -> None:
    accepted_lead(handoff)
    line = handoff.refused("lead", "proposal", "k", "--amount", amount, "--at", "2026-03-03T09:00Z")
    assert "amount" in line
    assert handoff.json("lead", "show", "k")["state"] == "accepted"


def test_the_largest_amount_below_a_trillion_is_taken(handoff: Handoff) -> None:
    accepted_lead(handoff)
    handoff.ok("lead", "proposal", "k", "--amount", "999999999999.99", "--at", "2026-03-03T09:00Z")
    assert handoff.json("lead", "show", "k")["state"] == "proposal"


@pytest.mark.parametrize("score", ["-5", "1" + "0" * 26, "\u0661\u0662", "1_0"])
def test_a_score_is_a_whole_number_from_0_below_a_trillion(handoff: Handoff, score: str) -> None:
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z")
    result = handoff("lead", "qualify", "k", "--score", score)
    assert result.exit_code == 2 and "score" in result.stderr, result.output
    assert handoff.json("lead", "show", "k")["state"] == "captured"


@pytest.mark.parametrize("visits", ["99999999999999999999999", "-1", "1e3", "\uff11\uff10"])
def test_visits_are_bounded(handoff: Handoff, visits: str) -> None:
    result = handoff("traffic", "record", "--date", "2026-03-02", "--visits", visits)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no store at" in handoff.refused("export")


def test_visits_are_recorded_for_a_day_that_has_begun_in_the_agreements_zone(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A day's traffic is counted once the day is under way; no step is recorded ahead of
    time either (SPEC §2: at most 5 minutes in the future)."""
    agreement = tmp_path / "a.toml"
    agreement.write_text(
        'name = "x"\neffective_from = 2026-01-01\ntimezone = "America/Chicago"\n'
        "[sales]\ndecide_within_hours = 8\n"
    )
    handoff.ok("sla", "apply", str(agreement))
    line = handoff.refused("traffic", "record", "--date", "2031-01-01", "--visits", "3")
    assert "2031-01-01 has not begun" in line
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + ",visits,2031-01-01,li,,,,3,\n")
    result = handoff("import", str(path))
    assert result.exit_code == 1 and "line 2: 2031-01-01 has not begun" in result.stderr
    assert ",visits," not in handoff.ok("export")
    today_in_chicago = datetime.now(ZoneInfo("America/Chicago")).date().isoformat()
    handoff.ok("traffic", "record", "--date", today_in_chicago, "--visits", "3")
    assert f",visits,{today_in_chicago}," in handoff.ok("export")


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00Z", "1899-12-31T23:59Z", "2200-01-01T00:00Z", "9999-12-31T23:00"]
)
def test_an_instant_lies_between_1900_and_2200(handoff: Handoff, at: str) -> None:
    assert "out of range" in handoff.refused("lead", "capture", "k", "--source", "w", "--at", at)
    handoff.refused("lead", "show", "k")


def test_a_period_outside_1900_to_2200_is_refused(handoff: Handoff) -> None:
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "10")
    assert "out of range" in handoff.refused("kpi", "--month", "9999-12")
    assert "out of range" in handoff.refused("kpi", "--from", "1800-01-01", "--to", "2026-01-01")


# Year 0 matches YYYY-MM and YYYYQn, but no calendar has it.
@pytest.mark.parametrize(("command", "reason"), [
    (("kpi", "--month", "0000-01"), "not a month (YYYY-MM): '0000-01'"),
    (("kpi", "--quarter", "0000Q1"), "not a quarter (YYYYQn, like 2026Q1): '0000Q1'"),
    (("report", "--quarter", "0000Q4", "--out", "r.html"),
     "not a quarter (YYYYQn, like 2026Q1): '0000Q4'"),
    (("sla", "breaches", "--month", "0000-12"), "not a month (YYYY-MM): '0000-12'"),
    (("sla", "doc", "--month", "0000-06", "--out", "d.md"), "not a month (YYYY-MM): '0000-06'"),
])
def test_a_month_or_quarter_of_year_0_is_not_one(
    handoff: Handoff, command: tuple[str, ...], reason: str
) -> None:
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "10")
    assert handoff.refused(*command) == f"Error: {reason}"


def _capture_at_a_skipped_time(handoff: Handoff, tmp_path: Path, zone: str, at: str) -> str:
    """Under an agreement in this zone, capture a lead at a local time it skips: refused."""
    agreement = tmp_path / "a.toml"
    agreement.write_text(
        f'name = "x"\neffective_from = 2026-01-01\ntimezone = "{zone}"\n'
        "[sales]\ndecide_within_hours = 8\n"
    )
    handoff.ok("sla", "apply", str(agreement))
    return handoff.refused("lead", "capture", "k", "--source", "w", "--at", at)


def test_a_local_time_the_clocks_skip_is_refused_and_a_repeated_one_is_its_first_passing(
    handoff: Handoff, tmp_path: Path
) -> None:
    line = _capture_at_a_skipped_time(handoff, tmp_path, "America/Chicago", "2026-03-08T02:30")
    # Its example names the instant an hour later, in the offset the clocks then show
    # (CST is UTC-6: 02:30 CST is 08:30 UTC, which reads 03:30 in CDT, UTC-5).
    assert "does not exist in America/Chicago" in line and "like 2026-03-08T03:30-05:00" in line
    handoff.ok("lead", "capture", "k", "--source", "w", "--at", "2026-11-01T01:30")
    # 01:30 happens first in daylight time (CDT, UTC-5), then again in standard time.
    assert handoff.json("lead", "show", "k")["captured_at"].startswith("2026-11-01T06:30")


def test_the_example_for_a_skipped_local_time_is_in_the_agreement_zone(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Chile moves its clocks from 00:00 (UTC-4) to 01:00 (UTC-3) on 2026-09-06."""
    line = _capture_at_a_skipped_time(handoff, tmp_path, "America/Santiago", "2026-09-06T00:30")
    assert "does not exist in America/Santiago" in line and "like 2026-09-06T01:30-03:00" in line


def test_a_skipped_half_hour_is_not_called_an_hour(handoff: Handoff, tmp_path: Path) -> None:
    """Lord Howe Island moves its clocks half an hour, from 02:00 (UTC+10:30) to 02:30
    (UTC+11), on 2026-10-04: 02:15 does not exist, and the refusal said "the clocks skip
    that hour". 02:15 at UTC+10:30 is 15:45 UTC, 02:45 at UTC+11."""
    line = _capture_at_a_skipped_time(handoff, tmp_path, "Australia/Lord_Howe",
                                      "2026-10-04T02:15")
    assert "does not exist in Australia/Lord_Howe: the clocks skip 30 minutes (give the " \
        "offset, like 2026-10-04T02:45+11:00)" in line, line


def test_a_key_is_at_most_200_characters_on_one_line(handoff: Handoff) -> None:
    assert "at most 200" in handoff.refused("lead", "capture", "k" * 10_000, "--source", "w")
    assert "one line" in handoff.refused("lead", "capture", "a\nb", "--source", "w")
    handoff.ok("lead", "capture", "k" * 200, "--source", "w")


@pytest.mark.parametrize(
    "typed",
    ["jose\u0301", "ACME-1\u200b", "\ufeffACME-1", "ACME\u20601", "ACME-1\u202e",
     "ACME\u00a01"],
    ids=["combining accent", "zero-width space", "byte order mark", "word joiner",
         "right-to-left override", "no-break space"],
)
def test_a_key_is_written_as_it_is_seen(handoff: Handoff, tmp_path: Path, typed: str) -> None:
    """A key that looks like another (josé with its accent typed apart, ACME-1 with an
    invisible character pasted in) would be a second lead no one can tell from the first."""
    assert "the lead's key" in handoff.refused("lead", "capture", typed, "--source", "web")
    path = tmp_path / "rows.csv"
    path.write_text(f"lead,event,at,source\n{typed},captured,2026-03-02T09:00Z,web\n",
                    encoding="utf-8")
    result = handoff("import", str(path))
    assert result.exit_code == 1, result.output
    assert "line 2: the lead's key" in result.stderr
    assert nothing_recorded(handoff)
    handoff.ok("lead", "capture", "jos\u00e9", "--source", "web")  # é typed as one character


def test_texts_are_one_line_except_reasons(handoff: Handoff) -> None:
    assert "one line" in handoff.refused("lead", "capture", "k", "--source", "w\neb")
    # Unicode's line and paragraph separators break a line as a line feed does.
    assert "one line" in handoff.refused("lead", "capture", "k\u2028", "--source", "web")
    assert "one line" in handoff.refused("lead", "capture", "k", "--source", "web",
                                         "--name", "Ann\u2029Lee")
    accepted_lead(handoff)
    reason = "no budget\nthis year\u2028or next"
    handoff.ok("lead", "lose", "k", "--reason", reason, "--at", "2026-03-03T09:00Z")
    assert handoff.json("lead", "history", "k")[-1]["reason"] == reason


@pytest.mark.parametrize(
    ("args", "what"),
    [(("k\tx", "--source", "web"), "key"),
     (("k", "--source", "w\teb"), "source"),
     (("k", "--source", "web", "--name", "A\tB"), "name")],
)
def test_a_tab_is_refused_in_a_key_and_in_one_line_texts(
    handoff: Handoff, args: tuple[str, ...], what: str
) -> None:
    """A tab would split a key or a name into two columns of every table and CSV."""
    line = handoff.refused("lead", "capture", *args)
    assert what in line and "control character" in line
    assert nothing_recorded(handoff)


def test_an_amendment_and_an_import_refuse_a_tab_as_capture_does(
    handoff: Handoff, tmp_path: Path
) -> None:
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z")
    line = handoff.refused("lead", "amend", "k", "1", "--company", "Acme\tInc", "--why", "typo")
    assert "company holds a control character" in line
    assert [e["event"] for e in handoff.json("lead", "history", "k")] == ["captured"]
    path = tmp_path / "rows.csv"
    path.write_text("lead,event,at,source,name\nb,captured,2026-03-02T09:00Z,web,\"A\tB\"\n")
    result = handoff("import", str(path))
    assert result.exit_code == 1, result.output
    assert "line 2: name holds a control character" in result.stderr
    handoff.refused("lead", "show", "b")


def test_a_reason_may_hold_tabs_as_it_may_hold_lines(handoff: Handoff) -> None:
    accepted_lead(handoff)
    handoff.ok("lead", "lose", "k", "--reason", "price:\ttoo high", "--at", "2026-03-03T09:00Z")
    assert handoff.json("lead", "history", "k")[-1]["reason"] == "price:\ttoo high"


def test_an_import_applies_the_same_bounds_and_writes_nothing(
    handoff: Handoff, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        HEADER
        + "a,captured,2026-03-02T09:00Z,maria,web,,,,\n"
        + ",visits,2026-03-02,li,,,,99999999999999999999999,\n"
        + "a,qualified,2026-03-02T10:00Z,maria,,-5,,,\n"
        + ",visits,2026-03-03,li,,,,1_000,\n"
    )
    result = handoff("import", str(path))
    assert result.exit_code == 1, result.output
    assert "line 3: visits must be between 0 and 999999999999" in result.stderr
    assert "line 4: score must be between" in result.stderr
    assert "line 5: visits must be a whole number" in result.stderr
    assert nothing_recorded(handoff)


@pytest.mark.parametrize(
    "args",
    [("lead", "show", "k"), ("lead", "history", "k"), ("export",), ("sla", "show"),
     ("sla", "history"), ("sla", "breaches"), ("kpi", "--month", "2026-03"), ("plan",)],
)
def test_a_command_that_records_nothing_refuses_a_missing_store(
    store: str, tmp_path: Path, args: tuple[str, ...]
) -> None:
    line = Handoff(store).refused(*args)
    assert "no store at" in line
    if "://" not in store:
        assert not Path(store).exists()


def test_a_typo_in_the_store_name_is_refused_not_an_empty_report(tmp_path: Path) -> None:
    real = Handoff(str(tmp_path / "handoff-demo.sqlite"))
    real.ok("lead", "capture", "k", "--source", "web")
    typo = tmp_path / "handof-demo.sqlite"
    assert "no store at" in Handoff(str(typo)).refused("sla", "breaches")
    assert not typo.exists()


def test_a_dry_run_writes_nothing_not_even_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(HEADER + "a,captured,2026-03-02T09:00Z,maria,web,,,,\n")
    store = tmp_path / "new.sqlite"
    assert "1 would be recorded" in Handoff(str(store)).ok("import", str(path), "--dry-run")
    assert not store.exists()


def test_a_store_holding_values_beyond_the_bounds_still_reads(store: str) -> None:
    """Values stored before the bounds existed are skipped by the reports, not fatal."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from handoff.application import HandoffApp
    from handoff.domain.lead import Lead
    from handoff.domain.steps import Stamp
    from handoff.domain.traffic import TrafficDay
    from handoff.store import locate

    def at(hour: int) -> dict[str, object]:
        return Stamp(datetime(2026, 3, 2, hour, tzinfo=UTC), datetime.now(UTC), "m").fields()

    app = HandoffApp(locate(store))
    try:
        day = TrafficDay(day="2026-03-02")  # as an earlier version let it be recorded
        day._visits_recorded(day="2026-03-02", visits=10**23, actor="m",
                             recorded_at=datetime.now(UTC))
        lead = Lead.capture("k", "web", Stamp(datetime(2026, 3, 2, 9, tzinfo=UTC),
                                              datetime.now(UTC), "m"))
        lead.trigger_event(Lead.Qualified, score=10**26, **at(10))
        lead.trigger_event(Lead.Handed, owner="sam", **at(11))
        lead.trigger_event(Lead.Accepted, **at(12))
        lead.trigger_event(Lead.ProposalSent, amount=Decimal("5e16"), **at(13))
        lead.trigger_event(Lead.Won, amount=Decimal("5e16"), **at(14))
        app.save(day, lead)
    finally:
        app.close()
    handoff = Handoff(store)
    march = handoff.json("kpi", "--month", "2026-03")
    assert march["counts"]["won"] == 1 and march["revenue_won"] == 0  # its amount skipped
    assert march["counts"]["visits"] == 0  # the count beyond the bounds skipped
    for read in (("sla", "breaches"), ("export",), ("lead", "history", "k"),
                 ("projections", "rebuild")):
        handoff.ok(*read)


def test_the_control_character_search_is_unicodes_own_categories() -> None:
    """The fast search finds exactly Unicode's control characters, lone surrogates and
    line and paragraph separators."""
    import unicodedata

    from handoff.domain.bounds import _CONTROL

    for code in range(0x110000):
        character = chr(code)
        expected = unicodedata.category(character) in ("Cc", "Cs", "Zl", "Zp")
        assert bool(_CONTROL.search(character)) == expected, hex(code)


def test_a_key_that_is_not_valid_text_is_refused_as_such(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Bytes that are not UTF-8 on the command line reach Python as lone surrogates."""
    line = handoff.refused("lead", "capture", "x\udcff", "--source", "web")
    assert line == "Error: the lead's key is not UTF-8 text (byte 0xff)"
    line = handoff.refused("lead", "capture", "x", "--source", "w\udce9b")
    assert line == "Error: source is not UTF-8 text (byte 0xe9)"
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"lead": "x\\ud800", "event": "captured", "at": "2026-03-02T09:00Z",'
                    ' "source": "web"}\n')
    result = handoff("import", str(rows))
    assert result.exit_code == 1
    assert "rows.jsonl: line 1: " in result.stderr.splitlines()[0]
    assert "is not valid text (a lone surrogate, U+D800)" in result.stderr
    assert nothing_recorded(handoff)


@pytest.mark.parametrize(
    ("command", "option"),
    [(("lead", "list"), "--owner"), (("lead", "list"), "--source"),
     (("sla", "breaches"), "--owner")],
)
def test_a_filter_that_is_not_valid_text_is_refused_in_one_line(
    handoff: Handoff, command: tuple[str, ...], option: str
) -> None:
    """A name typed in a terminal that is not UTF-8 (José in Latin-1) reaches Python as a
    lone surrogate: no lead can hold it, and the filter says so rather than failing inside."""
    accepted_lead(handoff)
    line = handoff.refused(*command, option, "Jos\udce9")
    assert line == f"Error: {option} is not UTF-8 text (byte 0xe9)"


@pytest.mark.parametrize(
    ("args", "what"),
    [(("capture", "k2", "--source", "\u200bweb"), "the source"),
     (("capture", "k2", "--source", "we\u202eb"), "the source"),
     (("handoff", "k", "--owner", "sam\u200b"), "the owner"),
     (("handoff", "k", "--owner", "sa\u00a0m"), "the owner")],
    ids=["zero-width space in a source", "direction override in a source",
         "zero-width space in an owner", "no-break space in an owner"],
)
def test_a_source_or_owner_is_written_as_it_is_seen(
    handoff: Handoff, args: tuple[str, ...], what: str
) -> None:
    """Reports group by source and by owner: 'web' with a zero-width space pasted in was a
    second group that `kpi --by source` showed as 'web' beside the first (found by the
    hostile-input trial). Such a source or owner is refused as such a key is."""
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("lead", "qualify", "k", "--at", "2026-03-02T10:00Z")
    before = handoff.ok("export")
    line = handoff.refused("lead", *args, "--at", "2026-03-02T11:00Z")
    assert line.startswith(f"Error: {what} holds"), line
    assert handoff.ok("export") == before
    line = handoff.refused("lead", "amend", "k", "1", "--source", "web\u200b", "--why", "typo")
    assert line.startswith("Error: the source holds an invisible character"), line
    assert handoff.ok("export") == before
    handoff.ok("lead", "handoff", "k", "--owner", "Zoë", "--at", "2026-03-02T11:00Z")


def test_an_import_refuses_a_source_or_owner_not_written_as_seen(
    handoff: Handoff, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("lead,event,at,source,owner\n"
                    "a,captured,2026-03-02T09:00Z,\u200bweb,\n"
                    "b,captured,2026-03-02T09:00Z,web,\n"
                    "b,qualified,2026-03-02T10:00Z,,\n"
                    "b,handed,2026-03-02T11:00Z,,sam\u2066\n", encoding="utf-8")
    result = handoff("import", str(path))
    assert result.exit_code == 1, result.output
    assert "line 2: the source holds an invisible character" in result.stderr
    assert "line 5: the owner holds an invisible character" in result.stderr
    assert nothing_recorded(handoff)


@pytest.mark.parametrize(
    ("args", "shown"),
    [(("capture", "k2", "--source", "web "), "'web '"),
     (("capture", "k2", "--source", " web"), "' web'"),
     (("handoff", "k", "--owner", "sam "), "'sam '"),
     (("handoff", "k", "--owner", "\tsam"), None)],
    ids=["source ending with a space", "source beginning with a space",
         "owner ending with a space", "owner beginning with a tab"],
)
def test_a_source_or_owner_does_not_begin_or_end_with_a_space(
    handoff: Handoff, args: tuple[str, ...], shown: str | None
) -> None:
    """'sam ' (a spreadsheet's cell, a hand-written CSV's `, sam`) was a second owner beside
    'sam': two columns both reading 'sam' in `kpi --by owner`, and `sla due --owner sam`,
    a rep's morning list, left its handoffs out. Refused, as a no-break space is."""
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("lead", "qualify", "k", "--at", "2026-03-02T10:00Z")
    before = handoff.ok("export")
    line = handoff.refused("lead", *args, "--at", "2026-03-02T11:00Z")
    if shown is not None:
        what = "source" if "--source" in args else "owner"
        assert line.startswith(f"Error: the {what} begins or ends with a space: {shown}"), line
    assert line.startswith("Error: the ") and "\n" not in line.strip(), line
    line = handoff.refused("lead", "amend", "k", "1", "--source", " web", "--why", "typo")
    assert line.startswith("Error: the source begins or ends with a space"), line
    assert handoff.ok("export") == before
    handoff.ok("lead", "handoff", "k", "--owner", "Sam Lee", "--at", "2026-03-02T11:00Z")


def test_an_import_refuses_a_source_or_owner_padded_with_spaces(
    handoff: Handoff, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("lead, event, at, source, owner\n"
                    "a, captured, 2026-03-02T09:00Z, web,\n"
                    "b,captured,2026-03-02T09:00Z,web,\n"
                    "b,qualified,2026-03-02T10:00Z,,\n"
                    "b,handed,2026-03-02T11:00Z,,sam \n", encoding="utf-8")
    result = handoff("import", str(path))
    assert result.exit_code == 1, result.output
    assert "line 2: the source begins or ends with a space: ' web'" in result.stderr
    assert "line 5: the owner begins or ends with a space: 'sam '" in result.stderr
    assert nothing_recorded(handoff)
    path.write_text("lead,event,at,source\n"
                    "b,captured,2026-03-02T09:00Z,web\n"
                    "b,qualified,2026-03-02T10:00Z, \n", encoding="utf-8")
    result = handoff("import", str(path))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0].endswith(
        "line 3: qualified takes no source (its cell holds only spaces: leave it empty)")
    assert nothing_recorded(handoff)


def test_an_option_given_twice_is_a_usage_error_and_records_nothing(handoff: Handoff) -> None:
    """`--source web --source partner` recorded partner, the first value dropped without a
    word (click keeps the last one given): which source did the script mean? Exit 2, one
    line naming the option, nothing written."""
    for option, command in (
        ("--source", ("lead", "capture", "k", "--source", "web", "--source", "partner")),
        ("--at", ("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z",
                  "--at=2026-03-03T09:00Z")),
    ):
        result = handoff(*command)
        assert result.exit_code == 2, result.output
        said = result.stderr.strip().splitlines()
        assert len(said) == 1 and f"{option} given more than once" in said[0], result.stderr
    assert nothing_recorded(handoff)
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z")
    twice = handoff("kpi", "--month", "2026-03", "--month", "2026-04")
    assert twice.exit_code == 2 and "--month given more than once" in twice.stderr, twice.output
    # The store named twice, before the command: refused as well.
    result = handoff("--store", handoff.store + "x", "kpi", "--month", "2026-03")
    assert result.exit_code == 2 and "--store given more than once" in result.stderr, result.output
    # A flag given twice says the same thing twice: taken.
    assert handoff("--utc", "--utc", "kpi", "--month", "2026-03").exit_code == 0


@pytest.mark.parametrize(("command", "path"), [
    (("kpi", "--month"), "kpi"),
    (("audit", "verify", "--digest"), "audit verify"),
])
def test_an_option_without_its_value_points_at_the_commands_help(
    handoff: Handoff, command: tuple[str, ...], path: str
) -> None:
    """As every usage error does (README, exit status 2): the parser's own said only
    "Option '--month' requires an argument." with no hint where to look."""
    handoff.ok("lead", "capture", "k", "--source", "web", "--at", "2026-03-02T09:00Z")
    result = handoff(*command)
    assert result.exit_code == 2, result.output
    option = command[-1]
    said = result.stderr.strip()  # the program's name: `handoff`, or `main` in-process
    assert said.startswith(f"Error: Option '{option}' requires an argument. (see '"), said
    assert said.endswith(f" {path} --help')") and "\n" not in said, said
