#!/usr/bin/env bash
# The main job end to end on the bundled example: build a checkpoint, inspect it, generate model.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
PY=${PYTHON:-python3}
"$PY" examples/seed_transformer.py demo
"$PY" -m codegen inspect demo/weights.pt --depth 2
"$PY" -m codegen generate demo/weights.pt -o demo/model.py --force
