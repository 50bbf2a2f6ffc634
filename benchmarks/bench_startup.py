"""Commands that need no tensors start without torch: `modelgen --help` and `modelgen inspect`.

`inspect` of a safetensors file reads its JSON header only, and of a torch zip file its pickle only
(codegen/load/torchzip.py), so neither imports torch. Each is timed in a fresh process against the torch-based
read of the same file a user would otherwise write (`safetensors.torch.load_file`, `torch.load`); the
goal (issue 9) is at least 5x faster. A second check runs the same commands in-process and reports
whether `torch` ended up in sys.modules.

Run: python benchmarks/bench_startup.py [--repeats N]   (under a minute on 2 CPU cores)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, child_env, compare, modelgen, run_main  # noqa: E402
from _models import save, size_text, state_dict  # noqa: E402

WIDTH, DEPTH = 256, 44  # 270 keys, 93 MB of float32
GOAL = 5.0

# Runs the CLI in-process and reports whether torch was imported by the time it finished.
_TORCH_CHECK = """
import sys
from codegen.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("torch imported" if "torch" in sys.modules else "torch not imported", file=sys.stderr)
"""


def _imports_torch(args: list[str]) -> bool:
    proc = subprocess.run(
        [sys.executable, "-c", _TORCH_CHECK, *args],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stderr.strip().splitlines()[-1] == "torch imported"


def run(repeats: int = 5) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        state = state_dict(WIDTH, DEPTH)
        st = save(state, Path(tmp) / "model.safetensors")
        pt = save(state, Path(tmp) / "model.pt")
        commands = {
            "help": modelgen("--help"),
            "inspect st": modelgen("inspect", st),
            "torch st": [
                sys.executable,
                "-c",
                f"import torch; from safetensors.torch import load_file; load_file({str(st)!r})",
            ],
            "inspect pt": modelgen("inspect", pt),
            "torch pt": [
                sys.executable,
                "-c",
                f"import torch; torch.load({str(pt)!r}, weights_only=True, mmap=True)",
            ],
        }
        got = compare(commands, repeats)
        ours = (
            "help",
            "inspect st",
            "inspect pt",
        )  # commands[...][3:]: the arguments after python -m codegen
        torch_free = {name: not _imports_torch(commands[name][3:]) for name in ours}
        size = size_text(st)

    def row(name: str, label: str, against: str, what: str) -> Row:
        ratio = got[against].wall_s / got[name].wall_s
        imported = "" if torch_free[name] else "; IMPORTS TORCH"
        return Row(
            f"`modelgen {label}` vs {what}",
            f"{ratio:.1f}x faster ({got[name].wall_s:.2f} s vs {got[against].wall_s:.2f} s){imported}",
            f">= {GOAL:g}x, no torch",
            ratio >= GOAL and torch_free[name],
        )

    return [
        row("help", "--help", "torch st", f"load_file of a {size} safetensors file"),
        row("inspect st", "inspect model.safetensors", "torch st", "safetensors.torch.load_file"),
        row(
            "inspect pt", "inspect model.pt", "torch pt", "torch.load(weights_only=True, mmap=True)"
        ),
    ]


def main() -> None:
    run_main(run, __doc__, "commands that need no tensors", repeats=5)


if __name__ == "__main__":
    main()
