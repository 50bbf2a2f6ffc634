"""Grouped convs read from the width that reaches them (layers/conv_groups.py), as repositories
other than the zoo 16 rows write them (pytorch-cifar100's ResNeXt, timm's DPN). A weight
[out, in / g, k, k] fits an ungrouped conv over in / g channels too; what reaches the conv says
which, unless the forward splits that width across sibling convs (MixNet's mixed kernels), which
must stay ungrouped. Every conv keeps the reference's groups; the file is exact or says where it
is not.

- `timm_resnext_grouped_reduce`: a timm-style bottleneck (`conv1`, `bn1`, ... beside a
  `downsample` Sequential) whose 1x1 reduce is grouped, three blocks a stage: the first block's
  projection reads what enters, the later blocks read what the block before gives;
- `condensenet_layers`: CondenseNet's converted dense layers (Huang et al. 2018: `conv_1`,
  `conv_2` = norm, ReLU, grouped conv), concatenated: a pre-activation unit's norm is as wide as
  what its conv reads;
- `bn_act_conv_chain`: a plain numbered chain of pre-activation units (BN-ReLU-conv, DenseNet's
  and DPN's order) whose grouped 3x3 keeps the width: its sibling unit proves the norm first;
- `mixed_pointwise_split` (must stay ungrouped): MixNet-style blocks whose 1x1 is a ModuleDict
  of two convs over the two halves of what the block before gives, beside a projected block;
- `token_pooling`: PiT-style pooling of a map and its class token side by side (a depthwise conv
  with a depth multiplier of 3 beside a Linear from the token's width): the token's width is
  what the conv reads;
- `branch_concat`: ESPNetv2-style blocks (grouped 1x1s around three concatenated dilated
  depthwise branches, a norm as wide as them) and a tail whose last 1x1 reads a third of the
  depthwise unit before it: grouped by default, a choice (`groups`).
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import assert_convs_keep_groups, randomised_verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class GroupedReduceBottleneck(nn.Module):  # timm resnet.Bottleneck, reduce grouped (as ResNeXt-C)
    def __init__(self, c_in: int, width: int, c_out: int, stride: int, groups: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.act2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        return self.act3(x + shortcut)


class TimmResNeXtGroupedReduce(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(*(
            GroupedReduceBottleneck(16 if i == 0 else 32, 8, 32, 1, 4) for i in range(3)
        ))
        self.layer2 = nn.Sequential(*(
            GroupedReduceBottleneck(32 if i == 0 else 64, 16, 64, 2 if i == 0 else 1, 4)
            for i in range(3)
        ))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(x.mean((2, 3)))


class CondenseUnit(nn.Sequential):  # CondenseNet's Conv (and a converted LearnedGroupConv)
    def __init__(self, c_in: int, c_out: int, k: int, groups: int) -> None:
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(c_in))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(c_in, c_out, k, 1, k // 2, groups=groups, bias=False))


class CondenseLayer(nn.Module):  # CondenseNet models/condensenet.py _DenseLayer
    def __init__(self, c_in: int, growth: int, bottleneck: int = 4, groups: int = 4) -> None:
        super().__init__()
        self.conv_1 = CondenseUnit(c_in, bottleneck * growth, 1, groups)
        self.conv_2 = CondenseUnit(bottleneck * growth, growth, 3, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv_2(self.conv_1(x))], 1)


class CondenseNetLayers(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("init_conv", nn.Conv2d(3, 16, 3, 1, 1, bias=False))
        block = nn.Sequential()
        for i in range(3):
            block.add_module(f"denselayer_{i + 1}", CondenseLayer(16 + 8 * i, 8))
        self.features.add_module("denseblock_1", block)
        self.features.add_module("norm_last", nn.BatchNorm2d(40))
        self.classifier = nn.Linear(40, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.features(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


class BnActConv(nn.Module):  # timm dpn.BnActConv2d, DenseNet's order
    def __init__(self, c_in: int, c_out: int, k: int, groups: int = 1) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c_in)
        self.conv = nn.Conv2d(c_in, c_out, k, 1, k // 2, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.relu(self.bn(x)))


class BnActConvChain(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.body = nn.Sequential(BnActConv(8, 32, 1), BnActConv(32, 32, 3, groups=8),
                                  BnActConv(32, 16, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(self.stem(x)).mean((2, 3)))


class MixedPointwise(nn.ModuleDict):  # timm MixedConv2d with 1x1 kernels: split, not grouped
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.splits = [c_in // 2, c_in - c_in // 2]
        outs = [c_out // 2, c_out - c_out // 2]
        for i, (a, b) in enumerate(zip(self.splits, outs)):
            self.add_module(str(i), nn.Conv2d(a, b, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.splits, 1)
        return torch.cat([conv(part) for conv, part in zip(self.values(), parts)], 1)


class MixedBlock(nn.Module):
    def __init__(self, c: int, mid: int) -> None:
        super().__init__()
        self.conv_pw = MixedPointwise(c, mid)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv_dw = nn.Conv2d(mid, mid, 3, 1, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv_pwl = nn.Conv2d(mid, c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv_pw(x)))
        y = F.relu(self.bn2(self.conv_dw(y)))
        return x + self.bn3(self.conv_pwl(y))


class MixedPointwiseSplit(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.blocks = nn.Sequential(
            GroupedReduceBottleneck(8, 8, 16, 1, 1), MixedBlock(16, 32), MixedBlock(16, 32)
        )
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.blocks(self.conv_stem(x)).mean((2, 3)))


class ClassTokenPool(nn.Module):  # PiT's conv_head_pooling: the map and its class token alike
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(c_in, c_out, 3, 2, 1, groups=c_in)
        self.cls_proj = nn.Linear(c_in, c_out)

    def forward(self, x: torch.Tensor, token: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.dw(x), self.cls_proj(token)


class TokenPoolingNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 4, 4)
        self.token = nn.Parameter(torch.randn(1, 1, 6))
        self.mix = nn.Linear(6, 6)
        self.pool = ClassTokenPool(6, 18)
        self.norm = nn.LayerNorm(18)
        self.head = nn.Linear(18, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        b, c, h, w = x.shape
        seq = torch.cat((self.token.expand(b, -1, -1), x.flatten(2).transpose(1, 2)), 1)
        seq = seq + self.mix(seq)
        token, x = seq[:, :1], seq[:, 1:].transpose(1, 2).reshape(b, c, h, w)
        x, token = self.pool(x, token)
        return self.head(self.norm(token[:, 0] + x.mean((2, 3))))


class ConvBN(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class DilatedDW(nn.Module):
    def __init__(self, c: int, d: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, 1, d, dilation=d, groups=c, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dw(x)


class BranchConcat(nn.Module):  # ESPNetv2's EESP: grouped 1x1s around k concatenated branches
    def __init__(self, c: int, k: int) -> None:
        super().__init__()
        self.squeeze = ConvBN(c, c // k, 1, groups=k)
        self.paths = nn.ModuleList(DilatedDW(c // k, d) for d in range(1, k + 1))
        self.fuse = nn.Sequential(nn.BatchNorm2d(c), nn.PReLU(c))
        self.expand = ConvBN(c, c, 1, groups=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.squeeze(x)
        outs = [self.paths[0](y)]
        for path in self.paths[1:]:
            outs.append(path(y) + outs[-1])
        return x + self.expand(self.fuse(torch.cat(outs, 1)))


class BranchConcatNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = ConvBN(3, 18, 3, 2)
        self.blocks = nn.Sequential(BranchConcat(18, 3), BranchConcat(18, 3))
        self.tail = nn.Sequential(ConvBN(18, 18, 3, groups=18), ConvBN(18, 36, 1, groups=3))
        self.head = nn.Linear(36, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.tail(self.blocks(self.stem(x)))
        return self.head(x.mean((2, 3)))


LAYOUTS = {
    "timm_resnext_grouped_reduce": TimmResNeXtGroupedReduce,
    "condensenet_layers": CondenseNetLayers,
    "bn_act_conv_chain": BnActConvChain,
    "mixed_pointwise_split": MixedPointwiseSplit,
    "token_pooling": TokenPoolingNet,
    "branch_concat": BranchConcatNet,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_convs_keep_the_groups_the_width_reaching_them_proves(name, tmp_path, capsys):
    reference, model, _, found, diff = randomised_verdict(
        LAYOUTS[name], (2, 3, 16, 16), tmp_path, capsys
    )
    assert assert_convs_keep_groups(reference, model) > 0
    assert found != "WRONG", f"{name}: silently wrong by {diff}"
