"""Vision families of session 9 (task vis9), each compared output for output with the library's
own forward from tiny configs (atol 1e-5, unit-scale weights), and scripted:

- pyramid vision transformers (spatial-reduction attention, depthwise feed-forward, overlapping
  patch embeddings): SegFormer and GLPN (three lists of stage parts), PVTv2 (stage classes), each
  on two configurations (2 stages, and 3 stages with other heads, ratios and depths).
"""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

TWO_STAGES = dict(
    image_size=32,
    num_encoder_blocks=2,
    depths=[1, 1],
    sr_ratios=[2, 1],
    hidden_sizes=[8, 16],
    patch_sizes=[7, 3],
    strides=[4, 2],
    num_attention_heads=[1, 2],
    mlp_ratios=[2, 2],
)
# Another schedule: three stages, heads whose size changes (8, 6, 8), ratios 4 / 2 / 1, two
# layers in the middle stage, a 5x5 first patch over 2 pixels and odd image sides.
THREE_STAGES = dict(
    image_size=32,
    num_encoder_blocks=3,
    depths=[1, 2, 1],
    sr_ratios=[4, 2, 1],
    hidden_sizes=[8, 12, 16],
    patch_sizes=[5, 3, 3],
    strides=[2, 2, 2],
    num_attention_heads=[1, 2, 2],
    mlp_ratios=[2, 4, 2],
    hidden_act="gelu",
)

CASES = [
    ("SegformerForImageClassification", "SegformerConfig", TWO_STAGES, True),
    ("SegformerModel", "SegformerConfig", THREE_STAGES, False),
    ("GLPNModel", "GLPNConfig", TWO_STAGES, False),
    ("GLPNModel", "GLPNConfig", THREE_STAGES, False),
    ("PvtV2ForImageClassification", "PvtV2Config", TWO_STAGES, True),
    ("PvtV2Model", "PvtV2Config", THREE_STAGES, False),
]


def _without(config: dict, cls: str) -> dict:
    """The keys a config class takes (GLPN and SegFormer have no image_size)."""
    return {k: v for k, v in config.items() if not (k == "image_size" and "Pvt" not in cls)}


@pytest.mark.parametrize("model_cls, config_cls, config, classifies", CASES)
def test_pyramid_vision_exact(tmp_path, model_cls, config_cls, config, classifies):
    extra = {"num_labels": 5} if classifies else {}
    reference, ours, source = generate_for(
        tmp_path, model_cls, config_cls, {**_without(config, model_cls), **extra}
    )
    assert_trusted(source)
    assert "scaled_dot_product_attention" in source
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, 30, 26)  # sides no stride divides: the convs' padding shows
    with torch.no_grad():
        out = reference(pixel_values=pixels)
        want = out.logits if classifies else out.last_hidden_state
    assert_exact(ours, want, pixels)


def test_pyramid_heads_unknown_is_missing(tmp_path):
    """Without a head count per stage the encoder says so rather than guess one."""
    import json

    from codegen.cli.main import main

    reference, _, _ = generate_for(
        tmp_path, "SegformerModel", "SegformerConfig", _without(TWO_STAGES, "SegformerModel")
    )
    folder = tmp_path / "hf"
    config = json.loads((folder / "config.json").read_text())
    del config["num_attention_heads"]
    (folder / "config.json").write_text(json.dumps(config))
    out = tmp_path / "stripped.py"
    assert main(["generate", str(folder), "-o", str(out), "--quiet"]) == 0
    source = out.read_text()
    assert "Forward trust: missing" in source
    assert "each stage's head count" in source


# InternVL's vision tower: a ViT whose layers scale both residual branches (lambda_1, lambda_2)
# around one MLP class; the second configuration has biased q/k/v projections, three layers, two
# heads, the tanh GELU and its own sizes.
INTERNVL = [
    dict(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
    ),
    dict(
        image_size=24,
        patch_size=8,
        hidden_size=24,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=48,
        attention_bias=True,
        hidden_act="gelu_pytorch_tanh",
    ),
]


@pytest.mark.parametrize("config", INTERNVL, ids=["default", "biased"])
def test_internvl_vision_exact(tmp_path, config):
    reference, ours, source = generate_for(
        tmp_path, "InternVLVisionModel", "InternVLVisionConfig", config
    )
    assert_trusted(source)
    side = config["image_size"]
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, side, side)
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)


@pytest.mark.parametrize("extra", [{"use_qk_norm": True}, {"norm_type": "rms_norm"}])
def test_internvl_vision_unsupported_options_are_flagged(tmp_path, extra):
    """Whole-width q/k RMS norms and RMS-normed layers are not computed as InternVL does yet:
    the file says its forward is a guess, naming the key."""
    _, _, source = generate_for(
        tmp_path, "InternVLVisionModel", "InternVLVisionConfig", {**INTERNVL[1], **extra}
    )
    assert "Forward trust: guessed" in source
    assert next(iter(extra)) in source


# YOLOS: a ViT whose embeddings put learned detection tokens after the patches, its encoder adding
# a position table after every layer but the last; the second configuration has no such tables,
# three detection tokens, three layers and a non-square image.
YOLOS = [
    dict(
        image_size=[32, 32],
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        num_detection_tokens=5,
    ),
    dict(
        image_size=[24, 32],
        patch_size=8,
        hidden_size=24,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=48,
        num_detection_tokens=3,
        use_mid_position_embeddings=False,
    ),
]


@pytest.mark.parametrize("config", YOLOS, ids=["mid_positions", "plain"])
def test_yolos_exact(tmp_path, config):
    reference, ours, source = generate_for(tmp_path, "YolosModel", "YolosConfig", config)
    assert_trusted(source)
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, *config["image_size"])
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)


def test_vit_mae_keeps_patches_in_order_and_says_so(tmp_path):
    """ViT-MAE shuffles its patch tokens by random noise even with mask_ratio 0: the file keeps
    them in order, flags the embeddings as a guess naming mask_ratio, and equals the library
    given ascending noise (and the library's output put back in order by its ids_restore)."""
    config = dict(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        mask_ratio=0.0,
    )
    reference, ours, source = generate_for(tmp_path, "ViTMAEModel", "ViTMAEConfig", config)
    assert "Forward trust: guessed" in source and "mask_ratio" in source
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, 32, 32)
    ascending = torch.arange(16.0).expand(2, -1)
    with torch.no_grad():
        want = reference(pixel_values=pixels, noise=ascending).last_hidden_state
        shuffled = reference(pixel_values=pixels)
    assert_exact(ours, want, pixels)
    order = shuffled.ids_restore.unsqueeze(-1).expand(-1, -1, want.size(-1))
    tokens = shuffled.last_hidden_state
    restored = torch.cat([tokens[:, :1], torch.gather(tokens[:, 1:], 1, order)], dim=1)
    torch.testing.assert_close(restored, want, atol=1e-5, rtol=1e-5)
