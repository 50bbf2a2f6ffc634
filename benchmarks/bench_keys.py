"""Many keys: `modelgen generate` on a 10,002-key checkpoint, as one file and as a sharded set.

The model is benchmarks/_models.py at depth 1666 (6 keys a block) and width 8, so the cost measured is
the key list's, not the weights'. It is written as a torch zip file, a safetensors file, and a set of 4
safetensors shards opened through its model.safetensors.index.json. Each generate runs in a fresh
process, interleaved with one that only imports torch; the goal (issue 9) is under 2 s beyond that.

Run: python benchmarks/bench_keys.py [--repeats N]   (about a minute on 2 CPU cores)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import IMPORT_TORCH, Row, compare, modelgen, run_main  # noqa: E402
from _models import save, save_sharded, state_dict  # noqa: E402

DEPTH = 1666  # 2 + 1666 x 6 + 4 = 10,002 keys
WIDTH = 8
SHARDS = 4
GOAL_S = 2.0


def run(repeats: int = 3) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        state = state_dict(WIDTH, DEPTH)
        inputs = {
            ".pt": save(state, folder / "model.pt"),
            ".safetensors": save(state, folder / "model.safetensors"),
            f"{SHARDS} safetensors shards via index.json": save_sharded(
                state, folder / "sharded", SHARDS
            ),
        }
        commands = {"torch": IMPORT_TORCH} | {
            name: modelgen("generate", path, "-o", folder / f"out{i}.py", "--force")
            for i, (name, path) in enumerate(inputs.items())
        }
        got = compare(commands, repeats)
    rows = []
    for name in inputs:
        beyond = got[name].wall_s - got["torch"].wall_s
        cpu = got[name].cpu_s - got["torch"].cpu_s
        rows.append(
            Row(
                f"generate {len(state):,} keys ({name}): time beyond `import torch`",
                f"{beyond:.2f} s ({got[name].wall_s:.2f} s vs {got['torch'].wall_s:.2f} s; "
                f"CPU time {cpu:.2f} s beyond)",
                f"< {GOAL_S:g} s",
                beyond < GOAL_S,
            )
        )
    return rows


def main() -> None:
    run_main(run, __doc__, "generate on a 10,000-key checkpoint")


if __name__ == "__main__":
    main()
