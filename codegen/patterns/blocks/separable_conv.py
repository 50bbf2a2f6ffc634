"""A depthwise separable conv as one layer (Chollet 2017, Xception): a depthwise kxk conv, one
filter per channel, then a pointwise 1x1 conv mixing the channels, with nothing between:

    x = pointwise(depthwise(x))

Read from shapes: a class holding exactly two convs and nothing else, one depthwise (groups its
width, kernel above 1) and one 1x1 reading what it gives (Cadene's and timm's legacy Xception
`SeparableConv2d`: `conv1`, `pointwise`; timm's `SeparableConv2d`: `conv_dw`, `conv_pw`). Names do
not order them: the depthwise conv reads the input. No key shows an activation between the two:
a choice, none by the paper's finding (section 4.7: separable convs train best without one).
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
from codegen.patterns.blocks._conv_parts import conv_kernel, is_depthwise


class SeparableConv(BlockPattern):
    role = "SeparableConv"
    priority = 3

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2 or any(m.kind != "builtin" for m in members):
            return None
        if any(family(m) != "conv" or m.io is None or m.io.ndim != 2 for m in members):
            return None
        depthwise = [m for m in members if is_depthwise(m) and conv_kernel(m) not in (1, (1, 1))]
        pointwise = [m for m in members if conv_kernel(m) in (1, (1, 1)) and m not in depthwise]
        if len(depthwise) != 1 or len(pointwise) != 1:
            return None
        if pointwise[0].io.in_width != depthwise[0].io.out_width:
            return None
        between = ctx.choose(
            cls,
            pointwise[0].attr,
            "activation",
            "identity",
            act.alternatives("identity", conv=True),
            "between the depthwise and the pointwise conv (none: Chollet 2017, section 4.7)",
        )
        found = (depthwise[0].attr, pointwise[0].attr, between.value)
        return Match(self, 2, found, [between])

    def forward(self, match: Match, g: Graph) -> None:
        depthwise, pointwise, between = match.found
        x = g.call_module((depthwise,), g.input("x"), inline=True)
        if between != "identity":
            x = act.apply(g, between, x, inline=True)
        g.output(g.call_module((pointwise,), x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class SeparableConv2d(nn.Module):  # timm's layers/separable_conv.py: conv_dw, conv_pw
            def __init__(self, c_in: int, c_out: int, k: int) -> None:
                super().__init__()
                self.conv_dw = nn.Conv2d(c_in, c_in, k, padding=k // 2, groups=c_in, bias=False)
                self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.conv_pw(self.conv_dw(x))

        class Holder(nn.Module):  # sep1 keeps its width: only shapes tell its two convs apart
            def __init__(self) -> None:
                super().__init__()
                self.sep1 = SeparableConv2d(8, 8, 3)
                self.sep2 = SeparableConv2d(8, 12, 5)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.sep2(self.sep1(x))

        torch.manual_seed(0)
        return [Example(Holder(), (torch.randn(2, 8, 7, 7),))]
