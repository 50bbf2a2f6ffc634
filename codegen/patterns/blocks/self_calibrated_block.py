"""PAN's self-calibrated block with pixel attention (Zhao et al. 2020, `SCPA`): the input split by
two 1x1 convs (`conv1_a`, `conv1_b`) into two narrower paths, one through a plain conv (`k1`),
the other through a pixel-gated conv (`PAConv`, blocks/pixel_gate.py), both concatenated back
to the width by a 1x1 conv (`conv3`) and the input added:

    a = act(k1(act(conv1_a(x))))
    b = act(PAConv(act(conv1_b(x))))
    return conv3(cat([a, b])) + x

Both paths have the same widths, so which entry conv feeds which path is a convention (PAN's:
the `_b` one feeds the gated conv), as are the activation (PAN's LeakyReLU 0.2) and the residual:
choices, flagged until calibration or a hint settles them.
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

ENTRY = re.compile(r"(\w*?)_?([ab])", re.IGNORECASE)


def _conv(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None


class SelfCalibratedBlock(BlockPattern):
    role = "SelfCalibratedBlock"
    priority = 5

    accepts = Accepts(5, 5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 5 or any(m.io is None for m in members):
            return None
        gated = [m for m in members if ctx.role(m) == "PixelGatedConv"]
        entries = {}
        for m in members:
            found = ENTRY.fullmatch(m.attr)
            if found and _conv(m):
                entries.setdefault(found.group(1), {})[found.group(2).lower()] = m
        pairs = [p for p in entries.values() if set(p) == {"a", "b"}]
        if len(gated) != 1 or len(pairs) != 1:
            return None
        a, b = pairs[0]["a"], pairs[0]["b"]
        rest = [m for m in members if m not in (a, b, gated[0])]
        width, narrow = a.io.in_width, a.io.out_width
        if (b.io.in_width, b.io.out_width) != (width, narrow):
            return None
        fuse = [m for m in rest if _conv(m) and m.io.in_width == 2 * narrow]
        plain = [m for m in rest if m not in fuse]
        if len(fuse) != 1 or len(plain) != 1 or fuse[0].io.out_width != width:
            return None
        if (plain[0].io.in_width, plain[0].io.out_width) != (narrow, narrow):
            return None
        pairing = ctx.choose(
            cls,
            b.attr,
            "gated_path",
            "b",
            ["a"],
            "the entry conv whose path runs through the pixel-gated conv (PAN's: `_b`)",
        )
        activation = ctx.choose(
            cls,
            a.attr,
            "activation",
            "leaky_relu",
            act.alternatives("leaky_relu", conv=True),
            "after each entry conv and each path (PAN's LeakyReLU 0.2)",
        )
        residual = ctx.choose(cls, fuse[0].attr, "residual", "add", ["none"], "the input added")
        guessed = [c.name for c in (pairing, activation, residual) if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "which path the gated conv takes, the activation and the residual leave no "
                f"tensor (PAN's SCPA by convention): the choices {', '.join(guessed)}"
            )
        found = (a.attr, b.attr, plain[0].attr, gated[0].attr, fuse[0].attr)
        return Match(self, 5, found, [pairing, activation, residual], guessed=note)

    def forward(self, match: Match, g: Graph) -> None:
        a, b, plain, gated, fuse = match.found
        pairing, activation, residual = (c.value for c in match.choices)
        x = g.input("x")
        paths = {a: plain, b: gated} if pairing == "b" else {a: gated, b: plain}
        outs = []
        for entry, name in ((a, "out_a"), (b, "out_b")):
            out = act.apply(g, activation, g.call_module((entry,), x, inline=True), inline=True)
            out = g.call_module((paths[entry],), out, inline=True)
            outs.append(act.apply(g, activation, out, name=name))
        joined = g.call_function("cat", outs, kwargs={"dim": 1}, inline=True)
        out = g.call_module((fuse,), joined, name="out")
        if residual == "add":
            out = g.call_function("add", out, x, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class PAConv(nn.Module):
            def __init__(self, nf: int) -> None:
                super().__init__()
                self.k2 = nn.Conv2d(nf, nf, 1)
                self.k3 = nn.Conv2d(nf, nf, 3, padding=1, bias=False)
                self.k4 = nn.Conv2d(nf, nf, 3, padding=1, bias=False)

            def forward(self, x):
                return self.k4(self.k3(x) * torch.sigmoid(self.k2(x)))

        class SCPA(nn.Module):  # PAN_arch.py SCPA, its plain path a bare conv (no Sequential)
            def __init__(self, nf: int = 8) -> None:
                super().__init__()
                gw = nf // 2
                self.conv1_a = nn.Conv2d(nf, gw, 1, bias=False)
                self.conv1_b = nn.Conv2d(nf, gw, 1, bias=False)
                self.k1 = nn.Conv2d(gw, gw, 3, 1, 1, bias=False)
                self.PAConv = PAConv(gw)
                self.conv3 = nn.Conv2d(2 * gw, nf, 1, bias=False)

            def forward(self, x):
                a = F.leaky_relu(self.k1(F.leaky_relu(self.conv1_a(x), 0.2)), 0.2)
                b = F.leaky_relu(self.PAConv(F.leaky_relu(self.conv1_b(x), 0.2)), 0.2)
                return self.conv3(torch.cat([a, b], dim=1)) + x

        class Net(nn.Module):
            def __init__(self, nf: int = 8) -> None:
                super().__init__()
                self.conv_first = nn.Conv2d(3, nf, 3, padding=1)
                self.blocks = nn.Sequential(SCPA(nf), SCPA(nf))

            def forward(self, x):
                return self.blocks(self.conv_first(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 6, 6),))]
