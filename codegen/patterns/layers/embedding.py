"""nn.Embedding (and nn.EmbeddingBag by name): a lone 2-D weight, one row per token id."""

from __future__ import annotations

import re

from codegen.ir import Arg, IOSpec
from codegen.patterns._kit import (
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    flag,
    hinted,
    names,
    prov,
    shape,
    type_choice,
)

POSITIONS = re.compile(r"pos|wpe|position", re.I)
SEGMENTS = re.compile(r"token_?type|segment", re.I)  # BERT's sentence A/B table: a few rows
# T5's per-head bias by relative-distance bucket: rows are buckets, columns heads (not a width).
RELATIVE = re.compile(r"relative_attention_bias", re.I)


class Embedding(LayerPattern):
    role = "Embedding"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        if node.children or names(node) != {"weight"} or len(shape(node, "weight")) != 2:
            return None
        w = shape(node, "weight")
        # A position table's rows are positions, a segment table's are token types, not tokens:
        # their sizes are named max_positions and type_vocab_size, never vocab_size.
        rows = "positions" if POSITIONS.search(node.name) else "vocab"
        rows = "types" if SEGMENTS.search(node.name) else rows
        relative = RELATIVE.search(node.name) is not None
        rows = "other" if relative else rows
        type_name = "nn.EmbeddingBag" if hinted(node, r"bag") else "nn.Embedding"
        args = [
            Arg(None, w[0], rows, prov(node, "weight", 0)),
            Arg(None, w[1], "other" if relative else "width", prov(node, "weight", 1)),
        ]
        choice = type_choice(
            ctx, node, type_name, ["nn.Linear"], "a 2-D weight named like an embedding"
        )
        if choice.value == "nn.Linear":
            return Recognised(
                "nn.Linear",
                [args[1], args[0], flag("bias", False, f"no {prov(node, 'bias')}")],
                IOSpec("linear", w[1], w[0]),
                [choice],
            )
        return Recognised(type_name, args, IOSpec("embedding", None, w[1], vocab=w[0]), [choice])

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Tokens(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embedding = nn.Embedding(10, 4)

            def forward(self, ids: torch.Tensor) -> torch.Tensor:
                return self.embedding(ids)

        return [Example(Tokens(), (torch.randint(0, 10, (2, 5)),))]
