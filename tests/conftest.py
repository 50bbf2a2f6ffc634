"""Shared test helpers. Fixtures here stay generic: any test file may use them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # Under pytest-xdist (scripts/test.sh runs one worker per core) torch's own thread pool would
    # oversubscribe the machine, every worker spreading over every core: one thread each.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


@pytest.fixture
def run_modelgen():
    """Run `python -m codegen ARGS` in a fresh interpreter, as a user would; returns the CompletedProcess.

    In-process `codegen.cli.main([...])` is faster; use this where the real stderr matters (warnings
    printed by libraries, tracebacks, exit codes from the interpreter itself).
    """

    def run(*args: str | os.PathLike, cwd: str | os.PathLike | None = None, timeout: float = 120):
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        return subprocess.run(
            [sys.executable, "-m", "codegen", *map(str, args)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def open_in_fresh_process(path: os.PathLike) -> tuple[int, bool]:
    """Open a checkpoint in a new interpreter: (tensor count, whether torch got imported)."""
    code = (
        "import sys; from codegen.load import open_checkpoint; "
        f"t = open_checkpoint({str(path)!r}).table; "
        "print(len(t.tensors), 'torch' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    count, imported = out.stdout.split()
    return int(count), imported == "True"


def pytest_collection_modifyitems(items):
    # The calibration tests run for up to a minute each (a search over candidate models); started
    # last, one of them keeps a pytest-xdist worker busy while the others idle. Files that calibrate
    # go first, whole (a module-scoped fixture stays set up once), the rest keep their order: the
    # short tests that end the run balance the workers. A rule, not a measured table to maintain.
    calibrating = {item.path for item in items if "calibrat" in item.name.lower()}
    items.sort(key=lambda item: item.path not in calibrating)
