"""Coordinate attention (Hou et al. 2021, houqb's CoordAttention `CoordAtt`): pool each channel
along the width and along the height, run both strips through one shared 1x1 conv, norm and
activation, split them back, and gate the input with one attention map per direction:

    y = act(bn(conv1(cat([mean(x, W), mean(x, H)^T], dim=2))))      # [batch, mid, H + W, 1]
    y_h, y_w = split(y, [H, W], dim=2)
    return x * sigmoid(conv_w(y_w^T)) * sigmoid(conv_h(y_h))

The keys are three 1x1 convs and a norm: one conv narrows C to the strips' width (the norm's),
two biased ones widen it back to C. Which of the two gates the height is not in any shape: the
names say it (`_h`, `_w`); where they do not, the forward is a guess that says so. The activation
is a choice (h_swish in the paper's code: hardswish), and so is the gate (sigmoid).
"""

from __future__ import annotations

import re

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
from codegen.patterns.blocks._conv_parts import conv_kernel

ROLE = "CoordinateAttention"
HEIGHT = re.compile(r"(?:^|_)(?:h|height)$", re.IGNORECASE)
WIDTH = re.compile(r"(?:^|_)(?:w|width)$", re.IGNORECASE)


def _pointwise(m) -> bool:
    return (
        m.kind == "builtin"
        and m.type_name == "nn.Conv2d"
        and conv_kernel(m) in (1, (1, 1))
        and m.io is not None
        and None not in (m.io.in_width, m.io.out_width)
    )


class CoordinateAttention(BlockPattern):
    role = ROLE
    priority = 10  # three 1x1 convs and a norm that widen back: a gate, not a chain

    accepts = Accepts(4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 4:
            return None
        norms = [m for m in members if family(m) == "norm"]
        convs = [m for m in members if _pointwise(m)]
        if len(norms) != 1 or len(convs) != 3 or norms[0].io is None:
            return None
        mid = norms[0].io.out_width
        reduce = [c for c in convs if c.io.out_width == mid and c.io.in_width != mid]
        if len(reduce) != 1:
            return None  # (a reduction keeping the width would leave the three convs alike)
        channels = reduce[0].io.in_width
        gates = [c for c in convs if c is not reduce[0]]
        if any((c.io.in_width, c.io.out_width) != (mid, channels) for c in gates):
            return None
        told = [c for c in gates if HEIGHT.search(c.attr)], [c for c in gates if WIDTH.search(c.attr)]
        guessed = ""
        if [len(t) for t in told] == [1, 1]:
            height, width = told[0][0], told[1][0]
        else:  # the shapes are alike: in the names' order, height first, said to be a guess
            height, width = sorted(gates, key=lambda c: c.attr)
            guessed = (
                f"which of {height.attr} and {width.attr} gates the height no name or shape "
                f"shows: {height.attr} is read as the height's"
            )
        activation = ctx.choose(
            cls,
            reduce[0].attr,
            "activation",
            "hardswish",
            act.alternatives("hardswish", conv=True),
            "after the shared conv and its norm (the paper's code: h_swish)",
        )
        gate = ctx.choose(cls, height.attr, "gate", "sigmoid", act.alternatives("sigmoid", gates=True))
        found = (reduce[0].attr, norms[0].attr, height.attr, width.attr)
        return Match(self, 4, found, [activation, gate], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        reduce, norm, height, width = match.found
        activation, gate = (c.value for c in match.choices)
        x = g.input("x")
        h = g.call_method("size", x, 2, name="h")
        w = g.call_method("size", x, 3, name="w")
        x_h = g.call_method(
            "mean", x, 3, kwargs={"keepdim": True}, name="x_h", comment="[batch, C, H, 1]"
        )
        x_w = g.call_method("mean", x, 2, kwargs={"keepdim": True}, inline=True)
        x_w = g.call_method("permute", x_w, 0, 1, 3, 2, name="x_w", comment="[batch, C, W, 1]")
        y = g.call_function("cat", [x_h, x_w], kwargs={"dim": 2}, name="y")
        y = g.call_module((norm,), g.call_module((reduce,), y, inline=True), name="y")
        y = act.apply(g, activation, y, name="y")
        parts = g.call_method("split", y, [h, w], kwargs={"dim": 2}, name="parts")
        y_h = g.call_function("getitem", parts, 0, inline=True)
        y_w = g.call_method(
            "permute", g.call_function("getitem", parts, 1, inline=True), 0, 1, 3, 2, inline=True
        )
        a_h = act.apply(g, gate, g.call_module((height,), y_h, inline=True), name="a_h")
        a_w = act.apply(g, gate, g.call_module((width,), y_w, inline=True), name="a_w")
        out = g.call_function("mul", x, a_w, inline=True)
        g.output(g.call_function("mul", out, a_h, comment="one gate per direction"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class StripGate(nn.Module):  # houqb's CoordAtt, other names: F.hardswish for h_swish
            def __init__(self, c: int, mid: int) -> None:
                super().__init__()
                self.squeeze = nn.Conv2d(c, mid, 1)
                self.norm = nn.BatchNorm2d(mid)
                self.attn_w = nn.Conv2d(mid, c, 1)
                self.attn_h = nn.Conv2d(mid, c, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                h, w = x.shape[2], x.shape[3]
                y = torch.cat([x.mean(3, keepdim=True), x.mean(2, keepdim=True).transpose(2, 3)], 2)
                y = F.hardswish(self.norm(self.squeeze(y)))
                y_h, y_w = torch.split(y, [h, w], dim=2)
                a_h = torch.sigmoid(self.attn_h(y_h))
                return x * torch.sigmoid(self.attn_w(y_w.transpose(2, 3))) * a_h

        class MobileBlock(nn.Module):  # mbv2_ca's InvertedResidual: the gate after the depthwise
            def __init__(self, c: int, hidden: int) -> None:
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(c, hidden, 1, bias=False),
                    nn.BatchNorm2d(hidden),
                    nn.ReLU6(inplace=True),
                    nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=False),
                    nn.BatchNorm2d(hidden),
                    nn.ReLU6(inplace=True),
                    StripGate(hidden, 8),
                    nn.Conv2d(hidden, c, 1, bias=False),
                    nn.BatchNorm2d(c),
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.body(x)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.Sequential(MobileBlock(8, 24), MobileBlock(8, 24))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.blocks(x)

        return [
            Example(StripGate(12, 8), (torch.randn(2, 12, 5, 7),)),
            Example(Net(), (torch.randn(2, 8, 6, 4),)),
        ]
