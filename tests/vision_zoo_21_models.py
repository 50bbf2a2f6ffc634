"""Ten small CNN / hybrid image classifiers written the way other public repositories write them,
for tests/test_vision_zoo_21.py (issue 16's held-out measure, session 21): hysts's Shake-Shake
ResNet (pytorch_image_classification: two `residual_path`s averaged in eval, a two-path
`DownsamplingShortcut` with a shifted crop), Jongchan's CBAM ResNet (attention-module: a
`ChannelGate` MLP over avg and max pools, a `SpatialGate` of a channel max/mean pool and a 7x7
BasicConv), houqb's Coordinate Attention MobileNetV2 (mbv2_ca: `CoordAtt` with h_swish, pooled
along H and W, concatenated, split back), DingXiaoH's ACNet in its train form (ACBlock:
square, vertical and horizontal convs each with its BN, summed), chinhsuanwu's MobileViT (MV2Blocks
and MobileViTBlocks unfolding 2x2 patches into a pre-norm transformer), VAN (Visual-Attention-Network:
OverlapPatchEmbed with BN, LKA large-kernel attention with a dilated depthwise conv, layer scales,
a token LayerNorm per stage), sail-sg's ConvFormer (metaformer: Downsampling with bias-free
LayerNormGeneral, SepConv with StarReLU, res scales, an MlpHead with SquaredReLU), osmr's
DiracNetV2 (pre-activation `DiracConv`s, no BN, no residual), chenyaofo's CIFAR VGG11-BN and
timm's EfficientNet-EdgeTPU-S (`efficientnet_es`: EdgeResidual blocks with a full 3x3 expansion,
`force_in_chs`, `noskip`).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input


# ------------------------------------------------------------------ hysts Shake-Shake (CIFAR)


class ShakeResidualPath(nn.Module):  # pytorch_image_classification shake_shake.ResidualPath
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x, inplace=False)
        x = F.relu(self.bn1(self.conv1(x)), inplace=False)
        return self.bn2(self.conv2(x))


class ShakeDownsamplingShortcut(nn.Module):  # shake_shake.DownsamplingShortcut
    def __init__(self, c_in) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_in, 1, 1, 0, bias=False)
        self.conv2 = nn.Conv2d(c_in, c_in, 1, 1, 0, bias=False)
        self.bn = nn.BatchNorm2d(c_in * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x, inplace=False)
        y1 = self.conv1(F.avg_pool2d(x, kernel_size=1, stride=2, padding=0))
        y2 = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        y2 = self.conv2(F.avg_pool2d(y2, kernel_size=1, stride=2, padding=0))
        return self.bn(torch.cat([y1, y2], dim=1))


class ShakeBasicBlock(nn.Module):  # shake_shake.BasicBlock (eval: alpha = 0.5)
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        self.residual_path1 = ShakeResidualPath(c_in, c_out, stride)
        self.residual_path2 = ShakeResidualPath(c_in, c_out, stride)
        self.shortcut = nn.Sequential()
        if c_in != c_out:
            self.shortcut.add_module("downsample", ShakeDownsamplingShortcut(c_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.residual_path1(x), self.residual_path2(x)
        alpha = torch.full((x.size(0), 1, 1, 1), 0.5) if not self.training else torch.rand(x.size(0), 1, 1, 1)
        y = x1 * alpha + x2 * (1 - alpha)
        return self.shortcut(x) + y


class HystsShakeShake(nn.Module):  # shake_shake.Network (depth 8 -> one block a stage), narrowed
    def __init__(self, classes: int = 5, base: int = 8) -> None:
        super().__init__()
        widths = [base, base * 2, base * 4]
        self.conv = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        # _make_stage: an nn.Sequential whose blocks are named `block1`, `block2`, ...
        self.stage1 = nn.Sequential(OrderedDict(block1=ShakeBasicBlock(8, widths[0], 1)))
        self.stage2 = nn.Sequential(OrderedDict(block1=ShakeBasicBlock(widths[0], widths[1], 2)))
        self.stage3 = nn.Sequential(OrderedDict(block1=ShakeBasicBlock(widths[1], widths[2], 2)))
        self.fc = nn.Linear(widths[2], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.conv(x)), inplace=True)
        x = self.stage3(self.stage2(self.stage1(x)))
        x = F.relu(x, inplace=True)
        x = F.adaptive_avg_pool2d(x, output_size=1)
        return self.fc(x.view(x.size(0), -1))


# ------------------------------------------------------------------ Jongchan CBAM ResNet


class CbamBasicConv(nn.Module):  # attention-module MODELS/cbam.py BasicConv (BN momentum 0.01)
    def __init__(self, c_in, c_out, k, stride=1, padding=0, relu=True, bn=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.01, affine=True) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class CbamFlatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), -1)


class CbamChannelGate(nn.Module):  # cbam.py ChannelGate(pool_types=['avg', 'max'])
    def __init__(self, gate_channels, reduction_ratio=16) -> None:
        super().__init__()
        self.mlp = nn.Sequential(CbamFlatten(), nn.Linear(gate_channels, gate_channels // reduction_ratio),
                                 nn.ReLU(), nn.Linear(gate_channels // reduction_ratio, gate_channels))
        self.pool_types = ["avg", "max"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = None
        for pool_type in self.pool_types:
            if pool_type == "avg":
                pooled = F.avg_pool2d(x, (x.size(2), x.size(3)), stride=(x.size(2), x.size(3)))
            else:
                pooled = F.max_pool2d(x, (x.size(2), x.size(3)), stride=(x.size(2), x.size(3)))
            raw = self.mlp(pooled)
            total = raw if total is None else total + raw
        scale = torch.sigmoid(total).unsqueeze(2).unsqueeze(3).expand_as(x)
        return x * scale


class CbamChannelPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), dim=1)


class CbamSpatialGate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.compress = CbamChannelPool()
        self.spatial = CbamBasicConv(2, 1, 7, stride=1, padding=3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.spatial(self.compress(x)))


class CBAM(nn.Module):
    def __init__(self, gate_channels, reduction_ratio=16) -> None:
        super().__init__()
        self.ChannelGate = CbamChannelGate(gate_channels, reduction_ratio)
        self.SpatialGate = CbamSpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class CbamBasicBlock(nn.Module):  # attention-module MODELS/model_resnet.py BasicBlock(use_cbam=True)
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.cbam = CBAM(planes, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out = self.cbam(out)
        out += residual
        return self.relu(out)


class JongchanCbamResNet(nn.Module):  # model_resnet.ResidualNet('CIFAR10', 18, 'CBAM'), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, 1)
        self.layer2 = self._make_layer(32, 1, stride=2)
        self.layer3 = self._make_layer(32, 1, stride=2)
        self.layer4 = self._make_layer(48, 1, stride=2)
        self.fc = nn.Linear(48, classes)

    def _make_layer(self, planes, blocks, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [CbamBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [CbamBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.avg_pool2d(x, 4)  # the CIFAR network type: a fixed 4x4 pool, not adaptive
        return self.fc(x.view(x.size(0), -1))


# ------------------------------------------------------------------ houqb Coordinate Attention MobileNetV2


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class CaHSigmoid(nn.Module):  # CoordAttention coordatt.py h_sigmoid
    def __init__(self, inplace=True) -> None:
        super().__init__()
        self.relu = nn.ReLU6(inplace=inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + 3) / 6


class CaHSwish(nn.Module):
    def __init__(self, inplace=True) -> None:
        super().__init__()
        self.sigmoid = CaHSigmoid(inplace=inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.sigmoid(x)


class CoordAtt(nn.Module):  # coordatt.py CoordAtt(inp, oup, reduction=32)
    def __init__(self, inp, oup, reduction=32) -> None:
        super().__init__()
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        mip = max(8, inp // reduction)
        self.conv1 = nn.Conv2d(inp, mip, 1, 1, 0)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = CaHSwish()
        self.conv_h = nn.Conv2d(mip, oup, 1, 1, 0)
        self.conv_w = nn.Conv2d(mip, oup, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        n, c, h, w = x.size()
        x_h = self.pool_h(x)
        x_w = self.pool_w(x).permute(0, 1, 3, 2)
        y = self.act(self.bn1(self.conv1(torch.cat([x_h, x_w], dim=2))))
        x_h, x_w = torch.split(y, [h, w], dim=2)
        x_w = x_w.permute(0, 1, 3, 2)
        a_h = self.conv_h(x_h).sigmoid()
        a_w = self.conv_w(x_w).sigmoid()
        return identity * a_w * a_h


def _ca_conv_3x3_bn(inp, oup, stride):
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


def _ca_conv_1x1_bn(inp, oup):
    return nn.Sequential(nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


class CaInvertedResidual(nn.Module):  # mbv2_ca.py InvertedResidual (CoordAtt after the depthwise)
    def __init__(self, inp, oup, stride, expand_ratio) -> None:
        super().__init__()
        hidden_dim = round(inp * expand_ratio)
        self.identity = stride == 1 and inp == oup
        if expand_ratio == 1:
            self.conv = nn.Sequential(
                nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                nn.BatchNorm2d(hidden_dim), nn.ReLU6(inplace=True),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))
        else:
            self.conv = nn.Sequential(
                nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim), nn.ReLU6(inplace=True),
                nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                nn.BatchNorm2d(hidden_dim), nn.ReLU6(inplace=True),
                CoordAtt(hidden_dim, hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.identity else self.conv(x)


class HouqbMBV2CA(nn.Module):  # mbv2_ca.py MBV2_CA (width_mult 0.5), narrowed
    def __init__(self, classes: int = 5, width_mult: float = 0.5) -> None:
        super().__init__()
        cfgs = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2], [6, 64, 1, 2]]
        input_channel = _make_divisible(32 * width_mult, 4 if width_mult == 0.1 else 8)
        layers = [_ca_conv_3x3_bn(3, input_channel, 2)]
        for t, c, n, s in cfgs:
            output_channel = _make_divisible(c * width_mult, 4 if width_mult == 0.1 else 8)
            for i in range(n):
                layers.append(CaInvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        self.features = nn.Sequential(*layers)
        output_channel = _make_divisible(128 * width_mult, 8)
        self.conv = _ca_conv_1x1_bn(input_channel, output_channel)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(output_channel, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.conv(self.features(x)))
        return self.classifier(x.view(x.size(0), -1))


# ------------------------------------------------------------------ DingXiaoH ACNet (train form)


class ACBlock(nn.Module):  # ACNet acnet/acb.py ACBlock (deploy=False): square + ver + hor, each BN
    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, groups=1) -> None:
        super().__init__()
        self.square_conv = nn.Conv2d(c_in, c_out, (kernel_size, kernel_size), stride, padding,
                                     groups=groups, bias=False)
        self.square_bn = nn.BatchNorm2d(c_out)
        hor_padding = (padding - kernel_size // 2, padding)
        ver_padding = (padding, padding - kernel_size // 2)
        self.ver_conv = nn.Conv2d(c_in, c_out, (kernel_size, 1), stride, ver_padding, groups=groups, bias=False)
        self.hor_conv = nn.Conv2d(c_in, c_out, (1, kernel_size), stride, hor_padding, groups=groups, bias=False)
        self.ver_bn = nn.BatchNorm2d(c_out)
        self.hor_bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        square = self.square_bn(self.square_conv(x))
        vertical = self.ver_bn(self.ver_conv(x))
        horizontal = self.hor_bn(self.hor_conv(x))
        return square + vertical + horizontal


class DingACNetVGG(nn.Module):  # acnet builder's VGG-style net: ACBlock + ReLU, max pools, a linear head
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        cfg, layers, c = [8, "M", 16, "M", 24, 24, "M", 32], [], 3
        for i, v in enumerate(cfg):
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [ACBlock(c, v, 3, 1, 1), nn.ReLU()]
                c = v
        self.stem = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(self.gap(self.stem(x)), 1))


# ------------------------------------------------------------------ chinhsuanwu MobileViT


def _mvit_conv_1x1_bn(inp, oup):
    return nn.Sequential(nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.SiLU())


def _mvit_conv_nxn_bn(inp, oup, kernel_size=3, stride=1):
    return nn.Sequential(nn.Conv2d(inp, oup, kernel_size, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.SiLU())


class MvitPreNorm(nn.Module):
    def __init__(self, dim, fn) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class MvitFeedForward(nn.Module):
    def __init__(self, dim, hidden_dim) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden_dim), nn.SiLU(), nn.Dropout(0.0),
                                 nn.Linear(hidden_dim, dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MvitAttention(nn.Module):  # mobilevit.py Attention (einops rearranges written as reshapes)
    def __init__(self, dim, heads=8, dim_head=64) -> None:
        super().__init__()
        inner_dim = dim_head * heads
        project_out = not (heads == 1 and dim_head == dim)
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.attend = nn.Softmax(dim=-1)
        self.to_qkv = nn.Linear(dim, inner_dim * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner_dim, dim), nn.Dropout(0.0)) if project_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, p, n, _ = x.shape
        q, k, v = (t.reshape(b, p, n, self.heads, -1).transpose(2, 3) for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = self.attend(torch.matmul(q, k.transpose(-1, -2)) * self.scale)
        out = torch.matmul(attn, v).transpose(2, 3).reshape(b, p, n, -1)
        return self.to_out(out)


class MvitTransformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim) -> None:
        super().__init__()
        self.layers = nn.ModuleList([
            nn.ModuleList([MvitPreNorm(dim, MvitAttention(dim, heads, dim_head)),
                           MvitPreNorm(dim, MvitFeedForward(dim, mlp_dim))])
            for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attn, ff in self.layers:
            x = attn(x) + x
            x = ff(x) + x
        return x


class MV2Block(nn.Module):  # mobilevit.py MV2Block (SiLU)
    def __init__(self, inp, oup, stride=1, expansion=4) -> None:
        super().__init__()
        hidden_dim = int(inp * expansion)
        self.use_res_connect = stride == 1 and inp == oup
        if expansion == 1:
            self.conv = nn.Sequential(
                nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                nn.BatchNorm2d(hidden_dim), nn.SiLU(),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))
        else:
            self.conv = nn.Sequential(
                nn.Conv2d(inp, hidden_dim, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden_dim), nn.SiLU(),
                nn.Conv2d(hidden_dim, hidden_dim, 3, stride, 1, groups=hidden_dim, bias=False),
                nn.BatchNorm2d(hidden_dim), nn.SiLU(),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileViTBlock(nn.Module):  # mobilevit.py MobileViTBlock (heads 4, dim_head 8)
    def __init__(self, dim, depth, channel, kernel_size, patch_size, mlp_dim) -> None:
        super().__init__()
        self.ph, self.pw = patch_size
        self.conv1 = _mvit_conv_nxn_bn(channel, channel, kernel_size)
        self.conv2 = _mvit_conv_1x1_bn(channel, dim)
        self.transformer = MvitTransformer(dim, depth, 4, 8, mlp_dim)
        self.conv3 = _mvit_conv_1x1_bn(dim, channel)
        self.conv4 = _mvit_conv_nxn_bn(2 * channel, channel, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        x = self.conv2(self.conv1(x))
        b, d, hh, ww = x.shape
        h, w, ph, pw = hh // self.ph, ww // self.pw, self.ph, self.pw
        # 'b d (h ph) (w pw) -> b (ph pw) (h w) d'
        x = x.reshape(b, d, h, ph, w, pw).permute(0, 3, 5, 2, 4, 1).reshape(b, ph * pw, h * w, d)
        x = self.transformer(x)
        # 'b (ph pw) (h w) d -> b d (h ph) (w pw)'
        x = x.reshape(b, ph, pw, h, w, d).permute(0, 5, 3, 1, 4, 2).reshape(b, d, h * ph, w * pw)
        x = self.conv3(x)
        return self.conv4(torch.cat((x, y), 1))


class ChinhsuanwuMobileViT(nn.Module):  # mobilevit.py MobileViT (xxs layout, narrowed, depths 1)
    def __init__(self, classes: int = 5, image_size=(64, 64)) -> None:
        super().__init__()
        dims, channels, expansion, kernel_size, patch_size = [16, 24, 32], [8, 8, 12, 12, 16, 16, 24, 24, 32, 32, 64], 2, 3, (2, 2)
        ih, iw = image_size
        depths = [1, 1, 1]
        self.conv1 = _mvit_conv_nxn_bn(3, channels[0], stride=2)
        self.mv2 = nn.ModuleList([
            MV2Block(channels[0], channels[1], 1, expansion),
            MV2Block(channels[1], channels[2], 2, expansion),
            MV2Block(channels[2], channels[3], 1, expansion),
            MV2Block(channels[2], channels[3], 1, expansion),  # Repeat
            MV2Block(channels[3], channels[4], 2, expansion),
            MV2Block(channels[5], channels[6], 2, expansion),
            MV2Block(channels[7], channels[8], 2, expansion)])
        self.mvit = nn.ModuleList([
            MobileViTBlock(dims[0], depths[0], channels[5], kernel_size, patch_size, int(dims[0] * 2)),
            MobileViTBlock(dims[1], depths[1], channels[7], kernel_size, patch_size, int(dims[1] * 4)),
            MobileViTBlock(dims[2], depths[2], channels[9], kernel_size, patch_size, int(dims[2] * 4))])
        self.conv2 = _mvit_conv_1x1_bn(channels[-2], channels[-1])
        self.pool = nn.AvgPool2d(ih // 32, 1)
        self.fc = nn.Linear(channels[-1], classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.mv2[0](x)
        x = self.mv2[1](x)
        x = self.mv2[2](x)
        x = self.mv2[3](x)
        x = self.mv2[4](x)
        x = self.mvit[0](x)
        x = self.mv2[5](x)
        x = self.mvit[1](x)
        x = self.mv2[6](x)
        x = self.mvit[2](x)
        x = self.conv2(x)
        x = self.pool(x).view(-1, x.shape[1])
        return self.fc(x)


# ------------------------------------------------------------------ VAN (Visual Attention Network)


class VanDWConv(nn.Module):
    def __init__(self, dim) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dwconv(x)


class VanMlp(nn.Module):  # VAN-Classification models/van.py Mlp: 1x1, depthwise 3x3, GELU, 1x1
    def __init__(self, c, hidden) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, hidden, 1)
        self.dwconv = VanDWConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(hidden, c, 1)
        self.drop = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.dwconv(self.fc1(x))))
        return self.drop(self.fc2(x))


class LKA(nn.Module):  # van.py LKA: depthwise 5x5, depthwise 7x7 dilation 3, 1x1; multiplies
    def __init__(self, dim) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(dim, dim, 5, padding=2, groups=dim)
        self.conv_spatial = nn.Conv2d(dim, dim, 7, stride=1, padding=9, groups=dim, dilation=3)
        self.conv1 = nn.Conv2d(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x.clone()
        attn = self.conv1(self.conv_spatial(self.conv0(x)))
        return u * attn


class VanAttention(nn.Module):
    def __init__(self, d_model) -> None:
        super().__init__()
        self.proj_1 = nn.Conv2d(d_model, d_model, 1)
        self.activation = nn.GELU()
        self.spatial_gating_unit = LKA(d_model)
        self.proj_2 = nn.Conv2d(d_model, d_model, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x.clone()
        x = self.proj_2(self.spatial_gating_unit(self.activation(self.proj_1(x))))
        return x + shortcut


class VanBlock(nn.Module):
    def __init__(self, dim, mlp_ratio=4.0) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(dim)
        self.attn = VanAttention(dim)
        self.drop_path = nn.Identity()
        self.norm2 = nn.BatchNorm2d(dim)
        self.mlp = VanMlp(dim, int(dim * mlp_ratio))
        self.layer_scale_1 = nn.Parameter(1e-2 * torch.ones(dim))
        self.layer_scale_2 = nn.Parameter(1e-2 * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.layer_scale_1.unsqueeze(-1).unsqueeze(-1) * self.attn(self.norm1(x)))
        return x + self.drop_path(self.layer_scale_2.unsqueeze(-1).unsqueeze(-1) * self.mlp(self.norm2(x)))


class VanOverlapPatchEmbed(nn.Module):
    def __init__(self, patch_size=7, stride=4, in_chans=3, embed_dim=768) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride, padding=patch_size // 2)
        self.norm = nn.BatchNorm2d(embed_dim)

    def forward(self, x: torch.Tensor):
        x = self.proj(x)
        _, _, h, w = x.shape
        return self.norm(x), h, w


class VisualAttentionNetwork(nn.Module):  # van.py VAN (van_b0's LayerNorm eps 1e-6), narrowed
    def __init__(self, classes: int = 5, embed_dims=(8, 16, 24, 32), mlp_ratios=(8, 8, 4, 4),
                 depths=(1, 1, 1, 1), num_stages=4) -> None:
        super().__init__()
        self.depths, self.num_stages = depths, num_stages
        norm_layer = partial(nn.LayerNorm, eps=1e-6)
        for i in range(num_stages):
            patch_embed = VanOverlapPatchEmbed(7 if i == 0 else 3, 4 if i == 0 else 2,
                                               3 if i == 0 else embed_dims[i - 1], embed_dims[i])
            block = nn.ModuleList([VanBlock(embed_dims[i], mlp_ratios[i]) for _ in range(depths[i])])
            setattr(self, f"patch_embed{i + 1}", patch_embed)
            setattr(self, f"block{i + 1}", block)
            setattr(self, f"norm{i + 1}", norm_layer(embed_dims[i]))
        self.head = nn.Linear(embed_dims[3], classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        for i in range(self.num_stages):
            x, h, w = getattr(self, f"patch_embed{i + 1}")(x)
            for blk in getattr(self, f"block{i + 1}"):
                x = blk(x)
            x = getattr(self, f"norm{i + 1}")(x.flatten(2).transpose(1, 2))
            if i != self.num_stages - 1:
                x = x.reshape(b, h, w, -1).permute(0, 3, 1, 2).contiguous()
        return x.mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ sail-sg ConvFormer (metaformer)


class LayerNormGeneral(nn.Module):  # metaformer_baselines.py LayerNormGeneral
    def __init__(self, affine_shape=None, normalized_dim=(-1,), scale=True, bias=True, eps=1e-5) -> None:
        super().__init__()
        self.normalized_dim = normalized_dim
        self.use_scale, self.use_bias = scale, bias
        self.weight = nn.Parameter(torch.ones(affine_shape)) if scale else None
        self.bias = nn.Parameter(torch.zeros(affine_shape)) if bias else None
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x - x.mean(self.normalized_dim, keepdim=True)
        s = c.pow(2).mean(self.normalized_dim, keepdim=True)
        x = c / torch.sqrt(s + self.eps)
        if self.use_scale:
            x = x * self.weight
        if self.use_bias:
            x = x + self.bias
        return x


class LayerNormWithoutBias(nn.Module):  # metaformer_baselines.py: F.layer_norm with bias=None
    def __init__(self, normalized_shape, eps=1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.bias = None
        self.normalized_shape = (normalized_shape,)
        self.weight = nn.Parameter(torch.ones(normalized_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.normalized_shape, weight=self.weight, bias=self.bias, eps=self.eps)


class MfDownsampling(nn.Module):  # metaformer_baselines.py Downsampling (channels-last out)
    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, pre_norm=None, post_norm=None,
                 pre_permute=False) -> None:
        super().__init__()
        self.pre_norm = pre_norm(c_in) if pre_norm else nn.Identity()
        self.pre_permute = pre_permute
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding)
        self.post_norm = post_norm(c_out) if post_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre_norm(x)
        if self.pre_permute:
            x = x.permute(0, 3, 1, 2)
        x = self.conv(x).permute(0, 2, 3, 1)
        return self.post_norm(x)


class MfScale(nn.Module):
    def __init__(self, dim, init_value=1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(init_value * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class StarReLU(nn.Module):  # metaformer_baselines.py StarReLU: s * relu(x) ** 2 + b
    def __init__(self, scale_value=1.0, bias_value=0.0) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.scale = nn.Parameter(scale_value * torch.ones(1))
        self.bias = nn.Parameter(bias_value * torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.relu(x) ** 2 + self.bias


class SquaredReLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.square(self.relu(x))


class SepConv(nn.Module):  # metaformer_baselines.py SepConv (MobileNetV2's inverted separable conv)
    def __init__(self, dim, expansion_ratio=2, kernel_size=7, padding=3, **kwargs) -> None:
        super().__init__()
        med = int(expansion_ratio * dim)
        self.pwconv1 = nn.Linear(dim, med, bias=False)
        self.act1 = StarReLU()
        self.dwconv = nn.Conv2d(med, med, kernel_size, padding=padding, groups=med, bias=False)
        self.act2 = nn.Identity()
        self.pwconv2 = nn.Linear(med, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.pwconv1(x)).permute(0, 3, 1, 2)
        x = self.act2(self.dwconv(x).permute(0, 2, 3, 1))
        return self.pwconv2(x)


class MfMlp(nn.Module):
    def __init__(self, dim, mlp_ratio=4, **kwargs) -> None:
        super().__init__()
        hidden = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden, bias=False)
        self.act = StarReLU()
        self.drop1 = nn.Dropout(0.0)
        self.fc2 = nn.Linear(hidden, dim, bias=False)
        self.drop2 = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class MetaFormerBlock(nn.Module):
    def __init__(self, dim, res_scale_init_value=None) -> None:
        super().__init__()
        norm_layer = partial(LayerNormWithoutBias, eps=1e-6)
        self.norm1 = norm_layer(dim)
        self.token_mixer = SepConv(dim=dim, drop=0.0)
        self.drop_path1 = nn.Identity()
        self.layer_scale1 = nn.Identity()
        self.res_scale1 = MfScale(dim, res_scale_init_value) if res_scale_init_value else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = MfMlp(dim=dim, drop=0.0)
        self.drop_path2 = nn.Identity()
        self.layer_scale2 = nn.Identity()
        self.res_scale2 = MfScale(dim, res_scale_init_value) if res_scale_init_value else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.res_scale1(x) + self.layer_scale1(self.drop_path1(self.token_mixer(self.norm1(x))))
        return self.res_scale2(x) + self.layer_scale2(self.drop_path2(self.mlp(self.norm2(x))))


class MfMlpHead(nn.Module):
    def __init__(self, dim, num_classes, mlp_ratio=4) -> None:
        super().__init__()
        hidden = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden, bias=True)
        self.act = SquaredReLU()
        self.norm = nn.LayerNorm(hidden)
        self.fc2 = nn.Linear(hidden, num_classes, bias=True)
        self.head_dropout = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.head_dropout(self.norm(self.act(self.fc1(x)))))


class SailConvFormer(nn.Module):  # metaformer_baselines.py convformer_s18 layout, narrowed
    def __init__(self, classes: int = 5, depths=(1, 1, 2, 1), dims=(8, 16, 24, 32)) -> None:
        super().__init__()
        down = [partial(MfDownsampling, kernel_size=7, stride=4, padding=2,
                        post_norm=partial(LayerNormGeneral, bias=False, eps=1e-6))]
        down += [partial(MfDownsampling, kernel_size=3, stride=2, padding=1,
                         pre_norm=partial(LayerNormGeneral, bias=False, eps=1e-6), pre_permute=True)] * 3
        down_dims = [3] + list(dims)
        self.downsample_layers = nn.ModuleList([down[i](down_dims[i], down_dims[i + 1]) for i in range(4)])
        res_scales = [None, None, 1.0, 1.0]
        self.stages = nn.ModuleList([
            nn.Sequential(*[MetaFormerBlock(dims[i], res_scales[i]) for _ in range(depths[i])]) for i in range(4)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = MfMlpHead(dims[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
        return self.head(self.norm(x.mean([1, 2])))


# ------------------------------------------------------------------ osmr DiracNetV2


class DiracConv(nn.Module):  # imgclsmob pytorchcv diracnetv2.py DiracConv: ReLU then a biased conv
    def __init__(self, c_in, c_out, kernel_size, stride, padding) -> None:
        super().__init__()
        self.activ = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.activ(x))


class DiracInitBlock(nn.Module):
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 7, stride=2, padding=3, bias=True)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class OsmrDiracNetV2(nn.Module):  # diracnetv2.py DiracNetV2 (diracnet18v2 layout), narrowed
    def __init__(self, classes: int = 5, in_size=(64, 64)) -> None:
        super().__init__()
        channels, init_block_channels = [[8, 8], [16, 16], [24, 24], [32, 32]], 8
        self.features = nn.Sequential()
        self.features.add_module("init_block", DiracInitBlock(3, init_block_channels))
        c = init_block_channels
        for i, per_stage in enumerate(channels):
            stage = nn.Sequential()
            for j, out in enumerate(per_stage):
                stage.add_module(f"unit{j + 1}", DiracConv(c, out, 3, 1, 1))
                c = out
            self.features.add_module(f"stage{i + 1}", stage)
            if i != len(channels) - 1:
                self.features.add_module(f"pool{i + 1}", nn.MaxPool2d(2, 2, 0))
        self.features.add_module("final_activ", nn.ReLU(inplace=True))
        self.features.add_module("final_pool", nn.AvgPool2d(in_size[0] // 32, 1))
        self.output = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.output(x.view(x.size(0), -1))


# ------------------------------------------------------------------ chenyaofo CIFAR VGG11-BN


class ChenyaofoVGG11BN(nn.Module):  # pytorch-cifar-models vgg.py cifar10_vgg11_bn, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        cfg, layers, c = [8, "M", 16, "M", 16, 16, "M", 32, 32, "M", 32, 32, "M"], [], 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(c, v, kernel_size=3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(32, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


# ------------------------------------------------------------------ timm EfficientNet-EdgeTPU-S


class TimmBatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d: the activation inside
    def __init__(self, c, act=True) -> None:
        super().__init__(c)
        self.drop = nn.Identity()
        self.act = nn.ReLU(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


def _timm_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class TimmEdgeResidual(nn.Module):  # timm _efficientnet_blocks.EdgeResidual (full 3x3 expansion)
    def __init__(self, c_in, c_out, exp_kernel_size=3, stride=1, force_in_chs=0, noskip=False, exp_ratio=1.0) -> None:
        super().__init__()
        mid = _timm_divisible((force_in_chs if force_in_chs > 0 else c_in) * exp_ratio)
        self.has_skip = (c_in == c_out and stride == 1) and not noskip
        self.conv_exp = nn.Conv2d(c_in, mid, exp_kernel_size, stride, exp_kernel_size // 2, bias=False)
        self.bn1 = TimmBatchNormAct2d(mid)
        self.se = nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn2 = TimmBatchNormAct2d(c_out, act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.bn2(self.conv_pwl(self.se(self.bn1(self.conv_exp(x)))))
        return self.drop_path(x) + shortcut if self.has_skip else x


class TimmInvertedResidual(nn.Module):  # timm _efficientnet_blocks.InvertedResidual (no SE)
    def __init__(self, c_in, c_out, dw_kernel_size=3, stride=1, exp_ratio=1.0) -> None:
        super().__init__()
        mid = _timm_divisible(c_in * exp_ratio)
        self.has_skip = c_in == c_out and stride == 1
        self.conv_pw = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = TimmBatchNormAct2d(mid)
        self.conv_dw = nn.Conv2d(mid, mid, dw_kernel_size, stride, dw_kernel_size // 2, groups=mid, bias=False)
        self.bn2 = TimmBatchNormAct2d(mid)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = TimmBatchNormAct2d(c_out, act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        x = self.bn3(self.conv_pwl(self.se(self.aa(x))))
        return self.drop_path(x) + shortcut if self.has_skip else x


class TimmEfficientNetES(nn.Module):  # timm efficientnet_es (EdgeTPU-S arch_def), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = TimmBatchNormAct2d(16)
        er, ir = TimmEdgeResidual, TimmInvertedResidual
        self.blocks = nn.Sequential(
            nn.Sequential(er(16, 16, 3, 1, force_in_chs=16, noskip=True, exp_ratio=4)),  # er_r1_k3_s1_e4_c24_fc24_noskip
            nn.Sequential(er(16, 24, 3, 2, exp_ratio=8), er(24, 24, 3, 1, exp_ratio=8)),  # er_r2_k3_s2_e8_c32
            nn.Sequential(er(24, 32, 3, 2, exp_ratio=8)),  # er_r4_k3_s2_e8_c48
            nn.Sequential(ir(32, 40, 5, 2, exp_ratio=8)),  # ir_r5_k5_s2_e8_c96
            nn.Sequential(ir(40, 48, 5, 1, exp_ratio=8), ir(48, 48, 5, 1, exp_ratio=8)),  # ir_r4_k5_s1_e8_c144
            nn.Sequential(ir(48, 64, 5, 2, exp_ratio=8)))  # ir_r2_k5_s2_e8_c192
        self.conv_head = nn.Conv2d(64, 128, 1, bias=False)
        self.bn2 = TimmBatchNormAct2d(128)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(128, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn2(self.conv_head(self.blocks(self.bn1(self.conv_stem(x)))))
        return self.classifier(self.flatten(self.global_pool(x)))


ZOO = {  # name: (build, input shape)
    "hysts_shake_shake": (HystsShakeShake, (2, 3, 32, 32)),
    "jongchan_cbam_resnet": (JongchanCbamResNet, (2, 3, 32, 32)),
    "houqb_coordatt_mbv2": (HouqbMBV2CA, (2, 3, 32, 32)),
    "dingxiaoh_acnet": (DingACNetVGG, (2, 3, 32, 32)),
    "chinhsuanwu_mobilevit": (ChinhsuanwuMobileViT, (2, 3, 64, 64)),
    "van_b0": (VisualAttentionNetwork, (2, 3, 64, 64)),
    "sail_convformer": (SailConvFormer, (2, 3, 64, 64)),
    "osmr_diracnetv2": (OsmrDiracNetV2, (2, 3, 64, 64)),
    "chenyaofo_vgg11_bn": (ChenyaofoVGG11BN, (2, 3, 32, 32)),
    "timm_efficientnet_es": (TimmEfficientNetES, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
