"""Reference modules for the latent-transformer patterns (timestep_conditioning.py,
modulated_block.py, caption_projection.py, families/latent_transformer.py): a tiny DiT (adaLN-Zero,
class labels) and a tiny PixArt (adaLN-single, text states), written here the way diffusers lays
out their keys. Imported only by the patterns' examples()."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

HEADS, WIDTH, PATCH, CLASSES, TEXT = 2, 16, 2, 5, 12
META = {"num_attention_heads": HEADS, "activation_fn": "gelu-approximate", "sample_size": 8}


def _features(t: torch.Tensor, dim: int, shift: float) -> torch.Tensor:
    """Sinusoidal timestep features, cos first."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - shift))
    angles = t[:, None].float() * freqs[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


def _positions(rows: int, cols: int, dim: int) -> torch.Tensor:
    """2-D sine-cosine positions, the column's in the first half (the trained grid: base = rows)."""
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4))

    def one(pos: torch.Tensor) -> torch.Tensor:
        out = torch.outer(pos.double(), omega)
        return torch.cat([torch.sin(out), torch.cos(out)], dim=1)

    c = one(torch.arange(cols, dtype=torch.float32)).expand(rows, -1, -1)
    r = one(torch.arange(rows, dtype=torch.float32))[:, None, :].expand(-1, cols, -1)
    return torch.cat([c, r], dim=-1).reshape(1, rows * cols, dim).float()


class _Mlp2(nn.Module):
    def __init__(self, width_in: int, width: int, act) -> None:
        super().__init__()
        self.linear_1, self.linear_2, self.act = (
            nn.Linear(width_in, width),
            nn.Linear(width, width),
            act,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(x)))


class _Labels(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding_table = nn.Embedding(CLASSES + 1, WIDTH)


class _Conditioning(nn.Module):
    def __init__(self, labels: bool) -> None:
        super().__init__()
        self.timestep_embedder = _Mlp2(32, WIDTH, nn.SiLU())
        self.class_embedder = _Labels() if labels else None

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        shift = 1.0 if self.class_embedder is not None else 0.0
        out = self.timestep_embedder(_features(t, 32, shift))
        if self.class_embedder is not None and labels is not None:
            out = out + self.class_embedder.embedding_table(labels)
        return out


class _Modulation(nn.Module):
    def __init__(self, labels: bool) -> None:
        super().__init__()
        self.emb, self.linear = _Conditioning(labels), nn.Linear(WIDTH, 6 * WIDTH)

    def forward(self, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(F.silu(self.emb(t, labels)))


class _Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.to_q, self.to_k, self.to_v = (nn.Linear(WIDTH, WIDTH) for _ in range(3))
        self.to_out = nn.ModuleList([nn.Linear(WIDTH, WIDTH), nn.Dropout(0.0)])

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        source = x if context is None else context

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(t.size(0), t.size(1), HEADS, -1).transpose(1, 2)

        q, k, v = heads(self.to_q(x)), heads(self.to_k(source)), heads(self.to_v(source))
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        return self.to_out[0](out)


class _GeluProj(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(WIDTH, 4 * WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.proj(x), approximate="tanh")


class _FeedForward(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.ModuleList([_GeluProj(), nn.Dropout(0.0), nn.Linear(4 * WIDTH, WIDTH)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


def _norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    return F.layer_norm(x, [x.size(-1)], eps=eps)


class _Block(nn.Module):
    def __init__(self, single: bool) -> None:
        super().__init__()
        self.attn1, self.ff = _Attention(), _FeedForward()
        if single:
            self.attn2 = _Attention()
            self.scale_shift_table = nn.Parameter(torch.randn(6, WIDTH))
        else:
            self.norm1 = _Modulation(labels=True)

    def forward(self, x, t, labels, modulation, context):
        if hasattr(self, "scale_shift_table"):
            m = self.scale_shift_table[None] + modulation.reshape(x.size(0), 6, -1)
            eps = 1e-5
        else:
            m, eps = self.norm1(t, labels).reshape(x.size(0), 6, -1), 1e-6
        s1, c1, g1, s2, c2, g2 = m.chunk(6, dim=1)
        x = x + g1 * self.attn1(_norm(x, eps) * (1 + c1) + s1)
        if hasattr(self, "attn2"):
            x = x + self.attn2(x, context)
        return x + g2 * self.ff(_norm(x, 1e-5) * (1 + c2) + s2)


class LatentTransformer(nn.Module):
    """DiT (`single` False: forward(latent, timestep, labels)) or PixArt (forward(latent, text,
    timestep))."""

    def __init__(self, single: bool) -> None:
        super().__init__()
        self.pos_embed = nn.Module()
        self.pos_embed.proj = nn.Conv2d(4, WIDTH, PATCH, stride=PATCH)
        self.transformer_blocks = nn.ModuleList(_Block(single) for _ in range(2))
        if single:
            self.adaln_single = _Modulation(labels=False)
            self.caption_projection = _Mlp2(TEXT, WIDTH, nn.GELU(approximate="tanh"))
            self.scale_shift_table = nn.Parameter(torch.randn(2, WIDTH))
            self.proj_out = nn.Linear(WIDTH, PATCH * PATCH * 8)
        else:
            self.proj_out_1 = nn.Linear(WIDTH, 2 * WIDTH)
            self.proj_out_2 = nn.Linear(WIDTH, PATCH * PATCH * 8)
        self.single = single

    def forward(self, latent: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        rows, cols = latent.size(2) // PATCH, latent.size(3) // PATCH
        x = self.pos_embed.proj(latent).flatten(2).transpose(1, 2) + _positions(rows, cols, WIDTH)
        if self.single:
            text, t = self.caption_projection(a), b
            modulation = self.adaln_single(t)
            for block in self.transformer_blocks:
                x = block(x, t, None, modulation, text)
            c = self.scale_shift_table[None] + self.adaln_single.emb(t)[:, None]
            out = self.proj_out
        else:
            t, labels = a, b
            for block in self.transformer_blocks:
                x = block(x, t, labels, None, None)
            c = self.proj_out_1(F.silu(self.transformer_blocks[0].norm1.emb(t, labels)))
            c = c.reshape(x.size(0), 2, -1)
            out = self.proj_out_2
        shift, scale = c.chunk(2, dim=1)
        x = out(_norm(x, 1e-6) * (1 + scale) + shift)
        x = x.reshape(x.size(0), rows, cols, PATCH, PATCH, -1)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(x.size(0), -1, rows * PATCH, cols * PATCH)


def dit_example():
    from codegen.patterns._kit import Example

    torch.manual_seed(3)
    inputs = (torch.randn(2, 4, 8, 8), torch.tensor([3, 700]), torch.tensor([1, CLASSES]))
    return Example(LatentTransformer(single=False), inputs, META)


def pixart_example():
    from codegen.patterns._kit import Example

    torch.manual_seed(3)
    inputs = (torch.randn(2, 4, 8, 8), torch.randn(2, 5, TEXT), torch.tensor([3, 700]))
    return Example(LatentTransformer(single=True), inputs, META)
