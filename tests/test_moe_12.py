"""Mixtures and recurrent mixers (moe12): Aria's experts stored as two child banks [experts, in,
out] (`experts.fc1` / `experts.fc2`) with a softmax over the top-k logits, and Bailing hybrid's
KDA mixer as its checkpoints store it (one f_proj, A_log one a head, the output Linear `dense`),
its decay bounded (kda_safe_gate) or Kimi's. Each is built from a tiny config, saved as the
library saves it, and the generated file must compute the library's forward (TorchScript too)."""

from __future__ import annotations

import pytest

from tests.library_compare import assert_causal_lm_exact, assert_trusted, generate_for
from tests.tiny_configs import DENSE

PAD = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)
BAILING = dict(  # linear-attention layers only, dense MLPs (first_k_dense_replace)
    **DENSE,
    **PAD,
    layer_types=["linear_attention", "linear_attention"],
    mlp_layer_types=["dense", "dense"],
    first_k_dense_replace=2,
    linear_num_heads=2,
    linear_head_dim=6,
    linear_conv_kernel_dim=3,
    use_cache=False,
)
CASES = {
    "aria_text": (
        "AriaTextForCausalLM",
        "AriaTextConfig",
        dict(**DENSE, **PAD, moe_num_experts=4, moe_topk=2, moe_num_shared_experts=1),
    ),
    "bailing_hybrid": ("BailingHybridForCausalLM", "BailingHybridConfig", BAILING),
    "bailing_hybrid_softplus": (
        "BailingHybridForCausalLM",
        "BailingHybridConfig",
        dict(**BAILING, kda_safe_gate=False),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mixture_or_mixer_is_exact(name, tmp_path):
    model_cls, config_cls, config = CASES[name]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    if name == "aria_text":
        assert_trusted(source)
    else:  # the mixer is recognised; config keys of the layers this tiny stack lacks stay named
        assert "class DeltaNet" in source and "NotImplementedError" not in source
        assert "Forward trust: guessed: config.json sets" in source
    assert_causal_lm_exact(reference, ours)
