"""Generative and dense-prediction nets as other repositories write them, ninth zoo (issue 16,
session 16): test-only reference models for tests/test_generative_zoo_16.py. Reference code, not
generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- DeepFindr's "diffusion models from scratch" SimpleUnet: `time_mlp` (sinusoidal embedding
  computed in the forward, Linear, ReLU), `conv0`, `downs`/`ups` ModuleLists of `Block`s
  (`time_mlp` Linear added after `conv1`, batch norm AFTER the ReLU, a 4x4 stride-2 `transform`
  conv or transposed conv), the skip concatenated after the current map, a 1x1 `output`;
- sksq96/pytorch-vae's CNN VAE: `encoder` Sequential of unpadded 4x4 stride-2 convs and a Flatten
  module, `fc1`/`fc2` (mean, log-variance), `fc3`, `decoder` Sequential starting with an
  UnFlatten to 1x1 and unpadded 5x5/6x6 stride-2 transposed convs, a Sigmoid; the mean decoded;
- twtygqyy/pytorch-LapSRN (x4): `conv_input`, `convt_F1.0.cov_block` Sequentials of bias-free
  convs and LeakyReLU 0.2 ending in a 4x4 stride-2 transposed conv, `convt_I1` (the image
  upsampled by a transposed conv) plus `convt_R1` (the residual), twice; the x4 image returned;
- yu45020/Waifu2x's UpConv_7: one `Sequential` attribute (so named) of six unpadded 3x3 convs
  with LeakyReLU 0.1 and a 4x4 stride-2 transposed conv with padding 3;
- yunjey/stargan's Generator: one `main` Sequential, InstanceNorm2d with affine parameters AND
  running statistics (used in eval mode), `ResidualBlock`s (`main`, x + main(x)), transposed-conv
  upsampling, Tanh; the label maps concatenated to the image by the caller;
- e-lab/pytorch-linknet's LinkNet: `conv1`/`bn1`/`relu`/`maxpool`, `encoder1..4` (`block1`/`block2`
  BasicBlocks with a `downsample` Sequential at stride 2), `decoder1..4` (`conv1`, `tp_conv`
  with output_padding, `conv2` Sequentials) added to the encoder features, `tp_conv1`, `conv2`,
  `tp_conv2`, LogSoftmax;
- MishaLaskin/vqvae: `encoder.conv_stack` (4x4 stride-2 convs, a ResidualStack whose
  ResidualLayers begin with an in-place ReLU that also rectifies the residual), a 1x1
  `pre_quantization_conv`, a `vector_quantization.embedding` nearest-code lookup (straight-through),
  `decoder.inverse_conv_stack` of transposed convs;
- cszn/KAIR's IRCNN denoiser: one flattened `model` Sequential of biased 3x3 convs with dilations
  1, 2, 3, 4, 3, 2, 1 (no key records them) and ReLUs, the noise estimate subtracted from the input.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# --------------------------------------------------------------- DeepFindr SimpleUnet (DDPM)


class DfBlock(nn.Module):  # diffusion-from-scratch notebook Block
    def __init__(self, in_ch: int, out_ch: int, time_emb_dim: int, up: bool = False) -> None:
        super().__init__()
        self.time_mlp = nn.Linear(time_emb_dim, out_ch)
        if up:
            self.conv1 = nn.Conv2d(2 * in_ch, out_ch, 3, padding=1)
            self.transform = nn.ConvTranspose2d(out_ch, out_ch, 4, 2, 1)
        else:
            self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
            self.transform = nn.Conv2d(out_ch, out_ch, 4, 2, 1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.bnorm1 = nn.BatchNorm2d(out_ch)
        self.bnorm2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h = self.bnorm1(self.relu(self.conv1(x)))
        time_emb = self.relu(self.time_mlp(t))
        time_emb = time_emb[(...,) + (None,) * 2]
        h = h + time_emb
        h = self.bnorm2(self.relu(self.conv2(h)))
        return self.transform(h)


class DfSinusoidalPositionEmbeddings(nn.Module):  # the notebook's SinusoidalPositionEmbeddings
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, time: torch.Tensor) -> torch.Tensor:
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=time.device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        return torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)


class DfSimpleUnet(nn.Module):  # the notebook's SimpleUnet (64..1024 there), three levels
    def __init__(self) -> None:
        super().__init__()
        image_channels = 3
        down_channels = (8, 16, 32)
        up_channels = (32, 16, 8)
        out_dim = 3
        time_emb_dim = 16
        self.time_mlp = nn.Sequential(
            DfSinusoidalPositionEmbeddings(time_emb_dim),
            nn.Linear(time_emb_dim, time_emb_dim),
            nn.ReLU(),
        )
        self.conv0 = nn.Conv2d(image_channels, down_channels[0], 3, padding=1)
        self.downs = nn.ModuleList(
            [DfBlock(down_channels[i], down_channels[i + 1], time_emb_dim)
             for i in range(len(down_channels) - 1)]
        )
        self.ups = nn.ModuleList(
            [DfBlock(up_channels[i], up_channels[i + 1], time_emb_dim, up=True)
             for i in range(len(up_channels) - 1)]
        )
        self.output = nn.Conv2d(up_channels[-1], out_dim, 1)

    def forward(self, x: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        t = self.time_mlp(timestep)
        x = self.conv0(x)
        residual_inputs = []
        for down in self.downs:
            x = down(x, t)
            residual_inputs.append(x)
        for up in self.ups:
            residual_x = residual_inputs.pop()
            x = torch.cat((x, residual_x), dim=1)
            x = up(x, t)
        return self.output(x)


# --------------------------------------------------------------- sksq96 pytorch-vae (CNN VAE)


class SkFlatten(nn.Module):  # vae-cnn.ipynb Flatten
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input.view(input.size(0), -1)


class SkUnFlatten(nn.Module):  # vae-cnn.ipynb UnFlatten
    def __init__(self, size: int = 1024) -> None:
        super().__init__()
        self.size = size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input.view(input.size(0), self.size, 1, 1)


class SkVAE(nn.Module):  # vae-cnn.ipynb VAE (32..256, h_dim 1024, z 32 there), widths / 8
    def __init__(self, image_channels: int = 3, h_dim: int = 128, z_dim: int = 8) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(image_channels, 4, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(4, 8, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(8, 16, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=4, stride=2),
            nn.ReLU(),
            SkFlatten(),
        )
        self.fc1 = nn.Linear(h_dim, z_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(z_dim, h_dim)
        self.decoder = nn.Sequential(
            SkUnFlatten(h_dim),
            nn.ConvTranspose2d(h_dim, 16, kernel_size=5, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(16, 8, kernel_size=5, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 4, kernel_size=6, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(4, image_channels, kernel_size=6, stride=2),
            nn.Sigmoid(),
        )

    def bottleneck(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fc1(h), self.fc2(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        mu, logvar = self.bottleneck(h)
        z = mu  # the posterior mean: the deterministic decode (reparameterize draws noise)
        return self.decoder(self.fc3(z))


# --------------------------------------------------------------- twtygqyy pytorch-LapSRN


class LapConvBlock(nn.Module):  # lapsrn.py _Conv_Block (10 convs of 64 there)
    def __init__(self, nf: int = 8, depth: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Conv2d(nf, nf, 3, 1, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.ConvTranspose2d(nf, nf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        self.cov_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cov_block(x)


class LapSRN(nn.Module):  # lapsrn.py Net (x4: two levels)
    def __init__(self, nf: int = 8) -> None:
        super().__init__()
        self.conv_input = nn.Conv2d(1, nf, 3, 1, 1, bias=False)
        self.relu = nn.LeakyReLU(0.2, inplace=True)
        self.convt_I1 = nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)
        self.convt_R1 = nn.Conv2d(nf, 1, 3, 1, 1, bias=False)
        self.convt_F1 = nn.Sequential(LapConvBlock(nf))
        self.convt_I2 = nn.ConvTranspose2d(1, 1, 4, 2, 1, bias=False)
        self.convt_R2 = nn.Conv2d(nf, 1, 3, 1, 1, bias=False)
        self.convt_F2 = nn.Sequential(LapConvBlock(nf))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.conv_input(x))
        convt_F1 = self.convt_F1(out)
        convt_I1 = self.convt_I1(x)
        convt_R1 = self.convt_R1(convt_F1)
        HR_2x = convt_I1 + convt_R1
        convt_F2 = self.convt_F2(convt_F1)
        convt_I2 = self.convt_I2(HR_2x)
        convt_R2 = self.convt_R2(convt_F2)
        HR_4x = convt_I2 + convt_R2
        return HR_4x  # lapsrn.py returns (HR_2x, HR_4x); the x4 image is the model's output


# --------------------------------------------------------------- yu45020 Waifu2x UpConv_7


class Waifu2xUpConv7(nn.Module):  # Models.py UpConv_7 (16..256 there), widths / 4
    def __init__(self) -> None:
        super().__init__()
        self.act_fn = nn.LeakyReLU(0.1, inplace=False)
        self.offset = 7
        m = [
            nn.Conv2d(3, 4, 3, 1, 0), self.act_fn,
            nn.Conv2d(4, 8, 3, 1, 0), self.act_fn,
            nn.Conv2d(8, 16, 3, 1, 0), self.act_fn,
            nn.Conv2d(16, 32, 3, 1, 0), self.act_fn,
            nn.Conv2d(32, 32, 3, 1, 0), self.act_fn,
            nn.Conv2d(32, 64, 3, 1, 0), self.act_fn,
            nn.ConvTranspose2d(64, 3, kernel_size=4, stride=2, padding=3, bias=False),
        ]
        self.Sequential = nn.Sequential(*m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.Sequential.forward(x)


# --------------------------------------------------------------- yunjey StarGAN Generator


class StarResidualBlock(nn.Module):  # stargan model.py ResidualBlock
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim_in, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim_out, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim_out, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


class StarGenerator(nn.Module):  # stargan model.py Generator(conv_dim=64, c_dim=5, repeat_num=6)
    def __init__(self, conv_dim: int = 8, c_dim: int = 5, repeat_num: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3 + c_dim, conv_dim, kernel_size=7, stride=1, padding=3, bias=False),
            nn.InstanceNorm2d(conv_dim, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
        ]
        curr_dim = conv_dim
        for _ in range(2):
            layers.append(nn.Conv2d(curr_dim, curr_dim * 2, 4, 2, 1, bias=False))
            layers.append(nn.InstanceNorm2d(curr_dim * 2, affine=True, track_running_stats=True))
            layers.append(nn.ReLU(inplace=True))
            curr_dim = curr_dim * 2
        for _ in range(repeat_num):
            layers.append(StarResidualBlock(curr_dim, curr_dim))
        for _ in range(2):
            layers.append(nn.ConvTranspose2d(curr_dim, curr_dim // 2, 4, 2, 1, bias=False))
            layers.append(nn.InstanceNorm2d(curr_dim // 2, affine=True, track_running_stats=True))
            layers.append(nn.ReLU(inplace=True))
            curr_dim = curr_dim // 2
        layers.append(nn.Conv2d(curr_dim, 3, kernel_size=7, stride=1, padding=3, bias=False))
        layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # stargan's forward(x, c) tiles c to the map and concatenates it; here x arrives so
        return self.main(x)


# --------------------------------------------------------------- e-lab pytorch-linknet


class LinkBasicBlock(nn.Module):  # pytorch-linknet model.py BasicBlock
    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0, groups=1,
                 bias=False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, groups=groups,
                               bias=bias)
        self.bn1 = nn.BatchNorm2d(out_planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size, 1, padding, groups=groups,
                               bias=bias)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.downsample = None
        if stride > 1:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_planes),
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            x = self.downsample(x)
        return self.relu(out + x)


class LinkEncoder(nn.Module):  # pytorch-linknet model.py Encoder
    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0) -> None:
        super().__init__()
        self.block1 = LinkBasicBlock(in_planes, out_planes, kernel_size, stride, padding)
        self.block2 = LinkBasicBlock(out_planes, out_planes, kernel_size, 1, padding)

    def forward(self, x):
        return self.block2(self.block1(x))


class LinkDecoder(nn.Module):  # pytorch-linknet model.py Decoder
    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0, output_padding=0,
                 bias=False) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_planes, in_planes // 4, 1, 1, 0, bias=bias),
            nn.BatchNorm2d(in_planes // 4),
            nn.ReLU(inplace=True),
        )
        self.tp_conv = nn.Sequential(
            nn.ConvTranspose2d(in_planes // 4, in_planes // 4, kernel_size, stride, padding,
                               output_padding, bias=bias),
            nn.BatchNorm2d(in_planes // 4),
            nn.ReLU(inplace=True),
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(in_planes // 4, out_planes, 1, 1, 0, bias=bias),
            nn.BatchNorm2d(out_planes),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.conv2(self.tp_conv(self.conv1(x)))


class LinkNet(nn.Module):  # pytorch-linknet model.py LinkNet (64..512 there), widths / 8
    def __init__(self, n_classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.encoder1 = LinkEncoder(8, 8, 3, 1, 1)
        self.encoder2 = LinkEncoder(8, 16, 3, 2, 1)
        self.encoder3 = LinkEncoder(16, 32, 3, 2, 1)
        self.encoder4 = LinkEncoder(32, 64, 3, 2, 1)
        self.decoder1 = LinkDecoder(8, 8, 3, 1, 1, 0)
        self.decoder2 = LinkDecoder(16, 8, 3, 2, 1, 1)
        self.decoder3 = LinkDecoder(32, 16, 3, 2, 1, 1)
        self.decoder4 = LinkDecoder(64, 32, 3, 2, 1, 1)
        self.tp_conv1 = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, 2, 1, 1),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(4, 4, 3, 1, 1),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
        )
        self.tp_conv2 = nn.ConvTranspose2d(4, n_classes, 2, 2, 0)
        self.lsm = nn.LogSoftmax(dim=1)

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        e1 = self.encoder1(x)
        e2 = self.encoder2(e1)
        e3 = self.encoder3(e2)
        e4 = self.encoder4(e3)
        d4 = e3 + self.decoder4(e4)
        d3 = e2 + self.decoder3(d4)
        d2 = e1 + self.decoder2(d3)
        d1 = x + self.decoder1(d2)
        y = self.tp_conv1(d1)
        y = self.conv2(y)
        y = self.tp_conv2(y)
        return self.lsm(y)


# --------------------------------------------------------------- MishaLaskin vqvae


class MlResidualLayer(nn.Module):  # models/residual.py ResidualLayer
    def __init__(self, in_dim: int, h_dim: int, res_h_dim: int) -> None:
        super().__init__()
        self.res_block = nn.Sequential(
            nn.ReLU(True),  # in place: x itself is rectified before the sum below
            nn.Conv2d(in_dim, res_h_dim, kernel_size=3, stride=1, padding=1, bias=False),
            nn.ReLU(True),
            nn.Conv2d(res_h_dim, h_dim, kernel_size=1, stride=1, bias=False),
        )

    def forward(self, x):
        x = x + self.res_block(x)
        return x


class MlResidualStack(nn.Module):  # models/residual.py ResidualStack
    def __init__(self, in_dim, h_dim, res_h_dim, n_res_layers) -> None:
        super().__init__()
        self.n_res_layers = n_res_layers
        self.stack = nn.ModuleList([MlResidualLayer(in_dim, h_dim, res_h_dim)] * n_res_layers)

    def forward(self, x):
        for layer in self.stack:
            x = layer(x)
        x = F.relu(x)
        return x


class MlEncoder(nn.Module):  # models/encoder.py Encoder
    def __init__(self, in_dim, h_dim, n_res_layers, res_h_dim) -> None:
        super().__init__()
        kernel, stride = 4, 2
        self.conv_stack = nn.Sequential(
            nn.Conv2d(in_dim, h_dim // 2, kernel_size=kernel, stride=stride, padding=1),
            nn.ReLU(),
            nn.Conv2d(h_dim // 2, h_dim, kernel_size=kernel, stride=stride, padding=1),
            nn.ReLU(),
            nn.Conv2d(h_dim, h_dim, kernel_size=kernel - 1, stride=stride - 1, padding=1),
            MlResidualStack(h_dim, h_dim, res_h_dim, n_res_layers),
        )

    def forward(self, x):
        return self.conv_stack(x)


class MlDecoder(nn.Module):  # models/decoder.py Decoder
    def __init__(self, in_dim, h_dim, n_res_layers, res_h_dim) -> None:
        super().__init__()
        kernel, stride = 4, 2
        self.inverse_conv_stack = nn.Sequential(
            nn.ConvTranspose2d(in_dim, h_dim, kernel_size=kernel - 1, stride=stride - 1, padding=1),
            MlResidualStack(h_dim, h_dim, res_h_dim, n_res_layers),
            nn.ConvTranspose2d(h_dim, h_dim // 2, kernel_size=kernel, stride=stride, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(h_dim // 2, 3, kernel_size=kernel, stride=stride, padding=1),
        )

    def forward(self, x):
        return self.inverse_conv_stack(x)


class MlVectorQuantizer(nn.Module):  # models/quantizer.py VectorQuantizer
    def __init__(self, n_e: int, e_dim: int, beta: float) -> None:
        super().__init__()
        self.n_e = n_e
        self.e_dim = e_dim
        self.beta = beta
        self.embedding = nn.Embedding(self.n_e, self.e_dim)
        self.embedding.weight.data.uniform_(-1.0 / self.n_e, 1.0 / self.n_e)

    def forward(self, z):
        z = z.permute(0, 2, 3, 1).contiguous()
        z_flattened = z.view(-1, self.e_dim)
        d = (
            torch.sum(z_flattened**2, dim=1, keepdim=True)
            + torch.sum(self.embedding.weight**2, dim=1)
            - 2 * torch.matmul(z_flattened, self.embedding.weight.t())
        )
        min_encoding_indices = torch.argmin(d, dim=1).unsqueeze(1)
        min_encodings = torch.zeros(min_encoding_indices.shape[0], self.n_e, device=z.device)
        min_encodings.scatter_(1, min_encoding_indices, 1)
        z_q = torch.matmul(min_encodings, self.embedding.weight).view(z.shape)
        loss = torch.mean((z_q.detach() - z) ** 2) + self.beta * torch.mean((z_q - z.detach()) ** 2)
        z_q = z + (z_q - z).detach()
        e_mean = torch.mean(min_encodings, dim=0)
        perplexity = torch.exp(-torch.sum(e_mean * torch.log(e_mean + 1e-10)))
        z_q = z_q.permute(0, 3, 1, 2).contiguous()
        return loss, z_q, perplexity, min_encodings, min_encoding_indices


class MlVQVAE(nn.Module):  # models/vqvae.py VQVAE (h 128, res 32, 512 x 64 codes there)
    def __init__(self, h_dim=16, res_h_dim=8, n_res_layers=2, n_embeddings=32,
                 embedding_dim=8, beta=0.25) -> None:
        super().__init__()
        self.encoder = MlEncoder(3, h_dim, n_res_layers, res_h_dim)
        self.pre_quantization_conv = nn.Conv2d(h_dim, embedding_dim, kernel_size=1, stride=1)
        self.vector_quantization = MlVectorQuantizer(n_embeddings, embedding_dim, beta)
        self.decoder = MlDecoder(embedding_dim, h_dim, n_res_layers, res_h_dim)

    def forward(self, x):
        z_e = self.encoder(x)
        z_e = self.pre_quantization_conv(z_e)
        embedding_loss, z_q, perplexity, _, _ = self.vector_quantization(z_e)
        x_hat = self.decoder(z_q)
        return x_hat  # vqvae.py returns (embedding_loss, x_hat, perplexity): the image here


# --------------------------------------------------------------- cszn KAIR IRCNN


class KairIRCNN(nn.Module):  # KAIR models/network_dncnn.py IRCNN (nc 64 there)
    def __init__(self, in_nc: int = 1, out_nc: int = 1, nc: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_nc, nc, 3, 1, padding=1, dilation=1, bias=True),
                                   nn.ReLU(inplace=True)]
        for d in (2, 3, 4, 3, 2):
            layers += [nn.Conv2d(nc, nc, 3, 1, padding=d, dilation=d, bias=True),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(nc, out_nc, 3, 1, padding=1, dilation=1, bias=True))
        self.model = nn.Sequential(*layers)  # B.sequential flattens the conv+ReLU pairs

    def forward(self, x):
        n = self.model(x)
        return x - n


ZOO = {  # name: (build, input shape, takes a timestep)
    "deepfindr_ddpm_unet": (DfSimpleUnet, (2, 3, 16, 16), True),
    "sksq96_cnn_vae": (SkVAE, (2, 3, 64, 64), False),
    "lapsrn_x4": (LapSRN, (2, 1, 8, 8), False),
    "waifu2x_upconv7": (Waifu2xUpConv7, (2, 3, 20, 20), False),
    "stargan_generator": (StarGenerator, (2, 8, 16, 16), False),
    "elab_linknet": (LinkNet, (2, 3, 64, 64), False),
    "mishalaskin_vqvae": (MlVQVAE, (2, 3, 16, 16), False),
    "kair_ircnn": (KairIRCNN, (2, 1, 16, 16), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Net)."""
    return generative_reference(ZOO[name])
