"""The parser, the subcommand table and the error contract (one line on stderr, exit code)."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from rich.console import Console

from codegen.cli import check, diff, finetune, generate, inspect, verify
from codegen.errors import ModelgenError

# Subcommand name -> module with add_parser(sub) and run(args, console); help lists them in this order.
COMMANDS = {
    "inspect": inspect,
    "generate": generate,
    "check": check,
    "verify": verify,
    "finetune": finetune,
    "diff": diff,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelgen",
        description="Recover a standalone PyTorch model.py from a checkpoint; verify, fine-tune, export.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    try:
        return COMMANDS[args.command].run(args, console)
    except ModelgenError as e:
        if args.debug:
            raise
        print(f"modelgen: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("modelgen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
