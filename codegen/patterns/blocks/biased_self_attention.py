"""Queries, keys and values with a learned relative position bias added to the scores, the bias
module beside the projections (BEiT's `attention.attention`: query, key without bias, value,
relative_position_bias): the heads' merged outputs, before the output projection that sits in a
sibling class (a Hugging Face split attention). Heads are the bias table's columns.
"""

from __future__ import annotations

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
from codegen.patterns.blocks.attention import KEY, QUERY, VALUE


def _example():
    from codegen.patterns.blocks._encoder_examples import example

    return example("beit_relative")


class BiasedSelfAttention(BlockPattern):
    role = "SelfAttention"
    priority = 12
    synonyms = {"nhead": ("num_attention_heads", "num_heads")}

    accepts = Accepts(
        4,
        4,
        tensors=False,
        names=(QUERY, KEY, VALUE),
        families=("linear",),
        roles=("RelativePositionBias",),
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        qkv = [one_named(members, p) for p in (QUERY, KEY, VALUE)]
        bias = [m for m in members if ctx.role(m) == "RelativePositionBias"]
        if any(m is None or family(m) != "linear" for m in qkv) or len(bias) != 1:
            return None
        table = tensors(ctx.classes[bias[0].type_name])[0]
        heads = int(table.shape[1])
        nhead = ctx.choose(cls, qkv[0].attr, "nhead", heads, [], "the bias table's columns")
        if nhead.source == "default":
            nhead.source, nhead.note = "metadata", f"{table.attr}.shape[1]"
        if nhead.value != heads:
            return None
        return Match(self, 4, ([m.attr for m in qkv], bias[0].attr, heads), [nhead])

    def forward(self, match: Match, g: Graph) -> None:
        (q_attr, k_attr, v_attr), bias_attr, nhead = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")

        def heads(attr: str, name: str):
            split = g.call_method(
                "view", g.call_module((attr,), x, inline=True), batch, seq, nhead, -1, inline=True
            )
            return g.call_method("transpose", split, 1, 2, name=name)

        q, k, v = heads(q_attr, "q"), heads(k_attr, "k"), heads(v_attr, "v")
        bias = g.call_module((bias_attr,), name="bias", comment="[1, heads, seq, seq]")
        bias = g.call_function("masked_bias", bias, mask, name="bias")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": bias},
            name="y",
            comment=f"{nhead} heads, every position sees all, positions by the bias",
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        g.output(g.call_method("reshape", y, batch, seq, -1))

    @staticmethod
    def examples():
        return [_example()]
