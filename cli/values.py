"""The kinds of value the command line's options and arguments take, checked as they are
read: a whole number, a name to select by, a file name. A module of its own, light to
load: `kpi` needs them without the lead commands (tests/test_cli_startup.py)."""

from __future__ import annotations

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
