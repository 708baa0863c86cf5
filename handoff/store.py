"""Where events live: `--store PATH_OR_URL` becomes eventsourcing and SQLAlchemy settings."""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from handoff import eventstore, switches
from handoff.domain.errors import Refused

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DEFAULT_STORE = "handoff.sqlite"
_POSTGRES_SCHEMES = ("postgresql", "postgres")


READ_ONLY = (
    "the store is read-only: this command would have to write to it (record on a"
    " writable copy, or bring its KPIs up to date there first)"
)

# PostgreSQL's error code for a right the database user lacks (insufficient_privilege).
_DENIED = "42501"
# A PostgreSQL server that only reads: a hot standby (a replica), or a database or user set
# to default_transaction_read_only.
_READ_ONLY_TRANSACTION = "25006"


def driver_said(error: BaseException) -> str:
    """The first line of what the driver said of `error` (without the statement and the
    notes SQLAlchemy adds around it); the error's type when it said nothing."""
    said = str(getattr(error, "orig", None) or error).strip().splitlines()
    return printable((said[0] if said else "") or type(error).__name__)


# Control characters (Unicode's Cc): the server quotes what it was given (a database name
# from the URL) as it was, and an escape sequence in it would drive the terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(said: str) -> str:
    """What a driver or the server said, each control character as its escape (`\\x1b`)."""
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], said)


def cannot_write(error: BaseException) -> str | None:
    """What to tell the user when `error` (the driver's, however wrapped) says the store may
    not be written by whoever runs the command, or not now (another holds it); None for
    any other error."""
    for seen in eventstore.wrapped_errors(error):
        sqlstate = getattr(seen, "sqlstate", None)
        # SQLite's words, or PostgreSQL's code
        if "readonly database" in str(seen) or sqlstate == _READ_ONLY_TRANSACTION:
            return READ_ONLY
        if eventstore.held_by_another(seen):
            return (
                f"the store is busy: another command has held it for"
                f" {switches.LOCK_WAIT_SECONDS} s (an import, a rebuild, someone's database"
                " tool); run this one again once it has ended"
            )
        if sqlstate == _DENIED:
            return (
                f"this database user lacks a right this command needs ({driver_said(seen)}"
                "): run it as a user who has it (one who may only read the store reads the"
                " KPIs once another has brought them up to date)"
            )
    return None


def stopped_by_the_server(error: BaseException) -> str | None:
    """What the PostgreSQL server said when it stopped the command (a statement timeout
    its administrator set for the user, the server shutting down, a full disk), however
    wrapped; None for any other error: SQL that handoff got wrong stays an internal error."""
    psycopg = sys.modules.get("psycopg")  # not loaded: not a PostgreSQL store's error
    if psycopg is None:
        return None
    found = next((e for e in eventstore.wrapped_errors(error)
                  if isinstance(e, psycopg.OperationalError)), None)
    return None if found is None else driver_said(found)


_SQLITE_PATH = "HANDOFF_SQLITE_PATH"  # the file itself, beside the library's settings


class StoreUnavailable(Refused):
    """The store cannot be opened (a missing folder, an unreachable database)."""


class StoreMissing(StoreUnavailable):
    """No store exists there yet, and the command records nothing that would create it."""


@dataclass(frozen=True)
class StoreLocation:
    """One store, named once by the user, opened by both the event store and the read models."""

    given: str
    event_store_env: dict[str, str]

    def missing(self) -> StoreMissing:
        return StoreMissing(
            f"no store at {self.given!r}: only a command that records something creates one "
            "(check --store or HANDOFF_STORE)"
        )

    def log_lost(self) -> StoreUnavailable:
        return StoreUnavailable(
            f"store {self.given!r} has lost its log: its events table is gone, its seals are"
            " still there (dropped underneath handoff): restore the last backup into a new"
            " store"
        )

    @property
    def read_only(self) -> bool:
        """A SQLite store this user may read but not write (see `_read_only_uri`)."""
        return self.event_store_env.get("SQLITE_DBNAME", "").startswith("file:")

    def refuse_if_read_only(self) -> None:
        """Refuse, before any work, a command that will have to write."""
        if self.read_only:
            raise StoreUnavailable(READ_ONLY)

    def refuse_if_missing(self) -> None:
        """Refuse a SQLite file that does not exist (opening it would create it)."""
        if not self.is_postgres and not Path(self.sqlite_path).is_file():
            raise self.missing()

    def refuse_if_another_programs(self) -> None:
        """Refuse a SQLite file that is another program's database (tables, none of them
        handoff's events; or the library's events table holding another application's):
        opening it would add handoff's tables to it, even for a command then refused. A
        file SQLite cannot read is left for opening it to say why."""
        path = Path(self.sqlite_path)
        if self.is_postgres or not path.is_file() or path.stat().st_size == 0:
            return
        import sqlite3

        events = eventstore.SQLITE_EVENTS_TABLE
        try:
            connection = sqlite3.connect(sqlite_uri(path, "mode=ro"), uri=True)
            try:
                tables = sorted(name for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"))
                others = events in tables and eventstore.others_events_in_sqlite(connection)
            finally:
                connection.close()
        except sqlite3.Error:
            return
        from handoff.audit import TABLE as SEALS  # a store whose log was dropped: its own

        if tables and events not in tables and SEALS not in tables:
            raise StoreUnavailable(
                f"store {self.given!r} is another program's SQLite database (it holds tables"
                f" handoff does not know, such as {tables[0]!r}): give a handoff store's"
                " file, or a new one")
        if others:
            raise StoreUnavailable(
                f"store {self.given!r} is another program's SQLite database (its table"
                f" {events!r} holds events handoff did not write): give a handoff store's"
                " file, or a new one")

    def refuse_if_uncreatable(self, replacing: bool = False) -> None:
        """Refuse, before any work, a SQLite store whose folder does not exist (no store is
        ever created there: a mistyped path is said as such), or, for a store that does not
        exist yet (or that is `replacing`, as the demo replaces its own), whose folder this
        user may not write (read-only media, another's folder): the store, its draft and its
        creation lock are all written there."""
        path = Path(self.sqlite_path)
        if self.is_postgres:
            return
        shown = without_password(str(path.parent))
        if not path.parent.is_dir():
            raise StoreUnavailable(
                f"cannot create store {self.given!r}: folder {shown} does not exist")
        if (replacing or not path.exists()) and not os.access(path.parent, os.W_OK):
            raise StoreUnavailable(
                f"cannot create store {self.given!r}: folder {shown} may not be written"
                " (read-only media, or no permission)")

    def refuse_if_tables_uncreatable(self) -> None:
        """Refuse, for a dry run, a PostgreSQL store that does not exist yet and that
        creating would be refused (this user may not create tables in its schema, or the
        server only reads), in the words the command itself would meet: a table is made
        in a transaction rolled back, so that nothing is written."""
        if not self.is_postgres:
            return
        import psycopg

        with self.connect_postgres() as connection:
            try:
                with connection.transaction(force_rollback=True):
                    probe = f"handoff_creation_probe_{os.urandom(8).hex()}"  # never one there
                    connection.execute(f"CREATE TABLE {probe} (probe integer)")
            except psycopg.Error as error:
                said = cannot_write(error) or driver_said(error)
                raise StoreUnavailable(said) from None

    def connect_postgres(self) -> Any:
        """A psycopg connection (autocommit) to the PostgreSQL store's database; an
        unreachable one is named at once, with the server's reason."""
        import psycopg

        env = self.event_store_env
        arguments: dict[str, Any] = {
            **self.libpq_options,
            "dbname": env["POSTGRES_DBNAME"],
            "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"] or None,  # None: PGPASSWORD, ~/.pgpass
            "connect_timeout": 10,
        }
        try:
            return psycopg.connect(autocommit=True, **arguments)
        except psycopg.Error as error:
            reason = printable(" ".join(str(error).split()) or type(error).__name__)
            raise StoreUnavailable(f"cannot open store {self.given!r}: {reason}") from None
        except UnicodeError:  # Python's IDNA codec refuses the name before any lookup
            raise StoreUnavailable(
                f"cannot open store {self.given!r}: not a host name: {env['POSTGRES_HOST']!r}"
                " (a part between dots is empty or longer than 63 characters)") from None

    @property
    def sqlite_path(self) -> str:
        """The SQLite file (the library is given a URI for it when it is read-only)."""
        env = self.event_store_env
        return env.get(_SQLITE_PATH, env.get("SQLITE_DBNAME", ""))

    @property
    def is_postgres(self) -> bool:
        return "POSTGRES_DBNAME" in self.event_store_env

    def draft(self) -> NewStore | None:
        """For a SQLite store that does not exist yet: the same store written to a file of
        this command's own beside it (`.NAME.PID.RANDOM.draft`), which `NewStore.put_in_place`
        moves where it belongs once the command recorded something, so that a refused
        command leaves no store (SPEC §7). Commands that would create the same store run one
        after the other (a lock file beside it, `.NAME.creating`): the next finds the store
        the first made, and records into it. None for a store that exists, or on PostgreSQL."""
        path = Path(self.sqlite_path)
        if self.is_postgres or path.exists():
            return None
        try:
            lock = _CreationLock.hold(path)
        except OSError as error:  # its lock file cannot be made (a folder of that name, ...)
            raise StoreUnavailable(
                f"cannot create store {self.given!r}: {error.strerror or error}:"
                f" {without_password(str(_CreationLock.file_for(path)))}") from None
        if path.exists():  # another command created it while this one waited
            lock.release()
            return None
        draft = str(draft_beside(path))
        env = {**self.event_store_env, "SQLITE_DBNAME": draft, _SQLITE_PATH: draft}
        return NewStore(self, StoreLocation(self.given, env), lock)

    @property
    def libpq_options(self) -> dict[str, str]:
        """The URL's libpq options (sslmode, application_name, ...)."""
        options: dict[str, str] = json.loads(
            self.event_store_env.get(eventstore.LIBPQ_OPTIONS, "{}")
        )
        return options

    @cached_property
    def sqlalchemy_url(self) -> URL:
        """The same database, for the read models (SQLAlchemy is imported only when needed)."""
        from sqlalchemy.engine import URL

        env = self.event_store_env
        if not self.is_postgres:
            if env["SQLITE_DBNAME"].startswith("file:"):
                return URL.create("sqlite", database=env["SQLITE_DBNAME"], query={"uri": "true"})
            return URL.create("sqlite", database=env["SQLITE_DBNAME"])
        return URL.create(
            "postgresql+psycopg",
            username=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            database=env["POSTGRES_DBNAME"],
            query=self.libpq_options,
        )


def draft_beside(path: Path) -> Path:
    """A file of this command's own beside a SQLite store it makes (`.NAME.PID.RANDOM.draft`),
    moved where the store belongs only once whole."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.draft")


@dataclass(frozen=True)
class _CreationLock:
    """Held by the one command creating a SQLite store: a file beside it, locked with
    flock (never the store's own file, whose locks are SQLite's), and removed by its
    holder; a command that waited checks it locked the file still there, else waits anew."""

    path: Path
    fd: int

    @staticmethod
    def file_for(store: Path) -> Path:
        return store.with_name(f".{store.name}.creating")

    @classmethod
    def hold(cls, store: Path) -> _CreationLock:
        import fcntl

        path = cls.file_for(store)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    return cls(path, fd)
            except FileNotFoundError:
                pass  # its holder removed it as this command locked it
            os.close(fd)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self.fd)


@contextmanager
def creating(store: Path) -> Iterator[None]:
    """Hold a SQLite store's creation lock (`.NAME.creating`) while making it anew (the
    demo): another command making the same store waits meanwhile."""
    lock = _CreationLock.hold(store)
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class NewStore:
    """A SQLite store this command creates: written to its draft, under the creation lock."""

    location: StoreLocation
    draft: StoreLocation
    _lock: _CreationLock

    def put_in_place(self, recorded: bool) -> None:
        """After the command (its connections to the draft closed): the draft becomes the
        store if the command recorded something, and goes; then the next command that
        would create it may go on. The store appears whole, at once, or not at all."""
        import sqlite3

        path = self.draft.sqlite_path
        try:
            if recorded:
                # Self-contained first: its write-ahead log folded into the file.
                connection = sqlite3.connect(path)
                try:
                    mode = connection.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
                except sqlite3.OperationalError:
                    # Still open (a connection of a command interrupted mid-way, an
                    # interrupted child's): the store is put in place with its log, which
                    # the next command reads as its own (what was recorded stays).
                    mode = None
                finally:
                    connection.close()
                try:
                    os.link(path, self.location.sqlite_path)
                except FileExistsError:  # made by something other than handoff meanwhile
                    raise StoreUnavailable(
                        f"store {self.location.given!r} was created by another program "
                        "meanwhile: nothing was recorded"
                    ) from None
                if mode != "delete" and Path(path + "-wal").exists():
                    os.link(path + "-wal", self.location.sqlite_path + "-wal")
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(path + suffix).unlink(missing_ok=True)
            self._lock.release()


def locate(store: str) -> StoreLocation:
    """Read a file path (embedded SQLite) or a `postgresql+psycopg://` URL."""
    if not store.strip():
        raise StoreUnavailable(
            "no store named: --store (or HANDOFF_STORE) is empty; give a file path or a"
            " postgresql+psycopg:// URL"
        )
    scheme = store.split("://", 1)[0].split("+", 1)[0].lower() if "://" in store else ""
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(store)
    if _is_conninfo(store):
        raise StoreUnavailable(
            "a libpq connection string is not a store: give it as a postgresql+psycopg://"
            " URL (the password, if any, as postgresql+psycopg://user:PASSWORD@host/dbname)"
        )
    if scheme:
        raise StoreUnavailable(
            f"unsupported store {without_password(store)!r}: give a file path or a"
            " postgresql+psycopg:// URL"
        )
    return _sqlite(store)


def empty_store() -> StoreLocation:
    """A store in memory that holds nothing: what a dry run checks a file against when the
    store it names does not exist yet."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
    return StoreLocation("(empty)", env)


# libpq's other form, `host=db dbname=sales password=...` (as psql takes it): keywords it
# knows, each `= value` (a value quoted in '...' may hold spaces).
_CONNINFO_KEYWORDS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service",
    "sslmode", "connect_timeout", "options", "application_name", "target_session_attrs",
})
_CONNINFO_PAIR = re.compile(r"\s*(\w+)\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s']*)\s*")


def _is_conninfo(store: str) -> bool:
    """Whether the text is a libpq connection string rather than a file name: nothing but
    `keyword=value` pairs, one of them a keyword libpq knows."""
    keys, at = [], 0
    while at < len(store):
        pair = _CONNINFO_PAIR.match(store, at)
        if pair is None or pair.end() == at:
            return False
        keys.append(pair.group(1).lower())
        at = pair.end()
    return any(key in _CONNINFO_KEYWORDS for key in keys)


def _sqlite(store: str) -> StoreLocation:
    shown = without_password(store)  # as shown in messages, whatever the name holds
    try:
        path = Path(store).expanduser().resolve()
        is_dir = path.is_dir()
    except OSError as error:  # a name the file system refuses (too long): no file is there
        raise StoreUnavailable(f"cannot open store {shown!r}: {error.strerror}") from None
    except RuntimeError:  # a loop of symbolic links, as Python 3.11 resolves one
        raise StoreUnavailable(
            f"cannot open store {shown!r}: Too many levels of symbolic links") from None
    if is_dir:
        raise StoreUnavailable(f"store {shown!r} is a folder, not a file")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": _read_only_uri(path) or str(path),
        _SQLITE_PATH: str(path),
        "SQLITE_LOCK_TIMEOUT": str(switches.LOCK_WAIT_SECONDS),
    }
    return StoreLocation(shown, env)


def _read_only_uri(path: Path) -> str | None:
    """A store the user may read but not write (a copy on read-only media, another user's
    file) is opened read-only: as it is when its folder is writable (SQLite keeps its
    shared-memory file there), and as immutable when nothing there can be written, since
    nothing can change it either. Commands that record something then fail in one line."""
    if not path.is_file() or os.access(path, os.W_OK):
        return None
    mode = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
    return sqlite_uri(path, mode)


def sqlite_uri(path: Path, mode: str) -> str:
    """SQLite's URI for the file at `path` opened with `mode` (`mode=ro`): every byte of its
    name %-encoded as the file system holds it, so that a name with `?`, `#` or `%` in it, or
    bytes that are not UTF-8 (Python holds them as surrogates), names that same file."""
    return f"file:{quote(os.fsencode(path))}?{mode}"


def _postgres(store: str) -> StoreLocation:
    """A PostgreSQL URL; its query holds libpq options (`?sslmode=require`), passed on.

    Without a password in the URL, libpq finds it as usual (`PGPASSWORD`, `~/.pgpass`).
    The URL is shown to people (in messages) without its password.
    """
    shown = without_password(store)
    try:
        store.encode()  # bytes that are not UTF-8, held as surrogates: no server reads them
        url = urlsplit(store)
        if "@" in url.path and password_typed_raw(store):  # else the user read as the host
            raise StoreUnavailable(f"not a database URL: {shown!r} (a password's /, ? or #"
                                   " is written %-encoded: %2F, %3F, %23)")
        options = dict(parse_qsl(url.query, keep_blank_values=True, strict_parsing=bool(url.query)))
        # As libpq reads a URL, its query's host, port, user and database name stand over
        # the URL's own (`postgresql:///sales?host=/var/run/postgresql`: a socket folder).
        # Taken out of the options, every connection the store opens uses the same ones.
        port = int(options.pop("port", None) or url.port or 5432)
    except ValueError:  # UnicodeEncodeError included
        raise StoreUnavailable(f"not a database URL: {shown!r}") from None
    host = options.pop("host", None) or url.hostname or "localhost"
    user = options.pop("user", None) or (unquote(url.username) if url.username else "")
    database = options.pop("dbname", None) or unquote(url.path.lstrip("/"))
    if not database:
        raise StoreUnavailable(f"the store URL {shown!r} names no database")
    password = options.pop("password", None) or (unquote(url.password) if url.password else "")
    timeout = options.get("connect_timeout", "").strip()
    if timeout and not re.fullmatch("[+-]?[0-9]+", timeout):  # as libpq reads it, the driver too
        raise StoreUnavailable(
            f"the store URL {shown!r}: connect_timeout is a whole number of seconds (0: no"
            f" limit), not {options['connect_timeout']!r}")
    env = {
        "PERSISTENCE_MODULE": eventstore.POSTGRES_FACTORY_TOPIC,
        eventstore.LIBPQ_OPTIONS: json.dumps(options),
        "POSTGRES_DBNAME": database,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": user or getpass.getuser(),
        "POSTGRES_PASSWORD": password,
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": str(switches.LOCK_WAIT_SECONDS),
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "2",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
    }
    return StoreLocation(shown, env)


# A value quoted ('...', its closing quote missing or not) or running to the next space:
# whatever characters it holds, none of it is shown.
_PASSWORD_PAIR = re.compile(r"(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE)


def _is_secret(option: str) -> bool:
    """A query option holding a secret: libpq's `password` and `sslpassword` (the client
    key's passphrase), in whatever letter case was typed (libpq refuses a wrong case, and
    says the option's name, not its value)."""
    return option.lower().endswith("password")


def password_typed_raw(url: str) -> bool:
    """Whether the URL's password was typed with a raw `/`, `?` or `#` (not %-encoded):
    that ends the URL's host part early, so its `@` lands in the path, query or fragment,
    and what the URL reads as its host and port is the user and the password's start."""
    rest = url.partition("://")[2]
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    if rest.rfind("@") <= authority_end:
        return False
    colon = rest.find(":")
    return 0 <= colon < rest.find("@")  # else no password before the first `@`: a user only


def _userinfo_typed_raw_hidden(store: str) -> str:
    """A password typed raw (`password_typed_raw`) is not all of the URL's own password.
    Then everything from the user's `:` to the last `@` is taken for the password and
    hidden, even if that hides more than the password: nothing of it shows."""
    if not password_typed_raw(store):
        return store
    scheme, _, rest = store.partition("://")
    return f"{scheme}://{rest[:rest.find(':')]}:***{rest[rest.rfind('@'):]}"


def without_password(store: str) -> str:
    """The store as shown to people: a URL's password replaced by *** (whatever its scheme:
    a URL refused as unsupported is shown so too), and any `password=` in other text."""
    if "://" not in store:
        return _PASSWORD_PAIR.sub(r"\1***", store)
    store = _userinfo_typed_raw_hidden(store)
    try:
        url = urlsplit(store)
        query = parse_qsl(url.query, keep_blank_values=True)
        if url.password is None and not any(_is_secret(key) for key, _ in query):
            return store
        netloc = url.netloc
        if url.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}:***@{host}"
        shown = urlunsplit(url._replace(netloc=netloc, query="&".join(
            f"{k}=***" if _is_secret(k) else f"{k}={v}" for k, v in query)))
        if not netloc and store.startswith(f"{url.scheme}://"):  # urlunsplit drops the //
            shown = f"{url.scheme}://{shown.removeprefix(f'{url.scheme}:')}"
        return shown
    except ValueError:
        return "the store URL given"
