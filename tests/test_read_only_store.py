"""A store on read-only media (a copy kept for an audit, another user's file) can be read."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cli_helpers import Handoff

from handoff.demo import build_demo


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on a file system mounted read-only (needs the right to mount, as root)."""
    folder = tmp_path / "media"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a read-only file system here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_every_read_command_works_on_a_store_on_read_only_media(
    tmp_path: Path, read_only_folder: Path
) -> None:
    original = tmp_path / "demo.sqlite"
    build_demo(original, seed=2, today=date(2026, 11, 27), months=2)
    Handoff(str(original)).ok("kpi", "--month", "2026-10")  # its KPIs up to date
    shutil.copy(original, read_only_folder / "demo.sqlite")
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)],
                               capture_output=True)
    assert remounted.returncode == 0, remounted.stderr
    copy, source = Handoff(str(read_only_folder / "demo.sqlite")), Handoff(str(original))
    key = source.ok("export").splitlines()[1].split(",")[0]
    for period in (("--month", "2026-10"), ("--month", "2026-10", "--by", "owner",
                                            "--as-of", "2026-10-20T00:00Z")):
        read, kept = copy.json("kpi", *period), source.json("kpi", *period)
        assert {**read, "as_of": None} == {**kept, "as_of": None}
    for asked in (("lead", "show", key), ("lead", "history", key), ("export",),
                  ("lead", "list", "--overdue"), ("sla", "history")):
        assert copy(*asked).stdout == source(*asked).stdout, asked
    breaches = copy("sla", "breaches")
    assert breaches.exit_code in (0, 3) and breaches.stdout == source("sla", "breaches").stdout
    assert "the log is intact" in copy.ok("audit", "verify")
    refusal = copy.refused("traffic", "record", "--date", "2026-10-01", "--visits", "3")
    assert refusal.startswith("Error: ") and "read-only" in refusal, refusal
    verification = copy("sla", "verify")  # it records its outcome: refused before it runs
    assert verification.exit_code == 1 and "read-only" in verification.stderr
    assert verification.stdout == ""
