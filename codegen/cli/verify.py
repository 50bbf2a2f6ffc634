"""`modelgen verify CKPT MODEL`: strict load, run, compare with DATA, export to TorchScript."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from codegen.cli.common import (
    add_checkpoint_options,
    add_data_options,
    add_model_options,
    init_args_from,
    open_from_args,
    print_json,
    print_load_failure,
    report_console,
)
from codegen.errors import CheckFailed


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify", help="prove MODEL strict-loads CKPT, runs, and exports to TorchScript"
    )
    p.add_argument("checkpoint", metavar="CKPT")
    add_model_options(p)
    add_data_options(p, required=False)
    _add_tolerance_options(p)
    add_checkpoint_options(p)


def _add_tolerance_options(p: argparse.ArgumentParser) -> None:
    from codegen.harness.compare import ATOL, RTOL

    p.add_argument(
        "--atol",
        type=float,
        default=ATOL,
        metavar="X",
        help="outputs match DATA's recorded outputs within atol + rtol*|recorded| "
        f"(default {ATOL:g})",
    )
    p.add_argument("--rtol", type=float, default=RTOL, metavar="X", help=f"(default {RTOL:g})")


def run(args: argparse.Namespace, console: Console) -> int:
    from codegen.harness.data import load_data
    from codegen.harness.device import resolve_device
    from codegen.harness.loading import LoadFailed
    from codegen.harness.verify import verify

    out = report_console(args, console)
    init_args = init_args_from(args)
    state = open_from_args(args).state_dict()  # with --remap applied
    device = resolve_device(args.device)
    data = load_data(args.data, args.inputs, args.target, need_target=False) if args.data else None
    try:
        result = verify(
            args.model,
            state,
            data,
            device,
            loss=args.loss if data and data.target is not None else None,
            init_args=init_args,
            atol=args.atol,
            rtol=args.rtol,
        )
    except LoadFailed as e:
        print_load_failure(out, e)
        if args.json:
            print_json(
                {"ok": False, "error": str(e), "load": e.report.to_json() if e.report else None}
            )
        raise
    colors = {"ok": "green", "failed": "red", "skipped": "yellow"}
    for step in result.steps:
        out.print(f"[{colors[step.status]}]{step.status:<8}[/] {step.name}: {escape(step.detail)}")
    if args.json:
        print_json(result.to_json())
    if not result.ok:
        raise CheckFailed(
            "verify failed: " + ", ".join(s.name for s in result.steps if s.status == "failed")
        )
    return 0
