"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_19.py (issue 16's held-out measure, session 19): torchvision's
MobileNetV3-Large (`features.N` of `block` Sequentials, ReLU then hard-swish stages, an SE of
`fc1`/`fc2` squeezed to a multiple of 8 of the expanded width, a Linear-Hardswish-Linear
`classifier`), SqueezeNet 1.0 (a 7x7 stride-2 unpadded stem conv, three ceil-mode max-pools,
Fire modules, a `final_conv` head) and VGG-11 without batch norm (biased convs, an
AdaptiveAvgPool2d((7, 7)) that replicates a 1x1 map, three Linears with dropout), timm's
tf_efficientnet (`conv_stem`/`bn1` with the activation inside the norm, batch norm eps 1e-3,
TensorFlow "same" padding computed in the forward of the strided convs, `blocks.N.M`
DepthwiseSeparable and InvertedResidual blocks with SE), timm's ResNet-50-GN (torchvision-like
bottlenecks whose norms are GroupNorm(32)), timm's ConvNeXt-V2 (`stem`, `stages.N.downsample`/
`blocks`, a depthwise 7x7 `conv_dw`, channels-last LayerNorm, an MLP with a GlobalResponseNorm
`grn` between `fc1` and `fc2`, no layer scale, a `head.norm`/`head.fc`), ma-xu's StarNet
(Rewrite-the-Stars: ConvBN Sequentials `conv`/`bn`, a 7x7 depthwise conv, two 1x1 branches `f1`
and `f2` multiplied after a ReLU6 on one, `g`, a second depthwise `dwconv2`), JierunChen's
FasterNet (a partial 3x3 conv over the first quarter of the channels, a 1x1-BN-GELU-1x1 `mlp`,
`PatchMerging` `reduction`/`norm`, an `avgpool_pre_head` Sequential with a 1x1 conv and GELU),
XingangPan's IBN-Net ResNet-50-IBN-a (`bn1` an IBN module: InstanceNorm over the first half of
the channels and BatchNorm over the rest, concatenated; plain `bn1` in layer4) and Ultralytics'
YOLOv8-cls (`model.N` of Conv `conv`/`bn` with eps 1e-3 and SiLU, C2f blocks that chunk `cv1`
in two, append each Bottleneck's output and fuse with `cv2`, a Classify head that returns the
softmax in eval mode).

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


def _make_divisible(v: float, divisor: int = 8) -> int:  # torchvision / timm make_divisible
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# ------------------------------------------------------------------ torchvision MobileNetV3-Large


class Conv2dNormActivation(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation
    def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=nn.Hardswish) -> None:
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, eps=0.001, momentum=0.01),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class TvSqueezeExcitation(nn.Module):  # torchvision.ops.misc.SqueezeExcitation (hard sigmoid)
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class TvInvertedResidualV3(nn.Module):  # torchvision.models.mobilenetv3.InvertedResidual
    def __init__(self, c_in, k, expanded, c_out, use_se, act, stride) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        if expanded != c_in:
            layers.append(Conv2dNormActivation(c_in, expanded, 1, act=act))
        layers.append(Conv2dNormActivation(expanded, expanded, k, stride, expanded, act=act))
        if use_se:
            layers.append(TvSqueezeExcitation(expanded, _make_divisible(expanded // 4, 8)))
        layers.append(Conv2dNormActivation(expanded, c_out, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result += x
        return result


class TvMobileNetV3Large(nn.Module):  # torchvision mobilenet_v3_large's setting table, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        re, hs = nn.ReLU, nn.Hardswish
        setting = [  # c_in, kernel, expanded, c_out, SE, activation, stride
            (8, 3, 8, 8, False, re, 1),
            (8, 3, 32, 16, False, re, 2),
            (16, 3, 48, 16, False, re, 1),
            (16, 5, 48, 24, True, re, 2),
            (24, 3, 96, 32, False, hs, 2),
            (32, 3, 80, 32, False, hs, 1),
            (32, 5, 96, 40, True, hs, 1),
        ]
        layers: list[nn.Module] = [Conv2dNormActivation(3, 8, 3, 2)]
        layers += [TvInvertedResidualV3(*row) for row in setting]
        layers.append(Conv2dNormActivation(40, 240, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(240, 64), nn.Hardswish(inplace=True), nn.Dropout(0.2), nn.Linear(64, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


# ------------------------------------------------------------------ torchvision SqueezeNet 1.0


class Fire(nn.Module):  # torchvision.models.squeezenet.Fire
    def __init__(self, inplanes, squeeze, expand1x1, expand3x3) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)
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


class TvSqueezeNet10(nn.Module):  # torchvision SqueezeNet(version="1_0"), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=7, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(16, 4, 8, 8),
            Fire(16, 4, 8, 8),
            Fire(16, 8, 16, 16),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(32, 8, 16, 16),
            Fire(32, 12, 24, 24),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(48, 12, 24, 24),
        )
        final_conv = nn.Conv2d(48, classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


# ------------------------------------------------------------------ torchvision VGG-11 (no BN)


class TvVGG11(nn.Module):  # torchvision.models.vgg.VGG(make_layers(cfg "A")), narrowed
    def __init__(
        self, classes: int = 5, cfg=(8, "M", 16, "M", 32, 32, "M", 32, 32, "M", 32, 32, "M")
    ):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(c_in, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                c_in = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(c_in * 7 * 7, 64),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(64, 64),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(64, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


# ------------------------------------------------------------------ timm tf_efficientnet


def _pad_same(x: torch.Tensor, k: int, s: int, d: int = 1) -> torch.Tensor:  # timm padding.pad_same
    ih, iw = x.size()[-2:]
    pad_h = max((math.ceil(ih / s) - 1) * s + (k - 1) * d + 1 - ih, 0)
    pad_w = max((math.ceil(iw / s) - 1) * s + (k - 1) * d + 1 - iw, 0)
    return F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])


class Conv2dSame(nn.Conv2d):  # timm.layers.conv2d_same.Conv2dSame: TF "same", dynamic padding
    def __init__(self, c_in, c_out, k, stride=1, groups=1, bias=False) -> None:
        super().__init__(c_in, c_out, k, stride, 0, 1, groups, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _pad_same(x, self.kernel_size[0], self.stride[0], self.dilation[0])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _tf_conv(c_in, c_out, k, stride=1, groups=1) -> nn.Conv2d:  # timm create_conv2d, padding="same"
    if stride == 1:  # a static "same" pad is symmetric at stride 1: a plain conv
        return nn.Conv2d(c_in, c_out, k, 1, k // 2, groups=groups, bias=False)
    return Conv2dSame(c_in, c_out, k, stride, groups)


class BatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d: the activation inside
    def __init__(self, c, eps=1e-5, act=True) -> None:
        super().__init__(c, eps=eps)
        self.drop = nn.Identity()
        self.act = nn.SiLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
        )
        return self.act(self.drop(x))


class TimmSqueezeExcite(nn.Module):  # timm _efficientnet_blocks.SqueezeExcite
    def __init__(self, c: int, rd: int) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1, bias=True)
        self.act1 = nn.SiLU(inplace=True)
        self.conv_expand = nn.Conv2d(rd, c, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.conv_expand(self.act1(self.conv_reduce(x_se)))
        return x * self.gate(x_se)


class TfDepthwiseSeparable(nn.Module):  # timm DepthwiseSeparableConv (tf_ padding, eps 1e-3)
    def __init__(self, c_in, c_out, k=3, stride=1) -> None:
        super().__init__()
        self.has_skip = stride == 1 and c_in == c_out
        self.conv_dw = _tf_conv(c_in, c_in, k, stride, groups=c_in)
        self.bn1 = BatchNormAct2d(c_in, eps=1e-3)
        self.aa = nn.Identity()
        self.se = TimmSqueezeExcite(c_in, max(1, int(c_in * 0.25)))
        self.conv_pw = _tf_conv(c_in, c_out, 1)
        self.bn2 = BatchNormAct2d(c_out, eps=1e-3, act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.se(self.aa(self.bn1(self.conv_dw(x))))
        x = self.bn2(self.conv_pw(x))
        if self.has_skip:
            x = self.drop_path(x) + shortcut
        return x


class TfInvertedResidual(nn.Module):  # timm InvertedResidual (tf_ padding, eps 1e-3)
    def __init__(self, c_in, c_out, k=3, stride=1, exp=6) -> None:
        super().__init__()
        mid = c_in * exp
        self.has_skip = stride == 1 and c_in == c_out
        self.conv_pw = _tf_conv(c_in, mid, 1)
        self.bn1 = BatchNormAct2d(mid, eps=1e-3)
        self.conv_dw = _tf_conv(mid, mid, k, stride, groups=mid)
        self.bn2 = BatchNormAct2d(mid, eps=1e-3)
        self.aa = nn.Identity()
        self.se = TimmSqueezeExcite(mid, max(1, int(c_in * 0.25)))  # rd from the block's input
        self.conv_pwl = _tf_conv(mid, c_out, 1)
        self.bn3 = BatchNormAct2d(c_out, eps=1e-3, act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.bn1(self.conv_pw(x))
        x = self.se(self.aa(self.bn2(self.conv_dw(x))))
        x = self.bn3(self.conv_pwl(x))
        if self.has_skip:
            x = self.drop_path(x) + shortcut
        return x


class TimmTfEfficientNet(nn.Module):  # timm tf_efficientnet_b0 layout, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = _tf_conv(3, 16, 3, 2)
        self.bn1 = BatchNormAct2d(16, eps=1e-3)
        self.blocks = nn.Sequential(
            nn.Sequential(TfDepthwiseSeparable(16, 8)),
            nn.Sequential(TfInvertedResidual(8, 12, 3, 2), TfInvertedResidual(12, 12, 3, 1)),
            nn.Sequential(TfInvertedResidual(12, 20, 5, 2)),
        )
        self.conv_head = _tf_conv(20, 64, 1)
        self.bn2 = BatchNormAct2d(64, eps=1e-3)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.bn1(self.conv_stem(x)))
        x = self.bn2(self.conv_head(x))
        return self.classifier(torch.flatten(self.global_pool(x), 1))


# ------------------------------------------------------------------ timm ResNet-50-GN


class TimmGroupNorm(nn.GroupNorm):  # timm.layers.norm.GroupNorm(num_channels, num_groups=32)
    def __init__(self, num_channels: int, num_groups: int = 32, eps: float = 1e-5) -> None:
        super().__init__(num_groups, num_channels, eps=eps, affine=True)


class GnBottleneck(nn.Module):  # timm.models.resnet.Bottleneck with norm_layer=GroupNorm
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        outplanes = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = TimmGroupNorm(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = TimmGroupNorm(planes)
        self.drop_block = nn.Identity()
        self.act2 = nn.ReLU(inplace=True)
        self.aa = nn.Identity()
        self.conv3 = nn.Conv2d(planes, outplanes, 1, bias=False)
        self.bn3 = TimmGroupNorm(outplanes)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.drop_block(self.bn2(self.conv2(x))))
        x = self.bn3(self.conv3(self.aa(x)))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act3(x)


class TimmResNet50GN(nn.Module):  # timm resnet50_gn (GroupNorm(32) everywhere), narrowed
    def __init__(self, classes: int = 5, planes=(32, 32, 32, 64)) -> None:
        super().__init__()
        self.inplanes = 32
        self.conv1 = nn.Conv2d(3, 32, 7, 2, 3, bias=False)
        self.bn1 = TimmGroupNorm(32)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, p in enumerate(planes):
            self.add_module(
                f"layer{i + 1}", self._make_layer(p, 1 if i != 1 else 2, 1 if i == 0 else 2)
            )
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, classes)

    def _make_layer(self, planes, blocks, stride) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                TimmGroupNorm(planes * 4),
            )
        layers = [GnBottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [GnBottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.global_pool(x), 1))


# ------------------------------------------------------------------ timm ConvNeXt-V2


class LayerNorm2d(nn.LayerNorm):  # timm.layers.LayerNorm2d (channels first, eps 1e-6)
    def __init__(self, c: int) -> None:
        super().__init__(c, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class GlobalResponseNorm(nn.Module):  # timm.layers.GlobalResponseNorm, channels last
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_g = x.norm(p=2, dim=(1, 2), keepdim=True)
        x_n = x_g / (x_g.mean(dim=-1, keepdim=True) + self.eps)
        return x + torch.addcmul(self.bias, self.weight, x * x_n)


class GlobalResponseNormMlp(nn.Module):  # timm.layers.GlobalResponseNormMlp
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(0.0)
        self.grn = GlobalResponseNorm(hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop2 = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.grn(self.drop1(self.act(self.fc1(x))))
        return self.drop2(self.fc2(x))


class ConvNeXtV2Block(nn.Module):  # timm.models.convnext.ConvNeXtBlock(use_grn=True, ls None)
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = GlobalResponseNormMlp(dim, 4 * dim)
        self.shortcut = nn.Identity()
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv_dw(x)
        x = x.permute(0, 2, 3, 1)
        x = self.mlp(self.norm(x))
        x = x.permute(0, 3, 1, 2)
        return self.drop_path(x) + self.shortcut(shortcut)


class ConvNeXtV2Stage(nn.Module):  # timm.models.convnext.ConvNeXtStage
    def __init__(self, c_in: int, c_out: int, depth: int) -> None:
        super().__init__()
        if c_in != c_out:
            self.downsample = nn.Sequential(LayerNorm2d(c_in), nn.Conv2d(c_in, c_out, 2, 2))
        else:
            self.downsample = nn.Identity()
        self.blocks = nn.Sequential(*[ConvNeXtV2Block(c_out) for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class NormMlpClassifierHead(nn.Module):  # timm: global pool, LayerNorm2d, flatten, fc
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.norm = LayerNorm2d(c)
        self.flatten = nn.Flatten(1)
        self.pre_logits = nn.Identity()
        self.drop = nn.Dropout(0.0)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(self.norm(self.global_pool(x)))
        return self.fc(self.drop(self.pre_logits(x)))


class TimmConvNeXtV2(nn.Module):  # timm convnextv2_atto layout, narrowed
    def __init__(self, classes: int = 5, dims=(8, 16, 32, 64), depths=(1, 1, 2, 1)) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), LayerNorm2d(dims[0]))
        c_in = dims[0]
        stages = []
        for dim, depth in zip(dims, depths):
            stages.append(ConvNeXtV2Stage(c_in, dim, depth))
            c_in = dim
        self.stages = nn.Sequential(*stages)
        self.norm_pre = nn.Identity()
        self.head = NormMlpClassifierHead(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm_pre(self.stages(self.stem(x))))


# ------------------------------------------------------------------ ma-xu StarNet


class ConvBN(nn.Sequential):  # Rewrite-the-Stars starnet.py ConvBN: `conv`, optional `bn`
    def __init__(self, c_in, c_out, k=1, stride=1, padding=0, groups=1, with_bn=True) -> None:
        super().__init__()
        self.add_module("conv", nn.Conv2d(c_in, c_out, k, stride, padding, 1, groups))
        if with_bn:
            self.add_module("bn", nn.BatchNorm2d(c_out))


class StarBlock(nn.Module):  # starnet.py Block: the "star" (an elementwise product of branches)
    def __init__(self, dim: int, mlp_ratio: int = 3) -> None:
        super().__init__()
        self.dwconv = ConvBN(dim, dim, 7, 1, 3, groups=dim, with_bn=True)
        self.f1 = ConvBN(dim, mlp_ratio * dim, 1, with_bn=False)
        self.f2 = ConvBN(dim, mlp_ratio * dim, 1, with_bn=False)
        self.g = ConvBN(mlp_ratio * dim, dim, 1, with_bn=True)
        self.dwconv2 = ConvBN(dim, dim, 7, 1, 3, groups=dim, with_bn=False)
        self.act = nn.ReLU6()
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.dwconv(x)
        x1, x2 = self.f1(x), self.f2(x)
        x = self.act(x1) * x2
        x = self.dwconv2(self.g(x))
        return shortcut + self.drop_path(x)


class MaxuStarNet(nn.Module):  # starnet.py StarNet (starnet_s1 layout: base 24, ratio 4), narrowed
    def __init__(self, classes: int = 5, base_dim: int = 8, depths=(1, 1, 2, 1)) -> None:
        super().__init__()
        self.in_channel = 16
        self.stem = nn.Sequential(ConvBN(3, self.in_channel, 3, 2, 1), nn.ReLU6())
        self.stages = nn.ModuleList()
        for i, depth in enumerate(depths):
            embed_dim = base_dim * 2**i
            down_sampler = ConvBN(self.in_channel, embed_dim, 3, 2, 1)
            self.in_channel = embed_dim
            blocks = [StarBlock(embed_dim, 4) for _ in range(depth)]
            self.stages.append(nn.Sequential(down_sampler, *blocks))
        self.norm = nn.BatchNorm2d(self.in_channel)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(self.in_channel, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = torch.flatten(self.avgpool(self.norm(x)), 1)
        return self.head(x)


# ------------------------------------------------------------------ JierunChen FasterNet


class PartialConv3(nn.Module):  # fasternet.py Partial_conv3 (split_cat forward)
    def __init__(self, dim: int, n_div: int = 4) -> None:
        super().__init__()
        self.dim_conv3 = dim // n_div
        self.dim_untouched = dim - self.dim_conv3
        self.partial_conv3 = nn.Conv2d(self.dim_conv3, self.dim_conv3, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = torch.split(x, [self.dim_conv3, self.dim_untouched], dim=1)
        x1 = self.partial_conv3(x1)
        return torch.cat((x1, x2), 1)


class MLPBlock(nn.Module):  # fasternet.py MLPBlock (no layer scale: fasternet_t0/t1/t2)
    def __init__(self, dim: int, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.drop_path = nn.Identity()
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.GELU(),
            nn.Conv2d(hidden, dim, 1, bias=False),
        )
        self.spatial_mixing = PartialConv3(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.spatial_mixing(x)
        return shortcut + self.drop_path(self.mlp(x))


class BasicStage(nn.Module):  # fasternet.py BasicStage
    def __init__(self, dim: int, depth: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[MLPBlock(dim) for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class PatchEmbed(nn.Module):  # fasternet.py PatchEmbed: 4x4 stride-4 conv, BN
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, 4, 4, bias=False)
        self.norm = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class PatchMerging(nn.Module):  # fasternet.py PatchMerging: 2x2 stride-2 conv, BN
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.reduction = nn.Conv2d(dim, 2 * dim, 2, 2, bias=False)
        self.norm = nn.BatchNorm2d(2 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.reduction(x))


class JierunFasterNet(nn.Module):  # fasternet.py FasterNet (fasternet_t0: GELU), narrowed
    def __init__(self, classes: int = 5, dim: int = 8, depths=(1, 2, 1, 1), feature_dim=64):
        super().__init__()
        self.patch_embed = PatchEmbed(dim)
        stages: list[nn.Module] = []
        for i, depth in enumerate(depths):
            stages.append(BasicStage(dim * 2**i, depth))
            if i < len(depths) - 1:
                stages.append(PatchMerging(dim * 2**i))
        self.stages = nn.Sequential(*stages)
        num_features = dim * 2 ** (len(depths) - 1)
        self.avgpool_pre_head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(num_features, feature_dim, 1, bias=False), nn.GELU()
        )
        self.head = nn.Linear(feature_dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool_pre_head(self.stages(self.patch_embed(x)))
        return self.head(torch.flatten(x, 1))


# ------------------------------------------------------------------ XingangPan IBN-Net


class IBN(nn.Module):  # IBN-Net resnet_ibn.py IBN: InstanceNorm half, BatchNorm the rest
    def __init__(self, planes: int, ratio: float = 0.5) -> None:
        super().__init__()
        self.half = int(planes * ratio)
        self.IN = nn.InstanceNorm2d(self.half, affine=True)
        self.BN = nn.BatchNorm2d(planes - self.half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        split = torch.split(x, self.half, 1)
        out1 = self.IN(split[0].contiguous())
        out2 = self.BN(split[1].contiguous())
        return torch.cat((out1, out2), 1)


class BottleneckIBN(nn.Module):  # resnet_ibn.py Bottleneck_IBN (ibn "a")
    expansion = 4

    def __init__(self, inplanes, planes, ibn=None, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = IBN(planes) if ibn == "a" else nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.IN = nn.InstanceNorm2d(planes * 4, affine=True) if ibn == "b" else None
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        if self.IN is not None:
            out = self.IN(out)
        return self.relu(out)


class XingangResNet50IBNa(nn.Module):  # resnet_ibn.py ResNet_IBN(ibn_cfg=("a","a","a",None))
    def __init__(self, classes: int = 5, planes=(8, 16, 32, 64), layers=(1, 2, 1, 1)) -> None:
        super().__init__()
        ibn_cfg = ("a", "a", "a", None)
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (p, n) in enumerate(zip(planes, layers)):
            layer = self._make_layer(p, n, 1 if i == 0 else 2, ibn_cfg[i], last=i == 3)
            self.add_module(f"layer{i + 1}", layer)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, classes)

    def _make_layer(self, planes, blocks, stride, ibn, last) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [BottleneckIBN(self.inplanes, planes, None if last else ibn, stride, downsample)]
        self.inplanes = planes * 4
        for i in range(1, blocks):
            layers.append(
                BottleneckIBN(self.inplanes, planes, None if ibn == "b" and i < blocks - 1 else ibn)
            )
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ------------------------------------------------------------------ Ultralytics YOLOv8-cls


class UlConv(nn.Module):  # ultralytics.nn.modules.conv.Conv: conv, bn (eps 1e-3), SiLU
    def __init__(self, c1, c2, k=1, s=1, g=1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=0.001, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class UlBottleneck(nn.Module):  # ultralytics.nn.modules.block.Bottleneck (e=1.0 inside C2f)
    def __init__(self, c1, c2, shortcut=True, e=1.0) -> None:
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = UlConv(c1, c_, 3, 1)
        self.cv2 = UlConv(c_, c2, 3, 1)
        self.add = shortcut and c1 == c2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C2f(nn.Module):  # ultralytics.nn.modules.block.C2f
    def __init__(self, c1, c2, n=1, shortcut=False, e=0.5) -> None:
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = UlConv(c1, 2 * self.c, 1, 1)
        self.cv2 = UlConv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(UlBottleneck(self.c, self.c, shortcut, e=1.0) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class Classify(nn.Module):  # ultralytics.nn.modules.head.Classify (softmax in eval mode)
    def __init__(self, c1, c2, c_=128) -> None:
        super().__init__()
        self.conv = UlConv(c1, c_, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(p=0.0, inplace=True)
        self.linear = nn.Linear(c_, c2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(self.drop(self.pool(self.conv(x)).flatten(1)))
        return x if self.training else x.softmax(1)


class UltralyticsYolov8Cls(
    nn.Module
):  # ClassificationModel from yolov8-cls.yaml, scale n, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.model = nn.Sequential(
            UlConv(3, 8, 3, 2),
            UlConv(8, 16, 3, 2),
            C2f(16, 16, 1, True),
            UlConv(16, 32, 3, 2),
            C2f(32, 32, 2, True),
            UlConv(32, 64, 3, 2),
            C2f(64, 64, 1, True),
            Classify(64, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


ZOO = {  # name: (build, input shape)
    "tv_mobilenet_v3_large": (TvMobileNetV3Large, (2, 3, 32, 32)),
    "tv_squeezenet1_0": (TvSqueezeNet10, (2, 3, 64, 64)),
    "tv_vgg11": (TvVGG11, (2, 3, 32, 32)),
    "timm_tf_efficientnet": (TimmTfEfficientNet, (2, 3, 32, 32)),
    "timm_resnet50_gn": (TimmResNet50GN, (2, 3, 64, 64)),
    "timm_convnextv2": (TimmConvNeXtV2, (2, 3, 32, 32)),
    "maxu_starnet": (MaxuStarNet, (2, 3, 32, 32)),
    "jierun_fasternet": (JierunFasterNet, (2, 3, 32, 32)),
    "xingangpan_ibn_resnet50": (XingangResNet50IBNa, (2, 3, 64, 64)),
    "ultralytics_yolov8_cls": (UltralyticsYolov8Cls, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
