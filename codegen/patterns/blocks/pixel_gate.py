"""Pixel attention as PAN writes it (Zhao et al. 2020, zhaohengyuan1/PAN's `PA` and `PAConv`): a
1x1 conv keeping the width, squashed by a sigmoid, gates every pixel and channel of a tensor.

    PA:      return x * sigmoid(conv(x))
    PAConv:  return k4(k3(x) * sigmoid(k2(x)))      # k2 1x1; k3, k4 k x k, bias-free

Not lucidrains' attention among pixels (pixel_attention.py): no softmax, no heads. The sigmoid
and the product leave no tensor. A class holding one width-keeping 1x1 conv is PA where its
instances are named as attention (`att1`, `pa`, `attention`); the gate is a choice still. PAConv
is three width-keeping convs named `k2`, `k3`, `k4` (the self-calibrated convolution's names,
which PAN's code keeps): the 1x1 one gates, the other two run in the order of their numbers.
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
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns._kit import name_order

ATTENTION_NAME = re.compile(r"(pixel_?)?(att|attn|attention|pa)\d*", re.IGNORECASE)
GATED_CONV = ("k2", "k3", "k4")


def _keeps(m, pointwise: bool) -> bool:
    if m.kind != "builtin" or m.type_name != "nn.Conv2d" or m.io is None:
        return False
    if m.io.in_width != m.io.out_width:
        return False
    return (conv_kernel(m) in (1, (1, 1))) == pointwise


def gate_choice(ctx: BlockContext, cls, where: str, what: str):
    return ctx.choose(
        cls,
        where,
        "gate",
        "sigmoid",
        ["none"],
        f"{what} gated by the sigmoid of the 1x1 conv (PAN's pixel attention)",
    )


class PixelGate(BlockPattern):
    role = "PixelAttention"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or not _keeps(members[0], pointwise=True):
            return None
        names = {path.rsplit(".", 1)[-1] for path, _ in cls.instances}
        if not names or not all(ATTENTION_NAME.fullmatch(n) for n in names):
            return None
        gate = gate_choice(ctx, cls, members[0].attr, "the input")
        guessed = ""
        if gate.source == "default":
            guessed = "the sigmoid gate leaves no tensor (PAN's PA): the choice gate"
        return Match(self, 1, members[0].attr, [gate], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        out = g.call_module((match.found,), x, name="out")
        if match.choices[0].value == "sigmoid":
            gate = g.call_function("sigmoid", out, inline=True)
            out = g.call_function("mul", x, gate, name="out", comment="gate every pixel")
        g.output(out)

    @staticmethod
    def examples():
        return _examples()[:1]


class PixelGatedConv(BlockPattern):
    role = "PixelGatedConv"
    priority = 5

    accepts = Accepts(3, 3, tensors=False, names=GATED_CONV)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or sorted(m.attr for m in members) != list(GATED_CONV):
            return None
        gates = [m for m in members if _keeps(m, pointwise=True)]
        convs = sorted(
            (m for m in members if _keeps(m, pointwise=False)), key=lambda m: name_order(m.attr)
        )
        if len(gates) != 1 or len(convs) != 2 or gates[0].io.in_width != convs[0].io.in_width:
            return None
        gate = gate_choice(ctx, cls, gates[0].attr, "the first conv's output")
        guessed = ""
        if gate.source == "default":
            guessed = "the sigmoid gate leaves no tensor (PAN's PAConv): the choice gate"
        found = (gates[0].attr, convs[0].attr, convs[1].attr)
        return Match(self, 3, found, [gate], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        gate, first, second = match.found
        x = g.input("x")
        out = g.call_module((first,), x, name="out")
        if match.choices[0].value == "sigmoid":
            y = g.call_function("sigmoid", g.call_module((gate,), x, inline=True), name="y")
            out = g.call_function("mul", out, y, name="out", comment="gate every pixel")
        else:
            out = g.call_function("add", out, g.call_module((gate,), x, inline=True), name="out")
        g.output(g.call_module((second,), out, name="out"))

    @staticmethod
    def examples():
        return _examples()[1:]


def _examples():
    import torch
    import torch.nn as nn

    class PA(nn.Module):  # zhaohengyuan1/PAN PAN_arch.py
        def __init__(self, nf: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(nf, nf, 1)
            self.sigmoid = nn.Sigmoid()

        def forward(self, x):
            return x * self.sigmoid(self.conv(x))

    class Head(nn.Module):  # a pixel-attention stage under another name, bias-free gate
        def __init__(self, nf: int = 4) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, nf, 3, padding=1)
            self.attention = PA(nf)
            self.attention.conv = nn.Conv2d(nf, nf, 1, bias=False)

        def forward(self, x):
            return self.attention(self.conv(x))

    class PAConv(nn.Module):  # PAN_arch.py PAConv, 5x5
        def __init__(self, nf: int, k_size: int = 5) -> None:
            super().__init__()
            self.k2 = nn.Conv2d(nf, nf, 1)
            self.sigmoid = nn.Sigmoid()
            self.k3 = nn.Conv2d(nf, nf, k_size, padding=(k_size - 1) // 2, bias=False)
            self.k4 = nn.Conv2d(nf, nf, k_size, padding=(k_size - 1) // 2, bias=False)

        def forward(self, x):
            return self.k4(self.k3(x) * self.sigmoid(self.k2(x)))

    class Wrapped(nn.Module):
        def __init__(self, nf: int = 4) -> None:
            super().__init__()
            self.conv_in = nn.Conv2d(3, nf, 3, padding=1)
            self.pa_conv = PAConv(nf)

        def forward(self, x):
            return self.pa_conv(self.conv_in(x))

    torch.manual_seed(0)
    image = (torch.randn(2, 3, 6, 6),)
    return [Example(Head().eval(), image), Example(Wrapped().eval(), image)]
