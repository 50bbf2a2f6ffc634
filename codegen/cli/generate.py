"""`modelgen generate CKPT`: write a model.py that strict-loads the checkpoint."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from codegen.cli.common import (
    add_checkpoint_options,
    add_force_option,
    open_from_args,
    survivors_frozen,
)
from codegen.cli.progress import CalibrationBar
from codegen.errors import CheckFailed, ModelgenError
from codegen.safetext import terminal_text


def add_parser(sub: Any) -> None:
    p = sub.add_parser("generate", help="write a model.py that strict-loads the checkpoint")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument(
        "-o", "--output", default="generated/model.py", metavar="PATH", help="file to write"
    )
    p.add_argument(
        "--class-name", default="RecoveredModel", metavar="NAME", help="the top-level class"
    )
    p.add_argument("--hints", metavar="FILE", help="TOML file pinning choices by module path")
    add_force_option(p)
    p.add_argument(
        "--calibrate", metavar="DATA", help="pick unrecorded choices by matching DATA's outputs"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long --calibrate may search before taking the best found (default 120, "
        "or no time limit with --candidates)",
    )
    p.add_argument(
        "--candidates",
        type=int,
        default=None,
        metavar="N",
        help="how many candidates --calibrate may evaluate (default 600); given alone, the "
        "search has no time limit, so its result does not depend on the machine's load",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar or per-candidate table while calibrating",
    )
    p.add_argument(
        "--list-choices",
        action="store_true",
        help="list every value the checkpoint does not record (path, name, allowed values), "
        "as --hints spells them, and write nothing",
    )
    p.add_argument(
        "--recalibrate",
        action="store_true",
        help="forget the calibrated values the output file records (they are kept otherwise)",
    )
    p.add_argument("--inputs", metavar="K1,K2", help="DATA keys passed to forward, in order")
    p.add_argument("--target", metavar="K", help="DATA key of the recorded outputs")
    p.add_argument(
        "--remap", metavar="FILE", help="rename checkpoint keys first (see modelgen diff)"
    )
    add_checkpoint_options(p)


def run(args: argparse.Namespace, console: Console) -> int:
    from codegen.generate import calibration_data, generate_file
    from codegen.output import planned

    if not args.list_choices:
        output = planned(args, "-o", args.output, marked=True)  # before any work
    ckpt = open_from_args(args)
    if args.list_choices:
        return _list_choices(args, ckpt, console)
    if args.budget is not None and not (0 < args.budget <= 86400):
        raise ModelgenError("--budget: must be a number of seconds above 0 (at most a day)")
    if args.candidates is not None and not (0 < args.candidates <= 1_000_000):
        raise ModelgenError("--candidates: must be a whole number above 0 (at most a million)")
    calibrate_on = calibration_data(ckpt, args.calibrate, args.inputs, args.target)
    if calibrate_on is not None:
        calibrate_on.budget_s = args.budget
        calibrate_on.candidates = args.candidates
    quiet = args.quiet or not args.calibrate
    with survivors_frozen(), CalibrationBar(enabled=not quiet) as bar:
        report = generate_file(
            ckpt.table,
            output=output,
            class_name=args.class_name,
            hints_path=args.hints,
            command=regenerate_command(args),
            calibrate_on=calibrate_on,
            on_trial=None if quiet else _trial_printer(console),
            on_progress=bar.update,
            recalibrate=args.recalibrate,
        )
    console.print(terminal_text(report.summary()))
    for note in report.notes:
        console.print(terminal_text(note))
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {terminal_text(warning)}")
    console.print(terminal_text(report.trust_line()))
    if report.forward is not None:
        color = {"ok": "green", "failed": "red", "skipped": "yellow"}[report.forward.status]
        console.print(f"[{color}]{terminal_text(report.forward.summary())}[/]")
    calibration = report.calibration
    if calibration is not None:
        console.print(f"calibration: {terminal_text(calibration.verdict())}")
        console.print(f"calibration search: {calibration.cost()}")
        if not calibration.reproduces:
            targets = calibration.evidence == "targets"
            raise CheckFailed(
                f"{args.output} was written, but it does not reproduce {args.calibrate}"
                + (" (training targets prove nothing exact)" if targets else "")
            )
    return 0


def _list_choices(args: argparse.Namespace, ckpt: Any, console: Console) -> int:
    from codegen.generate import list_choices

    rows = list_choices(ckpt.table, args.class_name, args.hints)
    if not rows:
        console.print("no choices: the checkpoint records everything this model needs")
        return 0
    console.print(
        "[bold]choices[/] (\\[path] name = value (source); allowed values), as --hints takes them:"
    )
    for r in rows:
        allowed = ", ".join(repr(v) for v in r.allowed)
        if r.also_accepts:
            allowed += f"; or {r.also_accepts}"
        console.print(
            terminal_text(f"[{r.path}] {r.name} = {r.value!r} ({r.source}); allowed: {allowed}")
        )
    return 0


def _trial_printer(console: Console):
    """One line per candidate: the table of what calibration tried and what it kept."""
    console.print("[bold]calibration[/]: choice, candidate, relative error on the search subset")

    def show(trial) -> None:
        where = terminal_text(f"{trial.path or '(top)'} {trial.name} = {trial.value!r}")
        if trial.kept:
            console.print(f"  [green]kept[/] {where} (final error {trial.error:.3g})")
        elif trial.failure:
            console.print(f"  {where}: inf, does not run: {terminal_text(trial.failure)}")
        else:
            console.print(f"  {where}: {trial.error:.3g}")

    return show


def regenerate_command(args: argparse.Namespace) -> str:
    """The command recorded in the generated docstring: relative paths as the user typed them."""
    import shlex

    parts = ["modelgen", "generate", _portable(args.checkpoint), "-o", _portable(args.output)]
    if args.class_name != "RecoveredModel":
        parts += ["--class-name", args.class_name]
    if args.hints:
        parts += ["--hints", args.hints]
    if getattr(args, "calibrate", None):
        parts += ["--calibrate", _portable(args.calibrate)]
        parts += ["--inputs", args.inputs] if args.inputs else []
        parts += ["--target", args.target] if args.target else []
        # A count alone makes the search reproducible: regenerating finds the same choices.
        if getattr(args, "candidates", None) and getattr(args, "budget", None) is None:
            parts += ["--candidates", str(args.candidates)]
    if args.key:
        parts += ["--key", args.key]
    for p in args.strip_prefix:
        parts += ["--strip-prefix", p]
    if args.no_strip:
        parts.append("--no-strip")
    if getattr(args, "remap", None):
        parts += ["--remap", _portable(args.remap)]
    return shlex.join(parts)


def _portable(path: str) -> str:
    """Relative paths stay as typed; absolute ones become relative to here, or just the file name."""
    from pathlib import Path

    p = Path(path)
    if not p.is_absolute():
        return path
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return p.name
