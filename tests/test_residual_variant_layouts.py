"""Second layouts of the mechanisms session 15 added for vision zoo rows (issue 16), each written
with other names and nesting than the row that motivated it:
- a ConvNeXt block whose parts are the items of one Sequential (torchvision's CNBlock has its
  `block`), here `residual` with a channels-last `gamma` of shape [1, 1, C], in a network whose
  stem, downsamplers and stages are named lists and whose head pools then normalises;
- RepVGG blocks in their training form as YOLOv6 writes them (`rbr_dense`, `rbr_1x1` Sequentials,
  `rbr_identity`), the width-keeping strided block registered before the stem reading the image;
- Darknet-53 as the flat PyTorch ports write it (`conv1`, `conv2`, `residual_block1`, ... of
  `conv_batch` Sequentials with a LeakyReLU slot, `DarkResidualBlock`s of `layer1`, `layer2`);
- a dual path network whose blocks name their units as the official code does (`c1x1_a`,
  `c3x3_b`, `c1x1_c`: the numbers in the names do not order them), the projection `downsample`,
  in a ModuleList of stages;
- a BoTNet stage as leaderj1001's zoo 22 row builds one, under other names: a pixel attention with
  per-row and per-column position tables as each bottleneck's spatial step, pooled after it where
  the block strides (session 23).
"""

from __future__ import annotations

import re
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import unit_scale
from tests.zoo_verdicts import generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _trusts(source: str) -> dict[str, str]:
    return dict(re.findall(r"^class (\w+)\(.*?\n    \"\"\"Forward trust: (\w+)", source, re.M))


def _verdict(reference: nn.Module, tmp_path, capsys, x: torch.Tensor) -> tuple[str, str]:
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    return measured(reference, model, source, (x,))[0], source


# ----------------------------------------------------------------- ConvNeXt, one Sequential


class ToChannelsLast(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


class ToChannelsFirst(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


class ChannelsFirstNorm(nn.LayerNorm):  # a LayerNorm2d, as each port writes its own
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class SequentialConvNeXtBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(dim, dim, 7, padding=3, groups=dim),
            ToChannelsLast(),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 3 * dim),
            nn.GELU(),
            nn.Linear(3 * dim, dim),
        )
        self.gamma = nn.Parameter(torch.full((1, 1, dim), 0.5))  # scales channels-last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gamma * self.residual(x)
        return x + y.permute(0, 3, 1, 2)


class ListedConvNeXt(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 4, 4), ChannelsFirstNorm(8, eps=1e-6))
        self.stages = nn.Sequential(
            nn.Sequential(SequentialConvNeXtBlock(8), SequentialConvNeXtBlock(8)),
            nn.Sequential(ChannelsFirstNorm(8, eps=1e-6), nn.Conv2d(8, 16, 2, 2)),
            nn.Sequential(SequentialConvNeXtBlock(16)),
        )
        self.classifier = nn.Sequential(
            ChannelsFirstNorm(16, eps=1e-6), nn.Flatten(1), nn.Linear(16, 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1))


def test_convnext_block_held_in_one_sequential(tmp_path, capsys):
    """The block's parts are a Sequential's items, its scale [1, 1, C] multiplies channels-last:
    recognised as the ConvNeXt block (inferred), the norm a LayerNorm, the depthwise conv
    unstrided; the whole file reproduces the reference."""
    reference = unit_scale(ListedConvNeXt())
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 32, 32))
    assert _trusts(source)["ConvNeXtBlock"] == "inferred"
    assert verdict == "exact"


# --------------------------------------------------------------------- RepVGG, YOLOv6's names


def conv_bn(c_in: int, c_out: int, k: int, stride: int) -> nn.Sequential:
    conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
    return nn.Sequential(OrderedDict(conv=conv, bn=nn.BatchNorm2d(c_out)))


class RepVGGBlock(nn.Module):  # YOLOv6 yolov6/layers/common.py RepVGGBlock, training form
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        keeps = c_in == c_out and stride == 1
        self.rbr_dense = conv_bn(c_in, c_out, 3, stride)
        self.rbr_1x1 = conv_bn(c_in, c_out, 1, stride)
        self.rbr_identity = nn.BatchNorm2d(c_in) if keeps else None
        self.nonlinearity = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.rbr_dense(x) + self.rbr_1x1(x)
        return self.nonlinearity(out if self.rbr_identity is None else out + self.rbr_identity(x))


class RepBackbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # registered first, so the class's first instance keeps the width (8 -> 8, stride 2)
        self.ERBlock_2 = nn.Sequential(RepVGGBlock(8, 8, 2), RepVGGBlock(8, 8))
        self.ERBlock_3 = nn.Sequential(RepVGGBlock(8, 16, 2), RepVGGBlock(16, 16))
        self.stem = RepVGGBlock(3, 8, 2)
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ERBlock_3(self.ERBlock_2(self.stem(x)))
        return self.fc(x.mean((2, 3)))


def test_repvgg_blocks_without_identity_are_branches(tmp_path, capsys):
    """A block without its identity branch that keeps the width in one instance widens in
    another: its kxk and 1x1 branches run side by side (never a Darknet 1x1-then-3x3 block)."""
    reference = unit_scale(RepBackbone())
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 32, 32))
    assert "DarkBlock" not in source
    assert verdict == "exact"


# ---------------------------------------------------------------------- Darknet-53, flat names


def conv_batch(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.1),
    )


class DarkResidualBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.layer1 = conv_batch(c, c // 2, 1)
        self.layer2 = conv_batch(c // 2, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layer2(self.layer1(x))


class FlatDarknet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = conv_batch(3, 8)
        self.conv2 = conv_batch(8, 16, stride=2)
        self.residual_block1 = nn.Sequential(DarkResidualBlock(16))
        self.conv3 = conv_batch(16, 32, stride=2)
        self.residual_block2 = nn.Sequential(DarkResidualBlock(32), DarkResidualBlock(32))
        self.fc = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.residual_block1(self.conv2(self.conv1(x)))
        x = self.residual_block2(self.conv3(x))
        return self.fc(x.mean((2, 3)))


def test_flat_darknet_strides_into_its_residual_blocks(tmp_path, capsys):
    """The 3x3 unit widening into residual blocks of its width strides 2, the stem does not;
    every unit is activated as the residual blocks are (leaky ReLU 0.1)."""
    reference = unit_scale(FlatDarknet())
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 32, 32))
    assert "0.1)" in source and "F.relu(" not in source
    assert verdict == "exact"


# ------------------------------------------------------------------ DPN, units named by role


def unit(c_in: int, c_out: int, k: int = 1, groups: int = 1, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    )


class DualPathUnit(nn.Module):
    def __init__(self, reads: int, mid: int, residual: int, dense: int, first: bool) -> None:
        super().__init__()
        self.residual = residual
        self.c1x1_a = unit(reads, mid)
        # (ungrouped: a grouped conv whose reader sorts after it by name is read ungrouped, a
        # limit of analyze/structure.py's regrouping that this test does not cover)
        self.c3x3_b = unit(mid, mid, 3)
        self.c1x1_c = unit(mid, residual + dense)
        self.downsample = unit(reads, residual + dense) if first else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.c1x1_c(F.relu(self.c3x3_b(F.relu(self.c1x1_a(x)))))
        x = x if self.downsample is None else self.downsample(x)
        r = self.residual
        return F.relu(torch.cat([x[:, :r] + out[:, :r], x[:, r:], out[:, r:]], 1))


class StagedDPN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = unit(3, 12, 3, stride=2)  # an ImageNet stem halves the resolution
        self.stages = nn.ModuleList(
            [
                nn.Sequential(DualPathUnit(12, 6, 10, 3, True), DualPathUnit(16, 6, 10, 3, False)),
                nn.Sequential(DualPathUnit(19, 8, 16, 4, True)),
            ]
        )
        self.fc = nn.Linear(24, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.stem(x))
        for stage in self.stages:
            x = stage(x)
        return self.fc(x.mean((2, 3)))


def test_dual_path_blocks_named_as_the_official_code(tmp_path, capsys):
    """What the next block reads proves each block dual path: none is read as a plain residual
    block; each is a DualPathBlock, its residual part the width the widths give."""
    reference = unit_scale(StagedDPN())
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 16, 16))
    trusts = _trusts(source)
    assert not any(name.endswith("BasicBlock") for name in trusts)
    assert any("DualPathBlock" in name and t == "inferred" for name, t in trusts.items())
    assert verdict == "exact"


# ------------------------------------------------ BoTNet, a pixel attention as the spatial step


class PositionalAttention(nn.Module):  # BoTNet's MHSA under other names
    def __init__(self, dim: int, heads: int, side: int) -> None:
        super().__init__()
        self.heads = heads
        self.to_q, self.to_k, self.to_v = (nn.Conv2d(dim, dim, 1) for _ in range(3))
        self.row_embed = nn.Parameter(torch.randn(1, heads, dim // heads, side, 1))
        self.col_embed = nn.Parameter(torch.randn(1, heads, dim // heads, 1, side))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (
            f(x).view(b, self.heads, c // self.heads, -1) for f in (self.to_q, self.to_k, self.to_v)
        )
        pos = (self.col_embed + self.row_embed).view(1, self.heads, c // self.heads, -1)
        attn = (q.transpose(-1, -2) @ k + pos.transpose(-1, -2) @ q).softmax(dim=-1)
        return (v @ attn.transpose(-1, -2)).view(b, c, h, w)


class AttentionBottleneck(nn.Module):
    """conv1/norm1, `mix2` (the attention, then a 2x2 average pool where the block strides),
    norm2, conv3/norm3, a `downsample` projection where the shape changes."""

    def __init__(self, c_in: int, mid: int, side: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.norm1 = nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid)
        mix = [PositionalAttention(mid, 2, side)] + ([nn.AvgPool2d(2, 2)] if stride == 2 else [])
        self.mix2, self.norm2 = nn.Sequential(*mix), nn.BatchNorm2d(mid)
        self.conv3, self.norm3 = nn.Conv2d(mid, 4 * mid, 1, bias=False), nn.BatchNorm2d(4 * mid)
        self.downsample = None
        if stride != 1 or c_in != 4 * mid:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, 4 * mid, 1, stride, bias=False), nn.BatchNorm2d(4 * mid)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.norm1(self.conv1(x)))
        out = F.relu(self.norm2(self.mix2(out)))
        out = self.norm3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class SmallBoTNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)
        self.stage = nn.Sequential(
            AttentionBottleneck(16, 4, 16, 1),
            AttentionBottleneck(16, 4, 16, 2),  # attends at 16x16, then pools
            AttentionBottleneck(16, 4, 8, 1),
        )
        self.fc = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.stage(F.relu(self.stem(x))).mean((2, 3)))


def test_attention_as_the_bottleneck_spatial_step(tmp_path, capsys):
    """The attention (1x1-conv q/k/v, per-row and per-column position tables) is read from its
    tables' shapes (inferred); the strided block pools after it and says it guessed that."""
    reference = unit_scale(SmallBoTNet())
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 32, 32))
    trusts = _trusts(source)
    assert trusts["RelativeContentAttention"] == "inferred"
    assert "BoTNet, Srinivas et al. 2021" in source
    assert verdict == "exact"
