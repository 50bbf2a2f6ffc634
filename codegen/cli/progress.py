"""The training progress bar (rich): the CLI's implementation of harness.progress.Progress."""

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
