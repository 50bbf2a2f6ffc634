"""State-space and hybrid decoders (ssm9, issue 15): Mamba-2's multi-head scan and the stacks
built on it. Each is built from a tiny config of the library (its torch path: no kernels),
generated from its saved folder, and compared with the library's own forward (atol 1e-5),
scripted too; two configurations per family where one can differ in a way that matters."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for
from tests.tiny_configs import DENSE

MAMBA2 = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, state_size=8, chunk_size=8)
CASES = [
    ("Mamba2ForCausalLM", "Mamba2Config", dict(MAMBA2, num_heads=8, head_dim=8, n_groups=1)),
    # groups of heads sharing B and C, a wider expansion, a finite step-size window that clamps,
    # biased projections, a sequence longer than one chunk
    (
        "Mamba2ForCausalLM",
        "Mamba2Config",
        dict(
            MAMBA2,
            hidden_size=24,
            num_heads=6,
            head_dim=12,
            expand=3,
            state_size=5,
            n_groups=3,
            conv_kernel=3,
            chunk_size=4,
            use_bias=True,
            time_step_limit=(0.3, 1.5),
            tie_word_embeddings=False,
            layer_norm_epsilon=1e-4,
        ),
    ),
]


BAMBA = dict(DENSE, num_key_value_heads=2, mamba_n_heads=8, mamba_d_head=8, mamba_d_state=8)
CASES += [
    # Bamba: Mamba-2 layers and attention layers (which by attn_layer_indices; the weights show)
    ("BambaForCausalLM", "BambaConfig", dict(BAMBA, attn_layer_indices=[1], mamba_chunk_size=8)),
    (
        "BambaForCausalLM",
        "BambaConfig",
        dict(
            BAMBA,
            num_hidden_layers=3,
            attn_layer_indices=[0],
            mamba_n_groups=2,
            mamba_d_state=4,
            mamba_chunk_size=4,
            time_step_limit=(0.2, 2.0),
            tie_word_embeddings=False,
        ),
    ),
]

GRANITE = dict(BAMBA, intermediate_size=16, mamba_chunk_size=8, shared_intermediate_size=64)
NEMOTRON_H = dict(
    vocab_size=100,
    hidden_size=32,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=8,
    intermediate_size=64,
    max_position_embeddings=64,
    ssm_state_size=8,
    mamba_num_heads=8,
    mamba_head_dim=8,
    chunk_size=8,
    use_mamba_kernels=False,
)
CASES += [
    # GraniteMoeHybrid: a mixture beside a shared MLP in every layer, attention without rotary
    # (position_embedding_type null), scaled by attention_multiplier
    (
        "GraniteMoeHybridForCausalLM",
        "GraniteMoeHybridConfig",
        dict(GRANITE, layer_types=["mamba", "attention"], num_local_experts=4),
    ),
    # ... and with rotary, another scale, three of four experts chosen, groups of heads
    (
        "GraniteMoeHybridForCausalLM",
        "GraniteMoeHybridConfig",
        dict(
            GRANITE,
            num_hidden_layers=3,
            layer_types=["attention", "mamba", "mamba"],
            position_embedding_type="rope",
            attention_multiplier=0.2,
            num_local_experts=4,
            num_experts_per_tok=3,
            mamba_n_groups=2,
        ),
    ),
    # Jamba: four experts, two chosen, their softmax weights not renormalised (its router's code)
    (
        "JambaForCausalLM",
        "JambaConfig",
        dict(
            DENSE,
            num_key_value_heads=2,
            num_experts=4,
            num_experts_per_tok=2,
            expert_layer_period=2,
            expert_layer_offset=1,
            attn_layer_period=2,
            attn_layer_offset=1,
            mamba_d_state=8,
            mamba_expand=2,
            mamba_dt_rank=4,
            use_mamba_kernels=False,
        ),
    ),
]

RWKV = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, intermediate_size=64)
CASES += [
    # RWKV-4: time mixing (the weighted key-value recurrence) and channel mixing
    ("RwkvForCausalLM", "RwkvConfig", dict(RWKV, attention_hidden_size=32, context_length=64)),
    # other widths, more layers, an untied head, another eps (not the final norm's: the library
    # builds ln_out with torch's default); attention_hidden_size stays the model's width, as the
    # library's own CPU path fails on any other
    (
        "RwkvForCausalLM",
        "RwkvConfig",
        dict(
            RWKV,
            hidden_size=24,
            num_hidden_layers=3,
            attention_hidden_size=24,
            intermediate_size=40,
            layer_norm_epsilon=1e-4,
            tie_word_embeddings=False,
        ),
    ),
]

# Exact, and flagged: NemotronH's layers each hold one mixer, and its MLP-only layers take no
# padding mask, so the decoder family (which calls its layers alike) does not claim the stack:
# the backbone is width-chained (guessed), which here computes the library's forward.
FLAGGED = [
    # NemotronH: every layer one mixer (scan, attention without rotary, squared-ReLU MLP)
    (
        "NemotronHForCausalLM",
        "NemotronHConfig",
        dict(NEMOTRON_H, layers_block_type=["mamba", "attention", "mlp"], n_groups=1),
    ),
    (
        "NemotronHForCausalLM",
        "NemotronHConfig",
        dict(
            NEMOTRON_H,
            layers_block_type=["attention", "mamba", "mlp", "mamba"],
            n_groups=2,
            mlp_hidden_act="silu",
            layer_norm_epsilon=1e-4,
            time_step_min=0.5,  # NemotronH clamps dt at it: a floor that acts
            tie_word_embeddings=False,
        ),
    ),
]


def _ids() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randint(2, 100, (2, 11))


@pytest.mark.parametrize("model_cls, config_cls, config", CASES)
def test_state_space_decoder_is_exact(tmp_path, model_cls, config_cls, config):
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


@pytest.mark.parametrize("model_cls, config_cls, config", FLAGGED)
def test_flagged_state_space_decoder_is_exact_and_says_where_it_guesses(
    tmp_path, model_cls, config_cls, config
):
    logging.disable(logging.WARNING)
    try:
        reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
        ids = _ids()
        with torch.no_grad():
            want = reference(input_ids=ids).logits
    finally:
        logging.disable(logging.NOTSET)
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" in source
    assert_exact(ours, want, ids)
