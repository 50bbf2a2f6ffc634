"""Small generative models written the way other repositories write them (issue 16): test-only
reference models for tests/test_generative_zoo_8.py. Reference code, not generated code: the
generated file must compute what these compute, or say where it cannot.

Written from the structure of each repository's model file (key names, module order, the
parameter-free steps between them), at sizes small enough for a CPU test:
- CompVis latent-diffusion / taming-transformers `Encoder` / `Decoder` (AutoencoderKL, VQ-GAN);
- pesser/pytorch_diffusion (the DDPM port): `Model` with `temb.dense`, `down.N.block.M`;
- openai improved-diffusion (legacy QKV order) and guided-diffusion (new order, scale-shift norm);
- EDSR (sanghyun-son/EDSR-PyTorch): mean shift, scaled residual blocks, pixel-shuffle tail;
- BasicSR MSRResNet (bilinear-upsampled input added) and Real-ESRGAN SRVGGNetCompact (PReLU,
  nearest-upsampled input added);
- pix2pix (junyanz/pytorch-CycleGAN-and-pix2pix) `UnetGenerator`: nested skip blocks."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ------------------------------------------------ CompVis ldm / taming: Encoder and Decoder


def _normalize(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


def _swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class LdmUpsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class LdmDownsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)  # no asymmetric padding in torch conv

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))


class LdmResnetBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, temb_channels: int = 0) -> None:
        super().__init__()
        self.norm1 = _normalize(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
        if temb_channels > 0:
            self.temb_proj = nn.Linear(temb_channels, c_out)
        self.norm2 = _normalize(c_out)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        if c_in != c_out:
            self.nin_shortcut = nn.Conv2d(c_in, c_out, 1, 1, 0)
        self.c_in, self.c_out = c_in, c_out

    def forward(self, x, temb=None):
        h = self.conv1(_swish(self.norm1(x)))
        if temb is not None:
            h = h + self.temb_proj(_swish(temb))[:, :, None, None]
        h = self.conv2(self.dropout(_swish(self.norm2(h))))
        if self.c_in != self.c_out:
            x = self.nin_shortcut(x)
        return x + h


class LdmAttnBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _normalize(channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, hh, ww = q.shape
        q = q.reshape(b, c, hh * ww).permute(0, 2, 1)  # b, hw, c
        k = k.reshape(b, c, hh * ww)  # b, c, hw
        w = torch.bmm(q, k) * (int(c) ** (-0.5))
        w = F.softmax(w, dim=2)
        v = v.reshape(b, c, hh * ww)
        h = torch.bmm(v, w.permute(0, 2, 1)).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


class _Level(nn.Module):
    pass


class LdmEncoder(nn.Module):
    def __init__(
        self,
        ch=32,
        ch_mult=(1, 2),
        num_res_blocks=1,
        attn_levels=(1,),
        in_channels=3,
        z_channels=4,
        double_z=True,
    ) -> None:
        super().__init__()
        self.num_resolutions, self.num_res_blocks = len(ch_mult), num_res_blocks
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        in_mult = (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        for i in range(self.num_resolutions):
            block, attn = nn.ModuleList(), nn.ModuleList()
            c_in, c_out = ch * in_mult[i], ch * ch_mult[i]
            for _ in range(num_res_blocks):
                block.append(LdmResnetBlock(c_in, c_out))
                c_in = c_out
                if i in attn_levels:
                    attn.append(LdmAttnBlock(c_in))
            level = _Level()
            level.block, level.attn = block, attn
            if i != self.num_resolutions - 1:
                level.downsample = LdmDownsample(c_in)
            self.down.append(level)
        self.mid = _Level()
        self.mid.block_1 = LdmResnetBlock(c_in, c_in)
        self.mid.attn_1 = LdmAttnBlock(c_in)
        self.mid.block_2 = LdmResnetBlock(c_in, c_in)
        self.norm_out = _normalize(c_in)
        self.conv_out = nn.Conv2d(c_in, 2 * z_channels if double_z else z_channels, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for i in range(self.num_resolutions):
            for j in range(self.num_res_blocks):
                h = self.down[i].block[j](h)
                if len(self.down[i].attn) > 0:
                    h = self.down[i].attn[j](h)
            if i != self.num_resolutions - 1:
                h = self.down[i].downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(_swish(self.norm_out(h)))


class LdmDecoder(nn.Module):
    def __init__(
        self, ch=32, out_ch=3, ch_mult=(1, 2), num_res_blocks=1, attn_levels=(1,), z_channels=4
    ) -> None:
        super().__init__()
        self.num_resolutions, self.num_res_blocks = len(ch_mult), num_res_blocks
        c_in = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, c_in, 3, 1, 1)
        self.mid = _Level()
        self.mid.block_1 = LdmResnetBlock(c_in, c_in)
        self.mid.attn_1 = LdmAttnBlock(c_in)
        self.mid.block_2 = LdmResnetBlock(c_in, c_in)
        self.up = nn.ModuleList()
        for i in reversed(range(self.num_resolutions)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            c_out = ch * ch_mult[i]
            for _ in range(num_res_blocks + 1):
                block.append(LdmResnetBlock(c_in, c_out))
                c_in = c_out
                if i in attn_levels:
                    attn.append(LdmAttnBlock(c_in))
            level = _Level()
            level.block, level.attn = block, attn
            if i != 0:
                level.upsample = LdmUpsample(c_in)
            self.up.insert(0, level)  # up.0 is the finest level, run last
        self.norm_out = _normalize(c_in)
        self.conv_out = nn.Conv2d(c_in, out_ch, 3, 1, 1)

    def forward(self, z):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        for i in reversed(range(self.num_resolutions)):
            for j in range(self.num_res_blocks + 1):
                h = self.up[i].block[j](h)
                if len(self.up[i].attn) > 0:
                    h = self.up[i].attn[j](h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(_swish(self.norm_out(h)))


class LdmAutoencoderKL(nn.Module):
    """ldm.models.autoencoder.AutoencoderKL: the posterior's mode (the mean) is decoded."""

    def __init__(self, embed_dim: int = 4, **levels) -> None:
        super().__init__()
        self.encoder = LdmEncoder(z_channels=embed_dim, **levels)
        self.decoder = LdmDecoder(z_channels=embed_dim, **levels)
        self.quant_conv = nn.Conv2d(2 * embed_dim, 2 * embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, embed_dim, 1)

    def forward(self, x):
        moments = self.quant_conv(self.encoder(x))
        mean, _logvar = torch.chunk(moments, 2, dim=1)
        return self.decoder(self.post_quant_conv(mean))


class TamingVQAutoencoder(nn.Module):
    """taming-transformers' VQModel with the quantizer left out (ldm's VQModelInterface decoding
    with force_not_quantize): encoder -> quant_conv -> post_quant_conv -> decoder."""

    def __init__(self, embed_dim: int = 8) -> None:
        super().__init__()
        self.encoder = LdmEncoder(ch_mult=(1, 1, 2), attn_levels=(2,), z_channels=6, double_z=False)
        self.decoder = LdmDecoder(ch_mult=(1, 1, 2), attn_levels=(2,), z_channels=6)
        self.quant_conv = nn.Conv2d(6, embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, 6, 1)

    def forward(self, x):
        return self.decoder(self.post_quant_conv(self.quant_conv(self.encoder(x))))


# ------------------------------------------------------- pesser/pytorch_diffusion: DDPM Model


def ddpm_timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000) / (half - 1)))
    emb = timesteps.float()[:, None] * freq[None, :]
    return torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)


class DdpmModel(nn.Module):
    def __init__(
        self, ch=32, out_ch=3, ch_mult=(1, 2), num_res_blocks=1, attn_levels=(1,), in_channels=3
    ) -> None:
        super().__init__()
        self.ch, self.temb_ch = ch, ch * 4
        self.num_resolutions, self.num_res_blocks = len(ch_mult), num_res_blocks
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList(
            [nn.Linear(ch, self.temb_ch), nn.Linear(self.temb_ch, self.temb_ch)]
        )
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        in_mult = (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        for i in range(self.num_resolutions):
            block, attn = nn.ModuleList(), nn.ModuleList()
            c_in, c_out = ch * in_mult[i], ch * ch_mult[i]
            for _ in range(num_res_blocks):
                block.append(LdmResnetBlock(c_in, c_out, self.temb_ch))
                c_in = c_out
                if i in attn_levels:
                    attn.append(LdmAttnBlock(c_in))
            level = _Level()
            level.block, level.attn = block, attn
            if i != self.num_resolutions - 1:
                level.downsample = LdmDownsample(c_in)
            self.down.append(level)
        self.mid = _Level()
        self.mid.block_1 = LdmResnetBlock(c_in, c_in, self.temb_ch)
        self.mid.attn_1 = LdmAttnBlock(c_in)
        self.mid.block_2 = LdmResnetBlock(c_in, c_in, self.temb_ch)
        self.up = nn.ModuleList()
        for i in reversed(range(self.num_resolutions)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            c_out, skip_in = ch * ch_mult[i], ch * ch_mult[i]
            for j in range(num_res_blocks + 1):
                if j == num_res_blocks:
                    skip_in = ch * in_mult[i]
                block.append(LdmResnetBlock(c_in + skip_in, c_out, self.temb_ch))
                c_in = c_out
                if i in attn_levels:
                    attn.append(LdmAttnBlock(c_in))
            level = _Level()
            level.block, level.attn = block, attn
            if i != 0:
                level.upsample = LdmUpsample(c_in)
            self.up.insert(0, level)
        self.norm_out = _normalize(c_in)
        self.conv_out = nn.Conv2d(c_in, out_ch, 3, 1, 1)

    def forward(self, x, t):
        temb = ddpm_timestep_embedding(t, self.ch)
        temb = self.temb.dense[1](_swish(self.temb.dense[0](temb)))
        hs = [self.conv_in(x)]
        for i in range(self.num_resolutions):
            for j in range(self.num_res_blocks):
                h = self.down[i].block[j](hs[-1], temb)
                if len(self.down[i].attn) > 0:
                    h = self.down[i].attn[j](h)
                hs.append(h)
            if i != self.num_resolutions - 1:
                hs.append(self.down[i].downsample(hs[-1]))
        h = hs[-1]
        h = self.mid.block_1(h, temb)
        h = self.mid.attn_1(h)
        h = self.mid.block_2(h, temb)
        for i in reversed(range(self.num_resolutions)):
            for j in range(self.num_res_blocks + 1):
                h = self.up[i].block[j](torch.cat([h, hs.pop()], dim=1), temb)
                if len(self.up[i].attn) > 0:
                    h = self.up[i].attn[j](h)
            if i != 0:
                h = self.up[i].upsample(h)
        return self.conv_out(_swish(self.norm_out(h)))


# ---------------------------------------------- openai improved-diffusion / guided-diffusion


def openai_timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: int = 10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32) / half)
    args = timesteps[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # cos first


class GroupNorm32(nn.GroupNorm):
    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


def _norm32(channels: int) -> GroupNorm32:
    return GroupNorm32(32, channels)


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, OpenaiResBlock) else layer(x)
        return x


class OpenaiDownsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class OpenaiUpsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class OpenaiResBlock(nn.Module):
    def __init__(self, channels, emb_channels, out_channels, use_scale_shift_norm) -> None:
        super().__init__()
        self.use_scale_shift_norm = use_scale_shift_norm
        self.in_layers = nn.Sequential(
            _norm32(channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1)
        )
        self.emb_layers = nn.Sequential(
            nn.SiLU(),
            nn.Linear(emb_channels, 2 * out_channels if use_scale_shift_norm else out_channels),
        )
        self.out_layers = nn.Sequential(
            _norm32(out_channels),
            nn.SiLU(),
            nn.Dropout(p=0.0),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )
        if out_channels == channels:
            self.skip_connection = nn.Identity()
        else:
            self.skip_connection = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        emb_out = self.emb_layers(emb).type(h.dtype)[..., None, None]
        if self.use_scale_shift_norm:
            out_norm, out_rest = self.out_layers[0], self.out_layers[1:]
            scale, shift = torch.chunk(emb_out, 2, dim=1)
            h = out_rest(out_norm(h) * (1 + scale) + shift)
        else:
            h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h


class QKVAttentionLegacy(nn.Module):
    """improved-diffusion's order: the qkv channels are grouped by head, then q, k, v."""

    def __init__(self, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv):
        bs, width, length = qkv.shape
        ch = width // (3 * self.n_heads)
        q, k, v = qkv.reshape(bs * self.n_heads, ch * 3, length).split(ch, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = torch.einsum("bct,bcs->bts", q * scale, k * scale)
        weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
        a = torch.einsum("bts,bcs->bct", weight, v)
        return a.reshape(bs, -1, length)


class QKVAttention(nn.Module):
    """guided-diffusion's new order: q, k, v first, then heads."""

    def __init__(self, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv):
        bs, width, length = qkv.shape
        ch = width // (3 * self.n_heads)
        q, k, v = qkv.chunk(3, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = torch.einsum(
            "bct,bcs->bts",
            (q * scale).view(bs * self.n_heads, ch, length),
            (k * scale).view(bs * self.n_heads, ch, length),
        )
        weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
        a = torch.einsum("bts,bcs->bct", weight, v.reshape(bs * self.n_heads, ch, length))
        return a.reshape(bs, -1, length)


class OpenaiAttentionBlock(nn.Module):
    def __init__(self, channels: int, num_heads: int, new_order: bool) -> None:
        super().__init__()
        self.norm = _norm32(channels)
        self.qkv = nn.Conv1d(channels, channels * 3, 1)
        self.attention = QKVAttention(num_heads) if new_order else QKVAttentionLegacy(num_heads)
        self.proj_out = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        b, c, *spatial = x.shape
        x = x.reshape(b, c, -1)
        h = self.proj_out(self.attention(self.qkv(self.norm(x))))
        return (x + h).reshape(b, c, *spatial)


class OpenaiUNetModel(nn.Module):
    def __init__(
        self,
        in_channels=3,
        model_channels=32,
        out_channels=3,
        num_res_blocks=1,
        attention_resolutions=(2,),
        channel_mult=(1, 2),
        num_heads=2,
        use_scale_shift_norm=False,
        new_order=False,
    ) -> None:
        super().__init__()
        self.model_channels = model_channels
        ted = model_channels * 4
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, ted), nn.SiLU(), nn.Linear(ted, ted)
        )

        def res(c_in, c_out):
            return OpenaiResBlock(c_in, ted, c_out, use_scale_shift_norm)

        def attn(c):
            return OpenaiAttentionBlock(c, num_heads, new_order)

        self.input_blocks = nn.ModuleList(
            [TimestepEmbedSequential(nn.Conv2d(in_channels, model_channels, 3, padding=1))]
        )
        chans, ch, ds = [model_channels], model_channels, 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, mult * model_channels)]
                ch = mult * model_channels
                if ds in attention_resolutions:
                    layers.append(attn(ch))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                chans.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(TimestepEmbedSequential(OpenaiDownsample(ch)))
                chans.append(ch)
                ds *= 2
        self.middle_block = TimestepEmbedSequential(res(ch, ch), attn(ch), res(ch, ch))
        self.output_blocks = nn.ModuleList([])
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(num_res_blocks + 1):
                layers = [res(ch + chans.pop(), model_channels * mult)]
                ch = model_channels * mult
                if ds in attention_resolutions:
                    layers.append(attn(ch))
                if level and i == num_res_blocks:
                    layers.append(OpenaiUpsample(ch))
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))
        self.out = nn.Sequential(
            _norm32(ch), nn.SiLU(), nn.Conv2d(model_channels, out_channels, 3, padding=1)
        )

    def forward(self, x, timesteps):
        emb = self.time_embed(openai_timestep_embedding(timesteps, self.model_channels))
        hs, h = [], x
        for module in self.input_blocks:
            h = module(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for module in self.output_blocks:
            h = module(torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)


# ------------------------------------------------------------------------ super-resolution


class MeanShift(nn.Conv2d):
    """EDSR's common.MeanShift: a fixed 1x1 conv that subtracts (or adds) the dataset mean."""

    def __init__(
        self, rgb_range=255, rgb_mean=(0.4488, 0.4371, 0.4040), rgb_std=(1.0, 1.0, 1.0), sign=-1
    ) -> None:
        super().__init__(3, 3, kernel_size=1)
        std = torch.tensor(rgb_std)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1) / std.view(3, 1, 1, 1)
        self.bias.data = sign * rgb_range * torch.tensor(rgb_mean) / std
        for p in self.parameters():
            p.requires_grad = False


def _default_conv(c_in: int, c_out: int, k: int, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)


class EdsrResBlock(nn.Module):
    def __init__(self, n_feats: int, k: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _default_conv(n_feats, n_feats, k), nn.ReLU(True), _default_conv(n_feats, n_feats, k)
        )
        self.res_scale = res_scale

    def forward(self, x):
        res = self.body(x).mul(self.res_scale)
        res += x
        return res


class EdsrUpsampler(nn.Sequential):
    def __init__(self, scale: int, n_feats: int) -> None:
        m = []
        for _ in range(int(math.log(scale, 2))):
            m.append(_default_conv(n_feats, 4 * n_feats, 3))
            m.append(nn.PixelShuffle(2))
        super().__init__(*m)


class EDSR(nn.Module):
    def __init__(self, n_resblocks=3, n_feats=16, scale=2, res_scale=0.1, rgb_range=1) -> None:
        super().__init__()
        self.sub_mean = MeanShift(rgb_range)
        self.add_mean = MeanShift(rgb_range, sign=1)
        self.head = nn.Sequential(_default_conv(3, n_feats, 3))
        body = [EdsrResBlock(n_feats, 3, res_scale) for _ in range(n_resblocks)]
        body.append(_default_conv(n_feats, n_feats, 3))
        self.body = nn.Sequential(*body)
        self.tail = nn.Sequential(EdsrUpsampler(scale, n_feats), _default_conv(n_feats, 3, 3))

    def forward(self, x):
        x = self.head(self.sub_mean(x))
        res = self.body(x)
        res += x
        return self.add_mean(self.tail(res))


class ResidualBlockNoBN(nn.Module):  # basicsr.archs.arch_util
    def __init__(self, num_feat: int = 16, res_scale: float = 1.0) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=True)
        self.conv2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return x + self.conv2(self.relu(self.conv1(x))) * self.res_scale


class MSRResNet(nn.Module):  # basicsr.archs.srresnet_arch
    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=16, num_block=3, upscale=2) -> None:
        super().__init__()
        self.upscale = upscale
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*(ResidualBlockNoBN(num_feat) for _ in range(num_block)))
        self.upconv1 = nn.Conv2d(num_feat, num_feat * 4, 3, 1, 1)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)

    def forward(self, x):
        feat = self.lrelu(self.conv_first(x))
        out = self.body(feat)
        out = self.lrelu(self.pixel_shuffle(self.upconv1(out)))
        out = self.conv_last(self.lrelu(self.conv_hr(out)))
        base = F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)
        return out + base


class SRVGGNetCompact(nn.Module):  # realesrgan/archs/srvgg_arch.py
    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=16, num_conv=4, upscale=2) -> None:
        super().__init__()
        self.upscale = upscale
        self.body = nn.ModuleList()
        self.body.append(nn.Conv2d(num_in_ch, num_feat, 3, 1, 1))
        self.body.append(nn.PReLU(num_parameters=num_feat))
        for _ in range(num_conv):
            self.body.append(nn.Conv2d(num_feat, num_feat, 3, 1, 1))
            self.body.append(nn.PReLU(num_parameters=num_feat))
        self.body.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.upsampler = nn.PixelShuffle(upscale)

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        out = self.upsampler(out)
        return out + F.interpolate(x, scale_factor=self.upscale, mode="nearest")


# ------------------------------------------------------------- pix2pix: UnetGenerator


class UnetSkipConnectionBlock(nn.Module):
    def __init__(
        self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False
    ) -> None:
        super().__init__()
        self.outermost = outermost
        use_bias = False  # BatchNorm: the convolutions before it have no bias
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = nn.BatchNorm2d(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = nn.BatchNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=use_bias)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=use_bias)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc=3, output_nc=3, num_downs=5, ngf=8) -> None:
        super().__init__()
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True
        )

    def forward(self, x):
        return self.model(x)


# ---------------------------------------------------------------------------------- the zoo

ZOO = {  # name: (build, input shape, takes a timestep)
    "ldm_autoencoder_kl": (LdmAutoencoderKL, (2, 3, 16, 16), False),
    # equal widths at every level: only the resamplers show the decoder's order
    "ldm_autoencoder_kl_flat": (
        lambda: LdmAutoencoderKL(3, ch_mult=(1, 1, 1), num_res_blocks=2, attn_levels=()),
        (2, 3, 16, 16),
        False,
    ),
    "taming_vq_no_quantizer": (TamingVQAutoencoder, (2, 3, 16, 16), False),
    "ddpm_pesser": (DdpmModel, (2, 3, 16, 16), True),
    "improved_diffusion": (OpenaiUNetModel, (2, 3, 16, 16), True),
    "guided_diffusion": (
        lambda: OpenaiUNetModel(num_heads=4, use_scale_shift_norm=True, new_order=True),
        (2, 3, 16, 16),
        True,
    ),
    "edsr": (EDSR, (2, 3, 8, 8), False),
    "msrresnet": (MSRResNet, (2, 3, 8, 8), False),
    "srvgg_compact": (SRVGGNetCompact, (2, 3, 8, 8), False),
    "pix2pix_unet": (UnetGenerator, (2, 3, 32, 32), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Nets)."""
    return generative_reference(ZOO[name])
