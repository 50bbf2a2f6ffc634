#!/usr/bin/env bash
# Installs modelgen with its test tools (scripts/install.sh --test: into .venv/ unless an environment
# is active), then runs the whole suite, one pytest-xdist worker per core (at most 4: each holds
# torch and the reference libraries in memory; a worker that runs out of tests takes some of the
# other's, as the calibration tests run for minutes); arguments go to pytest, after ours (`-n 0` runs
# it in one process).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/install.sh --test | tail -n 1)
# Compiled modules are kept (__pycache__, ignored by git) where the environment says not to: each
# worker and each `python -m codegen` the tests start would otherwise compile the ~400 modules of
# the catalogue again, and pytest rewrite every test file's asserts again.
unset PYTHONDONTWRITEBYTECODE
exec "$PY" -m pytest -n auto --maxprocesses 4 --dist worksteal "$@"
