"""Attention variants read from a Hugging Face folder and compared with the library's forward
(att12): Flint's learned sinks saved as `softmax_offset` (one of the names the library's conversion
mapping gives a sink), beside windowed layers that rotate and full-attention layers that do not
(benchmarks/survey_rope.py finds such families in their code), and a Flint stack with no windowed
layer, which rotates nothing.

The generated file must match (atol 1e-5) and script; its attention must not be guessed (the
stack stays flagged: dense layers leave config.json's routing fields unused, and Flint's experts
are another task's).
"""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_exact, generate_for
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


@pytest.mark.parametrize("name", sorted(CASES))
def test_att_12_is_exact(tmp_path, name):
    reference, ours, source = generate_for(tmp_path, "FlintForCausalLM", "FlintConfig", CASES[name])
    assert "softmax_offset" in source
    ids = torch.randint(0, DENSE["vocab_size"], (2, 9))
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)
    trust = " ".join(source.split("Values the checkpoint")[0].split())
    guessed = trust.split("guessed ", 1)[1].split(";")[0] if "guessed " in trust else ""
    assert "Attention" not in guessed and "missing" not in trust, trust
