"""Mixture-of-experts and gated-attention decoders (mix9, issue 15), each built from a tiny config of
the library, generated from its saved folder and compared with the library's own forward (atol
1e-5), scripted too; two configurations per family:

- DBRX: experts stored flat (`w1`, `v1`, `w2`: [experts * inner, d_model]), a class holding the
  first norm, the attention and the second norm that returns both the residual stream and it
  normed, bias-free LayerNorms, clamped fused qkv;
- Laguna: attention output gated by softplus(g_proj(x)) per head or per feature, each rope table
  per layer kind with its own partial_rotary_factor. Its experts as the library saves them (a
  container holding the numbered experts and the router's correction bias) are not written yet:
  that file must say so;
- GPT-2 with scale_attn_by_inverse_layer_idx (the config sweep's leftover): each layer's scores
  also divided by its index + 1, the index passed down the stack;
- SEW: a speech encoder whose layers run on a squeezed sequence (pooled frames, a strided
  positional conv, an upsampling projection).
"""

from __future__ import annotations

import logging

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for
from tests.tiny_configs import AUDIO, DENSE

DBRX = dict(vocab_size=100, max_seq_len=64, d_model=32, n_layers=2, n_heads=4)
LAGUNA = dict(DENSE, num_key_value_heads=2, head_dim=8)
LAGUNA.update(moe_intermediate_size=16, shared_expert_intermediate_size=16, num_experts=4)
GPT2 = dict(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4)

CASES = [
    (
        "DbrxForCausalLM",
        "DbrxConfig",
        dict(
            DBRX,
            attn_config=dict(kv_n_heads=2, rope_theta=10000.0, clip_qkv=8.0),
            ffn_config=dict(ffn_hidden_size=64, moe_num_experts=4, moe_top_k=2),
        ),
    ),
    # other sizes: 6 heads sharing 3 key/value heads, a tight clamp, a larger base, 8 experts of
    # which 3 per token, a gelu gate, three layers
    (
        "DbrxForCausalLM",
        "DbrxConfig",
        dict(
            DBRX,
            d_model=48,
            n_heads=6,
            n_layers=3,
            # this library version rotates by rope_parameters: both say the same base
            attn_config=dict(kv_n_heads=3, rope_theta=500000.0, clip_qkv=0.5),
            rope_parameters=dict(rope_type="default", rope_theta=500000.0),
            ffn_config=dict(
                ffn_hidden_size=24,
                moe_num_experts=8,
                moe_top_k=3,
                ffn_act_fn={"name": "gelu"},
            ),
        ),
    ),
    # Laguna's layers without experts: a gate per head, windowed and full layers rotating
    # different shares of each head with different bases (its default rope tables)
    (
        "LagunaForCausalLM",
        "LagunaConfig",
        dict(
            LAGUNA,
            sliding_window=4,
            layer_types=["sliding_attention", "full_attention"],
            mlp_layer_types=["dense", "dense"],
        ),
    ),
    # a gate per feature, every layer full, three layers, a rope table of its own
    (
        "LagunaForCausalLM",
        "LagunaConfig",
        dict(
            LAGUNA,
            num_hidden_layers=3,
            gating="per-element",
            layer_types=["full_attention"] * 3,
            mlp_layer_types=["dense"] * 3,
            rope_parameters={
                "full_attention": {
                    "rope_type": "default",
                    "rope_theta": 1000.0,
                    "partial_rotary_factor": 0.25,
                },
                "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            },
        ),
    ),
    # GPT-2 with scale_attn_by_inverse_layer_idx (Stanford CRFM's): scores also divided by the
    # layer's index + 1; then without the sqrt(head_dim) either
    (
        "GPT2LMHeadModel",
        "GPT2Config",
        dict(GPT2, n_layer=3, scale_attn_by_inverse_layer_idx=True),
    ),
    (
        "GPT2LMHeadModel",
        "GPT2Config",
        dict(GPT2, n_head=2, scale_attn_by_inverse_layer_idx=True, scale_attn_weights=False),
    ),
]


def _ids() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randint(2, 100, (2, 11))


@pytest.mark.parametrize(
    "model_cls, config_cls, config", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_exact_against_the_library(model_cls, config_cls, config, tmp_path):
    logging.disable(logging.WARNING)
    try:
        reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
        ids = _ids()
        with torch.no_grad():
            want = reference(input_ids=ids).logits
    finally:
        logging.disable(logging.NOTSET)
    assert_trusted(source)
    assert_exact(ours, want, ids)


def test_dbrx_norms_are_bias_free_layer_norms(tmp_path):
    """DBRX's config has no eps key and its norms hold only a weight: its model_type says they
    are LayerNorms (the library's own modules checked here), not the RMSNorm a lone weight
    would default to."""
    import transformers

    _, _, source = generate_for(tmp_path, *CASES[0])
    config = transformers.DbrxConfig(**CASES[0][2])
    model = transformers.DbrxForCausalLM(config)
    leaves = [m for m in model.modules() if not list(m.children())]
    norms = {type(m) for m in leaves if type(m).__name__.endswith("Norm")}
    assert norms == {torch.nn.LayerNorm}
    assert all(m.bias is None for m in leaves if isinstance(m, torch.nn.LayerNorm))
    assert "nn.LayerNorm(" in source and "nn.RMSNorm(" not in source


def test_laguna_experts_as_saved_are_named_missing(tmp_path):
    """Laguna saves its experts as numbered modules beside the router's correction bias, in one
    container: not written yet, so the file says which class is missing rather than guessing."""
    config = dict(
        LAGUNA, num_experts_per_tok=2, sliding_window=16, mlp_layer_types=["dense", "sparse"]
    )
    _, _, source = generate_for(tmp_path, "LagunaForCausalLM", "LagunaConfig", config)
    assert "Forward trust: missing" in source
    assert "e_score_correction_bias" in source


def test_flat_experts_without_a_count_are_guessed(tmp_path):
    """The rows of w1 do not say how many experts they hold: without config.json the count is a
    default, and the file says so."""
    from safetensors.torch import save_file

    from codegen.cli.main import main
    from codegen.patterns.blocks.flat_experts import _example

    weights, out = tmp_path / "moe.safetensors", tmp_path / "model.py"
    save_file(_example().module.state_dict(), str(weights))
    assert main(["generate", str(weights), "-o", str(out), "--quiet"]) == 0
    source = out.read_text()
    assert "Forward trust: guessed" in source and "rows of w1 do not say" in source


SEW_CASES = [
    dict(AUDIO, squeeze_factor=2),
    # squeezed by 3 (a frame left over), an odd positional kernel, conv features as wide as the
    # layers (no projection), relu features
    dict(
        AUDIO,
        conv_dim=(32, 32, 32),
        squeeze_factor=3,
        num_conv_pos_embeddings=5,
        num_conv_pos_embedding_groups=2,
        feat_extract_activation="relu",
        conv_bias=True,
    ),
]


@pytest.mark.parametrize("config", SEW_CASES, ids=["sew-0", "sew-1"])
def test_sew_exact_against_the_library(config, tmp_path):
    """SEW: the layers run on frames pooled by squeeze_factor, beside a positional conv of that
    stride; upsampled back and padded to the frames that came in."""
    reference, ours, source = generate_for(tmp_path, "SEWModel", "SEWConfig", config)
    torch.manual_seed(1)
    audio = torch.randn(2, 400)
    with torch.no_grad():
        want = reference(input_values=audio).last_hidden_state
    assert_trusted(source)
    assert_exact(ours, want, audio)
