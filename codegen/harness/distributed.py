"""Data-parallel fine-tuning: `--nproc N` spawns N processes (gloo on CPU, nccl on GPU), or a launch
under torchrun joins its process group.

Every rank holds the whole model and a strided share of the samples. Gradients are summed with one
all_reduce per step and the loss is divided by the *global* count of terms, so each step applies the
gradient of the global batch's mean loss exactly, even when ranks hold unequal or empty shares of a
batch. That is what DDP computes for equal shares, without its restriction to them, and it is why N
processes give the one-process result up to float summation order. Only rank 0 reports and writes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from codegen.errors import CheckFailed, ModelgenError


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


def run_spawned(
    job: Any, nproc: int, make_progress: Callable[[], Any] | None
) -> tuple[Any, dict[str, Any]]:
    """Train `job` on `nproc` spawned processes; returns rank 0's TrainResult and its full state dict.
    Rank 0 shows `make_progress()` (a picklable, module-level factory) unless it is None."""
    import torch
    import torch.multiprocessing as mp

    from codegen.harness.finetune import TrainResult

    with tempfile.TemporaryDirectory(prefix="modelgen-ddp-") as tmp:
        try:
            mp.spawn(_worker, args=(nproc, job, tmp, make_progress), nprocs=nproc, join=True)
        except Exception as e:  # ProcessRaisedException / ProcessExitedException
            raise _worker_error(Path(tmp), e) from None
        saved = torch.load(Path(tmp) / "result.pt", map_location="cpu", weights_only=True)
    return TrainResult(**saved["result"]), saved["state"]


def _worker(rank: int, world: int, job: Any, tmp: str, make_progress: Any) -> None:
    import torch
    import torch.distributed as dist

    from codegen.harness.finetune import prepare, train
    from codegen.harness.progress import Progress

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))  # N processes share the cores
    try:
        prepared = prepare(job, rank=rank)
        dist.init_process_group(
            backend_for(prepared.device),
            init_method=f"file://{tmp}/rendezvous",
            rank=rank,
            world_size=world,
        )
        progress = make_progress() if rank == 0 and make_progress is not None else Progress()
        result = train(prepared, GroupComm(rank, world), progress)
        if rank == 0:
            state = {k: v.detach().cpu() for k, v in prepared.model.state_dict().items()}
            torch.save(
                {"result": dataclasses.asdict(result), "state": state}, Path(tmp) / "result.pt"
            )
        # Every rank waits here before tearing down: a rank that leaves while a peer still has a
        # collective in flight makes gloo abort that peer (SIGABRT), seen about 1 run in 10.
        dist.barrier()
        dist.destroy_process_group()
    except ModelgenError as e:
        (Path(tmp) / f"error-{rank}.json").write_text(
            json.dumps({"code": e.exit_code, "message": str(e)})
        )
        raise SystemExit(e.exit_code) from None  # no traceback: the parent reports the message


def _worker_error(tmp: Path, e: Exception) -> ModelgenError:
    for path in sorted(tmp.glob("error-*.json")):
        info = json.loads(path.read_text())
        error = CheckFailed if info["code"] == CheckFailed.exit_code else ModelgenError
        return error(f"rank {path.stem.split('-')[1]}: {info['message']}")
    text = str(e).strip().splitlines()
    return CheckFailed(f"a training process failed: {text[-1] if text else type(e).__name__}")
