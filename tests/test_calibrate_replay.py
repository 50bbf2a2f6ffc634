"""Calibration's reuse of the best model's activations: a candidate's error with reuse is the error
of its full run, whatever the candidate changes, and reuse does happen where the dataflow allows."""

from __future__ import annotations

import itertools

import pytest
import torch

from codegen.analyze import analyze
from codegen.calibrate import model_error, searchable
from codegen.load import open_checkpoint
from codegen.render import render_source
from codegen.replay import Replay
from tests.test_calibrate import CASES, GroupNormCNN, ResidualMLP, _recorded

MODELS = {
    "residual_mlp": (lambda: ResidualMLP(6), lambda n: (torch.randn(n, 16),)),
    "cnn_maxpool_groupnorm4_adaptive_pool": (
        GroupNormCNN,
        CASES["cnn_maxpool_groupnorm4_adaptive_pool"][1],
    ),
    "mlp_gelu_tanh": CASES["mlp_gelu_tanh"],
    "cnn_pool_groupnorm": CASES["cnn_pool_groupnorm"],
    "embedding_scale_pool_encoder": CASES["embedding_scale_pool_encoder"],
}


def _candidates(ir, limit: int = 14):
    """The defaults, every single change, then a few pairs: the moves the search makes."""
    singles = [{(c.path, c.name): v} for c in searchable(ir) for v in c.alternatives]
    pairs = [{**a, **b} for a, b in itertools.combinations(singles, 2) if a.keys() != b.keys()]
    return [{}, *singles[:limit], *pairs[: limit // 2]]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_reused_activations_give_the_full_run_error(name, tmp_path):
    make, inputs = MODELS[name]
    torch.manual_seed(0)
    model = make()
    ckpt, data = _recorded(model, inputs(12), tmp_path)
    recorded = torch.load(data)
    x, y = recorded["inputs"], recorded["outputs"]
    checkpoint = open_checkpoint(ckpt)
    table, state = checkpoint.table, checkpoint.state_dict()
    ir = analyze(table, class_name="RecoveredModel")
    reuse = Replay(x, active=True)  # whatever the first run's speed
    scored = 0
    for picked in _candidates(ir):
        source = render_source(
            analyze(table, class_name="RecoveredModel", calibrated=picked), formatted=False
        )
        full = model_error(source, "RecoveredModel", state, x, y)
        reused = model_error(source, "RecoveredModel", state, x, y, replay=reuse)
        assert reused[1:] == full[1:], picked
        if full[0] == float("inf"):
            assert reused[0] == float("inf")
            continue
        scored += 1
        assert reused[0] == full[0], picked  # the same operations on the same values
    assert scored >= 2
    assert reuse.replayed > 0  # every model here has candidates that leave a prefix unchanged


def test_a_change_after_the_blocks_reuses_every_block():
    """`activation` after a residual stack of 6 blocks: the blocks' outputs come from the record."""
    torch.manual_seed(0)
    model = ResidualMLP(6).eval()
    x = torch.randn(8, 16)
    with torch.no_grad():
        y = model(x)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.pt"
        torch.save(model.state_dict(), path)
        checkpoint = open_checkpoint(path)
        table, state = checkpoint.table, checkpoint.state_dict()
    ir = analyze(table, class_name="RecoveredModel")
    after = [c for c in searchable(ir) if c.name in ("output_activation",)]
    assert after, [c.name for c in searchable(ir)]
    reuse = Replay((x,), active=True)
    base = render_source(ir, formatted=False)
    model_error(base, "RecoveredModel", state, (x,), y, replay=reuse)
    choice = after[0]
    changed = render_source(
        analyze(
            table,
            class_name="RecoveredModel",
            calibrated={(choice.path, choice.name): choice.alternatives[0]},
        ),
        formatted=False,
    )
    before = reuse.replayed
    error = model_error(changed, "RecoveredModel", state, (x,), y, replay=reuse)
    assert error == model_error(changed, "RecoveredModel", state, (x,), y)
    assert reuse.replayed - before == 7  # six blocks and the head
