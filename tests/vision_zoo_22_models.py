"""Ten small CNN / hybrid image classifiers written the way other public repositories write them,
for tests/test_vision_zoo_22.py (issue 16's held-out measure, session 22): Coderx7's SimpleNet
(conv-BN(momentum 0.05)-ReLU with Dropout2d, a global max pool over the whole map), d-li14's
RedNet (involution: a per-pixel kernel from an mmcv ConvModule pair, nn.Unfold, a grouped sum;
mmcls's backbone/neck/head), leaderj1001's BoTNet (MHSA with learned rel_h / rel_w added to the
content logits, an AvgPool after the strided MHSA), raoyongming's HorNet (gnconv recursive gated
convs of order 2..5 with a 1/3 scale, channels-first LayerNorms, gamma layer scales),
DingXiaoH's RepLKNet in its train form (31/29/27/13 depthwise kernels plus a 5x5 branch, each
conv_bn, pre-BNs, ConvFFN with GELU), osmr's IGCV3 (grouped 1x1 convs around a channel shuffle
and a depthwise conv), apple ml-cvnets's MobileViTv2 (separable linear self-attention over unfolded
2x2 patches, GroupNorm(1) as the layer norm, no fusion with the input), snap-research's
EfficientFormer (Meta4D pool mixers of AvgPool(count_include_pad=False) - x, a Flat, a Meta3D
attention with attention biases indexed by a buffer, the distillation head averaged in eval),
landskape's Triplet Attention ResNet (three AttentionGates over permuted tensors, averaged) and
ZjjConan's SimAM ResNet (a parameter-free energy attention wrapped in conv2's Sequential).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import itertools
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input


# ------------------------------------------------------------------ Coderx7 SimpleNet (CIFAR)


class Coderx7SimpleNet(nn.Module):  # SimpleNet_Pytorch simplenet.py simplenet (v1 CIFAR), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = self._make_layers()
        self.classifier = nn.Linear(32, classes)
        self.drp = nn.Dropout(0.1)

    def _make_layers(self) -> nn.Sequential:
        def cbr(c_in, c_out, k=3, p=1):
            return [nn.Conv2d(c_in, c_out, kernel_size=[k, k], stride=(1, 1), padding=(p, p)),
                    nn.BatchNorm2d(c_out, eps=1e-05, momentum=0.05, affine=True), nn.ReLU(inplace=True)]

        def pool():
            return [nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), dilation=(1, 1), ceil_mode=False),
                    nn.Dropout2d(p=0.1)]

        return nn.Sequential(*cbr(3, 16), *cbr(16, 24), *cbr(24, 24), *pool(), *cbr(24, 24), *cbr(24, 32),
                             *pool(), *cbr(32, 32), *pool(), *cbr(32, 48, 1, 0), *cbr(48, 32, 1, 0),
                             *pool(), *cbr(32, 32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.features(x)
        out = F.max_pool2d(out, kernel_size=out.size()[2:])  # global max pool
        out = F.dropout2d(out, 0.1, training=self.training)
        out = out.view(out.size(0), -1)
        return self.classifier(out)


# ------------------------------------------------------------------ d-li14 RedNet (involution)


class ConvModule(nn.Module):  # mmcv.cnn.ConvModule: conv (bias only without a norm), bn, activate
    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, norm=True, act=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=not norm)
        if norm:
            self.bn = nn.BatchNorm2d(c_out)
        self.with_norm, self.with_activation = norm, act
        if act:
            self.activate = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.with_norm:
            x = self.bn(x)
        if self.with_activation:
            x = self.activate(x)
        return x


class involution(nn.Module):  # involution cls/mmcls/models/utils/involution_naive.py
    def __init__(self, channels, kernel_size, stride) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.channels = kernel_size, stride, channels
        reduction_ratio = 4
        self.group_channels = 16
        self.groups = self.channels // self.group_channels
        self.conv1 = ConvModule(channels, channels // reduction_ratio, 1)
        self.conv2 = ConvModule(channels // reduction_ratio, kernel_size**2 * self.groups, 1, norm=False, act=False)
        if stride > 1:
            self.avgpool = nn.AvgPool2d(stride, stride)
        self.unfold = nn.Unfold(kernel_size, 1, (kernel_size - 1) // 2, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.conv2(self.conv1(x if self.stride == 1 else self.avgpool(x)))
        b, c, h, w = weight.shape
        weight = weight.view(b, self.groups, self.kernel_size**2, h, w).unsqueeze(2)
        out = self.unfold(x).view(b, self.groups, self.group_channels, self.kernel_size**2, h, w)
        return (weight * out).sum(dim=3).view(b, self.channels, h, w)


class RedBottleneck(nn.Module):  # rednet.py Bottleneck: mmcls's, conv2 an involution
    expansion = 4

    def __init__(self, c_in, c_out, stride=1, downsample=None) -> None:
        super().__init__()
        mid = c_out // self.expansion
        self.conv1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.add_module("bn1", nn.BatchNorm2d(mid))
        self.conv2 = involution(mid, 7, stride)
        self.add_module("bn2", nn.BatchNorm2d(mid))
        self.conv3 = nn.Conv2d(mid, c_out, 1, bias=False)
        self.add_module("bn3", nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class RedNetBackbone(nn.Module):  # rednet.py RedNet (num_stages=2 of 4), narrowed
    def __init__(self, stem_channels=32, stage_channels=(64, 128)) -> None:
        super().__init__()
        half = stem_channels // 2
        self.stem = nn.Sequential(
            ConvModule(3, half, 3, stride=2, padding=1), involution(half, 3, 1), nn.BatchNorm2d(half),
            nn.ReLU(inplace=True), ConvModule(half, stem_channels, 3, stride=1, padding=1))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        c, self.res_layers = stem_channels, []
        for i, out in enumerate(stage_channels):
            stride = 1 if i == 0 else 2
            down = nn.Sequential(nn.Conv2d(c, out, 1, stride, bias=False), nn.BatchNorm2d(out))
            layer = nn.Sequential(RedBottleneck(c, out, stride, down), RedBottleneck(out, out))
            name = f"layer{i + 1}"
            self.add_module(name, layer)
            self.res_layers.append(name)
            c = out

    def forward(self, x: torch.Tensor) -> tuple:
        x = self.maxpool(self.stem(x))
        outs = []
        for name in self.res_layers:
            x = getattr(self, name)(x)
        outs.append(x)  # out_indices=(num_stages - 1,)
        return tuple(outs)


class GlobalAveragePooling(nn.Module):  # mmcls necks/gap.py
    def __init__(self) -> None:
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, inputs: tuple) -> tuple:
        return tuple(self.gap(x).view(x.size(0), -1) for x in inputs)


class LinearClsHead(nn.Module):  # mmcls heads/linear_head.py (simple_test: the logits)
    def __init__(self, classes, c_in) -> None:
        super().__init__()
        self.fc = nn.Linear(c_in, classes)

    def forward(self, x: tuple) -> torch.Tensor:
        return self.fc(x[-1])


class Dli14RedNet(nn.Module):  # mmcls ImageClassifier(backbone=RedNet, neck=GAP, head=LinearClsHead)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.backbone = RedNetBackbone()
        self.neck = GlobalAveragePooling()
        self.head = LinearClsHead(classes, 128)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.head(self.neck(self.backbone(img)))


# ------------------------------------------------------------------ leaderj1001 BoTNet


class MHSA(nn.Module):  # BottleneckTransformers model.py MHSA
    def __init__(self, n_dims, width=14, height=14, heads=4) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Conv2d(n_dims, n_dims, kernel_size=1)
        self.key = nn.Conv2d(n_dims, n_dims, kernel_size=1)
        self.value = nn.Conv2d(n_dims, n_dims, kernel_size=1)
        self.rel_h = nn.Parameter(torch.randn([1, heads, n_dims // heads, 1, height]), requires_grad=True)
        self.rel_w = nn.Parameter(torch.randn([1, heads, n_dims // heads, width, 1]), requires_grad=True)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_batch, C, width, height = x.size()
        q = self.query(x).view(n_batch, self.heads, C // self.heads, -1)
        k = self.key(x).view(n_batch, self.heads, C // self.heads, -1)
        v = self.value(x).view(n_batch, self.heads, C // self.heads, -1)
        content_content = torch.matmul(q.permute(0, 1, 3, 2), k)
        content_position = (self.rel_h + self.rel_w).view(1, self.heads, C // self.heads, -1).permute(0, 1, 3, 2)
        content_position = torch.matmul(content_position, q)
        attention = self.softmax(content_content + content_position)
        out = torch.matmul(v, attention.permute(0, 1, 3, 2))
        return out.view(n_batch, C, width, height)


class BotBottleneck(nn.Module):  # model.py Bottleneck(mhsa=...)
    expansion = 4

    def __init__(self, in_planes, planes, stride=1, heads=4, mhsa=False, resolution=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        if not mhsa:
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, stride=stride, bias=False)
        else:
            conv2 = [MHSA(planes, width=int(resolution[0]), height=int(resolution[1]), heads=heads)]
            if stride == 2:
                conv2.append(nn.AvgPool2d(2, 2))
            self.conv2 = nn.Sequential(*conv2)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(self.expansion * planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        return F.relu(out)


class Leaderj1001BoTNet(nn.Module):  # model.py ResNet(Bottleneck, [3, 4, 6, 3]) -> one block a layer
    def __init__(self, classes: int = 5, resolution=(64, 64), heads=4) -> None:
        super().__init__()
        self.in_planes = 16
        self.resolution = list(resolution)
        self.conv1 = nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False)
        if self.conv1.stride[0] == 2:
            self.resolution = [r / 2 for r in self.resolution]
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.resolution = [r / 2 for r in self.resolution]
        self.layer1 = self._make_layer(4, 1, stride=1)
        self.layer2 = self._make_layer(8, 1, stride=2)
        self.layer3 = self._make_layer(8, 1, stride=2)
        self.layer4 = self._make_layer(8, 1, stride=2, heads=heads, mhsa=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(8 * BotBottleneck.expansion, classes))

    def _make_layer(self, planes, num_blocks, stride=1, heads=4, mhsa=False) -> nn.Sequential:
        layers = []
        for stride in [stride] + [1] * (num_blocks - 1):
            layers.append(BotBottleneck(self.in_planes, planes, stride, heads, mhsa, self.resolution))
            if stride == 2:
                self.resolution = [r / 2 for r in self.resolution]
            self.in_planes = planes * BotBottleneck.expansion
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = torch.flatten(self.avgpool(out), 1)
        return self.fc(out)


# ------------------------------------------------------------------ raoyongming HorNet


class HorLayerNorm(nn.Module):  # hornet.py LayerNorm (channels_last or channels_first)
    def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps, self.data_format = eps, data_format
        self.normalized_shape = (normalized_shape,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


def get_dwconv(dim, kernel, bias):
    return nn.Conv2d(dim, dim, kernel_size=kernel, padding=(kernel - 1) // 2, bias=bias, groups=dim)


class gnconv(nn.Module):  # hornet.py gnconv (recursive gated convolution)
    def __init__(self, dim, order=5, s=1.0) -> None:
        super().__init__()
        self.order = order
        self.dims = [dim // 2**i for i in range(order)]
        self.dims.reverse()
        self.proj_in = nn.Conv2d(dim, 2 * dim, 1)
        self.dwconv = get_dwconv(sum(self.dims), 7, True)
        self.proj_out = nn.Conv2d(dim, dim, 1)
        self.pws = nn.ModuleList([nn.Conv2d(self.dims[i], self.dims[i + 1], 1) for i in range(order - 1)])
        self.scale = s

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused_x = self.proj_in(x)
        pwa, abc = torch.split(fused_x, (self.dims[0], sum(self.dims)), dim=1)
        dw_abc = self.dwconv(abc) * self.scale
        dw_list = torch.split(dw_abc, self.dims, dim=1)
        x = pwa * dw_list[0]
        for i in range(self.order - 1):
            x = self.pws[i](x) * dw_list[i + 1]
        return self.proj_out(x)


class HorBlock(nn.Module):  # hornet.py Block
    def __init__(self, dim, layer_scale_init_value=1e-6, gnconv=gnconv) -> None:
        super().__init__()
        self.norm1 = HorLayerNorm(dim, eps=1e-6, data_format="channels_first")
        self.gnconv = gnconv(dim)
        self.norm2 = HorLayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma1 = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)
        self.gamma2 = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        gamma1 = self.gamma1.view(C, 1, 1)
        x = x + self.drop_path(gamma1 * self.gnconv(self.norm1(x)))
        input = x
        x = x.permute(0, 2, 3, 1)
        x = self.pwconv2(self.act(self.pwconv1(self.norm2(x))))
        x = (self.gamma2 * x).permute(0, 3, 1, 2)
        return input + self.drop_path(x)


class RaoyongmingHorNet(nn.Module):  # hornet.py HorNet (hornet_tiny_7x7 gnconv orders), narrowed
    def __init__(self, classes: int = 5, depths=(1, 1, 1, 1), base_dim=16) -> None:
        super().__init__()
        dims = [base_dim, base_dim * 2, base_dim * 4, base_dim * 8]
        self.downsample_layers = nn.ModuleList()
        self.downsample_layers.append(nn.Sequential(
            nn.Conv2d(3, dims[0], kernel_size=4, stride=4), HorLayerNorm(dims[0], eps=1e-6, data_format="channels_first")))
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(
                HorLayerNorm(dims[i], eps=1e-6, data_format="channels_first"),
                nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2)))
        convs = [partial(gnconv, order=o, s=1.0 / 3.0) for o in (2, 3, 4, 5)]
        self.stages = nn.ModuleList(
            [nn.Sequential(*[HorBlock(dims[i], gnconv=convs[i]) for _ in range(depths[i])]) for i in range(4)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
        return self.head(self.norm(x.mean([-2, -1])))


# ------------------------------------------------------------------ DingXiaoH RepLKNet (train form)


def conv_bn(c_in, c_out, kernel_size, stride, padding, groups, dilation=1) -> nn.Sequential:
    result = nn.Sequential()
    result.add_module("conv", nn.Conv2d(c_in, c_out, kernel_size, stride, padding, dilation, groups, bias=False))
    result.add_module("bn", nn.BatchNorm2d(c_out))
    return result


def conv_bn_relu(c_in, c_out, kernel_size, stride, padding, groups, dilation=1) -> nn.Sequential:
    result = conv_bn(c_in, c_out, kernel_size, stride, padding, groups, dilation)
    result.add_module("nonlinear", nn.ReLU())
    return result


class ReparamLargeKernelConv(nn.Module):  # replknet.py (small_kernel_merged=False)
    def __init__(self, c_in, c_out, kernel_size, stride, groups, small_kernel) -> None:
        super().__init__()
        self.lkb_origin = conv_bn(c_in, c_out, kernel_size, stride, kernel_size // 2, groups)
        if small_kernel is not None:
            self.small_conv = conv_bn(c_in, c_out, small_kernel, stride, small_kernel // 2, groups)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = self.lkb_origin(inputs)
        if hasattr(self, "small_conv"):
            out += self.small_conv(inputs)
        return out


class ConvFFN(nn.Module):
    def __init__(self, c_in, internal, c_out) -> None:
        super().__init__()
        self.drop_path = nn.Identity()
        self.preffn_bn = nn.BatchNorm2d(c_in)
        self.pw1 = conv_bn(c_in, internal, 1, 1, 0, groups=1)
        self.pw2 = conv_bn(internal, c_out, 1, 1, 0, groups=1)
        self.nonlinear = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pw2(self.nonlinear(self.pw1(self.preffn_bn(x))))
        return x + self.drop_path(out)


class RepLKBlock(nn.Module):
    def __init__(self, c_in, dw_channels, block_lk_size, small_kernel) -> None:
        super().__init__()
        self.pw1 = conv_bn_relu(c_in, dw_channels, 1, 1, 0, groups=1)
        self.pw2 = conv_bn(dw_channels, c_in, 1, 1, 0, groups=1)
        self.large_kernel = ReparamLargeKernelConv(dw_channels, dw_channels, block_lk_size, 1, dw_channels, small_kernel)
        self.lk_nonlinear = nn.ReLU()
        self.prelkb_bn = nn.BatchNorm2d(c_in)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pw1(self.prelkb_bn(x))
        out = self.pw2(self.lk_nonlinear(self.large_kernel(out)))
        return x + self.drop_path(out)


class RepLKNetStage(nn.Module):
    def __init__(self, channels, num_blocks, stage_lk_size, small_kernel, dw_ratio=1, ffn_ratio=4) -> None:
        super().__init__()
        blks = []
        for _ in range(num_blocks):
            blks += [RepLKBlock(channels, int(channels * dw_ratio), stage_lk_size, small_kernel),
                     ConvFFN(channels, int(channels * ffn_ratio), channels)]
        self.blocks = nn.ModuleList(blks)
        self.norm = nn.Identity()  # norm_intermediate_features=False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        return x


class DingRepLKNet(nn.Module):  # replknet.py create_RepLKNet31B kernels, narrowed widths and depths
    def __init__(self, classes: int = 5, large_kernel_sizes=(31, 29, 27, 13), layers=(1, 1, 1, 1),
                 channels=(16, 32, 48, 64), small_kernel=5) -> None:
        super().__init__()
        base = channels[0]
        self.stem = nn.ModuleList([
            conv_bn_relu(3, base, 3, 2, 1, groups=1), conv_bn_relu(base, base, 3, 1, 1, groups=base),
            conv_bn_relu(base, base, 1, 1, 0, groups=1), conv_bn_relu(base, base, 3, 2, 1, groups=base)])
        self.stages, self.transitions = nn.ModuleList(), nn.ModuleList()
        self.num_stages = len(layers)
        for i in range(self.num_stages):
            self.stages.append(RepLKNetStage(channels[i], layers[i], large_kernel_sizes[i], small_kernel))
            if i < self.num_stages - 1:
                self.transitions.append(nn.Sequential(
                    conv_bn_relu(channels[i], channels[i + 1], 1, 1, 0, groups=1),
                    conv_bn_relu(channels[i + 1], channels[i + 1], 3, 2, 1, groups=channels[i + 1])))
        self.norm = nn.BatchNorm2d(channels[-1])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(channels[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem[0](x)
        for stem_layer in self.stem[1:]:
            x = stem_layer(x)
        for i in range(self.num_stages):
            x = self.stages[i](x)
            if i < self.num_stages - 1:
                x = self.transitions[i](x)
        x = torch.flatten(self.avgpool(self.norm(x)), 1)
        return self.head(x)


# ------------------------------------------------------------------ osmr IGCV3


class OsmrConvBlock(nn.Module):  # pytorchcv common.py ConvBlock (bias-free conv, BN, optional act)
    def __init__(self, c_in, c_out, kernel_size, stride, padding, groups=1, activation="relu6") -> None:
        super().__init__()
        self.activate = activation is not None
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5)
        if self.activate:
            self.activ = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return self.activ(x) if self.activate else x


class ChannelShuffle(nn.Module):  # pytorchcv common.py ChannelShuffle / channel_shuffle
    def __init__(self, channels, groups) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.size()
        x = x.view(batch, self.groups, channels // self.groups, height, width)
        return torch.transpose(x, 1, 2).contiguous().view(batch, channels, height, width)


class IGCV3InvResUnit(nn.Module):  # pytorchcv igcv3.py InvResUnit
    def __init__(self, c_in, c_out, stride, expansion) -> None:
        super().__init__()
        self.residual = (c_in == c_out) and (stride == 1)
        mid = c_in * 6 if expansion else c_in
        groups = 2
        self.conv1 = OsmrConvBlock(c_in, mid, 1, 1, 0, groups=groups, activation=None)
        self.c_shuffle = ChannelShuffle(channels=mid, groups=groups)
        self.conv2 = OsmrConvBlock(mid, mid, 3, stride, 1, groups=mid, activation="relu6")
        self.conv3 = OsmrConvBlock(mid, c_out, 1, 1, 0, groups=groups, activation=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.conv3(self.conv2(self.c_shuffle(self.conv1(x))))
        return x + identity if self.residual else x


class OsmrIGCV3(nn.Module):  # pytorchcv igcv3.py IGCV3 (width 0.25-like), narrowed
    def __init__(self, classes: int = 5, in_size=(64, 64)) -> None:
        super().__init__()
        channels, init_block_channels, final_block_channels = [[8], [12, 12], [16, 16], [24], [32]], 16, 64
        self.features = nn.Sequential()
        self.features.add_module("init_block", OsmrConvBlock(3, init_block_channels, 3, 2, 1))
        c = init_block_channels
        for i, per_stage in enumerate(channels):
            stage = nn.Sequential()
            for j, out in enumerate(per_stage):
                stride = 2 if (j == 0) and (i != 0) else 1
                expansion = (i != 0) or (j != 0)
                stage.add_module(f"unit{j + 1}", IGCV3InvResUnit(c, out, stride, expansion))
                c = out
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("final_block", OsmrConvBlock(c, final_block_channels, 1, 1, 0))
        self.features.add_module("final_pool", nn.AvgPool2d(kernel_size=in_size[0] // 32, stride=1))
        self.output = nn.Linear(final_block_channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.output(x.view(x.size(0), -1))


# ------------------------------------------------------------------ apple ml-cvnets MobileViTv2


class CvConvLayer(nn.Module):  # cvnets/layers/conv_layer.py ConvLayer: block.conv / .norm / .act
    def __init__(self, c_in, c_out, kernel_size, stride=1, groups=1, bias=False, use_norm=True, use_act=True) -> None:
        super().__init__()
        self.block = nn.Sequential()
        self.block.add_module("conv", nn.Conv2d(c_in, c_out, kernel_size, stride, (kernel_size - 1) // 2,
                                                groups=groups, bias=bias))
        if use_norm:
            self.block.add_module("norm", nn.BatchNorm2d(c_out, momentum=0.1))
        if use_act:
            self.block.add_module("act", nn.SiLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class CvInvertedResidual(nn.Module):  # cvnets/modules/mobilenetv2.py InvertedResidual
    def __init__(self, c_in, c_out, stride, expand_ratio) -> None:
        super().__init__()
        hidden = int(round(c_in * expand_ratio))
        block = nn.Sequential()
        if expand_ratio != 1:
            block.add_module("exp_1x1", CvConvLayer(c_in, hidden, 1))
        block.add_module("conv_3x3", CvConvLayer(hidden, hidden, 3, stride, groups=hidden))
        block.add_module("red_1x1", CvConvLayer(hidden, c_out, 1, use_act=False))
        self.block = block
        self.use_res_connect = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_res_connect else self.block(x)


class LinearSelfAttention(nn.Module):  # cvnets/layers/linear_attention.py
    def __init__(self, embed_dim, attn_dropout=0.0, bias=True) -> None:
        super().__init__()
        self.qkv_proj = CvConvLayer(embed_dim, 1 + 2 * embed_dim, 1, bias=bias, use_norm=False, use_act=False)
        self.attn_dropout = nn.Dropout(p=attn_dropout)
        self.out_proj = CvConvLayer(embed_dim, embed_dim, 1, bias=bias, use_norm=False, use_act=False)
        self.embed_dim = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, P, N]
        qkv = self.qkv_proj(x)
        query, key, value = torch.split(qkv, split_size_or_sections=[1, self.embed_dim, self.embed_dim], dim=1)
        context_scores = self.attn_dropout(F.softmax(query, dim=-1))
        context_vector = torch.sum(key * context_scores, dim=-1, keepdim=True)
        out = F.relu(value) * context_vector.expand_as(value)
        return self.out_proj(out)


class LinearAttnFFN(nn.Module):  # cvnets/modules/mobilevit_block.py (transformer.py) LinearAttnFFN
    def __init__(self, embed_dim, ffn_latent_dim) -> None:
        super().__init__()
        self.pre_norm_attn = nn.Sequential(nn.GroupNorm(1, embed_dim), LinearSelfAttention(embed_dim), nn.Dropout(0.0))
        self.pre_norm_ffn = nn.Sequential(
            nn.GroupNorm(1, embed_dim), CvConvLayer(embed_dim, ffn_latent_dim, 1, bias=True, use_norm=False),
            nn.Dropout(0.0), CvConvLayer(ffn_latent_dim, embed_dim, 1, bias=True, use_norm=False, use_act=False),
            nn.Dropout(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pre_norm_attn(x)
        return x + self.pre_norm_ffn(x)


class MobileViTBlockv2(nn.Module):  # cvnets/modules/mobilevit_block.py MobileViTBlockv2
    def __init__(self, c_in, attn_unit_dim, ffn_multiplier=2.0, n_attn_blocks=1, patch_h=2, patch_w=2) -> None:
        super().__init__()
        self.local_rep = nn.Sequential(
            CvConvLayer(c_in, c_in, 3, groups=c_in), CvConvLayer(c_in, attn_unit_dim, 1, use_norm=False, use_act=False))
        ffn = int((ffn_multiplier * attn_unit_dim) // 16 * 16)
        self.global_rep = nn.Sequential(*[LinearAttnFFN(attn_unit_dim, ffn) for _ in range(n_attn_blocks)],
                                        nn.GroupNorm(1, attn_unit_dim))
        self.conv_proj = CvConvLayer(attn_unit_dim, c_in, 1, use_act=False)
        self.patch_h, self.patch_w = patch_h, patch_w

    def unfolding_pytorch(self, feature_map: torch.Tensor) -> tuple:
        batch_size, in_channels, img_h, img_w = feature_map.shape
        patches = F.unfold(feature_map, kernel_size=(self.patch_h, self.patch_w), stride=(self.patch_h, self.patch_w))
        patches = patches.reshape(batch_size, in_channels, self.patch_h * self.patch_w, -1)
        return patches, (img_h, img_w)

    def folding_pytorch(self, patches: torch.Tensor, output_size) -> torch.Tensor:
        batch_size, in_dim, patch_size, n_patches = patches.shape
        patches = patches.reshape(batch_size, in_dim * patch_size, n_patches)
        return F.fold(patches, output_size=output_size, kernel_size=(self.patch_h, self.patch_w),
                      stride=(self.patch_h, self.patch_w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fm = self.local_rep(x)
        patches, output_size = self.unfolding_pytorch(fm)
        patches = self.global_rep(patches)
        fm = self.folding_pytorch(patches, output_size)
        return self.conv_proj(fm)


class GlobalPool(nn.Module):  # cvnets/layers/global_pool.py (mean over H, W)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mean(x, dim=[-2, -1], keepdim=True)


class AppleMobileViTv2(nn.Module):  # cvnets/models/classification/mobilevit_v2.py, width 0.25-like
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        ir, mv = CvInvertedResidual, MobileViTBlockv2
        self.conv_1 = CvConvLayer(3, 16, 3, stride=2)
        self.layer_1 = nn.Sequential(ir(16, 16, 1, 2))
        self.layer_2 = nn.Sequential(ir(16, 24, 2, 2))
        self.layer_3 = nn.Sequential(ir(24, 32, 2, 2), mv(32, 32, n_attn_blocks=1))
        self.layer_4 = nn.Sequential(ir(32, 48, 2, 2), mv(48, 48, n_attn_blocks=1))
        self.layer_5 = nn.Sequential(ir(48, 64, 2, 2), mv(64, 64, n_attn_blocks=1))
        self.conv_1x1_exp = nn.Identity()
        self.classifier = nn.Sequential()
        self.classifier.add_module("global_pool", GlobalPool())
        self.classifier.add_module("flatten", nn.Flatten())
        self.classifier.add_module("fc", nn.Linear(64, classes, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer_2(self.layer_1(self.conv_1(x)))
        x = self.layer_5(self.layer_4(self.layer_3(x)))
        return self.classifier(self.conv_1x1_exp(x))


# ------------------------------------------------------------------ snap-research EfficientFormer (v1)


class EfAttention(nn.Module):  # EfficientFormer models/efficientformer.py Attention
    def __init__(self, dim=384, key_dim=32, num_heads=8, attn_ratio=4, resolution=7) -> None:
        super().__init__()
        self.num_heads, self.scale, self.key_dim = num_heads, key_dim**-0.5, key_dim
        self.nh_kd = nh_kd = key_dim * num_heads
        self.d = int(attn_ratio * key_dim)
        self.dh = int(attn_ratio * key_dim) * num_heads
        self.attn_ratio = attn_ratio
        self.qkv = nn.Linear(dim, self.dh + nh_kd * 2)
        self.proj = nn.Linear(self.dh, dim)
        points = list(itertools.product(range(resolution), range(resolution)))
        N, attention_offsets, idxs = len(points), {}, []
        for p1 in points:
            for p2 in points:
                offset = (abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))
                if offset not in attention_offsets:
                    attention_offsets[offset] = len(attention_offsets)
                idxs.append(attention_offsets[offset])
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(attention_offsets)))
        self.register_buffer("attention_bias_idxs", torch.LongTensor(idxs).view(N, N))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, C)
        B, N, C = x.shape
        qkv = self.qkv(x)
        q, k, v = qkv.reshape(B, N, self.num_heads, -1).permute(0, 2, 1, 3).split(
            [self.key_dim, self.key_dim, self.d], dim=3)
        attn = (q @ k.transpose(-2, -1)) * self.scale + self.attention_biases[:, self.attention_bias_idxs]
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, self.dh)
        return self.proj(x)


def ef_stem(c_in, c_out) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out // 2, 3, 2, 1), nn.BatchNorm2d(c_out // 2), nn.ReLU(),
                         nn.Conv2d(c_out // 2, c_out, 3, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU())


class EfEmbedding(nn.Module):
    def __init__(self, patch_size=3, stride=2, padding=1, in_chans=3, embed_dim=768) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride, padding)
        self.norm = nn.BatchNorm2d(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class EfFlat(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)


class EfPooling(nn.Module):
    def __init__(self, pool_size=3) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(pool_size, stride=1, padding=pool_size // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) - x


class EfLinearMlp(nn.Module):
    def __init__(self, c_in, hidden) -> None:
        super().__init__()
        self.fc1 = nn.Linear(c_in, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, c_in)
        self.drop = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class EfMlp(nn.Module):  # 1x1 convs, each followed by a BN
    def __init__(self, c_in, hidden) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c_in, hidden, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, c_in, 1)
        self.drop = nn.Dropout(0.0)
        self.norm1 = nn.BatchNorm2d(hidden)
        self.norm2 = nn.BatchNorm2d(c_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.norm1(self.fc1(x))))
        return self.drop(self.norm2(self.fc2(x)))


class Meta3D(nn.Module):
    def __init__(self, dim, mlp_ratio=4.0, layer_scale_init_value=1e-5) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.token_mixer = EfAttention(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = EfLinearMlp(dim, int(dim * mlp_ratio))
        self.drop_path = nn.Identity()
        self.layer_scale_1 = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)
        self.layer_scale_2 = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.layer_scale_1.unsqueeze(0).unsqueeze(0) * self.token_mixer(self.norm1(x)))
        return x + self.drop_path(self.layer_scale_2.unsqueeze(0).unsqueeze(0) * self.mlp(self.norm2(x)))


class Meta4D(nn.Module):
    def __init__(self, dim, pool_size=3, mlp_ratio=4.0, layer_scale_init_value=1e-5) -> None:
        super().__init__()
        self.token_mixer = EfPooling(pool_size=pool_size)
        self.mlp = EfMlp(dim, int(dim * mlp_ratio))
        self.drop_path = nn.Identity()
        self.layer_scale_1 = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)
        self.layer_scale_2 = nn.Parameter(layer_scale_init_value * torch.ones(dim), requires_grad=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.layer_scale_1.unsqueeze(-1).unsqueeze(-1) * self.token_mixer(x))
        return x + self.drop_path(self.layer_scale_2.unsqueeze(-1).unsqueeze(-1) * self.mlp(x))


def meta_blocks(dim, index, layers, vit_num=1) -> nn.Sequential:
    blocks = []
    for block_idx in range(layers[index]):
        if index == 3 and layers[index] - block_idx <= vit_num:
            blocks.append(Meta3D(dim))
        else:
            blocks.append(Meta4D(dim))
            if index == 3 and layers[index] - block_idx - 1 == vit_num:
                blocks.append(EfFlat())
    return nn.Sequential(*blocks)


class SnapEfficientFormer(nn.Module):  # efficientformer.py EfficientFormer (l1 layout), narrowed
    def __init__(self, classes: int = 5, layers=(1, 1, 1, 2), embed_dims=(8, 16, 24, 32)) -> None:
        super().__init__()
        self.patch_embed = ef_stem(3, embed_dims[0])
        network = []
        for i in range(len(layers)):
            network.append(meta_blocks(embed_dims[i], i, layers))
            if i >= len(layers) - 1:
                break
            network.append(EfEmbedding(3, 2, 1, embed_dims[i], embed_dims[i + 1]))
        self.network = nn.ModuleList(network)
        self.norm = nn.LayerNorm(embed_dims[-1])
        self.head = nn.Linear(embed_dims[-1], classes)
        self.dist_head = nn.Linear(embed_dims[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for block in self.network:
            x = block(x)
        x = self.norm(x)
        cls_out = self.head(x.mean(-2)), self.dist_head(x.mean(-2))
        return (cls_out[0] + cls_out[1]) / 2  # eval: the two heads averaged


# ------------------------------------------------------------------ landskape Triplet Attention ResNet


class TaBasicConv(nn.Module):  # triplet-attention MODELS/triplet_attention.py BasicConv
    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, relu=True, bn=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.01, affine=True) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class ZPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), dim=1)


class AttentionGate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        kernel_size = 7
        self.compress = ZPool()
        self.conv = TaBasicConv(2, 1, kernel_size, stride=1, padding=(kernel_size - 1) // 2, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid_(self.conv(self.compress(x)))


class TripletAttention(nn.Module):
    def __init__(self, gate_channels=None, reduction_ratio=16, no_spatial=False) -> None:
        super().__init__()
        self.cw = AttentionGate()
        self.hc = AttentionGate()
        self.no_spatial = no_spatial
        if not no_spatial:
            self.hw = AttentionGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_out11 = self.cw(x.permute(0, 2, 1, 3).contiguous()).permute(0, 2, 1, 3).contiguous()
        x_out21 = self.hc(x.permute(0, 3, 2, 1).contiguous()).permute(0, 3, 2, 1).contiguous()
        if not self.no_spatial:
            return 1 / 3 * (self.hw(x) + x_out11 + x_out21)
        return 1 / 2 * (x_out11 + x_out21)


class TaBottleneck(nn.Module):  # MODELS/model_resnet.py Bottleneck(use_triplet_attention=True)
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.triplet_attention = TripletAttention(planes * 4, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out = self.triplet_attention(out)
        out += residual
        return self.relu(out)


class LandskapeTripletResNet(nn.Module):  # ResidualNet('ImageNet', 50, ..., 'TripletAttention'), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.avgpool = nn.AvgPool2d(7)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(4, 1)
        self.layer2 = self._make_layer(8, 1, stride=2)
        self.layer3 = self._make_layer(8, 1, stride=2)
        self.layer4 = self._make_layer(12, 1, stride=2)
        self.fc = nn.Linear(12 * TaBottleneck.expansion, classes)

    def _make_layer(self, planes, blocks, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * TaBottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * TaBottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * TaBottleneck.expansion))
        layers = [TaBottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * TaBottleneck.expansion
        layers += [TaBottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)  # network_type ImageNet: a fixed 7x7 pool
        return self.fc(x.view(x.size(0), -1))


# ------------------------------------------------------------------ ZjjConan SimAM ResNet (CIFAR)


class simam_module(nn.Module):  # SimAM networks/attentions/simam_module.py (no parameters)
    def __init__(self, channels=None, e_lambda=1e-4) -> None:
        super().__init__()
        self.activaton = nn.Sigmoid()
        self.e_lambda = e_lambda

    @staticmethod
    def get_module_name():
        return "simam"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.size()
        n = w * h - 1
        x_minus_mu_square = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
        y = x_minus_mu_square / (4 * (x_minus_mu_square.sum(dim=[2, 3], keepdim=True) / n + self.e_lambda)) + 0.5
        return x * self.activaton(y)


class SimamBasicBlock(nn.Module):  # SimAM networks/cifar/resnet.py BasicBlock(attention_module=simam)
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, attention_module=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if attention_module is not None:
            if attention_module.get_module_name() == "simam":
                self.conv2 = nn.Sequential(self.conv2, attention_module(planes))
            else:
                self.bn2 = nn.Sequential(self.bn2, attention_module(planes))
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)


class ZjjConanSimamResNet(nn.Module):  # networks/cifar/resnet.py ResNet (resnet20-like), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, 1)
        self.layer2 = self._make_layer(32, 1, stride=2)
        self.layer3 = self._make_layer(48, 1, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(48, classes)

    def _make_layer(self, planes, blocks, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [SimamBasicBlock(self.inplanes, planes, stride, downsample, simam_module)]
        self.inplanes = planes
        layers += [SimamBasicBlock(planes, planes, attention_module=simam_module) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


ZOO = {  # name: (build, input shape)
    "coderx7_simplenet": (Coderx7SimpleNet, (2, 3, 32, 32)),
    "dli14_rednet": (Dli14RedNet, (2, 3, 32, 32)),
    "leaderj1001_botnet": (Leaderj1001BoTNet, (2, 3, 64, 64)),
    "raoyongming_hornet": (RaoyongmingHorNet, (2, 3, 64, 64)),
    "dingxiaoh_replknet": (DingRepLKNet, (2, 3, 64, 64)),
    "osmr_igcv3": (OsmrIGCV3, (2, 3, 64, 64)),
    "apple_mobilevitv2": (AppleMobileViTv2, (2, 3, 64, 64)),
    "snap_efficientformer": (SnapEfficientFormer, (2, 3, 224, 224)),
    "landskape_triplet_resnet": (LandskapeTripletResNet, (2, 3, 224, 224)),
    "zjjconan_simam_resnet": (ZjjConanSimamResNet, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
