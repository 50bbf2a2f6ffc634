"""Data-parallel fine-tuning: `--nproc N` spawns N processes (gloo on CPU, nccl on GPU), or a launch
under torchrun joins its process group.

Every rank holds the whole model and a strided share of the samples. Gradients are summed with one
all_reduce per step and the loss is divided by the *global* count of terms, so each step applies the
gradient of the global batch's mean loss exactly, even when ranks hold unequal or empty shares of a
batch. That is what DDP computes for equal shares, without its restriction to them, and it is why N
processes give the one-process result up to float summation order. Only rank 0 reports and writes.
"""

from __future__ import annotations

import os
from typing import Any


class Comm:
    """One process: nothing to reduce."""

    rank, world = 0, 1

    def all_reduce(self, tensor: Any) -> Any:
        return tensor

    def all_reduce_grads(self, params: list[Any]) -> None:
        return None


class GroupComm(Comm):
    def __init__(self, rank: int, world: int) -> None:
        self.rank, self.world = rank, world

    def all_reduce(self, tensor: Any) -> Any:
        import torch.distributed as dist

        dist.all_reduce(tensor)  # sum, in place
        return tensor

    def all_reduce_grads(self, params: list[Any]) -> None:
        import torch

        for p in params:
            if p.grad is None:  # this rank had no samples in the batch yet
                p.grad = torch.zeros_like(p)
        flat = self.all_reduce(torch.cat([p.grad.reshape(-1) for p in params]))
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


def backend_for(device: Any) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def from_environment(device: Any) -> Comm:
    """Under torchrun (WORLD_SIZE > 1), join its process group; otherwise a single-process Comm."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Comm()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend_for(device), init_method="env://")
    return GroupComm(dist.get_rank(), dist.get_world_size())
