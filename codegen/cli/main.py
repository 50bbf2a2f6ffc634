"""The parser, the subcommand table and the error contract (one line on stderr, exit code)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from codegen import __version__
from codegen.cli import check, diff, finetune, generate, inspect, verify
from codegen.cli.common import make_console
from codegen.errors import ModelgenError, first_line
from codegen.safetext import printable

# Subcommand name -> module with add_parser(sub) and run(args, console); help lists them in this order.
COMMANDS = {
    "inspect": inspect,
    "generate": generate,
    "check": check,
    "verify": verify,
    "finetune": finetune,
    "diff": diff,
}


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default where it has a meaningful one (not None, False or empty)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "%(default)" not in help
            and default not in (None, False, [], argparse.SUPPRESS)
        ):
            help += " (default: %(default)s)"
        return help


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        # `--debug` before or after the subcommand; SUPPRESS keeps a subparser from resetting it.
        default = False if kwargs.get("prog") == "modelgen" else argparse.SUPPRESS
        self.add_argument("--debug", action="store_true", default=default, help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="modelgen",
        description="Recover a standalone PyTorch model.py from a checkpoint; verify, fine-tune, export.",
    )
    parser.add_argument("--version", action="version", version=f"modelgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = make_console()
    try:
        return COMMANDS[args.command].run(args, console)
    except ModelgenError as e:
        if args.debug:
            raise
        print(f"modelgen: error: {printable(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("modelgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`modelgen inspect --json | head`): stop quietly, as cat and git do.
        # stdout is pointed at /dev/null so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the shell's code for a closed pipe
    except Exception as e:  # a bug of ours: still one line, and the way to the details
        if args.debug:
            raise
        print(
            f"modelgen: internal error: {type(e).__name__}: {printable(first_line(e))} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
