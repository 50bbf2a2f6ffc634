"""Golden files: generated/ holds the output for the example checkpoints, compared byte for byte.

After an intended change to the generated code, refresh them with
    MODELGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
and review the diff of generated/ like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from codegen.generate import generate_source
from codegen.load import open_checkpoint
from tests.zoo import build, checkpoint

GOLDEN = Path(__file__).resolve().parent.parent / "generated"
EXAMPLES = ["seed_transformer", "convnet", "lstm_tagger", "resnet_tiny", "seq2seq", "mlp"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_file(name, tmp_path):
    ckpt = tmp_path / f"{name}.pt"
    torch.save(checkpoint(name, build(name)), ckpt)
    command = f"modelgen generate {name}.pt -o generated/{name}.py"
    source, _ = generate_source(open_checkpoint(ckpt).table, command=command)
    golden = GOLDEN / f"{name}.py"
    if os.environ.get("MODELGEN_UPDATE_GOLDEN"):
        golden.write_text(source)
    assert golden.exists(), f"missing {golden}; run with MODELGEN_UPDATE_GOLDEN=1"
    assert (
        source == golden.read_text()
    ), f"{golden.name} is stale; rerun with MODELGEN_UPDATE_GOLDEN=1 and review"


@pytest.mark.parametrize("name", EXAMPLES)
def test_golden_lines_fit_in_100_columns(name):
    """Comments and docstrings included: black fits the code, render/width.py the prose."""
    long = [line for line in (GOLDEN / f"{name}.py").read_text().splitlines() if len(line) > 100]
    assert long == []
