"""Diffusion U-Nets and autoencoders beyond the basic configs (issue 16): diffusers' UNet2DModel
with scale-shift time conditioning, class labels, Fourier time features, no middle attention,
other head sizes and group counts; built from tiny configs, saved as diffusers saves them
(config.json + safetensors), generated from the folder and compared output for output with the
library's forward, also under TorchScript. What is not computed exactly is named in the file."""

from __future__ import annotations

import logging

import pytest
import torch

from codegen.cli.main import main
from tests.redraw import unit_scale
from tests.generated_module import generate_from_folder, load_module

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
diffusers = pytest.importorskip("diffusers")
logging.getLogger("diffusers").setLevel(logging.ERROR)

UNET = dict(
    sample_size=16,
    in_channels=3,
    out_channels=3,
    block_out_channels=(16, 32),
    layers_per_block=1,
    norm_num_groups=8,
    down_block_types=("DownBlock2D", "AttnDownBlock2D"),
    up_block_types=("AttnUpBlock2D", "UpBlock2D"),
)


def _generated(reference, tmp_path, capsys):
    """Save as the library does, generate from the folder, strict-load: (model, source)."""
    source, model = generate_from_folder(tmp_path, reference)
    assert "internal error" not in capsys.readouterr().err
    return model, source


def _assert_exact(model, source, expected, *inputs):
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    with torch.no_grad():
        torch.testing.assert_close(model(*inputs), expected, atol=1e-5, rtol=1e-5)
        scripted = torch.jit.script(model)
        torch.testing.assert_close(scripted(*inputs), expected, atol=1e-5, rtol=1e-5)


UNET_VARIANTS = {
    "scale_shift": dict(resnet_time_scale_shift="scale_shift"),
    "no_mid_attention_4_groups": dict(add_attention=False, norm_num_groups=4),
    "attention_everywhere_head_4": dict(
        down_block_types=("AttnDownBlock2D",) * 2,
        up_block_types=("AttnUpBlock2D",) * 2,
        attention_head_dim=4,
        layers_per_block=2,
    ),
    "class_labels": dict(num_class_embeds=5),
    "fourier": dict(time_embedding_type="fourier", flip_sin_to_cos=False),
    "learned_time": dict(time_embedding_type="learned", num_train_timesteps=1000),
}


@pytest.mark.parametrize("variant", list(UNET_VARIANTS))
def test_unet2d_variant_exact_from_the_folder(variant, tmp_path, capsys):
    reference = unit_scale(diffusers.UNet2DModel(**{**UNET, **UNET_VARIANTS[variant]}))
    model, source = _generated(reference, tmp_path, capsys)
    torch.manual_seed(1)
    inputs = [torch.randn(2, 3, 16, 16), torch.tensor([3, 700])]
    if reference.config.num_class_embeds:
        inputs.append(torch.tensor([1, 4]))
    with torch.no_grad():
        expected = reference(*inputs).sample
    _assert_exact(model, source, expected, *inputs)


def test_vq_model_exact_from_the_folder(tmp_path, capsys):
    reference = diffusers.VQModel(
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        latent_channels=4,
        num_vq_embeddings=32,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
    )
    reference = unit_scale(reference)
    model, source = _generated(reference, tmp_path, capsys)
    assert "torch.cdist(" in source  # the nearest codebook row, per pixel
    torch.manual_seed(1)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = reference(x).sample
    _assert_exact(model, source, expected, x)


CONDITIONAL = dict(
    sample_size=16,
    in_channels=4,
    out_channels=4,
    block_out_channels=(16, 32),
    layers_per_block=1,
    norm_num_groups=8,
    cross_attention_dim=24,
    attention_head_dim=4,  # in this class: the number of heads
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
)


@pytest.mark.parametrize(
    "config",
    [{}, {"use_linear_projection": True, "cross_attention_dim": 16, "attention_head_dim": 2}],
    ids=["conv_projections", "linear_projections_same_width"],
)
def test_unet2d_condition_exact_from_the_folder(config, tmp_path, capsys):
    reference = unit_scale(diffusers.UNet2DConditionModel(**{**CONDITIONAL, **config}))
    model, source = _generated(reference, tmp_path, capsys)
    torch.manual_seed(1)
    width = reference.config.cross_attention_dim
    inputs = (torch.randn(2, 4, 16, 16), torch.tensor([3, 700]), torch.randn(2, 7, width))
    with torch.no_grad():
        expected = reference(*inputs).sample
    _assert_exact(model, source, expected, *inputs)


# ------------------------------------------------- a DDPM U-Net written the way its repos write it


def _ddpm_unet():
    """The U-Net of the original denoising-diffusion-pytorch repository (v1 style), in brief:
    sinusoidal time features and an MLP, resnet blocks whose time projection is a scale and a
    shift after the group norm, skip concatenation after every block, strided-conv downsampling."""
    import math

    import torch.nn as nn

    class SinusoidalPosEmb(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.dim = dim

        def forward(self, x):
            half = self.dim // 2
            freq = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
            emb = x[:, None].float() * freq[None, :]
            return torch.cat((emb.sin(), emb.cos()), dim=-1)

    class Block(nn.Module):
        def __init__(self, dim: int, dim_out: int) -> None:
            super().__init__()
            self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
            self.norm = nn.GroupNorm(4, dim_out)
            self.act = nn.SiLU()

        def forward(self, x, scale_shift=None):
            x = self.norm(self.proj(x))
            if scale_shift is not None:
                scale, shift = scale_shift
                x = x * (scale + 1) + shift
            return self.act(x)

    class ResnetBlock(nn.Module):
        def __init__(self, dim: int, dim_out: int, time_dim: int) -> None:
            super().__init__()
            self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out * 2))
            self.block1, self.block2 = Block(dim, dim_out), Block(dim_out, dim_out)
            self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

        def forward(self, x, t):
            scale_shift = self.mlp(t)[:, :, None, None].chunk(2, dim=1)
            return self.block2(self.block1(x, scale_shift)) + self.res_conv(x)

    class Unet(nn.Module):
        def __init__(self, dim: int = 8, mults=(1, 2), channels: int = 3) -> None:
            super().__init__()
            dims = [dim] + [dim * m for m in mults]
            in_out = list(zip(dims[:-1], dims[1:]))
            time_dim = dim * 4
            self.init_conv = nn.Conv2d(channels, dim, 7, padding=3)
            self.time_mlp = nn.Sequential(
                SinusoidalPosEmb(dim),
                nn.Linear(dim, time_dim),
                nn.GELU(),
                nn.Linear(time_dim, time_dim),
            )
            self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
            for i, (d_in, d_out) in enumerate(in_out):
                last = i == len(in_out) - 1
                down = nn.Conv2d(d_in, d_out, 3 if last else 4, 1 if last else 2, 1)
                blocks = [ResnetBlock(d_in, d_in, time_dim), ResnetBlock(d_in, d_in, time_dim)]
                self.downs.append(nn.ModuleList([*blocks, down]))
            mid = dims[-1]
            self.mid_block1 = ResnetBlock(mid, mid, time_dim)
            self.mid_block2 = ResnetBlock(mid, mid, time_dim)
            for i, (d_in, d_out) in enumerate(reversed(in_out)):
                last = i == len(in_out) - 1
                up = (
                    nn.Conv2d(d_out, d_in, 3, padding=1)
                    if last
                    else nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(d_out, d_in, 3, 1, 1))
                )
                blocks = [ResnetBlock(d_out + d_in, d_out, time_dim) for _ in range(2)]
                self.ups.append(nn.ModuleList([*blocks, up]))
            self.final_res_block = ResnetBlock(dim * 2, dim, time_dim)
            self.final_conv = nn.Conv2d(dim, channels, 1)

        def forward(self, x, time):
            x = self.init_conv(x)
            r, t, h = x.clone(), self.time_mlp(time), []
            for block1, block2, downsample in self.downs:
                x = block1(x, t)
                h.append(x)
                x = block2(x, t)
                h.append(x)
                x = downsample(x)
            x = self.mid_block2(self.mid_block1(x, t), t)
            for block1, block2, upsample in self.ups:
                x = block1(torch.cat((x, h.pop()), dim=1), t)
                x = block2(torch.cat((x, h.pop()), dim=1), t)
                x = upsample(x)
            x = self.final_res_block(torch.cat((x, r), dim=1), t)
            return self.final_conv(x)

    return Unet()


def test_ddpm_style_unet_is_exact_or_flagged(tmp_path, capsys):
    """A U-Net the catalogue has no pattern for (its names and its per-block skips differ from
    diffusers'): the file loads strictly and either computes the original or says it guessed."""
    reference = unit_scale(_ddpm_unet())
    torch.save(reference.state_dict(), tmp_path / "ddpm.pt")
    out = tmp_path / "model.py"
    assert main(["generate", str(tmp_path / "ddpm.pt"), "-o", str(out)]) == 0
    assert "internal error" not in capsys.readouterr().err
    module = load_module(out)
    model = module.RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    source = out.read_text()
    flagged = "Forward trust: guessed" in source or "Forward trust: missing" in source
    torch.manual_seed(1)
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([3, 700])
    with torch.no_grad():
        expected = reference(x, t)
        try:
            got = model(x, t)
            exact = got.shape == expected.shape and torch.allclose(got, expected, atol=1e-5)
        except (NotImplementedError, TypeError, RuntimeError):
            exact = False
    assert exact or flagged
