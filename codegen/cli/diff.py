"""`modelgen diff CKPT MODEL|CKPT2`: why CKPT does not strict-load into MODEL (and a remap), or what
changed between two checkpoints."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from codegen.cli.common import add_checkpoint_options, add_force_option, open_from_args
from codegen.errors import ModelgenError


def add_parser(sub: Any) -> None:
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
    add_force_option(p)
    add_checkpoint_options(p)


def run(args: argparse.Namespace, console: Console) -> int:
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
    from codegen.output import planned
    from codegen.remap import write_remap

    if args.remap and args.write_remap:
        raise ModelgenError(
            "--remap and --write-remap: pass one (edit the remap by hand, or write a fresh one)"
        )
    output = planned(args, "--write-remap", args.write_remap) if args.write_remap else None
    d = diff_model(
        args.checkpoint,
        args.other,
        args.key,
        not args.no_strip,
        tuple(args.strip_prefix),
        args.remap,
    )
    if output is not None:
        write_remap(d.chosen.remap, output)
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
    a = open_from_args(args).table  # with --remap applied
    b = open_checkpoint(args.other, **options).table
    d = diff_checkpoints(a, b)
    for line in render(d):
        console.print(line, markup=False, highlight=False)
    return 0 if d.same else 1
