"""Depth changes a number, not the file: generated lines for 2 against 1000 layers of the same block.

benchmarks/_models.py at depth 2 and 1000 (width 8): the repeated blocks should become one class used in
an `nn.ModuleList`, so the generated file barely grows. Goal (issue 9): at most 1.05x the lines.

Run: python benchmarks/bench_depth.py   (under half a minute on 2 CPU cores)
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, child_env, environment, modelgen, print_table  # noqa: E402
from _models import save, state_dict  # noqa: E402

SHALLOW, DEEP = 2, 1000
WIDTH = 8
GOAL = 1.05


def _generate(depth: int, folder: Path) -> list[str]:
    ckpt = save(state_dict(WIDTH, depth), folder / f"depth{depth}.pt")
    out = folder / f"depth{depth}.py"
    subprocess.run(
        modelgen("generate", ckpt.name, "-o", out.name),
        cwd=folder,
        env=child_env(),
        check=True,
        capture_output=True,
    )
    return out.read_text().splitlines()


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        shallow, deep = _generate(SHALLOW, Path(tmp)), _generate(DEEP, Path(tmp))
    changed = sum(
        1
        for line in difflib.unified_diff(shallow, deep, lineterm="", n=0)
        if line[:1] == "+" and not line.startswith("+++")
    )
    ratio = len(deep) / len(shallow)
    return [
        Row(
            f"generated lines, {DEEP} vs {SHALLOW} layers of one block",
            f"{ratio:.2f}x ({len(deep)} vs {len(shallow)} lines; {changed} lines differ)",
            f"<= {GOAL}x",
            ratio <= GOAL,
        )
    ]


def main() -> None:
    print_table(run(), f"generated file size against depth; {environment()}")


if __name__ == "__main__":
    main()
