"""Linear-attention and recurrent hybrid decoders (lin11): gated delta-rule mixers (Qwen3-Next,
Qwen3.5, OLMo hybrid, Kimi Linear's KDA), Qwen3-Next's query-gated attention, LFM3's sandwich-
normed short convs. Each family is built from a tiny config, saved as the library saves it, and
the generated file must compute the library's forward (padded batch, TorchScript too)."""

from __future__ import annotations

import importlib
import types

import pytest
import torch
import torch.nn.functional as F

from codegen.render.helpers import HELPERS
from tests.library_compare import assert_causal_lm_exact, assert_trusted, generate_for
from tests.tiny_configs import DENSE

PAD = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)
DELTA = dict(  # a gated delta-rule mixer: value heads twice the key heads, head sizes unequal
    linear_num_value_heads=4,
    linear_num_key_heads=2,
    linear_key_head_dim=6,
    linear_value_head_dim=5,
    linear_conv_kernel_dim=3,
)

CASES = {
    "qwen3_next": (  # grouped qkvz/ba projections, query-gated attention, MoE + shared expert
        "Qwen3NextForCausalLM",
        "Qwen3NextConfig",
        dict(
            **{**DENSE, "num_hidden_layers": 2},
            **DELTA,
            **PAD,
            layer_types=["linear_attention", "full_attention"],
            num_key_value_heads=2,
            head_dim=8,
            num_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=16,
            shared_expert_intermediate_size=24,
        ),
    ),
    "qwen3_5": (  # flat qkv projection beside z, b, a; dense MLPs
        "Qwen3_5ForCausalLM",
        "Qwen3_5TextConfig",
        dict(
            **DENSE,
            **DELTA,
            **PAD,
            layer_types=["linear_attention", "full_attention"],
            num_key_value_heads=2,
            head_dim=8,
        ),
    ),
    "qwen3_5_moe": (  # Qwen3.5's flat projections beside Qwen3-Next's mixture
        "Qwen3_5MoeForCausalLM",
        "Qwen3_5MoeTextConfig",
        dict(
            **DENSE,
            **DELTA,
            **PAD,
            layer_types=["linear_attention", "full_attention"],
            num_key_value_heads=2,
            head_dim=8,
            num_experts=4,
            num_experts_per_tok=2,
            moe_intermediate_size=16,
            shared_expert_intermediate_size=16,
        ),
    ),
    "olmo_hybrid": (  # separate projections, beta doubled, post-norm attention layers
        "OlmoHybridForCausalLM",
        "OlmoHybridConfig",
        dict(**DENSE, **DELTA, **PAD, layer_types=["linear_attention", "full_attention"]),
    ),
    "kimi_linear": (  # KDA (per-feature decay) beside MLA, a sigmoid-routed MoE layer
        "KimiLinearForCausalLM",
        "KimiLinearConfig",
        dict(
            **DENSE,
            **PAD,
            use_cache=False,
            layer_types=["linear_attention", "full_attention"],
            mlp_layer_types=["dense", "sparse"],
            linear_num_heads=2,
            linear_head_dim=8,
            linear_conv_kernel_dim=3,
            num_key_value_heads=4,
            kv_lora_rank=16,
            qk_nope_head_dim=8,
            qk_rope_head_dim=4,
            v_head_dim=8,
            head_dim=4,  # the rotary width, as in the family's own config
            num_experts=4,
            num_experts_per_token=2,
            moe_intermediate_size=16,
        ),
    ),
    # short convs between a pre and a post norm (its attention layers' proportional rotary per
    # layer kind is not written: the file says so)
    "lfm3": (
        "Lfm3ForCausalLM",
        "Lfm3Config",
        dict(**DENSE, **PAD, use_cache=False, conv_L_cache=4),
    ),
}

# A conv-only LFM3 stack has no attention to read its rotary keys: the safety net still names them
UNTRUSTED = {"lfm3": ("rope_type", "rope_theta")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hybrid_decoder_is_exact(name, tmp_path):
    model_cls, config_cls, config = CASES[name]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    if name in UNTRUSTED:  # exact, but the file names the config keys it leaves unread
        assert all(key in source for key in UNTRUSTED[name])
    else:
        assert_trusted(source)
    assert_causal_lm_exact(reference, ours)


def _helper():
    module = types.ModuleType("delta_rule_helper")
    module.__dict__.update(torch=torch, F=F)
    exec(HELPERS["gated_delta_rule"], module.__dict__)
    return module.gated_delta_rule


@pytest.mark.parametrize("per_feature", [False, True])
def test_delta_rule_agrees_with_both_library_forms(per_feature):
    """The helper's chunked form (a decay per head) and its step-by-step form (per key feature)
    against the library's chunked and recurrent torch fallbacks, over more than one chunk."""
    rule = _helper()
    torch.manual_seed(0)
    b, s, heads, dk, dv = 2, 70, 4, 6, 5
    key_heads = heads if per_feature else 2
    q, k = torch.randn(b, s, key_heads, dk), torch.randn(b, s, key_heads, dk)
    v = torch.randn(b, s, heads, dk if per_feature else dv)
    g = -torch.rand(b, s, heads, dk) if per_feature else -torch.rand(b, s, heads)
    beta = torch.rand(b, s, heads)
    if per_feature:
        library = importlib.import_module("transformers.models.kimi_linear.modeling_kimi_linear")
        forms = (library.chunk_kimi_delta_attention, library.recurrent_kimi_delta_attention)
    else:
        library = importlib.import_module("transformers.models.qwen3_next.modeling_qwen3_next")
        forms = (library.torch_chunk_gated_delta_rule, library.torch_recurrent_gated_delta_rule)
    ours = rule(q, k, v, g, beta)
    for form in forms:
        want, _ = form(
            q,
            k,
            v,
            g=g,
            beta=beta,
            initial_state=None,
            output_final_state=False,
            use_qk_l2norm_in_kernel=True,
        )
        torch.testing.assert_close(ours, want, atol=2e-5, rtol=1e-5)
