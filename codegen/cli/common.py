"""What several subcommands share: checkpoint and DATA options, opening the checkpoint, output helpers."""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from typing import Any, Iterator

from rich.console import Console

MODEL_HELP = "model.py, file.py:Class or package.module:Class"


def add_checkpoint_options(p: argparse.ArgumentParser) -> None:
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


def add_data_options(p: argparse.ArgumentParser, required: bool) -> None:
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


def report_console(args: argparse.Namespace, console: Console) -> Console:
    """With --json, stdout carries only the JSON; everything for people goes to stderr."""
    return Console(stderr=True, highlight=False, soft_wrap=True) if args.json else console


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def print_load_failure(out: Console, e: Any) -> None:
    if e.report is not None:
        out.print(e.report.render(), markup=False, highlight=False)


def add_force_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing file modelgen did not generate (never one the command reads)",
    )


@contextmanager
def survivors_frozen() -> Iterator[None]:
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
