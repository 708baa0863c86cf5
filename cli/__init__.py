"""The `handoff` command line: thin click commands over the application."""

from __future__ import annotations

import getpass
import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO, TypeVar, cast

import click
from click.core import ParameterSource
from eventsourcing.persistence import PersistenceError

from handoff.application import HandoffApp
from handoff.audit import seal_quietly
from handoff.cli.output import Instants, decided_status
from handoff.cli.progress import progress_on_terminal
from handoff.domain.bounds import check_actor
from handoff.domain.errors import LOG_CHANGED, LOG_CHANGED_AT, Refused, UnknownLead, Wording
from handoff.eventstore import changed_underneath
from handoff.store import (
    DEFAULT_STORE,
    StoreMissing,
    StoreUnavailable,
    cannot_write,
    driver_said,
    empty_store,
    locate,
    stopped_by_the_server,
)


class Session:
    """What every command shares: the store (opened on first use) and who is acting."""

    def __init__(self, ctx: click.Context, store: str, actor: str, utc: bool = False) -> None:
        self._ctx = ctx
        self.store = store
        self._actor = actor
        self.utc = utc
        self._app: HandoffApp | None = None
        self._instants: Instants | None = None
        # A Ctrl-C stopped the command: its ending seals nothing (the store's connections
        # may have been cut short holding a lock; the next command seals what is left).
        self.interrupted = False
        self.done = False  # the command ran to its end (its output printed)

    @property
    def actor(self) -> str:
        """Who is recording: checked when a command reads it, as the store is when one opens
        it, so that `--help` and the commands that record nothing run whatever it is."""
        return check_actor("--actor (or HANDOFF_ACTOR)", self._actor.strip())

    @property
    def instants(self) -> Instants:
        """How this command shows instants to people: in the zone of the agreement in force
        at each (as the store knows it now), or in UTC with --utc."""
        if self._instants is None:
            self._instants = Instants.of(None if self.utc else self.app.agreement_register())
        return self._instants

    def instant_words(self) -> Wording:
        """How this command words an instant in a sentence (`Refused.worded`). Its zones are
        read now: a copy of the command checking half of a file (`import_halves`) asks the
        store nothing."""
        instants = self.instants
        return lambda instant: str(instants.text(instant))

    @property
    def app(self) -> HandoffApp:
        """The store; only a command that records something may create it (SPEC §7)."""
        if self._app is None:
            command = click.get_current_context()
            creating = _creates_store(command)
            app = self._app = HandoffApp(
                locate(self.store), create=creating, provisional=creating
            )
            app.command = _command_words(command)
            app.catch_up_progress = progress_on_terminal(self._ctx, "updating the KPIs")
            self._ctx.call_on_close(lambda: self._ending(lambda: _close(app)))
            # Registered after close, so run before it: whatever the command wrote is sealed;
            # a dry run writes nothing at all (SPEC §7), the seals of entries it found
            # unsealed included.
            if not _dry_run(command):
                self._ctx.call_on_close(lambda: self._ending(
                    lambda: None if self.interrupted else seal_quietly(app)))
        return self._app

    def _ending(self, step: Callable[[], None]) -> None:
        """A step of the command's ending (sealing, closing the store). A Ctrl-C there, once
        the command is done, cuts only the ending short: `Aborted!` would say that nothing
        was written."""
        try:
            step()
        except KeyboardInterrupt:
            self.interrupted = True
            if not self.done:
                raise
            raise Interrupted(
                "interrupted as the command ended, its work done; the next command seals"
                " anything new into the audit chain"
            ) from None

    def refusal(self, error: Refused) -> str:
        """A refusal in words, its instants as this command shows every instant (in UTC
        with --utc, else in the zone of the agreement in force at each)."""
        if self._app is None and not self.utc:
            return str(error)  # refused before the store was opened: nothing to ask it
        try:
            said = error.worded(self.instant_words())
        except (PersistenceError, Refused):  # the store cannot say: as the domain worded it
            return str(error)
        if isinstance(error, UnknownLead) and self._app is not None:
            from handoff.projections.corrected import keys_but_for_case

            near = keys_but_for_case(self._app, error.key)
            if near:
                said += f" (did you mean {' or '.join(repr(k) for k in near)}?)"
        return said

    def app_to_check_against(self) -> HandoffApp:
        """The store, or an empty one in memory when it does not exist (for a dry run); a
        store that could not be created is refused as the command itself would be."""
        try:
            return self.app
        except StoreMissing:
            location = locate(self.store)
            location.refuse_if_uncreatable()
            location.refuse_if_tables_uncreatable()
            self._app = HandoffApp(empty_store())
            self._ctx.call_on_close(self._app.close)
            return self._app


def _close(app: HandoffApp) -> None:
    """Close the store (a new one is kept only if the command recorded in it)."""
    try:
        app.close()
    except StoreUnavailable as error:
        raise click.ClickException(str(error)) from None


# The commands that may record into a store that does not exist yet; every other command
# needs a store holding something, and refuses a missing one rather than make it empty.
_CREATING_COMMANDS = frozenset(
    {"lead capture", "traffic record", "import", "sla apply", "sla verify"}
)


def _creates_store(command: click.Context) -> bool:
    return _command_words(command) in _CREATING_COMMANDS and not _dry_run(command)


def _dry_run(command: click.Context) -> bool:
    """Whether the command was asked to check and report only (`--dry-run`)."""
    return bool(command.params.get("dry_run"))


def _command_words(command: click.Context) -> str:
    """The command as typed after `handoff` and its options: "lead capture", "kpi"."""
    names: list[str] = []
    ctx = command
    while ctx.parent is not None:
        names.insert(0, ctx.command.name or "")
        ctx = ctx.parent
    return " ".join(names)


class UsageInOneLine(click.ClickException):
    """A usage error told in one line (exit 2), pointing at the command's --help."""

    exit_code = 2


# Each command of `handoff` and where it is defined (module of handoff.cli, name), loaded
# only when it runs or --help lists it: `handoff kpi` starts without loading the import,
# export, backup, notify or CRM code (a third of the start-up time of every command).
_COMMANDS = {
    "lead": ("lead", "lead"),
    "sla": ("sla", "sla"),
    "traffic": ("data", "traffic"),
    "import": ("data", "import_command"),
    "export": ("data", "export_command"),
    "audit": ("audit", "audit"),
    "kpi": ("kpi", "kpi"),
    "projections": ("kpi", "projections"),
    "plan": ("reports", "plan"),
    "report": ("reports", "report"),
    "demo": ("reports", "demo"),
}


class HandoffGroup(click.Group):
    """Every error is one line on stderr: a refusal exits 1, a usage error 2; no traceback.
    Commands are loaded on first use (`_COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            from importlib import import_module

            module, name = _COMMANDS[cmd_name]
            self.add_command(getattr(import_module(f"handoff.cli.{module}"), name), cmd_name)
        command = self.commands.get(cmd_name)
        if command is not None:
            strict_options(command)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """`handoff`'s own options (`--stor x`): a usage error in one line too."""
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _in_one_line(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        if sys.stdout is None:  # started with stdout closed (`handoff kpi >&-`): do nothing
            raise click.ClickException("cannot write the output: standard output is closed")
        stdout = sys.stdout
        _utf8_unless_a_terminal(stdout)
        sys.stdout = cast(TextIO, _Stdout(stdout))
        try:
            return self._invoke_and_flush(ctx)
        except _OutputFailed as failed:
            _stop_writing_to_stdout()
            if isinstance(failed.error, BrokenPipeError):  # `handoff export | head -1`
                raise click.exceptions.Exit(decided_status(ctx)) from None
            # Not "nothing written": a command that records has done so before it prints.
            raise click.ClickException(
                f"cannot write the output: {failed.error.strerror or failed.error}"
            ) from None
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group named without a command: its help, as usual
        except click.UsageError as error:
            raise _in_one_line(error) from None
        except Refused as error:
            session = ctx.find_object(Session)
            said = str(error) if session is None else session.refusal(error)
            raise click.ClickException(said) from None
        except PersistenceError as error:
            denied = cannot_write(error)  # through the event store
            if denied is not None:
                raise click.ClickException(denied) from None
            raise click.ClickException(f"store error: {driver_said(error)}") from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            note_interrupted()
            click.echo("Aborted!", err=True)  # as click says it, with the shell's status
            raise click.exceptions.Exit(INTERRUPTED) from None
        except Exception as error:
            if os.environ.get("HANDOFF_DEBUG"):
                raise
            denied = cannot_write(error)  # through SQLAlchemy
            if denied is not None:
                raise click.ClickException(denied) from None
            stopped = stopped_by_the_server(error)
            if stopped is not None:
                raise click.ClickException(f"store error: {stopped}") from None
            edited = _edited_entry(ctx)
            if edited is not None:
                raise click.ClickException(f"{LOG_CHANGED_AT}: {edited}") from None
            if changed_underneath(error):
                raise click.ClickException(LOG_CHANGED) from None
            raise click.ClickException(
                f"internal error: {type(error).__name__}: {driver_said(error)} "
                "(set HANDOFF_DEBUG=1 to see the traceback)"
            ) from None
        finally:
            sys.stdout = stdout

    def _invoke_and_flush(self, ctx: click.Context) -> Any:
        """The command, its output flushed: a failure to write shows here, not at the
        interpreter's exit (and before a status it sets, as `sla breaches` does)."""
        try:
            result = super().invoke(ctx)
        except (click.exceptions.Exit, SystemExit):  # done, with a status of its own
            sys.stdout.flush()
            _note_done(ctx)
            raise
        sys.stdout.flush()
        _note_done(ctx)
        return result


def _edited_entry(ctx: click.Context) -> str | None:
    """When a command failed as no release of handoff would on the entries it wrote (an
    entry edited underneath it: a field renamed, an amount made a word, a state cut short),
    the entry `audit verify` finds changed ("log entry 7 (lead 'acme-1') was edited"); None
    when the log matches its seals, or cannot be checked: the error is then handoff's own."""
    session = ctx.find_object(Session)
    app = None if session is None else session._app
    if app is None:
        return None
    from handoff import audit

    try:
        audit.verify(app)
    except audit.TamperedLog as tampered:
        return str(tampered)
    except Exception:  # the log cannot be checked either: said as it was
        return None
    return None


def strict_options(command: click.Command) -> None:
    """A command (and those under it) refusing an option given twice with a value
    (`--source web --source partner`): click keeps the last one given, and the first was
    dropped without a word, recorded or not (an option's `given_once_because` says why it is
    taken once, where that is not plain). A flag given twice says the same thing twice;
    an option meant to be given several times (`--to`) may be. And the parser's own usage
    errors (`--month` with no value) name the command, for the hint at its --help."""
    if getattr(command, "_strict_options", False):
        return
    command._strict_options = True  # type: ignore[attr-defined]
    make_parser = command.make_parser

    def made(ctx: click.Context) -> Any:
        parser = make_parser(ctx)
        parse = parser.parse_args

        def parse_args(args: list[str]) -> Any:
            try:
                opts, rest, order = parse(args)  # order: each option as often as given
            except click.UsageError as error:
                error.ctx = error.ctx or ctx
                raise
            given = Counter(param.name for param in order
                            if isinstance(param, click.Option) and not param.is_flag
                            and not param.multiple and not param.count)
            twice = next((param for param in order if given[param.name] > 1), None)
            if twice is not None:
                # An option may say why it is taken once (`sla notify`'s channels).
                why = getattr(twice, "given_once_because", None)
                raise click.UsageError(
                    f"{twice.opts[0]} given {given[twice.name]} times: {why}" if why else
                    f"{twice.opts[0]} given more than once: give it once", ctx)
            return opts, rest, order

        parser.parse_args = parse_args  # type: ignore[method-assign]
        return parser

    command.make_parser = made  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        strict_options(sub)


def _in_one_line(error: click.UsageError) -> UsageInOneLine:
    where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
    said, hint = error.format_message(), _a_key_like(error)
    return UsageInOneLine(f"{said.rstrip('.') + hint if hint else said}{where}")


def _a_key_like(error: click.UsageError) -> str:
    """For an unknown option where the command takes a KEY (a CRM's `-5`, an import's key
    beginning with a dash): how to give it, as Unix commands take such a word."""
    if (not isinstance(error, click.NoSuchOption) or error.ctx is None
            or error.option_name.startswith("--") or error.possibilities):
        return ""  # a long option mistyped is not a key
    arguments = {p.name for p in error.ctx.command.params if isinstance(p, click.Argument)}
    if "key" not in arguments:
        return ""
    key = f"a key beginning with '-' is given after '--' (`-- {error.option_name}`)"
    if "n" in arguments and error.option_name[1:].isdigit():  # `lead amend acme -1`
        return f"; entries are numbered from 1, as `lead history` lists them, and {key}"
    return f"; {key}"


class _OutputFailed(Exception):
    """stdout could not take the command's output (its reader went away, a full disk)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Stdout:
    """stdout while a command runs, its failures told apart from any other error of the
    command: only these end in `cannot write the output` or, for a closed pipe, quietly.
    (rich would also take a closed pipe for its own and exit 1.)"""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise _OutputFailed(error) from error

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise _OutputFailed(error) from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _utf8_unless_a_terminal(stdout: TextIO) -> None:
    """Under a locale that is not UTF-8 (Latin-1, a Windows code page): a file or a pipe
    still gets UTF-8, as `import`, jq and a spreadsheet read it (an export written in
    Latin-1 was refused by `import`, and one holding a character Latin-1 lacks ended in
    an internal error); a terminal shows what it can, the rest as `?`."""
    encoding = (getattr(stdout, "encoding", None) or "utf-8").lower().replace("_", "-")
    reconfigure = getattr(stdout, "reconfigure", None)
    if encoding in ("utf-8", "utf8") or reconfigure is None:
        return
    try:
        if stdout.isatty():
            reconfigure(errors="replace")
        else:
            reconfigure(encoding="utf-8")
    except (OSError, ValueError):  # a stream that cannot change now: left as it is
        pass


def _stop_writing_to_stdout() -> None:
    """The output cannot be written (`handoff export | head -1`, a full disk): what is still
    buffered for stdout would fail again when Python exits; it goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's buffer)
        pass


def _note_done(ctx: click.Context) -> None:
    """The command ran to its end (`Session.done`)."""
    session = ctx.find_object(Session)
    if session is not None:
        session.done = True


# A command stopped by a Ctrl-C ends with the status a shell gives a program SIGINT stops
# (128 + 2), so that a script tells it from a refusal (1).
INTERRUPTED = 130


class Interrupted(click.ClickException):
    """A Ctrl-C that stopped a command after it had written something: what stands, and
    how to finish."""

    exit_code = INTERRUPTED


def note_interrupted() -> None:
    """The running command was stopped by a Ctrl-C (`Session.interrupted`)."""
    context = click.get_current_context(silent=True)
    session = context.find_object(Session) if context is not None else None
    if session is not None:
        session.interrupted = True


_Value = TypeVar("_Value", str, str | None)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@click.group(cls=HandoffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    metavar="PATH_OR_URL",
    envvar="HANDOFF_STORE",
    show_envvar=True,
    default=DEFAULT_STORE,
    show_default=True,
    help="A file path for the embedded SQLite store, or a postgresql+psycopg:// URL.",
)
@click.option(
    "--actor",
    metavar="NAME",
    envvar="HANDOFF_ACTOR",
    show_envvar=True,
    default=_default_actor,
    show_default="your user name",
    help="Who is recording (checked against the agreement's [team], when it has one).",
)
@click.option(
    "--utc",
    is_flag=True,
    help="Show instants in UTC rather than in the agreement's time zone (JSON is ISO-8601"
    " with an offset either way).",
)
@click.version_option(package_name="handoff")
@click.pass_context
def main(ctx: click.Context, store: str, actor: str, utc: bool) -> None:
    """handoff: the shared record of the marketing-sales service level agreement.

    Every step of every lead is an event; KPIs and SLA compliance are rebuilt
    from those events for any period, and any past state can be replayed.
    """
    ctx.obj = Session(ctx, given(ctx, "store", store), given(ctx, "actor", actor), utc)


strict_options(main)


def given(ctx: click.Context, name: str, value: _Value) -> _Value | str:
    """The option as given: click takes an empty variable for an unset one, and would
    fall back to the default (a cron job's empty HANDOFF_STORE recorded into a new
    ./handoff.sqlite; an empty HANDOFF_WEBHOOK dropped Slack) where an empty option is
    refused."""
    option = next(p for p in ctx.command.params if p.name == name)
    envvar = option.envvar
    if (ctx.get_parameter_source(name) is ParameterSource.DEFAULT and isinstance(envvar, str)
            and envvar in os.environ):
        return os.environ[envvar]
    return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
