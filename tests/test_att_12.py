"""Attention variants read from a Hugging Face folder and compared with the library's forward
(att12): Flint's learned sinks saved as `softmax_offset` (one of the names the library's conversion
mapping gives a sink), beside windowed layers that rotate and full-attention layers that do not
(benchmarks/survey_rope.py finds such families in their code), and a Flint stack with no windowed
layer, which rotates nothing.

Beam's output gate: a sigmoid of a per-feature projection plus a learned bias per head.

The generated file must match (atol 1e-5) and script; no block but the stack may be guessed (the
stack stays flagged: dense layers leave config.json's routing fields unused, Beam's rope table
for full layers too, and its conventions rest on its model_type).
"""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_exact, generate_for, text_inputs
from tests.tiny_configs import DENSE

FLINT = dict(
    **DENSE,
    num_key_value_heads=2,
    head_dim=8,
    sliding_window=4,
)
CASES = {
    # a window of 4 positions on the first and third layers (rotary there), full attention with
    # no rotary between; dense layers
    "flint_mixed": dict(
        FLINT,
        num_hidden_layers=3,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        mlp_only_layers=[0, 1, 2],
    ),
    # every layer full: no layer rotates
    "flint_full": dict(
        FLINT, layer_types=["full_attention", "full_attention"], mlp_only_layers=[0, 1]
    ),
}


def assert_attention_trusted(source: str, others: tuple[str, ...] = ()) -> None:
    """No block guessed but the whole stack (whose config.json fields another task reads) and
    `others` (blocks another task owns)."""
    trust = " ".join(source.split("Values the checkpoint")[0].split("Forward trust")[1].split())
    guessed = trust.split("guessed ", 1)[1].split(";")[0] if "guessed " in trust else ""
    assert set(guessed.split(", ")) <= {"", "RecoveredModel", *others}, trust
    assert "missing" not in trust, trust


@pytest.mark.parametrize("name", sorted(CASES))
def test_att_12_is_exact(tmp_path, name):
    reference, ours, source = generate_for(tmp_path, "FlintForCausalLM", "FlintConfig", CASES[name])
    assert "softmax_offset" in source
    ids = torch.randint(0, DENSE["vocab_size"], (2, 9))
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)
    assert_attention_trusted(source)


def test_beam_gate_bias_is_exact(tmp_path):
    """Beam's output gate: a sigmoid of a per-feature projection plus one learned bias per head;
    every layer windowed (rotary; Beam's full layers scale queries by position) and dense."""
    config = dict(
        DENSE,
        num_key_value_heads=2,
        head_dim=8,
        sliding_window=4,
        layer_types=["sliding_attention", "sliding_attention"],
        mlp_layer_types=["dense", "dense"],
        final_logit_softcapping=None,
    )
    reference, ours, source = generate_for(tmp_path, "BeamForCausalLM", "BeamConfig", config)
    assert "gate_bias" in source
    assert reference.model.layers[0].self_attn.gate_bias.abs().min() > 0  # redrawn, not zeros
    ids = torch.randint(0, DENSE["vocab_size"], (2, 9))
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)
    assert_attention_trusted(source)


@pytest.mark.parametrize("window", [3, 128])
def test_privacy_filter_attends_both_ways(tmp_path, window):
    """OpenAI's privacy filter: GPT-OSS layers (learned sinks, rotary turning neighbouring pairs)
    under a bidirectional mask, read from the masks survey; keys at most `window` either side
    (128: every key of these 11), a padded batch."""
    config = dict(
        DENSE,
        num_key_value_heads=2,
        head_dim=8,
        num_local_experts=4,
        num_experts_per_tok=2,
        sliding_window=window,
        pad_token_id=0,
        eos_token_id=2,
    )
    reference, ours, source = generate_for(
        tmp_path, "OpenAIPrivacyFilterModel", "OpenAIPrivacyFilterConfig", config
    )
    assert "both ways, beside a learned sink per head" in source
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)
    assert_attention_trusted(source, ("Experts", "MoE"))  # GPT-OSS's experts: another task's
