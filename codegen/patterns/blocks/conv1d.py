"""Hugging Face's `Conv1D` as a generated class: weight [in, out] and bias [out], `x @ w + b`.

The layer pattern in layers/hf_conv1d.py decides which weights are stored this way; a class holding
only a 2-D weight and a 1-D bias that nn.Linear could not take is one of these.
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


class Conv1D(BlockPattern):
    role = "Conv1D"

    accepts = Accepts(0, 0)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = {t.attr: t for t in tensors(cls)}
        if modules(cls) or set(found) != {"weight", "bias"}:
            return None
        if len(found["weight"].shape) != 2 or len(found["bias"].shape) != 1:
            return None
        return Match(self, 2)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        y = g.call_function("matmul", x, g.getattr(("weight",)), inline=True)
        g.output(g.call_function("add", y, g.getattr(("bias",))), comment="weight is [in, out]")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Conv1DRef(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.weight = nn.Parameter(torch.randn(6, 9))
                self.bias = nn.Parameter(torch.randn(9))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x @ self.weight + self.bias

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.c_attn = Conv1DRef()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.c_attn(x)

        return [Example(Holder(), (torch.randn(2, 3, 6),))]
