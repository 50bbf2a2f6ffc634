"""Restoration U-Nets that keep their levels in parallel lists and add their skips (NAFNet's
layout, issue 16, session 16): the zoo's megvii-research NAFNet (tests/generative_zoo_14_models.py)
is the fourth layout. Each is generated from its state dict alone: exact, or flagged.

- three levels, two NAFNet blocks of a wider FFN per level, odd input sizes (padded, cropped);
- ResNet basic blocks as the levels' blocks, one per level, two levels, a width of 6;
- the same lists without the global residual: flagged, exact once `global_residual` is pinned.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact
from tests.test_simple_gate_16 import WideFfnBlock
from tests.zoo_verdicts import layout_reference, measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class BasicBlock(nn.Module):  # torchvision's BasicBlock (no downsample)
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + x)


class ListUNet(nn.Module):
    def __init__(self, block, width=4, enc=(2, 2, 2), middle=1, dec=(2, 2, 2), residual=True):
        super().__init__()
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.ending = nn.Conv2d(width, 3, 3, padding=1)
        self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        chan = width
        for num in enc:
            self.encoders.append(nn.Sequential(*(block(chan) for _ in range(num))))
            self.downs.append(nn.Conv2d(chan, 2 * chan, 2, 2))
            chan *= 2
        self.middle_blks = nn.Sequential(*(block(chan) for _ in range(middle)))
        for num in dec:
            self.ups.append(
                nn.Sequential(nn.Conv2d(chan, 2 * chan, 1, bias=False), nn.PixelShuffle(2))
            )
            chan //= 2
            self.decoders.append(nn.Sequential(*(block(chan) for _ in range(num))))
        self.multiple = 2 ** len(enc)
        self.residual = residual

    def forward(self, inp):
        h, w = inp.shape[2:]
        m = self.multiple
        inp = F.pad(inp, (0, (m - w % m) % m, 0, (m - h % m) % m))
        x = self.intro(inp)
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for decoder, up, skip in zip(self.decoders, self.ups, skips[::-1]):
            x = decoder(up(x) + skip)
        x = self.ending(x)
        x = x + inp if self.residual else x
        return x[:, :, :h, :w]


LAYOUTS = {
    "three_levels_gated_blocks": lambda: ListUNet(WideFfnBlock),
    "two_levels_basic_blocks": lambda: ListUNet(BasicBlock, 6, (1, 1), 2, (1, 1)),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_list_unet_layout_exact(name, tmp_path, capsys):
    found, diff = measured_layout(LAYOUTS[name], (2, 3, 13, 10), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_without_global_residual_flagged_until_pinned(tmp_path):
    reference = layout_reference(lambda: ListUNet(BasicBlock, 6, (1, 1), 1, (1, 1), residual=False))
    hint = '["RecoveredModel.ending"]\nglobal_residual = "none"\n'
    flagged_then_exact(reference, (torch.randn(2, 3, 9, 12),), tmp_path, hint)
