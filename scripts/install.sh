#!/usr/bin/env bash
# Installs modelgen into a Python environment: `install.sh` what the tool needs, `install.sh --test`
# the test tools too. Prints the interpreter to use on its last line (callers read it).
#
# Which environment: $PYTHON if set; else the active virtual environment ($VIRTUAL_ENV, or conda's);
# else .venv/ in the repository, created on first use. A distribution's own python3 refuses
# `pip install` outside a virtual environment (PEP 668), so nothing is ever installed into it.
#
# torch is installed first and pinned, so the project's `torch>=2.4` pulls nothing more: the CUDA build
# where `nvidia-smi` sees a GPU, else the CPU build from PyTorch's CPU index. A bare `torch` from PyPI
# is the multi-GB CUDA build on Linux; when the CPU index cannot be reached, the plain pinned
# requirement is used only if it resolves without CUDA libraries (a local or mirrored CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH="torch==2.13.0"
CPU_INDEX="${MODELGEN_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
log() { echo "install: $*" >&2; }

if [[ -n "${PYTHON:-}" ]]; then
    PY="$PYTHON"
elif [[ -n "${VIRTUAL_ENV:-}" || -n "${CONDA_PREFIX:-}" ]]; then
    PY=python
else
    if [[ ! -x .venv/bin/python ]]; then
        log "no virtual environment active: creating .venv/ (python3 -m venv)"
        if ! python3 -m venv .venv >&2; then
            rm -rf .venv
            log "python3 -m venv failed; on Debian/Ubuntu: sudo apt install python3-venv"
            exit 1
        fi
    fi
    PY="$PWD/.venv/bin/python"
fi
pip() { "$PY" -m pip --disable-pip-version-check "$@" >&2; }  # stdout is for the last line only

torch_ok() {
    "$PY" -c 'import sys, torch
v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
sys.exit(v < (2, 4))' 2>/dev/null
}

# True when installing the plain pinned requirement would bring CUDA libraries (nvidia-* packages).
plain_torch_wants_cuda() {
    "$PY" -m pip --disable-pip-version-check install --dry-run --quiet --ignore-installed \
        --report - "$TORCH" |
        "$PY" -c 'import json, sys
names = [i["metadata"]["name"].lower() for i in json.load(sys.stdin)["install"]]
sys.exit(0 if any(n.startswith("nvidia-") for n in names) else 1)'
}

reachable() {
    "$PY" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=10)' "$1/torch/" 2>/dev/null
}

if ! torch_ok; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        log "GPU found: installing $TORCH (CUDA build)"
        pip install --quiet "$TORCH"
    elif reachable "$CPU_INDEX"; then
        log "no GPU: installing $TORCH, CPU build, from $CPU_INDEX"
        pip install --quiet "$TORCH" --index-url "$CPU_INDEX"
    elif ! plain_torch_wants_cuda; then
        log "no GPU; $CPU_INDEX unreachable: installing $TORCH from the configured index (a CPU build)"
        pip install --quiet "$TORCH"
    else
        log "no GPU, and $CPU_INDEX cannot be reached: the configured index offers only the CUDA"
        log "build of $TORCH. Install a CPU build of torch>=2.4 yourself, or set"
        log "MODELGEN_TORCH_CPU_INDEX to a reachable mirror of $CPU_INDEX."
        exit 1
    fi
fi
if [[ "${1:-}" == "--test" ]]; then
    pip install --quiet -e ".[test]"
else
    pip install --quiet -e .
fi
echo "$PY"
