"""CNN classifiers as other libraries write them: exact, flagged or WRONG from the keys alone.

For each model of tests/vision_zoo_{ZOO}_models.py (ZOOS below): `modelgen generate` on its bare
state dict (no config, no calibration), the file strict-loaded and compared with the reference on
the zoo's input (atol/rtol 1e-5). Verdicts as tests/zoo_verdicts.py gives them: exact (and
scripts), flagged (differs or cannot run, and the file says a class is guessed or missing),
WRONG (differs silently: the goal is none), crash (an internal error or an exception).
The last column names the flagged classes.
With `--calibrate`, a second column: the same row after `generate --calibrate` on four recorded
samples within `--budget S` seconds or `--candidates N` (benchmarks/_common.calibrated_verdict, the
generative zoo bench's path), judged on the zoo's own input, which calibration never saw.

Run: python benchmarks/bench_vision_zoo.py [ZOO[:NAME] ...] [--calibrate [--budget S |
--candidates N]]   (ZOO is one of ZOOS; no names runs every zoo; a few minutes on 2 cores,
about half a minute a row more with --calibrate --budget 30)
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

ZOOS = ("6", "7", "8", "9", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "more")


def _zoo(key: str):
    return importlib.import_module(f"tests.vision_zoo_{key}_models")


def names(selected: list[str]) -> list[str]:
    found = []
    for item in selected or list(ZOOS):
        key, _, short = item.partition(":")
        try:
            zoo = _zoo(key)
        except ModuleNotFoundError:
            continue
        found += [f"{key}:{name}" for name in zoo.ZOO if not short or name == short]
    return found


def measure(name: str) -> tuple[str, float, str, float]:
    """(verdict, largest difference, the guessed/missing classes, seconds)."""
    from tests.zoo_verdicts import class_trust, generate_from_state_dict, measured

    class _Capsys:  # what generate_from_state_dict reads of pytest's capsys
        def __init__(self, err: io.StringIO) -> None:
            self.err = err

        def readouterr(self):
            return type("Captured", (), {"err": self.err.getvalue()})()

    key, short = name.split(":", 1)
    start = time.perf_counter()
    reference, x = _zoo(key).build(short)
    with tempfile.TemporaryDirectory() as tmp:
        err = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                model, source = generate_from_state_dict(
                    reference, Path(tmp), _Capsys(err), "--force"
                )
            found, diff = measured(reference, model, source, (x,))
        except Exception as exc:  # noqa: BLE001 - a benchmark row, not a test
            line = err.getvalue().strip().splitlines()[-1:] or [f"{type(exc).__name__}: {exc}"]
            return "crash", float("nan"), line[0][:150], time.perf_counter() - start
    flags = class_trust(source).items()
    shown = " ".join(f"{c}:{t[0]}" for c, t in flags if t in ("guessed", "missing"))
    return found, diff, shown, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"ZOO or ZOO:NAME (zoos: {' '.join(ZOOS)})")
    parser.add_argument("--calibrate", action="store_true", help="add the calibrated column")
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument("--budget", type=float, help="calibration seconds per row (default 30)")
    limit.add_argument("--candidates", type=int, help="calibration candidates per row")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    limits = ["--budget", str(args.budget or 30)]
    if args.candidates:
        limits = ["--candidates", str(args.candidates)]
    counts: dict[str, dict[str, int]] = {}
    calibrated: dict[str, dict[str, int]] = {}
    more = f" {'calibrated':>10} {'diff':>9} {'s':>5}" if args.calibrate else ""
    print(f"{'model':30} {'verdict':>8} {'diff':>9} {'s':>5}{more}  flagged classes")
    for name in names(args.names):
        found, diff, shown, seconds = measure(name)
        zoo = name.split(":")[0]
        counts.setdefault(zoo, {}).setdefault(found, 0)
        counts[zoo][found] += 1
        more = ""
        if args.calibrate:
            start = time.perf_counter()
            reference, x = _zoo(zoo).build(name.split(":", 1)[1])
            after, after_diff = calibrated_verdict(reference, (x,), limits)
            calibrated.setdefault(zoo, {}).setdefault(after, 0)
            calibrated[zoo][after] += 1
            more = f" {after:>10} {after_diff:9.3g} {time.perf_counter() - start:5.1f}"
        print(f"{name:30} {found:>8} {diff:9.3g} {seconds:5.1f}{more}  {shown}", flush=True)
    for column, tally in (("", counts), (" calibrated", calibrated)):
        for zoo, row in tally.items():
            total = sum(row.values())
            parts = ", ".join(f"{k} {v}" for k, v in sorted(row.items()))
            print(f"zoo {zoo}{column}: {row.get('exact', 0)}/{total} exact ({parts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
