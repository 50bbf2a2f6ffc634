"""A decoder whose token table is wider than its blocks, projected in once and never back (CSM's
depth decoder: `inputs_embeds_projector` from the backbone's width to its own): the projection is
a Linear the decoder family runs after the table, not an Embedding, nor another modality's
projector left unrun. Written here around the library's Llama layers, compared with them."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted  # noqa: E402
from tests.library_compare import generate_from_trainer_dict  # noqa: E402
from tests.redraw import unit_scale  # noqa: E402


def test_a_one_way_input_projection_runs_after_the_token_table(tmp_path):
    import torch.nn as nn
    import transformers

    config = transformers.LlamaConfig(
        vocab_size=40,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )

    class DepthDecoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            llama = transformers.LlamaModel(config)
            self.embed_tokens = nn.Embedding(40, 24)  # the backbone's width
            self.inputs_embeds_projector = nn.Linear(24, 16, bias=False)
            self.layers, self.norm = llama.layers, llama.norm
            llama.embed_tokens = None
            object.__setattr__(self, "llama", llama)  # runs the layers; holds no other weights

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.inputs_embeds_projector(self.embed_tokens(ids))
            return self.llama(inputs_embeds=x).last_hidden_state

    torch.manual_seed(0)
    reference = unit_scale(DepthDecoder().eval())
    ours, source = generate_from_trainer_dict(tmp_path, reference, config)
    assert_trusted(source)
    assert "nn.Linear(24, 16" in source or "inputs_embeds_projector = nn.Linear(" in source
    ids = torch.randint(0, 40, (2, 9))
    with torch.no_grad():
        want = reference(ids)
    assert_exact(ours, want, ids)
