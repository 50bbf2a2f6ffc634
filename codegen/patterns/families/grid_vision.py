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
    Accepts,
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

# config.json keys these models record whose effect the weights show (a table or not, sizes).
SHOWN = (
    "use_absolute_position_embeddings",
    "use_relative_position_embeddings",
    "use_abs_pos",
    "use_rel_pos",
)
SIZES = ("pretrain_image_size", "mlp_dim", "output_channels")
# SAM's vision config also carries its prompt encoder's Fourier features, which the image
# encoder never reads.
PROMPT_ENCODER = ("num_pos_feats", "scale")


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


def _grid_rows(shape: tuple) -> tuple[int | None, int] | None:
    """(side, rows in front) of a position table [1, front + side ** 2, dim] with at most one
    row in front, or [1, side, side, dim] (its side may be a constructor parameter: None);
    None for any other shape."""
    if shape[0] != 1:
        return None
    if len(shape) == 4 and shape[1] == shape[2]:
        return (shape[1] if isinstance(shape[1], int) else None), 0
    if len(shape) != 3 or not isinstance(shape[1], int):
        return None
    side = math.isqrt(shape[1])
    front = shape[1] - side * side
    return (side, front) if side > 0 and front in (0, 1) else None


def _depth(layers) -> int | None:
    """How many layers a container applies in turn (a repeat's count, or its items)."""
    if layers is None or not layers.children:
        return None
    held = stack(layers)
    return held[1] if held is not None else len(layers.children)


class GridVisionModel(BlockPattern):
    role = "GridVisionModel"
    priority = 30

    accepts = Accepts(2, 3)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(params) > 1 or not 2 <= len(members) <= 3:
            return None
        grid = [m for m in members if ctx.role(m) == "GridEncoder"]
        blocks = [
            m
            for m in members
            if m.kind in ("modulelist", "repeat", "sequential")
            and m.children
            and all(ctx.role(c) == "GridBlock" for c in m.children)
        ]
        plain = [m for m in members if ctx.role(m) == "Encoder"]
        encoder = (grid or blocks or plain or [None])[0]
        if encoder is None or len(grid) + len(blocks) + len(plain) != 1:
            return None
        # the embeddings: the first class whose members are a patchifying conv (and a table)
        rest = [m for m in members if m is not encoder and m.kind == "class"]
        if len(rest) != len(members) - 1:
            return None
        patchify = [(m, _patchify(ctx.classes[m.type_name])) for m in rest]
        patchify = [(m, p) for m, p in patchify if p is not None]
        if len(patchify) != 1:
            return None
        embed, (conv, patch, table) = patchify[0]
        neck = next((m.attr for m in rest if m is not embed), None)  # on the channels-first map
        holder = ctx.classes[embed.type_name]
        if table is not None and params:
            return None
        if table is not None:
            shape, table = next(t.shape for t in tensors(holder) if t.attr == table), (
                embed.attr,
                table,
            )
        elif params:
            shape, table = params[0].shape, (params[0].attr,)
        rows = None
        if table is not None:
            rows = _grid_rows(shape)
            if rows is None:
                return None
        kind = "grid" if grid else "blocks" if blocks else "plain"
        windows = None
        if kind != "grid":
            layers = (
                encoder if blocks else next(iter(modules(ctx.classes[encoder.type_name])), None)
            )
            count = _depth(layers)
            windows = layer_windows(ctx, count) if isinstance(count, int) else None
        if kind == "plain":  # ordinary layers: the grid backbone's table, and no windows
            if rows is None or rows[1] != 1 or windows is not None and any(windows[0]):
                return None
        guessed = ""
        if kind == "blocks" and windows is None:
            if not isinstance(_depth(encoder), int):
                return None
            windows = ((0,) * _depth(encoder), "nowhere: every layer attends to the whole map")
            guessed = "which layers attend within windows (config.json's window_size and indices)"
        for key in SHOWN + SIZES + PROMPT_ENCODER + ("residual_block_indices",):
            ctx.resolver.evidence(key)
        choices = []
        if table is not None:
            resize = ctx.choose(
                cls,
                table[-1],
                "position_resize",
                "bicubic",
                ["bilinear"],
                "how the position table's grid is resized to another image's patch grid",
            )
            choices.append(resize)
            table = (table, resize.value)
        found = ((embed.attr, conv), table, (encoder.attr, kind, windows), neck)
        return Match(
            self, 1 + len(cls.members), found + (in_channels(cls, ctx),), choices, guessed=guessed
        )

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        conv, table, (encoder, kind, windows), neck, _ = match.found
        pixels = g.input("pixel_values")
        x = g.call_module(conv, pixels, inline=True)
        x = g.call_method("permute", x, 0, 2, 3, 1, name="x", comment="[batch, height, width, C]")
        batch = g.call_method("size", x, 0, name="batch")
        height = g.call_method("size", x, 1, name="height")
        width = g.call_method("size", x, 2, name="width")
        if table is not None:
            positions = g.call_function(
                "grid_positions", g.getattr(table[0]), height, width, table[1], inline=True
            )
            x = g.call_function("add", x, positions, name="x")
        if kind == "grid":
            x = g.call_module((encoder,), x, name="x")
        elif kind == "blocks":
            comment = f"windows: {windows[1]}; 0 for the whole map"
            x = g.call_module(
                (encoder,), x, each=True, each_paired=("window", windows[0]), comment=comment
            )
        else:  # ordinary layers read the map as a sequence, row by row
            seq = g.call_method("flatten", x, 1, 2, inline=True)
            seq = g.call_module((encoder,), seq, name="x", comment="[batch, height * width, C]")
            x = g.call_method("reshape", seq, batch, height, width, -1, name="x")
        x = g.call_method("permute", x, 0, 3, 1, 2, name="x")
        if neck is not None:
            x = g.call_module((neck,), x, name="x")
        g.output(x, comment="[batch, C, height, width]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns._kit import Example
        from codegen.patterns.blocks._grid_examples import modules as zoo

        torch.manual_seed(0)
        # 24 x 20 pixels in patches of 4: a 6 x 5 map, the table trained for 7 x 7, 2 x 2 windows
        backbone = zoo()["Backbone"](16, 2, 2, 4, 7, 2, windowed=(1,)).eval()
        config = {"hidden_act": "gelu", "window_size": 2, "window_block_indices": [1]}
        return [Example(backbone, (torch.randn(2, 3, 24, 20),), config)]
