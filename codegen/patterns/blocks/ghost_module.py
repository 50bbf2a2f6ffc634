"""GhostNet's Ghost module (Han et al. 2020; huawei-noah's ghostnet.py, timm's GhostModule): a
primary conv-norm gives half the channels, a cheap depthwise conv-norm makes as many "ghost"
features from them, and both are given side by side:

    x1 = primary_conv(x); x2 = cheap_operation(x1); cat([x1, x2], 1)

A depthwise conv reading what a conv beside it gives would chain too: the keys cannot show the
concatenation, only the libraries' names for the two parts (`primary*`, `cheap*`) do, so the
pattern asks for them besides the structure. (The libraries slice the result to `out_chs`, which
their widths, multiples of 4, never trim; where a width is odd, only what reads the module shows
it: blocks/ghost_bottleneck.py slices there, to that reader's width.)
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import unit

PRIMARY, CHEAP = re.compile(r"primary", re.I), re.compile(r"cheap", re.I)


def ghost_parts(cls, ctx: BlockContext, prefix: tuple[str, ...] = ()):
    """(primary, cheap) conv-norm units of a Ghost module's class, or None."""
    members = modules(cls)
    if tensors(cls) or len(members) != 2:
        return None
    primary = [m for m in members if PRIMARY.search(m.attr)]
    cheap = [m for m in members if CHEAP.search(m.attr)]
    if len(primary) != 1 or len(cheap) != 1 or primary[0] is cheap[0]:
        return None
    a, b = unit(primary[0], ctx, prefix), unit(cheap[0], ctx, prefix)
    if a is None or b is None or a.norm is None or b.norm is None:
        return None
    if not b.one_channel_per_group or b.in_width != a.out_width or b.out_width != a.out_width:
        return None
    return a, b, primary[0], cheap[0]


class GhostModule(BlockPattern):
    role = "GhostModule"
    priority = 9

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = ghost_parts(cls, ctx)
        if found is None:
            return None
        # The members, the conv and norm inside each, and the names saying which is the copy:
        # where the primary conv keeps the width (8 to 8), a depthwise-then-pointwise inverted
        # residual reads the same keys in the other order and explains less of them.
        return Match(self, 2 + 4 + 1, (found[2].attr, found[3].attr))

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return match.found, False

    def forward(self, match: Match, g: Graph) -> None:
        primary, cheap = match.found
        x = g.input("x")
        x1 = g.call_module((primary,), x, name="x1")
        x2 = g.call_module((cheap,), x1, name="x2", comment="cheap depthwise 'ghost' features")
        g.output(g.call_function("cat", [x1, x2], 1))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import ghost_examples

        return ghost_examples()[:1]
