"""Tiny reference blocks written the way lucidrains' denoising-diffusion-pytorch writes its U-Nets
(RMSNorm with a gain `g`, PreNorm, Residual, LinearAttention and Attention over pixels from a fused
1x1-conv `to_qkv`, the ResnetBlock of two `Block`s whose first is scaled and shifted by the time
MLP), for the patterns' examples. Plain torch. Reference code, not generated code: the generated
file must match it."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class RMSNorm(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.g = nn.Parameter(1 + 0.1 * torch.randn(1, dim, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.normalize(x, dim=1) * self.g * (x.shape[1] ** 0.5)

    class PreNorm(nn.Module):
        def __init__(self, dim: int, fn: nn.Module) -> None:
            super().__init__()
            self.fn = fn
            self.norm = RMSNorm(dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fn(self.norm(x))

    class Residual(nn.Module):
        def __init__(self, fn: nn.Module) -> None:
            super().__init__()
            self.fn = fn

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fn(x) + x

    class Rezero(nn.Module):  # the 2020 U-Net's gain around its attention
        def __init__(self, fn: nn.Module) -> None:
            super().__init__()
            self.fn = fn
            self.g = nn.Parameter(torch.zeros(1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fn(x) * self.g

    class PixelAttention(nn.Module):  # LinearAttention (with its to_out norm) or Attention
        def __init__(self, dim: int, heads: int, dim_head: int, linear: bool) -> None:
            super().__init__()
            self.scale, self.heads, self.linear = dim_head**-0.5, heads, linear
            hidden = dim_head * heads
            self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
            conv = nn.Conv2d(hidden, dim, 1)
            self.to_out = nn.Sequential(conv, RMSNorm(dim)) if linear else conv

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, c, h, w = x.shape
            q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in self.to_qkv(x).chunk(3, 1))
            if self.linear:
                q = q.softmax(dim=-2) * self.scale
                context = torch.einsum("bhdn,bhen->bhde", k.softmax(dim=-1), v)
                out = torch.einsum("bhde,bhdn->bhen", context, q)
            else:
                attn = torch.einsum("bhdi,bhdj->bhij", q * self.scale, k).softmax(dim=-1)
                out = torch.einsum("bhij,bhdj->bhid", attn, v).permute(0, 1, 3, 2)
            return self.to_out(out.reshape(b, -1, h, w))

    class Block(nn.Module):
        def __init__(self, dim: int, dim_out: int, groups: int) -> None:
            super().__init__()
            self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
            self.norm = nn.GroupNorm(groups, dim_out)
            self.act = nn.SiLU()

        def forward(self, x: torch.Tensor, scale_shift: tuple | None = None) -> torch.Tensor:
            x = self.norm(self.proj(x))
            if scale_shift is not None:
                scale, shift = scale_shift
                x = x * (scale + 1) + shift
            return self.act(x)

    class ResnetBlock(nn.Module):
        def __init__(self, dim: int, dim_out: int, time_dim: int | None, groups: int) -> None:
            super().__init__()
            self.mlp = (
                nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out * 2)) if time_dim else None
            )
            self.block1 = Block(dim, dim_out, groups)
            self.block2 = Block(dim_out, dim_out, groups)
            self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

        def forward(self, x: torch.Tensor, time_emb: torch.Tensor | None = None) -> torch.Tensor:
            scale_shift = None
            if self.mlp is not None and time_emb is not None:
                scale_shift = self.mlp(time_emb)[:, :, None, None].chunk(2, dim=1)
            h = self.block2(self.block1(x, scale_shift=scale_shift))
            return h + self.res_conv(x)

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.block = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.block(*inputs)

    def built(module):
        torch.manual_seed(0)
        with torch.no_grad():
            for p in module.parameters():
                p.add_(0.1 * torch.randn_like(p))
        return Holder(module.eval()).eval()

    def image(c: int, size: int = 8):
        torch.manual_seed(1)
        return (torch.randn(2, c, size, size),)

    def with_time(c: int, t: int):
        torch.manual_seed(1)
        return torch.randn(2, c, 8, 8), torch.randn(2, t)

    def attention(dim: int, heads: int, dim_head: int, linear: bool):
        return PixelAttention(dim, heads, dim_head, linear)

    return dict(
        rms_norm=lambda c: built(RMSNorm(c)),
        attention=lambda *a: built(attention(*a)),
        residual_pre_norm=lambda c, *a: built(Residual(PreNorm(c, attention(c, *a)))),
        residual_rezero=lambda c, *a: built(Residual(Rezero(attention(c, *a)))),
        resnet=lambda *a: built(ResnetBlock(*a)),
        image=image,
        with_time=with_time,
    )
