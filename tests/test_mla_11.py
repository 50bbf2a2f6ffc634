"""Modern mixture-of-experts decoders, from a Hugging Face folder, compared with the library's
forward (mla11): Mistral 4 (latent attention whose config gives head_dim as the whole query head,
a YaRN table, queries scaled by position past llama_4_scaling_beta's span, fused experts beside a
shared expert), Ministral 3's attention temperature on plain attention, and the sparse attention's
indexer of DeepSeek-V3.2 and GLM-MoE-DSA keeping fewer keys than the input has, Llama 4's chunked
attention and experts whose inputs are weighted.

Each config differs from the library default where the mechanism has a choice: a temperature span
shorter than the input (so the scale is not 1), grouped routing, a dense first layer. The
generated file must match (atol 1e-5), script, and claim no 'guessed' or 'missing' block.
"""

from __future__ import annotations

import logging

import pytest
import torch
import transformers

from tests.library_compare import assert_trusted
from tests.generated_module import generate_from_folder
from tests.redraw import unit_scale
from tests.tiny_configs import DENSE

logging.getLogger("transformers").setLevel(logging.ERROR)

LATENT = dict(kv_lora_rank=16, q_lora_rank=24, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=6)
EXPERTS = dict(n_routed_experts=4, moe_intermediate_size=16, num_experts_per_tok=2)
# YaRN as Mistral 4 ships it, with a span of 4 positions: queries past it are scaled
YARN = dict(
    rope_type="yarn",
    rope_theta=10000.0,
    factor=8.0,
    original_max_position_embeddings=4,
    beta_fast=32.0,
    beta_slow=1.0,
    mscale=1.0,
    mscale_all_dim=1.0,
    llama_4_scaling_beta=0.3,
    partial_rotary_factor=4 / 12,
)


def _build(config: str, model: str, **kw):
    def build():
        return getattr(transformers, model)(getattr(transformers, config)(**{**DENSE, **kw}))

    return build


FAMILIES = {
    # the library default rope table (YaRN, a span past the input), grouped routing of 4 experts
    "mistral4": _build(
        "Mistral4Config",
        "Mistral4ForCausalLM",
        **LATENT,
        **EXPERTS,
        n_group=2,
        topk_group=1,
        routed_scaling_factor=1.5,
    ),
    # a span of 4 positions: the temperature grows inside the input; a dense first layer
    "mistral4_temperature": _build(
        "Mistral4Config",
        "Mistral4ForCausalLM",
        **LATENT,
        **EXPERTS,
        first_k_dense_replace=1,
        norm_topk_prob=False,
        rope_parameters=YARN,
        rope_interleave=False,
    ),
    # plain attention scaled alike (Ministral 3): span 4
    "ministral3_temperature": _build(
        "Ministral3Config",
        "Ministral3ForCausalLM",
        num_key_value_heads=2,
        rope_parameters=dict(YARN, partial_rotary_factor=1.0),
    ),
    # DeepSeek-V3.2: the sparse attention's indexer keeps 4 of up to 9 keys; a dense first layer,
    # then fused experts beside a shared expert, grouped sigmoid routing
    "deepseek_v32": _build(
        "DeepseekV32Config",
        "DeepseekV32ForCausalLM",
        **LATENT,
        **EXPERTS,
        index_n_heads=2,
        index_head_dim=8,
        index_topk=4,
        first_k_dense_replace=1,
        n_group=2,
        topk_group=1,
    ),
    # GLM-MoE-DSA: the same indexer turning neighbours, every layer sparse
    "glm_moe_dsa": _build(
        "GlmMoeDsaConfig",
        "GlmMoeDsaForCausalLM",
        **LATENT,
        **EXPERTS,
        index_n_heads=2,
        index_head_dim=8,
        index_topk=3,
        first_k_dense_replace=0,
    ),
    # Llama 4: chunks of 4 positions, rotary by neighbours then parameter-free qk norms, experts
    # whose INPUT the sigmoid of the top logits scales, beside a shared expert, every other layer
    "llama4_text": _build(
        "Llama4TextConfig",
        "Llama4ForCausalLM",
        num_key_value_heads=2,
        head_dim=8,
        intermediate_size_mlp=48,
        num_local_experts=4,
        num_experts_per_tok=2,
        interleave_moe_layer_step=2,
        attention_chunk_size=4,
    ),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_mla_11_family_is_exact(tmp_path, name):
    torch.manual_seed(0)
    model = unit_scale(FAMILIES[name]().eval())
    source, ours = generate_from_folder(tmp_path, model)
    ids = torch.randint(0, DENSE["vocab_size"], (2, 9))
    with torch.no_grad():
        want = model(input_ids=ids).logits
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)
    assert_trusted(source)


def test_layers_reusing_an_earlier_indexer_are_flagged(tmp_path):
    """GLM-MoE-DSA's "shared" layers reuse the keys an earlier layer's indexer chose: not written
    here, so the file must say it is guessed rather than attend to every key there silently."""
    torch.manual_seed(0)
    model = _build(
        "GlmMoeDsaConfig",
        "GlmMoeDsaForCausalLM",
        **LATENT,
        **EXPERTS,
        index_n_heads=2,
        index_head_dim=8,
        index_topk=3,
        first_k_dense_replace=0,
        index_topk_pattern="FS",
    )()
    source, _ = generate_from_folder(tmp_path, unit_scale(model.eval()))
    assert "indexer_types" in source and "Forward trust: guessed" in source


def test_llama4_layers_without_rotary_are_flagged(tmp_path):
    """Llama 4's fourth layer does not rotate (NoPE), attends to every earlier position and tunes
    its temperature: not written here, so the file must say it is guessed."""
    torch.manual_seed(0)
    model = _build(
        "Llama4TextConfig",
        "Llama4ForCausalLM",
        num_hidden_layers=4,
        num_key_value_heads=2,
        head_dim=8,
        num_local_experts=2,
        num_experts_per_tok=1,
        attention_chunk_size=4,
    )()
    source, _ = generate_from_folder(tmp_path, unit_scale(model.eval()))
    assert "no_rope_layers" in source and "Forward trust: guessed" in source
