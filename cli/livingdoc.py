"""`handoff sla verify` and `handoff sla doc`: the protocol's examples run, and the agreement
written out as the document both teams read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from handoff.cli.values import as_of_option, recorded_by
from handoff.words import counted

_WHY_WIDTH = 160


@click.command()
@click.pass_obj
def verify(obj: Any) -> None:
    """Run every example of the agreement's clauses against this version of handoff.

    Prints one line per clause (verified, FAILED, or no example) and a total, records
    the outcome in the store for `handoff sla doc`, and exits with status 1 if any
    example fails. The examples run on a temporary store: the store's data is untouched.
    """
    from handoff.verification.runner import verify as run_examples

    app = obj.app
    app.location.refuse_if_read_only()  # before the examples run, not after
    protocol, run, outcomes = run_examples(app.clock(), obj.actor)
    why = {(o.feature, o.line): o.why for o in outcomes if not o.passed}
    for area in protocol:
        for clause in area.clauses:
            check = run.check_for(area.feature, clause.name)
            assert check is not None
            topic = Path(area.feature).stem
            if check.verdict == "no example":
                click.echo(f"  no example  {topic}: {clause.name}")
                continue
            mark = "verified  " if check.verdict == "verified" else "FAILED    "
            click.echo(f"  {mark}  {topic}: {clause.name} ({_examples(check.examples)})")
            for example in clause.examples:
                if example.name in check.failed:
                    reason = why.get((area.feature, example.line)) or "did not run"
                    click.echo(f"              - {example.name}: {_short(reason)}")
    app.record_verification(run)
    checks = run.clauses
    failed = sum(c.verdict == "failed" for c in checks)
    bare = sum(c.verdict == "no example" for c in checks)
    total = (
        f"{sum(c.verdict == 'verified' for c in checks)} of {len(checks)} clauses verified"
        + (f", {failed} FAILED" if failed else "")
        + (f", {bare} with no example" if bare else "")
        + f" ({_examples(sum(c.examples for c in checks))}) on handoff {run.handoff_version}"
    )
    click.echo(f"{total}; recorded for `handoff sla doc`.")
    if failed:
        raise click.ClickException(
            f"{counted(failed, 'clause')} of the agreement failed verification"
            " on this version of handoff (see above)"
        )


def _examples(count: int) -> str:
    return counted(count, "example")


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _WHY_WIDTH else line[: _WHY_WIDTH - 1] + "…"


@click.command()
@click.option("--month", metavar="M",
              help="The month whose evidence the document shows (YYYY-MM). "
              "Default: the last full month.")
@click.option("--out", required=True, metavar="FILE.html|FILE.md",
              help="The file to write: HTML for reading and printing, Markdown for a wiki.")
@as_of_option
@click.pass_obj
def doc(obj: Any, month: str | None, out: str, as_of: str | None) -> None:
    """Write the agreement as one self-contained document both teams read and sign.

    The terms in force in words, the goal and its reverse funnel, the versions with
    their signatures and changes, then every clause of the protocol with its reason and
    examples, marked verified (as last run by `handoff sla verify`) and honoured (the
    evidence measured in the store for the month, with the leads that broke it).

    With --as-of T, the document as it read at T: the versions and signatures recorded by
    then, the last verification run by then, and the evidence measured as of T.
    """
    from handoff.agreement_doc import FORMATS, agreement_document, render_document

    target = Path(out)
    if target.suffix.lower() not in FORMATS:
        raise click.BadParameter("must end in .html or .md", param_hint="--out")
    instant, then = recorded_by(obj, as_of)
    document = agreement_document(obj.app, month, instant,
                                  lambda at: str(obj.instants.text(at)))
    text = render_document(document, target)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    tally = document["tally"]
    click.echo(
        f"wrote {document['name']!r} with {tally['clauses']} clauses "
        f"({tally['verified']} verified, {tally['not_honoured']} not honoured in "
        f"{document['period']['label']}{' ' + then if then else ''}) to {out}"
    )
