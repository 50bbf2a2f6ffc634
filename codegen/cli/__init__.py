"""`modelgen` command line: argument parsing and terminal output only; the work is done elsewhere.

One module per subcommand (`add_parser` + `run`), `common` for what several share, `main` for the
parser and the error contract. Nothing outside this package imports it, and it is the only place
that prints. torch is imported lazily by the handlers, so `--help` and header-only reads stay fast.
"""

from codegen.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
