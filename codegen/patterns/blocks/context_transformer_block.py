"""diffusers' BasicTransformerBlock: pre-norm residual sublayers over a sequence of pixels, the
self-attention, the cross-attention on `context` (a text encoder's states) where there is one,
and the feed-forward:

    x = attn1(norm1(x)) + x;  x = attn2(norm2(x), context) + x;  return ff(norm3(x)) + x
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import one_named, tensors


class ContextTransformerBlock(BlockPattern):
    role = "ContextTransformerBlock"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        names = ("norm1", "attn1", "norm2", "attn2", "norm3", "ff")
        norm1, attn1, norm2, attn2, norm3, ff = (one_named(members, n) for n in names)
        used = [m for m in (norm1, attn1, norm2, attn2, norm3, ff) if m is not None]
        if tensors(cls) or None in (norm1, attn1, norm3, ff) or len(used) != len(members):
            return None
        if (attn2 is None) != (norm2 is None):
            return None
        norms = [m for m in (norm1, norm2, norm3) if m is not None]
        if any(n.type_name != "nn.LayerNorm" for n in norms):
            return None
        attentions = [m for m in (attn1, attn2) if m is not None]
        if any(ctx.role(a) != "ContextAttention" for a in attentions):
            return None
        if ctx.role(ff) != "FeedForward":
            return None
        steps = [(norm1.attr, attn1.attr, False)]
        if attn2 is not None:
            steps.append((norm2.attr, attn2.attr, True))
        return Match(self, len(members), (steps, norm3.attr, ff.attr))

    def forward(self, match: Match, g: Graph) -> None:
        steps, norm3, ff = match.found
        x = g.input("x")
        context = g.input("context") if any(c for _, _, c in steps) else None
        for norm, attn, cross in steps:
            h = g.call_module((norm,), x, inline=True)
            h = (
                g.call_module((attn,), h, context, inline=True)
                if cross
                else g.call_module((attn,), h, inline=True)
            )
            x = g.call_function("add", h, x, name="x")
        h = g.call_module((norm3,), x, inline=True)
        h = g.call_module((ff,), h, inline=True)
        g.output(g.call_function("add", h, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._transformer_examples import modules as zoo

        z = zoo()
        return [Example(z["block"](16, 4, 24), z["tokens"](16, 24), {"num_attention_heads": 4})]
