"""Decoder conventions read from the library, not from hand lists (task survey7, issue 15).

benchmarks/survey_conventions.py calls each causal-LM family of the installed transformers and
writes codegen/patterns/_decoder_conventions.py; the patterns read it (norm_scale, embedding_scale,
residual layout, ALiBi, which way a logit factor goes). Here:
- the table agrees with what the survey measures now, for a few types;
- families with no test before, from a config.json + safetensors folder, against the library's
  own forward (atol 1e-5), eagerly and under TorchScript, with no guessed class: VaultGemma
  (Gemma's `1 + weight` norms and sqrt(d) embeddings on a model_type no list named), BitNet (a norm
  inside the attention and the feed-forward), HyperCLOVA X (a norm on each branch's output, and
  its multipliers), and two decoder types from the survey table no other test names;
- a type the survey did not measure stays 'guessed', naming the choices that rest on its type.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import torch

from codegen.patterns._decoder_conventions import MEASURED, SURVEYED, convention
from tests.generated_module import generate_from_folder
from tests.redraw import unit_scale

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

TINY = dict(
    vocab_size=96,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=64,
)


def assert_exact(source: str, ours, reference, vocab: int) -> None:
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" not in source, source[:3000]
    torch.manual_seed(1)
    ids = torch.randint(0, vocab, (2, 9))
    with torch.no_grad():
        want = reference(input_ids=ids).logits
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)


def build(model_cls: str, config_cls: str, **options):
    config = getattr(transformers, config_cls)(**{**TINY, **options})
    torch.manual_seed(0)
    return unit_scale(getattr(transformers, model_cls)(config).eval())


def test_table_matches_what_the_survey_measures():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import survey_conventions

    for mtype in ("gemma", "llama", "cohere", "hyperclovax", "nanochat"):
        row = survey_conventions.measure(mtype)
        values = tuple(row[c] for c in survey_conventions.COLUMNS)
        assert SURVEYED[mtype] == values, mtype


def test_the_table_holds_what_the_hand_lists_held():
    """The conventions the patterns once listed by hand, now measured."""
    for mtype in ("gemma", "gemma2", "gemma3_text", "nemotron"):
        assert convention(mtype, "norm_scale") == "1 + weight", mtype
    for mtype in ("gemma", "gemma2", "gemma3_text"):
        assert convention(mtype, "embedding_scale") == "sqrt_d_model", mtype
    for mtype in ("gpt_neox", "phi", "cohere"):
        assert convention(mtype, "residual") == "parallel", mtype
    assert convention("cohere", "logits") == "* logit_scale"
    assert convention("granite", "logits") == "/ logits_scaling"
    assert convention("llama", "norm_scale") == "weight"
    assert convention("olmo", "free_norm") == ("layer", 1e-5)  # a fixed eps in its code
    assert convention("no_such_type", "norm_scale") is None


def test_vaultgemma_is_exact(tmp_path):
    model = build("VaultGemmaForCausalLM", "VaultGemmaConfig", num_key_value_heads=2, head_dim=8)
    source, ours = generate_from_folder(tmp_path, model)
    assert_exact(source, ours, model, 96)
    flat = " ".join(source.split())
    assert f"norm_scale (config.json model_type 'vaultgemma' {MEASURED})" in flat
    assert f"embedding_scale (config.json model_type 'vaultgemma' {MEASURED})" in flat


@pytest.mark.parametrize("kv_heads", [2, 4], ids=["grouped", "full"])
def test_bitnet_sub_norms_are_exact(tmp_path, kv_heads):
    model = build("BitNetForCausalLM", "BitNetConfig", num_key_value_heads=kv_heads)
    source, ours = generate_from_folder(tmp_path, model)
    assert_exact(source, ours, model, 96)
    assert "self.attn_sub_norm(y)" in source and "self.ffn_sub_norm(h)" in source


@pytest.mark.parametrize(
    "factors",
    [
        {},
        dict(
            embedding_multiplier=2.5,
            residual_multiplier=0.5,
            logits_scaling=3.0,
            attention_multiplier=0.2,
        ),
    ],
    ids=["defaults", "multipliers"],
)
def test_hyperclovax_is_exact(tmp_path, factors):
    """A norm on each branch's output (post_norm1, post_norm2), LLaMA's post_attention_layernorm
    as the feed-forward's input norm; logits MULTIPLIED by logits_scaling (Granite divides: the
    survey measured which way each family goes)."""
    model = build("HyperCLOVAXForCausalLM", "HyperCLOVAXConfig", **factors)
    source, ours = generate_from_folder(tmp_path, model)
    assert_exact(source, ours, model, 96)


@pytest.mark.parametrize("eps", [1e-6, 1e-5], ids=["default_eps", "other_eps"])
def test_nanochat_is_exact(tmp_path, eps):
    """No norm holds a parameter: before the blocks, in them, on queries and keys (after
    rotary), at the end; squared ReLU; logits soft-capped. All from the survey and config.json."""
    model = build("NanoChatForCausalLM", "NanoChatConfig", rms_norm_eps=eps)
    source, ours = generate_from_folder(tmp_path, model)
    assert_exact(source, ours, model, 96)
    assert "F.rms_norm(" in source


# Two causal-LM types from the survey table that no other test names: their conventions are the
# table's (measured), and the generated files must agree with the library.
UNSEEN = {
    "cwm": ("CwmForCausalLM", "CwmConfig", dict(num_key_value_heads=2)),
    # LlamaForCausalLM under a config of its own: its rows are the llama module's (both surveys)
    "internlm3": ("LlamaForCausalLM", "InternLM3Config", dict(num_key_value_heads=2)),
}


@pytest.mark.parametrize("mtype", sorted(UNSEEN))
def test_surveyed_unseen_types_are_exact(tmp_path, mtype):
    assert mtype in SURVEYED
    model_cls, config_cls, options = UNSEEN[mtype]
    model = build(model_cls, config_cls, **options)
    source, ours = generate_from_folder(tmp_path, model)
    assert_exact(source, ours, model, 96)


def test_a_type_the_survey_did_not_measure_stays_guessed(tmp_path):
    """The same LLaMA under a model_type no survey knows: its norm scale and embedding scale rest
    on the type alone, and the file says so (the surveyed 'llama' does not)."""
    import json

    from codegen.cli.main import main

    model = build("LlamaForCausalLM", "LlamaConfig", num_key_value_heads=2)
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "unsurveyed_lm"}))
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    flat = " ".join(out.read_text().split())
    assert "Forward trust: guessed" in flat
    assert "embedding_scale, norm_scale" in flat and "rest only on its model_type" in flat
