"""Generative nets as other repositories write them, sixth zoo (issue 16, session 13,
tests/generative_zoo_13_models.py): milesial's Pytorch-UNet, WGAN-GP's CIFAR-10 generator and
critic, CARN, IMDN, PAN, Beta-VAE's BetaVAE_H, lucidrains' first diffusion Unet. Each is generated
from its state dict alone: exact, or its file says which class is guessed or missing; never
silently wrong.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import generative_zoo_13_models as zoo
from tests.generative_zoo_check import check_listed, run
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 13, branch zoo13 at 8d2e004 + the zoo,
# 2026-11-30, before any change made for it; `python benchmarks/bench_generative_zoo.py
# --keys-only 13:...`): 0 exact, 8 flagged, 0 WRONG, 0 crash.
# After (branch unet13): milesial_unet, from the U-Net level patterns (blocks/unet_level.py,
# families/level_unet.py).
# wgan_gp_generator: its Linear and BatchNorm1d viewed as the map, the ReLU past each block's
# norm, the generator's tanh (chain.py's _ends_projecting, _closing_norm, output_activation_choice).
# beta_vae_h: the view slots, the 4x4 stack's geometry, the moments halved (structure.py's
# _view_gap, layers/conv.py's four_by_four_stacks, families/autoencoder.py's _moments_pair).
# Session 14 (gen14b): CARN (blocks/cascading_block.py, families/cascading_super_resolution.py),
# IMDN (blocks/distillation_block.py, families/distillation_super_resolution.py) and PAN
# (blocks/pixel_gate.py, blocks/self_calibrated_block.py, families/super_resolution.py), their
# keyless steps each family's cited convention, choices that calibration can move.
EXACT: set[str] = {
    "milesial_unet",
    "wgan_gp_generator",
    "beta_vae_h",
    "carn_x2",
    "imdn_x2",
    "pan_x2",
}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)


# --------------------------------------------------------- a second layout of the U-Net levels
# jvanvugt/pytorch-unet's UNet (unet.py; depth 3, wf 2, padding=True, batch_norm=True,
# up_mode='upconv'): `down_path`/`up_path` ModuleLists, each conv block a `block` Sequential of
# [conv, ReLU, BN] twice (the activation before the norm, so no activation ends past the keys),
# the pool in the top forward, the up-sampled map concatenated FIRST and the skip centre-cropped.
# No down level class holds the pool (the top forward pools) and the levels are list items: the
# contracting path is still read from the widths, the skips matched by width.


class _ConvBlock(nn.Module):  # unet.py UNetConvBlock
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        block = [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(), nn.BatchNorm2d(c_out)]
        block += [nn.Conv2d(c_out, c_out, kernel_size=3, padding=1), nn.ReLU()]
        block += [nn.BatchNorm2d(c_out)]
        self.block = nn.Sequential(*block)

    def forward(self, x):
        return self.block(x)


class _UpBlock(nn.Module):  # unet.py UNetUpBlock (up_mode='upconv')
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
        self.conv_block = _ConvBlock(c_in, c_out)

    def forward(self, x, bridge):
        up = self.up(x)
        dy, dx = (bridge.shape[2] - up.shape[2]) // 2, (bridge.shape[3] - up.shape[3]) // 2
        crop = bridge[:, :, dy : dy + up.shape[2], dx : dx + up.shape[3]]
        return self.conv_block(torch.cat([up, crop], 1))


class JvanvugtUNet(nn.Module):  # unet.py UNet
    def __init__(self, in_channels: int = 3, n_classes: int = 2, depth: int = 3, wf: int = 2):
        super().__init__()
        self.down_path = nn.ModuleList()
        prev = in_channels
        for i in range(depth):
            self.down_path.append(_ConvBlock(prev, 2 ** (wf + i)))
            prev = 2 ** (wf + i)
        self.up_path = nn.ModuleList()
        for i in reversed(range(depth - 1)):
            self.up_path.append(_UpBlock(prev, 2 ** (wf + i)))
            prev = 2 ** (wf + i)
        self.last = nn.Conv2d(prev, n_classes, kernel_size=1)

    def forward(self, x):
        blocks = []
        for i, down in enumerate(self.down_path):
            x = down(x)
            if i != len(self.down_path) - 1:
                blocks.append(x)
                x = F.max_pool2d(x, 2)
        for i, up in enumerate(self.up_path):
            x = up(x, blocks[-i - 1])
        return self.last(x)


def test_jvanvugt_unet_levels(tmp_path, capsys):
    torch.manual_seed(0)
    reference = JvanvugtUNet().eval()
    x = torch.randn(2, 3, 16, 16)
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    # Outside milesial's names the concatenation order is a choice, up-sampled map first by
    # default (jvanvugt's, usuyama's): right here, and the file still says it is a guess.
    assert verdict(reference, model, source, x) == "exact"
    assert "which half the concatenation puts first" in source
    assert "class DoubleConv(" in source  # its conv blocks, read as the U-Net's double convs
    # Pinned the other way, the forward follows the hint (the skip first, as milesial's).
    hints = tmp_path / "hints.toml"
    hints.write_text('["UNetUp.up"]\nskip_first = true\n')
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--hints", str(hints))
    assert "torch.cat([skip, x], dim=1)" in source
