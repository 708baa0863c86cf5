"""Where events live: `--store PATH_OR_URL` becomes eventsourcing and SQLAlchemy settings."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from handoff.domain.errors import Refused

DEFAULT_STORE = "handoff.sqlite"
_POSTGRES_SCHEMES = ("postgresql", "postgres")


class StoreUnavailable(Refused):
    """The store cannot be opened (a missing folder, an unreachable database)."""


@dataclass(frozen=True)
class StoreLocation:
    """One store, named once by the user, opened by both the event store and the read models."""

    given: str
    event_store_env: dict[str, str]
    sqlalchemy_url: URL

    @property
    def is_postgres(self) -> bool:
        return self.sqlalchemy_url.get_backend_name() == "postgresql"


def locate(store: str) -> StoreLocation:
    """Read a file path (embedded SQLite) or a `postgresql+psycopg://` URL."""
    scheme = store.split("://", 1)[0].split("+", 1)[0].lower() if "://" in store else ""
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(store)
    if scheme:
        raise StoreUnavailable(
            f"unsupported store {store!r}: give a file path or a postgresql+psycopg:// URL"
        )
    return _sqlite(store)


def _sqlite(store: str) -> StoreLocation:
    path = Path(store).expanduser().resolve()
    if not path.parent.is_dir():
        raise StoreUnavailable(f"cannot create store {store!r}: folder {path.parent} does not exist")
    if path.is_dir():
        raise StoreUnavailable(f"store {store!r} is a folder, not a file")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    return StoreLocation(store, env, URL.create("sqlite", database=str(path)))


def _postgres(store: str) -> StoreLocation:
    try:
        url = make_url(store.replace("postgres://", "postgresql://", 1))
    except ArgumentError:
        raise StoreUnavailable(f"not a database URL: {store!r}") from None
    if not url.database:
        raise StoreUnavailable(f"the store URL {store!r} names no database")
    url = url.set(drivername="postgresql+psycopg")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database,
        "POSTGRES_HOST": url.host or "localhost",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or getpass.getuser(),
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "30",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "2",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
    }
    return StoreLocation(store, env, url)
