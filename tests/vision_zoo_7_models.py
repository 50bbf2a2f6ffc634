"""Ten more small CNN classifiers written the way torchvision, timm and the papers' repositories
write them (their attribute names, nn.Sequential against named members): test-only reference
models for tests/test_vision_zoo_7.py. None of them was in view when the catalogue was written;
each is narrowed to a few blocks. Reference code, not generated code: the generated file must
match it, or say where it cannot."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input


class CNA(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation: keys 0 (conv), 1 (norm)
    def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=nn.ReLU) -> None:
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


# ---------------------------------------------------------------- MobileNetV2 (torchvision)


class TvInvertedResidual(nn.Module):  # torchvision.models.mobilenetv2.InvertedResidual
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.use_res_connect = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(CNA(c_in, hidden, 1, act=nn.ReLU6))
        layers += [
            CNA(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):  # torchvision.models.mobilenetv2.MobileNetV2, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            CNA(3, 8, 3, 2, act=nn.ReLU6),
            TvInvertedResidual(8, 8, 1, 1),
            TvInvertedResidual(8, 12, 2, 6),
            TvInvertedResidual(12, 12, 1, 6),
            TvInvertedResidual(12, 16, 2, 6),
            CNA(16, 64, 1, act=nn.ReLU6),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


# ------------------------------------------------------------- EfficientNet-B0 (torchvision)


class TvSqueezeExcitation(nn.Module):  # torchvision.ops.misc.SqueezeExcitation (SiLU, sigmoid)
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.SiLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class TvMBConv(nn.Module):  # torchvision.models.efficientnet.MBConv
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        hidden = c_in * expand
        layers: list[nn.Module] = []
        if hidden != c_in:
            layers.append(CNA(c_in, hidden, 1, act=nn.SiLU))
        layers += [
            CNA(hidden, hidden, k, stride, groups=hidden, act=nn.SiLU),
            TvSqueezeExcitation(hidden, max(1, c_in // 4)),
            CNA(hidden, c_out, 1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.Identity()  # StochasticDepth: identity in eval

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return self.stochastic_depth(out) + x if self.use_res_connect else out


class EfficientNetB0(nn.Module):  # torchvision.models.efficientnet.EfficientNet, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            CNA(3, 8, 3, 2, act=nn.SiLU),
            nn.Sequential(TvMBConv(8, 8, 3, 1, 1)),
            nn.Sequential(TvMBConv(8, 12, 3, 2, 6), TvMBConv(12, 12, 3, 1, 6)),
            nn.Sequential(TvMBConv(12, 16, 5, 2, 6)),
            CNA(16, 64, 1, act=nn.SiLU),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2, inplace=True), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# -------------------------------------------------------------------- ResNet-50 (torchvision)


class TvBottleneck(nn.Module):  # torchvision.models.resnet.Bottleneck (stride on the 3x3)
    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet50(nn.Module):  # torchvision.models.resnet.ResNet, four stages, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(TvBottleneck(8, 4), TvBottleneck(16, 4))
        self.layer2 = nn.Sequential(TvBottleneck(16, 8, 2))
        self.layer3 = nn.Sequential(TvBottleneck(32, 8, 2))
        self.layer4 = nn.Sequential(TvBottleneck(32, 16, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---------------------------------------------------------------------- RegNetY (torchvision)


class TvSE(nn.Module):  # torchvision SqueezeExcitation with ReLU / sigmoid (regnet)
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class BottleneckTransform(nn.Sequential):  # torchvision.models.regnet: a, b, se, c
    def __init__(self, c_in: int, c_out: int, stride: int, group_width: int, se: float) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["a"] = CNA(c_in, c_out, 1)
        layers["b"] = CNA(c_out, c_out, 3, stride, groups=c_out // group_width)
        if se:
            layers["se"] = TvSE(c_out, int(round(se * c_in)))
        layers["c"] = CNA(c_out, c_out, 1, act=None)
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):  # torchvision.models.regnet
    def __init__(self, c_in: int, c_out: int, stride: int, group_width: int, se: float) -> None:
        super().__init__()
        self.proj = None
        if c_in != c_out or stride != 1:
            self.proj = CNA(c_in, c_out, 1, stride, act=None)
        self.f = BottleneckTransform(c_in, c_out, stride, group_width, se)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class AnyStage(nn.Sequential):  # torchvision.models.regnet: members `block1-0`, `block1-1`
    def __init__(self, c_in, c_out, depth, group_width, se, index) -> None:
        super().__init__()
        for i in range(depth):
            block = ResBottleneckBlock(
                c_in if i == 0 else c_out, c_out, 2 if i == 0 else 1, group_width, se
            )
            self.add_module(f"block{index}-{i}", block)


class TvRegNet(nn.Module):  # torchvision.models.regnet.RegNet (regnet_y layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = CNA(3, 8, 3, 2)
        self.trunk_output = nn.Sequential(
            OrderedDict(
                block1=AnyStage(8, 16, 1, 8, 0.25, 1),
                block2=AnyStage(16, 32, 2, 8, 0.25, 2),
            )
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(x.flatten(start_dim=1))


# ------------------------------------------------------- ResNet-10-T (timm, deep tiered stem)


class TimmBasicBlock(nn.Module):  # timm.models.resnet.BasicBlock (drop_block, aa identities)
    def __init__(self, c_in: int, c_out: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.drop_block = nn.Identity()
        self.act1 = nn.ReLU(inplace=True)
        self.aa = nn.Identity()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act2 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.aa(self.act1(self.drop_block(self.bn1(self.conv1(x)))))
        x = self.bn2(self.conv2(x))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act2(x + shortcut)


class ResNet10T(nn.Module):  # timm resnet10t: stem_type='deep_tiered', avg_down=True
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 6, 3, 2, 1, bias=False),
            nn.BatchNorm2d(6),
            nn.ReLU(inplace=True),
            nn.Conv2d(6, 8, 3, 1, 1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, 1, 1, bias=False),
        )
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(TimmBasicBlock(16, 16))
        down = nn.Sequential(
            nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False),
            nn.Conv2d(16, 32, 1, bias=False),
            nn.BatchNorm2d(32),
        )
        self.layer2 = nn.Sequential(TimmBasicBlock(16, 32, 2, down))
        self.global_pool = nn.Identity()  # timm SelectAdaptivePool2d (avg, flatten): in forward
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(x.mean((2, 3)))


# ---------------------------------------------------------------------------- DLA (timm)


class DlaBasic(nn.Module):  # timm.models.dla.DlaBasic: forward(x, shortcut)
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor | None = None) -> torch.Tensor:
        shortcut = x if shortcut is None else shortcut
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + shortcut)


class DlaRoot(nn.Module):  # timm.models.dla.DlaRoot: 1x1 conv over the concatenated children
    def __init__(self, c_in: int, c_out: int, residual: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        x = self.bn(self.conv(torch.cat(xs, 1)))
        if self.residual:
            x = x + xs[0]
        return self.relu(x)


class DlaTree(nn.Module):  # timm.models.dla.DlaTree, levels 1 only (two blocks and a root)
    def __init__(self, c_in: int, c_out: int, stride: int, root_dim_extra: int = 0) -> None:
        super().__init__()
        root_dim = 2 * c_out + root_dim_extra
        self.downsample = nn.MaxPool2d(stride, stride) if stride > 1 else nn.Identity()
        self.project = nn.Identity()
        if c_in != c_out:
            self.project = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
            )
        self.tree1 = DlaBasic(c_in, c_out, stride)
        self.tree2 = DlaBasic(c_out, c_out, 1)
        self.root = DlaRoot(root_dim, c_out, residual=False)
        self.level_root = root_dim_extra > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bottom = self.downsample(x)
        shortcut = self.project(bottom)
        children = [bottom] if self.level_root else []
        x1 = self.tree1(x, shortcut)
        x2 = self.tree2(x1)
        return self.root([x2, x1] + children)


class DLA(nn.Module):  # timm.models.dla.DLA (dla34 layout, levels narrowed)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.base_layer = nn.Sequential(
            nn.Conv2d(3, 4, 7, 1, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(inplace=True)
        )
        self.level0 = nn.Sequential(
            nn.Conv2d(4, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(inplace=True)
        )
        self.level1 = nn.Sequential(
            nn.Conv2d(4, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.level2 = DlaTree(8, 16, 2, root_dim_extra=8)
        self.level3 = DlaTree(16, 32, 2, root_dim_extra=16)
        self.fc = nn.Conv2d(32, classes, 1)  # timm DLA: a 1x1 conv head after global pooling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.level1(self.level0(self.base_layer(x)))
        x = self.level3(self.level2(x))
        return self.fc(x.mean((2, 3), keepdim=True)).flatten(1)


# ---------------------------------------------------------------------- Res2Net (timm)


class Bottle2neck(nn.Module):  # timm.models.res2net.Bottle2neck (scale 4, stype by stride)
    def __init__(self, c_in: int, planes: int, stride: int = 1, scale: int = 4) -> None:
        super().__init__()
        width = planes // 2
        self.scale, self.width = scale, width
        self.is_first = stride > 1 or c_in != planes * 4
        outplanes = planes * 4
        self.conv1 = nn.Conv2d(c_in, width * scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, stride, 1, bias=False) for _ in range(scale - 1)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(scale - 1))
        self.pool = nn.AvgPool2d(3, stride, 1) if self.is_first else None
        self.conv3 = nn.Conv2d(width * scale, outplanes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(outplanes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if self.is_first:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, outplanes, 1, stride, bias=False), nn.BatchNorm2d(outplanes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        out = self.relu(self.bn1(self.conv1(x)))
        spx = torch.split(out, self.width, 1)
        spo = []
        sp = spx[0]
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            sp = spx[i] if i == 0 or self.is_first else sp + spx[i]
            sp = self.relu(bn(conv(sp)))
            spo.append(sp)
        if self.pool is not None:
            spo.append(self.pool(spx[-1]))
        else:
            spo.append(spx[-1])
        out = self.bn3(self.conv3(torch.cat(spo, 1)))
        if self.downsample is not None:
            shortcut = self.downsample(x)
        return self.relu(out + shortcut)


class Res2Net(nn.Module):  # timm.models.res2net (a timm ResNet of Bottle2neck blocks)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(Bottle2neck(8, 4), Bottle2neck(16, 4))
        self.layer2 = nn.Sequential(Bottle2neck(16, 8, 2))
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        return self.fc(self.layer2(self.layer1(x)).mean((2, 3)))


# ------------------------------------------------------------------------- ReXNet (timm)


class RexConvNormAct(nn.Module):  # timm ConvNormAct: conv, bn (BatchNormAct2d: act inside)
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act: str | None = "silu") -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = {"silu": nn.SiLU(), "relu6": nn.ReLU6(), None: nn.Identity()}[act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class RexSE(nn.Module):  # timm SEModule with a batch norm between fc1 and its ReLU (rexnet)
    def __init__(self, c: int, rd: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1)
        self.bn = nn.BatchNorm2d(rd)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.act(self.bn(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * torch.sigmoid(self.fc2(s))


class LinearBottleneck(nn.Module):  # timm.models.rexnet.LinearBottleneck
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int, se: bool) -> None:
        super().__init__()
        self.use_shortcut = stride == 1 and c_in <= c_out
        self.in_channels = c_in
        mid = c_in * expand
        self.conv_exp = RexConvNormAct(c_in, mid) if expand != 1 else None
        self.conv_dw = RexConvNormAct(mid, mid, 3, stride, groups=mid, act=None)
        self.se = RexSE(mid, mid // 4) if se else None
        self.act_dw = nn.ReLU6()
        self.conv_pwl = RexConvNormAct(mid, c_out, act=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        if self.conv_exp is not None:
            x = self.conv_exp(x)
        x = self.conv_dw(x)
        if self.se is not None:
            x = self.se(x)
        x = self.conv_pwl(self.act_dw(x))
        if self.use_shortcut:  # the input is added to its own channels only (widths grow)
            x = torch.cat([x[:, : self.in_channels] + shortcut, x[:, self.in_channels :]], 1)
        return x


class ReXNet(nn.Module):  # timm.models.rexnet.RexNet, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = RexConvNormAct(3, 8, 3, 2)
        self.features = nn.Sequential(
            LinearBottleneck(8, 8, 1, 1, False),
            LinearBottleneck(8, 12, 2, 6, False),
            LinearBottleneck(12, 14, 1, 6, True),
            RexConvNormAct(14, 32),
        )
        self.head = ClassifierHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.stem(x)))


class ClassifierHead(nn.Module):  # timm.layers.ClassifierHead: pool, (drop), fc
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean((2, 3)))


# ------------------------------------------------------------------- ESE-VoVNet (timm)


class EffectiveSE(nn.Module):  # timm.layers.EffectiveSEModule: one 1x1 conv, hard sigmoid
    def __init__(self, c: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.hardsigmoid(self.fc(x.mean((2, 3), keepdim=True)))


class OsaBlock(nn.Module):  # timm.models.vovnet.OsaBlock: concat of input and every 3x3
    def __init__(self, c_in: int, mid: int, c_out: int, layers: int, residual: bool) -> None:
        super().__init__()
        self.residual = residual
        self.conv_mid = nn.Sequential(
            *(ConvNormAct(c_in if i == 0 else mid, mid, 3) for i in range(layers))
        )
        self.conv_concat = ConvNormAct(c_in + layers * mid, c_out, 1)
        self.attn = EffectiveSE(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        y = x
        for conv in self.conv_mid:
            y = conv(y)
            outputs.append(y)
        y = self.attn(self.conv_concat(torch.cat(outputs, 1)))
        return y + x if self.residual else y


class ConvNormAct(nn.Module):  # timm.layers.ConvNormAct with ReLU (vovnet)
    def __init__(self, c_in: int, c_out: int, k: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class OsaStage(nn.Module):  # timm.models.vovnet.OsaStage: a ceil-mode max-pool, then blocks
    def __init__(self, c_in, mid, c_out, blocks, downsample: bool) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True) if downsample else None
        self.blocks = nn.Sequential(
            *(OsaBlock(c_in if i == 0 else c_out, mid, c_out, 2, i > 0) for i in range(blocks))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = self.pool(x)
        return self.blocks(x)


class VoVNet(nn.Module):  # timm.models.vovnet.VovNet (ese_vovnet19b_dw-like layout, narrowed)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            ConvNormAct(3, 8, 3, 2), ConvNormAct(8, 8, 3, 1), ConvNormAct(8, 16, 3, 2)
        )
        self.stages = nn.Sequential(
            OsaStage(16, 8, 24, 1, downsample=False), OsaStage(24, 12, 32, 2, downsample=True)
        )
        self.head = ClassifierHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


# ------------------------------------------------------------- MobileNetV1 (paper style)


def mobilenet_v1(classes: int = 5) -> nn.Module:
    """The layout most MobileNetV1 repositories copy: `model` a Sequential of conv_bn/conv_dw
    Sequentials, a 7x7 average pool in forward, then `fc`."""

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

    class MobileNetV1(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = nn.Sequential(
                conv_bn(3, 8, 2), conv_dw(8, 16, 1), conv_dw(16, 32, 2), conv_dw(32, 32, 1)
            )
            self.fc = nn.Linear(32, classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.adaptive_avg_pool2d(self.model(x), 1)
            return self.fc(x.view(-1, 32))

    return MobileNetV1()


ZOO = {  # name: (build, input shape)
    "tv_mobilenet_v2": (MobileNetV2, (2, 3, 32, 32)),
    "tv_efficientnet_b0": (EfficientNetB0, (2, 3, 32, 32)),
    "tv_resnet50": (ResNet50, (2, 3, 64, 64)),
    "tv_regnet_y": (TvRegNet, (2, 3, 32, 32)),
    "timm_resnet10t": (ResNet10T, (2, 3, 32, 32)),
    "timm_dla": (DLA, (2, 3, 32, 32)),
    "timm_res2net": (Res2Net, (2, 3, 32, 32)),
    "timm_rexnet": (ReXNet, (2, 3, 32, 32)),
    "timm_vovnet": (VoVNet, (2, 3, 32, 32)),
    "mobilenet_v1": (mobilenet_v1, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
