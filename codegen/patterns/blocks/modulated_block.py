"""A transformer block modulated by a conditioning vector (adaLN-Zero, DiT; adaLN-single, PixArt):
diffusers' BasicTransformerBlock with norm_type "ada_norm_zero" or "ada_norm_single".

Six vectors per sample, [batch, 6, d_model]: shift, scale and gate for the attention, then for the
feed-forward. adaLN-Zero computes them in the block (`norm1`, an AdaptiveModulation of the
timestep and class); adaLN-single receives them from the model and adds the block's own
`scale_shift_table` [6, d_model]. The norms hold no parameters:

    shift1, scale1, gate1, shift2, scale2, gate2 = modulation
    x = x + gate1 * attn1(modulate(layer_norm(x), shift1, scale1))
    x = x + attn2(x, context)                      # PixArt: cross-attention, its input not normed
    return x + gate2 * ff(modulate(layer_norm(x), shift2, scale2))

The norms' eps are choices: diffusers' AdaLayerNormZero fixes 1e-6 for its own; the others
follow config.json's norm_eps.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    free_layer_norm,
    modules,
)
from codegen.patterns._kit import one_named, tensors

EPS = [1e-5, 1e-6]


def norm_eps(ctx: BlockContext, cls, where: str, fixed: float | None):
    """The eps of a parameter-free LayerNorm: `fixed` where the library's class fixes it, else
    config.json's norm_eps, else 1e-5 (diffusers' default)."""
    told = ctx.resolver.evidence("norm_eps")
    default = fixed if fixed is not None else (told[1] if told else 1e-5)
    c = ctx.choose(
        cls,
        where,
        f"{where}_eps",
        default,
        [e for e in EPS if e != default],
        "of the parameter-free layer norm",
        accepts="unit_float",
    )
    if c.source == "default" and fixed is not None:
        c.source, c.note = "structure", "diffusers' AdaLayerNormZero fixes it"
    elif c.source == "default" and told is not None:
        c.source, c.note = "metadata", told[0]
    return c


class ModulatedTransformerBlock(BlockPattern):
    role = "ModulatedTransformerBlock"
    priority = 7
    accepts = Accepts(names=("attn1", "ff"), roles=("ContextAttention", "FeedForward"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        attn1, attn2 = one_named(members, r"attn1"), one_named(members, r"attn2")
        ff, norm1 = one_named(members, r"ff"), one_named(members, r"norm1")
        table = [t for t in tensors(cls) if t.attr == "scale_shift_table"]
        used = [m for m in (attn1, attn2, ff, norm1) if m is not None]
        if None in (attn1, ff) or len(used) != len(members) or len(table) != len(tensors(cls)):
            return None
        if (norm1 is None) == (not table):  # exactly one source of the modulation
            return None
        if any(ctx.role(a) != "ContextAttention" for a in (attn1, attn2) if a is not None):
            return None
        if ctx.role(ff) != "FeedForward":
            return None
        if norm1 is not None:
            if ctx.role(norm1) != "AdaptiveModulation" or norm1.io is None:
                return None
            if norm1.io.out_width is not None and norm1.io.out_width % 6:
                return None
        elif len(table[0].shape) != 2 or table[0].shape[0] != 6:
            return None
        if norm1 is not None and attn2 is not None:
            return None  # adaLN-Zero with cross-attention norms it first (norm2): not seen here
        eps1 = norm_eps(ctx, cls, "attention_norm", 1e-6 if norm1 is not None else None)
        eps2 = norm_eps(ctx, cls, "ff_norm", None)
        labels = norm1 is not None and ctx.takes(norm1, "class_labels")
        found = dict(
            attn1=attn1.attr,
            attn2=attn2.attr if attn2 is not None else None,
            ff=ff.attr,
            norm1=norm1.attr if norm1 is not None else None,
            labels=labels,
        )
        return Match(self, len(members) + len(table), found, [eps1, eps2])

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        eps1, eps2 = (c.value for c in match.choices)
        x = g.input("x")
        batch = g.call_method("size", x, 0, inline=True)
        context = g.input("context") if f["attn2"] else None
        if f["norm1"] is not None:  # adaLN-Zero: the block computes its modulation
            inputs = [g.input("timestep")] + ([g.input("class_labels")] if f["labels"] else [])
            m = g.call_module((f["norm1"],), *inputs, inline=True)
            m = g.call_method("reshape", m, batch, 6, -1, name="m", comment="[batch, 6, d_model]")
        else:  # adaLN-single: the model's modulation plus the block's own table
            m = g.call_method("reshape", g.input("modulation"), batch, 6, -1, inline=True)
            table = g.getattr(("scale_shift_table",))
            m = g.call_function("add", table, m, name="m", comment="[batch, 6, d_model]")
        parts = g.call_method("chunk", m, 6, kwargs={"dim": 1}, name="parts")
        shift1, scale1, gate1, shift2, scale2, gate2 = (
            g.call_function("getitem", parts, i, inline=True) for i in range(6)
        )
        h = free_layer_norm(g, x, eps1, inline=True)
        h = g.call_function("modulate", h, shift1, scale1, name="h")
        h = g.call_module((f["attn1"],), h, inline=True)
        x = g.call_function("add", x, g.call_function("mul", gate1, h, inline=True), name="x")
        if f["attn2"] is not None:
            h = g.call_module((f["attn2"],), x, context, inline=True)
            x = g.call_function("add", x, h, name="x")
        h = free_layer_norm(g, x, eps2, inline=True)
        h = g.call_function("modulate", h, shift2, scale2, name="h")
        h = g.call_module((f["ff"],), h, inline=True)
        g.output(g.call_function("add", x, g.call_function("mul", gate2, h, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example(), z.pixart_example()]
