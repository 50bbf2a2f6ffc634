#!/usr/bin/env bash
# Installs modelgen and its test tools into the current Python environment.
# torch is pinned to the CPU wheel first, so the project's own `torch>=2.4` range pulls nothing more
# (a bare `torch` requirement would otherwise download a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys, torch; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(v < (2, 4))' 2>/dev/null; then
    "$PY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
fi
"$PY" -m pip install --quiet --disable-pip-version-check -e ".[test]"
