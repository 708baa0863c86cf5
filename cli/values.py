"""The kinds of value the command line's options and arguments take, checked as they are
read: a whole number, a name to select by, a file name, the instant of `--as-of` where the
agreement is read as recorded then. A module of its own, light to load: `kpi` needs them
without the lead commands (tests/test_cli_startup.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from handoff.domain.bounds import whole_number
from handoff.domain.errors import InvalidInput


# click.ParamType is generic only in newer click: subscripting it would fail on older ones.
class WholeNumber(click.ParamType):  # type: ignore[type-arg]
    """A count or score as people type it: plain digits, from 0 to 999999999999."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return whole_number(str(value), "it")
        except InvalidInput as error:
            self.fail(str(error).replace("it must", "must"), param, ctx)


WHOLE_NUMBER = WholeNumber()


class FilterName(click.ParamType):  # type: ignore[type-arg]
    """An owner or a source to select by: given empty (`--owner "$OWNER"` with OWNER unset)
    it would select nothing, and `sla breaches` would say all is well."""

    name = "NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not str(value).strip():
            self.fail("must name one (an empty name selects nothing)", param, ctx)
        return str(value)


FILTER_NAME = FilterName()


class FileName(click.ParamType):  # type: ignore[type-arg]
    """A file to read: given empty (`import "$FILE"` with FILE unset) it was read as the
    current folder (`Path("")`: a Salesforce export there was imported) or refused as
    ': cannot read'."""

    name = "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not str(value):
            self.fail("the file name is empty: name the file to read", param, ctx)
        return str(value)


FILE_NAME = FileName()


def as_of_option(command: Any) -> Any:
    """`--as-of T` of `sla show`, `sla history`, `sla doc` and `plan`: the agreement (and
    the actuals beside it) as recorded by an instant that has passed, read as `kpi --as-of`
    reads it (`HandoffApp.as_of`), so that an auditor reproduces what both teams had
    signed then."""
    return click.option(
        "--as-of", "as_of", metavar="T",
        help="As recorded by this instant: only the versions, signatures, restatements and "
        "lead events recorded by then (default: now).",
    )(command)


def recorded_by(obj: Any, as_of: str | None) -> tuple[datetime | None, str]:
    """The `--as-of` instant (None without one) and how a title or a refusal names it
    ("as of 2026-03-02 09:00 CST"; "" without one)."""
    if as_of is None:
        return None, ""
    instant: datetime = obj.app.as_of(as_of)
    return instant, f"as of {obj.instants.text(instant)}"
