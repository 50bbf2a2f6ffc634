"""A light-enhancement curve estimator (Zero-DCE, Guo et al. 2020; Li-Chongyi's Zero-DCE_code
`enhance_net_nopool` and the ports that copy it): a flat stack of 2n + 1 convs with symmetric
concatenations estimates one curve map per step, each applied to the image in turn:

    x1 = relu(conv1(img)); ... x_{n+1} = relu(conv_{n+1}(x_n))          widths c -> w -> w
    x_{n+1+j} = relu(conv_{n+1+j}(cat([x_{n+1-j}, x_{n+j}], 1)))          2w -> w, j = 1..n-1
    r = tanh(conv_{2n+1}(cat([x1, x_{2n}], 1)))                          2w -> k c
    for each of the k curve maps r_i (c channels): img = img + r_i * (img^2 - img)

The names' numbers order the convs (never key order), and the widths give the shape of it: the
first reads the image's c channels, the rest keep w but for the concatenations, which read 2w,
and the last gives k times the image's channels, k >= 2 (Zero-DCE: 8 steps of 3 channels). Which
maps each concatenation joins (the pair mirrored across the middle, the earlier first), the tanh
and the curve leave no tensor: Zero-DCE's code. So do the ReLUs, a choice that keeps the class
guessed until calibration settles it. The
repository returns (the 4th step's image, the last, r); its test script keeps the last, which is
what this forward returns.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match, family
from codegen.patterns._kit import modules, tensors
from codegen.patterns.blocks._conv_parts import conv_kernel

NUMBER = re.compile(r"(\d+)\D*$")


def ordered_convs(members) -> list | None:
    """The members in the order of the last number in their names, where each is a plain 2-d
    conv with an odd kernel and the numbers are distinct; else None."""
    numbered = []
    for m in members:
        found = NUMBER.search(m.attr)
        if found is None or m.kind != "builtin" or m.type_name != "nn.Conv2d" or m.io is None:
            return None
        kernel = conv_kernel(m)
        if not isinstance(kernel, int) or kernel % 2 == 0 or family(m) != "conv":
            return None
        numbered.append((int(found.group(1)), m))
    if len({n for n, _ in numbered}) != len(numbered):
        return None
    return [m for _, m in sorted(numbered, key=lambda p: p[0])]


class CurveEstimation(BlockPattern):
    role = "CurveEstimator"
    priority = 10

    accepts = Accepts(5, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if not cls.is_top or tensors(cls) or len(members) < 5 or len(members) % 2 == 0:
            return None
        convs = ordered_convs(members)
        if convs is None:
            return None
        n = len(convs) // 2
        channels, width = convs[0].io.in_width, convs[0].io.out_width
        ins = [c.io.in_width for c in convs]
        outs = [c.io.out_width for c in convs]
        steps, left = divmod(outs[-1], channels) if channels else (0, 1)
        if channels is None or channels > 4 or left or steps < 2 or width == outs[-1]:
            return None
        if ins[1 : n + 1] != [width] * n or outs[:-1] != [width] * (2 * n):
            return None
        if ins[n + 1 :] != [2 * width] * n:
            return None
        activation = ctx.choose(
            cls,
            convs[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each conv but the last (Zero-DCE's ReLU)",
        )
        found = (tuple(c.attr for c in convs), channels, steps)
        guessed = act.unproven_activation(activation)
        return Match(self, len(members), found, [activation], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        convs, channels, steps = match.found
        activation = match.choices[0].value
        n = len(convs) // 2
        image = g.input("x")  # [batch, channels, height, width], in [0, 1]
        maps = []
        h = image
        for i, conv in enumerate(convs[:-1]):
            if i > n:  # the map mirrored across the middle, then the last one
                h = g.call_function("cat", [maps[2 * n - i], h], 1, inline=True)
            h = act.apply(g, activation, g.call_module((conv,), h, inline=True), name=f"x{i + 1}")
            maps.append(h)
        joined = g.call_function("cat", [maps[0], h], 1, inline=True)
        r = g.call_function("tanh", g.call_module((convs[-1],), joined, inline=True), name="r")
        curves = g.call_function(
            "torch.split",
            r,
            channels,
            1,
            name="curves",
            comment=f"{steps} curve maps, one per step",
        )
        x = image
        for i in range(steps):
            curve = g.call_function("getitem", curves, i, inline=True)
            square = g.call_function("torch.pow", x, 2, inline=True)
            change = g.call_function("sub", square, x, inline=True)
            step = g.call_function("mul", curve, change, inline=True)
            why = "the curve: x + r (x^2 - x)" if i == 0 else ""
            x = g.call_function("add", x, step, name="x", comment=why)
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class CurveNet(nn.Module):  # Zero-DCE's layout at depth 5, 10 channels, 4 steps
            def __init__(self, c: int = 3, w: int = 10, steps: int = 4) -> None:
                super().__init__()
                self.conv_1 = nn.Conv2d(c, w, 3, 1, 1)
                self.conv_2 = nn.Conv2d(w, w, 3, 1, 1)
                self.conv_3 = nn.Conv2d(w, w, 3, 1, 1)
                self.conv_4 = nn.Conv2d(2 * w, w, 3, 1, 1)
                self.conv_5 = nn.Conv2d(2 * w, c * steps, 3, 1, 1)
                self.c = c

            def forward(self, x):
                x1 = torch.relu(self.conv_1(x))
                x2 = torch.relu(self.conv_2(x1))
                x3 = torch.relu(self.conv_3(x2))
                x4 = torch.relu(self.conv_4(torch.cat([x2, x3], 1)))
                r = torch.tanh(self.conv_5(torch.cat([x1, x4], 1)))
                for curve in torch.split(r, self.c, dim=1):
                    x = x + curve * (torch.pow(x, 2) - x)
                return x

        torch.manual_seed(0)
        image = torch.rand(2, 3, 6, 6)
        return [Example(CurveNet().eval(), (image,))]
