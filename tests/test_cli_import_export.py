"""Import and export (SPEC §8): the whole file is checked first, and exports round-trip."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Handoff, nothing_recorded, stopped
from conftest import AGREEMENT, agreement_toml

HEADER = "lead,event,at,actor,source,name,email,company,score,owner,reason,channel,amount,visits\n"
JOURNEYS = HEADER + (
    "acme-1,captured,2026-03-02T09:00Z,maria,web,Ann,ann@acme.test,Acme,,,,,,\n"
    "acme-1,qualified,2026-03-02T10:00Z,maria,,,,,60,,,,,\n"
    "acme-1,handed,2026-03-02T11:00Z,maria,,,,,,sam,,,,\n"
    "acme-1,rejected,2026-03-02T12:00Z,sam,,,,,,,no budget,,,\n"
    "acme-1,qualified,2026-03-10T10:00Z,maria,,,,,80,,,,,\n"
    "acme-1,handed,2026-03-10T11:00Z,maria,,,,,,ola,,,,\n"
    "acme-1,accepted,2026-03-10T12:00Z,ola,,,,,,,,,,\n"
    "acme-1,contacted,2026-03-11T12:00Z,ola,,,,,,,,email,,\n"
    "acme-1,proposal,2026-03-12T12:00Z,ola,,,,,,,,,9000.50,\n"
    "acme-1,won,2026-03-20T12:00Z,ola,,,,,,,,,,\n"
    "beta-7,captured,2026-03-03T09:00Z,li,event,,,,,,,,,\n"
    ",visits,2026-03-02,li,,,,,,,,,,1200\n"
)


def write(tmp_path: Path, text: str, name: str = "rows.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_an_import_records_every_row_in_file_order(handoff: Handoff, tmp_path: Path) -> None:
    out = handoff.ok("import", write(tmp_path, JOURNEYS))
    assert "12 rows: 12 recorded, 0 skipped" in out
    shown = handoff.json("lead", "show", "acme-1")
    assert (shown["state"], shown["owner"], shown["handoffs"]) == ("won", "ola", 2)
    assert shown["won_amount"] == 9000.5
    assert handoff.json("lead", "history", "acme-1")[3]["actor"] == "sam"


def test_an_import_of_one_row_says_so_in_the_singular(handoff: Handoff, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "solo,captured,2026-03-02T09:00Z,maria,web,,,,,,,,,\n")
    assert handoff.ok("import", path, "--dry-run") == (
        "dry run: 1 row is valid: 1 would be recorded, 0 already recorded; nothing was written\n"
    )
    assert handoff.ok("import", path) == (
        "imported 1 row: 1 recorded, 0 skipped (already recorded), 1 lead changed\n"
    )


def test_reimporting_recorded_rows_skips_and_counts_them(handoff: Handoff, tmp_path: Path) -> None:
    path = write(tmp_path, JOURNEYS)
    handoff.ok("import", path)
    out = handoff.ok("import", path)
    assert "12 rows: 0 recorded, 12 skipped" in out
    assert len(handoff.json("lead", "history", "acme-1")) == 10


def test_an_interrupted_import_can_be_run_again(handoff: Handoff, tmp_path: Path) -> None:
    first_half = "".join(JOURNEYS.splitlines(keepends=True)[:5])
    handoff.ok("import", write(tmp_path, first_half, "part.csv"))
    out = handoff.ok("import", write(tmp_path, JOURNEYS))
    assert "8 recorded, 4 skipped" in out


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
    handoff: Handoff, tmp_path: Path
) -> None:
    bad = HEADER + (
        "acme-1,captured,2026-03-02T09:00Z,maria,web,,,,,,,,,\n"
        "acme-1,accepted,2026-03-02T10:00Z,sam,,,,,,,,,,\n"
        "acme-2,captured,not-a-time,maria,web,,,,,,,,,\n"
        "acme-3,qualified,2026-03-02T10:00Z,maria,,,,,,,,,,\n"
        "acme-1,teleported,2026-03-02T10:00Z,maria,,,,,,,,,,\n"
        "acme-1,qualified,2026-03-02T10:00Z,maria,,,,,high,,,,,\n"
    )
    result = handoff("import", write(tmp_path, bad))
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert [e.split(": ")[1] for e in errors[:-1]] == [
        "line 3", "line 4", "line 5", "line 6", "line 7",
    ]
    assert "accepted needs a lead in state handed" in errors[0]
    assert "not an ISO-8601 timestamp" in errors[1]
    assert "unknown lead 'acme-3'" in errors[2]
    assert "unknown event 'teleported'" in errors[3]
    assert "score must be a whole number" in errors[4]
    assert errors[-1] == "Error: 5 rows are bad; nothing was written"
    assert nothing_recorded(handoff)


def test_an_unknown_column_refuses_the_file(handoff: Handoff, tmp_path: Path) -> None:
    line = handoff.refused("import", write(tmp_path, "lead,event,at,colour\na,captured,2026,red\n"))
    assert "unknown column 'colour'" in line


# (a header a spreadsheet writes, the refusal of its line 1): each names the column to fix
SPREADSHEET_HEADERS = {
    # a column whose cells were once filled and then cleared: saved as a trailing comma
    "a column without a name": (
        "lead,event,at,source,\nz,captured,2026-03-02T09:00Z,web,\n",
        "line 1: column 5 has no name (a blank cell in the header row): delete that column,"
        " or name it as one of lead,event,at,actor,source,name,email,company,score,owner,"
        "reason,channel,amount,visits"),
    # it said `a column is named twice`, not which of the columns to look for
    "a column named twice": (
        "lead,event,at,source,source\nz,captured,2026-03-02T09:00Z,web,web\n",
        "line 1: the column 'source' is named twice (in any letter case): the import cannot"
        " tell which one to read"),
    # a file saved for Excel, its separator named on a first line of its own: it said
    # `column 2 has no name`, of a header the user had written right
    "a separator hint before the header": (
        "sep=,\nlead,event,at,source\nz,captured,2026-03-02T09:00Z,web\n",
        "line 1: 'sep=,' is a spreadsheet's note of the separator, not the header: delete"
        " that line (the file begins with its columns)"),
}


@pytest.mark.parametrize(("rows", "refusal"), SPREADSHEET_HEADERS.values(),
                         ids=SPREADSHEET_HEADERS.keys())
def test_a_header_refused_names_the_column_to_fix(
    handoff: Handoff, tmp_path: Path, rows: str, refusal: str
) -> None:
    file = write(tmp_path, rows)
    assert handoff.refused("import", file) == f"Error: {file}: {refusal}"
    assert nothing_recorded(handoff)


@pytest.mark.parametrize(("export", "option"), [
    ("hubspot_contacts.csv", "--from hubspot"),
    ("salesforce/Lead.csv", "--from salesforce"),
    ("salesforce/LeadHistory.csv", "--from salesforce"),
])
def test_a_crm_export_imported_without_its_from_says_which_to_give(
    handoff: Handoff, export: str, option: str
) -> None:
    line = handoff.refused("import", str(Path(__file__).parent / "fixtures" / export))
    assert line.endswith(f"export? import it with {option}")
    assert nothing_recorded(handoff)


def test_a_refused_rows_instants_are_said_as_the_lead_commands_say_them(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A file's times are local to the agreement, as a lead command's --at is; a refused
    row said them in UTC ISO-8601 (`2026-03-02T15:30:00Z is before its previous event`),
    which no lead command does: a person looked for 15:30 in a file that says 09:30."""
    terms = tmp_path / "agreement.toml"
    terms.write_text(agreement_toml(AGREEMENT, {"team": None}))  # Chicago's time
    handoff.ok("sla", "apply", str(terms))
    path = write(tmp_path, "lead,event,at,source,owner\n"
                 "k,captured,2026-03-02 09:00,web,\n"
                 "k,qualified,2026-03-02 10:00,,\n"
                 "k,handed,2026-03-02 09:30,,sam\n"
                 "j,captured,2026-03-02 09:00,web,\n"
                 "j,captured,2026-03-02 09:00,email,\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: line 4: lead 'k': 2026-03-02 09:30 CST is before its previous event"
        " (qualified at 2026-03-02 10:00 CST), where the protocol refuses it too (lead 'k' is"
        " captured: handed needs a lead in state qualified)",
        f"{path}: line 6: lead 'j' already has captured at 2026-03-02 09:00 CST with source"
        " 'web' on an earlier line, not 'email': a lead is captured once",
        "Error: 2 rows are bad; nothing was written",
    ]
    utc = handoff("--utc", "import", path, "--dry-run").stderr.splitlines()  # CST = UTC-6
    assert "lead 'k': 2026-03-02 15:30 UTC is before its previous event (qualified at" \
        " 2026-03-02 16:00 UTC)" in utc[0]
    assert "lead 'j' already has captured at 2026-03-02 15:00 UTC with source" in utc[1]
    assert "unknown lead 'k'" in handoff.refused("lead", "show", "k")


def test_a_time_saved_with_a_one_digit_hour_is_refused_saying_how_to_write_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A spreadsheet saves a time as it shows it (`2026-03-02 9:00`, format h:mm): the row
    was told to try `2026-03-02T15:30`, not what was wrong with its own."""
    path = write(tmp_path, "lead,event,at,source\n"
                 "k,captured,2026-03-02 9:00,web\n"
                 "j,captured,2026-03-02T9:05:30Z,web\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: line 2: not an ISO-8601 timestamp: '2026-03-02 9:00' (write the hour with"
        " two digits: 2026-03-02 09:00)",
        f"{path}: line 3: not an ISO-8601 timestamp: '2026-03-02T9:05:30Z' (write the hour"
        " with two digits: 2026-03-02T09:05:30Z)",
        "Error: 2 rows are bad; nothing was written",
    ]
    assert nothing_recorded(handoff)


def test_a_date_saved_with_slashes_is_refused_naming_each_day_it_can_be(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A spreadsheet set to a country's dates saves `03/02/2026 9:00`: 2 March read month
    first (the United States), 3 February read day first (most of Europe). The row was told
    to try `2026-03-02T15:30`, as if handoff could tell which was meant; it names both,
    written year first, or the one a day above 12 leaves."""
    path = write(tmp_path, "lead,event,at,source\n"
                 "k,captured,03/02/2026 9:00,web\n"
                 "j,captured,15.03.2026,web\n"
                 "m,captured,04/04/2026T10:00Z,web\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: line 2: not an ISO-8601 timestamp: '03/02/2026 9:00' (write the day year"
        " first: 2026-03-02T09:00 for 2 March or 2026-02-03T09:00 for 3 February)",
        f"{path}: line 3: not an ISO-8601 timestamp: '15.03.2026' (write the day year first:"
        " 2026-03-15)",
        f"{path}: line 4: not an ISO-8601 timestamp: '04/04/2026T10:00Z' (write the day year"
        " first: 2026-04-04T10:00Z)",
        "Error: 3 rows are bad; nothing was written",
    ]
    assert nothing_recorded(handoff)
    assert handoff.refused("traffic", "record", "--date", "12/01/2026", "--visits", "9") == (
        "Error: not a date (YYYY-MM-DD): '12/01/2026' (write the day year first: 2026-12-01"
        " for 1 December or 2026-01-12 for 12 January)")
    # No day at all read either way: a day is asked for, so no instant's form is offered.
    assert handoff.refused("traffic", "record", "--date", "13/13/2026", "--visits", "9") == (
        "Error: not a date (YYYY-MM-DD): '13/13/2026'")


def test_a_date_saved_year_first_with_slashes_is_told_to_use_dashes(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A spreadsheet set to Japanese or Chinese dates saves `2026/03/02 9:00`: year first,
    so one day only, yet the row was told to `try 2026-03-02T15:30`, as if any instant
    would do. It is told the instant it wrote, with dashes."""
    path = write(tmp_path, "lead,event,at,source\n"
                 "k,captured,2026/03/02 9:00,web\n"
                 "j,captured,2026.03.15,web\n"
                 "m,captured,2026/3/4T10:00Z,web\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: line 2: not an ISO-8601 timestamp: '2026/03/02 9:00' (write the day with"
        " dashes: 2026-03-02T09:00)",
        f"{path}: line 3: not an ISO-8601 timestamp: '2026.03.15' (write the day with"
        " dashes: 2026-03-15)",
        f"{path}: line 4: not an ISO-8601 timestamp: '2026/3/4T10:00Z' (write the day with"
        " dashes: 2026-03-04T10:00Z)",
        "Error: 3 rows are bad; nothing was written",
    ]
    assert nothing_recorded(handoff)
    assert handoff.refused("traffic", "record", "--date", "2026/12/01", "--visits", "9") == (
        "Error: not a date (YYYY-MM-DD): '2026/12/01' (write the day with dashes: 2026-12-01)")


def test_a_number_cell_of_spaces_is_empty_as_a_padded_number_is_that_number(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Numbers may be padded with spaces (` 70 ` is 70): a score cell holding one space,
    which a spreadsheet shows empty, refused the capture (`captured takes no score`), and
    then each later row of its lead (`unknown lead`), as a JSON line's " " never was."""
    path = write(tmp_path, "lead,event,at,source,score,amount,visits\n"
                 "k,captured,2026-03-02T09:00Z,web, ,  , \n"
                 "k,qualified,2026-03-02T10:00Z,, 70 ,,\n"
                 ",visits,2026-03-02,, , ,120\n")
    assert "3 recorded" in handoff.ok("import", path)
    assert [(e["event"], e.get("score")) for e in handoff.json("lead", "history", "k")] == [
        ("captured", None), ("qualified", 70),
    ]
    assert handoff.json("kpi", "--month", "2026-03")["counts"]["visits"] == 120


def test_columns_are_named_in_any_letter_case_as_a_spreadsheets_headings_are(
    handoff: Handoff, tmp_path: Path
) -> None:
    """`Lead,Event,At,Source`, typed as a spreadsheet's headings: the file was refused for
    an `unknown column 'Lead'` (a CRM's export is read in any letter case already)."""
    path = write(tmp_path, "Lead,EVENT,At,Source,Owner\n"
                 "k,captured,2026-03-02T09:00Z,web,\n"
                 "k,qualified,2026-03-02T10:00Z,,\n"
                 "k,handed,2026-03-02T11:00Z,,sam\n")
    assert "3 recorded" in handoff.ok("import", path)
    assert handoff.json("lead", "show", "k")["owner"] == "sam"
    twice = write(tmp_path, "lead,event,at,source,Source\nj,captured,2026-03-02T09:00Z,web,web\n",
                  "twice.csv")
    assert handoff.refused("import", twice) == (
        f"Error: {twice}: line 1: the column 'source' is named twice (in any letter case):"
        " the import cannot tell which one to read")


def test_missing_optional_columns_are_read_as_empty(handoff: Handoff, tmp_path: Path) -> None:
    rows = "lead,event,at,source\nz,captured,2026-03-02T09:00Z,web\n"
    out = handoff.ok("import", write(tmp_path, rows))
    assert "1 recorded" in out
    assert handoff.json("lead", "history", "z")[0]["actor"] == "maria"


def test_a_row_recorded_by_nobody_is_refused_as_a_blank_actor_is(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Every event carries who recorded it (SPEC §2): an `actor` cell of spaces names nobody,
    and is refused as `--actor " "` is, rather than recorded; an empty one is whoever
    runs the import."""
    rows = ("lead,event,at,actor,source,visits\n"
            "z,captured,2026-03-02T09:00Z,  ,web,\n"
            ",visits,2026-03-02, ,,5\n")
    result = handoff("import", write(tmp_path, rows))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'rows.csv'}: line 2: actor is empty: give who is recording",
        f"{tmp_path / 'rows.csv'}: line 3: actor is empty: give who is recording",
        "Error: 2 rows are bad; nothing was written",
    ]
    assert nothing_recorded(handoff)


def test_a_dry_run_checks_everything_and_writes_nothing(handoff: Handoff, tmp_path: Path) -> None:
    out = handoff.ok("import", write(tmp_path, JOURNEYS), "--dry-run")
    assert "12 would be recorded" in out
    assert "no store at" in handoff.refused("lead", "show", "acme-1")
    handoff.ok("lead", "capture", "other", "--source", "web")
    out = handoff.ok("import", write(tmp_path, JOURNEYS), "--dry-run")
    assert "12 would be recorded" in out
    assert "unknown lead" in handoff.refused("lead", "show", "acme-1")


def test_two_rows_of_a_new_lead_at_one_instant_saying_otherwise_are_told_apart(
    handoff: Handoff, tmp_path: Path
) -> None:
    """The second row was told that "a recorded event is not changed by importing it again
    (record a correction: lead amend)", of a step nothing had recorded: the earlier row of
    the file said otherwise at that instant."""
    rows = ("lead,event,at,actor,source,owner,channel\n"
            "c1,captured,2026-03-02T09:00Z,maria,web,,\n"
            "c1,qualified,2026-03-02T09:30Z,maria,,,\n"
            "c1,handed,2026-03-02T10:00Z,maria,,sam,\n"
            "c1,contacted,2026-03-02T10:30Z,sam,,,phone\n"
            "c1,contacted,2026-03-02T10:30Z,sam,,,email\n")
    result = handoff("import", write(tmp_path, rows))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith(
        "line 6: lead 'c1' already has contacted at 2026-03-02 10:30 UTC with channel 'phone'"
        " on an earlier line, not 'email': a step is known by its lead, event and instant: give"
        " this row its own instant")
    assert nothing_recorded(handoff)


def test_a_file_of_blank_lines_is_refused_as_lacking_its_header(
    handoff: Handoff, tmp_path: Path
) -> None:
    """It said "line 1: missing column 'lead'", as if a header were there."""
    said = handoff.refused("import", write(tmp_path, "\n\n  \n"))
    assert said.endswith("line 1: the header line is empty: the file begins with its columns"
                         " (lead,event,at,actor,source,name,email,company,score,owner,reason,"
                         "channel,amount,visits)")
    assert nothing_recorded(handoff)


def test_a_missing_file_is_refused_in_one_line(handoff: Handoff, tmp_path: Path) -> None:
    assert "cannot read" in handoff.refused("import", str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("command", [["import"], ["import", "--from", "hubspot"],
                                     ["import", "--from", "salesforce"], ["sla", "apply"],
                                     ["sla", "check"]])
def test_a_file_named_empty_is_refused_saying_so(handoff: Handoff, command: list[str]) -> None:
    """`import "$FILE"` with FILE unset said "Error: : cannot read: No such file or
    directory", `sla apply ""` "...: Is a directory" (of the current folder), and
    `import --from salesforce ""` read the current folder: a usage error now."""
    result = handoff(*command, "")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: Invalid value for 'FILE")
    assert ": the file name is empty: name the file to read (see '" in line
    assert nothing_recorded(handoff)


@pytest.mark.parametrize("command", [["import"], ["import", "--from", "hubspot"],
                                     ["sla", "apply"]])
@pytest.mark.parametrize("rows_before", [0, 5000])
def test_a_file_that_is_not_utf8_is_refused_naming_its_line_and_byte(
    handoff: Handoff, tmp_path: Path, command: list[str], rows_before: int
) -> None:
    """Saved as Latin-1 by a spreadsheet: the line and the byte are named, not Python's
    codec message (a name with an accent, somewhere in thousands of rows, was to be found
    by its byte alone)."""
    latin = tmp_path / "latin.csv"
    rows = "".join(f"k{n},captured,2026-03-02\n" for n in range(rows_before))
    latin.write_bytes(f"lead,event,at\n{rows}K\xe9,captured,2026-03-02\n".encode("latin-1"))
    refusal = handoff.refused(*command[:1], *command[1:], str(latin))
    line = rows_before + 2  # after the header and the rows before it
    assert refusal == (f"Error: {latin}: cannot read line {line}: not UTF-8 text (byte 0xe9);"
                       " save it as UTF-8")
    assert nothing_recorded(handoff)


def workbook(path: Path, kind: str) -> Path:
    """A spreadsheet saved as a workbook, as Excel saves one unless told to save CSV: an
    .xlsx is a zip of XML (its sheet compressed), an .xls a compound file."""
    if kind == "xlsx":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
            book.writestr("xl/worksheets/sheet1.xml",
                          "<sheetData>" + "<row><c t='s'><v>1</v></c></row>" * 50 + "</sheetData>")
    else:
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4)
    return path


@pytest.mark.parametrize("command", [["import"], ["import", "--from", "hubspot"],
                                     ["import", "--from", "salesforce"]])
@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_a_spreadsheet_workbook_is_refused_as_one(
    handoff: Handoff, tmp_path: Path, command: list[str], kind: str
) -> None:
    """A workbook given for a CSV file was refused for its first byte that is not UTF-8
    (`cannot read line 1: not UTF-8 text (byte 0x8b); save it as UTF-8`), or for an unknown
    column of binary: what to do is to save it as CSV."""
    book = workbook(tmp_path / f"leads.{kind}", kind)
    assert handoff.refused(*command, str(book)) == (
        f"Error: {book}: cannot read: a spreadsheet workbook (.xlsx or .xls), not text; save"
        " it as CSV UTF-8")
    piped = handoff(*command, "-", input=book.read_bytes())  # type: ignore[arg-type]
    assert piped.exit_code == 1
    assert piped.stderr == ("Error: -: cannot read: a spreadsheet workbook (.xlsx or .xls),"
                            " not text; save it as CSV UTF-8\n")
    assert nothing_recorded(handoff)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_file_saved_as_utf_16_is_refused_as_such(
    handoff: Handoff, tmp_path: Path, encoding: str
) -> None:
    """Excel's "Unicode Text" (and Notepad's, PowerShell's "Unicode") is UTF-16: it was
    refused for its first byte, `not UTF-8 text (byte 0xff)`, which names no way out."""
    text = "lead,event,at,source\nk1,captured,2026-03-02T09:00Z,web\n"
    data = ("\ufeff" + text).encode(encoding)
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    said = ("cannot read: UTF-16 text (as Excel's \"Unicode Text\" or Notepad's \"Unicode\""
            " saves it), not UTF-8; save it as UTF-8 (CSV UTF-8)")
    assert handoff.refused("import", str(path)) == f"Error: {path}: {said}"
    piped = handoff("import", "-", input=data)  # type: ignore[arg-type]
    assert (piped.exit_code, piped.stderr) == (1, f"Error: -: {said}\n")
    assert nothing_recorded(handoff)


@pytest.mark.parametrize("command", [["import"], ["import", "--from", "hubspot"],
                                     ["sla", "apply"]])
@pytest.mark.parametrize("through", ["-", "fifo"])
def test_a_piped_file_that_is_not_utf8_is_refused_naming_its_line_too(
    handoff: Handoff, tmp_path: Path, command: list[str], through: str
) -> None:
    """A pipe cannot be read again to find the bad byte's line, as a file on disk is: it is
    found in what was read (`curl ... | handoff import -`, or a FIFO, `/dev/stdin`, named)."""
    data = "lead,event,at\nk1,captured,2026-03-02\nK\xe9,captured,2026-03-02\n".encode("latin-1")
    if through == "-":
        result = handoff(*command, "-", input=data)  # type: ignore[arg-type]
    else:
        fifo = tmp_path / "export.csv"
        os.mkfifo(fifo)
        writer = threading.Thread(target=lambda: fifo.write_bytes(data), daemon=True)
        writer.start()
        result = handoff(*command, str(fifo))
        writer.join(timeout=10)
    assert result.exit_code == 1, result.output
    name = "-" if through == "-" else str(tmp_path / "export.csv")
    assert result.stderr == (f"Error: {name}: cannot read line 3: not UTF-8 text (byte 0xe9);"
                             " save it as UTF-8\n")
    assert nothing_recorded(handoff)


def test_a_file_named_dash_is_the_standard_input(handoff: Handoff, tmp_path: Path) -> None:
    """`curl ... | handoff import -`, as cat, sort and tar read "-" (it said "-: cannot read:
    No such file or directory"); a CRM's export too."""
    result = handoff("import", "-", input=JOURNEYS)
    assert result.exit_code == 0, result.output
    assert "12 rows: 12 recorded, 0 skipped" in result.stdout
    # The same rows again, from a file on disk this time: the same rows, all skipped.
    assert "12 rows: 0 recorded, 12 skipped" in handoff.ok("import", write(tmp_path, JOURNEYS))
    # Rows as JSON lines have no file name to say so: they are known by their "{".
    jsonl = '{"lead": "z-9", "event": "captured", "at": "2026-03-02T09:00Z", "source": "web"}\n'
    result = handoff("import", "-", input=jsonl)
    assert result.exit_code == 0, result.output
    assert handoff.json("lead", "show", "z-9")["source"] == "web"
    hubspot = (Path(__file__).parent / "fixtures" / "hubspot_contacts.csv").read_text()
    result = handoff("import", "--from", "hubspot", "--dry-run", "-", input=hubspot)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("dry run: 9 HubSpot contacts give 33 steps")


def test_json_lines_naming_every_column_with_nulls_import_as_the_same_csv_rows(
    handoff: Handoff, tmp_path: Path
) -> None:
    # A table written as JSON lines by a script names every column of every row, null where
    # the CSV cell is empty: null is an empty cell, not a value the step cannot take.
    csv_rows = list(csv.DictReader(io.StringIO(JOURNEYS)))
    lines = "".join(
        json.dumps({column: value or None for column, value in row.items()}) + "\n"
        for row in csv_rows
    )
    out = handoff.ok("import", write(tmp_path, lines, "rows.jsonl"))
    assert "12 rows: 12 recorded, 0 skipped" in out
    assert "12 rows: 0 recorded, 12 skipped" in handoff.ok("import", write(tmp_path, JOURNEYS))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_then_import_into_an_empty_store_reproduces_it(
    handoff: Handoff, tmp_path: Path, fmt: str
) -> None:
    handoff.ok("import", write(tmp_path, JOURNEYS))
    handoff.ok("traffic", "record", "--date", "2026-03-03", "--visits", "900")
    exported = handoff.ok("export", "--format", fmt)
    copy = Handoff(str(tmp_path / "copy.sqlite"))
    copy.ok("import", write(tmp_path, exported, f"export.{fmt}"))
    assert copy.ok("export", "--format", fmt) == exported
    assert copy.json("lead", "show", "acme-1")["state"] == "won"


def test_no_two_steps_at_one_instant_say_different_things_so_an_export_imports_again(
    handoff: Handoff, tmp_path: Path
) -> None:
    """An export names a step by its lead, event and instant, and its import refused a
    second row there saying otherwise (a call by e-mail at the minute of one by phone): such
    a second step is refused as it is recorded, or made so by an amendment; the same call
    logged twice stays two calls, and the store's CSV export imports again."""
    handoff.ok("lead", "capture", "c1", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "c1", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "c1", "--owner", "sam", "--at", "2026-03-02T10:00")
    for _ in range(2):  # entries 4 and 5: the same call, twice
        handoff.ok("lead", "contact", "c1", "--channel", "phone", "--at", "2026-03-02T10:30")
    assert handoff.refused("lead", "contact", "c1", "--channel", "email", "--at",
                           "2026-03-02T10:30") == (
        "Error: lead 'c1' already has contacted at 2026-03-02 10:30 UTC with channel 'phone',"
        " not channel 'email': a step is known by its lead, event and instant (an export of"
        " both would not import again); give this one its own instant")
    assert "already has contacted at" in handoff.refused(
        "lead", "amend", "c1", "5", "--channel", "email", "--why", "it was an e-mail")
    handoff.ok("lead", "contact", "c1", "--channel", "email", "--at", "2026-03-02T10:31")
    handoff.ok("lead", "accept", "c1", "--at", "2026-03-02T10:45")
    handoff.ok("lead", "proposal", "c1", "--amount", "100", "--at", "2026-03-02T11:00")
    assert "already has proposal at" in handoff.refused(
        "lead", "proposal", "c1", "--amount", "200", "--at", "2026-03-02T11:00")
    exported = handoff.ok("export")
    copy = Handoff(str(tmp_path / "copy.sqlite"))
    copy.ok("import", write(tmp_path, exported, "export.csv"))
    # The two identical calls are one to a CSV file (README: Import format); the e-mail is
    # its own.
    assert copy.json("lead", "show", "c1")["contacts"] == 2
    assert handoff.json("lead", "show", "c1")["contacts"] == 3


def test_a_step_at_one_instant_is_held_to_the_steps_there_as_they_now_read(
    handoff: Handoff, tmp_path: Path
) -> None:
    """An export writes a lead's steps as they now read: a call voided (it was by e-mail,
    not by phone) may be logged again at its instant as it truly was, and a call amended to
    an e-mail leaves no room for one by phone at its instant, so the export imports again."""
    handoff.ok("lead", "capture", "c1", "--source", "web", "--at", "2026-03-02T09:00")
    handoff.ok("lead", "qualify", "c1", "--at", "2026-03-02T09:30")
    handoff.ok("lead", "handoff", "c1", "--owner", "sam", "--at", "2026-03-02T10:00")
    handoff.ok("lead", "contact", "c1", "--channel", "phone", "--at", "2026-03-02T10:30")  # 4
    handoff.ok("lead", "void", "c1", "4", "--why", "it was an e-mail")  # 5
    handoff.ok("lead", "contact", "c1", "--channel", "email", "--at", "2026-03-02T10:30")  # 6
    handoff.ok("lead", "contact", "c1", "--channel", "phone", "--at", "2026-03-02T11:00")  # 7
    handoff.ok("lead", "amend", "c1", "7", "--channel", "email", "--why", "an e-mail")  # 8
    assert "with channel 'email', not channel 'phone'" in handoff.refused(
        "lead", "contact", "c1", "--channel", "phone", "--at", "2026-03-02T11:00")
    copy = Handoff(str(tmp_path / "copy.sqlite"))
    copy.ok("import", write(tmp_path, handoff.ok("export"), "export.csv"))
    # Entries 6 and 7 (amended): two calls by e-mail, in both stores.
    assert copy.json("lead", "show", "c1")["contacts"] == 2
    assert handoff.json("lead", "show", "c1")["contacts"] == 2


@pytest.mark.parametrize("day", ["20260302", "2026-W10-1", "2026-061"])
def test_a_day_is_written_as_the_help_says_and_no_other_way(handoff: Handoff, day: str) -> None:
    """Other ISO forms of 2 March 2026 were taken, and the echo repeated them: a week date
    silently corrected a day the command never named."""
    assert handoff.refused("traffic", "record", "--date", day, "--visits", "5") == (
        f"Error: not a date (YYYY-MM-DD): {day!r}")
    assert handoff.ok("traffic", "record", "--date", " 2026-03-02 ", "--visits", "5") == (
        "2026-03-02: 5 visits\n")


def test_a_days_traffic_is_skipped_when_unchanged_and_corrected_when_not(
    handoff: Handoff, tmp_path: Path
) -> None:
    handoff.ok("traffic", "record", "--date", "2026-03-02", "--visits", "1200")
    same = HEADER + ",visits,2026-03-02,li,,,,,,,,,,1200\n"
    assert "0 recorded, 1 skipped" in handoff.ok("import", write(tmp_path, same, "same.csv"))
    corrected = HEADER + ",visits,2026-03-02,li,,,,,,,,,,1350\n"
    assert "1 recorded, 0 skipped" in handoff.ok("import", write(tmp_path, corrected, "fix.csv"))
    exported = handoff.ok("export").splitlines()
    assert [line.split(",")[-1] for line in exported[1:]] == ["1200", "1350"]


def test_export_into_a_pipe_closed_early_ends_quietly(store: str, tmp_path: Path) -> None:
    """`handoff export | head -1`: no traceback and no error when the reader stops."""
    import subprocess
    import sys

    rows = "".join(f"k-{n},captured,2026-03-02T09:00Z,maria,web,,,,,,,,,\n" for n in range(4000))
    Handoff(store).ok("import", write(tmp_path, HEADER + rows))
    command = [sys.executable, "-c", "from handoff.cli import main; main()", "--store", store,
               "export"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"lead,event,at")
    process.stdout.close()  # what `head -1` does after its line
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, stderr
    assert stderr == b""


def test_export_neutralises_cells_a_spreadsheet_would_run_and_import_reads_them_back(
    store: str, tmp_path: Path
) -> None:
    formula = '=HYPERLINK("http://evil.example","click")'
    handoff = Handoff(store)
    handoff.ok("lead", "capture", "+1-555", "--source", "@web", "--name", formula,
               "--company", "'quoted", "--at", "2026-03-02T09:00Z")
    exported = handoff.ok("export")
    cells = next(csv.DictReader(io.StringIO(exported)))
    assert (cells["lead"], cells["source"], cells["company"]) == ("'+1-555", "'@web", "''quoted")
    assert cells["name"] == "'" + formula
    restored = Handoff(str(tmp_path / "restored.sqlite"))
    restored.ok("import", write(tmp_path, exported, "exported.csv"))
    shown = restored.json("lead", "show", "+1-555")
    assert (shown["source"], shown["name"], shown["company"]) == ("@web", formula, "'quoted")


@pytest.mark.parametrize("when", ["sealing", "catching up"])
@pytest.mark.parametrize("source", ["handoff", "hubspot"])
def test_an_import_interrupted_once_its_events_are_recorded_says_they_are(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str, source: str
) -> None:
    """Ctrl-C while the entries are sealed or the KPIs brought up to date: the events are
    committed, and stay; the command says so in one line, and the next one finishes. A
    HubSpot export as a handoff file: 101 won, in 6 steps of the fixture's 33."""
    import handoff.audit as audit
    import handoff.projections as projections

    if source == "handoff":
        imported, events, noun, key = (write(tmp_path, JOURNEYS),), 12, "rows", "acme-1"
    else:
        hubspot = Path(__file__).parent / "fixtures" / "hubspot_contacts.csv"
        imported, events, noun, key = (str(hubspot), "--from", "hubspot"), 33, "steps", "101"

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        if when == "sealing":
            patched.setattr(audit, "seal_recorded_quietly", interrupted)
        else:
            patched.setattr(projections, "catch_up", interrupted)
        line = stopped(handoff, "import", *imported)
    assert line == (f"Error: interrupted: the import's {events} {noun} were recorded; the "
                    "next command brings the KPIs up to date (re-running the import records "
                    "nothing twice)")
    assert handoff.json("lead", "show", key)["state"] == "won"
    assert "the log is intact" in handoff.ok("audit", "verify")
    assert f"0 recorded, {events} skipped" in handoff.ok("import", *imported)


def test_a_ctrl_c_once_the_command_is_done_says_its_work_stands(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C while the command ends (sealing what it wrote, closing the store), once its
    output is printed: `Aborted!` would say that nothing was written (a trial's import
    said so after its summary)."""
    import handoff.cli as cli

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(cli, "seal_quietly", interrupted)
        result = handoff("import", write(tmp_path, JOURNEYS))
    assert result.exit_code == 130 and "Aborted" not in result.stderr
    assert result.stdout.startswith("imported 12 rows: 12 recorded")
    assert result.stderr == ("Error: interrupted as the command ended, its work done; the"
                             " next command seals anything new into the audit chain\n")
    assert "the log is intact" in handoff.ok("audit", "verify")
    assert "0 recorded, 12 skipped" in handoff.ok("import", write(tmp_path, JOURNEYS))


def test_a_command_stopped_by_a_ctrl_c_seals_nothing_as_it_ends(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its store's connections may have been cut short holding a lock (a trial's command
    waited for ever to seal): the next command seals what it recorded."""
    import handoff.cli as cli
    import handoff.projections as projections

    sealed: list[object] = []
    monkeypatch.setattr(cli, "seal_quietly", sealed.append)

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    handoff.ok("traffic", "record", "--date", "2026-03-01", "--visits", "5")
    assert len(sealed) == 1  # a command that ends as usual seals as it ends
    with monkeypatch.context() as patched:
        patched.setattr(projections, "catch_up", interrupted)
        assert "interrupted" in stopped(handoff, "import", write(tmp_path, JOURNEYS))
    assert len(sealed) == 1


def test_an_import_interrupted_before_its_events_are_recorded_writes_nothing(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handoff.eventstore as eventstore

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(eventstore, "record_in_bulk", interrupted)
        result = handoff("import", write(tmp_path, JOURNEYS))
    assert result.exit_code == 130 and result.stderr == "Aborted!\n"
    assert "12 recorded, 0 skipped" in handoff.ok("import", write(tmp_path, JOURNEYS))


def test_an_import_interrupted_as_it_hands_over_to_the_kpis_says_its_rows_were_recorded(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the import's write and the KPIs' catch-up (a trial's Ctrl-C said Aborted!
    there, which means nothing was written)."""
    from handoff.importer import Importer

    run_file = Importer.run_file

    def then_interrupted(self: Importer, *args: Any, **kwargs: Any) -> Any:
        run_file(self, *args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(Importer, "run_file", then_interrupted)
        line = stopped(handoff, "import", write(tmp_path, JOURNEYS))
    assert line.startswith("Error: interrupted: the import's 12 rows were recorded;")
    assert "0 recorded, 12 skipped" in handoff.ok("import", write(tmp_path, JOURNEYS))


def test_an_import_saved_but_not_caught_up_says_so_and_how_to_finish(
    handoff: Handoff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handoff.projections as projections

    def disk_full(*_: object, **__: object) -> int:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(projections, "catch_up", disk_full)
        line = handoff.refused("import", write(tmp_path, JOURNEYS))
    assert "12 rows were recorded, but bringing the KPIs up to date failed" in line
    assert "No space left on device" in line and "projections rebuild" in line
    command = line.split("`")[1]  # as a shell reads it, pasted: the store named whole
    assert shlex.split(command) == ["handoff", "--store", handoff.store, "projections",
                                    "rebuild"]
    assert "rebuilt" in handoff.ok("projections", "rebuild")
    assert handoff.json("lead", "show", "acme-1")["state"] == "won"
    assert "0 recorded, 12 skipped" in handoff.ok("import", write(tmp_path, JOURNEYS))


@pytest.mark.parametrize("rest", [1, 5000], ids=["small", "large"])
def test_a_stray_quote_is_refused_with_the_line_where_its_cell_starts(
    handoff: Handoff, tmp_path: Path, rest: int
) -> None:
    """In a large file too, where the open quote takes in more than a cell may hold."""
    path = write(tmp_path, "lead,event,at,actor,source\n"
                 'c-10,captured,2026-03-02T09:00Z,maria,web\n'
                 'c-11,captured,2026-03-02T09:00Z,maria,"web\n'
                 + "".join(f"c-{12 + n},captured,2026-03-02T09:00Z,maria,web\n"
                           for n in range(rest)))
    assert handoff.refused("import", path) == f"Error: {path}: line 3: a quote is never closed"
    assert "no store at" in handoff.refused("lead", "show", "c-10")


def test_a_row_dated_before_its_leads_later_rows_is_told_how_a_file_places_it(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A call listed after the acceptance it preceded was told to 'give --why with the
    reason', which import has no option for and a file no column."""
    path = write(tmp_path, "lead,event,at,source,owner\n"
                 "k,captured,2026-03-02T09:00Z,web,\n"
                 "k,qualified,2026-03-02T10:00Z,,\n"
                 "k,handed,2026-03-02T11:00Z,,sam\n"
                 "k,accepted,2026-03-02T13:00Z,,\n"
                 "k,contacted,2026-03-02T12:00Z,,\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}: line 6: lead 'k': 2026-03-02 12:00 UTC is before its previous event"
        " (accepted at 2026-03-02 13:00 UTC); a file's rows are applied in their order: put"
        " this row before the lead's later ones (a step missed and logged late is recorded"
        " by its lead command, with --why)")
    assert nothing_recorded(handoff)


@pytest.mark.parametrize("cell", ["x" * 200_000, '"' + "x" * 200_000 + '"'],
                         ids=["bare", "quoted"])
def test_a_cell_far_too_long_is_refused_as_too_long_not_as_a_stray_quote(
    handoff: Handoff, tmp_path: Path, cell: str
) -> None:
    """A source of 200,000 characters, quoted or not, was refused as 'a quote is never
    closed' (the csv module's own limit, 131,072 characters, taken for an open quote)."""
    path = write(tmp_path, f"lead,event,at,source\nk-1,captured,2026-03-02T09:00Z,{cell}\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: line 2: source has at most 2000 characters, got 200000",
        "Error: 1 row is bad; nothing was written",
    ]
    assert nothing_recorded(handoff)


def test_a_line_break_in_a_cell_that_cannot_hold_one_is_refused_with_its_line(
    handoff: Handoff, tmp_path: Path
) -> None:
    path = write(tmp_path, "lead,event,at,actor,source\n"
                 '"c-11\nc-12",captured,2026-03-02T09:00Z,maria,web\n'
                 "c-13,captured,2026-03-02T09:00Z,maria,web\n")
    result = handoff("import", path)
    assert result.exit_code == 1
    assert f"{path}: line 2: a line break inside lead (a stray quote?)" in result.stderr


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_separated_otherwise_is_named_as_such(
    handoff: Handoff, tmp_path: Path, separator: str, name: str
) -> None:
    path = write(tmp_path, separator.join(("lead", "event", "at")) + "\n")
    assert f"line 1: the file is separated by {name}" in handoff.refused("import", path)


def test_a_file_separated_by_semicolons_with_quoted_cells_is_named_as_such(
    handoff: Handoff, tmp_path: Path
) -> None:
    """Excel in a European locale quotes every cell and separates them with `;`: the file
    was refused with "',' expected after '\"'", which tells nobody what to do."""
    path = write(tmp_path, '"lead";"event";"at";"source"\r\n'
                 '"c-1";"captured";"2026-03-02 09:00";"web"\r\n')
    assert handoff.refused("import", path) == (
        f"Error: {path}: line 1: the file is separated by semicolons; handoff reads"
        " comma-separated files (save it as CSV with commas)")


def test_the_empty_rows_excel_leaves_at_the_end_of_a_file_are_no_rows(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A sheet whose last rows were cleared is saved with a line of bare commas for each:
    they were refused as rows of an unknown event '', and the night's file with them."""
    path = write(tmp_path, "lead,event,at,source,visits\r\n"
                 "c-1,captured,2026-03-02T09:00Z,web,\r\n"
                 ",visits,2026-03-02,,120\r\n"
                 ",,,,\r\n"
                 " , ,,,\r\n")
    assert "2 rows: 2 recorded, 0 skipped" in handoff.ok("import", path)
    assert [lead["key"] for lead in handoff.json("lead", "list")] == ["c-1"]


def test_a_reason_with_windows_line_endings_round_trips_through_the_csv_export(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A reason pasted from Windows keeps its carriage returns: the export imports back
    into the store it came from (every row skipped) and into an empty one, unchanged."""
    reasons = {"k1": "too small\r\nno budget", "k2": "\rstarts with a carriage return"}
    for key, reason in reasons.items():
        handoff.ok("lead", "capture", key, "--source", "web", "--at", "2026-03-02T09:00Z")
        handoff.ok("lead", "qualify", key, "--at", "2026-03-02T10:00Z")
        handoff.ok("lead", "handoff", key, "--owner", "sam", "--at", "2026-03-02T11:00Z")
        handoff.ok("lead", "reject", key, "--reason", reason, "--at", "2026-03-02T12:00Z",
                   actor="sam")
    exported = str(tmp_path / "export.csv")
    Path(exported).write_bytes(handoff("export").stdout_bytes)  # as written: "\r\n" kept
    assert "8 rows: 0 recorded, 8 skipped" in handoff.ok("import", exported)
    copy = Handoff(str(tmp_path / "copy.sqlite"))
    copy.ok("import", exported)
    for key, reason in reasons.items():
        assert copy.json("lead", "history", key)[-1]["reason"] == reason


def test_json_lines_rows_are_split_at_line_feeds_only(handoff: Handoff, tmp_path: Path) -> None:
    """A reason may hold any line break; JSON writes U+2028 as is (ensure_ascii off)."""
    reason = "first part\u2028second part"
    rows = [
        {"lead": "j1", "event": "captured", "at": "2026-03-02T09:00Z", "source": "web"},
        {"lead": "j1", "event": "qualified", "at": "2026-03-02T10:00Z"},
        {"lead": "j1", "event": "handed", "at": "2026-03-02T11:00Z", "owner": "sam"},
        {"lead": "j1", "event": "rejected", "at": "2026-03-02T12:00Z", "reason": reason},
    ]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\r\n" for row in rows)
    assert "4 rows: 4 recorded" in handoff.ok("import", write(tmp_path, text, "rows.jsonl"))
    assert handoff.json("lead", "history", "j1")[-1]["reason"] == reason


def test_a_visits_row_may_only_fill_the_columns_of_a_days_visits(
    handoff: Handoff, tmp_path: Path
) -> None:
    """As a lead row: a shifted column never slips in silently."""
    shifted = HEADER + ",visits,2026-03-04,maria,,,,,,,,,99.5,12\n"
    result = handoff("import", write(tmp_path, shifted))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].endswith("rows.csv: line 2: visits takes no amount")
    assert nothing_recorded(handoff)


@pytest.mark.parametrize("value", [{"a": 1}, ["web"], True])
def test_a_json_lines_row_holding_a_value_no_cell_could_is_refused(
    handoff: Handoff, tmp_path: Path, value: object
) -> None:
    row = {"lead": "j2", "event": "captured", "at": "2026-03-02T09:00Z", "source": value}
    result = handoff("import", write(tmp_path, json.dumps(row) + "\n", "rows.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'rows.jsonl'}: line 1: source holds {json.dumps(value)}, where a cell "
        "holds a text or a number",
        "Error: 1 row is bad; nothing was written",
    ]
    assert nothing_recorded(handoff)


def test_a_json_lines_list_of_a_number_too_long_to_read_is_a_bad_line(
    handoff: Handoff, tmp_path: Path
) -> None:
    row = '{"lead":"b8","event":"captured","at":"2026-03-02T10:00Z","source":[' + "9" * 5000 + "]}"
    result = handoff("import", write(tmp_path, row + "\n", "rows.jsonl"))
    assert result.exit_code == 1 and "internal error" not in result.stderr
    assert result.stderr.splitlines()[0].endswith("rows.jsonl: line 1: not JSON handoff reads: "
                                                  "a number too long")
    assert nothing_recorded(handoff)


def test_every_bad_json_line_is_reported_with_its_line(handoff: Handoff, tmp_path: Path) -> None:
    """As in a CSV file: the whole file is checked, and each bad row named."""
    rows = "\n".join([
        '{"lead":"b8","event":"captured","at":"2026-03-02T10:00Z","source":["web"]}',
        '{"lead":"b9","event":"captured","at":"xx","source":"web"}',
        '{"lead":"b10","event":"captured","at":"2026-03-02T10:00Z","source":"web"}',
        '{"lead":"b11","event":"captured",',
        '["b12"]',
    ]) + "\n"
    result = handoff("import", write(tmp_path, rows, "rows.jsonl"))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert [e.split(": ")[1] for e in errors[:-1]] == ["line 1", "line 2", "line 4", "line 5"]
    assert "not JSON" in errors[2] and "expected a JSON object" in errors[3]
    assert errors[-1] == "Error: 4 rows are bad; nothing was written"
    assert nothing_recorded(handoff)


@pytest.mark.parametrize("amount", ["1e3", "1E+3", "1000.0e0"])
def test_a_json_lines_amount_written_with_an_exponent_is_refused_as_in_a_csv(
    handoff: Handoff, tmp_path: Path, amount: str
) -> None:
    """A JSON number is read as written: 1e3 is no plain amount, in a file as on the
    command line (README: `1E+3` is refused), where json would make it 1000.0."""
    rows = [
        '{"lead":"J3","event":"captured","at":"2026-03-02T09:00Z","source":"web"}',
        '{"lead":"J3","event":"qualified","at":"2026-03-02T10:00Z"}',
        '{"lead":"J3","event":"handed","at":"2026-03-02T11:00Z","owner":"sam"}',
        '{"lead":"J3","event":"accepted","at":"2026-03-02T12:00Z"}',
        f'{{"lead":"J3","event":"proposal","at":"2026-03-02T13:00Z","amount":{amount}}}',
    ]
    result = handoff("import", write(tmp_path, "\n".join(rows) + "\n", "rows.jsonl"))
    assert result.exit_code == 1
    assert f"rows.jsonl: line 5: not an amount: '{amount}'" in result.stderr.splitlines()[0]
    assert nothing_recorded(handoff)


def test_a_json_lines_amount_keeps_the_digits_it_was_written_with(
    handoff: Handoff, tmp_path: Path
) -> None:
    rows = [
        '{"lead":"J4","event":"captured","at":"2026-03-02T09:00Z","source":"web"}',
        '{"lead":"J4","event":"qualified","at":"2026-03-02T10:00Z","score":70}',
        '{"lead":"J4","event":"handed","at":"2026-03-02T11:00Z","owner":"sam"}',
        '{"lead":"J4","event":"accepted","at":"2026-03-02T12:00Z"}',
        '{"lead":"J4","event":"proposal","at":"2026-03-02T13:00Z","amount":1200.50}',
    ]
    handoff.ok("import", write(tmp_path, "\n".join(rows) + "\n", "rows.jsonl"))
    exported = handoff.ok("export", "--format", "csv").splitlines()
    assert exported[-1].startswith("J4,proposal,") and ",1200.50," in exported[-1]


def test_a_row_that_would_change_a_recorded_step_names_both_values_in_words(
    handoff: Handoff, tmp_path: Path
) -> None:
    """A capture recorded without a name, then a row giving one: no Python `None` in the
    refusal."""
    rows = tmp_path / "again.csv"
    rows.write_text("lead,event,at,actor,source,name\n"
                    "d1,captured,2026-03-02T09:00Z,maria,web,\n"
                    "d1,captured,2026-03-02T09:00Z,maria,web,Other\n", encoding="utf-8")
    result = handoff("import", str(rows))
    assert result.exit_code == 1
    assert ("line 3: lead 'd1' already has captured at 2026-03-02 09:00 UTC with no name on"
            " an earlier line, not 'Other': a lead is captured once") in (
        result.stderr)
    assert "None" not in result.stderr


def test_a_json_lines_row_naming_a_field_twice_is_refused(
    handoff: Handoff, tmp_path: Path
) -> None:
    """json would keep the last value (lead s8) without a word: which one the user meant
    cannot be known."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"lead": "s7", "event": "captured", "at": "2026-03-02T09:00Z", "source": "web"}\n'
        '{"lead": "s7", "event": "qualified", "at": "2026-03-02T10:00Z", "lead": "s8"}\n',
        encoding="utf-8")
    result = handoff("import", str(rows))
    assert result.exit_code == 1
    assert f"{rows}: line 2: not JSON handoff reads: the field 'lead' is named twice" in (
        result.stderr)
    assert nothing_recorded(handoff)


def test_a_json_lines_row_is_read_as_the_same_csv_row_is(handoff: Handoff, tmp_path: Path) -> None:
    """Spaces around an event's name or an instant: CSV reads them without (a text, such as
    a name or a reason, is kept as written); so do JSON lines."""
    as_csv, as_json = tmp_path / "rows.csv", tmp_path / "rows.jsonl"
    as_csv.write_text("lead,event,at,actor,source,reason\n"
                      "p1, captured , 2026-03-02T09:00Z,maria,web,\n", encoding="utf-8")
    as_json.write_text('{"lead": "p2", "event": " captured ", "at": " 2026-03-02T09:00Z",'
                       ' "actor": "maria", "source": "web"}\n', encoding="utf-8")
    for rows in (as_csv, as_json):
        assert handoff.ok("import", str(rows)).startswith("imported 1 row: 1 recorded")
    assert handoff.json("lead", "show", "p1")["source"] == "web"
    assert handoff.json("lead", "show", "p2")["source"] == "web"


def test_rows_of_empty_cells_are_no_rows_and_the_rest_keep_their_line_numbers() -> None:
    """A spreadsheet saves a row it once held as empty cells (`,,,,`), perhaps of spaces:
    no row at all. A row whose first cell alone is spaces is still a row (refused by its
    checks, at its line)."""
    from handoff.importer import read_rows

    text = ("lead,event,at,actor,source\n"
            ",,,,\n"
            "acme,captured,2026-03-02T09:00Z,maria,web\n"
            "  , ,,\t,\n"
            "  ,captured,2026-03-02T09:00Z,maria,web\n")
    rows = read_rows(text)
    assert [line for line, _ in rows] == [3, 5]
    assert rows[0][1]["lead"] == "acme" and rows[1][1]["event"] == "captured"
