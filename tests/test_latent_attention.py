"""Multi-head latent attention (DeepSeek-V2 style) decoders from a Hugging Face folder, compared
with the library's forward (patterns/blocks/latent_attention.py).

One pattern serves every family: the roles of the low-rank projections read from their shapes,
the rotary part turned as the family does (config.json's rope_interleave where the family reads
it, else the latent survey, patterns/_latent_conventions.py), the latent norms' fixed eps, YaRN's
score scale. Each family is built here from at least two tiny configs (low-rank or plain queries,
both rotary layouts, a rope_type, mixtures of experts), its weights redrawn at unit scale; the
generated file must match (atol 1e-5) on a padded batch, script, and claim no guessed block.
"""

from __future__ import annotations

import logging

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for, text_inputs
from tests.tiny_configs import DENSE  # noqa: E402

logging.getLogger("transformers").setLevel(logging.ERROR)

# every size different, so that a wrong split shows
MLA = dict(kv_lora_rank=16, q_lora_rank=24, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=6)
LITE = dict(MLA, q_lora_rank=None, kv_lora_rank=12, qk_nope_head_dim=6, v_head_dim=10)  # V2-Lite
MOE = dict(n_routed_experts=4, moe_intermediate_size=16, num_experts_per_tok=2)
YARN = dict(
    rope_type="yarn",
    rope_theta=10000.0,
    factor=4.0,
    original_max_position_embeddings=16,
    mscale=1.0,  # cos and sin times mscale(1.0) / mscale(0.8); scores times mscale(0.8) squared
    mscale_all_dim=0.8,
)

# name -> (model class, config class, config)
CASES = {
    "deepseek_v2": ("DeepseekV2ForCausalLM", "DeepseekV2Config", dict(MLA, **MOE)),
    # V2-Lite: plain queries, a dense first layer, a shared expert, scaled greedy routing
    "deepseek_v2_lite": (
        "DeepseekV2ForCausalLM",
        "DeepseekV2Config",
        dict(
            LITE,
            **MOE,
            first_k_dense_replace=1,
            n_shared_experts=1,
            routed_scaling_factor=1.5,
            topk_method="greedy",
            n_group=2,
            topk_group=1,
        ),
    ),
    "deepseek_v3": (
        "DeepseekV3ForCausalLM",
        "DeepseekV3Config",
        dict(MLA, **MOE, n_group=2, topk_group=1, first_k_dense_replace=1),
    ),
    # halves instead of pairs, plain queries, and YaRN: its frequencies and mscale on the scores
    "deepseek_v3_halves_yarn": (
        "DeepseekV3ForCausalLM",
        "DeepseekV3Config",
        dict(
            LITE,
            **MOE,
            n_group=1,
            topk_group=1,
            first_k_dense_replace=1,
            rope_interleave=False,
            rope_parameters=dict(YARN),
        ),
    ),
    "youtu": ("YoutuForCausalLM", "YoutuConfig", dict(MLA)),
    "youtu_halves": ("YoutuForCausalLM", "YoutuConfig", dict(LITE, rope_interleave=False)),
    "minicpm3": ("MiniCPM3ForCausalLM", "MiniCPM3Config", dict(MLA)),
    # other muP factors, plain queries, a rotary base of its own
    "minicpm3_plain_q": (
        "MiniCPM3ForCausalLM",
        "MiniCPM3Config",
        dict(
            LITE,
            scale_emb=3,
            scale_depth=2.0,
            dim_model_base=64,
            rope_parameters=dict(rope_type="default", rope_theta=500.0),
        ),
    ),
    # a family no task named: the same mechanism, met for the first time
    "glm4_moe_lite": (
        "Glm4MoeLiteForCausalLM",
        "Glm4MoeLiteConfig",
        dict(MLA, **MOE, n_group=1, topk_group=1, first_k_dense_replace=1),
    ),
    "glm4_moe_lite_halves": (
        "Glm4MoeLiteForCausalLM",
        "Glm4MoeLiteConfig",
        dict(LITE, **MOE, n_group=1, topk_group=1, rope_interleave=False),
    ),
    # DeepSeek-V3's code under a config class of its own
    "sarvam_mla": (
        "DeepseekV3ForCausalLM",
        "SarvamMLAConfig",
        dict(MLA, **MOE, n_group=1, topk_group=1, first_k_dense_replace=1),
    ),
    "sarvam_mla_plain_q": (
        "DeepseekV3ForCausalLM",
        "SarvamMLAConfig",
        dict(LITE, **MOE, n_group=2, topk_group=1, first_k_dense_replace=1, rope_interleave=False),
    ),
}


def _exact(tmp_path, name: str) -> str:
    model_cls, config_cls, config = CASES[name]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, {**DENSE, **config})
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).logits
    assert_exact(ours, want, ids, mask)
    assert_trusted(source)
    return source


@pytest.mark.parametrize("name", sorted(CASES))
def test_latent_family_is_exact(tmp_path, name):
    source = _exact(tmp_path, name)
    assert "LatentAttention" in source or "kv_b_proj" in source


def test_the_roles_come_from_shapes_not_names(tmp_path):
    """The same DeepSeek-V2 weights under other names (an engine's wq_a/wkv_a spelling) give the
    same forward: which projection is which is read from the widths and how they chain."""
    from safetensors.torch import load_file, save_file

    from codegen.cli.main import main
    from tests.generated_module import load_module

    model_cls, config_cls, config = CASES["deepseek_v2"]
    reference, _, _ = generate_for(tmp_path, model_cls, config_cls, {**DENSE, **config})
    folder = tmp_path / "hf"
    weights = next(folder.glob("*.safetensors"))
    renames = {
        "q_a_proj": "wq_a",
        "q_a_layernorm": "q_norm",
        "q_b_proj": "wq_b",
        "kv_a_proj_with_mqa": "wkv_a",
        "kv_a_layernorm": "kv_norm",
        "kv_b_proj": "wkv_b",
        "o_proj": "wo",
    }
    state = {}
    for key, value in load_file(weights).items():
        parts = key.split(".")
        state[".".join(renames.get(p, p) for p in parts)] = value
    weights.unlink()
    save_file(state, folder / "model.safetensors")
    out = tmp_path / "renamed.py"
    assert main(["generate", str(folder), "-o", str(out), "--quiet"]) == 0
    ours = load_module(out).RecoveredModel().eval()
    ours.load_state_dict(state, strict=True)
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).logits
    assert_exact(ours, want, ids, mask)


def test_an_unknown_family_says_its_layout_is_a_guess(tmp_path):
    """A latent attention in a model type outside the survey computes DeepSeek's layout and says
    the layout is a guess, never silently."""
    import json

    from codegen.cli.main import main

    model_cls, config_cls, config = CASES["youtu"]
    generate_for(tmp_path, model_cls, config_cls, {**DENSE, **config})
    folder = tmp_path / "hf"
    said = json.loads((folder / "config.json").read_text())
    said["model_type"] = "some_new_latent_model"
    said.pop("rope_interleave", None)
    (folder / "config.json").write_text(json.dumps(said))
    out = tmp_path / "unknown.py"
    assert main(["generate", str(folder), "-o", str(out), "--quiet"]) == 0
    source = out.read_text()
    assert "Forward trust: guessed" in source
    assert "neighbouring" in " ".join(source.split())
