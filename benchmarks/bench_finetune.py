"""Head-only fine-tuning of the seed transformer: modelgen's way against a plain training loop.

All three tune only `output_layer` (8,256 of 612,800 parameters) under MSE on the same samples:

- naive: a plain Adam loop that runs the full model forward on every step, as a hand-written script would;
- modelgen: `finetune --train output_layer`, which runs the frozen trunk once per sample and solves the
  final Linear in closed form (least squares); its time includes the full forward passes of its baseline
  and final-loss checks;
- modelgen --method adam: the same cached features, trained with Adam, to show what caching alone buys.

Run: python benchmarks/bench_finetune.py [--samples N] [--epochs E]   (under a minute on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from codegen.harness.distributed import Comm  # noqa: E402
from codegen.harness.finetune import Job, prepare, train  # noqa: E402
from codegen.harness.progress import Progress  # noqa: E402
from _common import Row, environment, print_table  # noqa: E402
from seed_transformer import TransformerRegressor, build  # noqa: E402

MODEL = f"{ROOT / 'examples' / 'seed_transformer.py'}:TransformerRegressor"


def naive_adam(
    weights: Path, data: Path, epochs: int, batch_size: int, lr: float
) -> tuple[float, float]:
    """The loop a user would write: full forward every step, only output_layer trainable."""
    state = torch.load(weights, weights_only=True)["model_state_dict"]
    model = TransformerRegressor().eval()
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("output_layer."))
    d = torch.load(data, weights_only=True)
    src, tgt = d["src_sequences"], d["tgt_sequences"]
    opt = torch.optim.Adam(model.output_layer.parameters(), lr=lr)
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(len(src), generator=generator)
        for start in range(0, len(src), batch_size):
            idx = order[start : start + batch_size]
            loss = F.mse_loss(model(src[idx], tgt[idx]), tgt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        final = F.mse_loss(model(src, tgt), tgt).item()
    return final, time.perf_counter() - started


def harness(
    weights: Path, data: Path, method: str, epochs: int, batch_size: int, lr: float
) -> tuple[float, float, float]:
    job = Job(
        str(weights),
        MODEL,
        str(data),
        "output_layer",
        inputs="src_sequences,tgt_sequences",
        target="tgt_sequences",
        method=method,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        val_fraction=0.0,
        patience=epochs,
        device="cpu",
    )
    prepared = prepare(job)
    started = time.perf_counter()
    result = train(prepared, Comm(), Progress())
    assert result.method == method
    return result.final, time.perf_counter() - started, result.baseline


GOAL = 10.0


def run(samples: int = 512, epochs: int = 10, batch_size: int = 32, lr: float = 1e-2) -> list[Row]:
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # pay torch's one-time optimizer import up front
    with tempfile.TemporaryDirectory() as tmp:
        weights, data = build(Path(tmp), samples=samples)
        naive_loss, naive_s = naive_adam(weights, data, epochs, batch_size, lr)
        cached_loss, cached_s, baseline = harness(weights, data, "adam", epochs, batch_size, lr)
        lstsq_loss, lstsq_s, _ = harness(weights, data, "lstsq", epochs, batch_size, lr)

    speedup = naive_s / lstsq_s
    no_worse = lstsq_loss <= naive_loss * (1 + 1e-6)
    return [
        Row(
            f"fine-tune a head: least squares vs naive Adam ({epochs} epochs)",
            f"{speedup:.1f}x faster ({lstsq_s:.2f} s vs {naive_s:.2f} s); loss {lstsq_loss:.4f} vs "
            f"{naive_loss:.4f} (from {baseline:.4f})",
            f">= {GOAL:g}x, loss no worse", speedup >= GOAL and no_worse,
        ),
        Row(  # what caching the frozen trunk's features alone buys, with the same optimiser and steps
            "fine-tune a head: Adam on cached features vs naive Adam",
            f"{naive_s / cached_s:.1f}x faster ({cached_s:.2f} s vs {naive_s:.2f} s); loss {cached_loss:.4f}",
            "", None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args()
    rows = run(args.samples, args.epochs, args.batch_size, args.lr)
    print_table(rows, f"seed transformer, {args.samples} samples, output_layer only, MSE; {environment()}")
    print("least squares' figure is a lower bound: Adam needs far more epochs to reach its loss")


if __name__ == "__main__":
    main()
