"""Generative and dense-prediction nets as other repositories write them, seventh zoo (issue 16,
session 14): test-only reference models for tests/test_generative_zoo_14.py. Reference code, not
generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- megvii-research/NAFNet: `intro`, `encoders`/`downs` (2x2 stride-2 convs), `middle_blks`, `ups`
  (bias-free 1x1 conv + PixelShuffle), `decoders`, `ending`; `NAFBlock`s with a channels-first
  LayerNorm2d (eps 1e-6), SimpleGate halves multiplied, simplified channel attention `sca`,
  `beta`/`gamma` residual scales; skips added, the input added back;
- zalandoresearch/pytorch-vq-vae: `_encoder._conv_1..3`, `_residual_stack._layers.N._block`
  (ReLU first, bias-free convs, a ReLU after the stack), `_pre_vq_conv`, an EMA `_vq_vae`
  (`_embedding`, `_ema_w`, `_ema_cluster_size`) quantising by nearest code, `_decoder`;
- dome272/Diffusion-Models-pytorch's `UNet`: sinusoidal time encoding computed in the forward,
  `DoubleConv` (GroupNorm(1), GELU, residual GELU), `Down`/`Up` with an `emb_layer` (SiLU,
  Linear) broadcast-added, `SelfAttention` (nn.MultiheadAttention over pixels, `ln`, `ff_self`),
  bilinear align-corners up-sampling, the skip concatenated first;
- delta-onera/segnet_pytorch's SegNet: flat `convNM`/`bnNM` (and `convNMd`) pairs, max-pooling
  that returns indices and max-unpooling that uses them;
- L1aoXingyu/pytorch-beginner's conv autoencoder: `encoder`/`decoder` Sequentials, stride-3
  convs, a stride-1 max-pool, transposed convs with odd strides and paddings, Tanh;
- jt827859032/DRRN-pytorch: one `conv1`/`conv2` pair applied recursively 25 times (the count
  is in no key), each time the first conv's output added, ReLU before every conv, the input added;
- twtygqyy/pytorch-SRResNet: `conv_input` 9x9, LeakyReLU 0.2, `residual` of blocks with affine
  InstanceNorm (`in1`/`in2`), `conv_mid`/`bn_mid`, `upscale4x` (conv, shuffle, LeakyReLU twice),
  `conv_output` 9x9;
- Eromera/erfnet_pytorch's ERFNet: `encoder.initial_block`, `encoder.layers` (downsamplers that
  concatenate a strided conv with a max-pool, factorised 3x1/1x3 `non_bottleneck_1d` blocks with
  dilations 2 and 4 no key records, eps 1e-3), an `encoder.output_conv` the full net never
  calls, `decoder.layers` (transposed-conv upsamplers) and `decoder.output_conv`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# --------------------------------------------------------------------- megvii-research NAFNet


class NafLayerNorm2d(nn.Module):  # basicsr/models/archs/arch_util.py LayerNorm2d (channels)
    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.register_parameter("weight", nn.Parameter(torch.ones(channels)))
        self.register_parameter("bias", nn.Parameter(torch.zeros(channels)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # LayerNormFunction.forward
        c = x.size(1)
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        y = (x - mu) / (var + self.eps).sqrt()
        return self.weight.view(1, c, 1, 1) * y + self.bias.view(1, c, 1, 1)


class NafSimpleGate(nn.Module):  # NAFNet_arch.py SimpleGate
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=1)
        return x1 * x2


class NAFBlock(nn.Module):  # NAFNet_arch.py NAFBlock (DW_Expand 2, FFN_Expand 2)
    def __init__(self, c: int) -> None:
        super().__init__()
        dw = c * 2
        self.conv1 = nn.Conv2d(c, dw, 1, padding=0, stride=1, groups=1, bias=True)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, stride=1, groups=dw, bias=True)
        self.conv3 = nn.Conv2d(dw // 2, c, 1, padding=0, stride=1, groups=1, bias=True)
        self.sca = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(dw // 2, dw // 2, 1, padding=0, stride=1, bias=True)
        )
        self.sg = NafSimpleGate()
        ffn = 2 * c
        self.conv4 = nn.Conv2d(c, ffn, 1, padding=0, stride=1, groups=1, bias=True)
        self.conv5 = nn.Conv2d(ffn // 2, c, 1, padding=0, stride=1, groups=1, bias=True)
        self.norm1 = NafLayerNorm2d(c)
        self.norm2 = NafLayerNorm2d(c)
        self.dropout1 = nn.Identity()
        self.dropout2 = nn.Identity()
        self.beta = nn.Parameter(torch.zeros((1, c, 1, 1)), requires_grad=True)
        self.gamma = nn.Parameter(torch.zeros((1, c, 1, 1)), requires_grad=True)

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.norm1(inp)
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.sg(x)
        x = x * self.sca(x)
        x = self.conv3(x)
        x = self.dropout1(x)
        y = inp + x * self.beta
        x = self.conv4(self.norm2(y))
        x = self.sg(x)
        x = self.conv5(x)
        x = self.dropout2(x)
        return y + x * self.gamma


class NAFNet(nn.Module):  # NAFNet_arch.py NAFNet (width 8, two levels)
    def __init__(self, img_channel=3, width=8, middle_blk_num=1, enc=(1, 1), dec=(1, 1)) -> None:
        super().__init__()
        self.intro = nn.Conv2d(img_channel, width, 3, padding=1, stride=1, groups=1, bias=True)
        self.ending = nn.Conv2d(width, img_channel, 3, padding=1, stride=1, groups=1, bias=True)
        self.encoders = nn.ModuleList()
        self.decoders = nn.ModuleList()
        self.middle_blks = nn.ModuleList()
        self.ups = nn.ModuleList()
        self.downs = nn.ModuleList()
        chan = width
        for num in enc:
            self.encoders.append(nn.Sequential(*[NAFBlock(chan) for _ in range(num)]))
            self.downs.append(nn.Conv2d(chan, 2 * chan, 2, 2))
            chan = chan * 2
        self.middle_blks = nn.Sequential(*[NAFBlock(chan) for _ in range(middle_blk_num)])
        for num in dec:
            self.ups.append(
                nn.Sequential(nn.Conv2d(chan, chan * 2, 1, bias=False), nn.PixelShuffle(2))
            )
            chan = chan // 2
            self.decoders.append(nn.Sequential(*[NAFBlock(chan) for _ in range(num)]))
        self.padder_size = 2 ** len(self.encoders)

    def check_image_size(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.size()
        mod_pad_h = (self.padder_size - h % self.padder_size) % self.padder_size
        mod_pad_w = (self.padder_size - w % self.padder_size) % self.padder_size
        return F.pad(x, (0, mod_pad_w, 0, mod_pad_h))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        _, _, h, w = inp.shape
        inp = self.check_image_size(inp)
        x = self.intro(inp)
        encs = []
        for encoder, down in zip(self.encoders, self.downs):
            x = encoder(x)
            encs.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for decoder, up, enc_skip in zip(self.decoders, self.ups, encs[::-1]):
            x = up(x)
            x = x + enc_skip
            x = decoder(x)
        x = self.ending(x)
        x = x + inp
        return x[:, :, :h, :w]


# --------------------------------------------------------------- zalandoresearch/pytorch-vq-vae


class ZalVectorQuantizerEMA(nn.Module):  # vq-vae.ipynb VectorQuantizerEMA (eval: no EMA update)
    def __init__(self, num_embeddings: int, embedding_dim: int, commitment_cost=0.25, decay=0.99):
        super().__init__()
        self._embedding_dim = embedding_dim
        self._num_embeddings = num_embeddings
        self._embedding = nn.Embedding(num_embeddings, embedding_dim)
        self._embedding.weight.data.normal_()
        self._commitment_cost = commitment_cost
        self.register_buffer("_ema_cluster_size", torch.zeros(num_embeddings))
        self._ema_w = nn.Parameter(torch.Tensor(num_embeddings, embedding_dim))
        self._ema_w.data.normal_()
        self._decay = decay
        self._epsilon = 1e-5

    def forward(self, inputs: torch.Tensor):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()  # BCHW -> BHWC
        input_shape = inputs.shape
        flat_input = inputs.view(-1, self._embedding_dim)
        distances = (
            torch.sum(flat_input**2, dim=1, keepdim=True)
            + torch.sum(self._embedding.weight**2, dim=1)
            - 2 * torch.matmul(flat_input, self._embedding.weight.t())
        )
        encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
        encodings = torch.zeros(encoding_indices.shape[0], self._num_embeddings)
        encodings.scatter_(1, encoding_indices, 1)
        quantized = torch.matmul(encodings, self._embedding.weight).view(input_shape)
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        loss = self._commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encodings


class ZalResidual(nn.Module):  # vq-vae.ipynb Residual
    def __init__(self, c_in: int, num_hiddens: int, num_residual_hiddens: int) -> None:
        super().__init__()
        self._block = nn.Sequential(
            nn.ReLU(True),
            nn.Conv2d(c_in, num_residual_hiddens, 3, 1, 1, bias=False),
            nn.ReLU(True),
            nn.Conv2d(num_residual_hiddens, num_hiddens, 1, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self._block(x)


class ZalResidualStack(nn.Module):  # vq-vae.ipynb ResidualStack
    def __init__(self, c_in: int, num_hiddens: int, num_layers: int, num_res_hiddens: int):
        super().__init__()
        self._num_residual_layers = num_layers
        self._layers = nn.ModuleList(
            [ZalResidual(c_in, num_hiddens, num_res_hiddens) for _ in range(num_layers)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(self._num_residual_layers):
            x = self._layers[i](x)
        return F.relu(x)


class ZalEncoder(nn.Module):  # vq-vae.ipynb Encoder
    def __init__(self, c_in: int, num_hiddens: int, num_layers: int, num_res_hiddens: int):
        super().__init__()
        self._conv_1 = nn.Conv2d(c_in, num_hiddens // 2, 4, 2, 1)
        self._conv_2 = nn.Conv2d(num_hiddens // 2, num_hiddens, 4, 2, 1)
        self._conv_3 = nn.Conv2d(num_hiddens, num_hiddens, 3, 1, 1)
        self._residual_stack = ZalResidualStack(
            num_hiddens, num_hiddens, num_layers, num_res_hiddens
        )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = F.relu(self._conv_1(inputs))
        x = F.relu(self._conv_2(x))
        x = self._conv_3(x)
        return self._residual_stack(x)


class ZalDecoder(nn.Module):  # vq-vae.ipynb Decoder
    def __init__(self, c_in: int, num_hiddens: int, num_layers: int, num_res_hiddens: int):
        super().__init__()
        self._conv_1 = nn.Conv2d(c_in, num_hiddens, 3, 1, 1)
        self._residual_stack = ZalResidualStack(
            num_hiddens, num_hiddens, num_layers, num_res_hiddens
        )
        self._conv_trans_1 = nn.ConvTranspose2d(num_hiddens, num_hiddens // 2, 4, 2, 1)
        self._conv_trans_2 = nn.ConvTranspose2d(num_hiddens // 2, 3, 4, 2, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._conv_1(inputs)
        x = self._residual_stack(x)
        x = F.relu(self._conv_trans_1(x))
        return self._conv_trans_2(x)


class ZalandoVqVae(nn.Module):  # vq-vae.ipynb Model (decay > 0: the EMA quantiser), narrowed
    def __init__(self, num_hiddens=16, num_layers=1, num_res_hiddens=4, n_embed=8, dim=4) -> None:
        super().__init__()
        self._encoder = ZalEncoder(3, num_hiddens, num_layers, num_res_hiddens)
        self._pre_vq_conv = nn.Conv2d(num_hiddens, dim, 1, 1)
        self._vq_vae = ZalVectorQuantizerEMA(n_embed, dim)
        self._decoder = ZalDecoder(dim, num_hiddens, num_layers, num_res_hiddens)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self._encoder(x)
        z = self._pre_vq_conv(z)
        _loss, quantized, _perplexity, _ = self._vq_vae(z)
        return self._decoder(quantized)  # x_recon (the notebook also returns loss, perplexity)


# ------------------------------------------------------ dome272/Diffusion-Models-pytorch UNet


class DomeSelfAttention(nn.Module):  # modules.py SelfAttention
    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.channels = channels
        self.size = size
        self.mha = nn.MultiheadAttention(channels, 4, batch_first=True)
        self.ln = nn.LayerNorm([channels])
        self.ff_self = nn.Sequential(
            nn.LayerNorm([channels]),
            nn.Linear(channels, channels),
            nn.GELU(),
            nn.Linear(channels, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(-1, self.channels, self.size * self.size).swapaxes(1, 2)
        x_ln = self.ln(x)
        attention_value, _ = self.mha(x_ln, x_ln, x_ln)
        attention_value = attention_value + x
        attention_value = self.ff_self(attention_value) + attention_value
        return attention_value.swapaxes(2, 1).view(-1, self.channels, self.size, self.size)


class DomeDoubleConv(nn.Module):  # modules.py DoubleConv
    def __init__(self, c_in: int, c_out: int, mid: int | None = None, residual=False) -> None:
        super().__init__()
        self.residual = residual
        if not mid:
            mid = c_out
        self.double_conv = nn.Sequential(
            nn.Conv2d(c_in, mid, kernel_size=3, padding=1, bias=False),
            nn.GroupNorm(1, mid),
            nn.GELU(),
            nn.Conv2d(mid, c_out, kernel_size=3, padding=1, bias=False),
            nn.GroupNorm(1, c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.residual:
            return F.gelu(x + self.double_conv(x))
        return self.double_conv(x)


class DomeDown(nn.Module):  # modules.py Down
    def __init__(self, c_in: int, c_out: int, emb_dim: int) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(
            nn.MaxPool2d(2),
            DomeDoubleConv(c_in, c_in, residual=True),
            DomeDoubleConv(c_in, c_out),
        )
        self.emb_layer = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, c_out))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = self.maxpool_conv(x)
        emb = self.emb_layer(t)[:, :, None, None].repeat(1, 1, x.shape[-2], x.shape[-1])
        return x + emb


class DomeUp(nn.Module):  # modules.py Up
    def __init__(self, c_in: int, c_out: int, emb_dim: int) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv = nn.Sequential(
            DomeDoubleConv(c_in, c_in, residual=True),
            DomeDoubleConv(c_in, c_out, c_in // 2),
        )
        self.emb_layer = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, c_out))

    def forward(self, x: torch.Tensor, skip_x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        x = torch.cat([skip_x, x], dim=1)
        x = self.conv(x)
        emb = self.emb_layer(t)[:, :, None, None].repeat(1, 1, x.shape[-2], x.shape[-1])
        return x + emb


class DomeUNet(nn.Module):  # modules.py UNet, narrowed (two levels, base 16, time_dim 32)
    def __init__(self, c_in: int = 3, c_out: int = 3, time_dim: int = 32) -> None:
        super().__init__()
        self.time_dim = time_dim
        self.inc = DomeDoubleConv(c_in, 16)
        self.down1 = DomeDown(16, 32, time_dim)
        self.sa1 = DomeSelfAttention(32, 8)
        self.down2 = DomeDown(32, 32, time_dim)
        self.sa2 = DomeSelfAttention(32, 4)
        self.bot1 = DomeDoubleConv(32, 64)
        self.bot2 = DomeDoubleConv(64, 64)
        self.bot3 = DomeDoubleConv(64, 32)
        self.up1 = DomeUp(64, 16, time_dim)
        self.sa3 = DomeSelfAttention(16, 8)
        self.up2 = DomeUp(32, 16, time_dim)
        self.sa4 = DomeSelfAttention(16, 16)
        self.outc = nn.Conv2d(16, c_out, kernel_size=1)

    def pos_encoding(self, t: torch.Tensor, channels: int) -> torch.Tensor:
        inv_freq = 1.0 / (10000 ** (torch.arange(0, channels, 2).float() / channels))
        pos_enc_a = torch.sin(t.repeat(1, channels // 2) * inv_freq)
        pos_enc_b = torch.cos(t.repeat(1, channels // 2) * inv_freq)
        return torch.cat([pos_enc_a, pos_enc_b], dim=-1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.unsqueeze(-1).type(torch.float)
        t = self.pos_encoding(t, self.time_dim)
        x1 = self.inc(x)
        x2 = self.down1(x1, t)
        x2 = self.sa1(x2)
        x3 = self.down2(x2, t)
        x3 = self.sa2(x3)
        x3 = self.bot1(x3)
        x3 = self.bot2(x3)
        x3 = self.bot3(x3)
        x = self.up1(x3, x2, t)
        x = self.sa3(x)
        x = self.up2(x, x1, t)
        x = self.sa4(x)
        return self.outc(x)


# ---------------------------------------------------------------- delta-onera segnet_pytorch


class SegNet(nn.Module):  # segnet.py SegNet, narrowed to three levels (2, 2, 3 convs)
    def __init__(self, input_nbr: int = 3, label_nbr: int = 4, momentum: float = 0.1) -> None:
        super().__init__()
        self.conv11 = nn.Conv2d(input_nbr, 8, kernel_size=3, padding=1)
        self.bn11 = nn.BatchNorm2d(8, momentum=momentum)
        self.conv12 = nn.Conv2d(8, 8, kernel_size=3, padding=1)
        self.bn12 = nn.BatchNorm2d(8, momentum=momentum)
        self.conv21 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.bn21 = nn.BatchNorm2d(16, momentum=momentum)
        self.conv22 = nn.Conv2d(16, 16, kernel_size=3, padding=1)
        self.bn22 = nn.BatchNorm2d(16, momentum=momentum)
        self.conv31 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.bn31 = nn.BatchNorm2d(32, momentum=momentum)
        self.conv32 = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.bn32 = nn.BatchNorm2d(32, momentum=momentum)
        self.conv33 = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.bn33 = nn.BatchNorm2d(32, momentum=momentum)

        self.conv33d = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.bn33d = nn.BatchNorm2d(32, momentum=momentum)
        self.conv32d = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.bn32d = nn.BatchNorm2d(32, momentum=momentum)
        self.conv31d = nn.Conv2d(32, 16, kernel_size=3, padding=1)
        self.bn31d = nn.BatchNorm2d(16, momentum=momentum)
        self.conv22d = nn.Conv2d(16, 16, kernel_size=3, padding=1)
        self.bn22d = nn.BatchNorm2d(16, momentum=momentum)
        self.conv21d = nn.Conv2d(16, 8, kernel_size=3, padding=1)
        self.bn21d = nn.BatchNorm2d(8, momentum=momentum)
        self.conv12d = nn.Conv2d(8, 8, kernel_size=3, padding=1)
        self.bn12d = nn.BatchNorm2d(8, momentum=momentum)
        self.conv11d = nn.Conv2d(8, label_nbr, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x11 = F.relu(self.bn11(self.conv11(x)))
        x12 = F.relu(self.bn12(self.conv12(x11)))
        x1p, id1 = F.max_pool2d(x12, kernel_size=2, stride=2, return_indices=True)
        x21 = F.relu(self.bn21(self.conv21(x1p)))
        x22 = F.relu(self.bn22(self.conv22(x21)))
        x2p, id2 = F.max_pool2d(x22, kernel_size=2, stride=2, return_indices=True)
        x31 = F.relu(self.bn31(self.conv31(x2p)))
        x32 = F.relu(self.bn32(self.conv32(x31)))
        x33 = F.relu(self.bn33(self.conv33(x32)))
        x3p, id3 = F.max_pool2d(x33, kernel_size=2, stride=2, return_indices=True)

        x3d = F.max_unpool2d(x3p, id3, kernel_size=2, stride=2)
        x33d = F.relu(self.bn33d(self.conv33d(x3d)))
        x32d = F.relu(self.bn32d(self.conv32d(x33d)))
        x31d = F.relu(self.bn31d(self.conv31d(x32d)))
        x2d = F.max_unpool2d(x31d, id2, kernel_size=2, stride=2)
        x22d = F.relu(self.bn22d(self.conv22d(x2d)))
        x21d = F.relu(self.bn21d(self.conv21d(x22d)))
        x1d = F.max_unpool2d(x21d, id1, kernel_size=2, stride=2)
        x12d = F.relu(self.bn12d(self.conv12d(x1d)))
        return self.conv11d(x12d)


# ------------------------------------------------------------ L1aoXingyu/pytorch-beginner conv AE


class BeginnerConvAutoencoder(nn.Module):  # 08-AutoEncoder/conv_autoencoder.py autoencoder
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=3, padding=1),  # b, 16, 10, 10
            nn.ReLU(True),
            nn.MaxPool2d(2, stride=2),  # b, 16, 5, 5
            nn.Conv2d(16, 8, 3, stride=2, padding=1),  # b, 8, 3, 3
            nn.ReLU(True),
            nn.MaxPool2d(2, stride=1),  # b, 8, 2, 2
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 16, 3, stride=2),  # b, 16, 5, 5
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 8, 5, stride=3, padding=1),  # b, 8, 15, 15
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 1, 2, stride=2, padding=1),  # b, 1, 28, 28
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.encoder(x)
        return self.decoder(x)


# --------------------------------------------------------------------- jt827859032/DRRN-pytorch


class Drrn(nn.Module):  # drrn.py DRRN (one recursive block of 25 units), width 16
    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.input = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.conv1 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.output = nn.Conv2d(width, 1, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        inputs = self.input(self.relu(x))
        out = inputs
        for _ in range(25):
            out = self.conv2(self.relu(self.conv1(self.relu(out))))
            out = torch.add(out, inputs)
        out = self.output(self.relu(out))
        return torch.add(out, residual)


# -------------------------------------------------------------------- twtygqyy/pytorch-SRResNet


class SrResidualBlock(nn.Module):  # srresnet.py _Residual_Block
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.in1 = nn.InstanceNorm2d(c, affine=True)
        self.relu = nn.LeakyReLU(0.2, inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.in2 = nn.InstanceNorm2d(c, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity_data = x
        output = self.relu(self.in1(self.conv1(x)))
        output = self.in2(self.conv2(output))
        return torch.add(output, identity_data)


class TwtySRResNet(nn.Module):  # srresnet.py _NetG (x4), width 16, two residual blocks
    def __init__(self, c: int = 16, n_blocks: int = 2) -> None:
        super().__init__()
        self.conv_input = nn.Conv2d(3, c, 9, 1, 4, bias=False)
        self.relu = nn.LeakyReLU(0.2, inplace=True)
        self.residual = nn.Sequential(*[SrResidualBlock(c) for _ in range(n_blocks)])  # make_layer
        self.conv_mid = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn_mid = nn.InstanceNorm2d(c, affine=True)
        self.upscale4x = nn.Sequential(
            nn.Conv2d(c, c * 4, 3, 1, 1, bias=False),
            nn.PixelShuffle(2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c, c * 4, 3, 1, 1, bias=False),
            nn.PixelShuffle(2),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.conv_output = nn.Conv2d(c, 3, 9, 1, 4, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.conv_input(x))
        residual = out
        out = self.residual(out)
        out = self.bn_mid(self.conv_mid(out))
        out = torch.add(out, residual)
        out = self.upscale4x(out)
        return self.conv_output(out)


# ---------------------------------------------------------------------- Eromera/erfnet_pytorch


class ErfDownsamplerBlock(nn.Module):  # erfnet.py DownsamplerBlock
    def __init__(self, ninput: int, noutput: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ninput, noutput - ninput, (3, 3), stride=2, padding=1, bias=True)
        self.pool = nn.MaxPool2d(2, stride=2)
        self.bn = nn.BatchNorm2d(noutput, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = torch.cat([self.conv(x), self.pool(x)], 1)
        return F.relu(self.bn(output))


class ErfNonBottleneck1d(nn.Module):  # erfnet.py non_bottleneck_1d
    def __init__(self, chann: int, dropprob: float, dilated: int) -> None:
        super().__init__()
        self.conv3x1_1 = nn.Conv2d(chann, chann, (3, 1), stride=1, padding=(1, 0), bias=True)
        self.conv1x3_1 = nn.Conv2d(chann, chann, (1, 3), stride=1, padding=(0, 1), bias=True)
        self.bn1 = nn.BatchNorm2d(chann, eps=1e-03)
        self.conv3x1_2 = nn.Conv2d(
            chann, chann, (3, 1), stride=1, padding=(dilated, 0), bias=True, dilation=(dilated, 1)
        )
        self.conv1x3_2 = nn.Conv2d(
            chann, chann, (1, 3), stride=1, padding=(0, dilated), bias=True, dilation=(1, dilated)
        )
        self.bn2 = nn.BatchNorm2d(chann, eps=1e-03)
        self.dropout = nn.Dropout2d(dropprob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = F.relu(self.conv3x1_1(x))
        output = F.relu(self.bn1(self.conv1x3_1(output)))
        output = F.relu(self.conv3x1_2(output))
        output = self.bn2(self.conv1x3_2(output))
        if self.dropout.p != 0:
            output = self.dropout(output)
        return F.relu(output + x)


class ErfEncoder(nn.Module):  # erfnet.py Encoder, narrowed
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.initial_block = ErfDownsamplerBlock(3, 8)
        self.layers = nn.ModuleList()
        self.layers.append(ErfDownsamplerBlock(8, 16))
        self.layers.append(ErfNonBottleneck1d(16, 0.03, 1))
        self.layers.append(ErfDownsamplerBlock(16, 32))
        self.layers.append(ErfNonBottleneck1d(32, 0.3, 2))
        self.layers.append(ErfNonBottleneck1d(32, 0.3, 4))
        self.output_conv = nn.Conv2d(32, num_classes, 1, stride=1, padding=0, bias=True)

    def forward(self, x: torch.Tensor, predict: bool = False) -> torch.Tensor:
        output = self.initial_block(x)
        for layer in self.layers:
            output = layer(output)
        if predict:
            output = self.output_conv(output)
        return output


class ErfUpsamplerBlock(nn.Module):  # erfnet.py UpsamplerBlock
    def __init__(self, ninput: int, noutput: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(
            ninput, noutput, 3, stride=2, padding=1, output_padding=1, bias=True
        )
        self.bn = nn.BatchNorm2d(noutput, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class ErfDecoder(nn.Module):  # erfnet.py Decoder, narrowed
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        self.layers.append(ErfUpsamplerBlock(32, 16))
        self.layers.append(ErfNonBottleneck1d(16, 0, 1))
        self.layers.append(ErfUpsamplerBlock(16, 8))
        self.layers.append(ErfNonBottleneck1d(8, 0, 1))
        self.output_conv = nn.ConvTranspose2d(
            8, num_classes, 2, stride=2, padding=0, output_padding=0, bias=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = x
        for layer in self.layers:
            output = layer(output)
        return self.output_conv(output)


class ErfNet(nn.Module):  # erfnet.py Net
    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.encoder = ErfEncoder(num_classes)
        self.decoder = ErfDecoder(num_classes)

    def forward(self, x: torch.Tensor, only_encode: bool = False) -> torch.Tensor:
        if only_encode:
            return self.encoder.forward(x, predict=True)
        output = self.encoder(x)
        return self.decoder.forward(output)


ZOO = {  # name: (build, input shape, takes a timestep)
    "nafnet": (NAFNet, (2, 3, 16, 16), False),
    "zalando_vqvae": (ZalandoVqVae, (2, 3, 16, 16), False),
    "dome272_ddpm_unet": (DomeUNet, (2, 3, 16, 16), True),
    "segnet": (SegNet, (2, 3, 32, 32), False),
    "beginner_conv_ae": (BeginnerConvAutoencoder, (2, 1, 28, 28), False),
    "drrn": (Drrn, (2, 1, 8, 8), False),
    "twty_srresnet": (TwtySRResNet, (2, 3, 6, 6), False),
    "erfnet": (ErfNet, (2, 3, 32, 32), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Net)."""
    return generative_reference(ZOO[name])
