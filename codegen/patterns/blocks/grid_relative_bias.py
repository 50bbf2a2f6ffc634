"""A relative position bias over a grid of image patches plus a class token (BEiT, Data2Vec-vision):
a learned table of (2h - 1)(2w - 1) + 3 rows by heads, one row per 2-D offset between two patches
and three for class-to-patch, patch-to-class and class-to-class; read out as the
[1, heads, hw + 1, hw + 1] bias the attention adds to its scores.

The window (patches per side) is config.json's image_size // patch_size where the folder has it,
else the square the table's rows allow. The library reads the window off each input and
interpolates the table for other sizes; here the trained window is fixed, so an input of another
size fails on the bias's shape rather than computing something else.
"""

from __future__ import annotations

import math

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, modules, tensors

TABLE = "relative_position_bias_table"
NOT_SQUARE = (
    "a relative position table for a window that is not square, or whose size config.json "
    "(image_size // patch_size) and the table's rows disagree on: not computed yet"
)


def _example(name: str = "beit_relative"):
    from codegen.patterns.blocks._encoder_examples import example

    return example(name)


def window_side(rows: int) -> int | None:
    """The side w of a square window whose table has (2w - 1)^2 + 3 rows; None when none does."""
    if rows <= 3:
        return None
    root = math.isqrt(rows - 3)
    return (root + 1) // 2 if root * root == rows - 3 and root % 2 == 1 else None


class GridRelativeBias(BlockPattern):
    """`grid_relative_bias(table, side, side)`: the table read out for every pair of tokens."""

    role = "RelativePositionBias"
    priority = 5

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or params[0].attr != TABLE:
            return None
        if len(params[0].shape) != 2:
            return None
        rows = int(params[0].shape[0])
        side = window_side(rows)
        image, patch = ctx.resolver.evidence("image_size"), ctx.resolver.evidence("patch_size")
        said = None
        if image and patch and type(image[1]) is int and type(patch[1]) is int and patch[1] > 0:
            said = image[1] // patch[1]
        if side is None or (said is not None and said != side):
            return Match(self, 1, missing=NOT_SQUARE)
        # config.json's switch for a table in each layer (BEiT): read, so it is not unaccounted
        # for; the table's presence in the checkpoint already says it is on.
        ctx.resolver.evidence("use_relative_position_bias", "use_shared_relative_position_bias")
        window = ctx.choose(
            cls, TABLE, "window", side, [], "patches per side: the table's (2w - 1)^2 + 3 rows"
        )
        if said is not None and window.source == "default":
            window.source = "metadata"
            window.note = f"{image[0]} {image[1]} // {patch[0]} {patch[1]}"
        return Match(self, 1, (TABLE, int(window.value)), [window])

    def forward(self, match: Match, g: Graph) -> None:
        table, side = match.found
        g.output(
            g.call_function("grid_relative_bias", g.getattr((table,)), side, side),
            comment="[1, heads, patches + 1, patches + 1]",
        )

    @staticmethod
    def examples():
        return [_example()]
