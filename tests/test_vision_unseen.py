"""Vision models of the `transformers` library no pattern was first written for (vision6, issue 16),
generated from a saved folder (config.json + safetensors) as a user would, then compared output for
output with the library's own forward (atol 1e-5) and scripted with TorchScript.

Each mechanism is tested on the configuration that motivated it and on another one nobody tuned
for (other depths, widths and options), so a rule keyed on one model's names or sizes would fail.
"""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import generate_for

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

CNN = dict(num_channels=3)
IMAGE = dict(image_size=32, patch_size=8, num_channels=3)

# name: (model class, config class, config keywords, what the library's output is read from)
MODELS = {
    # ConvNeXt V2: the global response norm inside the block (blocks/global_response_norm.py)
    "convnextv2": (
        "ConvNextV2ForImageClassification",
        "ConvNextV2Config",
        dict(**CNN, hidden_sizes=[8, 16], depths=[1, 1], num_stages=2, num_labels=5),
        "logits",
    ),
    "convnextv2_deeper": (
        "ConvNextV2Model",
        "ConvNextV2Config",
        dict(**CNN, hidden_sizes=[8, 12, 24], depths=[2, 1, 2], num_stages=3, patch_size=2),
        "pooler_output",  # the bare model: its final norm is on the pooled features
    ),
    # SigLIP's vision tower: patches + a position Embedding (no class token), the post norm on every
    # token, an attention-pooling head beside (blocks/attention_pooling_head.py)
    "siglip_vision": (
        "SiglipVisionModel",
        "SiglipVisionConfig",
        dict(
            **IMAGE,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
        ),
        "last_hidden_state",
    ),
    "siglip_vision_other": (
        "SiglipVisionModel",
        "SiglipVisionConfig",
        dict(
            num_channels=3,
            image_size=32,
            patch_size=4,
            hidden_size=24,
            num_hidden_layers=3,
            num_attention_heads=3,
            intermediate_size=40,
            hidden_act="gelu",
        ),
        "last_hidden_state",
    ),
    "siglip_vision_headless": (
        "SiglipVisionModel",
        "SiglipVisionConfig",
        dict(
            **IMAGE,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            vision_use_head=False,
        ),
        "last_hidden_state",
    ),
    # I-JEPA: ViT's patches and position table with no class token in front
    "ijepa": (
        "IJepaModel",
        "IJepaConfig",
        dict(
            **IMAGE,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
        ),
        "last_hidden_state",
    ),
    "ijepa_other": (
        "IJepaModel",
        "IJepaConfig",
        dict(
            num_channels=3,
            image_size=32,
            patch_size=16,
            hidden_size=24,
            num_hidden_layers=3,
            num_attention_heads=2,
            intermediate_size=48,
            layer_norm_eps=1e-6,
        ),
        "last_hidden_state",
    ),
    # DINOv2 with registers: learned tokens after the class token, outside the position table
    "dinov2_registers": (
        "Dinov2WithRegistersModel",
        "Dinov2WithRegistersConfig",
        dict(**IMAGE, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=2),
        "last_hidden_state",
    ),
    "dinov2_registers_other": (
        "Dinov2WithRegistersModel",
        "Dinov2WithRegistersConfig",
        dict(
            num_channels=3,
            image_size=32,
            patch_size=4,
            hidden_size=24,
            num_hidden_layers=3,
            num_attention_heads=3,
            mlp_ratio=3,
            num_register_tokens=5,
            layerscale_value=0.5,
        ),
        "last_hidden_state",
    ),
}


def _generate(name: str, tmp_path):
    """(the library's model with unit-scale weights, the generated model strict-loaded, source)."""
    return generate_for(tmp_path, *MODELS[name][:3])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_unseen_vision_model_exact_and_scripted(name, tmp_path):
    reference, ours, source = _generate(name, tmp_path)
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = getattr(reference(pixel_values=pixels), MODELS[name][3])
        got = ours(pixels)
        got = got[0] if isinstance(got, tuple) else got
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
        scripted = torch.jit.script(ours)
        again = scripted(pixels)
        again = again[0] if isinstance(again, tuple) else again
        torch.testing.assert_close(again, want, atol=1e-5, rtol=1e-4)
    assert "Forward trust: missing" not in source
