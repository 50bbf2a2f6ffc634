"""MobileNetV3's and the searched mobile networks' conventions no key records, on layouts other
than the zoo rows that motivated them (analyze/strides.py: mobilenet_v3_relu_blocks,
mobile_batch_norm_eps, _inverted_body; patterns/blocks/chain.py: the last stage's pooled conv head):

- MobileNetV3-Small at half width as torchvision writes it (its first squeeze-excitation keeps all
  8 channels: _make_divisible rounds 4 up to 8), and MobileNetV3-Large narrowed as timm writes it
  (named members, stages nested, its squeeze-excitation's ReLU forced, conv_head after the pool):
  ReLU before the resolution reaches 1/16, hard-swish from there on, exact from the keys;
- a ProxylessNAS written as its repository writes it: MobileNetV2's stage strides and ReLU6, its
  first block without a shortcut even where the widths allow one, exact from the keys;
- a MnasNet-B1 as timm writes it: ReLU by the family (its narrowed copies' strides stay a choice);
  one that keeps all seven stages strides as the ImageNet networks do, exact from the keys;
- an EfficientNet-EdgeTPU as a TensorFlow port names it (fused blocks before inverted residuals,
  none squeeze-excited): ReLU, the stage strides, and no skip on its first block though it keeps
  its width (the next block of its stage adds its input), exact from the keys.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn

from codegen.analyze.strides import mobile_family, mobilenet_v3_relu_blocks
from codegen.keytree import build_tree
from codegen.load import open_checkpoint
from tests.redraw import unit_scale
from tests.test_mobile_families import Conv2dNormActivation, InvertedResidualV3
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _divisible(v: float, divisor: int = 8) -> int:  # torchvision's and timm's _make_divisible
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


# ------------------------------------------- MobileNetV3-Small, width 0.5, torchvision's code


class SqueezeExcitation(nn.Module):  # torchvision.ops.misc.SqueezeExcitation (V3: hard gate)
    def __init__(self, c: int) -> None:
        super().__init__()
        squeeze = _divisible(c // 4, 8)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class SmallBlock(InvertedResidualV3):
    def __init__(self, c_in, expanded, c_out, k, stride, use_se, act) -> None:
        super().__init__(c_in, expanded, c_out, k, stride, False, act)
        if use_se:  # before the projection, its squeeze rounded up to 8
            layers = list(self.block)
            layers.insert(len(layers) - 1, SqueezeExcitation(expanded))
            self.block = nn.Sequential(*layers)


class MobileNetV3SmallHalf(nn.Module):  # torchvision mobilenet_v3_small(width_mult=0.5)
    ROWS = [  # in, expanded, out, kernel, stride, squeeze-excitation, activation (table 2)
        (8, 8, 8, 3, 2, True, nn.ReLU),
        (8, 40, 16, 3, 2, False, nn.ReLU),
        (16, 48, 16, 3, 1, False, nn.ReLU),
        (16, 48, 24, 5, 2, True, nn.Hardswish),
        (24, 120, 24, 5, 1, True, nn.Hardswish),
        (24, 72, 32, 5, 1, True, nn.Hardswish),
        (32, 144, 48, 5, 2, True, nn.Hardswish),
    ]

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        layers: list[nn.Module] = [Conv2dNormActivation(3, 8, 3, 2)]
        layers += [SmallBlock(*row) for row in self.ROWS]
        layers.append(Conv2dNormActivation(48, 288, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(288, 64), nn.Hardswish(inplace=True), nn.Dropout(0.2), nn.Linear(64, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ------------------------------------------------- MobileNetV3-Large, narrowed, timm's code


class BatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d
    def __init__(self, c: int, act=None) -> None:
        super().__init__(c)
        self.act = act() if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(super().forward(x))


class SqueezeExcite(nn.Module):  # timm _efficientnet_blocks.SqueezeExcite, V3's partial
    def __init__(self, c: int) -> None:
        super().__init__()
        rd = _divisible(c * 0.25, 8)  # rd_round_fn=round_channels
        self.conv_reduce = nn.Conv2d(c, rd, 1)
        self.act1 = nn.ReLU(inplace=True)  # force_act_layer=nn.ReLU
        self.conv_expand = nn.Conv2d(rd, c, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * self.gate(s)


class DepthwiseSeparableConv(nn.Module):  # timm _efficientnet_blocks.DepthwiseSeparableConv
    def __init__(self, c: int, act) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.bn1 = BatchNormAct2d(c, act)
        self.se = nn.Identity()
        self.conv_pw = nn.Conv2d(c, c, 1, bias=False)
        self.bn2 = BatchNormAct2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn2(self.conv_pw(self.se(self.bn1(self.conv_dw(x))))) + x


class InvertedResidual(nn.Module):  # timm _efficientnet_blocks.InvertedResidual
    def __init__(self, c_in: int, mid: int, c_out: int, k: int, stride: int, se: bool, act):
        super().__init__()
        self.has_skip = stride == 1 and c_in == c_out
        self.conv_pw = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = BatchNormAct2d(mid, act)
        self.conv_dw = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self.bn2 = BatchNormAct2d(mid, act)
        self.se = SqueezeExcite(mid) if se else nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = BatchNormAct2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.se(self.bn2(self.conv_dw(self.bn1(self.conv_pw(x)))))
        out = self.bn3(self.conv_pwl(out))
        return out + x if self.has_skip else out


class ConvBnAct(nn.Module):  # timm's last stage `cn_r1_k1_s1_c960`
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn1 = BatchNormAct2d(c_out, nn.Hardswish)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn1(self.conv(x))


class TimmMobileNetV3Large(nn.Module):  # timm mobilenetv3_large_100's arch_def, widths / 2
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        re, hs = nn.ReLU, nn.Hardswish
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(8, hs)
        self.blocks = nn.Sequential(
            nn.Sequential(DepthwiseSeparableConv(8, re)),  # ds_r1_k3_s1_e1_c16_nre
            nn.Sequential(
                InvertedResidual(8, 32, 12, 3, 2, False, re),  # ir_r1_k3_s2_e4_c24_nre
                InvertedResidual(12, 36, 12, 3, 1, False, re),
            ),
            nn.Sequential(
                InvertedResidual(12, 36, 20, 5, 2, True, re),  # ir_r3_k5_s2_e3_c40_se0.25_nre
                InvertedResidual(20, 60, 20, 5, 1, True, re),
            ),
            nn.Sequential(
                InvertedResidual(20, 120, 40, 3, 2, False, hs),  # ir_r1_k3_s2_e6_c80
                InvertedResidual(40, 100, 40, 3, 1, False, hs),
            ),
            nn.Sequential(InvertedResidual(40, 240, 56, 3, 1, True, hs)),  # e6_c112_se0.25
            nn.Sequential(
                InvertedResidual(56, 336, 80, 5, 2, True, hs),  # ir_r3_k5_s2_e6_c160_se0.25
                InvertedResidual(80, 480, 80, 5, 1, True, hs),
            ),
            nn.Sequential(ConvBnAct(80, 480)),
        )
        self.conv_head = nn.Conv2d(480, 640, 1)  # after the pool, with a bias
        self.act2 = nn.Hardswish()
        self.classifier = nn.Linear(640, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.bn1(self.conv_stem(x)))
        x = self.act2(self.conv_head(x.mean((2, 3), keepdim=True)))
        return self.classifier(x.flatten(1))


# ----------------------------------------------------- ProxylessNAS, its repository's code


class ConvLayer(nn.Module):  # proxyless_nas.layers.ConvLayer: conv, bn, ReLU6
    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act: bool = True):
    layers = OrderedDict(
        conv=nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
        bn=nn.BatchNorm2d(c_out),
    )
    if act:
        layers["act"] = nn.ReLU6(inplace=True)
    return nn.Sequential(layers)


class MBInvertedConvLayer(nn.Module):  # proxyless_nas.layers.MBInvertedConvLayer
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.inverted_bottleneck = _conv_bn(c_in, mid, 1) if expand > 1 else None
        self.depth_conv = _conv_bn(mid, mid, k, stride, mid)
        self.point_linear = _conv_bn(mid, c_out, 1, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.inverted_bottleneck is not None:
            x = self.inverted_bottleneck(x)
        return self.point_linear(self.depth_conv(x))


class MobileInvertedResidualBlock(nn.Module):  # proxyless_nas.nas_modules
    def __init__(self, conv: nn.Module, shortcut: bool) -> None:
        super().__init__()
        self.mobile_inverted_conv = conv
        self.shortcut = nn.Identity() if shortcut else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.mobile_inverted_conv(x)
        return out if self.shortcut is None else out + self.shortcut(x)


class ProxylessNASNets(nn.Module):  # proxyless_gpu's kernels and expansions, narrowed
    ROWS = [  # in, out, kernel, stride, expansion (the first block: no shortcut)
        (12, 16, 5, 2, 3),
        (16, 16, 7, 1, 3),
        (16, 24, 7, 2, 6),
        (24, 24, 5, 1, 3),
        (24, 32, 7, 2, 6),
    ]

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.first_conv = ConvLayer(3, 12, 3, 2)
        blocks = [MobileInvertedResidualBlock(MBInvertedConvLayer(12, 12, 3, 1, 1), False)]
        for c_in, c_out, k, stride, expand in self.ROWS:
            residual = stride == 1 and c_in == c_out
            conv = MBInvertedConvLayer(c_in, c_out, k, stride, expand)
            blocks.append(MobileInvertedResidualBlock(conv, residual))
        self.blocks = nn.ModuleList(blocks)
        self.feature_mix_layer = ConvLayer(32, 64, 1, 1)
        self.classifier = nn.Sequential(OrderedDict(linear=nn.Linear(64, classes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.first_conv(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(self.feature_mix_layer(x).mean(3).mean(2))


# --------------------------------------------------------------- MnasNet-B1, timm's code


class TimmMnasNet(nn.Module):  # timm mnasnet_b1's arch_def (ReLU), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(8, nn.ReLU)
        self.blocks = nn.Sequential(
            nn.Sequential(DepthwiseSeparableConv(8, nn.ReLU)),
            nn.Sequential(InvertedResidual(8, 24, 12, 3, 2, False, nn.ReLU)),
            nn.Sequential(
                InvertedResidual(12, 36, 16, 5, 2, False, nn.ReLU),
                InvertedResidual(16, 48, 16, 5, 1, False, nn.ReLU),
            ),
        )
        self.conv_head = nn.Conv2d(16, 64, 1, bias=False)
        self.bn2 = BatchNormAct2d(64, nn.ReLU)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn2(self.conv_head(self.blocks(self.bn1(self.conv_stem(x)))))
        return self.classifier(x.mean((2, 3)))


class TimmMnasNetSevenStages(TimmMnasNet):  # mnasnet_b1's seven stages kept, narrowed widths
    ROWS = (  # each stage's blocks: (in, expanded, out, kernel, stride), as the arch_def has them
        ((8, 24, 12, 3, 2), (12, 36, 12, 3, 1)),
        ((12, 36, 16, 5, 2),),
        ((16, 96, 20, 5, 2), (20, 120, 20, 5, 1)),
        ((20, 120, 24, 3, 1),),
        ((24, 144, 32, 5, 2),),
        ((32, 192, 40, 3, 1),),
    )

    def __init__(self, classes: int = 5) -> None:
        super().__init__(classes)
        stages = [nn.Sequential(DepthwiseSeparableConv(8, nn.ReLU))]
        for row in self.ROWS:
            blocks = [InvertedResidual(*block, False, nn.ReLU) for block in row]
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(40, 64, 1, bias=False)


# ------------------------------------------- EfficientNet-EdgeTPU, a TensorFlow port's names


class FusedBlock(nn.Module):  # the edgetpu builder's fused MBConv: a full 3x3 expands
    def __init__(self, c_in: int, mid: int, c_out: int, stride: int, skip: bool = True):
        super().__init__()
        self.skip = skip and stride == 1 and c_in == c_out
        self.fused_conv = nn.Conv2d(c_in, mid, 3, stride, 1, bias=False)
        self.fused_bn = nn.BatchNorm2d(mid)
        self.project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project_bn(self.project_conv(torch.relu(self.fused_bn(self.fused_conv(x)))))
        return out + x if self.skip else out


class MBConvBlock(nn.Module):  # its MBConv without squeeze-excitation, 5x5
    def __init__(self, c_in: int, mid: int, c_out: int, stride: int):
        super().__init__()
        self.skip = stride == 1 and c_in == c_out
        self.expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
        self.expand_bn = nn.BatchNorm2d(mid)
        self.depthwise_conv = nn.Conv2d(mid, mid, 5, stride, 2, groups=mid, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(mid)
        self.project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.expand_bn(self.expand_conv(x)))
        out = torch.relu(self.depthwise_bn(self.depthwise_conv(out)))
        out = self.project_bn(self.project_conv(out))
        return out + x if self.skip else out


class EdgeTPUPort(nn.Module):  # EfficientNet-EdgeTPU's first four stages (strides 1 2 2 2)
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 12, 3, 2, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU())
        self.layers = nn.Sequential(
            nn.Sequential(FusedBlock(12, 48, 12, 1, skip=False), FusedBlock(12, 48, 12, 1)),
            nn.Sequential(FusedBlock(12, 96, 16, 2)),
            nn.Sequential(MBConvBlock(16, 128, 24, 2)),
            nn.Sequential(MBConvBlock(24, 192, 48, 2), MBConvBlock(48, 384, 48, 1)),
        )
        self.head_conv = nn.Conv2d(48, 96, 1, bias=False)
        self.head_bn = nn.BatchNorm2d(96)
        self.fc = nn.Linear(96, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.head_bn(self.head_conv(self.layers(self.stem(x)))))
        return self.fc(x.mean((2, 3)))


CASES = {  # name: (build, input shape)
    "edgetpu_port": (EdgeTPUPort, (2, 3, 32, 32)),
    "timm_mnasnet_b1_seven_stages": (TimmMnasNetSevenStages, (2, 3, 32, 32)),
    "torchvision_mobilenet_v3_small_050": (MobileNetV3SmallHalf, (2, 3, 64, 64)),
    "timm_mobilenet_v3_large": (TimmMobileNetV3Large, (2, 3, 64, 64)),
    "proxyless_nas": (ProxylessNASNets, (2, 3, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_from_the_keys(name, tmp_path, capsys):
    make, shape = CASES[name]
    torch.manual_seed(0)
    reference = unit_scale(make())
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    assert verdict(reference, model, source, x) == "exact"


def _tree(reference: nn.Module, tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    torch.save(reference.state_dict(), tmp_path / "weights.pt")
    return build_tree(open_checkpoint(tmp_path / "weights.pt").table)


def test_mobilenet_v3_relu_blocks_end_where_the_resolution_reaches_a_sixteenth(tmp_path):
    """Large: its first three stages (the 5x5 squeeze-excited one too); Small: its first three
    blocks, its 5x5 stage already at 1/16. The stem and head are hard-swish either way."""
    large, why = mobilenet_v3_relu_blocks(_tree(TimmMobileNetV3Large(), tmp_path / "large"))
    assert sorted(large) == ["blocks.0.0", "blocks.1.0", "blocks.1.1", "blocks.2.0", "blocks.2.1"]
    assert "Howard" in why
    small, _ = mobilenet_v3_relu_blocks(_tree(MobileNetV3SmallHalf(), tmp_path / "small"))
    assert sorted(small) == ["features.1", "features.2", "features.3"]
    assert mobilenet_v3_relu_blocks(_tree(TimmMnasNet(), tmp_path / "mnasnet")) is None


def test_mobilenet_v3_choices_say_where_they_come_from(tmp_path, capsys):
    """The torchvision eps and the schedule are structure defaults, cited, never silent."""
    torch.manual_seed(0)
    _, source = generate_from_state_dict(unit_scale(MobileNetV3SmallHalf()), tmp_path, capsys)
    assert "eps: float = 0.001" in source and "torchvision's MobileNetV3" in source
    assert "F.hardsigmoid" in source and "F.hardswish" in source and "F.relu(" in source


def test_mnasnet_activates_with_relu(tmp_path, capsys):
    """MnasNet-B1 (5x5 kernels, no squeeze-excitation): ReLU in its blocks, stem and head; its
    narrowed copies' strides stay a choice, so the file is flagged, never silently wrong."""
    assert mobile_family(_tree(TimmMnasNet(), tmp_path))[0] == "mnasnet"
    torch.manual_seed(0)
    reference = unit_scale(TimmMnasNet())
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert "relu6" not in source and "F.relu(" in source
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    assert verdict(reference, model, source, x) in ("exact", "flagged")
