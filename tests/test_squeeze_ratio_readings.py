"""EfficientNet's se_ratio read from shapes (analyze/strides.py's _efficientnet: every
squeeze-excitation one REDUCING fraction of its block's input) must not take a MobileNetV3, whose
squeeze-excitations are a quarter of the EXPANDED width rounded as its ports round it (to a
multiple of 8, never under 8): on narrow blocks that rounding makes every squeeze one fraction of
the input too (half of it, or all of it), while the plain fractions of the expanded width differ.
Layouts (none the zoo row's code):
- timm / gen-efficientnet's MobileNetV3 (`conv_stem`, `blocks.i.j`, a DepthwiseSeparableConv then
  InvertedResiduals with `conv_pw`/`conv_dw`/`se.conv_reduce`/`se.conv_expand`/`conv_pwl`, the
  squeeze at its floor of 8): each squeeze half its block's input, a half and a quarter of the
  expanded width (the rounding reading);
- torchvision's MobileNetV3 (`features` of Conv2dNormActivation, InvertedResidual `block`,
  SqueezeExcitation `fc1`/`fc2`) at a small width: each squeeze as wide as its block's input (the
  fraction must reduce);
- kuangliu/pytorch-cifar's MobileNetV3 (a flat `bneck` of `Block`s, conv1..conv3, an `se`
  Sequential holding a BatchNorm, `max(c // 4, 8)`): structurally other, functional forward.
Measured before (merged tree at 9ab0372) -> after, mobile_family / verdict: timm efficientnet /
flagged -> mobilenet_v3 / flagged; torchvision_narrow efficientnet / flagged -> mobilenet_v3 /
flagged (both stay flagged for their other guesses, no longer for EfficientNet's sigmoid and
swish); kuangliu mobilenet_v3 / flagged -> same (its squeezes are no one fraction of the input);
the zoo row (tests/vision_zoo_more_models.py's MobileNetV3) flagged -> exact.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.analyze.strides import mobile_family
from codegen.keytree import build_tree
from codegen.load import open_checkpoint
from tests.test_mobile_families import Conv2dNormActivation, InvertedResidualV3
from tests.vision_zoo_11_models import DepthwiseSeparableConv, GenInvertedResidual
from tests.zoo_verdicts import generate_from_state_dict, layout_reference, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# timm / gen-efficientnet's blocks (tests/vision_zoo_11_models.py: conv_pw, conv_dw, se.conv_reduce
# and se.conv_expand of 8 channels, conv_pwl) and torchvision's (tests/test_mobile_families.py:
# Conv2dNormActivation, InvertedResidual `block`, squeeze `max(8, expanded // 4 // 8 * 8)`).


class TimmMobileNetV3(nn.Module):  # timm mobilenetv3 layout: each squeeze half its block's input
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.Hardswish()
        self.blocks = nn.Sequential(
            nn.Sequential(DepthwiseSeparableConv(16, 16, 1, True, nn.ReLU)),
            nn.Sequential(
                GenInvertedResidual(16, 16, 48, 3, 2, False, nn.ReLU),
                GenInvertedResidual(16, 16, 40, 3, 1, False, nn.ReLU),
            ),
            nn.Sequential(GenInvertedResidual(16, 24, 32, 5, 2, True, nn.Hardswish)),
        )
        self.conv_head = nn.Conv2d(24, 64, 1)
        self.act2 = nn.Hardswish()
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.conv_head(x.mean((2, 3), keepdim=True)))
        return self.classifier(x.flatten(1))


class TorchvisionMobileNetV3Narrow(nn.Module):  # mobilenet_v3_small-like at a small width
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Conv2dNormActivation(3, 8, 3, 2),
            InvertedResidualV3(8, 8, 8, 3, 2, True, nn.ReLU),
            InvertedResidualV3(8, 32, 16, 3, 2, False, nn.ReLU),
            InvertedResidualV3(16, 64, 16, 5, 2, True, nn.Hardswish),
            Conv2dNormActivation(16, 48, 1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(48, 64), nn.Hardswish(inplace=True), nn.Dropout(0.2), nn.Linear(64, classes)
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ------------------------------------------------------------------- kuangliu/pytorch-cifar


class SeModule(nn.Module):  # kuangliu/pytorch-cifar models/mobilenetv3.py
    def __init__(self, in_size: int, reduction: int = 4) -> None:
        super().__init__()
        expand_size = max(in_size // reduction, 8)
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_size, expand_size, kernel_size=1, bias=False),
            nn.BatchNorm2d(expand_size),
            nn.ReLU(inplace=True),
            nn.Conv2d(expand_size, in_size, kernel_size=1, bias=False),
            nn.Hardsigmoid(),
        )

    def forward(self, x):
        return x * self.se(x)


class Block(nn.Module):  # kuangliu's bneck, without its strided shortcuts
    def __init__(self, k, in_size, expand_size, out_size, act, se, stride) -> None:
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(in_size, expand_size, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(expand_size)
        self.act1 = act(inplace=True)
        self.conv2 = nn.Conv2d(
            expand_size, expand_size, k, stride, k // 2, groups=expand_size, bias=False
        )
        self.bn2 = nn.BatchNorm2d(expand_size)
        self.act2 = act(inplace=True)
        self.se = SeModule(expand_size) if se else nn.Identity()
        self.conv3 = nn.Conv2d(expand_size, out_size, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_size)
        self.residual = stride == 1 and in_size == out_size

    def forward(self, x):
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.se(self.act2(self.bn2(self.conv2(out))))
        out = self.bn3(self.conv3(out))
        return out + x if self.residual else out


class KuangliuMobileNetV3(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.hs1 = nn.Hardswish(inplace=True)
        self.bneck = nn.Sequential(
            Block(3, 16, 16, 16, nn.ReLU, True, 2),
            Block(3, 16, 48, 24, nn.ReLU, False, 2),
            Block(5, 24, 96, 24, nn.Hardswish, True, 1),
        )
        self.conv2 = nn.Conv2d(24, 64, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.hs2 = nn.Hardswish(inplace=True)
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = self.bneck(self.hs1(self.bn1(self.conv1(x))))
        out = self.hs2(self.bn2(self.conv2(out)))
        return self.linear(out.mean((2, 3)))


LAYOUTS = {
    "timm": TimmMobileNetV3,
    "torchvision_narrow": TorchvisionMobileNetV3Narrow,
    "kuangliu": KuangliuMobileNetV3,
}


def _tree(reference: nn.Module, tmp_path):
    torch.save(reference.state_dict(), tmp_path / "weights.pt")
    return build_tree(open_checkpoint(tmp_path / "weights.pt").table)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_mobilenet_v3_squeezes_are_not_an_se_ratio(name, tmp_path, capsys):
    reference = layout_reference(LAYOUTS[name])
    told = mobile_family(_tree(reference, tmp_path))
    assert told is not None and told[0] == "mobilenet_v3", told
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    x = torch.randn(2, 3, 64, 64)
    assert verdict(reference, model, source, x) != "WRONG"
