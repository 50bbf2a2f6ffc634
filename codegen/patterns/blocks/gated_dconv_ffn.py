"""A gated feed-forward over a feature map whose gate sees a depthwise conv: Restormer's gated-Dconv
feed-forward network (Zamir et al. 2022, swz30/Restormer `FeedForward`; PromptIR, DRSformer and
the restoration nets built on Restormer keep it):

    x1, x2 = dw(project_in(x)).chunk(2, dim=1)   # 1x1 to 2 * hidden, depthwise k x k
    return project_out(gelu(x1) * x2)            # 1x1 from hidden back to C

The widths prove the gate: the closing 1x1 conv reads half of what the depthwise conv gives, and
gives what the opening one reads. Which half is activated follows Restormer's code (the first);
the activation is a choice (GELU, its code's).
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
    modules,
    tensors,
)
from codegen.patterns.blocks.transposed_attention import depthwise, pointwise


class GatedDconvFeedForward(BlockPattern):
    role = "GatedDconvFeedForward"
    priority = 8

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        dws = [m for m in members if depthwise(m)]
        ones = [m for m in members if pointwise(m)]
        if len(dws) != 1 or len(ones) != 2 or dws[0].io.in_width % 2:
            return None
        dw = dws[0]
        opens = [m for m in ones if m.io.out_width == dw.io.in_width]
        closes = [m for m in ones if m.io.in_width * 2 == dw.io.in_width and m not in opens]
        if len(opens) != 1 or len(closes) != 1:
            return None
        if closes[0].io.out_width != opens[0].io.in_width:
            return None
        activation = ctx.choose(
            cls,
            closes[0].attr,
            "activation",
            "gelu",
            act.alternatives("gelu", conv=True),
            "of the gate's first half (Restormer's GELU)",
        )
        found = (opens[0].attr, dw.attr, closes[0].attr)
        return Match(self, len(members), found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        opens, dw, closes = match.found
        x = g.input("x")
        h = g.call_module((dw,), g.call_module((opens,), x, inline=True), name="x")
        halves = g.call_method("chunk", h, 2, kwargs={"dim": 1}, name="halves")
        first = g.call_function("getitem", halves, 0, inline=True)
        gate = act.apply(g, match.choices[0].value, first, inline=True)
        second = g.call_function("getitem", halves, 1, inline=True)
        x = g.call_function("mul", gate, second, name="x", comment="the gate")
        g.output(g.call_module((closes,), x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class GatedFFN(nn.Module):  # other names, a 5x5 depthwise conv, biases
            def __init__(self, dim: int, hidden: int) -> None:
                super().__init__()
                self.fc_in = nn.Conv2d(dim, hidden * 2, 1)
                self.spatial = nn.Conv2d(hidden * 2, hidden * 2, 5, padding=2, groups=hidden * 2)
                self.fc_out = nn.Conv2d(hidden, dim, 1)

            def forward(self, x):
                a, b = self.spatial(self.fc_in(x)).chunk(2, dim=1)
                return self.fc_out(F.gelu(a) * b)

        class Holder(nn.Module):  # a generated class is a member of the top one
            def __init__(self) -> None:
                super().__init__()
                self.ffn = GatedFFN(8, 12)

            def forward(self, x):
                return self.ffn(x)

        torch.manual_seed(0)
        return [Example(Holder().eval(), (torch.randn(2, 8, 6, 5),))]
