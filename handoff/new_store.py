"""A store that a command creates is kept only if the command records something in it.

A command that may record opens a store that does not exist yet by creating it (SPEC §7);
when it is then refused, nothing was recorded and the store it made goes again: no file
on SQLite, no tables on PostgreSQL. Only what this very command created is ever removed,
and only while it holds nothing; another command never loses what it recorded:

- SQLite: the file is made here, already under an exclusive lock (`flock`), by linking a
  locked scratch file into place (atomic: it fails if the file exists). A command that
  finds a store file waits for that lock to be free, then checks the file is still there
  (the one it opened); if its creator removed it, the store is missing again and the
  command creates it in turn (or, one that only reads, says there is no store). So no
  other command opens a new store before its creator has settled it.
- PostgreSQL: the tables are created under the schema lock (`_creating_tables_alone`),
  which also tells which of them this command created. They are dropped, if they hold
  nothing, in one transaction under that lock and an exclusive lock on each: a command
  that recorded first keeps them; one writing after finds them gone and fails loudly.

A command killed before it settles leaves its store behind, empty, as a refused command
used to (the next command uses it as it is).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol

from handoff import eventstore
from handoff.store import StoreLocation, StoreUnavailable

# How long a command waits for another that is creating the same SQLite store.
_WAIT_SECONDS = 30.0
_POLL_SECONDS = 0.05
# The files SQLite may keep beside a store.
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")
# The tables of a PostgreSQL database, as (schema, name).
TABLES_SQL = (
    "SELECT schemaname, tablename FROM pg_tables"
    " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
)


class NewStore(Protocol):
    def settle(self, app: Any, recorded: bool, close: Callable[[], None]) -> None:
        """Close the app (`close`) and keep the store if something was recorded in it, else
        remove it. `app` is None when it failed to open."""


class NewFile:
    """A SQLite file this command created, locked until it settles."""

    def __init__(self, path: str, descriptor: int) -> None:
        self.path = path
        self._descriptor = descriptor

    def settle(self, app: Any, recorded: bool, close: Callable[[], None]) -> None:
        try:
            close()  # every connection of this process to it, so SQLite touches it no more
            if not recorded:
                for suffix in _SQLITE_SUFFIXES:
                    with suppress(FileNotFoundError):
                        os.unlink(self.path + suffix)
        finally:
            os.close(self._descriptor)  # and the lock with it


def claim_sqlite_file(location: StoreLocation) -> NewFile | None:
    """The store's file, made now and locked if it does not exist; None once an existing
    one is settled (its creator done with it)."""
    path = location.sqlite_path
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        made = None if os.path.lexists(path) else _make_locked(path)
        if made is not None:
            return NewFile(path, made)
        if _settled(path, deadline, location):
            return None


def settled_file(location: StoreLocation) -> bool:
    """Whether the store's file is there once whoever is creating it is done with it (a
    command that only reads waits too: it must not hold open a file that then goes)."""
    return _settled(location.sqlite_path, time.monotonic() + _WAIT_SECONDS, location)


def _make_locked(path: str) -> int | None:
    """A new empty file at `path`, locked before it appears there; None if one exists."""
    folder, name = os.path.split(path)
    scratch = os.path.join(folder, f".{name}.{os.getpid()}.{time.monotonic_ns()}.new")
    try:
        descriptor = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as error:  # said of the store (the scratch file is ours alone)
        raise OSError(error.errno, error.strerror) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.link(scratch, path)
    except FileExistsError:
        os.close(descriptor)
        return None
    except BaseException:
        os.close(descriptor)
        raise
    finally:
        os.unlink(scratch)
    return descriptor


def _settled(path: str, deadline: float, location: StoreLocation) -> bool:
    """Wait for the creator of the file at `path` to be done; True if it is still there."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # removed meanwhile: missing again (a link to nothing:
        return os.path.islink(path)  # SQLite creates what it names, as it always did)
    except OSError:
        return True  # unreadable: SQLite says why when it opens it
    try:
        while not _locked_shared(descriptor):
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"store {location.given!r} is being created by another command: try again"
                )
            time.sleep(_POLL_SECONDS)
        opened = os.fstat(descriptor)
        try:
            there = os.stat(path)
        except FileNotFoundError:
            return False
        return opened.st_nlink > 0 and (opened.st_dev, opened.st_ino) == (
            there.st_dev, there.st_ino
        )
    finally:
        os.close(descriptor)


def _locked_shared(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return True  # a file system without flock: as before, no wait
    return True


class NewTables:
    """The PostgreSQL tables this command created (under the schema lock)."""

    def __init__(self, tables: Callable[[], set[tuple[str, str]]]) -> None:
        self._before = tables()
        self._tables = tables
        self.created: list[tuple[str, str]] = []

    def done(self) -> None:
        """The library has made its tables: which of them are this command's."""
        self.created = sorted(self._tables() - self._before)

    def settle(self, app: Any, recorded: bool, close: Callable[[], None]) -> None:
        try:
            if not recorded and self.created and app is not None:
                self._drop_if_empty(app)
        finally:
            close()

    def _drop_if_empty(self, app: Any) -> None:
        from eventsourcing.persistence import PersistenceError
        from psycopg import Error, sql

        tables = sql.SQL(", ").join(sql.Identifier(*table) for table in self.created)
        # Could not (a lock not had in time): the tables stay, as they did before.
        with suppress(Error, PersistenceError), eventstore.write_transaction(app) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (eventstore.SCHEMA_LOCK_KEY,))
            cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(tables))
            for table in self.created:  # a command that recorded first keeps them
                found = sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.Identifier(*table))
                cursor.execute(found)
                if eventstore.rows(cursor)[0][0]:
                    return
            cursor.execute(sql.SQL("DROP TABLE {}").format(tables))
