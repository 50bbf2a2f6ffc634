"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_15.py (issue 16's held-out measure, session 15): torchvision's
EfficientNetV2 (`features.N` stages of `FusedMBConv` then `MBConv` blocks, each a `block`
Sequential of Conv2dNormActivation slots, batch norm eps 1e-3, SiLU, an SE of `fc1`/`fc2` 1x1
convs squeezed from the block's input width), kuangliu/pytorch-cifar's ShuffleNet (grouped 1x1
convs, a parameter-free channel shuffle, stride-2 units that concatenate an average-pooled
shortcut) and RegNetY (`se1`/`se2` biased convs squeezed from the block's input width),
weiaicunzai/pytorch-cifar100's SE-ResNet (biased convs in a `residual` Sequential that ends in a
ReLU, an SE of `excitation` Linears) and its WideResNet (pre-activation `residual` Sequentials with
a dropout between the convs, a bare-conv shortcut), osmr/imgclsmob's MobileNetV2
(`features.stageN.unitM` LinearBottlenecks, ReLU6, a 7x7 average pool, a bias-free 1x1 conv as the
classifier), Cadene's pretrainedmodels InceptionV4 (`features` Sequential of BasicConv2d with eps
1e-3, Mixed_3a/4a/5a that concatenate pools and convs, 1x7/7x1 convs, average pools that exclude
padding, a pool as wide as the map), fastai's XResNet-50 (one flat Sequential, ConvLayer
Sequentials conv/bn/act, `convpath`/`idpath`/`act` ResBlocks, a ceil-mode average pool in the
strided identity path), d2l's GoogLeNet (`b1`..`b5` Sequentials of numbered slots, `p1_1`..`p4_2`
Inceptions with functional ReLUs, biased convs, no norm) and huawei-noah's original GhostNet
(`primary_conv`/`cheap_operation` Sequentials with empty Sequentials for "no ReLU", a slice to the
output width, an SE of Linears gated by a clamp, a BatchNorm1d in the classifier).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# ------------------------------------------------------------------ torchvision EfficientNetV2


class TvConv2dNormActivation(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation
    def __init__(
        self,
        c_in,
        c_out,
        kernel_size=3,
        stride=1,
        groups=1,
        norm_layer=None,
        activation_layer=nn.ReLU,
    ) -> None:
        padding = (kernel_size - 1) // 2
        layers = [
            nn.Conv2d(
                c_in, c_out, kernel_size, stride, padding, groups=groups, bias=norm_layer is None
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(c_out))
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)


class TvSqueezeExcitation(nn.Module):  # torchvision.ops.misc.SqueezeExcitation
    def __init__(self, channels: int, squeeze: int, activation=nn.ReLU) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = activation()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.avgpool(x)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale) * x


class TvFusedMBConv(nn.Module):  # torchvision.models.efficientnet.FusedMBConv
    def __init__(self, expand: int, k: int, stride: int, c_in: int, c_out: int, norm) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        expanded = c_in * expand
        if expanded != c_in:
            layers.append(
                TvConv2dNormActivation(
                    c_in, expanded, k, stride, norm_layer=norm, activation_layer=nn.SiLU
                )
            )
            layers.append(
                TvConv2dNormActivation(expanded, c_out, 1, norm_layer=norm, activation_layer=None)
            )
        else:
            layers.append(
                TvConv2dNormActivation(
                    c_in, c_out, k, stride, norm_layer=norm, activation_layer=nn.SiLU
                )
            )
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.Identity()  # StochasticDepth("row"): identity in eval mode
        self.out_channels = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class TvMBConv(nn.Module):  # torchvision.models.efficientnet.MBConv
    def __init__(self, expand: int, k: int, stride: int, c_in: int, c_out: int, norm) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        expanded = c_in * expand
        layers: list[nn.Module] = []
        if expanded != c_in:
            layers.append(
                TvConv2dNormActivation(c_in, expanded, 1, norm_layer=norm, activation_layer=nn.SiLU)
            )
        layers.append(
            TvConv2dNormActivation(
                expanded,
                expanded,
                k,
                stride,
                groups=expanded,
                norm_layer=norm,
                activation_layer=nn.SiLU,
            )
        )
        layers.append(
            TvSqueezeExcitation(
                expanded, max(1, c_in // 4), activation=partial(nn.SiLU, inplace=True)
            )
        )
        layers.append(
            TvConv2dNormActivation(expanded, c_out, 1, norm_layer=norm, activation_layer=None)
        )
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = nn.Identity()
        self.out_channels = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class TvEfficientNetV2(nn.Module):  # torchvision efficientnet_v2_s layout, narrowed (3 stages)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=1e-03)
        # (block, expand, kernel, stride, in, out, layers), as efficientnet_v2_s's table
        table = [
            (TvFusedMBConv, 1, 3, 1, 8, 8, 1),
            (TvFusedMBConv, 4, 3, 2, 8, 16, 2),
            (TvMBConv, 4, 3, 2, 16, 24, 2),
        ]
        layers: list[nn.Module] = [
            TvConv2dNormActivation(3, 8, 3, 2, norm_layer=norm, activation_layer=nn.SiLU)
        ]
        for block, expand, k, stride, c_in, c_out, repeats in table:
            stage = []
            for i in range(repeats):
                stage.append(
                    block(
                        expand, k, stride if i == 0 else 1, c_in if i == 0 else c_out, c_out, norm
                    )
                )
            layers.append(nn.Sequential(*stage))
        layers.append(TvConv2dNormActivation(24, 64, 1, norm_layer=norm, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# ------------------------------------------------------------ kuangliu/pytorch-cifar ShuffleNet


class KlShuffleBlock(nn.Module):  # pytorch-cifar models/shufflenet.py ShuffleBlock
    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size()
        g = self.groups
        return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class KlShuffleBottleneck(nn.Module):  # pytorch-cifar models/shufflenet.py Bottleneck
    def __init__(self, in_planes: int, out_planes: int, stride: int, groups: int) -> None:
        super().__init__()
        self.stride = stride
        mid_planes = int(out_planes / 4)
        g = 1 if in_planes == 24 else groups
        self.conv1 = nn.Conv2d(in_planes, mid_planes, kernel_size=1, groups=g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_planes)
        self.shuffle1 = KlShuffleBlock(groups=g)
        self.conv2 = nn.Conv2d(
            mid_planes,
            mid_planes,
            kernel_size=3,
            stride=stride,
            padding=1,
            groups=mid_planes,
            bias=False,
        )
        self.bn2 = nn.BatchNorm2d(mid_planes)
        self.conv3 = nn.Conv2d(mid_planes, out_planes, kernel_size=1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.shuffle1(out)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        res = self.shortcut(x)
        out = F.relu(torch.cat([out, res], 1)) if self.stride == 2 else F.relu(out + res)
        return out


class KlShuffleNet(nn.Module):  # pytorch-cifar ShuffleNetG2, widths narrowed (200/400/800 there)
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        out_planes, num_blocks, groups = [40, 80, 160], [2, 1, 1], 2
        self.conv1 = nn.Conv2d(3, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_planes = 24
        self.layer1 = self._make_layer(out_planes[0], num_blocks[0], groups)
        self.layer2 = self._make_layer(out_planes[1], num_blocks[1], groups)
        self.layer3 = self._make_layer(out_planes[2], num_blocks[2], groups)
        self.linear = nn.Linear(out_planes[2], classes)

    def _make_layer(self, out_planes: int, num_blocks: int, groups: int) -> nn.Sequential:
        layers = []
        for i in range(num_blocks):
            stride = 2 if i == 0 else 1
            cat_planes = self.in_planes if i == 0 else 0
            layers.append(
                KlShuffleBottleneck(self.in_planes, out_planes - cat_planes, stride, groups)
            )
            self.in_planes = out_planes
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


# -------------------------------------------------------------- kuangliu/pytorch-cifar RegNetY


class KlRegSE(nn.Module):  # pytorch-cifar models/regnet.py SE
    def __init__(self, in_planes: int, se_planes: int) -> None:
        super().__init__()
        self.se1 = nn.Conv2d(in_planes, se_planes, kernel_size=1, bias=True)
        self.se2 = nn.Conv2d(se_planes, in_planes, kernel_size=1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.adaptive_avg_pool2d(x, (1, 1))
        out = F.relu(self.se1(out))
        out = self.se2(out).sigmoid()
        return x * out


class KlRegBlock(nn.Module):  # pytorch-cifar models/regnet.py Block
    def __init__(self, w_in, w_out, stride, group_width, bottleneck_ratio, se_ratio) -> None:
        super().__init__()
        w_b = int(round(w_out * bottleneck_ratio))
        self.conv1 = nn.Conv2d(w_in, w_b, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w_b)
        num_groups = w_b // group_width
        self.conv2 = nn.Conv2d(
            w_b, w_b, kernel_size=3, stride=stride, padding=1, groups=num_groups, bias=False
        )
        self.bn2 = nn.BatchNorm2d(w_b)
        self.with_se = se_ratio > 0
        if self.with_se:
            w_se = int(round(w_in * se_ratio))
            self.se = KlRegSE(w_b, w_se)
        self.conv3 = nn.Conv2d(w_b, w_out, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(w_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or w_in != w_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(w_in, w_out, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(w_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        if self.with_se:
            out = self.se(out)
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class KlRegNet(nn.Module):  # pytorch-cifar RegNetY_400MF layout, narrowed
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.cfg = {
            "depths": [1, 2, 1, 1],
            "widths": [16, 24, 32, 48],
            "strides": [1, 2, 2, 2],
            "group_width": 8,
            "bottleneck_ratio": 1,
            "se_ratio": 0.25,
        }
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(0)
        self.layer2 = self._make_layer(1)
        self.layer3 = self._make_layer(2)
        self.layer4 = self._make_layer(3)
        self.linear = nn.Linear(self.cfg["widths"][-1], classes)

    def _make_layer(self, idx: int) -> nn.Sequential:
        cfg = self.cfg
        layers = []
        for i in range(cfg["depths"][idx]):
            s = cfg["strides"][idx] if i == 0 else 1
            layers.append(
                KlRegBlock(
                    self.in_planes,
                    cfg["widths"][idx],
                    s,
                    cfg["group_width"],
                    cfg["bottleneck_ratio"],
                    cfg["se_ratio"],
                )
            )
            self.in_planes = cfg["widths"][idx]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = out.view(out.size(0), -1)
        return self.linear(out)


# ---------------------------------------------------- weiaicunzai/pytorch-cifar100 SE-ResNet


class Cifar100BasicResidualSEBlock(nn.Module):  # pytorch-cifar100 models/senet.py
    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int, r: int = 16) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels * self.expansion, 3, padding=1),
            nn.BatchNorm2d(out_channels * self.expansion),
            nn.ReLU(inplace=True),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels * self.expansion:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels * self.expansion, 1, stride=stride),
                nn.BatchNorm2d(out_channels * self.expansion),
            )
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.excitation = nn.Sequential(
            nn.Linear(out_channels * self.expansion, out_channels * self.expansion // r),
            nn.ReLU(inplace=True),
            nn.Linear(out_channels * self.expansion // r, out_channels * self.expansion),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.shortcut(x)
        residual = self.residual(x)
        squeeze = self.squeeze(residual)
        squeeze = squeeze.view(squeeze.size(0), -1)
        excitation = self.excitation(squeeze)
        excitation = excitation.view(residual.size(0), residual.size(1), 1, 1)
        x = residual * excitation.expand_as(residual) + shortcut
        return F.relu(x)


class Cifar100SEResNet(nn.Module):  # pytorch-cifar100 SEResNet (seresnet18 layout), widths / 4
    def __init__(self, classes: int = 100) -> None:
        super().__init__()
        block = Cifar100BasicResidualSEBlock
        self.in_channels = 16
        self.pre = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True)
        )
        self.stage1 = self._make_stage(block, 2, 16, 1)
        self.stage2 = self._make_stage(block, 1, 32, 2)
        self.stage3 = self._make_stage(block, 1, 64, 2)
        self.stage4 = self._make_stage(block, 1, 128, 2)
        self.linear = nn.Linear(self.in_channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        x = self.stage1(x)
        x = self.stage2(x)
        x = self.stage3(x)
        x = self.stage4(x)
        x = F.adaptive_avg_pool2d(x, 1)
        x = x.view(x.size(0), -1)
        return self.linear(x)

    def _make_stage(self, block, num: int, out_channels: int, stride: int) -> nn.Sequential:
        layers = [block(self.in_channels, out_channels, stride)]
        self.in_channels = out_channels * block.expansion
        while num - 1:
            layers.append(block(self.in_channels, out_channels, 1))
            num -= 1
        return nn.Sequential(*layers)


# -------------------------------------------------- weiaicunzai/pytorch-cifar100 WideResNet


class Cifar100WideBasic(nn.Module):  # pytorch-cifar100 models/wideresidual.py WideBasic
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Dropout(),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1),
        )
        self.shortcut = nn.Sequential()
        if in_channels != out_channels or stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.residual(x)
        shortcut = self.shortcut(x)
        return residual + shortcut


class Cifar100WideResNet(nn.Module):  # pytorch-cifar100 WideResNet(depth=16, k=2), base 8
    def __init__(self, classes: int = 100, depth: int = 16, widen_factor: int = 2) -> None:
        super().__init__()
        self.depth = depth
        k = widen_factor
        n = int((depth - 4) / 6)
        self.in_channels = 8
        self.init_conv = nn.Conv2d(3, self.in_channels, 3, 1, padding=1)
        self.conv2 = self._make_layer(Cifar100WideBasic, 8 * k, n, 1)
        self.conv3 = self._make_layer(Cifar100WideBasic, 16 * k, n, 2)
        self.conv4 = self._make_layer(Cifar100WideBasic, 32 * k, n, 2)
        self.bn = nn.BatchNorm2d(32 * k)
        self.relu = nn.ReLU(inplace=True)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(32 * k, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.init_conv(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.conv4(x)
        x = self.bn(x)
        x = self.relu(x)
        x = self.avg_pool(x)
        x = x.view(x.size(0), -1)
        return self.linear(x)

    def _make_layer(self, block, out_channels: int, num_blocks: int, stride: int):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_channels, out_channels, stride))
            self.in_channels = out_channels
        return nn.Sequential(*layers)


# ------------------------------------------------------------- osmr/imgclsmob MobileNetV2


class OsmrConvBlock(nn.Module):  # imgclsmob pytorchcv/models/common.py ConvBlock
    def __init__(self, c_in, c_out, k, stride=1, padding=0, groups=1, activation=True) -> None:
        super().__init__()
        self.activate = activation
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5)
        if self.activate:
            self.activ = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        x = self.bn(x)
        if self.activate:
            x = self.activ(x)
        return x


class OsmrLinearBottleneck(nn.Module):  # imgclsmob mobilenetv2.py LinearBottleneck
    def __init__(self, c_in: int, c_out: int, stride: int, expansion: bool) -> None:
        super().__init__()
        self.residual = (c_in == c_out) and (stride == 1)
        mid = c_in * 6 if expansion else c_in
        self.use_exp_conv = expansion  # remove_exp_conv=False
        if self.use_exp_conv:
            self.conv1 = OsmrConvBlock(c_in, mid, 1)  # conv1x1_block(activation="relu6")
        self.conv2 = OsmrConvBlock(mid, mid, 3, stride, 1, groups=mid)  # dwconv3x3_block
        self.conv3 = OsmrConvBlock(mid, c_out, 1, activation=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.residual:
            identity = x
        if self.use_exp_conv:
            x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        if self.residual:
            x = x + identity
        return x


class OsmrMobileNetV2(nn.Module):  # imgclsmob mobilenetv2.py MobileNetV2, narrowed (4 stages)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        channels = [[8], [12, 12], [16, 16], [24]]
        init_block_channels, final_block_channels = 8, 64
        self.features = nn.Sequential()
        self.features.add_module("init_block", OsmrConvBlock(3, init_block_channels, 3, 2, 1))
        c_in = init_block_channels
        for i, per_stage in enumerate(channels):
            stage = nn.Sequential()
            for j, c_out in enumerate(per_stage):
                stride = 2 if (j == 0) and (i != 0) else 1
                expansion = (i != 0) or (j != 0)
                stage.add_module(
                    f"unit{j + 1}", OsmrLinearBottleneck(c_in, c_out, stride, expansion)
                )
                c_in = c_out
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("final_block", OsmrConvBlock(c_in, final_block_channels, 1))
        self.features.add_module("final_pool", nn.AvgPool2d(kernel_size=7, stride=1))
        self.output = nn.Conv2d(final_block_channels, classes, 1, bias=False)  # conv1x1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.output(x)
        return x.view(x.size(0), -1)


# ------------------------------------------------------------- Cadene pretrainedmodels InceptionV4


class CadeneBasicConv2d(nn.Module):  # pretrainedmodels/models/inceptionv4.py BasicConv2d
    def __init__(self, c_in, c_out, kernel_size, stride, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            c_in, c_out, kernel_size=kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bn = nn.BatchNorm2d(c_out, eps=0.001, momentum=0.1, affine=True)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class CadeneMixed3a(nn.Module):  # inceptionv4.py Mixed_3a (64 -> 64 + 96 there)
    def __init__(self) -> None:
        super().__init__()
        self.maxpool = nn.MaxPool2d(3, stride=2)
        self.conv = CadeneBasicConv2d(8, 12, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.maxpool(x), self.conv(x)), 1)


class CadeneMixed4a(nn.Module):  # inceptionv4.py Mixed_4a
    def __init__(self) -> None:
        super().__init__()
        self.branch0 = nn.Sequential(
            CadeneBasicConv2d(20, 8, kernel_size=1, stride=1),
            CadeneBasicConv2d(8, 12, kernel_size=3, stride=1),
        )
        self.branch1 = nn.Sequential(
            CadeneBasicConv2d(20, 8, kernel_size=1, stride=1),
            CadeneBasicConv2d(8, 8, kernel_size=(1, 7), stride=1, padding=(0, 3)),
            CadeneBasicConv2d(8, 8, kernel_size=(7, 1), stride=1, padding=(3, 0)),
            CadeneBasicConv2d(8, 12, kernel_size=(3, 3), stride=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x)), 1)


class CadeneMixed5a(nn.Module):  # inceptionv4.py Mixed_5a
    def __init__(self) -> None:
        super().__init__()
        self.conv = CadeneBasicConv2d(24, 24, kernel_size=3, stride=2)
        self.maxpool = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.conv(x), self.maxpool(x)), 1)


class CadeneInceptionA(nn.Module):  # inceptionv4.py Inception_A (384 -> 4 x 96 there)
    def __init__(self) -> None:
        super().__init__()
        self.branch0 = CadeneBasicConv2d(48, 12, kernel_size=1, stride=1)
        self.branch1 = nn.Sequential(
            CadeneBasicConv2d(48, 8, kernel_size=1, stride=1),
            CadeneBasicConv2d(8, 12, kernel_size=3, stride=1, padding=1),
        )
        self.branch2 = nn.Sequential(
            CadeneBasicConv2d(48, 8, kernel_size=1, stride=1),
            CadeneBasicConv2d(8, 12, kernel_size=3, stride=1, padding=1),
            CadeneBasicConv2d(12, 12, kernel_size=3, stride=1, padding=1),
        )
        self.branch3 = nn.Sequential(
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
            CadeneBasicConv2d(48, 12, kernel_size=1, stride=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = self.branch0(x)
        x1 = self.branch1(x)
        x2 = self.branch2(x)
        x3 = self.branch3(x)
        return torch.cat((x0, x1, x2, x3), 1)


class CadeneReductionA(nn.Module):  # inceptionv4.py Reduction_A
    def __init__(self) -> None:
        super().__init__()
        self.branch0 = CadeneBasicConv2d(48, 48, kernel_size=3, stride=2)
        self.branch1 = nn.Sequential(
            CadeneBasicConv2d(48, 24, kernel_size=1, stride=1),
            CadeneBasicConv2d(24, 28, kernel_size=3, stride=1, padding=1),
            CadeneBasicConv2d(28, 32, kernel_size=3, stride=2),
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)


class CadeneInceptionV4(nn.Module):  # pretrainedmodels InceptionV4, widths / 8, cut after Red. A
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            CadeneBasicConv2d(3, 4, kernel_size=3, stride=2),
            CadeneBasicConv2d(4, 4, kernel_size=3, stride=1),
            CadeneBasicConv2d(4, 8, kernel_size=3, stride=1, padding=1),
            CadeneMixed3a(),
            CadeneMixed4a(),
            CadeneMixed5a(),
            CadeneInceptionA(),
            CadeneInceptionA(),
            CadeneReductionA(),
        )
        self.last_linear = nn.Linear(128, classes)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        adaptive_avg_pool_width = features.shape[2]
        x = F.avg_pool2d(features, kernel_size=adaptive_avg_pool_width)
        x = x.view(x.size(0), -1)
        return self.last_linear(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.features(x))


# ---------------------------------------------------------------------------- fastai XResNet


class FastaiConvLayer(nn.Sequential):  # fastai.layers.ConvLayer (bn_1st): conv, bn, act
    def __init__(self, ni: int, nf: int, ks: int = 3, stride: int = 1, act: bool = True) -> None:
        layers = [
            nn.Conv2d(ni, nf, kernel_size=ks, stride=stride, padding=(ks - 1) // 2, bias=False),
            nn.BatchNorm2d(nf),
        ]
        if act:
            layers.append(nn.ReLU())
        super().__init__(*layers)


class FastaiResBlock(nn.Module):  # fastai.layers.ResBlock (expansion 4, pool_first)
    def __init__(self, expansion: int, ni: int, nf: int, stride: int = 1) -> None:
        super().__init__()
        nh = nf
        nf, ni = nf * expansion, ni * expansion
        self.convpath = nn.Sequential(
            FastaiConvLayer(ni, nh, 1),
            FastaiConvLayer(nh, nh, 3, stride=stride),
            FastaiConvLayer(nh, nf, 1, act=False),  # NormType.BatchZero, act_cls=None
        )
        idpath: list[nn.Module] = []
        if ni != nf:
            idpath.append(FastaiConvLayer(ni, nf, 1, act=False))
        if stride != 1:
            idpath.insert(0, nn.AvgPool2d(stride, ceil_mode=True))  # AvgPool(ks=stride)
        self.idpath = nn.Sequential(*idpath)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.convpath(x) + self.idpath(x))


class FastaiXResNet(nn.Sequential):  # fastai.vision.models.xresnet.XResNet (xresnet50), / 8
    def __init__(self, classes: int = 5, layers=(1, 1, 1, 1), expansion: int = 4) -> None:
        stem_szs = [3, 4, 4, 8]
        stem = [
            FastaiConvLayer(stem_szs[i], stem_szs[i + 1], 3, stride=2 if i == 0 else 1)
            for i in range(3)
        ]
        block_szs = [8 // expansion, 8, 16, 32, 64]
        blocks = [
            nn.Sequential(
                *[
                    FastaiResBlock(
                        expansion,
                        block_szs[i] if j == 0 else block_szs[i + 1],
                        block_szs[i + 1],
                        stride=(1 if i == 0 else 2) if j == 0 else 1,
                    )
                    for j in range(n)
                ]
            )
            for i, n in enumerate(layers)
        ]
        super().__init__(
            *stem,
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            *blocks,
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.0),
            nn.Linear(block_szs[-1] * expansion, classes),
        )


# ----------------------------------------------------------------------------- d2l GoogLeNet


class D2lInception(nn.Module):  # d2l chapter_convolutional-modern/googlenet.md Inception
    def __init__(self, in_channels: int, c1: int, c2, c3, c4: int) -> None:
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def d2l_googlenet() -> nn.Module:  # d2l's `net`, widths / 8, one Inception per stage, 1 channel
    b1 = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b2 = nn.Sequential(
        nn.Conv2d(8, 8, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(8, 24, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b3 = nn.Sequential(
        D2lInception(24, 8, (12, 16), (2, 4), 4), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    )
    b4 = nn.Sequential(
        D2lInception(32, 24, (12, 26), (2, 6), 8), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    )
    b5 = nn.Sequential(
        D2lInception(64, 32, (20, 40), (4, 16), 16), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten()
    )
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(104, 10))


# -------------------------------------------------------------- huawei-noah GhostNet (original)


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class HwSELayer(nn.Module):  # ghostnet.pytorch ghost_net.py SELayer
    def __init__(self, channel: int, reduction: int = 4) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        y = torch.clamp(y, 0, 1)
        return x * y


def _hw_depthwise_conv(
    inp: int, oup: int, kernel_size: int = 3, stride: int = 1, relu: bool = False
) -> nn.Sequential:  # ghost_net.py depthwise_conv
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel_size, stride, kernel_size // 2, groups=inp, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True) if relu else nn.Sequential(),
    )


class HwGhostModule(nn.Module):  # ghost_net.py GhostModule
    def __init__(self, inp, oup, kernel_size=1, ratio=2, dw_size=3, stride=1, relu=True) -> None:
        super().__init__()
        self.oup = oup
        init_channels = math.ceil(oup / ratio)
        new_channels = init_channels * (ratio - 1)
        self.primary_conv = nn.Sequential(
            nn.Conv2d(inp, init_channels, kernel_size, stride, kernel_size // 2, bias=False),
            nn.BatchNorm2d(init_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(
                init_channels,
                new_channels,
                dw_size,
                1,
                dw_size // 2,
                groups=init_channels,
                bias=False,
            ),
            nn.BatchNorm2d(new_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        out = torch.cat([x1, x2], dim=1)
        return out[:, : self.oup, :, :]


class HwGhostBottleneck(nn.Module):  # ghost_net.py GhostBottleneck
    def __init__(self, inp, hidden_dim, oup, kernel_size, stride, use_se) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            HwGhostModule(inp, hidden_dim, kernel_size=1, relu=True),
            (
                _hw_depthwise_conv(hidden_dim, hidden_dim, kernel_size, stride, relu=False)
                if stride == 2
                else nn.Sequential()
            ),
            HwSELayer(hidden_dim) if use_se else nn.Sequential(),
            HwGhostModule(hidden_dim, oup, kernel_size=1, relu=False),
        )
        if stride == 1 and inp == oup:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                _hw_depthwise_conv(inp, inp, 3, stride, relu=False),
                nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.shortcut(x)


class HwGhostNet(nn.Module):  # ghost_net.py GhostNet (width_mult 0.5), cfgs and head narrowed
    def __init__(self, classes: int = 5, width_mult: float = 0.5) -> None:
        super().__init__()
        self.cfgs = [[3, 16, 16, 0, 1], [3, 48, 24, 0, 2], [3, 72, 24, 0, 1], [5, 72, 40, 1, 2]]
        output_channel = _make_divisible(16 * width_mult, 4)
        layers = [
            nn.Sequential(
                nn.Conv2d(3, output_channel, 3, 2, 1, bias=False),
                nn.BatchNorm2d(output_channel),
                nn.ReLU(inplace=True),
            )
        ]
        input_channel = output_channel
        for k, exp_size, c, use_se, s in self.cfgs:
            output_channel = _make_divisible(c * width_mult, 4)
            hidden_channel = _make_divisible(exp_size * width_mult, 4)
            layers.append(
                HwGhostBottleneck(input_channel, hidden_channel, output_channel, k, s, use_se)
            )
            input_channel = output_channel
        self.features = nn.Sequential(*layers)
        output_channel = _make_divisible(exp_size * width_mult, 4)
        self.squeeze = nn.Sequential(
            nn.Conv2d(input_channel, output_channel, 1, 1, 0, bias=False),
            nn.BatchNorm2d(output_channel),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        input_channel, output_channel = output_channel, 64  # 1280 there
        self.classifier = nn.Sequential(
            nn.Linear(input_channel, output_channel, bias=False),
            nn.BatchNorm1d(output_channel),
            nn.ReLU(inplace=True),
            nn.Dropout(0.2),
            nn.Linear(output_channel, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.squeeze(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


ZOO = {  # name: (build, input shape)
    "tv_efficientnet_v2": (TvEfficientNetV2, (2, 3, 32, 32)),
    "kuangliu_shufflenet": (KlShuffleNet, (2, 3, 32, 32)),
    "kuangliu_regnety": (KlRegNet, (2, 3, 32, 32)),
    "cifar100_seresnet": (Cifar100SEResNet, (2, 3, 32, 32)),
    "cifar100_wideresnet": (Cifar100WideResNet, (2, 3, 32, 32)),
    "osmr_mobilenetv2": (OsmrMobileNetV2, (2, 3, 112, 112)),
    "cadene_inceptionv4": (CadeneInceptionV4, (2, 3, 75, 75)),
    "fastai_xresnet50": (FastaiXResNet, (2, 3, 64, 64)),
    "d2l_googlenet": (d2l_googlenet, (2, 1, 96, 96)),
    "huawei_ghostnet": (HwGhostNet, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
