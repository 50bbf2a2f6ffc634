"""Reference modules for the pyramid vision transformer patterns (reduced_attention.py,
mix_feed_forward.py, pyramid_layer.py, families/pyramid_vision.py), written the way PVTv2 and
SegFormer write them (eager attention, their attribute names), on channels-last maps."""

from __future__ import annotations


def modules() -> dict:
    import torch
    import torch.nn as nn

    class DepthwiseConv(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

        def forward(self, x):
            return self.dwconv(x)

    class MixFeedForward(nn.Module):
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.dense1 = nn.Linear(dim, hidden)
            self.dwconv = DepthwiseConv(hidden)
            self.dense2 = nn.Linear(hidden, dim)

        def forward(self, x):
            h = self.dense1(x).permute(0, 3, 1, 2)
            h = self.dwconv(h).permute(0, 2, 3, 1)
            return self.dense2(nn.functional.gelu(h))

    class ReducedAttention(nn.Module):
        def __init__(self, dim: int, ratio: int, proj: bool) -> None:
            super().__init__()
            self.query = nn.Linear(dim, dim)
            self.key = nn.Linear(dim, dim)
            self.value = nn.Linear(dim, dim)
            self.proj = nn.Linear(dim, dim) if proj else None
            self.ratio = ratio
            if ratio > 1:
                self.spatial_reduction = nn.Conv2d(dim, dim, ratio, stride=ratio)
                self.layer_norm = nn.LayerNorm(dim)

        def forward(self, x, nhead: int):
            b, h, w, c = x.shape
            seq = x.reshape(b, h * w, c)
            kv = seq
            if self.ratio > 1:
                small = self.spatial_reduction(x.permute(0, 3, 1, 2))
                kv = self.layer_norm(small.reshape(b, c, -1).permute(0, 2, 1))

            def split(t):
                return t.reshape(b, t.shape[1], nhead, c // nhead).permute(0, 2, 1, 3)

            q, k, v = split(self.query(seq)), split(self.key(kv)), split(self.value(kv))
            scores = (q @ k.transpose(-1, -2)) / (c // nhead) ** 0.5
            y = (scores.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(b, h, w, c)
            return self.proj(y) if self.proj is not None else y

    class Output(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.dense = nn.Linear(dim, dim)

        def forward(self, x):
            return self.dense(x)

    class SplitAttention(nn.Module):
        def __init__(self, dim: int, ratio: int) -> None:
            super().__init__()
            self.self = ReducedAttention(dim, ratio, proj=False)
            self.output = Output(dim)

        def forward(self, x, nhead: int):
            return self.output(self.self(x, nhead))

    class PyramidLayer(nn.Module):
        def __init__(self, dim: int, ratio: int, split: bool = True) -> None:
            super().__init__()
            self.layer_norm_1 = nn.LayerNorm(dim)
            if split:
                self.attention = SplitAttention(dim, ratio)
            else:
                self.attention = ReducedAttention(dim, ratio, proj=True)
            self.layer_norm_2 = nn.LayerNorm(dim)
            self.mlp = MixFeedForward(dim, 2 * dim)

        def forward(self, x, nhead: int):
            x = x + self.attention(self.layer_norm_1(x), nhead)
            return x + self.mlp(self.layer_norm_2(x))

    class OverlapPatchEmbedding(nn.Module):
        def __init__(self, cin: int, cout: int, patch: int, stride: int) -> None:
            super().__init__()
            self.proj = nn.Conv2d(cin, cout, patch, stride=stride, padding=patch // 2)
            self.layer_norm = nn.LayerNorm(cout)

        def forward(self, x):
            return self.layer_norm(self.proj(x).permute(0, 2, 3, 1))

    class PyramidStage(nn.Module):
        def __init__(self, cin, dim, patch, stride, ratio, depth) -> None:
            super().__init__()
            self.patch_embedding = OverlapPatchEmbedding(cin, dim, patch, stride)
            self.blocks = nn.ModuleList(PyramidLayer(dim, ratio, split=False) for _ in range(depth))
            self.layer_norm = nn.LayerNorm(dim)

        def forward(self, x, nhead: int):
            x = self.patch_embedding(x)
            for block in self.blocks:
                x = block(x, nhead)
            return self.layer_norm(x).permute(0, 3, 1, 2)

    # two stages: a 7x7 conv over 4 pixels, then a 3x3 over 2 (the PVTv2/SegFormer schedule)
    PATCHES, STRIDES = (7, 3), (4, 2)

    class ListsEncoder(nn.Module):
        """SegFormer's layout: three lists, one item per stage."""

        def __init__(self, widths, depths, ratios) -> None:
            super().__init__()
            cins = (3,) + tuple(widths[:-1])
            self.patch_embeddings = nn.ModuleList(
                OverlapPatchEmbedding(c, w, p, s)
                for c, w, p, s in zip(cins, widths, PATCHES, STRIDES)
            )
            self.block = nn.ModuleList(
                nn.ModuleList(PyramidLayer(w, r) for _ in range(d))
                for w, d, r in zip(widths, depths, ratios)
            )
            self.layer_norm = nn.ModuleList(nn.LayerNorm(w) for w in widths)
            self.heads = (1, 2)

        def forward(self, x):
            for embed, layers, norm, nhead in zip(
                self.patch_embeddings, self.block, self.layer_norm, self.heads
            ):
                x = embed(x)
                for layer in layers:
                    x = layer(x, nhead)
                x = norm(x).permute(0, 3, 1, 2)
            return x

    class StagesEncoder(nn.Module):
        """PVTv2's layout: a list of stage classes."""

        def __init__(self, widths, depths, ratios) -> None:
            super().__init__()
            cins = (3,) + tuple(widths[:-1])
            self.layers = nn.ModuleList(
                PyramidStage(c, w, p, s, r, d)
                for c, w, p, s, r, d in zip(cins, widths, PATCHES, STRIDES, ratios, depths)
            )
            self.heads = (1, 2)

        def forward(self, x):
            for stage, nhead in zip(self.layers, self.heads):
                x = stage(x, nhead)
            return x

    class Classifier(nn.Module):
        """SegFormer's and PVTv2's image classifier: the last map averaged, a linear head."""

        def __init__(self, widths, depths, ratios, labels: int) -> None:
            super().__init__()
            self.encoder = StagesEncoder(widths, depths, ratios)
            self.classifier = nn.Linear(widths[-1], labels)

        def forward(self, x):
            return self.classifier(self.encoder(x).mean(dim=(2, 3)))

    class PositionedPatches(nn.Module):  # PVT v1's: patches, their norm, a position table
        def __init__(self, cin: int, dim: int, patch: int, grid: int, cls: bool) -> None:
            super().__init__()
            self.position_embeddings = nn.Parameter(torch.randn(1, grid + cls, dim))
            self.cls_token = nn.Parameter(torch.randn(1, 1, dim)) if cls else None
            self.projection = nn.Conv2d(cin, dim, patch, stride=patch)
            self.layer_norm = nn.LayerNorm(dim)

        def forward(self, x):
            x = self.layer_norm(self.projection(x).permute(0, 2, 3, 1))
            if self.cls_token is None:
                return x + self.position_embeddings.reshape(1, x.size(1), x.size(2), -1)
            x = torch.cat([self.cls_token.expand(x.size(0), -1, -1), x.flatten(1, 2)], 1)
            return x + self.position_embeddings

    class FusedKeyValueAttention(nn.Module):
        """The original PVTv2 / SegFormer code's attention, on tokens [batch, h * w, C] with the
        map's size beside them: one projection for keys and values (keys first), heads fixed."""

        def __init__(self, dim: int, nhead: int, ratio: int) -> None:
            super().__init__()
            self.nhead, self.ratio = nhead, ratio
            self.query = nn.Linear(dim, dim)
            self.key_value = nn.Linear(dim, 2 * dim)
            self.out = nn.Linear(dim, dim)
            if ratio > 1:
                self.reduction = nn.Conv2d(dim, dim, ratio, stride=ratio)
                self.reduction_norm = nn.LayerNorm(dim)

        def forward(self, x, h: int, w: int):
            b, n, c = x.shape
            d = c // self.nhead
            q = self.query(x).reshape(b, n, self.nhead, d).permute(0, 2, 1, 3)
            if self.ratio > 1:
                small = self.reduction(x.permute(0, 2, 1).reshape(b, c, h, w))
                x = self.reduction_norm(small.reshape(b, c, -1).permute(0, 2, 1))
            kv = self.key_value(x).reshape(b, -1, 2, self.nhead, d).permute(2, 0, 3, 1, 4)
            scores = (q @ kv[0].transpose(-2, -1)) * d**-0.5
            return self.out((scores.softmax(-1) @ kv[1]).transpose(1, 2).reshape(b, n, c))

    class TokenMixFeedForward(nn.Module):
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.dense1 = nn.Linear(dim, hidden)
            self.mixer = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
            self.dense2 = nn.Linear(hidden, dim)

        def forward(self, x, h: int, w: int):
            b, n, _ = x.shape
            y = self.dense1(x).transpose(1, 2).reshape(b, -1, h, w)
            return self.dense2(nn.functional.gelu(self.mixer(y).flatten(2).transpose(1, 2)))

    class TokenLayer(nn.Module):
        def __init__(self, dim: int, nhead: int, ratio: int) -> None:
            super().__init__()
            self.norm1 = nn.LayerNorm(dim)
            self.attention = FusedKeyValueAttention(dim, nhead, ratio)
            self.norm2 = nn.LayerNorm(dim)
            self.ffn = TokenMixFeedForward(dim, 3 * dim)

        def forward(self, x, h: int, w: int):
            x = x + self.attention(self.norm1(x), h, w)
            return x + self.ffn(self.norm2(x), h, w)

    class ConvTokens(nn.Module):  # an overlapping patch embedding with neutral names
        def __init__(self, cin: int, cout: int, patch: int, stride: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, patch, stride=stride, padding=patch // 2)
            self.norm = nn.LayerNorm(cout)

        def forward(self, x):
            x = self.conv(x)
            h, w = x.shape[2:]
            return self.norm(x.flatten(2).transpose(1, 2)), h, w

    class NumberedClassifier(nn.Module):
        """The original code's layout: each stage's parts numbered on the model (from 0 here),
        the last stage's tokens averaged into a linear head."""

        def __init__(self, widths=(8, 12), heads=(1, 3), ratios=(2, 1), labels=4) -> None:
            super().__init__()
            cins = (3,) + tuple(widths[:-1])
            for i, (c, w, p, s) in enumerate(zip(cins, widths, PATCHES, STRIDES)):
                setattr(self, f"embed{i}", ConvTokens(c, w, p, s))
                layers = [TokenLayer(w, heads[i], ratios[i]) for _ in range(2 - i)]
                setattr(self, f"layers{i}", nn.ModuleList(layers))
                setattr(self, f"ln{i}", nn.LayerNorm(w))
            self.stages = len(widths)
            self.fc = nn.Linear(widths[-1], labels)

        def forward(self, x):
            for i in range(self.stages):
                x, h, w = getattr(self, f"embed{i}")(x)
                for layer in getattr(self, f"layers{i}"):
                    x = layer(x, h, w)
                x = getattr(self, f"ln{i}")(x)
                if i < self.stages - 1:
                    x = x.transpose(1, 2).reshape(x.size(0), -1, h, w)
            return self.fc(x.mean(dim=1))

    return {
        "NumberedClassifier": NumberedClassifier,
        "PositionedPatches": PositionedPatches,
        "Classifier": Classifier,
        "DepthwiseConv": DepthwiseConv,
        "MixFeedForward": MixFeedForward,
        "ReducedAttention": ReducedAttention,
        "SplitAttention": SplitAttention,
        "PyramidLayer": PyramidLayer,
        "OverlapPatchEmbedding": OverlapPatchEmbedding,
        "PyramidStage": PyramidStage,
        "ListsEncoder": ListsEncoder,
        "StagesEncoder": StagesEncoder,
    }
