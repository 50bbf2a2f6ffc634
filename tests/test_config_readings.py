"""Config-sweep readings (tf18): what a `...WithProjection` tower returns, and the U-Net settings
config.json records that no tensor shows, each compared with the library's own forward.

- A CLIP-style tower beside its projection returns the projected embedding its class computes:
  a causal text tower pooled at its end-of-text token (config.json's eos_token_id), a vision
  tower's class token through its post_layernorm. CLIP and MetaCLIP 2 (whose code reads an
  end-of-text id of 2 as the id itself, where CLIP reads it as the largest id: guessed there).
- diffusers' `center_input_sample` (2 * sample - 1 before conv_in) and `mid_block_scale_factor`
  (each middle resnet's output divided by it, and each plain attention's; a cross-attending
  transformer's is not), on UNet2DModel and UNet2DConditionModel.
"""

from __future__ import annotations

import pytest
import torch

from benchmarks._families import _COND_UNET as CONDITIONAL
from benchmarks._families import _UNET as UNET
from tests.library_compare import assert_exact, assert_trusted, generate_for
from tests.tiny_configs import DENSE, IMAGE

TOWERS = {
    "clip_text": ("CLIPTextModelWithProjection", "CLIPTextConfig", {**DENSE, "eos_token_id": 99}),
    "clip_text_legacy_eos": (
        "CLIPTextModelWithProjection",
        "CLIPTextConfig",
        {**DENSE, "eos_token_id": 2, "projection_dim": 16},
    ),
    "metaclip_2_text": (
        "MetaClip2TextModelWithProjection",
        "MetaClip2TextConfig",
        {**DENSE, "eos_token_id": 99, "projection_dim": 16},
    ),
    "clip_vision": (
        "CLIPVisionModelWithProjection",
        "CLIPVisionConfig",
        {**IMAGE, "intermediate_size": 64, "projection_dim": 16},
    ),
    "metaclip_2_vision": (
        "MetaClip2VisionModelWithProjection",
        "MetaClip2VisionConfig",
        {**IMAGE, "intermediate_size": 64},
    ),
}


def _text(reference):
    torch.manual_seed(1)
    ids = torch.randint(3, 99, (2, 11))
    ids[0, 6] = ids[1, 9] = reference.config.eos_token_id  # each text ends at its own place
    return (ids,)


@pytest.mark.parametrize("name", sorted(TOWERS))
def test_projected_tower_returns_its_embedding(name, tmp_path):
    model_cls, config_cls, config = TOWERS[name]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    assert_trusted(source)
    if "vision" in name:
        torch.manual_seed(1)
        inputs, read = (torch.randn(2, 3, 32, 32),), "image_embeds"
    else:
        inputs, read = _text(reference), "text_embeds"
    with torch.no_grad():
        want = getattr(reference(*inputs), read)
    assert_exact(ours, want, *inputs)


def test_an_end_of_text_id_of_2_outside_clip_is_guessed(tmp_path):
    """MetaCLIP 2 pools at the id 2 itself; the file says what it rests on and is exact here,
    where 2 is also the largest id of each text."""
    config = {**DENSE, "eos_token_id": 2, "projection_dim": 16}
    reference, ours, source = generate_for(
        tmp_path, "MetaClip2TextModelWithProjection", "MetaClip2TextConfig", config
    )
    assert "an end-of-text id of 2 means the largest id" in " ".join(source.split())


UNETS = {
    "unet2d_centred_and_mid_scaled": (  # the middle block's attention divides too
        "UNet2DModel",
        UNET,
        {"center_input_sample": True, "mid_block_scale_factor": 2**0.5},
    ),
    "unet2d_condition_mid_scaled": (
        "UNet2DConditionModel",
        CONDITIONAL,
        {"mid_block_scale_factor": 2.0, "center_input_sample": True},
    ),
}


@pytest.mark.parametrize("name", sorted(UNETS))
def test_unet_settings_from_config_json(name, tmp_path):
    import diffusers

    from tests.generated_module import generate_from_folder
    from tests.redraw import unit_scale

    model_cls, base, changes = UNETS[name]
    torch.manual_seed(0)
    reference = unit_scale(getattr(diffusers, model_cls)(**base, **changes).eval())
    source, ours = generate_from_folder(tmp_path, reference, "--quiet")
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    torch.manual_seed(1)
    inputs = (torch.rand(2, base["in_channels"], 16, 16), torch.tensor([3, 700]))
    if "cross_attention_dim" in base:
        inputs += (torch.randn(2, 7, base["cross_attention_dim"]),)
    with torch.no_grad():
        want = reference(*inputs).sample
    assert_exact(ours, want, *inputs)


def test_a_layer_kind_whose_rotary_table_is_null_does_not_rotate(tmp_path):
    """Beam's rope_parameters {"full_attention": null, "sliding_attention": {...}}: its
    full-attention layers apply no rotary (its code skips them where the table is None). The file
    reads it (rotary of width 0 there) and uses the key; Beam stays flagged for what it does
    besides (a depth-scaled residual, position-dependent query scaling in those layers)."""
    from benchmarks.sweep_library import build
    from tests.generated_module import generate_from_folder
    from tests.redraw import unit_scale

    reference, _ = build("beam")
    source, ours = generate_from_folder(tmp_path, unit_scale(reference), "--quiet")
    flat = " ".join(source.split())
    assert "full_freq = rope_frequencies(10000.0, 0, device)" in flat
    assert "sets full_attention" not in flat
    ids = torch.randint(2, 100, (2, 11))
    with torch.no_grad():
        want = reference(ids).logits
        # before: 0.89 off (every layer rotated); the rest is the residual Beam scales by depth
        assert (ours(ids) - want).abs().max() < 0.05
