"""Adam with mini-batches, a validation metric each epoch, early stopping and the best epoch restored.

Batches are global: every rank draws the same permutation of all training positions and runs the
positions it owns (position % world == rank), so one process and N processes take the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from codegen.harness.distributed import Comm
from codegen.harness.losses import loss_sum
from codegen.harness.progress import Progress


@dataclass
class Rows:
    """This rank's training samples: tensors whose dim 0 is indexed by `index[row]` (or by row)."""

    inputs: tuple[torch.Tensor, ...]
    target: torch.Tensor
    index: (
        torch.Tensor | None
    )  # sample ids of local rows; None when the tensors hold local rows only
    device: Any

    def __len__(self) -> int:
        return len(self.index) if self.index is not None else int(self.target.shape[0])

    def get(self, rows: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        ids = self.index[rows] if self.index is not None else rows.to(self.target.device)
        move = lambda t: t[ids.to(t.device)].to(self.device, non_blocking=True)  # noqa: E731
        return tuple(move(t) for t in self.inputs), move(self.target)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training: the best parameters so far are restored before this is raised, so the
    caller can keep them. `best_epoch` 0 means no epoch improved on the start."""

    def __init__(self, history: list[dict[str, Any]], best_epoch: int) -> None:
        super().__init__()
        self.history = history
        self.best_epoch = best_epoch


@dataclass
class AdamSettings:
    loss: str
    epochs: int
    lr: float
    batch_size: int
    patience: int
    seed: int


def train_adam(
    module: torch.nn.Module,
    params: list[torch.nn.Parameter],
    rows: Rows,
    settings: AdamSettings,
    comm: Comm,
    validate: Callable[[], float | None],
    start_metric: float,
    progress: Progress,
) -> list[dict[str, Any]]:
    """Train `params` by running `module` on `rows`; returns per-epoch {epoch, train, val}.

    `validate` gives the validation loss of the current parameters (None when there is no split; then the
    epoch's training loss decides). Training stops after `patience` epochs without improving on the best
    so far, which starts at `start_metric` (the baseline), and ends with the best parameters restored:
    the result is never worse than what it started from, on the metric that decides.
    """
    opt = torch.optim.Adam(params, lr=settings.lr)
    device = params[0].device
    total = int(comm.all_reduce(torch.tensor([len(rows)], device=device)).item())
    steps = -(-total // settings.batch_size)
    best, best_params, waited = start_metric, [p.detach().clone() for p in params], 0
    best_epoch, interrupted = 0, False
    history: list[dict[str, Any]] = []
    progress.start(settings.epochs * steps, "adam")
    try:
        for epoch in range(1, settings.epochs + 1):
            train_loss = _epoch(module, params, rows, settings, comm, opt, total, epoch, progress)
            val = validate()
            history.append({"epoch": epoch, "train": train_loss, "val": val})
            progress.epoch(epoch, train_loss, val)
            metric = train_loss if val is None else val
            if metric < best:
                best, best_params, waited = metric, [p.detach().clone() for p in params], 0
                best_epoch = epoch
            else:
                waited += 1
                if waited >= settings.patience:
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    with torch.no_grad():
        for p, b in zip(params, best_params):
            p.copy_(b)
    if interrupted:
        raise Interrupted(history, best_epoch)
    return history


def _epoch(
    module: torch.nn.Module,
    params: list[torch.nn.Parameter],
    rows: Rows,
    settings: AdamSettings,
    comm: Comm,
    opt: torch.optim.Optimizer,
    total: int,
    epoch: int,
    progress: Progress,
) -> float:
    """One pass over the global batches; returns the epoch's mean training loss."""
    device = params[0].device
    order = torch.randperm(
        total, generator=torch.Generator().manual_seed(settings.seed * 100_003 + epoch)
    )
    epoch_sum = torch.zeros(2, dtype=torch.float64, device=device)
    for start in range(0, total, settings.batch_size):
        batch = order[start : start + settings.batch_size]
        mine = batch[batch % comm.world == comm.rank] // comm.world
        opt.zero_grad(set_to_none=False)
        if len(mine):
            inputs, target = rows.get(mine)
            summed, count = loss_sum(settings.loss, module(*inputs), target)
        else:
            summed, count = torch.zeros((), device=device), 0
        # Divide by the global number of terms: gradients summed over ranks are then the global mean's.
        totals = comm.all_reduce(
            torch.stack(
                [
                    summed.detach().double(),
                    torch.tensor(float(count), dtype=torch.float64, device=device),
                ]
            )
        )
        if len(mine):
            (summed / totals[1]).backward()
        comm.all_reduce_grads(params)
        opt.step()
        epoch_sum += totals
        progress.advance(float(totals[0] / totals[1]))
    return float(epoch_sum[0] / epoch_sum[1])
