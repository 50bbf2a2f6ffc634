"""Attention pooling of a sequence into one vector (diffusers' AttentionPooling, in the text
conditioning of a U-Net: addition_embed_type "text"): the mean of the tokens plus a learned
position is the one query, and it attends over itself and the tokens:

    token = x.mean(1, keepdim=True) + positional_embedding           # [batch, 1, d]
    seq = cat([token, x], 1)
    return attention(q_proj(token), k_proj(seq), v_proj(seq)).flatten()   # [batch, d]

The head count leaves no tensor: config.json's addition_embed_type_num_heads, else a choice.
"""

from __future__ import annotations

from codegen.ir import Ref
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named, tensors


class AttentionPooling(BlockPattern):
    role = "AttentionPooling"
    priority = 6
    synonyms = {"pool_heads": ("addition_embed_type_num_heads",)}
    accepts = Accepts(
        3, 3, tensors=True, names=("q_proj", "k_proj", "v_proj"), families=("linear",)
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        q, k, v = (one_named(members, n) for n in (r"q_proj", r"k_proj", r"v_proj"))
        if None in (q, k, v) or len(members) != 3 or len(params) != 1:
            return None
        position = params[0]
        if any(family(m) != "linear" for m in (q, k, v)):
            return None
        width = q.io.in_width
        if any(m.io.in_width != width or m.io.out_width != width for m in (q, k, v)):
            return None
        # [1, d]: d as a number, or the constructor parameter the projections' width is
        sizes = [a.value for a in q.args if isinstance(a.value, (int, Ref))]
        if len(position.shape) != 2 or position.shape[0] != 1:
            return None
        if position.shape[1] != width and position.shape[1] not in sizes:
            return None
        divisors = [h for h in range(1, width + 1) if width % h == 0]
        heads = ctx.choose(
            cls, q.attr, "pool_heads", 1, divisors, "one head", accepts="positive_int"
        )
        if not isinstance(heads.value, int) or width % heads.value:
            return None
        return Match(self, 4, (q.attr, k.attr, v.attr, position.attr, width), [heads])

    def forward(self, match: Match, g: Graph) -> None:
        q_path, k_path, v_path, position, width = match.found
        heads = match.choices[0].value
        x = g.input("x")
        batch = g.call_method("size", x, 0, name="batch")
        token = g.call_method("mean", x, 1, kwargs={"keepdim": True}, inline=True)
        token = g.call_function("add", token, g.getattr((position,)), name="token")
        seq = g.call_function("cat", [token, x], kwargs={"dim": 1}, name="seq")
        projected = []
        for path, name, s in ((q_path, "q", token), (k_path, "k", seq), (v_path, "v", seq)):
            h = g.call_module((path,), s, name=name, inline=True)
            h = g.call_method(
                "reshape", h, batch, -1, heads, width // heads, name=name, inline=True
            )
            projected.append(g.call_method("transpose", h, 1, 2, name=name))
        a = g.call_function("scaled_dot_product_attention", *projected, name="out")
        a = g.call_method("transpose", a, 1, 2, name="out", inline=True)
        g.output(g.call_method("reshape", a, batch, -1), comment="[batch, d]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._generative_examples import modules as zoo

        z = zoo()
        torch.manual_seed(1)
        block = z["holder"](z["attention_pooling"](16, 4))
        return [Example(block, (torch.randn(2, 5, 16),), {"addition_embed_type_num_heads": 4})]
