"""`modelgen` command line: argument parsing and terminal output only; the work is done elsewhere.

torch is imported lazily by the parts that need it, so `--help` and header-only reads stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from rich.console import Console

from codegen.errors import ModelgenError

COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {}


def command(name: str) -> Callable:
    def register(fn: Callable[[argparse.Namespace, Console], int]) -> Callable:
        COMMANDS[name] = fn
        return fn

    return register


def _add_checkpoint_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--key", metavar="PATH", help="state dict location inside a trainer dict, e.g. model or ema"
    )
    p.add_argument(
        "--strip-prefix",
        metavar="P",
        action="append",
        default=[],
        help="also strip this key prefix (repeatable)",
    )
    p.add_argument(
        "--no-strip",
        action="store_true",
        help="keep the module./_orig_mod. prefixes DataParallel and torch.compile add",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelgen",
        description="Recover a standalone PyTorch model.py from a checkpoint; verify, fine-tune, export.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="show the module tree a checkpoint holds")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--depth", type=int, default=None, metavar="N", help="tree depth to show")
    _add_checkpoint_options(p)

    p = sub.add_parser("generate", help="write a model.py that strict-loads the checkpoint")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("-o", "--output", default="generated/model.py", metavar="PATH")
    p.add_argument("--class-name", default="RecoveredModel", metavar="NAME")
    p.add_argument("--hints", metavar="FILE", help="TOML file pinning choices by module path")
    p.add_argument(
        "--force", action="store_true", help="overwrite a file modelgen did not generate"
    )
    p.add_argument(
        "--calibrate", metavar="DATA", help="pick unrecorded choices by matching DATA's outputs"
    )
    p.add_argument("--inputs", metavar="K1,K2", help="DATA keys passed to forward, in order")
    p.add_argument("--target", metavar="K", help="DATA key of the recorded outputs")
    p.add_argument(
        "--remap", metavar="FILE", help="rename checkpoint keys first (see modelgen diff)"
    )
    _add_checkpoint_options(p)

    p = sub.add_parser("check", help="exit 1 with a diff when MODEL.py is stale for CKPT")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("model", metavar="MODEL.py")
    p.add_argument(
        "--hints", metavar="FILE", help="hints file, when not the one recorded in MODEL.py"
    )

    for extra in EXTRA_PARSERS:
        extra(sub)
    return parser


# Other parts of the package add their subcommands here (see codegen/harness/commands.py).
EXTRA_PARSERS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    _load_command_modules()
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    try:
        return COMMANDS[args.command](args, console)
    except ModelgenError as e:
        if args.debug:
            raise
        print(f"modelgen: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("modelgen: interrupted", file=sys.stderr)
        return 130


def _load_command_modules() -> None:
    """Subcommands that live with their part of the package register themselves on import."""
    import importlib

    for module in ("codegen.harness.commands",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise


def open_from_args(args: argparse.Namespace):
    """The checkpoint as the options say, with `--remap FILE` applied where the command has one."""
    from codegen.remap import open_remapped

    return open_remapped(
        args.checkpoint,
        getattr(args, "remap", None),
        key=args.key,
        strip=not args.no_strip,
        strip_prefixes=tuple(args.strip_prefix),
    )


# ------------------------------------------------------------------------------------------ inspect


@command("inspect")
def _inspect(args: argparse.Namespace, console: Console) -> int:
    from codegen.inspect_view import render_tree

    ckpt = open_from_args(args)
    if args.json:
        print(json.dumps(ckpt.table.to_json(), indent=2))
    else:
        console.print(render_tree(ckpt.table, depth=args.depth))
    return 0


# ----------------------------------------------------------------------------------------- generate


@command("generate")
def _generate(args: argparse.Namespace, console: Console) -> int:
    from codegen.generate import calibration_data, generate_file

    ckpt = open_from_args(args)
    with _survivors_frozen():
        report = generate_file(
            ckpt.table,
            output=args.output,
            class_name=args.class_name,
            hints_path=args.hints,
            force=args.force,
            command=_regenerate_command(args),
            calibrate_on=calibration_data(ckpt, args.calibrate, args.inputs, args.target),
            on_trial=_trial_printer(console) if args.calibrate else None,
        )
    console.print(report.summary())
    for note in report.notes:
        console.print(note)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    return 0


@command("check")
def _check(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from codegen.errors import CheckFailed
    from codegen.regenerate import regenerate_into, stale_diff

    path = Path(args.model)
    with _survivors_frozen():
        recorded, regenerated = regenerate_into(args.checkpoint, path, args.hints)
    diff = stale_diff(path.read_text(), regenerated, path.name)
    if diff:
        sys.stdout.write(diff)
        raise CheckFailed(
            f"{path} is stale for {Path(args.checkpoint).name}; regenerate with: {recorded.command}"
        )
    console.print(f"{path} is up to date with {Path(args.checkpoint).name}")
    return 0


@contextmanager
def _survivors_frozen() -> Iterator[None]:
    """For generating: import torch (analysis and the build check need it) and keep the garbage
    collector off every object alive now (torch, the generator's modules, the key table). Each full
    collection would walk all ~200,000 of them again: a third of generating 10,000 keys. Unfrozen
    after, so that callers of main() in one long process (tests) lose nothing to the collector."""
    import gc

    import torch  # noqa: F401

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _trial_printer(console: Console):
    """One line per candidate: the table of what calibration tried and what it kept."""
    console.print("[bold]calibration[/]: choice, candidate, relative error on the search subset")

    def show(trial) -> None:
        where = f"{trial.path or '(top)'} {trial.name} = {trial.value!r}"
        if trial.kept:
            console.print(f"  [green]kept[/] {where} (final error {trial.error:.3g})")
        else:
            console.print(f"  {where}: {trial.error:.3g}")

    return show


def _regenerate_command(args: argparse.Namespace) -> str:
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


if __name__ == "__main__":
    sys.exit(main())
