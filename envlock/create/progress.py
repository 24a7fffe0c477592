"""Progress for create: a rich display on a terminal, a few plain lines in CI (no TTY)."""

from __future__ import annotations

import sys
import time
from typing import Protocol


class Progress(Protocol):
    def start(self, phase: str, total: int) -> None: ...
    def advance(self, phase: str, n: int = 1) -> None: ...
    def finish(self, phase: str, detail: str = "") -> None: ...
    def info(self, message: str) -> None: ...
    def close(self) -> None: ...


class LineProgress:
    """One line per finished phase, on stderr (stdout stays clean for --json)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.started: dict[str, float] = {}

    def start(self, phase: str, total: int) -> None:
        self.started[phase] = time.perf_counter()

    def advance(self, phase: str, n: int = 1) -> None:
        pass

    def finish(self, phase: str, detail: str = "") -> None:
        dt = time.perf_counter() - self.started.get(phase, time.perf_counter())
        self.info(f"{phase}: {detail} ({dt:.2f} s)" if detail else f"{phase}: done ({dt:.2f} s)")

    def info(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        pass


class RichProgress:
    def __init__(self, console) -> None:  # noqa: ANN001 - a rich Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console
        self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=self.console, transient=False)
        self.tasks: dict[str, int] = {}
        self.bar.start()

    def start(self, phase: str, total: int) -> None:
        self.tasks[phase] = self.bar.add_task(phase, total=total)

    def advance(self, phase: str, n: int = 1) -> None:
        if phase in self.tasks:
            self.bar.advance(self.tasks[phase], n)

    def finish(self, phase: str, detail: str = "") -> None:
        if phase in self.tasks:
            task = self.tasks[phase]
            total = self.bar.tasks[task].total or 0
            self.bar.update(task, completed=total, description=phase)
        if detail:
            self.bar.console.print(f"  {phase}: {detail}", highlight=False)

    def info(self, message: str) -> None:
        self.bar.console.print(message, highlight=False)

    def close(self) -> None:
        self.bar.stop()


def make_progress(console_factory, *, quiet: bool = False) -> Progress:  # noqa: ANN001
    """Bars on a terminal (on the console ``console_factory()`` gives: rich is imported only
    then), one line per phase otherwise."""
    if not quiet and sys.stderr.isatty():
        return RichProgress(console_factory())
    return LineProgress(quiet=quiet)
