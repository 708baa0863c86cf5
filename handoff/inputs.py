"""The files a user names, read as text: UTF-8 (a BOM, as Notepad and Excel write it, is no
text), and `-` for the standard input, as cat, sort and tar read it. A file that cannot be
read is refused in one line (`CannotRead`): the system's reason, or the line of the first
byte that is not UTF-8, and that byte (not Python's codec message).

Lines are kept as written (no "\\r\\n" is turned into "\\n"): a CSV reader tells a line break
inside a quoted cell from the rows' line ends.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, TextIO

STDIN = "-"
# How a spreadsheet workbook begins (.xlsx, a zip; .xls, a compound file), as a spreadsheet
# saves one unless told to save CSV: no byte of it is a line to name.
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
# How UTF-16 text begins (its byte order mark), as Excel saves "Unicode Text": text, but
# its every other byte is a zero, and its first is no UTF-8.
_UTF16 = (b"\xff\xfe", b"\xfe\xff")


class CannotRead(Exception):
    """A file the user named cannot be read as UTF-8 text; the message says which and why."""


def read_text(path: object) -> str:
    """The whole text of the file named `path` (`-`: the standard input)."""
    try:
        with _binary(path) as file:
            data = file.read()
    except OSError as error:
        raise CannotRead(_system_said(path, error)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        said = _not_utf8_text(path, data[:8])
        if said is not None:
            raise CannotRead(said) from None
        line = data.count(b"\n", 0, error.start) + 1
        raise CannotRead(_not_utf8(path, line, data[error.start:error.start + 1])) from None


@contextmanager
def open_text(path: object) -> Iterator[TextIO]:
    """The file named `path` as a stream of text, for an export too large to hold twice: a
    file on disk is read as it goes; the standard input, a pipe or a device (`/dev/stdin`)
    is read whole first, since it cannot be read again to find where a bad byte lies."""
    if not _on_disk(path):
        yield io.StringIO(read_text(path), newline="")
        return
    try:
        with open(str(path), encoding="utf-8-sig", newline="") as stream:
            yield stream
    except OSError as error:
        raise CannotRead(_system_said(path, error)) from None
    except UnicodeDecodeError as error:
        said = _not_utf8_text(path, _beginning(path))
        if said is not None:
            raise CannotRead(said) from None
        found = _first_not_utf8(path)
        line, byte = found or (None, error.object[error.start:error.start + 1])
        raise CannotRead(_not_utf8(path, line, byte)) from None


def _on_disk(path: object) -> bool:
    """Whether `path` names a regular file, which can be read a second time."""
    if str(path) == STDIN:
        return False
    try:
        return stat.S_ISREG(os.stat(str(path)).st_mode)
    except OSError:
        return True  # opening it says why it cannot be read


@contextmanager
def _binary(path: object) -> Iterator[BinaryIO]:
    if str(path) == STDIN:
        yield sys.stdin.buffer  # not closed: the command's, not this file's
        return
    with open(str(path), "rb") as file:
        yield file


def _system_said(path: object, error: OSError) -> str:
    return f"{path}: cannot read: {error.strerror or error}"


def _not_utf8(path: object, line: int | None, byte: bytes) -> str:
    where = "" if line is None else f" line {line}"
    return f"{path}: cannot read{where}: not UTF-8 text (byte 0x{byte.hex()}); save it as UTF-8"


def _workbook(path: object) -> str:
    return (f"{path}: cannot read: a spreadsheet workbook (.xlsx or .xls), not text; save it"
            " as CSV UTF-8")


def _not_utf8_text(path: object, beginning: bytes) -> str | None:
    """What a file is, when its first bytes say it is no UTF-8 text (a workbook, UTF-16),
    told rather than its first byte; None for any other."""
    if beginning.startswith(_WORKBOOKS):
        return _workbook(path)
    if beginning.startswith(_UTF16):
        return (f"{path}: cannot read: UTF-16 text (as Excel's \"Unicode Text\" or Notepad's"
                " \"Unicode\" saves it), not UTF-8; save it as UTF-8 (CSV UTF-8)")
    return None


def _beginning(path: object) -> bytes:
    try:
        with open(str(path), "rb") as file:
            return file.read(8)
    except OSError:  # unreadable now: its first byte not UTF-8 says what can be said
        return b""


def _first_not_utf8(path: object) -> tuple[int, bytes] | None:
    """The line of the file's first byte that is not UTF-8, and that byte (read again: the
    error a reader raised may name a byte of a piece of the file, not where it lies)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with open(str(path), "rb") as file:
            while True:
                piece = file.read(1 << 16)
                try:
                    decoder.decode(piece, final=not piece)  # at the end: a character cut short
                except UnicodeDecodeError as error:  # its object: what was held back, then piece
                    seen = error.object
                    return line + seen.count(b"\n", 0, error.start), seen[error.start:][:1]
                if not piece:
                    return None
                line += piece.count(b"\n")
    except OSError:  # unreadable now: the byte alone
        return None
