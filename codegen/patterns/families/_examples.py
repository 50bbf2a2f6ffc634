"""Tiny reference modules shared by the transformer patterns' examples (nanoGPT-style, pre-norm).

Without config.json the head count is unknown, so attention's forward is not inferred from these
alone (Example inputs None: they must load and script); tests/test_transformers_families.py checks
the forwards against the `transformers` library with its config."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SelfAttention(nn.Module):
        def __init__(self, d: int = 16, heads: int = 2) -> None:
            super().__init__()
            self.heads = heads
            self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
            self.v_proj, self.o_proj = nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, self.heads, -1).transpose(1, 2)
                for p in (self.q_proj, self.k_proj, self.v_proj)
            )
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))

    class FeedForward(nn.Module):
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(F.gelu(self.fc1(x)))

    class Block(nn.Module):
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(d), SelfAttention(d)
            self.ln_2, self.mlp = nn.LayerNorm(d), FeedForward(d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class Body(nn.Module):
        def __init__(self, vocab: int = 50, d: int = 16) -> None:
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(32, d)
            self.h = nn.ModuleList(Block(d) for _ in range(2))
            self.ln_f = nn.LayerNorm(d)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.wte(ids) + self.wpe(torch.arange(ids.size(1)))
            for block in self.h:
                x = block(x)
            return self.ln_f(x)

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer, self.lm_head = Body(), nn.Linear(16, 50, bias=False)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.lm_head(self.transformer(ids))

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)

    return dict(attention=SelfAttention, mlp=FeedForward, block=Block, lm=LM, holder=Holder)
