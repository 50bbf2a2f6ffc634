"""Generation costs what the key list costs, not what the weights weigh: ~1.5 GB against a tiny twin.

Both checkpoints hold the same 270 keys (benchmarks/_models.py, 44 blocks); only the widths differ
(1024 against 8). Each `modelgen generate` runs in a fresh process, interleaved with the other size and
with a process that only imports torch, the floor every generate pays. Goals (issue 9): the big one
takes at most 1.2x the tiny one's time, and peaks at most 100 MB above importing torch. Done once for a
torch zip file and once for a safetensors file; one file at a time, so the disk holds ~1.5 GB at most.

Run: python benchmarks/bench_scale.py [--repeats N]   (about a minute on 2 CPU cores)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import IMPORT_TORCH, Row, compare, modelgen, run_main  # noqa: E402
from _models import save, size_text, state_dict  # noqa: E402

DEPTH = 44
BIG_WIDTH = 1024  # 44 blocks x (2 x 1024 x 4096 + ...) float32 = 1.48 GB
TINY_WIDTH = 8
TIME_GOAL = 1.2
MEMORY_GOAL_MB = 100


def run(repeats: int = 3) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for suffix in (".pt", ".safetensors"):
            tiny = save(state_dict(TINY_WIDTH, DEPTH), folder / f"tiny{suffix}")
            big = save(state_dict(BIG_WIDTH, DEPTH), folder / f"big{suffix}")
            got = compare(
                {
                    "torch": IMPORT_TORCH,
                    "tiny": modelgen("generate", tiny, "-o", folder / "tiny.py", "--force"),
                    "big": modelgen("generate", big, "-o", folder / "big.py", "--force"),
                },
                repeats,
            )
            same = (folder / "tiny.py").read_text().count("\n") == (
                folder / "big.py"
            ).read_text().count("\n")
            size = f"{size_text(big)} {suffix}"
            big.unlink()
            time_ratio = got["big"].wall_s / got["tiny"].wall_s
            rows.append(
                Row(
                    f"generate {size} vs {size_text(tiny)}, same keys: time",
                    f"{time_ratio:.2f}x ({got['big'].wall_s:.2f} s vs {got['tiny'].wall_s:.2f} s)"
                    + ("" if same else "; outputs differ in length"),
                    f"<= {TIME_GOAL}x",
                    time_ratio <= TIME_GOAL,
                )
            )
            over = got["big"].peak_mb - got["torch"].peak_mb
            rows.append(
                Row(
                    f"generate {size}: peak memory over `import torch`",
                    f"+{over:.0f} MB ({got['big'].peak_mb:.0f} vs {got['torch'].peak_mb:.0f} MB; "
                    f"tiny +{got['tiny'].peak_mb - got['torch'].peak_mb:.0f} MB)",
                    f"<= +{MEMORY_GOAL_MB} MB",
                    over <= MEMORY_GOAL_MB,
                )
            )
    return rows


def main() -> None:
    run_main(run, __doc__, "generate on big vs tiny checkpoints")


if __name__ == "__main__":
    main()
