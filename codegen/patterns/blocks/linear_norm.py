"""A Linear and the batch norm over its outputs, in a class of their own (LeViT's `Linear_BN`, a
Linear whose BatchNorm1d folds into it for inference), on tokens of any rank:

    y = linear(x)                                  # [..., out]
    return norm(y.flatten(0, -2)).view_as(y)       # each output feature over every token

A BatchNorm1d normalises dim 1 of what it is given: on tokens [batch, seq, C] that would be the
sequence, so the tokens are flattened into one batch first (on [batch, C] it changes nothing).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    biased,
    family,
    modules,
    tensors,
)

ROLE = "LinearNorm"


class LinearNorm(BlockPattern):
    role = ROLE
    priority = 15  # a Linear then a batch norm of its width: not the width chain's pair

    accepts = Accepts(2, 2, tensors=False, families=("linear", "norm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        linear = [m for m in members if family(m) == "linear" and m.io is not None]
        norm = [m for m in members if m.type_name == "nn.BatchNorm1d" and m.io is not None]
        if len(linear) != 1 or len(norm) != 1 or norm[0].io.in_width != linear[0].io.out_width:
            return None
        # A norm of the input's width may come first (LeViT's head, `BN_Linear`): where the widths
        # do not tell, a bias-free Linear is the one a norm follows (its bias would be the norm's)
        if linear[0].io.in_width == linear[0].io.out_width and biased(linear[0]):
            return None
        return Match(self, 3, (linear[0].attr, norm[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        linear, norm = match.found
        x = g.input("x")  # [..., in]
        y = g.call_module((linear,), x, name="y")
        flat = g.call_method("flatten", y, 0, -2, inline=True)
        z = g.call_module((norm,), flat, inline=True)
        g.output(g.call_method("view_as", z, y), comment="each feature over every token")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._offset_attention_examples import modules as zoo

        return [Example(zoo()["LinearNorm"](6, 10), (torch.randn(2, 5, 6),))]
