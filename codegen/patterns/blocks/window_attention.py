"""Window attention with a relative position bias (Swin): multi-head self-attention inside each
window x window tile of an image, scores scaled by 1/sqrt(head_dim) and biased by a learned table
with one row per (row, column) offset between two positions of a window.

`relative_position_bias_table` is [(2 * window - 1) ** 2, heads]: its rows give the window (an odd
square), its columns the heads, so neither is chosen. The rows each pair of positions reads are a
pure function of the window (`relative_position_index`): read from the checkpoint where it carries
that buffer, else recomputed in the file. Queries, keys and values come from three layers (Hugging
Face: `query`, `key`, `value`) or one fused `qkv` (the official code and timm: q, k, v each a third,
head after head). The output projection is in the class (`proj`, timm) or in a sibling class that
`WindowAttentionOutput` (role ProjectedWindowAttention) adds (Hugging Face's `attention.self` / `attention.output.dense`).

Forward: x [batch * windows, window * window, channels] and the shifted windows' mask
([windows, n, n], or None) -> [batch * windows, window * window, channels].
"""

from __future__ import annotations

import math
import re

from codegen.ir import ClassDef, Tensor
from codegen.ir.graph import Graph
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
from codegen.patterns.blocks.attention import FUSED, KEY, OUT, QUERY, VALUE

TABLE = "relative_position_bias_table"
INDEX = "relative_position_index"


def table_window(cls: ClassDef, ctx: BlockContext, depth: int = 3) -> int | None:
    """The window of the relative position table in `cls` or a class it holds (depth levels down):
    w where the table has (2w - 1) ** 2 rows; None where there is none, or no single such w."""
    for t in tensors(cls):
        if t.attr == TABLE and len(t.shape) == 2 and isinstance(t.shape[0], int):
            span = math.isqrt(t.shape[0])
            if span * span == t.shape[0] and span % 2 == 1:
                return (span + 1) // 2
            return None
    if depth == 0:
        return None
    for m in modules(cls):
        inner = ctx.classes.get(m.type_name) if m.kind == "class" else None
        found = table_window(inner, ctx, depth - 1) if inner is not None else None
        if found is not None:
            return found
    return None


class WindowAttention(BlockPattern):
    role = "WindowAttention"
    priority = 30  # a relative position table beside the projections: no plain attention

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        by_attr = {t.attr: t for t in tensors(cls)}
        table, index = by_attr.get(TABLE), by_attr.get(INDEX)
        # transformers 5 in memory: the table in a class of its own (`relative_position_bias`)
        held = [m for m in members if ctx.role(m) == "WindowPositionBias"]
        if len(held) == 1 and not by_attr:
            members = [m for m in members if m is not held[0]]
        elif held or table is None or table.kind != "parameter" or set(by_attr) - {TABLE, INDEX}:
            return None
        if any(family(m) != "linear" for m in members):
            return None
        fused = one_named(members, FUSED)
        if fused is not None:
            projections: tuple = (fused.attr,)
        else:
            q, k, v = (one_named(members, p) for p in (QUERY, KEY, VALUE))
            if q is None or k is None or v is None:
                return None
            projections = (q.attr, k.attr, v.attr)
        rest = [m for m in members if m.attr not in projections]
        out = one_named(rest, OUT) if len(rest) == 1 else None
        if len(rest) > 1 or (rest and out is None):
            return None
        explains = len(members) + len(by_attr) + len(held) + 1
        window = table_window(cls, ctx, depth=1 if held else 0)
        if window is None:
            return Match(
                self, explains, missing=f"a {TABLE} whose rows are not (2 * window - 1) ** 2"
            )
        config = ctx.resolver.evidence("window_size")
        if config is not None and config[1] != window:
            return Match(
                self,
                explains,
                missing=f"the window: {TABLE} says {window}, {config[0]} says {config[1]!r}",
            )
        bias = held[0].attr if held else (TABLE, INDEX if index is not None else None)
        found = (projections, out.attr if out else None, window, bias)
        return Match(self, explains, found)

    def forward(self, match: Match, g: Graph) -> None:
        projections, out, window, bias_from = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        if isinstance(bias_from, str):  # the class holding the table gives the bias
            bias = g.call_module((bias_from,), name="bias", comment=f"{window}x{window} windows")
            heads = g.call_method("size", bias, 1, name="heads")
        else:
            table = g.getattr((TABLE,))
            heads = g.call_method("size", table, 1, name="heads", comment="the table's columns")
        if len(projections) == 1:
            qkv = g.call_module(projections, x, inline=True)
            qkv = g.call_method("view", qkv, batch, seq, 3, heads, -1, inline=True)
            qkv = g.call_method("permute", qkv, 2, 0, 3, 1, 4, name="qkv")
            q, k, v = (
                g.call_function("getitem", qkv, i, name=n, inline=True) for i, n in enumerate("qkv")
            )
        else:

            def split(attr: str, name: str):
                y = g.call_method(
                    "view",
                    g.call_module((attr,), x, inline=True),
                    batch,
                    seq,
                    heads,
                    -1,
                    inline=True,
                )
                return g.call_method("transpose", y, 1, 2, name=name)

            q, k, v = (split(a, n) for a, n in zip(projections, "qkv"))
        if not isinstance(bias_from, str):
            bias = position_bias(g, window, bias_from[1] is not None)
        bias = g.call_function("window_attention_bias", bias, mask, batch, name="bias")
        y = g.call_function(
            "scaled_dot_product_attention", q, k, v, kwargs={"attn_mask": bias}, name="y"
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        g.output(g.call_module((out,), y) if out else y)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._swin_examples import modules as zoo

        attn = zoo()["WindowAttention"](16, 2, 4)
        return [Example(attn, (torch.randn(6, 16, 16),))]


def position_bias(g: Graph, window: int, has_index: bool):
    """bias [1, heads, window^2, window^2] from the class's table (and index, where it has it)."""
    return g.call_function(
        "window_position_bias",
        g.getattr((TABLE,)),
        window,
        g.getattr((INDEX,)) if has_index else None,
        name="bias",
        comment=f"{window}x{window} windows: the table has {(2 * window - 1) ** 2} rows",
    )


class WindowPositionBias(BlockPattern):
    """A class holding only the table (transformers 5's `relative_position_bias`, as it is in
    memory): `forward()` gives the bias, [1, heads, window^2, window^2]."""

    role = "WindowPositionBias"
    priority = 30

    accepts = Accepts(0, 0)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        by_attr = {t.attr: t for t in tensors(cls)}
        if modules(cls) or TABLE not in by_attr or set(by_attr) - {TABLE, INDEX}:
            return None
        window = table_window(cls, ctx, depth=0)
        if window is None:
            return None
        return Match(self, len(by_attr) + 1, (window, INDEX in by_attr))

    def forward(self, match: Match, g: Graph) -> None:
        g.output(position_bias(g, *match.found))

    def example_inputs(self, match: Match, cls) -> list:
        return []

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import transformers_layout

        return [transformers_layout(in_memory=True)]


class WindowAttentionOutput(BlockPattern):
    """`output(self(x, mask))`: the window attention in one class, its projection in another."""

    role = "ProjectedWindowAttention"
    priority = 30

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        inner = [m for m in members if ctx.role(m) == "WindowAttention"]
        out = [m for m in members if ctx.role(m) == "Projection"]
        if len(inner) != 1 or len(out) != 1:
            return None
        inner_cls = ctx.classes.get(inner[0].type_name)
        if inner_cls is None or not re.fullmatch(
            r"self|attn|attention", inner[0].attr, re.IGNORECASE
        ):
            return None
        return Match(self, 3, (inner[0].attr, out[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        inner, out = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        g.output(g.call_module((out,), g.call_module((inner,), x, mask, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._swin_examples import transformers_layout

        return [transformers_layout()]
