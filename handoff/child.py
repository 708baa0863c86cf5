"""A second Python process running one of handoff's modules, for bulk work on another core.

Not multiprocessing: its start methods either copy SQLite's record of this process's locks
into the child (fork) or import the caller's main script again (spawn). The child runs
the module as a script (`python -m`), with this copy of handoff importable whatever the
working directory, and in a process group of its own: a Ctrl-C at the terminal stops the
command, which stops its child, and the child itself never sees it, so nothing of its own
reaches the user's terminal. What it is given (a store's password among it) goes on its
input, never on its command line, which every user of the machine can read (`ps`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


def start(module: str, **popen: Any) -> subprocess.Popen[bytes]:
    """Run `python -m module` as a child with a pipe to its input (`popen`: more of
    subprocess.Popen's arguments)."""
    path = os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
    return subprocess.Popen(
        [sys.executable, "-m", module], stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path}, process_group=0, **popen,
    )
