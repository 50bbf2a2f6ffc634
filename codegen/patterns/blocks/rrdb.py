"""A residual-in-residual dense block (ESRGAN's RRDB): dense blocks in turn, and the input added
back to their output, scaled: `rdbN(...rdb1(x)) * residual_scale + x`. The order of the dense
blocks comes from the numbers in their names; the scale (0.2) is a choice."""

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
from codegen.patterns._kit import name_order


class RRDB(BlockPattern):
    role = "RRDB"
    priority = 5

    accepts = Accepts(2, tensors=False, roles=("DenseBlock",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 2 or any(ctx.role(m) != "DenseBlock" for m in members):
            return None
        blocks = sorted(members, key=lambda m: name_order(m.attr))  # dense blocks keep widths
        scale = ctx.choose(
            cls,
            blocks[-1].attr,
            "residual_scale",
            0.2,
            [1.0, 0.1],
            "the blocks' output is scaled before the input is added",
            accepts="positive_number",
        )
        return Match(self, len(members), [m.attr for m in blocks], [scale])

    def forward(self, match: Match, g: Graph) -> None:
        x = out = g.input("x")
        for attr in match.found:
            out = g.call_module((attr,), out, name="out")
        scaled = g.call_function("mul", out, float(match.choices[0].value), inline=True)
        g.output(g.call_function("add", scaled, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["holder"](z["rrdb"](8, 4)), z["image"](8))]
