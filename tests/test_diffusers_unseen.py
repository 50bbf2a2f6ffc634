"""diffusers models no pattern was written for (gen6, session 6): conditional U-Nets that only
cross-attend, read class labels through an MLP, use other activations; U-Nets and autoencoders
whose code fixes some activations whatever config.json's act_fn says. Built from tiny configs,
saved as diffusers saves them (config.json + safetensors), generated from the folder and compared
output for output with the library's forward (atol 1e-5), also under TorchScript; what is not
computed exactly must be flagged in the file."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.redraw import unit_scale
from tests.test_generative_more import _assert_exact, _generated

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
diffusers = pytest.importorskip("diffusers")
logging.getLogger("diffusers").setLevel(logging.ERROR)

COND_UNET = dict(
    sample_size=16,
    in_channels=4,
    out_channels=4,
    block_out_channels=(16, 32),
    layers_per_block=1,
    norm_num_groups=8,
    cross_attention_dim=24,
    attention_head_dim=4,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
)

COND_VARIANTS = {
    # attn1 reads the text too (its key width says so); the middle block's does not
    "only_cross_scale_shift_mish": dict(
        only_cross_attention=True,
        upcast_attention=True,
        resnet_time_scale_shift="scale_shift",
        act_fn="mish",
    ),
    "class_timestep": dict(class_embed_type="timestep"),
    "class_projection": dict(
        class_embed_type="projection", projection_class_embeddings_input_dim=6
    ),
    "linear_projection_two_layers": dict(
        layers_per_block=2,
        use_linear_projection=True,
        transformer_layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 2,
        up_block_types=("CrossAttnUpBlock2D",) * 2,
    ),
    "gelu": dict(act_fn="gelu"),
    # the text's tokens pooled by attention, added to the time embedding
    "text_addition": dict(addition_embed_type="text", addition_embed_type_num_heads=4),
    # one head count per block (as Stable Diffusion 2 writes it): the head size is the same
    "heads_per_block": dict(
        attention_head_dim=(2, 4),
        down_block_types=("CrossAttnDownBlock2D",) * 2,
        up_block_types=("CrossAttnUpBlock2D",) * 2,
    ),
}


def _class_labels(config) -> torch.Tensor | None:
    if config.class_embed_type == "timestep":
        return torch.tensor([20, 400])
    if config.class_embed_type == "projection":
        return torch.randn(2, config.projection_class_embeddings_input_dim)
    return None


@pytest.mark.parametrize("variant", list(COND_VARIANTS))
def test_conditional_unet_variant_exact(variant, tmp_path, capsys):
    torch.manual_seed(0)
    reference = diffusers.UNet2DConditionModel(**{**COND_UNET, **COND_VARIANTS[variant]})
    reference = unit_scale(reference.eval())
    model, source = _generated(reference, tmp_path, capsys)
    torch.manual_seed(1)
    sample, t, text = torch.randn(2, 4, 16, 16), torch.tensor([3, 700]), torch.randn(2, 7, 24)
    labels = _class_labels(reference.config)
    with torch.no_grad():
        expected = reference(sample, t, text, class_labels=labels).sample
    inputs = (sample, t, text) + ((labels,) if labels is not None else ())
    _assert_exact(model, source, expected, *inputs)


def test_only_cross_attention_where_widths_cannot_tell_is_flagged(tmp_path, capsys):
    """A block as wide as the text: its attn1's keys have the block's width either way."""
    torch.manual_seed(0)
    config = {**COND_UNET, "cross_attention_dim": 16}
    reference = unit_scale(
        diffusers.UNet2DConditionModel(**config, only_cross_attention=True).eval()
    )
    _, source = _generated(reference, tmp_path, capsys)
    assert "Forward trust: guessed: attn1 of a block as wide as the context" in source


def test_head_counts_per_block_of_different_head_sizes_are_flagged(tmp_path, capsys):
    torch.manual_seed(0)
    config = {
        **COND_UNET,
        "attention_head_dim": (2, 2),
        "down_block_types": ("CrossAttnDownBlock2D",) * 2,
        "up_block_types": ("CrossAttnUpBlock2D",) * 2,
    }
    reference = unit_scale(diffusers.UNet2DConditionModel(**config).eval())
    _, source = _generated(reference, tmp_path, capsys)
    assert "Forward trust: guessed: head sizes differ between blocks" in source


@pytest.mark.parametrize(
    "build",
    [
        lambda: diffusers.UNet2DModel(
            sample_size=16,
            in_channels=3,
            out_channels=3,
            block_out_channels=(16, 32),
            layers_per_block=1,
            norm_num_groups=8,
            down_block_types=("DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D"),
            act_fn="gelu",
        ),
        lambda: diffusers.AutoencoderKL(
            block_out_channels=(16, 32),
            norm_num_groups=8,
            latent_channels=4,
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2,
            act_fn="mish",
        ),
    ],
    ids=["unet2d", "autoencoder_kl"],
)
def test_activation_the_library_fixes_beside_act_fn(build, tmp_path, capsys):
    """UNet2DModel's time embedding and final activation, and an autoencoder's before each
    conv_out, are SiLU whatever act_fn says; the resnets follow act_fn."""
    torch.manual_seed(0)
    reference = unit_scale(build().eval())
    model, source = _generated(reference, tmp_path, capsys)
    torch.manual_seed(1)
    sample = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        if isinstance(reference, diffusers.UNet2DModel):
            t = torch.tensor([3, 700])
            _assert_exact(model, source, reference(sample, t).sample, sample, t)
        else:
            expected = reference(sample, sample_posterior=False).sample
            _assert_exact(model, source, expected, sample)
    assert "_class_name" in source  # the fixed activations cite the class


def test_unet_resampling_by_resnet_blocks_exact(tmp_path, capsys):
    """downsample_type / upsample_type "resnet": the attention blocks' samplers are resnet blocks
    that pool or double the map after their first norm (and take the time embedding)."""
    torch.manual_seed(0)
    reference = diffusers.UNet2DModel(
        sample_size=16,
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32, 32),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("AttnDownBlock2D",) * 3,
        up_block_types=("AttnUpBlock2D",) * 3,
        downsample_type="resnet",
        upsample_type="resnet",
    )
    model, source = _generated(unit_scale(reference.eval()), tmp_path, capsys)
    torch.manual_seed(1)
    sample, t = torch.randn(2, 3, 16, 16), torch.tensor([3, 700])
    with torch.no_grad():
        expected = reference(sample, t).sample
    _assert_exact(model, source, expected, sample, t)
    assert "F.avg_pool2d" in source and "F.interpolate" in source
