"""Shared by the benchmarks: commands measured in fresh processes, and the result table.

Each measurement runs in a fresh interpreter, as a user's command would: its wall time, and its peak
resident memory as the kernel accounted it (`getrusage(RUSAGE_CHILDREN)` in a small launcher).
Commands that are compared run interleaved, several times, and the median is kept, so a busy machine
slows both sides alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
IMPORT_TORCH = [sys.executable, "-c", "import torch"]


def modelgen(*args: str | os.PathLike) -> list[str]:
    """`modelgen ARGS`, as `python -m codegen` (the same entry point) on this checkout."""
    return [sys.executable, "-m", "codegen", *map(str, args)]


@dataclass
class Sample:
    wall_s: float
    peak_mb: float
    cpu_s: float  # user + system: what the command cost, less sensitive than wall time to a busy machine


# Runs a command and reports that child's peak memory. It is the measuring parent, not us: a child's
# ru_maxrss starts from its parent's footprint at fork (the kernel carries the high-water mark across
# exec), and the benchmark itself holds torch and, while it writes them, whole checkpoints.
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write(proc.stdout.decode(errors="replace")[-2000:] if proc.returncode else "")
print(json.dumps([proc.returncode, wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime]))
"""


def child_env() -> dict[str, str]:
    """This checkout's codegen first on the path, whatever `pip install -e` points at."""
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )


def measure(cmd: list[str], cwd: Path | None = None) -> Sample:
    """One run of cmd in a fresh process. A failed run measures nothing, so it stops the benchmark."""
    out = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *cmd],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    *output, last = out.splitlines()
    code, wall, peak, cpu = json.loads(last)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n" + "\n".join(output))
    return Sample(
        wall, peak / (2**20 if sys.platform == "darwin" else 2**10), cpu
    )  # bytes on macOS, else KiB


def compare(
    commands: dict[str, list[str]], repeats: int = 3, cwd: Path | None = None
) -> dict[str, Sample]:
    """Median wall time, peak memory and CPU time of each command, after one warm-up run; round-robin."""
    runs: dict[str, list[Sample]] = {name: [] for name in commands}
    for cmd in commands.values():
        measure(cmd, cwd)  # not counted: fills the page cache after the checkpoints were written
    for _ in range(repeats):
        for name, cmd in commands.items():
            runs[name].append(measure(cmd, cwd))
    return {
        name: Sample(
            *(statistics.median(getattr(s, f) for s in got) for f in ("wall_s", "peak_mb", "cpu_s"))
        )
        for name, got in runs.items()
    }


@dataclass
class Row:
    benchmark: str
    measured: str
    goal: str
    met: bool | None  # None: for information, no goal


def print_table(rows: list[Row], title: str | None = None) -> None:
    """A Markdown table, so a run pastes straight into a README."""
    if title:
        print(title)
    header = ("benchmark", "measured", "goal", "met")
    verdict = {True: "yes", False: "NO", None: ""}
    cells = [header] + [(r.benchmark, r.measured, r.goal, verdict[r.met]) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    for i, c in enumerate(cells):
        print("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def environment() -> str:
    import platform

    import torch

    return (
        f"python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs "
        f"({torch.get_num_threads()} torch threads), {platform.system()} {platform.machine()}"
    )


def run_main(run: Callable[[int], list[Row]], doc: str, title: str, repeats: int = 3) -> None:
    """The command line every timed benchmark shares: `--repeats N`, then one table."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=repeats, help="runs of each command; the median counts"
    )
    args = parser.parse_args()
    print_table(run(args.repeats), f"{title}; {environment()}")


def calibrated_verdict(reference, inputs: tuple, limits: list[str]) -> tuple[str, float]:
    """A zoo row after `generate --calibrate` on four recorded samples (tests/generative_zoo_check:
    fresh inputs, and timesteps for a two-input U-Net) within `limits` (`--budget S`,
    `--candidates N`); the verdict on the zoo's own inputs, which calibration never saw: exact,
    flagged (the file says where it is not right) or WRONG (differs silently). crash: generate
    failed with an internal error or refused."""
    import contextlib
    import io
    import tempfile

    from tests import generative_zoo_check as check

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extra = ["--quiet", *check.recorded(reference, inputs, folder / "data.pt"), *limits]
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                model, source = check.generate(reference, folder, *extra)
            except Exception:  # noqa: BLE001 - a benchmark row: an internal error, a refusal
                return "crash", float("nan")
        if "internal error" in err.getvalue():
            return "crash", float("nan")
        return check.verdict(reference, inputs, model, source)
