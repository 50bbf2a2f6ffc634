"""T5-style attention: bias-free projections q, k, v, o, scores *not* scaled by 1/sqrt(head_dim),
and an additive bias (relative position buckets + padding) given by the caller.

The first layer's attention owns `relative_attention_bias` ([num_buckets, heads]): the stack
around it turns that table into the bias every layer shares (families/relative_encoder.py), so all
attentions compute the same thing and the table is read once. Heads come from the table's shape
where there is one, else from config.json (`num_heads`); scaling is a choice, unscaled by default.

A class held under a cross-attention name (T5's decoder `EncDecAttention`, which shares its class
with the decoder's self-attention) also takes `memory`, the encoder's output keys and values are
read from, and its bias may be None (no padding in the source).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import HEAD_COUNTS, UNKNOWN_HEADS
from codegen.patterns.blocks.cross_attention import CROSS

TABLE = r"relative_attention_bias"
# Families whose attention is T5's (evidence for the 4-projection classes without a table).
T5_TYPES = ("t5", "mt5", "umt5", "longt5", "switch_transformers", "pop2piano", "udop")
# Families whose encoder owns one bias table for all layers and whose scores *are* scaled by
# 1/sqrt(head_dim) before the bias is added (MPNet): the same four projections, given the bias.
SCALED_BIAS_TYPES = ("mpnet",)
SCALES = ["none", "1/sqrt(head_dim)"]


def _table_of_same_kind(ctx: BlockContext, cls, projections: tuple[str, ...]):
    """The bias table of an attention class with the same projections (T5's first layer)."""
    for other in ctx.classes.values():
        members = modules(other)
        table = one_named(members, TABLE)
        names = {m.attr for m in members if m is not table}
        if other is not cls and table is not None and names == set(projections) and table.io:
            return table
    return None


def held_as_cross(ctx: BlockContext, cls) -> bool:
    """Whether some class holds `cls` under a cross-attention name (it reads the encoder)."""
    return any(
        m.kind == "class" and m.type_name == cls.name and re.fullmatch(CROSS, m.attr, re.I)
        for other in ctx.classes.values()
        for m in modules(other)
    )


class RelativeAttention(BlockPattern):
    role = "RelativeAttention"
    priority = 12  # the same four projections as Attention: T5's table or model_type says which
    synonyms = {"nhead": ("num_heads", "num_attention_heads", "n_head", "n_heads")}

    accepts = Accepts(4, 5, tensors=False, names=("q", "k", "v", "o"), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (4, 5):
            return None
        q, k, v, o = (one_named(members, p) for p in (r"q", r"k", r"v", r"o"))
        table = one_named(members, TABLE)
        if any(m is None or family(m) != "linear" for m in (q, k, v, o)):
            return None
        if len(members) != 4 + (table is not None):
            return None
        if table is not None and (family(table) != "embedding" or table.io is None):
            return None
        model_type = ctx.resolver.evidence("model_type")
        if table is None:  # the first layer's attention holds the table: the heads are its columns
            table = _table_of_same_kind(ctx, cls, (q.attr, k.attr, v.attr, o.attr))
        biased = model_type is not None and model_type[1] in T5_TYPES + SCALED_BIAS_TYPES
        if table is None and not biased:
            return None  # four plain projections: the generic Attention, unless the config says T5
        inner = q.io.out_width if q.io else None
        if table is not None:  # the table's columns are the heads: recorded, not chosen
            nhead = ctx.choose(
                cls, q.attr, "nhead", table.io.out_width, [], "the bias table's columns"
            )
            if nhead.source == "default":
                nhead.source, nhead.note = "metadata", f"{table.attr}.weight.shape[1]"
        else:
            heads = [h for h in HEAD_COUNTS if inner is None or inner % h == 0]
            nhead = ctx.choose(cls, q.attr, "nhead", 8 if 8 in heads else 1, heads)
            if nhead.source == "default":
                return Match(self, len(members), missing=UNKNOWN_HEADS)
        scaled = model_type is not None and model_type[1] in SCALED_BIAS_TYPES
        scale = ctx.choose(
            cls,
            q.attr,
            "scale",
            SCALES[scaled],
            [s for s in SCALES if s != SCALES[scaled]],
            "T5 folds 1/sqrt(head_dim) into its weights; MPNet scales",
        )
        if model_type and scale.source == "default":
            scale.source, scale.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        unscaled = scale.value == "none"
        found = (
            q.attr,
            k.attr,
            v.attr,
            o.attr,
            int(nhead.value),
            unscaled,
            held_as_cross(ctx, cls),
        )
        return Match(self, len(members), found, [nhead, scale])

    def forward(self, match: Match, g: Graph) -> None:
        q_attr, k_attr, v_attr, o_attr, nhead, unscaled, cross = match.found
        x = g.input("x")
        # [1 or batch, heads, seq, seq]: positions and padding, added (cross: padding or None)
        bias = g.input("bias", optional=cross)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        source, length = x, seq
        if cross:
            memory = g.input("memory", optional=True)  # the encoder's output, for cross-attention
            source = g.call_function(
                "memory_or", memory, x, name="source", comment="keys and values come from here"
            )
            length = g.call_method("size", source, 1, name="length")

        def heads(attr: str, value, count, name: str):
            projected = g.call_module((attr,), value, inline=True)
            split = g.call_method("view", projected, batch, count, nhead, -1, inline=True)
            return g.call_method("transpose", split, 1, 2, name=name)

        q = heads(q_attr, x, seq, "q")
        k, v = heads(k_attr, source, length, "k"), heads(v_attr, source, length, "v")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": bias, **({"scale": 1.0} if unscaled else {})},
            name="y",
            comment=f"{nhead} heads" + (", scores not scaled" if unscaled else ""),
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        g.output(g.call_module((o_attr,), y))

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5")]
