"""A pre-norm transformer layer whose residual stream is scaled by a learned vector before each
branch is added (Doge's `input_residual` and `post_attention_residual`):

    x = input_residual * x + attn(norm1(x))
    x = post_attention_residual * x + mlp(norm2(x))

Recognised by an attention, a feed-forward, two norms named as a transformer block's (first and
second, transformer_block.py) and two 1-D tensors named for the residual they scale.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    apply_norm,
    family,
    modules,
    norm_scale,
    one_named,
    tensors,
)
from codegen.patterns.blocks.transformer_block import FEED_FORWARD_ROLES, FIRST_NORM, SECOND_NORM

FIRST_SCALE = r"input_residual|attn_residual|attention_residual|residual_scale_?1|res_scale_?1"
SECOND_SCALE = r"post_attention_residual|mlp_residual|ffn_residual|residual_scale_?2|res_scale_?2"


class ScaledResidualBlock(BlockPattern):
    role = "Block"
    priority = 10

    accepts = Accepts(4, 4, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 4 or len(params) != 2 or any(len(t.shape) != 1 for t in params):
            return None
        attn = [m for m in members if ctx.role(m) == "Attention"]
        mlp = [m for m in members if ctx.role(m) in FEED_FORWARD_ROLES]
        norms = [m for m in members if family(m) == "norm"]
        first, second = one_named(norms, FIRST_NORM), one_named(norms, SECOND_NORM)
        scales = one_named(params, FIRST_SCALE), one_named(params, SECOND_SCALE)
        if len(attn) != 1 or len(mlp) != 1 or first is None or second is None or first is second:
            return None
        if None in scales or scales[0] is scales[1]:
            return None
        choices, offset = norm_scale(ctx, cls, first)
        masked = ctx.takes(attn[0], "mask")
        found = (attn[0].attr, mlp[0].attr, first.attr, second.attr)
        found += (scales[0].attr, scales[1].attr, offset, masked)
        return Match(self, len(members) + len(params), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        attn, mlp, first, second, scale1, scale2, offset, masked = match.found
        x = g.input("x")
        mask = (g.input("mask", optional=True),) if masked else ()
        h = apply_norm(g, (first,), x, offset, inline=True)
        kept = g.call_function("mul", g.getattr((scale1,)), x, inline=True)
        a = g.call_module((attn,), h, *mask, inline=True)
        x = g.call_function("add", kept, a, comment="the residual scaled before the add")
        h = apply_norm(g, (second,), x, offset, inline=True)
        kept = g.call_function("mul", g.getattr((scale2,)), x, inline=True)
        g.output(g.call_function("add", kept, g.call_module((mlp,), h, inline=True)))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.families._examples import modules as zoo

        m = zoo()

        class Layer(nn.Module):
            def __init__(self, d: int = 16) -> None:
                super().__init__()
                self.input_layernorm = nn.LayerNorm(d)
                self.self_attn = m["attention"](d)
                self.input_residual = nn.Parameter(torch.randn(d))
                self.post_attention_layernorm = nn.LayerNorm(d)
                self.mlp = m["mlp"](d)
                self.post_attention_residual = nn.Parameter(torch.randn(d))

            def forward(self, x):
                x = self.input_residual * x + self.self_attn(self.input_layernorm(x))
                h = self.mlp(self.post_attention_layernorm(x))
                return self.post_attention_residual * x + h

        config = {"n_head": 2, "hidden_act": "gelu"}
        return [Example(m["holder"](Layer()), (torch.randn(2, 5, 16),), config)]
