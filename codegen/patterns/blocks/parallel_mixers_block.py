"""A layer whose attention and state-space mixer run side by side on one normed input (Falcon-H1,
arXiv 2507.22448), their outputs summed into the residual, then a pre-norm feed-forward:

    h = norm1(x)
    x = x + mixer(h) * ssm_out + attn(h * attn_in) * attn_out
    x = x + mlp(norm2(x))

Recognised from its members: one Attention, one sequence mixer (a scan, a short conv...), one
feed-forward and two norms, the first named as an attention's input norm. The three factors are
config.json's (Falcon-H1's attention_in_multiplier, attention_out_multiplier, ssm_out_multiplier;
1 where it is silent), each cited.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    apply_norm,
    family,
    modules,
    norm_scale,
    one_named,
    tensors,
)
from codegen.patterns.blocks.selective_scan import SEQUENCE_MIXERS
from codegen.patterns.blocks.transformer_block import FEED_FORWARD_ROLES, FIRST_NORM, SECOND_NORM

# config.json's factors: on the attention's input, on its output, on the mixer's output
FACTORS = ("attention_in_multiplier", "attention_out_multiplier", "ssm_out_multiplier")


class ParallelMixersBlock(BlockPattern):
    role = "Block"
    priority = 10

    accepts = Accepts(5, 5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 5:
            return None
        attn = [m for m in members if ctx.role(m) == "Attention"]
        mixer = [m for m in members if ctx.role(m) in SEQUENCE_MIXERS]
        mlp = [m for m in members if ctx.role(m) in FEED_FORWARD_ROLES]
        norms = [m for m in members if family(m) == "norm"]
        if len(attn) != 1 or len(mixer) != 1 or len(mlp) != 1 or len(norms) != 2:
            return None
        first, second = one_named(norms, FIRST_NORM), one_named(norms, SECOND_NORM)
        if first is None or second is None or first is second:
            return None
        factors = []
        for key in FACTORS:
            said = ctx.resolver.evidence(key)
            value = said[1] if said is not None else 1.0
            if type(value) not in (int, float):
                return None
            factors.append(None if value == 1 else float(value))
        choices, offset = norm_scale(ctx, cls, first)
        found = (
            (attn[0].attr, mixer[0].attr, mlp[0].attr, first.attr, second.attr),
            tuple(factors),
            offset,
            ctx.takes(attn[0], "mask"),
            ctx.takes(mixer[0], "mask"),
        )
        return Match(self, len(members), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        (attn, mixer, mlp, first, second), factors, offset, attn_masked, mixer_masked = match.found
        attn_in, attn_out, mixer_out = factors
        x = g.input("x")
        mask = g.input("mask", optional=True) if attn_masked or mixer_masked else None

        def times(value, factor, **options):
            if factor is None:
                return value
            return g.call_function("mul", value, factor, **options)

        h = apply_norm(g, (first,), x, offset, name="h")
        m = g.call_module((mixer,), h, *((mask,) if mixer_masked else ()), inline=True)
        m = times(m, mixer_out, inline=True)
        a = times(h, attn_in, inline=True)
        a = g.call_module((attn,), a, *((mask,) if attn_masked else ()), inline=True)
        a = times(a, attn_out, inline=True)
        both = g.call_function("add", m, a, inline=True)
        x = g.call_function("add", x, both, name="x", comment="the two mixers side by side")
        f = g.call_module((mlp,), apply_norm(g, (second,), x, offset, inline=True), inline=True)
        g.output(g.call_function("add", x, f))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._recurrence_examples import parallel_example

        return [parallel_example()]
