"""Tiny reference U-Nets for families/skip_stack_unet.py (and its blocks), written the way their
repositories write them, in layouts the zoos do not hold: lucidrains' denoising-diffusion-pytorch
`Unet` over three levels with full attention at the deepest, and labml.ai's annotated DDPM `UNet`
with two blocks per level and attention at the second. Plain torch. Reference code, not generated
code: the generated file must match it."""

from __future__ import annotations

import math


def _lucid():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class RMSNorm(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

        def forward(self, x):
            return F.normalize(x, dim=1) * self.g * (x.shape[1] ** 0.5)

    class PreNorm(nn.Module):
        def __init__(self, dim: int, fn: nn.Module) -> None:
            super().__init__()
            self.fn, self.norm = fn, RMSNorm(dim)

        def forward(self, x):
            return self.fn(self.norm(x))

    class Residual(nn.Module):
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
            emb = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
            emb = x.float()[:, None] * emb[None, :]
            return torch.cat((emb.sin(), emb.cos()), dim=-1)

    class Block(nn.Module):
        def __init__(self, dim: int, dim_out: int, groups: int = 8) -> None:
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

    class ResnetBlock(nn.Module):
        def __init__(self, dim: int, dim_out: int, time_emb_dim: int) -> None:
            super().__init__()
            self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
            self.block1 = Block(dim, dim_out)
            self.block2 = Block(dim_out, dim_out)
            self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

        def forward(self, x, time_emb):
            scale_shift = self.mlp(time_emb)[:, :, None, None].chunk(2, dim=1)
            h = self.block2(self.block1(x, scale_shift=scale_shift))
            return h + self.res_conv(x)

    class Attention(nn.Module):  # LinearAttention (to_out normed) or the full one
        def __init__(self, dim: int, linear: bool, dim_head: int = 32) -> None:
            super().__init__()
            self.scale, self.linear = dim_head**-0.5, linear
            self.to_qkv = nn.Conv2d(dim, dim_head * 3, 1, bias=False)
            out = nn.Conv2d(dim_head, dim, 1)
            self.to_out = nn.Sequential(out, RMSNorm(dim)) if linear else out

        def forward(self, x):
            b, c, h, w = x.shape
            q, k, v = (t.reshape(b, 1, -1, h * w) for t in self.to_qkv(x).chunk(3, dim=1))
            if self.linear:
                q = q.softmax(dim=-2) * self.scale
                context = torch.einsum("bhdn,bhen->bhde", k.softmax(dim=-1), v)
                out = torch.einsum("bhde,bhdn->bhen", context, q)
            else:
                attn = torch.einsum("bhdi,bhdj->bhij", q * self.scale, k).softmax(dim=-1)
                out = torch.einsum("bhij,bhdj->bhid", attn, v).permute(0, 1, 3, 2)
            return self.to_out(out.reshape(b, -1, h, w))

    class Downsample(nn.Module):  # Rearrange('b c (h p1) (w p2) -> b (c p1 p2) h w'), 1x1 conv
        def __init__(self, dim: int, dim_out: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(dim * 4, dim_out, 1)

        def forward(self, x):
            b, c, h, w = x.shape
            x = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
            return self.conv(x.reshape(b, c * 4, h // 2, w // 2))

    class Unet(nn.Module):
        def __init__(self, dim: int = 8, dim_mults=(1, 2, 4), channels: int = 3) -> None:
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
            n = len(in_out)
            for ind, (d_in, d_out) in enumerate(in_out):
                last = ind == n - 1
                self.downs.append(
                    nn.ModuleList(
                        [
                            ResnetBlock(d_in, d_in, time_dim),
                            ResnetBlock(d_in, d_in, time_dim),
                            Residual(PreNorm(d_in, Attention(d_in, linear=not last))),
                            (
                                Downsample(d_in, d_out)
                                if not last
                                else nn.Conv2d(d_in, d_out, 3, padding=1)
                            ),
                        ]
                    )
                )
            mid = dims[-1]
            self.mid_block1 = ResnetBlock(mid, mid, time_dim)
            self.mid_attn = Residual(PreNorm(mid, Attention(mid, linear=False)))
            self.mid_block2 = ResnetBlock(mid, mid, time_dim)
            for ind, (d_in, d_out) in enumerate(reversed(in_out)):
                last = ind == n - 1
                up = nn.Sequential(
                    nn.Upsample(scale_factor=2), nn.Conv2d(d_out, d_in, 3, padding=1)
                )
                self.ups.append(
                    nn.ModuleList(
                        [
                            ResnetBlock(d_out + d_in, d_out, time_dim),
                            ResnetBlock(d_out + d_in, d_out, time_dim),
                            Residual(PreNorm(d_out, Attention(d_out, linear=ind != 0))),
                            up if not last else nn.Conv2d(d_out, d_in, 3, padding=1),
                        ]
                    )
                )
            self.final_res_block = ResnetBlock(dim * 2, dim, time_dim)
            self.final_conv = nn.Conv2d(dim, channels, 1)

        def forward(self, x, time):
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

    return Unet


def _labml():
    import torch
    import torch.nn as nn

    class TimeEmbedding(nn.Module):
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

    class ResidualBlock(nn.Module):
        def __init__(self, c_in: int, c_out: int, time_channels: int, n_groups: int = 32):
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

    class AttentionBlock(nn.Module):
        def __init__(self, n_channels: int, n_heads: int = 1, n_groups: int = 32) -> None:
            super().__init__()
            d_k = n_channels
            self.norm = nn.GroupNorm(n_groups, n_channels)  # labml builds it, never calls it
            self.projection = nn.Linear(n_channels, n_heads * d_k * 3)
            self.output = nn.Linear(n_heads * d_k, n_channels)
            self.scale, self.n_heads, self.d_k = d_k**-0.5, n_heads, d_k

        def forward(self, x, t=None):
            batch, n_channels, height, width = x.shape
            x = x.view(batch, n_channels, -1).permute(0, 2, 1)
            qkv = self.projection(x).view(batch, -1, self.n_heads, 3 * self.d_k)
            q, k, v = torch.chunk(qkv, 3, dim=-1)
            attn = torch.einsum("bihd,bjhd->bijh", q, k) * self.scale
            res = torch.einsum("bijh,bjhd->bihd", attn.softmax(dim=2), v)
            res = self.output(res.reshape(batch, -1, self.n_heads * self.d_k)) + x
            return res.permute(0, 2, 1).reshape(batch, n_channels, height, width)

    class Block(nn.Module):  # DownBlock / UpBlock
        def __init__(self, c_in, c_out, time_channels, has_attn) -> None:
            super().__init__()
            self.res = ResidualBlock(c_in, c_out, time_channels)
            self.attn = AttentionBlock(c_out) if has_attn else nn.Identity()

        def forward(self, x, t):
            return self.attn(self.res(x, t))

    class MiddleBlock(nn.Module):
        def __init__(self, n_channels, time_channels) -> None:
            super().__init__()
            self.res1 = ResidualBlock(n_channels, n_channels, time_channels)
            self.attn = AttentionBlock(n_channels)
            self.res2 = ResidualBlock(n_channels, n_channels, time_channels)

        def forward(self, x, t):
            return self.res2(self.attn(self.res1(x, t)), t)

    class Upsample(nn.Module):
        def __init__(self, n_channels) -> None:
            super().__init__()
            self.conv = nn.ConvTranspose2d(n_channels, n_channels, (4, 4), (2, 2), (1, 1))

        def forward(self, x, t):
            return self.conv(x)

    class Downsample(nn.Module):
        def __init__(self, n_channels) -> None:
            super().__init__()
            self.conv = nn.Conv2d(n_channels, n_channels, (3, 3), (2, 2), (1, 1))

        def forward(self, x, t):
            return self.conv(x)

    class UNet(nn.Module):
        def __init__(
            self,
            image_channels=3,
            n_channels=32,
            ch_mults=(1, 2),
            is_attn=(False, True),
            n_blocks=2,
        ) -> None:
            super().__init__()
            n_resolutions = len(ch_mults)
            self.image_proj = nn.Conv2d(image_channels, n_channels, (3, 3), padding=(1, 1))
            self.time_emb = TimeEmbedding(n_channels * 4)
            down = []
            out_channels = in_channels = n_channels
            for i in range(n_resolutions):
                out_channels = in_channels * ch_mults[i]
                for _ in range(n_blocks):
                    down.append(Block(in_channels, out_channels, n_channels * 4, is_attn[i]))
                    in_channels = out_channels
                if i < n_resolutions - 1:
                    down.append(Downsample(in_channels))
            self.down = nn.ModuleList(down)
            self.middle = MiddleBlock(out_channels, n_channels * 4)
            up = []
            in_channels = out_channels
            for i in reversed(range(n_resolutions)):
                out_channels = in_channels
                for _ in range(n_blocks):
                    up.append(
                        Block(in_channels + out_channels, out_channels, n_channels * 4, is_attn[i])
                    )
                out_channels = in_channels // ch_mults[i]
                up.append(
                    Block(in_channels + out_channels, out_channels, n_channels * 4, is_attn[i])
                )
                in_channels = out_channels
                if i > 0:
                    up.append(Upsample(in_channels))
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
                if isinstance(m, Upsample):
                    x = m(x, t)
                else:
                    x = m(torch.cat((x, h.pop()), dim=1), t)
            return self.final(self.act(self.norm(x)))

    return dict(unet=UNet, attention=AttentionBlock, block=Block)


class _Holder:
    """A generated class is a member of the top one: blocks are tested held by a module."""

    @staticmethod
    def wrap(inner):
        import torch.nn as nn

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = inner

            def forward(self, *inputs):
                return self.block(*inputs)

        return Holder()


def _built(module):
    import torch

    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return module.eval()


def labml_attention(channels: int, heads: int):
    return _built(_Holder.wrap(_labml()["attention"](channels, heads)))


def labml_block(c_in: int, c_out: int, time_channels: int):
    return _built(_Holder.wrap(_labml()["block"](c_in, c_out, time_channels, True)))


def examples() -> list:
    import torch

    from codegen.patterns._kit import Example

    torch.manual_seed(1)
    lucid = _built(_lucid()())
    labml = _built(_labml()["unet"]())
    return [
        Example(lucid, (torch.randn(2, 3, 16, 16), torch.tensor([3, 700]))),
        # timestep 0: labml computes its frequencies in another float order than the shared
        # helper (1e-7 apart), which its attention over large maps amplifies past the tolerance
        Example(labml, (torch.randn(2, 3, 8, 8), torch.tensor([0, 0]))),
    ]
