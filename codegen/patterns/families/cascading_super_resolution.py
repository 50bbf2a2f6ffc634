"""CARN (Ahn et al. 2018, nmhkahn/CARN-pytorch `carn.Net`): the dataset mean subtracted by a
frozen 1x1 conv (`sub_mean`), an `entry` conv, cascading blocks over the whole net (blocks
`b1..bN` and fusions `c1..cN`, blocks/cascading_block.py), an `upsample` step, an `exit` conv,
and the mean added back (`add_mean`):

    x = entry(sub_mean(x))
    o = cascade(x)                     # c_i = cat([c_(i-1), b_i(o_(i-1))]); o_i = c_i(c_i)
    return add_mean(exit(upsample(o)))

The widths order the cascade; the names say which mean shift runs first. CARN's upsampler
applies a ReLU between its conv and its shuffle (ops._UpsampleBlock), pinned here.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks.cascading_block import CARN, carn_pins, cascade, emit_cascade

SUB_MEAN, ADD_MEAN = r"sub_mean", r"add_mean"
ENTRY, EXIT, UPSAMPLE = r"entry|conv_first|head", r"exit|conv_last|tail", r"upsample|upsampler"


def _upsampler_pins(m, ctx: BlockContext) -> list:
    """CARN's ReLU before its shuffle, on the ShuffleUpsample class the upsampler holds."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    while cls is not None and cls.forward.pattern != "ShuffleUpsample":
        inner = [c for c in cls.members if getattr(c, "kind", None) == "class"]
        cls = ctx.classes.get(inner[0].type_name) if len(inner) == 1 else None
    return [(f"{cls.name}.body", "activation", "relu", CARN)] if cls is not None else []


class CascadingSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(7, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 7:
            return None
        named = [one_named(members, n) for n in (SUB_MEAN, ADD_MEAN, ENTRY, EXIT, UPSAMPLE)]
        if None in named or any(m.io is None for m in named):
            return None
        sub, add, entry, exit_, up = named
        if family(entry) != "conv" or family(exit_) != "conv":
            return None
        channels, width = entry.io.in_width, entry.io.out_width
        for shift in (sub, add):
            if (shift.io.in_width, shift.io.out_width) != (channels, channels):
                return None
        if up.io.in_width != width or exit_.io.in_width != width:
            return None
        if exit_.io.out_width != channels:
            return None
        rest = [m for m in members if m not in named]
        pairs = cascade(rest, ctx, width)
        if pairs is None:
            return None
        pins = carn_pins(pairs, rest, ctx) + _upsampler_pins(up, ctx)
        found = (sub.attr, entry.attr, tuple(pairs), up.attr, exit_.attr, add.attr)
        return Match(self, len(members), found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        sub, entry, pairs, up, exit_, add = match.found
        x = g.input("x")
        x = g.call_module((sub,), x, name="x", comment="subtract the dataset mean")
        x = g.call_module((entry,), x, name="x")
        out = emit_cascade(g, pairs, x)
        out = g.call_module((exit_,), g.call_module((up,), out, inline=True), name="out")
        g.output(g.call_module((add,), out, name="out", comment="add the dataset mean back"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        ResidualBlock, Fuse = z["carn_residual"], z["carn_fuse"]

        class Up(nn.Module):  # x3: one conv, ReLU, PixelShuffle(3)
            def __init__(self, c: int) -> None:
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(c, 9 * c, 3, 1, 1), nn.ReLU(), nn.PixelShuffle(3)
                )

            def forward(self, x):
                return self.body(x)

        class Carn(nn.Module):  # two cascading steps of plain residual blocks, x3, conv shifts
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.sub_mean = nn.Conv2d(3, 3, 1)
                self.add_mean = nn.Conv2d(3, 3, 1)
                self.entry = nn.Conv2d(3, c, 3, 1, 1)
                self.b1, self.b2 = ResidualBlock(c), ResidualBlock(c)
                self.c1, self.c2 = Fuse(2 * c, c), Fuse(3 * c, c)
                self.upsample = Up(c)
                self.exit = nn.Conv2d(c, 3, 3, 1, 1)

            def forward(self, x):
                x = self.entry(self.sub_mean(x))
                c1 = torch.cat([x, self.b1(x)], dim=1)
                o1 = self.c1(c1)
                c2 = torch.cat([c1, self.b2(o1)], dim=1)
                return self.add_mean(self.exit(self.upsample(self.c2(c2))))

        torch.manual_seed(0)
        return [Example(Carn().eval(), (torch.randn(2, 3, 5, 5),))]
