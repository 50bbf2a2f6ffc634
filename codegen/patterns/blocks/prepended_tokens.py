"""`cat(token, x)`: a class of its own holding only learned tokens, which it puts in front of the
sequence it is given (RADIO's `cls_token.token` [n, d]: its class tokens and registers, one
tensor; timm's `cls_token` modules).

Recognised from names and shapes together: the class is registered under a class-token name
(families/encoder.py's CLASS_TOKEN) and holds one tensor and nothing else, n tokens of width d
([n, d], or [1, n, d]). The tokens go in front: a class token is read from the first positions.
"""

from __future__ import annotations

import re

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
from codegen.patterns.families.encoder import CLASS_TOKEN


class PrependedTokens(BlockPattern):
    role = "PrependedTokens"
    names_class = False
    priority = 5
    named = CLASS_TOKEN

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = tensors(cls)
        if modules(cls) or len(found) != 1 or not re.fullmatch(CLASS_TOKEN, cls.named or ""):
            return None
        shape = found[0].shape
        if len(shape) not in (2, 3) or len(shape) == 3 and shape[0] != 1:
            return None
        return Match(self, 1, (found[0].attr, len(shape) == 2))

    def forward(self, match: Match, g: Graph) -> None:
        token, unbatched = match.found
        x = g.input("x")  # [batch, seq, d]
        tokens = g.getattr((token,))
        if unbatched:
            tokens = g.call_method("unsqueeze", tokens, 0, inline=True)
        batch = g.call_method("size", x, 0, inline=True)
        front = g.call_method("expand", tokens, batch, -1, -1, inline=True)
        g.output(
            g.call_function("cat", (front, x), kwargs={"dim": 1}), comment="the tokens in front"
        )

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ClsToken(nn.Module):
            def __init__(self, shape: tuple[int, ...]) -> None:
                super().__init__()
                self.token = nn.Parameter(torch.randn(shape))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                token = self.token.reshape(1, -1, x.size(-1)).expand(x.size(0), -1, -1)
                return torch.cat([token, x], dim=1)

        class Holder(nn.Module):
            def __init__(self, shape: tuple[int, ...]) -> None:
                super().__init__()
                self.cls_token = ClsToken(shape)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.cls_token(x)

        return [
            Example(Holder((3, 8)), (torch.randn(2, 5, 8),)),
            Example(Holder((1, 2, 8)), (torch.randn(2, 5, 8),)),
        ]
