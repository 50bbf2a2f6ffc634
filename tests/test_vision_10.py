"""Vision families of session 10 (task vit10), each compared output for output with the library's
own forward from tiny configs (atol 1e-5, unit-scale weights), and scripted:

- vision towers whose fused `qkv` attention projects out through `projection`, whose embeddings
  hold the patches' conv themselves beside a class token, and whose `post_layernorm` normalises
  every token rather than the pooled one (BLIP, InstructBLIP; GIT's CLIP-style tower), read from
  the library's code by benchmarks/survey_post_norm.py. CLIP's (pooled only) stays as it was.
"""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for
from tests.tiny_configs import IMAGE

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

TOWERS = [
    ("BlipVisionModel", "BlipVisionConfig", {}),
    ("InstructBlipVisionModel", "InstructBlipVisionConfig", {"qkv_bias": True}),
    ("GitVisionModel", "GitVisionConfig", {}),
    ("CLIPVisionModel", "CLIPVisionConfig", {}),
]


@pytest.mark.parametrize("model_cls, config_cls, extra", TOWERS)
def test_vision_towers_exact(tmp_path, model_cls, config_cls, extra):
    config = {**IMAGE, "intermediate_size": 64, "num_hidden_layers": 1, **extra}
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    assert_trusted(source)
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, IMAGE["image_size"], IMAGE["image_size"])
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)
