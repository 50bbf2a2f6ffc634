"""Tiny reference blocks written the way diffusers writes the transformer inside its conditional
U-Nets (Attention with to_q/to_k/to_v/to_out, GEGLU, FeedForward, BasicTransformerBlock,
Transformer2DModel), for those patterns' examples. Plain torch; tests/test_generative_more.py
compares with diffusers itself. Reference code, not generated code."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Attention(nn.Module):
        def __init__(self, d: int, heads: int, context: int | None = None) -> None:
            super().__init__()
            self.heads = heads
            self.to_q = nn.Linear(d, d, bias=False)
            self.to_k = nn.Linear(context or d, d, bias=False)
            self.to_v = nn.Linear(context or d, d, bias=False)
            self.to_out = nn.ModuleList([nn.Linear(d, d), nn.Dropout(0.0)])

        def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
            source = x if context is None else context
            b = x.shape[0]
            q, k, v = (
                f(s).view(b, -1, self.heads, f.out_features // self.heads).transpose(1, 2)
                for f, s in ((self.to_q, x), (self.to_k, source), (self.to_v, source))
            )
            out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
            return self.to_out[1](self.to_out[0](out))

    class GEGLU(nn.Module):
        def __init__(self, d: int, inner: int) -> None:
            super().__init__()
            self.proj = nn.Linear(d, 2 * inner)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, gate = self.proj(x).chunk(2, dim=-1)
            return h * F.gelu(gate)

    class FeedForward(nn.Module):
        def __init__(self, d: int, mult: int = 4) -> None:
            super().__init__()
            self.net = nn.ModuleList([GEGLU(d, d * mult), nn.Dropout(0.0), nn.Linear(d * mult, d)])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for m in self.net:
                x = m(x)
            return x

    class BasicTransformerBlock(nn.Module):
        def __init__(self, d: int, heads: int, context: int) -> None:
            super().__init__()
            self.norm1, self.attn1 = nn.LayerNorm(d), Attention(d, heads)
            self.norm2, self.attn2 = nn.LayerNorm(d), Attention(d, heads, context)
            self.norm3, self.ff = nn.LayerNorm(d), FeedForward(d)

        def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
            x = self.attn1(self.norm1(x)) + x
            x = self.attn2(self.norm2(x), context) + x
            return self.ff(self.norm3(x)) + x

    class Transformer2DModel(nn.Module):
        def __init__(self, c: int, heads: int, context: int, groups: int = 4) -> None:
            super().__init__()
            self.norm = nn.GroupNorm(groups, c, eps=1e-6)
            self.proj_in = nn.Conv2d(c, c, 1)
            self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(c, heads, context)])
            self.proj_out = nn.Conv2d(c, c, 1)

        def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
            b, c, height, width = x.shape
            h = self.proj_in(self.norm(x))
            h = h.permute(0, 2, 3, 1).reshape(b, height * width, c)
            for block in self.transformer_blocks:
                h = block(h, context)
            h = h.reshape(b, height, width, c).permute(0, 3, 1, 2).contiguous()
            return self.proj_out(h) + x

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module, name: str = "block") -> None:
            super().__init__()
            self.name = name
            setattr(self, name, inner)

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return getattr(self, self.name)(*inputs)

    def built(module):
        torch.manual_seed(0)
        with torch.no_grad():
            for name, p in module.named_parameters():
                if "norm" in name:  # norms away from their initial 1/0
                    p.add_(0.1 * torch.randn_like(p))
        return module.eval()

    def tokens(d: int, context: int | None = None):
        torch.manual_seed(1)
        x = torch.randn(2, 6, d)
        return (x,) if context is None else (x, torch.randn(2, 5, context))

    def image_and_context(c: int, context: int):
        torch.manual_seed(1)
        return torch.randn(2, c, 4, 4), torch.randn(2, 5, context)

    return dict(
        attention=lambda *a: Holder(built(Attention(*a)), "attn2"),
        feed_forward=lambda d: Holder(built(FeedForward(d)), "ff"),
        geglu=lambda d, inner: Holder(built(GEGLU(d, inner)), "act"),
        block=lambda *a: Holder(built(BasicTransformerBlock(*a)), "transformer_blocks"),
        transformer=lambda *a: Holder(built(Transformer2DModel(*a)), "attentions"),
        tokens=tokens,
        image_and_context=image_and_context,
    )
