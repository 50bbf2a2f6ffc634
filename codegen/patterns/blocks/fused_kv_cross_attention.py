"""A cross-attention whose keys and values come from one projection of the encoder's states, its
queries from another of x (GPT-2's `crossattention` with add_cross_attention: `q_attn` and a
`c_attn` twice as wide; lucidrains-style `to_q` / `to_kv` / `to_out`):

    q = q_proj(x)                                   [batch, seq, heads * head_dim]
    k, v = kv_proj(memory).chunk(2, dim=-1)         [batch, source seq, heads * head_dim] each
    out = out_proj(attention(q, k, v, mask))        mask: which of the states to attend to

Held under a cross-attention name (blocks/_cross_names.py), so `attn(x, mask, memory)` is the
call, as for the other cross-attentions (blocks/encoder_layer.py's cross_attend). Told apart by
widths, not names: the keys-and-values projection is the one twice as wide as the queries', the
output projection reads the queries' width. Heads from config.json (or a hint), scaled
dot product (1 / sqrt(head_dim): GPT-2's scale_attn_weights, the usual dim_head ** -0.5).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import HEAD_COUNTS, OUT, SYNONYMS, UNKNOWN_HEADS, _projection
from codegen.patterns.blocks.attention import score_scale
from codegen.patterns.blocks.split_cross_attention import held_as_cross

QUERIES = r"q_attn|to_q|q_proj|query|q|wq|q_linear"
KEYS_VALUES = r"c_attn|to_kv|kv_proj|kv|wkv|kv_linear|key_value|kv_attn"
OUTPUT = OUT + r"|to_out"


def _out_width(m) -> int | None:
    return m.io.out_width if m.io is not None else None


class FusedKVCrossAttention(BlockPattern):
    role = "Attention"
    priority = 11  # before the generic Attention, which reads c_attn as fused q, k, v
    synonyms = {"nhead": SYNONYMS["nhead"]}

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3 or not held_as_cross(ctx, cls):
            return None
        if not all(_projection(ctx, m) for m in members):
            return None
        widths = {m.attr: _out_width(m) for m in members}
        # the keys and values: the one projection twice as wide as another (the queries')
        doubled = [
            m
            for m in members
            if widths[m.attr] and any(2 * (widths[o.attr] or 0) == widths[m.attr] for o in members)
        ]
        kv = doubled[0] if len(doubled) == 1 else one_named(members, KEYS_VALUES)
        rest = [m for m in members if m is not kv]
        q, out = one_named(rest, QUERIES), one_named(rest, OUTPUT)
        if kv is None or q is None or out is None or q is out:
            return None
        width = widths[q.attr]
        if width is not None and widths[kv.attr] is not None and widths[kv.attr] != 2 * width:
            return None
        heads = [h for h in HEAD_COUNTS if width is None or width % h == 0]
        nhead = ctx.choose(
            cls, q.attr, "nhead", None, heads, "unknown: calibrate or hint", accepts="positive_int"
        )
        if nhead.value is None:
            return Match(self, 3, missing=UNKNOWN_HEADS, choices=[nhead])
        by_layer = ctx.resolver.evidence("scale_attn_by_inverse_layer_idx")
        if by_layer is not None and by_layer[1] is True:
            return Match(self, 3, missing=f"scores scaled per layer ({by_layer[0]} true)")
        scale = score_scale(ctx)  # GPT-2's scale_attn_weights false: scores left unscaled
        found = (q.attr, kv.attr, out.attr, int(nhead.value), scale)
        return Match(self, 3, found, [nhead])

    def forward(self, match: Match, g: Graph) -> None:
        q_attr, kv_attr, out, nhead, scale = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)  # True where attended; None: every state
        memory = g.input("memory", optional=True)  # the encoder's states
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        # (its callers pass the states; x stands in only so that the argument may be None)
        memory = g.call_function(
            "memory_or", memory, x, name="source", comment="keys and values come from here"
        )
        length = g.call_method("size", memory, 1, name="length")

        def heads(value, count, name: str):
            split = g.call_method("view", value, batch, count, nhead, -1, inline=True)
            return g.call_method("transpose", split, 1, 2, name=name)

        q = heads(g.call_module((q_attr,), x, inline=True), seq, "q")
        kv = g.call_module((kv_attr,), memory, name="kv")
        parts = g.call_method("chunk", kv, 2, -1, name="kv", comment="keys, then values")
        k = heads(g.call_function("getitem", parts, 0, inline=True), length, "k")
        v = heads(g.call_function("getitem", parts, 1, inline=True), length, "v")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": mask, **({"scale": scale[0]} if scale else {})},
            name="y",
            comment=f"{nhead} heads" + (f"; scores times {scale[1]}" if scale else ""),
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._cross_decoder_examples import fused_kv_examples

        return fused_kv_examples()
