"""`alpha * x + beta`: a per-channel scale and shift where a norm would be, with no statistics
(ResMLP's `Affine`, Touvron et al. 2021: the official code, timm). Its two parameters are named
for it, `alpha` and `beta`, of one shape ([channels], or [1, 1, channels] shaped to broadcast),
the class holding nothing else; the channels are the last axis (tokens [batch, tokens, channels]).

Other code stores an `alpha` and a `beta` per channel and computes something else with
them (BigVGAN's SnakeBeta activation, over the channels of [batch, channels, time]): the class
says guessed unless the block around it shows it a norm (blocks/cross_patch_block.py pins
`affine_norms` for the whole model), its role "norm", so that patterns taking a norm take it.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    broadcast_vector,
    modules,
    tensors,
)

# The model-wide pin (Match.pins, path "") of a block that places these classes as its norms.
PIN = "affine_norms"
SCALE, SHIFT = re.compile(r"alpha", re.I), re.compile(r"beta", re.I)


def affine_pair(found: list) -> tuple[str, str] | None:
    """(scale, shift): of a class's tensors, exactly two parameters `alpha`, `beta` of one
    per-channel shape."""
    if len(found) != 2 or any(t.kind != "parameter" for t in found):
        return None
    scale = [t for t in found if SCALE.fullmatch(t.attr)]
    shift = [t for t in found if SHIFT.fullmatch(t.attr)]
    if len(scale) != 1 or len(shift) != 1 or tuple(scale[0].shape) != tuple(shift[0].shape):
        return None
    shape = tuple(scale[0].shape)
    if len(shape) != 1 and not broadcast_vector(shape):
        return None
    return scale[0].attr, shift[0].attr


def affine_width(found: list) -> tuple[int, None] | None:
    """(channels, None): the width an Affine class's tensors keep, over the last axis
    (analyze/structure.py's widths before any forward); None where they are no such pair."""
    if affine_pair(found) is None or not isinstance(found[0].shape[-1], int):
        return None
    return found[0].shape[-1], None


class AffineScale(BlockPattern):
    role = "norm"
    priority = 5
    trust_note = "a recognised pattern: alpha * x + beta, no statistics (ResMLP's Affine)"

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        pair = None if modules(cls) else affine_pair(tensors(cls))
        if pair is None:
            return None
        guessed = ""
        if ("", PIN) not in ctx.resolver.structural:
            guessed = (
                "alpha * x + beta over the last axis (ResMLP's Affine); other code computes "
                "otherwise with an alpha and a beta (a Snake activation)"
            )
        return Match(self, 2, pair, guessed=guessed, title="Affine")

    def forward(self, match: Match, g: Graph) -> None:
        scale, shift = match.found
        x = g.input("x")
        scaled = g.call_function("mul", g.getattr((scale,)), x, inline=True)
        g.output(
            g.call_function("add", scaled, g.getattr((shift,))),
            comment="a scale and shift, no normalisation",
        )

    @staticmethod
    def examples():
        from codegen.patterns.blocks._resmlp_examples import example

        return [example()]
