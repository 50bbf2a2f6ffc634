#!/usr/bin/env bash
# Installs modelgen with its test tools (scripts/install.sh --test: into .venv/ unless an environment
# is active), then runs the whole suite; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/install.sh --test | tail -n 1)
exec "$PY" -m pytest "$@"
