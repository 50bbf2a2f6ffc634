"""Generative nets as other repositories write them: exact, flagged or WRONG, from keys alone and
after --calibrate on recorded outputs.

For each model of tests/generative_zoo_{ZOO}_models.py (ZOOS below; weights redrawn at unit
scale, tests/redraw.py): `modelgen generate` on its bare state dict, the file strict-loaded and
compared with the reference on the zoo's input (atol/rtol 1e-5); then the same with `--calibrate`
on four recorded samples (and timesteps for the diffusion U-Nets) within `--budget` seconds.
Verdicts as tests/generative_zoo_check.py gives them: exact (and scripts), flagged (differs, and
the file says guessed or missing), WRONG (differs silently: the goal is none).

Run: python benchmarks/bench_generative_zoo.py [ZOO | ZOO:NAME ...] [--budget 60] [--keys-only]
(ZOO is one of ZOOS and stands for all its rows; no names runs every zoo; a minute or two a row
on 2 cores with calibration)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import calibrated_verdict  # noqa: E402

ZOOS = ("8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25")


def _zoo(key: str):
    return importlib.import_module(f"tests.generative_zoo_{key}_models")


def names() -> list[str]:
    return [f"{key}:{name}" for key in ZOOS for name in _zoo(key).ZOO]


def expand(requested: list[str]) -> list[str]:
    """Rows for the command line: a bare zoo key stands for all of its rows."""
    rows = []
    for name in requested:
        key, _, short = name.partition(":")
        if key not in ZOOS or (short and short not in _zoo(key).ZOO):
            raise SystemExit(f"bench_generative_zoo: no zoo row {name!r} (zoos: {', '.join(ZOOS)})")
        rows += [name] if short else [f"{key}:{row}" for row in _zoo(key).ZOO]
    return rows


def measure(name: str, budget: int, calibrate: bool) -> tuple[str, float, float]:
    from tests import generative_zoo_check as check

    key, short = name.split(":", 1)
    reference, inputs = _zoo(key).build(short)
    start = time.perf_counter()
    if calibrate:
        verdict, diff = calibrated_verdict(reference, inputs, ["--budget", str(budget)])
        return verdict, diff, time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()) as err,
            ):
                model, source = check.generate(reference, Path(tmp), "--quiet")
            if "internal error" in err.getvalue():
                return "crash", float("nan"), time.perf_counter() - start
            verdict, diff = check.verdict(reference, inputs, model, source)
        except Exception as exc:  # noqa: BLE001 - a benchmark row, not a test
            print(f"  {name}: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr)
            return "crash", float("nan"), time.perf_counter() - start
    return verdict, diff, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="ZOO or ZOO:NAME (default all)")
    parser.add_argument("--budget", type=int, default=60, help="calibration seconds per model")
    parser.add_argument("--keys-only", action="store_true", help="skip the --calibrate column")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = expand(args.names) or names()
    counts = {"keys": {}, "calibrated": {}}
    print(f"{'model':34} {'keys':>8} {'diff':>9} {'calibrated':>11} {'diff':>9} {'s':>5}")
    for name in rows:
        row = [measure(name, args.budget, False)]
        if not args.keys_only:
            row.append(measure(name, args.budget, True))
        cells = " ".join(f"{v:>8} {d:9.3g}" for v, d, _ in row)
        print(f"{name:34} {cells} {sum(s for *_, s in row):5.0f}", flush=True)
        for column, (v, *_rest) in zip(counts, row):
            counts[column][v] = counts[column].get(v, 0) + 1
    for column, tally in counts.items():
        if tally:
            print(f"{column}: " + ", ".join(f"{k} {n}" for k, n in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
