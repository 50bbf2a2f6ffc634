"""More generative models written the way other repositories write them (issue 16, session 9):
test-only reference models for tests/test_generative_zoo_9.py. Reference code, not generated
code: the generated file must compute what these compute, or say where it cannot.

Written from the structure of each repository's model file (key names, module order, the
parameter-free steps between them), at sizes small enough for a CPU test; none of these layouts
is in another zoo:
- lucidrains/denoising-diffusion-pytorch `Unet` (1.x): `downs.N.M` ModuleLists, `ResnetBlock`
  with a scale-shift time MLP, weight-free `RMSNorm` gains `g`, `LinearAttention`, a
  space-to-depth `Downsample`, `final_res_block`;
- labml.ai's annotated DDPM `UNet`: `image_proj`, `time_emb.lin1/lin2`, `down.N.res`/`.attn`,
  Linear-projection attention over pixels, transposed-conv upsampling;
- junyanz/pytorch-CycleGAN-and-pix2pix `ResnetGenerator`: one `model` Sequential, reflection
  padding, InstanceNorm without parameters, transposed-conv upsampling, Tanh;
- the PyTorch examples' DCGAN `Generator`: ConvTranspose2d / BatchNorm / ReLU, Tanh;
- yjn870's ESPCN (Tanh, pixel shuffle) and FSRCNN (PReLU, transposed-conv tail);
- yulunzhang/RCAN: mean shift, residual groups of channel-attention blocks, pixel-shuffle tail;
- rosinality/vq-vae-2-pytorch, one level: strided-conv encoder with `ResBlock`s, the
  `quantize_conv`, an EMA codebook held in buffers, a transposed-conv decoder;
- openai/DALL-E's dVAE `Decoder`: its own `Conv2d` whose tensors are `w` and `b`, blocks with
  `id_path` / `res_path` and a post-gain of 1 / n_layers**2."""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ------------------------------------------------- lucidrains denoising-diffusion-pytorch Unet


class LucidRMSNorm(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.g * (x.shape[1] ** 0.5)


class LucidPreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = LucidRMSNorm(dim)

    def forward(self, x):
        return self.fn(self.norm(x))


class LucidResidual(nn.Module):
    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        half = self.dim // 2
        emb = math.log(10000) / (half - 1)
        emb = torch.exp(torch.arange(half) * -emb)
        emb = x.float()[:, None] * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class LucidBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, groups: int = 4) -> None:
        super().__init__()
        self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x, scale_shift=None):
        x = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class LucidResnetBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, time_emb_dim: int, groups: int = 4) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1 = LucidBlock(dim, dim_out, groups)
        self.block2 = LucidBlock(dim_out, dim_out, groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb):
        scale_shift = self.mlp(time_emb)[:, :, None, None].chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        h = self.block2(h)
        return h + self.res_conv(x)


class LucidLinearAttention(nn.Module):
    def __init__(self, dim: int, heads: int = 2, dim_head: int = 8) -> None:
        super().__init__()
        self.scale, self.heads = dim_head**-0.5, heads
        hidden = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden, dim, 1), LucidRMSNorm(dim))

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.to_qkv(x).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in (q, k, v))
        q = q.softmax(dim=-2) * self.scale
        k = k.softmax(dim=-1)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


class LucidAttention(nn.Module):
    def __init__(self, dim: int, heads: int = 2, dim_head: int = 8) -> None:
        super().__init__()
        self.scale, self.heads = dim_head**-0.5, heads
        hidden = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.to_qkv(x).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in (q, k, v))
        sim = torch.einsum("bhdi,bhdj->bhij", q * self.scale, k)
        attn = sim.softmax(dim=-1)
        out = torch.einsum("bhij,bhdj->bhid", attn, v)  # b, heads, hw, d
        out = out.permute(0, 1, 3, 2).reshape(b, -1, h, w)
        return self.to_out(out)


class LucidDownsample(nn.Module):
    """`Rearrange('b c (h p1) (w p2) -> b (c p1 p2) h w', p1=2, p2=2)` then a 1x1 conv."""

    def __init__(self, dim: int, dim_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim * 4, dim_out, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
        return self.conv(x.reshape(b, c * 4, h // 2, w // 2))


class LucidUpsample(nn.Sequential):
    def __init__(self, dim: int, dim_out: int) -> None:
        super().__init__(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim, dim_out, 3, padding=1)
        )


class LucidUnet(nn.Module):
    def __init__(self, dim: int = 16, dim_mults=(1, 2), channels: int = 3, groups: int = 4) -> None:
        super().__init__()
        self.init_conv = nn.Conv2d(channels, dim, 7, padding=3)
        dims = [dim, *(dim * m for m in dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))
        time_dim = dim * 4
        self.time_mlp = nn.Sequential(
            SinusoidalPosEmb(dim),
            nn.Linear(dim, time_dim),
            nn.GELU(),
            nn.Linear(time_dim, time_dim),
        )
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for ind, (d_in, d_out) in enumerate(in_out):
            is_last = ind == len(in_out) - 1
            self.downs.append(
                nn.ModuleList(
                    [
                        LucidResnetBlock(d_in, d_in, time_dim, groups),
                        LucidResnetBlock(d_in, d_in, time_dim, groups),
                        LucidResidual(LucidPreNorm(d_in, LucidLinearAttention(d_in))),
                        (
                            LucidDownsample(d_in, d_out)
                            if not is_last
                            else nn.Conv2d(d_in, d_out, 3, padding=1)
                        ),
                    ]
                )
            )
        mid = dims[-1]
        self.mid_block1 = LucidResnetBlock(mid, mid, time_dim, groups)
        self.mid_attn = LucidResidual(LucidPreNorm(mid, LucidAttention(mid)))
        self.mid_block2 = LucidResnetBlock(mid, mid, time_dim, groups)
        for ind, (d_in, d_out) in enumerate(reversed(in_out)):
            is_last = ind == len(in_out) - 1
            self.ups.append(
                nn.ModuleList(
                    [
                        LucidResnetBlock(d_out + d_in, d_out, time_dim, groups),
                        LucidResnetBlock(d_out + d_in, d_out, time_dim, groups),
                        LucidResidual(LucidPreNorm(d_out, LucidLinearAttention(d_out))),
                        (
                            LucidUpsample(d_out, d_in)
                            if not is_last
                            else nn.Conv2d(d_out, d_in, 3, padding=1)
                        ),
                    ]
                )
            )
        self.final_res_block = LucidResnetBlock(dim * 2, dim, time_dim, groups)
        self.final_conv = nn.Conv2d(dim, channels, 1)

    def forward(self, x, time):
        x = self.init_conv(x)
        r = x.clone()
        t = self.time_mlp(time)
        h = []
        for block1, block2, attn, downsample in self.downs:
            x = block1(x, t)
            h.append(x)
            x = block2(x, t)
            x = attn(x)
            h.append(x)
            x = downsample(x)
        x = self.mid_block2(self.mid_attn(self.mid_block1(x, t)), t)
        for block1, block2, attn, upsample in self.ups:
            x = block1(torch.cat((x, h.pop()), dim=1), t)
            x = block2(torch.cat((x, h.pop()), dim=1), t)
            x = attn(x)
            x = upsample(x)
        x = self.final_res_block(torch.cat((x, r), dim=1), t)
        return self.final_conv(x)


# ------------------------------------------------------------- labml.ai annotated DDPM UNet


class LabmlTimeEmbedding(nn.Module):
    def __init__(self, n_channels: int) -> None:
        super().__init__()
        self.n_channels = n_channels
        self.lin1 = nn.Linear(n_channels // 4, n_channels)
        self.act = nn.SiLU()
        self.lin2 = nn.Linear(n_channels, n_channels)

    def forward(self, t):
        half_dim = self.n_channels // 8
        emb = math.log(10_000) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim) * -emb)
        emb = t.float()[:, None] * emb[None, :]
        emb = torch.cat((emb.sin(), emb.cos()), dim=1)
        return self.lin2(self.act(self.lin1(emb)))


class LabmlResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, time_channels: int, n_groups: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(n_groups, c_in)
        self.act1 = nn.SiLU()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(n_groups, c_out)
        self.act2 = nn.SiLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.time_emb = nn.Linear(time_channels, c_out)
        self.time_act = nn.SiLU()
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, t):
        h = self.conv1(self.act1(self.norm1(x)))
        h = h + self.time_emb(self.time_act(t))[:, :, None, None]
        h = self.conv2(self.dropout(self.act2(self.norm2(h))))
        return h + self.shortcut(x)


class LabmlAttentionBlock(nn.Module):
    def __init__(self, n_channels: int, n_heads: int = 1, n_groups: int = 4) -> None:
        super().__init__()
        d_k = n_channels
        self.norm = nn.GroupNorm(n_groups, n_channels)  # built, but the forward never calls it
        self.projection = nn.Linear(n_channels, n_heads * d_k * 3)
        self.output = nn.Linear(n_heads * d_k, n_channels)
        self.scale = d_k**-0.5
        self.n_heads, self.d_k = n_heads, d_k

    def forward(self, x, t=None):
        batch, n_channels, height, width = x.shape
        x = x.view(batch, n_channels, -1).permute(0, 2, 1)
        qkv = self.projection(x).view(batch, -1, self.n_heads, 3 * self.d_k)
        q, k, v = torch.chunk(qkv, 3, dim=-1)
        attn = torch.einsum("bihd,bjhd->bijh", q, k) * self.scale
        attn = attn.softmax(dim=2)
        res = torch.einsum("bijh,bjhd->bihd", attn, v)
        res = self.output(res.reshape(batch, -1, self.n_heads * self.d_k))
        res = res + x
        return res.permute(0, 2, 1).view(batch, n_channels, height, width)


class LabmlDownBlock(nn.Module):
    def __init__(self, c_in, c_out, time_channels, has_attn) -> None:
        super().__init__()
        self.res = LabmlResidualBlock(c_in, c_out, time_channels)
        self.attn = LabmlAttentionBlock(c_out) if has_attn else nn.Identity()

    def forward(self, x, t):
        return self.attn(self.res(x, t))


class LabmlUpBlock(nn.Module):
    def __init__(self, c_in, c_out, time_channels, has_attn) -> None:
        super().__init__()
        self.res = LabmlResidualBlock(c_in + c_out, c_out, time_channels)
        self.attn = LabmlAttentionBlock(c_out) if has_attn else nn.Identity()

    def forward(self, x, t):
        return self.attn(self.res(x, t))


class LabmlMiddleBlock(nn.Module):
    def __init__(self, n_channels, time_channels) -> None:
        super().__init__()
        self.res1 = LabmlResidualBlock(n_channels, n_channels, time_channels)
        self.attn = LabmlAttentionBlock(n_channels)
        self.res2 = LabmlResidualBlock(n_channels, n_channels, time_channels)

    def forward(self, x, t):
        return self.res2(self.attn(self.res1(x, t)), t)


class LabmlUpsample(nn.Module):
    def __init__(self, n_channels) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(n_channels, n_channels, (4, 4), (2, 2), (1, 1))

    def forward(self, x, t):
        return self.conv(x)


class LabmlDownsample(nn.Module):
    def __init__(self, n_channels) -> None:
        super().__init__()
        self.conv = nn.Conv2d(n_channels, n_channels, (3, 3), (2, 2), (1, 1))

    def forward(self, x, t):
        return self.conv(x)


class LabmlUNet(nn.Module):
    def __init__(
        self, image_channels=3, n_channels=16, ch_mults=(1, 2), is_attn=(False, True), n_blocks=1
    ) -> None:
        super().__init__()
        n_resolutions = len(ch_mults)
        self.image_proj = nn.Conv2d(image_channels, n_channels, (3, 3), padding=(1, 1))
        self.time_emb = LabmlTimeEmbedding(n_channels * 4)
        down = []
        out_channels = in_channels = n_channels
        for i in range(n_resolutions):
            out_channels = in_channels * ch_mults[i]
            for _ in range(n_blocks):
                down.append(LabmlDownBlock(in_channels, out_channels, n_channels * 4, is_attn[i]))
                in_channels = out_channels
            if i < n_resolutions - 1:
                down.append(LabmlDownsample(in_channels))
        self.down = nn.ModuleList(down)
        self.middle = LabmlMiddleBlock(out_channels, n_channels * 4)
        up = []
        in_channels = out_channels
        for i in reversed(range(n_resolutions)):
            out_channels = in_channels
            for _ in range(n_blocks):
                up.append(LabmlUpBlock(in_channels, out_channels, n_channels * 4, is_attn[i]))
            out_channels = in_channels // ch_mults[i]
            up.append(LabmlUpBlock(in_channels, out_channels, n_channels * 4, is_attn[i]))
            in_channels = out_channels
            if i > 0:
                up.append(LabmlUpsample(in_channels))
        self.up = nn.ModuleList(up)
        self.norm = nn.GroupNorm(8, n_channels)
        self.act = nn.SiLU()
        self.final = nn.Conv2d(in_channels, image_channels, (3, 3), padding=(1, 1))

    def forward(self, x, t):
        t = self.time_emb(t)
        x = self.image_proj(x)
        h = [x]
        for m in self.down:
            x = m(x, t)
            h.append(x)
        x = self.middle(x, t)
        for m in self.up:
            if isinstance(m, LabmlUpsample):
                x = m(x, t)
            else:
                x = m(torch.cat((x, h.pop()), dim=1), t)
        return self.final(self.act(self.norm(x)))


# -------------------------------------------------------- CycleGAN ResnetGenerator, DCGAN


class CycleGanResnetBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        norm = nn.InstanceNorm2d  # affine=False, no running stats: nothing in the state dict
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=True),
            norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=True),
            norm(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class CycleGanResnetGenerator(nn.Module):
    def __init__(self, input_nc=3, output_nc=3, ngf=8, n_blocks=2) -> None:
        super().__init__()
        norm = nn.InstanceNorm2d
        model = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=True),
            norm(ngf),
            nn.ReLU(True),
        ]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2**i
            model += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1),
                norm(ngf * mult * 2),
                nn.ReLU(True),
            ]
        mult = 2**n_downsampling
        model += [CycleGanResnetBlock(ngf * mult) for _ in range(n_blocks)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [
                nn.ConvTranspose2d(
                    ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1
                ),
                norm(ngf * mult // 2),
                nn.ReLU(True),
            ]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0)]
        model += [nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


class DcganGenerator(nn.Module):  # pytorch/examples dcgan/main.py
    def __init__(self, nz=16, ngf=8, nc=3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)


# ------------------------------------------------------------ super-resolution: ESPCN, FSRCNN


class Espcn(nn.Module):  # yjn870/ESPCN-pytorch models.py
    def __init__(self, scale_factor=2, num_channels=1) -> None:
        super().__init__()
        self.first_part = nn.Sequential(
            nn.Conv2d(num_channels, 64, kernel_size=5, padding=5 // 2),
            nn.Tanh(),
            nn.Conv2d(64, 32, kernel_size=3, padding=3 // 2),
            nn.Tanh(),
        )
        self.last_part = nn.Sequential(
            nn.Conv2d(32, num_channels * (scale_factor**2), kernel_size=3, padding=3 // 2),
            nn.PixelShuffle(scale_factor),
        )

    def forward(self, x):
        return self.last_part(self.first_part(x))


class Fsrcnn(nn.Module):  # yjn870/FSRCNN-pytorch models.py
    def __init__(self, scale_factor=2, num_channels=1, d=16, s=8, m=2) -> None:
        super().__init__()
        self.first_part = nn.Sequential(
            nn.Conv2d(num_channels, d, kernel_size=5, padding=5 // 2), nn.PReLU(d)
        )
        mid = [nn.Conv2d(d, s, kernel_size=1), nn.PReLU(s)]
        for _ in range(m):
            mid.extend([nn.Conv2d(s, s, kernel_size=3, padding=3 // 2), nn.PReLU(s)])
        mid.extend([nn.Conv2d(s, d, kernel_size=1), nn.PReLU(d)])
        self.mid_part = nn.Sequential(*mid)
        self.last_part = nn.ConvTranspose2d(
            d,
            num_channels,
            kernel_size=9,
            stride=scale_factor,
            padding=9 // 2,
            output_padding=scale_factor - 1,
        )

    def forward(self, x):
        return self.last_part(self.mid_part(self.first_part(x)))


# -------------------------------------------------------------------------------------- RCAN


class RcanMeanShift(nn.Conv2d):
    def __init__(self, rgb_range=1, rgb_mean=(0.4488, 0.4371, 0.4040), sign=-1) -> None:
        super().__init__(3, 3, kernel_size=1)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.bias.data = sign * rgb_range * torch.tensor(rgb_mean)
        self.requires_grad_(False)


class CALayer(nn.Module):
    def __init__(self, channel: int, reduction: int = 4) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = nn.Sequential(
            nn.Conv2d(channel, channel // reduction, 1, padding=0, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel // reduction, channel, 1, padding=0, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.conv_du(self.avg_pool(x))


class RCAB(nn.Module):
    def __init__(self, n_feat: int, reduction: int = 4) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(n_feat, n_feat, 3, padding=1),
            nn.ReLU(True),
            nn.Conv2d(n_feat, n_feat, 3, padding=1),
            CALayer(n_feat, reduction),
        )

    def forward(self, x):
        return self.body(x) + x


class ResidualGroup(nn.Module):
    def __init__(self, n_feat: int, n_resblocks: int) -> None:
        super().__init__()
        body = [RCAB(n_feat) for _ in range(n_resblocks)]
        body.append(nn.Conv2d(n_feat, n_feat, 3, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, x):
        return self.body(x) + x


class RCAN(nn.Module):
    def __init__(self, n_resgroups=2, n_resblocks=2, n_feats=16, scale=2) -> None:
        super().__init__()
        self.sub_mean = RcanMeanShift()
        self.head = nn.Sequential(nn.Conv2d(3, n_feats, 3, padding=1))
        body = [ResidualGroup(n_feats, n_resblocks) for _ in range(n_resgroups)]
        body.append(nn.Conv2d(n_feats, n_feats, 3, padding=1))
        self.body = nn.Sequential(*body)
        self.tail = nn.Sequential(
            nn.Sequential(nn.Conv2d(n_feats, 4 * n_feats, 3, padding=1), nn.PixelShuffle(scale)),
            nn.Conv2d(n_feats, 3, 3, padding=1),
        )
        self.add_mean = RcanMeanShift(sign=1)

    def forward(self, x):
        x = self.head(self.sub_mean(x))
        res = self.body(x)
        res += x
        return self.add_mean(self.tail(res))


# ------------------------------------------------------------ rosinality VQ-VAE-2, one level


class VqResBlock(nn.Module):
    def __init__(self, in_channel: int, channel: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(in_channel, channel, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel, in_channel, 1),
        )

    def forward(self, x):
        out = self.conv(x)
        out += x
        return out


class VqQuantize(nn.Module):
    def __init__(self, dim: int, n_embed: int) -> None:
        super().__init__()
        embed = torch.randn(dim, n_embed)
        self.register_buffer("embed", embed)
        self.register_buffer("cluster_size", torch.zeros(n_embed))
        self.register_buffer("embed_avg", embed.clone())

    def forward(self, x):
        flatten = x.reshape(-1, x.shape[-1])
        dist = (
            flatten.pow(2).sum(1, keepdim=True)
            - 2 * flatten @ self.embed
            + self.embed.pow(2).sum(0, keepdim=True)
        )
        embed_ind = (-dist).max(1)[1].view(*x.shape[:-1])
        return F.embedding(embed_ind, self.embed.transpose(0, 1))


class VqEncoder(nn.Module):
    def __init__(self, in_channel: int, channel: int, n_res_block: int, n_res_channel: int):
        super().__init__()
        blocks = [
            nn.Conv2d(in_channel, channel // 2, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel // 2, channel, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel, channel, 3, padding=1),
        ]
        blocks += [VqResBlock(channel, n_res_channel) for _ in range(n_res_block)]
        blocks.append(nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(x)


class VqDecoder(nn.Module):
    def __init__(self, in_channel, out_channel, channel, n_res_block, n_res_channel) -> None:
        super().__init__()
        blocks = [nn.Conv2d(in_channel, channel, 3, padding=1)]
        blocks += [VqResBlock(channel, n_res_channel) for _ in range(n_res_block)]
        blocks.append(nn.ReLU(inplace=True))
        blocks += [
            nn.ConvTranspose2d(channel, channel // 2, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(channel // 2, out_channel, 4, stride=2, padding=1),
        ]
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x):
        return self.blocks(x)


class VqVae(nn.Module):
    def __init__(self, channel=16, n_res_block=2, n_res_channel=8, embed_dim=8, n_embed=32):
        super().__init__()
        self.enc_b = VqEncoder(3, channel, n_res_block, n_res_channel)
        self.quantize_conv_b = nn.Conv2d(channel, embed_dim, 1)
        self.quantize_b = VqQuantize(embed_dim, n_embed)
        self.dec = VqDecoder(embed_dim, 3, channel, n_res_block, n_res_channel)

    def forward(self, x):
        quant = self.quantize_conv_b(self.enc_b(x)).permute(0, 2, 3, 1)
        quant = self.quantize_b(quant).permute(0, 3, 1, 2)
        return self.dec(quant)


# ---------------------------------------------------------------- openai DALL-E dVAE Decoder


class DalleConv2d(nn.Module):
    """DALL-E's own conv: tensors `w` and `b`, 'same' padding from the kernel width."""

    def __init__(self, n_in: int, n_out: int, kw: int) -> None:
        super().__init__()
        self.kw = kw
        self.w = nn.Parameter(torch.randn(n_out, n_in, kw, kw) / math.sqrt(n_in * kw * kw))
        self.b = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return F.conv2d(x, self.w, self.b, padding=(self.kw - 1) // 2)


class DalleDecoderBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int, n_layers: int) -> None:
        super().__init__()
        n_hid = n_out // 4
        self.post_gain = 1 / (n_layers**2)
        self.id_path = DalleConv2d(n_in, n_out, 1) if n_in != n_out else nn.Identity()
        self.res_path = nn.Sequential(
            OrderedDict(
                [
                    ("relu_1", nn.ReLU()),
                    ("conv_1", DalleConv2d(n_in, n_hid, 1)),
                    ("relu_2", nn.ReLU()),
                    ("conv_2", DalleConv2d(n_hid, n_hid, 3)),
                    ("relu_3", nn.ReLU()),
                    ("conv_3", DalleConv2d(n_hid, n_hid, 3)),
                    ("relu_4", nn.ReLU()),
                    ("conv_4", DalleConv2d(n_hid, n_out, 3)),
                ]
            )
        )

    def forward(self, x):
        return self.id_path(x) + self.post_gain * self.res_path(x)


class DalleDecoder(nn.Module):
    def __init__(self, n_hid=16, n_blk_per_group=1, output_channels=3, vocab_size=32) -> None:
        super().__init__()
        group_count = 2
        n_layers = group_count * n_blk_per_group
        blk_range = range(n_blk_per_group)

        def group(n_in, n_out, upsample):
            blocks = [
                (f"block_{i + 1}", DalleDecoderBlock(n_in if i == 0 else n_out, n_out, n_layers))
                for i in blk_range
            ]
            if upsample:
                blocks.append(("upsample", nn.Upsample(scale_factor=2, mode="nearest")))
            return nn.Sequential(OrderedDict(blocks))

        self.blocks = nn.Sequential(
            OrderedDict(
                [
                    ("input", DalleConv2d(vocab_size, n_hid, 1)),
                    ("group_1", group(n_hid, 2 * n_hid, True)),
                    ("group_2", group(2 * n_hid, 1 * n_hid, False)),
                    (
                        "output",
                        nn.Sequential(
                            OrderedDict(
                                [
                                    ("relu", nn.ReLU()),
                                    ("conv", DalleConv2d(n_hid, 2 * output_channels, 1)),
                                ]
                            )
                        ),
                    ),
                ]
            )
        )

    def forward(self, x):
        return self.blocks(x)


# ---------------------------------------------------------------------------------- the zoo

ZOO = {  # name: (build, input shape, takes a timestep)
    "lucid_unet": (LucidUnet, (2, 3, 16, 16), True),
    "labml_ddpm_unet": (LabmlUNet, (2, 3, 16, 16), True),
    "cyclegan_resnet": (CycleGanResnetGenerator, (2, 3, 16, 16), False),
    "dcgan_generator": (DcganGenerator, (2, 16, 1, 1), False),
    "espcn": (Espcn, (2, 1, 8, 8), False),
    "fsrcnn": (Fsrcnn, (2, 1, 8, 8), False),
    "rcan": (RCAN, (2, 3, 8, 8), False),
    "vqvae_one_level": (VqVae, (2, 3, 16, 16), False),
    "dalle_decoder": (DalleDecoder, (2, 32, 4, 4), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image or a
    latent, and one timestep per sample for the diffusion U-Nets)."""
    return generative_reference(ZOO[name])
