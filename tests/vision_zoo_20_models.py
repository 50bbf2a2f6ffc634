"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_20.py (issue 16's held-out measure, session 20): torchvision's
ResNeXt-50 32x4d (grouped Bottlenecks, `width = planes * base_width / 64 * groups`), MNASNet 0.75
(`layers` Sequential, `_stack` of `_InvertedResidual`, widths rounded by `_round_to_multiple_of`),
EfficientNet-B3 (width and depth multiplied, `features` of Conv2dNormActivation and MBConv stages,
StochasticDepth), ShuffleNetV2 x1.5 (`conv1`, `stage2..4`, `conv5`, `branch1`/`branch2`) and
GoogLeNet as its pretrained checkpoint is built (`transform_input=True`, no auxiliary heads);
timm's GC-ResNet (a GlobalContext `attn` in each Bottleneck: `conv_attn`, a ConvMlp `mlp_add` with
a LayerNorm2d), CS3DarkNet (cspnet CrossStage3: `conv_in`, one `conv_down` then a split of
`conv_exp`, `blocks`, `conv_transition`), RegNetV (pre-activation `PreBottleneck` blocks and a
`final_conv` norm-act); dyhan0920's PyramidNet (additive widening, zero-padded identity channels,
an avg-pool shortcut) and zhoudaquan's MobileNeXt (SandGlass blocks: depthwise, 1x1 reduce, 1x1
expand, depthwise).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input


# ------------------------------------------------------------------ torchvision ResNeXt-50 32x4d


class TvGroupedBottleneck(nn.Module):  # torchvision.models.resnet.Bottleneck (groups, base_width)
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TvResNeXt50(nn.Module):  # torchvision resnext50_32x4d (width 2 x planes), narrowed
    def __init__(self, classes: int = 5, groups: int = 4, width_per_group: int = 32) -> None:
        super().__init__()
        self.groups, self.base_width, self.inplanes = groups, width_per_group, 16
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(4, 1)
        self.layer2 = self._make_layer(8, 2, stride=2)
        self.layer3 = self._make_layer(16, 1, stride=2)
        self.layer4 = self._make_layer(16, 1, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, classes)

    def _make_layer(self, planes, blocks, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [
            TvGroupedBottleneck(
                self.inplanes, planes, stride, downsample, self.groups, self.base_width
            )
        ]
        self.inplanes = planes * 4
        for _ in range(1, blocks):
            layers.append(
                TvGroupedBottleneck(
                    self.inplanes, planes, groups=self.groups, base_width=self.base_width
                )
            )
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ------------------------------------------------------------------ torchvision MNASNet 0.75

_BN_MOMENTUM = 1 - 0.9997


class TvMnasInvertedResidual(nn.Module):  # torchvision.models.mnasnet._InvertedResidual
    def __init__(self, in_ch, out_ch, kernel_size, stride, expansion_factor) -> None:
        super().__init__()
        mid_ch = in_ch * expansion_factor
        self.apply_residual = in_ch == out_ch and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid_ch, 1, bias=False),
            nn.BatchNorm2d(mid_ch, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, mid_ch, kernel_size, stride, kernel_size // 2, groups=mid_ch,
                      bias=False),
            nn.BatchNorm2d(mid_ch, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_ch, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch, momentum=_BN_MOMENTUM),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.apply_residual:
            return self.layers(x) + x
        return self.layers(x)


def _mnas_stack(in_ch, out_ch, kernel_size, stride, exp_factor, repeats) -> nn.Sequential:
    first = TvMnasInvertedResidual(in_ch, out_ch, kernel_size, stride, exp_factor)
    rest = [TvMnasInvertedResidual(out_ch, out_ch, kernel_size, 1, exp_factor)
            for _ in range(1, repeats)]
    return nn.Sequential(first, *rest)


def _round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


class TvMNASNet075(nn.Module):  # torchvision.models.mnasnet.MNASNet(alpha=0.75), narrowed depths
    def __init__(self, classes: int = 5, alpha: float = 0.75) -> None:
        super().__init__()
        depths = [_round_to_multiple_of(d * alpha, 8) for d in (16, 24, 24, 40, 48, 64, 96)]
        layers = [
            nn.Conv2d(3, 16, 3, padding=1, stride=2, bias=False),  # first layer: 32 * alpha -> 24
            nn.BatchNorm2d(16, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, padding=1, stride=1, groups=16, bias=False),
            nn.BatchNorm2d(16, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, depths[0], 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM),
            _mnas_stack(depths[0], depths[1], 3, 2, 3, 2),
            _mnas_stack(depths[1], depths[2], 5, 2, 3, 1),
            _mnas_stack(depths[2], depths[3], 5, 2, 6, 2),
            _mnas_stack(depths[3], depths[4], 3, 1, 6, 1),
            _mnas_stack(depths[4], depths[5], 5, 2, 6, 1),
            _mnas_stack(depths[5], depths[6], 3, 1, 6, 1),
            nn.Conv2d(depths[6], 64, 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(64, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
        ]
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(x)
        x = x.mean([2, 3])
        return self.classifier(x)


# ------------------------------------------------------------------ torchvision EfficientNet-B3


class TvConv2dNormActivation(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation
    def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=nn.SiLU) -> None:
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class TvSqueezeExcitation(nn.Module):  # torchvision.ops.misc.SqueezeExcitation (SiLU, sigmoid)
    def __init__(self, c, squeeze) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.SiLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return self.scale_activation(s) * x


class TvStochasticDepth(nn.Module):  # torchvision.ops.StochasticDepth ("row"): identity in eval
    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class TvMBConv(nn.Module):  # torchvision.models.efficientnet.MBConv
    def __init__(self, c_in, c_out, k, stride, expand, sd_prob) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        mid = c_in * expand
        layers = []
        if mid != c_in:
            layers.append(TvConv2dNormActivation(c_in, mid, 1))
        layers.append(TvConv2dNormActivation(mid, mid, k, stride, groups=mid))
        layers.append(TvSqueezeExcitation(mid, max(1, c_in // 4)))
        layers.append(TvConv2dNormActivation(mid, c_out, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = TvStochasticDepth(sd_prob)
        self.out_channels = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += x
        return result


class TvEfficientNetB3(nn.Module):  # torchvision efficientnet_b3 (width 1.2, depth 1.4), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        # (expand, kernel, stride, c_in, c_out, layers) after width/depth multipliers, narrowed
        cfg = [(1, 3, 1, 16, 8, 2), (6, 3, 2, 8, 16, 2), (6, 5, 2, 16, 24, 2), (6, 3, 2, 24, 40, 1)]
        total = sum(c[-1] for c in cfg)
        layers: list[nn.Module] = [TvConv2dNormActivation(3, 16, 3, 2)]
        block_id = 0
        for expand, k, stride, c_in, c_out, n in cfg:
            stage = []
            for i in range(n):
                sd_prob = 0.3 * float(block_id) / total
                stage.append(TvMBConv(c_in if i == 0 else c_out, c_out, k,
                                      stride if i == 0 else 1, expand, sd_prob))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        layers.append(TvConv2dNormActivation(40, 96, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.3, inplace=True), nn.Linear(96, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


# ------------------------------------------------------------------ torchvision ShuffleNetV2 x1.5


def _channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class TvShuffleInvertedResidual(nn.Module):  # torchvision.models.shufflenetv2.InvertedResidual
    def __init__(self, inp, oup, stride) -> None:
        super().__init__()
        self.stride = stride
        branch_features = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, bias=False, groups=inp),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, branch_features, 1, 1, 0, bias=False),
                nn.BatchNorm2d(branch_features),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else branch_features, branch_features, 1, 1, 0,
                      bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
            nn.Conv2d(branch_features, branch_features, 3, stride, 1, bias=False,
                      groups=branch_features),
            nn.BatchNorm2d(branch_features),
            nn.Conv2d(branch_features, branch_features, 1, 1, 0, bias=False),
            nn.BatchNorm2d(branch_features),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return _channel_shuffle(out, 2)


class TvShuffleNetV2x15(nn.Module):  # torchvision shufflenet_v2_x1_5 ([4, 8, 4]), narrowed
    def __init__(self, classes: int = 5, repeats=(2, 3, 1), channels=(12, 24, 48, 88, 128)):
        super().__init__()
        c_in = 3
        c_out = channels[0]
        self.conv1 = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
        )
        c_in = c_out
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, n, c_out in zip(("stage2", "stage3", "stage4"), repeats, channels[1:4]):
            seq = [TvShuffleInvertedResidual(c_in, c_out, 2)]
            seq += [TvShuffleInvertedResidual(c_out, c_out, 1) for _ in range(n - 1)]
            setattr(self, name, nn.Sequential(*seq))
            c_in = c_out
        c_out = channels[-1]
        self.conv5 = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)
        )
        self.fc = nn.Linear(c_out, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return self.fc(x.mean([2, 3]))


# ------------------------------------------------------------------ torchvision GoogLeNet (pretrained form)


class TvBasicConv2d(nn.Module):  # torchvision.models.googlenet.BasicConv2d (BN eps 0.001)
    def __init__(self, c_in, c_out, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class TvInception(nn.Module):  # torchvision.models.googlenet.Inception (the "5x5" branch is 3x3)
    def __init__(self, c_in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) -> None:
        super().__init__()
        self.branch1 = TvBasicConv2d(c_in, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            TvBasicConv2d(c_in, ch3x3red, kernel_size=1),
            TvBasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            TvBasicConv2d(c_in, ch5x5red, kernel_size=1),
            TvBasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            TvBasicConv2d(c_in, pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(outs, 1)


class TvGoogLeNetPretrained(nn.Module):  # googlenet(weights=...): transform_input=True, no aux
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.transform_input = True
        self.conv1 = TvBasicConv2d(3, 8, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TvBasicConv2d(8, 8, kernel_size=1)
        self.conv3 = TvBasicConv2d(8, 16, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = TvInception(16, 8, 8, 12, 4, 4, 4)
        self.inception3b = TvInception(28, 12, 8, 12, 4, 8, 8)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = TvInception(40, 12, 8, 16, 4, 4, 8)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = TvInception(40, 16, 8, 16, 4, 8, 8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(48, classes)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        return torch.cat((x_ch0, x_ch1, x_ch2), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.maxpool4(self.inception4a(x))
        x = self.inception5a(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(self.dropout(x))


# ------------------------------------------------------------------ timm building blocks


class TimmConvNormAct(nn.Module):  # timm.layers.ConvNormAct: `conv`, `bn` (BatchNormAct2d)
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act=nn.ReLU) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, ((stride - 1) + (k - 1)) // 2,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = act(inplace=True) if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class BatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d: the activation inside
    def __init__(self, c, act=nn.ReLU) -> None:
        super().__init__(c)
        self.drop = nn.Identity()
        self.act = act(inplace=True) if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


# ------------------------------------------------------------------ timm GC-ResNet


class TimmLayerNorm2d(nn.LayerNorm):  # timm.layers.LayerNorm2d (eps 1e-5 as ConvMlp passes it)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class TimmConvMlp(nn.Module):  # timm.layers.ConvMlp: fc1, norm, act, drop, fc2
    def __init__(self, c, hidden) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, hidden, 1, bias=True)
        self.norm = TimmLayerNorm2d(hidden)
        self.act = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(0.0)
        self.fc2 = nn.Conv2d(hidden, c, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.act(self.norm(self.fc1(x)))))


class TimmGlobalContext(nn.Module):  # timm.layers.GlobalContext(fuse_add=True, fuse_scale=False)
    def __init__(self, c, rd) -> None:
        super().__init__()
        self.conv_attn = nn.Conv2d(c, 1, kernel_size=1, bias=True)
        self.mlp_add = TimmConvMlp(c, rd)
        self.mlp_scale = None
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        attn = self.conv_attn(x).reshape(b, 1, h * w)  # (B, 1, H * W)
        attn = F.softmax(attn, dim=-1).unsqueeze(3)  # (B, 1, H * W, 1)
        context = x.reshape(b, c, h * w).unsqueeze(1) @ attn
        context = context.view(b, c, 1, 1)
        return x + self.mlp_add(context)


class TimmGcBottleneck(nn.Module):  # timm.models.resnet.Bottleneck, attn_layer='gc' after bn2
    expansion = 4

    def __init__(self, c_in, planes, stride=1, downsample=None) -> None:
        super().__init__()
        width = planes
        c_out = planes * 4
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.drop_block = nn.Identity()
        self.act2 = nn.ReLU(inplace=True)
        self.aa = nn.Identity()
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.se = TimmGlobalContext(c_out, max(8, c_out // 4))  # create_attn('gc', outplanes)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.aa(self.act2(self.drop_block(self.bn2(self.conv2(x)))))
        x = self.bn3(self.conv3(x))
        x = self.se(x)
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        x += shortcut
        return self.act3(x)


class TimmGcResNet(nn.Module):  # timm gcresnet50t-style: tiered deep stem, avg_down, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 6, 3, 2, 1, bias=False), nn.BatchNorm2d(6), nn.ReLU(inplace=True),
            nn.Conv2d(6, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, 1, 1, bias=False),
        )
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        c_in = 16
        for i, (planes, n, stride) in enumerate(((4, 1, 1), (8, 2, 2), (16, 1, 2))):
            blocks = []
            for j in range(n):
                s = stride if j == 0 else 1
                down = None
                if j == 0 and (s != 1 or c_in != planes * 4):
                    pool = nn.AvgPool2d(2, s, ceil_mode=True, count_include_pad=False) \
                        if s > 1 else nn.Identity()
                    down = nn.Sequential(pool, nn.Conv2d(c_in, planes * 4, 1, 1, bias=False),
                                         nn.BatchNorm2d(planes * 4))
                blocks.append(TimmGcBottleneck(c_in, planes, s, down))
                c_in = planes * 4
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.global_pool(x), 1))


# ------------------------------------------------------------------ timm CS3DarkNet


class TimmCs3BottleneckBlock(nn.Module):  # timm.models.cspnet.BottleneckBlock (SiLU, ratio 1)
    def __init__(self, c, mid) -> None:
        super().__init__()
        self.conv1 = TimmConvNormAct(c, mid, 1, act=nn.SiLU)
        self.conv2 = TimmConvNormAct(mid, mid, 3, act=nn.SiLU)
        self.conv2b = nn.Identity()
        self.attn = nn.Identity()
        self.conv3 = TimmConvNormAct(mid, c, 1, act=None)
        self.attn3 = nn.Identity()
        self.drop_path = nn.Identity()
        self.act3 = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.attn(self.conv2b(self.conv2(self.conv1(x))))
        x = self.attn3(self.conv3(x))
        return self.act3(self.drop_path(x) + shortcut)


class TimmCrossStage3(nn.Module):  # timm.models.cspnet.CrossStage3 (cs3 stages)
    def __init__(self, c_in, c_out, stride, depth) -> None:
        super().__init__()
        self.conv_down = TimmConvNormAct(c_in, c_out, 3, stride, act=nn.SiLU)
        self.conv_exp = TimmConvNormAct(c_out, c_out, 1, act=nn.SiLU)  # expand_ratio 1.0
        block_c = c_out // 2
        self.blocks = nn.Sequential(
            *[TimmCs3BottleneckBlock(block_c, block_c // 2) for _ in range(depth)]
        )
        self.conv_transition = TimmConvNormAct(c_out, c_out, 1, act=nn.SiLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_exp(self.conv_down(x))
        x1, x2 = x.split(x.shape[1] // 2, dim=1)
        x1 = self.blocks(x1)
        return self.conv_transition(torch.cat([x1, x2], dim=1))


class TimmCs3DarkNet(nn.Module):  # timm cspnet cs3darknet_s: stem conv1/conv2, stages, head
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", TimmConvNormAct(3, 8, 3, 2, act=nn.SiLU)),
                    ("conv2", TimmConvNormAct(8, 16, 3, 1, act=nn.SiLU)),
                ]
            )
        )
        self.stages = nn.Sequential(
            TimmCrossStage3(16, 16, 2, 1),
            TimmCrossStage3(16, 32, 2, 2),
            TimmCrossStage3(32, 48, 2, 1),
        )
        self.head = nn.Sequential(OrderedDict([("fc", nn.Linear(48, classes))]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ timm RegNetV (pre-activation)


class TimmSEModule(nn.Module):  # timm.layers.SEModule: fc1, bn (identity), act, fc2, gate
    def __init__(self, c, rd) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1, bias=True)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, c, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(self.act(self.bn(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * self.gate(s)


class TimmRegPreBottleneck(nn.Module):  # timm.models.regnet.PreBottleneck
    def __init__(self, c_in, c_out, stride, group_width, se_ratio=0.25) -> None:
        super().__init__()
        mid = c_out  # bottle_ratio 1
        groups = mid // group_width
        self.norm1 = BatchNormAct2d(c_in)
        self.conv1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.norm2 = BatchNormAct2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=groups, bias=False)
        self.se = TimmSEModule(mid, int(round(c_in * se_ratio)))
        self.norm3 = BatchNormAct2d(mid)
        self.conv3 = nn.Conv2d(mid, c_out, 1, bias=False)
        if c_in != c_out or stride != 1:
            self.downsample = nn.Conv2d(c_in, c_out, 1, stride, bias=False)  # preact: conv only
        else:
            self.downsample = nn.Identity()
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x)
        shortcut = x
        x = self.conv1(x)
        x = self.norm2(x)
        x = self.conv2(x)
        x = self.se(x)
        x = self.norm3(x)
        x = self.conv3(x)
        x = self.drop_path(x)
        return x + self.downsample(shortcut)


class TimmRegStage(nn.Module):  # timm.models.regnet.RegStage: members b1, b2, ...
    def __init__(self, depth, c_in, c_out, stride, group_width) -> None:
        super().__init__()
        for i in range(depth):
            self.add_module(
                f"b{i + 1}",
                TimmRegPreBottleneck(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1,
                                     group_width),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.children():
            x = block(x)
        return x


class TimmRegNetV(nn.Module):  # timm regnetv_040-style (preact=True, linear_out), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)  # preact stem: a conv alone
        self.s1 = TimmRegStage(1, 16, 16, 2, 8)
        self.s2 = TimmRegStage(2, 16, 32, 2, 8)
        self.s3 = TimmRegStage(1, 32, 48, 2, 8)
        self.final_conv = BatchNormAct2d(48)
        self.head = nn.Sequential(
            OrderedDict(
                [("global_pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten(1)),
                 ("fc", nn.Linear(48, classes))]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s3(self.s2(self.s1(self.stem(x))))
        return self.head(self.final_conv(x))


# ------------------------------------------------------------------ dyhan0920 PyramidNet (CIFAR)


class PyramidBasicBlock(nn.Module):  # dyhan0920/PyramidNet-PyTorch PyramidNet.py BasicBlock
    outchannel_ratio = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn1(x)
        out = self.conv1(out)
        out = self.bn2(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn3(out)
        if self.downsample is not None:
            shortcut = self.downsample(x)
            featuremap_size = shortcut.size()[2:4]
        else:
            shortcut = x
            featuremap_size = out.size()[2:4]
        batch_size = out.size()[0]
        residual_channel = out.size()[1]
        shortcut_channel = shortcut.size()[1]
        if residual_channel != shortcut_channel:
            padding = torch.zeros(batch_size, residual_channel - shortcut_channel,
                                  featuremap_size[0], featuremap_size[1], dtype=out.dtype)
            out += torch.cat((shortcut, padding), 1)
        else:
            out += shortcut
        return out


class DyhanPyramidNet(nn.Module):  # PyramidNet(dataset='cifar10', depth=14, alpha=24), narrowed
    def __init__(self, classes: int = 10, depth: int = 14, alpha: int = 24) -> None:
        super().__init__()
        self.inplanes = 8
        n = (depth - 2) // 6
        self.addrate = alpha / (3 * n * 1.0)
        self.input_featuremap_dim = self.inplanes
        self.conv1 = nn.Conv2d(3, self.input_featuremap_dim, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.input_featuremap_dim)
        self.featuremap_dim = self.input_featuremap_dim
        self.layer1 = self.pyramidal_make_layer(PyramidBasicBlock, n)
        self.layer2 = self.pyramidal_make_layer(PyramidBasicBlock, n, stride=2)
        self.layer3 = self.pyramidal_make_layer(PyramidBasicBlock, n, stride=2)
        self.final_featuremap_dim = self.input_featuremap_dim
        self.bn_final = nn.BatchNorm2d(self.final_featuremap_dim)
        self.relu_final = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(self.final_featuremap_dim, classes)

    def pyramidal_make_layer(self, block, block_depth, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1:  # or self.inplanes != int(round(featuremap_dim_1st)) * block.outchannel_ratio:
            downsample = nn.AvgPool2d((2, 2), stride=(2, 2), ceil_mode=True)
        layers = []
        self.featuremap_dim = self.featuremap_dim + self.addrate
        layers.append(block(self.input_featuremap_dim, int(round(self.featuremap_dim)), stride,
                            downsample))
        for _ in range(1, block_depth):
            temp_featuremap_dim = self.featuremap_dim + self.addrate
            layers.append(block(int(round(self.featuremap_dim)) * block.outchannel_ratio,
                                int(round(temp_featuremap_dim)), 1))
            self.featuremap_dim = temp_featuremap_dim
        self.input_featuremap_dim = int(round(self.featuremap_dim)) * block.outchannel_ratio
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.relu_final(self.bn_final(x))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


# ------------------------------------------------------------------ zhoudaquan MobileNeXt


def _make_divisible(v, divisor, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class SandGlass(nn.Module):  # zhoudaquan/rethinking_bottleneck_design mobilenext.py SandGlass
    def __init__(self, inp, oup, stride, reduction_ratio, identity_tensor_multiplier=1.0):
        super().__init__()
        self.stride = stride
        self.use_identity = identity_tensor_multiplier != 1.0
        self.identity_tensor_channels = int(round(inp * identity_tensor_multiplier))
        hidden_dim = inp // reduction_ratio
        self.use_res_connect = self.stride == 1 and inp == oup
        layers = [
            # dw
            nn.Conv2d(inp, inp, 3, 1, 1, groups=inp, bias=False),
            nn.BatchNorm2d(inp),
            nn.ReLU6(inplace=True),
            # pw-linear
            nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden_dim),
            # pw
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
            nn.ReLU6(inplace=True),
            # dw-linear
            nn.Conv2d(oup, oup, 3, stride, 1, groups=oup, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.use_res_connect:
            if self.use_identity:
                identity_tensor = x[:, : self.identity_tensor_channels, :, :] \
                    + out[:, : self.identity_tensor_channels, :, :]
                out = torch.cat([identity_tensor, out[:, self.identity_tensor_channels:, :, :]],
                                dim=1)
            else:
                out = x + out
        return out


class ZhoudaquanMobileNeXt(nn.Module):  # mobilenext.py MobileNeXt (width_mult 0.5), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        # t (reduction), c, n, s
        cfgs = [[2, 16, 1, 2], [6, 24, 2, 2], [6, 32, 2, 2], [6, 48, 1, 1]]
        input_channel = 16
        layers = [nn.Sequential(nn.Conv2d(3, input_channel, 3, 2, 1, bias=False),
                                nn.BatchNorm2d(input_channel), nn.ReLU6(inplace=True))]
        for t, c, n, s in cfgs:
            output_channel = _make_divisible(c, 8)
            for i in range(n):
                layers.append(SandGlass(input_channel, output_channel, s if i == 0 else 1, t,
                                        0.5 if i > 0 else 1.0))
                input_channel = output_channel
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(input_channel, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


ZOO = {  # name: (build, input shape)
    "tv_resnext50_32x4d": (TvResNeXt50, (2, 3, 64, 64)),
    "tv_mnasnet0_75": (TvMNASNet075, (2, 3, 32, 32)),
    "tv_efficientnet_b3": (TvEfficientNetB3, (2, 3, 32, 32)),
    "tv_shufflenet_v2_x1_5": (TvShuffleNetV2x15, (2, 3, 64, 64)),
    "tv_googlenet_pretrained": (TvGoogLeNetPretrained, (2, 3, 64, 64)),
    "timm_gcresnet": (TimmGcResNet, (2, 3, 32, 32)),
    "timm_cs3darknet": (TimmCs3DarkNet, (2, 3, 32, 32)),
    "timm_regnetv": (TimmRegNetV, (2, 3, 32, 32)),
    "dyhan_pyramidnet": (DyhanPyramidNet, (2, 3, 32, 32)),
    "zhoudaquan_mobilenext": (ZhoudaquanMobileNeXt, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
