"""Generative and dense-prediction nets as other repositories write them, twelfth zoo (issue 16,
session 19): test-only reference models for tests/test_generative_zoo_19.py. Reference code, not
generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used for that architecture, written from the structure of
each one's model file (key names, module order, the parameter-free steps between them) at
CPU-test sizes:
- The Annotated Diffusion Model's (huggingface blog) Unet: `init_conv` 1x1, a `time_mlp`
  Sequential (sinusoidal embedding, Linear, GELU, Linear), `downs`/`ups` ModuleLists of
  [ResnetBlock, ResnetBlock, Residual(PreNorm(LinearAttention)), Downsample] whose Blocks use a
  weight-standardized `proj` conv and a scale-shift from `mlp`, a space-to-depth Downsample
  (`downs.N.3.1` a 1x1 conv), `mid_block1`/`mid_attn`/`mid_block2`, a `final_res_block` over the
  init features concatenated, `final_conv`;
- abarankab/DDPM's UNet: `time_mlp` (a positional embedding, Linear, SiLU, Linear), `init_conv`,
  flat `downs`/`mid`/`ups` ModuleLists of ResidualBlocks (`norm_1`, `conv_1`, `time_bias` of
  the activated embedding, `norm_2`, `conv_2` Sequential of Dropout and conv,
  `residual_connection`, an `attention` AttentionBlock `norm`/`to_qkv`/`to_out`), stride-2
  conv Downsample, nearest Upsample Sequential, every down output kept as a skip, `out_norm`,
  `out_conv`;
- hkproj/pytorch-stable-diffusion's VAE: `encoder`/`decoder` nn.Sequential subclasses walked in
  their forward (strided convs padded (0, 1, 0, 1) first), VAE_ResidualBlocks (`groupnorm_1`,
  `conv_1`, `groupnorm_2`, `conv_2`, `residual_layer`), VAE_AttentionBlocks (`groupnorm`, an
  `attention` with `in_proj`/`out_proj` Linears over the flattened map), the latent scaled by
  0.18215 and unscaled in the decoder; the posterior mean decoded;
- Lornatang/SRGAN-PyTorch's SRResNet (x4): `conv1` (9x9 conv, PReLU), `trunk` of
  `_ResidualConvBlock`s (`rcb` Sequentials with batch norm and PReLU), `conv2` (bias-free conv,
  BN) added to `conv1`'s output, `upsampling` of conv + PixelShuffle + PReLU blocks, `conv3`,
  the output clamped to [0, 1];
- torchvision's LR-ASPP MobileNetV3-Large: `backbone` an IntermediateLayerGetter (a ModuleDict of
  `features` up to the last, the last stage dilated instead of strided), a `classifier`
  LRASPPHead (`cbr`, a `scale` gate of a pooled 1x1 conv and Sigmoid, `low_classifier` and
  `high_classifier` summed after a bilinear resize), the output resized to the input;
- qubvel's segmentation_models_pytorch Unet (ResNet encoder): `encoder` with torchvision ResNet
  keys (its stages read at five depths), `decoder.blocks.N` DecoderBlocks (nearest 2x upsample,
  the skip concatenated after, `conv1`/`conv2` Conv2dReLU Sequentials conv-BN-ReLU, parameter-
  free `attention1`/`attention2`), the last block with no skip, a `segmentation_head` 3x3 conv;
- BasicSR's RIDNet: `sub_mean`/`add_mean` MeanShift 1x1 convs, `head`, `body` EAM blocks
  (`merge` MergeRun: two dilated branches concatenated into `aggregation` plus the input,
  `block1` ResidualBlockNoBN then a ReLU, `block2` EResidualBlockNoBN, `ca` channel attention),
  `tail`, the input added back;
- joeylitalien/noise2noise-pytorch's UNet: `_block1`..`_block6` Sequentials, `_block2` (conv,
  ReLU, max-pool) applied four times and `_block5` (two convs, a transposed conv) three times with
  the same weights, skips concatenated after the upsampled map, a LeakyReLU(0.1) output.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference
from tests.vision_zoo_19_models import TvSqueezeExcitation  # the same torchvision SE

# ------------------------------------------------------------------ The Annotated Diffusion Unet


class Residual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


class SpaceToDepth(nn.Module):  # einops Rearrange("b c (h p1) (w p2) -> b (c p1 p2) h w")
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return x.reshape(b, c * 4, h // 2, w // 2)


def AnnUpsample(dim: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim, dim_out, 3, padding=1)
    )


def AnnDownsample(dim: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(SpaceToDepth(), nn.Conv2d(dim * 4, dim_out, 1))


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, time: torch.Tensor) -> torch.Tensor:
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=time.device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        return torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)


class WeightStandardizedConv2d(nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = 1e-5 if x.dtype == torch.float32 else 1e-3
        weight = self.weight
        mean = weight.mean(dim=(1, 2, 3), keepdim=True)
        var = weight.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        normalized_weight = (weight - mean) * (var + eps).rsqrt()
        return F.conv2d(
            x, normalized_weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class AnnBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, groups: int = 8) -> None:
        super().__init__()
        self.proj = WeightStandardizedConv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, scale_shift=None) -> torch.Tensor:
        x = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class AnnResnetBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, time_emb_dim: int, groups: int = 4) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1 = AnnBlock(dim, dim_out, groups=groups)
        self.block2 = AnnBlock(dim_out, dim_out, groups=groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        time_emb = self.mlp(time_emb)[:, :, None, None]
        scale_shift = time_emb.chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        h = self.block2(h)
        return h + self.res_conv(x)


class AnnAttention(nn.Module):
    def __init__(self, dim: int, heads: int = 2, dim_head: int = 8) -> None:
        super().__init__()
        self.scale = dim_head**-0.5
        self.heads = heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden_dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q * self.scale
        sim = torch.einsum("b h d i, b h d j -> b h i j", q, k)
        sim = sim - sim.amax(dim=-1, keepdim=True).detach()
        attn = sim.softmax(dim=-1)
        out = torch.einsum("b h i j, b h d j -> b h i d", attn, v)
        out = out.permute(0, 1, 3, 2).reshape(b, -1, h, w)
        return self.to_out(out)


class AnnLinearAttention(nn.Module):
    def __init__(self, dim: int, heads: int = 2, dim_head: int = 8) -> None:
        super().__init__()
        self.scale = dim_head**-0.5
        self.heads = heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden_dim, dim, 1), nn.GroupNorm(1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2)
        k = k.softmax(dim=-1)
        q = q * self.scale
        context = torch.einsum("b h d n, b h e n -> b h d e", k, v)
        out = torch.einsum("b h d e, b h d n -> b h e n", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


class PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = nn.GroupNorm(1, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class AnnotatedUnet(nn.Module):  # Unet(dim=8, dim_mults=(1, 2), resnet_block_groups=4), narrowed
    def __init__(self, dim: int = 8, dim_mults=(1, 2), channels: int = 3, groups: int = 4) -> None:
        super().__init__()
        self.init_conv = nn.Conv2d(channels, dim, 1, padding=0)
        dims = [dim, *(dim * m for m in dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))
        time_dim = dim * 4
        self.time_mlp = nn.Sequential(
            SinusoidalPositionEmbeddings(dim),
            nn.Linear(dim, time_dim),
            nn.GELU(),
            nn.Linear(time_dim, time_dim),
        )
        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        for ind, (dim_in, dim_out) in enumerate(in_out):
            is_last = ind >= len(in_out) - 1
            self.downs.append(
                nn.ModuleList(
                    [
                        AnnResnetBlock(dim_in, dim_in, time_dim, groups),
                        AnnResnetBlock(dim_in, dim_in, time_dim, groups),
                        Residual(PreNorm(dim_in, AnnLinearAttention(dim_in))),
                        (
                            AnnDownsample(dim_in, dim_out)
                            if not is_last
                            else nn.Conv2d(dim_in, dim_out, 3, padding=1)
                        ),
                    ]
                )
            )
        mid_dim = dims[-1]
        self.mid_block1 = AnnResnetBlock(mid_dim, mid_dim, time_dim, groups)
        self.mid_attn = Residual(PreNorm(mid_dim, AnnAttention(mid_dim)))
        self.mid_block2 = AnnResnetBlock(mid_dim, mid_dim, time_dim, groups)
        for ind, (dim_in, dim_out) in enumerate(reversed(in_out)):
            is_last = ind == len(in_out) - 1
            self.ups.append(
                nn.ModuleList(
                    [
                        AnnResnetBlock(dim_out + dim_in, dim_out, time_dim, groups),
                        AnnResnetBlock(dim_out + dim_in, dim_out, time_dim, groups),
                        Residual(PreNorm(dim_out, AnnLinearAttention(dim_out))),
                        (
                            AnnUpsample(dim_out, dim_in)
                            if not is_last
                            else nn.Conv2d(dim_out, dim_in, 3, padding=1)
                        ),
                    ]
                )
            )
        self.final_res_block = AnnResnetBlock(dim * 2, dim, time_dim, groups)
        self.final_conv = nn.Conv2d(dim, channels, 1)

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        x = self.init_conv(x)
        r = x.clone()
        t = self.time_mlp(time)
        h = []
        for block1, block2, attn, downsample in self.downs:
            x = block1(x, t)
            h.append(x)
            x = attn(block2(x, t))
            h.append(x)
            x = downsample(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for block1, block2, attn, upsample in self.ups:
            x = block1(torch.cat((x, h.pop()), dim=1), t)
            x = block2(torch.cat((x, h.pop()), dim=1), t)
            x = upsample(attn(x))
        x = self.final_res_block(torch.cat((x, r), dim=1), t)
        return self.final_conv(x)


# ------------------------------------------------------------------ abarankab DDPM UNet


class PositionalEmbedding(nn.Module):
    def __init__(self, dim: int, scale: float = 1.0) -> None:
        super().__init__()
        self.dim = dim
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half_dim = self.dim // 2
        emb = math.log(10000) / half_dim
        emb = torch.exp(torch.arange(half_dim, device=x.device) * -emb)
        emb = torch.outer(x * self.scale, emb)
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class AbDownsample(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.downsample = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        return self.downsample(x)


class AbUpsample(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.upsample = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)
        )

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        return self.upsample(x)


class AbAttentionBlock(nn.Module):
    def __init__(self, c: int, num_groups: int) -> None:
        super().__init__()
        self.in_channels = c
        self.norm = nn.GroupNorm(num_groups, c)
        self.to_qkv = nn.Conv2d(c, c * 3, 1)
        self.to_out = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = torch.split(self.to_qkv(self.norm(x)), self.in_channels, dim=1)
        q = q.permute(0, 2, 3, 1).reshape(b, h * w, c)
        k = k.reshape(b, c, h * w)
        v = v.permute(0, 2, 3, 1).reshape(b, h * w, c)
        attention = torch.softmax(torch.bmm(q, k) * (c ** (-0.5)), dim=-1)
        out = torch.bmm(attention, v).view(b, h, w, c).permute(0, 3, 1, 2)
        return self.to_out(out) + x


class AbResidualBlock(nn.Module):
    def __init__(self, c_in, c_out, time_emb_dim, num_groups, use_attention=False) -> None:
        super().__init__()
        self.activation = F.silu
        self.norm_1 = nn.GroupNorm(num_groups, c_in)
        self.conv_1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm_2 = nn.GroupNorm(num_groups, c_out)
        self.conv_2 = nn.Sequential(nn.Dropout(p=0.1), nn.Conv2d(c_out, c_out, 3, padding=1))
        self.time_bias = nn.Linear(time_emb_dim, c_out)
        self.residual_connection = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.attention = AbAttentionBlock(c_out, num_groups) if use_attention else nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        out = self.conv_1(self.activation(self.norm_1(x)))
        out += self.time_bias(self.activation(time_emb))[:, :, None, None]
        out = self.activation(self.norm_2(out))
        out = self.conv_2(out) + self.residual_connection(x)
        return self.attention(out)


class AbarankabUNet(nn.Module):  # ddpm/unet.py UNet (script_utils defaults), narrowed
    def __init__(
        self, img_channels=3, base=8, mults=(1, 2), num_res_blocks=1, time_dim=32, groups=4
    ) -> None:
        super().__init__()
        attention_resolutions = (1,)
        self.time_mlp = nn.Sequential(
            PositionalEmbedding(base, 1.0),
            nn.Linear(base, time_dim),
            nn.SiLU(),
            nn.Linear(time_dim, time_dim),
        )
        self.init_conv = nn.Conv2d(img_channels, base, 3, padding=1)
        self.downs = nn.ModuleList()
        self.ups = nn.ModuleList()
        channels = [base]
        now = base
        for i, mult in enumerate(mults):
            out = base * mult
            for _ in range(num_res_blocks):
                self.downs.append(
                    AbResidualBlock(now, out, time_dim, groups, i in attention_resolutions)
                )
                now = out
                channels.append(now)
            if i != len(mults) - 1:
                self.downs.append(AbDownsample(now))
                channels.append(now)
        self.mid = nn.ModuleList(
            [
                AbResidualBlock(now, now, time_dim, groups, use_attention=True),
                AbResidualBlock(now, now, time_dim, groups, use_attention=False),
            ]
        )
        for i, mult in reversed(list(enumerate(mults))):
            out = base * mult
            for _ in range(num_res_blocks + 1):
                self.ups.append(
                    AbResidualBlock(
                        channels.pop() + now, out, time_dim, groups, i in attention_resolutions
                    )
                )
                now = out
            if i != 0:
                self.ups.append(AbUpsample(now))
        self.out_norm = nn.GroupNorm(groups, base)
        self.out_conv = nn.Conv2d(base, img_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        time_emb = self.time_mlp(time)
        x = self.init_conv(x)
        skips = [x]
        for layer in self.downs:
            x = layer(x, time_emb)
            skips.append(x)
        for layer in self.mid:
            x = layer(x, time_emb)
        for layer in self.ups:
            if isinstance(layer, AbResidualBlock):
                x = torch.cat([x, skips.pop()], dim=1)
            x = layer(x, time_emb)
        return self.out_conv(F.silu(self.out_norm(x)))


# ------------------------------------------------------------------ hkproj stable-diffusion VAE


class SelfAttention(nn.Module):  # hkproj attention.py SelfAttention
    def __init__(self, n_heads: int, d_embed: int) -> None:
        super().__init__()
        self.in_proj = nn.Linear(d_embed, 3 * d_embed, bias=True)
        self.out_proj = nn.Linear(d_embed, d_embed, bias=True)
        self.n_heads = n_heads
        self.d_head = d_embed // n_heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        input_shape = x.shape
        batch_size, sequence_length, d_embed = input_shape
        interim_shape = (batch_size, sequence_length, self.n_heads, self.d_head)
        q, k, v = self.in_proj(x).chunk(3, dim=-1)
        q = q.view(interim_shape).transpose(1, 2)
        k = k.view(interim_shape).transpose(1, 2)
        v = v.view(interim_shape).transpose(1, 2)
        weight = q @ k.transpose(-1, -2)
        weight /= math.sqrt(self.d_head)
        weight = F.softmax(weight, dim=-1)
        output = (weight @ v).transpose(1, 2).reshape(input_shape)
        return self.out_proj(output)


class VAE_AttentionBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.groupnorm = nn.GroupNorm(32, channels)
        self.attention = SelfAttention(1, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residue = x
        x = self.groupnorm(x)
        n, c, h, w = x.shape
        x = x.view((n, c, h * w)).transpose(-1, -2)
        x = self.attention(x)
        x = x.transpose(-1, -2).view((n, c, h, w))
        x += residue
        return x


class VAE_ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.groupnorm_1 = nn.GroupNorm(32, c_in)
        self.conv_1 = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)
        self.groupnorm_2 = nn.GroupNorm(32, c_out)
        self.conv_2 = nn.Conv2d(c_out, c_out, kernel_size=3, padding=1)
        if c_in == c_out:
            self.residual_layer = nn.Identity()
        else:
            self.residual_layer = nn.Conv2d(c_in, c_out, kernel_size=1, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residue = x
        x = self.conv_1(F.silu(self.groupnorm_1(x)))
        x = self.conv_2(F.silu(self.groupnorm_2(x)))
        return x + self.residual_layer(residue)


class VAE_Encoder(nn.Sequential):  # hkproj encoder.py, widths 128/256/512 narrowed to 32/64
    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(3, 32, kernel_size=3, padding=1),
            VAE_ResidualBlock(32, 32),
            nn.Conv2d(32, 32, kernel_size=3, stride=2, padding=0),
            VAE_ResidualBlock(32, 64),
            nn.Conv2d(64, 64, kernel_size=3, stride=2, padding=0),
            VAE_ResidualBlock(64, 64),
            VAE_AttentionBlock(64),
            VAE_ResidualBlock(64, 64),
            nn.GroupNorm(32, 64),
            nn.SiLU(),
            nn.Conv2d(64, 8, kernel_size=3, padding=1),
            nn.Conv2d(8, 8, kernel_size=1, padding=0),
        )

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        for module in self:
            if getattr(module, "stride", None) == (2, 2):
                x = F.pad(x, (0, 1, 0, 1))  # pad right and bottom only
            x = module(x)
        mean, log_variance = torch.chunk(x, 2, dim=1)
        stdev = torch.clamp(log_variance, -30, 20).exp().sqrt()
        x = mean + stdev * noise
        return x * 0.18215


class VAE_Decoder(nn.Sequential):  # hkproj decoder.py, narrowed
    def __init__(self) -> None:
        super().__init__(
            nn.Conv2d(4, 4, kernel_size=1, padding=0),
            nn.Conv2d(4, 64, kernel_size=3, padding=1),
            VAE_ResidualBlock(64, 64),
            VAE_AttentionBlock(64),
            VAE_ResidualBlock(64, 64),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            VAE_ResidualBlock(64, 32),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            VAE_ResidualBlock(32, 32),
            nn.GroupNorm(32, 32),
            nn.SiLU(),
            nn.Conv2d(32, 3, kernel_size=3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x / 0.18215
        for module in self:
            x = module(x)
        return x


class HkprojVAE(nn.Module):  # encoder then decoder, the posterior mean decoded (zero noise)
    def __init__(self) -> None:
        super().__init__()
        self.encoder = VAE_Encoder()
        self.decoder = VAE_Decoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        noise = torch.zeros(b, 4, h // 4, w // 4, dtype=x.dtype, device=x.device)
        return self.decoder(self.encoder(x, noise))


# ------------------------------------------------------------------ Lornatang SRResNet


class _ResidualConvBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.rcb = nn.Sequential(
            nn.Conv2d(channels, channels, (3, 3), (1, 1), (1, 1), bias=False),
            nn.BatchNorm2d(channels),
            nn.PReLU(),
            nn.Conv2d(channels, channels, (3, 3), (1, 1), (1, 1), bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.add(self.rcb(x), x)


class _UpsampleBlock(nn.Module):
    def __init__(self, channels: int, upscale_factor: int) -> None:
        super().__init__()
        self.upsample_block = nn.Sequential(
            nn.Conv2d(channels, channels * upscale_factor * upscale_factor, (3, 3), (1, 1), (1, 1)),
            nn.PixelShuffle(2),
            nn.PReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample_block(x)


class LornatangSRResNet(nn.Module):  # SRGAN-PyTorch model.py SRResNet, x4, narrowed
    def __init__(self, channels: int = 16, num_rcb: int = 2, upscale: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, channels, (9, 9), (1, 1), (4, 4)), nn.PReLU())
        self.trunk = nn.Sequential(*[_ResidualConvBlock(channels) for _ in range(num_rcb)])
        self.conv2 = nn.Sequential(
            nn.Conv2d(channels, channels, (3, 3), (1, 1), (1, 1), bias=False),
            nn.BatchNorm2d(channels),
        )
        self.upsampling = nn.Sequential(
            *[_UpsampleBlock(channels, 2) for _ in range(int(math.log(upscale, 2)))]
        )
        self.conv3 = nn.Conv2d(channels, 3, (9, 9), (1, 1), (4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(x)
        x = self.conv2(self.trunk(conv1))
        x = torch.add(x, conv1)
        x = self.conv3(self.upsampling(x))
        return torch.clamp_(x, 0.0, 1.0)


# ------------------------------------------------------------------ torchvision LR-ASPP


class TvConvNormAct(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation
    def __init__(self, c_in, c_out, k=3, stride=1, groups=1, act=nn.Hardswish, dilation=1):
        padding = (k - 1) // 2 * dilation
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, padding, dilation, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, eps=0.001, momentum=0.01),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class TvInvertedResidual(nn.Module):  # torchvision mobilenetv3.InvertedResidual, with dilation
    def __init__(self, c_in, k, expanded, c_out, use_se, act, stride, dilation=1) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        stride = 1 if dilation > 1 else stride
        layers: list[nn.Module] = []
        if expanded != c_in:
            layers.append(TvConvNormAct(c_in, expanded, 1, act=act))
        layers.append(TvConvNormAct(expanded, expanded, k, stride, expanded, act, dilation))
        if use_se:
            squeeze = max(8, int(expanded // 4 + 4) // 8 * 8)
            layers.append(TvSqueezeExcitation(expanded, squeeze))
        layers.append(TvConvNormAct(expanded, c_out, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result += x
        return result


class IntermediateLayerGetter(nn.ModuleDict):  # torchvision.models._utils
    def __init__(self, layers: list[nn.Module], return_layers: dict[str, str]) -> None:
        super().__init__(OrderedDict((str(i), m) for i, m in enumerate(layers)))
        self.return_layers = return_layers

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


class LRASPPHead(nn.Module):  # torchvision.models.segmentation.lraspp.LRASPPHead
    def __init__(self, low_channels, high_channels, num_classes, inter_channels) -> None:
        super().__init__()
        self.cbr = nn.Sequential(
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(inplace=True),
        )
        self.scale = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.Sigmoid(),
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        low, high = features["low"], features["high"]
        x = self.cbr(high)
        s = self.scale(high)
        x = x * s
        x = F.interpolate(x, size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.low_classifier(low) + self.high_classifier(x)


class TvLRASPP(nn.Module):  # lraspp_mobilenet_v3_large (dilated last stage), narrowed
    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        re, hs = nn.ReLU, nn.Hardswish
        features = [
            TvConvNormAct(3, 8, 3, 2),
            TvInvertedResidual(8, 3, 8, 8, False, re, 1),
            TvInvertedResidual(8, 3, 32, 12, False, re, 2),
            TvInvertedResidual(12, 3, 36, 12, False, re, 1),
            TvInvertedResidual(12, 5, 36, 16, True, re, 2),  # "low": stride 8
            TvInvertedResidual(16, 5, 48, 16, True, re, 1),
            TvInvertedResidual(16, 3, 64, 24, False, hs, 2),
            TvInvertedResidual(24, 5, 96, 32, True, hs, 2, dilation=2),  # dilated, not strided
            TvConvNormAct(32, 96, 1),  # "high"
        ]
        self.backbone = IntermediateLayerGetter(features, {"4": "low", "8": "high"})
        self.classifier = LRASPPHead(16, 96, num_classes, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.classifier(self.backbone(x))
        # torchvision returns OrderedDict(out=...); callers read ["out"]
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


# ------------------------------------------------------------------ smp Unet (ResNet encoder)


class SmpBasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock (the smp encoder's)
    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNetEncoder(nn.Module):  # smp encoders/resnet.py ResNetEncoder (fc, avgpool deleted)
    def __init__(self, widths=(8, 16, 32, 64)) -> None:
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, w in enumerate(widths):
            self.add_module(f"layer{i + 1}", self._make_layer(w, 1 if i == 0 else 2))

    def _make_layer(self, planes: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        block = SmpBasicBlock(self.inplanes, planes, stride, downsample)
        self.inplanes = planes
        return nn.Sequential(block)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        stages = [
            nn.Identity(),
            nn.Sequential(self.conv1, self.bn1, self.relu),
            nn.Sequential(self.maxpool, self.layer1),
            self.layer2,
            self.layer3,
            self.layer4,
        ]
        features = []
        for stage in stages:
            x = stage(x)
            features.append(x)
        return features


class Conv2dReLU(nn.Sequential):  # smp base/modules.py Conv2dReLU: conv, BN, ReLU
    def __init__(self, c_in: int, c_out: int) -> None:
        conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        super().__init__(conv, nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class SmpAttention(nn.Module):  # smp modules.Attention(None): an Identity holder
    def __init__(self) -> None:
        super().__init__()
        self.attention = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x)


class DecoderBlock(nn.Module):  # smp decoders/unet/decoder.py DecoderBlock
    def __init__(self, c_in: int, skip: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = Conv2dReLU(c_in + skip, c_out)
        self.attention1 = SmpAttention()
        self.conv2 = Conv2dReLU(c_out, c_out)
        self.attention2 = SmpAttention()

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
            x = self.attention1(x)
        x = self.conv2(self.conv1(x))
        return self.attention2(x)


class UnetDecoder(nn.Module):  # smp decoders/unet/decoder.py UnetDecoder (center=False)
    def __init__(self, encoder_channels, decoder_channels) -> None:
        super().__init__()
        encoder_channels = encoder_channels[1:][::-1]
        in_channels = [encoder_channels[0]] + list(decoder_channels[:-1])
        skip_channels = list(encoder_channels[1:]) + [0]
        self.center = nn.Identity()
        self.blocks = nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(in_channels, skip_channels, decoder_channels)
        )

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        features = features[1:][::-1]
        head, skips = features[0], features[1:]
        x = self.center(head)
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        return x


class SmpUnet(nn.Module):  # smp.Unet("resnet34"-like encoder, classes=2), narrowed
    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        self.encoder = ResNetEncoder()
        self.decoder = UnetDecoder((3, 8, 8, 16, 32, 64), (32, 16, 8, 8, 4))
        self.segmentation_head = nn.Sequential(
            nn.Conv2d(4, classes, kernel_size=3, padding=1), nn.Identity(), SmpAttention()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.segmentation_head(self.decoder(self.encoder(x)))


# ------------------------------------------------------------------ BasicSR RIDNet


class MeanShift(nn.Conv2d):  # basicsr ridnet_arch.MeanShift: a fixed 1x1 conv
    def __init__(self, rgb_range, rgb_mean, rgb_std, sign=-1) -> None:
        super().__init__(3, 3, kernel_size=1)
        std = torch.Tensor(rgb_std)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1) / std.view(3, 1, 1, 1)
        self.bias.data = sign * rgb_range * torch.Tensor(rgb_mean) / std
        self.requires_grad = False


class ResidualBlockNoBN(nn.Module):  # basicsr arch_util.ResidualBlockNoBN
    def __init__(self, c: int, res_scale: float = 1.0) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=True)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.conv2(self.relu(self.conv1(x)))
        return identity + out * self.res_scale


class EResidualBlockNoBN(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 1, 1, 0),
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + x)


class MergeRun(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.dilation1 = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 2, 2),
            nn.ReLU(inplace=True),
        )
        self.dilation2 = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, 1, 3, 3),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 4, 4),
            nn.ReLU(inplace=True),
        )
        self.aggregation = nn.Sequential(
            nn.Conv2d(c_out * 2, c_out, 3, 1, 1), nn.ReLU(inplace=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([self.dilation1(x), self.dilation2(x)], dim=1)
        return self.aggregation(out) + x


class ChannelAttention(nn.Module):
    def __init__(self, c: int, squeeze_factor: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.attention = nn.Sequential(
            nn.Conv2d(c, c // squeeze_factor, 1, padding=0),
            nn.ReLU(inplace=True),
            nn.Conv2d(c // squeeze_factor, c, 1, padding=0),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention(self.avg_pool(x))


class EAM(nn.Module):
    def __init__(self, c_in: int, mid: int, c_out: int) -> None:
        super().__init__()
        self.merge = MergeRun(c_in, mid)
        self.block1 = ResidualBlockNoBN(mid)
        self.block2 = EResidualBlockNoBN(mid, c_out)
        self.ca = ChannelAttention(c_out)
        self.relu = nn.ReLU(inplace=True)  # the paper's ReLU after block1's addition

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.block1(self.merge(x)))
        return self.ca(self.block2(out))


class BasicsrRIDNet(nn.Module):  # basicsr ridnet_arch.RIDNet(3, 32, 3, num_block=2), narrowed
    def __init__(self, mid: int = 32, num_block: int = 2) -> None:
        super().__init__()
        rgb_mean, rgb_std = (0.4488, 0.4371, 0.4040), (1.0, 1.0, 1.0)
        self.sub_mean = MeanShift(255.0, rgb_mean, rgb_std)
        self.add_mean = MeanShift(255.0, rgb_mean, rgb_std, 1)
        self.head = nn.Conv2d(3, mid, 3, 1, 1)
        self.body = nn.Sequential(*[EAM(mid, mid, mid) for _ in range(num_block)])
        self.tail = nn.Conv2d(mid, 3, 3, 1, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.sub_mean(x)
        res = self.tail(self.body(self.relu(self.head(res))))
        res = self.add_mean(res)
        return x + res


# ------------------------------------------------------------------ noise2noise UNet


class N2NUNet(nn.Module):  # joeylitalien/noise2noise-pytorch unet.py, widths 48/96/144 -> 8/16/24
    def __init__(self, c_in: int = 3, c_out: int = 3, f: int = 8) -> None:
        super().__init__()
        self._block1 = nn.Sequential(
            nn.Conv2d(c_in, f, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(f, f, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self._block2 = nn.Sequential(
            nn.Conv2d(f, f, 3, stride=1, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)
        )
        self._block3 = nn.Sequential(
            nn.Conv2d(f, f, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(f, f, 3, stride=2, padding=1, output_padding=1),
        )
        self._block4 = nn.Sequential(
            nn.Conv2d(2 * f, 2 * f, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(2 * f, 2 * f, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * f, 2 * f, 3, stride=2, padding=1, output_padding=1),
        )
        self._block5 = nn.Sequential(
            nn.Conv2d(3 * f, 2 * f, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(2 * f, 2 * f, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * f, 2 * f, 3, stride=2, padding=1, output_padding=1),
        )
        self._block6 = nn.Sequential(
            nn.Conv2d(2 * f + c_in, 12, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(12, 8, 3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, c_out, 3, stride=1, padding=1),
            nn.LeakyReLU(0.1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool1 = self._block1(x)
        pool2 = self._block2(pool1)
        pool3 = self._block2(pool2)
        pool4 = self._block2(pool3)
        pool5 = self._block2(pool4)
        upsample5 = self._block3(pool5)
        concat5 = torch.cat((upsample5, pool4), dim=1)
        upsample4 = self._block4(concat5)
        concat4 = torch.cat((upsample4, pool3), dim=1)
        upsample3 = self._block5(concat4)
        concat3 = torch.cat((upsample3, pool2), dim=1)
        upsample2 = self._block5(concat3)
        concat2 = torch.cat((upsample2, pool1), dim=1)
        upsample1 = self._block5(concat2)
        concat1 = torch.cat((upsample1, x), dim=1)
        return self._block6(concat1)


ZOO = {  # name: (build, input shape, takes a timestep)
    "annotated_diffusion_unet": (AnnotatedUnet, (2, 3, 16, 16), True),
    "abarankab_ddpm_unet": (AbarankabUNet, (2, 3, 16, 16), True),
    "hkproj_sd_vae": (HkprojVAE, (2, 3, 16, 16), False),
    "lornatang_srresnet": (LornatangSRResNet, (2, 3, 6, 6), False),
    "tv_lraspp": (TvLRASPP, (2, 3, 64, 64), False),
    "smp_unet": (SmpUnet, (2, 3, 64, 64), False),
    "basicsr_ridnet": (BasicsrRIDNet, (2, 3, 12, 12), False),
    "n2n_unet": (N2NUNet, (2, 3, 32, 32), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the two diffusion U-Nets)."""
    return generative_reference(ZOO[name])
