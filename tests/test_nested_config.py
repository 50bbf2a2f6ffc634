"""config.json with sub-configs (DBRX's attn_config and ffn_config), and the clip on projected
queries, keys and values that DBRX and OLMo read (clip_qkv)."""

from __future__ import annotations

import logging

import torch

from codegen.choices import ChoiceResolver
from tests.library_compare import assert_exact, assert_trusted, generate_for, text_inputs

logging.getLogger("transformers").setLevel(logging.ERROR)

TEXT = dict(
    vocab_size=100,
    num_hidden_layers=2,
    num_attention_heads=4,
    hidden_size=32,
    intermediate_size=64,
    max_position_embeddings=64,
    pad_token_id=0,
)


def test_a_top_level_key_outranks_the_same_key_in_a_sub_config():
    """DBRX's sub-configs carry an empty model_type of their own, and sort before the top-level
    key: the model's own type is still the evidence, and an empty string is none."""
    config = {
        "attn_config": {"model_type": "", "kv_n_heads": 2, "rope_theta": 10000.0},
        "ffn_config": {"model_type": "", "hidden_size": 48, "ffn_hidden_size": 64},
        "d_model": 32,
        "hidden_size": 32,
        "model_type": "dbrx",
        "text_config": {"deeper": {"layer_types": ["full_attention"]}, "layer_types": ["a"]},
    }
    resolver = ChoiceResolver(metadata=config)
    assert resolver.evidence("model_type")[1] == "dbrx"
    assert resolver.evidence("hidden_size")[1] == 32  # not ffn_config's 48
    found = resolver.evidence("kv_n_heads")
    assert found[1] == 2 and found[0].endswith("attn_config.kv_n_heads")
    assert resolver.evidence_list("layer_types")[1] == ["a"]  # the shallower list


def test_a_sub_config_alone_still_gives_its_model_type():
    resolver = ChoiceResolver(metadata={"text_config": {"model_type": "llama"}, "vision": {}})
    assert resolver.evidence("model_type")[1] == "llama"


def test_clip_qkv_clamps_the_projections(tmp_path):
    """OLMo's clip_qkv: queries, keys and values clamped as they leave their projections; small
    enough here that unit-scale weights reach it."""
    reference, ours, source = generate_for(
        tmp_path, "OlmoForCausalLM", "OlmoConfig", {**TEXT, "clip_qkv": 0.5}
    )
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).logits
    assert_exact(ours, want, ids, mask)
    assert_trusted(source)
    assert "torch.clamp(" in source


def test_dbrx_reads_its_own_model_type_from_nested_configs(tmp_path):
    """DBRX: kv heads and clip_qkv come from attn_config, the experts from ffn_config; the model's
    own type is read past its empty sub-config types, and the whole forward is the library's
    (the norm-attention-norm pair and the flat experts: tests/test_mix_9.py)."""
    config = dict(
        vocab_size=100,
        max_seq_len=64,
        d_model=32,
        n_layers=2,
        n_heads=4,
        attn_config=dict(kv_n_heads=2, rope_theta=10000.0, clip_qkv=8.0),
        ffn_config=dict(ffn_hidden_size=64, moe_num_experts=4, moe_top_k=2),
    )
    reference, ours, source = generate_for(tmp_path, "DbrxForCausalLM", "DbrxConfig", config)
    assert "model_type ''" not in source
    ids, _ = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)
    assert_trusted(source)
    attention = source[source.index("class Attention") :]
    assert "torch.clamp(" in attention[: attention.index("\nclass ")]
