"""Run every benchmark of issue 9 and print one table (Markdown), the figures all from this run.

Run: python benchmarks/run_all.py [--only NAME ...]   (about 4 minutes on 2 CPU cores)
Each benchmark also runs alone: python benchmarks/bench_<name>.py
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, environment, print_table  # noqa: E402

BENCHMARKS = ("startup", "depth", "keys", "scale", "finetune", "families")  # fastest first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS)
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.only:
        started = time.perf_counter()
        rows += importlib.import_module(f"bench_{name}").run()
        print(f"bench_{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print_table(rows, f"modelgen benchmarks; {environment()}")
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
