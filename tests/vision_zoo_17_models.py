"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_17.py (issue 16's held-out measure, session 17): timm's RegNetZ (byobnet
`stages.N.M` BottleneckBlocks with `conv1_1x1`/`conv2_kxk`/`attn`/`conv3_1x1` ConvNormAct slots,
an inverted grouped bottleneck, SiLU, no shortcut where the width or stride changes and no
activation after the add, a `final_conv`), timm's SelecSLS (`features` blocks that pass a
[features, skip] list, `conv1`..`conv6` Sequentials, a concat of three depths and the skip),
timm's HGNetV2 (`stem1`..`stem4` with a padded stride-1 max-pool beside two 2x2 convs, HG blocks
of `layers` whose outputs and the input are concatenated into a squeeze/excitation
`aggregation`, a learnable affine `lab` after each activation), timm's InceptionNeXt
(InceptionDWConv2d splitting channels into identity / square / band depthwise convs, BatchNorm,
a ConvMlp, a layer-scale `gamma`, an MLP head with LayerNorm), timm's VGG (numbered `features`,
a `pre_logits` ConvMlp whose first conv is 7x7), timm's RepGhostNet (a ghost module that adds a
BN of its primary output to a depthwise cheap path instead of concatenating), timm's ResNet-blur
(a BlurPool with a non-persistent filter after the first conv of a strided block), apple's
ml-mobileone (train-time branches: `rbr_skip` BN, `rbr_conv` list, `rbr_scale` 1x1), kuangliu's
pytorch-cifar DLA (`Tree`s of `left_node`/`right_node` or nested levels, a concatenating `Root`),
and Robert-JunWang's PeleeNet (a stem block that concatenates a max-pool with a strided conv,
two-way dense layers).

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


class TimmConvNormAct(nn.Module):  # timm.layers.ConvNormAct: `conv`, `bn` (BatchNormAct2d)
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act=nn.ReLU, eps=1e-5) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=eps)
        self.act = act(inplace=True) if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


# ------------------------------------------------------------------ timm RegNetZ (byobnet)


class TimmSE(nn.Module):  # timm.layers.SEModule: fc1 / act / fc2 biased 1x1 convs, sigmoid gate
    def __init__(self, channels: int, rd: int, act=nn.ReLU) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, rd, 1)
        self.bn = nn.Identity()
        self.act = act(inplace=True)
        self.fc2 = nn.Conv2d(rd, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        s = self.fc2(self.act(self.bn(self.fc1(s))))
        return x * s.sigmoid()


class ByobBottleneck(nn.Module):  # timm byobnet BottleneckBlock(bottle_in=True, linear_out=True)
    def __init__(self, c_in, c_out, stride, group_size=8, ratio=4.0) -> None:
        super().__init__()
        mid = int(c_in * ratio)
        self.shortcut = nn.Identity() if c_in == c_out and stride == 1 else None
        self.conv1_1x1 = TimmConvNormAct(c_in, mid, 1, act=nn.SiLU)
        self.conv2_kxk = TimmConvNormAct(mid, mid, 3, stride, mid // group_size, act=nn.SiLU)
        self.attn = TimmSE(mid, max(1, int(c_in * 0.25)), act=nn.SiLU)
        self.conv3_1x1 = TimmConvNormAct(mid, c_out, 1, act=None)
        self.act = nn.Identity()  # linear_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv3_1x1(self.attn(self.conv2_kxk(self.conv1_1x1(x))))
        if self.shortcut is not None:
            x = x + self.shortcut(shortcut)
        return self.act(x)


class TimmRegNetZ(nn.Module):  # timm regnetz_b16 layout, widths / 4, depths 1-2
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential()
        self.stem.add_module("conv", TimmConvNormAct(3, 8, 3, 2, act=nn.SiLU))
        stages, c_in = [], 8
        for c_out, depth, stride in ((12, 2, 2), (24, 2, 2), (32, 1, 2)):
            blocks = []
            for i in range(depth):
                blocks.append(ByobBottleneck(c_in, c_out, stride if i == 0 else 1))
                c_in = c_out
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final_conv = TimmConvNormAct(c_in, 64, 1, act=nn.SiLU)
        self.head = nn.Module()
        self.head.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_conv(self.stages(self.stem(x)))
        return self.head.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ timm SelecSLS


def _selecsls_conv_bn(c_in, c_out, k=3, stride=1) -> nn.Sequential:  # timm selecsls.conv_bn
    return nn.Sequential(
        OrderedDict(
            [
                ("conv", nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)),
                ("bn", nn.BatchNorm2d(c_out)),
                ("act", nn.ReLU(inplace=True)),
            ]
        )
    )


class SelecSlsBlock(nn.Module):  # timm.models.selecsls.SelecSlsBlock
    def __init__(self, c_in, skip, mid, c_out, is_first, stride) -> None:
        super().__init__()
        self.is_first = is_first
        self.conv1 = _selecsls_conv_bn(c_in, mid, 3, stride)
        self.conv2 = _selecsls_conv_bn(mid, mid, 1)
        self.conv3 = _selecsls_conv_bn(mid, mid // 2, 3)
        self.conv4 = _selecsls_conv_bn(mid // 2, mid, 1)
        self.conv5 = _selecsls_conv_bn(mid, mid // 2, 3)
        self.conv6 = _selecsls_conv_bn(2 * mid + (0 if is_first else skip), c_out, 1)

    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        d1 = self.conv1(x[0])
        d2 = self.conv3(self.conv2(d1))
        d3 = self.conv5(self.conv4(d2))
        if self.is_first:
            out = self.conv6(torch.cat([d1, d2, d3], 1))
            return [out, out]
        return [self.conv6(torch.cat([d1, d2, d3, x[1]], 1)), x[1]]


class SelecSlsSequential(nn.Sequential):  # timm.models.selecsls.SequentialList
    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        for module in self:
            x = module(x)
        return x


class TimmSelecSLS(nn.Module):  # timm selecsls42 layout, widths / 8
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = _selecsls_conv_bn(3, 4, 3, 2)
        cfg = [  # in, skip, mid, out, is_first, stride
            (4, 0, 8, 8, True, 2),
            (8, 8, 8, 12, False, 1),
            (12, 0, 16, 16, True, 2),
            (16, 16, 16, 24, False, 1),
        ]
        self.features = SelecSlsSequential(*[SelecSlsBlock(*c) for c in cfg])
        self.head = nn.Sequential(
            _selecsls_conv_bn(24, 32, 3, 2),
            _selecsls_conv_bn(32, 40, 3, 1),
            _selecsls_conv_bn(40, 48, 1, 1),
        )
        self.fc = nn.Linear(48, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features([self.stem(x)])
        x = self.head(x[0])
        return self.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ timm HGNetV2


class LearnableAffineBlock(nn.Module):  # timm hgnet: scalar scale and bias
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([1.0]))
        self.bias = nn.Parameter(torch.tensor([0.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x + self.bias


class HgConvBNAct(nn.Module):  # timm.models.hgnet.ConvBNAct (use_lab=True)
    def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU() if act else nn.Identity()
        self.lab = LearnableAffineBlock() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lab(self.act(self.bn(self.conv(x))))


class HgStem(nn.Module):  # timm.models.hgnet.StemV2
    def __init__(self, c_in, mid, c_out) -> None:
        super().__init__()
        self.stem1 = HgConvBNAct(c_in, mid, 3, 2)
        self.stem2a = HgConvBNAct(mid, mid // 2, 2, 1)
        self.stem2b = HgConvBNAct(mid // 2, mid, 2, 1)
        self.stem3 = HgConvBNAct(mid * 2, mid, 3, 2)
        self.stem4 = HgConvBNAct(mid, c_out, 1)
        self.pool = nn.MaxPool2d(2, 1, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem1(x)
        x = F.pad(x, (0, 1, 0, 1))
        x2 = self.stem2a(x)
        x2 = F.pad(x2, (0, 1, 0, 1))
        x2 = self.stem2b(x2)
        x1 = self.pool(x)
        x = torch.cat([x1, x2], 1)
        return self.stem4(self.stem3(x))


class HgBlock(nn.Module):  # timm.models.hgnet.HighPerfGpuBlock (ese-free "agg='se'")
    def __init__(self, c_in, mid, c_out, layer_num, residual) -> None:
        super().__init__()
        self.residual = residual
        self.layers = nn.ModuleList(
            [HgConvBNAct(c_in if i == 0 else mid, mid, 3) for i in range(layer_num)]
        )
        total = c_in + layer_num * mid
        self.aggregation = nn.Sequential(
            HgConvBNAct(total, c_out // 2, 1), HgConvBNAct(c_out // 2, c_out, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        outputs = [x]
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        x = self.aggregation(torch.cat(outputs, 1))
        return x + identity if self.residual else x


class HgStage(nn.Module):  # timm.models.hgnet.HighPerfGpuStage
    def __init__(self, c_in, mid, c_out, blocks, downsample) -> None:
        super().__init__()
        self.downsample = (
            HgConvBNAct(c_in, c_in, 3, 2, groups=c_in, act=False) if downsample else nn.Identity()
        )
        self.blocks = nn.Sequential(
            *[HgBlock(c_in if i == 0 else c_out, mid, c_out, 2, i > 0) for i in range(blocks)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class TimmHGNetV2(nn.Module):  # timm hgnetv2_b0 layout, widths / 4
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = HgStem(3, 8, 16)
        self.stages = nn.Sequential(
            HgStage(16, 8, 16, 1, False), HgStage(16, 12, 32, 2, True), HgStage(32, 16, 48, 1, True)
        )
        self.head = nn.Module()
        self.head.last_conv = nn.Conv2d(48, 64, 1, bias=False)
        self.head.act = nn.ReLU()
        self.head.lab = LearnableAffineBlock()
        self.head.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        x = x.mean((2, 3), keepdim=True)
        x = self.head.lab(self.head.act(self.head.last_conv(x)))
        return self.head.fc(x.flatten(1))


# ------------------------------------------------------------------ timm InceptionNeXt


class InceptionDWConv2d(nn.Module):  # timm.models.inception_next.InceptionDWConv2d
    def __init__(self, c, square=3, band=11, ratio=0.125) -> None:
        super().__init__()
        gc = int(c * ratio)
        self.dwconv_hw = nn.Conv2d(gc, gc, square, padding=square // 2, groups=gc)
        self.dwconv_w = nn.Conv2d(gc, gc, (1, band), padding=(0, band // 2), groups=gc)
        self.dwconv_h = nn.Conv2d(gc, gc, (band, 1), padding=(band // 2, 0), groups=gc)
        self.split_indexes = (c - 3 * gc, gc, gc, gc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_id, x_hw, x_w, x_h = torch.split(x, self.split_indexes, dim=1)
        return torch.cat([x_id, self.dwconv_hw(x_hw), self.dwconv_w(x_w), self.dwconv_h(x_h)], 1)


class ConvMlp(nn.Module):  # timm.layers.ConvMlp
    def __init__(self, c, hidden) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, hidden, 1)
        self.norm = nn.Identity()
        self.act = nn.GELU()
        self.drop = nn.Dropout(0.0)
        self.fc2 = nn.Conv2d(hidden, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.act(self.norm(self.fc1(x)))))


class MetaNeXtBlock(nn.Module):  # timm.models.inception_next.MetaNeXtBlock
    def __init__(self, c) -> None:
        super().__init__()
        self.token_mixer = InceptionDWConv2d(c)
        self.norm = nn.BatchNorm2d(c)
        self.mlp = ConvMlp(c, 4 * c)
        self.gamma = nn.Parameter(1e-6 * torch.ones(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.mlp(self.norm(self.token_mixer(x)))
        return x * self.gamma.reshape(1, -1, 1, 1) + shortcut


class MetaNeXtStage(nn.Module):
    def __init__(self, c_in, c_out, depth, stride) -> None:
        super().__init__()
        self.downsample = (
            nn.Sequential(nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 2, 2))
            if stride > 1
            else nn.Identity()
        )
        self.blocks = nn.Sequential(*[MetaNeXtBlock(c_out) for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class TimmInceptionNeXt(nn.Module):  # timm inception_next_atto layout, widths / 2
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 4, 4), nn.BatchNorm2d(16))
        self.stages = nn.Sequential(
            MetaNeXtStage(16, 16, 1, 1), MetaNeXtStage(16, 32, 2, 2), MetaNeXtStage(32, 48, 1, 2)
        )
        self.head = nn.Module()  # MlpClassifierHead
        self.head.fc1 = nn.Linear(48, 96)
        self.head.act = nn.GELU()
        self.head.norm = nn.LayerNorm(96, eps=1e-6)
        self.head.fc2 = nn.Linear(96, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x)).mean((2, 3))
        return self.head.fc2(self.head.norm(self.head.act(self.head.fc1(x))))


# ------------------------------------------------------------------ timm VGG


class VggPreLogits(nn.Module):  # timm.models.vgg.ConvMlp
    def __init__(self, c_in, hidden, kernel=7) -> None:
        super().__init__()
        self.input_size = kernel
        self.fc1 = nn.Conv2d(c_in, hidden, kernel, bias=True)
        self.act1 = nn.ReLU(True)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Conv2d(hidden, hidden, 1, bias=True)
        self.act2 = nn.ReLU(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] < self.input_size or x.shape[-1] < self.input_size:
            size = (max(self.input_size, x.shape[-2]), max(self.input_size, x.shape[-1]))
            x = F.adaptive_avg_pool2d(x, size)
        return self.act2(self.fc2(self.drop(self.act1(self.fc1(x)))))


class TimmVGG(nn.Module):  # timm vgg11_bn layout, widths / 16
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        layers, c_in = [], 3
        for v in (4, "M", 8, "M", 16, 16, "M", 32, 32, "M", 32, 32, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(True)]
                c_in = v
        self.features = nn.Sequential(*layers)
        self.pre_logits = VggPreLogits(32, 64)
        self.head = nn.Module()
        self.head.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre_logits(self.features(x))
        return self.head.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ timm RepGhostNet


class RepGhostModule(nn.Module):  # timm.models.repghost.RepGhostModule (train form)
    def __init__(self, c_in, c_out, relu=True) -> None:
        super().__init__()
        self.primary_conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True) if relu else nn.Identity(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(c_out, c_out, 3, 1, 1, groups=c_out, bias=False), nn.BatchNorm2d(c_out)
        )
        self.fusion_conv = nn.ModuleList()
        self.fusion_bn = nn.ModuleList([nn.BatchNorm2d(c_out)])
        self.relu = nn.ReLU(inplace=False) if relu else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        for bn in self.fusion_bn:
            x2 = x2 + bn(x1)
        return self.relu(x2)


class RepGhostBottleneck(nn.Module):  # timm.models.repghost.RepGhostBottleneck
    def __init__(self, c_in, mid, c_out, k, stride, se) -> None:
        super().__init__()
        self.stride = stride
        self.ghost1 = RepGhostModule(c_in, mid, relu=True)
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
            self.bn_dw = nn.BatchNorm2d(mid)
        self.se = _RepGhostSE(mid) if se else None
        self.ghost2 = RepGhostModule(mid, c_out, relu=False)
        if c_in == c_out and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_in, k, stride, k // 2, groups=c_in, bias=False),
                nn.BatchNorm2d(c_in),
                nn.Conv2d(c_in, c_out, 1, bias=False),
                nn.BatchNorm2d(c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.ghost1(x)
        if self.stride > 1:
            x = self.bn_dw(self.conv_dw(x))
        if self.se is not None:
            x = self.se(x)
        x = self.ghost2(x)
        return x + self.shortcut(shortcut)


class _RepGhostSE(nn.Module):  # timm efficientnet_blocks.SqueezeExcite, hard_sigmoid gate
    def __init__(self, c) -> None:
        super().__init__()
        rd = max(4, c // 4)
        self.conv_reduce = nn.Conv2d(c, rd, 1)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(rd, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * F.hardsigmoid(s)


class TimmRepGhostNet(nn.Module):  # timm repghostnet_050 layout, narrowed
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        cfg = [  # k, mid, out, se, stride
            [(3, 8, 8, False, 1)],
            [(3, 24, 12, False, 2)],
            [(3, 36, 12, False, 1)],
            [(5, 36, 20, True, 2)],
        ]
        stages, c_in = [], 8
        for stage in cfg:
            blocks = []
            for k, mid, c_out, se, s in stage:
                blocks.append(RepGhostBottleneck(c_in, mid, c_out, k, s, se))
                c_in = c_out
            stages.append(nn.Sequential(*blocks))
        stages.append(
            nn.Sequential(
                OrderedDict(
                    [
                        ("conv", nn.Conv2d(c_in, 60, 1, bias=False)),
                        ("bn1", nn.BatchNorm2d(60)),
                        ("act1", nn.ReLU(inplace=True)),
                    ]
                )
            )
        )
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(60, 64, 1, bias=True)
        self.act2 = nn.ReLU(inplace=True)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.conv_head(x.mean((2, 3), keepdim=True)))
        return self.classifier(x.flatten(1))


# ------------------------------------------------------------------ timm ResNet-blur


class BlurPool2d(nn.Module):  # timm.layers.BlurPool2d: binomial 3x3 filter, reflect pad, stride 2
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        coeffs = torch.tensor([1.0, 2.0, 1.0])
        blur = (coeffs[:, None] * coeffs[None, :]) / 16.0
        self.register_buffer("filt", blur[None, None].repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(x, self.filt, stride=2, groups=self.channels)


class BlurBasicBlock(nn.Module):  # timm.models.resnet.BasicBlock with aa_layer
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        use_aa = stride == 2
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1 if use_aa else stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.drop_block = nn.Identity()
        self.act1 = nn.ReLU(inplace=True)
        self.aa = BlurPool2d(c_out) if use_aa else nn.Identity()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act2 = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.aa(self.act1(self.drop_block(self.bn1(self.conv1(x)))))
        x = self.bn2(self.conv2(x))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act2(x + shortcut)


class TimmResNetBlur(nn.Module):  # timm resnetblur18 layout, widths / 8, one block per stage
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        self.maxpool = nn.Sequential(nn.MaxPool2d(3, 1, 1), BlurPool2d(8))
        c_in = 8
        for i, (c, s) in enumerate(((8, 1), (16, 2), (32, 2), (64, 2))):
            self.add_module(f"layer{i + 1}", nn.Sequential(BlurBasicBlock(c_in, c, s)))
            c_in = c
        self.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act1(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ apple ml-mobileone


def _mobileone_conv_bn(c_in, c_out, k, stride, padding, groups) -> nn.Sequential:
    mod = nn.Sequential()
    mod.add_module("conv", nn.Conv2d(c_in, c_out, k, stride, padding, groups=groups, bias=False))
    mod.add_module("bn", nn.BatchNorm2d(c_out))
    return mod


class MobileOneBlock(nn.Module):  # apple/ml-mobileone mobileone.py, inference_mode=False
    def __init__(self, c_in, c_out, k, stride, padding, groups, num_conv_branches) -> None:
        super().__init__()
        self.se = nn.Identity()
        self.activation = nn.ReLU()
        self.rbr_skip = nn.BatchNorm2d(c_in) if c_out == c_in and stride == 1 else None
        self.rbr_conv = nn.ModuleList(
            [
                _mobileone_conv_bn(c_in, c_out, k, stride, padding, groups)
                for _ in range(num_conv_branches)
            ]
        )
        self.rbr_scale = _mobileone_conv_bn(c_in, c_out, 1, stride, 0, groups) if k > 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity_out = 0
        if self.rbr_skip is not None:
            identity_out = self.rbr_skip(x)
        scale_out = 0
        if self.rbr_scale is not None:
            scale_out = self.rbr_scale(x)
        out = scale_out + identity_out
        for conv in self.rbr_conv:
            out = out + conv(x)
        return self.activation(self.se(out))


class AppleMobileOne(nn.Module):  # mobileone_s0 layout (k=4 branches), widths / 8
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stage0 = MobileOneBlock(3, 8, 3, 2, 1, 1, 1)
        self.in_planes = 8
        self.stage1 = self._make_stage(12, 2, 4)
        self.stage2 = self._make_stage(16, 2, 4)
        self.stage3 = self._make_stage(32, 1, 4)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(32, classes)

    def _make_stage(self, planes, blocks, branches) -> nn.Sequential:
        strides = [2] + [1] * (blocks - 1)
        layers = []
        for stride in strides:
            layers.append(
                MobileOneBlock(
                    self.in_planes, self.in_planes, 3, stride, 1, self.in_planes, branches
                )
            )
            layers.append(MobileOneBlock(self.in_planes, planes, 1, 1, 0, 1, branches))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage3(self.stage2(self.stage1(self.stage0(x))))
        return self.linear(self.gap(x).view(x.size(0), -1))


# ------------------------------------------------------------------ kuangliu pytorch-cifar DLA


class KlBasicBlock(nn.Module):  # pytorch-cifar dla.py BasicBlock
    def __init__(self, c_in, c_out, stride=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class KlRoot(nn.Module):  # pytorch-cifar dla.py Root
    def __init__(self, c_in, c_out, k=1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, 1, (k - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return F.relu(self.bn(self.conv(torch.cat(xs, 1))))


class KlTree(nn.Module):  # pytorch-cifar dla.py Tree
    def __init__(self, c_in, c_out, level=1, stride=1) -> None:
        super().__init__()
        self.root = KlRoot(2 * c_out, c_out)
        if level == 1:
            self.left_tree = KlBasicBlock(c_in, c_out, stride)
            self.right_tree = KlBasicBlock(c_out, c_out, 1)
        else:
            self.left_tree = KlTree(c_in, c_out, level - 1, stride)
            self.right_tree = KlTree(c_out, c_out, level - 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.left_tree(x)
        out2 = self.right_tree(out1)
        return self.root([out1, out2])


class KlDLA(nn.Module):  # pytorch-cifar dla.py DLA, widths / 8
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.base = nn.Sequential(
            nn.Conv2d(3, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(True)
        )
        self.layer1 = nn.Sequential(
            nn.Conv2d(4, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(True)
        )
        self.layer2 = nn.Sequential(
            nn.Conv2d(4, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(True)
        )
        self.layer3 = KlTree(8, 8, level=1, stride=1)
        self.layer4 = KlTree(8, 16, level=2, stride=2)
        self.layer5 = KlTree(16, 32, level=1, stride=2)
        self.linear = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer2(self.layer1(self.base(x)))
        out = self.layer5(self.layer4(self.layer3(out)))
        out = F.avg_pool2d(out, 8)
        return self.linear(out.view(out.size(0), -1))


# ------------------------------------------------------------------ Robert-JunWang PeleeNet


class PeleeBasicConv2d(nn.Module):  # peleenet.py BasicConv2d
    def __init__(self, c_in, c_out, activation=True, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kwargs)
        self.norm = nn.BatchNorm2d(c_out)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        return F.relu(x, inplace=True) if self.activation else x


class PeleeDenseLayer(nn.Module):  # peleenet.py _DenseLayer: two-way dense layer
    def __init__(self, c_in, growth, bottleneck_width) -> None:
        super().__init__()
        growth = growth // 2
        inter = growth * bottleneck_width // 4 * 4
        self.branch1a = PeleeBasicConv2d(c_in, inter, kernel_size=1)
        self.branch1b = PeleeBasicConv2d(inter, growth, kernel_size=3, padding=1)
        self.branch2a = PeleeBasicConv2d(c_in, inter, kernel_size=1)
        self.branch2b = PeleeBasicConv2d(inter, growth, kernel_size=3, padding=1)
        self.branch2c = PeleeBasicConv2d(growth, growth, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1 = self.branch1b(self.branch1a(x))
        branch2 = self.branch2c(self.branch2b(self.branch2a(x)))
        return torch.cat([x, branch1, branch2], 1)


class PeleeStemBlock(nn.Module):  # peleenet.py _StemBlock
    def __init__(self, c_in, c_init) -> None:
        super().__init__()
        half = c_init // 2
        self.stem1 = PeleeBasicConv2d(c_in, c_init, kernel_size=3, stride=2, padding=1)
        self.stem2a = PeleeBasicConv2d(c_init, half, kernel_size=1, stride=1, padding=0)
        self.stem2b = PeleeBasicConv2d(half, c_init, kernel_size=3, stride=2, padding=1)
        self.stem3 = PeleeBasicConv2d(2 * c_init, c_init, kernel_size=1, stride=1, padding=0)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.stem1(x)
        branch2 = self.stem2b(self.stem2a(out))
        branch1 = self.pool(out)
        return self.stem3(torch.cat([branch1, branch2], 1))


class PeleeNet(nn.Module):  # peleenet.py PeleeNet, growth 8, two stages
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict([("stemblock", PeleeStemBlock(3, 8))]))
        c = 8
        for i, (layers, bw, growth) in enumerate(((2, 1, 8), (2, 2, 8), (1, 4, 16))):
            block = nn.Sequential()
            for j in range(layers):
                block.add_module(f"denselayer{j + 1}", PeleeDenseLayer(c + j * growth, growth, bw))
            self.features.add_module(f"denseblock{i + 1}", block)
            c = c + layers * growth
            self.features.add_module(
                f"transition{i + 1}", PeleeBasicConv2d(c, c, kernel_size=1, stride=1, padding=0)
            )
            if i < 2:
                self.features.add_module(f"transition{i + 1}_pool", nn.AvgPool2d(2, 2))
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x)
        out = F.avg_pool2d(features, kernel_size=features.size(2)).view(features.size(0), -1)
        return self.classifier(out)


ZOO = {  # name: (build, input shape)
    "timm_regnetz": (TimmRegNetZ, (2, 3, 32, 32)),
    "timm_selecsls": (TimmSelecSLS, (2, 3, 32, 32)),
    "timm_hgnetv2": (TimmHGNetV2, (2, 3, 32, 32)),
    "timm_inception_next": (TimmInceptionNeXt, (2, 3, 32, 32)),
    "timm_vgg_prelogits": (TimmVGG, (2, 3, 224, 224)),
    "timm_repghostnet": (TimmRepGhostNet, (2, 3, 32, 32)),
    "timm_resnetblur": (TimmResNetBlur, (2, 3, 64, 64)),
    "apple_mobileone": (AppleMobileOne, (2, 3, 32, 32)),
    "kuangliu_dla": (KlDLA, (2, 3, 32, 32)),
    "junwang_peleenet": (PeleeNet, (2, 3, 64, 64)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
