"""A residual dense block (ESRGAN's ResidualDenseBlock_5C, basicsr's ResidualDenseBlock): each
conv reads the block's input concatenated with every earlier conv's output; the last maps back to
the input width and is added to the input, scaled:

    x1 = act(conv1(x)); x2 = act(conv2(cat(x, x1))); ...; out = convN(cat(x, x1, ..., xN-1))
    return out * residual_scale + x

Recognised from widths alone: conv k reads the input width plus (k - 1) growth widths. The
activation (LeakyReLU 0.2) and the residual scale (0.2) leave no tensors: choices.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
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
from codegen.patterns._kit import name_order


class DenseBlock(BlockPattern):
    role = "DenseBlock"
    priority = 5

    accepts = Accepts(3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) < 3 or any(family(m) != "conv" for m in members):
            return None
        if any(m.kind != "builtin" for m in members):
            return None
        convs = sorted(members, key=lambda m: name_order(m.attr))
        width = convs[0].io.in_width
        growth = convs[0].io.out_width
        for k, conv in enumerate(convs):
            if conv.io.in_width != width + k * growth:
                return None
        if any(c.io.out_width != growth for c in convs[:-1]) or convs[-1].io.out_width != width:
            return None
        activation = ctx.choose(
            cls,
            convs[0].attr,
            "activation",
            "leaky_relu",
            ["relu", "gelu", "identity"],
            "after each conv but the last (LeakyReLU, slope 0.2)",
        )
        scale = ctx.choose(
            cls,
            convs[-1].attr,
            "residual_scale",
            0.2,
            [1.0, 0.1],
            "the block's output is scaled before the input is added",
            accepts="positive_number",
        )
        return Match(self, len(modules(cls)), [c.attr for c in convs], [activation, scale])

    def forward(self, match: Match, g: Graph) -> None:
        activation, scale = (c.value for c in match.choices)
        x = g.input("x")
        features = [x]
        for i, conv in enumerate(match.found):
            source = (
                features[0] if i == 0 else g.call_function("cat", list(features), 1, inline=True)
            )
            out = g.call_module((conv,), source, name=f"x{i + 1}", inline=i == len(match.found) - 1)
            if i < len(match.found) - 1:
                features.append(act.apply(g, activation, out, name=f"x{i + 1}"))
        scaled = g.call_function("mul", out, float(scale), inline=True)
        g.output(g.call_function("add", scaled, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["holder"](z["rdb"](8, 4)), z["image"](8))]
