"""A pre-norm Hugging Face split layer whose two residual branches are scaled per channel by
learned vectors before they are added (layer scale: BEiT's lambda_1 / lambda_2, Data2Vec-vision):
`x + lambda_1 * attention(before(x))`, then `x + lambda_2 * output(intermediate(after(x)))`, or
with one MLP class (InternVL's vision layers) `x + lambda_2 * mlp(after(x))`.
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
    tensors,
)
from codegen.patterns.blocks.encoder_layer import AFTER, BEFORE

SCALES = (r"lambda_1|gamma_1|ls1|layer_scale1", r"lambda_2|gamma_2|ls2|layer_scale2")


def _one(members, pattern: str):
    found = [m for m in members if re.fullmatch(pattern, m.attr, re.IGNORECASE)]
    return found[0] if len(found) == 1 else None


class LayerScaleSplitLayer(BlockPattern):
    role = "Block"
    priority = 6

    accepts = Accepts(4, 5, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) not in (4, 5) or len(params) != 2:
            return None
        scales = [_one(params, p) for p in SCALES]
        if any(s is None or len(s.shape) != 1 for s in scales):
            return None
        roles = {m.attr: ctx.role(m) for m in members}
        attn = [m.attr for m in members if roles[m.attr] == "Attention"]
        inter = [m.attr for m in members if roles[m.attr] == "Intermediate"]
        out = [m.attr for m in members if roles[m.attr] == "Projection"]
        norms = [m for m in members if family(m) == "norm"]
        before, after = _one(norms, BEFORE), _one(norms, AFTER)
        # the feed-forward: Hugging Face's intermediate / output pair, or one MLP (InternVL)
        mlp = [m.attr for m in members if roles[m.attr] == "MLP"]
        feed = (inter[0], out[0]) if len(inter) == len(out) == 1 else tuple(mlp)
        if len(attn) != 1 or len(feed) != len(members) - 3 or not before or not after:
            return None
        found = (attn[0], feed, before.attr, after.attr, [s.attr for s in scales])
        return Match(self, len(members) + 2, found)

    def forward(self, match: Match, g: Graph) -> None:
        attn, feed, before, after, (scale1, scale2) = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        a = g.call_module((attn,), g.call_module((before,), x, inline=True), mask, inline=True)
        x = g.call_function("add", x, g.call_function("mul", g.getattr((scale1,)), a, inline=True))
        h = g.call_module((after,), x, inline=True)
        for attr in feed:
            h = g.call_module((attr,), h, inline=True)
        g.output(
            g.call_function("add", x, g.call_function("mul", g.getattr((scale2,)), h, inline=True))
        )

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("beit"), example("beit_relative")]
