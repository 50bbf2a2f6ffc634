"""Generative nets as other repositories write them, fifth zoo (issue 16, session 12,
tests/generative_zoo_12_models.py): SRCNN, VDSR, KAIR's DnCNN, RDN, PyTorch-GAN's DCGAN, the
pytorch/examples VAE, HiFi-GAN's generator (weight norm), SAGAN's generator (spectral norm). Each
is generated from its state dict alone: exact, or its file says which class is guessed or
missing; never silently wrong. Measured blind (before any fix for it) and after in
benchmarks/README.md.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import generative_zoo_12_models as zoo
from tests.generative_zoo_check import check_listed, generate, recorded, run, verdict
from tests.redraw import reference_and_input

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone (measured blind: only SRCNN, three convs with ReLU between). RDN
# since session 13: dense layers, residual dense blocks and the global fusion are patterns.
# HiFi-GAN since session 14: its residual blocks and generator are patterns (dilations and
# upsampling strides pinned by the family's convention).
# examples_vae: the mean decoded as it is, the Bernoulli decoder's sigmoid (chain.py's `latent`
# plan argument, output_activation_choice's vae).
# VDSR since session 14: pytorch-vdsr's `input` / `residual_layer` / `output` names identify its
# code, whose ReLUs and global residual are flagged conventions (families/vdsr.py).
EXACT = {"srcnn", "rdn_x2", "hifigan_generator", "examples_vae", "vdsr"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)


def _calibrated(reference: nn.Module, inputs: tuple, tmp_path, *extra: str) -> str:
    """The file generated with --calibrate on four recorded samples: exact, or the test fails."""
    args = recorded(reference, inputs, tmp_path / "data.pt") + ["--quiet", *extra]
    model, source = generate(reference, tmp_path, *args)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"
    return source


def test_stem_activation_before_conv_blocks_after_calibrate(tmp_path):
    """VDSR's layout with other names: a stem conv, a LeakyReLU no key shows, copies of a one-conv
    block (its own activation hidden too), a last conv, the input added back. The stem's
    activation is offered where the next block opens with a conv."""

    class Unit(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Conv2d(6, 6, 3, padding=1)

        def forward(self, x):
            return F.leaky_relu(self.body(x), 0.2)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(2, 6, 3, padding=1)
            self.units = nn.ModuleList(Unit() for _ in range(3))
            self.conv_last = nn.Conv2d(6, 2, 3, padding=1)

        def forward(self, x):
            h = F.leaky_relu(self.stem(x), 0.2)
            for unit in self.units:
                h = unit(h)
            return self.conv_last(h) + x

    reference, x = reference_and_input(Net, (2, 2, 6, 6))
    source = _calibrated(reference, (x,), tmp_path, "--candidates", "400")
    assert source.count("F.leaky_relu(") == 2


def test_mlp_vae_decodes_the_mean_head(tmp_path):
    """An all-Linear VAE whose heads sort the log-variance first (`fc_logvar` < `fc_mu`): the
    head named as the mean is decoded, the other built but unused; the Tanh at the end and
    the hidden ReLUs are settled by calibration."""

    class Vae(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder_fc = nn.Linear(10, 8)
            self.fc_logvar = nn.Linear(8, 2)
            self.fc_mu = nn.Linear(8, 2)
            self.decoder_fc = nn.Linear(2, 8)
            self.out = nn.Linear(8, 10)

        def forward(self, x):
            mu = self.fc_mu(F.relu(self.encoder_fc(x)))
            return torch.tanh(self.out(F.relu(self.decoder_fc(mu))))

    reference, x = reference_and_input(Vae, (3, 10))
    model, source = generate(reference, tmp_path)
    assert "self.fc_mu(x)" in source and "self.fc_logvar(x)" not in source
    source = _calibrated(reference, (x,), tmp_path)
    assert "torch.tanh(" in source


def test_examples_vae_exact_after_calibrate(tmp_path):
    """pytorch/examples' VAE (`fc21`, `fc22`): the first head by name is the mean."""
    reference, inputs = zoo.build("examples_vae")
    source = _calibrated(reference, inputs, tmp_path)
    assert "self.fc21(x)" in source and "self.fc22(x)" not in source


def test_linear_projection_viewed_as_a_map(tmp_path):
    """A generator whose Linear gives C * s * s values that a conv stack reads as a C-channel
    s x s map (other names than PyTorch-GAN's): the Linear goes first and its output is viewed;
    exact from the keys, every step left to a choice being at its usual value here."""

    class Gen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.project = nn.Linear(6, 8 * 3 * 3)
            self.decode = nn.Sequential(
                nn.Conv2d(8, 8, 3, padding=1),
                nn.BatchNorm2d(8),
                nn.ReLU(),
                nn.Conv2d(8, 1, 3, padding=1),
                nn.Tanh(),  # a generator's image, as GANs end it (the default past the keys)
            )

        def forward(self, z):
            return self.decode(self.project(z).view(-1, 8, 3, 3))

    reference, z = reference_and_input(Gen, (2, 6))
    model, source = generate(reference, tmp_path)
    assert "x.view(-1, 8, 3, 3)" in source
    assert verdict(reference, (z,), model, source)[0] == "exact"


def test_pytorch_gan_dcgan_exact_after_calibrate(tmp_path):
    """PyTorch-GAN's DCGAN generator: its first batch norm at torch's eps, the later ones at 0.8
    (`BatchNorm2d(c, 0.8)`): the model-wide eps moves, then one layer's alone."""
    reference, inputs = zoo.build("pytorch_gan_dcgan")
    source = _calibrated(reference, inputs, tmp_path)
    assert "nn.Upsample(scale_factor=2.0)" in source and "0.8" in source


def test_resnet_generator_with_dropout_exact_from_keys(tmp_path):
    """junyanz's ResnetGenerator at another size and depth (one resampling step each way,
    three blocks, `use_dropout`: the blocks' second conv moves to index 6), under another
    attribute name: the slots (pads, keyless instance norms, ReLUs, the dropout) and the Tanh
    past the last key are read by the layout."""

    class Block(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.conv_block = nn.Sequential(
                nn.ReflectionPad2d(1),
                nn.Conv2d(dim, dim, 3),
                nn.InstanceNorm2d(dim),
                nn.ReLU(True),
                nn.Dropout(0.5),
                nn.ReflectionPad2d(1),
                nn.Conv2d(dim, dim, 3),
                nn.InstanceNorm2d(dim),
            )

        def forward(self, x):
            return x + self.conv_block(x)

    class Generator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.ReflectionPad2d(3),
                nn.Conv2d(1, 6, 7),
                nn.InstanceNorm2d(6),
                nn.ReLU(True),
                nn.Conv2d(6, 12, 3, stride=2, padding=1),
                nn.InstanceNorm2d(12),
                nn.ReLU(True),
                *[Block(12) for _ in range(3)],
                nn.ConvTranspose2d(12, 6, 3, stride=2, padding=1, output_padding=1),
                nn.InstanceNorm2d(6),
                nn.ReLU(True),
                nn.ReflectionPad2d(3),
                nn.Conv2d(6, 1, 7),
                nn.Tanh(),
            )

        def forward(self, x):
            return self.net(x)

    reference, x = reference_and_input(Generator, (2, 1, 8, 8))
    model, source = generate(reference, tmp_path)
    assert verdict(reference, (x,), model, source)[0] == "exact"
    assert "nn.Dropout(0.5)" in source and "F.instance_norm(" in source


def test_unet_levels_at_another_depth_exact_from_keys(tmp_path):
    """pix2pix's U-Net levels at another depth and width (six levels, three at the innermost
    width, whose square 4x4 up-convs only the layout shows transposed): exact from the keys."""
    from tests.generative_zoo_8_models import UnetGenerator

    reference, x = reference_and_input(lambda: UnetGenerator(1, 2, 6, 4), (2, 1, 64, 64))
    model, source = generate(reference, tmp_path)
    assert verdict(reference, (x,), model, source)[0] == "exact"
    assert "torch.cat([x, out], 1)" in source


def test_weight_normed_vocoder_exact_from_keys(tmp_path):
    """A MelGAN-style stack in torch's classic weight norm (`weight_g` / `weight_v`, as
    seungwonpark/melgan and descript's WNConv1d save it): plain convs, a transposed one whose
    magnitude keeps the input channels, one normalised along the kernel (dim=2). Each is read as
    the layer its direction's shape says, built as a layer class that computes the weight."""
    wn = nn.utils.weight_norm

    class Generator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.generator = nn.Sequential(
                wn(nn.Conv1d(6, 8, 5, padding=2)),
                nn.ReLU(),
                wn(nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1)),
                nn.ReLU(),
                wn(nn.Conv1d(4, 1, 3, padding=1), dim=2),
            )

        def forward(self, mel):
            return self.generator(mel)

    reference, x = reference_and_input(Generator, (2, 6, 7))
    model, source = generate(reference, tmp_path)
    assert verdict(reference, (x,), model, source)[0] == "exact"
    assert "class WeightNormConv1d(nn.Conv1d):" in source
    assert "class WeightNormConvTranspose1d(nn.ConvTranspose1d):" in source
    assert "norm_dim=2" in source


def test_spectral_normed_critic_exact_in_eval_and_training(tmp_path):
    """An SN-GAN critic (torch's spectral norm: `weight_orig`, buffers `weight_u` / `weight_v`)
    with a transposed conv (its u as long as the weight's dimension 1) and a Linear head: exact
    in eval mode, and in training mode too, where each call refines u and v as torch's hook does."""
    sn = nn.utils.spectral_norm

    class Critic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.main = nn.Sequential(
                sn(nn.Conv2d(3, 8, 3, padding=1)),
                nn.ReLU(),
                sn(nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, bias=False)),
                nn.ReLU(),
                sn(nn.Conv2d(4, 2, 3, padding=1)),
            )

        def forward(self, x):
            return self.main(x)

    reference, x = reference_and_input(Critic, (2, 3, 5, 5))
    model, source = generate(reference, tmp_path)
    assert verdict(reference, (x,), model, source)[0] == "exact"
    assert "class SpectralNormConvTranspose2d(nn.ConvTranspose2d):" in source
    model.train()
    reference.train()
    for _ in range(2):  # the power iteration moves u and v alike in both
        torch.testing.assert_close(model(x), reference(x))
    torch.testing.assert_close(model.main[2].weight_u, reference.main[2].weight_u)


def test_residual_dense_blocks_under_other_names(tmp_path):
    """RDN's residual dense blocks under other names and sizes (dense layers `dense.N.conv`
    concatenating inside their class, a 1x1 `fuse` back to the block's width, the input added),
    between a head and a tail conv (features out, no image): the layers read as concatenating (their widths grow by their
    conv's output) and the block as adding its input back, exact from the keys."""

    class Layer(nn.Module):
        def __init__(self, c_in: int, growth: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, growth, 3, padding=1)

        def forward(self, x):
            return torch.cat([x, F.relu(self.conv(x))], 1)

    class Block(nn.Module):
        def __init__(self, width: int, growth: int, depth: int) -> None:
            super().__init__()
            self.dense = nn.Sequential(*[Layer(width + growth * i, growth) for i in range(depth)])
            self.fuse = nn.Conv2d(width + growth * depth, width, 1)

        def forward(self, x):
            return x + self.fuse(self.dense(x))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Conv2d(3, 6, 3, padding=1)
            self.blocks = nn.Sequential(Block(6, 3, 3), Block(6, 3, 3))
            self.tail = nn.Conv2d(6, 4, 3, padding=1)

        def forward(self, x):
            return self.tail(self.blocks(self.head(x)))

    reference, x = reference_and_input(Net, (2, 3, 6, 6))
    model, source = generate(reference, tmp_path)
    assert "torch.cat([x, new], 1)" in source
    assert verdict(reference, (x,), model, source)[0] == "exact"


def test_gated_self_attention_between_convs_exact_from_keys(tmp_path):
    """SAGAN's Self_Attn as a discriminator uses it (other widths: queries and keys at C/4, a
    gate already trained away from zero), between two convs: the 1x1 projections named query /
    key / value and the scalar gamma read as one unscaled head over the pixels, gated."""

    class SelfAttention(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.query_conv = nn.Conv2d(width, width // 4, 1)
            self.key_conv = nn.Conv2d(width, width // 4, 1)
            self.value_conv = nn.Conv2d(width, width, 1)
            self.gamma = nn.Parameter(torch.tensor([0.5]))

        def forward(self, x):
            b, c, h, w = x.size()
            q = self.query_conv(x).view(b, -1, h * w).permute(0, 2, 1)
            k = self.key_conv(x).view(b, -1, h * w)
            attention = F.softmax(torch.bmm(q, k), dim=-1)
            v = self.value_conv(x).view(b, -1, h * w)
            out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, h, w)
            return self.gamma * out + x

    class Features(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_in = nn.Conv2d(3, 8, 3, padding=1)
            self.attention = SelfAttention(8)
            self.conv_out = nn.Conv2d(8, 5, 3, padding=1)

        def forward(self, x):
            return self.conv_out(self.attention(self.conv_in(x)))

    reference, x = reference_and_input(Features, (2, 3, 5, 6))
    model, source = generate(reference, tmp_path)
    assert "scale=1.0" in source
    assert verdict(reference, (x,), model, source)[0] == "exact"


def test_sagan_generator_exact_after_calibrate(tmp_path):
    """SAGAN's generator: spectral-normed transposed convs, the gated self-attention, and the
    flat latent viewed as a 1x1 map; the first layer's geometry (stride 1 from 1x1 to 4x4) and
    the Tanh past the last key are settled by calibration."""
    reference, inputs = zoo.build("sagan_generator")
    source = _calibrated(reference, inputs, tmp_path, "--candidates", "300")
    assert "latent_as_map(x)" in source and "class SpectralNormConvTranspose2d(" in source


def test_parametrized_weight_norm_exact_from_keys(tmp_path):
    """torch's current weight norm spelling (`parametrizations.weight.original0/1`, as HiFi-GAN
    ports on recent torch and audio codecs save it) on 1-d convs and a transposed one outside
    any speech encoder: each is the layer its direction's shape says, built as a layer class
    holding the same keys, exact and scripting (torch's parametrization does not script)."""
    wn = nn.utils.parametrizations.weight_norm

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = nn.Sequential(
                wn(nn.Conv1d(4, 8, 5, padding=2)),
                nn.ReLU(),
                wn(nn.ConvTranspose1d(8, 6, 4, stride=2, padding=1)),
                nn.ReLU(),
                wn(nn.Conv1d(6, 2, 3, padding=1)),
            )

        def forward(self, x):
            return self.model(x)

    reference, x = reference_and_input(Decoder, (2, 4, 7))
    model, source = generate(reference, tmp_path)
    assert verdict(reference, (x,), model, source)[0] == "exact"
    assert "class ParametrizedWeightNormConvTranspose1d(nn.ConvTranspose1d):" in source
