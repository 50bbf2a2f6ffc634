"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_16.py (issue 16's held-out measure, session 16): torchvision's RegNetX
(`stem` Conv2dNormActivation, `trunk_output.blockN` AnyStages of `blockN-M` ResBottleneckBlocks,
`proj` + `f.a/b/c` with a grouped 3x3, no SE), timm's EfficientNet-Lite0 (`conv_stem`, `bn1`
BatchNormAct2d with ReLU6, `blocks.N.M` DepthwiseSeparable / InvertedResidual blocks without SE,
`conv_head`), timm's MixNet-S (MixedConv2d ModuleDicts splitting channels over 3/5/7 kernels and
over grouped 1x1s, ReLU then SiLU stages, SE squeezed from the block's input width), timm's
GhostNetV2 (GhostModuleV2 `short_conv` DFC attention on a 2x average-pooled input, resized nearest
and gating the ghost features, hard-sigmoid SE), timm's PP-LCNet (`dsa` depthwise-separable blocks
with no skip and an act after the pointwise, hard-swish, SE late, a biased `conv_head` after the
pool), timm's DPN-68b (`features.conv1_1` InputBlock, DualPathBlocks of BnActConv2d with eps 1e-3
whose output splits into a residual and a dense path, `c1x1_c1`/`c1x1_c2`, CatBnAct, a 1x1 conv
classifier), lukemelas' EfficientNet-PyTorch (`_conv_stem`, `_blocks.N` MBConvBlocks with TF
"same" static padding (ZeroPad2d, asymmetric at stride 2), `_se_reduce`/`_se_expand`, batch norm
eps 1e-3 momentum 0.01, swish), kuangliu/pytorch-cifar's ShuffleNetV2 (split, depthwise 3x3,
concatenate, channel shuffle; DownBlocks with two strided branches), weiaicunzai/pytorch-cifar100's
ResNeXt (a `split_transforms` Sequential whose first 1x1 is grouped, `shortcut` Sequentials) and
Cadene's pretrainedmodels FBResNet (biased convs before every batch norm, a fixed 7x7 average
pool, `last_linear`).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# ------------------------------------------------------------------ torchvision RegNetX


class TvCNA(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation
    def __init__(self, c_in, c_out, kernel_size=3, stride=1, groups=1, activation=True) -> None:
        layers = [
            nn.Conv2d(
                c_in, c_out, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False
            ),
            nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1),
        ]
        if activation:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class TvBottleneckTransform(nn.Sequential):  # torchvision.models.regnet.BottleneckTransform
    def __init__(self, c_in, c_out, stride, group_width, bottleneck_multiplier=1.0) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        w_b = int(round(c_out * bottleneck_multiplier))
        g = w_b // group_width
        layers["a"] = TvCNA(c_in, w_b, 1)
        layers["b"] = TvCNA(w_b, w_b, 3, stride=stride, groups=g)
        layers["c"] = TvCNA(w_b, c_out, 1, activation=False)
        super().__init__(layers)


class TvResBottleneckBlock(nn.Module):  # torchvision.models.regnet.ResBottleneckBlock
    def __init__(self, c_in, c_out, stride, group_width) -> None:
        super().__init__()
        self.proj = None
        if c_in != c_out or stride != 1:
            self.proj = TvCNA(c_in, c_out, 1, stride=stride, activation=False)
        self.f = TvBottleneckTransform(c_in, c_out, stride, group_width)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is not None:
            x = self.proj(x) + self.f(x)
        else:
            x = x + self.f(x)
        return self.activation(x)


class TvAnyStage(nn.Sequential):  # torchvision.models.regnet.AnyStage: `block{i}-{j}` members
    def __init__(self, c_in, c_out, stride, depth, group_width, stage_index) -> None:
        super().__init__()
        for i in range(depth):
            block = TvResBottleneckBlock(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1,
                                         group_width)
            self.add_module(f"block{stage_index}-{i}", block)


class TvRegNetX(nn.Module):  # torchvision regnet_x_400mf layout (no SE), widths/depths narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = TvCNA(3, 16, 3, stride=2)
        widths, depths, group_width = (16, 32, 48), (1, 2, 2), 8
        blocks = []
        c_in = 16
        for i, (w, d) in enumerate(zip(widths, depths)):
            blocks.append((f"block{i + 1}", TvAnyStage(c_in, w, 2, d, group_width, i + 1)))
            c_in = w
        self.trunk_output = nn.Sequential(OrderedDict(blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.trunk_output(x)
        x = self.avgpool(x)
        x = x.flatten(start_dim=1)
        return self.fc(x)


# ------------------------------------------------------------------ timm shared pieces


class BatchNormAct2d(nn.BatchNorm2d):  # timm.layers.BatchNormAct2d: the activation inside
    def __init__(self, c: int, act_layer=nn.ReLU, apply_act: bool = True, eps: float = 1e-5):
        super().__init__(c, eps=eps)
        self.drop = nn.Identity()
        self.act = act_layer(inplace=True) if apply_act and act_layer is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


class SelectAdaptivePool2d(nn.Module):  # timm.layers.SelectAdaptivePool2d (avg, flatten)
    def __init__(self, flatten: bool = True) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1) if flatten else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flatten(self.pool(x))


def make_divisible(v, divisor=8, min_value=None, round_limit=0.9):  # timm.layers.make_divisible
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class TimmSqueezeExcite(nn.Module):  # timm.models._efficientnet_blocks.SqueezeExcite
    def __init__(self, c: int, rd: int, act_layer=nn.ReLU, gate=torch.sigmoid) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1, bias=True)
        self.act1 = act_layer(inplace=True)
        self.conv_expand = nn.Conv2d(rd, c, 1, bias=True)
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.conv_reduce(x_se)
        x_se = self.act1(x_se)
        x_se = self.conv_expand(x_se)
        return x * self.gate(x_se)


class TimmDepthwiseSeparableConv(nn.Module):  # timm.models._efficientnet_blocks
    def __init__(self, c_in, c_out, k=3, stride=1, act_layer=nn.ReLU, se_rd=0, pw_act=False,
                 noskip=False, gate=torch.sigmoid, conv_dw=None, se_act=None) -> None:
        super().__init__()
        self.has_skip = (stride == 1 and c_in == c_out) and not noskip
        self.conv_dw = conv_dw if conv_dw is not None else nn.Conv2d(
            c_in, c_in, k, stride, k // 2, groups=c_in, bias=False)
        self.bn1 = BatchNormAct2d(c_in, act_layer)
        self.aa = nn.Identity()
        self.se = (
            TimmSqueezeExcite(c_in, se_rd, se_act or act_layer, gate) if se_rd else nn.Identity()
        )
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = BatchNormAct2d(c_out, act_layer, apply_act=pw_act)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv_dw(x)
        x = self.bn1(x)
        x = self.aa(x)
        x = self.se(x)
        x = self.conv_pw(x)
        x = self.bn2(x)
        if self.has_skip:
            x = self.drop_path(x) + shortcut
        return x


class TimmInvertedResidual(nn.Module):  # timm.models._efficientnet_blocks.InvertedResidual
    def __init__(self, c_in, c_out, k=3, stride=1, exp_ratio=6.0, act_layer=nn.ReLU, se_rd=0,
                 conv_pw=None, conv_dw=None, conv_pwl=None) -> None:
        super().__init__()
        mid = int(c_in * exp_ratio)
        self.has_skip = c_in == c_out and stride == 1
        self.conv_pw = conv_pw if conv_pw is not None else nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = BatchNormAct2d(mid, act_layer)
        self.conv_dw = conv_dw if conv_dw is not None else nn.Conv2d(
            mid, mid, k, stride, k // 2, groups=mid, bias=False)
        self.bn2 = BatchNormAct2d(mid, act_layer)
        self.aa = nn.Identity()
        self.se = TimmSqueezeExcite(mid, se_rd, act_layer) if se_rd else nn.Identity()
        self.conv_pwl = conv_pwl if conv_pwl is not None else nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = BatchNormAct2d(c_out, apply_act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv_pw(x)
        x = self.bn1(x)
        x = self.conv_dw(x)
        x = self.bn2(x)
        x = self.aa(x)
        x = self.se(x)
        x = self.conv_pwl(x)
        x = self.bn3(x)
        if self.has_skip:
            x = self.drop_path(x) + shortcut
        return x


# ------------------------------------------------------------------ timm EfficientNet-Lite0


class TimmEfficientNetLite(nn.Module):  # timm efficientnet_lite0 (ReLU6, no SE), narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        act = nn.ReLU6
        self.conv_stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(16, act)
        self.blocks = nn.Sequential(
            nn.Sequential(TimmDepthwiseSeparableConv(16, 8, 3, 1, act)),
            nn.Sequential(
                TimmInvertedResidual(8, 12, 3, 2, 6.0, act),
                TimmInvertedResidual(12, 12, 3, 1, 6.0, act),
            ),
            nn.Sequential(
                TimmInvertedResidual(12, 20, 5, 2, 6.0, act),
                TimmInvertedResidual(20, 20, 5, 1, 6.0, act),
            ),
        )
        self.conv_head = nn.Conv2d(20, 64, 1, bias=False)  # lite keeps the head at 1280 there
        self.bn2 = BatchNormAct2d(64, act)
        self.global_pool = SelectAdaptivePool2d()
        self.classifier = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv_stem(x))
        x = self.blocks(x)
        x = self.bn2(self.conv_head(x))
        x = self.global_pool(x)
        return self.classifier(x)


# ------------------------------------------------------------------ timm MixNet-S


def _split_channels(num_chan: int, num_groups: int) -> list[int]:  # timm mixed_conv2d
    split = [num_chan // num_groups for _ in range(num_groups)]
    split[0] += num_chan - sum(split)
    return split


class MixedConv2d(nn.ModuleDict):  # timm.layers.mixed_conv2d.MixedConv2d: keys "0", "1", ...
    def __init__(self, c_in, c_out, kernel_size=3, stride=1, depthwise=False) -> None:
        super().__init__()
        kernel_size = kernel_size if isinstance(kernel_size, list) else [kernel_size]
        num_groups = len(kernel_size)
        in_splits = _split_channels(c_in, num_groups)
        out_splits = _split_channels(c_out, num_groups)
        self.in_channels = sum(in_splits)
        self.out_channels = sum(out_splits)
        for idx, (k, in_ch, out_ch) in enumerate(zip(kernel_size, in_splits, out_splits)):
            self.add_module(str(idx), nn.Conv2d(
                in_ch, out_ch, k, stride=stride, padding=(stride - 1 + (k - 1)) // 2,
                groups=out_ch if depthwise else 1, bias=False))
        self.splits = in_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_split = torch.split(x, self.splits, 1)
        x_out = [c(x_split[i]) for i, c in enumerate(self.values())]
        return torch.cat(x_out, 1)


def _mix_ir(c_in, c_out, ks, stride, exp, act, groups_pw, se_ratio=0.0):
    # timm's create_conv2d: a kernel list (`k3.5.7`, `a1.1`, `p1.1`) makes a MixedConv2d, one
    # kernel a plain conv (the block's own default)
    mid = int(c_in * exp)
    return TimmInvertedResidual(
        c_in, c_out, k=ks[0], stride=stride, exp_ratio=exp, act_layer=act,
        se_rd=int(c_in * se_ratio),  # timm: se_ratio / exp_ratio of the expanded width
        conv_pw=MixedConv2d(c_in, mid, [1] * groups_pw) if groups_pw > 1 else None,
        conv_dw=MixedConv2d(mid, mid, ks, stride, depthwise=True) if len(ks) > 1 else None,
        conv_pwl=MixedConv2d(mid, c_out, [1] * groups_pw) if groups_pw > 1 else None,
    )


class TimmMixNet(nn.Module):  # timm mixnet_s (EfficientNet class, mixnet arch_def), narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(16, nn.ReLU)
        self.blocks = nn.Sequential(
            nn.Sequential(TimmDepthwiseSeparableConv(16, 16, 3, 1, nn.ReLU)),
            nn.Sequential(
                _mix_ir(16, 24, [3], 2, 6.0, nn.ReLU, 2),
                _mix_ir(24, 24, [3], 1, 3.0, nn.ReLU, 2),
            ),
            nn.Sequential(
                _mix_ir(24, 40, [3, 5, 7], 2, 6.0, nn.SiLU, 1, 0.5),
                _mix_ir(40, 40, [3, 5], 1, 6.0, nn.SiLU, 2, 0.5),
            ),
        )
        self.conv_head = nn.Conv2d(40, 96, 1, bias=False)
        self.bn2 = BatchNormAct2d(96, nn.ReLU)
        self.global_pool = SelectAdaptivePool2d()
        self.classifier = nn.Linear(96, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv_stem(x))
        x = self.blocks(x)
        x = self.bn2(self.conv_head(x))
        return self.classifier(self.global_pool(x))


# ------------------------------------------------------------------ timm GhostNetV2


class GhostModuleV2(nn.Module):  # timm.models.ghostnet.GhostModuleV2 ('original' / 'attn')
    def __init__(self, c_in, c_out, use_act=True, mode="original") -> None:
        super().__init__()
        self.mode = mode
        self.out_chs = c_out
        init_chs = math.ceil(c_out / 2)
        new_chs = init_chs
        self.primary_conv = nn.Sequential(
            nn.Conv2d(c_in, init_chs, 1, 1, 0, bias=False),
            nn.BatchNorm2d(init_chs),
            nn.ReLU(inplace=True) if use_act else nn.Identity(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(init_chs, new_chs, 3, 1, 1, groups=init_chs, bias=False),
            nn.BatchNorm2d(new_chs),
            nn.ReLU(inplace=True) if use_act else nn.Identity(),
        )
        if mode == "attn":
            self.short_conv = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(c_out),
                nn.Conv2d(c_out, c_out, (1, 5), 1, (0, 2), groups=c_out, bias=False),
                nn.BatchNorm2d(c_out),
                nn.Conv2d(c_out, c_out, (5, 1), 1, (2, 0), groups=c_out, bias=False),
                nn.BatchNorm2d(c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        out = torch.cat([x1, x2], dim=1)
        if self.mode == "original":
            return out[:, : self.out_chs, :, :]
        res = self.short_conv(F.avg_pool2d(x, kernel_size=2, stride=2))
        return out[:, : self.out_chs, :, :] * F.interpolate(
            torch.sigmoid(res), size=(out.shape[-2], out.shape[-1]), mode="nearest"
        )


class GhostBottleneckV2(nn.Module):  # timm.models.ghostnet.GhostBottleneckV2
    def __init__(self, c_in, mid, c_out, k=3, stride=1, se_ratio=0.0, layer_id=0) -> None:
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModuleV2(c_in, mid, True, "original" if layer_id <= 1 else "attn")
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
            self.bn_dw = nn.BatchNorm2d(mid)
        else:
            self.conv_dw = None
            self.bn_dw = None
        self.se = (
            TimmSqueezeExcite(mid, make_divisible(mid * se_ratio, 4), nn.ReLU, F.hardsigmoid)
            if se_ratio
            else None
        )
        self.ghost2 = GhostModuleV2(mid, c_out, False, "original")
        if c_in == c_out and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_in, k, stride, (k - 1) // 2, groups=c_in, bias=False),
                nn.BatchNorm2d(c_in),
                nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False),
                nn.BatchNorm2d(c_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.ghost1(x)
        if self.conv_dw is not None:
            x = self.conv_dw(x)
            x = self.bn_dw(x)
        if self.se is not None:
            x = self.se(x)
        x = self.ghost2(x)
        return x + self.shortcut(shortcut)


class TimmConvBnAct(nn.Module):  # timm.models._efficientnet_blocks.ConvBnAct
    def __init__(self, c_in, c_out, k=1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, 1, k // 2, bias=False)
        self.bn1 = BatchNormAct2d(c_out, nn.ReLU)
        self.aa = nn.Identity()
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.aa(self.bn1(self.conv(x)))


class TimmGhostNetV2(nn.Module):  # timm ghostnetv2_100 (version 'v2'), cfgs narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # k, exp (mid), c, se, s per block; layer_id counts blocks across stages
        cfgs = [
            [[3, 8, 8, 0, 1]],
            [[3, 24, 12, 0, 2]],
            [[3, 36, 12, 0, 1]],
            [[5, 36, 20, 0.25, 2]],
            [[5, 60, 20, 0.25, 1]],
        ]
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        stages = []
        prev, layer_id = 8, 0
        for cfg in cfgs:
            layers = []
            for k, exp_size, c, se_ratio, s in cfg:
                layers.append(GhostBottleneckV2(prev, exp_size, c, k, s, se_ratio, layer_id))
                prev = c
                layer_id += 1
            stages.append(nn.Sequential(*layers))
        stages.append(nn.Sequential(TimmConvBnAct(prev, 60, 1)))
        self.blocks = nn.Sequential(*stages)
        self.global_pool = SelectAdaptivePool2d(flatten=False)
        self.conv_head = nn.Conv2d(60, 96, 1, 1, 0, bias=True)
        self.act2 = nn.ReLU(inplace=True)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(96, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = self.global_pool(x)
        x = self.act2(self.conv_head(x))
        x = self.flatten(x)
        return self.classifier(x)


# ------------------------------------------------------------------ timm PP-LCNet


class TimmLCNet(nn.Module):  # timm lcnet_050 (MobileNetV3 class, `dsa` blocks), narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        act = nn.Hardswish
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = BatchNormAct2d(8, act)

        def dsa(c_in, c_out, k, s, se=False):
            return TimmDepthwiseSeparableConv(
                c_in, c_out, k, s, act, se_rd=make_divisible(c_in * 0.25, 8) if se else 0,
                pw_act=True, noskip=True, gate=F.hardsigmoid,
                se_act=nn.ReLU)  # timm lcnet: force_act_layer=nn.ReLU in the SE

        self.blocks = nn.Sequential(
            nn.Sequential(dsa(8, 16, 3, 1)),
            nn.Sequential(dsa(16, 24, 3, 2), dsa(24, 24, 3, 1)),
            nn.Sequential(dsa(24, 32, 3, 2), dsa(32, 32, 5, 1)),
            nn.Sequential(dsa(32, 48, 5, 2, se=True), dsa(48, 48, 5, 1, se=True)),
        )
        self.global_pool = SelectAdaptivePool2d(flatten=False)
        self.conv_head = nn.Conv2d(48, 128, 1, 1, 0, bias=True)
        self.norm_head = nn.Identity()
        self.act2 = act(inplace=True)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv_stem(x))
        x = self.blocks(x)
        x = self.global_pool(x)
        x = self.act2(self.norm_head(self.conv_head(x)))
        return self.classifier(self.flatten(x))


# ------------------------------------------------------------------ timm DPN-68b


class CatBnAct(nn.Module):  # timm.models.dpn.CatBnAct
    def __init__(self, c: int) -> None:
        super().__init__()
        self.bn = BatchNormAct2d(c, nn.ReLU, eps=0.001)

    def forward(self, x):
        if isinstance(x, tuple):
            x = torch.cat(x, dim=1)
        return self.bn(x)


class BnActConv2d(nn.Module):  # timm.models.dpn.BnActConv2d
    def __init__(self, c_in, c_out, k, stride, groups=1) -> None:
        super().__init__()
        self.bn = BatchNormAct2d(c_in, nn.ReLU, eps=0.001)
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)

    def forward(self, x):
        return self.conv(self.bn(x))


class DualPathBlock(nn.Module):  # timm.models.dpn.DualPathBlock (b=True)
    def __init__(self, c_in, num_1x1_a, num_3x3_b, num_1x1_c, inc, groups, block_type) -> None:
        super().__init__()
        self.num_1x1_c = num_1x1_c
        self.inc = inc
        self.key_stride = 2 if block_type == "down" else 1
        self.has_proj = block_type in ("proj", "down")
        self.c1x1_w_s1 = None
        self.c1x1_w_s2 = None
        if self.has_proj:
            if self.key_stride == 2:
                self.c1x1_w_s2 = BnActConv2d(c_in, num_1x1_c + 2 * inc, 1, 2)
            else:
                self.c1x1_w_s1 = BnActConv2d(c_in, num_1x1_c + 2 * inc, 1, 1)
        self.c1x1_a = BnActConv2d(c_in, num_1x1_a, 1, 1)
        self.c3x3_b = BnActConv2d(num_1x1_a, num_3x3_b, 3, self.key_stride, groups)
        self.c1x1_c = CatBnAct(num_3x3_b)
        self.c1x1_c1 = nn.Conv2d(num_3x3_b, num_1x1_c, 1, bias=False)
        self.c1x1_c2 = nn.Conv2d(num_3x3_b, inc, 1, bias=False)

    def forward(self, x):
        x_in = torch.cat(x, dim=1) if isinstance(x, tuple) else x
        if self.c1x1_w_s1 is None and self.c1x1_w_s2 is None:
            x_s1, x_s2 = x[0], x[1]
        else:
            x_s = self.c1x1_w_s1(x_in) if self.c1x1_w_s1 is not None else self.c1x1_w_s2(x_in)
            x_s1 = x_s[:, : self.num_1x1_c, :, :]
            x_s2 = x_s[:, self.num_1x1_c :, :, :]
        x_in = self.c1x1_a(x_in)
        x_in = self.c3x3_b(x_in)
        x_in = self.c1x1_c(x_in)
        out1 = self.c1x1_c1(x_in)
        out2 = self.c1x1_c2(x_in)
        resid = x_s1 + out1
        dense = torch.cat([x_s2, out2], dim=1)
        return resid, dense


class DpnInputBlock(nn.Module):  # timm.models.dpn.InputBlock (small: 3x3 conv)
    def __init__(self, num_init_features: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, num_init_features, 3, 2, 1, bias=False)
        self.bn = BatchNormAct2d(num_init_features, nn.ReLU, eps=0.001)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        return self.pool(self.bn(self.conv(x)))


class TimmDPN(nn.Module):  # timm dpn68b (small, b=True), two stages, widths narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        k_r, groups, k_sec, inc_sec, bws = 16, 4, (2, 2), (4, 8), (16, 32)
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        blocks["conv1_1"] = DpnInputBlock(8)
        in_chs = 8
        for stage, (k, inc, bw) in enumerate(zip(k_sec, inc_sec, bws)):
            r = k_r * (stage + 1)
            kind = "proj" if stage == 0 else "down"
            blocks[f"conv{stage + 2}_1"] = DualPathBlock(in_chs, r, r, bw, inc, groups, kind)
            in_chs = bw + 3 * inc
            for i in range(2, k + 1):
                blocks[f"conv{stage + 2}_{i}"] = DualPathBlock(in_chs, r, r, bw, inc, groups,
                                                               "normal")
                in_chs += inc
        blocks["conv5_bn_ac"] = CatBnAct(in_chs)
        self.features = nn.Sequential(blocks)
        self.global_pool = SelectAdaptivePool2d(flatten=False)
        self.classifier = nn.Conv2d(in_chs, num_classes, kernel_size=1, bias=True)
        self.flatten = nn.Flatten(1)

    def forward(self, x):
        x = self.features(x)
        x = self.global_pool(x)
        x = self.classifier(x)
        return self.flatten(x)


# ------------------------------------------------------------------ lukemelas EfficientNet-PyTorch


class Conv2dStaticSamePadding(nn.Conv2d):  # efficientnet_pytorch/utils.py (TF "same", static)
    def __init__(self, c_in, c_out, kernel_size, stride=1, groups=1, bias=False, image_size=None):
        super().__init__(c_in, c_out, kernel_size, stride, groups=groups, bias=bias)
        ih = iw = image_size
        kh, kw = self.weight.size()[-2:]
        sh, sw = self.stride
        oh, ow = math.ceil(ih / sh), math.ceil(iw / sw)
        pad_h = max((oh - 1) * sh + (kh - 1) + 1 - ih, 0)
        pad_w = max((ow - 1) * sw + (kw - 1) + 1 - iw, 0)
        if pad_h > 0 or pad_w > 0:
            self.static_padding = nn.ZeroPad2d(
                (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
            )
        else:
            self.static_padding = nn.Identity()

    def forward(self, x):
        x = self.static_padding(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class MemoryEfficientSwish(nn.Module):  # efficientnet_pytorch/utils.py (x * sigmoid(x))
    def forward(self, x):
        return x * torch.sigmoid(x)


class MBConvBlock(nn.Module):  # efficientnet_pytorch/model.py MBConvBlock
    def __init__(self, c_in, c_out, k, stride, expand_ratio, se_ratio, image_size) -> None:
        super().__init__()
        bn_mom, bn_eps = 0.01, 1e-3  # 1 - TF's 0.99, TF's 1e-3
        self.id_skip = True
        self.expand_ratio = expand_ratio
        self.stride = stride
        self.c_in, self.c_out = c_in, c_out
        oup = c_in * expand_ratio
        if expand_ratio != 1:
            self._expand_conv = Conv2dStaticSamePadding(c_in, oup, 1, image_size=image_size)
            self._bn0 = nn.BatchNorm2d(oup, momentum=bn_mom, eps=bn_eps)
        self._depthwise_conv = Conv2dStaticSamePadding(
            oup, oup, k, stride, groups=oup, image_size=image_size)
        self._bn1 = nn.BatchNorm2d(oup, momentum=bn_mom, eps=bn_eps)
        image_size = math.ceil(image_size / stride)
        num_squeezed = max(1, int(c_in * se_ratio))
        self._se_reduce = Conv2dStaticSamePadding(oup, num_squeezed, 1, bias=True, image_size=1)
        self._se_expand = Conv2dStaticSamePadding(num_squeezed, oup, 1, bias=True, image_size=1)
        self._project_conv = Conv2dStaticSamePadding(oup, c_out, 1, image_size=image_size)
        self._bn2 = nn.BatchNorm2d(c_out, momentum=bn_mom, eps=bn_eps)
        self._swish = MemoryEfficientSwish()

    def forward(self, inputs):
        x = inputs
        if self.expand_ratio != 1:
            x = self._swish(self._bn0(self._expand_conv(inputs)))
        x = self._swish(self._bn1(self._depthwise_conv(x)))
        x_squeezed = F.adaptive_avg_pool2d(x, 1)
        x_squeezed = self._se_expand(self._swish(self._se_reduce(x_squeezed)))
        x = torch.sigmoid(x_squeezed) * x
        x = self._bn2(self._project_conv(x))
        if self.id_skip and self.stride == 1 and self.c_in == self.c_out:
            x = x + inputs
        return x


class LukemelasEfficientNet(nn.Module):  # efficientnet_pytorch EfficientNet (b0 blocks narrowed)
    def __init__(self, image_size: int = 32, num_classes: int = 10) -> None:
        super().__init__()
        bn_mom, bn_eps = 0.01, 1e-3
        self._conv_stem = Conv2dStaticSamePadding(3, 16, 3, 2, image_size=image_size)
        self._bn0 = nn.BatchNorm2d(16, momentum=bn_mom, eps=bn_eps)
        size = math.ceil(image_size / 2)
        # (c_in, c_out, k, stride, expand): b0's first three stages, narrowed
        args = [(16, 8, 3, 1, 1), (8, 12, 3, 2, 6), (12, 12, 3, 1, 6), (12, 20, 5, 2, 6),
                (20, 20, 5, 1, 6)]
        self._blocks = nn.ModuleList()
        for c_in, c_out, k, s, e in args:
            self._blocks.append(MBConvBlock(c_in, c_out, k, s, e, 0.25, size))
            size = math.ceil(size / s)
        self._conv_head = Conv2dStaticSamePadding(20, 64, 1, image_size=size)
        self._bn1 = nn.BatchNorm2d(64, momentum=bn_mom, eps=bn_eps)
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(0.2)
        self._fc = nn.Linear(64, num_classes)
        self._swish = MemoryEfficientSwish()

    def forward(self, inputs):
        x = self._swish(self._bn0(self._conv_stem(inputs)))
        for block in self._blocks:
            x = block(x)
        x = self._swish(self._bn1(self._conv_head(x)))
        x = self._avg_pooling(x)
        x = x.flatten(start_dim=1)
        x = self._dropout(x)
        return self._fc(x)


# ------------------------------------------------------------------ kuangliu pytorch-cifar ShuffleNetV2


class KlShuffleBlock(nn.Module):  # pytorch-cifar models/shufflenetv2.py ShuffleBlock
    def __init__(self, groups: int = 2) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.size()
        g = self.groups
        return x.view(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class KlSplitBlock(nn.Module):  # shufflenetv2.py SplitBlock
    def __init__(self, ratio: float) -> None:
        super().__init__()
        self.ratio = ratio

    def forward(self, x):
        c = int(x.size(1) * self.ratio)
        return x[:, :c, :, :], x[:, c:, :, :]


class KlShuffleV2BasicBlock(nn.Module):  # shufflenetv2.py BasicBlock
    def __init__(self, in_channels: int, split_ratio: float = 0.5) -> None:
        super().__init__()
        self.split = KlSplitBlock(split_ratio)
        in_channels = int(in_channels * split_ratio)
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, in_channels, 3, 1, 1, groups=in_channels, bias=False)
        self.bn2 = nn.BatchNorm2d(in_channels)
        self.conv3 = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(in_channels)
        self.shuffle = KlShuffleBlock()

    def forward(self, x):
        x1, x2 = self.split(x)
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        out = torch.cat([x1, out], 1)
        return self.shuffle(out)


class KlShuffleV2DownBlock(nn.Module):  # shufflenetv2.py DownBlock
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        mid = out_channels // 2
        # left
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        # right
        self.conv3 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, 2, 1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)
        self.shuffle = KlShuffleBlock()

    def forward(self, x):
        out1 = self.bn1(self.conv1(x))
        out1 = F.relu(self.bn2(self.conv2(out1)))
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = self.bn4(self.conv4(out2))
        out2 = F.relu(self.bn5(self.conv5(out2)))
        out = torch.cat([out1, out2], 1)
        return self.shuffle(out)


class KlShuffleNetV2(nn.Module):  # pytorch-cifar ShuffleNetV2(net_size=0.5), widths narrowed
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        out_channels, num_blocks = (16, 32, 64, 128), (2, 2, 1)
        self.conv1 = nn.Conv2d(3, 12, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(12)
        self.in_channels = 12
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3], 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def _make_layer(self, out_channels, num_blocks):
        layers = [KlShuffleV2DownBlock(self.in_channels, out_channels)]
        for _ in range(num_blocks):
            layers.append(KlShuffleV2BasicBlock(out_channels))
            self.in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


# ------------------------------------------------------------------ pytorch-cifar100 ResNeXt

CARDINALITY = 4  # 32 there
DEPTH = 2  # 4 there
BASEWIDTH = 8  # 64 there


class Cifar100ResNextBottleNeckC(nn.Module):  # pytorch-cifar100 models/resnext.py
    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        C = CARDINALITY
        D = int(DEPTH * out_channels / BASEWIDTH)
        self.split_transforms = nn.Sequential(
            nn.Conv2d(in_channels, C * D, kernel_size=1, groups=C, bias=False),
            nn.BatchNorm2d(C * D),
            nn.ReLU(inplace=True),
            nn.Conv2d(C * D, C * D, kernel_size=3, stride=stride, groups=C, padding=1, bias=False),
            nn.BatchNorm2d(C * D),
            nn.ReLU(inplace=True),
            nn.Conv2d(C * D, out_channels * 4, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels * 4),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels * 4:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels * 4, stride=stride, kernel_size=1, bias=False),
                nn.BatchNorm2d(out_channels * 4),
            )

    def forward(self, x):
        return F.relu(self.split_transforms(x) + self.shortcut(x))


class Cifar100ResNext(nn.Module):  # pytorch-cifar100 ResNext (resnext50 layout), 3 stages, / 8
    def __init__(self, num_blocks=(1, 2, 1), class_names: int = 100) -> None:
        super().__init__()
        self.in_channels = 16
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
        )
        self.conv2 = self._make_layer(num_blocks[0], 8, 1)
        self.conv3 = self._make_layer(num_blocks[1], 16, 2)
        self.conv4 = self._make_layer(num_blocks[2], 32, 2)
        self.avg = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32 * 4, class_names)

    def _make_layer(self, num_block, out_channels, stride):
        strides = [stride] + [1] * (num_block - 1)
        layers = []
        for stride in strides:
            layers.append(Cifar100ResNextBottleNeckC(self.in_channels, out_channels, stride))
            self.in_channels = out_channels * 4
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.conv4(x)
        x = self.avg(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ------------------------------------------------------------------ Cadene pretrainedmodels FBResNet


class FbBottleneck(nn.Module):  # pretrainedmodels/models/fbresnet.py Bottleneck (biased convs)
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=True)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=True)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)


class FBResNet(nn.Module):  # pretrainedmodels FBResNet (fbresnet152), 3 stages, widths / 8
    def __init__(self, layers=(1, 2, 1), num_classes: int = 10) -> None:
        super().__init__()
        self.inplanes = 8
        self.input_space = None
        self.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=True)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(8, layers[0])
        self.layer2 = self._make_layer(16, layers[1], stride=2)
        self.layer3 = self._make_layer(32, layers[2], stride=2)
        self.avgpool = nn.AvgPool2d(7)
        self.last_linear = nn.Linear(32 * 4, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, kernel_size=1, stride=stride, bias=True),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [FbBottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        for _ in range(1, blocks):
            layers.append(FbBottleneck(self.inplanes, planes))
        return nn.Sequential(*layers)

    def features(self, input):
        x = self.conv1(input)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        return self.layer3(x)

    def logits(self, features):
        x = self.avgpool(features)
        x = x.view(x.size(0), -1)
        return self.last_linear(x)

    def forward(self, input):
        return self.logits(self.features(input))


ZOO = {  # name: (build, input shape)
    "tv_regnet_x": (TvRegNetX, (2, 3, 32, 32)),
    "timm_efficientnet_lite": (TimmEfficientNetLite, (2, 3, 32, 32)),
    "timm_mixnet": (TimmMixNet, (2, 3, 32, 32)),
    "timm_ghostnetv2": (TimmGhostNetV2, (2, 3, 32, 32)),
    "timm_lcnet": (TimmLCNet, (2, 3, 32, 32)),
    "timm_dpn68b": (TimmDPN, (2, 3, 32, 32)),
    "lukemelas_efficientnet": (LukemelasEfficientNet, (2, 3, 32, 32)),
    "kuangliu_shufflenetv2": (KlShuffleNetV2, (2, 3, 32, 32)),
    "cifar100_resnext": (Cifar100ResNext, (2, 3, 32, 32)),
    "cadene_fbresnet": (FBResNet, (2, 3, 112, 112)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
