"""Contrastive pairs whose towers are CLIP's under another model_type (CLIPSeg, OWLv2): the text
tower attends to earlier tokens only while the vision tower, sharing its layer classes, attends to
all, and the text pools at its end-of-text token (2: the largest id). Compared with the library's
logits_per_image: CLIPSeg with an end-of-text id of 2 (CLIP's old reading: the largest id), OWLv2
with the largest id itself (it pools there whatever the id). And BLIP's pair, whose text tower is
BERT's: the text pools through the tower's pooler (tanh of a Linear of the first token), which its
model type says (a pooler's keys alone cannot: ALIGN holds one it never calls)."""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_exact, generate_for
from tests.tiny_configs import IMAGE

TEXT = dict(vocab_size=100, num_hidden_layers=2, num_attention_heads=4, hidden_size=32)
PAIRS = {  # model type: (model class, config class)
    "clipseg": ("CLIPSegModel", "CLIPSegConfig"),
    "owlv2": ("Owlv2Model", "Owlv2Config"),
    "blip": ("BlipModel", "BlipConfig"),
}


def pair_config(eos: int) -> dict:
    return dict(
        text_config=dict(
            **TEXT, intermediate_size=64, max_position_embeddings=16, eos_token_id=eos
        ),
        vision_config=dict(**IMAGE, intermediate_size=64),
        projection_dim=16,
    )


@pytest.fixture(scope="module", params=[("clipseg", 2), ("owlv2", 99), ("blip", 2)])
def generated(request, tmp_path_factory):
    model_type, eos = request.param
    model_cls, config_cls = PAIRS[model_type]
    tmp = tmp_path_factory.mktemp(f"{model_type}-{eos}")
    return (eos, *generate_for(tmp, model_cls, config_cls, pair_config(eos)))


def test_clip_copy_gives_the_library_logits_per_image(generated):
    eos, reference, ours, source = generated
    assert "Forward trust: missing" not in source
    torch.manual_seed(1)
    ids = torch.randint(2, 99, (3, 11))
    ids[:, 8] = eos  # each text ends at its end-of-text token, then padding
    mask = torch.ones(3, 11, dtype=torch.long)
    mask[:, 9:] = 0
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = reference(input_ids=ids, pixel_values=pixels, attention_mask=mask).logits_per_image
    assert want.shape == (2, 3)
    assert_exact(ours, want, ids, pixels, mask)
