"""Ten small CNN / hybrid image classifiers written the way other public repositories write them,
for tests/test_vision_zoo_23.py (issue 16's held-out measure, session 23): chinhsuanwu's CoAtNet
(MBConv with a pre-BN and an SE of GELU, transformers with a relative bias table gathered by a
`relative_index` buffer, max-pool + 1x1 projections on the downsampling blocks), d-li14's OctConv
ResNet (high/low frequency pairs: AvgPool down, nearest up, four convs per octave conv), Jongchan's
BAM ResNet (a channel gate of Linear-BN1d-ReLU and a dilated spatial gate, x * (1 + sigmoid)),
wielandbrendel's BagNet (valid-padded 3x3s, the residual cropped to the output), Eric-mingjie's
network-slimming VGG (a pruned cfg, AvgPool2d(2) built in the forward), mmaaz60's EdgeNeXt (conv
encoders, SDTA blocks: split depthwise convs, Fourier positions, cross-covariance attention with a
temperature), microsoft's FocalNet (focal modulation: gated depthwise context levels, a global
context, a 1x1 modulator), implus's SGE ResNet (spatial group-wise enhance), PyTorch examples'
MNIST Net (log_softmax) and SHI-Labs' CCT (a conv tokenizer, post-attention norm1, sequence pooling).

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


# ------------------------------------------------------------------ chinhsuanwu coatnet-pytorch


class Rearrange(nn.Module):  # einops.layers.torch.Rearrange for the two patterns coatnet.py uses
    def __init__(self, to_tokens: bool, ih: int = 0, iw: int = 0) -> None:
        super().__init__()
        self.to_tokens, self.ih, self.iw = to_tokens, ih, iw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.to_tokens:  # 'b c ih iw -> b (ih iw) c'
            return x.flatten(2).transpose(1, 2)
        return x.transpose(1, 2).reshape(x.shape[0], -1, self.ih, self.iw)  # 'b (ih iw) c -> b c ih iw'


def conv_3x3_bn(inp, oup, image_size, downsample=False) -> nn.Sequential:
    stride = 1 if downsample == False else 2  # noqa: E712 (as the repository writes it)
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.GELU())


class PreNorm(nn.Module):
    def __init__(self, dim, fn, norm) -> None:
        super().__init__()
        self.norm = norm(dim)
        self.fn = fn

    def forward(self, x, **kwargs):
        return self.fn(self.norm(x), **kwargs)


class CoAtSE(nn.Module):  # coatnet.py SE
    def __init__(self, inp, oup, expansion=0.25) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(oup, int(inp * expansion), bias=False), nn.GELU(),
                                nn.Linear(int(inp * expansion), oup, bias=False), nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y


class CoAtFeedForward(nn.Module):
    def __init__(self, dim, hidden_dim, dropout=0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden_dim, dim), nn.Dropout(dropout))

    def forward(self, x):
        return self.net(x)


class MBConv(nn.Module):
    def __init__(self, inp, oup, image_size, downsample=False, expansion=4) -> None:
        super().__init__()
        self.downsample = downsample
        stride = 1 if self.downsample == False else 2  # noqa: E712
        hidden_dim = int(inp * expansion)
        if self.downsample:
            self.pool = nn.MaxPool2d(3, 2, 1)
            self.proj = nn.Conv2d(inp, oup, 1, 1, 0, bias=False)
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden_dim, 1, stride, 0, bias=False),  # down-sample in the first conv
            nn.BatchNorm2d(hidden_dim), nn.GELU(),
            nn.Conv2d(hidden_dim, hidden_dim, 3, 1, 1, groups=hidden_dim, bias=False),
            nn.BatchNorm2d(hidden_dim), nn.GELU(),
            CoAtSE(inp, hidden_dim),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup))
        self.conv = PreNorm(inp, self.conv, nn.BatchNorm2d)

    def forward(self, x):
        if self.downsample:
            return self.proj(self.pool(x)) + self.conv(x)
        return x + self.conv(x)


class CoAtAttention(nn.Module):
    def __init__(self, inp, oup, image_size, heads=8, dim_head=32, dropout=0.0) -> None:
        super().__init__()
        inner_dim = dim_head * heads
        project_out = not (heads == 1 and dim_head == inp)
        self.ih, self.iw = image_size
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.relative_bias_table = nn.Parameter(torch.zeros((2 * self.ih - 1) * (2 * self.iw - 1), heads))
        coords = torch.meshgrid((torch.arange(self.ih), torch.arange(self.iw)), indexing="ij")
        coords = torch.flatten(torch.stack(coords), 1)
        relative_coords = coords[:, :, None] - coords[:, None, :]
        relative_coords[0] += self.ih - 1
        relative_coords[1] += self.iw - 1
        relative_coords[0] *= 2 * self.iw - 1
        relative_coords = relative_coords.permute(1, 2, 0)  # 'c h w -> h w c'
        relative_index = relative_coords.sum(-1).flatten().unsqueeze(1)
        self.register_buffer("relative_index", relative_index)
        self.attend = nn.Softmax(dim=-1)
        self.to_qkv = nn.Linear(inp, inner_dim * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner_dim, oup), nn.Dropout(dropout)) if project_out else nn.Identity()

    def forward(self, x):
        qkv = self.to_qkv(x).chunk(3, dim=-1)
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in qkv)  # 'b n (h d) -> b h n d'
        dots = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        relative_bias = self.relative_bias_table.gather(0, self.relative_index.repeat(1, self.heads))
        n2 = self.ih * self.iw
        relative_bias = relative_bias.reshape(n2, n2, self.heads).permute(2, 0, 1).unsqueeze(0)  # '(h w) c -> 1 c h w'
        dots = dots + relative_bias
        attn = self.attend(dots)
        out = torch.matmul(attn, v)
        out = out.transpose(1, 2).reshape(b, n, -1)  # 'b h n d -> b n (h d)'
        return self.to_out(out)


class CoAtTransformer(nn.Module):
    def __init__(self, inp, oup, image_size, heads=8, dim_head=32, downsample=False, dropout=0.0) -> None:
        super().__init__()
        hidden_dim = int(inp * 4)
        self.ih, self.iw = image_size
        self.downsample = downsample
        if self.downsample:
            self.pool1 = nn.MaxPool2d(3, 2, 1)
            self.pool2 = nn.MaxPool2d(3, 2, 1)
            self.proj = nn.Conv2d(inp, oup, 1, 1, 0, bias=False)
        self.attn = CoAtAttention(inp, oup, image_size, heads, dim_head, dropout)
        self.ff = CoAtFeedForward(oup, hidden_dim, dropout)
        self.attn = nn.Sequential(Rearrange(True), PreNorm(inp, self.attn, nn.LayerNorm),
                                  Rearrange(False, self.ih, self.iw))
        self.ff = nn.Sequential(Rearrange(True), PreNorm(oup, self.ff, nn.LayerNorm),
                                Rearrange(False, self.ih, self.iw))

    def forward(self, x):
        if self.downsample:
            x = self.proj(self.pool1(x)) + self.attn(self.pool2(x))
        else:
            x = x + self.attn(x)
        return x + self.ff(x)


class ChinhsuanwuCoAtNet(nn.Module):  # coatnet.py CoAtNet (coatnet_0 layout), narrowed
    def __init__(self, image_size=(64, 64), in_channels=3, num_blocks=(1, 1, 1, 2, 1),
                 channels=(8, 16, 16, 32, 32), num_classes=5, block_types=("C", "C", "T", "T")) -> None:
        super().__init__()
        ih, iw = image_size
        block = {"C": MBConv, "T": CoAtTransformer}
        self.s0 = self._make_layer(conv_3x3_bn, in_channels, channels[0], num_blocks[0], (ih // 2, iw // 2))
        self.s1 = self._make_layer(block[block_types[0]], channels[0], channels[1], num_blocks[1], (ih // 4, iw // 4))
        self.s2 = self._make_layer(block[block_types[1]], channels[1], channels[2], num_blocks[2], (ih // 8, iw // 8))
        self.s3 = self._make_layer(block[block_types[2]], channels[2], channels[3], num_blocks[3], (ih // 16, iw // 16))
        self.s4 = self._make_layer(block[block_types[3]], channels[3], channels[4], num_blocks[4], (ih // 32, iw // 32))
        self.pool = nn.AvgPool2d(ih // 32, 1)
        self.fc = nn.Linear(channels[-1], num_classes, bias=False)

    def forward(self, x):
        x = self.s4(self.s3(self.s2(self.s1(self.s0(x)))))
        x = self.pool(x).view(-1, x.shape[1])
        return self.fc(x)

    def _make_layer(self, block, inp, oup, depth, image_size):
        layers = nn.ModuleList([])
        for i in range(depth):
            if i == 0:
                layers.append(block(inp, oup, image_size, downsample=True))
            else:
                layers.append(block(oup, oup, image_size))
        return nn.Sequential(*layers)


# ------------------------------------------------------------------ d-li14 octconv.pytorch


class OctaveConv(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, alpha_in=0.5, alpha_out=0.5, stride=1, padding=0,
                 dilation=1, groups=1, bias=False) -> None:
        super().__init__()
        self.downsample = nn.AvgPool2d(kernel_size=(2, 2), stride=2)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.stride = stride
        self.is_dw = groups == in_channels
        self.alpha_in, self.alpha_out = alpha_in, alpha_out
        lin, lout = int(alpha_in * in_channels), int(alpha_out * out_channels)
        self.conv_l2l = None if alpha_in == 0 or alpha_out == 0 else \
            nn.Conv2d(lin, lout, kernel_size, 1, padding, dilation, math.ceil(alpha_in * groups), bias)
        self.conv_l2h = None if alpha_in == 0 or alpha_out == 1 or self.is_dw else \
            nn.Conv2d(lin, out_channels - lout, kernel_size, 1, padding, dilation, groups, bias)
        self.conv_h2l = None if alpha_in == 1 or alpha_out == 0 or self.is_dw else \
            nn.Conv2d(in_channels - lin, lout, kernel_size, 1, padding, dilation, groups, bias)
        self.conv_h2h = None if alpha_in == 1 or alpha_out == 1 else \
            nn.Conv2d(in_channels - lin, out_channels - lout, kernel_size, 1, padding, dilation,
                      math.ceil(groups - alpha_in * groups), bias)

    def forward(self, x):
        x_h, x_l = x if type(x) is tuple else (x, None)
        x_h = self.downsample(x_h) if self.stride == 2 else x_h
        x_h2h = self.conv_h2h(x_h)
        x_h2l = self.conv_h2l(self.downsample(x_h)) if self.alpha_out > 0 and not self.is_dw else None
        if x_l is not None:
            x_l2l = self.downsample(x_l) if self.stride == 2 else x_l
            x_l2l = self.conv_l2l(x_l2l) if self.alpha_out > 0 else None
            if self.is_dw:
                return x_h2h, x_l2l
            x_l2h = self.conv_l2h(x_l)
            x_l2h = self.upsample(x_l2h) if self.stride == 1 else x_l2h
            x_h = x_l2h + x_h2h
            x_l = x_h2l + x_l2l if x_h2l is not None and x_l2l is not None else None
            return x_h, x_l
        return x_h2h, x_h2l


class OctConvBN(nn.Module):  # octconv.py Conv_BN
    def __init__(self, in_channels, out_channels, kernel_size, alpha_in=0.5, alpha_out=0.5, stride=1, padding=0,
                 groups=1, norm_layer=nn.BatchNorm2d) -> None:
        super().__init__()
        self.conv = OctaveConv(in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride, padding,
                               groups=groups)
        self.bn_h = None if alpha_out == 1 else norm_layer(int(out_channels * (1 - alpha_out)))
        self.bn_l = None if alpha_out == 0 else norm_layer(int(out_channels * alpha_out))

    def forward(self, x):
        x_h, x_l = self.conv(x)
        x_h = self.bn_h(x_h)
        x_l = self.bn_l(x_l) if x_l is not None else None
        return x_h, x_l


class OctConvBNACT(OctConvBN):  # octconv.py Conv_BN_ACT
    def __init__(self, *args, activation_layer=nn.ReLU, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.act = activation_layer(inplace=True)

    def forward(self, x):
        x_h, x_l = self.conv(x)
        x_h = self.act(self.bn_h(x_h))
        x_l = self.act(self.bn_l(x_l)) if x_l is not None else None
        return x_h, x_l


class OctBottleneck(nn.Module):  # oct_resnet.py Bottleneck
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, alpha_in=0.5, alpha_out=0.5, output=False) -> None:
        super().__init__()
        width = planes
        self.conv1 = OctConvBNACT(inplanes, width, kernel_size=1, alpha_in=alpha_in, alpha_out=alpha_out)
        self.conv2 = OctConvBNACT(width, width, kernel_size=3, stride=stride, padding=1,
                                  alpha_in=0 if output else 0.5, alpha_out=0 if output else 0.5)
        self.conv3 = OctConvBN(width, planes * self.expansion, kernel_size=1,
                               alpha_in=0 if output else 0.5, alpha_out=0 if output else 0.5)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity_h = x[0] if type(x) is tuple else x
        identity_l = x[1] if type(x) is tuple else None
        x_h, x_l = self.conv1(x)
        x_h, x_l = self.conv2((x_h, x_l))
        x_h, x_l = self.conv3((x_h, x_l))
        if self.downsample is not None:
            identity_h, identity_l = self.downsample(x)
        x_h += identity_h
        x_l = x_l + identity_l if identity_l is not None else None
        x_h = self.relu(x_h)
        x_l = self.relu(x_l) if x_l is not None else None
        return x_h, x_l


class Dli14OctResNet(nn.Module):  # oct_resnet.py OctResNet (oct_resnet26-like), narrowed
    def __init__(self, layers=(1, 1, 1, 1), num_classes=5) -> None:
        super().__init__()
        self.inplanes = 8  # below layer1's width, as 64 < 256 in the original: layer1 has its downsample
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(4, layers[0], alpha_in=0)
        self.layer2 = self._make_layer(8, layers[1], stride=2)
        self.layer3 = self._make_layer(12, layers[2], stride=2)
        self.layer4 = self._make_layer(16, layers[3], stride=2, alpha_out=0, output=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16 * OctBottleneck.expansion, num_classes)

    def _make_layer(self, planes, blocks, stride=1, alpha_in=0.5, alpha_out=0.5, output=False):
        downsample = None
        if stride != 1 or self.inplanes != planes * OctBottleneck.expansion:
            downsample = nn.Sequential(OctConvBN(self.inplanes, planes * OctBottleneck.expansion, kernel_size=1,
                                                 stride=stride, alpha_in=alpha_in, alpha_out=alpha_out))
        layers = [OctBottleneck(self.inplanes, planes, stride, downsample, alpha_in, alpha_out, output)]
        self.inplanes = planes * OctBottleneck.expansion
        for _ in range(1, blocks):
            layers.append(OctBottleneck(self.inplanes, planes, alpha_in=0 if output else 0.5,
                                        alpha_out=0 if output else 0.5, output=output))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x_h, x_l = self.layer1(x)
        x_h, x_l = self.layer2((x_h, x_l))
        x_h, x_l = self.layer3((x_h, x_l))
        x_h, x_l = self.layer4((x_h, x_l))
        x = self.avgpool(x_h)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ------------------------------------------------------------------ Jongchan attention-module (BAM)


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


class BamChannelGate(nn.Module):  # MODELS/bam.py ChannelGate
    def __init__(self, gate_channel, reduction_ratio=16, num_layers=1) -> None:
        super().__init__()
        self.gate_c = nn.Sequential()
        self.gate_c.add_module("flatten", Flatten())
        gate_channels = [gate_channel] + [gate_channel // reduction_ratio] * num_layers + [gate_channel]
        for i in range(len(gate_channels) - 2):
            self.gate_c.add_module("gate_c_fc_%d" % i, nn.Linear(gate_channels[i], gate_channels[i + 1]))
            self.gate_c.add_module("gate_c_bn_%d" % (i + 1), nn.BatchNorm1d(gate_channels[i + 1]))
            self.gate_c.add_module("gate_c_relu_%d" % (i + 1), nn.ReLU())
        self.gate_c.add_module("gate_c_fc_final", nn.Linear(gate_channels[-2], gate_channels[-1]))

    def forward(self, in_tensor):
        avg_pool = F.avg_pool2d(in_tensor, in_tensor.size(2), stride=in_tensor.size(2))
        return self.gate_c(avg_pool).unsqueeze(2).unsqueeze(3).expand_as(in_tensor)


class BamSpatialGate(nn.Module):  # MODELS/bam.py SpatialGate
    def __init__(self, gate_channel, reduction_ratio=16, dilation_conv_num=2, dilation_val=4) -> None:
        super().__init__()
        r = gate_channel // reduction_ratio
        self.gate_s = nn.Sequential()
        self.gate_s.add_module("gate_s_conv_reduce0", nn.Conv2d(gate_channel, r, kernel_size=1))
        self.gate_s.add_module("gate_s_bn_reduce0", nn.BatchNorm2d(r))
        self.gate_s.add_module("gate_s_relu_reduce0", nn.ReLU())
        for i in range(dilation_conv_num):
            self.gate_s.add_module("gate_s_conv_di_%d" % i,
                                   nn.Conv2d(r, r, kernel_size=3, padding=dilation_val, dilation=dilation_val))
            self.gate_s.add_module("gate_s_bn_di_%d" % i, nn.BatchNorm2d(r))
            self.gate_s.add_module("gate_s_relu_di_%d" % i, nn.ReLU())
        self.gate_s.add_module("gate_s_conv_final", nn.Conv2d(r, 1, kernel_size=1))

    def forward(self, in_tensor):
        return self.gate_s(in_tensor).expand_as(in_tensor)


class BAM(nn.Module):
    def __init__(self, gate_channel) -> None:
        super().__init__()
        self.channel_att = BamChannelGate(gate_channel)
        self.spatial_att = BamSpatialGate(gate_channel)

    def forward(self, in_tensor):
        att = 1 + torch.sigmoid(self.channel_att(in_tensor) * self.spatial_att(in_tensor))
        return att * in_tensor


class BamBasicBlock(nn.Module):  # MODELS/model_resnet.py BasicBlock (use_cbam=False)
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride
        self.cbam = None

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)


class JongchanBamResNet(nn.Module):  # MODELS/model_resnet.py ResidualNet("CIFAR10", 18, att_type="BAM")
    def __init__(self, num_classes=5) -> None:
        super().__init__()
        self.inplanes = 16
        self.network_type = "CIFAR10"
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.bam1, self.bam2, self.bam3 = BAM(16), BAM(32), BAM(48)
        self.layer1 = self._make_layer(16, 1)
        self.layer2 = self._make_layer(32, 1, stride=2)
        self.layer3 = self._make_layer(48, 1, stride=2)
        self.layer4 = self._make_layer(64, 1, stride=2)
        self.fc = nn.Linear(64, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [BamBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BamBasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        if self.bam1 is not None:
            x = self.bam1(x)
        x = self.layer2(x)
        if self.bam2 is not None:
            x = self.bam2(x)
        x = self.layer3(x)
        if self.bam3 is not None:
            x = self.bam3(x)
        x = self.layer4(x)
        x = F.avg_pool2d(x, 4)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ------------------------------------------------------------------ wielandbrendel bag-of-local-features-models


class BagBottleneck(nn.Module):  # bagnets/pytorchnet.py Bottleneck
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, kernel_size=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=0.001)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=kernel_size, stride=stride, padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=0.001)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4, momentum=0.001)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x, **kwargs):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        if residual.size(-1) != out.size(-1):
            diff = residual.size(-1) - out.size(-1)
            residual = residual[:, :, :-diff, :-diff]
        out += residual
        return self.relu(out)


class WielandbrendelBagNet(nn.Module):  # pytorchnet.py BagNet (bagnet33 strides / kernel3), narrowed
    def __init__(self, layers=(2, 1, 1, 1), strides=(2, 2, 2, 1), kernel3=(1, 1, 1, 1), num_classes=5,
                 avg_pool=True) -> None:
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=1, stride=1, padding=0, bias=False)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(16, momentum=0.001)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(8, layers[0], stride=strides[0], kernel3=kernel3[0])
        self.layer2 = self._make_layer(16, layers[1], stride=strides[1], kernel3=kernel3[1])
        self.layer3 = self._make_layer(24, layers[2], stride=strides[2], kernel3=kernel3[2])
        self.layer4 = self._make_layer(32, layers[3], stride=strides[3], kernel3=kernel3[3])
        self.avgpool = nn.AvgPool2d(1, stride=1)
        self.fc = nn.Linear(32 * BagBottleneck.expansion, num_classes)
        self.avg_pool = avg_pool

    def _make_layer(self, planes, blocks, stride=1, kernel3=0):
        downsample = None
        if stride != 1 or self.inplanes != planes * BagBottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * BagBottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * BagBottleneck.expansion, momentum=0.001))
        kernel = 1 if kernel3 == 0 else 3
        layers = [BagBottleneck(self.inplanes, planes, stride, downsample, kernel_size=kernel)]
        self.inplanes = planes * BagBottleneck.expansion
        for i in range(1, blocks):
            kernel = 1 if kernel3 <= i else 3
            layers.append(BagBottleneck(self.inplanes, planes, kernel_size=kernel))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv2(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if self.avg_pool:
            x = nn.AvgPool2d(x.size()[2], stride=1)(x)
            x = x.view(x.size(0), -1)
            return self.fc(x)
        return self.fc(x.permute(0, 2, 3, 1))


# ------------------------------------------------------------------ Eric-mingjie network-slimming


class EricmingjieSlimmingVGG(nn.Module):  # models/vgg.py vgg(cfg=<a pruned vgg11 cfg>)
    def __init__(self, cfg=(12, "M", 20, "M", 28, 26, "M", 30, 18, "M", 14, 10), num_classes=10) -> None:
        super().__init__()
        self.feature = self.make_layers(cfg, True)
        self.classifier = nn.Linear(cfg[-1], num_classes)

    def make_layers(self, cfg, batch_norm=False):
        layers, in_channels = [], 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1, bias=False)
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [conv2d, nn.ReLU(inplace=True)]
                in_channels = v
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.feature(x)
        x = nn.AvgPool2d(2)(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


# ------------------------------------------------------------------ mmaaz60 EdgeNeXt


class EdgeLayerNorm(nn.Module):  # models/layers.py LayerNorm (channels_last / channels_first)
    def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps = eps
        self.data_format = data_format
        self.normalized_shape = (normalized_shape,)

    def forward(self, x):
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class PositionalEncodingFourier(nn.Module):
    def __init__(self, hidden_dim=32, dim=768, temperature=10000) -> None:
        super().__init__()
        self.token_projection = nn.Conv2d(hidden_dim * 2, dim, kernel_size=1)
        self.scale = 2 * math.pi
        self.temperature = temperature
        self.hidden_dim = hidden_dim
        self.dim = dim

    def forward(self, B, H, W):
        mask = torch.zeros(B, H, W).bool().to(self.token_projection.weight.device)
        not_mask = ~mask
        y_embed = not_mask.cumsum(1, dtype=torch.float32)
        x_embed = not_mask.cumsum(2, dtype=torch.float32)
        eps = 1e-6
        y_embed = y_embed / (y_embed[:, -1:, :] + eps) * self.scale
        x_embed = x_embed / (x_embed[:, :, -1:] + eps) * self.scale
        dim_t = torch.arange(self.hidden_dim, dtype=torch.float32, device=mask.device)
        dim_t = self.temperature ** (2 * (dim_t // 2) / self.hidden_dim)
        pos_x = x_embed[:, :, :, None] / dim_t
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
        pos = torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)
        return self.token_projection(pos)


class XCA(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=False, attn_drop=0.0, proj_drop=0.0) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q, k, v = q.transpose(-2, -1), k.transpose(-2, -1), v.transpose(-2, -1)
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1)) * self.temperature
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).permute(0, 3, 1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class ConvEncoder(nn.Module):
    def __init__(self, dim, layer_scale_init_value=1e-6, expan_ratio=4, kernel_size=7) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = EdgeLayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, expan_ratio * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(expan_ratio * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones(dim)) if layer_scale_init_value > 0 else None
        self.drop_path = nn.Identity()

    def forward(self, x):
        input = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        if self.gamma is not None:
            x = self.gamma * x
        x = x.permute(0, 3, 1, 2)
        return input + self.drop_path(x)


class SDTAEncoder(nn.Module):
    def __init__(self, dim, layer_scale_init_value=1e-6, expan_ratio=4, use_pos_emb=True, num_heads=8,
                 qkv_bias=True, attn_drop=0.0, drop=0.0, scales=1) -> None:
        super().__init__()
        width = max(int(math.ceil(dim / scales)), int(math.floor(dim // scales)))
        self.width = width
        self.nums = 1 if scales == 1 else scales - 1
        self.convs = nn.ModuleList([nn.Conv2d(width, width, kernel_size=3, padding=1, groups=width)
                                    for _ in range(self.nums)])
        self.pos_embd = PositionalEncodingFourier(dim=dim) if use_pos_emb else None
        self.norm_xca = EdgeLayerNorm(dim, eps=1e-6)
        self.gamma_xca = nn.Parameter(layer_scale_init_value * torch.ones(dim)) if layer_scale_init_value > 0 else None
        self.xca = XCA(dim, num_heads=num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
        self.norm = EdgeLayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, expan_ratio * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(expan_ratio * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones(dim)) if layer_scale_init_value > 0 else None
        self.drop_path = nn.Identity()

    def forward(self, x):
        input = x
        spx = torch.split(x, self.width, 1)
        for i in range(self.nums):
            sp = spx[i] if i == 0 else sp + spx[i]
            sp = self.convs[i](sp)
            out = sp if i == 0 else torch.cat((out, sp), 1)
        x = torch.cat((out, spx[self.nums]), 1)
        B, C, H, W = x.shape
        x = x.reshape(B, C, H * W).permute(0, 2, 1)
        if self.pos_embd:
            pos_encoding = self.pos_embd(B, H, W).reshape(B, -1, x.shape[1]).permute(0, 2, 1)
            x = x + pos_encoding
        x = x + self.drop_path(self.gamma_xca * self.xca(self.norm_xca(x)))
        x = x.reshape(B, H, W, C)
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        if self.gamma is not None:
            x = self.gamma * x
        x = x.permute(0, 3, 1, 2)
        return input + self.drop_path(x)


class Mmaaz60EdgeNeXt(nn.Module):  # models/edgenext.py EdgeNeXt (edgenext_xx_small's settings), narrowed
    def __init__(self, in_chans=3, num_classes=5, depths=(1, 2, 2, 1), dims=(16, 32, 48, 64),
                 global_block=(0, 1, 1, 1), global_block_type=("None", "SDTA", "SDTA", "SDTA"),
                 layer_scale_init_value=1e-6, expan_ratio=4, kernel_sizes=(3, 5, 7, 9), heads=(4, 4, 4, 4),
                 use_pos_embd_xca=(False, True, False, False), d2_scales=(2, 2, 3, 4)) -> None:
        super().__init__()
        self.downsample_layers = nn.ModuleList()
        self.downsample_layers.append(nn.Sequential(nn.Conv2d(in_chans, dims[0], kernel_size=4, stride=4),
                                                    EdgeLayerNorm(dims[0], eps=1e-6, data_format="channels_first")))
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(
                EdgeLayerNorm(dims[i], eps=1e-6, data_format="channels_first"),
                nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2)))
        self.stages = nn.ModuleList()
        for i in range(4):
            blocks = []
            for j in range(depths[i]):
                if j > depths[i] - global_block[i] - 1:
                    if global_block_type[i] == "SDTA":
                        blocks.append(SDTAEncoder(dim=dims[i], expan_ratio=expan_ratio, scales=d2_scales[i],
                                                  use_pos_emb=use_pos_embd_xca[i], num_heads=heads[i]))
                else:
                    blocks.append(ConvEncoder(dim=dims[i], layer_scale_init_value=layer_scale_init_value,
                                              expan_ratio=expan_ratio, kernel_size=kernel_sizes[i]))
            self.stages.append(nn.Sequential(*blocks))
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)

    def forward_features(self, x):
        x = self.stages[0](self.downsample_layers[0](x))
        for i in range(1, 4):
            x = self.stages[i](self.downsample_layers[i](x))
        return self.norm(x.mean([-2, -1]))

    def forward(self, x):
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ microsoft FocalNet


class FocalMlp(nn.Module):  # timm.models.layers.Mlp as focalnet.py imports it
    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.GELU, drop=0.0) -> None:
        super().__init__()
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class FocalModulation(nn.Module):
    def __init__(self, dim, focal_window, focal_level, focal_factor=2, bias=True, proj_drop=0.0,
                 use_postln_in_modulation=False, normalize_modulator=False) -> None:
        super().__init__()
        self.dim, self.focal_window, self.focal_level, self.focal_factor = dim, focal_window, focal_level, focal_factor
        self.use_postln_in_modulation = use_postln_in_modulation
        self.normalize_modulator = normalize_modulator
        self.f = nn.Linear(dim, 2 * dim + (self.focal_level + 1), bias=bias)
        self.h = nn.Conv2d(dim, dim, kernel_size=1, stride=1, bias=bias)
        self.act = nn.GELU()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.focal_layers = nn.ModuleList()
        self.kernel_sizes = []
        for k in range(self.focal_level):
            kernel_size = self.focal_factor * k + self.focal_window
            self.focal_layers.append(nn.Sequential(
                nn.Conv2d(dim, dim, kernel_size=kernel_size, stride=1, groups=dim, padding=kernel_size // 2,
                          bias=False), nn.GELU()))
            self.kernel_sizes.append(kernel_size)

    def forward(self, x):
        C = x.shape[-1]
        x = self.f(x).permute(0, 3, 1, 2).contiguous()
        q, ctx, self.gates = torch.split(x, (C, C, self.focal_level + 1), 1)
        ctx_all = 0
        for level in range(self.focal_level):
            ctx = self.focal_layers[level](ctx)
            ctx_all = ctx_all + ctx * self.gates[:, level:level + 1]
        ctx_global = self.act(ctx.mean(2, keepdim=True).mean(3, keepdim=True))
        ctx_all = ctx_all + ctx_global * self.gates[:, self.focal_level:]
        if self.normalize_modulator:
            ctx_all = ctx_all / (self.focal_level + 1)
        self.modulator = self.h(ctx_all)
        x_out = (q * self.modulator).permute(0, 2, 3, 1).contiguous()
        return self.proj_drop(self.proj(x_out))


class FocalNetBlock(nn.Module):
    def __init__(self, dim, mlp_ratio=4.0, drop=0.0, norm_layer=nn.LayerNorm, focal_level=1, focal_window=3) -> None:
        super().__init__()
        self.dim, self.mlp_ratio = dim, mlp_ratio
        self.focal_window, self.focal_level = focal_window, focal_level
        self.use_postln = False
        self.norm1 = norm_layer(dim)
        self.modulation = FocalModulation(dim, proj_drop=drop, focal_window=focal_window, focal_level=self.focal_level)
        self.drop_path = nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = FocalMlp(in_features=dim, hidden_features=int(dim * mlp_ratio), drop=drop)
        self.gamma_1 = 1.0
        self.gamma_2 = 1.0
        self.H = None
        self.W = None

    def forward(self, x):
        H, W = self.H, self.W
        B, L, C = x.shape
        shortcut = x
        x = x if self.use_postln else self.norm1(x)
        x = x.view(B, H, W, C)
        x = self.modulation(x).view(B, H * W, C)
        x = shortcut + self.drop_path(self.gamma_1 * x)
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))


class FocalPatchEmbed(nn.Module):
    def __init__(self, patch_size=4, in_chans=3, embed_dim=96, norm_layer=None) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = norm_layer(embed_dim) if norm_layer is not None else None

    def forward(self, x):
        x = self.proj(x)
        H, W = x.shape[2:]
        x = x.flatten(2).transpose(1, 2)
        if self.norm is not None:
            x = self.norm(x)
        return x, H, W


class FocalBasicLayer(nn.Module):
    def __init__(self, dim, out_dim, depth, mlp_ratio=4.0, norm_layer=nn.LayerNorm, downsample=None,
                 focal_level=1, focal_window=1) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([FocalNetBlock(dim=dim, mlp_ratio=mlp_ratio, norm_layer=norm_layer,
                                                   focal_level=focal_level, focal_window=focal_window)
                                     for _ in range(depth)])
        self.downsample = downsample(patch_size=2, in_chans=dim, embed_dim=out_dim, norm_layer=norm_layer) \
            if downsample is not None else None

    def forward(self, x, H, W):
        for blk in self.blocks:
            blk.H, blk.W = H, W
            x = blk(x)
        if self.downsample is not None:
            x = x.transpose(1, 2).reshape(x.shape[0], -1, H, W)
            x, Ho, Wo = self.downsample(x)
        else:
            Ho, Wo = H, W
        return x, Ho, Wo


class MicrosoftFocalNet(nn.Module):  # classification/focalnet.py FocalNet (focalnet_tiny_srf), narrowed
    def __init__(self, patch_size=4, in_chans=3, num_classes=5, embed_dim=16, depths=(1, 1, 2, 1), mlp_ratio=4.0,
                 norm_layer=nn.LayerNorm, focal_levels=(2, 2, 2, 2), focal_windows=(3, 3, 3, 3)) -> None:
        super().__init__()
        self.num_layers = len(depths)
        embed_dim = [embed_dim * (2 ** i) for i in range(self.num_layers)]
        self.num_features = embed_dim[-1]
        self.patch_embed = FocalPatchEmbed(patch_size=patch_size, in_chans=in_chans, embed_dim=embed_dim[0],
                                           norm_layer=norm_layer)
        self.pos_drop = nn.Dropout(p=0.0)
        self.layers = nn.ModuleList()
        for i in range(self.num_layers):
            last = i == self.num_layers - 1
            self.layers.append(FocalBasicLayer(
                dim=embed_dim[i], out_dim=None if last else embed_dim[i + 1], depth=depths[i], mlp_ratio=mlp_ratio,
                norm_layer=norm_layer, downsample=None if last else FocalPatchEmbed,
                focal_level=focal_levels[i], focal_window=focal_windows[i]))
        self.norm = norm_layer(self.num_features)
        self.avgpool = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(self.num_features, num_classes)

    def forward_features(self, x):
        x, H, W = self.patch_embed(x)
        x = self.pos_drop(x)
        for layer in self.layers:
            x, H, W = layer(x, H, W)
        x = self.norm(x)
        x = self.avgpool(x.transpose(1, 2))
        return torch.flatten(x, 1)

    def forward(self, x):
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ implus PytorchInsight (SGE ResNet)


class SpatialGroupEnhance(nn.Module):
    def __init__(self, groups=64) -> None:
        super().__init__()
        self.groups = groups
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.ones(1, groups, 1, 1))
        self.sig = nn.Sigmoid()

    def forward(self, x):
        b, c, h, w = x.size()
        x = x.view(b * self.groups, -1, h, w)
        xn = x * self.avg_pool(x)
        xn = xn.sum(dim=1, keepdim=True)
        t = xn.view(b * self.groups, -1)
        t = t - t.mean(dim=1, keepdim=True)
        std = t.std(dim=1, keepdim=True) + 1e-5
        t = t / std
        t = t.view(b, self.groups, h, w)
        t = t * self.weight + self.bias
        t = t.view(b * self.groups, 1, h, w)
        x = x * self.sig(t)
        return x.view(b, c, h, w)


class SgeBottleneck(nn.Module):  # classification/models/imagenet/sge_resnet.py Bottleneck
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, stride=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.sge = SpatialGroupEnhance(64)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = self.sge(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ImplusSgeResNet(nn.Module):  # sge_resnet.py ResNet (sge_resnet50's block), narrowed
    def __init__(self, layers=(1, 1, 1, 1), num_classes=5) -> None:
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(16, layers[0])
        self.layer2 = self._make_layer(16, layers[1], stride=2)
        self.layer3 = self._make_layer(32, layers[2], stride=2)
        self.layer4 = self._make_layer(32, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32 * SgeBottleneck.expansion, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * SgeBottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * SgeBottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * SgeBottleneck.expansion))
        layers = [SgeBottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * SgeBottleneck.expansion
        layers += [SgeBottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ------------------------------------------------------------------ pytorch/examples mnist/main.py


class PytorchExamplesMnistNet(nn.Module):  # mnist/main.py Net, as written (28x28 inputs)
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


# ------------------------------------------------------------------ SHI-Labs Compact-Transformers (CCT)


class CctTokenizer(nn.Module):  # src/utils/tokenizer.py Tokenizer
    def __init__(self, kernel_size, stride, padding, pooling_kernel_size=3, pooling_stride=2, pooling_padding=1,
                 n_conv_layers=1, n_input_channels=3, n_output_channels=64, in_planes=64, activation=None,
                 max_pool=True, conv_bias=False) -> None:
        super().__init__()
        n_filter_list = [n_input_channels] + [in_planes for _ in range(n_conv_layers - 1)] + [n_output_channels]
        self.conv_layers = nn.Sequential(*[nn.Sequential(
            nn.Conv2d(n_filter_list[i], n_filter_list[i + 1], kernel_size=(kernel_size, kernel_size),
                      stride=(stride, stride), padding=(padding, padding), bias=conv_bias),
            nn.Identity() if activation is None else activation(),
            nn.MaxPool2d(kernel_size=pooling_kernel_size, stride=pooling_stride, padding=pooling_padding)
            if max_pool else nn.Identity()) for i in range(n_conv_layers)])
        self.flattener = nn.Flatten(2, 3)

    def forward(self, x):
        return self.flattener(self.conv_layers(x)).transpose(-2, -1)


class CctAttention(nn.Module):  # src/utils/transformers.py Attention
    def __init__(self, dim, num_heads=8, attention_dropout=0.1, projection_dropout=0.1) -> None:
        super().__init__()
        self.num_heads = num_heads
        head_dim = dim // self.num_heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.attn_drop = nn.Dropout(attention_dropout)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(projection_dropout)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class CctEncoderLayer(nn.Module):  # transformers.py TransformerEncoderLayer
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, attention_dropout=0.1) -> None:
        super().__init__()
        self.pre_norm = nn.LayerNorm(d_model)
        self.self_attn = CctAttention(dim=d_model, num_heads=nhead, attention_dropout=attention_dropout,
                                      projection_dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout1 = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.dropout2 = nn.Dropout(dropout)
        self.drop_path = nn.Identity()
        self.activation = F.gelu

    def forward(self, src, *args, **kwargs):
        src = src + self.drop_path(self.self_attn(self.pre_norm(src)))
        src = self.norm1(src)
        src2 = self.linear2(self.dropout1(self.activation(self.linear1(src))))
        return src + self.drop_path(self.dropout2(src2))


class CctClassifier(nn.Module):  # transformers.py TransformerClassifier (seq_pool, learnable positions)
    def __init__(self, embedding_dim=768, num_layers=12, num_heads=12, mlp_ratio=4.0, num_classes=1000,
                 dropout=0.1, attention_dropout=0.1, sequence_length=None) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.sequence_length = sequence_length
        self.seq_pool = True
        self.attention_pool = nn.Linear(self.embedding_dim, 1)
        self.positional_emb = nn.Parameter(torch.zeros(1, sequence_length, embedding_dim), requires_grad=True)
        self.dropout = nn.Dropout(p=dropout)
        self.blocks = nn.ModuleList([CctEncoderLayer(d_model=embedding_dim, nhead=num_heads,
                                                     dim_feedforward=int(embedding_dim * mlp_ratio), dropout=dropout,
                                                     attention_dropout=attention_dropout) for _ in range(num_layers)])
        self.norm = nn.LayerNorm(embedding_dim)
        self.fc = nn.Linear(embedding_dim, num_classes)

    def forward(self, x):
        x += self.positional_emb
        x = self.dropout(x)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        x = torch.matmul(F.softmax(self.attention_pool(x), dim=1).transpose(-1, -2), x).squeeze(-2)
        return self.fc(x)


class ShiLabsCCT(nn.Module):  # src/cct.py CCT (cct_7_3x2_32's tokenizer), narrowed
    def __init__(self, img_size=32, embedding_dim=32, n_input_channels=3, n_conv_layers=2, kernel_size=3, stride=1,
                 padding=1, num_layers=2, num_heads=4, mlp_ratio=2, num_classes=5) -> None:
        super().__init__()
        self.tokenizer = CctTokenizer(n_input_channels=n_input_channels, n_output_channels=embedding_dim,
                                      kernel_size=kernel_size, stride=stride, padding=padding, max_pool=True,
                                      activation=nn.ReLU, n_conv_layers=n_conv_layers, conv_bias=False)
        side = img_size // 2 ** n_conv_layers  # Tokenizer.sequence_length: a dry run's token count
        self.classifier = CctClassifier(sequence_length=side * side, embedding_dim=embedding_dim, dropout=0.0,
                                        attention_dropout=0.1, num_layers=num_layers, num_heads=num_heads,
                                        mlp_ratio=mlp_ratio, num_classes=num_classes)

    def forward(self, x):
        return self.classifier(self.tokenizer(x))


ZOO = {  # name: (build, input shape)
    "chinhsuanwu_coatnet": (ChinhsuanwuCoAtNet, (2, 3, 64, 64)),
    "dli14_octconv_resnet": (Dli14OctResNet, (2, 3, 64, 64)),
    "jongchan_bam_resnet": (JongchanBamResNet, (2, 3, 32, 32)),
    "wielandbrendel_bagnet": (WielandbrendelBagNet, (2, 3, 64, 64)),
    "ericmingjie_slimming_vgg": (EricmingjieSlimmingVGG, (2, 3, 32, 32)),
    "mmaaz60_edgenext": (Mmaaz60EdgeNeXt, (2, 3, 64, 64)),
    "microsoft_focalnet": (MicrosoftFocalNet, (2, 3, 64, 64)),
    "implus_sge_resnet": (ImplusSgeResNet, (2, 3, 64, 64)),
    "pytorch_examples_mnist": (PytorchExamplesMnistNet, (2, 1, 28, 28)),
    "shilabs_cct": (ShiLabsCCT, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
