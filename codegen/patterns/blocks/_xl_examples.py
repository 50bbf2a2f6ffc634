"""A reference relative-attention encoder for blocks/xl_relative_attention.py's examples: XLNet's
names and layout, its relative term computed directly from each pair's offset i - j (not by the
shift the generated file uses), so the two are checked against each other."""

from __future__ import annotations

from codegen.patterns._kit import Example


def xl_model(d_model: int, heads: int, head_dim: int, segments: bool) -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def table(*shape):
        return nn.Parameter(torch.randn(*shape) * 0.3)

    class RelAttn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for name in ("q", "k", "v", "o", "r"):
                setattr(self, name, table(d_model, heads, head_dim))
            self.r_w_bias, self.r_r_bias = table(heads, head_dim), table(heads, head_dim)
            if segments:
                self.r_s_bias, self.seg_embed = table(heads, head_dim), table(2, heads, head_dim)
            self.layer_norm = nn.LayerNorm(d_model)

        def forward(self, h, mask, types):
            seq = h.size(1)
            offsets = torch.arange(seq)[:, None] - torch.arange(seq)[None, :]  # i - j
            steps = torch.arange(0, d_model, 2).float() / d_model
            angles = offsets[..., None].float() / (10000.0**steps)
            sinusoids = torch.cat([angles.sin(), angles.cos()], -1)  # [seq, seq, d_model]
            q, k, v = (torch.einsum("bih,hnd->bind", h, w) for w in (self.q, self.k, self.v))
            k_r = torch.einsum("ijh,hnd->ijnd", sinusoids, self.r)
            scores = torch.einsum("bind,bjnd->bnij", q + self.r_w_bias, k)
            scores = scores + torch.einsum("bind,ijnd->bnij", q + self.r_r_bias, k_r)
            if segments and types is not None:
                other = (types[:, :, None] != types[:, None, :]).float()  # [b, i, j]
                same, diff = torch.einsum("bind,snd->sbni", q + self.r_s_bias, self.seg_embed)
                scores = scores + torch.where(other[:, None] > 0, diff[..., None], same[..., None])
            scores = scores / head_dim**0.5
            if mask is not None:
                allowed = (mask[:, None, None, :] != 0) | torch.eye(seq, dtype=torch.bool)
                scores = scores.masked_fill(~allowed, float("-inf"))
            y = torch.einsum("bnij,bjnd->bind", scores.softmax(-1), v)
            return self.layer_norm(torch.einsum("bind,hnd->bih", y, self.o) + h)

    class FF(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer_1, self.layer_2 = nn.Linear(d_model, 2 * d_model), nn.Linear(
                2 * d_model, d_model
            )
            self.layer_norm = nn.LayerNorm(d_model)

        def forward(self, x):
            return self.layer_norm(self.layer_2(F.gelu(self.layer_1(x))) + x)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rel_attn, self.ff = RelAttn(), FF()

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embedding = nn.Embedding(50, d_model)
            self.mask_emb = nn.Parameter(torch.randn(1, 1, d_model))
            self.layer = nn.ModuleList(Layer() for _ in range(2))

        def forward(self, ids, attention_mask, token_type_ids=None):
            x = self.word_embedding(ids)
            for layer in self.layer:
                x = layer.ff(layer.rel_attn(x, attention_mask, token_type_ids))
            return x

    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    types = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0]])
    inputs = (ids, mask, types) if segments else (ids, mask)
    return Example(Model(), inputs, {"n_head": heads, "ff_activation": "gelu"})
