"""Residual blocks written as two sibling paths, a body and a shortcut, as other repositories than
the zoo rows that motivated them write them (issue 16: pytorch-cifar100's SE-ResNet and
Wide-ResNet, fastai's XResNet are the rows; each mechanism has three more layouts here):
- a body Sequential beside a shortcut Sequential with a squeeze-excitation between the body and
  the add (its SE as Linears or 1x1 convs, a Sequential or a class, beside the body or in it);
- a pre-activation body Sequential (the norm reads the block's input width, before the first
  conv), its shortcut a bare 1x1 conv or an identity;
- two sibling paths whose sum the next block reads (its in-width is one path's width, never the
  sum of both), the shortcut an average pool and a 1x1 conv where the block downsamples; and one
  pair of branches the next layer reads concatenated.
Each network is built small, every parameter and statistic redrawn, and generated from its keys
alone: exact (or flagged, never WRONG)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import unit_scale
from tests.zoo_verdicts import generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _verdict(reference: nn.Module, tmp_path, capsys, x: torch.Tensor) -> tuple[str, str]:
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    return measured(reference, model, source, (x,))[0], source


def conv_bn(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out)]


class Net(nn.Module):
    """A CIFAR network as kuangliu's pytorch-cifar writes one (a 3x3 `conv1`, `bn1`, stages
    `layer1`.. of `block(c_in, c_out, stride)`, global pooling and a `linear` head)."""

    def __init__(self, block, widths=(8, 16, 32), blocks: int = 2, preact: bool = False) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(3, widths[0])
        c_in = widths[0]
        for i, c_out in enumerate(widths):
            stride = 1 if i == 0 else 2
            items = [
                block(c_in if j == 0 else c_out, c_out, stride if j == 0 else 1)
                for j in range(blocks)
            ]
            setattr(self, f"layer{i + 1}", nn.Sequential(*items))
            c_in = c_out
        self.stages = len(widths)
        self.final_norm = nn.BatchNorm2d(c_in) if preact else None
        self.linear = nn.Linear(c_in, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        if self.final_norm is not None:
            x = F.relu(self.final_norm(x))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# --------------------------------------------- squeeze-excitation between the body and the add


class SELayer(nn.Module):  # moskomule/senet.pytorch senet/se_module.py SELayer
    def __init__(self, c: int, r: int = 4) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(c, c // r, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(c // r, c, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, _, _ = x.size()
        y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
        return x * y.expand_as(x)


class LeftRightSEBlock(nn.Module):
    """The `left` / `right` ResidualBlock of the PyTorch tutorials (a body Sequential, a shortcut
    Sequential built where the shape changes), an SE class `se` gating the body's output."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.left = nn.Sequential(
            *conv_bn(c_in, c_out, 3, stride), nn.ReLU(inplace=True), *conv_bn(c_out, c_out)
        )
        self.right = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.right = nn.Sequential(*conv_bn(c_in, c_out, 1, stride))
        self.se = SELayer(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.se(self.left(x)) + self.right(x))


class ConvSE(nn.Module):  # the SE of kuangliu's SENet / timm's SEModule: 1x1 convs fc1, fc2
    def __init__(self, c: int, r: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(w))))


class MainSkipSEBlock(nn.Module):
    """A `main` Sequential of conv-norm units, the SE (1x1 convs) its own member `attention`, the
    projection `skip` a [conv, norm] Sequential of named items."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Sequential(*conv_bn(c_in, c_out, 3, stride)),
            nn.ReLU(inplace=True),
            nn.Sequential(*conv_bn(c_out, c_out)),
        )
        self.attention = ConvSE(c_out)
        self.skip = None
        if stride != 1 or c_in != c_out:
            conv, bn = conv_bn(c_in, c_out, 1, stride)
            self.skip = nn.Sequential(OrderedDict(conv=conv, bn=bn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.skip is None else self.skip(x)
        return F.relu(self.attention(self.main(x)) + identity)


class BranchSESeqBlock(nn.Module):
    """A `branch` Sequential, the SE a Sequential of pooling and 1x1 convs (`se_reduce`,
    `se_expand` by position), the `shortcut` a Sequential built in every block."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            *conv_bn(c_in, c_out, 3, stride), nn.ReLU(inplace=True), *conv_bn(c_out, c_out)
        )
        self.excite = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(c_out, c_out // 4, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out // 4, c_out, 1),
            nn.Sigmoid(),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(*conv_bn(c_in, c_out, 1, stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        return F.relu(out * self.excite(out) + self.shortcut(x))


# ------------------------------------------------------------- pre-activation body Sequentials


class PreActSeqBlock(nn.Module):
    """A pre-activation basic body Sequential `residual_function`, the projection a bare 1x1
    conv `shortcut` (Zagoruyko's WRN, without the dropout)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.residual_function = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual_function(x) + self.shortcut(x)


class PreActBottleneckSeqBlock(nn.Module):
    """A pre-activation bottleneck body (`conv_block`: 1x1, 3x3, 1x1 each after its norm and
    ReLU), the projection `downsample` a 1x1 conv with its bias, held as a bare conv."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_out // 2
        self.conv_block = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.ReLU(),
            nn.Conv2d(c_in, mid, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, mid, 3, stride, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Conv2d(mid, c_out, 1, bias=False),
        )
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Conv2d(c_in, c_out, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.conv_block(x) + identity


class PreActDropSeqBlock(nn.Module):
    """A pre-activation body `body` with a dropout slot between the ReLU and the second conv
    (the WRN paper's block), the projection `proj` a Sequential of one conv."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_in, c_out, 3, stride, 1),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Conv2d(c_out, c_out, 3, 1, 1),
        )
        self.proj = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.proj(x)


# ---------------------------------------------------------- two sibling paths: sum or concat


class ConvPathIdPathBlock(nn.Module):
    """`conv_path` (two conv-norm-ReLU units, the last without ReLU) and `id_path` (a 1x1
    conv-norm where the width changes), summed then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_path = nn.Sequential(
            nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU()),
            nn.Sequential(*conv_bn(c_out, c_out)),
        )
        ids = []
        if c_in != c_out or stride != 1:
            ids = [nn.Sequential(*conv_bn(c_in, c_out, 1, stride))]
        self.id_path = nn.Sequential(*ids)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv_path(x) + self.id_path(x))


class AvgDownBlock(nn.Module):
    """ResNet-D's shortcut (timm's downsample_avg): an average pool, then a 1x1 conv-norm, beside
    a body Sequential `branch`; the sum activated."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            *conv_bn(c_in, c_out, 3, stride), nn.ReLU(inplace=True), *conv_bn(c_out, c_out)
        )
        down = []
        if stride != 1:
            down.append(nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False))
        if stride != 1 or c_in != c_out:
            down += conv_bn(c_in, c_out, 1)
        self.skip = nn.Sequential(*down)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.branch(x) + self.skip(x))


class ConvBN(nn.Module):
    """A conv-norm unit with named members (`conv`, `bn`), as many repositories write one."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.conv, self.bn = conv_bn(c_in, c_out, k, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class AvgDownUnitBlock(nn.Module):
    """(cfg17) ResNet-D's shortcut with the 1x1 conv-norm one named unit after the pool (as
    RT-DETR's and PaddleDetection's ResNet-vd write it: `short.1.conv`, `short.1.bn`), beside a
    body Sequential of named units: the pool strides, not the 1x1 conv."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.branch2 = nn.Sequential(
            ConvBN(c_in, c_out, 3, stride), nn.ReLU(), ConvBN(c_out, c_out)
        )
        self.short = None
        if stride != 1:
            self.short = nn.Sequential(nn.AvgPool2d(2, 2, ceil_mode=True), ConvBN(c_in, c_out, 1))
        elif c_in != c_out:
            self.short = ConvBN(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.short is None else self.short(x)
        return F.relu(self.branch2(x) + identity)


class TwoPathBottleneck(nn.Module):
    """fastai's layout with other names (`residual` and `identity`): a 1x1, 3x3, 1x1 body of
    conv-norm-ReLU units, the identity path pooled then projected where the block downsamples."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_out // 4
        self.residual = nn.Sequential(
            nn.Sequential(*conv_bn(c_in, mid, 1), nn.ReLU()),
            nn.Sequential(*conv_bn(mid, mid, 3, stride), nn.ReLU()),
            nn.Sequential(*conv_bn(mid, c_out, 1)),
        )
        ids: list[nn.Module] = []
        if stride != 1:
            ids.append(nn.AvgPool2d(stride, ceil_mode=True))
        if c_in != c_out:
            ids.append(nn.Sequential(*conv_bn(c_in, c_out, 1)))
        self.identity = nn.Sequential(*ids)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.residual(x) + self.identity(x))


# name: (block, stage widths, a final norm and ReLU before the pooling (pre-activation nets))
LAYOUTS = {
    "left_right_se": (LeftRightSEBlock, (8, 16, 32), False),
    "main_skip_convse": (MainSkipSEBlock, (8, 16, 32), False),
    "branch_seq_se": (BranchSESeqBlock, (8, 16, 32), False),
    "preact_seq": (PreActSeqBlock, (8, 16), True),
    "preact_bottleneck_seq": (PreActBottleneckSeqBlock, (8, 16), True),
    "preact_dropout_seq": (PreActDropSeqBlock, (8, 16), True),
    "conv_path_id_path": (ConvPathIdPathBlock, (8, 16), False),
    "avg_down": (AvgDownBlock, (8, 16), False),
    "two_path_bottleneck": (TwoPathBottleneck, (16, 32), False),
    "avg_down_unit": (AvgDownUnitBlock, (8, 16, 32), False),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_sibling_paths_summed(name, tmp_path, capsys):
    """Each layout exact: the SE rescales the body's output before the shortcut is added; a
    first norm as wide as the block's input makes the body pre-activation (the sum left bare);
    the next block reads one path's width, so the paths are summed, never concatenated."""
    block, widths, preact = LAYOUTS[name]
    reference = unit_scale(Net(block, widths=widths, preact=preact))
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 16, 16))
    assert verdict == "exact"
    assert "torch.cat" not in source


class TwoBranchConcat(nn.Module):
    """Two branches of one width side by side (a 1x1 and a 3x3 conv-norm-ReLU), the next layer
    reading both widths: a concatenation, as Inception's and SqueezeNet's expand layers."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        half = c_out // 2
        self.branch_a = nn.Sequential(*conv_bn(c_in, half, 1, stride), nn.ReLU())
        self.branch_b = nn.Sequential(*conv_bn(c_in, half, 3, stride), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch_a(x), self.branch_b(x)], 1)


def test_sibling_branches_concatenated(tmp_path, capsys):
    """The next block reads both branches' widths: concatenated (never summed)."""
    reference = unit_scale(Net(TwoBranchConcat, widths=(16, 32)))
    verdict, source = _verdict(reference, tmp_path, capsys, torch.randn(2, 3, 16, 16))
    assert verdict in ("exact", "flagged")  # (the strided 1x1 branch: a stride no key records)
    assert "torch.cat" in source and "RepBlock" not in source  # summed before: 1x1 + 3x3
