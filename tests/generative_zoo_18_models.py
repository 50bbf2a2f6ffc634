"""Generative and dense-prediction nets as other repositories write them, eleventh zoo (issue 16,
session 18): test-only reference models for tests/test_generative_zoo_18.py. Reference code, not
generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- Janspiry's SR3 (Image-Super-Resolution-via-Iterative-Refinement) UNet: a `noise_level_mlp` over a
  PositionalEncoding, `downs`/`mid`/`ups` ModuleLists of ResnetBlocWithAttn (`res_block` with a
  `noise_func` Linear, `block1`/`block2` GroupNorm-Swish-Conv Sequentials, a 1x1 `res_conv`),
  a SelfAttention (`norm`, `qkv`, `out`), strided-conv Downsample, nearest-upsample-conv Upsample,
  skip concatenation, a `final_conv` Block;
- yang-song's score-SDE tutorial ScoreNet: a GaussianFourierProjection (a frozen `W`), `embed`
  Sequential, `conv1..4` with `dense1..` Linear time projections and GroupNorms, `tconv4..1`
  transposed convs with skip concatenation, the output divided by the marginal std of t;
- rosinality's vq-vae-2-pytorch VQVAE: two-level `enc_b`/`enc_t` Encoders with ResBlocks,
  `quantize_conv_t`/`quantize_conv_b`, Quantize modules with `embed` buffers (nearest code by
  distance, straight-through), `dec_t`, `upsample_t`, `dec` (forward returns the decoded image);
- DRCN (deeply-recursive convolutional network): an `embedding_net`, one shared `inference_net`
  conv applied D times, a shared `reconstruction_net` after every recursion, a learned weighted
  sum of the D predictions plus the input skip;
- hszhao/semseg-style PSPNet: a dilated ResNet-ish backbone `layer0..layer4`, a PPM of
  AdaptiveAvgPool2d bins (1, 2, 3, 6) with 1x1 conv-BN-ReLU, bilinear resizes, concatenation, a
  `cls` head and a final bilinear resize to the input;
- eriklindernoren/PyTorch-GAN's pix2pix GeneratorUNet: UNetDown (4x4 s2 conv, InstanceNorm,
  LeakyReLU 0.2), UNetUp (transposed conv, InstanceNorm, ReLU, the skip concatenated after it),
  a `final` Sequential of Upsample, ZeroPad2d((1, 0, 1, 0)), a 4x4 conv and Tanh;
- cszn/KAIR's DRUNet (UNetRes): bias-free `m_head`, `m_down1..3` of ResBlocks then a 2x2 strided
  conv, `m_body`, `m_up3..1` of a 2x2 transposed conv then ResBlocks, additive skips, `m_tail`;
- pytorch/examples fast_neural_style TransformerNet: ConvLayers with ReflectionPad2d, affine
  InstanceNorms `in1..in5`, ResidualBlocks, UpsampleConvLayers (nearest interpolate then conv).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ------------------------------------------------------------------ Janspiry SR3 UNet


class PositionalEncoding(nn.Module):  # sr3_modules/unet.py
    def __init__(self, dim) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, noise_level: torch.Tensor) -> torch.Tensor:
        count = self.dim // 2
        step = torch.arange(count, dtype=noise_level.dtype, device=noise_level.device) / count
        encoding = noise_level.unsqueeze(1) * torch.exp(-math.log(1e4) * step.unsqueeze(0))
        return torch.cat([torch.sin(encoding), torch.cos(encoding)], dim=-1)


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class FeatureWiseAffine(nn.Module):  # sr3 FeatureWiseAffine(use_affine_level=False)
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.noise_func = nn.Sequential(nn.Linear(c_in, c_out))

    def forward(self, x: torch.Tensor, noise_embed: torch.Tensor) -> torch.Tensor:
        return x + self.noise_func(noise_embed).view(x.shape[0], -1, 1, 1)


class Sr3Block(nn.Module):  # sr3 Block
    def __init__(self, dim, dim_out, groups=8) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.GroupNorm(groups, dim), Swish(), nn.Identity(), nn.Conv2d(dim, dim_out, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Sr3ResnetBlock(nn.Module):  # sr3 ResnetBlock
    def __init__(self, dim, dim_out, noise_dim, groups=8) -> None:
        super().__init__()
        self.noise_func = FeatureWiseAffine(noise_dim, dim_out)
        self.block1 = Sr3Block(dim, dim_out, groups)
        self.block2 = Sr3Block(dim_out, dim_out, groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x)
        h = self.noise_func(h, time_emb)
        h = self.block2(h)
        return h + self.res_conv(x)


class Sr3SelfAttention(nn.Module):  # sr3 SelfAttention, one head
    def __init__(self, c, n_head=1, groups=8) -> None:
        super().__init__()
        self.n_head = n_head
        self.norm = nn.GroupNorm(groups, c)
        self.qkv = nn.Conv2d(c, c * 3, 1, bias=False)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channel, height, width = x.shape
        n_head = self.n_head
        head_dim = channel // n_head
        norm = self.norm(x)
        qkv = self.qkv(norm).view(batch, n_head, head_dim * 3, height, width)
        query, key, value = qkv.chunk(3, dim=2)
        attn = torch.einsum("bnchw, bncyx -> bnhwyx", query, key).contiguous() / math.sqrt(channel)
        attn = attn.view(batch, n_head, height, width, -1)
        attn = torch.softmax(attn, -1)
        attn = attn.view(batch, n_head, height, width, height, width)
        out = torch.einsum("bnhwyx, bncyx -> bnchw", attn, value).contiguous()
        out = self.out(out.view(batch, channel, height, width))
        return out + x


class ResnetBlocWithAttn(nn.Module):  # sr3 ResnetBlocWithAttn
    def __init__(self, dim, dim_out, noise_dim, groups=8, with_attn=False) -> None:
        super().__init__()
        self.with_attn = with_attn
        self.res_block = Sr3ResnetBlock(dim, dim_out, noise_dim, groups)
        if with_attn:
            self.attn = Sr3SelfAttention(dim_out, groups=groups)

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        x = self.res_block(x, time_emb)
        return self.attn(x) if self.with_attn else x


class Sr3Downsample(nn.Module):
    def __init__(self, dim) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Sr3Upsample(nn.Module):
    def __init__(self, dim) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.up(x))


class Sr3UNet(nn.Module):  # sr3 UNet(inner_channel 8, mults (1, 2), attn_res (8,), res_blocks 1)
    def __init__(
        self,
        in_channel=3,
        out_channel=3,
        inner=8,
        mults=(1, 2),
        res_blocks=1,
        attn_res=(8,),
        image_size=16,
    ) -> None:
        super().__init__()
        noise_dim = inner
        self.noise_level_mlp = nn.Sequential(
            PositionalEncoding(inner),
            nn.Linear(inner, inner * 4),
            Swish(),
            nn.Linear(inner * 4, inner),
        )
        num_mults = len(mults)
        pre_channel = inner
        feat_channels = [pre_channel]
        now_res = image_size
        downs = [nn.Conv2d(in_channel, inner, 3, padding=1)]
        for ind in range(num_mults):
            is_last = ind == num_mults - 1
            use_attn = now_res in attn_res
            channel_mult = inner * mults[ind]
            for _ in range(res_blocks):
                downs.append(
                    ResnetBlocWithAttn(pre_channel, channel_mult, noise_dim, with_attn=use_attn)
                )
                feat_channels.append(channel_mult)
                pre_channel = channel_mult
            if not is_last:
                downs.append(Sr3Downsample(pre_channel))
                feat_channels.append(pre_channel)
                now_res = now_res // 2
        self.downs = nn.ModuleList(downs)
        self.mid = nn.ModuleList(
            [
                ResnetBlocWithAttn(pre_channel, pre_channel, noise_dim, with_attn=True),
                ResnetBlocWithAttn(pre_channel, pre_channel, noise_dim, with_attn=False),
            ]
        )
        ups = []
        for ind in reversed(range(num_mults)):
            is_last = ind < 1
            use_attn = now_res in attn_res
            channel_mult = inner * mults[ind]
            for _ in range(res_blocks + 1):
                ups.append(
                    ResnetBlocWithAttn(
                        pre_channel + feat_channels.pop(),
                        channel_mult,
                        noise_dim,
                        with_attn=use_attn,
                    )
                )
                pre_channel = channel_mult
            if not is_last:
                ups.append(Sr3Upsample(pre_channel))
                now_res = now_res * 2
        self.ups = nn.ModuleList(ups)
        self.final_conv = Sr3Block(pre_channel, out_channel, groups=8)

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        t = self.noise_level_mlp(time.float())
        feats = []
        for layer in self.downs:
            x = layer(x, t) if isinstance(layer, ResnetBlocWithAttn) else layer(x)
            feats.append(x)
        for layer in self.mid:
            x = layer(x, t)
        for layer in self.ups:
            if isinstance(layer, ResnetBlocWithAttn):
                x = layer(torch.cat((x, feats.pop()), dim=1), t)
            else:
                x = layer(x)
        return self.final_conv(x)


# ------------------------------------------------------------------ yang-song score-SDE ScoreNet


class GaussianFourierProjection(nn.Module):  # the score_sde tutorial notebook
    def __init__(self, embed_dim, scale=30.0) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.randn(embed_dim // 2) * scale, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_proj = x[:, None] * self.W[None, :] * 2 * math.pi
        return torch.cat([torch.sin(x_proj), torch.cos(x_proj)], dim=-1)


class Dense(nn.Module):  # the notebook's Dense: a Linear reshaped to feature maps
    def __init__(self, input_dim, output_dim) -> None:
        super().__init__()
        self.dense = nn.Linear(input_dim, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(x)[..., None, None]


class ScoreNet(nn.Module):  # the notebook's time-dependent U-Net score model, narrowed
    def __init__(self, channels=(8, 16, 32, 32), embed_dim=16, sigma=25.0) -> None:
        super().__init__()
        self.sigma = sigma
        self.embed = nn.Sequential(
            GaussianFourierProjection(embed_dim), nn.Linear(embed_dim, embed_dim)
        )
        self.conv1 = nn.Conv2d(1, channels[0], 3, stride=1, bias=False)
        self.dense1 = Dense(embed_dim, channels[0])
        self.gnorm1 = nn.GroupNorm(4, num_channels=channels[0])
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, stride=2, bias=False)
        self.dense2 = Dense(embed_dim, channels[1])
        self.gnorm2 = nn.GroupNorm(8, num_channels=channels[1])
        self.conv3 = nn.Conv2d(channels[1], channels[2], 3, stride=2, bias=False)
        self.dense3 = Dense(embed_dim, channels[2])
        self.gnorm3 = nn.GroupNorm(8, num_channels=channels[2])
        self.conv4 = nn.Conv2d(channels[2], channels[3], 3, stride=2, bias=False)
        self.dense4 = Dense(embed_dim, channels[3])
        self.gnorm4 = nn.GroupNorm(8, num_channels=channels[3])
        self.tconv4 = nn.ConvTranspose2d(channels[3], channels[2], 3, stride=2, bias=False)
        self.dense5 = Dense(embed_dim, channels[2])
        self.tgnorm4 = nn.GroupNorm(8, num_channels=channels[2])
        self.tconv3 = nn.ConvTranspose2d(
            channels[2] + channels[2], channels[1], 3, stride=2, bias=False, output_padding=1
        )
        self.dense6 = Dense(embed_dim, channels[1])
        self.tgnorm3 = nn.GroupNorm(8, num_channels=channels[1])
        self.tconv2 = nn.ConvTranspose2d(
            channels[1] + channels[1], channels[0], 3, stride=2, bias=False, output_padding=1
        )
        self.dense7 = Dense(embed_dim, channels[0])
        self.tgnorm2 = nn.GroupNorm(4, num_channels=channels[0])
        self.tconv1 = nn.ConvTranspose2d(channels[0] + channels[0], 1, 3, stride=1)
        self.act = lambda x: x * torch.sigmoid(x)

    def marginal_prob_std(self, t: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((self.sigma ** (2 * t) - 1.0) / 2.0 / math.log(self.sigma))

    def forward(self, x: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        t = step.float() / 1000.0  # the notebook's t in (0, 1]; the bench passes integer steps
        embed = self.act(self.embed(t))
        h1 = self.act(self.gnorm1(self.conv1(x) + self.dense1(embed)))
        h2 = self.act(self.gnorm2(self.conv2(h1) + self.dense2(embed)))
        h3 = self.act(self.gnorm3(self.conv3(h2) + self.dense3(embed)))
        h4 = self.act(self.gnorm4(self.conv4(h3) + self.dense4(embed)))
        h = self.act(self.tgnorm4(self.tconv4(h4) + self.dense5(embed)))
        h = self.act(self.tgnorm3(self.tconv3(torch.cat([h, h3], dim=1)) + self.dense6(embed)))
        h = self.act(self.tgnorm2(self.tconv2(torch.cat([h, h2], dim=1)) + self.dense7(embed)))
        h = self.tconv1(torch.cat([h, h1], dim=1))
        return h / self.marginal_prob_std(t)[:, None, None, None]


# ------------------------------------------------------------------ rosinality vq-vae-2


class Quantize(nn.Module):  # vqvae.py Quantize (EMA codebook buffers)
    def __init__(self, dim, n_embed, decay=0.99, eps=1e-5) -> None:
        super().__init__()
        self.dim = dim
        self.n_embed = n_embed
        self.decay = decay
        self.eps = eps
        embed = torch.randn(dim, n_embed)
        self.register_buffer("embed", embed)
        self.register_buffer("cluster_size", torch.zeros(n_embed))
        self.register_buffer("embed_avg", embed.clone())

    def forward(self, input: torch.Tensor):
        flatten = input.reshape(-1, self.dim)
        dist = (
            flatten.pow(2).sum(1, keepdim=True)
            - 2 * flatten @ self.embed
            + self.embed.pow(2).sum(0, keepdim=True)
        )
        _, embed_ind = (-dist).max(1)
        embed_ind = embed_ind.view(*input.shape[:-1])
        quantize = F.embedding(embed_ind, self.embed.transpose(0, 1))
        diff = (quantize.detach() - input).pow(2).mean()
        quantize = input + (quantize - input).detach()
        return quantize, diff, embed_ind


class VqResBlock(nn.Module):  # vqvae.py ResBlock
    def __init__(self, in_channel, channel) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(in_channel, channel, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel, in_channel, 1),
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.conv(input) + input


class VqEncoder(nn.Module):  # vqvae.py Encoder
    def __init__(self, in_channel, channel, n_res_block, n_res_channel, stride) -> None:
        super().__init__()
        if stride == 4:
            blocks = [
                nn.Conv2d(in_channel, channel // 2, 4, stride=2, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(channel // 2, channel, 4, stride=2, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(channel, channel, 3, padding=1),
            ]
        else:
            blocks = [
                nn.Conv2d(in_channel, channel // 2, 4, stride=2, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(channel // 2, channel, 3, padding=1),
            ]
        blocks += [VqResBlock(channel, n_res_channel) for _ in range(n_res_block)]
        blocks.append(nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.blocks(input)


class VqDecoder(nn.Module):  # vqvae.py Decoder
    def __init__(
        self, in_channel, out_channel, channel, n_res_block, n_res_channel, stride
    ) -> None:
        super().__init__()
        blocks = [nn.Conv2d(in_channel, channel, 3, padding=1)]
        blocks += [VqResBlock(channel, n_res_channel) for _ in range(n_res_block)]
        blocks.append(nn.ReLU(inplace=True))
        if stride == 4:
            blocks += [
                nn.ConvTranspose2d(channel, channel // 2, 4, stride=2, padding=1),
                nn.ReLU(inplace=True),
                nn.ConvTranspose2d(channel // 2, out_channel, 4, stride=2, padding=1),
            ]
        else:
            blocks.append(nn.ConvTranspose2d(channel, out_channel, 4, stride=2, padding=1))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.blocks(input)


class RosinalityVQVAE2(nn.Module):  # vqvae.py VQVAE, narrowed
    def __init__(
        self, in_channel=3, channel=16, n_res_block=1, n_res_channel=8, embed_dim=8, n_embed=32
    ) -> None:
        super().__init__()
        self.enc_b = VqEncoder(in_channel, channel, n_res_block, n_res_channel, stride=4)
        self.enc_t = VqEncoder(channel, channel, n_res_block, n_res_channel, stride=2)
        self.quantize_conv_t = nn.Conv2d(channel, embed_dim, 1)
        self.quantize_t = Quantize(embed_dim, n_embed)
        self.dec_t = VqDecoder(embed_dim, embed_dim, channel, n_res_block, n_res_channel, stride=2)
        self.quantize_conv_b = nn.Conv2d(embed_dim + channel, embed_dim, 1)
        self.quantize_b = Quantize(embed_dim, n_embed)
        self.upsample_t = nn.ConvTranspose2d(embed_dim, embed_dim, 4, stride=2, padding=1)
        self.dec = VqDecoder(
            embed_dim + embed_dim, in_channel, channel, n_res_block, n_res_channel, stride=4
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        enc_b = self.enc_b(input)
        enc_t = self.enc_t(enc_b)
        quant_t = self.quantize_conv_t(enc_t).permute(0, 2, 3, 1)
        quant_t, _diff_t, _ = self.quantize_t(quant_t)
        quant_t = quant_t.permute(0, 3, 1, 2)
        dec_t = self.dec_t(quant_t)
        enc_b = torch.cat([dec_t, enc_b], 1)
        quant_b = self.quantize_conv_b(enc_b).permute(0, 2, 3, 1)
        quant_b, _diff_b, _ = self.quantize_b(quant_b)
        quant_b = quant_b.permute(0, 3, 1, 2)
        upsample_t = self.upsample_t(quant_t)
        return self.dec(torch.cat([upsample_t, quant_b], 1))  # the repo also returns the diff


# ------------------------------------------------------------------ DRCN


class DRCN(nn.Module):  # deeply-recursive conv net (a common PyTorch port), narrowed
    def __init__(self, num_channels=1, base=16, recursions=4) -> None:
        super().__init__()
        self.recursions = recursions
        self.embedding_net = nn.Sequential(
            nn.Conv2d(num_channels, base, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(base, base, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.inference_net = nn.Sequential(
            nn.Conv2d(base, base, 3, padding=1), nn.ReLU(inplace=True)
        )
        self.reconstruction_net = nn.Sequential(
            nn.Conv2d(base, base, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(base, num_channels, 3, padding=1),
        )
        self.w_init = torch.ones(recursions) / recursions
        self.w = nn.Parameter(self.w_init.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = self.embedding_net(x)
        h = [h0]
        for d in range(self.recursions):
            h.append(self.inference_net(h[d]))
        y_d_ = [self.reconstruction_net(h[d + 1]) + x for d in range(self.recursions)]
        out_sum = 0
        for d in range(self.recursions):
            out_sum = out_sum + y_d_[d] * self.w[d]
        return out_sum / torch.sum(self.w)


# ------------------------------------------------------------------ hszhao/semseg-style PSPNet


class PPM(nn.Module):  # semseg model/pspnet.py PPM
    def __init__(self, in_dim, reduction_dim, bins) -> None:
        super().__init__()
        self.features = nn.ModuleList(
            [
                nn.Sequential(
                    nn.AdaptiveAvgPool2d(bin),
                    nn.Conv2d(in_dim, reduction_dim, 1, bias=False),
                    nn.BatchNorm2d(reduction_dim),
                    nn.ReLU(inplace=True),
                )
                for bin in bins
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_size = x.size()
        out = [x]
        for f in self.features:
            out.append(F.interpolate(f(x), x_size[2:], mode="bilinear", align_corners=True))
        return torch.cat(out, 1)


class PspBasicBlock(nn.Module):  # a ResNet BasicBlock with a dilation (the backbone made dilated)
    def __init__(self, c_in, c_out, stride=1, dilation=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, dilation, dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if c_in != c_out or stride != 1:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class PSPNet(nn.Module):  # semseg model/pspnet.py PSPNet, a narrowed dilated backbone
    def __init__(self, classes=4, bins=(1, 2, 3, 6)) -> None:
        super().__init__()
        self.layer0 = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 16, 3, 1, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        self.layer1 = nn.Sequential(PspBasicBlock(16, 16))
        self.layer2 = nn.Sequential(PspBasicBlock(16, 24, stride=2))
        self.layer3 = nn.Sequential(PspBasicBlock(24, 32, dilation=2))
        self.layer4 = nn.Sequential(PspBasicBlock(32, 32, dilation=4))
        fea_dim = 32
        self.ppm = PPM(fea_dim, fea_dim // len(bins), bins)
        fea_dim *= 2
        self.cls = nn.Sequential(
            nn.Conv2d(fea_dim, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.Dropout2d(p=0.1),
            nn.Conv2d(16, classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.size()[2:]
        x = self.layer2(self.layer1(self.layer0(x)))
        x = self.layer4(self.layer3(x))
        x = self.cls(self.ppm(x))
        return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=True)


# ------------------------------------------------------------------ eriklindernoren pix2pix


class UNetDown(nn.Module):  # PyTorch-GAN implementations/pix2pix/models.py
    def __init__(self, in_size, out_size, normalize=True, dropout=0.0) -> None:
        super().__init__()
        layers = [nn.Conv2d(in_size, out_size, 4, 2, 1, bias=False)]
        if normalize:
            layers.append(nn.InstanceNorm2d(out_size))
        layers.append(nn.LeakyReLU(0.2))
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UNetUp(nn.Module):
    def __init__(self, in_size, out_size, dropout=0.0) -> None:
        super().__init__()
        layers = [
            nn.ConvTranspose2d(in_size, out_size, 4, 2, 1, bias=False),
            nn.InstanceNorm2d(out_size),
            nn.ReLU(inplace=True),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, skip_input: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.model(x), skip_input), 1)


class GeneratorUNet(nn.Module):  # narrowed to four levels
    def __init__(self, in_channels=3, out_channels=3) -> None:
        super().__init__()
        self.down1 = UNetDown(in_channels, 8, normalize=False)
        self.down2 = UNetDown(8, 16)
        self.down3 = UNetDown(16, 32, dropout=0.5)
        self.down4 = UNetDown(32, 32, normalize=False, dropout=0.5)
        self.up1 = UNetUp(32, 32, dropout=0.5)
        self.up2 = UNetUp(64, 16)
        self.up3 = UNetUp(32, 8)
        self.final = nn.Sequential(
            nn.Upsample(scale_factor=2),
            nn.ZeroPad2d((1, 0, 1, 0)),
            nn.Conv2d(16, out_channels, 4, padding=1),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        d4 = self.down4(d3)
        u1 = self.up1(d4, d3)
        u2 = self.up2(u1, d2)
        u3 = self.up3(u2, d1)
        return self.final(u3)


# ------------------------------------------------------------------ KAIR DRUNet (UNetRes)


class KairResBlock(nn.Module):  # KAIR models/basicblock.py ResBlock(mode='CRC'), bias-free
    def __init__(self, c) -> None:
        super().__init__()
        self.res = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, 1, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res(x)


class KairDRUNet(nn.Module):  # KAIR models/network_unet.py UNetRes, nb=1, narrowed
    def __init__(self, in_nc=4, out_nc=3, nc=(8, 16, 32, 64), nb=1) -> None:
        super().__init__()
        self.m_head = nn.Conv2d(in_nc, nc[0], 3, 1, 1, bias=False)
        self.m_down1 = nn.Sequential(
            *[KairResBlock(nc[0]) for _ in range(nb)], nn.Conv2d(nc[0], nc[1], 2, 2, 0, bias=False)
        )
        self.m_down2 = nn.Sequential(
            *[KairResBlock(nc[1]) for _ in range(nb)], nn.Conv2d(nc[1], nc[2], 2, 2, 0, bias=False)
        )
        self.m_down3 = nn.Sequential(
            *[KairResBlock(nc[2]) for _ in range(nb)], nn.Conv2d(nc[2], nc[3], 2, 2, 0, bias=False)
        )
        self.m_body = nn.Sequential(*[KairResBlock(nc[3]) for _ in range(nb)])
        self.m_up3 = nn.Sequential(
            nn.ConvTranspose2d(nc[3], nc[2], 2, 2, 0, bias=False),
            *[KairResBlock(nc[2]) for _ in range(nb)],
        )
        self.m_up2 = nn.Sequential(
            nn.ConvTranspose2d(nc[2], nc[1], 2, 2, 0, bias=False),
            *[KairResBlock(nc[1]) for _ in range(nb)],
        )
        self.m_up1 = nn.Sequential(
            nn.ConvTranspose2d(nc[1], nc[0], 2, 2, 0, bias=False),
            *[KairResBlock(nc[0]) for _ in range(nb)],
        )
        self.m_tail = nn.Conv2d(nc[0], out_nc, 3, 1, 1, bias=False)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x1 = self.m_head(x0)
        x2 = self.m_down1(x1)
        x3 = self.m_down2(x2)
        x4 = self.m_down3(x3)
        x = self.m_body(x4)
        x = self.m_up3(x + x4)
        x = self.m_up2(x + x3)
        x = self.m_up1(x + x2)
        return self.m_tail(x + x1)


# ------------------------------------------------------------- fast_neural_style TransformerNet


class ConvLayer(nn.Module):  # pytorch/examples fast_neural_style/neural_style/transformer_net.py
    def __init__(self, c_in, c_out, kernel_size, stride) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class StyleResidualBlock(nn.Module):
    def __init__(self, channels) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class UpsampleConvLayer(nn.Module):
    def __init__(self, c_in, c_out, kernel_size, stride, upsample=None) -> None:
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):  # narrowed widths, two residual blocks
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(3, 8, 9, 1)
        self.in1 = nn.InstanceNorm2d(8, affine=True)
        self.conv2 = ConvLayer(8, 16, 3, 2)
        self.in2 = nn.InstanceNorm2d(16, affine=True)
        self.conv3 = ConvLayer(16, 32, 3, 2)
        self.in3 = nn.InstanceNorm2d(32, affine=True)
        self.res1 = StyleResidualBlock(32)
        self.res2 = StyleResidualBlock(32)
        self.deconv1 = UpsampleConvLayer(32, 16, 3, 1, upsample=2)
        self.in4 = nn.InstanceNorm2d(16, affine=True)
        self.deconv2 = UpsampleConvLayer(16, 8, 3, 1, upsample=2)
        self.in5 = nn.InstanceNorm2d(8, affine=True)
        self.deconv3 = ConvLayer(8, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res2(self.res1(y))
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


ZOO = {  # name: (build, input shape, takes a timestep)
    "janspiry_sr3_unet": (Sr3UNet, (2, 3, 16, 16), True),
    "yangsong_scorenet": (ScoreNet, (2, 1, 28, 28), True),
    "rosinality_vqvae2": (RosinalityVQVAE2, (2, 3, 32, 32), False),
    "drcn": (DRCN, (2, 1, 12, 12), False),
    "semseg_pspnet": (PSPNet, (2, 3, 48, 48), False),
    "eriklindernoren_pix2pix": (GeneratorUNet, (2, 3, 32, 32), False),
    "kair_drunet": (KairDRUNet, (2, 4, 16, 16), False),
    "fast_neural_style": (TransformerNet, (2, 3, 32, 32), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Net and the score net)."""
    return generative_reference(ZOO[name])
