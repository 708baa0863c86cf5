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
    was edited, removed, inserted or reordered underneath handoff.

    Entries that no seal vouches for as they were recorded are named too: those not sealed
    yet, and those sealed late, by a later command than the one that recorded them. The
    check itself writes nothing (a store you may only read is checked all the same); as
    every command does, its end then seals what is not sealed yet, where it may.
    """
    expected = audit_chain.Digest.parse(kept) if kept is not None else None
    verdict = audit_chain.verify(obj.app, expected)
    erased = (f", {verdict.erased} of them with a person's details erased (lead forget)"
              if verdict.erased else "")
    extends = f"; it extends digest {expected}" if expected is not None else ""
    lines = [f"the log is intact: {verdict.entries} entries match their seals{erased}{extends}"]
    lines += [_late(obj, late) for late in verdict.late]
    lines += [f"{lead} is forgotten, yet {count} of its entries still"
              f" {'holds' if count == 1 else 'hold'} the person's details: its `lead forget`"
              " was cut short; run it again to erase them" for lead, count in verdict.unerased]
    if verdict.unsealed is not None:
        lines.append(_unsealed(verdict.unsealed))
    lines.append(f"digest {verdict.digest}")
    click.echo("\n".join(lines))


def _late(obj: Any, late: audit_chain.LateSeal) -> str:
    one = late.first == late.last
    named = f"entry {late.first} was" if one else f"entries {late.first} to {late.last} were"
    them = "it" if one else "them"
    by = f" by `handoff {late.sealed_by}`" if late.sealed_by else ""
    when = f" at {obj.instants.text(late.sealed_at)}" if late.sealed_at is not None else ""
    return (f"{named} sealed late{by}{when}, not by the command that recorded {them}: only a"
            f" digest kept from before vouches for {them}")


def _unsealed(stretch: audit_chain.Stretch) -> str:
    if stretch.first == stretch.last:
        return (f"entry {stretch.first} has no seal yet: only a digest kept from before"
                " vouches for it")
    return (f"{stretch.entries} entries, {stretch.first} to {stretch.last}, have no seal yet:"
            " only a digest kept from before vouches for them")
