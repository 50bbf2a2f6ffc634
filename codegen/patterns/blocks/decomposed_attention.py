"""Attention over a grid of patches with decomposed relative positions (MViTv2, ViTDet, SAM's
image encoder), and the block and stack around it.

`GridAttention`: one fused `qkv` Linear, an output Linear, and two learned tables `rel_pos_h` /
`rel_pos_w` [2 * size - 1, head_dim], one row per offset between a query's and a key's row (or
column). On x [batch, height, width, channels] (a whole map, or windows of it):

    q, k, v = heads of qkv(x)                          # head_dim: the tables' width, so no choice
    bias = q . rel_h[row offset] + q . rel_w[column offset]   # q unscaled
    y = proj(softmax(q k^T / sqrt(head_dim) + bias) v)

A table of another length than 2 * size - 1 (a window or map size other than the one trained) is
resized linearly first, as the libraries do (helpers `relative_rows`, `decomposed_position_bias`).

`GridBlock`: norm1, a GridAttention, norm2, an MLP, pre-norm residuals, on channels-last maps;
each layer is given its window (0: the whole map): the map is padded to whole windows, cut into
window x window tiles for the attention and put back (helpers `grid_windows`, `grid_merge`).

`GridEncoder`: a class holding only a stack of GridBlocks. Which layers attend within windows is
not in the weights: config.json says it (ViTDet: `window_size` and `window_block_indices`; SAM:
`window_size` and the complement, `global_attn_indexes`). Without that evidence every layer
attends to the whole map, and the forward says it is a guess.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    NHEAD_SYNONYMS,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)
from codegen.patterns.blocks.attention import FUSED, OUT
from codegen.patterns.blocks.encoder_layer import AFTER, BEFORE

ROWS = r"rel_pos_h|relative_position_h|rel_pos_height"
COLS = r"rel_pos_w|relative_position_w|rel_pos_width"
# config.json's words for which layers attend within windows, and what an index there means.
WINDOWED_LAYERS = ("window_block_indices",)
GLOBAL_LAYERS = ("global_attn_indexes", "global_attention_indexes")


class GridAttention(BlockPattern):
    role = "GridAttention"
    priority = 30  # two relative position tables beside the projections: no plain attention

    accepts = Accepts(2, 2, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 2 or len(params) != 2 or any(family(m) != "linear" for m in members):
            return None
        rows, cols = one_named(params, ROWS), one_named(params, COLS)
        qkv, out = one_named(members, FUSED), one_named(members, OUT)
        if rows is None or cols is None or qkv is None or out is None or qkv is out:
            return None
        if len(rows.shape) != 2 or len(cols.shape) != 2:
            return None
        head_dim = rows.shape[1]
        if (
            isinstance(head_dim, int)
            and isinstance(cols.shape[1], int)
            and head_dim != cols.shape[1]
        ):
            return None
        width = qkv.io.in_width if qkv.io is not None else None
        if width and qkv.io.out_width and qkv.io.out_width != 3 * width:
            return None
        if width and isinstance(head_dim, int) and width % head_dim:
            return None
        found = (qkv.attr, out.attr, rows.attr, cols.attr)
        said = ctx.resolver.evidence(*NHEAD_SYNONYMS["nhead"])  # the tables' width tells
        if (
            said is not None
            and width
            and isinstance(head_dim, int)
            and said[1] != width // head_dim
        ):
            heads = f"the heads: the tables say {width // head_dim}, {said[0]} says {said[1]!r}"
            return Match(self, 5, found, missing=heads)
        return Match(self, 5, found)

    def forward(self, match: Match, g: Graph) -> None:
        qkv_attr, out, rows, cols = match.found
        x = g.input("x")  # [batch, height, width, channels]
        batch = g.call_method("size", x, 0, name="batch")
        height = g.call_method("size", x, 1, name="height")
        width = g.call_method("size", x, 2, name="width")
        rows_table, cols_table = g.getattr((rows,)), g.getattr((cols,))
        head_dim = g.call_method(
            "size", rows_table, 1, name="head_dim", comment="the position tables' width"
        )
        seq = g.call_function("mul", height, width, inline=True)
        qkv = g.call_module((qkv_attr,), x, inline=True)
        qkv = g.call_method("reshape", qkv, batch, seq, 3, -1, head_dim, inline=True)
        qkv = g.call_method("permute", qkv, 2, 0, 3, 1, 4, name="qkv")
        q, k, v = (
            g.call_function("getitem", qkv, i, name=n, inline=True) for i, n in enumerate("qkv")
        )
        bias = g.call_function(
            "decomposed_position_bias",
            q,
            rows_table,
            cols_table,
            height,
            width,
            name="bias",
            comment="[batch, heads, seq, seq]: row and column offsets",
        )
        y = g.call_function(
            "scaled_dot_product_attention", q, k, v, kwargs={"attn_mask": bias}, name="y"
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, height, width, -1, name="y")
        g.output(g.call_module((out,), y), comment="[batch, height, width, channels]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._grid_examples import modules as zoo

        # a 5 x 6 map against tables trained for 4 x 4: both tables resized
        return [Example(zoo()["Attention"](16, 2, (4, 4)), (torch.randn(2, 5, 6, 16),))]


class GridBlock(BlockPattern):
    role = "GridBlock"
    priority = 30  # a grid attention beside norms and an MLP: not a ViT layer

    accepts = Accepts(4, 4, tensors=False, families=("norm",), roles=("GridAttention", "MLP"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 4 or len(cls.members) != 4:
            return None
        attention = [m for m in members if ctx.role(m) == "GridAttention"]
        mlp = [m for m in members if ctx.role(m) == "MLP"]
        before = one_named(members, rf"{BEFORE}|layer_norm1")  # SAM's names too
        after = one_named(members, rf"{AFTER}|layer_norm2")
        if len(attention) != 1 or len(mlp) != 1 or before is None or after is None:
            return None
        if family(before) != "norm" or family(after) != "norm":
            return None
        return Match(self, 5, (before.attr, attention[0].attr, after.attr, mlp[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        before, attention, after, mlp = match.found
        x = g.input("x")  # [batch, height, width, channels]
        window = g.input("window", "int")  # 0: the whole map
        height = g.call_method("size", x, 1, name="height")
        width = g.call_method("size", x, 2, name="width")
        h = g.call_module((before,), x, inline=True)
        h = g.call_function(
            "grid_windows", h, window, name="h", comment="[batch * windows, window, window, C]"
        )
        h = g.call_module((attention,), h, name="h")
        h = g.call_function("grid_merge", h, window, height, width, inline=True)
        x = g.call_function("add", x, h, name="x")
        y = g.call_module((mlp,), g.call_module((after,), x, inline=True), inline=True)
        g.output(g.call_function("add", x, y))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._grid_examples import modules as zoo

        gelu = {"hidden_act": "gelu"}  # the MLP's activation is not in the weights
        block = zoo()["Block"](16, 2, (3, 3), 32)
        # a 7 x 5 map in 3 x 3 windows: padded to 9 x 6, cut back
        return [Example(block, (torch.randn(2, 7, 5, 16), 3), gelu)]


def layer_windows(ctx: BlockContext, count: int) -> tuple[tuple[int, ...], str] | None:
    """Each of `count` layers' window (0: the whole map) and where that was read, from
    config.json; None where it says nothing about windows."""
    size = ctx.resolver.evidence("window_size")
    windowed = ctx.resolver.evidence(*WINDOWED_LAYERS)
    global_ = ctx.resolver.evidence(*GLOBAL_LAYERS)
    if size is None and windowed is None and global_ is None:
        return None
    window = size[1] if size is not None else 0
    if type(window) is not int or window < 0:
        return None
    said = windowed or global_
    if said is not None and not (
        isinstance(said[1], (list, tuple)) and all(type(i) is int for i in said[1])
    ):
        return None
    if windowed is not None:
        chosen = tuple(window if i in windowed[1] else 0 for i in range(count))
    elif global_ is not None:
        chosen = tuple(0 if i in global_[1] else window for i in range(count))
    else:
        chosen = (window,) * count
    source = "from " + ", ".join(s[0] for s in (size, said) if s is not None)
    return chosen, source


class GridEncoder(BlockPattern):
    role = "GridEncoder"
    priority = 30

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 1 or len(cls.members) != 1:
            return None
        layers = members[0]
        if layers.kind not in ("modulelist", "repeat", "sequential") or not layers.children:
            return None
        if any(ctx.role(c) != "GridBlock" for c in layers.children):
            return None
        held = stack(layers)
        count = held[1] if held is not None else len(layers.children)
        if not isinstance(count, int):
            return None
        windows = layer_windows(ctx, count)
        if windows is None:
            found = (layers.attr, (0,) * count, "nowhere: every layer attends to the whole map")
            guess = "which layers attend within windows (config.json's window_size and indices)"
            return Match(self, 2, found, guessed=guess)
        return Match(self, 2, (layers.attr, *windows))

    def forward(self, match: Match, g: Graph) -> None:
        layers, windows, source = match.found
        x = g.input("x")  # [batch, height, width, channels]
        comment = f"windows: {source}; 0 for the whole map"
        x = g.call_module(
            (layers,), x, each=True, each_paired=("window", windows), comment=comment, name="x"
        )
        g.output(x)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._grid_examples import modules as zoo

        encoder = zoo()["Encoder"](16, 2, 3, (4, 4), 2, windowed=(0, 2))
        config = {"hidden_act": "gelu", "window_size": 2, "window_block_indices": [0, 2]}
        return [Example(encoder, (torch.randn(2, 4, 5, 16),), config)]
