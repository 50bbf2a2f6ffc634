"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_12.py (issue 16's held-out measure, session 12): OpenMMLab mmpretrain's
ResNet-V1d (`backbone.`/`neck.`/`head.` prefixes, a deep `stem` of ConvModules, an average-pooled
`downsample`) and MobileNetV2 (ConvModule `conv`/`bn` pairs inside `conv` Sequentials),
Detectron2's ResNet (convs that hold their `norm`, frozen batch norms with no step counter, the
stride on the bottleneck's first 1x1, `resN` stages, `shortcut`), Megvii's ShuffleNetV2
(`branch_main`/`branch_proj`, its own channel shuffle that splits even and odd channels), DingXiaoH's
RepVGG in its training form (three parallel branches, `rbr_dense`/`rbr_1x1`/`rbr_identity`),
facebookresearch's ConvNeXt (`downsample_layers`/`stages`, a channels-first LayerNorm class,
`gamma` layer scale), Cadene's Inception-ResNet-v2 (Block35: branches concatenated, a biased 1x1,
the residual scaled by 0.17; batch norms with eps 1e-3), Google's BiT (big_transfer: weight-
standardized convs, GroupNorm(32) pre-activation bottlenecks, a 1x1 conv head), osmr/imgclsmob's
PreResNet (`PreConvBlock`s bn-activ-conv, the projection reading the pre-activated input, an
`AvgPool2d(7)` final pool) and a Keras-applications ResNet port (flat `conv2_block1_1_conv`
attributes, biased convs before each norm, zero padding before valid convs).

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

# --------------------------------------------------------------- OpenMMLab (mmpretrain)


class ConvModule(nn.Module):  # mmcv.cnn.ConvModule: conv, bn, activate (no parameters)
    def __init__(self, c_in, c_out, k, stride=1, padding=0, groups=1, act=nn.ReLU) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.activate = act() if act is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return self.activate(x) if self.activate is not None else x


class MmBottleneck(nn.Module):  # mmpretrain.models.backbones.resnet.Bottleneck (style pytorch)
    def __init__(self, c_in: int, c_out: int, stride: int, avg_down: bool = True) -> None:
        super().__init__()
        mid = c_out // 4
        self.conv1, self.bn1 = nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:  # ResLayer(avg_down=True): pool, 1x1 conv, norm
            layers: list[nn.Module] = []
            if stride != 1 and avg_down:
                layers.append(nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False))
            conv_stride = 1 if avg_down else stride
            layers += [nn.Conv2d(c_in, c_out, 1, conv_stride, bias=False), nn.BatchNorm2d(c_out)]
            self.downsample = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class MmResNetV1d(nn.Module):  # mmpretrain ResNetV1d: deep_stem, avg_down (V1c: no avg_down)
    def __init__(self, avg_down: bool = True) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            ConvModule(3, 8, 3, 2, 1), ConvModule(8, 8, 3, 1, 1), ConvModule(8, 16, 3, 1, 1)
        )
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(MmBottleneck(16, 32, 1), MmBottleneck(32, 32, 1))
        self.layer2 = nn.Sequential(
            MmBottleneck(32, 64, 2, avg_down), MmBottleneck(64, 64, 1, avg_down)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer2(self.layer1(self.maxpool(self.stem(x))))


class GlobalAveragePooling(nn.Module):  # mmpretrain neck: no parameters
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(x, 1).flatten(1)


class LinearClsHead(nn.Module):
    def __init__(self, c_in: int, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class ImageClassifier(nn.Module):  # mmpretrain ImageClassifier: backbone, neck, head
    def __init__(self, backbone: nn.Module, width: int, classes: int = 5) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = GlobalAveragePooling()
        self.head = LinearClsHead(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.neck(self.backbone(x)))


class MmInvertedResidual(nn.Module):  # mmpretrain.models.backbones.mobilenet_v2.InvertedResidual
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.use_res_connect = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvModule(c_in, hidden, 1, act=nn.ReLU6))
        layers += [
            ConvModule(hidden, hidden, 3, stride, 1, groups=hidden, act=nn.ReLU6),
            ConvModule(hidden, c_out, 1, act=None),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MmMobileNetV2(nn.Module):  # mmpretrain MobileNetV2: conv1, layerN, conv2
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvModule(3, 8, 3, 2, 1, act=nn.ReLU6)
        self.layer1 = nn.Sequential(MmInvertedResidual(8, 8, 1, 1))
        self.layer2 = nn.Sequential(
            MmInvertedResidual(8, 12, 2, 6), MmInvertedResidual(12, 12, 1, 6)
        )
        self.layer3 = nn.Sequential(MmInvertedResidual(12, 16, 2, 6))
        self.conv2 = ConvModule(16, 40, 1, act=nn.ReLU6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        return self.conv2(x)


def mm_resnet_v1d() -> nn.Module:
    return ImageClassifier(MmResNetV1d(), 64)


def mm_mobilenet_v2() -> nn.Module:
    return ImageClassifier(MmMobileNetV2(), 40)


# ---------------------------------------------------------------------------- Detectron2


class D2FrozenBatchNorm(nn.Module):  # detectron2.layers.FrozenBatchNorm2d: four buffers
    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("weight", torch.empty(n).normal_(1, 0.2))
        self.register_buffer("bias", torch.empty(n).normal_(0, 0.1))
        self.register_buffer("running_mean", torch.empty(n).normal_(0, 0.1))
        self.register_buffer("running_var", torch.empty(n).uniform_(0.5, 1.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + 1e-5).rsqrt()
        bias = self.bias - self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)


class D2Conv(nn.Conv2d):  # detectron2.layers.Conv2d: the norm is a member of the conv
    def __init__(self, c_in, c_out, k, stride=1, padding=0) -> None:
        super().__init__(c_in, c_out, k, stride, padding, bias=False)
        self.norm = D2FrozenBatchNorm(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(super().forward(x))


class D2BottleneckBlock(nn.Module):  # detectron2 resnet.BottleneckBlock, stride_in_1x1=True
    def __init__(self, c_in: int, c_out: int, mid: int, stride: int) -> None:
        super().__init__()
        self.shortcut = D2Conv(c_in, c_out, 1, stride) if c_in != c_out else None
        self.conv1 = D2Conv(c_in, mid, 1, stride)
        self.conv2 = D2Conv(mid, mid, 3, 1, 1)
        self.conv3 = D2Conv(mid, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu_(self.conv1(x))
        out = F.relu_(self.conv2(out))
        out = self.conv3(out)
        out += x if self.shortcut is None else self.shortcut(x)
        return F.relu_(out)


class D2BasicStem(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = D2Conv(3, 16, 7, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(F.relu_(self.conv1(x)), 3, 2, 1)


class D2ResNet(nn.Module):  # detectron2 ResNet(num_classes=...): stem, res2.., linear
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = D2BasicStem()
        self.res2 = nn.Sequential(D2BottleneckBlock(16, 32, 8, 1), D2BottleneckBlock(32, 32, 8, 1))
        self.res3 = nn.Sequential(
            D2BottleneckBlock(32, 64, 16, 2), D2BottleneckBlock(64, 64, 16, 1)
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.res3(self.res2(self.stem(x)))
        return self.linear(torch.flatten(self.avgpool(x), 1))


# ------------------------------------------------------------- Megvii ShuffleNetV2


def _megvii_channel_shuffle(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ShuffleNet-Series' split: even channels one way, odd channels the other."""
    b, c, h, w = x.shape
    x = x.reshape(b * c // 2, 2, h * w).permute(1, 0, 2)
    x = x.reshape(2, -1, c // 2, h, w)
    return x[0], x[1]


class ShuffleV2Block(nn.Module):  # megvii-model/ShuffleNet-Series ShuffleNetV2/blocks.py
    def __init__(self, inp: int, oup: int, mid: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        outputs = oup - inp
        self.branch_main = nn.Sequential(
            nn.Conv2d(inp, mid, 1, 1, 0, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False),
            nn.BatchNorm2d(mid),
            nn.Conv2d(mid, outputs, 1, 1, 0, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU(inplace=True),
        )
        if stride == 2:
            self.branch_proj = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
                nn.BatchNorm2d(inp),
                nn.Conv2d(inp, inp, 1, 1, 0, bias=False),
                nn.BatchNorm2d(inp),
                nn.ReLU(inplace=True),
            )

    def forward(self, old_x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x_proj, x = _megvii_channel_shuffle(old_x)
            return torch.cat((x_proj, self.branch_main(x)), 1)
        return torch.cat((self.branch_proj(old_x), self.branch_main(old_x)), 1)


class MegviiShuffleNetV2(nn.Module):
    def __init__(self, classes: int = 5, stages=((16, 2), (32, 2)), last: int = 48) -> None:
        super().__init__()
        self.last = last
        self.first_conv = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, c_in = [], 8
        for c_out, repeats in stages:
            for i in range(repeats):
                if i == 0:
                    blocks.append(ShuffleV2Block(c_in, c_out, c_out // 2, 2))
                else:
                    blocks.append(ShuffleV2Block(c_in // 2, c_out, c_out // 2, 1))
                c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.conv_last = nn.Sequential(
            nn.Conv2d(c_in, last, 1, 1, 0, bias=False), nn.BatchNorm2d(last), nn.ReLU(inplace=True)
        )
        self.globalpool = nn.AvgPool2d(7)
        self.classifier = nn.Sequential(nn.Linear(last, classes, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.maxpool(self.first_conv(x)))
        x = self.globalpool(self.conv_last(x))
        return self.classifier(x.contiguous().view(-1, self.last))


# ------------------------------------------------------------ RepVGG, training form


def _conv_bn(c_in: int, c_out: int, k: int, stride: int, padding: int) -> nn.Sequential:
    result = nn.Sequential()
    result.add_module("conv", nn.Conv2d(c_in, c_out, k, stride, padding, bias=False))
    result.add_module("bn", nn.BatchNorm2d(c_out))
    return result


class RepVGGBlock(nn.Module):  # DingXiaoH/RepVGG repvgg.RepVGGBlock (deploy=False)
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.nonlinearity = nn.ReLU()
        self.se = nn.Identity()
        self.rbr_identity = nn.BatchNorm2d(c_in) if c_in == c_out and stride == 1 else None
        self.rbr_dense = _conv_bn(c_in, c_out, 3, stride, 1)
        self.rbr_1x1 = _conv_bn(c_in, c_out, 1, stride, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        id_out = 0 if self.rbr_identity is None else self.rbr_identity(x)
        return self.nonlinearity(self.se(self.rbr_dense(x) + self.rbr_1x1(x) + id_out))


class RepVGGTrain(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stage0 = RepVGGBlock(3, 8, 2)
        self.stage1 = nn.Sequential(RepVGGBlock(8, 8, 2), RepVGGBlock(8, 8, 1))
        self.stage2 = nn.Sequential(RepVGGBlock(8, 16, 2), RepVGGBlock(16, 16, 1))
        self.gap = nn.AdaptiveAvgPool2d(output_size=1)
        self.linear = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.stage2(self.stage1(self.stage0(x)))
        return self.linear(self.gap(out).view(out.size(0), -1))


# ------------------------------------------------------ ConvNeXt (facebookresearch)


class CnLayerNorm(nn.Module):  # ConvNeXt's LayerNorm: channels_last or channels_first
    def __init__(self, c: int, eps: float = 1e-6, data_format: str = "channels_last") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps, self.data_format, self.shape = eps, data_format, (c,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class CnBlock(nn.Module):  # ConvNeXt models/convnext.py Block
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = CnLayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        x = (self.gamma * x).permute(0, 3, 1, 2)
        return shortcut + x


class FbConvNeXt(nn.Module):
    def __init__(self, dims=(8, 16), depths=(2, 1), classes: int = 5) -> None:
        super().__init__()
        self.downsample_layers = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(3, dims[0], 4, 4), CnLayerNorm(dims[0], 1e-6, "channels_first")
                )
            ]
        )
        for i in range(len(dims) - 1):
            self.downsample_layers.append(
                nn.Sequential(
                    CnLayerNorm(dims[i], 1e-6, "channels_first"),
                    nn.Conv2d(dims[i], dims[i + 1], 2, 2),
                )
            )
        self.stages = nn.ModuleList(
            [nn.Sequential(*[CnBlock(d) for _ in range(n)]) for d, n in zip(dims, depths)]
        )
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for down, stage in zip(self.downsample_layers, self.stages):
            x = stage(down(x))
        return self.head(self.norm(x.mean([-2, -1])))


# ------------------------------------------------- Inception-ResNet-v2 (Cadene pretrainedmodels)


class BasicConv2d(nn.Module):  # pretrainedmodels inceptionresnetv2.BasicConv2d
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001, momentum=0.1, affine=True)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class Block35(nn.Module):  # narrowed: 320 channels -> 20
    def __init__(self, scale: float = 0.17) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(20, 4, 1)
        self.branch1 = nn.Sequential(BasicConv2d(20, 4, 1), BasicConv2d(4, 4, 3, padding=1))
        self.branch2 = nn.Sequential(
            BasicConv2d(20, 4, 1), BasicConv2d(4, 6, 3, padding=1), BasicConv2d(6, 8, 3, padding=1)
        )
        self.conv2d = nn.Conv2d(16, 20, 1)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)
        return self.relu(self.conv2d(out) * self.scale + x)


class InceptionResNetV2(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv2d_1a = BasicConv2d(3, 8, 3, stride=2)
        self.conv2d_2a = BasicConv2d(8, 8, 3)
        self.conv2d_2b = BasicConv2d(8, 16, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = BasicConv2d(16, 20, 1)
        self.repeat = nn.Sequential(Block35(), Block35())
        self.conv2d_7b = BasicConv2d(20, 24, 1)
        self.avgpool_1a = nn.AvgPool2d(8, count_include_pad=False)
        self.last_linear = nn.Linear(24, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool_3a(self.conv2d_2b(self.conv2d_2a(self.conv2d_1a(x))))
        x = self.conv2d_7b(self.repeat(self.conv2d_3b(x)))
        x = self.avgpool_1a(x)
        return self.last_linear(x.view(x.size(0), -1))


# ------------------------------------------------------------ BiT (google-research)


class StdConv2d(nn.Conv2d):  # big_transfer bit_pytorch.models.StdConv2d
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        v, m = torch.var_mean(w, dim=[1, 2, 3], keepdim=True, unbiased=False)
        w = (w - m) / torch.sqrt(v + 1e-10)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class BitPreActBottleneck(nn.Module):  # big_transfer bit_pytorch.models.PreActBottleneck
    def __init__(self, cin: int, cout: int, cmid: int, stride: int = 1) -> None:
        super().__init__()
        self.gn1 = nn.GroupNorm(32, cin)
        self.conv1 = StdConv2d(cin, cmid, 1, bias=False)
        self.gn2 = nn.GroupNorm(32, cmid)
        self.conv2 = StdConv2d(cmid, cmid, 3, stride, 1, bias=False)
        self.gn3 = nn.GroupNorm(32, cmid)
        self.conv3 = StdConv2d(cmid, cout, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        if stride != 1 or cin != cout:
            self.downsample = StdConv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.gn1(x))
        residual = self.downsample(out) if hasattr(self, "downsample") else x
        out = self.conv1(out)
        out = self.conv2(self.relu(self.gn2(out)))
        out = self.conv3(self.relu(self.gn3(out)))
        return out + residual


class BiTResNetV2(nn.Module):  # big_transfer ResNetV2: root, body.blockN.unitMM, head
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.root = nn.Sequential(
            OrderedDict(
                conv=StdConv2d(3, 32, 7, 2, 3, bias=False),
                pad=nn.ConstantPad2d(1, 0),
                pool=nn.MaxPool2d(3, 2, 0),
            )
        )
        self.body = nn.Sequential(
            OrderedDict(
                block1=nn.Sequential(
                    OrderedDict(
                        unit01=BitPreActBottleneck(32, 128, 32),
                        unit02=BitPreActBottleneck(128, 128, 32),
                    )
                ),
                block2=nn.Sequential(OrderedDict(unit01=BitPreActBottleneck(128, 256, 64, 2))),
            )
        )
        self.head = nn.Sequential(
            OrderedDict(
                gn=nn.GroupNorm(32, 256),
                relu=nn.ReLU(inplace=True),
                avg=nn.AdaptiveAvgPool2d(1),
                conv=nn.Conv2d(256, classes, 1, bias=True),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.body(self.root(x)))
        return x[..., 0, 0]


# ------------------------------------------------------ PreResNet (osmr/imgclsmob)


class PreConvBlock(nn.Module):  # imgclsmob common.PreConvBlock: bn, activ, conv
    def __init__(self, c_in, c_out, k, stride, padding, return_preact=False) -> None:
        super().__init__()
        self.return_preact = return_preact
        self.bn = nn.BatchNorm2d(c_in)
        self.activ = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.activ(self.bn(x))
        return self.conv(x), x


class PreResBlock(nn.Module):  # imgclsmob preresnet.PreResBlock
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = PreConvBlock(c_in, c_out, 3, stride, 1, return_preact=True)
        self.conv2 = PreConvBlock(c_out, c_out, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, x_pre_activ = self.conv1(x)
        x, _ = self.conv2(x)
        return x, x_pre_activ


class PreResUnit(nn.Module):  # imgclsmob preresnet.PreResUnit
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.resize_identity = c_in != c_out or stride != 1
        self.body = PreResBlock(c_in, c_out, stride)
        if self.resize_identity:
            self.identity_conv = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x, x_pre_activ = self.body(x)
        if self.resize_identity:
            identity = self.identity_conv(x_pre_activ)
        return x + identity


class PreResInitBlock(nn.Module):  # conv, bn, activ, pool
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 7, 2, 3, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.activ = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.activ(self.bn(self.conv(x))))


class PreResActivation(nn.Module):  # bn, activ
    def __init__(self, c: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.activ = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activ(self.bn(x))


class OsmrPreResNet(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("init_block", PreResInitBlock(3, 8))
        c_in = 8
        for i, (c_out, units) in enumerate(((8, 2), (16, 2))):
            stage = nn.Sequential()
            for j in range(units):
                stride = 2 if j == 0 and i != 0 else 1
                stage.add_module(f"unit{j + 1}", PreResUnit(c_in, c_out, stride))
                c_in = c_out
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("post_activ", PreResActivation(c_in))
        self.features.add_module("final_pool", nn.AvgPool2d(7, 1))
        self.output = nn.Linear(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.output(x.view(x.size(0), -1))


# ------------------------------------------------- Keras applications ResNet, ported


class KerasResNet(nn.Module):
    """keras.applications.ResNet50 ported by hand: one flat attribute per Keras layer name
    (`conv2_block1_0_conv` the projection, `_1_`, `_2_`, `_3_` the bottleneck), biased convs
    before each batch norm (eps 1.001e-5), the stride on the block's first 1x1, zero padding
    before the stem's valid 7x7 conv and 3x3 max pool."""

    STAGES = ((2, 8, 32, 1), (3, 16, 64, 2))  # (stage, mid, out, first stride)

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1_conv = nn.Conv2d(3, 16, 7, 2)
        self.conv1_bn = nn.BatchNorm2d(16, eps=1.001e-5)
        c_in = 16
        for stage, mid, c_out, stride in self.STAGES:
            for block in (1, 2):
                name, s = f"conv{stage}_block{block}", stride if block == 1 else 1
                if block == 1:
                    self._add(f"{name}_0", c_in, c_out, 1, s)
                self._add(f"{name}_1", c_in, mid, 1, s)
                self._add(f"{name}_2", mid, mid, 3, 1)
                self._add(f"{name}_3", mid, c_out, 1, 1)
                c_in = c_out
        self.predictions = nn.Linear(c_in, classes)

    def _add(self, name: str, c_in: int, c_out: int, k: int, stride: int) -> None:
        self.add_module(f"{name}_conv", nn.Conv2d(c_in, c_out, k, stride, k // 2))
        self.add_module(f"{name}_bn", nn.BatchNorm2d(c_out, eps=1.001e-5))

    def _conv_bn(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return getattr(self, f"{name}_bn")(getattr(self, f"{name}_conv")(x))

    def _block(self, x: torch.Tensor, name: str) -> torch.Tensor:
        shortcut = self._conv_bn(x, f"{name}_0") if hasattr(self, f"{name}_0_conv") else x
        x = F.relu(self._conv_bn(x, f"{name}_1"))
        x = F.relu(self._conv_bn(x, f"{name}_2"))
        return F.relu(shortcut + self._conv_bn(x, f"{name}_3"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1_bn(self.conv1_conv(F.pad(x, (3, 3, 3, 3)))))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)
        for stage, *_ in self.STAGES:
            x = self._block(x, f"conv{stage}_block1")
            x = self._block(x, f"conv{stage}_block2")
        return self.predictions(x.mean((2, 3)))


ZOO = {  # name: (build, input shape)
    "mm_resnet_v1d": (mm_resnet_v1d, (2, 3, 64, 64)),
    "mm_mobilenet_v2": (mm_mobilenet_v2, (2, 3, 32, 32)),
    "detectron2_resnet": (D2ResNet, (2, 3, 64, 64)),
    "megvii_shufflenet_v2": (MegviiShuffleNetV2, (2, 3, 112, 112)),
    "repvgg_train": (RepVGGTrain, (2, 3, 32, 32)),
    "fb_convnext": (FbConvNeXt, (2, 3, 32, 32)),
    "cadene_inception_resnet_v2": (InceptionResNetV2, (2, 3, 39, 39)),
    "bit_resnetv2": (BiTResNetV2, (2, 3, 32, 32)),
    "osmr_preresnet": (OsmrPreResNet, (2, 3, 56, 56)),
    "keras_resnet": (KerasResNet, (2, 3, 64, 64)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
