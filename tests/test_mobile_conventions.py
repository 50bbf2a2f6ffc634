"""The mobile networks' conventions no key records, on layouts other than the zoo rows that
motivated them (analyze/strides.py: mobile_strides, mobile_family, mobile_skips): a MobileNetV2
at width 0.5 and full depth, an EfficientNet-B1-like depth with its stages nested, kuangliu's CIFAR
MobileNetV2 at full depth, MobileNetV1 at width 0.25, and a MobileNetV3-Small's stride schedule.
Each is written the way its repository writes it; the generated file is exact from the keys alone,
or (MobileNetV3, whose activation changes by stage) flagged, never silently wrong."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.analyze.strides import mobile_family, mobile_strides
from codegen.keytree import build_tree
from codegen.load import open_checkpoint
from tests.redraw import unit_scale
from tests.vision_zoo_7_models import CNA, TvInvertedResidual, TvMBConv
from tests.vision_zoo_9_models import MBBlock
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _divisible(v: float, divisor: int = 8) -> int:  # torchvision's _make_divisible
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


class MobileNetV2(nn.Module):  # torchvision.models.mobilenetv2.MobileNetV2(width_mult=0.5)
    setting = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1]]
    setting += [[6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, width: float = 0.5, classes: int = 10) -> None:
        super().__init__()
        c_in = _divisible(32 * width)
        features: list[nn.Module] = [CNA(3, c_in, stride=2, act=nn.ReLU6)]
        for t, c, n, s in self.setting:
            c_out = _divisible(c * width)
            for i in range(n):
                features.append(TvInvertedResidual(c_in, c_out, s if i == 0 else 1, t))
                c_in = c_out
        features.append(CNA(c_in, 64, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# ------------------------------------------ EfficientNet, B1's depths (torchvision, narrowed)


class EfficientNet(nn.Module):  # torchvision.models.efficientnet.EfficientNet, B0's table
    # (expand, kernel, stride, channels, repeats), B0's rows at a quarter of the width
    rows = [(1, 3, 1, 4), (6, 3, 2, 6), (6, 5, 2, 10), (6, 3, 2, 20), (6, 5, 1, 28)]
    rows += [(6, 5, 2, 48), (6, 3, 1, 80)]
    repeats = [1, 2, 2, 3, 3, 4, 1]

    def __init__(self, depth: float = 1.1, classes: int = 10) -> None:
        super().__init__()
        c_in = 8
        features: list[nn.Module] = [CNA(3, c_in, stride=2, act=nn.SiLU)]
        for (t, k, s, c), n in zip(self.rows, self.repeats):
            stage = []
            for i in range(math.ceil(depth * n)):  # B1: depth coefficient 1.1
                stage.append(TvMBConv(c_in, c, k, s if i == 0 else 1, t))
                c_in = c
            features.append(nn.Sequential(*stage))
        features.append(CNA(c_in, 64, 1, act=nn.SiLU))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2, inplace=True), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ------------------------------------------- MobileNetV2 for CIFAR (kuangliu/pytorch-cifar)


class CifarMobileNetV2(nn.Module):  # models/mobilenetv2.py MobileNetV2, channels / 4
    # (expansion, out_planes, num_blocks, stride); row 2's stride 1 is the repository's CIFAR change
    cfg = [(1, 4, 1, 1), (6, 6, 2, 1), (6, 8, 3, 2), (6, 16, 4, 2), (6, 24, 3, 1)]
    cfg += [(6, 40, 3, 2), (6, 80, 1, 1)]

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        layers, c_in = [], 8
        for expansion, c_out, blocks, stride in self.cfg:
            for s in [stride] + [1] * (blocks - 1):
                layers.append(MBBlock(c_in, c_out, expansion, s))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(80, 64, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.linear = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------------------ MobileNetV1, width 0.25 (paper-style repos)


def mobilenet_v1(width: float = 0.25, classes: int = 10) -> nn.Module:
    """The paper's thirteen depthwise separable layers (Howard et al. 2017, table 1)."""

    def conv_bn(c_in: int, c_out: int, stride: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
        )

    def conv_dw(c_in: int, c_out: int, stride: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )

    table = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    table += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]

    class MobileNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c_in = int(32 * width)
            layers = [conv_bn(3, c_in, 2)]
            for c, s in table:
                layers.append(conv_dw(c_in, int(c * width), s))
                c_in = int(c * width)
            self.model = nn.Sequential(*layers)
            self.fc = nn.Linear(c_in, classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.adaptive_avg_pool2d(self.model(x), 1)
            return self.fc(x.flatten(1))

    return MobileNet()


CASES = {  # name: (build, input shape)
    "mobilenet_v2_050": (MobileNetV2, (2, 3, 64, 64)),
    "efficientnet_b1_depth": (EfficientNet, (2, 3, 64, 64)),
    "cifar_mobilenet_v2": (CifarMobileNetV2, (2, 3, 32, 32)),
    "mobilenet_v1_025": (mobilenet_v1, (2, 3, 64, 64)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_from_the_keys(name, tmp_path, capsys):
    make, shape = CASES[name]
    torch.manual_seed(0)
    reference = unit_scale(make())
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    assert verdict(reference, model, source, x, script=False) == "exact"


def _tree(reference: nn.Module, tmp_path):
    torch.save(reference.state_dict(), tmp_path / "weights.pt")
    return build_tree(open_checkpoint(tmp_path / "weights.pt").table)


def test_stage_strides_of_a_full_mobilenet_v2(tmp_path):
    """/32: the stem, then the first block of the 2nd, 3rd, 4th and 6th stage (Sandler et al.)."""
    strides = mobile_strides(_tree(MobileNetV2(), tmp_path))
    halving = sorted(int(p.split(".")[1]) for p, s in strides.items() if s == 2)
    assert halving == [0, 2, 4, 7, 14]  # features[0] is the stem
    assert mobile_family(_tree(MobileNetV2(), tmp_path))[0] == "mobilenet_v2"
    # (at width 0.5 the 2nd and 3rd rows share 16 channels: the paper's row lengths split them)
    without_first = MobileNetV2()
    kept = [m for i, m in enumerate(without_first.features) if i != 1]
    without_first.features = nn.Sequential(*kept)
    strides = mobile_strides(_tree(without_first, tmp_path))
    assert sorted(int(p.split(".")[1]) for p, s in strides.items() if s == 2) == [0, 1, 3, 6, 13]


class MobileNetV3Small(nn.Module):  # torchvision.models.mobilenetv3 (mobilenet_v3_small), / 2
    # (c_in, kernel, expanded, c_out, use_se, activation, stride), Howard et al. 2019, table 2
    table = [(8, 3, 8, 8, True, nn.ReLU, 2), (8, 3, 36, 12, False, nn.ReLU, 2)]
    table += [(12, 3, 44, 12, False, nn.ReLU, 1), (12, 5, 48, 20, True, nn.Hardswish, 2)]
    table += [(20, 5, 120, 20, True, nn.Hardswish, 1), (20, 5, 120, 20, True, nn.Hardswish, 1)]
    table += [(20, 5, 60, 24, True, nn.Hardswish, 1), (24, 5, 72, 24, True, nn.Hardswish, 1)]
    table += [(24, 5, 144, 48, True, nn.Hardswish, 2), (48, 5, 288, 48, True, nn.Hardswish, 1)]

    def __init__(self) -> None:
        super().__init__()
        features: list[nn.Module] = [CNA(3, 8, stride=2, act=nn.Hardswish)]
        for c_in, k, expanded, c_out, se, act, stride in self.table:
            layers: list[nn.Module] = []
            if expanded != c_in:
                layers.append(CNA(c_in, expanded, 1, act=act))
            layers.append(CNA(expanded, expanded, k, stride, expanded, act=act))
            if se:
                squeeze = _divisible(expanded // 4, 8)
                pair = [nn.Conv2d(expanded, squeeze, 1), nn.Conv2d(squeeze, expanded, 1)]
                layers.append(nn.Sequential(*pair))  # fc1, fc2 (the keys are what matter)
            layers.append(CNA(expanded, c_out, 1, act=None))
            features.append(nn.Sequential(*layers))
        self.features = nn.Sequential(*features)


def test_stage_strides_of_a_mobilenet_v3_small(tmp_path):
    """Its squeeze-excited first block halves too: stages 1, 2, 3 and 5 (Howard et al. 2019)."""
    tree = _tree(MobileNetV3Small(), tmp_path)
    strides = mobile_strides(tree)
    halving = sorted(int(p.split(".")[1]) for p, s in strides.items() if s == 2)
    assert halving == [0, 1, 2, 4, 9]
    assert mobile_family(tree)[0] == "mobilenet_v3"  # no one activation: ReLU, then hard-swish
