"""Survey of which model types of the installed `transformers` number learned positions after
the padding index (fairseq's convention, RoBERTa): position i of a token is
`cumsum(not padding) + padding_idx` instead of `i`.

A model type counts when its modeling file calls `create_position_ids_from_input_ids` (the
library's own helper for the convention, defined or imported per file), read from the code, never
typed by hand. Only text embeddings with a learned position table use the result.

Run: python benchmarks/survey_positions.py [--python]   (--python prints the set for
codegen/patterns/_position_conventions.py).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

CALL = re.compile(r"create_position_ids_from_input_ids\(")


def survey() -> list[str]:
    import transformers
    from transformers.models.auto.configuration_auto import (
        CONFIG_MAPPING_NAMES,
        model_type_to_module_name,
    )

    root = os.path.join(os.path.dirname(transformers.__file__), "models")
    found = []
    for model_type in sorted(CONFIG_MAPPING_NAMES):
        folder = os.path.join(root, model_type_to_module_name(model_type))
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.startswith("modeling_") and name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    if CALL.search(f.read()):
                        found.append(model_type)
                        break
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="print the set as Python")
    args = parser.parse_args()
    import transformers

    types = survey()
    if args.python:
        print(f"# transformers {transformers.__version__}: {len(types)} types")
        print("SURVEYED = frozenset(")
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
    else:
        print("\n".join(types))
    return 0


if __name__ == "__main__":
    sys.exit(main())
