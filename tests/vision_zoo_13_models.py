"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_13.py (issue 16's held-out measure, session 13): kuangliu/pytorch-cifar's
GoogLeNet (`pre_layers`, `a3`/`b3`/`a4`, Inceptions of four Sequentials `b1`..`b4`, biased convs),
ResNeXt29 (a 1x1 stem, grouped 3x3s, a `shortcut` Sequential, the bottleneck width doubling per
stage) and DenseNet (bottlenecks that put the new features *before* the input in the concat,
`transN` that average-pool), timm's ECA-ResNet-D (a deep stem, average-pooled downsamples, the
`se` an ECA Conv1d over the pooled channels), CSPResNet (`conv_exp` split in two halves, the
bottlenecks on one, `conv_transition_b`/`conv_transition`, leaky ReLUs inside the norms), NF-ResNet
(normalizer-free: scaled weight-standardised convs with a `gain`, pre-activation bottlenecks
scaled by beta and alpha, no norm layer anywhere), ResNeSt (split attention `conv2.conv`/`fc1`/
`fc2` with a radix softmax, average pooling for the stride) and SKResNet (selective kernel: two
`paths`, one dilated, mixed by `attn.fc_reduce`/`fc_select`), rwightman's gen-efficientnet MixNet
(MixedConv2d: a ModuleDict of convs over channel splits, kernels 3/5/7) and mmpretrain's SEResNet
(`se_layer.conv1.conv`/`conv2.conv` ConvModules without norms under `backbone.`).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input
from tests.vision_zoo_8_models import BatchNormAct2d, _down
from tests.vision_zoo_12_models import ImageClassifier

# ------------------------------------------------------------ kuangliu/pytorch-cifar GoogLeNet


class KlInception(nn.Module):  # pytorch-cifar models/googlenet.py Inception
    def __init__(self, c_in, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_planes) -> None:
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(c_in, n1x1, 1), nn.BatchNorm2d(n1x1), nn.ReLU(True))
        self.b2 = nn.Sequential(
            nn.Conv2d(c_in, n3x3red, 1),
            nn.BatchNorm2d(n3x3red),
            nn.ReLU(True),
            nn.Conv2d(n3x3red, n3x3, 3, padding=1),
            nn.BatchNorm2d(n3x3),
            nn.ReLU(True),
        )
        self.b3 = nn.Sequential(  # the "5x5" branch: two 3x3 convs
            nn.Conv2d(c_in, n5x5red, 1),
            nn.BatchNorm2d(n5x5red),
            nn.ReLU(True),
            nn.Conv2d(n5x5red, n5x5, 3, padding=1),
            nn.BatchNorm2d(n5x5),
            nn.ReLU(True),
            nn.Conv2d(n5x5, n5x5, 3, padding=1),
            nn.BatchNorm2d(n5x5),
            nn.ReLU(True),
        )
        self.b4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),
            nn.Conv2d(c_in, pool_planes, 1),
            nn.BatchNorm2d(pool_planes),
            nn.ReLU(True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class KlGoogLeNet(nn.Module):  # pytorch-cifar GoogLeNet, narrowed (a3, b3, a4, a5)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.pre_layers = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(True)
        )
        self.a3 = KlInception(16, 4, 4, 8, 2, 4, 4)  # -> 20
        self.b3 = KlInception(20, 8, 4, 8, 2, 4, 4)  # -> 24
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.a4 = KlInception(24, 8, 6, 10, 2, 6, 4)  # -> 28
        self.a5 = KlInception(28, 8, 6, 12, 4, 6, 6)  # -> 32
        self.avgpool = nn.AvgPool2d(8, stride=1)
        self.linear = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pre_layers(x)
        out = self.maxpool(self.b3(self.a3(out)))
        out = self.maxpool(self.a4(out))
        out = self.avgpool(self.a5(out))
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------------------------------ kuangliu/pytorch-cifar ResNeXt29


class KlResNeXtBlock(nn.Module):  # pytorch-cifar models/resnext.py Block (expansion 2)
    expansion = 2

    def __init__(self, c_in: int, cardinality: int, bottleneck_width: int, stride: int) -> None:
        super().__init__()
        group_width = cardinality * bottleneck_width
        c_out = self.expansion * group_width
        self.conv1 = nn.Conv2d(c_in, group_width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(group_width)
        self.conv2 = nn.Conv2d(
            group_width, group_width, 3, stride, 1, groups=cardinality, bias=False
        )
        self.bn2 = nn.BatchNorm2d(group_width)
        self.conv3 = nn.Conv2d(group_width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        return F.relu(out)


class KlResNeXt29(nn.Module):  # pytorch-cifar ResNeXt(num_blocks=[3,3,3]), narrowed
    def __init__(self, num_blocks=(2, 1, 1), cardinality=4, width=2, classes: int = 5) -> None:
        super().__init__()
        self.cardinality, self.bottleneck_width, self.in_planes = cardinality, width, 16
        self.conv1 = nn.Conv2d(3, 16, 1, bias=False)  # a 1x1 stem, as the repository has it
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(num_blocks[0], 1)
        self.layer2 = self._make_layer(num_blocks[1], 2)
        self.layer3 = self._make_layer(num_blocks[2], 2)
        self.linear = nn.Linear(cardinality * width * 8, classes)

    def _make_layer(self, num_blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(
                KlResNeXtBlock(self.in_planes, self.cardinality, self.bottleneck_width, s)
            )
            self.in_planes = KlResNeXtBlock.expansion * self.cardinality * self.bottleneck_width
        self.bottleneck_width *= 2  # the width doubles after each stage
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 8)
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------------------------------ kuangliu/pytorch-cifar DenseNet


class KlDenseBottleneck(nn.Module):  # pytorch-cifar models/densenet.py Bottleneck
    def __init__(self, c_in: int, growth: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([out, x], 1)  # the new features first (torchvision puts them last)


class KlTransition(nn.Module):  # pytorch-cifar models/densenet.py Transition
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c_in)
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class KlDenseNet(nn.Module):  # pytorch-cifar DenseNet121 layout (6/12/24/16 there), narrowed
    def __init__(self, nblocks=(2, 2, 1, 1), growth: int = 4, classes: int = 5) -> None:
        super().__init__()
        planes = 2 * growth
        self.conv1 = nn.Conv2d(3, planes, 3, padding=1, bias=False)
        for i, n in enumerate(nblocks):
            layers = []
            for _ in range(n):
                layers.append(KlDenseBottleneck(planes, growth))
                planes += growth
            setattr(self, f"dense{i + 1}", nn.Sequential(*layers))
            if i < len(nblocks) - 1:
                out_planes = int(math.floor(planes * 0.5))
                setattr(self, f"trans{i + 1}", KlTransition(planes, out_planes))
                planes = out_planes
        self.bn = nn.BatchNorm2d(planes)
        self.linear = nn.Linear(planes, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)
        out = self.trans1(self.dense1(out))
        out = self.trans2(self.dense2(out))
        out = self.trans3(self.dense3(out))
        out = self.dense4(out)
        out = F.avg_pool2d(F.relu(self.bn(out)), 4)
        return self.linear(out.view(out.size(0), -1))


# ----------------------------------------------------------------- timm ECA-ResNet-D


class EcaModule(nn.Module):  # timm.layers.eca.EcaModule: a Conv1d across channels, no bias
    def __init__(self, channels: int, gamma: int = 2, beta: int = 1) -> None:
        super().__init__()
        t = int(abs(math.log(channels, 2) + beta) / gamma)
        k = max(t if t % 2 else t + 1, 3)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean((2, 3)).view(x.shape[0], 1, -1)
        y = self.conv(y)
        return x * torch.sigmoid(y).view(x.shape[0], -1, 1, 1).expand_as(x)


class EcaBottleneck(nn.Module):  # timm.models.resnet.Bottleneck(attn_layer='eca')
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int, downsample=None) -> None:
        super().__init__()
        c_out = planes * 4
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.drop_block = nn.Identity()
        self.act2 = nn.ReLU(inplace=True)
        self.aa = nn.Identity()
        self.conv3 = nn.Conv2d(planes, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.se = EcaModule(c_out)
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


def _timm_avg_down(c_in: int, c_out: int, stride: int) -> nn.Sequential:  # downsample_avg
    return _down(c_in, c_out, stride, avg=True)


def _timm_deep_stem(width: int, c_out: int) -> nn.Sequential:  # stem_type='deep'
    return nn.Sequential(
        nn.Conv2d(3, width, 3, 2, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.Conv2d(width, width, 3, 1, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.Conv2d(width, c_out, 3, 1, 1, bias=False),
    )


class TimmResNet(nn.Module):  # timm.models.resnet.ResNet: one class for the three timm rows
    def __init__(self, stem: nn.Module, layers: list[nn.Sequential], width: int, classes: int = 5):
        super().__init__()
        self.conv1 = stem
        self.bn1 = nn.BatchNorm2d(16)  # every row's stem gives 16 channels
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1, self.layer2 = layers
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(self.global_pool(x).flatten(1))


def timm_ecaresnet_d() -> nn.Module:  # timm ecaresnet50d layout (deep stem, avg_down), narrowed
    layer1 = nn.Sequential(
        EcaBottleneck(16, 8, 1, _timm_avg_down(16, 32, 1)), EcaBottleneck(32, 8, 1)
    )
    layer2 = nn.Sequential(EcaBottleneck(32, 16, 2, _timm_avg_down(32, 64, 2)))
    return TimmResNet(_timm_deep_stem(8, 16), [layer1, layer2], 64)


# -------------------------------------------------------------------- timm CSPResNet


class CspConvNormAct(nn.Module):  # timm ConvNormAct, leaky ReLU (cspnet's default act)
    def __init__(self, c_in, c_out, k=1, stride=1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = BatchNormAct2d(c_out, nn.LeakyReLU if act else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class CspBottleneckBlock(nn.Module):  # timm.models.cspnet.BottleneckBlock
    def __init__(self, c_in: int, c_out: int, bottle_ratio: float = 0.5) -> None:
        super().__init__()
        mid = int(round(c_out * bottle_ratio))
        self.conv1 = CspConvNormAct(c_in, mid, 1)
        self.conv2 = CspConvNormAct(mid, mid, 3)
        self.attn = nn.Identity()
        self.conv3 = CspConvNormAct(mid, c_out, 1, act=False)
        self.drop_path = nn.Identity()
        self.act3 = nn.LeakyReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv3(self.attn(self.conv2(self.conv1(x))))
        return self.act3(self.drop_path(x) + shortcut)


class CspCrossStage(nn.Module):  # timm.models.cspnet.CrossStage (cross_linear, expand_ratio 2)
    def __init__(self, c_in: int, c_out: int, stride: int, depth: int) -> None:
        super().__init__()
        self.expand_chs = exp = c_out * 2
        if stride != 1:
            self.conv_down = CspConvNormAct(c_in, c_in, 3, stride)
        else:
            self.conv_down = nn.Identity()
        self.conv_exp = CspConvNormAct(c_in, exp, 1, act=False)
        self.blocks = nn.Sequential(*[CspBottleneckBlock(exp // 2, c_out) for _ in range(depth)])
        self.conv_transition_b = CspConvNormAct(c_out, exp // 2, 1)
        self.conv_transition = CspConvNormAct(exp, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_exp(self.conv_down(x))
        xs, xb = x.split(self.expand_chs // 2, dim=1)
        xb = self.conv_transition_b(self.blocks(xb)).contiguous()
        return self.conv_transition(torch.cat([xs, xb], dim=1))


class CspStem(nn.Module):  # timm cspnet create_csp_stem: conv1, pool
    def __init__(self, c_out: int) -> None:
        super().__init__()
        self.conv1 = CspConvNormAct(3, c_out, 7, 2)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv1(x))


class CspHead(nn.Module):  # timm ClassifierHead: global_pool, fc
    def __init__(self, c_in: int, classes: int) -> None:
        super().__init__()
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.global_pool(x).flatten(1))


class TimmCspResNet(nn.Module):  # timm cspresnet50 (depths 3/3/5/2 there), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = CspStem(8)
        self.stages = nn.Sequential(CspCrossStage(8, 16, 1, 1), CspCrossStage(16, 32, 2, 2))
        self.head = CspHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


# -------------------------------------------------------------------- timm NF-ResNet

_RELU_GAMMA = 1.7139588594436646  # timm nfnet _nonlin_gamma['relu']


class ScaledStdConv2d(nn.Conv2d):  # timm.layers.std_conv.ScaledStdConv2d: a per-channel gain
    def __init__(self, c_in, c_out, k, stride=1, bias=True, gamma=_RELU_GAMMA, gain_init=1.0):
        super().__init__(c_in, c_out, k, stride, ((stride - 1) + (k - 1)) // 2, bias=bias)
        self.gain = nn.Parameter(torch.full((c_out, 1, 1, 1), gain_init))
        self.scale = gamma * self.weight[0].numel() ** -0.5
        self.eps = 1e-6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1),
            None,
            None,
            weight=(self.gain * self.scale).view(-1),
            training=True,
            momentum=0.0,
            eps=self.eps,
        ).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding)


class NfDownsampleAvg(nn.Module):  # timm nfnet DownsampleAvg: pool, conv
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.pool = (
            nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
            if stride > 1
            else nn.Identity()
        )
        self.conv = ScaledStdConv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class NormFreeBlock(nn.Module):  # timm.models.nfnet.NormFreeBlock (nf_resnet: no attention)
    def __init__(self, c_in: int, c_out: int, stride: int, alpha: float, beta: float) -> None:
        super().__init__()
        mid = c_out // 4
        self.alpha, self.beta = alpha, beta
        self.downsample = (
            NfDownsampleAvg(c_in, c_out, stride) if c_in != c_out or stride != 1 else None
        )
        self.act1 = nn.ReLU()
        self.conv1 = ScaledStdConv2d(c_in, mid, 1)
        self.act2 = nn.ReLU(inplace=True)
        self.conv2 = ScaledStdConv2d(mid, mid, 3, stride)
        self.act3 = nn.ReLU()
        self.conv3 = ScaledStdConv2d(mid, c_out, 1, gain_init=0.0)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(x) * self.beta
        shortcut = x if self.downsample is None else self.downsample(out)
        out = self.conv1(out)
        out = self.conv2(self.act2(out))
        out = self.conv3(self.act3(out))
        return self.drop_path(out) * self.alpha + shortcut


class NfStem(nn.Module):  # timm nfnet create_stem('7x7_pool'): conv, pool (no activation)
    def __init__(self, c_out: int) -> None:
        super().__init__()
        self.conv = ScaledStdConv2d(3, c_out, 7, 2)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class TimmNfResNet(nn.Module):  # timm nf_resnet26 layout (NormFreeNet), narrowed
    def __init__(self, depths=(2, 1), channels=(32, 64), alpha: float = 0.2, classes=5) -> None:
        super().__init__()
        self.stem = NfStem(16)
        stages, c_in, expected_var = [], 16, 1.0
        for i, (depth, c_out) in enumerate(zip(depths, channels)):
            blocks = []
            for j in range(depth):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(NormFreeBlock(c_in, c_out, stride, alpha, 1.0 / expected_var**0.5))
                if j == 0:
                    expected_var = 1.0  # reset after each stage's first block
                expected_var += alpha**2
                c_in = c_out
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final_conv = nn.Identity()
        self.final_act = nn.ReLU(inplace=True)
        self.head = CspHead(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_act(self.final_conv(self.stages(self.stem(x))))
        return self.head(x)


# ---------------------------------------------------------------------- timm ResNeSt


class RadixSoftmax(nn.Module):  # timm.layers.split_attn.RadixSoftmax
    def __init__(self, radix: int, cardinality: int) -> None:
        super().__init__()
        self.radix, self.cardinality = radix, cardinality

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.size(0)
        x = x.view(batch, self.cardinality, self.radix, -1).transpose(1, 2)
        return F.softmax(x, dim=1).reshape(batch, -1)


class SplitAttn(nn.Module):  # timm.layers.split_attn.SplitAttn (radix 2)
    def __init__(self, c: int, stride: int, radix: int = 2, attn_chs: int = 32) -> None:
        super().__init__()
        self.radix = radix
        mid = c * radix
        self.conv = nn.Conv2d(c, mid, 3, stride, 1, groups=radix, bias=False)
        self.bn0 = nn.BatchNorm2d(mid)
        self.drop = nn.Identity()
        self.act0 = nn.ReLU(inplace=True)
        self.fc1 = nn.Conv2d(c, attn_chs, 1)
        self.bn1 = nn.BatchNorm2d(attn_chs)
        self.act1 = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(attn_chs, mid, 1)
        self.rsoftmax = RadixSoftmax(radix, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act0(self.drop(self.bn0(self.conv(x))))
        b, rc, h, w = x.shape
        x = x.reshape((b, self.radix, rc // self.radix, h, w))
        x_gap = x.sum(dim=1).mean((2, 3), keepdim=True)
        x_gap = self.act1(self.bn1(self.fc1(x_gap)))
        x_attn = self.rsoftmax(self.fc2(x_gap)).view(b, -1, 1, 1)
        out = (x * x_attn.reshape((b, self.radix, rc // self.radix, 1, 1))).sum(dim=1)
        return out.contiguous()


class ResNestBottleneck(nn.Module):  # timm.models.resnest.ResNestBottleneck (avd, avd_last)
    def __init__(self, c_in: int, planes: int, stride: int, downsample=None) -> None:
        super().__init__()
        avd_stride = stride if stride > 1 else 0
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.avd_first = None
        self.conv2 = SplitAttn(planes, 1)  # the stride moves to the average pool (avd)
        self.bn2 = nn.Identity()
        self.drop_block = nn.Identity()
        self.act2 = nn.Identity()
        self.avd_last = nn.AvgPool2d(3, avd_stride, padding=1) if avd_stride > 0 else None
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        out = self.act1(self.drop_block(self.bn1(self.conv1(x))))
        out = self.act2(self.drop_block(self.bn2(self.conv2(out))))
        if self.avd_last is not None:
            out = self.avd_last(out)
        out = self.drop_block(self.bn3(self.conv3(out)))
        if self.downsample is not None:
            shortcut = self.downsample(x)
        out += shortcut
        return self.act3(out)


def timm_resnest() -> nn.Module:  # timm resnest14d layout (deep stem, avg_down, radix 2), narrowed
    layer1 = nn.Sequential(ResNestBottleneck(16, 4, 1, _timm_avg_down(16, 16, 1)))
    layer2 = nn.Sequential(ResNestBottleneck(16, 8, 2, _timm_avg_down(16, 32, 2)))
    return TimmResNet(_timm_deep_stem(8, 16), [layer1, layer2], 32)


# -------------------------------------------------------------------- timm SKResNet-18


class SkConvNormAct(nn.Module):  # timm ConvNormAct with dilation: conv, bn (act inside)
    def __init__(self, c_in, c_out, k, stride=1, dilation=1, act=True) -> None:
        super().__init__()
        padding = ((stride - 1) + dilation * (k - 1)) // 2
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, dilation, bias=False)
        self.bn = BatchNormAct2d(c_out, nn.ReLU if act else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class SelectiveKernelAttn(nn.Module):  # timm.layers.selective_kernel.SelectiveKernelAttn
    def __init__(self, c: int, num_paths: int, attn_chs: int) -> None:
        super().__init__()
        self.num_paths = num_paths
        self.fc_reduce = nn.Conv2d(c, attn_chs, 1, bias=False)
        self.bn = nn.BatchNorm2d(attn_chs)
        self.act = nn.ReLU(inplace=True)
        self.fc_select = nn.Conv2d(attn_chs, c * num_paths, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.sum(1).mean((2, 3), keepdim=True)
        x = self.fc_select(self.act(self.bn(self.fc_reduce(x))))
        b, c, h, w = x.shape
        return torch.softmax(x.view(b, self.num_paths, c // self.num_paths, h, w), dim=1)


class SelectiveKernel(nn.Module):  # timm SelectiveKernel: 3x3 and dilated 3x3 ("5x5") paths
    def __init__(self, c_in: int, c_out: int, stride: int, attn_chs: int = 16) -> None:
        super().__init__()
        self.in_channels, self.num_paths = c_in, 2
        self.paths = nn.ModuleList(
            [SkConvNormAct(c_in // 2, c_out, 3, stride, d) for d in (1, 2)]  # split_input
        )
        self.attn = SelectiveKernelAttn(c_out, 2, attn_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_split = torch.split(x, self.in_channels // self.num_paths, 1)
        x = torch.stack([op(x_split[i]) for i, op in enumerate(self.paths)], dim=1)
        return torch.sum(x * self.attn(x), dim=1)


class SelectiveKernelBasic(nn.Module):  # timm.models.sknet.SelectiveKernelBasic
    def __init__(self, c_in: int, planes: int, stride: int, downsample=None) -> None:
        super().__init__()
        self.conv1 = SelectiveKernel(c_in, planes, stride)
        self.conv2 = SkConvNormAct(planes, planes, 3, act=False)
        self.se = None
        self.act = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.drop_path = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv2(self.conv1(x))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act(x)


def timm_skresnet() -> nn.Module:  # timm skresnet18 layout (a 7x7 stem), narrowed
    stem = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
    down = nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
    layer1 = nn.Sequential(SelectiveKernelBasic(16, 16, 1), SelectiveKernelBasic(16, 16, 1))
    layer2 = nn.Sequential(SelectiveKernelBasic(16, 32, 2, down))
    return TimmResNet(stem, [layer1, layer2], 32)


# ------------------------------------------------------------ rwightman/gen-efficientnet MixNet


def _split_channels(c: int, n: int) -> list[int]:  # gen_efficientnet mixed_conv2d
    split = [c // n for _ in range(n)]
    split[0] += c - sum(split)
    return split


class MixedConv2d(nn.ModuleDict):  # gen_efficientnet MixedConv2d: keys "0", "1", ...
    def __init__(self, c_in: int, c_out: int, kernels, stride=1, depthwise=False) -> None:
        super().__init__()
        in_splits, out_splits = _split_channels(c_in, len(kernels)), _split_channels(
            c_out, len(kernels)
        )
        for i, (k, ci, co) in enumerate(zip(kernels, in_splits, out_splits)):
            groups = co if depthwise else 1
            self.add_module(
                str(i),
                nn.Conv2d(
                    ci, co, k, stride, ((stride - 1) + (k - 1)) // 2, groups=groups, bias=False
                ),
            )
        self.splits = in_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_split = torch.split(x, self.splits, 1)
        return torch.cat([c(x_split[i]) for i, c in enumerate(self.values())], 1)


class GenSqueezeExcite(nn.Module):  # gen_efficientnet SqueezeExcite: conv_reduce, conv_expand
    def __init__(self, c: int, rd: int, act) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1)
        self.act1 = act()
        self.conv_expand = nn.Conv2d(rd, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * torch.sigmoid(s)


class MixInvertedResidual(nn.Module):  # gen_efficientnet InvertedResidual with mixed convs
    def __init__(self, c_in, c_out, dw_kernels, pw_groups, stride, expand, act, se_rd) -> None:
        super().__init__()
        mid = c_in * expand
        self.has_residual = stride == 1 and c_in == c_out
        self.conv_pw = MixedConv2d(c_in, mid, [1] * pw_groups)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act1 = act()
        self.conv_dw = MixedConv2d(mid, mid, dw_kernels, stride, depthwise=True)
        self.bn2 = nn.BatchNorm2d(mid)
        self.act2 = act()
        self.se = GenSqueezeExcite(mid, se_rd, act) if se_rd else nn.Identity()
        self.conv_pwl = MixedConv2d(mid, c_out, [1] * pw_groups)
        self.bn3 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        x = self.act1(self.bn1(self.conv_pw(x)))
        x = self.act2(self.bn2(self.conv_dw(x)))
        x = self.bn3(self.conv_pwl(self.se(x)))
        return x + residual if self.has_residual else x


class GenDepthwiseSeparable(nn.Module):  # gen_efficientnet DepthwiseSeparableConv (no SE)
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.has_residual = c_in == c_out
        self.conv_dw = nn.Conv2d(c_in, c_in, 3, 1, 1, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        x = self.bn2(self.conv_pw(self.act1(self.bn1(self.conv_dw(x)))))
        return x + residual if self.has_residual else x


class GenMixNet(nn.Module):  # gen_efficientnet mixnet_s layout (blocks narrowed)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        self.blocks = nn.Sequential(
            nn.Sequential(GenDepthwiseSeparable(8, 8)),  # ds_r1_k3_s1_e1_c16
            nn.Sequential(  # ir_r1_k3_a1.1_p1.1_s2_e6_c24, ir_r1_k3_a1.1_p1.1_s1_e3_c24
                MixInvertedResidual(8, 12, [3], 2, 2, 3, nn.ReLU, 0),
                MixInvertedResidual(12, 12, [3], 2, 1, 3, nn.ReLU, 0),
            ),
            nn.Sequential(  # ir_r1_k3.5.7_s2_e6_c40_se0.5_nsw (swish, three dw kernels)
                MixInvertedResidual(12, 18, [3, 5, 7], 1, 2, 3, nn.SiLU, 6),
                MixInvertedResidual(18, 18, [3, 5], 2, 1, 3, nn.SiLU, 9),
            ),
        )
        self.conv_head = nn.Conv2d(18, 48, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(48)
        self.act2 = nn.ReLU(inplace=True)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(48, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.bn2(self.conv_head(x)))
        return self.classifier(self.global_pool(x).flatten(1))


# --------------------------------------------------------------------- mmpretrain SEResNet


class MmSELayer(nn.Module):  # mmpretrain.models.utils.SELayer: ConvModules without norms
    def __init__(self, c: int, ratio: int = 4) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = _MmConvAct(c, c // ratio, nn.ReLU)
        self.conv2 = _MmConvAct(c // ratio, c, nn.Sigmoid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv2(self.conv1(self.global_avgpool(x)))


class _MmConvAct(nn.Module):  # mmcv ConvModule(norm_cfg=None): a biased conv, `activate`
    def __init__(self, c_in: int, c_out: int, act) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1)
        self.activate = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.conv(x))


class MmSEBottleneck(nn.Module):  # mmpretrain seresnet.SEBottleneck (style pytorch)
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        mid = c_out // 4
        self.conv1, self.bn1 = nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )
        self.se_layer = MmSELayer(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se_layer(self.bn3(self.conv3(out)))
        return self.relu(out + identity)


class MmSEResNet(nn.Module):  # mmpretrain SEResNet(depth=50): conv1/bn1 stem, layerN
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(MmSEBottleneck(16, 32, 1), MmSEBottleneck(32, 32, 1))
        self.layer2 = nn.Sequential(MmSEBottleneck(32, 64, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer2(self.layer1(x))


def mm_seresnet() -> nn.Module:
    return ImageClassifier(MmSEResNet(), 64)


ZOO = {  # name: (build, input shape)
    "kuangliu_googlenet": (KlGoogLeNet, (2, 3, 32, 32)),
    "kuangliu_resnext29": (KlResNeXt29, (2, 3, 32, 32)),
    "kuangliu_densenet": (KlDenseNet, (2, 3, 32, 32)),
    "timm_ecaresnet_d": (timm_ecaresnet_d, (2, 3, 64, 64)),
    "timm_cspresnet": (TimmCspResNet, (2, 3, 64, 64)),
    "timm_nf_resnet": (TimmNfResNet, (2, 3, 64, 64)),
    "timm_resnest": (timm_resnest, (2, 3, 64, 64)),
    "timm_skresnet": (timm_skresnet, (2, 3, 64, 64)),
    "gen_mixnet": (GenMixNet, (2, 3, 32, 32)),
    "mm_seresnet": (mm_seresnet, (2, 3, 64, 64)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
