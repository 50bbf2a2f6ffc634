"""Two readings of a mobile body no key records, on layouts other than zoo 16's timm rows:

1. No block expands into its depthwise conv (analyze/strides.py: mobile_family): the blocks are
   MobileNetV1's depthwise separable ones, activated after the pointwise conv and never residual
   (patterns/blocks/separable_block.py); where some are squeeze-excited the network is PP-LCNet's
   (hard-swish, SE with ReLU and a hard sigmoid). A stage whose first block keeps the width keeps
   the resolution (PP-LCNet's stride-1 5x5 stage). Layouts: PaddleClas' PP-LCNet (ConvBNLayer
   classes, `blocks2`..`blocks6` stages, `last_conv` after the pool), timm's MobileNetV1 (`dsa`
   blocks, ReLU), kuangliu/pytorch-cifar's MobileNet (a flat `layers` list of `Block`s, CIFAR:
   the stem keeps the resolution).
2. Every expanding block expands 6x, 5x5 kernels, no SE: EfficientNet-Lite (ReLU6), where other
   ratios are MnasNet's (ReLU; tests/test_mobile_searched.py keeps that one). Layouts: RangiLyu's
   EfficientNet-Lite (lukemelas-style `_blocks` MBConvBlocks, `stem`/`head` Sequentials, eps 1e-3)
   and a torchvision-style one (`features` of Conv2dNormActivation and InvertedResidual `conv`).

Measured before (main at 9f2a8a4) -> after: paddle_pp_lcnet flagged -> exact; timm_mobilenet_v1
exact (the chain's guess) -> exact (SeparableBlock inferred); kuangliu_mobilenet exact -> exact;
rangilyu_efficientnet_lite flagged -> flagged (its eps 1e-3 only: exact once told);
torchvision_style_lite flagged -> exact.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.analyze.strides import mobile_family
from codegen.keytree import build_tree
from codegen.load import open_checkpoint
from tests.redraw import unit_scale
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# ------------------------------------------------------- PaddleClas PP-LCNet (pp_lcnet.py port)


class ConvBNLayer(nn.Module):  # PaddleClas ConvBNLayer: conv, bn, hardswish
    def __init__(self, c_in: int, k: int, c_out: int, stride: int, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.hardswish = nn.Hardswish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hardswish(self.bn(self.conv(x)))


class SEModule(nn.Module):  # PaddleClas SEModule
    def __init__(self, c: int, reduction: int = 4) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv2d(c, c // reduction, 1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c // reduction, c, 1)
        self.hardsigmoid = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.hardsigmoid(self.conv2(self.relu(self.conv1(self.avg_pool(x)))))
        return x * s


class DepthwiseSeparable(nn.Module):  # PaddleClas DepthwiseSeparable
    def __init__(self, c_in: int, c_out: int, stride: int, k: int, use_se: bool = False) -> None:
        super().__init__()
        self.use_se = use_se
        self.dw_conv = ConvBNLayer(c_in, k, c_in, stride, groups=c_in)
        if use_se:
            self.se = SEModule(c_in)
        self.pw_conv = ConvBNLayer(c_in, 1, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw_conv(x)
        if self.use_se:
            x = self.se(x)
        return self.pw_conv(x)


class PaddlePPLCNet(nn.Module):  # PaddleClas PPLCNet, NET_CONFIG narrowed
    def __init__(self, num_classes: int = 6) -> None:
        super().__init__()
        self.conv1 = ConvBNLayer(3, 3, 8, 2)
        self.blocks2 = nn.Sequential(DepthwiseSeparable(8, 16, 1, 3))
        self.blocks3 = nn.Sequential(
            DepthwiseSeparable(16, 24, 2, 3), DepthwiseSeparable(24, 24, 1, 3)
        )
        self.blocks4 = nn.Sequential(
            DepthwiseSeparable(24, 32, 2, 3), DepthwiseSeparable(32, 32, 1, 3)
        )
        self.blocks5 = nn.Sequential(
            DepthwiseSeparable(32, 48, 2, 3), DepthwiseSeparable(48, 48, 1, 5)
        )
        self.blocks6 = nn.Sequential(
            DepthwiseSeparable(48, 64, 2, 5, True), DepthwiseSeparable(64, 64, 1, 5, True)
        )
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.last_conv = nn.Conv2d(64, 96, 1, bias=True)
        self.hardswish = nn.Hardswish()
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(96, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        for stage in (self.blocks2, self.blocks3, self.blocks4, self.blocks5, self.blocks6):
            x = stage(x)
        x = self.hardswish(self.last_conv(self.avg_pool(x)))
        return self.fc(self.flatten(x))


# ------------------------------------------------------------------ timm MobileNetV1 (`dsa`)


class TimmDsa(nn.Module):  # timm DepthwiseSeparableConv(pw_act=True, noskip=True), ReLU
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv_dw(x)))
        return F.relu(self.bn2(self.conv_pw(self.se(self.aa(x)))))


class TimmMobileNetV1(nn.Module):  # timm mobilenetv1_100's arch_def, narrowed
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(
            nn.Sequential(TimmDsa(8, 16)),
            nn.Sequential(TimmDsa(16, 24, 2), TimmDsa(24, 24)),
            nn.Sequential(TimmDsa(24, 32, 2), TimmDsa(32, 32)),
        )
        self.classifier = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(F.relu(self.bn1(self.conv_stem(x))))
        return self.classifier(x.mean((2, 3)))


# -------------------------------------------------- kuangliu/pytorch-cifar models/mobilenet.py


class KlBlock(nn.Module):  # pytorch-cifar MobileNet Block: depthwise conv + pointwise conv
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv2 = nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)))


class KlMobileNet(nn.Module):  # pytorch-cifar MobileNet, cfg narrowed (64, (128,2), 128, ...)
    cfg = [16, (24, 2), 24, (32, 2), 32, (48, 2), 48]

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        layers, c_in = [], 8
        for x in self.cfg:
            c_out, stride = (x, 1) if isinstance(x, int) else x
            layers.append(KlBlock(c_in, c_out, stride))
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(48, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, 4)  # the CIFAR port's fixed pool: the whole 4x4 map here
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------- RangiLyu's EfficientNet-Lite (efficientnet_lite.py)


class RlMBConvBlock(nn.Module):  # RangiLyu MBConvBlock (no SE in the lite models)
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.id_skip = stride == 1 and c_in == c_out
        self._expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(mid, momentum=0.01, eps=1e-3)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, momentum=0.01, eps=1e-3)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, momentum=0.01, eps=1e-3)
        self._relu = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._relu(self._bn0(self._expand_conv(x)))
        out = self._relu(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.id_skip else out


class RangiLyuEfficientNetLite(nn.Module):  # efficientnet_lite0's block args, narrowed
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False),
            nn.BatchNorm2d(16, momentum=0.01, eps=1e-3),
            nn.ReLU6(inplace=True),
        )
        self.blocks = nn.ModuleList(
            [
                nn.ModuleList([RlMBConvBlock(16, 8, 3, 1, 1)]),
                nn.ModuleList([RlMBConvBlock(8, 12, 3, 2, 6), RlMBConvBlock(12, 12, 3, 1, 6)]),
                nn.ModuleList([RlMBConvBlock(12, 20, 5, 2, 6), RlMBConvBlock(20, 20, 5, 1, 6)]),
            ]
        )
        self.head = nn.Sequential(
            nn.Conv2d(20, 64, 1, bias=False),
            nn.BatchNorm2d(64, momentum=0.01, eps=1e-3),
            nn.ReLU6(inplace=True),
        )
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.blocks:
            for block in stage:
                x = block(x)
        return self.fc(self.head(x).mean((2, 3)))


# ------------------------------------ a torchvision-style EfficientNet-Lite (MobileNetV2 classes)


def _cna(c_in: int, c_out: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(  # torchvision Conv2dNormActivation with ReLU6
        nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU6(inplace=True),
    )


class TvInvertedResidual(nn.Module):  # torchvision.models.mobilenetv2.InvertedResidual + kernel
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int, k: int = 3) -> None:
        super().__init__()
        mid = c_in * expand
        self.use_res_connect = stride == 1 and c_in == c_out
        layers = [_cna(c_in, mid, 1)] if expand != 1 else []
        layers += [
            _cna(mid, mid, k, stride, groups=mid),
            nn.Conv2d(mid, c_out, 1, 1, 0, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class TorchvisionStyleLite(nn.Module):
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _cna(3, 16, 3, 2),
            TvInvertedResidual(16, 8, 1, 1),
            TvInvertedResidual(8, 12, 2, 6),
            TvInvertedResidual(12, 12, 1, 6),
            TvInvertedResidual(12, 20, 2, 6, 5),
            TvInvertedResidual(20, 20, 1, 6, 5),
            _cna(20, 64, 1),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


LAYOUTS = {  # name: (build, input shape, verdict from the keys, mobile family)
    "paddle_pp_lcnet": (PaddlePPLCNet, (2, 3, 64, 64), "exact", "pp_lcnet"),
    "timm_mobilenet_v1": (TimmMobileNetV1, (2, 3, 32, 32), "exact", None),
    "kuangliu_mobilenet": (KlMobileNet, (2, 3, 32, 32), "exact", None),
    "rangilyu_efficientnet_lite": (
        RangiLyuEfficientNetLite,
        (2, 3, 32, 32),
        "flagged",
        "efficientnet_lite",
    ),
    "torchvision_style_lite": (TorchvisionStyleLite, (2, 3, 32, 32), "exact", "efficientnet_lite"),
}


def _tree(reference: nn.Module, tmp_path):
    torch.save(reference.state_dict(), tmp_path / "weights.pt")
    return build_tree(open_checkpoint(tmp_path / "weights.pt").table)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_mobile_body_layouts(name, tmp_path, capsys):
    make, shape, expected, family = LAYOUTS[name]
    torch.manual_seed(0)
    reference = unit_scale(make())
    told = mobile_family(_tree(reference, tmp_path))
    assert (told[0] if told else None) == family
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    assert verdict(reference, model, source, x) == expected


def test_separable_blocks_are_activated_and_never_residual(tmp_path, capsys):
    """MobileNetV1's block read from its network (no block expands): inferred, not a chain."""
    torch.manual_seed(0)
    _, source = generate_from_state_dict(unit_scale(TimmMobileNetV1()), tmp_path, capsys)
    assert "class SeparableBlock" in source and "add_if_same_shape" not in source
