"""Attention whose scores take a learned bias per head and per offset between two positions of
the map (LeViT's and EfficientFormer's `attention_biases` [heads, offsets], gathered through an
integer buffer `attention_bias_idxs` [queries, keys] of each pair's offset), its queries, keys
and values from one projection, each head's channels side by side (keys as wide as the queries,
values wider):

    qkv = qkv(x).view(batch, seq, heads, -1)                      # x [batch, seq, C]
    q, k, v = qkv.split([key_dim, key_dim, value_dim], dim=3)      # each head's own
    scores = q k^T / sqrt(key_dim) + biases[:, idxs]              # [batch, heads, seq, seq]
    return proj(softmax(scores) v)                                # heads merged: heads * value_dim

The tensors are told by their shapes and kinds, not their names: a 2-d parameter whose rows are
the heads and a 2-d integer buffer of the map's pairs. The heads are the parameter's rows; the
value width per head is the output projection's input over the heads, the key width what is left
of the fused projection's, halved: read as it runs, since one class may serve stages of other
heads (LeViT's). Either projection may be a class (LeViT's Linear + BatchNorm,
blocks/linear_norm.py) or a Sequential opening with one after parameter-free slots.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import FUSED, OUT
from codegen.patterns.blocks.linear_norm import ROLE as LINEAR_NORM


def offset_tensors(cls) -> tuple[str, str] | None:
    """(the bias parameter's attribute, the index buffer's) of a class holding exactly those two
    tensors: a 2-d float parameter and a 2-d integer buffer; else None."""
    held = tensors(cls)
    table = [t for t in held if t.kind == "parameter" and len(t.shape) == 2]
    index = [t for t in held if t.kind == "buffer" and len(t.shape) == 2 and "int" in t.dtype]
    if len(held) != 2 or len(table) != 1 or len(index) != 1 or "float" not in table[0].dtype:
        return None
    return table[0].attr, index[0].attr


def linear_path(ctx: BlockContext, m, depth: int = 3) -> tuple[str, ...] | None:
    """The path from `m` to the Linear it opens with: `m` itself, a LinearNorm's Linear, or that of
    a Sequential's first item with tensors (after parameter-free slots); else None."""
    if m is None or depth == 0:
        return None
    if m.kind == "builtin":
        return (m.attr,) if family(m) == "linear" else None
    if m.kind == "class" and ctx.role(m) == LINEAR_NORM:
        held = ctx.classes.get(m.type_name)
        found = [c for c in modules(held) if family(c) == "linear"] if held else []
        return (m.attr, found[0].attr) if len(found) == 1 else None
    if m.kind == "sequential":
        items = [c for c in m.children if c.kind != "placeholder" and c.io is not None]
        inner = linear_path(ctx, items[0], depth - 1) if items else None
        return (m.attr, *inner) if inner is not None else None
    return None


def widths(m) -> tuple[int, int] | None:
    """(in, out) widths of a projection member: a Linear, a class or a Sequential of them."""
    if m is None or m.io is None or m.io.in_width is None or m.io.out_width is None:
        return None
    return m.io.in_width, m.io.out_width


class OffsetBiasedAttention(BlockPattern):
    role = "OffsetBiasedAttention"
    priority = 30  # a bias table and its index buffer beside the projections: no plain attention

    accepts = Accepts(2, 2, tensors=True, names=(FUSED, OUT))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        found = offset_tensors(cls)
        if found is None or len(members) != 2:
            return None
        qkv, out = one_named(members, FUSED), one_named(members, OUT)
        if qkv is None or out is None or qkv is out or widths(qkv) is None:
            return None
        # The rows (heads) may be a parameter of a class serving several stages: the per-head
        # widths are read when it runs, from the table's rows and the output projection's input.
        merged = linear_path(ctx, out)
        if merged is None or linear_path(ctx, qkv) is None:
            return None
        return Match(self, len(members) + 3, (qkv.attr, out.attr, *found, merged))

    def forward(self, match: Match, g: Graph) -> None:
        qkv, out, table, index, merged = match.found
        x = g.input("x")  # [batch, seq, C]
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        biases = g.getattr((table,), name="biases")
        heads = g.call_method("size", biases, 0, name="heads", comment="the bias table's rows")
        h = g.call_module((qkv,), x, inline=True)
        h = g.call_method("view", h, batch, seq, heads, -1, name="qkv", comment="each head's")
        value_dim = g.call_function(
            "floordiv", g.getattr((*merged, "in_features")), heads, name="value_dim"
        )
        per_head = g.call_method("size", h, 3, inline=True)
        key_dim = g.call_function(
            "floordiv", g.call_function("sub", per_head, value_dim, inline=True), 2, name="key_dim"
        )
        parts = g.call_method("split", h, [key_dim, key_dim, value_dim], 3, name="qkv")
        q, k, v = (
            g.call_method(
                "permute", g.call_function("getitem", parts, i, inline=True), 0, 2, 1, 3, name=n
            )
            for i, n in enumerate("qkv")
        )
        bias = g.call_function(
            "getitem",
            biases,
            (Slice(), g.getattr((index,))),
            name="bias",
            comment="[heads, seq, seq]: each pair's offset",
        )
        y = g.call_function(
            "scaled_dot_product_attention", q, k, v, kwargs={"attn_mask": bias}, name="y"
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._offset_attention_examples import modules as zoo

        z = zoo()
        return [
            Example(z["OffsetAttention"](12, 3, 4, 2, 4, norm=False), (torch.randn(2, 16, 12),)),
            Example(z["OffsetAttention"](12, 2, 3, 2, 3, norm=True), (torch.randn(2, 9, 12),)),
        ]
