"""`handoff audit ...`: prove that the log is the one handoff wrote."""

from __future__ import annotations

from typing import Any

import click

from handoff import audit as audit_chain


@click.group()
def audit() -> None:
    """Tamper evidence: every entry of the log is chained to the one before by a hash."""


@audit.command()
@click.pass_obj
def digest(obj: Any) -> None:
    """Print a short digest of the log as it stands, to keep somewhere else.

    `handoff audit verify --digest D` later proves that the log still extends the log
    this digest was taken of, even if someone rewrote the store's seals too.
    """
    click.echo(str(audit_chain.digest(obj.app)))


@audit.command()
@click.option(
    "--digest",
    "kept",
    metavar="D",
    help="A digest printed earlier by 'handoff audit digest': the log must extend it.",
)
@click.pass_obj
def verify(obj: Any, kept: str | None) -> None:
    """Check every entry of the log against its seal; exit 1 naming the first entry that
    was edited, removed, inserted or reordered underneath handoff."""
    expected = audit_chain.Digest.parse(kept) if kept is not None else None
    verdict = audit_chain.verify(obj.app, expected)
    fresh = (
        f", {verdict.newly_sealed} new entries sealed as they stand (they had no seal to be"
        " checked against: only a digest kept earlier vouches for them)"
        if verdict.newly_sealed else ""
    )
    if verdict.erased:
        fresh += f", {verdict.erased} of them with a person's details erased (lead forget)"
    extends = f"; it extends digest {expected}" if expected is not None else ""
    click.echo(
        f"the log is intact: {verdict.entries} entries match their seals{fresh}{extends}"
        f"\ndigest {verdict.digest}"
    )
