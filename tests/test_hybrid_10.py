"""Hybrid and long-sequence decoders (hyb10, issue 15): Griffin's recurrent block (RG-LRU) beside
local attention (RecurrentGemma). Each is built from a tiny config of the library, generated from
its saved folder, and compared with the library's own forward (atol 1e-5), scripted too.
Falcon-H1 (attention and Mamba-2 side by side in each layer); ESM C (an encoder whose library
divides each branch by sqrt(num_hidden_layers / 36))."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for, text_inputs
from tests.tiny_configs import DENSE

GRIFFIN = dict(DENSE, num_key_value_heads=1, conv1d_width=4)
CASES = [
    # the zoo's: two recurrent layers then one attention layer with an 8-token window (the
    # sequence of 11 is longer), lru_width = hidden_size, multi-query attention
    (
        "RecurrentGemmaForCausalLM",
        "RecurrentGemmaConfig",
        dict(
            GRIFFIN,
            num_hidden_layers=3,
            lru_width=32,
            attention_window_size=8,
            block_types=["recurrent", "recurrent", "attention"],
        ),
    ),
    # a recurrence wider than the stream, attention first and the kinds cycled over three
    # layers, two kv heads, a shorter conv and window, an untied head, another activation
    (
        "RecurrentGemmaForCausalLM",
        "RecurrentGemmaConfig",
        dict(
            GRIFFIN,
            num_hidden_layers=3,
            num_key_value_heads=2,
            lru_width=48,
            conv1d_width=3,
            attention_window_size=5,  # a padded query whose window is all padding has no key
            block_types=["attention", "recurrent"],
            hidden_activation="gelu",
            tie_word_embeddings=False,
            logits_soft_cap=10.0,
        ),
    ),
]

FALCON_H1 = dict(
    DENSE,
    num_key_value_heads=2,
    mamba_d_ssm=64,
    mamba_n_heads=8,
    mamba_d_head=8,
    mamba_d_state=8,
    mamba_chunk_size=8,
)
CASES += [
    ("FalconH1ForCausalLM", "FalconH1Config", FALCON_H1),
    # the layer's and the head's muP factors away from 1, groups sharing B and C, three layers
    (
        "FalconH1ForCausalLM",
        "FalconH1Config",
        dict(
            FALCON_H1,
            num_hidden_layers=3,
            mamba_n_groups=2,
            attention_in_multiplier=0.5,
            attention_out_multiplier=1.5,
            ssm_out_multiplier=0.75,
            lm_head_multiplier=0.5,
            embedding_multiplier=2.0,
        ),
    ),
    # the muP factors inside the blocks: on the keys, on the MLP's gate and output, on the
    # mixer's input and on each part of its projection
    (
        "FalconH1ForCausalLM",
        "FalconH1Config",
        dict(
            FALCON_H1,
            key_multiplier=0.5,
            mlp_multipliers=[0.5, 2.0],
            ssm_in_multiplier=1.5,
            ssm_multipliers=[0.5, 2.0, 0.75, 1.25, 1.5],
            mamba_rms_norm=True,  # a gated norm in the mixer, normed before the gate
        ),
    ),
]


@pytest.mark.parametrize("model_cls, config_cls, config", CASES)
def test_hybrid_decoder_is_exact(tmp_path, model_cls, config_cls, config):
    logging.disable(logging.WARNING)
    try:
        reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
        ids, mask = text_inputs(reference)
        with torch.no_grad():
            want = reference(input_ids=ids, attention_mask=mask).logits
    finally:
        logging.disable(logging.NOTSET)
    assert_trusted(source)
    assert_exact(ours, want, ids, mask)


ENCODERS = [
    ("EsmcModel", "EsmcConfig", dict(DENSE)),
    # three layers (another depth factor), wider heads, another activation
    (
        "EsmcModel",
        "EsmcConfig",
        dict(
            DENSE,
            num_hidden_layers=3,
            hidden_size=48,
            num_attention_heads=6,
            num_key_value_heads=6,
            head_dim=8,
            intermediate_size=80,
            hidden_act="gelu",
        ),
    ),
]


@pytest.mark.parametrize("model_cls, config_cls, config", ENCODERS)
def test_depth_scaled_encoder_is_exact(tmp_path, model_cls, config_cls, config):
    logging.disable(logging.WARNING)
    try:
        reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
        ids, mask = text_inputs(reference)
        with torch.no_grad():
            want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    finally:
        logging.disable(logging.NOTSET)
    assert_trusted(source)
    assert_exact(ours, want, ids, mask)
