"""A post-norm encoder layer whose attention holds its own residual norm (ALBERT's `AlbertLayer`):
`a = attention(x, mask)` (already `norm(x + out(...))`), then `norm(a + down(act(up(a))))`.

The feed-forward's two layers are told apart by their widths (the first widens from the model's
width, the second narrows back), whatever they are called (`ffn` / `ffn_output`, `fc1` / `fc2`).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)


def _example() -> Example:
    """A tiny ALBERT laid out as Hugging Face's: factorised embeddings, one shared layer."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    e, d, inner, heads, depth = 8, 16, 32, 2, 3

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.dense, self.LayerNorm = nn.Linear(d, d), nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, mask):
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, heads, -1).transpose(1, 2)
                for p in (self.query, self.key, self.value)
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            return self.LayerNorm(x + self.dense(y.transpose(1, 2).reshape(b, t, -1)))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.full_layer_layer_norm = nn.LayerNorm(d, eps=1e-12)
            self.attention = Attention()
            self.ffn, self.ffn_output = nn.Linear(d, inner), nn.Linear(inner, d)

        def forward(self, x, mask):
            a = self.attention(x, mask)
            return self.full_layer_layer_norm(
                a + self.ffn_output(F.gelu(self.ffn(a), approximate="tanh"))
            )

    class Group(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.albert_layers = nn.ModuleList([Layer()])

        def forward(self, x, mask):
            for layer in self.albert_layers:
                x = layer(x, mask)
            return x

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding_hidden_mapping_in = nn.Linear(e, d)
            self.albert_layer_groups = nn.ModuleList([Group()])

        def forward(self, x, mask):
            x = self.embedding_hidden_mapping_in(x)
            for _ in range(depth):  # the one group, again and again
                x = self.albert_layer_groups[0](x, mask)
            return x

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings, self.position_embeddings = nn.Embedding(50, e), nn.Embedding(9, e)
            self.token_type_embeddings = nn.Embedding(2, e)
            self.LayerNorm = nn.LayerNorm(e, eps=1e-12)

        def forward(self, ids):
            x = self.word_embeddings(ids) + self.position_embeddings(torch.arange(ids.size(1)))
            return self.LayerNorm(x + self.token_type_embeddings(torch.zeros_like(ids)))

    class Albert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings, self.encoder = Embeddings(), Encoder()
            self.pooler = nn.Linear(d, d)

        def forward(self, ids, attention_mask):
            return self.encoder(self.embeddings(ids), attention_mask[:, None, None, :] != 0)

    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    config = {
        "model_type": "albert",
        "num_attention_heads": heads,
        "num_hidden_layers": depth,
        "hidden_act": "gelu_new",
        "layer_norm_eps": 1e-12,
    }
    return Example(Albert(), (ids, mask), config)


class PostNormLayer(BlockPattern):
    role = "Block"
    priority = 5
    synonyms = act.SYNONYMS

    accepts = Accepts(
        4, 4, tensors=False, families=("linear", "norm"), roles=("PostNormAttention",)
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        attn = [m for m in members if ctx.role(m) == "PostNormAttention"]
        linears = [m for m in members if family(m) == "linear" and m.io is not None]
        norms = [m for m in members if family(m) == "norm"]
        if len(attn) != 1 or len(linears) != 2 or len(norms) != 1:
            return None
        up = [m for m in linears if (m.io.out_width or 0) > (m.io.in_width or 0)]
        if len(up) != 1:
            return None
        up = up[0]
        down = linears[0] if linears[1] is up else linears[1]
        if (down.io.in_width, down.io.out_width) != (up.io.out_width, up.io.in_width):
            return None
        activation = ctx.choose(
            cls,
            up.attr,
            "activation",
            "gelu",
            act.feed_forward("gelu", ctx.resolver),
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        found = (attn[0].attr, up.attr, down.attr, norms[0].attr, activation.value)
        return Match(self, 4, found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        attn, up, down, norm, activation = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        a = g.call_module((attn,), x, mask, name="x")
        h = act.apply(g, activation, g.call_module((up,), a, inline=True), inline=True)
        y = g.call_function("add", a, g.call_module((down,), h, inline=True), inline=True)
        g.output(g.call_module((norm,), y))

    @staticmethod
    def examples():
        return [_example()]
