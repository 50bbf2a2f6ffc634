"""Generative nets as other repositories write them, fourth zoo (issue 16, session 11): test-only
reference models for tests/test_generative_zoo_11.py. Reference code, not generated code: the
generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- xinntao/ESRGAN's original `RRDBNet_arch.py` (x4): `conv_first`, `RRDB_trunk.N.RDB1..3`,
  `trunk_conv`, nearest-upsampled `upconv1` / `upconv2`, `HRconv`, `conv_last`, LeakyReLU 0.2;
- xinntao/Real-ESRGAN's x2 model (basicsr `RRDBNet`, scale 2): the input pixel-unshuffled by 2
  before `conv_first`, `body.N.rdb1..3`, `conv_body`, `conv_up1/2`, `conv_hr`, `conv_last`;
- leftthomas/SRGAN's generator: `block1` (9x9 conv + PReLU), residual blocks with batch norm and
  PReLU, `block7`, `block8` (conv, PixelShuffle, PReLU, 9x9 conv), then (tanh + 1) / 2;
- rosinality/stylegan2-pytorch's synthesis at 4x4: the mapping network (PixelNorm, EqualLinear
  with lr_mul), `ConstantInput`, a `StyledConv` (modulated, demodulated conv, fixed noise buffer,
  FusedLeakyReLU) and `ToRGB`;
- a plain conv autoencoder as tutorials write it (MNIST: strided convs down, transposed convs up,
  Sigmoid);
- AntixK/PyTorch-VAE's `VanillaVAE`, decoding the posterior mean (the deterministic mode);
- yang-song/score_sde's DDPM model: every layer in one flat `all_modules` ModuleList walked by an
  index in the forward, `NIN` 1x1 layers as bare `W` / `b` tensors, padded stride-2 downsampling.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ----------------------------------------------------------- ESRGAN (xinntao, original repo)


class ResidualDenseBlock5C(nn.Module):  # ESRGAN RRDBNet_arch.ResidualDenseBlock_5C
    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class EsrganRRDB(nn.Module):
    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.RDB1 = ResidualDenseBlock5C(nf, gc)
        self.RDB2 = ResidualDenseBlock5C(nf, gc)
        self.RDB3 = ResidualDenseBlock5C(nf, gc)

    def forward(self, x):
        return self.RDB3(self.RDB2(self.RDB1(x))) * 0.2 + x


class EsrganRRDBNet(nn.Module):
    def __init__(self, in_nc: int = 3, out_nc: int = 3, nf: int = 8, nb: int = 2, gc: int = 4):
        super().__init__()
        self.conv_first = nn.Conv2d(in_nc, nf, 3, 1, 1)
        self.RRDB_trunk = nn.Sequential(*[EsrganRRDB(nf, gc) for _ in range(nb)])
        self.trunk_conv = nn.Conv2d(nf, nf, 3, 1, 1)
        self.upconv1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.upconv2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.HRconv = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, out_nc, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        fea = self.conv_first(x)
        trunk = self.trunk_conv(self.RRDB_trunk(fea))
        fea = fea + trunk
        fea = self.lrelu(self.upconv1(F.interpolate(fea, scale_factor=2, mode="nearest")))
        fea = self.lrelu(self.upconv2(F.interpolate(fea, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.HRconv(fea)))


# ------------------------------------------------ Real-ESRGAN x2 (basicsr RRDBNet, scale 2)


class BasicsrRDB(nn.Module):  # basicsr.archs.rrdbnet_arch.ResidualDenseBlock
    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class BasicsrRRDB(nn.Module):
    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.rdb1 = BasicsrRDB(nf, gc)
        self.rdb2 = BasicsrRDB(nf, gc)
        self.rdb3 = BasicsrRDB(nf, gc)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RealEsrganX2(nn.Module):
    """basicsr RRDBNet(num_in_ch=3, num_out_ch=3, scale=2): the input is pixel-unshuffled by 2
    (3 -> 12 channels at half size), then the x4 trunk and tail run on it."""

    def __init__(self, nf: int = 8, nb: int = 1, gc: int = 4) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(3 * 4, nf, 3, 1, 1)
        self.body = nn.Sequential(*[BasicsrRRDB(nf, gc) for _ in range(nb)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        feat = self.conv_first(F.pixel_unshuffle(x, 2))
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


# ---------------------------------------------------------------- SRGAN (leftthomas/SRGAN)


class SrganResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        residual = self.prelu(self.bn1(self.conv1(x)))
        residual = self.bn2(self.conv2(residual))
        return x + residual


class SrganUpsampleBlock(nn.Module):  # leftthomas's UpsampleBLock
    def __init__(self, in_channels: int, up_scale: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels * up_scale**2, kernel_size=3, padding=1)
        self.pixel_shuffle = nn.PixelShuffle(up_scale)
        self.prelu = nn.PReLU()

    def forward(self, x):
        return self.prelu(self.pixel_shuffle(self.conv(x)))


class SrganGenerator(nn.Module):
    def __init__(self, scale_factor: int = 4, ch: int = 8, n_res: int = 5) -> None:
        super().__init__()
        upsample_block_num = int(math.log(scale_factor, 2))
        self.block1 = nn.Sequential(nn.Conv2d(3, ch, kernel_size=9, padding=4), nn.PReLU())
        for i in range(n_res):
            self.add_module(f"block{i + 2}", SrganResidualBlock(ch))
        self.n_res = n_res
        self.block7 = nn.Sequential(nn.Conv2d(ch, ch, kernel_size=3, padding=1), nn.BatchNorm2d(ch))
        block8: list[nn.Module] = [SrganUpsampleBlock(ch, 2) for _ in range(upsample_block_num)]
        block8.append(nn.Conv2d(ch, 3, kernel_size=9, padding=4))
        self.block8 = nn.Sequential(*block8)

    def forward(self, x):
        block1 = self.block1(x)
        h = block1
        for i in range(self.n_res):
            h = getattr(self, f"block{i + 2}")(h)
        block7 = self.block7(h)
        block8 = self.block8(block1 + block7)
        return (torch.tanh(block8) + 1) / 2


# ------------------------------------------- StyleGAN2 (rosinality/stylegan2-pytorch) at 4x4


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """rosinality's EqualLinear: the weight scaled by lr_mul / sqrt(fan_in) at run time; with
    `fused_lrelu` the bias goes into a leaky ReLU (slope 0.2) scaled by sqrt(2)."""

    def __init__(self, in_dim, out_dim, bias_init=0.0, lr_mul=1.0, activation=False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.zeros(out_dim).fill_(bias_init))
        self.activation = activation
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x):
        if self.activation:
            out = F.linear(x, self.weight * self.scale)
            return F.leaky_relu(out + self.bias * self.lr_mul, 0.2) * math.sqrt(2)
        return F.linear(x, self.weight * self.scale, bias=self.bias * self.lr_mul)


class ModulatedConv2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, style_dim, demodulate=True) -> None:
        super().__init__()
        self.eps = 1e-8
        self.kernel_size = kernel_size
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.scale = 1 / math.sqrt(in_channel * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(
            torch.randn(1, out_channel, in_channel, kernel_size, kernel_size)
        )
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1)
        self.demodulate = demodulate

    def forward(self, x, style):
        batch, in_channel, height, width = x.shape
        style = self.modulation(style).view(batch, 1, in_channel, 1, 1)
        weight = self.scale * self.weight * style
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * demod.view(batch, self.out_channel, 1, 1, 1)
        weight = weight.view(
            batch * self.out_channel, in_channel, self.kernel_size, self.kernel_size
        )
        x = x.view(1, batch * in_channel, height, width)
        out = F.conv2d(x, weight, padding=self.padding, groups=batch)
        return out.view(batch, self.out_channel, out.shape[-2], out.shape[-1])


class NoiseInjection(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, image, noise):
        return image + self.weight * noise


class FusedLeakyReLU(nn.Module):
    def __init__(self, channel: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channel))

    def forward(self, x):
        return F.leaky_relu(x + self.bias.view(1, -1, 1, 1), 0.2) * math.sqrt(2)


class StyledConv(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, style_dim) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, kernel_size, style_dim)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel)

    def forward(self, x, style, noise):
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    def __init__(self, in_channel, style_dim) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style):
        return self.conv(x, style) + self.bias


class ConstantInput(nn.Module):
    def __init__(self, channel: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channel, size, size))

    def forward(self, x):
        return self.input.repeat(x.shape[0], 1, 1, 1)


class StyleGan2Synthesis4(nn.Module):
    """rosinality's Generator cut at its first resolution (no blur / upfirdn2d), with
    `randomize_noise=False` (the registered noise buffer): z -> mapping -> w -> image."""

    def __init__(self, style_dim: int = 8, n_mlp: int = 2, channel: int = 8) -> None:
        super().__init__()
        layers: list[nn.Module] = [PixelNorm()]
        for _ in range(n_mlp):
            layers.append(EqualLinear(style_dim, style_dim, lr_mul=0.01, activation=True))
        self.style = nn.Sequential(*layers)
        self.input = ConstantInput(channel)
        self.conv1 = StyledConv(channel, channel, 3, style_dim)
        self.to_rgb1 = ToRGB(channel, style_dim)
        self.noises = nn.Module()
        self.noises.register_buffer("noise_0", torch.randn(1, 1, 4, 4))

    def forward(self, z):
        w = self.style(z)
        out = self.conv1(self.input(w), w, self.noises.noise_0)
        return self.to_rgb1(out, w)


# ------------------------------------------------------- a tutorial's plain conv autoencoder


class ConvAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 7),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 7),
            nn.ReLU(),
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


# ------------------------------------------------------------- AntixK/PyTorch-VAE VanillaVAE


class VanillaVAE(nn.Module):
    def __init__(self, in_channels: int = 3, latent_dim: int = 8, hidden=(4, 8)) -> None:
        super().__init__()
        hidden_dims = list(hidden)
        modules = []
        for h_dim in hidden_dims:
            modules.append(
                nn.Sequential(
                    nn.Conv2d(in_channels, h_dim, kernel_size=3, stride=2, padding=1),
                    nn.BatchNorm2d(h_dim),
                    nn.LeakyReLU(),
                )
            )
            in_channels = h_dim
        self.encoder = nn.Sequential(*modules)
        self.fc_mu = nn.Linear(hidden_dims[-1] * 4, latent_dim)
        self.fc_var = nn.Linear(hidden_dims[-1] * 4, latent_dim)
        self.decoder_input = nn.Linear(latent_dim, hidden_dims[-1] * 4)
        hidden_dims.reverse()
        self.last = hidden_dims[0]
        modules = []
        for i in range(len(hidden_dims) - 1):
            modules.append(
                nn.Sequential(
                    nn.ConvTranspose2d(
                        hidden_dims[i],
                        hidden_dims[i + 1],
                        kernel_size=3,
                        stride=2,
                        padding=1,
                        output_padding=1,
                    ),
                    nn.BatchNorm2d(hidden_dims[i + 1]),
                    nn.LeakyReLU(),
                )
            )
        self.decoder = nn.Sequential(*modules)
        self.final_layer = nn.Sequential(
            nn.ConvTranspose2d(
                hidden_dims[-1], hidden_dims[-1], 3, stride=2, padding=1, output_padding=1
            ),
            nn.BatchNorm2d(hidden_dims[-1]),
            nn.LeakyReLU(),
            nn.Conv2d(hidden_dims[-1], out_channels=3, kernel_size=3, padding=1),
            nn.Tanh(),
        )

    def forward(self, x):
        mu = self.fc_mu(torch.flatten(self.encoder(x), start_dim=1))
        h = self.decoder_input(mu).view(-1, self.last, 2, 2)
        return self.final_layer(self.decoder(h))


# ---------------------------------------------------- score_sde's DDPM (one flat ModuleList)


def _timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    emb = math.log(10000) / (half - 1)
    emb = torch.exp(torch.arange(half, dtype=torch.float32) * -emb)
    emb = timesteps.float()[:, None] * emb[None, :]
    return torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)


class NIN(nn.Module):  # score_sde layers.NIN: a 1x1 layer as W (in, out) and b
    def __init__(self, in_dim: int, num_units: int) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.randn(in_dim, num_units) * 0.1)
        self.b = nn.Parameter(torch.zeros(num_units))

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        y = torch.einsum("bhwc,cd->bhwd", x, self.W) + self.b
        return y.permute(0, 3, 1, 2)


class SdeAttnBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.GroupNorm_0 = nn.GroupNorm(min(channels // 4, 32), channels, eps=1e-6)
        self.NIN_0 = NIN(channels, channels)
        self.NIN_1 = NIN(channels, channels)
        self.NIN_2 = NIN(channels, channels)
        self.NIN_3 = NIN(channels, channels)

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.GroupNorm_0(x)
        q, k, v = self.NIN_0(h), self.NIN_1(h), self.NIN_2(h)
        w = torch.einsum("bchw,bcij->bhwij", q, k) * (int(c) ** (-0.5))
        w = F.softmax(w.reshape(b, hh, ww, hh * ww), dim=-1).reshape(b, hh, ww, hh, ww)
        h = torch.einsum("bhwij,bcij->bchw", w, v)
        return x + self.NIN_3(h)


class SdeResnetBlock(nn.Module):  # score_sde layers.ResnetBlockDDPM
    def __init__(self, in_ch: int, out_ch: int | None = None, temb_dim: int = 0) -> None:
        super().__init__()
        out_ch = out_ch or in_ch
        self.GroupNorm_0 = nn.GroupNorm(min(in_ch // 4, 32), in_ch, eps=1e-6)
        self.Conv_0 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.Dense_0 = nn.Linear(temb_dim, out_ch)
        self.GroupNorm_1 = nn.GroupNorm(min(out_ch // 4, 32), out_ch, eps=1e-6)
        self.Dropout_0 = nn.Dropout(0.1)
        self.Conv_1 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        if in_ch != out_ch:
            self.NIN_0 = NIN(in_ch, out_ch)
        self.out_ch = out_ch

    def forward(self, x, temb):
        h = self.Conv_0(F.silu(self.GroupNorm_0(x)))
        h = h + self.Dense_0(F.silu(temb))[:, :, None, None]
        h = self.Conv_1(self.Dropout_0(F.silu(self.GroupNorm_1(h))))
        if x.shape[1] != self.out_ch:
            x = self.NIN_0(x)
        return x + h


class SdeDownsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.Conv_0 = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x):
        return self.Conv_0(F.pad(x, (0, 1, 0, 1)))


class SdeUpsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.Conv_0 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.Conv_0(F.interpolate(x, scale_factor=2, mode="nearest"))


class ScoreSdeDDPM(nn.Module):
    """score_sde models/ddpm.py (conditional, centered data, no sigma scaling): the forward walks
    `all_modules` in order; each resolution's outputs are kept for the up path's skips."""

    def __init__(self, nf: int = 8, ch_mult=(1, 2), num_res_blocks: int = 1, size: int = 8):
        super().__init__()
        self.nf, self.ch_mult, self.num_res_blocks = nf, ch_mult, num_res_blocks
        resolutions = [size // 2**i for i in range(len(ch_mult))]
        self.attn_resolutions = (resolutions[-1],)
        self.resolutions = resolutions
        modules: list[nn.Module] = [nn.Linear(nf, nf * 4), nn.Linear(nf * 4, nf * 4)]
        modules.append(nn.Conv2d(3, nf, 3, padding=1))
        hs_c, in_ch = [nf], nf
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                modules.append(SdeResnetBlock(in_ch, nf * mult, 4 * nf))
                in_ch = nf * mult
                if resolutions[level] in self.attn_resolutions:
                    modules.append(SdeAttnBlock(in_ch))
                hs_c.append(in_ch)
            if level != len(ch_mult) - 1:
                modules.append(SdeDownsample(in_ch))
                hs_c.append(in_ch)
        modules += [
            SdeResnetBlock(in_ch, temb_dim=4 * nf),
            SdeAttnBlock(in_ch),
            SdeResnetBlock(in_ch, temb_dim=4 * nf),
        ]
        for level in reversed(range(len(ch_mult))):
            for _ in range(num_res_blocks + 1):
                out_ch = nf * ch_mult[level]
                modules.append(SdeResnetBlock(in_ch + hs_c.pop(), out_ch, 4 * nf))
                in_ch = out_ch
            if resolutions[level] in self.attn_resolutions:
                modules.append(SdeAttnBlock(in_ch))
            if level != 0:
                modules.append(SdeUpsample(in_ch))
        modules.append(nn.GroupNorm(min(in_ch // 4, 32), in_ch, eps=1e-6))
        modules.append(nn.Conv2d(in_ch, 3, 3, padding=1))
        self.all_modules = nn.ModuleList(modules)

    def forward(self, x, labels):
        modules, m = self.all_modules, 0
        temb = modules[m](_timestep_embedding(labels, self.nf))
        m += 1
        temb = modules[m](F.silu(temb))
        m += 1
        hs = [modules[m](x)]
        m += 1
        for level in range(len(self.ch_mult)):
            for _ in range(self.num_res_blocks):
                h = modules[m](hs[-1], temb)
                m += 1
                if h.shape[-1] in self.attn_resolutions:
                    h = modules[m](h)
                    m += 1
                hs.append(h)
            if level != len(self.ch_mult) - 1:
                hs.append(modules[m](hs[-1]))
                m += 1
        h = modules[m](hs[-1], temb)
        h = modules[m + 1](h)
        h = modules[m + 2](h, temb)
        m += 3
        for level in reversed(range(len(self.ch_mult))):
            for _ in range(self.num_res_blocks + 1):
                h = modules[m](torch.cat([h, hs.pop()], dim=1), temb)
                m += 1
            if h.shape[-1] in self.attn_resolutions:
                h = modules[m](h)
                m += 1
            if level != 0:
                h = modules[m](h)
                m += 1
        h = F.silu(modules[m](h))
        return modules[m + 1](h)


ZOO = {  # name: (build, input shape, takes a timestep)
    "esrgan_rrdbnet": (EsrganRRDBNet, (2, 3, 6, 6), False),
    "real_esrgan_x2": (RealEsrganX2, (2, 3, 8, 8), False),
    "srgan_generator": (SrganGenerator, (2, 3, 6, 6), False),
    "stylegan2_4x4": (StyleGan2Synthesis4, (2, 8), False),
    "conv_autoencoder": (ConvAutoencoder, (2, 1, 28, 28), False),
    "vanilla_vae": (VanillaVAE, (2, 3, 8, 8), False),
    "score_sde_ddpm": (ScoreSdeDDPM, (2, 3, 8, 8), True),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image or a
    latent, and one timestep per sample for the diffusion model)."""
    return generative_reference(ZOO[name])
