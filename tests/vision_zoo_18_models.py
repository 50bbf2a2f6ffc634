"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_18.py (issue 16's held-out measure, session 18): torchvision's ResNet-18
(BasicBlocks, a `downsample` Sequential), timm's Xception41 (XceptionAligned: a `stem` of
ConvNormAct, `blocks` of XceptionModules whose `stack` holds pre-activated SeparableConvNormAct
units, a 1x1 `shortcut`, an `act` after the head conv), timm's MobileNetV4 (UniversalInverted
Residual blocks with optional `dw_start`/`dw_mid`, `pw_exp`/`pw_proj`, a `layer_scale`, a 1x1
`conv_head` after the pool with `norm_head`), timm's GERNet (byobnet `stem`, BasicBlocks with
`conv1_kxk`/`conv2_kxk`, BottleneckBlocks, a ConvNormAct 1x1 `shortcut`, a `final_conv`), timm's
RepViT (ConvNorm `c`/`bn`, a RepVggDw token mixer adding a 3x3 depthwise ConvNorm, a 1x1
depthwise conv and the input before a BN, an SE, a Residual channel mixer, a BN+Linear head),
timm's HRNet classifier (two-branch `stages` with `fuse_layers`, upsampled and strided exchange,
`incre_modules`, `downsamp_modules`, `final_layer`), osmr/imgclsmob's SqueezeNext (1x1, 1x1, 3x1,
1x3, 1x1 units with a residual and a 1x1 `identity_conv`), stigma0617's VoVNet (OSA modules
whose Sequential keys carry a slash, `OSA2_1_0/conv`), megvii-model's ShuffleNetV1 (grouped
1x1s around a channel shuffle, `branch_main_1`/`branch_main_2`, an avg-pool `branch_proj`
concatenated on strided blocks) and keras.applications' DenseNet121 ported by hand (flat Keras
layer names, zero padding before the stem conv and pool, Keras' BN epsilon).

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
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act=nn.ReLU, dilation=1) -> None:
        super().__init__()
        pad = ((stride - 1) + dilation * (k - 1)) // 2
        self.conv = nn.Conv2d(c_in, c_out, k, stride, pad, dilation, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = act(inplace=True) if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


# ------------------------------------------------------------------ torchvision ResNet-18


class TvBasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TvResNet18(nn.Module):  # torchvision.models.resnet.ResNet(BasicBlock, [2, 2, 2, 2]), narrowed
    def __init__(self, classes: int = 5, widths=(8, 16, 32, 64)) -> None:
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(widths[0], 2)
        self.layer2 = self._make_layer(widths[1], 2, stride=2)
        self.layer3 = self._make_layer(widths[2], 2, stride=2)
        self.layer4 = self._make_layer(widths[3], 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], classes)

    def _make_layer(self, planes, blocks, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [TvBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [TvBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ------------------------------------------------------------------ timm Xception41 (aligned)


class SeparableConvNormAct(nn.Module):  # timm xception_aligned.SeparableConv2d / ...NormAct
    def __init__(self, c_in, c_out, stride=1, first_act=True) -> None:
        super().__init__()
        self.act_dw = nn.ReLU(inplace=False) if first_act else nn.Identity()  # no_skip pre-act
        self.conv_dw = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
        self.bn_dw = nn.BatchNorm2d(c_in)
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn_pw = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn_dw(self.conv_dw(self.act_dw(x)))
        return self.bn_pw(self.conv_pw(x))


class XceptionModule(nn.Module):  # timm xception_aligned.XceptionModule (pre-activation stack)
    def __init__(self, c_in, outs, stride=1, start_with_relu=True) -> None:
        super().__init__()
        self.shortcut = None
        if c_in != outs[-1] or stride != 1:
            self.shortcut = TimmConvNormAct(c_in, outs[-1], 1, stride, act=None)
        self.stack = nn.Sequential()
        for i, c_out in enumerate(outs):
            self.stack.add_module(
                f"conv{i + 1}",
                SeparableConvNormAct(
                    c_in, c_out, stride if i == 2 else 1, first_act=start_with_relu or i > 0
                ),
            )
            c_in = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x
        x = self.stack(x)
        if self.shortcut is not None:
            skip = self.shortcut(skip)
        return x + skip


class TimmXception41(nn.Module):  # timm xception41: entry / middle / exit flows, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(TimmConvNormAct(3, 8, 3, 2), TimmConvNormAct(8, 16, 3, 1))
        self.blocks = nn.Sequential(
            XceptionModule(16, (16, 16, 16), 2, start_with_relu=False),
            XceptionModule(16, (24, 24, 24), 2),
            XceptionModule(24, (24, 24, 24), 1),
            XceptionModule(24, (24, 32, 32), 2),
            XceptionModule(32, (48, 48, 64), 1),
        )
        self.act = nn.ReLU(inplace=True)
        self.head = nn.Sequential(OrderedDict([("fc", nn.Linear(64, classes))]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.blocks(self.stem(x)))
        return self.head.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ timm MobileNetV4 (conv)


class LayerScale2d(nn.Module):  # timm _efficientnet_blocks LayerScale2d
    def __init__(self, dim, init_values=1e-5) -> None:
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(1, -1, 1, 1)


class UniversalInvertedResidual(nn.Module):  # timm _efficientnet_blocks UIR
    def __init__(self, c_in, c_out, dw_start, dw_mid, stride, exp, layer_scale=True) -> None:
        super().__init__()
        mid = c_in * exp
        self.has_skip = c_in == c_out and stride == 1
        if dw_start:
            s = stride if not dw_mid else 1
            self.dw_start = TimmConvNormAct(c_in, c_in, dw_start, s, groups=c_in, act=None)
        else:
            self.dw_start = nn.Identity()
        self.pw_exp = TimmConvNormAct(c_in, mid, 1)
        if dw_mid:
            self.dw_mid = TimmConvNormAct(mid, mid, dw_mid, stride, groups=mid)
        else:
            self.dw_mid = nn.Identity()
        self.se = nn.Identity()
        self.pw_proj = TimmConvNormAct(mid, c_out, 1, act=None)
        self.dw_end = nn.Identity()
        self.layer_scale = LayerScale2d(c_out) if layer_scale else nn.Identity()
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.pw_exp(self.dw_start(x))
        x = self.pw_proj(self.se(self.dw_mid(x)))
        x = self.layer_scale(self.dw_end(x))
        if self.has_skip:
            x = self.drop_path(x) + shortcut
        return x


class TimmMobileNetV4(nn.Module):  # timm mobilenetv3.MobileNetV3 built for mobilenetv4_conv_small
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU(inplace=True)
        self.blocks = nn.Sequential(
            nn.Sequential(TimmConvNormAct(8, 16, 3, 2), TimmConvNormAct(16, 8, 1)),  # er stage
            nn.Sequential(
                UniversalInvertedResidual(8, 16, 5, 5, 2, 3),
                UniversalInvertedResidual(16, 16, 0, 3, 1, 2),
                UniversalInvertedResidual(16, 16, 3, 0, 1, 2),
            ),
            nn.Sequential(
                UniversalInvertedResidual(16, 24, 3, 3, 2, 4),
                UniversalInvertedResidual(24, 24, 5, 0, 1, 2),
            ),
            nn.Sequential(TimmConvNormAct(24, 48, 1)),
        )
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(48, 64, 1, bias=False)
        self.norm_head = nn.BatchNorm2d(64)
        self.act2 = nn.ReLU(inplace=True)
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.norm_head(self.conv_head(self.global_pool(x))))
        return self.classifier(self.flatten(x))


# ------------------------------------------------------------------ timm GERNet (byobnet)


class ByobBasicBlock(nn.Module):  # timm byobnet BasicBlock, downsample='conv1x1'
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        self.shortcut = (
            TimmConvNormAct(c_in, c_out, 1, stride, act=None)
            if c_in != c_out or stride != 1
            else nn.Identity()
        )
        self.conv1_kxk = TimmConvNormAct(c_in, c_out, 3, stride)
        self.attn = nn.Identity()
        self.conv2_kxk = TimmConvNormAct(c_out, c_out, 3, act=None)
        self.attn_last = nn.Identity()
        self.drop_path = nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.attn_last(self.conv2_kxk(self.attn(self.conv1_kxk(x))))
        return self.act(self.drop_path(x) + self.shortcut(shortcut))


class ByobBottleBlock(nn.Module):  # timm byobnet BottleneckBlock (bottle_ratio 0.25 / 3)
    def __init__(self, c_in, c_out, stride, mid) -> None:
        super().__init__()
        self.shortcut = (
            TimmConvNormAct(c_in, c_out, 1, stride, act=None)
            if c_in != c_out or stride != 1
            else nn.Identity()
        )
        self.conv1_1x1 = TimmConvNormAct(c_in, mid, 1)
        self.conv2_kxk = TimmConvNormAct(mid, mid, 3, stride)
        self.conv2b_kxk = nn.Identity()
        self.attn = nn.Identity()
        self.conv3_1x1 = TimmConvNormAct(mid, c_out, 1, act=None)
        self.attn_last = nn.Identity()
        self.drop_path = nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv2b_kxk(self.conv2_kxk(self.conv1_1x1(x)))
        x = self.attn_last(self.conv3_1x1(self.attn(x)))
        return self.act(self.drop_path(x) + self.shortcut(shortcut))


class TimmGERNet(nn.Module):  # timm byobnet gernet_s, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(OrderedDict([("conv", TimmConvNormAct(3, 8, 3, 2))]))
        self.stages = nn.Sequential(
            nn.Sequential(ByobBasicBlock(8, 16, 2)),
            nn.Sequential(ByobBasicBlock(16, 24, 2), ByobBasicBlock(24, 24, 1)),
            nn.Sequential(ByobBottleBlock(24, 32, 2, 8), ByobBottleBlock(32, 32, 1, 8)),
            nn.Sequential(ByobBottleBlock(32, 48, 2, 48), ByobBottleBlock(48, 48, 1, 48)),
        )
        self.final_conv = TimmConvNormAct(48, 96, 1)
        self.head = nn.Sequential(OrderedDict([("fc", nn.Linear(96, classes))]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.final_conv(self.stages(self.stem(x)))
        return self.head.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ timm RepViT


class RvConvNorm(nn.Sequential):  # timm repvit.ConvNorm: `c`, `bn`
    def __init__(self, c_in, c_out, k=1, stride=1, pad=0, groups=1) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(c_in, c_out, k, stride, pad, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(c_out))


class RvSqueezeExcite(nn.Module):  # timm.layers.SqueezeExcite (rd_ratio 0.25, divisor 8)
    def __init__(self, c, rd) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(self.act(self.bn(self.fc1(x.mean((2, 3), keepdim=True)))))
        return x * s.sigmoid()


class RepVggDw(nn.Module):  # timm repvit.RepVggDw (legacy=False)
    def __init__(self, ed, k) -> None:
        super().__init__()
        self.conv = RvConvNorm(ed, ed, k, 1, (k - 1) // 2, groups=ed)
        self.conv1 = nn.Conv2d(ed, ed, 1, 1, 0, groups=ed)
        self.bn = nn.BatchNorm2d(ed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x) + self.conv1(x) + x)


class RepVitMlp(nn.Module):  # timm repvit.RepVitMlp
    def __init__(self, in_dim, hidden_dim) -> None:
        super().__init__()
        self.conv1 = RvConvNorm(in_dim, hidden_dim, 1)
        self.act = nn.GELU()
        self.conv2 = RvConvNorm(hidden_dim, in_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.act(self.conv1(x)))


class RepViTBlock(nn.Module):  # timm repvit.RepViTBlock
    def __init__(self, dim, mlp_ratio, k, use_se) -> None:
        super().__init__()
        self.token_mixer = RepVggDw(dim, k)
        self.se = RvSqueezeExcite(dim, max(8, dim // 4)) if use_se else nn.Identity()
        self.channel_mixer = RepVitMlp(dim, dim * mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.se(self.token_mixer(x))
        return x + self.channel_mixer(x)  # the Residual wrapper, drop path 0


class RepVitDownsample(nn.Module):  # timm repvit.RepVitDownsample
    def __init__(self, in_dim, mlp_ratio, out_dim, k) -> None:
        super().__init__()
        self.pre_block = RepViTBlock(in_dim, mlp_ratio, k, use_se=False)
        self.spatial_downsample = RvConvNorm(in_dim, in_dim, k, 2, (k - 1) // 2, groups=in_dim)
        self.channel_downsample = RvConvNorm(in_dim, out_dim, 1)
        self.ffn = RepVitMlp(out_dim, out_dim * mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.channel_downsample(self.spatial_downsample(self.pre_block(x)))
        return x + self.ffn(x)


class RepVitStem(nn.Module):  # timm repvit.RepVitStem
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.conv1 = RvConvNorm(c_in, c_out // 2, 3, 2, 1)
        self.act1 = nn.GELU()
        self.conv2 = RvConvNorm(c_out // 2, c_out, 3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.act1(self.conv1(x)))


class RepVitClassifier(nn.Module):  # timm repvit.RepVitClassifier (no distillation)
    def __init__(self, dim, classes) -> None:
        super().__init__()
        self.head_drop = nn.Dropout(0.0)
        self.head = nn.Sequential(
            OrderedDict([("bn", nn.BatchNorm1d(dim)), ("l", nn.Linear(dim, classes))])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.head_drop(x))


class TimmRepViT(nn.Module):  # timm repvit.RepVit, narrowed (embed 16/32, depth 2/1)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = RepVitStem(3, 16)
        stage0 = nn.Sequential()
        stage0.add_module(
            "blocks", nn.Sequential(RepViTBlock(16, 2, 3, True), RepViTBlock(16, 2, 3, False))
        )
        stage1 = nn.Sequential()
        stage1.add_module("downsample", RepVitDownsample(16, 2, 32, 3))
        stage1.add_module("blocks", nn.Sequential(RepViTBlock(32, 2, 3, True)))
        self.stages = nn.Sequential(stage0, stage1)
        self.head = RepVitClassifier(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(x.mean((2, 3), keepdim=False))


# ------------------------------------------------------------------ timm HRNet classifier


class HrBasicBlock(nn.Module):  # timm hrnet / torchvision-style BasicBlock inside the branches
    def __init__(self, c_in, c_out, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out, momentum=0.1)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out, momentum=0.1)
        self.act2 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act2(x + shortcut)


class HrBottleneck(nn.Module):  # timm hrnet uses timm.models.resnet.Bottleneck (expansion 4)
    def __init__(self, c_in, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.act2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.act3 = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        return self.act3(x + shortcut)


class HighResolutionModule(nn.Module):  # timm hrnet.HighResolutionModule, two branches
    def __init__(self, chs) -> None:
        super().__init__()
        self.branches = nn.ModuleList([nn.Sequential(HrBasicBlock(c, c)) for c in chs])
        self.fuse_layers = nn.ModuleList(
            [
                nn.ModuleList(
                    [
                        nn.Identity(),
                        nn.Sequential(
                            nn.Conv2d(chs[1], chs[0], 1, 1, 0, bias=False),
                            nn.BatchNorm2d(chs[0], momentum=0.1),
                            nn.Upsample(scale_factor=2, mode="nearest"),
                        ),
                    ]
                ),
                nn.ModuleList(
                    [
                        nn.Sequential(
                            nn.Sequential(
                                nn.Conv2d(chs[0], chs[1], 3, 2, 1, bias=False),
                                nn.BatchNorm2d(chs[1], momentum=0.1),
                            )
                        ),
                        nn.Identity(),
                    ]
                ),
            ]
        )
        self.fuse_act = nn.ReLU(False)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for fuse_outer in self.fuse_layers:
            y = None
            for j, f in enumerate(fuse_outer):
                y = f(xs[j]) if y is None else y + f(xs[j])
            out.append(self.fuse_act(y))
        return out


class TimmHRNet(nn.Module):  # timm hrnet.HighResolutionNet (classification head), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16, momentum=0.1)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(16, 16, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(16, momentum=0.1)
        self.act2 = nn.ReLU(inplace=True)
        down = nn.Sequential(nn.Conv2d(16, 16, 1, 1, bias=False), nn.BatchNorm2d(16))
        self.layer1 = nn.Sequential(HrBottleneck(16, 4, 1, down))
        self.transition1 = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(16, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
                ),
                nn.Sequential(
                    nn.Sequential(
                        nn.Conv2d(16, 16, 3, 2, 1, bias=False),
                        nn.BatchNorm2d(16),
                        nn.ReLU(inplace=True),
                    )
                ),
            ]
        )
        self.stage2 = nn.Sequential(HighResolutionModule((8, 16)))
        # classification head: incre_modules (Bottleneck to 4 * (8, 16)), downsamp, final_layer
        self.incre_modules = nn.ModuleList(
            [
                nn.Sequential(
                    HrBottleneck(
                        c,
                        h,
                        1,
                        nn.Sequential(nn.Conv2d(c, h * 4, 1, bias=False), nn.BatchNorm2d(h * 4)),
                    )
                )
                for c, h in ((8, 4), (16, 8))
            ]
        )
        self.downsamp_modules = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(16, 32, 3, 2, 1),
                    nn.BatchNorm2d(32, momentum=0.1),
                    nn.ReLU(inplace=True),
                )
            ]
        )
        self.final_layer = nn.Sequential(
            nn.Conv2d(32, 64, 1, 1, 0), nn.BatchNorm2d(64, momentum=0.1), nn.ReLU(inplace=True)
        )
        self.classifier = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        x = self.layer1(x)
        xl = [t(x) for t in self.transition1]
        yl = self.stage2(xl)
        y = self.incre_modules[0](yl[0])
        for i, down in enumerate(self.downsamp_modules):
            y = self.incre_modules[i + 1](yl[i + 1]) + down(y)
        y = self.final_layer(y)
        return self.classifier(y.mean((2, 3)))


# ------------------------------------------------------------------ osmr/imgclsmob SqueezeNext


class OsmrConvBlock(nn.Module):  # imgclsmob common.ConvBlock: `conv`, `bn`, `activ`
    def __init__(self, c_in, c_out, k, stride, padding, bias=True, activate=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=bias)
        self.bn = nn.BatchNorm2d(c_out)
        self.activate = activate
        if activate:
            self.activ = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return self.activ(x) if self.activate else x


class SqnxtUnit(nn.Module):  # imgclsmob squeezenext.SqnxtUnit
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        if stride == 2:
            reduction_den, self.resize_identity = 1, True
        elif c_in > c_out:
            reduction_den, self.resize_identity = 4, True
        else:
            reduction_den, self.resize_identity = 2, False
        self.conv1 = OsmrConvBlock(c_in, c_in // reduction_den, 1, stride, 0)
        self.conv2 = OsmrConvBlock(c_in // reduction_den, c_in // (2 * reduction_den), 1, 1, 0)
        self.conv3 = OsmrConvBlock(
            c_in // (2 * reduction_den), c_in // reduction_den, (1, 3), 1, (0, 1)
        )
        self.conv4 = OsmrConvBlock(c_in // reduction_den, c_in // reduction_den, (3, 1), 1, (1, 0))
        self.conv5 = OsmrConvBlock(c_in // reduction_den, c_out, 1, 1, 0)
        if self.resize_identity:
            self.identity_conv = OsmrConvBlock(c_in, c_out, 1, stride, 0)
        self.activ = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.identity_conv(x) if self.resize_identity else x
        x = self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))
        return self.activ(x + identity)


class OsmrSqueezeNext(nn.Module):  # imgclsmob squeezenext.SqueezeNext, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("init_block", _SqnxtInitBlock(3, 16))
        c = 16
        for i, (width, n) in enumerate(((16, 2), (32, 2), (48, 1))):
            stage = nn.Sequential()
            for j in range(n):
                stride = 2 if j == 0 and i != 0 else 1
                stage.add_module(f"unit{j + 1}", SqnxtUnit(c, width, stride))
                c = width
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("final_block", OsmrConvBlock(c, 64, 1, 1, 0))
        self.features.add_module("final_pool", nn.AvgPool2d(kernel_size=4, stride=1))
        self.output = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.output(x.view(x.size(0), -1))


class _SqnxtInitBlock(nn.Module):  # imgclsmob squeezenext.SqnxtInitBlock
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.conv = OsmrConvBlock(c_in, c_out, 7, 2, 1)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


# ------------------------------------------------------------------ stigma0617 VoVNet (official)


def _conv3x3(c_in, c_out, module_name, postfix, stride=1, groups=1):  # vovnet.py conv3x3
    return [
        (
            f"{module_name}_{postfix}/conv",
            nn.Conv2d(c_in, c_out, 3, stride, 1, groups=groups, bias=False),
        ),
        (f"{module_name}_{postfix}/norm", nn.BatchNorm2d(c_out)),
        (f"{module_name}_{postfix}/relu", nn.ReLU(inplace=True)),
    ]


def _conv1x1(c_in, c_out, module_name, postfix):  # vovnet.py conv1x1
    return [
        (f"{module_name}_{postfix}/conv", nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)),
        (f"{module_name}_{postfix}/norm", nn.BatchNorm2d(c_out)),
        (f"{module_name}_{postfix}/relu", nn.ReLU(inplace=True)),
    ]


class _OSA_module(nn.Module):  # vovnet.py _OSA_module
    def __init__(self, c_in, stage_ch, concat_ch, layer_per_block, module_name, identity=False):
        super().__init__()
        self.identity = identity
        self.layers = nn.ModuleList()
        in_channel = c_in
        for i in range(layer_per_block):
            self.layers.append(
                nn.Sequential(OrderedDict(_conv3x3(in_channel, stage_ch, module_name, i)))
            )
            in_channel = stage_ch
        in_channel = c_in + layer_per_block * stage_ch
        self.concat = nn.Sequential(
            OrderedDict(_conv1x1(in_channel, concat_ch, module_name, "concat"))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity_feat = x
        output = [x]
        for layer in self.layers:
            x = layer(x)
            output.append(x)
        xt = self.concat(torch.cat(output, dim=1))
        return xt + identity_feat if self.identity else xt


class _OSA_stage(nn.Sequential):  # vovnet.py _OSA_stage
    def __init__(self, c_in, stage_ch, concat_ch, block_per_stage, layer_per_block, stage_num):
        super().__init__()
        if stage_num != 2:
            self.add_module("Pooling", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
        module_name = f"OSA{stage_num}_1"
        self.add_module(
            module_name, _OSA_module(c_in, stage_ch, concat_ch, layer_per_block, module_name)
        )
        for i in range(block_per_stage - 1):
            module_name = f"OSA{stage_num}_{i + 2}"
            self.add_module(
                module_name,
                _OSA_module(
                    concat_ch, stage_ch, concat_ch, layer_per_block, module_name, identity=True
                ),
            )


class StigmaVoVNet(nn.Module):  # vovnet.py VoVNet, narrowed (3 layers per block)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        stem = _conv3x3(3, 8, "stem", "1", 2)
        stem += _conv3x3(8, 8, "stem", "2", 1)
        stem += _conv3x3(8, 16, "stem", "3", 2)
        self.stem = nn.Sequential(OrderedDict(stem))
        self.stage_names = []
        c = 16
        for i, (stage_ch, concat_ch, blocks) in enumerate(((8, 16, 1), (12, 24, 2), (16, 32, 1))):
            name = f"stage{i + 2}"
            self.stage_names.append(name)
            self.add_module(name, _OSA_stage(c, stage_ch, concat_ch, blocks, 3, i + 2))
            c = concat_ch
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        x = F.adaptive_avg_pool2d(x, (1, 1)).view(x.size(0), -1)
        return self.classifier(x)


# ------------------------------------------------------------------ megvii-model ShuffleNetV1


class ShuffleV1Block(nn.Module):  # megvii-model ShuffleNet-Series, ShuffleNetV1/blocks.py
    def __init__(self, inp, oup, group, first_group, mid_channels, ksize, stride) -> None:
        super().__init__()
        self.stride = stride
        self.group = group
        pad = ksize // 2
        outputs = oup - inp if stride == 2 else oup
        branch_main_1 = [
            nn.Conv2d(inp, mid_channels, 1, 1, 0, groups=1 if first_group else group, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                mid_channels, mid_channels, ksize, stride, pad, groups=mid_channels, bias=False
            ),
            nn.BatchNorm2d(mid_channels),
        ]
        branch_main_2 = [
            nn.Conv2d(mid_channels, outputs, 1, 1, 0, groups=group, bias=False),
            nn.BatchNorm2d(outputs),
        ]
        self.branch_main_1 = nn.Sequential(*branch_main_1)
        self.branch_main_2 = nn.Sequential(*branch_main_2)
        if stride == 2:
            self.branch_proj = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, old_x: torch.Tensor) -> torch.Tensor:
        x = old_x
        x_proj = old_x
        x = self.branch_main_1(x)
        if self.group > 1:
            x = self.channel_shuffle(x)
        x = self.branch_main_2(x)
        if self.stride == 1:
            return F.relu(x + x_proj)
        return torch.cat((self.branch_proj(x_proj), F.relu(x)), 1)

    def channel_shuffle(self, x: torch.Tensor) -> torch.Tensor:
        batchsize, num_channels, height, width = x.data.size()
        group_channels = num_channels // self.group
        x = x.reshape(batchsize, group_channels, self.group, height, width)
        x = x.permute(0, 2, 1, 3, 4)
        return x.reshape(batchsize, num_channels, height, width)


class MegviiShuffleNetV1(nn.Module):  # ShuffleNetV1/network.py, group 3, narrowed
    def __init__(self, classes: int = 5, group: int = 3) -> None:
        super().__init__()
        stage_repeats = [2, 1, 1]
        stage_out_channels = [-1, 12, 24, 48, 96]
        input_channel = stage_out_channels[1]
        self.first_conv = nn.Sequential(
            nn.Conv2d(3, input_channel, 3, 2, 1, bias=False),
            nn.BatchNorm2d(input_channel),
            nn.ReLU(inplace=True),
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        features = []
        for idxstage, numrepeat in enumerate(stage_repeats):
            output_channel = stage_out_channels[idxstage + 2]
            for i in range(numrepeat):
                stride = 2 if i == 0 else 1
                first_group = idxstage == 0 and i == 0
                features.append(
                    ShuffleV1Block(
                        input_channel,
                        output_channel,
                        group,
                        first_group,
                        output_channel // 4,
                        3,
                        stride,
                    )
                )
                input_channel = output_channel
        self.features = nn.Sequential(*features)
        self.globalpool = nn.AvgPool2d(2)
        self.classifier = nn.Sequential(nn.Linear(stage_out_channels[-1], classes, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.first_conv(x))
        x = self.globalpool(self.features(x))
        return self.classifier(x.contiguous().view(-1, x.size(1)))


# ------------------------------------------------------------------ keras DenseNet121, hand-ported


class KerasDenseNet(nn.Module):
    """keras.applications.DenseNet121 ported by hand: one flat attribute per Keras layer name
    (`conv2_block1_0_bn`, `conv2_block1_1_conv`, `conv2_block1_1_bn`, `conv2_block1_2_conv`,
    `pool2_bn`, `pool2_conv`, `bn`), Keras' BN epsilon 1.001e-5, a ZeroPadding2d before the 7x7
    stem conv and the stem pool, bias-free convs, a biased `predictions` Dense."""

    def __init__(self, classes: int = 5, blocks=(2, 2), growth: int = 4) -> None:
        super().__init__()
        eps = 1.001e-5
        self.blocks = blocks
        self.growth = growth
        self.conv1_conv = nn.Conv2d(3, 8, 7, 2, 0, bias=False)
        self.conv1_bn = nn.BatchNorm2d(8, eps=eps)
        c = 8
        for s, n in enumerate(blocks):
            stage = s + 2
            for b in range(1, n + 1):
                name = f"conv{stage}_block{b}"
                setattr(self, f"{name}_0_bn", nn.BatchNorm2d(c, eps=eps))
                setattr(self, f"{name}_1_conv", nn.Conv2d(c, 4 * growth, 1, bias=False))
                setattr(self, f"{name}_1_bn", nn.BatchNorm2d(4 * growth, eps=eps))
                setattr(self, f"{name}_2_conv", nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False))
                c += growth
            if s < len(blocks) - 1:
                setattr(self, f"pool{stage}_bn", nn.BatchNorm2d(c, eps=eps))
                setattr(self, f"pool{stage}_conv", nn.Conv2d(c, c // 2, 1, bias=False))
                c = c // 2
        self.bn = nn.BatchNorm2d(c, eps=eps)
        self.predictions = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (3, 3, 3, 3))  # ZeroPadding2D(3)
        x = F.relu(self.conv1_bn(self.conv1_conv(x)))
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)  # ZeroPadding2D(1), MaxPooling2D(3, 2)
        for s, n in enumerate(self.blocks):
            stage = s + 2
            for b in range(1, n + 1):
                name = f"conv{stage}_block{b}"
                y = F.relu(getattr(self, f"{name}_0_bn")(x))
                y = F.relu(getattr(self, f"{name}_1_bn")(getattr(self, f"{name}_1_conv")(y)))
                y = getattr(self, f"{name}_2_conv")(y)
                x = torch.cat([x, y], 1)
            if s < len(self.blocks) - 1:
                x = F.relu(getattr(self, f"pool{stage}_bn")(x))
                x = F.avg_pool2d(getattr(self, f"pool{stage}_conv")(x), 2, 2)
        x = F.relu(self.bn(x))
        return self.predictions(x.mean((2, 3)))


ZOO = {  # name: (build, input shape)
    "tv_resnet18": (TvResNet18, (2, 3, 64, 64)),
    "timm_xception41": (TimmXception41, (2, 3, 32, 32)),
    "timm_mobilenetv4": (TimmMobileNetV4, (2, 3, 32, 32)),
    "timm_gernet": (TimmGERNet, (2, 3, 32, 32)),
    "timm_repvit": (TimmRepViT, (2, 3, 32, 32)),
    "timm_hrnet": (TimmHRNet, (2, 3, 32, 32)),
    "osmr_squeezenext": (OsmrSqueezeNext, (2, 3, 64, 64)),
    "stigma_vovnet": (StigmaVoVNet, (2, 3, 32, 32)),
    "megvii_shufflenetv1": (MegviiShuffleNetV1, (2, 3, 64, 64)),
    "keras_densenet": (KerasDenseNet, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
