"""A second Python process running one of handoff's modules, for bulk work on another core.

Not multiprocessing: its start methods either copy SQLite's record of this process's locks
into the child (fork) or import the caller's main script again (spawn). The child runs
the module as a script (`python -P -m`), this copy of handoff importable whatever the
working directory (which `-P` keeps off its path: a folder holding another copy of handoff,
a checkout, say, would be imported instead), in a process group of its own: a Ctrl-C at
the terminal stops the command, which stops its child, and the child itself never sees it.
Nothing of its own reaches the user's terminal (its errors only with HANDOFF_DEBUG: the
command says in one line what failed). What it is given, a store's password among it,
goes on its input, never on its command line, which every user of the machine can read
(`ps`); its input stays open while the command lives, so that a child whose command ended
(killed, say) ends too (`serve`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
_SIZE = 8  # bytes of a message's length, before it (big-endian)


def start(module: str, **popen: Any) -> subprocess.Popen[bytes]:
    """Run `python -m module` as a child with a pipe to its input (`popen`: more of
    subprocess.Popen's arguments)."""
    path = os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
    return subprocess.Popen(
        [sys.executable, "-P", "-m", module], stdin=subprocess.PIPE,
        stderr=None if os.environ.get("HANDOFF_DEBUG") else subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path}, process_group=0, **popen,
    )


def stop_answering(process: subprocess.Popen[bytes]) -> None:
    """End a child this process gave messages and read answers from: its input ends (it
    ends at the end of its input), and so does its output, before it is waited for. An
    answer no longer read (this process was interrupted while a large one, a rebuild's
    counts, was on its way) would keep the child writing it, and this process waiting for
    the child, for ever; the child, failing to write it, ends."""
    for end in (process.stdin, process.stdout):
        if end is not None:
            with suppress(OSError):
                end.close()
    process.wait()


def framed(message: bytes) -> bytes:
    """A message as written to a child's input: its length, then itself (`read_message`)."""
    return len(message).to_bytes(_SIZE, "big") + message


def read_message(given: BinaryIO) -> bytes | None:
    """The next message on a child's input (`framed`); None at its end, or when it ends
    within a message (its writer ended as it wrote)."""
    size = given.read(_SIZE)
    if len(size) < _SIZE:
        return None
    length = int.from_bytes(size, "big")
    message = given.read(length)
    return message if len(message) == length else None


def serve(work: Callable[[BinaryIO], None]) -> int:
    """The child's life: `work`, given the child's input; its exit status. Should it fail,
    it exits with 1, its traceback shown only with HANDOFF_DEBUG."""
    try:
        work(sys.stdin.buffer)
    except BaseException:
        if os.environ.get("HANDOFF_DEBUG"):
            raise
        return 1
    return 0


def end_with_input(given: BinaryIO) -> None:
    """In a child given all its messages: end the process at once when its input ends,
    whatever it is doing then (its command ended before it: killed, say)."""

    def wait() -> None:
        # Below the buffered reader, whose lock a thread still reading it would hold
        # while the interpreter, ending normally, closes it.
        while os.read(given.fileno(), 1 << 16):
            pass
        os._exit(1)

    threading.Thread(target=wait, daemon=True).start()
