"""A class holding only a position table (a buffer): forward adds the rows for the sequence length."""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)

LAYOUTS = {  # table shape -> (index before the sequence axis, what the comment says)
    "batch_first": ((Slice(),), "table is [1, max_positions, d_model]: batch first"),
    "sequence_first": ((), "table is [max_positions, 1, d_model]: sequence first"),
    "plain": ((), "table is [max_positions, d_model]"),
}


class PositionalTable(BlockPattern):
    role = "PositionalEncoding"

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = tensors(cls)
        if modules(cls) or len(found) != 1 or found[0].kind != "buffer":
            return None
        table = found[0]
        if len(table.shape) == 3 and table.shape[0] == 1:
            layout = "batch_first"
        elif len(table.shape) == 3 and table.shape[1] == 1:
            layout = "sequence_first"
        elif len(table.shape) == 2:
            layout = "plain"
        else:
            return None
        return Match(self, 1, (table.attr, layout))

    def forward(self, match: Match, g: Graph) -> None:
        attr, layout = match.found
        before, comment = LAYOUTS[layout]
        x = g.input("x")
        length = g.call_method("size", x, 0 if layout == "sequence_first" else 1, inline=True)
        rows = g.call_function(
            "getitem", g.getattr((attr,)), (*before, Slice(None, length)), inline=True
        )
        g.output(g.call_function("add", x, rows), comment=comment)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class PositionalEncoding(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.register_buffer("pe", torch.randn(1, 12, 8))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.pe[:, : x.size(1)]

        return [Example(PositionalEncoding(), (torch.randn(2, 5, 8),))]
