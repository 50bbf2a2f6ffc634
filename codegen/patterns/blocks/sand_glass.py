"""MobileNeXt's sandglass block (Zhou et al. 2020, "Rethinking Bottleneck Structure for Efficient
Mobile Network Design"): the inverted residual turned inside out, its depthwise convs at the wide
ends and the 1x1 pair narrowing in the middle:

    out = act(dw1(x)); out = reduce(out); out = act(expand(out)); out = dw2(out)   (each conv-norm)
    return x + out where the shapes allow

Recognised from widths and kernels in the order a Sequential lists them (zhoudaquan's `conv`):
a depthwise kxk unit, a 1x1 unit that narrows, a 1x1 unit that widens, a depthwise kxk unit; empty
slots after the first and third units are the activations (none after the reduction or the last
depthwise conv, which is linear). The activation is one choice (ReLU6, the paper's, by default).

The paper's identity tensor multiplier adds the input to only the leading part of the channels (half
of them at 0.5): no key records it, so it is a choice (all channels by default) and the block says
it guessed; which convs stride leaves no key either (the stride choices).
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
from codegen.patterns.blocks._conv_parts import Unit, unit
from codegen.patterns.blocks.inverted_residual import ACTIVATIONS, mobile_activation

FRACTIONS = {"all": 1.0, "half": 0.5}  # the identity tensor multiplier's values


class SandGlass(BlockPattern):
    role = "SandGlass"
    priority = 20  # as the inverted residual: more than a chain of the same members

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind != "sequential":
            return None
        found = _units(members[0], ctx)
        if found is None:
            return None
        units, activated = found
        if len(units) != 4 or activated not in (set(), {0, 2}):
            return None
        dw1, reduce, expand, dw2 = units
        if not (dw1.one_channel_per_group and dw2.one_channel_per_group):
            return None
        if dw1.pointwise or dw2.pointwise or not (reduce.pointwise and expand.pointwise):
            return None
        widths = [(u.in_width, u.out_width) for u in units]
        if None in (w for pair in widths for w in pair):
            return None
        if reduce.in_width != dw1.out_width or expand.in_width != reduce.out_width:
            return None
        if dw2.in_width != expand.out_width or not reduce.out_width < reduce.in_width:
            return None
        if not expand.out_width > expand.in_width:
            return None
        activation = mobile_activation(
            cls,
            ctx,
            dw1.conv[0],
            "relu6",
            ACTIVATIONS,
            "after the first depthwise conv and the 1x1 expansion",
        )
        kept = ctx.choose(
            cls,
            dw2.conv[0],
            "identity_channels",
            "all",
            ["half"],
            "where the shapes allow, the input added to all channels or to the leading half "
            "(MobileNeXt's identity tensor multiplier 0.5)",
        )
        guessed = act.unproven_activation(activation)
        if kept.source in ("default", "structure"):
            guessed = (
                "no key records how many channels the input is added to (MobileNeXt's identity "
                "tensor multiplier): read as all of them; the choice identity_channels offers "
                "the leading half"
            )
        # The stem's conv-norm unit activates as the blocks do (MobileNeXt's ReLU6 stem).
        pins = [("", act.UNIT_ACTIVATION, activation.value, "the sandglass blocks' activation")]
        return Match(self, len(members), units, [activation, kept], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        activation, kept = (c.value for c in match.choices)
        x = g.input("x")
        out = x
        for i, u in enumerate(match.found):
            out = g.call_module(u.conv, out, name="out", inline=True)
            out = g.call_module(u.norm, out, name="out", inline=i in (0, 2))
            if i in (0, 2):
                out = act.apply(g, activation, out, name="out")
        if kept == "all":
            out = g.call_function("add_if_same_shape", x, out, name="out")
        else:
            out = g.call_function("add_to_leading_channels", x, out, FRACTIONS[kept], name="out")
        g.output(out, comment="residual where the shapes allow")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Hourglass(nn.Module):  # zhoudaquan's SandGlass, other names, the whole identity
            def __init__(self, c_in: int, c_out: int, stride: int, ratio: int) -> None:
                super().__init__()
                mid = c_in // ratio
                self.body = nn.Sequential(
                    nn.Conv2d(c_in, c_in, 3, 1, 1, groups=c_in, bias=False),
                    nn.BatchNorm2d(c_in),
                    nn.ReLU6(),
                    nn.Conv2d(c_in, mid, 1, bias=False),
                    nn.BatchNorm2d(mid),
                    nn.Conv2d(mid, c_out, 1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.ReLU6(),
                    nn.Conv2d(c_out, c_out, 3, stride, 1, groups=c_out, bias=False),
                    nn.BatchNorm2d(c_out),
                )
                self.residual = stride == 1 and c_in == c_out

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.body(x)
                return out + x if self.residual else out

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.Sequential(Hourglass(8, 12, 1, 2), Hourglass(12, 12, 1, 3))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.blocks(x)

        return [Example(Net(), (torch.randn(2, 8, 6, 6),))]


def _units(seq, ctx: BlockContext) -> tuple[list[Unit], set[int]] | None:
    """The conv-norm units of a Sequential in order (each conv followed by its norm), and which
    of them an empty slot (an activation) follows."""
    items = list(seq.children)
    units: list[Unit] = []
    activated: set[int] = set()
    i = 0
    while i < len(items):
        m = items[i]
        if m.kind == "placeholder":
            if not units or i + 1 == len(items) or (len(units) - 1) in activated:
                return None
            activated.add(len(units) - 1)
            i += 1
            continue
        nxt = items[i + 1] if i + 1 < len(items) else None
        u = unit(m, ctx, (seq.attr,))
        if u is None or m.kind != "builtin" or nxt is None or family(nxt) != "norm":
            return None
        u.norm = (seq.attr, nxt.attr)
        units.append(u)
        i += 2
    return units, activated
