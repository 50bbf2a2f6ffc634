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

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import BlockContext, BlockPattern, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks._gate_branch import apply_gate, gate_branch, gate_choices, last_conv

PRIMARY, CHEAP = re.compile(r"primary", re.I), re.compile(r"cheap", re.I)


def ghost_parts(cls, ctx: BlockContext, prefix: tuple[str, ...] = ()):
    """(primary, cheap) conv-norm units of a Ghost module's class, its two members, and the gate
    branch beside them (GhostNetV2's `short_conv`, _gate_branch.py) or None; or None."""
    members = modules(cls)
    if tensors(cls) or len(members) not in (2, 3):
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
    rest = [m for m in members if m is not primary[0] and m is not cheap[0]]
    # the gate multiplies both halves, sliced to an odd `oup` where they are one wider
    gate = gate_branch(rest, a.in_width, {2 * a.out_width, 2 * a.out_width - 1}) if rest else None
    if rest and gate is None:
        return None
    return a, b, primary[0], cheap[0], gate


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
        gate, choices, sliced = found[4], [], None
        if gate is not None:
            choices = gate_choices(ctx, cls, gate.attr, gate)
            if gate.io.out_width != 2 * found[0].out_width:  # an odd `oup`: the halves sliced
                sliced = last_conv(gate)
                if sliced is None:
                    return None
        found = (found[2].attr, found[3].attr, gate.attr if gate is not None else None, sliced)
        score = 2 + 4 + 1 + (gate is not None)
        return Match(self, score, found, choices)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        if match.found[2] is not None:  # gated: sliced to the gate's width, not concatenated
            return (), False
        return match.found[:2], False

    def forward(self, match: Match, g: Graph) -> None:
        primary, cheap, gate, sliced = match.found
        x = g.input("x")
        x1 = g.call_module((primary,), x, name="x1")
        x2 = g.call_module((cheap,), x1, name="x2", comment="cheap depthwise 'ghost' features")
        out = g.call_function("cat", [x1, x2], 1, name="out")
        if sliced is not None:  # to the gate's width
            width = g.getattr((gate,) + sliced + ("out_channels",), inline=True)
            out = g.call_function("getitem", out, (Slice(), Slice(None, width)), name="out")
        if gate is not None:
            squash, pooling = (c.value for c in match.choices)
            out = apply_gate(g, (gate,), x, out, squash, int(pooling))
        g.output(out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import ghost_examples

        return ghost_examples()[:1]
