"""Generative nets as other repositories write them, third zoo (issue 16, session 10): test-only
reference models for tests/test_generative_zoo_10.py. Reference code, not generated code: the
generated file must compute what these compute, or say where it cannot.

Each is a layout the earlier zoos (tests/generative_zoo_8_models.py, _9_models.py) hold at
another size or scale, chosen for what changes with it:
- sanghyun-son/EDSR-PyTorch's EDSR at x4: `common.Upsampler` appends (conv(n, 4n), PixelShuffle(2))
  twice, so the tail's keys are `tail.0.0` and `tail.0.2` with a shuffle's slot between them;
- yulunzhang/RCAN at x4 (the same upsampler after residual groups of channel-attention blocks),
  and EDSR at x8 (three such convs);
- a SwinIR-style reconstruction tail, `conv_before_upsample` (conv + LeakyReLU), `upsample`
  (conv, shuffle, conv, shuffle) and `conv_last`, as plain Sequentials on their own;
- the PyTorch examples' DCGAN generator at 64x64 (five transposed convs, the first 1x1 -> 4x4);
- guided-diffusion's attention block alone (fused qkv Conv1d, four heads, q/k/v first), small
  enough for a calibration test.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from tests.generative_zoo_9_models import RCAB, RcanMeanShift
from tests.redraw import reference_and_input

# ------------------------------------------------------------ EDSR-PyTorch, x4 and x8 tails


class EdsrResBlock(nn.Module):  # EDSR-PyTorch common.ResBlock (res_scale 1: the baseline)
    def __init__(self, n_feats: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
            nn.ReLU(True),
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
        )

    def forward(self, x):
        return self.body(x) + x


def upsampler(scale: int, n_feats: int) -> nn.Sequential:
    """EDSR-PyTorch's common.Upsampler: log2(scale) x (conv to 4n, PixelShuffle(2)), or one
    (conv to 9n, PixelShuffle(3))."""
    m: list[nn.Module] = []
    if scale & (scale - 1) == 0:
        for _ in range(scale.bit_length() - 1):
            m += [nn.Conv2d(n_feats, 4 * n_feats, 3, padding=1), nn.PixelShuffle(2)]
    else:
        m += [nn.Conv2d(n_feats, 9 * n_feats, 3, padding=1), nn.PixelShuffle(3)]
    return nn.Sequential(*m)


class Edsr(nn.Module):
    def __init__(self, n_resblocks: int = 2, n_feats: int = 8, scale: int = 4) -> None:
        super().__init__()
        self.sub_mean = RcanMeanShift()
        self.head = nn.Sequential(nn.Conv2d(3, n_feats, 3, padding=1))
        body: list[nn.Module] = [EdsrResBlock(n_feats) for _ in range(n_resblocks)]
        body.append(nn.Conv2d(n_feats, n_feats, 3, padding=1))
        self.body = nn.Sequential(*body)
        self.tail = nn.Sequential(upsampler(scale, n_feats), nn.Conv2d(n_feats, 3, 3, padding=1))
        self.add_mean = RcanMeanShift(sign=1)

    def forward(self, x):
        x = self.head(self.sub_mean(x))
        res = self.body(x)
        res += x
        return self.add_mean(self.tail(res))


class RcanGroup(nn.Module):
    def __init__(self, n_feat: int, n_resblocks: int) -> None:
        super().__init__()
        body: list[nn.Module] = [RCAB(n_feat) for _ in range(n_resblocks)]
        body.append(nn.Conv2d(n_feat, n_feat, 3, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, x):
        return self.body(x) + x


class RcanX4(nn.Module):
    def __init__(self, n_resgroups: int = 1, n_resblocks: int = 2, n_feats: int = 16) -> None:
        super().__init__()
        self.sub_mean = RcanMeanShift()
        self.head = nn.Sequential(nn.Conv2d(3, n_feats, 3, padding=1))
        body: list[nn.Module] = [RcanGroup(n_feats, n_resblocks) for _ in range(n_resgroups)]
        body.append(nn.Conv2d(n_feats, n_feats, 3, padding=1))
        self.body = nn.Sequential(*body)
        self.tail = nn.Sequential(upsampler(4, n_feats), nn.Conv2d(n_feats, 3, 3, padding=1))
        self.add_mean = RcanMeanShift(sign=1)

    def forward(self, x):
        x = self.head(self.sub_mean(x))
        res = self.body(x)
        res += x
        return self.add_mean(self.tail(res))


# ------------------------------------------------------------------ a SwinIR-style tail alone


class ShuffleTail(nn.Module):
    """SwinIR's 'pixelshuffle' reconstruction, on features: conv + LeakyReLU, the x4 upsampler,
    then the last conv. The upsampler's trailing shuffle (after `upsample.2`) has no slot the
    keys show: a Sequential called as a whole ends where its keys end."""

    def __init__(self, n_feats: int = 8) -> None:
        super().__init__()
        self.conv_before_upsample = nn.Sequential(
            nn.Conv2d(n_feats, n_feats, 3, padding=1), nn.LeakyReLU(inplace=True)
        )
        self.upsample = upsampler(4, n_feats)
        self.conv_last = nn.Conv2d(n_feats, 3, 3, padding=1)

    def forward(self, x):
        return self.conv_last(self.upsample(self.conv_before_upsample(x)))


# ------------------------------------------------------------------------- DCGAN at 64 x 64


class Dcgan64(nn.Module):  # pytorch/examples dcgan/main.py Generator, ngf * 8 ... ngf
    def __init__(self, nz: int = 4, ngf: int = 2, nc: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
        ]
        for mult in (8, 4, 2):
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


# ------------------------------------------------ guided-diffusion's attention, four heads


class FourHeadAttentionNet(nn.Module):
    """guided-diffusion's AttentionBlock (QKVAttention: q, k, v first, then heads; four heads;
    GroupNorm32) on a feature map: the head count and the channel order leave no tensors."""

    def __init__(self, c: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.block = GuidedAttentionBlock(c, heads)

    def forward(self, x):
        return self.block(x)


class GuidedAttentionBlock(nn.Module):
    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(32, c)
        self.qkv = nn.Conv1d(c, 3 * c, 1)
        self.proj_out = nn.Conv1d(c, c, 1)

    def forward(self, x):
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        q, k, v = self.qkv(self.norm(flat)).chunk(3, dim=1)
        ch = c // self.heads
        q, k, v = (t.reshape(b * self.heads, ch, -1) for t in (q, k, v))
        weight = torch.softmax(torch.einsum("bct,bcs->bts", q, k) / ch**0.5, dim=-1)
        a = torch.einsum("bts,bcs->bct", weight, v).reshape(b, c, -1)
        return (flat + self.proj_out(a)).reshape(b, c, *spatial)


ZOO = {  # name: (build, input shape)
    "edsr_x4": (Edsr, (2, 3, 6, 6)),
    "edsr_x8": (lambda: Edsr(n_resblocks=1, scale=8), (2, 3, 4, 4)),
    "rcan_x4": (RcanX4, (2, 3, 6, 6)),
    "shuffle_tail": (ShuffleTail, (2, 8, 6, 6)),
    "dcgan_64": (Dcgan64, (2, 4, 1, 1)),
    "four_head_attention": (FourHeadAttentionNet, (2, 32, 4, 4)),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and its input."""
    make, shape = ZOO[name]
    model, x = reference_and_input(make, shape)
    return model, (x,)
