"""Ten small CNN classifiers written the way other popular repositories write them, for
tests/test_vision_zoo_11.py (issue 16's held-out measure, session 11): osmr/imgclsmob's ResNet
(ConvBlock units, `features.init_block`, `stageN.unitM`, `output`), Cadene's pretrainedmodels
SE-ResNet (`layer0` OrderedDict, the stride on the bottleneck's first 1x1, `se_module`,
`last_linear`) and Xception (separable convs, `skip`/`skipbn`, max-pools inside `rep`), rwightman's
gen-efficientnet MobileNetV3 (hard-swish, hard-sigmoid gates, a biased `conv_head` with no norm),
d2l's ResNet (numbered Sequentials, `Residual` with a norm-free `conv3` projection, one input
channel) and DenseNet (pre-activation `conv_block`s concatenated, transition blocks that pool),
huyvnphan/PyTorch_CIFAR10's ResNet-18 (torchvision's keys, a CIFAR stem), tonylins'
pytorch-mobilenet-v2 (`conv` Sequentials indexed 0, 1, 3, 4, 6, 7), facebookresearch/pycls'
RegNetY (`stem`, `sN.bM.f.{a,b,se,c}`, `proj`/`bn`, `head.fc`) and MIT Han lab's ProxylessNAS
(`mobile_inverted_conv`, `feature_mix_layer`, `classifier.linear`).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# ------------------------------------------------------------------ osmr/imgclsmob ResNet


class ConvBlock(nn.Module):  # imgclsmob common.ConvBlock: conv, bn, activ (optional)
    def __init__(self, c_in, c_out, k, stride, padding, activate=True) -> None:
        super().__init__()
        self.activate = activate
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        if activate:
            self.activ = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.activ(x) if self.activate else x


class ResBlock(nn.Module):  # imgclsmob resnet.ResBlock: two 3x3 ConvBlocks, the second linear
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        self.conv1 = ConvBlock(c_in, c_out, 3, stride, 1)
        self.conv2 = ConvBlock(c_out, c_out, 3, 1, 1, activate=False)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class ResUnit(nn.Module):  # imgclsmob resnet.ResUnit: body, identity_conv when resized, activ
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        self.resize_identity = c_in != c_out or stride != 1
        self.body = ResBlock(c_in, c_out, stride)
        if self.resize_identity:
            self.identity_conv = ConvBlock(c_in, c_out, 1, stride, 0, activate=False)
        self.activ = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = self.identity_conv(x) if self.resize_identity else x
        return self.activ(self.body(x) + identity)


class ResInitBlock(nn.Module):  # imgclsmob resnet.ResInitBlock: 7x7/2 ConvBlock, 3/2/1 max-pool
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.conv = ConvBlock(c_in, c_out, 7, 2, 3)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x):
        return self.pool(self.conv(x))


class OsmrResNet(nn.Module):  # imgclsmob resnet.ResNet (resnet10 layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("init_block", ResInitBlock(3, 8))
        c_in = 8
        for i, c_out in enumerate((8, 16, 32)):
            stage = nn.Sequential()
            stage.add_module("unit1", ResUnit(c_in, c_out, 1 if i == 0 else 2))
            self.features.add_module(f"stage{i + 1}", stage)
            c_in = c_out
        self.features.add_module("final_pool", nn.AvgPool2d(4, 1))  # 7 at 224; 4 here
        self.output = nn.Linear(32, classes)

    def forward(self, x):
        x = self.features(x)
        return self.output(x.view(x.size(0), -1))


# ------------------------------------------------------- Cadene pretrainedmodels SE-ResNet


class SEModule(nn.Module):  # pretrainedmodels senet.SEModule: 1x1 convs fc1/fc2
    def __init__(self, channels, reduction) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, padding=0)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, padding=0)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        module_input = x
        x = self.relu(self.fc1(self.avg_pool(x)))
        return module_input * self.sigmoid(self.fc2(x))


class SEResNetBottleneck(nn.Module):  # senet.SEResNetBottleneck: the stride on conv1 (1x1)
    expansion = 4

    def __init__(self, inplanes, planes, reduction, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False, stride=stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.se_module = SEModule(planes * 4, reduction=reduction)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out = self.se_module(out) + residual
        return self.relu(out)


class CadeneSEResNet(nn.Module):  # senet.SENet (se_resnet50 layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.inplanes = 8
        layer0 = [
            ("conv1", nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)),
            ("bn1", nn.BatchNorm2d(8)),
            ("relu1", nn.ReLU(inplace=True)),
            ("pool", nn.MaxPool2d(3, stride=2, ceil_mode=True)),
        ]
        self.layer0 = nn.Sequential(OrderedDict(layer0))
        self.layer1 = self._make_layer(4, 2, stride=1)
        self.layer2 = self._make_layer(8, 1, stride=2)
        self.avg_pool = nn.AvgPool2d(8, stride=1)  # 7 at 224; 8 here (two stages)
        self.dropout = None
        self.last_linear = nn.Linear(32, classes)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [self._block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [self._block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _block(self, inplanes, planes, stride=1, downsample=None) -> nn.Module:
        return SEResNetBottleneck(inplanes, planes, 4, stride, downsample)

    def forward(self, x):
        x = self.layer2(self.layer1(self.layer0(x)))
        x = self.avg_pool(x)
        return self.last_linear(x.view(x.size(0), -1))


# -------------------------------------------------------- Cadene pretrainedmodels Xception


class SeparableConv2d(nn.Module):  # xception.SeparableConv2d: depthwise conv1, pointwise
    def __init__(self, c_in, c_out, k=1, stride=1, padding=0, bias=False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_in, k, stride, padding, groups=c_in, bias=bias)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, 1, 0, bias=bias)

    def forward(self, x):
        return self.pointwise(self.conv1(x))


class XceptionBlock(nn.Module):  # xception.Block: `rep` of ReLU/SeparableConv/BN, skip+skipbn
    def __init__(self, c_in, c_out, reps, strides=1, start_with_relu=True) -> None:
        super().__init__()
        if c_out != c_in or strides != 1:
            self.skip = nn.Conv2d(c_in, c_out, 1, stride=strides, bias=False)
            self.skipbn = nn.BatchNorm2d(c_out)
        else:
            self.skip = None
        rep, filters = [], c_in
        for i in range(reps):
            rep.append(nn.ReLU(inplace=False))
            rep.append(SeparableConv2d(filters, c_out, 3, stride=1, padding=1, bias=False))
            rep.append(nn.BatchNorm2d(c_out))
            filters = c_out
        if not start_with_relu:
            rep = rep[1:]
        if strides != 1:
            rep.append(nn.MaxPool2d(3, strides, 1))
        self.rep = nn.Sequential(*rep)

    def forward(self, inp):
        x = self.rep(inp)
        skip = self.skipbn(self.skip(inp)) if self.skip is not None else inp
        return x + skip


class CadeneXception(nn.Module):  # xception.Xception, narrowed (entry flow and exit)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 16, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.relu2 = nn.ReLU(inplace=True)
        self.block1 = XceptionBlock(16, 32, 2, 2, start_with_relu=False)
        self.block2 = XceptionBlock(32, 32, 3, 1)
        self.conv3 = SeparableConv2d(32, 48, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(48)
        self.relu3 = nn.ReLU(inplace=True)
        self.last_linear = nn.Linear(48, classes)

    def forward(self, x):
        x = self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))))
        x = self.block2(self.block1(x))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.last_linear(x.view(x.size(0), -1))


# ------------------------------------------------- rwightman/gen-efficientnet MobileNetV3


def hard_sigmoid(x):
    return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):  # gen_efficientnet SqueezeExcite: conv_reduce, conv_expand
    def __init__(self, c, reduced) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, reduced, 1, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(reduced, c, 1, bias=True)

    def forward(self, x):
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.conv_expand(self.act1(self.conv_reduce(x_se)))
        return x * hard_sigmoid(x_se)


class DepthwiseSeparableConv(nn.Module):  # gen_efficientnet DepthwiseSeparableConv
    def __init__(self, c_in, c_out, stride, se: bool, act) -> None:
        super().__init__()
        self.has_residual = stride == 1 and c_in == c_out
        self.conv_dw = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.act1 = act()
        self.se = SqueezeExcite(c_in, 8) if se else nn.Identity()
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x):
        out = self.se(self.act1(self.bn1(self.conv_dw(x))))
        out = self.bn2(self.conv_pw(out))
        return out + x if self.has_residual else out


class GenInvertedResidual(nn.Module):  # gen_efficientnet InvertedResidual
    def __init__(self, c_in, c_out, mid, k, stride, se: bool, act) -> None:
        super().__init__()
        self.has_residual = stride == 1 and c_in == c_out
        self.conv_pw = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act1 = act()
        self.conv_dw = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.act2 = act()
        self.se = SqueezeExcite(mid, 8) if se else nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)

    def forward(self, x):
        out = self.act1(self.bn1(self.conv_pw(x)))
        out = self.se(self.act2(self.bn2(self.conv_dw(out))))
        out = self.bn3(self.conv_pwl(out))
        return out + x if self.has_residual else out


class GenMobileNetV3(nn.Module):  # gen_efficientnet mobilenetv3_large layout, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.Hardswish()
        self.blocks = nn.Sequential(
            nn.Sequential(DepthwiseSeparableConv(8, 8, 1, False, nn.ReLU)),
            nn.Sequential(
                GenInvertedResidual(8, 12, 32, 3, 2, False, nn.ReLU),
                GenInvertedResidual(12, 12, 36, 3, 1, False, nn.ReLU),
            ),
            nn.Sequential(GenInvertedResidual(12, 16, 36, 5, 2, True, nn.Hardswish)),
            nn.Sequential(
                nn.Sequential(  # gen-efficientnet's last stage: a ConvBnAct
                    OrderedDict(
                        conv=nn.Conv2d(16, 48, 1, bias=False),
                        bn1=nn.BatchNorm2d(48),
                        act1=nn.Hardswish(),
                    )
                )
            ),
        )
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(48, 64, 1, bias=True)
        self.act2 = nn.Hardswish()
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.conv_head(self.global_pool(x)))
        return self.classifier(x.flatten(1))


# ----------------------------------------------------------------------------- d2l ResNet


class Residual(nn.Module):  # d2l.ai chapter_convolutional-modern/resnet.md
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, 3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, 3, padding=1)
        self.conv3 = (
            nn.Conv2d(input_channels, num_channels, 1, stride=strides) if use_1x1conv else None
        )
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def _d2l_resnet_block(c_in, c_out, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(c_in, c_out, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(c_out, c_out))
    return blk


def d2l_resnet(classes: int = 5) -> nn.Module:  # d2l's `net`, narrowed (Fashion-MNIST: 1 channel)
    b1 = nn.Sequential(
        nn.Conv2d(1, 8, 7, stride=2, padding=3),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
    )
    b2 = nn.Sequential(*_d2l_resnet_block(8, 8, 2, first_block=True))
    b3 = nn.Sequential(*_d2l_resnet_block(8, 16, 2))
    b4 = nn.Sequential(*_d2l_resnet_block(16, 32, 1))
    return nn.Sequential(
        b1, b2, b3, b4, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(32, classes)
    )


# --------------------------------------------------------------------------- d2l DenseNet


def _d2l_conv_block(c_in, c_out):  # batch norm, ReLU, 3x3 conv (pre-activation)
    return nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 3, padding=1))


class DenseBlock(nn.Module):  # d2l.ai chapter_convolutional-modern/densenet.md
    def __init__(self, num_convs, input_channels, num_channels) -> None:
        super().__init__()
        layer = [
            _d2l_conv_block(num_channels * i + input_channels, num_channels)
            for i in range(num_convs)
        ]
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def _d2l_transition_block(c_in, c_out):
    return nn.Sequential(
        nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 1), nn.AvgPool2d(2, stride=2)
    )


def d2l_densenet(classes: int = 5) -> nn.Module:  # d2l's `net`, narrowed
    b1 = nn.Sequential(
        nn.Conv2d(1, 8, 7, stride=2, padding=3),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
    )
    blks, c = [], 8
    for i, convs in enumerate((2, 2)):
        blks.append(DenseBlock(convs, c, 4))
        c += convs * 4
        if i != 1:
            blks.append(_d2l_transition_block(c, c // 2))
            c //= 2
    return nn.Sequential(
        b1,
        *blks,
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(c, classes),
    )


# ------------------------------------------------------ huyvnphan/PyTorch_CIFAR10 ResNet-18


class TvBasicBlock(nn.Module):  # cifar10_models/resnet.py BasicBlock (torchvision's)
    def __init__(self, c_in, c_out, stride=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class HuyResNet18(nn.Module):  # cifar10_models/resnet.py ResNet: 3x3 stem, no max-pool
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)  # "CIFAR10: kernel_size 7 -> 3"
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)  # built, not called ("END")
        self.layer1 = nn.Sequential(TvBasicBlock(8, 8), TvBasicBlock(8, 8))
        self.layer2 = nn.Sequential(TvBasicBlock(8, 16, 2), TvBasicBlock(16, 16))
        self.layer3 = nn.Sequential(TvBasicBlock(16, 32, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x).reshape(x.size(0), -1)
        return self.fc(x)


# ------------------------------------------------------------ tonylins/pytorch-mobilenet-v2


def _conv_bn(c_in, c_out, stride):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU6(True)
    )


def _conv_1x1_bn(c_in, c_out):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False), nn.BatchNorm2d(c_out), nn.ReLU6(True)
    )


class TonyInvertedResidual(nn.Module):  # MobileNetV2.py InvertedResidual: one `conv` Sequential
    def __init__(self, c_in, c_out, stride, expand_ratio) -> None:
        super().__init__()
        hidden = round(c_in * expand_ratio)
        self.use_res_connect = stride == 1 and c_in == c_out
        if expand_ratio == 1:
            self.conv = nn.Sequential(
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
                nn.Conv2d(hidden, c_out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(c_out),
            )
        else:
            self.conv = nn.Sequential(
                nn.Conv2d(c_in, hidden, 1, 1, 0, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
                nn.Conv2d(hidden, c_out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(c_out),
            )

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class TonyMobileNetV2(nn.Module):  # MobileNetV2.py MobileNetV2, narrowed
    settings = [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 1, 2)]  # t, c, n, s

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        features, c_in = [_conv_bn(3, 8, 2)], 8
        for t, c, n, s in self.settings:
            for i in range(n):
                features.append(TonyInvertedResidual(c_in, c, s if i == 0 else 1, t))
                c_in = c
        features.append(_conv_1x1_bn(c_in, 32))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Linear(32, classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.mean(3).mean(2))


# ----------------------------------------------------------- facebookresearch/pycls RegNetY


class SE(nn.Module):  # pycls anynet.SE: avg_pool, f_ex Sequential(conv, ReLU, conv, Sigmoid)
    def __init__(self, w_in, w_se) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.f_ex = nn.Sequential(
            nn.Conv2d(w_in, w_se, 1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(w_se, w_in, 1, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.f_ex(self.avg_pool(x))


class BottleneckTransform(nn.Module):  # pycls anynet.BottleneckTransform: a, b, se, c
    def __init__(self, w_in, w_out, stride, group_w, se_r) -> None:
        super().__init__()
        groups = w_out // group_w
        self.a = nn.Conv2d(w_in, w_out, 1, 1, 0, bias=False)
        self.a_bn = nn.BatchNorm2d(w_out)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = nn.Conv2d(w_out, w_out, 3, stride, 1, groups=groups, bias=False)
        self.b_bn = nn.BatchNorm2d(w_out)
        self.b_relu = nn.ReLU(inplace=True)
        self.se = SE(w_out, int(round(w_in * se_r)))
        self.c = nn.Conv2d(w_out, w_out, 1, 1, 0, bias=False)
        self.c_bn = nn.BatchNorm2d(w_out)

    def forward(self, x):
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.se(self.b_relu(self.b_bn(self.b(x))))
        return self.c_bn(self.c(x))


class ResBottleneckBlock(nn.Module):  # pycls anynet.ResBottleneckBlock: proj, bn, f, relu
    def __init__(self, w_in, w_out, stride, group_w=4, se_r=0.25) -> None:
        super().__init__()
        self.proj_block = (w_in != w_out) or (stride != 1)
        if self.proj_block:
            self.proj = nn.Conv2d(w_in, w_out, 1, stride, 0, bias=False)
            self.bn = nn.BatchNorm2d(w_out)
        self.f = BottleneckTransform(w_in, w_out, stride, group_w, se_r)
        self.relu = nn.ReLU(True)

    def forward(self, x):
        if self.proj_block:
            return self.relu(self.bn(self.proj(x)) + self.f(x))
        return self.relu(x + self.f(x))


class AnyStage(nn.Module):  # pycls anynet.AnyStage: b1, b2, ...
    def __init__(self, w_in, w_out, stride, depth) -> None:
        super().__init__()
        for i in range(depth):
            self.add_module(f"b{i + 1}", ResBottleneckBlock(w_in, w_out, stride))
            stride, w_in = 1, w_out

    def forward(self, x):
        for block in self.children():
            x = block(x)
        return x


class SimpleStemIN(nn.Module):  # pycls anynet.SimpleStemIN: conv, bn, relu
    def __init__(self, w_in, w_out) -> None:
        super().__init__()
        self.conv = nn.Conv2d(w_in, w_out, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(w_out)
        self.relu = nn.ReLU(True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class AnyHead(nn.Module):  # pycls anynet.AnyHead: avg_pool, fc
    def __init__(self, w_in, classes) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(w_in, classes, bias=True)

    def forward(self, x):
        return self.fc(self.avg_pool(x).view(x.size(0), -1))


class PyclsRegNetY(nn.Module):  # pycls anynet.AnyNet (RegNetY layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = SimpleStemIN(3, 8)
        self.s1 = AnyStage(8, 8, 2, 1)
        self.s2 = AnyStage(8, 16, 2, 2)
        self.head = AnyHead(16, classes)

    def forward(self, x):
        return self.head(self.s2(self.s1(self.stem(x))))


# ------------------------------------------------------------- MIT Han lab ProxylessNAS


class ConvLayer(nn.Module):  # proxyless_nas layers.ConvLayer: conv, bn, act (ReLU6)
    def __init__(self, c_in, c_out, k, stride) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class MBInvertedConvLayer(nn.Module):  # proxyless_nas layers.MBInvertedConvLayer
    def __init__(self, c_in, c_out, k, stride, expand_ratio) -> None:
        super().__init__()
        mid = c_in * expand_ratio
        if expand_ratio > 1:
            self.inverted_bottleneck = nn.Sequential(
                OrderedDict(
                    conv=nn.Conv2d(c_in, mid, 1, 1, 0, bias=False),
                    bn=nn.BatchNorm2d(mid),
                    act=nn.ReLU6(inplace=True),
                )
            )
        else:
            self.inverted_bottleneck = None
        self.depth_conv = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False),
                bn=nn.BatchNorm2d(mid),
                act=nn.ReLU6(inplace=True),
            )
        )
        self.point_linear = nn.Sequential(
            OrderedDict(conv=nn.Conv2d(mid, c_out, 1, 1, 0, bias=False), bn=nn.BatchNorm2d(c_out))
        )

    def forward(self, x):
        if self.inverted_bottleneck is not None:
            x = self.inverted_bottleneck(x)
        return self.point_linear(self.depth_conv(x))


class MobileInvertedResidualBlock(nn.Module):  # proxyless_nas: mobile_inverted_conv, shortcut
    def __init__(self, conv: nn.Module, residual: bool) -> None:
        super().__init__()
        self.mobile_inverted_conv = conv
        self.shortcut = nn.Identity() if residual else None

    def forward(self, x):
        if self.shortcut is None:
            return self.mobile_inverted_conv(x)
        return self.mobile_inverted_conv(x) + self.shortcut(x)


class LinearLayer(nn.Module):  # proxyless_nas layers.LinearLayer: `linear`
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.linear = nn.Linear(c_in, c_out, bias=True)

    def forward(self, x):
        return self.linear(x)


class ProxylessNAS(nn.Module):  # proxyless_nas ProxylessNASNets (proxyless_mobile), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.first_conv = ConvLayer(3, 8, 3, 2)
        self.blocks = nn.ModuleList(
            [
                MobileInvertedResidualBlock(MBInvertedConvLayer(8, 8, 3, 1, 1), False),
                MobileInvertedResidualBlock(MBInvertedConvLayer(8, 12, 5, 2, 3), False),
                MobileInvertedResidualBlock(MBInvertedConvLayer(12, 12, 3, 1, 3), True),
                MobileInvertedResidualBlock(MBInvertedConvLayer(12, 16, 7, 2, 6), False),
            ]
        )
        self.feature_mix_layer = ConvLayer(16, 48, 1, 1)
        self.classifier = LinearLayer(48, classes)

    def forward(self, x):
        x = self.first_conv(x)
        for block in self.blocks:
            x = block(x)
        x = self.feature_mix_layer(x).mean(3).mean(2)
        return self.classifier(x)


ZOO = {  # name: (build, input shape)
    "osmr_resnet": (OsmrResNet, (2, 3, 64, 64)),
    "cadene_se_resnet": (CadeneSEResNet, (2, 3, 64, 64)),
    "cadene_xception": (CadeneXception, (2, 3, 64, 64)),
    "gen_mobilenetv3": (GenMobileNetV3, (2, 3, 32, 32)),
    "d2l_resnet": (d2l_resnet, (2, 1, 64, 64)),
    "d2l_densenet": (d2l_densenet, (2, 1, 64, 64)),
    "huy_cifar_resnet18": (HuyResNet18, (2, 3, 32, 32)),
    "tonylins_mobilenetv2": (TonyMobileNetV2, (2, 3, 32, 32)),
    "pycls_regnety": (PyclsRegNetY, (2, 3, 32, 32)),
    "proxyless_nas": (ProxylessNAS, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
