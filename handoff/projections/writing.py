"""Writing read-model rows in bulk: `executemany` on SQLite, COPY on PostgreSQL.

Rows are plain tuples in column order. On PostgreSQL a statement per row, even
pipelined, cost the driver more than the whole projection else did (a million events:
92 of 135 s), so rows are streamed with COPY; rows that may meet a row already there
(`merge`) are copied into a temporary table of the same shape and merged by one
INSERT ... SELECT ... ON CONFLICT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

Row = tuple[Any, ...]


def mark(conn: Connection) -> str:
    """The driver's parameter mark."""
    return "%s" if conn.dialect.name == "postgresql" else "?"


def execute_many(conn: Connection, sql: str, rows: Sequence[Row]) -> None:
    """Run a statement whose parameters are written `{0}`, once per row, in one call."""
    if rows:
        conn.exec_driver_sql(sql.format(mark(conn)), list(rows))


def insert(conn: Connection, table: str, names: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert new rows; a key already there raises IntegrityError."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, names, rows)
        return
    marks = ", ".join("{0}" for _ in names)
    execute_many(conn, f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)


def merge(
    conn: Connection, table: str, names: Sequence[str], rows: Sequence[Row], on_conflict: str
) -> None:
    """Insert rows, each one that meets a row already there handled by `on_conflict`
    (an `ON CONFLICT (...) DO ...` clause). No two rows may share a key."""
    if not rows:
        return
    columns = ", ".join(names)
    if conn.dialect.name != "postgresql":
        marks = ", ".join("{0}" for _ in names)
        execute_many(conn, f"INSERT INTO {table} ({columns}) VALUES ({marks}) {on_conflict}",
                     rows)
        return
    staged = f"{table}_merged"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged}"
        f" (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    _copy(conn, staged, names, rows)
    conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}"
                         f" {on_conflict}")
    conn.exec_driver_sql(f"TRUNCATE {staged}")


def _copy(conn: Connection, table: str, names: Sequence[str], rows: Sequence[Row]) -> None:
    """PostgreSQL: rows streamed with COPY, in the connection's transaction."""
    import psycopg

    driver: Any = conn.connection.driver_connection
    sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.IntegrityError as error:  # a key projected by another process meanwhile
        raise IntegrityError(sql, None, error) from None
