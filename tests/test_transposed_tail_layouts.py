"""Super-resolution nets ending in a transposed conv back to the image's channels
(patterns/families/transposed_tail_super_resolution.py, issue 16, session 18): zoo 17's
yjn870/IDN-pytorch (tests/generative_zoo_17_models.py) is one layout; these are others, each
generated from its state dict alone: exact, or flagged and exact once the choices no key records
are pinned, as calibration would.

- yjn870/FSRCNN-pytorch's FSRCNN: flat `first_part` / `mid_part` Sequentials with PReLUs, a 9x9
  `last_part` transposed conv (no input added);
- an IDN written with other names (`feature`, `units` of enhancement units, `upsample`): its
  grayscale head's 3x3 weight reads one channel, as a depthwise conv's would;
- structurally distant: an RGB net, a single head conv, a ModuleList of residual blocks (a class
  with a skip), a 4x4 stride-2 transposed tail and the input added bilinear.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact
from tests.zoo_verdicts import layout_reference, measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class Fsrcnn(nn.Module):  # FSRCNN-pytorch models.py, d 12 (56), s 4 (12), m 2 (4), x2
    def __init__(self, scale: int = 2, c: int = 1, d: int = 12, s: int = 4, m: int = 2) -> None:
        super().__init__()
        self.first_part = nn.Sequential(nn.Conv2d(c, d, 5, padding=2), nn.PReLU(d))
        mid = [nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            mid += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        mid += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.mid_part = nn.Sequential(*mid)
        self.last_part = nn.ConvTranspose2d(
            d, c, 9, stride=scale, padding=4, output_padding=scale - 1
        )

    def forward(self, x):
        return self.last_part(self.mid_part(self.first_part(x)))


class Unit(nn.Module):  # IDN's enhancement unit, width 12, d 3
    def __init__(self, c: int = 12, d: int = 3) -> None:
        super().__init__()
        self.cut = c - d
        self.top = nn.Sequential(
            nn.Conv2d(c, c - d, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(c - d, c, 3, padding=1),
            nn.LeakyReLU(0.05),
        )
        self.bottom = nn.Sequential(nn.Conv2d(c - d, c + d, 3, padding=1), nn.LeakyReLU(0.05))
        self.compress = nn.Conv2d(c + d, c, 1)

    def forward(self, x):
        t = self.top(x)
        return self.compress(self.bottom(t[:, : self.cut]) + torch.cat((x, t[:, self.cut :]), 1))


class RenamedIdn(nn.Module):
    def __init__(self, c: int = 12) -> None:
        super().__init__()
        self.feature = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(c, c, 3, padding=1),
            nn.LeakyReLU(0.05),
        )
        self.units = nn.Sequential(Unit(c), Unit(c), Unit(c))
        self.upsample = nn.ConvTranspose2d(c, 1, 17, stride=2, padding=8, output_padding=1)

    def forward(self, x):
        base = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
        return base + self.upsample(self.units(self.feature(x)))


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class RgbDeconvNet(nn.Module):
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv_input = nn.Conv2d(3, c, 3, padding=1)
        self.residual = nn.ModuleList(ResBlock(c) for _ in range(2))
        self.upconv = nn.ConvTranspose2d(c, 3, 4, stride=2, padding=1)

    def forward(self, x):
        out = self.conv_input(x)
        for block in self.residual:
            out = block(out)
        base = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return self.upconv(out) + base


def test_fsrcnn_is_exact_from_the_keys(tmp_path, capsys):
    found, diff = measured_layout(Fsrcnn, (2, 1, 6, 6), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_renamed_idn_is_exact_from_the_keys(tmp_path, capsys):
    found, diff = measured_layout(RenamedIdn, (2, 1, 6, 6), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_rgb_deconv_net_is_flagged_until_pinned(tmp_path):
    hint = '["RecoveredModel.upconv"]\ninput_residual = "bilinear"\n'
    hint += '["Residual"]\nresidual = "add"\n'  # the block's skip: a choice of its own
    reference = layout_reference(RgbDeconvNet)
    flagged_then_exact(reference, (torch.randn(2, 3, 6, 6),), tmp_path, hint)
