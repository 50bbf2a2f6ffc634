"""Survey of what a vision tower's `post_layernorm` normalises, per model type of the installed
`transformers`: the whole sequence (BLIP, GIT, SigLIP: the last hidden state comes out normed) or
only the pooled class token (CLIP, OWL-ViT: the last hidden state is the stack's raw output).

The names are the same in both (`pre_layrnorm`, `encoder`, `post_layernorm`), so the keys cannot
tell them apart. A model type counts as "sequence" when a modeling file of its folder assigns
`self.post_layernorm(...)` to anything but a pooled output (`last_hidden_state = ...`), and as
"pooled" when every such call it makes normalises a pooled output; read from the code, never
typed by hand.

Run: python benchmarks/survey_post_norm.py [--python]   (--python prints the tables for
codegen/patterns/_post_norm_conventions.py).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

CALL = re.compile(r"^\s*(\w+)\s*=\s*self\.post_layernorm\(", re.MULTILINE)
POOLED = re.compile(r"pooled\w*")


def survey() -> dict[str, list[str]]:
    """{"sequence": [model types], "pooled": [model types]}."""
    import transformers
    from transformers.models.auto.configuration_auto import (
        CONFIG_MAPPING_NAMES,
        model_type_to_module_name,
    )

    root = os.path.join(os.path.dirname(transformers.__file__), "models")
    found: dict[str, list[str]] = {"sequence": [], "pooled": []}
    for model_type in sorted(CONFIG_MAPPING_NAMES):
        folder = os.path.join(root, model_type_to_module_name(model_type))
        if not os.path.isdir(folder):
            continue
        targets = []
        for name in sorted(os.listdir(folder)):
            if name.startswith("modeling_") and name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    targets += CALL.findall(f.read())
        if targets:
            pooled = all(POOLED.fullmatch(t) for t in targets)
            found["pooled" if pooled else "sequence"].append(model_type)
    return found


def _frozenset(name: str, types: list[str]) -> None:
    print(f"{name} = frozenset(")
    print('    """')
    line = "   "
    for t in types:
        if len(line) + len(t) + 1 > 96:
            print(line)
            line = "   "
        line += " " + t
    print(line)
    print('    """.split()')
    print(")")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="print the tables as Python")
    args = parser.parse_args()
    import transformers

    found = survey()
    if args.python:
        total = sum(map(len, found.values()))
        print(f"# transformers {transformers.__version__}: {total} types")
        _frozenset("SEQUENCE", found["sequence"])
        _frozenset("POOLED", found["pooled"])
    else:
        for scope, types in found.items():
            print(f"{scope}: {' '.join(types)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
