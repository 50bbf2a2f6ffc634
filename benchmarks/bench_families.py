"""How many architectures come out exact: the recovery table over the zoo in _families.py.

For each family: build the library's model from a tiny config, save it as its library does
(config.json + safetensors), run `modelgen generate` on the folder in a fresh process, strict-load
the generated class and compare its output with the library's own forward (atol 1e-5, rtol 1e-4).

Every weight is redrawn at unit scale first (and batch norm statistics moved), so a wrong padding,
scale or order shows above the tolerance. Verdicts, best first:
- exact: the outputs match;
- flagged: they do not (or the forward raises, or generate refuses with a one-line error), and the
  file says so: a class is marked guessed or missing;
- WRONG: the outputs differ and nothing in the file says so. The goal is none: a file that runs and
  silently computes something else is the worst outcome.
- crash: generate failed with an internal error.

Run: python benchmarks/bench_families.py [NAME ...]   (about 5 minutes on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/redraw.py

from _common import Row, child_env, environment, modelgen, print_table  # noqa: E402
from _families import FAMILIES, reference_call  # noqa: E402
from tests.redraw import unit_scale  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4
TIMEOUT_S = 300


def measure_one(name: str) -> dict:
    """One family, in this process (the benchmark runs each in its own): its verdict and figures."""
    import torch

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    family = FAMILIES[name]
    try:
        library = importlib.import_module(family.library)
        torch.manual_seed(0)
        model = family.build(library).eval()
    except Exception as e:  # the library, or this version of it, cannot build the reference
        return {"verdict": "skipped", "note": f"{type(e).__name__}: {e}"[:80]}
    return measure_model(name, model, family.kind)


def measure_model(name: str, model, kind: str) -> dict:
    """Save a built library model, generate its file in a fresh process, and compare the two."""
    folder = Path(tempfile.mkdtemp(prefix=f"family-{name}-"))
    try:  # a sweep measures hundreds: each one's checkpoint goes once it is measured
        return measure_saved(name, model, kind, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_saved(name: str, model, kind: str, folder: Path) -> dict:
    """measure_model with the checkpoint and the generated file kept in `folder`."""
    import torch
    from safetensors.torch import load_file

    unsaved = frozenset(getattr(model, "_keys_to_ignore_on_save", None) or [])  # computed tables
    model = unit_scale(model, keep=unsaved)
    try:
        model.save_pretrained(folder / "hf")
    except Exception as e:  # the library cannot save what it built (a sub-config it pads to)
        return {"verdict": "skipped", "note": f"save: {type(e).__name__}: {e}"[:80]}
    out = folder / "model.py"
    try:
        run = subprocess.run(
            modelgen("generate", folder / "hf", "-o", out),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"verdict": "crash", "note": f"generate ran past {TIMEOUT_S} s"}
    if run.returncode != 0:
        message = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
        verdict = "crash" if "internal error" in message else "flagged"
        return {"verdict": verdict, "note": message[:100]}
    source = out.read_text()
    levels = set(re.findall(r"Forward trust: (\w+)", source))
    roots = missing_roots(source)
    flagged = bool(levels & {"guessed", "missing"})
    spec = importlib.util.spec_from_file_location(f"generated_{name}", out)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    ours = generated.RecoveredModel().eval()
    weights = next((folder / "hf").glob("*.safetensors"))
    try:
        ours.load_state_dict(load_file(weights), strict=True)
    except RuntimeError as e:
        return {"verdict": "crash", "note": "strict load failed: " + str(e).splitlines()[0][:80]}
    params = list(inspect.signature(ours.forward).parameters)
    try:
        positional, theirs, read = reference_call(kind, model, params)
    except Exception as e:  # this model's config lacks what the call is built from
        return {"verdict": "skipped", "note": f"reference: {type(e).__name__}: {e}"[:80]}
    try:
        with torch.no_grad():
            want = read(model(**theirs))
    except Exception as e:  # the library's own forward refused these inputs: nothing to compare
        return {"verdict": "skipped", "note": f"reference: {type(e).__name__}: {e}"[:80]}
    try:
        with torch.no_grad():
            # the same inputs by name where ours names every tensor the library was given
            # (optional ones left out stay at their defaults), else by position
            tensors = [k for k, v in theirs.items() if isinstance(v, torch.Tensor)]
            by_name = all(k in params for k in tensors)
            named = {k: theirs[k] for k in tensors}
            got = ours(**named) if by_name else ours(*positional[: len(params)])
            got = got[0] if isinstance(got, tuple) else got
    except Exception as e:  # the generated forward raised: a flag if the file admits a gap
        # the file's own words name the gap (first line only: the table stays one row per family)
        said = str(e).strip().splitlines()[0][:90] if str(e).strip() else ""
        note = f"{type(e).__name__}: {said}" if said else type(e).__name__
        return {"verdict": "flagged" if flagged else "WRONG", "note": note, "missing": roots}
    if got.shape != want.shape:
        diff, ok = float("inf"), False
    else:
        diff = (got - want).abs().max().item()
        ok = torch.allclose(got, want, atol=ATOL, rtol=RTOL)
    verdict = "exact" if ok else "flagged" if flagged else "WRONG"
    note = "" if got.shape == want.shape else f"shape {tuple(got.shape)} vs {tuple(want.shape)}"
    return {
        "verdict": verdict,
        "max_diff": diff,
        "note": note,
        "trust": sorted(levels),
        "missing": roots,
    }


def missing_roots(source: str) -> list[str]:
    """The generated file's missing classes that are missing for a reason of their own (not only
    because a child is): `Class: the message it raises`, the causes a flagged row is down to."""
    roots = []
    for name, body in re.findall(
        r"\nclass (\w+)\(nn\.Module\):\n(.*?)(?=\nclass |\Z)", source, re.S
    ):
        if "Forward trust: missing" not in body:
            continue
        said = re.search(r'raise NotImplementedError\(\s*"(.*?)"\s*\)', body, re.S)
        message = said.group(1) if said else "?"
        if "has no inferred forward" not in message:
            roots.append(f"{name}: {message}")
    return roots


def run(names: list[str] | None = None) -> list[Row]:
    names = names or list(FAMILIES)
    rows, counts = [], {}
    for name in names:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", name],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        lines = proc.stdout.strip().splitlines()
        result = (
            json.loads(lines[-1])
            if proc.returncode == 0 and lines
            else {"verdict": "crash", "note": (proc.stderr.strip().splitlines() or ["?"])[-1][:100]}
        )
        verdict = result["verdict"]
        counts[verdict] = counts.get(verdict, 0) + 1
        diff = result.get("max_diff")
        figure = "" if diff is None else f"max diff {diff:.1e}; "
        measured = f"{verdict}: {figure}{result.get('note', '')}".strip().rstrip(";")
        rows.append(
            Row(f"{name} ({FAMILIES[name].library})", measured, "exact", verdict == "exact")
        )
        print(f"{name}: {measured}", file=sys.stderr, flush=True)
    counted = len(names) - counts.get("skipped", 0)
    rows.append(Row("families exact", f"{counts.get('exact', 0)} of {counted}", "", None))
    rows.append(
        Row(
            "silently wrong (no flag in the file)",
            str(counts.get("WRONG", 0)),
            "0",
            counts.get("WRONG", 0) == 0,
        )
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="families (default: all)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return 0
    unknown = sorted(set(args.names) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    rows = run(args.names)
    print_table(rows, f"modelgen family recovery; {environment()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
