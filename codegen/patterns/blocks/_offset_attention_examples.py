"""Reference modules for blocks/offset_biased_attention.py and blocks/linear_norm.py, written the
way LeViT and EfficientFormer write them (eager attention, a bias per head and offset gathered
through an index buffer), under other names."""

from __future__ import annotations


def modules() -> dict:
    import itertools

    import torch
    import torch.nn as nn

    class LinearNorm(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.linear = nn.Linear(cin, cout, bias=False)
            self.norm = nn.BatchNorm1d(cout)

        def forward(self, x):
            y = self.linear(x)
            return self.norm(y.flatten(0, 1)).reshape_as(y)

    def offsets(side: int) -> tuple[int, torch.Tensor]:
        """(how many offsets, each pair's offset index) on a side x side map."""
        points = list(itertools.product(range(side), range(side)))
        seen: dict = {}
        idxs = []
        for p1 in points:
            for p2 in points:
                offset = (abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))
                idxs.append(seen.setdefault(offset, len(seen)))
        return len(seen), torch.LongTensor(idxs).view(len(points), len(points))

    class OffsetAttention(nn.Module):
        def __init__(self, dim, heads, key_dim, ratio, side, norm: bool) -> None:
            super().__init__()
            self.heads, self.key_dim, self.value_dim = heads, key_dim, ratio * key_dim
            width = heads * (2 * key_dim + self.value_dim)
            make = LinearNorm if norm else nn.Linear
            self.in_proj = make(dim, width)
            self.out_proj = make(heads * self.value_dim, dim)
            count, idxs = offsets(side)
            self.offset_bias = nn.Parameter(torch.randn(heads, count))
            self.register_buffer("offset_index", idxs)

        def forward(self, x):
            b, n, _ = x.shape
            q, k, v = (
                self.in_proj(x)
                .view(b, n, self.heads, -1)
                .permute(0, 2, 1, 3)
                .split([self.key_dim, self.key_dim, self.value_dim], dim=3)
            )
            scores = (q @ k.transpose(-2, -1)) * self.key_dim**-0.5
            scores = scores + self.offset_bias[:, self.offset_index]
            y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
            return self.out_proj(y)

    class Subsample(nn.Module):  # parameter-free: a numbered slot without tensors
        def __init__(self, stride: int, side: int) -> None:
            super().__init__()
            self.stride, self.side = stride, side

        def forward(self, x):
            b, _, c = x.shape
            x = x.view(b, self.side, self.side, c)[:, :: self.stride, :: self.stride]
            return x.reshape(b, -1, c)

    class SubsampleAttention(nn.Module):
        """LeViT's shrinking attention: queries from every second position of the map."""

        def __init__(self, cin, cout, heads, key_dim, ratio, side) -> None:
            super().__init__()
            self.heads, self.key_dim, self.value_dim = heads, key_dim, ratio * key_dim
            small = (side - 1) // 2 + 1
            self.query = nn.Sequential(Subsample(2, side), LinearNorm(cin, heads * key_dim))
            self.key_value = LinearNorm(cin, heads * (key_dim + self.value_dim))
            self.out_proj = LinearNorm(heads * self.value_dim, cout)
            points = list(itertools.product(range(side), range(side)))
            queries = list(itertools.product(range(small), range(small)))
            seen: dict = {}
            idxs = []
            for p1 in queries:
                for p2 in points:
                    offset = (abs(p1[0] * 2 - p2[0]), abs(p1[1] * 2 - p2[1]))
                    idxs.append(seen.setdefault(offset, len(seen)))
            self.offset_bias = nn.Parameter(torch.randn(heads, len(seen)))
            self.register_buffer("offset_index", torch.LongTensor(idxs).view(len(queries), -1))

        def forward(self, x):
            b, n, _ = x.shape
            kv = self.key_value(x).view(b, n, self.heads, -1)
            k, v = kv.split([self.key_dim, self.value_dim], dim=3)
            k, v = k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3)
            q = self.query(x).view(b, -1, self.heads, self.key_dim).permute(0, 2, 1, 3)
            scores = (q @ k.transpose(-2, -1)) * self.key_dim**-0.5
            scores = scores + self.offset_bias[:, self.offset_index]
            y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, -1, self.heads * self.value_dim)
            return self.out_proj(y)

    class Wrapped(nn.Module):  # a residual around `fn`
        def __init__(self, fn: nn.Module) -> None:
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return x + self.fn(x)

    class ConvNorm(nn.Sequential):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.add_module("conv", nn.Conv2d(cin, cout, 3, 2, 1, bias=False))
            self.add_module("bn", nn.BatchNorm2d(cout))
            self.add_module("act", nn.ReLU())

    class TokenStemClassifier(nn.Module):
        """LeViT's assembly: a strided conv stem (each conv halving: 32 pixels -> 4 x 4), the
        map's tokens through attention blocks (one shrinking it to 2 x 2), averaged, and a head
        beside a distillation head, their outputs averaged."""

        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(ConvNorm(3, 6), ConvNorm(6, 8), ConvNorm(8, 12))
            self.layers = nn.Sequential(
                Wrapped(OffsetAttention(12, 2, 3, 2, 4, norm=True)),
                SubsampleAttention(12, 16, 2, 4, 2, 4),
                Wrapped(OffsetAttention(16, 4, 2, 2, 2, norm=True)),
            )
            self.classifier = nn.Linear(16, 3)
            self.classifier_dist = nn.Linear(16, 3)

        def forward(self, x):
            x = self.layers(self.stem(x).flatten(2).transpose(1, 2)).mean(1)
            return (self.classifier(x) + self.classifier_dist(x)) / 2

    return {
        "TokenStemClassifier": TokenStemClassifier,
        "LinearNorm": LinearNorm,
        "OffsetAttention": OffsetAttention,
        "SubsampleAttention": SubsampleAttention,
    }
