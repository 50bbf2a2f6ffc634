"""Generative nets as other repositories write them, fourth zoo (issue 16, session 11,
tests/generative_zoo_11_models.py): ESRGAN's original RRDBNet, Real-ESRGAN x2, SRGAN, StyleGAN2 at
4x4, a tutorial conv autoencoder, PyTorch-VAE's VanillaVAE, score_sde's DDPM. Each is generated
from its state dict alone: exact, or its file says which class is guessed or missing; never
silently wrong. Measured blind (before any fix for it) and after in benchmarks/README.md.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import generative_zoo_11_models as zoo
from tests.generative_zoo_check import check_listed, generate, recorded, run, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

# Exact from the keys alone: the RRDB layouts (Real-ESRGAN x2's input pixel-unshuffled, read
# from the first conv reading 4x the channels the last one gives).
# leftthomas's SRGAN generator (session 14): its numbered parts in SRResNet's order, the long skip
# and `(tanh + 1) / 2` by convention (families/srresnet.py, blocks/shuffle_upsample.py).
# vanilla_vae (session 15): its encoder halves as often as its decoder doubles, final_layer's
# square conv the missing upsampler (_mirror_strides.py), PyTorch-VAE's LeakyReLU() and Tanh
# read from its layout's names (families/flat_vae.py).
EXACT = {"esrgan_rrdbnet", "real_esrgan_x2", "srgan_generator", "vanilla_vae"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)


def _exact(reference: nn.Module, inputs: tuple, tmp_path, *extra: str) -> str:
    model, source = generate(reference, tmp_path, *extra)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"
    return source


def test_unshuffled_grayscale_input_by_four(tmp_path):
    """basicsr's RRDBNet at scale 1 on one channel: the first conv reads 16 = 4 * 4 * 1 channels,
    so the input is pixel-unshuffled by 4 (and the example inputs have one channel)."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_first = nn.Conv2d(16, 8, 3, 1, 1)
            self.body = nn.Sequential(zoo.BasicsrRRDB(8, 4))
            self.conv_body = nn.Conv2d(8, 8, 3, 1, 1)
            self.conv_up1 = nn.Conv2d(8, 8, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(8, 8, 3, 1, 1)
            self.conv_hr = nn.Conv2d(8, 8, 3, 1, 1)
            self.conv_last = nn.Conv2d(8, 1, 3, 1, 1)

        def forward(self, x):
            feat = self.conv_first(F.pixel_unshuffle(x, 4))
            feat = feat + self.conv_body(self.body(feat))
            for conv in (self.conv_up1, self.conv_up2):
                feat = F.leaky_relu(conv(F.interpolate(feat, scale_factor=2.0)), 0.2)
            return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))

    torch.manual_seed(0)
    source = _exact(Net().eval(), (torch.randn(2, 1, 8, 8),), tmp_path)
    assert "F.pixel_unshuffle(x, 4)" in source and "torch.randn(2, 1, 32, 32)" in source


def test_shared_prelu_between_conv_norm_pairs(tmp_path):
    """nn.PReLU() holds one slope for every channel: it fits any width, so SRGAN's residual block
    (conv1, bn1, prelu, conv2, bn2, then the input added) reads as a basic block calling it
    between its pairs; a stack of them with another block's names too."""

    class Block(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv_a = nn.Conv2d(c, c, 3, padding=1)
            self.norm_a = nn.BatchNorm2d(c)
            self.act = nn.PReLU()
            self.conv_b = nn.Conv2d(c, c, 3, padding=1)
            self.norm_b = nn.BatchNorm2d(c)

        def forward(self, x):
            return x + self.norm_b(self.conv_b(self.act(self.norm_a(self.conv_a(x)))))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.Sequential(zoo.SrganResidualBlock(8), Block(8))

        def forward(self, x):
            return self.blocks(x)

    from tests.redraw import unit_scale

    torch.manual_seed(0)
    source = _exact(unit_scale(Net()), (torch.randn(2, 8, 6, 6),), tmp_path)
    assert "nn.PReLU()" in source or "nn.PReLU(num_parameters=1)" in source


def test_flat_vae_decodes_the_mean(tmp_path):
    """A tutorial VAE with other names (`enc`, `fc_logvar`, `fc_decode`, `dec`) and a Sigmoid
    after the decoder: the mean is decoded, the latent unflattened to what the decoder reads;
    calibration settles the strides and the trailing activation."""

    class Vae(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, 2, 1))
            self.fc_mu = nn.Linear(8 * 9, 5)
            self.fc_logvar = nn.Linear(8 * 9, 5)
            self.fc_decode = nn.Linear(5, 8 * 9)
            self.dec = nn.Sequential(
                nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1),
                nn.ReLU(),
                nn.ConvTranspose2d(4, 1, 3, 2, 1, output_padding=1),
            )

        def forward(self, x):
            mu = self.fc_mu(torch.flatten(self.enc(x), 1))
            return torch.sigmoid(self.dec(self.fc_decode(mu).view(-1, 8, 3, 3)))

    from tests.redraw import reference_and_input

    reference, x = reference_and_input(Vae, (2, 1, 12, 12))
    model, source = generate(reference, tmp_path)
    assert "self.fc_mu(h)" in source and "z.view(-1, 8, 3, 3)" in source
    assert verdict(reference, (x,), model, source)[0] == "flagged"
    args = recorded(reference, (x,), tmp_path / "data.pt") + ["--quiet", "--candidates", "400"]
    _exact(reference, (x,), tmp_path, *args)


def test_vanilla_vae_exact_after_calibrate(tmp_path, capsys):
    """PyTorch-VAE's VanillaVAE: its `final_layer` opens with a transposed conv keeping the width
    (a decoder's square conv: a choice), the LeakyReLU slots take torch's default slope (0.01)."""
    reference, inputs = zoo.build("vanilla_vae")
    args = recorded(reference, inputs, tmp_path / "data.pt") + ["--quiet", "--candidates", "600"]
    source = _exact(reference, inputs, tmp_path, *args)
    assert "nn.LeakyReLU()" in source and "nn.ConvTranspose2d(" in source


def test_conv_autoencoder_exact_after_calibrate(tmp_path, capsys):
    """The tutorial conv autoencoder: strides mirror the decoder's, the innermost 7x7 pair
    collapses to 1x1 and back (pins); calibration finds the Sigmoid no key shows."""
    reference, inputs = zoo.build("conv_autoencoder")
    args = recorded(reference, inputs, tmp_path / "data.pt") + ["--quiet", "--candidates", "200"]
    source = _exact(reference, inputs, tmp_path, *args)
    assert "torch.sigmoid" in source


def test_swinir_tail_leaky_relu_after_calibrate(tmp_path):
    """Zoo 10's SwinIR-style tail: `conv_before_upsample` ends in nn.LeakyReLU() (torch's default
    slope, 0.01), now in the vocabulary after any conv, so calibration reproduces it."""
    from tests import generative_zoo_10_models as zoo10

    reference, inputs = zoo10.build("shuffle_tail")
    args = recorded(reference, inputs, tmp_path / "data.pt") + ["--quiet", "--candidates", "300"]
    source = _exact(reference, inputs, tmp_path, *args)
    assert "F.leaky_relu(x, 0.01)" in source
