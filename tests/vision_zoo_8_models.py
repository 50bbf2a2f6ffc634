"""Ten more small CNN classifiers written the way timm, torchvision and the papers' repositories
write them, for tests/test_vision_zoo_8.py: timm's EfficientNet-B0 and MobileNetV3 (`conv_stem`,
`bn1` with the activation inside the norm, `blocks`, `conv_head`), ResNet-26-D, SE-ResNet and
RegNet (grouped convs inside `ConvNormAct`); torchvision's Inception-v3 and AlexNet layouts; the
CIFAR ResNet-18 and pre-activation ResNet of the best-known CIFAR repository; a Wide ResNet as its
paper's code writes it. None was in any zoo when the catalogue was written; each is narrowed to a
few blocks. Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# --------------------------------------------------------------------- timm building blocks


class BatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d: the activation inside
    def __init__(self, c: int, act: type[nn.Module] | None = nn.ReLU) -> None:
        super().__init__(c)
        self.drop = nn.Identity()
        self.act = act() if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


class ConvNormAct(nn.Module):  # timm.layers.ConvNormAct: conv, bn (BatchNormAct2d)
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act=nn.ReLU) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)
        self.bn = BatchNormAct2d(c_out, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class SqueezeExcite(nn.Module):  # timm.models._efficientnet_blocks.SqueezeExcite
    def __init__(self, c: int, rd: int, act=nn.ReLU, gate=nn.Sigmoid) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1)
        self.act1 = act()
        self.conv_expand = nn.Conv2d(rd, c, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * self.gate(s)


class SEModule(nn.Module):  # timm.layers.SEModule: fc1, bn (identity), act, fc2, gate
    def __init__(self, c: int, rd: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, c, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(self.act(self.bn(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * self.gate(s)


class DepthwiseSeparableConv(nn.Module):  # timm.models._efficientnet_blocks
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, act, se: int) -> None:
        super().__init__()
        self.has_skip = stride == 1 and c_in == c_out
        self.conv_dw = nn.Conv2d(c_in, c_in, k, stride, k // 2, groups=c_in, bias=False)
        self.bn1 = BatchNormAct2d(c_in, act)
        self.aa = nn.Identity()
        self.se = SqueezeExcite(c_in, se, act) if se else nn.Identity()
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = BatchNormAct2d(c_out, None)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.se(self.aa(self.bn1(self.conv_dw(x))))
        x = self.bn2(self.conv_pw(x))
        return self.drop_path(x) + shortcut if self.has_skip else x


class InvertedResidual(nn.Module):  # timm.models._efficientnet_blocks.InvertedResidual
    def __init__(self, c_in, c_out, k, stride, expand, act, se: int, gate=nn.Sigmoid) -> None:
        super().__init__()
        mid = c_in * expand
        self.has_skip = stride == 1 and c_in == c_out
        self.conv_pw = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = BatchNormAct2d(mid, act)
        self.conv_dw = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self.bn2 = BatchNormAct2d(mid, act)
        self.aa = nn.Identity()
        self.se = SqueezeExcite(mid, se, act, gate) if se else nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = BatchNormAct2d(c_out, None)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.bn1(self.conv_pw(x))
        x = self.se(self.aa(self.bn2(self.conv_dw(x))))
        x = self.bn3(self.conv_pwl(x))
        return self.drop_path(x) + shortcut if self.has_skip else x


# ------------------------------------------------------------------ EfficientNet-B0 (timm)


class TimmEfficientNet(nn.Module):  # timm.models.efficientnet.EfficientNet, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(8, nn.SiLU)
        self.blocks = nn.Sequential(
            nn.Sequential(DepthwiseSeparableConv(8, 8, 3, 1, nn.SiLU, 2)),
            nn.Sequential(
                InvertedResidual(8, 12, 3, 2, 6, nn.SiLU, 2),
                InvertedResidual(12, 12, 3, 1, 6, nn.SiLU, 3),
            ),
            nn.Sequential(InvertedResidual(12, 16, 5, 2, 6, nn.SiLU, 3)),
        )
        self.conv_head = nn.Conv2d(16, 64, 1, bias=False)
        self.bn2 = BatchNormAct2d(64, nn.SiLU)
        self.global_pool = nn.Identity()  # SelectAdaptivePool2d(avg, flatten): in forward
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv_stem(x))
        x = self.bn2(self.conv_head(self.blocks(x)))
        return self.classifier(x.mean((2, 3)))


# -------------------------------------------------------------------- MobileNetV3 (timm)


class TimmMobileNetV3(nn.Module):  # timm.models.mobilenetv3.MobileNetV3, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(8, nn.Hardswish)
        self.blocks = nn.Sequential(
            nn.Sequential(DepthwiseSeparableConv(8, 8, 3, 1, nn.ReLU, 0)),
            nn.Sequential(InvertedResidual(8, 12, 3, 2, 4, nn.ReLU, 0)),
            nn.Sequential(
                InvertedResidual(12, 16, 5, 2, 3, nn.Hardswish, 12, nn.Hardsigmoid),
                InvertedResidual(16, 16, 5, 1, 3, nn.Hardswish, 12, nn.Hardsigmoid),
            ),
            nn.Sequential(ConvNormAct(16, 48, 1, act=nn.Hardswish)),
        )
        self.global_pool = nn.Identity()  # SelectAdaptivePool2d(avg), no flatten: in forward
        self.conv_head = nn.Conv2d(48, 64, 1)  # after the pool, with a bias
        self.act2 = nn.Hardswish()
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.bn1(self.conv_stem(x)))
        x = self.act2(self.conv_head(x.mean((2, 3), keepdim=True)))
        return self.classifier(self.flatten(x))


# -------------------------------------------------- ResNet-26-D and SE-ResNet (timm ResNet)


class TimmBottleneck(nn.Module):  # timm.models.resnet.Bottleneck (se after bn3)
    def __init__(self, c_in, planes, stride=1, downsample=None, se: bool = False) -> None:
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.drop_block = nn.Identity()
        self.act2 = nn.ReLU(inplace=True)
        self.aa = nn.Identity()
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.se = SEModule(out, max(8, out // 16)) if se else None
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.aa(self.act2(self.drop_block(self.bn2(self.conv2(x)))))
        x = self.bn3(self.conv3(x))
        if self.se is not None:
            x = self.se(x)
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act3(x + shortcut)


def _down(c_in: int, c_out: int, stride: int, avg: bool) -> nn.Sequential:
    """timm's downsample_avg (pool, 1x1 conv, norm) or downsample_conv (strided 1x1, norm)."""
    if not avg:
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
    pool = (
        nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
        if stride > 1
        else nn.Identity()
    )
    return nn.Sequential(pool, nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


class TimmResNet(nn.Module):  # timm.models.resnet.ResNet with Bottleneck blocks, narrowed
    def __init__(self, deep_stem: bool, se: bool, classes: int = 5) -> None:
        super().__init__()
        if deep_stem:  # stem_type='deep' (resnet26d): three 3x3 convs, the widths 4, 4, 8
            self.conv1 = nn.Sequential(
                nn.Conv2d(3, 4, 3, 2, 1, bias=False),
                nn.BatchNorm2d(4),
                nn.ReLU(inplace=True),
                nn.Conv2d(4, 4, 3, 1, 1, bias=False),
                nn.BatchNorm2d(4),
                nn.ReLU(inplace=True),
                nn.Conv2d(4, 8, 3, 1, 1, bias=False),
            )
        else:
            self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        avg = deep_stem  # resnet26d: avg_down
        self.layer1 = nn.Sequential(  # the first block widens 4x at stride 1, as in every ResNet
            TimmBottleneck(8, 4, 1, _down(8, 16, 1, avg), se), TimmBottleneck(16, 4, se=se)
        )
        self.layer2 = nn.Sequential(
            TimmBottleneck(16, 8, 2, _down(16, 32, 2, avg), se), TimmBottleneck(32, 8, se=se)
        )
        self.layer3 = nn.Sequential(TimmBottleneck(32, 16, 2, _down(32, 64, 2, avg), se))
        self.global_pool = nn.Identity()  # SelectAdaptivePool2d(avg, flatten): in forward
        self.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


# ------------------------------------------------------------------------- RegNetY (timm)


class RegBottleneck(nn.Module):  # timm.models.regnet.Bottleneck: grouped conv2 in ConvNormAct
    def __init__(self, c_in: int, c_out: int, stride: int, group_width: int, se: int) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(c_in, c_out, 1)
        self.conv2 = ConvNormAct(c_out, c_out, 3, stride, groups=c_out // group_width)
        self.se = SEModule(c_out, se) if se else nn.Identity()
        self.conv3 = ConvNormAct(c_out, c_out, 1, act=None)
        self.act3 = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = ConvNormAct(c_in, c_out, 1, stride, act=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv3(self.se(self.conv2(self.conv1(x))))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act3(x + shortcut)


class RegStage(nn.Module):  # timm.models.regnet.RegStage: blocks b1, b2, ...
    def __init__(self, c_in, c_out, depth, group_width, se) -> None:
        super().__init__()
        for i in range(depth):
            block = RegBottleneck(
                c_in if i == 0 else c_out, c_out, 2 if i == 0 else 1, group_width, se
            )
            self.add_module(f"b{i + 1}", block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.children():
            x = block(x)
        return x


class ClassifierHead(nn.Module):  # timm.layers.ClassifierHead: pool, (drop), fc
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean((2, 3)))


class TimmRegNet(nn.Module):  # timm.models.regnet.RegNet (regnety layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = ConvNormAct(3, 8, 3, 2)
        self.s1 = RegStage(8, 16, 1, 8, 2)
        self.s2 = RegStage(16, 32, 2, 8, 4)
        self.final_conv = nn.Identity()
        self.head = ClassifierHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s2(self.s1(self.stem(x)))
        return self.head(self.final_conv(x))


# -------------------------------------------------------- ResNet-18 (the CIFAR repositories)


class CifarBasicBlock(nn.Module):  # kuangliu/pytorch-cifar models/resnet.py BasicBlock
    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class CifarResNet(nn.Module):  # kuangliu/pytorch-cifar ResNet18: 3x3 stem at stride 1
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(CifarBasicBlock(8, 8), CifarBasicBlock(8, 8))
        self.layer2 = nn.Sequential(CifarBasicBlock(8, 16, 2), CifarBasicBlock(16, 16))
        self.layer3 = nn.Sequential(CifarBasicBlock(16, 32, 2))
        self.layer4 = nn.Sequential(CifarBasicBlock(32, 32, 2))
        self.linear = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


class PreActBlock(nn.Module):  # kuangliu/pytorch-cifar models/preact_resnet.py
    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        if stride != 1 or c_in != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, planes, 1, stride, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):  # kuangliu/pytorch-cifar PreActResNet18, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.layer1 = nn.Sequential(PreActBlock(8, 8), PreActBlock(8, 8))
        self.layer2 = nn.Sequential(PreActBlock(8, 16, 2))
        self.layer3 = nn.Sequential(PreActBlock(16, 32, 2))
        self.layer4 = nn.Sequential(PreActBlock(32, 32, 2))
        self.bn = nn.BatchNorm2d(32)
        self.linear = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))
        out = F.avg_pool2d(F.relu(self.bn(out)), 4)
        return self.linear(out.view(out.size(0), -1))


# ----------------------------------------------------------- Wide ResNet (the paper's code)


class WrnBlock(nn.Module):  # xternalz/WideResNet-pytorch wideresnet.py BasicBlock
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.equal_in_out = c_in == c_out
        self.convShortcut = None
        if not self.equal_in_out:
            self.convShortcut = nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.equal_in_out:
            x = self.relu1(self.bn1(x))
            out = x
        else:
            out = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(out))))
        shortcut = x if self.convShortcut is None else self.convShortcut(x)
        return shortcut + out


class NetworkBlock(nn.Module):  # wideresnet.py NetworkBlock: `layer`, a Sequential
    def __init__(self, depth: int, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.layer = nn.Sequential(
            *(
                WrnBlock(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1)
                for i in range(depth)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class WideResNet(nn.Module):  # wideresnet.py WideResNet (depth 10, widen 2), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(1, 8, 16, 1)
        self.block2 = NetworkBlock(1, 16, 24, 2)
        self.block3 = NetworkBlock(2, 24, 32, 2)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.avg_pool2d(self.relu(self.bn1(out)), 8)
        return self.fc(out.view(out.size(0), -1))


# -------------------------------------------------------------- Inception-v3 (torchvision)


class BasicConv2d(nn.Module):  # torchvision.models.inception.BasicConv2d
    def __init__(self, c_in: int, c_out: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class InceptionA(nn.Module):  # torchvision.models.inception.InceptionA
    def __init__(self, c_in: int, pool: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(c_in, 8, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(c_in, 6, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(6, 8, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 8, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(8, 12, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(12, 12, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(c_in, pool, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionV3(nn.Module):  # torchvision.models.inception.Inception3, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 8, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(8, 8, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(8, 16, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(16, 4)
        self.Mixed_5c = InceptionA(32, 8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout()
        self.fc = nn.Linear(36, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Mixed_5c(self.Mixed_5b(self.maxpool1(x)))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


# -------------------------------------------------------------------- AlexNet (torchvision)


class AlexNet(nn.Module):  # torchvision.models.alexnet.AlexNet, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 11, 4, 2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(8, 16, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(16, 24, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(24, 16, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(),
            nn.Linear(16 * 6 * 6, 32),
            nn.ReLU(inplace=True),
            nn.Dropout(),
            nn.Linear(32, 32),
            nn.ReLU(inplace=True),
            nn.Linear(32, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


ZOO = {  # name: (build, input shape)
    "timm_efficientnet_b0": (TimmEfficientNet, (2, 3, 32, 32)),
    "timm_mobilenet_v3": (TimmMobileNetV3, (2, 3, 32, 32)),
    "timm_resnet26d": (lambda: TimmResNet(deep_stem=True, se=False), (2, 3, 64, 64)),
    "timm_seresnet": (lambda: TimmResNet(deep_stem=False, se=True), (2, 3, 64, 64)),
    "timm_regnety": (TimmRegNet, (2, 3, 32, 32)),
    "cifar_resnet18": (CifarResNet, (2, 3, 32, 32)),
    "cifar_preact_resnet": (PreActResNet, (2, 3, 32, 32)),
    "wide_resnet_paper": (WideResNet, (2, 3, 32, 32)),
    "tv_inception_v3": (InceptionV3, (2, 3, 35, 35)),
    "tv_alexnet": (AlexNet, (2, 3, 64, 64)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
