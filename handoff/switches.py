"""Process-wide and connection-wide switches, each set in one place (and tested there).

Bulk work (an import, a rebuild) holds hundreds of thousands of long-lived objects and
writes a million rows: the defaults suited to small commands cost it several times over.
"""

from __future__ import annotations

import csv
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

# How long a command waits for a store another process holds (SQLite's write lock, a
# PostgreSQL table or row lock) before it says the store is busy: a stopped import, a
# rebuild, someone's database tool. Longer than any one write of a command takes.
LOCK_WAIT_SECONDS = 30
# Index upkeep of a million read-model rows wants more than SQLite's 2 MB default cache.
SQLITE_CACHE_KIB = 131_072
# A bulk catch-up (a rebuild, a large import) writes the whole read model and sorts each
# index once: at a million events that is some 400 MB, which a smaller cache spills to
# disk and reads back. SQLite takes the pages only as it needs them.
SQLITE_BULK_CACHE_KIB = 1_048_576
# SQLite sorts an index's rows in memory up to the cache's size (at most 512 MB) and only
# then in pieces, which worker threads sort while it reads on: with the bulk cache, every
# index of a rebuild was sorted in one piece by one thread while the other core idled. A
# small cache during the builds splits each sort between threads (a million events: the
# indexes took 1.3-1.6 s where they took 1.8-1.9 s). The pieces go to temporary files.
SQLITE_INDEX_BUILD_CACHE_KIB = 4_096
SQLITE_INDEX_BUILD_THREADS = 4
# PostgreSQL sorts an index's rows in the memory given to maintenance and spills the rest
# to disk: the read model's largest index at a million events sorts ~100 MB, and the 64 MB
# default made building the three of read_event take 6.5 s where 256 MB took 4.5 s.
POSTGRES_INDEX_BUILD_MEMORY = "256MB"


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration, then restore it as it was.

    A bulk import or catch-up allocates hundreds of thousands of long-lived objects and
    no cycles worth collecting; left on, the collector rescans them all again and again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def cells_of_any_length() -> Iterator[None]:
    """Read CSV cells of any length for the duration, then put the reader's limit back.

    The csv module refuses a cell longer than 131,072 characters, and said so in its own
    words ('field larger than field limit'): a text too long for handoff is refused by the
    row's checks, in theirs, and a CRM export's long notes are in columns the import does
    not read. A quote never closed still ends at the file's end, where the reader says so.
    """
    was = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(was)


def tune_sqlite(connection: Any, _record: Any = None) -> None:
    """Settings of each SQLite connection the read model opens (an engine "connect" hook)."""
    connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    # The event store keeps SQLite in WAL mode; there, NORMAL skips the fsync of every
    # commit and stays consistent (rows and position still commit together). A crash may
    # lose the last pages, which the next catch-up projects again: derived data.
    connection.execute("PRAGMA synchronous = NORMAL")
    # Some builds of SQLite (Debian's) overwrite every row they delete with zeros. The read
    # model holds nothing the log does not, and no personal data (a lead's name, e-mail
    # and company are never projected; `lead forget` erases them from the log and scrubs
    # the file's free space on a connection of its own): emptying it for a rebuild of a
    # million events wrote 2.6 s of zeros, 0.3 s without.
    connection.execute("PRAGMA secure_delete = OFF")


def tune_sqlite_for_bulk(connection: Any) -> None:
    """A read-model connection about to project or index in bulk: a larger cache."""
    connection.execute(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")


@contextmanager
def sqlite_index_builds(connection: Any) -> Iterator[None]:
    """A SQLite connection about to build indexes in bulk: their sorts split between worker
    threads for the duration, then the connection's cache and threads as they were."""
    cache = connection.execute("PRAGMA cache_size").fetchone()[0]
    threads = connection.execute("PRAGMA threads").fetchone()[0]
    connection.execute(f"PRAGMA cache_size = -{SQLITE_INDEX_BUILD_CACHE_KIB}")
    connection.execute(f"PRAGMA threads = {SQLITE_INDEX_BUILD_THREADS}")

    def put_back() -> None:
        connection.execute(f"PRAGMA cache_size = {int(cache)}")
        connection.execute(f"PRAGMA threads = {int(threads)}")

    try:
        yield
    except BaseException:
        # Put back if it can be: a build interrupted (Ctrl-C) may leave the connection
        # closed, and what stopped the build is what the command has to say.
        with suppress(Exception):
            put_back()
        raise
    put_back()


def tune_postgres_for_index_builds(connection: Any) -> None:
    """A PostgreSQL transaction about to build indexes in bulk: more memory to sort in,
    for this transaction only."""
    connection.execute(f"SET LOCAL maintenance_work_mem = '{POSTGRES_INDEX_BUILD_MEMORY}'")
