"""Small vision classifiers written the way the two best-known vision zoos write them
(torchvision-style and timm-style key names): test-only reference models for
tests/test_vision_zoo_more.py. Reference code, not generated code: the generated file must match
it, or say where it cannot."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# ----------------------------------------------------------------------------- DenseNet


class _DenseLayer(nn.Module):  # torchvision.models.densenet
    def __init__(self, c_in: int, growth: int, bn_size: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class _DenseBlock(nn.ModuleDict):
    def __init__(self, layers: int, c_in: int, growth: int, bn_size: int) -> None:
        super().__init__()
        for i in range(layers):
            self.add_module(f"denselayer{i + 1}", _DenseLayer(c_in + i * growth, growth, bn_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(c_in)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)


class DenseNet(nn.Module):
    def __init__(self, growth=4, blocks=(2, 2), init=8, bn_size=2, classes=5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                conv0=nn.Conv2d(3, init, 7, 2, 3, bias=False),
                norm0=nn.BatchNorm2d(init),
                relu0=nn.ReLU(inplace=True),
                pool0=nn.MaxPool2d(3, 2, 1),
            )
        )
        c = init
        for i, n in enumerate(blocks):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(n, c, growth, bn_size))
            c += n * growth
            if i != len(blocks) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(c, c // 2))
                c //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(c))
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


# --------------------------------------------------------------------------- SqueezeNet


class Fire(nn.Module):  # torchvision.models.squeezenet
    def __init__(self, c_in: int, squeeze: int, e1: int, e3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(c_in, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


class SqueezeNet(nn.Module):  # version 1.1, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(16, 4, 8, 8),
            Fire(16, 4, 8, 8),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(16, 8, 16, 16),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Conv2d(32, classes, 1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


# ------------------------------------------------------------------------- ShuffleNetV2


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(b, c, h, w)


class ShuffleResidual(nn.Module):  # torchvision.models.shufflenetv2.InvertedResidual
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        b = c_out // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False),
                nn.BatchNorm2d(c_in),
                nn.Conv2d(c_in, b, 1, bias=False),
                nn.BatchNorm2d(b),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(c_in if stride > 1 else b, b, 1, bias=False),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
            nn.Conv2d(b, b, 3, stride, 1, groups=b, bias=False),
            nn.BatchNorm2d(b),
            nn.Conv2d(b, b, 1, bias=False),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.stage2 = nn.Sequential(ShuffleResidual(8, 16, 2), ShuffleResidual(16, 16, 1))
        self.stage3 = nn.Sequential(ShuffleResidual(16, 32, 2), ShuffleResidual(32, 32, 1))
        self.conv5 = nn.Sequential(
            nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage3(self.stage2(x)))
        return self.fc(x.mean([2, 3]))


# ---------------------------------------------------------------------------- GoogLeNet


class BasicConv2d(nn.Module):  # torchvision.models.googlenet
    def __init__(self, c_in: int, c_out: int, **kw) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kw)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    def __init__(self, c_in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(c_in, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(c_in, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(c_in, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv2d(c_in, pool_proj, kernel_size=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, 1)


class GoogLeNet(nn.Module):  # no auxiliary heads, no input transform
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = BasicConv2d(3, 16, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = BasicConv2d(16, 16, kernel_size=1)
        self.conv3 = BasicConv2d(16, 24, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception3a = Inception(24, 8, 8, 12, 4, 6, 6)
        self.inception3b = Inception(32, 12, 8, 16, 4, 8, 8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(44, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.inception3b(self.inception3a(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


# ---------------------------------------------------------------------------- MobileNetV3


class Conv2dNormActivation(nn.Sequential):  # torchvision.ops.misc
    def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=nn.Hardswish) -> None:
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, eps=0.001, momentum=0.01),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):  # torchvision.ops.misc, hard-sigmoid scale
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return s * x


class InvertedResidualV3(nn.Module):  # torchvision.models.mobilenetv3
    def __init__(self, c_in, k, expanded, c_out, use_se, act, stride) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        if expanded != c_in:
            layers.append(Conv2dNormActivation(c_in, expanded, 1, act=act))
        layers.append(Conv2dNormActivation(expanded, expanded, k, stride, expanded, act=act))
        if use_se:
            layers.append(SqueezeExcitation(expanded, max(8, expanded // 4)))
        layers.append(Conv2dNormActivation(expanded, c_out, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return out + x if self.use_res_connect else out


class MobileNetV3(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Conv2dNormActivation(3, 8, 3, 2),
            InvertedResidualV3(8, 3, 8, 8, True, nn.ReLU, 2),
            InvertedResidualV3(8, 3, 24, 12, False, nn.ReLU, 2),
            InvertedResidualV3(12, 3, 36, 12, False, nn.ReLU, 1),
            InvertedResidualV3(12, 5, 48, 16, True, nn.Hardswish, 2),
            Conv2dNormActivation(16, 48, 1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(48, 64), nn.Hardswish(inplace=True), nn.Dropout(0.2), nn.Linear(64, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


# ---------------------------------------------------------------------------- MLP-Mixer


class Mlp(nn.Module):  # timm.layers.Mlp
    def __init__(self, c_in: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(c_in, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(0.0)
        self.fc2 = nn.Linear(hidden, c_in)
        self.drop2 = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class MixerBlock(nn.Module):  # timm.models.mlp_mixer
    def __init__(self, dim: int, seq_len: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_tokens = Mlp(seq_len, seq_len * 2)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_channels = Mlp(dim, dim * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))


class PatchEmbed(nn.Module):  # timm.layers.PatchEmbed
    def __init__(self, patch: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.norm = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class MlpMixer(nn.Module):
    def __init__(self, image=16, patch=4, dim=16, depth=2, classes=5) -> None:
        super().__init__()
        self.stem = PatchEmbed(patch, dim)
        self.blocks = nn.Sequential(*(MixerBlock(dim, (image // patch) ** 2) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.blocks(self.stem(x)))
        return self.head(x.mean(dim=1))


# ---------------------------------------------------------------------------------- VGG


class VGG(nn.Module):  # torchvision.models.vgg, with batch norm, narrowed
    # (the configuration ends in a max-pool, as each of torchvision's cfgs A, B, D, E does)
    def __init__(self, cfg=(8, "M", 16, "M", 16, "M"), classes: int = 5, hidden: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(c * 49, hidden),
            nn.ReLU(True),
            nn.Dropout(0.5),
            nn.Linear(hidden, hidden),
            nn.ReLU(True),
            nn.Dropout(0.5),
            nn.Linear(hidden, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


# ------------------------------------------------------------------ ResNeXt / Wide ResNet


class Bottleneck(nn.Module):  # torchvision.models.resnet
    expansion = 4

    def __init__(self, c_in, planes, stride=1, downsample=None, groups=1, base_width=64) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):  # torchvision.models.resnet
    def __init__(self, layers=(1, 2), groups=1, width_per_group=64, classes=5) -> None:
        super().__init__()
        self.inplanes = 8
        self.groups, self.base_width = groups, width_per_group
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(4, layers[0])
        self.layer2 = self._make_layer(8, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, classes)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [
            Bottleneck(self.inplanes, planes, stride, downsample, self.groups, self.base_width)
        ]
        self.inplanes = planes * 4
        for _ in range(1, blocks):
            layers.append(
                Bottleneck(self.inplanes, planes, groups=self.groups, base_width=self.base_width)
            )
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ------------------------------------------------------------------------- RegNetY (timm)


class ConvNormAct(nn.Module):  # timm.layers.ConvNormAct
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class SEModule(nn.Module):  # timm.layers.SEModule (regnet: fc1/fc2 1x1 convs, sigmoid)
    def __init__(self, c: int, rd: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(self.act(self.fc1(s))))


class RegBottleneck(nn.Module):  # timm.models.regnet.Bottleneck
    def __init__(self, c_in, c_out, stride, group_size, se_ratio) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(c_in, c_out)
        self.conv2 = ConvNormAct(c_out, c_out, 3, stride, groups=c_out // group_size)
        self.se = SEModule(c_out, int(round(c_in * se_ratio))) if se_ratio else nn.Identity()
        self.conv3 = ConvNormAct(c_out, c_out, act=False)
        self.act3 = nn.ReLU()
        self.downsample = (
            ConvNormAct(c_in, c_out, 1, stride, act=False)
            if c_in != c_out or stride != 1
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv3(self.se(self.conv2(self.conv1(x))))
        return self.act3(x + self.downsample(shortcut))


class RegStage(nn.Module):  # timm.models.regnet.RegStage: b1, b2, ... members
    def __init__(self, depth, c_in, c_out, group_size, se_ratio) -> None:
        super().__init__()
        for i in range(depth):
            block = RegBottleneck(
                c_in if i == 0 else c_out, c_out, 2 if i == 0 else 1, group_size, se_ratio
            )
            self.add_module(f"b{i + 1}", block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.children():
            x = block(x)
        return x


class ClassifierHead(nn.Module):  # timm.layers.ClassifierHead
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean((2, 3)))


class RegNet(nn.Module):  # timm.models.regnet.RegNet
    def __init__(self, se_ratio: float = 0.25, classes: int = 5) -> None:
        super().__init__()
        self.stem = ConvNormAct(3, 8, 3, 2)
        self.s1 = RegStage(1, 8, 16, 8, se_ratio)
        self.s2 = RegStage(2, 16, 32, 8, se_ratio)
        self.final_conv = nn.Identity()
        self.head = ClassifierHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.final_conv(self.s2(self.s1(self.stem(x)))))


# ------------------------------------------------------------------------ ConvNeXt (timm)


class LayerNorm2d(nn.LayerNorm):  # timm.layers.LayerNorm2d
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):  # timm.models.convnext.ConvNeXtBlock (channels-last MLP)
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)
        self.gamma = nn.Parameter(0.5 * torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv_dw(x).permute(0, 2, 3, 1)
        x = self.mlp(self.norm(x))
        x = x.mul(self.gamma).permute(0, 3, 1, 2)
        return x + shortcut


class ConvNeXtStage(nn.Module):
    def __init__(self, c_in: int, c_out: int, depth: int) -> None:
        super().__init__()
        if c_in != c_out:
            self.downsample = nn.Sequential(
                LayerNorm2d(c_in, eps=1e-6), nn.Conv2d(c_in, c_out, 2, 2)
            )
        else:
            self.downsample = nn.Identity()
        self.blocks = nn.Sequential(*(ConvNeXtBlock(c_out) for _ in range(depth)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class NormMlpClassifierHead(nn.Module):  # timm: pool, LayerNorm2d, flatten, fc
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.norm = LayerNorm2d(c, eps=1e-6)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x.mean((2, 3), keepdim=True))
        return self.fc(x.flatten(1))


class ConvNeXt(nn.Module):  # timm.models.convnext.ConvNeXt
    def __init__(self, dims=(8, 16), depths=(1, 2), classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), LayerNorm2d(dims[0], eps=1e-6))
        self.stages = nn.Sequential(
            *(ConvNeXtStage(dims[max(i - 1, 0)], dims[i], depths[i]) for i in range(len(dims)))
        )
        self.norm_pre = nn.Identity()
        self.head = NormMlpClassifierHead(dims[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm_pre(self.stages(self.stem(x))))


# ----------------------------------------------------------------------------- ConvMixer


class Residual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


def conv_mixer(dim: int = 16, depth: int = 2, kernel: int = 3, patch: int = 4, classes: int = 5):
    """The ConvMixer paper's own listing (a Sequential of Sequentials)."""
    return nn.Sequential(
        nn.Conv2d(3, dim, patch, patch),
        nn.GELU(),
        nn.BatchNorm2d(dim),
        *[
            nn.Sequential(
                Residual(
                    nn.Sequential(
                        nn.Conv2d(dim, dim, kernel, groups=dim, padding="same"),
                        nn.GELU(),
                        nn.BatchNorm2d(dim),
                    )
                ),
                nn.Conv2d(dim, dim, 1),
                nn.GELU(),
                nn.BatchNorm2d(dim),
            )
            for _ in range(depth)
        ],
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(dim, classes),
    )


# ---------------------------------------------------------------------------- PoolFormer


class GroupNorm1(nn.GroupNorm):
    def __init__(self, c: int) -> None:
        super().__init__(1, c)


class Pooling(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) - x


class ConvMlp(nn.Module):
    def __init__(self, c: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, hidden, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class PoolFormerBlock(nn.Module):  # timm.models.metaformer (PoolFormer v1 names)
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm1 = GroupNorm1(dim)
        self.token_mixer = Pooling()
        self.norm2 = GroupNorm1(dim)
        self.mlp = ConvMlp(dim, 4 * dim)
        self.layer_scale1 = nn.Parameter(0.5 * torch.randn(dim))
        self.layer_scale2 = nn.Parameter(0.5 * torch.randn(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.layer_scale1.view(-1, 1, 1) * self.token_mixer(self.norm1(x))
        return x + self.layer_scale2.view(-1, 1, 1) * self.mlp(self.norm2(x))


class PoolFormer(nn.Module):
    def __init__(self, dim: int = 8, depth: int = 2, classes: int = 5) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 7, 4, 2)
        self.network = nn.Sequential(*(PoolFormerBlock(dim) for _ in range(depth)))
        self.norm = GroupNorm1(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.network(self.patch_embed(x)))
        return self.head(x.mean([-2, -1]))


ZOO = {  # name: (build, input shape)
    "densenet": (DenseNet, (2, 3, 32, 32)),
    "squeezenet": (SqueezeNet, (2, 3, 32, 32)),
    "shufflenet_v2": (ShuffleNetV2, (2, 3, 32, 32)),
    "googlenet": (GoogLeNet, (2, 3, 32, 32)),
    "mobilenet_v3": (MobileNetV3, (2, 3, 32, 32)),
    "mlp_mixer": (MlpMixer, (2, 3, 16, 16)),
    "vgg": (VGG, (2, 3, 16, 16)),
    "resnext": (lambda: ResNet(groups=2, width_per_group=16), (2, 3, 32, 32)),
    "wide_resnet": (lambda: ResNet(width_per_group=128), (2, 3, 32, 32)),
    "regnety": (RegNet, (2, 3, 32, 32)),
    "regnetx": (lambda: RegNet(se_ratio=0.0), (2, 3, 32, 32)),
    "convnext_timm": (ConvNeXt, (2, 3, 32, 32)),
    "convmixer": (conv_mixer, (2, 3, 16, 16)),
    "poolformer": (PoolFormer, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
