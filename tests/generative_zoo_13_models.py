"""Generative nets as other repositories write them, sixth zoo (issue 16, session 13): test-only
reference models for tests/test_generative_zoo_13.py. Reference code, not generated code: the
generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- milesial/Pytorch-UNet (`bilinear=False`): `inc`, `downN.maxpool_conv.1.double_conv`, `upN.up`
  (2x2 transposed convs), `upN.conv`, `outc.conv`; the skip concatenated first, F.pad to size;
- caogang/wgan-gp's CIFAR-10 generator (`preprocess`: Linear + BatchNorm1d + ReLU, viewed as a
  4x4 map, `block1`/`block2` 2x2 stride-2 transposed convs, `deconv_out`, tanh) and its critic
  (`main`: three stride-2 convs with LeakyReLU 0.01, flattened, `linear`);
- nmhkahn/CARN-pytorch's CARN (x2): a 1x1 `sub_mean`/`add_mean` MeanShift, cascading blocks whose
  outputs are concatenated with everything before and fused by 1x1 `cN` convs, `upsample.up.body`;
- Zheng222/IMDN: information multi-distillation modules (`c1`..`c4` with splits, LeakyReLU 0.05,
  the contrast-aware channel attention `cca.conv_du` over std + mean, `c5`), `c`, `LR_conv`,
  a pixel-shuffle `upsampler`;
- zhaohengyuan1/PAN (x2): SCPA blocks (`conv1_a`/`conv1_b`, `k1`, `PAConv.k2`..`k4`, `conv3`),
  `trunk_conv`, nearest upsampling into `upconv1`, pixel attention `att1`, `HRconv1`,
  `conv_last`, plus the bilinear-upsampled input;
- 1Konny/Beta-VAE's `BetaVAE_H`: `encoder`/`decoder` Sequentials with a `View` and one Linear
  giving mean and log-variance together (the mean is its first half), decoding the mean;
- lucidrains/denoising-diffusion-pytorch's first `Unet` (0.x, 2020): Mish, GroupNorm `Block`s,
  an additive time MLP, `Residual(Rezero(LinearAttention))` with a zero-initialised `g`, a
  stride-2 conv down and a 4x4 transposed conv up, `final_conv`.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ---------------------------------------------------------------------- milesial/Pytorch-UNet


class DoubleConv(nn.Module):  # unet/unet_parts.py DoubleConv
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):  # unet_parts.py Down: max-pool, DoubleConv
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(c_in, c_out))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):  # unet_parts.py Up (bilinear=False: a 2x2 transposed conv)
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_in // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(c_in, c_out)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diff_y = x2.size()[2] - x1.size()[2]
        diff_x = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class OutConv(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class MilesialUNet(nn.Module):  # unet/unet_model.py UNet (64..1024 there)
    def __init__(self, n_channels: int = 3, n_classes: int = 2, base: int = 4) -> None:
        super().__init__()
        self.inc = DoubleConv(n_channels, base)
        self.down1 = Down(base, base * 2)
        self.down2 = Down(base * 2, base * 4)
        self.down3 = Down(base * 4, base * 8)
        self.down4 = Down(base * 8, base * 16)
        self.up1 = Up(base * 16, base * 8)
        self.up2 = Up(base * 8, base * 4)
        self.up3 = Up(base * 4, base * 2)
        self.up4 = Up(base * 2, base)
        self.outc = OutConv(base, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


# --------------------------------------------------------------------------- caogang/wgan-gp

DIM = 4  # 128 in gan_cifar10.py


class WganGpGenerator(nn.Module):  # gan_cifar10.py Generator
    def __init__(self, latent: int = 8) -> None:
        super().__init__()
        self.preprocess = nn.Sequential(
            nn.Linear(latent, 4 * 4 * 4 * DIM), nn.BatchNorm1d(4 * 4 * 4 * DIM), nn.ReLU(True)
        )
        self.block1 = nn.Sequential(
            nn.ConvTranspose2d(4 * DIM, 2 * DIM, 2, stride=2),
            nn.BatchNorm2d(2 * DIM),
            nn.ReLU(True),
        )
        self.block2 = nn.Sequential(
            nn.ConvTranspose2d(2 * DIM, DIM, 2, stride=2), nn.BatchNorm2d(DIM), nn.ReLU(True)
        )
        self.deconv_out = nn.ConvTranspose2d(DIM, 3, 2, stride=2)
        self.tanh = nn.Tanh()

    def forward(self, z):
        output = self.preprocess(z)
        output = output.view(-1, 4 * DIM, 4, 4)
        output = self.block2(self.block1(output))
        output = self.tanh(self.deconv_out(output))
        return output.view(-1, 3, 32, 32)


class WganGpCritic(nn.Module):  # gan_cifar10.py Discriminator (no batch norm: the penalty)
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, DIM, 3, 2, padding=1),
            nn.LeakyReLU(),
            nn.Conv2d(DIM, 2 * DIM, 3, 2, padding=1),
            nn.LeakyReLU(),
            nn.Conv2d(2 * DIM, 4 * DIM, 3, 2, padding=1),
            nn.LeakyReLU(),
        )
        self.linear = nn.Linear(4 * 4 * 4 * DIM, 1)

    def forward(self, x):
        output = self.main(x)
        return self.linear(output.view(-1, 4 * 4 * 4 * DIM))


# ----------------------------------------------------------------------- nmhkahn/CARN-pytorch


class MeanShift(nn.Module):  # carn/model/ops.py MeanShift: a frozen 1x1 conv
    def __init__(self, mean_rgb, sub: bool) -> None:
        super().__init__()
        sign = -1 if sub else 1
        self.shifter = nn.Conv2d(3, 3, 1, 1, 0)
        self.shifter.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.shifter.bias.data = torch.tensor([m * sign for m in mean_rgb])
        for p in self.shifter.parameters():
            p.requires_grad = False

    def forward(self, x):
        return self.shifter(x)


class CarnBasicBlock(nn.Module):  # ops.py BasicBlock: conv, ReLU
    def __init__(self, c_in: int, c_out: int, k: int = 3, stride: int = 1, pad: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, pad), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.body(x)


class CarnResidualBlock(nn.Module):  # ops.py ResidualBlock
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, 1, 1)
        )

    def forward(self, x):
        return F.relu(self.body(x) + x)


class CarnBlock(nn.Module):  # carn.py Block: local cascading
    def __init__(self, c: int) -> None:
        super().__init__()
        self.b1, self.b2, self.b3 = (CarnResidualBlock(c) for _ in range(3))
        self.c1 = CarnBasicBlock(c * 2, c, 1, 1, 0)
        self.c2 = CarnBasicBlock(c * 3, c, 1, 1, 0)
        self.c3 = CarnBasicBlock(c * 4, c, 1, 1, 0)

    def forward(self, x):
        c0 = o0 = x
        c1 = torch.cat([c0, self.b1(o0)], dim=1)
        o1 = self.c1(c1)
        c2 = torch.cat([c1, self.b2(o1)], dim=1)
        o2 = self.c2(c2)
        c3 = torch.cat([c2, self.b3(o2)], dim=1)
        return self.c3(c3)


class CarnUpsampleBlock(nn.Module):  # ops.py UpsampleBlock(multi_scale=False) -> _UpsampleBlock
    def __init__(self, c: int, scale: int) -> None:
        super().__init__()
        self.up = _CarnUpsample(c, scale)

    def forward(self, x):
        return self.up(x)


class _CarnUpsample(nn.Module):
    def __init__(self, c: int, scale: int) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        for _ in range(int(math.log(scale, 2))):
            modules += [nn.Conv2d(c, 4 * c, 3, 1, 1), nn.ReLU(inplace=True), nn.PixelShuffle(2)]
        self.body = nn.Sequential(*modules)

    def forward(self, x):
        return self.body(x)


class Carn(nn.Module):  # carn/model/carn.py Net (64 channels there), forward at one scale
    def __init__(self, c: int = 8, scale: int = 2) -> None:
        super().__init__()
        self.sub_mean = MeanShift((0.4488, 0.4371, 0.4040), sub=True)
        self.add_mean = MeanShift((0.4488, 0.4371, 0.4040), sub=False)
        self.entry = nn.Conv2d(3, c, 3, 1, 1)
        self.b1, self.b2, self.b3 = (CarnBlock(c) for _ in range(3))
        self.c1 = CarnBasicBlock(c * 2, c, 1, 1, 0)
        self.c2 = CarnBasicBlock(c * 3, c, 1, 1, 0)
        self.c3 = CarnBasicBlock(c * 4, c, 1, 1, 0)
        self.upsample = CarnUpsampleBlock(c, scale)
        self.exit = nn.Conv2d(c, 3, 3, 1, 1)

    def forward(self, x):
        x = self.entry(self.sub_mean(x))
        c0 = o0 = x
        c1 = torch.cat([c0, self.b1(o0)], dim=1)
        o1 = self.c1(c1)
        c2 = torch.cat([c1, self.b2(o1)], dim=1)
        o2 = self.c2(c2)
        c3 = torch.cat([c2, self.b3(o2)], dim=1)
        o3 = self.c3(c3)
        out = self.exit(self.upsample(o3))
        return self.add_mean(out)


# ------------------------------------------------------------------------------ Zheng222/IMDN


def _conv_layer(c_in: int, c_out: int, k: int) -> nn.Conv2d:  # IMDN block.py conv_layer
    return nn.Conv2d(c_in, c_out, k, padding=int((k - 1) / 2), bias=True)


def _stdv_channels(x: torch.Tensor) -> torch.Tensor:  # block.py stdv_channels
    h_w = x.size(2) * x.size(3)
    mean = x.sum(3, keepdim=True).sum(2, keepdim=True) / h_w
    variance = (x - mean).pow(2).sum(3, keepdim=True).sum(2, keepdim=True) / h_w
    return variance.pow(0.5)


class CCALayer(nn.Module):  # block.py CCALayer: contrast-aware channel attention
    def __init__(self, c: int, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = nn.Sequential(
            nn.Conv2d(c, c // reduction, 1, padding=0, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(c // reduction, c, 1, padding=0, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, x):
        y = _stdv_channels(x) + self.avg_pool(x)
        return x * self.conv_du(y)


class IMDModule(nn.Module):  # block.py IMDModule
    def __init__(self, c: int, distillation_rate: float = 0.25) -> None:
        super().__init__()
        self.distilled_channels = int(c * distillation_rate)
        self.remaining_channels = int(c - self.distilled_channels)
        self.c1 = _conv_layer(c, c, 3)
        self.c2 = _conv_layer(self.remaining_channels, c, 3)
        self.c3 = _conv_layer(self.remaining_channels, c, 3)
        self.c4 = _conv_layer(self.remaining_channels, self.distilled_channels, 3)
        self.act = nn.LeakyReLU(0.05, inplace=True)
        self.c5 = _conv_layer(self.distilled_channels * 4, c, 1)
        self.cca = CCALayer(self.distilled_channels * 4)

    def forward(self, x):
        split = (self.distilled_channels, self.remaining_channels)
        d1, r1 = torch.split(self.act(self.c1(x)), split, dim=1)
        d2, r2 = torch.split(self.act(self.c2(r1)), split, dim=1)
        d3, r3 = torch.split(self.act(self.c3(r2)), split, dim=1)
        out = torch.cat([d1, d2, d3, self.c4(r3)], dim=1)
        return self.c5(self.cca(out)) + x


class Imdn(nn.Module):  # architecture.py IMDN (nf 64, six modules there), x2
    def __init__(self, nf: int = 16, num_modules: int = 2, upscale: int = 2) -> None:
        super().__init__()
        self.fea_conv = _conv_layer(3, nf, 3)
        self.IMDB1 = IMDModule(nf)
        self.IMDB2 = IMDModule(nf)
        self.c = nn.Sequential(_conv_layer(nf * num_modules, nf, 1), nn.LeakyReLU(0.05, True))
        self.LR_conv = _conv_layer(nf, nf, 3)
        self.upsampler = nn.Sequential(_conv_layer(nf, 3 * upscale**2, 3), nn.PixelShuffle(upscale))

    def forward(self, x):
        out_fea = self.fea_conv(x)
        out_b1 = self.IMDB1(out_fea)
        out_b2 = self.IMDB2(out_b1)
        out_b = self.c(torch.cat([out_b1, out_b2], dim=1))
        out_lr = self.LR_conv(out_b) + out_fea
        return self.upsampler(out_lr)


# ------------------------------------------------------------------------- zhaohengyuan1/PAN


class PA(nn.Module):  # PAN_arch.py PA: pixel attention
    def __init__(self, nf: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(nf, nf, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.conv(x))


class PAConv(nn.Module):  # PAN_arch.py PAConv
    def __init__(self, nf: int, k_size: int = 3) -> None:
        super().__init__()
        self.k2 = nn.Conv2d(nf, nf, 1)
        self.sigmoid = nn.Sigmoid()
        self.k3 = nn.Conv2d(nf, nf, k_size, padding=(k_size - 1) // 2, bias=False)
        self.k4 = nn.Conv2d(nf, nf, k_size, padding=(k_size - 1) // 2, bias=False)

    def forward(self, x):
        y = self.sigmoid(self.k2(x))
        return self.k4(self.k3(x) * y)


class SCPA(nn.Module):  # PAN_arch.py SCPA: self-calibrated convolution with pixel attention
    def __init__(self, nf: int, reduction: int = 2) -> None:
        super().__init__()
        group_width = nf // reduction
        self.conv1_a = nn.Conv2d(nf, group_width, 1, bias=False)
        self.conv1_b = nn.Conv2d(nf, group_width, 1, bias=False)
        self.k1 = nn.Sequential(nn.Conv2d(group_width, group_width, 3, 1, 1, 1, bias=False))
        self.PAConv = PAConv(group_width)
        self.conv3 = nn.Conv2d(group_width * reduction, nf, 1, bias=False)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        residual = x
        out_a = self.lrelu(self.k1(self.lrelu(self.conv1_a(x))))
        out_b = self.lrelu(self.PAConv(self.lrelu(self.conv1_b(x))))
        out = self.conv3(torch.cat([out_a, out_b], dim=1))
        return out + residual


class Pan(nn.Module):  # PAN_arch.py PAN (nf 40, unf 24, nb 16 there), scale 2
    def __init__(self, nf: int = 8, unf: int = 6, nb: int = 2, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self.conv_first = nn.Conv2d(3, nf, 3, 1, 1, bias=True)
        self.SCPA_trunk = nn.Sequential(*[SCPA(nf) for _ in range(nb)])
        self.trunk_conv = nn.Conv2d(nf, nf, 3, 1, 1, bias=True)
        self.upconv1 = nn.Conv2d(nf, unf, 3, 1, 1, bias=True)
        self.att1 = PA(unf)
        self.HRconv1 = nn.Conv2d(unf, unf, 3, 1, 1, bias=True)
        self.conv_last = nn.Conv2d(unf, 3, 3, 1, 1, bias=True)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        fea = self.conv_first(x)
        fea = fea + self.trunk_conv(self.SCPA_trunk(fea))
        fea = self.upconv1(F.interpolate(fea, scale_factor=self.scale, mode="nearest"))
        fea = self.lrelu(self.att1(fea))
        fea = self.lrelu(self.HRconv1(fea))
        out = self.conv_last(fea)
        ilr = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return out + ilr


# ------------------------------------------------------------------------ 1Konny/Beta-VAE


class View(nn.Module):  # model.py View
    def __init__(self, size) -> None:
        super().__init__()
        self.size = size

    def forward(self, tensor):
        return tensor.view(self.size)


class BetaVAEH(nn.Module):  # model.py BetaVAE_H (32/64/256 channels there), 64x64 input
    def __init__(self, z_dim: int = 4, nc: int = 1) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(nc, 8, 4, 2, 1),  # B,  32, 32, 32
            nn.ReLU(True),
            nn.Conv2d(8, 8, 4, 2, 1),  # B,  32, 16, 16
            nn.ReLU(True),
            nn.Conv2d(8, 12, 4, 2, 1),  # B,  64,  8,  8
            nn.ReLU(True),
            nn.Conv2d(12, 12, 4, 2, 1),  # B,  64,  4,  4
            nn.ReLU(True),
            nn.Conv2d(12, 16, 4, 1),  # B, 256,  1,  1
            nn.ReLU(True),
            View((-1, 16 * 1 * 1)),
            nn.Linear(16, z_dim * 2),  # mean and log-variance in one output
        )
        self.decoder = nn.Sequential(
            nn.Linear(z_dim, 16),
            View((-1, 16, 1, 1)),
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 12, 4),  # B,  64,  4,  4
            nn.ReLU(True),
            nn.ConvTranspose2d(12, 12, 4, 2, 1),  # B,  64,  8,  8
            nn.ReLU(True),
            nn.ConvTranspose2d(12, 8, 4, 2, 1),  # B,  32, 16, 16
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 8, 4, 2, 1),  # B,  32, 32, 32
            nn.ReLU(True),
            nn.ConvTranspose2d(8, nc, 4, 2, 1),  # B,  nc, 64, 64 (logits)
        )

    def forward(self, x):
        distributions = self.encoder(x)
        mu = distributions[:, : self.z_dim]
        return self.decoder(mu)  # the posterior's mode: no sampling in a comparison


# ------------------------------------------- lucidrains/denoising-diffusion-pytorch, first Unet


class Mish(nn.Module):
    def forward(self, x):
        return x * torch.tanh(F.softplus(x))


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        half_dim = self.dim // 2
        emb = math.log(10000) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, device=x.device) * -emb)
        emb = x[:, None] * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class Residual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class Rezero(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.g = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.fn(x) * self.g


class Block0(nn.Module):  # conv, GroupNorm, Mish
    def __init__(self, dim: int, dim_out: int, groups: int = 8) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim_out, 3, padding=1), nn.GroupNorm(groups, dim_out), Mish()
        )

    def forward(self, x):
        return self.block(x)


class ResnetBlock0(nn.Module):  # the time embedding added between the two blocks
    def __init__(self, dim: int, dim_out: int, time_emb_dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(Mish(), nn.Linear(time_emb_dim, dim_out))
        self.block1 = Block0(dim, dim_out)
        self.block2 = Block0(dim_out, dim_out)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb):
        h = self.block1(x)
        h = h + self.mlp(time_emb)[:, :, None, None]
        h = self.block2(h)
        return h + self.res_conv(x)


class LinearAttention0(nn.Module):
    def __init__(self, dim: int, heads: int = 2, dim_head: int = 4) -> None:
        super().__init__()
        self.heads = heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden_dim, dim, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.to_qkv(x)  # 'b (qkv heads c) h w -> qkv b heads c (h w)'
        q, k, v = qkv.reshape(b, 3, self.heads, -1, h * w).unbind(1)
        k = k.softmax(dim=-1)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


class LucidUnet0(nn.Module):  # denoising_diffusion_pytorch.py Unet (mid-2020), dim_mults (1, 2)
    def __init__(self, dim: int = 8, dim_mults=(1, 2), channels: int = 3) -> None:
        super().__init__()
        dims = [channels, *(dim * m for m in dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))
        self.time_mlp = nn.Sequential(
            SinusoidalPosEmb(dim), nn.Linear(dim, dim * 4), Mish(), nn.Linear(dim * 4, dim)
        )
        self.downs, self.ups = nn.ModuleList([]), nn.ModuleList([])
        n = len(in_out)
        for ind, (dim_in, dim_out) in enumerate(in_out):
            is_last = ind >= n - 1
            self.downs.append(
                nn.ModuleList(
                    [
                        ResnetBlock0(dim_in, dim_out, dim),
                        ResnetBlock0(dim_out, dim_out, dim),
                        Residual(Rezero(LinearAttention0(dim_out))),
                        nn.Conv2d(dim_out, dim_out, 3, 2, 1) if not is_last else nn.Identity(),
                    ]
                )
            )
        mid_dim = dims[-1]
        self.mid_block1 = ResnetBlock0(mid_dim, mid_dim, dim)
        self.mid_attn = Residual(Rezero(LinearAttention0(mid_dim)))
        self.mid_block2 = ResnetBlock0(mid_dim, mid_dim, dim)
        for ind, (dim_in, dim_out) in enumerate(reversed(in_out[1:])):
            is_last = ind >= n - 1
            self.ups.append(
                nn.ModuleList(
                    [
                        ResnetBlock0(dim_out * 2, dim_in, dim),
                        ResnetBlock0(dim_in, dim_in, dim),
                        Residual(Rezero(LinearAttention0(dim_in))),
                        (
                            nn.ConvTranspose2d(dim_in, dim_in, 4, 2, 1)
                            if not is_last
                            else nn.Identity()
                        ),
                    ]
                )
            )
        self.final_conv = nn.Sequential(Block0(dim, dim), nn.Conv2d(dim, channels, 1))

    def forward(self, x, time):
        t = self.time_mlp(time)
        h = []
        for resnet, resnet2, attn, downsample in self.downs:
            x = attn(resnet2(resnet(x, t), t))
            h.append(x)
            x = downsample(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for resnet, resnet2, attn, upsample in self.ups:
            x = torch.cat((x, h.pop()), dim=1)
            x = attn(resnet2(resnet(x, t), t))
            x = upsample(x)
        return self.final_conv(x)


ZOO = {  # name: (build, input shape, takes a timestep)
    "milesial_unet": (MilesialUNet, (2, 3, 32, 32), False),
    "wgan_gp_generator": (WganGpGenerator, (2, 8), False),
    "wgan_gp_critic": (WganGpCritic, (2, 3, 32, 32), False),
    "carn_x2": (Carn, (2, 3, 6, 6), False),
    "imdn_x2": (Imdn, (2, 3, 6, 6), False),
    "pan_x2": (Pan, (2, 3, 6, 6), False),
    "beta_vae_h": (BetaVAEH, (2, 1, 64, 64), False),
    "lucid_unet_v0": (LucidUnet0, (2, 3, 16, 16), True),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image or a
    latent, and one timestep per sample for the diffusion U-Net)."""
    return generative_reference(ZOO[name])
