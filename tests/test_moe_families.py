"""Mixture-of-experts decoders from a Hugging Face folder, compared with the library's forward.

One mechanism serves them all (patterns/blocks/router.py `routing`, moe.py, expert_bank.py): router
scores by softmax or sigmoid, a DeepSeek-V3 correction bias that steers the choice only, grouped
top-k, renormalised and scaled weights, shared experts (plain or gated), and layers that are dense
or sparse as the checkpoint shows. Each family is a tiny config built here, its weights redrawn at
unit scale; the generated file must match (atol 1e-5), script, and claim no 'guessed' block.
"""

from __future__ import annotations

import logging

import pytest
import torch
import transformers

from tests.generated_module import generate_from_folder
from tests.redraw import unit_scale

logging.getLogger("transformers").setLevel(logging.ERROR)

TEXT = dict(
    vocab_size=100,
    hidden_size=32,
    num_attention_heads=4,
    num_key_value_heads=2,
    intermediate_size=64,
    max_position_embeddings=64,
)


def _build(config: str, model: str, **kw):
    def build():
        return getattr(transformers, model)(getattr(transformers, config)(**{**TEXT, **kw}))

    return build


# name -> (builder, what it exercises); every config differs from its library default where the
# mechanism has a choice (groups, scale, normalisation, dense layers).
FAMILIES = {
    # sigmoid scores, correction bias, 2 groups keeping 1, scaled, a dense first layer, shared
    "glm4_moe_grouped": _build(
        "Glm4MoeConfig",
        "Glm4MoeForCausalLM",
        num_hidden_layers=3,
        moe_intermediate_size=16,
        n_routed_experts=8,
        num_experts_per_tok=3,
        n_group=2,
        topk_group=1,
        routed_scaling_factor=2.5,
        first_k_dense_replace=1,
        n_shared_experts=2,
    ),
    # the same router in another family: Qwen3-style attention with qk-norm
    "dots1": _build(
        "Dots1Config",
        "Dots1ForCausalLM",
        num_hidden_layers=2,
        head_dim=8,
        moe_intermediate_size=16,
        n_routed_experts=4,
        num_experts_per_tok=2,
        n_shared_experts=1,
        first_k_dense_replace=1,
        norm_topk_prob=True,
        routed_scaling_factor=1.5,
    ),
    # softmax scores with a correction bias kept in a child module, shared experts, a dense layer
    "ernie4_5_moe": _build(
        "Ernie4_5_MoeConfig",
        "Ernie4_5_MoeForCausalLM",
        num_hidden_layers=2,
        moe_intermediate_size=16,
        moe_num_experts=4,
        moe_k=2,
        moe_num_shared_experts=1,
        moe_layer_start_index=1,
    ),
    # Qwen3-MoE whose first layer is dense (mlp_only_layers)
    "qwen3_moe_dense_first": _build(
        "Qwen3MoeConfig",
        "Qwen3MoeForCausalLM",
        num_hidden_layers=2,
        head_dim=8,
        moe_intermediate_size=16,
        num_experts=4,
        num_experts_per_tok=2,
        mlp_only_layers=[0],
        norm_topk_prob=True,
    ),
    # Qwen2-MoE, sparse every second layer, its shared expert gated by a sigmoid
    "qwen2_moe_sparse_step": _build(
        "Qwen2MoeConfig",
        "Qwen2MoeForCausalLM",
        num_hidden_layers=3,
        moe_intermediate_size=16,
        num_experts=4,
        num_experts_per_tok=2,
        shared_expert_intermediate_size=32,
        decoder_sparse_step=2,
    ),
    # softmax, top-k renormalised always, its own key for top-k (moe_topk), a shared MLP
    "hunyuan_v1_moe": _build(
        "HunYuanMoEV1Config",
        "HunYuanMoEV1ForCausalLM",
        num_hidden_layers=2,
        num_experts=4,
        moe_topk=2,
        head_dim=8,
    ),
    # GraniteMoE's expert banks, and beside the mixture a shared MLP with fused gate/up
    "granitemoeshared": _build(
        "GraniteMoeSharedConfig",
        "GraniteMoeSharedForCausalLM",
        num_hidden_layers=2,
        num_local_experts=4,
        num_experts_per_tok=2,
        shared_intermediate_size=24,
        residual_multiplier=0.5,
    ),
    # sigmoid scores, the correction bias on the mixture itself, always renormalised
    "minimax_m2": _build(
        "MiniMaxM2Config",
        "MiniMaxM2ForCausalLM",
        num_hidden_layers=2,
        head_dim=8,
        num_local_experts=4,
        num_experts_per_tok=2,
    ),
    # the same bias placement, a shared expert, a dense first layer, scaled weights
    "exaone_moe": _build(
        "ExaoneMoeConfig",
        "ExaoneMoeForCausalLM",
        num_hidden_layers=2,
        moe_intermediate_size=16,
        num_experts=4,
        num_experts_per_tok=2,
        first_k_dense_replace=1,
        routed_scaling_factor=2.0,
    ),
    # DeepSeek-V3's router (sigmoid, correction bias) with plain attention
    "solar_open": _build(
        "SolarOpenConfig",
        "SolarOpenForCausalLM",
        num_hidden_layers=2,
        head_dim=8,
        moe_intermediate_size=16,
        n_routed_experts=4,
        num_experts_per_tok=2,
    ),
    # OLMoE-like softmax routing, weights not renormalised
    "flex_olmo": _build(
        "FlexOlmoConfig",
        "FlexOlmoForCausalLM",
        num_hidden_layers=2,
        num_experts=4,
        num_experts_per_tok=2,
        pad_token_id=0,
    ),
    # GPT-OSS: router bias, top-k then softmax, biased experts stored [experts, in, out] with
    # gate/up interleaved and a clamped swiglu (a limit the unit-scale weights reach), attention
    # sinks, windowed and full layers (a window shorter than the input), yarn rotary
    "gpt_oss_windowed": _build(
        "GptOssConfig",
        "GptOssForCausalLM",
        num_hidden_layers=3,
        head_dim=8,
        num_local_experts=6,
        num_experts_per_tok=3,
        intermediate_size=24,
        sliding_window=3,
        swiglu_limit=2.0,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
    ),
}


def _exact(tmp_path, name: str) -> str:
    torch.manual_seed(0)
    model = unit_scale(FAMILIES[name]().eval())
    source, ours = generate_from_folder(tmp_path, model)
    ids = torch.randint(0, TEXT["vocab_size"], (2, 7))
    with torch.no_grad():
        want = model(input_ids=ids).logits
        got = ours(ids)
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-4), (got - want).abs().max()
    torch.jit.script(ours)
    trust = " ".join(source.split("Values the checkpoint")[0].split())
    assert "guessed" not in trust and "missing" not in trust, trust
    return source


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_moe_family_is_exact(tmp_path, name):
    _exact(tmp_path, name)
