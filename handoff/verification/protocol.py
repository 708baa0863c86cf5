"""The protocol as written in `features/`: areas, their clauses (`Rule:`) and examples.

Read with pytest-bdd's own Gherkin parser, so the document shows exactly what the
examples that `handoff sla verify` runs say.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from pytest_bdd.gherkin_parser import Child, Scenario, Step, get_gherkin_document

OUTSIDE_ANY_RULE = "Examples outside any rule"


@dataclass(frozen=True)
class Example:
    name: str
    line: int  # where it starts in its file: names an outline's every row too
    steps: tuple[str, ...]  # "Given a handed lead "acme"", keywords as written
    table: tuple[tuple[str, ...], ...] = ()  # an outline's examples: header, then rows


@dataclass(frozen=True)
class Clause:
    feature: str  # the file's name, e.g. "sla_compliance.feature"
    name: str
    reason: str
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class Area:
    """One feature file: a part of the agreement, its preamble and its clauses."""

    feature: str
    title: str
    description: str
    background: tuple[str, ...]
    clauses: tuple[Clause, ...]


@contextmanager
def features_folder() -> Iterator[Path]:
    """The installed `features/` as a folder on disk, for as long as it is needed."""
    with as_file(files("handoff.features")) as folder:
        yield Path(folder)


def read_protocol(folder: Path) -> list[Area]:
    """Every feature in the folder, by file name, its clauses in the order written."""
    return [_area(path) for path in sorted(folder.glob("*.feature"))]


def _area(path: Path) -> Area:
    feature = get_gherkin_document(str(path)).feature
    background: tuple[str, ...] = ()
    clauses: list[Clause] = []
    loose: list[Example] = []
    for child in feature.children:
        if child.background is not None:
            background = _steps(child.background.steps)
        elif child.rule is not None:
            rule = child.rule
            clauses.append(
                Clause(path.name, rule.name.strip(), _text(rule.description),
                       tuple(_examples(rule.children)))
            )
        elif child.scenario is not None:
            loose.append(_example(child.scenario))
    if loose:
        clauses.append(Clause(path.name, OUTSIDE_ANY_RULE, "", tuple(loose)))
    return Area(path.name, feature.name.strip(), _text(feature.description), background,
                tuple(clauses))


def _examples(children: list[Child]) -> Iterator[Example]:
    for child in children:
        if child.scenario is not None:
            yield _example(child.scenario)


def _example(scenario: Scenario) -> Example:
    table: list[tuple[str, ...]] = []
    for examples in scenario.examples:
        if examples.table_header is not None and not table:
            table.append(tuple(cell.value for cell in examples.table_header.cells))
        table += [tuple(cell.value for cell in row.cells) for row in examples.table_body or []]
    return Example(scenario.name.strip(), scenario.location.line, _steps(scenario.steps),
                   tuple(table))


def _steps(steps: list[Step]) -> tuple[str, ...]:
    return tuple(f"{step.keyword.strip()} {step.text.strip()}" for step in steps)


def _text(description: str) -> str:
    """A description as prose: its paragraphs, each on one line."""
    paragraphs = textwrap.dedent(description or "").strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
