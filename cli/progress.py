"""Progress on stderr for long commands, shown only when stderr is a terminal.

Scripts and cron jobs see nothing; a person at a terminal sees each stage of a long
import or rebuild move.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

T = TypeVar("T")


class Stages:
    """The stages of one command: bars for known totals, spinners for the rest."""

    def __init__(self, bar: Progress | None) -> None:
        self._bar = bar
        self._current: TaskID | None = None

    def track(self, items: Sequence[T], description: str) -> Iterable[T]:
        """Yield the items while a bar counts them."""
        if self._bar is None:
            return items
        return self._tracked(self._bar, items, description)

    def _tracked(self, bar: Progress, items: Sequence[T], description: str) -> Iterator[T]:
        self._finish()
        task = bar.add_task(description, total=len(items))
        self._current = task
        for n, item in enumerate(items, 1):
            yield item
            if n % 500 == 0:
                bar.update(task, completed=n)
        bar.update(task, completed=len(items))

    def stage(self, description: str) -> None:
        """Start a stage whose length is not known (a spinner until the next stage)."""
        if self._bar is not None:
            self._finish()
            self._current = self._bar.add_task(description, total=None)

    def log_position(self, description: str) -> Callable[[int, int], None] | None:
        """A callback for reading the event log: (position reached, last notification id)."""
        if self._bar is None:
            return None
        bar = self._bar
        self._finish()
        task = bar.add_task(description, total=None)
        self._current = task

        def advance(at: int, last: int) -> None:
            bar.update(task, completed=at, total=last)

        return advance

    def _finish(self) -> None:
        """Stop the current stage's clock and spinner; its line stays until the command ends."""
        if self._bar is not None and self._current is not None:
            self._bar.stop_task(self._current)


@contextmanager
def stages(enabled: bool = True) -> Iterator[Stages]:
    """Stages shown on stderr when it is a terminal and `enabled` (say, for a large file)."""
    if not (enabled and sys.stderr.isatty()):
        yield Stages(None)
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        yield Stages(bar)


def progress_on_terminal(
    ctx: click.Context, description: str
) -> Callable[[int, int], None] | None:
    """A callback for reading the event log that draws a bar on stderr from its first call
    (so a command that never reads much shows nothing), when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    shown: dict[str, Any] = {}

    def advance(at: int, last: int) -> None:
        if not shown:
            from rich.console import Console
            from rich.progress import Progress

            bar = Progress(console=Console(stderr=True), transient=True)
            bar.start()
            ctx.call_on_close(bar.stop)
            shown.update(bar=bar, task=bar.add_task(description, total=last))
        shown["bar"].update(shown["task"], completed=at, total=last)

    return advance
