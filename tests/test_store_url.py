"""A PostgreSQL store URL is read as libpq reads it, and its password is never shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from cli_helpers import Handoff
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from handoff.application import HandoffApp
from handoff.cli import main
from handoff.store import locate, without_password


def test_a_password_is_never_shown(tmp_path: Path) -> None:
    url = "postgresql+psycopg://sam:s3cret-pw@127.0.0.1:1/sales"  # nothing listens on port 1
    result = Handoff(url)("lead", "show", "k")
    assert result.exit_code == 1
    assert "s3cret-pw" not in result.output
    assert "sam:***@127.0.0.1:1/sales" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_password_in_the_query_is_hidden_too() -> None:
    shown = without_password("postgresql://sam@db/sales?password=s3cret&sslmode=require")
    assert shown == "postgresql://sam@db/sales?password=***&sslmode=require"


@pytest.mark.parametrize("option", ["sslpassword", "PASSWORD"])
def test_the_client_keys_passphrase_in_the_query_is_hidden_too(option: str) -> None:
    """libpq's sslpassword is a secret as much as the password, whatever its letter case."""
    line = Handoff(f"postgresql+psycopg://sam@127.0.0.1:1/sales?{option}=S3cret&sslmode=require"
                   ).refused("lead", "show", "k")
    assert "S3cret" not in line, line
    assert f"/sales?{option}=***&sslmode=require" in line


def test_a_url_with_no_host_is_shown_as_written_but_its_password() -> None:
    """libpq's form with the host in the query: its two slashes stay."""
    shown = without_password("postgresql:///sales?host=127.0.0.1&password=s3cret")
    assert shown == "postgresql:///sales?host=127.0.0.1&password=***"


def test_the_urls_libpq_options_are_kept(pg_store: str) -> None:
    Handoff(pg_store).ok("lead", "capture", "k", "--source", "web")
    line = Handoff(pg_store + "?sslmode=require").refused("lead", "show", "k")
    assert "SSL" in line  # the test server has no TLS: libpq refuses, as psql does
    assert Handoff(pg_store + "?sslmode=disable").json("lead", "show", "k")["key"] == "k"


def test_the_server_the_urls_query_names_is_the_one_used(pg_store: str) -> None:
    # libpq (and psql) read `?port=`, `?host=`, `?user=`, `?dbname=` over the URL's own
    # parts: a store URL psql opens must open the same database, on every connection.
    url = make_url(pg_store)
    via_query = (f"postgresql+psycopg://{url.username}@{url.host}:1/{url.database}"
                 f"?port={url.port}")  # nothing listens on port 1
    Handoff(via_query).ok("lead", "capture", "k", "--source", "web")
    assert Handoff(pg_store).json("lead", "show", "k")["key"] == "k"


def test_a_socket_folder_in_the_urls_query_is_where_libpq_looks() -> None:
    result = Handoff("postgresql+psycopg://sam@/sales?host=/no-such-socket-folder")(
        "lead", "show", "k")
    assert result.exit_code == 1
    # libpq looked for the server's socket there, not for a server on localhost:
    assert 'socket "/no-such-socket-folder/.s.PGSQL.5432"' in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _password_libpq_used(store: str) -> str | None:
    app = HandoffApp(locate(store))
    try:
        with app.recorder.datastore.get_connection() as connection:  # type: ignore[attr-defined]
            password: str | None = connection.info.password
            return password
    finally:
        app.close()


def test_without_a_password_in_the_url_libpq_takes_pgpassword(
    pg_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Handoff(pg_store).ok("lead", "capture", "k", "--source", "web")
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    assert _password_libpq_used(pg_store) == "from-the-environment"


def test_without_a_password_in_the_url_libpq_reads_the_password_file(
    pg_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Handoff(pg_store).ok("lead", "capture", "k", "--source", "web")
    url = make_url(pg_store)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{url.host}:{url.port}:{url.database}:{url.username}:from-the-file\n")
    passfile.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert _password_libpq_used(pg_store) == "from-the-file"


@pytest.mark.parametrize(
    "url",
    [
        "postgressql+psycopg://sam:s3cret@127.0.0.1/sales",  # a typo in the scheme
        "mysql://sam:s3cret@db/sales",
        "pg://sam:s3cret@db/sales",
        "https://sam:s3cret@example.com/sales",
    ],
)
def test_an_unsupported_url_is_refused_without_its_password(url: str) -> None:
    result = Handoff(url)("kpi", "--month", "2026-03")
    assert result.exit_code == 1
    assert "s3cret" not in result.output
    assert result.stderr.startswith(f"Error: unsupported store '{url.split(':')[0]}://sam:***@")


def test_an_unsupported_url_hides_a_password_in_its_query_too() -> None:
    line = Handoff("mysql://sam@db/sales?password=s3cret").refused("kpi", "--month", "2026-03")
    assert "'mysql://sam@db/sales?password=***'" in line


@pytest.mark.parametrize("password", ["S3c/retPW", "S3c?retPW", "S3c#retPW", "p@ss:w/rdPW"])
def test_a_password_typed_with_a_raw_slash_question_or_hash_is_never_shown(password: str) -> None:
    """Not %-encoded, such a character ends the URL's host part inside the password: the
    URL is refused, and none of the password is echoed in the refusal."""
    line = Handoff(f"postgresql+psycopg://sam:{password}@127.0.0.1:1/sales").refused(
        "lead", "show", "k")
    assert "PW" not in line and "S3c" not in line, line
    assert "sam:***@127.0.0.1:1/sales" in line


@pytest.mark.parametrize("password", ["2718/retPW", "5432/S3cPW"])
def test_a_password_typed_raw_that_reads_as_a_port_is_refused_not_connected_to(
    password: str,
) -> None:
    """`sam:2718/retPW@db` reads as host 'sam', port 2718: it was connected to (a DNS lookup
    of 'sam', a server there if one answers), where the README says such a URL is refused."""
    line = Handoff(f"postgresql+psycopg://sam:{password}@127.0.0.1:1/sales").refused(
        "lead", "show", "k")
    assert line == ("Error: not a database URL: 'postgresql+psycopg://sam:***@127.0.0.1:1/sales'"
                    " (a password's /, ? or # is written %-encoded: %2F, %3F, %23)"), line


def test_an_empty_store_name_is_refused_as_such(tmp_path: Path) -> None:
    line = Handoff("").refused("lead", "show", "k")
    assert line == ("Error: no store named: --store (or HANDOFF_STORE) is empty; give a file"
                    " path or a postgresql+psycopg:// URL")


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_store_variable_is_refused_and_no_store_is_made_where_cron_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """A cron job whose HANDOFF_STORE came out empty is refused, as `--store ''` is: it
    recorded into a new ./handoff.sqlite in cron's working folder."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["traffic", "record", "--date", "2026-11-01",
                                       "--visits", "3"], env={"HANDOFF_STORE": value})
    assert result.exit_code == 1, result.output
    assert result.stderr == ("Error: no store named: --store (or HANDOFF_STORE) is empty;"
                             " give a file path or a postgresql+psycopg:// URL\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_actor_is_refused_rather_than_recorded_as_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Who recorded a step is part of the record: an empty --actor (or HANDOFF_ACTOR) is
    refused, not replaced by whoever the operating system says runs the command."""
    store = str(tmp_path / "store.sqlite")
    for arguments, env in ((["--actor", value], {}), ([], {"HANDOFF_ACTOR": value})):
        result = CliRunner().invoke(
            main, ["--store", store, *arguments, "traffic", "record", "--date", "2026-11-01",
                   "--visits", "3"], env=env)
        assert result.exit_code == 1, result.output
        assert result.stderr == ("Error: --actor (or HANDOFF_ACTOR) is empty: give who is"
                                 " recording\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("timeout", ["abc", "1.5", "10s"])
def test_a_connect_timeout_that_is_not_whole_seconds_is_refused_at_once(timeout: str) -> None:
    """The driver reads it for itself: given `abc`, every connection failed for ten seconds
    and then the command said only that it got none. Nothing is reached for (host db)."""
    url = f"postgresql://sam:s3cret@db.invalid/sales?connect_timeout={timeout}"
    line = Handoff(url).refused("kpi", "--month", "2026-03")
    assert line == (
        "Error: the store URL 'postgresql://sam:***@db.invalid/sales?connect_timeout="
        f"{timeout}': connect_timeout is a whole number of seconds (0: no limit), not"
        f" {timeout!r}")


def test_an_empty_actor_is_refused_only_where_it_is_recorded(tmp_path: Path) -> None:
    """Who records is read when a command records: `--help`, and a command that records
    nothing, run whatever HANDOFF_ACTOR holds (as an empty HANDOFF_STORE is refused only
    when a store is opened)."""
    help_text = CliRunner().invoke(main, ["kpi", "--help"], env={"HANDOFF_ACTOR": ""})
    assert help_text.exit_code == 0, help_text.output
    assert help_text.output.startswith("Usage: main kpi")  # CliRunner names it main
    store = str(tmp_path / "store.sqlite")
    Handoff(store).ok("lead", "capture", "k-1", "--source", "web", "--at", "2026-03-02T09:00Z")
    read = CliRunner().invoke(main, ["--store", store, "kpi", "--month", "2026-03"],
                              env={"HANDOFF_ACTOR": " "})
    assert read.exit_code == 0, read.output


@pytest.mark.parametrize("store", [
    "host=127.0.0.1 password=S3cretPW dbname=sales",
    "dbname=sales user=sam password='S3cret PW'",
    "  host=db port=5432 dbname=sales password=S3cretPW  ",
])
def test_a_libpq_connection_string_is_refused_as_such_without_its_password(
    tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psql takes `host=... dbname=...` as well as a URL; a store is named by a URL only.
    Taken for a file name, the string was echoed, password and all; and a command that
    records would have made a file of that name."""
    monkeypatch.chdir(tmp_path)
    for command in (("kpi", "--month", "2026-03"), ("lead", "capture", "k", "--source", "web")):
        line = Handoff(store).refused(*command)
        assert "S3cret" not in line
        assert line == ("Error: a libpq connection string is not a store: give it as a"
                        " postgresql+psycopg:// URL (the password, if any, as"
                        " postgresql+psycopg://user:PASSWORD@host/dbname)")
    assert list(tmp_path.iterdir()) == []


def test_a_file_whose_name_holds_an_equals_sign_is_still_a_store(tmp_path: Path) -> None:
    store = str(tmp_path / "q=1.sqlite")
    Handoff(store).ok("lead", "capture", "k", "--source", "web")
    assert Handoff(store).json("lead", "show", "k")["key"] == "k"


def test_a_file_whose_name_is_not_utf8_is_a_store_every_command_reads(tmp_path: Path) -> None:
    """A name with bytes that are not UTF-8 (Python holds them as surrogates) is the file's
    own: the store the first command created there is the one the next opens."""
    store = os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.sqlite")
    Handoff(store).ok("lead", "capture", "k", "--source", "web")
    assert Handoff(store).json("lead", "show", "k")["key"] == "k"


@pytest.mark.parametrize("name", ["demo#1.sqlite", "demo?1.sqlite", "demo%41.sqlite"])
def test_the_demo_rebuilds_its_own_store_whatever_its_name_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Handoff(name).ok("demo", "--months", "2")
    assert "Built the demo store" in Handoff(name).ok("demo", "--months", "2")


@pytest.mark.parametrize("part", [b"/sal\xe9s", b"?application_name=\xe9", b"/sales@"])
def test_a_url_with_bytes_that_are_not_utf8_is_refused_in_one_line(part: bytes) -> None:
    url = os.fsdecode(b"postgresql+psycopg://sam:S3cret\xe9@127.0.0.1:1" + part)
    line = Handoff(url).refused("lead", "show", "k")
    assert line.startswith("Error: not a database URL: 'postgresql+psycopg://sam:***@"), line


def test_a_password_in_a_file_name_is_never_shown(tmp_path: Path) -> None:
    """Whatever was meant, a `password=` in the text named is not echoed."""
    line = Handoff(str(tmp_path / "x password=S3cretPW" / "s.sqlite")).refused(
        "lead", "capture", "k", "--source", "web")
    assert "S3cret" not in line
    assert "password=***" in line


@pytest.mark.parametrize("password", ["S3c'retPW", "S3c/retPW", "S3c&retPW"])
def test_a_password_with_a_quote_or_slash_in_a_store_name_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    """Not a connection string libpq reads (an unescaped quote), so taken for a file name:
    none of the password is echoed, whatever characters follow its first."""
    monkeypatch.chdir(tmp_path)
    line = Handoff(f"host=db password={password} dbname=sales").refused(
        "kpi", "--month", "2026-03")
    assert "retPW" not in line, line


def test_a_command_the_server_stops_says_so_in_one_line_and_writes_nothing(
    pg_store: str, tmp_path: Path
) -> None:
    """A database administrator may give the store's user a statement_timeout (here 1 ms,
    in the URL's libpq options): a step or an import the server cancels is a store error,
    not an internal one, and leaves nothing behind."""
    Handoff(pg_store).ok("lead", "capture", "k-1", "--source", "web", "--at",
                         "2026-03-02T09:00Z")
    rows = tmp_path / "rows.csv"
    rows.write_text("lead,event,at,source\n"
                    + "".join(f"k-{n},captured,2026-03-02T10:00Z,web\n" for n in range(2, 200)))
    cancelled = Handoff(f"{pg_store}?options=-c%20statement_timeout%3D1")
    for command in (("lead", "capture", "k-2", "--source", "web", "--at", "2026-03-02T10:00Z"),
                    ("lead", "qualify", "k-1", "--at", "2026-03-02T10:00Z"),
                    ("import", str(rows))):
        result = cancelled(*command)
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1, result.stderr
        # The server's own words: with a 1 ms timeout, PostgreSQL may process the cancel at
        # a later statement, after it reset which timeout fired, and word it "due to user
        # request" (seen once in CI on a busy machine): either is the server stopping it.
        assert re.search(r"canceling statement due to (statement timeout|user request)",
                         result.stderr), result.stderr
        assert "internal error" not in result.stderr, result.stderr
    assert Handoff(pg_store).ok("lead", "list", "--format", "csv").splitlines()[1:] == [
        "k-1,captured,web,,2026-03-02T09:00:00Z,,,"]


@pytest.mark.parametrize("command", [("kpi", "--month", "2026-03"),
                                     ("lead", "capture", "k", "--source", "web")])
def test_a_file_name_too_long_for_the_file_system_is_refused_in_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A name longer than the file system takes (255 bytes, on most) cannot be a store: it
    was an internal error, the OSError of the first look at the file."""
    line = Handoff(str(tmp_path / ("s" * 300 + ".sqlite"))).refused(*command)
    assert line.startswith("Error: cannot open store '"), line
    assert line.endswith(": File name too long"), line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("host", ["h" * 64, "db..example.com"])
def test_a_host_name_no_resolver_takes_is_refused_in_one_line(host: str) -> None:
    """A host name with a label over 63 characters, or an empty one, is refused by Python's
    IDNA codec before any lookup (a UnicodeError, not a driver's error): it was an internal
    error."""
    line = Handoff(f"postgresql+psycopg://sam:S3cretPW@{host}:5432/sales").refused(
        "kpi", "--month", "2026-03")
    assert "S3cret" not in line
    assert line.startswith(f"Error: cannot open store 'postgresql+psycopg://sam:***@{host}:"), line
    assert f"not a host name: {host!r}" in line, line


def test_a_loop_of_symbolic_links_is_refused_in_one_line(tmp_path: Path) -> None:
    """Resolving the name, Python raises RuntimeError (not OSError) for a loop: it was an
    internal error."""
    (tmp_path / "a.sqlite").symlink_to(tmp_path / "b.sqlite")
    (tmp_path / "b.sqlite").symlink_to(tmp_path / "a.sqlite")
    store = str(tmp_path / "a.sqlite")
    for command in (("kpi", "--month", "2026-03"), ("lead", "capture", "k", "--source", "w")):
        line = Handoff(store).refused(*command)
        assert line == f"Error: cannot open store {store!r}: Too many levels of symbolic links"


def test_what_the_server_echoes_of_a_url_cannot_drive_the_terminal(pg_store: str) -> None:
    """The server quotes the database name it could not find as it was given: a URL whose
    name held an escape (`ESC ] 0 ; … BEL` sets the terminal's title) reached the terminal
    raw in the refusal. The refusal shows it as its escape, in its one line (found by a
    hostile-input trial)."""
    url = make_url(pg_store).set(database="no\x1b]0;pwned\x07pe")
    line = Handoff(url.render_as_string(hide_password=False)).refused("lead", "list")
    assert not re.search("[\x00-\x1f\x7f-\x9f]", line), line
    assert 'database "no\\x1b]0;pwned\\x07pe" does not exist' in line
