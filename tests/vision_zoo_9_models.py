"""Ten more small CNN classifiers as other libraries write them, for tests/test_vision_zoo_9.py
(issue 16's held-out measure): timm's pre-activation ResNetV2, the pre-activation ResNet of
bearpaw's pytorch-classification (its shortcut reads the raw input), kuangliu/pytorch-cifar's
SENet-18 (pre-activation blocks with an inline squeeze-excitation), MobileNetV1, MobileNetV2 and
DPN, akamaster's CIFAR ResNet-20 (a zero-padded "option A" shortcut with no parameters), the Keras
port of EfficientNet (lukemelas' EfficientNet-PyTorch, TensorFlow's asymmetric "same" padding),
weiaicunzai/pytorch-cifar100's ResNet-18 (each block's body and shortcut two Sequentials) and
kuangliu's EfficientNet (a 1x1 expansion built but skipped at expansion 1, a two-conv
squeeze-excitation). (Session 10 replaced timm's VoVNet and ReXNet, zoo 7's families, with these
two.) None was in any zoo when the catalogue was written; each is narrowed
to a few blocks. Reference code, not generated code: the generated file must match it, or say
where it cannot."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input
from tests.vision_zoo_8_models import BatchNormAct2d

# ------------------------------------------------------ ResNetV2, pre-activation (timm)


class DownsampleConv(nn.Module):  # timm.models.resnetv2.DownsampleConv (preact: no norm)
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
        self.norm = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


class PreActBottleneck(nn.Module):  # timm.models.resnetv2.PreActBottleneck
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        mid = c_out // 4
        self.downsample = None
        if c_in != c_out or stride != 1:
            self.downsample = DownsampleConv(c_in, c_out, stride)
        self.norm1 = BatchNormAct2d(c_in)
        self.conv1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.norm2 = BatchNormAct2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.norm3 = BatchNormAct2d(mid)
        self.conv3 = nn.Conv2d(mid, c_out, 1, bias=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_preact = self.norm1(x)
        shortcut = x if self.downsample is None else self.downsample(x_preact)
        x = self.conv1(x_preact)
        x = self.conv2(self.norm2(x))
        x = self.conv3(self.norm3(x))
        return self.drop_path(x) + shortcut


class ResNetStage(nn.Module):  # timm.models.resnetv2.ResNetStage: `blocks`
    def __init__(self, c_in: int, c_out: int, stride: int, depth: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            *(
                PreActBottleneck(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1)
                for i in range(depth)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class TimmResNetV2(nn.Module):  # timm.models.resnetv2.ResNetV2 (resnetv2_50 layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential()
        self.stem.add_module("conv", nn.Conv2d(3, 8, 7, 2, 3, bias=False))
        self.stem.add_module("pool", nn.MaxPool2d(3, 2, 1))
        self.stages = nn.Sequential(ResNetStage(8, 16, 1, 2), ResNetStage(16, 32, 2, 2))
        self.norm = BatchNormAct2d(32)
        self.head = nn.Module()  # ClassifierHead(use_conv=True): pool, then a 1x1 conv `fc`
        self.head.fc = nn.Conv2d(32, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.stages(self.stem(x)))
        return self.head.fc(x.mean((2, 3), keepdim=True)).flatten(1)


# ------------------------------- pre-activation ResNet (bearpaw/pytorch-classification)


class PreResBlock(nn.Module):  # models/cifar/preresnet.py BasicBlock
    def __init__(self, c_in: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        if self.downsample is not None:
            residual = self.downsample(x)  # the raw input, not the activated one
        return out + residual


class PreResNet(nn.Module):  # models/cifar/preresnet.py PreResNet (depth 14), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.layer1 = self._layer(8, 8, 1)  # equal widths: only the order tells pre from post
        self.layer2 = self._layer(8, 16, 2)
        self.layer3 = self._layer(16, 32, 2)
        self.bn = nn.BatchNorm2d(32)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(32, classes)

    @staticmethod
    def _layer(c_in: int, planes: int, stride: int) -> nn.Sequential:
        down = None
        if stride != 1 or c_in != planes:
            down = nn.Sequential(nn.Conv2d(c_in, planes, 1, stride, bias=False))
        return nn.Sequential(PreResBlock(c_in, planes, stride, down), PreResBlock(planes, planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        x = self.avgpool(self.relu(self.bn(x)))
        return self.fc(x.view(x.size(0), -1))


# ------------------------------------------------------- SENet-18 (kuangliu/pytorch-cifar)


class SEPreActBlock(nn.Module):  # models/senet.py PreActBlock: SE convs fc1/fc2 inline
    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        if stride != 1 or c_in != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, planes, 1, stride, bias=False))
        self.fc1 = nn.Conv2d(planes, planes // 4, 1)
        self.fc2 = nn.Conv2d(planes // 4, planes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        w = F.avg_pool2d(out, out.size(2))
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(w))))
        return out * w + shortcut


class SENet(nn.Module):  # models/senet.py SENet18, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(SEPreActBlock(8, 8), SEPreActBlock(8, 8))
        self.layer2 = nn.Sequential(SEPreActBlock(8, 16, 2), SEPreActBlock(16, 16))
        self.layer3 = nn.Sequential(SEPreActBlock(16, 32, 2))  # the widths double, as in SENet-18
        self.layer4 = nn.Sequential(SEPreActBlock(32, 64, 2))
        self.linear = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# --------------------------------------------- ResNet-20 (akamaster/pytorch_resnet_cifar10)


class LambdaLayer(nn.Module):
    def __init__(self, pad: int) -> None:
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # option A: subsample, zero channels
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)


class OptionABlock(nn.Module):  # resnet.py BasicBlock, option 'A'
    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != planes:
            self.shortcut = LambdaLayer(planes // 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet20(nn.Module):  # resnet.py ResNet (resnet20 layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(OptionABlock(8, 8), OptionABlock(8, 8))
        self.layer2 = nn.Sequential(OptionABlock(8, 16, 2), OptionABlock(16, 16))
        self.layer3 = nn.Sequential(OptionABlock(16, 32, 2))
        self.linear = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


# ---------------------------------------------------- MobileNetV1 (kuangliu/pytorch-cifar)


class DepthwiseBlock(nn.Module):  # models/mobilenet.py Block: depthwise conv1, pointwise conv2
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv2 = nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)))


class MobileNetV1(nn.Module):  # models/mobilenet.py MobileNet, narrowed
    cfg = [8, (12, 2), 12, (16, 2), (24, 2), 24, (32, 2)]

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        layers, c_in = [], 8
        for entry in self.cfg:
            c_out, stride = entry if isinstance(entry, tuple) else (entry, 1)
            layers.append(DepthwiseBlock(c_in, c_out, stride))
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, 2)
        return self.linear(out.view(out.size(0), -1))


# ---------------------------------------------------- MobileNetV2 (kuangliu/pytorch-cifar)


class MBBlock(nn.Module):  # models/mobilenetv2.py Block: ReLU, shortcut only at stride 1
    def __init__(self, c_in: int, c_out: int, expansion: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        planes = expansion * c_in
        self.conv1 = nn.Conv2d(c_in, planes, 1, 1, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, c_out, 1, 1, 0, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride == 1 and c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class MobileNetV2(nn.Module):  # models/mobilenetv2.py MobileNetV2, narrowed
    cfg = [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 1, 2), (6, 24, 1, 1), (6, 32, 1, 2)]

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        layers, c_in = [], 8
        for expansion, c_out, blocks, stride in self.cfg:
            for s in [stride] + [1] * (blocks - 1):
                layers.append(MBBlock(c_in, c_out, expansion, s))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(32, 64, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.linear = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------------------------------ DPN (kuangliu/pytorch-cifar)


class DualPathBlock(nn.Module):  # models/dpn.py Bottleneck: residual + dense paths
    def __init__(self, last: int, c_in: int, c_out: int, dense: int, stride: int, first: bool):
        super().__init__()
        self.out_planes = c_out
        self.conv1 = nn.Conv2d(last, c_in, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv2 = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=4, bias=False)
        self.bn2 = nn.BatchNorm2d(c_in)
        self.conv3 = nn.Conv2d(c_in, c_out + dense, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out + dense)
        self.shortcut = nn.Sequential()
        if first:
            self.shortcut = nn.Sequential(
                nn.Conv2d(last, c_out + dense, 1, stride, bias=False),
                nn.BatchNorm2d(c_out + dense),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        x = self.shortcut(x)
        d = self.out_planes
        out = torch.cat([x[:, :d] + out[:, :d], x[:, d:], out[:, d:]], 1)
        return F.relu(out)


class DPN(nn.Module):  # models/dpn.py DPN (DPN26 layout), narrowed, groups 4 for 32
    cfg = {"in": (8, 8, 16, 16), "out": (8, 12, 16, 24), "blocks": (2, 1, 1, 1)}
    dense = (2, 4, 4, 8)

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.last = 8
        for i, stride in enumerate((1, 2, 2, 2)):
            layer = self._layer(
                self.cfg["in"][i], self.cfg["out"][i], self.cfg["blocks"][i], i, stride
            )
            self.add_module(f"layer{i + 1}", layer)
        self.linear = nn.Linear(24 + 2 * 8, classes)

    def _layer(self, c_in: int, c_out: int, blocks: int, i: int, stride: int) -> nn.Sequential:
        layers = []
        for j, s in enumerate([stride] + [1] * (blocks - 1)):
            layers.append(DualPathBlock(self.last, c_in, c_out, self.dense[i], s, j == 0))
            self.last = c_out + (j + 2) * self.dense[i]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------- EfficientNet, the Keras port (lukemelas/EfficientNet-PyTorch)


class Conv2dStaticSamePadding(nn.Conv2d):  # efficientnet_pytorch.utils: TensorFlow's "SAME"
    def __init__(self, c_in, c_out, k, stride=1, groups=1, bias=True, image_size=32) -> None:
        super().__init__(c_in, c_out, k, stride, 0, groups=groups, bias=bias)
        out = math.ceil(image_size / stride)
        pad = max((out - 1) * stride + k - image_size, 0)
        self.pads = (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pads))


class MBConvBlock(nn.Module):  # efficientnet_pytorch.model.MBConvBlock
    def __init__(self, c_in: int, c_out: int, expand: int, k: int, stride: int, size: int):
        super().__init__()
        self.skip = stride == 1 and c_in == c_out
        mid = c_in * expand
        eps = 1e-3
        if expand != 1:
            self._expand_conv = Conv2dStaticSamePadding(c_in, mid, 1, bias=False, image_size=size)
            self._bn0 = nn.BatchNorm2d(mid, eps=eps)
        self.expand = expand
        self._depthwise_conv = Conv2dStaticSamePadding(
            mid, mid, k, stride, groups=mid, bias=False, image_size=size
        )
        self._bn1 = nn.BatchNorm2d(mid, eps=eps)
        squeezed = max(1, int(c_in * 0.25))
        self._se_reduce = nn.Conv2d(mid, squeezed, 1)
        self._se_expand = nn.Conv2d(squeezed, mid, 1)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=eps)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand != 1:
            x = F.silu(self._bn0(self._expand_conv(x)))
        x = F.silu(self._bn1(self._depthwise_conv(x)))
        s = F.adaptive_avg_pool2d(x, 1)
        s = self._se_expand(F.silu(self._se_reduce(s)))
        x = torch.sigmoid(s) * x
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.skip else x


class KerasEfficientNet(nn.Module):  # efficientnet_pytorch.model.EfficientNet, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self._conv_stem = Conv2dStaticSamePadding(3, 8, 3, 2, bias=False, image_size=32)
        self._bn0 = nn.BatchNorm2d(8, eps=1e-3)
        self._blocks = nn.ModuleList(
            [
                MBConvBlock(8, 6, 1, 3, 1, 16),
                MBConvBlock(6, 8, 6, 3, 2, 16),
                MBConvBlock(8, 8, 6, 3, 1, 8),
                MBConvBlock(8, 12, 6, 5, 2, 8),
            ]
        )
        self._conv_head = nn.Conv2d(12, 32, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(32, eps=1e-3)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(0.2)
        self._fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.silu(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.silu(self._bn1(self._conv_head(x)))
        return self._fc(self._dropout(self._avg_pooling(x).flatten(1)))


# ------------------------------------------------- ResNet-18 (weiaicunzai/pytorch-cifar100)


class Cifar100BasicBlock(nn.Module):  # models/resnet.py BasicBlock: two Sequentials, summed
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.residual_function = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.residual_function(x) + self.shortcut(x))


class Cifar100ResNet(nn.Module):  # models/resnet.py ResNet (resnet18 layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.conv2_x = nn.Sequential(Cifar100BasicBlock(8, 8), Cifar100BasicBlock(8, 8))
        self.conv3_x = nn.Sequential(Cifar100BasicBlock(8, 16, 2), Cifar100BasicBlock(16, 16))
        self.conv4_x = nn.Sequential(Cifar100BasicBlock(16, 32, 2))
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv4_x(self.conv3_x(self.conv2_x(self.conv1(x))))
        return self.fc(self.avg_pool(out).view(out.size(0), -1))


# --------------------------------------------------------- EfficientNet (kuangliu/pytorch-cifar)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * x.sigmoid()


class ConvSE(nn.Module):  # models/efficientnet.py SE: two biased 1x1 convs, swish between
    def __init__(self, c: int, squeezed: int) -> None:
        super().__init__()
        self.se1 = nn.Conv2d(c, squeezed, 1, bias=True)
        self.se2 = nn.Conv2d(squeezed, c, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = swish(self.se1(F.adaptive_avg_pool2d(x, (1, 1))))
        return x * self.se2(out).sigmoid()


class EfficientBlock(nn.Module):  # models/efficientnet.py Block: conv1 built even at expansion 1
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        self.stride, self.expand = stride, expand
        mid = expand * c_in
        self.conv1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        padding = 1 if kernel == 3 else 2
        self.conv2 = nn.Conv2d(mid, mid, kernel, stride, padding, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.se = ConvSE(mid, int(c_in * 0.25))
        self.conv3 = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.has_skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand == 1 else swish(self.bn1(self.conv1(x)))  # conv1 unused at 1
        out = swish(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.se(out)))
        return out + x if self.has_skip else out


class CifarEfficientNet(nn.Module):  # models/efficientnet.py EfficientNet (B0 table), narrowed
    cfg = [(1, 8, 3, 1), (6, 12, 3, 2), (6, 12, 5, 1), (6, 16, 5, 2)]  # expand, out, kernel, s

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        layers, c_in = [], 8
        for expand, c_out, kernel, stride in self.cfg:
            layers.append(EfficientBlock(c_in, c_out, kernel, stride, expand))
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(swish(self.bn1(self.conv1(x))))
        out = F.adaptive_avg_pool2d(out, 1)
        return self.linear(out.view(out.size(0), -1))


ZOO = {  # name: (build, input shape)
    "timm_resnetv2": (TimmResNetV2, (2, 3, 64, 64)),
    "bearpaw_preresnet": (PreResNet, (2, 3, 32, 32)),
    "cifar_senet18": (SENet, (2, 3, 32, 32)),
    "akamaster_resnet20": (CifarResNet20, (2, 3, 32, 32)),
    "cifar_mobilenet": (MobileNetV1, (2, 3, 32, 32)),
    "cifar_mobilenetv2": (MobileNetV2, (2, 3, 32, 32)),
    "cifar_dpn": (DPN, (2, 3, 32, 32)),
    "keras_efficientnet": (KerasEfficientNet, (2, 3, 32, 32)),
    "cifar100_resnet18": (Cifar100ResNet, (2, 3, 32, 32)),
    "cifar_efficientnet": (CifarEfficientNet, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
