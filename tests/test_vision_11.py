"""Vision families of session 11 (task vis11), compared output for output with the library's own
forward from tiny configs (atol 1e-5, unit-scale weights), and scripted; and the trust labels of
patch tokens' norms:

- a norm right after a patchify conv held by name (timm's PatchEmbed `proj` then `norm`) is a
  LayerNorm over the patch tokens' channels, never a GroupNorm over tokens followed by a spatial
  mean (which raised at run time in a class marked inferred); where the keys cannot say whether
  a class token goes in front before that norm or after it, the file says so (`token_order`);
- a [1, 1, d] mask token beside a position table stands in for masked patches and is never put
  in front of them (FLAVA's image tower; BEiT with an absolute table).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.library_compare import assert_exact, assert_trusted, generate_for, text_inputs
from tests.tiny_configs import DENSE, IMAGE
from tests.zoo_verdicts import flagged, generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class NormedPatches(nn.Module):
    """Patches normalised over their channels, then a class token in front (a patch embedding's
    own norm, named as timm names it)."""

    def __init__(self) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, 16, 4, stride=4)
        self.norm = nn.LayerNorm(16)
        self.cls_token = nn.Parameter(torch.randn(1, 1, 16))
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.patch_embed(x).flatten(2).transpose(1, 2))
        x = torch.cat([self.cls_token.expand(x.size(0), -1, -1), x], dim=1)
        return self.head(x[:, 0])


def test_a_norm_after_named_patches_is_a_layer_norm_and_its_order_a_named_guess(tmp_path, capsys):
    torch.manual_seed(0)
    reference, x = NormedPatches().eval(), torch.randn(2, 3, 8, 8)
    (tmp_path / "plain").mkdir()
    (tmp_path / "hinted").mkdir()
    model, source = generate_from_state_dict(reference, tmp_path / "plain", capsys)
    assert "nn.GroupNorm" not in source and "self.norm = nn.LayerNorm(" in source
    assert "token_order" in source and flagged(source)
    assert verdict(reference, model, source, x) in ("exact", "flagged")
    hints = tmp_path / "hints.toml"
    hints.write_text('["RecoveredModel.cls_token"]\ntoken_order = "norm_then_token"\n')
    model, source = generate_from_state_dict(
        reference, tmp_path / "hinted", capsys, "--hints", str(hints)
    )
    assert not flagged(source)
    assert verdict(reference, model, source, x) == "exact"


MASK_TOKEN_TOWERS = [
    ("FlavaImageModel", "FlavaImageConfig", {"intermediate_size": 64}),
    (
        "BeitModel",
        "BeitConfig",
        {
            "intermediate_size": 64,
            "use_mask_token": True,
            "use_absolute_position_embeddings": True,
            "use_relative_position_bias": False,
        },
    ),
]


@pytest.mark.parametrize("model_cls, config_cls, extra", MASK_TOKEN_TOWERS)
def test_a_mask_token_beside_a_table_is_not_put_in_front(tmp_path, model_cls, config_cls, extra):
    config = {**IMAGE, "num_hidden_layers": 1, **extra}
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    assert_trusted(source)
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, IMAGE["image_size"], IMAGE["image_size"])
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)


# Pixtral: the patches' conv held by the model, an RMSNorm before the layers (eps 1e-5 in the
# library's code), a 2-D rotary whose columns turn at the odd frequencies, and every image's tokens
# packed into one sequence. Two configs: the zoo's, and a wider head over a non-square image.
PIXTRAL = [
    (dict(IMAGE, intermediate_size=64, head_dim=8), (32, 32)),
    (
        dict(
            image_size=48,
            patch_size=8,
            hidden_size=64,
            num_hidden_layers=1,
            num_attention_heads=4,
            head_dim=16,
            intermediate_size=96,
            hidden_act="silu",
            rope_parameters={"rope_type": "axial", "rope_theta": 100.0},
        ),
        (24, 40),
    ),
]


@pytest.mark.parametrize("config, size", PIXTRAL, ids=["zoo", "wide"])
def test_pixtral_exact(tmp_path, config, size):
    reference, ours, source = generate_for(
        tmp_path, "PixtralVisionModel", "PixtralVisionConfig", config
    )
    assert_trusted(source)
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, *size)
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)


# SigLIP's text towers: CLIP's layout given no causal mask, and a `head` projecting the last
# token to config.json's projection_size (the pooled output, left to its callers).
SIGLIP_TEXT = [
    ("SiglipTextModel", "SiglipTextConfig", {}),
    ("Siglip2TextModel", "Siglip2TextConfig", {"projection_size": 24, "hidden_act": "gelu"}),
]


@pytest.mark.parametrize("model_cls, config_cls, extra", SIGLIP_TEXT)
def test_siglip_text_towers_exact(tmp_path, model_cls, config_cls, extra):
    config = {**DENSE, "num_hidden_layers": 1, **extra}
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    assert_trusted(source)
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)
