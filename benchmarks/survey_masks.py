"""Survey of the text models in the installed `transformers` that attend both ways.

For each models/<type>/modeling_<type>.py that builds its masks only with masking_utils'
bidirectional makers (create_bidirectional_mask, create_bidirectional_sliding_window_mask) and
never with a causal one, and builds no sub-model from another directory (AutoModel), the base
model is built from the sweep's tiny config (benchmarks/sweep_library.py) and MEASURED, by calling
it (never from a list typed by hand): a text model (token ids first) whose first position's output
moves when only the last token changes attends to later positions: bidirectional.

Run: python benchmarks/survey_masks.py [--python] [TYPE...]   (--python prints the set for
codegen/patterns/_mask_conventions.py). Types that do not build are listed as skipped.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import warnings

BIDIRECTIONAL = re.compile(r"\bcreate_bidirectional_(sliding_window_)?mask\(")
CAUSAL = re.compile(r"\bcreate_(sliding_window_causal|chunked_causal|causal)_mask\(|is_causal=True")


def candidates() -> list[str]:
    """Types whose modeling file makes bidirectional masks only, from no other directory's model."""
    import transformers

    root = os.path.join(os.path.dirname(transformers.__file__), "models")
    found = []
    for mtype in sorted(os.listdir(root)):
        path = os.path.join(root, mtype, f"modeling_{mtype}.py")
        if not os.path.isfile(path):
            continue
        text = open(path).read()
        if BIDIRECTIONAL.search(text) and not CAUSAL.search(text) and "AutoModel" not in text:
            found.append(mtype)
    return found


def attends_ahead(mtype: str) -> bool | None:
    """Whether the first position's output moves when only the last token changes; None where
    the model is not a text model."""
    import torch
    from sweep_library import build

    model, kind = build(mtype)
    if kind != "encoder":
        return None
    ids = torch.randint(3, 90, (1, 8), generator=torch.Generator().manual_seed(0))
    changed = ids.clone()
    changed[0, -1] = 95 if ids[0, -1] != 95 else 96
    with torch.no_grad():
        first, second = (model(input_ids=t)[0][0, 0] for t in (ids, changed))
    return not torch.allclose(first, second, atol=1e-6)


def survey(types: list[str]) -> tuple[list[str], list[str]]:
    both, skipped = [], []
    for mtype in types:
        try:
            ahead = attends_ahead(mtype)
        except Exception as e:  # noqa: BLE001 - the tiny config does not build this one
            skipped.append(f"{mtype} ({type(e).__name__})")
            continue
        if ahead:
            both.append(mtype)
    return both, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="print the set as Python")
    parser.add_argument("types", nargs="*", help="model types (default: every candidate)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    both, skipped = survey(args.types or candidates())
    if args.python:
        print(f"BIDIRECTIONAL_TYPES = frozenset({both!r})")
    else:
        print(*both, sep="\n")
    print(f"# {len(both)} types attend both ways; skipped: {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
