"""Calibration's cost over a zoo: candidates evaluated and seconds, new search against the old one.

"new": codegen.calibrate as it is (coordinate descent with tied moves, a beam, pairs of moves; each
candidate built on the meta device and handed the checkpoint's tensors; the layers a candidate
shares with the best model so far, called with the same inputs, replayed from its record instead of
re-run). "no reuse": the same search with replay off, to show what reusing activations gains.
"old": the search before
issue 18, run from the same code with `strategy="beam"` (descent by the best single change, then a
beam of 2) and candidates built as it built them (random init, then a copied state dict). Both run
in this one process, interleaved model by model, under the same budget, so a busy machine slows
both alike. The table also gives each model's layers and its distinct decisions (choices the search
may change): the cost should follow the decisions, not the layers. Under it, the new search's
milliseconds per candidate by phase (write: analyze and render; build: compile and hand over the
tensors; run: the forward, replay included) and the share of layer calls it replayed.

Run: python benchmarks/calibrate_bench.py [--only res200 gn_cnn ...] [--budget 120]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# where the search looks up _loaded (the "old" strategy swaps it there)
import codegen.calibrate.evaluate as calibrate_module  # noqa: E402
from codegen.analyze import analyze  # noqa: E402
from codegen.calibrate import calibrate, searchable  # noqa: E402
from codegen.load import open_checkpoint  # noqa: E402


class ResidualMLP(nn.Module):
    """`x = x + relu(block(x))` over N Linear(64, 64) blocks: one decision however deep."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(64, 64) for _ in range(depth))
        self.head = nn.Linear(64, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + torch.relu(block(x))
        return self.head(x)


class GroupNormCNN(nn.Module):
    """A max-pool, GroupNorm(4, 32) and adaptive average pooling: none of them in the keys."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.norm1 = nn.GroupNorm(4, 32)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.norm2 = nn.GroupNorm(4, 32)
        self.fc = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(torch.relu(self.norm1(self.conv1(x))), 2)
        x = torch.relu(self.norm2(self.conv2(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class DeepCNN(nn.Module):
    """Six 3x3 convolutions on 32x32 images, then pooling and a Linear head: a forward that costs
    more than building the candidate, where reusing the unchanged layers' activations shows."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.convs = nn.ModuleList(nn.Conv2d(32, 32, 3, padding=1) for _ in range(5))
        self.head = nn.Linear(32, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        for conv in self.convs:
            x = torch.relu(conv(x))
        return torch.sigmoid(self.head(F.adaptive_avg_pool2d(x, 1).flatten(1)))


def _mobilenet() -> nn.Module:
    from tests.test_vision_families import mobilenet_v2

    return mobilenet_v2()


def _trust(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from tests import trust_models

        return trust_models.EXAMPLES[name]()

    return build


def _trust_inputs(name: str) -> Callable[[], tuple[torch.Tensor, ...]]:
    def make() -> tuple[torch.Tensor, ...]:
        from tests import trust_models

        return tuple(torch.cat([t] * 6) for t in trust_models.INPUTS[name]())

    return make


ZOO: dict[str, tuple[Callable[[], nn.Module], Callable[[], tuple[torch.Tensor, ...]]]] = {
    "res_mlp20": (lambda: ResidualMLP(20), lambda: (torch.randn(48, 64),)),
    "res_mlp50": (lambda: ResidualMLP(50), lambda: (torch.randn(48, 64),)),
    "res_mlp200": (lambda: ResidualMLP(200), lambda: (torch.randn(48, 64),)),
    "gn_cnn": (GroupNormCNN, lambda: (torch.randn(48, 3, 16, 16),)),
    "deep_cnn32": (DeepCNN, lambda: (torch.randn(48, 3, 32, 32),)),
    "mobilenet_like": (_mobilenet, lambda: (torch.randn(16, 3, 16, 16),)),
    **{
        f"trust:{name}": (_trust(name), _trust_inputs(name))
        for name in (
            "pooled_cnn",
            "se_net",
            "sigmoid_autoencoder",
            "lstm_lm",
            "prenorm_mlp_block",
            "tanh_mlp",
        )
    },
}


def _checkpoint(name: str, folder: Path) -> tuple[object, dict, tuple, torch.Tensor]:
    make, inputs = ZOO[name]
    torch.manual_seed(0)
    model = make().eval()
    for m in model.modules():  # statistics that show in the outputs
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
        if isinstance(m, nn.GroupNorm):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    x = inputs()
    with torch.no_grad():
        y = model(*x)
    path = folder / f"{name.replace(':', '_')}.pt"
    torch.save(model.state_dict(), path)
    ckpt = open_checkpoint(path)
    return ckpt.table, ckpt.state_dict(), x, y


def _old_build(source: str, class_name: str, state: dict, shared: bool = True):
    return _built_as_before(source, class_name, state, False)


_built_as_before = calibrate_module._loaded


def _run(strategy: str, table, state, x, y, budget: float):
    """strategy: new | noreuse | old."""
    if strategy == "old":
        calibrate_module._loaded = _old_build
    try:
        started = time.monotonic()
        result = calibrate(
            table,
            state,
            x,
            y,
            "RecoveredModel",
            {},
            strategy="beam" if strategy == "old" else "staged",
            budget_s=budget,
            replay=strategy == "new",
        )
        return result, time.monotonic() - started
    finally:
        calibrate_module._loaded = _built_as_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(ZOO), help="these models only")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per search")
    args = parser.parse_args()
    import tempfile

    torch.set_num_threads(min(2, torch.get_num_threads()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = _checkpoint("trust:tanh_mlp", Path(tmp))  # first-use imports, paid by no row
        for strategy in ("new", "noreuse", "old"):
            _run(strategy, *warm, args.budget)
        for name in args.only or list(ZOO):
            table, state, x, y = _checkpoint(name, Path(tmp))
            ir = analyze(table, class_name="RecoveredModel")
            layers = len({k.rsplit(".", 1)[0] for k in table.tensors})  # modules with tensors
            decisions = len(searchable(ir))
            runs = [_run(s, table, state, x, y, args.budget) for s in ("new", "noreuse", "old")]
            rows.append((name, layers, decisions, runs))
            _print_row(*rows[-1])
    print("\nwhere the new search's time goes, per candidate:")
    print(
        f"{'model':24} {'ms/cand':>8} {'write':>7} {'build':>7} {'run':>7} | "
        f"{'no reuse: run':>13} | {'layer calls replayed':>20}"
    )
    for name, _, _, ((new, new_s), (plain, _), _) in rows:
        per = 1000 / max(new.evaluated, 1)
        plain_per = 1000 / max(plain.evaluated, 1)
        share = f"{new.replayed}/{new.member_calls}" if new.member_calls else "-"
        print(
            f"{name:24} {new_s * per:8.1f} {new.phases['write'] * per:7.1f} "
            f"{new.phases['build'] * per:7.1f} {new.phases['run'] * per:7.1f} | "
            f"{plain.phases['run'] * plain_per:13.1f} | {share:>20}"
        )
    print(
        f"\n(python {sys.version.split()[0]}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, budget {args.budget:g} s per search)"
    )


def _status(result) -> str:
    if result.reproduces:
        return "exact"
    return "budget" if result.budget_spent else f"off {result.error:.2g}"


def _print_row(name, layers, decisions, runs) -> None:
    (new, new_s), (plain, plain_s), (old, old_s) = runs
    if not hasattr(_print_row, "header"):
        _print_row.header = True
        print(
            f"{'model':24} {'modules':>7} {'decisions':>9} | {'new: cands':>10} {'s':>6} "
            f"{'s/cand':>7} {'result':>9} | {'no reuse: s':>11} {'s/s':>5} | {'old: cands':>10} "
            f"{'s':>6} {'result':>9} | {'old/new':>7}"
        )
    print(
        f"{name:24} {layers:7d} {decisions:9d} | {new.evaluated:10d} {new_s:6.2f} "
        f"{new_s / max(new.evaluated, 1):7.3f} {_status(new):>9} | {plain_s:11.2f} "
        f"{plain_s / new_s:4.2f}x | {old.evaluated:10d} {old_s:6.2f} {_status(old):>9} | "
        f"{old_s / new_s:6.1f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
