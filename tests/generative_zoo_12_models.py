"""Generative nets as other repositories write them, fifth zoo (issue 16, session 12): test-only
reference models for tests/test_generative_zoo_12.py. Reference code, not generated code: the
generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- yjn870/SRCNN-pytorch: `conv1` 9x9, `conv2` 5x5, `conv3` 5x5, ReLU between;
- twtygqyy/pytorch-vdsr: `input`, `residual_layer.N.conv` (bias-free conv + ReLU blocks), `output`,
  the input added back (a global residual no key shows);
- cszn/KAIR's DnCNN: one flattened `model` Sequential (conv + ReLU, conv + BatchNorm(eps 1e-4) +
  ReLU, conv), and the noise it predicts subtracted from the input;
- yjn870/RDN-pytorch: `sfe1`, `sfe2`, residual dense blocks (`rdbs.N.layers.M.conv`, `lff`), the
  global feature fusion `gff` over every block's output concatenated, plus `sfe1`, then the
  pixel-shuffle `upscale` and `output`;
- eriklindernoren/PyTorch-GAN's DCGAN generator: `l1` Linear, the output viewed as a 2x2 map,
  `conv_blocks` with nearest `nn.Upsample`, BatchNorm2d(c, 0.8) (eps 0.8: a positional momentum
  that became eps), LeakyReLU 0.2, Tanh;
- pytorch/examples' MNIST VAE: `fc1`, `fc21` / `fc22` (mean, log-variance), `fc3`, `fc4`, Sigmoid,
  decoding the mean (the deterministic mode);
- jik876/hifi-gan's generator (V2-like, tiny): weight-normed (`weight_g` / `weight_v`) Conv1d and
  ConvTranspose1d, multi-receptive-field `ResBlock1`s averaged, LeakyReLU 0.1 and a last 0.01,
  tanh;
- heykeetae/Self-Attention-GAN's generator with torch's spectral norm (`weight_orig`, `weight_u`,
  `weight_v`): transposed convs, BatchNorm, ReLU, the `Self_Attn` block (1x1 query/key/value convs,
  a learned `gamma`, unscaled softmax), Tanh.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input

# ------------------------------------------------------------- SRCNN, VDSR, DnCNN (denoisers/SR)


class Srcnn(nn.Module):  # yjn870/SRCNN-pytorch models.SRCNN
    def __init__(self, num_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_channels, 8, kernel_size=9, padding=9 // 2)
        self.conv2 = nn.Conv2d(8, 4, kernel_size=5, padding=5 // 2)
        self.conv3 = nn.Conv2d(4, num_channels, kernel_size=5, padding=5 // 2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.conv3(x)


class ConvReluBlock(nn.Module):  # pytorch-vdsr vdsr.Conv_ReLU_Block
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.conv(x))


class Vdsr(nn.Module):  # pytorch-vdsr vdsr.Net (18 blocks there)
    def __init__(self, width: int = 8, depth: int = 4) -> None:
        super().__init__()
        self.residual_layer = nn.Sequential(*[ConvReluBlock(width) for _ in range(depth)])
        self.input = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.output = nn.Conv2d(width, 1, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        residual = x
        out = self.relu(self.input(x))
        out = self.residual_layer(out)
        out = self.output(out)
        return torch.add(out, residual)


class KairDnCNN(nn.Module):  # KAIR models/network_dncnn.DnCNN(act_mode='BR'), flattened
    def __init__(self, in_nc: int = 1, nc: int = 8, nb: int = 5) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_nc, nc, 3, 1, 1), nn.ReLU(inplace=True)]
        for _ in range(nb - 2):
            layers += [
                nn.Conv2d(nc, nc, 3, 1, 1),
                nn.BatchNorm2d(nc, momentum=0.9, eps=1e-04),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(nc, in_nc, 3, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        n = self.model(x)
        return x - n


# ---------------------------------------------------------------------------- RDN (yjn870)


class DenseLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=3 // 2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return torch.cat([x, self.relu(self.conv(x))], 1)


class RDB(nn.Module):
    def __init__(self, in_channels: int, growth_rate: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            *[DenseLayer(in_channels + growth_rate * i, growth_rate) for i in range(num_layers)]
        )
        self.lff = nn.Conv2d(in_channels + growth_rate * num_layers, growth_rate, kernel_size=1)

    def forward(self, x):
        return x + self.lff(self.layers(x))  # local residual learning


class Rdn(nn.Module):  # RDN(scale_factor=2, num_channels=3, num_features=G0, growth_rate=G, ...)
    def __init__(self, g0: int = 8, g: int = 8, d: int = 2, c: int = 2) -> None:
        super().__init__()
        self.D = d
        self.sfe1 = nn.Conv2d(3, g0, kernel_size=3, padding=3 // 2)
        self.sfe2 = nn.Conv2d(g0, g0, kernel_size=3, padding=3 // 2)
        self.rdbs = nn.ModuleList([RDB(g0, g, c)] + [RDB(g, g, c) for _ in range(d - 1)])
        self.gff = nn.Sequential(
            nn.Conv2d(g * d, g0, kernel_size=1), nn.Conv2d(g0, g0, kernel_size=3, padding=1)
        )
        self.upscale = nn.Sequential(nn.Conv2d(g0, g0 * 4, 3, padding=1), nn.PixelShuffle(2))
        self.output = nn.Conv2d(g0, 3, kernel_size=3, padding=3 // 2)

    def forward(self, x):
        sfe1 = self.sfe1(x)
        sfe2 = self.sfe2(sfe1)
        x = sfe2
        local_features = []
        for i in range(self.D):
            x = self.rdbs[i](x)
            local_features.append(x)
        x = self.gff(torch.cat(local_features, 1)) + sfe1  # global residual learning
        x = self.upscale(x)
        return self.output(x)


# --------------------------------------------------------- eriklindernoren/PyTorch-GAN DCGAN


class PyTorchGanDcgan(nn.Module):  # implementations/dcgan/dcgan.py Generator
    def __init__(self, latent_dim: int = 8, img_size: int = 8, channels: int = 1) -> None:
        super().__init__()
        self.init_size = img_size // 4
        self.l1 = nn.Sequential(nn.Linear(latent_dim, 8 * self.init_size**2))
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(8),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(8, 8, 3, stride=1, padding=1),
            nn.BatchNorm2d(8, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(8, 4, 3, stride=1, padding=1),
            nn.BatchNorm2d(4, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4, channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        out = self.l1(z)
        out = out.view(out.shape[0], 8, self.init_size, self.init_size)
        return self.conv_blocks(out)


# ------------------------------------------------------------------- pytorch/examples VAE


class ExamplesVae(nn.Module):  # pytorch/examples vae/main.py VAE (784-400-20 there)
    def __init__(self, pixels: int = 16, hidden: int = 12, latent: int = 3) -> None:
        super().__init__()
        self.pixels = pixels
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.pixels))
        return self.decode(mu)  # the posterior's mode: no sampling in a comparison


# ------------------------------------------------------------------- jik876/hifi-gan Generator

LRELU_SLOPE = 0.1


def _padding(kernel_size: int, dilation: int = 1) -> int:
    return int((kernel_size * dilation - dilation) / 2)


def _wn(module: nn.Module) -> nn.Module:
    return nn.utils.weight_norm(module)  # the classic form: `weight_g` / `weight_v`


class HifiResBlock1(nn.Module):
    def __init__(self, channels: int, kernel_size: int = 3, dilation=(1, 3, 5)) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            [
                _wn(nn.Conv1d(channels, channels, kernel_size, 1, _padding(kernel_size, d), d))
                for d in dilation
            ]
        )
        self.convs2 = nn.ModuleList(
            [
                _wn(nn.Conv1d(channels, channels, kernel_size, 1, _padding(kernel_size, 1)))
                for _ in dilation
            ]
        )

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            xt = c1(xt)
            xt = F.leaky_relu(xt, LRELU_SLOPE)
            xt = c2(xt)
            x = xt + x
        return x


class HifiGanGenerator(nn.Module):
    def __init__(
        self,
        mels: int = 8,
        initial: int = 8,
        upsample_rates=(2, 2),
        upsample_kernels=(4, 4),
        resblock_kernels=(3, 5),
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernels)
        self.num_upsamples = len(upsample_rates)
        self.conv_pre = _wn(nn.Conv1d(mels, initial, 7, 1, padding=3))
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernels)):
            self.ups.append(
                _wn(
                    nn.ConvTranspose1d(
                        initial // (2**i), initial // (2 ** (i + 1)), k, u, padding=(k - u) // 2
                    )
                )
            )
        self.resblocks = nn.ModuleList()
        ch = initial
        for i in range(len(self.ups)):
            ch = initial // (2 ** (i + 1))
            for k in resblock_kernels:
                self.resblocks.append(HifiResBlock1(ch, k))
        self.conv_post = _wn(nn.Conv1d(ch, 1, 7, 1, padding=3))

    def forward(self, x):
        x = self.conv_pre(x)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, LRELU_SLOPE)
            x = self.ups[i](x)
            xs = None
            for j in range(self.num_kernels):
                if xs is None:
                    xs = self.resblocks[i * self.num_kernels + j](x)
                else:
                    xs += self.resblocks[i * self.num_kernels + j](x)
            x = xs / self.num_kernels
        x = F.leaky_relu(x)
        x = self.conv_post(x)
        return torch.tanh(x)


# ------------------------------------------------------- heykeetae/Self-Attention-GAN Generator


def _sn(module: nn.Module) -> nn.Module:
    return nn.utils.spectral_norm(module)  # `weight_orig`, buffers `weight_u` / `weight_v`


class SelfAttn(nn.Module):  # sagan_models.Self_Attn
    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.query_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.key_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.value_conv = nn.Conv2d(in_dim, in_dim, kernel_size=1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        b, c, width, height = x.size()
        proj_query = self.query_conv(x).view(b, -1, width * height).permute(0, 2, 1)
        proj_key = self.key_conv(x).view(b, -1, width * height)
        attention = self.softmax(torch.bmm(proj_query, proj_key))
        proj_value = self.value_conv(x).view(b, -1, width * height)
        out = torch.bmm(proj_value, attention.permute(0, 2, 1)).view(b, c, width, height)
        return self.gamma * out + x  # the repository also returns `attention`


class SaganGenerator(nn.Module):  # sagan_models.Generator, cut at 8x8 (one attention)
    def __init__(self, z_dim: int = 8, conv_dim: int = 4) -> None:
        super().__init__()
        mult = 8
        self.z_dim = z_dim
        self.l1 = nn.Sequential(
            _sn(nn.ConvTranspose2d(z_dim, conv_dim * mult, 4)),
            nn.BatchNorm2d(conv_dim * mult),
            nn.ReLU(),
        )
        curr = conv_dim * mult
        self.l2 = nn.Sequential(
            _sn(nn.ConvTranspose2d(curr, curr // 2, 4, 2, 1)),
            nn.BatchNorm2d(curr // 2),
            nn.ReLU(),
        )
        curr //= 2
        self.attn1 = SelfAttn(curr)
        self.last = nn.Sequential(nn.ConvTranspose2d(curr, 3, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        z = z.view(z.size(0), z.size(1), 1, 1)
        out = self.l1(z)
        out = self.l2(out)
        out = self.attn1(out)
        return self.last(out)


def _settle_spectral_norms(model: nn.Module) -> None:
    """A trained checkpoint's `weight_u` / `weight_v` are the power iteration's fixed point for
    `weight_orig`; redrawn weights need theirs recomputed (eval mode does no iteration)."""
    with torch.no_grad():
        for module in model.modules():
            if not hasattr(module, "weight_orig"):
                continue
            w = module.weight_orig.flatten(1)
            if isinstance(module, nn.ConvTranspose2d):
                w = module.weight_orig.transpose(0, 1).flatten(1)
            u, v = module.weight_u, module.weight_v
            for _ in range(50):
                v.copy_(F.normalize(w.t() @ u, dim=0))
                u.copy_(F.normalize(w @ v, dim=0))


ZOO = {  # name: (build, input shape)
    "srcnn": (Srcnn, (2, 1, 8, 8)),
    "vdsr": (Vdsr, (2, 1, 8, 8)),
    "kair_dncnn": (KairDnCNN, (2, 1, 8, 8)),
    "rdn_x2": (Rdn, (2, 3, 6, 6)),
    "pytorch_gan_dcgan": (PyTorchGanDcgan, (2, 8)),
    "examples_vae": (ExamplesVae, (2, 16)),
    "hifigan_generator": (HifiGanGenerator, (2, 8, 6)),
    "sagan_generator": (SaganGenerator, (2, 8)),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and its input (an image, a latent or a mel
    spectrogram)."""
    make, shape = ZOO[name]
    model, x = reference_and_input(make, shape)
    _settle_spectral_norms(model)
    return model, (x,)
