"""`modelgen verify`, `finetune` and `diff`: arguments in, rich output out; the work is in the modules
beside this one. Imported at CLI start-up, so torch is only imported inside the handlers."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

import codegen.cli as cli
from codegen.errors import CheckFailed, ModelgenError


def _add_data_options(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--data",
        required=required,
        metavar="DATA",
        help="torch file of inputs and targets, read with weights_only=True (layouts: DESIGN.md)",
    )
    p.add_argument("--inputs", metavar="K1,K2", help="DATA keys passed to forward, in order")
    p.add_argument("--target", metavar="K", help="DATA key of the target")
    p.add_argument("--loss", default="mse", choices=("mse", "cross_entropy", "l1"))
    p.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="auto = cuda when available",
    )
    p.add_argument(
        "--remap", metavar="FILE", help="rename checkpoint keys before loading (see modelgen diff)"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON summary on stdout (progress goes to stderr)",
    )


def _add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "verify", help="prove MODEL strict-loads CKPT, runs, and exports to TorchScript"
    )
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("model", metavar="MODEL", help="model.py, file.py:Class or package.module:Class")
    _add_data_options(p, required=False)
    cli._add_checkpoint_options(p)

    p = sub.add_parser(
        "finetune", help="tune selected layers on DATA with the rest frozen; export TorchScript"
    )
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("model", metavar="MODEL", help="model.py, file.py:Class or package.module:Class")
    p.add_argument(
        "--train",
        required=True,
        metavar="PATTERN[,PATTERN]",
        help="module names or fnmatch globs over parameter names, e.g. output_layer,'*.bias'",
    )
    _add_data_options(p, required=True)
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
    cli._add_checkpoint_options(p)

    p = sub.add_parser(
        "diff",
        help="why CKPT does not strict-load into MODEL (and a remap), or what changed from CKPT to CKPT2",
    )
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument(
        "other",
        metavar="MODEL|CKPT2",
        help="model.py, file.py:Class, package.module:Class, or a checkpoint",
    )
    p.add_argument(
        "--write-remap", metavar="FILE", help="write the suggested remap (JSON) for --remap"
    )
    p.add_argument("--remap", metavar="FILE", help="judge CKPT with this remap applied")
    cli._add_checkpoint_options(p)


cli.EXTRA_PARSERS.append(_add_parsers)


def _report_console(args: argparse.Namespace, console: Console) -> Console:
    """With --json, stdout carries only the JSON; everything for people goes to stderr."""
    return Console(stderr=True, highlight=False, soft_wrap=True) if args.json else console


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2))


# ------------------------------------------------------------------------------------------ verify


@cli.command("verify")
def _verify(args: argparse.Namespace, console: Console) -> int:
    from codegen.harness.data import load_data
    from codegen.harness.device import resolve_device
    from codegen.harness.loading import LoadFailed
    from codegen.harness.verify import verify

    out = _report_console(args, console)
    state = cli.open_from_args(args).state_dict()  # with --remap applied
    device = resolve_device(args.device)
    data = load_data(args.data, args.inputs, args.target, need_target=False) if args.data else None
    try:
        result = verify(
            args.model,
            state,
            data,
            device,
            loss=args.loss if data and data.target is not None else None,
        )
    except LoadFailed as e:
        _print_load_failure(out, e)
        if args.json:
            _print_json(
                {"ok": False, "error": str(e), "load": e.report.to_json() if e.report else None}
            )
        raise
    colors = {"ok": "green", "failed": "red", "skipped": "yellow"}
    for step in result.steps:
        out.print(f"[{colors[step.status]}]{step.status:<8}[/] {step.name}: {escape(step.detail)}")
    if args.json:
        _print_json(
            {
                "ok": result.ok,
                "max_diff": result.max_diff,
                "steps": [
                    {"name": s.name, "status": s.status, "detail": s.detail} for s in result.steps
                ],
            }
        )
    if not result.ok:
        raise CheckFailed(
            "verify failed: " + ", ".join(s.name for s in result.steps if s.status == "failed")
        )
    return 0


def _print_load_failure(out: Console, e: Any) -> None:
    if e.report is not None:
        out.print(e.report.render(), markup=False, highlight=False)


# ---------------------------------------------------------------------------------------- finetune


@cli.command("finetune")
def _finetune(args: argparse.Namespace, console: Console) -> int:
    from codegen.harness.device import resolve_device
    from codegen.harness.distributed import from_environment, run_spawned
    from codegen.harness.finetune import check, prepare, train
    from codegen.harness.loading import LoadFailed
    from codegen.harness.progress import Progress, RichProgress

    started = time.perf_counter()
    out = _report_console(args, console)
    _check_output_paths(args)
    job = _job_from_args(args)
    comm = from_environment(resolve_device(args.device))
    _check_nproc(args, comm, resolve_device(args.device))
    args.processes = max(args.nproc, comm.world)  # --nproc, or the world torchrun started
    try:
        p = prepare(job, rank=comm.rank)
    except LoadFailed as e:
        _print_load_failure(out, e)
        raise
    lead = comm.rank == 0
    if lead:
        _print_plan(out, p, args)
    if args.nproc > 1:
        result, state = run_spawned(job, args.nproc, quiet=args.json)
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
            _save_state(p, args.save_state)
            out.print(f"wrote the tuned state dict to {escape(args.save_state)}")
        if args.plot:
            from codegen.harness.plot import save_loss_plot

            save_loss_plot(result.history, args.plot)
            out.print(f"wrote the loss curve to {escape(args.plot)}")
        if args.out:
            summary["export"] = _export(out, p, args.out)
    except ModelgenError as e:
        summary |= {"ok": False, "error": str(e)}
        raise
    finally:
        summary["seconds"] = round(time.perf_counter() - started, 3)
        if args.json:
            _print_json(summary)
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


def _export(out: Console, p: Any, path: str) -> dict[str, Any]:
    from codegen.harness.export import export_torchscript
    from codegen.harness.mismatch import specs_of

    example = tuple(t.cpu() for t in p.data.take(slice(0, 4)).inputs)
    result = export_torchscript(p.model, path, specs_of(p.state), example)
    if result.method == "trace":
        out.print(
            f"[yellow]warning:[/] torch.jit.script failed, exported with torch.jit.trace: "
            f"{escape(result.fallback_reason or '')}"
        )
    out.print(f"wrote {escape(path)}: {escape(result.summary())}")
    return {"path": path, "method": result.method, "max_diff": result.max_diff}


def _save_state(p: Any, path: str) -> None:
    import os

    import torch

    state = {k: v.detach().cpu() for k, v in p.model.state_dict().items()}
    tmp = Path(path).with_name(f".{Path(path).name}.partial")
    torch.save(state, tmp)
    os.replace(tmp, path)


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


def _check_output_paths(args: argparse.Namespace) -> None:
    """The input checkpoint is never written, and a missing folder is found before training, not after."""
    for flag, value in (
        ("--out", args.out),
        ("--save-state", args.save_state),
        ("--plot", args.plot),
    ):
        if value is not None:
            _check_writable(flag, value, args.checkpoint)


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


# -------------------------------------------------------------------------------------------- diff


@cli.command("diff")
def _diff(args: argparse.Namespace, console: Console) -> int:
    """Exit 0 when CKPT strict-loads into MODEL (after the written remap, if any) or the checkpoints
    are the same; 1 otherwise, with the report on stdout."""
    from codegen.harness.model_ref import looks_like_model

    if looks_like_model(args.other):
        return _diff_model(args, console)
    if args.write_remap:
        raise ModelgenError("--write-remap needs a MODEL as the second argument, not a checkpoint")
    return _diff_checkpoints(args, console)


def _diff_model(args: argparse.Namespace, console: Console) -> int:
    from codegen.harness.diff import diff_model, render
    from codegen.remap import write_remap

    if args.remap and args.write_remap:
        raise ModelgenError(
            "--remap and --write-remap: pass one (edit the remap by hand, or write a fresh one)"
        )
    if args.write_remap:
        _check_writable("--write-remap", args.write_remap, args.checkpoint)
    d = diff_model(
        args.checkpoint,
        args.other,
        args.key,
        not args.no_strip,
        tuple(args.strip_prefix),
        args.remap,
    )
    if args.write_remap:
        write_remap(d.chosen.remap, args.write_remap)
    for line in render(d, args.remap and f"--remap {args.remap}", args.write_remap):
        console.print(line, markup=False, highlight=False)
    return 0 if (d.ok_after if args.write_remap else d.ok_now) else 1


def _diff_checkpoints(args: argparse.Namespace, console: Console) -> int:
    from codegen.harness.ckpt_diff import diff_checkpoints, render
    from codegen.load import open_checkpoint

    options = {
        "key": args.key,
        "strip": not args.no_strip,
        "strip_prefixes": tuple(args.strip_prefix),
    }
    a = cli.open_from_args(args).table  # with --remap applied
    b = open_checkpoint(args.other, **options).table
    d = diff_checkpoints(a, b)
    for line in render(d):
        console.print(line, markup=False, highlight=False)
    return 0 if d.same else 1


def _check_writable(flag: str, value: str, checkpoint: str) -> None:
    """The input checkpoint is never written, and a missing folder is found before any work."""
    target = Path(value).resolve()
    if target == Path(checkpoint).resolve():
        raise ModelgenError(
            f"{flag} {value}: that is the input checkpoint, which modelgen never writes"
        )
    if not target.parent.is_dir():
        raise ModelgenError(f"{flag} {value}: folder {target.parent} does not exist")
