"""The training progress interface: training code only calls start/advance/epoch/close. This base
shows nothing (non-zero ranks, --json); the CLI passes its rich progress bar (codegen/cli/progress.py).
"""

from __future__ import annotations


class Progress:
    def start(self, total_steps: int, description: str) -> None: ...

    def advance(self, loss: float) -> None: ...

    def epoch(self, epoch: int, train: float, val: float | None) -> None: ...

    def close(self) -> None: ...
