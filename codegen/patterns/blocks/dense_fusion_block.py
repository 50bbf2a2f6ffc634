"""RDN's residual dense block (yjn870/RDN-pytorch `RDB`, the RDN paper's local feature fusion and
local residual learning): a run of dense layers (blocks/dense_layer.py), each adding channels to
what it reads, a 1x1 conv fusing all of them back to the input's width, and the input added:

    return x + lff(layers(x))

The fusion conv reading what the layers give and giving what they read is what the widths show;
the residual leaves no tensors: a choice (the paper's block always adds it).
"""

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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel


class DenseFusionBlock(BlockPattern):
    role = "DenseFusionBlock"
    priority = 5

    accepts = Accepts(2, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 2:
            return None
        layers = next((m for m in members if m.kind == "sequential"), None)
        fusion = next((m for m in members if family(m) == "conv"), None)
        if layers is None or fusion is None or layers.io is None or fusion.io is None:
            return None
        if not layers.children or any(ctx.role(c) != "DenseLayer" for c in layers.children):
            return None
        if conv_kernel(fusion) not in (1, (1, 1)):
            return None
        if fusion.io.in_width != layers.io.out_width or fusion.io.out_width != layers.io.in_width:
            return None
        residual = ctx.choose(
            cls,
            fusion.attr,
            "residual",
            "add",
            ["none"],
            "the input added to the fused features (local residual learning)",
        )
        return Match(self, len(modules(cls)), (layers.attr, fusion.attr), [residual])

    def forward(self, match: Match, g: Graph) -> None:
        layers, fusion = match.found
        x = g.input("x")
        out = g.call_module((fusion,), g.call_module((layers,), x, inline=True), name="out")
        if match.choices[0].value == "add":
            out = g.call_function("add", x, out, comment="local residual learning")
        g.output(out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["holder"](z["rdbs"](6, 3, 3, 2)), z["image"](6, 5))]
