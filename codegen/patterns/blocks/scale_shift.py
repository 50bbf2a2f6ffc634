"""`x * weight + bias`: a per-feature scale and shift where a norm would be, with no statistics
(MobileBERT's NoNorm). Its keys are a LayerNorm's (`LayerNorm.weight`, `.bias`, [d] each); only
config.json tells them apart (`normalization_type: "no_norm"`), so layers/norms.py declines them
there and this class computes them. Its role is "norm": patterns that take a norm take this one.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns.layers.norms import scale_shift_only


class ScaleShift(BlockPattern):
    role = "norm"
    names_class = False
    priority = 5
    trust_note = (
        "a per-feature scale and shift where a norm would be, no statistics (config.json's "
        "normalization_type no_norm)"
    )

    accepts = Accepts(0, 0)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = {t.attr: t for t in tensors(cls)}
        if modules(cls) or set(found) != {"weight", "bias"}:
            return None
        weight, bias = found["weight"], found["bias"]
        if len(weight.shape) != 1 or weight.shape != bias.shape or weight.kind != "parameter":
            return None
        if not scale_shift_only(ctx.resolver):
            return None
        ctx.resolver.evidence("normalization_type")
        ctx.resolver.evidence("layer_norm_eps")  # no statistics: an eps is moot
        return Match(self, 2, ("weight", "bias"))

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        scaled = g.call_function("mul", x, g.getattr(("weight",)), inline=True)
        g.output(
            g.call_function("add", scaled, g.getattr(("bias",))),
            comment="a scale and shift, no normalisation",
        )

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class NoNorm(nn.Module):
            def __init__(self, width: int) -> None:
                super().__init__()
                self.weight = nn.Parameter(torch.randn(width))
                self.bias = nn.Parameter(torch.randn(width))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.weight + self.bias

        class Model(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.proj = nn.Linear(8, 12)
                self.LayerNorm = NoNorm(12)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.LayerNorm(self.proj(x))

        return [Example(Model(), (torch.randn(2, 5, 8),), {"normalization_type": "no_norm"})]
