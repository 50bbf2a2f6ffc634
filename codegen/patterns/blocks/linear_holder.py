"""A class whose whole content is one nn.Linear named `linear`: a projection behind a class of its
own (Moshi's and Kyutai's `MoshiLinear`, whose alternative per-codebook weight is a 3-D tensor the
keys would show; Gemma 4's `ClippableLinear`, whose clip bounds are buffers the keys would show;
a quantisation or LoRA wrapper once its extra tensors are folded in). Its keys read
`q_proj.linear.weight` where a plain layer's read `q_proj.weight`.

The reading: the class stores no tensor, holds nothing but the layer, names it `linear`, and
every instance sits where an attention or MLP pattern reads a projection (its attribute is one of
their projection names: `q_proj`, `c_attn`, `fc1`, `down_proj`...), so its forward is that
layer's: `self.linear(x)`. A class of the same keys elsewhere (PatchTST's prediction `head`, a
flatten before its `linear`) stays the width chain's guess. Its role is the layer's family (`linear`), so an
attention or MLP pattern reading its holder takes it where it takes a Linear; the class keeps a
name of its own (the holder's attribute, `QProj`). A parameter-free step around the layer (a
clamp without stored bounds, a scale from config.json) leaves no key: the same limit as every
Linear a pattern reads, so the forward is inferred, as theirs are.
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
    family,
    modules,
)
from codegen.patterns._kit import tensors
from codegen.patterns.blocks import attention, mlp

HELD = r"linear"
# the attribute names the attention and MLP patterns read as projections
PROJECTIONS = "|".join(
    (attention.FUSED, attention.QUERY, attention.KEY, attention.VALUE, attention.OUT)
    + (mlp.UP, mlp.DOWN, mlp.GATE, mlp.GATED_UP, mlp.FUSED_GATE_UP)
)


class LinearHolder(BlockPattern):
    role = "linear"  # what a holder's pattern sees: a Linear (attention.py's _projection)
    names_class = False
    priority = 6  # above the width chain (chain.py), which reads the same one layer as a guess

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        layer = members[0]
        if layer.kind != "builtin" or family(layer) != "linear":
            return None
        if not re.fullmatch(HELD, layer.attr) or layer.type_name != "nn.Linear":
            return None
        places = [path.rsplit(".", 1)[-1] for path, _ in cls.instances]
        if not places or not all(re.fullmatch(PROJECTIONS, p, re.I) for p in places):
            return None
        return Match(self, 1, layer.attr)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        g.output(g.call_module((match.found,), x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class WrappedLinear(nn.Module):  # a codebase's projection behind a class of its own
            def __init__(self, d_in: int, d_out: int) -> None:
                super().__init__()
                self.linear = nn.Linear(d_in, d_out, bias=False)

            def forward(self, x):
                return self.linear(x)

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.proj = WrappedLinear(8, 12)

            def forward(self, x):
                return self.proj(x)

        return [Example(Holder(), (torch.randn(2, 3, 8),))]
