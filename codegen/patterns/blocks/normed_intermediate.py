"""`act(dense(ln(x)))`: the widening half of a pre-norm layer's split feed-forward that holds the
norm before it (RoBERTa-PreLayerNorm's `intermediate.LayerNorm`).

Which side of the dense the norm sits on is read from the widths: a norm as wide as the dense's
input and narrower than its output can only come before it. A norm as wide as both leaves the
order unknown, and the pattern declines (the width-chaining fallback then marks it guessed).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, Match, family, modules, tensors
from codegen.patterns.blocks.encoder_layer import Intermediate


def _example():
    from codegen.patterns.blocks._encoder_examples import example

    return example("roberta_prelayernorm")


class NormedIntermediate(Intermediate):
    role = "NormedIntermediate"

    accepts = Accepts(2, 2, tensors=False, families=("linear", "norm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        linears = [m for m in members if family(m) == "linear"]
        norms = [m for m in members if family(m) == "norm"]
        if len(members) != 2 or len(linears) != 1 or len(norms) != 1:
            return None
        dense, norm = linears[0], norms[0]
        width = norm.io.out_width if norm.io else None
        if dense.io is None or width is None:
            return None
        if width != dense.io.in_width or width == dense.io.out_width:
            return None
        activation = ctx.choose(
            cls,
            dense.attr,
            "activation",
            "gelu",
            act.feed_forward("gelu", ctx.resolver),
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        return Match(self, 2, (norm.attr, dense.attr, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        norm, dense, activation = match.found
        x = g.call_module((norm,), g.input("x"), inline=True)
        g.output(act.apply(g, activation, g.call_module((dense,), x, inline=True)))

    @staticmethod
    def examples():
        return [_example()]
