"""Pixel attention as FFA-Net writes it (Qin et al. 2020, zhilin007/FFA-Net's `PALayer`; the
dehazing and restoration nets built on it): a Sequential of two 1x1 convs, reducing the width and
then to one channel, whose sigmoid weighs every pixel of the input.

    return x * sigmoid(pa(x))              # pa: Conv2d(C, C/r, 1), ReLU, Conv2d(C/r, 1, 1)

A squeeze-excitation without the squeeze: one weight per pixel, not per channel. The sigmoid
and the product leave no tensor, nor does the activation between the convs (a slot of the
Sequential). A class holding such a Sequential, named as attention (`pa`, `att`: PAN's names,
blocks/pixel_gate.py), reads and gives the width of its input (analyze/structure.py asks
`gate_convs`); the gate is a choice.
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
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.pixel_gate import ATTENTION_NAME

GUESS = "the sigmoid weighing each pixel leaves no tensor (FFA-Net's PALayer): the choice gate"


def gate_convs(members: list) -> int | None:
    """The width C a class keeps where its one member is a Sequential named as attention whose
    keyed items are two 1x1 2-d convs, C -> r (r < C) and r -> 1; else None."""
    real = [m for m in members if m.kind != "placeholder"]
    if len(real) != 1 or real[0].kind != "sequential" or not ATTENTION_NAME.fullmatch(real[0].attr):
        return None
    convs = [c for c in real[0].children if c.kind != "placeholder"]
    if len(convs) != 2 or not all(_pointwise(c) for c in convs):
        return None
    (c, r), (r2, one) = [(m.io.in_width, m.io.out_width) for m in convs]
    return c if r == r2 and one == 1 and 1 < r < c else None


def _pointwise(m) -> bool:
    return (
        m.kind == "builtin"
        and m.type_name == "nn.Conv2d"
        and family(m) == "conv"
        and m.io is not None
        and conv_kernel(m) in (1, (1, 1))
    )


class PixelExcite(BlockPattern):
    role = "PixelAttention"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or gate_convs(members) is None:
            return None
        branch = members[0].attr
        gate = ctx.choose(
            cls,
            branch,
            "gate",
            "sigmoid",
            act.alternatives("sigmoid", gates=True),
            f"{branch}'s one-channel map squashed into a weight for every pixel of the input",
        )
        guessed = GUESS if gate.source == "default" else ""
        return Match(self, 1, branch, [gate], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        weight = g.call_module((match.found,), x, name="weight", comment="[batch, 1, H, W]")
        weight = act.apply(g, match.choices[0].value, weight, name="weight", inline=True)
        g.output(g.call_function("mul", x, weight, name="out", comment="weigh every pixel"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class PixelWeights(nn.Module):  # (FFA-Net's PALayer, other width and reduction)
            def __init__(self, width: int = 12) -> None:
                super().__init__()
                self.att = nn.Sequential(
                    nn.Conv2d(width, width // 4, 1),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(width // 4, 1, 1),
                    nn.Sigmoid(),
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.att(x)

        class Holder(nn.Module):  # the width it keeps, shown by a conv on each side
            def __init__(self) -> None:
                super().__init__()
                self.conv_in = nn.Conv2d(3, 12, 3, padding=1)
                self.weigh = PixelWeights()
                self.conv_out = nn.Conv2d(12, 5, 3, padding=1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.conv_out(self.weigh(self.conv_in(x)))

        torch.manual_seed(0)
        return [Example(Holder().eval(), (torch.randn(2, 3, 8, 8),))]
