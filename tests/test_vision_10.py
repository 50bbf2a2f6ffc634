"""Vision families of session 10 (task vit10), each compared output for output with the library's
own forward from tiny configs (atol 1e-5, unit-scale weights), and scripted:

- vision towers whose fused `qkv` attention projects out through `projection`, whose embeddings
  hold the patches' conv themselves beside a class token, and whose `post_layernorm` normalises
  every token rather than the pooled one (BLIP, InstructBLIP; GIT's CLIP-style tower), read from
  the library's code by benchmarks/survey_post_norm.py. CLIP's (pooled only) stays as it was;
  the same layouts under ten more model types (BLIP-2, OWL-ViT, Idefics3, ...).
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
    # the same layouts under other model types, now compared (patterns/_kit.CHECKED_MODEL_TYPES)
    ("Blip2VisionModel", "Blip2VisionConfig", {}),
    ("InstructBlipVideoVisionModel", "InstructBlipVideoVisionConfig", {}),
    ("OwlViTVisionModel", "OwlViTVisionConfig", {}),
    ("Owlv2VisionModel", "Owlv2VisionConfig", {}),
    ("ChineseCLIPVisionModel", "ChineseCLIPVisionConfig", {}),
    ("AltCLIPVisionModel", "AltCLIPVisionConfig", {}),
    ("CLIPSegVisionModel", "CLIPSegVisionConfig", {}),
    ("MetaClip2VisionModel", "MetaClip2VisionConfig", {}),
    ("Idefics3VisionTransformer", "Idefics3VisionConfig", {}),
    ("SmolVLMVisionTransformer", "SmolVLMVisionConfig", {}),
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


# PVT v1: stages of non-overlapping patches with a LayerNorm and a learned position table each,
# a class token in front in the last stage, spatial-reduction attention and a plain feed-forward,
# one norm at the end. Two schedules: the zoo's two stages, and three with other heads, ratios,
# depths and activation.
PVT_TWO = dict(
    image_size=32,
    num_encoder_blocks=2,
    depths=[1, 1],
    sequence_reduction_ratios=[2, 1],
    hidden_sizes=[16, 32],
    patch_sizes=[4, 2],
    strides=[4, 2],
    num_attention_heads=[1, 2],
    mlp_ratios=[2, 2],
)
PVT_THREE = dict(
    image_size=32,
    num_encoder_blocks=3,
    depths=[1, 2, 1],
    sequence_reduction_ratios=[4, 2, 1],
    hidden_sizes=[8, 12, 16],
    patch_sizes=[4, 2, 2],
    strides=[4, 2, 2],
    num_attention_heads=[1, 2, 2],
    mlp_ratios=[2, 4, 2],
    hidden_act="relu",
)


PVT_CASES = [
    ("PvtModel", PVT_TWO),
    ("PvtModel", PVT_THREE),
    ("PvtForImageClassification", {**PVT_THREE, "num_labels": 5}),  # a head on the class token
]


@pytest.mark.parametrize("model_cls, config", PVT_CASES, ids=["two", "three", "classifier"])
def test_pvt_exact(tmp_path, model_cls, config):
    reference, ours, source = generate_for(tmp_path, model_cls, "PvtConfig", config)
    assert_trusted(source)
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = reference(pixel_values=pixels)
        want = out.logits if "Classification" in model_cls else out.last_hidden_state
    assert_exact(ours, want, pixels)
