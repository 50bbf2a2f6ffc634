"""`modelgen check CKPT MODEL.py`: exit 1 with a diff when the generated file is stale."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from codegen.cli.common import survivors_frozen


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="exit 1 with a diff when MODEL.py is stale for CKPT")
    p.add_argument("checkpoint", metavar="CKPT")
    p.add_argument("model", metavar="MODEL.py")
    p.add_argument(
        "--hints", metavar="FILE", help="hints file, when not the one recorded in MODEL.py"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from codegen.errors import CheckFailed
    from codegen.regenerate import regenerate_into, stale_diff, with_fingerprint

    path = Path(args.model)
    with survivors_frozen():
        recorded, regenerated, older = regenerate_into(args.checkpoint, path, args.hints)
    new = re.search(r"fingerprint ([0-9a-f]{16})", regenerated)
    current = with_fingerprint(path.read_text(), older, new.group(1) if new else older)
    diff = stale_diff(current, regenerated, path.name)
    if diff:
        sys.stdout.write(diff)
        raise CheckFailed(
            f"{path} is stale for {Path(args.checkpoint).name}; regenerate with: {recorded.command}"
        )
    console.print(f"{path} is up to date with {Path(args.checkpoint).name}")
    if older:
        console.print(
            f"(it records fingerprint {older}, these weights' hash in key order as modelgen wrote it "
            "before; regenerating writes the order-free one)"
        )
    return 0
