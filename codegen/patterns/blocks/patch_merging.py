"""Patch merging (Swin's downsampling between stages): each 2x2 neighbourhood of a channels-last
map side by side (4C channels, in the order (0, 0), (1, 0), (0, 1), (1, 1)), normalised, and
reduced to 2C by a bias-free Linear: [batch, H, W, C] -> [batch, H/2, W/2, 2C] (odd sizes are
zero-padded first). The norm's width says where it sits: 4C before the reduction (Swin v1), 2C
after it (Swin v2)."""

from __future__ import annotations

import re

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

REDUCTION = r"reduction|reduce"


class PatchMerging(BlockPattern):
    role = "PatchMerging"
    priority = 30  # a norm and a Linear that halves 4C: no width chain

    accepts = Accepts(2, 2)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 2 or len(cls.members) != 2:
            return None
        linear = [m for m in members if family(m) == "linear"]
        norm = [m for m in members if family(m) == "norm"]
        if len(linear) != 1 or len(norm) != 1 or norm[0].type_name != "nn.LayerNorm":
            return None
        reduction, norm = linear[0], norm[0]
        if not re.fullmatch(REDUCTION, reduction.attr, re.IGNORECASE) or reduction.io is None:
            return None
        wide, narrow = reduction.io.in_width, reduction.io.out_width
        if not wide or not narrow or wide != 2 * narrow or wide % 4:
            return None
        if norm.io is None or norm.io.in_width not in (wide, narrow):
            return None
        return Match(self, 3, (reduction.attr, norm.attr, norm.io.in_width == wide))

    def forward(self, match: Match, g: Graph) -> None:
        reduction, norm, norm_first = match.found
        x = g.input("x")
        x = g.call_function(
            "merge_patches", x, name="x", comment="[batch, height / 2, width / 2, 4 * channels]"
        )
        if norm_first:
            g.output(g.call_module((reduction,), g.call_module((norm,), x, inline=True)))
        else:
            g.output(g.call_module((norm,), g.call_module((reduction,), x, inline=True)))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._swin_examples import modules as zoo

        return [Example(zoo()["PatchMerging"](8), (torch.randn(2, 5, 6, 8),))]
