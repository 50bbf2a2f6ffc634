"""Calibration on transformer families saved without config.json: candidates, CPU seconds, exact?

For each family tests/test_transformers_calibrate.py calibrates (tiny configs of the installed
`transformers`, biases and norms moved off their initial values), the folder is saved, its
config.json deleted, the library's outputs recorded on 16 inputs, and `modelgen generate FOLDER
--calibrate DATA --candidates 600` run in this process on one torch thread. The candidate count is
the figure to compare between two trees: it does not depend on the machine's load (a count bounds
the search, not a clock), while the CPU seconds beside it do, a little.

Run: python benchmarks/bench_calibrate_transformers.py [FAMILY ...]   (about 5 minutes idle)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from codegen.cli.main import main  # noqa: E402
from tests.test_transformers_calibrate import (  # noqa: E402
    CALIBRATED,
    FAMILIES,
    SEQ2SEQ,
    build_from,
    library_output,
    recorded,
)


def measure(name: str, folder: Path) -> tuple[int, int, float]:
    """(generate's exit status, candidates evaluated, CPU seconds) for one family."""
    model = build_from({**FAMILIES, **SEQ2SEQ}[name])
    model.save_pretrained(folder / "hf")
    (folder / "hf" / "config.json").unlink()
    args, kwargs = recorded(name, batch=16, seq=9, seed=0)
    data = {"inputs": args if len(args) > 1 else args[0], "outputs": library_output(model, kwargs)}
    torch.save(data, folder / "data.pt")
    command = ["generate", str(folder / "hf"), "-o", str(folder / "model.py")]
    command += ["--calibrate", str(folder / "data.pt"), "--candidates", "600"]
    printed = io.StringIO()
    started = time.process_time()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(command)
    seconds = time.process_time() - started
    found = re.search(r"calibration search: (\d+) candidates", printed.getvalue())
    return code, int(found.group(1)) if found else -1, seconds


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("families", nargs="*", help=f"default: all of {', '.join(CALIBRATED)}")
    names = parser.parse_args().families or list(CALIBRATED)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    total_candidates, total_seconds = 0, 0.0
    print(f"{'family':14} {'cands':>6} {'cpu s':>7}  result")
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            code, candidates, seconds = measure(name, Path(tmp))
        verdict = "exact" if code == 0 else f"exit {code}"
        print(f"{name:14} {candidates:6d} {seconds:7.1f}  {verdict}", flush=True)
        total_candidates += candidates
        total_seconds += seconds
    print(f"{'all':14} {total_candidates:6d} {total_seconds:7.1f}")


if __name__ == "__main__":
    run()
