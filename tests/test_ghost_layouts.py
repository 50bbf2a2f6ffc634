"""GhostNet's blocks as other repositories write them, beside zoo 15's huawei-noah original
(issue 16): each whole network generated from its keys alone is exact, or flagged, never silently
wrong.

- huawei-noah's original ghost_net.py at width 1.0 with its 5x5 squeeze-excited stages (the steps
  of each bottleneck one `conv` Sequential, empty Sequentials where it neither strides nor gates,
  a nested depthwise unit in the shortcut, an SELayer of Linear layers clamped to [0, 1]); and
  at widths not rounded to 4, where each Ghost module slices its halves to an odd `oup`;
- the later ghostnet.py (huawei-noah/Efficient-AI-Backbones, as timm writes it too): `ghost1`,
  `conv_dw`/`bn_dw`, `se` of 1x1 convs with a hard sigmoid, `ghost2`, a flat `shortcut`; a
  `conv_stem`, stages of `blocks`, a biased `conv_head` after the pool;
- senet.pytorch's SE-ResNet block (an SELayer `fc = Sequential(Linear, ReLU, Linear, Sigmoid)`
  inside a conv block: a gate, read from the convs beside it, not an autoencoder).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input, unit_scale
from tests.zoo_verdicts import generate_from_state_dict, keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _divisible(v: float, divisor: int = 4) -> int:  # ghostnet's _make_divisible
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


# ------------------------------------------ huawei-noah ghost_net.py (the first release)


class SELayer(nn.Module):
    def __init__(self, channel: int, reduction: int = 4) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
        return x * torch.clamp(y, 0, 1)


def depthwise_conv(inp: int, oup: int, k: int = 3, stride: int = 1, relu: bool = False):
    return nn.Sequential(
        nn.Conv2d(inp, oup, k, stride, k // 2, groups=inp, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True) if relu else nn.Sequential(),
    )


class GhostModule(nn.Module):
    def __init__(self, inp: int, oup: int, relu: bool = True) -> None:
        super().__init__()
        self.oup = oup
        init = math.ceil(oup / 2)
        self.primary_conv = nn.Sequential(
            nn.Conv2d(inp, init, 1, 1, 0, bias=False),
            nn.BatchNorm2d(init),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(init, init, 3, 1, 1, groups=init, bias=False),
            nn.BatchNorm2d(init),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        out = torch.cat([x1, self.cheap_operation(x1)], dim=1)
        return out[:, : self.oup, :, :]


class GhostBottleneck(nn.Module):
    def __init__(self, inp: int, hidden: int, oup: int, k: int, stride: int, se: bool) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            GhostModule(inp, hidden, relu=True),
            depthwise_conv(hidden, hidden, k, stride) if stride == 2 else nn.Sequential(),
            SELayer(hidden) if se else nn.Sequential(),
            GhostModule(hidden, oup, relu=False),
        )
        if stride == 1 and inp == oup:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                depthwise_conv(inp, inp, 3, stride),
                nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.shortcut(x)


class OriginalGhostNet(nn.Module):  # width 1.0, the first six rows of its cfgs
    cfgs = [[3, 16, 16, 0, 1], [3, 48, 24, 0, 2], [3, 72, 24, 0, 1], [5, 72, 40, 1, 2]]
    cfgs += [[5, 120, 40, 1, 1], [3, 240, 80, 0, 2]]

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        c = _divisible(16)
        layers = [
            nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True))
        ]
        for k, exp, out, se, s in self.cfgs:
            layers.append(GhostBottleneck(c, _divisible(exp), _divisible(out), k, s, bool(se)))
            c = _divisible(out)
        self.features = nn.Sequential(*layers)
        self.squeeze = nn.Sequential(
            nn.Conv2d(c, 240, 1, 1, 0, bias=False),
            nn.BatchNorm2d(240),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.classifier = nn.Sequential(
            nn.Linear(240, 64, bias=False),
            nn.BatchNorm1d(64),
            nn.ReLU(inplace=True),
            nn.Dropout(0.2),
            nn.Linear(64, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


class OddGhostNet(OriginalGhostNet):  # its code at widths not rounded to 4: the modules slice
    def __init__(self, classes: int = 10) -> None:
        nn.Module.__init__(self)
        c = 7
        layers = [
            nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True))
        ]
        for k, exp, out, se, s in [[3, 15, 7, 0, 1], [3, 21, 11, 0, 2], [5, 33, 13, 1, 2]]:
            layers.append(GhostBottleneck(c, exp, out, k, s, bool(se)))
            c = out
        self.features = nn.Sequential(*layers)
        self.squeeze = nn.Sequential(
            nn.Conv2d(c, 24, 1, 1, 0, bias=False),
            nn.BatchNorm2d(24),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.classifier = nn.Sequential(
            nn.Linear(24, 16, bias=False),
            nn.BatchNorm1d(16),
            nn.ReLU(inplace=True),
            nn.Dropout(0.2),
            nn.Linear(16, classes),
        )


# ------------------------- huawei-noah Efficient-AI-Backbones ghostnet.py (timm writes it so)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        reduced = _divisible(c * 0.25)
        self.conv_reduce = nn.Conv2d(c, reduced, 1, bias=True)
        self.conv_expand = nn.Conv2d(reduced, c, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(F.relu(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * hard_sigmoid(s)


class LaterGhostBottleneck(nn.Module):
    def __init__(self, inp: int, mid: int, out: int, k: int, stride: int, se: bool) -> None:
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModule(inp, mid, relu=True)
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
            self.bn_dw = nn.BatchNorm2d(mid)
        self.se = SqueezeExcite(mid) if se else None
        self.ghost2 = GhostModule(mid, out, relu=False)
        if inp == out and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(inp, inp, k, stride, (k - 1) // 2, groups=inp, bias=False),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ghost1(x)
        if self.stride > 1:
            y = self.bn_dw(self.conv_dw(y))
        if self.se is not None:
            y = self.se(y)
        return self.ghost2(y) + self.shortcut(x)


class ConvBnAct(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn1(self.conv(x)))


class LaterGhostNet(nn.Module):  # width 0.5: stages of blocks, then ConvBnAct, pool, conv_head
    cfgs = [[[3, 16, 16, 0, 1]], [[3, 48, 24, 0, 2]], [[3, 72, 24, 0, 1]]]
    cfgs += [[[5, 72, 40, 1, 2]], [[5, 120, 40, 1, 1], [5, 120, 40, 1, 1]]]

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        c = _divisible(16 * 0.5)
        self.conv_stem = nn.Conv2d(3, c, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        stages = []
        for cfg in self.cfgs:
            blocks = []
            for k, exp, out, se, s in cfg:
                out_c, mid = _divisible(out * 0.5), _divisible(exp * 0.5)
                blocks.append(LaterGhostBottleneck(c, mid, out_c, k, s, bool(se)))
                c = out_c
            stages.append(nn.Sequential(*blocks))
        stages.append(nn.Sequential(ConvBnAct(c, 60)))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(60, 128, 1, 1, 0, bias=True)
        self.classifier = nn.Linear(128, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.bn1(self.conv_stem(x))))
        x = F.relu(self.conv_head(x.mean((2, 3), keepdim=True)))
        return self.classifier(x.flatten(1))


# --------------------------------------------------- senet.pytorch SEBasicBlock (Linear SE)


class SeLinearGate(nn.Module):  # senet.pytorch se_module.py SELayer
    def __init__(self, channel: int, reduction: int = 4) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        return x * self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)


class SEBasicBlock(nn.Module):  # senet.pytorch se_resnet.py SEBasicBlock
    def __init__(self, c_in: int, c: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.se = SeLinearGate(c)
        self.downsample = None
        if stride != 1 or c_in != c:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class SEResNetCifar(nn.Module):  # senet.pytorch CifarSEResNet (n=1), widths / 2
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(SEBasicBlock(8, 8), SEBasicBlock(8, 8))
        self.layer2 = nn.Sequential(SEBasicBlock(8, 16, 2), SEBasicBlock(16, 16))
        self.layer3 = nn.Sequential(SEBasicBlock(16, 32, 2), SEBasicBlock(32, 32))
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


# ------------------- CBAM's channel gate (Jongchan/attention-module): a Linear MLP, not an SE


class CbamChannelGate(nn.Module):  # cbam.py ChannelGate: average and max pooled, one MLP
    def __init__(self, c: int, reduction: int = 4) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Flatten(), nn.Linear(c, c // reduction), nn.ReLU(), nn.Linear(c // reduction, c)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True))
        return x * torch.sigmoid(pooled)[:, :, None, None]


class CbamSpatialGate(nn.Module):  # cbam.py SpatialGate: a 7x7 conv over [max, mean]
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, 1, 3, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.bn(self.conv(s)))


class Cbam(nn.Module):  # cbam.py CBAM: both gates, one after the other
    def __init__(self, c: int) -> None:
        super().__init__()
        self.ChannelGate, self.SpatialGate = CbamChannelGate(c), CbamSpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class CbamBlock(SEBasicBlock):  # cbam.py's BasicBlock: `cbam` after bn2
    def __init__(self, c: int) -> None:
        super().__init__(c, c)
        del self.se
        self.cbam = Cbam(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(self.cbam(out) + x)


class CbamNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(CbamBlock(16), CbamBlock(16))
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer1(F.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


CASES = {  # name: (build, input shape)
    "huawei_original_width_1": (OriginalGhostNet, (2, 3, 64, 64)),
    "huawei_original_odd_widths": (OddGhostNet, (2, 3, 32, 32)),
    "huawei_later_ghostnet": (LaterGhostNet, (2, 3, 64, 64)),
    "senet_pytorch_se_resnet": (SEResNetCifar, (2, 3, 32, 32)),
    "cbam_resnet": (CbamNet, (2, 3, 16, 16)),
}
# Exact from the keys alone; the others must be flagged (a class guessed or missing), never WRONG.
# CBAM's channel gate pools twice: no catalogue pattern reads it (it stays guessed).
EXACT = set(CASES) - {"cbam_resnet"}


test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(SimpleNamespace(ZOO=CASES, build=lambda n: reference_and_input(*CASES[n])), EXACT)
)


def test_a_cbam_channel_gate_is_no_squeeze_excitation(tmp_path, capsys):
    """A Linear C -> C/r -> C beside convs that neither give nor read C (CBAM's gate, beside its
    spatial gate's 2 -> 1 conv) is not read as a squeeze-excitation of one mean."""
    torch.manual_seed(0)
    _, source = generate_from_state_dict(unit_scale(CbamNet()), tmp_path, capsys)
    gate = source.split("class ChannelGate(nn.Module):")[1]
    assert gate.split('"""')[1].startswith("Forward trust: guessed")
