"""Layers no family pattern assembled before session 12 (issue 15, blk12), built from tiny configs
in code and compared with the library's own forward (atol 1e-5), scripted too:
- EXAONE (LLaMA's layers saved under GPT-Neo-like names): the feed-forward's gate and up are
  `c_fc_0` and `c_fc_1`, an up layer's name numbered as T5's wi_0 / wi_1;
- Sarvam-MoE (GLM-4-MoE's layers saved under its own names): one fused `query_key_value` with
  fewer key/value heads than queries, per-head query and key norms; the name alone does not say
  each head's q, k, v sit side by side (that layout has as many key/value heads as queries);
- InstructBLIP's Q-Former, given text only: its layers' query-token twins of the feed-forward
  (`intermediate_query`, `output_query`) and its cross-attention every other layer act on
  learned queries alone, so the text path is BERT's; the file says the queries' path is not
  generated (guessed), and layers with and without cross-attention make one stack;
- MiniMax-M3's text model: a mixture whose router width is lifted, clamped swiglu feed-forwards,
  and a rotary_dim in config.json its code never reads."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import (  # noqa: E402
    assert_exact,
    assert_trusted,
    generate_for,
    text_inputs,
)
from tests.tiny_configs import DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

DECODERS = {
    "exaone": ("LlamaForCausalLM", "ExaoneConfig", {**DENSE, "num_key_value_heads": 2}),
    "sarvam_moe": (
        "Glm4MoeForCausalLM",
        "SarvamMoEConfig",
        {
            **DENSE,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "first_k_dense_replace": 2,  # dense layers: the attention is what is compared
        },
    ),
}


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_decoder_is_exact_from_the_folder(tmp_path, name):
    reference, ours, source = generate_for(tmp_path, *DECODERS[name])
    ids = torch.randint(2, 100, (2, 11))
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)
    if name == "exaone":
        assert_trusted(source)
        assert "c_fc_0" in source and "F.silu(self.c_fc_0(x)) * self.c_fc_1(x)" in source
    else:  # a type whose conventions are not surveyed: the layout is a default the file names
        assert "qkv_layout" in source and "Forward trust: missing" not in source


def test_minimax_m3_text_is_exact_and_says_what_it_guessed(tmp_path):
    """A dense layer then a mixture: experts' width lifted into the mixture (the router's width
    read from num_local_experts), GPT-OSS's clamped swiglu in the banks and in the shared and
    dense feed-forwards (guessed: not GPT-OSS), and config.json's rotary_dim, which this family's
    code never reads (every feature of a head turns)."""
    config = {
        **DENSE,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "rotary_dim": 4,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "shared_intermediate_size": 48,
        "dense_intermediate_size": 40,
        "mlp_layer_types": ["dense", "sparse"],
        "use_cache": False,
    }
    reference, ours, source = generate_for(
        tmp_path, "MiniMaxM3VLForCausalLM", "MiniMaxM3VLTextConfig", config
    )
    assert "Forward trust: missing" not in source
    assert "swiglu_limit read as GPT-OSS's clamped swiglu" in source
    ids = torch.randint(2, 100, (2, 11))
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)


def test_qformer_text_path_is_exact_and_says_the_queries_are_not_generated(tmp_path):
    config = {
        **DENSE,
        "cross_attention_frequency": 2,
        "encoder_hidden_size": 24,
        "hidden_act": "gelu",
    }
    reference, ours, source = generate_for(
        tmp_path, "InstructBlipQFormerModel", "InstructBlipQFormerConfig", config
    )
    assert "NotImplementedError" not in source
    assert "query tokens (a Q-Former's learned queries) are not generated" in source
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want[:1], ids[:1], mask[:1])
    with torch.no_grad():
        got = ours(ids, mask)
    torch.testing.assert_close(got[1, :7], want[1, :7], atol=1e-5, rtol=1e-5)
