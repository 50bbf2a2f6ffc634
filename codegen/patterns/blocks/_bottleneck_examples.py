"""A reference bottleneck encoder for blocks/bottleneck_layer.py's examples: MobileBERT's layout
and names, written from its description (trigram embeddings, NoNorm, a shared query/key
bottleneck, stacked feed-forwards), at sizes the library's tests do not use."""

from __future__ import annotations

from codegen.patterns._kit import Example


def bottleneck_encoder(hidden: int, narrow: int, nhead: int, ffns: int) -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    embed, inner = narrow, 2 * narrow

    class NoNorm(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(width))
            self.bias = nn.Parameter(torch.randn(width))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.weight + self.bias

    class DenseNorm(nn.Module):  # BottleneckLayer, and with a residual the add-norms
        def __init__(self, n_in: int, n_out: int) -> None:
            super().__init__()
            self.dense, self.LayerNorm = nn.Linear(n_in, n_out), NoNorm(n_out)

        def forward(self, h: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
            h = self.dense(h)
            return self.LayerNorm(h if x is None else h + x)

    class Bottleneck(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input, self.attention = DenseNorm(hidden, narrow), DenseNorm(hidden, narrow)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key = nn.Linear(narrow, narrow), nn.Linear(narrow, narrow)
            self.value = nn.Linear(hidden, narrow)

        def forward(self, qk, v_in, mask):
            b, t = qk.shape[:2]
            q, k, v = (
                p(s).view(b, t, nhead, -1).transpose(1, 2)
                for p, s in ((self.query, qk), (self.key, qk), (self.value, v_in))
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            return y.transpose(1, 2).reshape(b, t, -1)

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module("self", SelfAttention())
            self.output = DenseNorm(narrow, narrow)

        def forward(self, qk, v_in, residual, mask):
            return self.output(getattr(self, "self")(qk, v_in, mask), residual)

    class Intermediate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(narrow, inner)

        def forward(self, x):
            return F.relu(self.dense(x))

    class FFN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.intermediate, self.output = Intermediate(), DenseNorm(inner, narrow)

        def forward(self, x):
            return self.output(self.intermediate(x), x)

    class Output(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense, self.LayerNorm = nn.Linear(inner, narrow), NoNorm(narrow)
            self.bottleneck = DenseNorm(narrow, hidden)

        def forward(self, h, a, x):
            return self.bottleneck(self.LayerNorm(self.dense(h) + a), x)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.intermediate, self.output = Attention(), Intermediate(), Output()
            self.bottleneck = Bottleneck()
            self.ffn = nn.ModuleList(FFN() for _ in range(ffns - 1))

        def forward(self, x, mask):
            narrowed = self.bottleneck.input(x)
            a = self.attention(self.bottleneck.attention(x), x, narrowed, mask)
            for ffn in self.ffn:
                a = ffn(a)
            return self.output(self.intermediate(a), a, x)

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = nn.Embedding(50, embed)
            self.embedding_transformation = nn.Linear(3 * embed, hidden)
            self.position_embeddings = nn.Embedding(16, hidden)
            self.token_type_embeddings = nn.Embedding(2, hidden)
            self.LayerNorm = NoNorm(hidden)

        def forward(self, ids):
            e = self.word_embeddings(ids)
            e = torch.cat([F.pad(e[:, 1:], [0, 0, 0, 1]), e, F.pad(e[:, :-1], [0, 0, 1, 0])], 2)
            x = self.embedding_transformation(e)
            x = x + self.position_embeddings(torch.arange(ids.size(1)))
            x = x + self.token_type_embeddings(torch.zeros_like(ids))
            return self.LayerNorm(x)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(2))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings, self.encoder = Embeddings(), Encoder()

        def forward(self, ids, attention_mask):
            x, mask = self.embeddings(ids), attention_mask[:, None, None, :] != 0
            for layer in self.encoder.layer:
                x = layer(x, mask)
            return x

    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    config = {
        "num_attention_heads": nhead,
        "hidden_act": "relu",
        "normalization_type": "no_norm",
        "trigram_input": True,
    }
    return Example(Model(), (ids, mask), config)
