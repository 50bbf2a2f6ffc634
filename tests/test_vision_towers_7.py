"""Transformer vision towers of the `transformers` library that were flagged before session 7
(vision7, issue 16), generated from a saved folder (config.json + safetensors) as a user would,
compared output for output with the library's own forward (atol 1e-5) and scripted with TorchScript.

Each mechanism is tested on the configuration that motivated it and on another one nobody tuned
for (other depths, widths, head counts and bias options), so a rule keyed on one model's names or
sizes would fail.
"""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_trusted, generate_for

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

IMAGE = dict(image_size=32, patch_size=8, num_channels=3)

# name: (model class, config class, config keywords, what the library's output is read from)
MODELS = {
    # AIMv2's vision tower: an RMSNorm on the patch tokens before the position table, RMSNorm +
    # SwiGLU blocks, bidirectional attention (a vision tower), a final RMSNorm, and a head that
    # pools with one learned query (blocks/probe_pooling_head.py), left to its callers.
    "aimv2": (
        "Aimv2VisionModel",
        "Aimv2VisionConfig",
        dict(
            **IMAGE,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
        ),
        "last_hidden_state",
    ),
    "aimv2_other": (
        "Aimv2VisionModel",
        "Aimv2VisionConfig",
        dict(
            image_size=24,
            patch_size=4,
            num_channels=3,
            hidden_size=48,
            num_hidden_layers=3,
            num_attention_heads=6,
            intermediate_size=80,
            qkv_bias=True,
            mlp_bias=True,
            rms_norm_eps=1e-6,
        ),
        "last_hidden_state",
    ),
    # MLCD's vision tower: CLIP's layout, positions as a 2-D (axial) rotary whose angles the model
    # computes from the patch grid (the class token's learned) and gives to every layer
    # (families/axial_rope_vision.py).
    "mlcd": (
        "MLCDVisionModel",
        "MLCDVisionConfig",
        dict(
            **IMAGE,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
        ),
        "last_hidden_state",
    ),
    "mlcd_other": (
        "MLCDVisionModel",
        "MLCDVisionConfig",
        dict(
            image_size=24,
            patch_size=4,
            num_channels=3,
            hidden_size=48,
            num_hidden_layers=3,
            num_attention_heads=3,
            intermediate_size=96,
            hidden_act="quick_gelu",
            rope_parameters={"rope_theta": 500.0, "rope_type": "axial"},
        ),
        "last_hidden_state",
    ),
    # DINOv3's ViT: class and register tokens in front of the patches, a 2-D rotary on the patches
    # only (centred coordinates), LayerScale on both branches, the layers held by the model itself.
    "dinov3_vit": (
        "DINOv3ViTModel",
        "DINOv3ViTConfig",
        dict(
            **IMAGE,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
        ),
        "last_hidden_state",
    ),
    "dinov3_vit_registers": (
        "DINOv3ViTModel",
        "DINOv3ViTConfig",
        dict(
            image_size=24,
            patch_size=4,
            num_channels=3,
            hidden_size=48,
            num_hidden_layers=3,
            num_attention_heads=3,
            intermediate_size=96,
            num_register_tokens=2,
            rope_theta=50.0,
            key_bias=True,
            layerscale_value=0.5,
        ),
        "last_hidden_state",
    ),
}


def _generate(name: str, tmp_path):
    """(the library's model with unit-scale weights, the generated model strict-loaded, source)."""
    return generate_for(tmp_path, *MODELS[name][:3])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_vision_tower_exact_and_scripted(name, tmp_path):
    reference, ours, source = _generate(name, tmp_path)
    size = MODELS[name][2]["image_size"]
    pixels = torch.randn(2, 3, size, size)
    with torch.no_grad():
        want = getattr(reference(pixel_values=pixels), MODELS[name][3])
        got = ours(pixels)
        got = got[0] if isinstance(got, tuple) else got
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
        again = torch.jit.script(ours)(pixels)
        again = again[0] if isinstance(again, tuple) else again
        torch.testing.assert_close(again, want, atol=1e-5, rtol=1e-4)
    assert_trusted(source)  # (guessed only where the model never runs a class)
