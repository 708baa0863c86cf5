"""Output that cannot be written: a reader that went away ends a command quietly, as Unix
tools do; a full disk or a closed stdout is one line on stderr, exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cli_helpers import Handoff

_HANDOFF = [sys.executable, "-c", "from handoff.cli import main; main()"]
_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not _FULL.exists(), reason="no /dev/full here")


def run(store: str, *args: str, stdout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_HANDOFF, "--store", store, *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.fixture
def march(store: str) -> str:
    Handoff(store).ok("lead", "capture", "k-1", "--source", "web", "--at", "2026-03-02T09:00Z")
    return store


@pytest.mark.parametrize("command", [("kpi", "--month", "2026-03"), ("lead", "list"),
                                     ("export", "--format", "jsonl")])
def test_every_command_ends_quietly_when_its_reader_has_gone(
    march: str, command: tuple[str, ...]
) -> None:
    reading, writing = os.pipe()
    os.close(reading)  # `| head -1` after its line, before this command writes
    try:
        done = run(march, *command, stdout=writing)
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_sla_breaches_keeps_its_alarm_status_when_its_reader_has_gone(
    store: str, tmp_path: Path, fmt: str
) -> None:
    """`handoff sla breaches --open | head -1`: the reader's leaving says nothing about the
    overdue handoff, so the alarm (3) stands; exit 0 told the cron job there was none."""
    agreement = tmp_path / "agreement.toml"
    agreement.write_text('name = "H1"\neffective_from = 2026-01-01\n'
                         '[sales]\ndecide_within_hours = 8\n')
    handoff = Handoff(store)
    handoff.ok("sla", "apply", str(agreement))
    handoff.ok("lead", "capture", "k-1", "--source", "web", "--at", "2026-03-02T09:00Z")
    handoff.ok("lead", "qualify", "k-1", "--at", "2026-03-02T10:00Z")
    handoff.ok("lead", "handoff", "k-1", "--owner", "sam", "--at", "2026-03-02T11:00Z")
    reading, writing = os.pipe()
    os.close(reading)
    try:
        done = run(store, "sla", "breaches", "--open", "--format", fmt, stdout=writing)
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr) == (3, "")


@needs_dev_full
@pytest.mark.parametrize("command", [("kpi", "--month", "2026-03"), ("lead", "list"),
                                     ("export", "--format", "jsonl")])
def test_output_to_a_full_disk_is_one_line(march: str, command: tuple[str, ...]) -> None:
    with _FULL.open("w") as full:
        done = run(march, *command, stdout=full.fileno())
    assert done.returncode == 1
    assert done.stderr == "Error: cannot write the output: No space left on device\n"


@needs_dev_full
def test_a_record_whose_output_fails_is_recorded_and_says_only_that_the_output_failed(
    store: str,
) -> None:
    with _FULL.open("w") as full:
        done = run(store, "lead", "capture", "k-2", "--source", "web", stdout=full.fileno())
    assert done.returncode == 1
    assert done.stderr == "Error: cannot write the output: No space left on device\n"
    assert Handoff(store).json("lead", "show", "k-2")["state"] == "captured"


def test_a_closed_stdout_is_one_line_and_nothing_is_recorded(march: str) -> None:
    closed = subprocess.run(
        ["sh", "-c", 'exec "$0" "$@" >&-', *_HANDOFF, "--store", march,
         "lead", "capture", "k-3", "--source", "web"],
        stderr=subprocess.PIPE, text=True, timeout=120,
    )
    assert closed.returncode == 1
    assert closed.stderr == "Error: cannot write the output: standard output is closed\n"
    assert "k-3" not in Handoff(march).ok("lead", "list")


def test_projections_status_of_a_model_yet_to_read_the_log_says_position_0(store: str) -> None:
    """The position before the log's first entry is the read model's own marker
    (eventstore.BEFORE_FIRST); people and scripts see 0, as before, for none read."""
    handoff = Handoff(store)
    handoff.ok("lead", "capture", "k-1", "--source", "web", "--at", "2026-03-02T09:00Z")
    status = handoff.json("projections", "status")
    assert (status["position"], status["last_event"], status["behind"]) == (0, 1, 1)
    assert "-9223372036854775808" not in handoff.ok("projections", "status")


# A terminal or a server whose locale is not UTF-8 (LANG=en_US.ISO-8859-1, a Windows code
# page): Python's stdout then encodes in Latin-1.
_LATIN_1 = {**os.environ, "PYTHONIOENCODING": "latin-1"}


def test_an_export_under_a_latin_1_locale_is_utf_8_and_imports_again(
    store: str, tmp_path: Path
) -> None:
    handoff = Handoff(store)
    handoff.ok("lead", "capture", "k-1", "--source", "web", "--name", "José Łukasiewicz",
               "--at", "2026-03-02T09:00Z")
    for form in ("csv", "jsonl"):
        file = tmp_path / f"export.{form}"
        with file.open("wb") as out:
            done = subprocess.run([*_HANDOFF, "--store", store, "export", "--format", form],
                                  stdout=out, stderr=subprocess.PIPE, env=_LATIN_1,
                                  timeout=120)
        assert (done.returncode, done.stderr) == (0, b"")
        assert "José Łukasiewicz" in file.read_text(encoding="utf-8")
        restored = Handoff(str(tmp_path / f"restored-{form}.sqlite"))
        restored.ok("import", str(file))


def test_a_kpi_table_on_a_latin_1_terminal_shows_what_it_can(march: str) -> None:
    """Its own marks included (†, a flow rate over 100 %): never an internal error."""
    handoff = Handoff(march)
    handoff.ok("lead", "qualify", "k-1", "--at", "2026-03-02T10:00Z")
    handoff.ok("lead", "capture", "k-2", "--source", "web", "--at", "2026-02-27T09:00Z")
    handoff.ok("lead", "qualify", "k-2", "--at", "2026-03-02T10:00Z")  # 2 of 1 captured
    terminal, screen = os.openpty()
    shown = bytearray()
    reader = threading.Thread(target=_read_all, args=(terminal, shown))
    reader.start()
    try:
        done = subprocess.run([*_HANDOFF, "--store", march, "kpi", "--month", "2026-03"],
                              stdout=screen, stderr=subprocess.PIPE, env=_LATIN_1,
                              timeout=120)
    finally:
        os.close(screen)
        reader.join(timeout=10)
        os.close(terminal)
    assert (done.returncode, done.stderr) == (0, b"")
    assert b"captured_to_qualified" in shown


def _read_all(terminal: int, shown: bytearray) -> None:
    """What a terminal shows, until the last command writing to it closes it."""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the other side closed
            return
        if not chunk:
            return
        shown += chunk
