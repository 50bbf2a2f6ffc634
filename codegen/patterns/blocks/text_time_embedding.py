"""A text encoder's states pooled into one vector added to a U-Net's time embedding (diffusers'
TextTimeEmbedding, addition_embed_type "text"): `norm2(proj(pool(norm1(states))))`, the pool an
attention pooling (attention_pooling.py)."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named, tensors


class TextTimeEmbedding(BlockPattern):
    role = "TextTimeEmbedding"
    priority = 6

    accepts = Accepts(
        4,
        4,
        tensors=False,
        names=("norm1", "pool", "proj", "norm2"),
        families=("linear",),
        roles=("AttentionPooling",),
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        names = (r"norm1", r"pool", r"proj", r"norm2")
        norm1, pool, proj, norm2 = (one_named(members, n) for n in names)
        if tensors(cls) or None in (norm1, pool, proj, norm2) or len(members) != 4:
            return None
        if norm1.type_name != "nn.LayerNorm" or norm2.type_name != "nn.LayerNorm":
            return None
        if ctx.role(pool) != "AttentionPooling" or family(proj) != "linear":
            return None
        if norm1.io.in_width != proj.io.in_width or norm2.io.in_width != proj.io.out_width:
            return None
        return Match(self, 4, (norm1.attr, pool.attr, proj.attr, norm2.attr))

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("states")
        for i, path in enumerate(match.found):
            x = g.call_module((path,), x, name="x", inline=i != 1)
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.blocks._generative_examples import modules as zoo

        class TextTime(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.norm1 = nn.LayerNorm(16)
                self.pool = zoo()["attention_pooling"](16, 4)
                self.proj = nn.Linear(16, 24)
                self.norm2 = nn.LayerNorm(24)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.norm2(self.proj(self.pool(self.norm1(x))))

        torch.manual_seed(1)
        holder = zoo()["holder"](TextTime())
        return [Example(holder, (torch.randn(2, 5, 16),), {"addition_embed_type_num_heads": 4})]
