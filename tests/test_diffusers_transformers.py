"""Patchified latent transformers (gen7): diffusers' DiTTransformer2DModel (adaLN-Zero, class
labels) and PixArtTransformer2DModel (adaLN-single, text states), built from tiny configs, every
weight redrawn at unit scale, saved as diffusers saves them, generated from the folder and compared
output for output with the library's forward (atol 1e-5), also under TorchScript. Variants change
sizes, patch, activation and resolution, so nothing rests on one configuration."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.redraw import unit_scale
from tests.test_generative_more import _assert_exact, _generated

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
diffusers = pytest.importorskip("diffusers")
logging.getLogger("diffusers").setLevel(logging.ERROR)

DIT = dict(
    num_attention_heads=2,
    attention_head_dim=8,
    in_channels=4,
    out_channels=8,
    num_layers=2,
    sample_size=8,
    patch_size=2,
    num_embeds_ada_norm=10,
)
DIT_VARIANTS = {
    "learned_sigma": {},
    # no learned variance, a wider patch, 4 heads of 4, other class count and depth
    "patch_4_heads_4": dict(
        num_attention_heads=4,
        attention_head_dim=4,
        out_channels=4,
        patch_size=4,
        num_layers=3,
        num_embeds_ada_norm=7,
        sample_size=16,
    ),
    "gelu_exact_ff": dict(activation_fn="gelu"),
    "geglu_ff": dict(activation_fn="geglu", num_layers=1),
}

PIXART = dict(
    num_attention_heads=2,
    attention_head_dim=8,
    in_channels=4,
    out_channels=8,
    num_layers=2,
    sample_size=8,
    patch_size=2,
    cross_attention_dim=16,
    caption_channels=24,
)
PIXART_VARIANTS = {
    "base": ({}, (8, 8)),
    # another resolution than the trained one: the positions span the trained grid
    "other_resolution": ({}, (12, 8)),
    # sample_size 128 (PixArt-alpha 1024's latent): the positions are divided by 2
    "interpolation_by_sample_size": (
        dict(
            sample_size=128,
            patch_size=16,
            in_channels=3,
            out_channels=3,
            use_additional_conditions=False,
        ),
        (128, 128),
    ),
    "explicit_interpolation_eps": (dict(interpolation_scale=3, norm_eps=1e-5), (8, 8)),
}


@pytest.mark.parametrize("variant", list(DIT_VARIANTS))
def test_dit_exact_from_the_folder(variant, tmp_path, capsys):
    config = {**DIT, **DIT_VARIANTS[variant]}
    torch.manual_seed(0)
    reference = unit_scale(diffusers.DiTTransformer2DModel(**config)).eval()
    model, source = _generated(reference, tmp_path, capsys)
    assert "class LatentTransformer" not in source  # the top class keeps its name
    size = config["sample_size"]
    latent = torch.randn(2, config["in_channels"], size, size)
    timestep, labels = torch.tensor([3, 700]), torch.tensor([1, config["num_embeds_ada_norm"] - 1])
    with torch.no_grad():
        expected = reference(latent, timestep, labels).sample
    _assert_exact(model, source, expected, latent, timestep, labels)


@pytest.mark.parametrize("variant", list(PIXART_VARIANTS))
def test_pixart_exact_from_the_folder(variant, tmp_path, capsys):
    changes, (height, width) = PIXART_VARIANTS[variant]
    config = {**PIXART, **changes}
    torch.manual_seed(0)
    reference = unit_scale(diffusers.PixArtTransformer2DModel(**config)).eval()
    model, source = _generated(reference, tmp_path, capsys)
    latent = torch.randn(2, config["in_channels"], height, width)
    text = torch.randn(2, 5, config["caption_channels"])
    timestep = torch.tensor([3, 700])
    with torch.no_grad():
        expected = reference(
            latent,
            encoder_hidden_states=text,
            timestep=timestep,
            added_cond_kwargs={"resolution": None, "aspect_ratio": None},
        ).sample
    _assert_exact(model, source, expected, latent, text, timestep)


def test_dit_forward_takes_the_library_inputs_in_order(tmp_path, capsys):
    torch.manual_seed(0)
    reference = diffusers.DiTTransformer2DModel(**DIT).eval()
    model, _ = _generated(reference, tmp_path, capsys)
    import inspect

    assert list(inspect.signature(model.forward).parameters) == [
        "hidden_states",
        "timestep",
        "class_labels",
    ]


def test_pixart_with_size_conditions_exact(tmp_path, capsys):
    """Size conditioning (PixArt-alpha at 1024: resolution and aspect-ratio embedders added to the
    timestep's): the forward takes them after the timestep, as the library's added_cond_kwargs."""
    torch.manual_seed(0)
    config = {**PIXART, "num_attention_heads": 3, "cross_attention_dim": 24}
    config["use_additional_conditions"] = True
    reference = unit_scale(diffusers.PixArtTransformer2DModel(**config)).eval()
    model, source = _generated(reference, tmp_path, capsys)
    latent, text = torch.randn(2, 4, 8, 8), torch.randn(2, 5, 24)
    timestep = torch.tensor([3, 700])
    resolution, aspect = torch.tensor([[1024.0, 768.0], [512.0, 512.0]]), torch.tensor(
        [[0.75], [1.0]]
    )
    with torch.no_grad():
        expected = reference(
            latent,
            encoder_hidden_states=text,
            timestep=timestep,
            added_cond_kwargs={"resolution": resolution, "aspect_ratio": aspect},
        ).sample
    _assert_exact(model, source, expected, latent, text, timestep, resolution, aspect)


TINY = dict(
    in_channels=3,
    out_channels=3,
    encoder_block_out_channels=(16, 16),
    decoder_block_out_channels=(16, 16),
    num_encoder_blocks=(1, 1),
    num_decoder_blocks=(1, 1),
    latent_channels=4,
)
TINY_VARIANTS = {
    "base": {},
    # three stages, more blocks, other widths, another activation and latent range
    "three_stages_silu": dict(
        encoder_block_out_channels=(8, 8, 8),
        decoder_block_out_channels=(12, 12, 12),
        num_encoder_blocks=(1, 2, 1),
        num_decoder_blocks=(2, 1, 1),
        act_fn="silu",
        latent_magnitude=2,
        latent_shift=0.25,
    ),
    "bilinear_upsampling": dict(upsample_fn="bilinear"),
}


@pytest.mark.parametrize("variant", list(TINY_VARIANTS))
def test_autoencoder_tiny_exact_from_the_folder(variant, tmp_path, capsys):
    """Encode, store the latent as 8-bit values, decode: the library's forward, to the bit."""
    torch.manual_seed(0)
    reference = unit_scale(diffusers.AutoencoderTiny(**{**TINY, **TINY_VARIANTS[variant]})).eval()
    model, source = _generated(reference, tmp_path, capsys)
    sample = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = reference(sample).sample
    _assert_exact(model, source, expected, sample)


@pytest.mark.parametrize("norm_type", ["ada_norm_zero", "ada_norm_single"])
def test_transformer2d_patched_modes_exact(norm_type, tmp_path, capsys):
    """The generic Transformer2DModel built for patches: the same keys under another class name,
    other config.json keys (double_self_attention, num_vector_embeds)."""
    zero = norm_type == "ada_norm_zero"
    config = dict(
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=4,
        out_channels=8,
        num_layers=2,
        sample_size=8,
        patch_size=2,
        norm_type=norm_type,
        norm_elementwise_affine=False,
        activation_fn="gelu-approximate",
        num_embeds_ada_norm=10 if zero else 1000,
    )
    if not zero:
        config.update(cross_attention_dim=16, caption_channels=24)
    torch.manual_seed(0)
    reference = unit_scale(diffusers.Transformer2DModel(**config)).eval()
    model, source = _generated(reference, tmp_path, capsys)
    latent, timestep = torch.randn(2, 4, 8, 8), torch.tensor([3, 700])
    with torch.no_grad():
        if zero:
            labels = torch.tensor([1, 4])
            expected = reference(latent, timestep=timestep, class_labels=labels).sample
            _assert_exact(model, source, expected, latent, timestep, labels)
            return
        text = torch.randn(2, 5, 24)
        none = {"resolution": None, "aspect_ratio": None}
        expected = reference(
            latent, encoder_hidden_states=text, timestep=timestep, added_cond_kwargs=none
        ).sample
    _assert_exact(model, source, expected, latent, text, timestep)
