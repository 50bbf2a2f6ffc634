"""Groups read from a conv's siblings (layers/conv_groups.py rules 4 and 5), as repositories other
than zoo 17's RegNetZ and ml-mobileone write them. Every conv keeps the reference's groups; the
file is exact or says where it is not (never silently wrong).

Rule 4, after a sibling unit (a grouped conv in its own ConvNormAct, reading what the unit before
it gives):
- `timm_regnety_bottleneck`: timm regnet.py's Bottleneck (`conv1`, `conv2` grouped, `se`,
  `conv3` ConvNormAct units beside a `downsample`), the SE between two convs;
- `torchvision_regnet_f`: torchvision's ResBottleneckBlock (`proj`, `f.a`, `f.b`, `f.se`, `f.c`,
  Conv2dNormActivation numbered `0`, `1`), letters ordering the steps;
- `numbered_unit_chain`: a plain numbered Sequential of ConvBNReLU units whose middle one is
  grouped (another nesting: no block, no residual);
- `inception_branches` (must stay ungrouped): torchvision Inception-style branches side by side,
  one reading the block input, narrower than and dividing what a sibling gives.

Rule 5, a 1x1 branch beside a depthwise branch over one input:
- `repvit_repvggdw`: RepViT's RepVGGDW (`conv` Conv2d_BN depthwise 3x3, a bare depthwise 1x1
  `conv1`, a `bn` after the sum and the identity);
- `timm_mobileone_dw`: timm byobnet/fastvit's MobileOneBlock with group_size 1 (`conv_kxk` list,
  `conv_scale`, an `identity` BN);
- `asym_dw_branches`: an ACNet-style depthwise block of bare biased convs (square 3x3, 1x3, 3x1
  and a 1x1, summed) inside a numbered stage (another family: no norms in the branches).
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import assert_convs_keep_groups, randomised_verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class ConvNormAct(nn.Module):  # timm.layers.ConvNormAct
    def __init__(self, c_in, c_out, k=1, stride=1, groups=1, act=True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class SE(nn.Module):  # timm SEModule / torchvision SqueezeExcitation
    def __init__(self, c, rd) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, rd, 1)
        self.fc2 = nn.Conv2d(rd, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class RegNetYBottleneck(nn.Module):  # timm regnet.py Bottleneck
    def __init__(self, c_in, c_out, stride, group_width=4, projected=True) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(c_in, c_out)
        self.conv2 = ConvNormAct(c_out, c_out, 3, stride, c_out // group_width)
        self.se = SE(c_out, max(1, c_in // 4))
        self.conv3 = ConvNormAct(c_out, c_out, act=False)
        self.downsample = None  # (byobnet's `downsample=None`: no shortcut where shapes change)
        if projected and (stride != 1 or c_in != c_out):
            self.downsample = nn.Module()
            self.downsample.conv = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
            self.downsample.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.conv3(self.se(self.conv2(self.conv1(x))))
        if self.downsample is not None:
            shortcut = self.downsample.bn(self.downsample.conv(shortcut))
        elif shortcut.shape != x.shape:
            return F.relu(x)
        return F.relu(x + shortcut)


class TimmRegNetY(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = ConvNormAct(3, 4, 3, 2)
        self.s1 = nn.Module()  # (the first block's group width is what enters it)
        self.s1.b1 = RegNetYBottleneck(4, 16, 1, projected=False)
        self.s1.b2 = RegNetYBottleneck(16, 24, 1, projected=False)
        self.head = nn.Module()
        self.head.fc = nn.Linear(24, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s1.b2(self.s1.b1(self.stem(x)))
        return self.head.fc(x.mean((2, 3)))


def conv_norm_act(c_in, c_out, k=1, stride=1, groups=1, act=True) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False)]
    layers.append(nn.BatchNorm2d(c_out))
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)  # torchvision Conv2dNormActivation


class TvBottleneckTransform(nn.Sequential):  # torchvision regnet BottleneckTransform
    def __init__(self, c_in, c_out, stride, group_width=4) -> None:
        layers = OrderedDict()
        layers["a"] = conv_norm_act(c_in, c_out)
        layers["b"] = conv_norm_act(c_out, c_out, 3, stride, c_out // group_width)
        layers["se"] = SE(c_out, max(1, c_in // 4))
        layers["c"] = conv_norm_act(c_out, c_out, act=False)
        super().__init__(layers)


class TvResBottleneckBlock(nn.Module):
    def __init__(self, c_in, c_out, stride) -> None:
        super().__init__()
        self.proj = None
        if c_in != c_out or stride != 1:
            self.proj = conv_norm_act(c_in, c_out, 1, stride, act=False)
        self.f = TvBottleneckTransform(c_in, c_out, stride)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class TorchvisionRegNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = conv_norm_act(3, 4, 3, 2)
        self.trunk_output = nn.Sequential(
            OrderedDict([("block1", nn.Sequential(OrderedDict([
                ("block1-0", TvResBottleneckBlock(4, 16, 1)),
                ("block1-1", TvResBottleneckBlock(16, 16, 1)),
            ])))])
        )
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.trunk_output(self.stem(x)).mean((2, 3)))


class NumberedUnitChain(nn.Module):  # a plain chain of ConvBNReLU units, the middle one grouped
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_norm_act(3, 8, 3, 2),
            conv_norm_act(8, 24, 1),
            conv_norm_act(24, 24, 3, 1, groups=3),
            conv_norm_act(24, 16, 1),
        )
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


class BasicConv2d(nn.Module):  # torchvision inception BasicConv2d
    def __init__(self, c_in, c_out, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class InceptionBranches(nn.Module):  # torchvision InceptionA, narrowed: ungrouped throughout
    def __init__(self, c_in) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(c_in, 8, kernel_size=1)
        self.branch3x3dbl_1 = BasicConv2d(c_in, 8, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(8, 12, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(12, 24, kernel_size=3, padding=1)
        self.branch5x5_1 = BasicConv2d(c_in, 6, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(6, 8, kernel_size=5, padding=2)
        self.branch_pool = BasicConv2d(c_in, 4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 12, kernel_size=3, stride=2)
        self.Mixed_5b = InceptionBranches(12)
        self.fc = nn.Linear(44, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.Mixed_5b(self.Conv2d_1a_3x3(x)).mean((2, 3)))


class Conv2dBN(nn.Sequential):  # RepViT Conv2d_BN
    def __init__(self, c_in, c_out, k=1, stride=1, pad=0, groups=1) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(c_in, c_out, k, stride, pad, groups=groups, bias=False))
        self.add_module("bn", nn.BatchNorm2d(c_out))


class RepVGGDW(nn.Module):  # RepViT repvit.py RepVGGDW (training form)
    def __init__(self, ed) -> None:
        super().__init__()
        self.conv = Conv2dBN(ed, ed, 3, 1, 1, groups=ed)
        self.conv1 = nn.Conv2d(ed, ed, 1, 1, 0, groups=ed)
        self.dim = ed
        self.bn = nn.BatchNorm2d(ed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn((self.conv(x) + self.conv1(x)) + x)


class RepViTBlock(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.token_mixer = RepVGGDW(c)
        self.channel_mixer = nn.Sequential(Conv2dBN(c, 2 * c), nn.GELU(), Conv2dBN(2 * c, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.token_mixer(x)
        return x + self.channel_mixer(x)


class RepViTSmall(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.patch_embed = nn.Sequential(Conv2dBN(3, 16, 3, 2, 1), nn.GELU())
        self.features = nn.ModuleList([RepViTBlock(16), RepViTBlock(16)])
        self.head = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for block in self.features:
            x = block(x)
        return self.head(x.mean((2, 3)))


class TimmMobileOneBlock(nn.Module):  # timm byobnet MobileOneBlock (group_size=1: depthwise)
    def __init__(self, c, k=3, stride=1, branches=2, c_out=None, depthwise=True) -> None:
        super().__init__()
        c_out = c if c_out is None else c_out
        groups = c if depthwise else 1
        self.identity = nn.BatchNorm2d(c) if stride == 1 and c_out == c else None
        self.conv_kxk = nn.ModuleList(
            [ConvNormAct(c, c_out, k, stride, groups=groups, act=False) for _ in range(branches)]
        )
        self.conv_scale = ConvNormAct(c, c_out, 1, stride, groups=groups, act=False)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_scale(x)
        if self.identity is not None:
            out = out + self.identity(x)
        for conv in self.conv_kxk:
            out = out + conv(x)
        return self.act(out)


class TimmMobileOneDW(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = ConvNormAct(3, 12, 3, 2)
        self.stages = nn.Sequential(
            TimmMobileOneBlock(12, stride=2), TimmMobileOneBlock(12), ConvNormAct(12, 20)
        )
        self.head = nn.Linear(20, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)).mean((2, 3)))


class AsymDWBlock(nn.Module):  # ACNet-style depthwise branches, bare biased convs, summed
    def __init__(self, c) -> None:
        super().__init__()
        self.square = nn.Conv2d(c, c, 3, 1, 1, groups=c)
        self.hor = nn.Conv2d(c, c, (1, 3), 1, (0, 1), groups=c)
        self.ver = nn.Conv2d(c, c, (3, 1), 1, (1, 0), groups=c)
        self.point = nn.Conv2d(c, c, 1, groups=c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.square(x) + self.hor(x) + self.ver(x) + self.point(x))


class AsymDWNet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), AsymDWBlock(8), nn.Conv2d(8, 16, 1), nn.ReLU()
        )
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.layers(x).mean((2, 3)))


LAYOUTS = {
    "timm_regnety_bottleneck": TimmRegNetY,
    "torchvision_regnet_f": TorchvisionRegNet,
    "numbered_unit_chain": NumberedUnitChain,
    "inception_branches": InceptionNet,
    "repvit_repvggdw": RepViTSmall,
    "timm_mobileone_dw": TimmMobileOneDW,
    "asym_dw_branches": AsymDWNet,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_convs_keep_the_groups_their_siblings_prove(name, tmp_path, capsys):
    reference, model, _, found, diff = randomised_verdict(
        LAYOUTS[name], (2, 3, 16, 16), tmp_path, capsys
    )
    assert assert_convs_keep_groups(reference, model) > 0
    assert found != "WRONG", f"{name}: silently wrong by {diff}"
