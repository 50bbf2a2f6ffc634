"""Six more small vision classifiers written the way torchvision, timm and the papers' own
repositories write them (key names and module nesting), for tests/test_vision_zoo_6.py: MnasNet,
GhostNet, RepVGG in deploy form, SE-ResNeXt-D, EfficientNetV2 with fused MBConv, CSPDarkNet.
Reference code, not generated code: the generated file must match it, or say where it cannot."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# ------------------------------------------------------------------- MnasNet (torchvision)

_BN_MOMENTUM = 1 - 0.9997


class _InvertedResidual(nn.Module):  # torchvision.models.mnasnet
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = c_in * expansion
        self.apply_residual = c_in == c_out and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(c_in, mid, 1, bias=False),
            nn.BatchNorm2d(mid, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False),
            nn.BatchNorm2d(mid, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, momentum=_BN_MOMENTUM),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x) + x if self.apply_residual else self.layers(x)


def _stack(c_in: int, c_out: int, k: int, stride: int, expansion: int, repeats: int):
    first = _InvertedResidual(c_in, c_out, k, stride, expansion)
    rest = [_InvertedResidual(c_out, c_out, k, 1, expansion) for _ in range(1, repeats)]
    return nn.Sequential(first, *rest)


class MNASNet(nn.Module):  # torchvision.models.mnasnet, depths narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False),
            nn.BatchNorm2d(16, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False),
            nn.BatchNorm2d(16, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 8, 1, bias=False),
            nn.BatchNorm2d(8, momentum=_BN_MOMENTUM),
            _stack(8, 12, 3, 2, 3, 2),
            _stack(12, 16, 5, 2, 3, 2),
            _stack(16, 24, 5, 1, 6, 1),
            nn.Conv2d(24, 64, 1, bias=False),
            nn.BatchNorm2d(64, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2, inplace=True), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.layers(x).mean([2, 3]))


# ------------------------------------------------------------------------ GhostNet (timm)


class SqueezeExcite(nn.Module):  # timm.models._efficientnet_blocks.SqueezeExcite
    def __init__(self, c: int, rd: int, gate=nn.Sigmoid, act=nn.ReLU) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1)
        self.act1 = act(inplace=True)
        self.conv_expand = nn.Conv2d(rd, c, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * self.gate(s)


class GhostModule(nn.Module):  # timm.models.ghostnet.GhostModule (v1)
    def __init__(self, c_in: int, c_out: int, relu: bool = True) -> None:
        super().__init__()
        self.out_chs = c_out
        init = math.ceil(c_out / 2)
        self.primary_conv = nn.Sequential(
            nn.Conv2d(c_in, init, 1, bias=False),
            nn.BatchNorm2d(init),
            nn.ReLU(inplace=True) if relu else nn.Identity(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(init, init, 3, 1, 1, groups=init, bias=False),
            nn.BatchNorm2d(init),
            nn.ReLU(inplace=True) if relu else nn.Identity(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        return torch.cat([x1, x2], dim=1)[:, : self.out_chs]


class GhostBottleneck(nn.Module):  # timm.models.ghostnet.GhostBottleneck
    def __init__(self, c_in: int, mid: int, c_out: int, k: int, stride: int, se: bool) -> None:
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModule(c_in, mid, relu=True)
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
            self.bn_dw = nn.BatchNorm2d(mid)
        else:
            self.conv_dw = None
            self.bn_dw = None
        rd = max(4, int(mid * 0.25) // 4 * 4)
        self.se = SqueezeExcite(mid, rd, gate=nn.Hardsigmoid) if se else None
        self.ghost2 = GhostModule(mid, c_out, relu=False)
        if c_in == c_out and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_in, k, stride, (k - 1) // 2, groups=c_in, bias=False),
                nn.BatchNorm2d(c_in),
                nn.Conv2d(c_in, c_out, 1, bias=False),
                nn.BatchNorm2d(c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.ghost1(x)
        if self.conv_dw is not None:
            x = self.bn_dw(self.conv_dw(x))
        if self.se is not None:
            x = self.se(x)
        return self.ghost2(x) + self.shortcut(shortcut)


class GhostNet(nn.Module):  # timm.models.ghostnet.GhostNet, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        self.blocks = nn.Sequential(
            nn.Sequential(GhostBottleneck(8, 8, 8, 3, 1, False)),
            nn.Sequential(GhostBottleneck(8, 24, 12, 3, 2, False)),
            nn.Sequential(GhostBottleneck(12, 36, 12, 3, 1, False)),
            nn.Sequential(GhostBottleneck(12, 36, 20, 5, 2, True)),
            nn.Sequential(
                nn.Sequential(
                    nn.Conv2d(20, 40, 1, bias=False), nn.BatchNorm2d(40), nn.ReLU(inplace=True)
                )
            ),
        )
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(40, 64, 1, bias=True)
        self.act2 = nn.ReLU(inplace=True)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.conv_head(self.global_pool(x)))
        return self.classifier(self.flatten(x))


# -------------------------------------------------------------- RepVGG (deploy form)


class RepVGGBlock(nn.Module):  # DingXiaoH/RepVGG, deploy=True: one fused 3x3 conv
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.nonlinearity = nn.ReLU()
        self.se = nn.Identity()
        self.rbr_reparam = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinearity(self.se(self.rbr_reparam(x)))


class RepVGG(nn.Module):
    def __init__(self, widths=(8, 16, 24, 32), depths=(1, 2, 2, 1), classes: int = 5) -> None:
        super().__init__()
        self.stage0 = RepVGGBlock(3, widths[0], 2)
        c = widths[0]
        for i, (w, n) in enumerate(zip(widths, depths)):
            blocks = [RepVGGBlock(c if j == 0 else w, w, 2 if j == 0 else 1) for j in range(n)]
            self.add_module(f"stage{i + 1}", nn.Sequential(*blocks))
            c = w
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage4(self.stage3(self.stage2(self.stage1(self.stage0(x)))))
        return self.linear(self.gap(x).view(x.size(0), -1))


# ------------------------------------------------------------- SE-ResNeXt-D (timm resnet)


class SEModule(nn.Module):  # timm.layers.SEModule
    def __init__(self, c: int, rd: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1, bias=True)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, c, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(self.act(self.bn(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * self.gate(s)


class TimmBottleneck(nn.Module):  # timm.models.resnet.Bottleneck
    def __init__(self, c_in, planes, stride=1, downsample=None, cardinality=1, base_width=64):
        super().__init__()
        width = int(math.floor(planes * (base_width / 64)) * cardinality)
        out = planes * 4
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=cardinality, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.drop_block = nn.Identity()
        self.act2 = nn.ReLU(inplace=True)
        self.aa = nn.Identity()
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.se = SEModule(out, out // 16 if out >= 64 else 4)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.aa(self.act2(self.drop_block(self.bn2(self.conv2(x)))))
        x = self.se(self.bn3(self.conv3(x)))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act3(x + shortcut)


def _avg_down(c_in: int, c_out: int, stride: int) -> nn.Sequential:  # timm downsample_avg
    pool = (
        nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
        if stride > 1
        else nn.Identity()
    )
    return nn.Sequential(pool, nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


class SEResNeXtD(nn.Module):  # timm.models.resnet.ResNet(stem_type='deep', avg_down=True)
    def __init__(self, layers=(1, 2), cardinality=4, base_width=16, classes: int = 5) -> None:
        super().__init__()
        stem = 8
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, stem, 3, 2, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
            nn.Conv2d(stem, stem, 3, 1, 1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
            nn.Conv2d(stem, 2 * stem, 3, 1, 1, bias=False),
        )
        self.bn1 = nn.BatchNorm2d(2 * stem)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = 2 * stem
        for i, (planes, n) in enumerate(zip((8, 16), layers)):
            stride = 1 if i == 0 else 2
            blocks = [
                TimmBottleneck(
                    c if j == 0 else planes * 4,
                    planes,
                    stride if j == 0 else 1,
                    _avg_down(c, planes * 4, stride) if j == 0 else None,
                    cardinality,
                    base_width,
                )
                for j in range(n)
            ]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            c = planes * 4
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(self.global_pool(x).flatten(1))


# ---------------------------------------------------------- EfficientNetV2 (timm, fused)


class BatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d: the activation inside
    def __init__(self, c: int, act: bool = True) -> None:
        super().__init__(c)
        self.drop = nn.Identity()
        self.act = nn.SiLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
        )
        return self.act(self.drop(x))


class ConvBnAct(nn.Module):  # timm.models._efficientnet_blocks.ConvBnAct
    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.has_skip = c_in == c_out and stride == 1
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn1 = BatchNormAct2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(self.conv(x))
        return out + x if self.has_skip else out


class EdgeResidual(nn.Module):  # timm: fused MBConv (a full 3x3 expansion, then a 1x1)
    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = c_in * expansion
        self.has_skip = c_in == c_out and stride == 1
        self.conv_exp = nn.Conv2d(c_in, mid, 3, stride, 1, bias=False)
        self.bn1 = BatchNormAct2d(mid)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn2 = BatchNormAct2d(c_out, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv_pwl(self.se(self.aa(self.bn1(self.conv_exp(x))))))
        return out + x if self.has_skip else out


class MBConv(nn.Module):  # timm.models._efficientnet_blocks.InvertedResidual
    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = c_in * expansion
        self.has_skip = c_in == c_out and stride == 1
        self.conv_pw = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = BatchNormAct2d(mid)
        self.conv_dw = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = BatchNormAct2d(mid)
        self.aa = nn.Identity()
        self.se = SqueezeExcite(mid, max(1, c_in // 4), act=nn.SiLU)
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = BatchNormAct2d(c_out, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        out = self.bn3(self.conv_pwl(self.se(self.aa(out))))
        return out + x if self.has_skip else out


class EfficientNetV2(nn.Module):  # timm.models.efficientnet.EfficientNet (v2 block table)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(8)
        self.blocks = nn.Sequential(
            nn.Sequential(ConvBnAct(8, 8, 3, 1)),
            nn.Sequential(EdgeResidual(8, 12, 2, 4), EdgeResidual(12, 12, 1, 4)),
            nn.Sequential(MBConv(12, 16, 2, 4), MBConv(16, 16, 1, 4)),
        )
        self.conv_head = nn.Conv2d(16, 48, 1, bias=False)
        self.bn2 = BatchNormAct2d(48)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(48, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn2(self.conv_head(self.blocks(self.bn1(self.conv_stem(x)))))
        return self.classifier(self.global_pool(x).flatten(1))


# ------------------------------------------------------------------- CSPDarkNet (timm)


class DarkConv(nn.Module):  # timm.layers.ConvNormAct with leaky ReLU (cspdarknet)
    def __init__(self, c_in: int, c_out: int, k: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DarkBlock(nn.Module):  # timm.models.cspnet.DarkBlock
    def __init__(self, c: int, mid: int) -> None:
        super().__init__()
        self.conv1 = DarkConv(c, mid, 1)
        self.attn = nn.Identity()
        self.conv2 = DarkConv(mid, c, 3)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_path(self.conv2(self.attn(self.conv1(x)))) + x


class CrossStage(nn.Module):  # timm.models.cspnet.CrossStage
    def __init__(self, c_in: int, c_out: int, depth: int) -> None:
        super().__init__()
        self.conv_down = DarkConv(c_in, c_out, 3, 2)
        self.conv_exp = DarkConv(c_out, 2 * c_out, 1)
        self.blocks = nn.Sequential(*(DarkBlock(c_out, c_out) for _ in range(depth)))
        self.conv_transition_b = DarkConv(c_out, c_out, 1)
        self.conv_transition = DarkConv(2 * c_out, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_exp(self.conv_down(x))
        xs, xb = x.split(x.shape[1] // 2, dim=1)
        xb = self.conv_transition_b(self.blocks(xb))
        return self.conv_transition(torch.cat([xs, xb], dim=1))


class CspDarkNet(nn.Module):  # timm.models.cspnet.CspNet (cspdarknet53 layout, narrowed)
    def __init__(self, widths=(8, 16), depths=(1, 2), classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential()
        self.stem.add_module("conv1", DarkConv(3, 8, 3))
        stages, c = [], 8
        for w, n in zip(widths, depths):
            stages.append(CrossStage(c, w, n))
            c = w
        self.stages = nn.Sequential(*stages)
        self.head = nn.Module()
        self.head.global_pool = nn.AdaptiveAvgPool2d(1)
        self.head.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head.fc(self.head.global_pool(x).flatten(1))


ZOO = {  # name: (build, input shape)
    "mnasnet": (MNASNet, (2, 3, 32, 32)),
    "ghostnet": (GhostNet, (2, 3, 32, 32)),
    "repvgg_deploy": (RepVGG, (2, 3, 32, 32)),
    "seresnext_d": (SEResNeXtD, (2, 3, 32, 32)),
    "efficientnet_v2": (EfficientNetV2, (2, 3, 32, 32)),
    "cspdarknet": (CspDarkNet, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved, in eval mode, and an
    input it accepts."""
    return reference_and_input(*ZOO[name])
