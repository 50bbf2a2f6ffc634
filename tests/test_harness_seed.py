"""The seed workflow end to end through the CLI: a DataParallel trainer checkpoint of an encoder-decoder
transformer regressor, fine-tuned on its output layer and exported as TorchScript."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from codegen.harness.model_ref import load_model_class
from tests.harness_support import ROOT, run_cli, run_json, sha256, write_seed

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

SEED_ARGS = (
    "--train",
    "output_layer",
    "--inputs",
    "src_sequences,tgt_sequences",
    "--target",
    "tgt_sequences",
)


def _stripped_original(weights):
    raw = torch.load(weights, weights_only=True)["model_state_dict"]
    return {k.removeprefix("module."): v for k, v in raw.items()}


def test_seed_finetune_output_layer_end_to_end(tmp_path, capsys):
    weights, data, model_file = write_seed(tmp_path)
    before = sha256(weights)
    out, state_out, plot = tmp_path / "model.pt", tmp_path / "tuned.pt", tmp_path / "loss.png"

    code, summary, _ = run_json(
        capsys,
        "finetune",
        weights,
        model_file,
        "--data",
        data,
        *SEED_ARGS,
        "--out",
        out,
        "--save-state",
        state_out,
        "--plot",
        plot,
    )

    assert code == 0
    assert sha256(weights) == before  # the input checkpoint is never written
    assert summary["method"] == "lstsq" and summary["cached_features"] is True
    assert summary["trainable"] == 128 * 64 + 64 and summary["trainable_names"] == [
        "output_layer.weight",
        "output_layer.bias",
    ]
    assert summary["final"] < summary["baseline"] / 5
    assert summary["export"]["method"] == "script" and summary["export"]["max_diff"] <= 1e-5

    original = _stripped_original(weights)
    scripted = torch.jit.load(str(out))
    tuned = scripted.state_dict()
    assert list(tuned) == list(original)  # exactly the checkpoint's keys, in order
    changed = {k for k in original if not torch.equal(original[k], tuned[k])}
    assert changed == {"output_layer.weight", "output_layer.bias"}
    assert torch.load(state_out, weights_only=True).keys() == original.keys()

    # forward takes both inputs; the tuned model beats the original weights on MSE
    d = torch.load(data, weights_only=True)
    src, tgt = d["src_sequences"], d["tgt_sequences"]
    with torch.no_grad():
        tuned_mse = F.mse_loss(scripted(src, tgt), tgt).item()
        eager = load_model_class(str(model_file))().eval()
        eager.load_state_dict(original, strict=True)
        original_mse = F.mse_loss(eager(src, tgt), tgt).item()
        eager.load_state_dict(tuned)
        assert torch.allclose(eager(src, tgt), scripted(src, tgt), atol=1e-5)
    assert tuned_mse < original_mse / 5
    assert abs(tuned_mse - summary["final"]) < 1e-4 * max(1.0, tuned_mse)

    # the exported module strict-loads the original weights again
    reloaded = torch.jit.load(str(out))
    reloaded.load_state_dict(original, strict=True)
    with torch.no_grad():
        assert F.mse_loss(reloaded(src, tgt), tgt).item() == pytest.approx(original_mse, rel=1e-5)

    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_seed_verify_with_the_example_class(tmp_path, capsys):
    weights, data, _ = write_seed(tmp_path, samples=8)
    model = f"{ROOT / 'examples' / 'seed_transformer.py'}:TransformerRegressor"
    code, out, _ = run_cli(
        capsys,
        "verify",
        weights,
        model,
        "--data",
        data,
        "--inputs",
        "src_sequences,tgt_sequences",
        "--target",
        "tgt_sequences",
    )
    assert code == 0, out
    assert "strict load: 59 keys" in out
    assert "forward: ([4, 16, 64], [4, 16, 64])" in out
    assert "torch.jit.script" in out and "max |reloaded - eager| = 0" in out
