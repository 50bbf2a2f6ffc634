#!/usr/bin/env bash
# The main job end to end on the bundled example: a trainer's checkpoint of an encoder-decoder
# transformer regressor -> inspect -> generate model.py -> verify -> fine-tune the head -> TorchScript.
# Installs what modelgen needs first (scripts/install.sh: into .venv/ unless an environment is active).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/install.sh | tail -n 1)
set -x
"$PY" examples/seed_transformer.py demo
"$PY" -m codegen inspect demo/weights.pt --depth 2
"$PY" -m codegen generate demo/weights.pt -o demo/model.py --force
"$PY" -m codegen check demo/weights.pt demo/model.py
"$PY" -m codegen verify demo/weights.pt demo/model.py
"$PY" -m codegen finetune demo/weights.pt demo/model.py --data demo/data.pt --train output_layer \
    --inputs src_sequences,tgt_sequences --target tgt_sequences --out demo/model.pt
