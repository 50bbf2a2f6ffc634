"""`modelgen inspect CKPT`: the module tree a checkpoint holds (rich tree, or --json)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from codegen.cli.common import add_checkpoint_options, open_from_args, print_json


def add_parser(sub: Any) -> None:
    p = sub.add_parser("inspect", help="show the module tree a checkpoint holds")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--depth", type=int, default=None, metavar="N", help="tree depth to show")
    add_checkpoint_options(p)


def run(args: argparse.Namespace, console: Console) -> int:
    from codegen.inspect_view import render_tree

    ckpt = open_from_args(args)
    if args.json:
        from codegen.load.module_pickle import revealed

        # what a whole-model pickle or TorchScript archive records beyond its tensors
        print_json({**ckpt.table.to_json(), "recorded": revealed(ckpt.table.modules)})
    else:
        console.print(render_tree(ckpt.table, depth=args.depth))
    return 0
