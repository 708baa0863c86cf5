"""`handoff sla ...`: apply, show and list the versions of the agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from handoff.cli.output import output_option, print_fields, print_json, print_table
from handoff.domain.agreement_file import parse_agreement
from handoff.domain.errors import InvalidAgreement, NoAgreement
from handoff.instants import parse_day
from handoff.views import version_record


@click.group()
def sla() -> None:
    """The service level agreement: its versions and what it demands."""


def read_text(path: str) -> str:
    """A file the user named, or a refusal saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InvalidAgreement(f"{path}: cannot read: {reason}") from None


@sla.command("apply")
@click.argument("file", metavar="FILE")
@click.pass_obj
def apply_command(obj: Any, file: str) -> None:
    """Record a new version of the agreement from a TOML FILE (versions are never edited)."""
    text = read_text(file)
    try:
        terms = parse_agreement(text)
    except InvalidAgreement as error:
        raise InvalidAgreement(f"{file}: {error}") from None
    version = obj.app.apply_agreement(terms, obj.actor)
    end = terms.effective_to.isoformat() if terms.effective_to else "open-ended"
    click.echo(
        f"applied version {version.number}: {terms.name!r}, "
        f"{terms.effective_from.isoformat()} to {end} ({terms.document['timezone']})"
    )


@sla.command()
@click.option("--at", metavar="D", help="The local date to look at. Default: now.")
@output_option("table", "json")
@click.pass_obj
def show(obj: Any, at: str | None, fmt: str) -> None:
    """The version of the agreement in force on a date."""
    app = obj.app
    register = app.agreement_register()
    if at is None:
        version = register.in_force_at(app.clock())
        when = "now"
    else:
        version = register.in_force_on(parse_day(at))
        when = f"on {at}"
    if version is None:
        raise NoAgreement(f"no agreement is in force {when}")
    record = version_record(version)
    if fmt == "json":
        print_json(record)
        return
    document = record.pop("document")
    pairs = list(record.items())
    pairs += [(section, _flat(value)) for section, value in document.items()
              if isinstance(value, dict)]
    print_fields(pairs, title=f"Agreement in force {when}")


def _flat(section: dict[str, Any]) -> str:
    return "; ".join(f"{k} = {_value(v)}" for k, v in section.items())


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@sla.command()
@output_option("table", "json")
@click.pass_obj
def history(obj: Any, fmt: str) -> None:
    """Every version of the agreement ever applied, oldest first."""
    records = [version_record(v) for v in obj.app.agreement_register().versions]
    if fmt == "json":
        print_json(records)
        return
    header = ["version", "name", "effective_from", "effective_to", "timezone", "applied_at",
              "applied_by"]
    print_table(header, [[r[h] for h in header] for r in records], title="Agreement versions")


# `sla verify` and `sla doc` live with the living document they feed.
from handoff.cli.livingdoc import doc, verify  # noqa: E402

sla.add_command(verify)
sla.add_command(doc)
