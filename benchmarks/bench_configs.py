"""Configurations nobody tested: the config sweep of tests/config_sweep.py as a table.

For each family (BERT, RoBERTa, GPT-2, GPT-NeoX, OPT, BLOOM, LLaMA, Mistral, Qwen2, Gemma, Phi, T5,
BART, Whisper, ViT, CLIP, ResNet, ConvNeXt, Swin, EfficientNet, MobileNetV2, diffusers' UNet2DModel
and AutoencoderKL): the base config, each other model class, each single field change that alters
the forward, and a few seeded random combinations, each generated from its saved folder and
compared with the library's forward (verdicts as in bench_families.py: exact / flagged / WRONG /
crash; the goal is no WRONG and no crash).

Run: python benchmarks/bench_configs.py [FAMILY ...] [--combos N] [--seed S] [--only-bad]
(all families: about 300 configurations, 15-30 minutes on 2 busy CPU cores)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.config_sweep import SWEEPS, Result, configs, measure  # noqa: E402

VERDICTS = ("exact", "flagged", "WRONG", "crash", "skipped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", metavar="FAMILY", help="default: all")
    parser.add_argument("--combos", type=int, default=4, help="random combinations per family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-bad", action="store_true", help="print only WRONG and crash rows")
    args = parser.parse_args()
    unknown = sorted(set(args.families) - set(SWEEPS))
    if unknown:
        parser.error(f"unknown families {', '.join(unknown)}; known: {', '.join(SWEEPS)}")
    per_family: dict[str, Counter] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-configs-") as tmp:
        for family in args.families or list(SWEEPS):
            counts = per_family.setdefault(family, Counter())
            for i, config in enumerate(configs(family, args.combos, args.seed)):
                try:
                    result = measure(config, Path(tmp) / f"{family}-{i}")
                except Exception as e:  # the harness itself failed: count it, keep going
                    result = Result("crash", note=f"{type(e).__name__}: {e}"[:120])
                counts[result.verdict] += 1
                if args.only_bad and result.verdict not in ("WRONG", "crash"):
                    continue
                diff = "" if result.max_diff is None else f" max diff {result.max_diff:.1e}"
                print(f"{result.verdict:8} {config.label}{diff} {result.note}".rstrip(), flush=True)
    print()
    print(f"| family | configs | {' | '.join(VERDICTS)} |")
    print(f"| --- | ---: | {' | '.join('---:' for _ in VERDICTS)} |")
    total = Counter()
    for family, counts in per_family.items():
        total.update(counts)
        cells = " | ".join(str(counts.get(v, 0)) for v in VERDICTS)
        print(f"| {family} | {sum(counts.values())} | {cells} |")
    cells = " | ".join(str(total.get(v, 0)) for v in VERDICTS)
    print(f"| all | {sum(total.values())} | {cells} |")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
