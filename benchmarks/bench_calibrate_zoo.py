"""Calibration on convolutional classifiers saved without any config: exact after --calibrate?

For each model of the two vision-zoo test modules (tests/vision_zoo_more_models.py,
tests/vision_zoo_6_models.py: torchvision- and timm-style key names) and the transformers CNN
families of _families.py (resnet, convnext, mobilenet_v2, efficientnet, regnet) saved as a plain
state_dict (no config.json, no metadata): weights redrawn at unit scale with batch norm statistics
moved (tests/redraw.py), outputs recorded on 8 inputs, then `modelgen generate CKPT --calibrate DATA
--candidates N` in a fresh process (a candidate count, not seconds: the verdict does not depend on
the machine's load; `--budget S` adds a time limit). The generated class is strict-loaded and
compared with the reference on 4 inputs it was not calibrated on (atol 1e-5, rtol 1e-4).

Verdicts:
- exact: generate exits 0 (the file says it reproduces DATA) and the held-out inputs match;
- not exact: generate exits 1 and says the file does not reproduce DATA (the promise kept);
- WRONG: generate exits 0 but the held-out outputs differ (the promise broken; the goal is none);
- error: generate refused (exit 2) or failed with an internal error.
Seconds are generate's wall time, calibration included; `cands` the candidates it evaluated;
`rel` is the relative squared error the command reported for the final choices.

Run: python benchmarks/bench_calibrate_zoo.py [NAME ...] [--candidates 600] [--budget S]
(about 15-30 min on 2 cores)
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from _common import child_env, modelgen  # noqa: E402

TRANSFORMERS_CNNS = ("resnet", "convnext", "mobilenet_v2", "efficientnet", "regnet")
RECORDED, HELD_OUT = 8, 4
ATOL, RTOL = 1e-5, 1e-4


def _zoo_modules():
    from tests import vision_zoo_6_models, vision_zoo_more_models

    return {"more": vision_zoo_more_models, "six": vision_zoo_6_models}


def names() -> list[str]:
    out = [f"{key}:{name}" for key, module in _zoo_modules().items() for name in module.ZOO]
    return out + [f"hf:{name}" for name in TRANSFORMERS_CNNS]


def reference(name: str):
    """(the reference model at unit scale in eval mode, one input's shape without the batch)."""
    import torch

    from tests.redraw import unit_scale

    source, short = name.split(":", 1)
    if source == "hf":
        from _families import FAMILIES

        family = FAMILIES[short]
        torch.manual_seed(0)
        model = family.build(importlib.import_module(family.library)).eval()
        return unit_scale(model), (3, 32, 32)
    module = _zoo_modules()[source]
    make, shape = module.ZOO[short]
    torch.manual_seed(0)
    return unit_scale(make()), tuple(shape[1:])


def _call(model, x):
    out = model(x)
    if hasattr(out, "logits"):
        return out.logits
    return out[0] if isinstance(out, tuple) else out


def measure_one(name: str, candidates: int, budget: float | None) -> dict:
    import torch

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    model, shape = reference(name)
    folder = Path(tempfile.mkdtemp(prefix="calzoo-"))
    ckpt, data, out = folder / "weights.pt", folder / "data.pt", folder / "model.py"
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, ckpt)
    g = torch.Generator().manual_seed(3)
    inputs = torch.randn(RECORDED, *shape, generator=g)
    held_out = torch.randn(HELD_OUT, *shape, generator=g)
    with torch.no_grad():
        torch.save({"inputs": inputs, "outputs": _call(model, inputs)}, data)
    limits = ("--candidates", candidates) + (() if budget is None else ("--budget", budget))
    cmd = modelgen("generate", ckpt, "-o", out, "--calibrate", data, *limits)
    started = time.monotonic()
    run = subprocess.run(cmd, env=child_env(), capture_output=True, text=True)
    seconds = time.monotonic() - started
    text = run.stdout + run.stderr
    rel = re.search(r"final relative error ([0-9.e+-]+|inf|nan)", text)
    cands = re.search(r"(\d+) candidates evaluated", text)
    row = {
        "seconds": seconds,
        "rel": rel.group(1) if rel else "",
        "cands": int(cands.group(1)) if cands else 0,
        "code": run.returncode,
    }
    if run.returncode not in (0, 1) or not out.exists():
        last = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {**row, "verdict": "error", "note": last[:90]}
    spec = importlib.util.spec_from_file_location("generated_calzoo", out)
    generated = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(generated)
        ours = generated.RecoveredModel().eval()
        ours.load_state_dict(model.state_dict(), strict=True)
        with torch.no_grad():
            got, want = _call(ours, held_out), _call(model, held_out)
        same = got.shape == want.shape and torch.allclose(got, want, atol=ATOL, rtol=RTOL)
    except Exception as e:  # a forward left raising NotImplementedError, or a shape it cannot take
        same = False
        row["note"] = f"{type(e).__name__}"
    if run.returncode == 0:
        return {**row, "verdict": "exact" if same else "WRONG"}
    return {**row, "verdict": "not exact"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="e.g. six:mnasnet hf:resnet")
    parser.add_argument("--candidates", type=int, default=600, help="--candidates for generate")
    parser.add_argument("--budget", type=float, help="--budget (seconds) for generate: none")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.candidates, args.budget)))
        return 0
    wanted = args.names or names()
    unknown = [n for n in wanted if n not in names()]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)} (known: {', '.join(names())})")
    rows = {}
    head = f"{'model':28} {'verdict':10} {'seconds':>8} {'cands':>6} {'rel error':>10}  note"
    print(head, flush=True)
    for name in wanted:
        limits = ["--candidates", str(args.candidates)]
        limits += [] if args.budget is None else ["--budget", str(args.budget)]
        proc = subprocess.run(
            [sys.executable, __file__, "--one", name, *limits],
            env=child_env(),
            capture_output=True,
            text=True,
        )
        lines = proc.stdout.strip().splitlines()
        if proc.returncode == 0 and lines:
            row = json.loads(lines[-1])
        else:
            note = (proc.stderr.strip().splitlines() or ["?"])[-1][:90]
            row = {"verdict": "error", "seconds": 0.0, "rel": "", "cands": 0, "note": note}
        rows[name] = row
        print(
            f"{name:28} {row['verdict']:10} {row['seconds']:8.1f} {row['cands']:6d} "
            f"{row['rel']:>10}  "
            f"{row.get('note', '')}",
            flush=True,
        )
    counts: dict[str, int] = {}
    for row in rows.values():
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    print(", ".join(f"{v}: {n}" for v, n in sorted(counts.items())) + f" (of {len(rows)})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
