"""A transaction that has tables of the read model to itself, and never waits for them.

A report holds `report_now.HELD_TABLE` in share mode for as long as it reads (on
PostgreSQL), and reads the other tables meanwhile. A transaction that locked them one at a
time (a LOCK TABLE or DROP TABLE of each, each waiting for its table) could hold one the
report is about to read while it waits for the one the report holds: a deadlock, which
the server ends by aborting one of them, with an error the user sees. So every table is
locked by one statement that waits for none of them (`lock`), and the whole transaction is
tried again shortly while a report reads one (`retried`). SQLite needs neither: it has
one writer at a time, and its reads are snapshots that nothing waits for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from handoff import eventstore
from handoff.domain.errors import Refused

T = TypeVar("T")

# The pauses between tries, and how long in all.
_FIRST_PAUSE, _LAST_PAUSE, _WAIT_AT_MOST = 0.02, 1.0, 120.0


class Busy(Refused):
    """The read model's tables could not be had to themselves for long enough."""


class _InUse(Exception):
    """A table `lock` asked for is in use: the transaction is to be tried again."""


def lock(conn: Connection, tables: Collection[str]) -> None:
    """On PostgreSQL, these tables locked against every other use, all at once or not at
    all: one of them in use fails the transaction at once, for `retried` to try again.
    (Any other wait for a lock, beyond the store's lock_timeout, fails as the store busy:
    another command writing, not a report reading.)"""
    if tables and conn.dialect.name == "postgresql":
        names = ", ".join(sorted(tables))
        try:
            conn.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT")
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != eventstore.LOCK_NOT_AVAILABLE:
                raise
            raise _InUse() from error


def retried(attempt: Callable[[], T]) -> T:
    """`attempt`, one transaction that takes its tables with `lock`, tried again after a
    pause (longer each time, up to a second) while a report reads one of them; Busy once
    that has lasted two minutes."""
    pause = _FIRST_PAUSE
    waited = 0.0
    while True:
        try:
            return attempt()
        except _InUse:
            if waited >= _WAIT_AT_MOST:
                # One of them held all along: by reports reading them one after another,
                # or by someone's `LOCK TABLE` or VACUUM FULL (NOWAIT cannot tell which).
                raise Busy(
                    f"the KPIs' tables have been in use for {_WAIT_AT_MOST:g} s (reports"
                    " reading them, someone's database tool); run this one again once they"
                    " have ended"
                ) from None
            time.sleep(pause)
            waited += pause
            pause = min(pause * 2, _LAST_PAUSE)
