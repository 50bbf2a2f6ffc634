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
from codegen.patterns.blocks.attention import FUSED, OUT, QUERY
from codegen.patterns.blocks.fused_kv_cross_attention import KEYS_VALUES
from codegen.patterns.blocks.linear_norm import ROLE as LINEAR_NORM


def offset_tensors(cls) -> tuple[str, str] | None:
    """(the bias parameter's attribute, the index buffer's) of a class holding exactly those two
    tensors: a 2-d float parameter [heads, offsets] and a 2-d integer buffer [queries, keys]."""
    held = tensors(cls)
    table = [t for t in held if t.kind == "parameter" and len(t.shape) == 2]
    index = [t for t in held if t.kind == "buffer" and len(t.shape) == 2 and "int" in t.dtype]
    if len(held) != 2 or len(table) != 1 or len(index) != 1 or "float" not in table[0].dtype:
        return None
    # one bias per offset, and the keys' positions span every offset (|dy|, |dx| each below the
    # side): the table's columns are the index's (Swin's table is [offsets, heads] instead)
    if table[0].shape[1] != index[0].shape[1]:
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


def _subsampling_query(m) -> str | None:
    """The slot's choice path where `m` is a Sequential of a slot without tensors (where LeViT
    keeps its parameter-free `Subsample`) and then one projection; else None."""
    if m is None or m.kind != "sequential" or len(m.children) != 2:
        return None
    slot, projection = m.children
    if slot.kind != "placeholder" or not slot.choices or projection.kind == "placeholder":
        return None
    return slot.choices[0].path


class OffsetBiasedAttention(BlockPattern):
    role = "OffsetBiasedAttention"
    # a bias table and its index buffer beside the projections: no plain attention; below
    # Swin's window attention, whose names say which table it is
    priority = 28

    accepts = Accepts(2, 3, tensors=True, names=(OUT,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        found = offset_tensors(cls)
        if found is None or len(members) not in (2, 3):
            return None
        out = one_named(members, OUT)
        merged = linear_path(ctx, out)
        if merged is None:
            return None
        # The rows (heads) may be a parameter of a class serving several stages: the per-head
        # widths are read when it runs, from the table's rows and the output projection's input.
        if len(members) == 2:
            qkv = one_named(members, FUSED)
            if qkv is None or qkv is out or linear_path(ctx, qkv) is None:
                return None
            return Match(self, len(members) + 3, ((qkv.attr,), out.attr, *found, merged))
        q, kv = one_named(members, QUERY), one_named(members, KEYS_VALUES)
        if q is None or kv is None or len({q.attr, kv.attr, out.attr}) != 3:
            return None
        slot = _subsampling_query(q)
        if slot is None or linear_path(ctx, q) is None or linear_path(ctx, kv) is None:
            return None
        stride = ctx.choose(
            cls,
            q.attr,
            "stride",
            2,
            [1, 3],
            "the queries' positions: every stride-th both ways (LeViT's 2)",
            accepts="positive_int",
        )
        why = "the queries' subsampling, done before them in the attention's forward"
        pins = [(slot, "module_type", "nn.Identity()", why)]
        guessed = "" if stride.source != "default" else STRIDE_GUESS
        found = ((q.attr, kv.attr, stride.value), out.attr, *found, merged)
        return Match(self, len(members) + 4, found, [stride], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        projections, out, table, index, merged = match.found
        x = g.input("x")  # [batch, seq, C]
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        biases = g.getattr((table,), name="biases")
        heads = g.call_method("size", biases, 0, name="heads", comment="the bias table's rows")
        value_dim = g.call_function(
            "floordiv", g.getattr((*merged, "in_features")), heads, name="value_dim"
        )
        fused = projections[0] if len(projections) == 1 else projections[1]
        h = g.call_module((fused,), x, inline=True)
        h = g.call_method("view", h, batch, seq, heads, -1, name="h", comment="each head's")
        per_head = g.call_method("size", h, 3, inline=True)
        if len(projections) == 1:  # queries, keys and values
            left = g.call_function("sub", per_head, value_dim, inline=True)
            key_dim = g.call_function("floordiv", left, 2, name="key_dim")
            widths, names = [key_dim, key_dim, value_dim], "qkv"
        else:  # keys and values; the queries from every stride-th position
            key_dim = g.call_function("sub", per_head, value_dim, name="key_dim")
            widths, names = [key_dim, value_dim], "kv"
        parts = g.call_method("split", h, widths, 3, name="parts")
        heads_first = {
            n: g.call_method(
                "permute", g.call_function("getitem", parts, i, inline=True), 0, 2, 1, 3, name=n
            )
            for i, n in enumerate(names)
        }
        if len(projections) == 3:
            q_attr, _, stride = projections
            small = g.call_function(
                "subsample_tokens",
                x,
                stride,
                name="q",
                comment=f"one position in {stride}, both ways",
            )
            q = g.call_module((q_attr,), small, inline=True)
            q = g.call_method("view", q, batch, -1, heads, key_dim, inline=True)
            heads_first["q"] = g.call_method("transpose", q, 1, 2, name="q")
        bias = g.call_function(
            "getitem",
            biases,
            (Slice(), g.getattr((index,))),
            name="bias",
            comment="[heads, queries, keys]: each pair's offset",
        )
        q, k, v = (heads_first[n] for n in "qkv")
        y = g.call_function(
            "scaled_dot_product_attention", q, k, v, kwargs={"attn_mask": bias}, name="y"
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("flatten", y, 2, name="y", comment="heads merged")
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._offset_attention_examples import modules as zoo

        z = zoo()
        return [
            Example(z["OffsetAttention"](12, 3, 4, 2, 4, norm=False), (torch.randn(2, 16, 12),)),
            Example(z["OffsetAttention"](12, 2, 3, 2, 3, norm=True), (torch.randn(2, 9, 12),)),
            Example(z["SubsampleAttention"](8, 12, 2, 3, 2, 5), (torch.randn(2, 25, 8),)),
        ]


STRIDE_GUESS = (
    "the queries' stride: LeViT's 2 by convention (the index buffer's shape may allow another)"
)
