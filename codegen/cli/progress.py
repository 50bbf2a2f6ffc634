"""Progress bars (rich): training (the CLI's harness.progress.Progress) and calibration's search."""

from __future__ import annotations

from typing import Any

from codegen.harness.progress import Progress


class RichProgress(Progress):
    def __init__(self, console: Any) -> None:
        self.console = console
        self._bar: Any = None
        self._task: Any = None

    def start(self, total_steps: int, description: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress as Bar,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}  val {task.fields[val]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._bar.start()
        self._task = self._bar.add_task(description, total=total_steps, loss="-", val="-")

    def advance(self, loss: float) -> None:
        self._bar.update(self._task, advance=1, loss=f"{loss:.4g}")

    def epoch(self, epoch: int, train: float, val: float | None) -> None:
        self._bar.update(self._task, loss=f"{train:.4g}", val="-" if val is None else f"{val:.4g}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def rich_progress_on_stdout() -> RichProgress:
    """For a spawned training process (a module-level function, so it pickles by reference)."""
    from rich.console import Console

    return RichProgress(Console(highlight=False))


class CalibrationBar:
    """Candidates tried and the best error so far, on stderr, only when stderr is a terminal (never
    in tests or pipes, where the per-candidate table says the same)."""

    def __init__(self, enabled: bool = True) -> None:
        import sys

        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> "CalibrationBar":
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress as Bar, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Bar(
                SpinnerColumn(),
                TextColumn(
                    "calibrating: {task.completed} candidates, best error {task.fields[best]}"
                ),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("calibrate", total=None, best="-")
        return self

    def update(self, evaluated: int, best: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=evaluated, best=f"{best:.3g}")

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
