"""Multi-head self-attention over the pixels of a map with learned positions per row and per
column, as the BoTNet reimplementations write it (Srinivas et al. 2021; leaderj1001's
BottleneckTransformers `MHSA`): 1x1-conv queries, keys and values, and two parameters of shapes
[1, heads, head_dim, rows, 1] and [1, heads, head_dim, 1, cols] whose sum is a position code per
pixel, matched against the queries:

    q, k, v = (conv(x).view(batch, heads, head_dim, pixels) for conv in (query, key, value))
    pos = (rows + cols).view(1, heads, head_dim, pixels).transpose(-1, -2)
    attn = softmax(q^T k + pos q, dim=-1)                       # unscaled, as the code has it
    return (v attn^T).view(x.shape)

The two tables' shapes give the heads, the head size and the map's size (one trained size: an
input of another fails on the sum's shape); which table spans the rows is read from where its
1 sits, so names do not matter there. Queries and keys are told apart by name only (the position
term uses the queries): the same names the pixel attentions read.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match, modules
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks.spatial_attention import KEY, QUERY, VALUE
from codegen.patterns.blocks.spatial_attention import _pointwise_conv as _pointwise


def _tables(params) -> tuple | None:
    """(rows table, cols table): 5-D parameters [1, heads, head_dim, rows, 1] and
    [1, heads, head_dim, 1, cols] of the same heads and head size; None otherwise."""
    if len(params) != 2 or any(t.kind != "parameter" or len(t.shape) != 5 for t in params):
        return None
    # (sizes may be symbolic, shared by name: only the literal 1s place the tables)
    rows = [t for t in params if t.shape[4] == 1 and t.shape[3] != 1]
    cols = [t for t in params if t.shape[3] == 1 and t.shape[4] != 1]
    if len(rows) != 1 or len(cols) != 1 or rows[0] is cols[0]:
        return None
    if rows[0].shape[:3] != cols[0].shape[:3] or rows[0].shape[0] != 1:
        return None
    return rows[0], cols[0]


class RelativeContentAttention(BlockPattern):
    role = "RelativeContentAttention"
    priority = 6
    accepts = Accepts(3, 3, names=(QUERY, KEY, VALUE))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        tables = _tables(tensors(cls))
        if tables is None or len(members) != 3:
            return None
        q, k, v = (one_named(members, n) for n in (QUERY, KEY, VALUE))
        if None in (q, k, v) or not all(_pointwise(m) for m in (q, k, v)):
            return None
        width = q.io.in_width
        if any(m.io.in_width != width or m.io.out_width != width for m in (q, k, v)):
            return None
        heads, head_dim = tables[0].shape[1], tables[0].shape[2]
        sizes = (width, heads, head_dim)
        if all(isinstance(s, int) for s in sizes) and heads * head_dim != width:
            return None
        found = (q.attr, k.attr, v.attr, tables[0].attr, tables[1].attr)
        return Match(self, len(members) + 2, found, [])

    def forward(self, match: Match, g: Graph) -> None:
        q_path, k_path, v_path, rows, cols = match.found
        x = g.input("x")
        batch = g.call_method("size", x, 0, name="batch")
        # (read from the tables: instances of one class may differ in heads and sizes)
        heads = g.call_method("size", g.getattr((rows,)), 1, name="heads")
        head_dim = g.call_method("size", g.getattr((rows,)), 2, name="head_dim")
        q, k, v = (
            g.call_method(
                "reshape", g.call_module((p,), x, inline=True), batch, heads, head_dim, -1, name=n
            )
            for p, n in ((q_path, "q"), (k_path, "k"), (v_path, "v"))
        )
        content = g.call_function(
            "matmul", g.call_method("transpose", q, -1, -2, inline=True), k, name="content"
        )
        pos = g.call_function("add", g.getattr((rows,)), g.getattr((cols,)), inline=True)
        pos = g.call_method("reshape", pos, 1, heads, head_dim, -1, inline=True)
        pos = g.call_method(
            "transpose", pos, -1, -2, name="pos", comment="[1, heads, pixels, head_dim]"
        )
        position = g.call_function("matmul", pos, q, name="position")
        scores = g.call_function("add", content, position, inline=True)
        attn = g.call_function("softmax", scores, kwargs={"dim": -1}, name="attn")
        out = g.call_function(
            "matmul", v, g.call_method("transpose", attn, -1, -2, inline=True), name="out"
        )
        shape = g.call_method("shape", x, inline=True)
        g.output(g.call_method("reshape", out, shape, inline=True))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class PositionalSelfAttention(nn.Module):  # other names, a map that is not square
            def __init__(self, dim: int, heads: int, rows: int, cols: int) -> None:
                super().__init__()
                self.heads = heads
                self.q, self.k = nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1)
                self.v = nn.Conv2d(dim, dim, 1)
                self.pos_x = nn.Parameter(torch.randn(1, heads, dim // heads, 1, cols))
                self.pos_y = nn.Parameter(torch.randn(1, heads, dim // heads, rows, 1))

            def forward(self, x):
                b, c, h, w = x.shape
                q, k, v = (
                    f(x).view(b, self.heads, c // self.heads, -1) for f in (self.q, self.k, self.v)
                )
                pos = (self.pos_x + self.pos_y).view(1, self.heads, c // self.heads, -1)
                attn = (q.transpose(-1, -2) @ k + pos.transpose(-1, -2) @ q).softmax(dim=-1)
                return (v @ attn.transpose(-1, -2)).view(b, c, h, w)

        class Holder(nn.Module):  # a generated class is a member of the top one
            def __init__(self) -> None:
                super().__init__()
                self.mixer = PositionalSelfAttention(8, 2, 5, 3)

            def forward(self, x):
                return self.mixer(x)

        torch.manual_seed(0)
        return [Example(Holder().eval(), (torch.randn(2, 8, 5, 3),))]
