"""Residual feature distillation (RFDN's RFDB, Liu et al. 2020) and enhanced spatial attention
(ESA) as other repositories write them (issue 16, session 16): the zoo's njulj/RFDN
(tests/generative_zoo_15_models.py) is the fourth layout. Each is generated from its state dict
alone and must be exact, or say where it is not; never silently wrong.

- RLFN-style (bytedance/RLFN's ESA: one 3x3 conv after the pool, no `conv_max`/`conv3_`) inside a
  distillation block written with ModuleLists (`distill`, `refine`) and a separate `tail`/`fuse`;
- E-RFDN-like flat block of other names (`d1`, `r1`, ..., `d4`, `fuse`, `attn`) whose ESA names
  its convs by role (`reduce`, `skip`, `down`, `pool_conv1`, `pool_conv2`, `expand`);
- a distillation block with no attention and an IMDN-like net around it (`fea_conv`, blocks,
  `c`, `LR_conv`, `upsampler`), x3.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import generative_zoo_15_models as zoo15
from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class RlfnESA(nn.Module):  # bytedance/RLFN rlfn_ntire.py ESA (esa_channels 16 there)
    def __init__(self, esa_channels: int, n_feats: int) -> None:
        super().__init__()
        f = esa_channels
        self.conv1 = nn.Conv2d(n_feats, f, kernel_size=1)
        self.conv_f = nn.Conv2d(f, f, kernel_size=1)
        self.conv2 = nn.Conv2d(f, f, kernel_size=3, stride=2, padding=0)
        self.conv3 = nn.Conv2d(f, f, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(f, n_feats, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        c1_ = self.conv1(x)
        c1 = self.conv2(c1_)
        v_max = F.max_pool2d(c1, kernel_size=7, stride=3)
        c3 = self.conv3(v_max)
        c3 = F.interpolate(c3, (x.size(2), x.size(3)), mode="bilinear", align_corners=False)
        cf = self.conv_f(c1_)
        c4 = self.conv4(c3 + cf)
        return x * self.sigmoid(c4)


class ListDistillBlock(nn.Module):
    """RFDB with ModuleLists: 1x1 distilling convs, 3x3 shallow residual convs, a 3x3 tail."""

    def __init__(self, c: int = 8, steps: int = 3) -> None:
        super().__init__()
        d = c // 2
        self.distill = nn.ModuleList(nn.Conv2d(c, d, 1) for _ in range(steps))
        self.refine = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1) for _ in range(steps))
        self.tail = nn.Conv2d(c, d, 3, padding=1)
        self.fuse = nn.Conv2d(d * (steps + 1), c, 1)
        self.esa = RlfnESA(4, c)
        self.act = nn.LeakyReLU(0.05)

    def forward(self, x):
        kept, r = [], x
        for distill, refine in zip(self.distill, self.refine):
            kept.append(self.act(distill(r)))
            r = self.act(refine(r) + r)
        kept.append(self.act(self.tail(r)))
        return self.esa(self.fuse(torch.cat(kept, dim=1)))


class RoleNamedESA(nn.Module):  # ESA with convs named by role (the same computation as RFDN's)
    def __init__(self, c: int) -> None:
        super().__init__()
        f = c // 4
        self.reduce = nn.Conv2d(c, f, 1)
        self.skip = nn.Conv2d(f, f, 1)
        self.down = nn.Conv2d(f, f, 3, stride=2, padding=0)
        self.pool_conv1 = nn.Conv2d(f, f, 3, padding=1)
        self.pool_conv2 = nn.Conv2d(f, f, 3, padding=1)
        self.expand = nn.Conv2d(f, c, 1)

    def forward(self, x):
        reduced = self.reduce(x)
        pooled = F.max_pool2d(self.down(reduced), kernel_size=7, stride=3)
        pooled = self.pool_conv2(torch.relu(self.pool_conv1(pooled)))
        pooled = F.interpolate(pooled, x.shape[2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.expand(pooled + self.skip(reduced)))


class FlatDistillBlock(nn.Module):  # two steps, flat names, a role-named ESA
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        d = c // 2
        self.d1, self.r1 = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
        self.d2, self.r2 = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
        self.d3 = nn.Conv2d(c, d, 3, padding=1)
        self.fuse = nn.Conv2d(3 * d, c, 1)
        self.attn = RoleNamedESA(c)

    def forward(self, x):
        a = F.leaky_relu(self.d1(x), 0.05)
        r = F.leaky_relu(self.r1(x) + x, 0.05)
        b = F.leaky_relu(self.d2(r), 0.05)
        r = F.leaky_relu(self.r2(r) + r, 0.05)
        c = F.leaky_relu(self.d3(r), 0.05)
        return self.attn(self.fuse(torch.cat([a, b, c], dim=1)))


class PlainDistillBlock(nn.Module):  # no attention: the fusion conv closes the block
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        d = c // 4
        self.c1_d, self.c1_r = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
        self.c2_d, self.c2_r = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
        self.c3 = nn.Conv2d(c, d, 3, padding=1)
        self.c5 = nn.Conv2d(3 * d, c, 1)

    def forward(self, x):
        a = F.leaky_relu(self.c1_d(x), 0.05)
        r = F.leaky_relu(self.c1_r(x) + x, 0.05)
        b = F.leaky_relu(self.c2_d(r), 0.05)
        r = F.leaky_relu(self.c2_r(r) + r, 0.05)
        return self.c5(torch.cat([a, b, F.leaky_relu(self.c3(r), 0.05)], dim=1))


class Net(nn.Module):  # IMDN/RFDN's body around any of the blocks: x3 pixel shuffle
    def __init__(self, block, c: int = 8, n: int = 3) -> None:
        super().__init__()
        self.fea_conv = nn.Conv2d(3, c, 3, padding=1)
        self.blocks = nn.ModuleList(block(c) for _ in range(n))
        self.c = nn.Sequential(nn.Conv2d(n * c, c, 1), nn.LeakyReLU(0.05))
        self.LR_conv = nn.Conv2d(c, c, 3, padding=1)
        self.upsampler = nn.Sequential(nn.Conv2d(c, 27, 3, padding=1), nn.PixelShuffle(3))

    def forward(self, x):
        fea = out = self.fea_conv(x)
        outs = []
        for block in self.blocks:
            out = block(out)
            outs.append(out)
        return self.upsampler(self.LR_conv(self.c(torch.cat(outs, dim=1))) + fea)


class Body(nn.Module):  # a block alone behind a first conv
    def __init__(self, block) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, 8, 3, padding=1)
        self.body = block(8)

    def forward(self, x):
        return self.body(self.head(x))


LAYOUTS = {
    "list_block_rlfn_esa": lambda: Body(ListDistillBlock),
    "flat_block_role_named_esa": lambda: Body(FlatDistillBlock),
    "plain_block_in_imdn_body": lambda: Net(PlainDistillBlock),
    "rfdn_blocks_in_a_list": lambda: Net(zoo15.RFDB, n=2),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_distillation_layout_exact(name, tmp_path, capsys):
    found, diff = measured_layout(LAYOUTS[name], (2, 3, 16, 16), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"
