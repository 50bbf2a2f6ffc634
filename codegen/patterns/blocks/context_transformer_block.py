"""diffusers' BasicTransformerBlock: pre-norm residual sublayers over a sequence of pixels, the
self-attention, the cross-attention on `context` (a text encoder's states) where there is one,
and the feed-forward:

    x = attn1(norm1(x)) + x;  x = attn2(norm2(x), context) + x;  return ff(norm3(x)) + x
"""

from __future__ import annotations

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


def _first_reads_context(ctx: BlockContext, cls, attn1, width) -> tuple[str, str]:
    """The key projection by whose width attn1 may attend to `context` too (diffusers'
    only_cross_attention), or "", and why that is a guess where it is one. Keys of another width than the block's must come from the context,
    and the forward tells so per instance from the key projection's width (one class serves the
    blocks that do and the middle one that does not). Where a block's width is the context's,
    that rule says self-attention: a guess when anything says some block only cross-attends."""
    told = ctx.resolver.evidence("only_cross_attention")
    attn_cls = ctx.classes.get(attn1.type_name)
    key = one_named(modules(attn_cls), r"to_k") if attn_cls is not None else None
    key_width = key.io.in_width if key is not None and key.io is not None else None
    values = told[1] if told is not None and isinstance(told[1], list) else [told and told[1]]
    said = any(v is True for v in values)
    shown = key_width not in (None, width)
    if not said and not shown:
        return "", ""
    if key is None:
        return "", f"attn1 may attend to the context instead ({told[0]} is set)"
    context_width = ctx.resolver.evidence("cross_attention_dim")
    context_width = context_width[1] if context_width else key_width if shown else None
    widths = {io.in_width for _, io in cls.instances if io is not None} or {width}
    if not isinstance(context_width, int) or context_width in widths:
        why = f"{told[0]} is set" if said else "another block's attn1 does"
        return key.attr, f"attn1 of a block as wide as the context may attend to it ({why})"
    return key.attr, ""


class ContextTransformerBlock(BlockPattern):
    role = "ContextTransformerBlock"
    priority = 6

    accepts = Accepts(tensors=False, names=("norm1", "attn1", "norm3", "ff"))

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
        first_reads, guessed = _first_reads_context(ctx, cls, attn1, norm1.io.in_width)
        steps = [(norm1.attr, attn1.attr, ("by width", first_reads) if first_reads else False)]
        if attn2 is not None:
            steps.append((norm2.attr, attn2.attr, True))
        return Match(self, len(members), (steps, norm3.attr, ff.attr), guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        steps, norm3, ff = match.found
        x = g.input("x")
        context = g.input("context") if any(c for _, _, c in steps) else None
        for norm, attn, cross in steps:
            h = g.call_module((norm,), x, inline=True)
            if isinstance(cross, tuple):  # attends to the context where the widths say so
                key = g.getattr((attn, cross[1], "weight"))
                source = g.call_function("keys_source", key, h, context, name="source")
                h = g.call_module((attn,), h, source, inline=True)
                x = g.call_function("add", h, x, name="x")
                continue
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
