"""`modelgen finetune CKPT MODEL --data DATA --train PATTERN`: tune selected layers with the rest
frozen, check the result, write what was asked for."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console
from rich.markup import escape

from codegen.cli.common import (
    MODEL_HELP,
    add_checkpoint_options,
    add_data_options,
    add_force_option,
    print_json,
    print_load_failure,
    report_console,
)
from codegen.errors import ModelgenError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "finetune", help="tune selected layers on DATA with the rest frozen; export TorchScript"
    )
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument(
        "--train",
        required=True,
        metavar="PATTERN[,PATTERN]",
        help="module names or fnmatch globs over parameter names, e.g. output_layer,'*.bias'",
    )
    add_data_options(p, required=True)
    p.add_argument(
        "--method",
        default="auto",
        choices=("auto", "lstsq", "adam"),
        help="auto = least squares when a final Linear trains under MSE, else Adam",
    )
    p.add_argument("--epochs", type=int, default=20, metavar="N")
    p.add_argument("--lr", type=float, default=1e-3, metavar="X")
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        metavar="F",
        help="held-out share of DATA for early stopping and the improvement check",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=5,
        metavar="N",
        help="epochs without improvement before stopping",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="data-parallel processes (gloo on CPU, nccl on GPU)",
    )
    p.add_argument("--out", metavar="model.pt", help="write the tuned model as TorchScript")
    p.add_argument(
        "--save-state", metavar="PATH", help="write the tuned state dict (checkpoint's keys)"
    )
    p.add_argument("--plot", metavar="PNG", help="write the loss curve")
    add_force_option(p)
    add_checkpoint_options(p)


def run(args: argparse.Namespace, console: Console) -> int:
    from codegen.cli.progress import RichProgress, rich_progress_on_stdout
    from codegen.harness.device import resolve_device
    from codegen.harness.distributed import from_environment, run_spawned
    from codegen.harness.finetune import check, prepare, train
    from codegen.harness.loading import LoadFailed
    from codegen.harness.progress import Progress

    started = time.perf_counter()
    out = report_console(args, console)
    outputs = _planned_outputs(args)  # checked before the training, not after
    job = _job_from_args(args)
    comm = from_environment(resolve_device(args.device))
    _check_nproc(args, comm, resolve_device(args.device))
    args.processes = max(args.nproc, comm.world)  # --nproc, or the world torchrun started
    try:
        p = prepare(job, rank=comm.rank)
    except LoadFailed as e:
        print_load_failure(out, e)
        raise
    lead = comm.rank == 0
    if lead:
        _print_plan(out, p, args)
    if args.nproc > 1:
        result, state = run_spawned(job, args.nproc, None if args.json else rich_progress_on_stdout)
        p.model.load_state_dict(state)
    else:
        result = train(p, comm, RichProgress(out) if lead and not args.json else Progress())
    if not lead:
        return 0
    split, before, after = result.decisive
    out.print(
        f"loss ({args.loss}, all samples): {result.baseline:.6g} -> {result.final:.6g}"
        + (f"; {split}: {before:.6g} -> {after:.6g}" if split == "validation" else "")
        + f"  [dim]({result.method}, {result.train_seconds:.2f}s"
        + (f", ridge {result.ridge:.3g}" if result.ridge else "")
        + ")[/]"
    )
    summary = _summary(args, p, result)
    try:
        check(p, result)
        out.print("[green]ok[/] frozen tensors bit-identical to the checkpoint; loss improved")
        if args.save_state:
            _save_state(p, outputs["--save-state"])
            out.print(f"wrote the tuned state dict to {escape(args.save_state)}")
        if args.plot:
            from codegen.harness.plot import save_loss_plot

            save_loss_plot(result.history, outputs["--plot"])
            out.print(f"wrote the loss curve to {escape(args.plot)}")
        if args.out:
            summary["export"] = _export(out, p, outputs["--out"])
    except ModelgenError as e:
        summary |= {"ok": False, "error": str(e)}
        raise
    finally:
        summary["seconds"] = round(time.perf_counter() - started, 3)
        if args.json:
            print_json(summary)
    return 0


def _job_from_args(args: argparse.Namespace) -> Any:
    from codegen.harness.finetune import Job

    return Job(
        checkpoint=args.checkpoint,
        model=args.model,
        data=args.data,
        train=args.train,
        inputs=args.inputs,
        target=args.target,
        remap=args.remap,
        key=args.key,
        strip=not args.no_strip,
        strip_prefixes=tuple(args.strip_prefix),
        loss=args.loss,
        method=args.method,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        val_fraction=args.val_fraction,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
    )


def _print_plan(out: Console, p: Any, args: argparse.Namespace) -> None:
    report = p.load_report
    out.print(
        f"loaded {len(p.state)} tensors strictly into {escape(args.model)}"
        + ("" if report.exact else f" ({escape(report.summary())})")
    )
    for note in report.notes:
        out.print(f"[dim]note: {escape(note)}[/]")
    out.print(
        f"data: {len(p.data)} samples ({escape(p.data.describe())}); "
        f"{len(p.train_index)} train, {len(p.val_index)} validation"
    )
    out.print(f"train: {escape(p.selection.summary())}")
    cache = (
        f"frozen part runs once, {p.head.name} trains on its cached inputs"
        if p.head is not None
        else f"full forward each step ({p.head_reason})"
    )
    out.print(
        f"method: {p.method} ({escape(p.method_reason)}); {escape(cache)}; device {p.device}"
        + (f"; {args.processes} processes" if args.processes > 1 else "")
    )


def _export(out: Console, p: Any, output: Any) -> dict[str, Any]:
    from codegen.harness.export import export_torchscript
    from codegen.harness.mismatch import specs_of

    path = str(output.path)
    example = tuple(t.cpu() for t in p.data.take(slice(0, 4)).inputs)
    result = export_torchscript(p.model, output, specs_of(p.state), example)
    if result.method == "trace":
        out.print(
            f"[yellow]warning:[/] torch.jit.script failed, exported with torch.jit.trace: "
            f"{escape(result.fallback_reason or '')}"
        )
    out.print(f"wrote {escape(path)}: {escape(result.summary())}")
    return {"path": path, "method": result.method, "max_diff": result.max_diff}


def _save_state(p: Any, output: Any) -> None:
    import torch

    from codegen.output import write_with

    state = {k: v.detach().cpu() for k, v in p.model.state_dict().items()}
    write_with(output, lambda tmp: torch.save(state, tmp))


def _summary(args: argparse.Namespace, p: Any, result: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "method": result.method,
        "method_reason": p.method_reason,
        "loss": args.loss,
        "baseline": result.baseline,
        "final": result.final,
        "baseline_val": result.baseline_val,
        "final_val": result.final_val,
        "trainable": p.selection.trainable,
        "total": p.selection.total,
        "trainable_names": p.selection.names,
        "cached_features": result.cached_features,
        "ridge": result.ridge,
        "epochs": len(result.history) - 1,
        "history": result.history,
        "train_seconds": round(result.train_seconds, 3),
        "device": str(p.device),
        "nproc": args.processes,
        "samples": {"train": len(p.train_index), "validation": len(p.val_index)},
    }


def _planned_outputs(args: argparse.Namespace) -> dict[str, Any]:
    """The files finetune will write, each checked now by the rules of codegen/output.py."""
    from codegen.output import planned

    flags = {"--out": args.out, "--save-state": args.save_state, "--plot": args.plot}
    outputs = {flag: planned(args, flag, value) for flag, value in flags.items() if value}
    paths = [o.path.resolve() for o in outputs.values()]
    if len(set(paths)) < len(paths):
        raise ModelgenError("--out, --save-state and --plot: give each a different file")
    return outputs


def _check_nproc(args: argparse.Namespace, comm: Any, device: Any) -> None:
    if args.nproc < 1:
        raise ModelgenError(f"--nproc {args.nproc}: must be at least 1")
    if args.nproc > 1 and comm.world > 1:
        raise ModelgenError(
            "--nproc: already running under torchrun; let torchrun start the processes"
        )
    if args.nproc > 1 and device.type == "cuda":
        import torch

        if torch.cuda.device_count() < args.nproc:
            raise ModelgenError(
                f"--nproc {args.nproc}: only {torch.cuda.device_count()} GPU(s); nccl needs one per process"
            )
