"""A plain vision transformer kept as a grid of patches (ViTDet's backbone, as SAM's image
encoder is before its neck): the patches stay a [batch, height, width, channels] map through the
layers, and the model returns the last one as a feature map [batch, channels, height, width]:

    x = patchify(pixels).permute(0, 2, 3, 1)             # [batch, height, width, channels]
    x = x + grid_positions(table, height, width)         # the table's grid resized to the map
    x = encoder(x)                                       # grid blocks, windowed or whole
    return x.permute(0, 3, 1, 2)

The embeddings are a class holding one patchifying conv and the learned position table, read
here member by member. The table covers a square grid, possibly after a class token's row that no
token uses (ViTDet's `pretrain_image_size` grid, 1 + side ** 2 rows): that row is dropped and the
grid resized (bicubic, corners not aligned: the `position_resize` choice) to the image's patch
grid when their sides differ.

Matched when the encoder is a GridEncoder (blocks/decomposed_attention.py); or an Encoder of
ordinary transformer layers on the flattened map when the table shows a class token's row with
no class token (the grid-backbone signature) and no evidence puts any layer in windows.
"""

from __future__ import annotations

import math

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    stack,
    tensors,
)
from codegen.patterns.blocks.decomposed_attention import layer_windows
from codegen.patterns.blocks.swin_embeddings import images, in_channels

# config.json keys these models record whose effect the weights show (a table or not, its size).
SHOWN = ("use_absolute_position_embeddings", "use_relative_position_embeddings")
SIZES = ("pretrain_image_size",)


def _patchify(cls) -> tuple[str, int, str | None] | None:
    """(the conv's attribute, the patch size, the table's attribute or None) of an embeddings
    class holding one patchifying 2-d conv and at most one position table."""
    members, params = modules(cls), tensors(cls)
    if len(members) != 1 or family(members[0]) != "conv" or len(params) > 1:
        return None
    conv = members[0]
    args = {a.keyword: a.value for a in conv.args}
    kernel, stride = args.get("kernel_size"), args.get("stride", 1)
    if not isinstance(kernel, int) or stride != kernel or args.get("padding", 0) != 0:
        return None
    if conv.io is None or conv.io.ndim != 2:
        return None
    return conv.attr, kernel, params[0].attr if params else None


def _grid_rows(shape: tuple) -> tuple[int, int] | None:
    """(side, rows in front) of a position table [1, front + side ** 2, dim] with at most one
    row in front, or [1, side, side, dim]; None for any other shape."""
    if not all(isinstance(d, int) for d in shape[:-1]) or shape[0] != 1:  # the width: a size
        return None
    if len(shape) == 4 and shape[1] == shape[2]:
        return shape[1], 0
    if len(shape) != 3:
        return None
    side = math.isqrt(shape[1])
    front = shape[1] - side * side
    return (side, front) if side > 0 and front in (0, 1) else None


class GridVisionModel(BlockPattern):
    role = "GridVisionModel"
    priority = 30

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 2 or len(cls.members) != 2:
            return None
        grid = [m for m in members if ctx.role(m) == "GridEncoder"]
        plain = [m for m in members if ctx.role(m) == "Encoder"]
        encoder = (grid or plain or [None])[0]
        embed = next((m for m in members if m is not encoder and m.kind == "class"), None)
        held = ctx.classes.get(embed.type_name) if embed is not None else None
        found = _patchify(held) if held is not None else None
        if encoder is None or found is None:
            return None
        conv, patch, table = found
        rows = None
        if table is not None:
            rows = _grid_rows(next(t for t in tensors(held) if t.attr == table).shape)
            if rows is None:
                return None
        if not grid:  # ordinary layers: only with the grid backbone's signature and no windows
            layers = stack(next(iter(modules(ctx.classes[encoder.type_name])), None))
            count = layers[1] if layers is not None else None
            windows = layer_windows(ctx, count) if isinstance(count, int) else None
            if rows is None or rows[1] != 1 or windows is not None and any(windows[0]):
                return None
        for key in SHOWN + SIZES + ("residual_block_indices",):
            ctx.resolver.evidence(key)
        choices = []
        if table is not None:
            resize = ctx.choose(
                cls,
                embed.attr,
                "position_resize",
                "bicubic",
                ["bilinear"],
                "how the position table's grid is resized to another image's patch grid",
            )
            choices.append(resize)
            table = (embed.attr, table, resize.value)
        found = ((embed.attr, conv), table, encoder.attr, bool(grid), in_channels(cls, ctx))
        return Match(self, 3, found, choices)

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        conv, table, encoder, grid, _ = match.found
        pixels = g.input("pixel_values")
        x = g.call_module(conv, pixels, inline=True)
        x = g.call_method("permute", x, 0, 2, 3, 1, name="x", comment="[batch, height, width, C]")
        batch = g.call_method("size", x, 0, name="batch")
        height = g.call_method("size", x, 1, name="height")
        width = g.call_method("size", x, 2, name="width")
        if table is not None:
            positions = g.call_function(
                "grid_positions",
                g.getattr(table[:2]),
                height,
                width,
                table[2],
                inline=True,
            )
            x = g.call_function("add", x, positions, name="x")
        if grid:
            x = g.call_module((encoder,), x, name="x")
        else:  # ordinary layers read the map as a sequence, row by row
            seq = g.call_method("flatten", x, 1, 2, inline=True)
            seq = g.call_module((encoder,), seq, name="x", comment="[batch, height * width, C]")
            x = g.call_method("reshape", seq, batch, height, width, -1, name="x")
        g.output(g.call_method("permute", x, 0, 3, 1, 2), comment="[batch, C, height, width]")
