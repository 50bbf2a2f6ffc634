"""Reference modules for the grid-attention patterns (blocks/decomposed_attention.py): attention
with decomposed relative positions, its block and stack, written the way ViTDet's and SAM's
image encoders write them (test-only inputs; the generated file must reproduce them exactly)."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def resized(table, size):  # [L, d] -> [size, d], linear
        if table.shape[0] == size:
            return table
        return F.interpolate(table.T[None], size=size, mode="linear")[0].T

    def offsets(table, n):  # [n, n, d]: row i - j + n - 1
        table = resized(table, 2 * n - 1)
        i = torch.arange(n)
        return table[i[:, None] - i[None, :] + n - 1]

    class Attention(nn.Module):
        def __init__(self, dim, heads, trained):  # trained: (rows, cols) the tables were made for
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
            self.rel_pos_h = nn.Parameter(torch.randn(2 * trained[0] - 1, dim // heads))
            self.rel_pos_w = nn.Parameter(torch.randn(2 * trained[1] - 1, dim // heads))

        def forward(self, x):
            b, h, w, c = x.shape
            qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
            q, k, v = qkv.reshape(3, b * self.heads, h * w, -1).unbind(0)
            scores = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
            rq = q.reshape(b * self.heads, h, w, -1)
            by_row = torch.einsum("bhwc,hkc->bhwk", rq, offsets(self.rel_pos_h, h))
            by_col = torch.einsum("bhwc,wkc->bhwk", rq, offsets(self.rel_pos_w, w))
            scores = scores.view(-1, h, w, h, w) + by_row[..., None] + by_col[..., None, :]
            y = scores.view(-1, h * w, h * w).softmax(-1) @ v
            y = y.view(b, self.heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
            return self.proj(y)

    class MLP(nn.Module):
        def __init__(self, dim, hidden):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    def partition(x, ws):
        b, h, w, c = x.shape
        ph, pw = (ws - h % ws) % ws, (ws - w % ws) % ws
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
        x = x.view(b, (h + ph) // ws, ws, (w + pw) // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(-1, ws, ws, c), (h + ph, w + pw)

    def unpartition(x, ws, padded, size):
        hp, wp = padded
        b = x.shape[0] // (hp // ws * wp // ws)
        x = x.view(b, hp // ws, wp // ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(b, hp, wp, -1)[:, : size[0], : size[1]]

    class Block(nn.Module):
        def __init__(self, dim, heads, trained, hidden):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim)
            self.attn = Attention(dim, heads, trained)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = MLP(dim, hidden)

        def forward(self, x, window: int):
            h = self.norm1(x)
            if window > 0:
                size = h.shape[1:3]
                h, padded = partition(h, window)
                h = unpartition(self.attn(h), window, padded, size)
            else:
                h = self.attn(h)
            x = x + h
            return x + self.mlp(self.norm2(x))

    class Encoder(nn.Module):
        """Layers `windowed` attend within windows of `window`, the others to the whole map."""

        def __init__(self, dim, heads, depth, grid, window, windowed):
            super().__init__()
            self.windows = [window if i in windowed else 0 for i in range(depth)]
            self.layers = nn.ModuleList(
                Block(dim, heads, (window, window) if i in windowed else grid, 2 * dim)
                for i in range(depth)
            )

        def forward(self, x):
            for layer, window in zip(self.layers, self.windows):
                x = layer(x, window)
            return x

    class Embeddings(nn.Module):
        def __init__(self, dim, patch, trained_side):
            super().__init__()
            self.projection = nn.Conv2d(3, dim, patch, stride=patch)
            # a class token's row first, which the backbone never uses
            self.position_embeddings = nn.Parameter(torch.randn(1, 1 + trained_side**2, dim))

    class Backbone(nn.Module):
        """ViTDet's layout: the map keeps its grid; the table, trained for another grid, resized."""

        def __init__(self, dim, heads, depth, patch, trained_side, window, windowed):
            super().__init__()
            self.embeddings = Embeddings(dim, patch, trained_side)
            grid = (trained_side, trained_side)
            self.encoder = Encoder(dim, heads, depth, grid, window, windowed)

        def forward(self, pixels):
            x = self.embeddings.projection(pixels)
            table = self.embeddings.position_embeddings[:, 1:]
            side = int(table.shape[1] ** 0.5)
            table = table.reshape(1, side, side, -1).permute(0, 3, 1, 2)
            table = F.interpolate(table, size=x.shape[2:], mode="bicubic", align_corners=False)
            x = (x + table).permute(0, 2, 3, 1)
            return self.encoder(x).permute(0, 3, 1, 2)

    return {
        "Attention": Attention,
        "Block": Block,
        "Encoder": Encoder,
        "Backbone": Backbone,
    }
