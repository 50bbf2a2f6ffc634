"""Encoder families beyond BERT (issue 15), built from tiny configs in code: the file generated from
the Hugging Face folder (config.json + model.safetensors) strict-loads, computes the library's
last hidden state to 1e-5 with a padding mask, and scripts with TorchScript.

Weights are redrawn at unit scale first (the library starts biases at zero and norms at one), so a
wrong scale, order or bucket shows above the tolerance."""

from __future__ import annotations

import importlib.util
import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from codegen.cli.main import main  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

DENSE = dict(
    vocab_size=100,
    num_hidden_layers=2,
    num_attention_heads=4,
    hidden_size=32,
    intermediate_size=64,
    max_position_embeddings=64,
)
TEXT = {
    "mpnet": lambda t: t.MPNetModel(t.MPNetConfig(**DENSE)),
    "mpnet_relu_one_layer": lambda t: t.MPNetModel(
        t.MPNetConfig(**{**DENSE, "num_hidden_layers": 1}, hidden_act="relu")
    ),
    "roformer": lambda t: t.RoFormerModel(t.RoFormerConfig(**DENSE, embedding_size=32)),
    "roformer_projected": lambda t: t.RoFormerModel(t.RoFormerConfig(**DENSE, embedding_size=16)),
    "camembert": lambda t: t.CamembertModel(t.CamembertConfig(**DENSE, pad_token_id=1)),
    "data2vec_text": lambda t: t.Data2VecTextModel(t.Data2VecTextConfig(**DENSE, pad_token_id=1)),
    "ernie": lambda t: t.ErnieModel(t.ErnieConfig(**DENSE)),
    "megatron_bert": lambda t: t.MegatronBertModel(t.MegatronBertConfig(**DENSE)),
    "splinter": lambda t: t.SplinterModel(t.SplinterConfig(**DENSE)),
    "xlm_roberta": lambda t: t.XLMRobertaModel(t.XLMRobertaConfig(**DENSE, pad_token_id=1)),
}


def unit_scale(model: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif n.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    return model.eval()


def generate(tmp_path, model):
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    spec = importlib.util.spec_from_file_location(f"gen_{id(out)}", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    return out.read_text(), ours


def text_inputs(model) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    ids[1, 7:] = model.config.pad_token_id or 0
    return ids, mask


def assert_exact(ours, want, *args) -> None:
    with torch.no_grad():
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(TEXT))
def test_text_encoder_is_exact_from_the_folder(tmp_path, name):
    torch.manual_seed(0)
    model = unit_scale(TEXT[name](transformers))
    source, ours = generate(tmp_path, model)
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_mpnet_bias_is_read_once_from_the_encoder_table(tmp_path):
    """The shared bucket table becomes one bias at the top of the encoder, not one per layer; the
    values config.json settles are cited."""
    torch.manual_seed(0)
    source, _ = generate(tmp_path, unit_scale(TEXT["mpnet"](transformers)))
    assert source.count("relative_position_bias(") == 2  # the helper's definition and one call
    assert "scale (config.json model_type 'mpnet')" in " ".join(source.split())


def test_mpnet_table_of_other_bucket_count_is_flagged(tmp_path):
    """MPNet's library code computes 32 buckets whatever its table holds: another table size is
    not computed, and the file says so rather than guess."""
    torch.manual_seed(0)
    config = transformers.MPNetConfig(**DENSE, relative_attention_num_buckets=48)
    source, ours = generate(tmp_path, unit_scale(transformers.MPNetModel(config)))
    assert "Forward trust: missing" in source
    with pytest.raises(NotImplementedError):
        ours(torch.randint(2, 100, (2, 5)))
