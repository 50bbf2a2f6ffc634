"""Fine-tuning on N spawned processes: each rank prepares the job, joins the process group and
trains; rank 0 writes the result for the parent. Kept apart from distributed.py (the Comm
protocol, which finetune.py uses) so the harness has no import cycle."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from codegen.errors import CheckFailed, ModelgenError
from codegen.harness.distributed import GroupComm, backend_for
from codegen.harness.finetune import TrainResult, prepare, train
from codegen.harness.progress import Progress


def run_spawned(
    job: Any, nproc: int, make_progress: Callable[[], Any] | None
) -> tuple[Any, dict[str, Any]]:
    """Train `job` on `nproc` spawned processes; returns rank 0's TrainResult and its full state dict.
    Rank 0 shows `make_progress()` (a picklable, module-level factory) unless it is None."""
    import torch
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="modelgen-ddp-") as tmp:
        try:
            mp.spawn(_worker, args=(nproc, job, tmp, make_progress), nprocs=nproc, join=True)
        except Exception as e:  # ProcessRaisedException / ProcessExitedException
            # A rank that dies while tearing down, after every rank passed the final barrier
            # (rank 0's result written before it), has lost nothing: gloo can abort there.
            finished = all((Path(tmp) / f"done-{rank}").exists() for rank in range(nproc))
            if not finished:
                raise _worker_error(Path(tmp), e) from None
        saved = torch.load(Path(tmp) / "result.pt", map_location="cpu", weights_only=True)
    return TrainResult(**saved["result"]), saved["state"]


def _worker(rank: int, world: int, job: Any, tmp: str, make_progress: Any) -> None:
    import torch
    import torch.distributed as dist

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
        (Path(tmp) / f"done-{rank}").touch()
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
