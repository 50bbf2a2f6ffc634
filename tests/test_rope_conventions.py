"""Rotary decoders of the `transformers` library read from the survey of its code
(codegen/patterns/_rope_conventions.py) and from config.json's rope_parameters (issue 15):
families no other test builds, each from a tiny config in code, with weights redrawn at unit
scale; the file generated from the folder strict-loads, says nothing is guessed, and computes the
library's logits to 1e-5, eagerly and under TorchScript.

What each adds: ERNIE 4.5 and Helium (interleaved pairs), GLM and GLM-4 (interleaved, partial
rotary; GLM-4's norms on each branch's output), HunYuan (queries and keys normed after rotary),
Gemma 3 (windowed layers with their own rotary base), Apertus (xIELU, LLaMA 3.1 frequencies),
OLMo 3, Arcee, EXAONE 4, Seed-OSS, Ministral; then the rope_types on LLaMA: linear, dynamic,
llama3, yarn, longrope (also on Phi-3), dynamic and longrope past the original context too; a
type not written (proportional) is flagged, never silent.
"""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")

from codegen.cli.main import main  # noqa: E402
from codegen.patterns import _rope_conventions as conventions  # noqa: E402
from tests.redraw import unit_scale  # noqa: E402
from tests.generated_module import generate_from_folder as generate  # noqa: E402
from tests.tiny_configs import DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

GQA = dict(num_key_value_heads=2, head_dim=8)
WIDE_HEADS = dict(num_attention_heads=2, head_dim=16)  # 8 frequencies: scaling shows

LONGROPE = dict(
    rope_type="longrope",
    short_factor=[1.0, 1.5, 2.0, 2.5],
    long_factor=[2.0, 3.0, 4.0, 8.0],
    original_max_position_embeddings=16,
    rope_theta=10000.0,
)
FAMILIES = {
    "ernie4_5": ("Ernie4_5ForCausalLM", "Ernie4_5Config", GQA),
    "helium": ("HeliumForCausalLM", "HeliumConfig", GQA),
    "glm": ("GlmForCausalLM", "GlmConfig", {**GQA, "pad_token_id": 0}),
    "glm4": ("Glm4ForCausalLM", "Glm4Config", {**GQA, "pad_token_id": 0}),
    "hunyuan_v1_dense": ("HunYuanDenseV1ForCausalLM", "HunYuanDenseV1Config", GQA),
    "gemma3_text": (  # 5 windowed layers (base 10000), then a full one (base 1e6)
        "Gemma3ForCausalLM",
        "Gemma3TextConfig",
        {**GQA, "num_hidden_layers": 6, "sliding_window": 4},
    ),
    "apertus": ("ApertusForCausalLM", "ApertusConfig", {"num_key_value_heads": 2}),
    "olmo3": ("Olmo3ForCausalLM", "Olmo3Config", {"num_key_value_heads": 2}),
    "arcee": ("ArceeForCausalLM", "ArceeConfig", {"num_key_value_heads": 2}),
    "exaone4": ("Exaone4ForCausalLM", "Exaone4Config", {"num_key_value_heads": 2}),
    "seed_oss": ("SeedOssForCausalLM", "SeedOssConfig", GQA),
    "ministral": ("MinistralForCausalLM", "MinistralConfig", GQA),
    # LLaMA with each rope_type this catalogue writes
    "llama_linear": (
        "LlamaForCausalLM",
        "LlamaConfig",
        {"rope_parameters": dict(rope_type="linear", factor=4.0, rope_theta=10000.0)},
    ),
    "llama_dynamic": (  # a context of 8: the 11-token input runs past it
        "LlamaForCausalLM",
        "LlamaConfig",
        {
            "max_position_embeddings": 8,
            "rope_parameters": dict(rope_type="dynamic", factor=4.0, rope_theta=10000.0),
        },
    ),
    "llama3": (
        "LlamaForCausalLM",
        "LlamaConfig",
        {
            **WIDE_HEADS,
            "rope_parameters": dict(
                rope_type="llama3",
                factor=8.0,
                low_freq_factor=1.0,
                high_freq_factor=4.0,
                original_max_position_embeddings=64,
                rope_theta=500000.0,
            ),
        },
    ),
    "llama_yarn": (
        "LlamaForCausalLM",
        "LlamaConfig",
        {
            **WIDE_HEADS,
            "rope_parameters": dict(
                rope_type="yarn", factor=4.0, original_max_position_embeddings=16, rope_theta=1e4
            ),
        },
    ),
    "llama_yarn_mscale": (  # DeepSeek's attention factor from mscale / mscale_all_dim
        "LlamaForCausalLM",
        "LlamaConfig",
        {
            **WIDE_HEADS,
            "rope_parameters": dict(
                rope_type="yarn",
                factor=8.0,
                original_max_position_embeddings=16,
                rope_theta=1e4,
                mscale=1.0,
                mscale_all_dim=0.5,
                beta_fast=16,
                beta_slow=2,
            ),
        },
    ),
    "llama_longrope": (  # 11 tokens: the short factors (the long ones: test below)
        "LlamaForCausalLM",
        "LlamaConfig",
        {"rope_parameters": LONGROPE},
    ),
    "phi3_longrope": (  # Phi-3's long-context form: partial rotary, fused projections
        "Phi3ForCausalLM",
        "Phi3Config",
        {
            "pad_token_id": 0,
            "partial_rotary_factor": 0.5,  # 4 of 8 features turn: 2 factors
            "rope_parameters": {**LONGROPE, "short_factor": [1.0, 2.0], "long_factor": [3.0, 8.0]},
        },
    ),
}
HELPER_OF = {
    "llama_linear": "rope_frequencies",
    "llama_dynamic": "ntk_frequencies",
    "llama3": "llama3_frequencies",
    "apertus": "llama3_frequencies",
    "llama_yarn": "yarn_frequencies",
    "llama_longrope": "longrope_frequencies",
    "phi3_longrope": "longrope_frequencies",
    "gemma3_text": "layer_frequencies",
}


def build(cls: str, config: str, **kw):
    torch.manual_seed(0)
    model = getattr(transformers, cls)(getattr(transformers, config)(**{**DENSE, **kw}))
    return unit_scale(model.eval())


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_rotary_decoder_is_exact_from_the_folder(tmp_path, name):
    cls, config, kw = FAMILIES[name]
    model = build(cls, config, **kw)
    source, ours = generate(tmp_path, model)
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" not in source and "does not use" not in source
    if name in HELPER_OF:  # the config's frequencies are computed, not the plain ones
        assert f"def {HELPER_OF[name]}(" in source
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    with torch.no_grad():
        want = model(input_ids=ids).logits
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ["llama_longrope", "phi3_longrope", "llama_dynamic"])
def test_frequencies_past_the_original_context(tmp_path, name):
    """Past the original context LongRoPE takes its long factors and dynamic NTK a larger base,
    as the library's rotary module does for the sequence at hand."""
    cls, config, kw = FAMILIES[name]
    model = build(cls, config, **kw)
    _, ours = generate(tmp_path, model)
    ids = torch.randint(2, 100, (2, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(input_ids=ids).logits
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)


def test_a_rope_type_not_written_is_flagged(tmp_path):
    """A rope_type this catalogue does not write (Gemma 4's proportional): the file says which
    keys it ignores, and its attention is guessed."""
    params = dict(rope_type="proportional", partial_rotary_factor=0.5, rope_theta=10000.0)
    source, _ = generate(tmp_path, build("LlamaForCausalLM", "LlamaConfig", rope_parameters=params))
    flat = " ".join(source.split())
    assert "Forward trust: guessed" in flat
    assert "rope_type 'proportional' is not written here" in flat


def test_gemma3_scaled_full_layers(tmp_path):
    """Gemma 3's larger models scale only their full layers' rotary (rope_scaling updates the
    full_attention table): windowed and full layers then differ in type, not only in base."""
    model = build(
        "Gemma3ForCausalLM",
        "Gemma3TextConfig",
        **GQA,
        num_hidden_layers=3,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        rope_scaling=dict(rope_type="linear", factor=8.0),
    )
    assert model.config.rope_parameters["full_attention"]["rope_type"] == "linear"
    source, ours = generate(tmp_path, model)
    assert "Forward trust: guessed" not in source and "does not use" not in source
    ids = torch.randint(2, 100, (2, 11), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids), model(input_ids=ids).logits, atol=1e-5, rtol=1e-4)


def test_qk_norm_after_rotary_for_an_unsurveyed_type_is_flagged(tmp_path):
    """HunYuan's order (norms after rotary) is known from the survey; under a model_type the
    survey does not have, the order is a guess the file says."""
    import json

    model = build("HunYuanDenseV1ForCausalLM", "HunYuanDenseV1Config", **GQA)
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "hunyuan_like"}))
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    flat = " ".join(out.read_text().split())
    assert "is not known to norm queries and keys before rotary" in flat


def test_the_survey_table_reads_as_the_library_does():
    """Spot checks of the table against what each family's code does (the tests above run them)."""
    assert conventions.rotary_layout("llama") == "halves"
    assert conventions.rotary_layout("ernie4_5") == "interleaved"
    assert conventions.rotary_layout("gptj") == "interleaved"  # checked by the GPT-J test
    assert conventions.rotary_layout("gemma3_text") == "halves"  # a text config's own type
    assert conventions.qk_norm_order("hunyuan_v1_dense") == "after"
    assert conventions.qk_norm_order("qwen3") == "before"
    assert conventions.rotary_layout("no_such_type") is None
    assert conventions.reads_rope_type("llama") and not conventions.reads_rope_type("gptj")
    assert len(conventions.SURVEYED) > 200


def test_survey_agrees_with_the_installed_library():
    """The layout probe of benchmarks/survey_rope.py, rerun on a few types, gives the table."""
    import importlib
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    survey = importlib.import_module("survey_rope")
    for mtype in ("llama", "ernie4_5", "glm4", "qwen3"):
        module = importlib.import_module(f"transformers.models.{mtype}.modeling_{mtype}")
        assert survey.layout_of(module.apply_rotary_pos_emb) == conventions.rotary_layout(mtype)
