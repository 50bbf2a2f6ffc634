"""Ten small CNN classifiers written the way other widely used repositories write them, for
tests/test_vision_zoo_14.py (issue 16's held-out measure, session 14): torchvision's ConvNeXt
(`features.N` of `CNBlock`s whose `block` Sequential permutes to channels-last around a LayerNorm
and two Linears, a `layer_scale` of shape [C, 1, 1], LayerNorm2d stem/downsample/classifier norms
with eps 1e-6), timm's TResNet (a space-to-depth stem, `ConvNormAct` with leaky ReLU 1e-3 inside
the norm, anti-aliased stride-2 convs whose blur filter is a non-persistent buffer, an SE of at
least 64 reduced channels, average-pooled downsamples) and RepVGG as byobnet writes it
(`conv_kxk`/`conv_1x1`/`identity`, the stem itself a RepVGG block), kuangliu/pytorch-cifar's
PNASNet-B (`CellB`: separable convs with groups = in_planes, a max-pool branch, ReLU'd sums
concatenated and reduced by `conv2`), weiaicunzai/pytorch-cifar100's SqueezeNet (Fire modules
with `squeeze`/`expand_1x1`/`expand_3x3` Sequentials, parameter-free bypasses, a `conv10` head),
Cadene's pretrainedmodels BNInception (one flat attribute per Caffe layer, biased convs, ceil-mode
pools, an average pool as wide as the map), PingoLH's HarDNet (`base` ModuleList, `HarDBlock`s
whose layers read harmonic-linked concatenations, ReLU6), d2l's NiN (one numbered Sequential, no
norm, a conv head pooled to the classes), xiaolai-sqlai's MobileNetV3-Small (`bneck` Blocks with
the SE after the projection, hard-swish, a BatchNorm1d in the head) and osmr/imgclsmob's
DarkNet-53 (`features.stageN.unitM`, strided 3x3 units, DarkUnits, LeakyReLU 0.1).

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
from tests.vision_zoo_6_models import SEModule
from tests.vision_zoo_8_models import BatchNormAct2d

# ------------------------------------------------------------------------ torchvision ConvNeXt


class TvLayerNorm2d(nn.LayerNorm):  # torchvision.models.convnext.LayerNorm2d
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class TvPermute(nn.Module):  # torchvision.ops.misc.Permute
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class TvCNBlock(nn.Module):  # torchvision.models.convnext.CNBlock
    def __init__(self, dim: int, layer_scale: float = 1e-6) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            TvPermute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True),
            TvPermute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = nn.Identity()  # StochasticDepth: identity in eval mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(x)
        result = self.stochastic_depth(result)
        result += x
        return result


class TvConvNeXt(nn.Module):  # torchvision.models.convnext.ConvNeXt, narrowed (3 stages)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        norm = partial(TvLayerNorm2d, eps=1e-6)
        settings = [(8, 16, 1), (16, 32, 2), (32, None, 1)]  # CNBlockConfig(in, out, layers)
        layers: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(3, 8, kernel_size=4, stride=4, padding=0, bias=True), norm(8))
        ]  # Conv2dNormActivation(activation_layer=None)
        for c_in, c_out, n in settings:
            layers.append(nn.Sequential(*(TvCNBlock(c_in) for _ in range(n))))
            if c_out is not None:
                layers.append(nn.Sequential(norm(c_in), nn.Conv2d(c_in, c_out, 2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(norm(32), nn.Flatten(1), nn.Linear(32, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        return self.classifier(x)


# -------------------------------------------------------------------------------- timm TResNet


class TimmSpaceToDepth(nn.Module):  # timm.layers.space_to_depth.SpaceToDepth (block 4)
    def __init__(self, block_size: int = 4) -> None:
        super().__init__()
        self.bs = block_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size()
        x = x.view(n, c, h // self.bs, self.bs, w // self.bs, self.bs)
        x = x.permute(0, 3, 5, 1, 2, 4).contiguous()
        return x.view(n, c * self.bs * self.bs, h // self.bs, w // self.bs)


class TimmBlurPool2d(nn.Module):  # timm.layers.blur_pool.BlurPool2d (filt 3, stride 2, reflect)
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.stride = 2
        self.padding = [1, 1, 1, 1]
        coeffs = torch.tensor([0.25, 0.5, 0.25])  # binomial (0.5 + 0.5 z)**2
        blur = (coeffs[:, None] * coeffs[None, :])[None, None, :, :].repeat(channels, 1, 1, 1)
        self.register_buffer("filt", blur, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding, mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)


class TResConvNormAct(nn.Module):  # timm ConvNormAct with aa_layer: conv, bn (act inside), aa
    def __init__(self, c_in, c_out, k, stride=1, act=None, aa=False) -> None:
        super().__init__()
        use_aa = aa and stride == 2
        self.conv = nn.Conv2d(c_in, c_out, k, 1 if use_aa else stride, k // 2, bias=False)
        self.bn = BatchNormAct2d(c_out, act)
        self.aa = TimmBlurPool2d(c_out) if use_aa else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.aa(self.bn(self.conv(x)))


_tres_leaky = partial(nn.LeakyReLU, negative_slope=1e-3)


class TResBasicBlock(nn.Module):  # timm.models.tresnet.BasicBlock
    def __init__(self, c_in: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.downsample = downsample
        self.stride = stride
        self.conv1 = TResConvNormAct(c_in, planes, 3, stride, act=_tres_leaky, aa=True)
        self.conv2 = TResConvNormAct(planes, planes, 3, 1, act=None)
        self.act = nn.ReLU(inplace=True)
        self.se = SEModule(planes, max(planes // 4, 64))  # timm.layers.SEModule
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = self.downsample(x) if self.downsample is not None else x
        out = self.conv1(x)
        out = self.conv2(out)
        out = self.se(out)
        out = self.drop_path(out) + shortcut
        return self.act(out)


class TimmClassifierHead(nn.Module):  # timm.layers.classifier.ClassifierHead: global_pool, fc
    def __init__(self, c: int, classes: int) -> None:
        super().__init__()
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.drop = nn.Dropout(0.0)
        self.fc = nn.Linear(c, classes)
        self.flatten = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flatten(self.fc(self.drop(self.global_pool(x))))


class TimmTResNet(nn.Module):  # timm.models.tresnet.TResNet (tresnet_m layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        planes = 16
        down = nn.Sequential(
            nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False),
            TResConvNormAct(planes, 2 * planes, 1, 1, act=None),
        )
        self.body = nn.Sequential(
            OrderedDict(
                [
                    ("s2d", TimmSpaceToDepth()),
                    ("conv1", TResConvNormAct(3 * 16, planes, 3, 1, act=_tres_leaky)),
                    ("layer1", nn.Sequential(TResBasicBlock(planes, planes))),
                    (
                        "layer2",
                        nn.Sequential(
                            TResBasicBlock(planes, 2 * planes, 2, down),
                            TResBasicBlock(2 * planes, 2 * planes),
                        ),
                    ),
                ]
            )
        )
        self.head = TimmClassifierHead(2 * planes, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


# ------------------------------------------------------------------------ timm RepVGG (byobnet)


class ByobConvNormAct(nn.Module):  # timm ConvNormAct(apply_act=False): conv, bn
    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = BatchNormAct2d(c_out, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class ByobRepVggBlock(nn.Module):  # timm.models.byobnet.RepVggBlock (training form)
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        use_ident = c_in == c_out and stride == 1
        self.identity = BatchNormAct2d(c_out, None) if use_ident else None
        self.conv_kxk = ByobConvNormAct(c_in, c_out, 3, stride)
        self.conv_1x1 = ByobConvNormAct(c_in, c_out, 1, stride)
        self.attn = nn.Identity()
        self.drop_path = nn.Identity()
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.identity is None:
            x = self.conv_1x1(x) + self.conv_kxk(x)
        else:
            identity = self.identity(x)
            x = self.conv_1x1(x) + self.conv_kxk(x)
            x = self.drop_path(x)
            x = x + identity
        x = self.attn(x)
        return self.act(x)


class TimmByobRepVGG(nn.Module):  # timm.models.byobnet.ByobNet (repvgg_a0 layout), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = ByobRepVggBlock(3, 8, stride=2)  # stem_type='rep'
        stages = []
        c_in = 8
        for width, depth in ((8, 1), (16, 2), (32, 1)):
            blocks = [
                ByobRepVggBlock(c_in if i == 0 else width, width, 2 if i == 0 else 1)
                for i in range(depth)
            ]
            stages.append(nn.Sequential(*blocks))
            c_in = width
        self.stages = nn.Sequential(*stages)
        self.final_conv = nn.Identity()
        self.head = TimmClassifierHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.stages(x)
        x = self.final_conv(x)
        return self.head(x)


# -------------------------------------------------------------- kuangliu/pytorch-cifar PNASNet


class KlSepConv(nn.Module):  # pytorch-cifar models/pnasnet.py SepConv
    def __init__(self, c_in: int, c_out: int, k: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            c_in, c_out, k, stride, padding=(k - 1) // 2, bias=False, groups=c_in
        )
        self.bn1 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn1(self.conv1(x))


class KlCellB(nn.Module):  # pytorch-cifar models/pnasnet.py CellB
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.sep_conv1 = KlSepConv(c_in, c_out, 7, stride)
        self.sep_conv2 = KlSepConv(c_in, c_out, 3, stride)
        self.sep_conv3 = KlSepConv(c_in, c_out, 5, stride)
        if stride == 2:
            self.conv1 = nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(2 * c_out, c_out, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y1 = self.sep_conv1(x)
        y2 = self.sep_conv2(x)
        y3 = F.max_pool2d(x, kernel_size=3, stride=self.stride, padding=1)
        if self.stride == 2:
            y3 = self.bn1(self.conv1(y3))
        y4 = self.sep_conv3(x)
        b1 = F.relu(y1 + y2)
        b2 = F.relu(y3 + y4)
        y = torch.cat([b1, b2], 1)
        return F.relu(self.bn2(self.conv2(y)))


class KlPNASNet(nn.Module):  # pytorch-cifar PNASNetB, narrowed (one cell per stage, 8 planes)
    def __init__(self, classes: int = 5, num_planes: int = 8, num_cells: int = 1) -> None:
        super().__init__()
        self.in_planes = num_planes
        self.conv1 = nn.Conv2d(3, num_planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(num_planes)
        self.layer1 = self._make_layer(num_planes, num_cells)
        self.layer2 = self._downsample(num_planes * 2)
        self.layer3 = self._make_layer(num_planes * 2, num_cells)
        self.layer4 = self._downsample(num_planes * 4)
        self.layer5 = self._make_layer(num_planes * 4, num_cells)
        self.linear = nn.Linear(num_planes * 4, classes)

    def _make_layer(self, planes: int, num_cells: int) -> nn.Sequential:
        layers = []
        for _ in range(num_cells):
            layers.append(KlCellB(self.in_planes, planes, stride=1))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def _downsample(self, planes: int) -> nn.Module:
        layer = KlCellB(self.in_planes, planes, stride=2)
        self.in_planes = planes
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        out = self.layer5(out)
        out = F.avg_pool2d(out, 8)
        return self.linear(out.view(out.size(0), -1))


# -------------------------------------------------------- weiaicunzai/pytorch-cifar100 SqueezeNet


class Cifar100Fire(nn.Module):  # pytorch-cifar100 models/squeezenet.py Fire
    def __init__(self, c_in: int, c_out: int, squeeze: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(
            nn.Conv2d(c_in, squeeze, 1), nn.BatchNorm2d(squeeze), nn.ReLU(inplace=True)
        )
        self.expand_1x1 = nn.Sequential(
            nn.Conv2d(squeeze, c_out // 2, 1), nn.BatchNorm2d(c_out // 2), nn.ReLU(inplace=True)
        )
        self.expand_3x3 = nn.Sequential(
            nn.Conv2d(squeeze, c_out // 2, 3, padding=1),
            nn.BatchNorm2d(c_out // 2),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return torch.cat([self.expand_1x1(x), self.expand_3x3(x)], 1)


class Cifar100SqueezeNet(nn.Module):  # pytorch-cifar100 SqueezeNet (simple bypass), widths / 8
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 12, 3, padding=1),
            nn.BatchNorm2d(12),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        )
        self.fire2 = Cifar100Fire(12, 16, 2)
        self.fire3 = Cifar100Fire(16, 16, 2)
        self.fire4 = Cifar100Fire(16, 32, 4)
        self.fire5 = Cifar100Fire(32, 32, 4)
        self.fire6 = Cifar100Fire(32, 48, 6)
        self.fire7 = Cifar100Fire(48, 48, 6)
        self.fire8 = Cifar100Fire(48, 64, 8)
        self.fire9 = Cifar100Fire(64, 64, 8)
        self.conv10 = nn.Conv2d(64, classes, 1)
        self.avg = nn.AdaptiveAvgPool2d(1)
        self.maxpool = nn.MaxPool2d(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        f2 = self.fire2(x)
        f3 = self.fire3(f2) + f2
        f4 = self.fire4(f3)
        f4 = self.maxpool(f4)
        f5 = self.fire5(f4) + f4
        f6 = self.fire6(f5)
        f7 = self.fire7(f6) + f6
        f8 = self.fire8(f7)
        f8 = self.maxpool(f8)
        f9 = self.fire9(f8)
        c10 = self.conv10(f9)
        x = self.avg(c10)
        return x.view(x.size(0), -1)


# ------------------------------------------------------------ Cadene pretrainedmodels BNInception


class CadeneBNInception(nn.Module):  # pretrainedmodels/models/bninception.py, narrowed (3a, 3b)
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self._unit("conv1_7x7_s2", "conv1_relu_7x7", 3, 8, 7, 2, 3)
        self.pool1_3x3_s2 = nn.MaxPool2d((3, 3), stride=(2, 2), dilation=(1, 1), ceil_mode=True)
        self._unit("conv2_3x3_reduce", "conv2_relu_3x3_reduce", 8, 8, 1, 1, 0)
        self._unit("conv2_3x3", "conv2_relu_3x3", 8, 24, 3, 1, 1)
        self.pool2_3x3_s2 = nn.MaxPool2d((3, 3), stride=(2, 2), dilation=(1, 1), ceil_mode=True)
        self._inception("3a", 24, 8, 8, 8, 8, 12, 4)  # -> 32
        self._inception("3b", 32, 8, 8, 12, 8, 12, 8)  # -> 40
        self.last_linear = nn.Linear(40, classes)

    def _unit(self, name: str, relu: str, c_in: int, c_out: int, k: int, s: int, p: int) -> None:
        # conv (biased), its `_bn` (affine), its ReLU: one flat attribute per Caffe layer
        setattr(
            self, name, nn.Conv2d(c_in, c_out, kernel_size=(k, k), stride=(s, s), padding=(p, p))
        )
        setattr(self, name + "_bn", nn.BatchNorm2d(c_out, affine=True))
        setattr(self, relu, nn.ReLU(inplace=True))

    def _inception(self, n, c_in, c1, c3r, c3, cdr, cd, cp) -> None:
        i = f"inception_{n}"
        self._unit(f"{i}_1x1", f"{i}_relu_1x1", c_in, c1, 1, 1, 0)
        self._unit(f"{i}_3x3_reduce", f"{i}_relu_3x3_reduce", c_in, c3r, 1, 1, 0)
        self._unit(f"{i}_3x3", f"{i}_relu_3x3", c3r, c3, 3, 1, 1)
        self._unit(f"{i}_double_3x3_reduce", f"{i}_relu_double_3x3_reduce", c_in, cdr, 1, 1, 0)
        self._unit(f"{i}_double_3x3_1", f"{i}_relu_double_3x3_1", cdr, cd, 3, 1, 1)
        self._unit(f"{i}_double_3x3_2", f"{i}_relu_double_3x3_2", cd, cd, 3, 1, 1)
        setattr(
            self,
            f"{i}_pool",
            nn.AvgPool2d(3, stride=1, padding=1, ceil_mode=True, count_include_pad=True),
        )
        self._unit(f"{i}_pool_proj", f"{i}_relu_pool_proj", c_in, cp, 1, 1, 0)

    def _run(self, name: str, relu: str, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, relu)(getattr(self, name + "_bn")(getattr(self, name)(x)))

    def _mixed(self, n: str, x: torch.Tensor) -> torch.Tensor:
        i = f"inception_{n}"
        b1 = self._run(f"{i}_1x1", f"{i}_relu_1x1", x)
        b2 = self._run(f"{i}_3x3_reduce", f"{i}_relu_3x3_reduce", x)
        b2 = self._run(f"{i}_3x3", f"{i}_relu_3x3", b2)
        b3 = self._run(f"{i}_double_3x3_reduce", f"{i}_relu_double_3x3_reduce", x)
        b3 = self._run(f"{i}_double_3x3_1", f"{i}_relu_double_3x3_1", b3)
        b3 = self._run(f"{i}_double_3x3_2", f"{i}_relu_double_3x3_2", b3)
        b4 = getattr(self, f"{i}_pool")(x)
        b4 = self._run(f"{i}_pool_proj", f"{i}_relu_pool_proj", b4)
        return torch.cat([b1, b2, b3, b4], 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self._run("conv1_7x7_s2", "conv1_relu_7x7", x)
        x = self.pool1_3x3_s2(x)
        x = self._run("conv2_3x3_reduce", "conv2_relu_3x3_reduce", x)
        x = self._run("conv2_3x3", "conv2_relu_3x3", x)
        x = self.pool2_3x3_s2(x)
        return self._mixed("3b", self._mixed("3a", x))

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        width = features.shape[2]  # adaptiveAvgPoolWidth
        x = F.avg_pool2d(features, kernel_size=width)
        x = x.view(x.size(0), -1)
        return self.last_linear(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.features(x))


# ------------------------------------------------------------------------ PingoLH HarDNet


class HarDConvLayer(nn.Sequential):  # Pytorch-HarDNet hardnet.py ConvLayer: conv, norm, relu
    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__()
        self.add_module(
            "conv", nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False)
        )
        self.add_module("norm", nn.BatchNorm2d(c_out))
        self.add_module("relu", nn.ReLU6(True))


class HarDBlock(nn.Module):  # hardnet.py HarDBlock (keepBase=False)
    def get_link(self, layer: int, base_ch: int, growth_rate: int, grmul: float):
        if layer == 0:
            return base_ch, 0, []
        out_channels = growth_rate
        link = []
        for i in range(10):
            dv = 2**i
            if layer % dv == 0:
                link.append(layer - dv)
                if i > 0:
                    out_channels *= grmul
        out_channels = int(int(out_channels + 1) / 2) * 2
        in_channels = 0
        for i in link:
            ch, _, _ = self.get_link(i, base_ch, growth_rate, grmul)
            in_channels += ch
        return out_channels, in_channels, link

    def __init__(self, c_in: int, growth_rate: int, grmul: float, n_layers: int) -> None:
        super().__init__()
        self.keepBase = False
        self.links = []
        layers_ = []
        self.out_channels = 0
        for i in range(n_layers):
            outch, inch, link = self.get_link(i + 1, c_in, growth_rate, grmul)
            self.links.append(link)
            layers_.append(HarDConvLayer(inch, outch))
            if (i % 2 == 0) or (i == n_layers - 1):
                self.out_channels += outch
        self.layers = nn.ModuleList(layers_)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers_ = [x]
        for layer in range(len(self.layers)):
            tin = [layers_[i] for i in self.links[layer]]
            x = torch.cat(tin, 1) if len(tin) > 1 else tin[0]
            layers_.append(self.layers[layer](x))
        t = len(layers_)
        out_ = []
        for i in range(t):
            if (i == 0 and self.keepBase) or (i == t - 1) or (i % 2 == 1):
                out_.append(layers_[i])
        return torch.cat(out_, 1)


class HarDNet(nn.Module):  # hardnet.py HarDNet (HarDNet68 layout, max_pool), narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        first_ch, grmul = [8, 12], 1.7
        ch_list, gr, n_layers, down_samp = [24, 32], [4, 6], [4, 4], [1, 0]
        self.base = nn.ModuleList([])
        self.base.append(HarDConvLayer(3, first_ch[0], kernel=3, stride=2))
        self.base.append(HarDConvLayer(first_ch[0], first_ch[1], kernel=3))
        self.base.append(nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        ch = first_ch[1]
        for i in range(len(n_layers)):
            blk = HarDBlock(ch, gr[i], grmul, n_layers[i])
            ch = blk.out_channels
            self.base.append(blk)
            self.base.append(HarDConvLayer(ch, ch_list[i], kernel=1))
            ch = ch_list[i]
            if down_samp[i] == 1:
                self.base.append(nn.MaxPool2d(kernel_size=2, stride=2))
        self.base.append(
            nn.Sequential(
                nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.1), nn.Linear(ch, classes)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.base:
            x = layer(x)
        return x


# ------------------------------------------------------------------------------------- d2l NiN


def _nin_block(c_in: int, c_out: int, kernel_size: int, strides: int, padding: int):
    return nn.Sequential(  # d2l chapter_convolutional-modern/nin: nin_block
        nn.Conv2d(c_in, c_out, kernel_size, strides, padding),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, kernel_size=1),
        nn.ReLU(),
    )


def d2l_nin() -> nn.Module:  # d2l's NiN `net`, widths / 8, one input channel, 10 classes
    return nn.Sequential(
        _nin_block(1, 12, kernel_size=11, strides=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        _nin_block(12, 32, kernel_size=5, strides=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        _nin_block(32, 48, kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        _nin_block(48, 10, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


# ----------------------------------------------------------- xiaolai-sqlai/mobilenetv3 (Small)


class XlHswish(nn.Module):  # mobilenetv3.py hswish
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.relu6(x + 3) / 6


class XlHsigmoid(nn.Module):  # mobilenetv3.py hsigmoid
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3) / 6


class XlSeModule(nn.Module):  # mobilenetv3.py SeModule: pool, conv, bn, relu, conv, bn, hsigmoid
    def __init__(self, c: int, reduction: int = 4) -> None:
        super().__init__()
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(c, c // reduction, 1, 1, 0, bias=False),
            nn.BatchNorm2d(c // reduction),
            nn.ReLU(inplace=True),
            nn.Conv2d(c // reduction, c, 1, 1, 0, bias=False),
            nn.BatchNorm2d(c),
            XlHsigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.se(x)


class XlBlock(nn.Module):  # mobilenetv3.py Block (expand, depthwise, project, SE after bn3)
    def __init__(self, k, c_in, c_exp, c_out, nolinear, semodule, stride) -> None:
        super().__init__()
        self.stride = stride
        self.se = semodule
        self.conv1 = nn.Conv2d(c_in, c_exp, 1, 1, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(c_exp)
        self.nolinear1 = nolinear
        self.conv2 = nn.Conv2d(c_exp, c_exp, k, stride, k // 2, groups=c_exp, bias=False)
        self.bn2 = nn.BatchNorm2d(c_exp)
        self.nolinear2 = nolinear
        self.conv3 = nn.Conv2d(c_exp, c_out, 1, 1, 0, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride == 1 and c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.nolinear1(self.bn1(self.conv1(x)))
        out = self.nolinear2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        out = out + self.shortcut(x) if self.stride == 1 else out
        return out


class XlMobileNetV3Small(nn.Module):  # mobilenetv3.py MobileNetV3_Small, narrowed
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.hs1 = XlHswish()
        self.bneck = nn.Sequential(
            XlBlock(3, 8, 8, 8, nn.ReLU(inplace=True), XlSeModule(8), 2),
            XlBlock(3, 8, 24, 12, nn.ReLU(inplace=True), None, 2),
            XlBlock(3, 12, 28, 12, nn.ReLU(inplace=True), None, 1),
            XlBlock(5, 12, 32, 16, XlHswish(), XlSeModule(16), 2),
            XlBlock(5, 16, 48, 16, XlHswish(), XlSeModule(16), 1),
            XlBlock(5, 16, 40, 20, XlHswish(), XlSeModule(20), 1),
        )
        self.conv2 = nn.Conv2d(20, 48, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(48)
        self.hs2 = XlHswish()
        self.linear3 = nn.Linear(48, 64)
        self.bn3 = nn.BatchNorm1d(64)
        self.hs3 = XlHswish()
        self.linear4 = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.hs1(self.bn1(self.conv1(x)))
        out = self.bneck(out)
        out = self.hs2(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 7)
        out = out.view(out.size(0), -1)
        out = self.hs3(self.bn3(self.linear3(out)))
        return self.linear4(out)


# ------------------------------------------------------------------ osmr/imgclsmob DarkNet-53


class OsmrConvBlock(nn.Module):  # imgclsmob pytorch/pytorchcv/models/common.py ConvBlock
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, padding: int, alpha: float):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-5)
        self.activ = nn.LeakyReLU(negative_slope=alpha, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activ(self.bn(self.conv(x)))


class OsmrDarkUnit(nn.Module):  # imgclsmob darknet53.py DarkUnit
    def __init__(self, c_in: int, c_out: int, alpha: float) -> None:
        super().__init__()
        mid = c_out // 2
        self.conv1 = OsmrConvBlock(c_in, mid, 1, 1, 0, alpha)  # conv1x1_block
        self.conv2 = OsmrConvBlock(mid, c_out, 3, 1, 1, alpha)  # conv3x3_block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        x = self.conv1(x)
        x = self.conv2(x)
        return x + identity


class OsmrDarkNet53(nn.Module):  # imgclsmob darknet53.py DarkNet53, narrowed (3 stages)
    def __init__(self, classes: int = 5, alpha: float = 0.1) -> None:
        super().__init__()
        channels = [[16, 16], [32, 32, 32], [64, 64]]
        self.features = nn.Sequential()
        self.features.add_module("init_block", OsmrConvBlock(3, 8, 3, 1, 1, alpha))
        c_in = 8
        for i, per_stage in enumerate(channels):
            stage = nn.Sequential()
            for j, c_out in enumerate(per_stage):
                if j == 0:
                    unit = OsmrConvBlock(c_in, c_out, 3, 2, 1, alpha)
                else:
                    unit = OsmrDarkUnit(c_in, c_out, alpha)
                stage.add_module(f"unit{j + 1}", unit)
                c_in = c_out
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("final_pool", nn.AvgPool2d(kernel_size=7, stride=1))
        self.output = nn.Linear(c_in, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.output(x)


ZOO = {  # name: (build, input shape)
    "tv_convnext": (TvConvNeXt, (2, 3, 32, 32)),
    "timm_tresnet": (TimmTResNet, (2, 3, 64, 64)),
    "timm_byob_repvgg": (TimmByobRepVGG, (2, 3, 32, 32)),
    "kuangliu_pnasnet": (KlPNASNet, (2, 3, 32, 32)),
    "cifar100_squeezenet": (Cifar100SqueezeNet, (2, 3, 32, 32)),
    "cadene_bninception": (CadeneBNInception, (2, 3, 64, 64)),
    "pingolh_hardnet": (HarDNet, (2, 3, 32, 32)),
    "d2l_nin": (d2l_nin, (2, 1, 128, 128)),
    "xiaolai_mobilenetv3": (XlMobileNetV3Small, (2, 3, 112, 112)),
    "osmr_darknet53": (OsmrDarkNet53, (2, 3, 56, 56)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
