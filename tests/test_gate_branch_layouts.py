"""A gate branch beside a main path (patterns/blocks/_gate_branch.py): a member that reads what
enters the module and gives what the main path gives, multiplied into it through a sigmoid, on the
input average-pooled by 2 and resized back where its kernels are GhostNetV2's decoupled 1xk / kx1
depthwise convs. Layouts that share that reading and no names (zoo 16's timm GhostNetV2 is the
row that motivated it):

- huawei-noah's GhostNetV2 (ghostnetv2_pytorch/model/ghostnetv2_torch.py) at odd widths, where
  the Ghost module's halves are one wider than the gate and are sliced before the product;
- a DFC attention plugged beside a plain conv unit, as YOLO-style necks reuse GhostNetV2's idea
  (`cv` conv-norm-act class, `short_conv` beside it): no Ghost module at all;
- a gated convolution as the DeepFill v2 PyTorch ports write it (`conv2d`, `mask_conv2d`,
  Yu et al. 2019): a full-resolution gate known only by its name, so the class says guessed.

Measured before the mechanism (main at 9f2a8a4), all flagged with a class missing (the widths
leave the branches no order); after: huawei-noah's GhostNetV2 exact; the DFC neck flagged only
by its conv units' SiLU (a guessed activation; exact once hinted); the gated conv flagged (the
class guessed, its gate read from a name; exact once the generator's tanh output is hinted).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import generate_from_state_dict, layout_reference, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:  # ghostnetv2_torch.py's
    return F.relu6(x + 3.0) / 6.0


class SqueezeExcite(nn.Module):  # ghostnetv2_torch.py SqueezeExcite (hard-sigmoid gate)
    def __init__(self, c: int, rd: int) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(rd, c, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * hard_sigmoid(s)


class GhostModuleV2(nn.Module):  # ghostnetv2_torch.py GhostModuleV2 (mode 'original' / 'attn')
    def __init__(self, inp: int, oup: int, relu: bool = True, mode: str = "original") -> None:
        super().__init__()
        self.mode, self.oup = mode, oup
        init_channels = math.ceil(oup / 2)
        self.primary_conv = nn.Sequential(
            nn.Conv2d(inp, init_channels, 1, 1, 0, bias=False),
            nn.BatchNorm2d(init_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(init_channels, init_channels, 3, 1, 1, groups=init_channels, bias=False),
            nn.BatchNorm2d(init_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential(),
        )
        if mode == "attn":
            self.short_conv = nn.Sequential(
                nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
                nn.Conv2d(oup, oup, (1, 5), 1, (0, 2), groups=oup, bias=False),
                nn.BatchNorm2d(oup),
                nn.Conv2d(oup, oup, (5, 1), 1, (2, 0), groups=oup, bias=False),
                nn.BatchNorm2d(oup),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        out = torch.cat([x1, self.cheap_operation(x1)], dim=1)[:, : self.oup]
        if self.mode == "original":
            return out
        res = self.short_conv(F.avg_pool2d(x, kernel_size=2, stride=2))
        return out * F.interpolate(torch.sigmoid(res), size=out.shape[-2:], mode="nearest")


class GhostBottleneckV2(nn.Module):  # ghostnetv2_torch.py GhostBottleneckV2
    def __init__(self, c_in, mid, c_out, k=3, stride=1, se_ratio=0.0, layer_id=0) -> None:
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModuleV2(c_in, mid, True, "original" if layer_id <= 1 else "attn")
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
            self.bn_dw = nn.BatchNorm2d(mid)
        self.se = SqueezeExcite(mid, max(4, int(mid * se_ratio))) if se_ratio else None
        self.ghost2 = GhostModuleV2(mid, c_out, False)
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
        out = self.ghost1(x)
        if self.stride > 1:
            out = self.bn_dw(self.conv_dw(out))
        if self.se is not None:
            out = self.se(out)
        return self.ghost2(out) + self.shortcut(x)


class HuaweiGhostNetV2(nn.Module):  # ghostnetv2_torch.py GhostNetV2, cfgs narrowed, odd widths
    def __init__(self, num_classes: int = 6) -> None:
        super().__init__()
        cfgs = [  # k, mid, c, se, s per block
            [[3, 7, 7, 0, 1]],
            [[3, 21, 11, 0, 2]],
            [[3, 33, 11, 0, 1]],
            [[5, 33, 19, 0.25, 2]],
        ]
        self.conv_stem = nn.Conv2d(3, 7, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(7)
        self.act1 = nn.ReLU(inplace=True)
        stages, c_in, layer_id = [], 7, 0
        for cfg in cfgs:
            layers = []
            for k, mid, c, se, s in cfg:
                layers.append(GhostBottleneckV2(c_in, mid, c, k, s, se, layer_id))
                c_in, layer_id = c, layer_id + 1
            stages.append(nn.Sequential(*layers))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(c_in, 48, 1, 1, 0, bias=True)
        self.act2 = nn.ReLU(inplace=True)
        self.classifier = nn.Linear(48, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act1(self.bn1(self.conv_stem(x))))
        x = self.act2(self.conv_head(F.adaptive_avg_pool2d(x, 1)))
        return self.classifier(x.flatten(1))


class ConvBnSiLU(nn.Module):  # a YOLO-style `Conv`: conv, bn, act members
    def __init__(self, c_in: int, c_out: int, k: int = 1, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DFCConv(nn.Module):  # GhostNetV2's DFC attention beside a plain conv unit
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.cv = ConvBnSiLU(c_in, c_out, 3)
        self.short_conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.Conv2d(c_out, c_out, (1, 5), 1, (0, 2), groups=c_out, bias=False),
            nn.BatchNorm2d(c_out),
            nn.Conv2d(c_out, c_out, (5, 1), 1, (2, 0), groups=c_out, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.cv(x)
        res = self.short_conv(F.avg_pool2d(x, kernel_size=2, stride=2))
        return out * F.interpolate(torch.sigmoid(res), size=out.shape[-2:], mode="nearest")


class DFCNeck(nn.Module):  # a small detector-style neck of such units
    def __init__(self) -> None:
        super().__init__()
        self.stem = ConvBnSiLU(3, 8, 3, 2)
        self.dfc1 = DFCConv(8, 16)
        self.dfc2 = DFCConv(16, 16)
        self.head = nn.Conv2d(16, 5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dfc2(self.dfc1(self.stem(x))))


class GatedConv2dWithActivation(nn.Module):  # DeepFill v2 PyTorch port (batch_norm=False)
    def __init__(self, c_in: int, c_out: int, k: int = 3) -> None:
        super().__init__()
        self.conv2d = nn.Conv2d(c_in, c_out, k, 1, k // 2)
        self.mask_conv2d = nn.Conv2d(c_in, c_out, k, 1, k // 2)
        self.activation = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.conv2d(x)) * torch.sigmoid(self.mask_conv2d(x))


class GatedCoarse(nn.Module):  # an inpainting generator's first layers, narrowed
    def __init__(self) -> None:
        super().__init__()
        # DeepFill v2 reads the image, a ones plane and the mask: 5 channels
        self.coarse = nn.Sequential(
            GatedConv2dWithActivation(5, 8, 5), GatedConv2dWithActivation(8, 8, 3)
        )
        self.to_rgb = nn.Conv2d(8, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.to_rgb(self.coarse(x)))


LAYOUTS = {  # name: (build, input shape, verdict from the keys)
    "huawei_ghostnetv2_odd": (HuaweiGhostNetV2, (2, 3, 32, 32), "exact"),
    "dfc_conv_neck": (DFCNeck, (2, 3, 16, 16), "flagged"),  # its conv units' SiLU: a choice
    "deepfill_gated_conv": (GatedCoarse, (2, 5, 16, 16), "flagged"),
}
# What settles the flagged ones (the gate itself is right): the activations no key records.
HINTS = {
    "dfc_conv_neck": '["Cv.bn"]\nactivation = "silu"\n["Stem.bn"]\nactivation = "silu"\n',
    "deepfill_gated_conv": '["RecoveredModel"]\noutput_activation = "tanh"\n',
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_gate_branch_layouts(name, tmp_path, capsys):
    make, shape, expected = LAYOUTS[name]
    reference = layout_reference(make)
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    assert verdict(reference, model, source, x) == expected
    assert "NotImplementedError" not in source
    if name in HINTS:  # exact once the unrecorded activations are told
        (tmp_path / "hints.toml").write_text(HINTS[name])
        hinted = ("--force", "--hints", str(tmp_path / "hints.toml"))
        model, source = generate_from_state_dict(reference, tmp_path, capsys, *hinted)
        assert verdict(reference, model, source, x) in ("exact", "flagged")
        assert (model(x) - reference(x)).abs().max() < 1e-4


def test_gate_pooling_is_a_choice_read_from_the_decoupled_kernels(tmp_path, capsys):
    """The DFC branch's pooling cites GhostNetV2; the gated conv's gate keeps the resolution."""
    (tmp_path / "dfc").mkdir()
    (tmp_path / "g").mkdir()
    _, source = generate_from_state_dict(layout_reference(DFCNeck), tmp_path / "dfc", capsys)
    assert "avg_pool2d" in source and "GhostNetV2's DFC attention" in source
    _, source = generate_from_state_dict(layout_reference(GatedCoarse), tmp_path / "g", capsys)
    assert "avg_pool2d" not in source and "torch.sigmoid(self.mask_conv2d(x))" in source


# A name alone reads no gate where the named member is a block of its own: an attention block
# is residual (it keeps what it reads) and runs after the other member, a chain whose widths
# leave no order. Three layouts with no names in common with the gated conv's. Measured on the
# merged tree of session 17 (9ab0372): vqgan_level and units read as a sigmoid gate (flagged, max
# difference 4.6 and inf), sagan_stage not; after: none read as a gate, all three still flagged
# (the attention blocks' own forwards), 0 wrong.


class VQGANResnetBlock(nn.Module):  # taming-transformers' ResnetBlock (no shortcut)
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(4, c, eps=1e-6)
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.norm2 = nn.GroupNorm(4, c, eps=1e-6)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class VQGANAttnBlock(nn.Module):  # taming-transformers' AttnBlock
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(4, c, eps=1e-6)
        self.q, self.k, self.v = (nn.Conv2d(c, c, 1) for _ in range(3))
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        b, c, hh, ww = h.shape
        q = self.q(h).reshape(b, c, hh * ww).permute(0, 2, 1)
        k = self.k(h).reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * c**-0.5, dim=2)
        v = self.v(h).reshape(b, c, hh * ww)
        h = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class VQGANLevel(nn.Module):  # an encoder's last level: `block` and `attn` zipped, no downsample
    def __init__(self, c: int) -> None:
        super().__init__()
        self.block = nn.ModuleList([VQGANResnetBlock(c)])
        self.attn = nn.ModuleList([VQGANAttnBlock(c)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, attn in zip(self.block, self.attn):
            x = attn(block(x))
        return x


class VQGANEncoderTail(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, 8, 3, 1, 1)
        self.level = VQGANLevel(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.level(self.conv_in(x))


class SelfAttn(nn.Module):  # heykeetae/Self-Attention-GAN's Self_Attn (SAGAN), a block
    def __init__(self, c: int) -> None:
        super().__init__()
        self.query_conv = nn.Conv2d(c, c // 8, 1)
        self.key_conv = nn.Conv2d(c, c // 8, 1)
        self.value_conv = nn.Conv2d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query_conv(x).view(b, -1, h * w).permute(0, 2, 1)
        k = self.key_conv(x).view(b, -1, h * w)
        attention = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.value_conv(x).view(b, -1, h * w)
        out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, h, w)
        return self.gamma * out + x


class SAGANStage(nn.Module):  # a generator stage: upsampled conv unit, then self-attention
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1)
        self.layer = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.attn = nn.Sequential(SelfAttn(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(self.layer(self.stem(x)))


class CBAMResidualUnit(nn.Module):  # a unit whose `attention` block runs on its conv's output
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = VQGANResnetBlock(c)
        self.attention = SelfAttn(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(self.conv(x))


class AttentionUnits(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1)
        self.units = nn.Sequential(CBAMResidualUnit(16), CBAMResidualUnit(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.units(self.stem(x))


CHAINS = {"vqgan_level": VQGANEncoderTail, "sagan_stage": SAGANStage, "units": AttentionUnits}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_a_named_attention_block_is_no_gate(name, tmp_path, capsys):
    reference = layout_reference(CHAINS[name])
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    assert "torch.sigmoid(self.attn" not in source and "sigmoid(self.attention" not in source
    assert verdict(reference, model, source, x) != "wrong"
