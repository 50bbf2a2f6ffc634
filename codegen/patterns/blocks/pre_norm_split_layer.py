"""A Hugging Face split encoder layer that normalises *before* each half (Megatron-BERT): the
attention class holds its own norm and residual, `x + output(self(ln(x), mask))`; the layer
norms again before the feed-forward, `a + output(intermediate(ln(a)))`; the encoder ends with a
norm of its own after the last layer.

`PreNormSplitAttention` (role ResidualAttention), `PreNormSplitLayer` (Block) and `NormedEncoder`
(Encoder: the layers in turn, each given the padding mask, then the final norm).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)

NORM = r"ln|LayerNorm|layer_norm|layernorm|norm"
FINAL_NORM = r"ln|LayerNorm|layer_norm|layernorm|norm|final_layer_norm|ln_f"


def _one(members, ctx: BlockContext, role: str):
    found = [m for m in members if ctx.role(m) == role]
    return found[0] if len(found) == 1 else None


def _example():
    from codegen.patterns.blocks._encoder_examples import example

    return example("megatron_bert")


class PreNormSplitAttention(BlockPattern):
    """`x + output(self(ln(x), mask))`: a split attention with its norm before and residual."""

    role = "ResidualAttention"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        inner, out = _one(members, ctx, "SelfAttention"), _one(members, ctx, "Projection")
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        if inner is None or out is None or norm is None:
            return None
        return Match(self, 3, (inner.attr, norm.attr, out.attr))

    def forward(self, match: Match, g: Graph) -> None:
        inner, norm, out = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        y = g.call_module((inner,), g.call_module((norm,), x, inline=True), mask, inline=True)
        g.output(g.call_function("add", x, g.call_module((out,), y, inline=True)))

    @staticmethod
    def examples():
        return [_example()]


class PreNormSplitLayer(BlockPattern):
    """`a = attention(x, mask)` (its norm and residual inside), `a + output(intermediate(ln(a)))`."""

    role = "Block"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        attn = _one(members, ctx, "ResidualAttention")
        inter, out = _one(members, ctx, "Intermediate"), _one(members, ctx, "Projection")
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        if attn is None or inter is None or out is None or norm is None:
            return None
        return Match(self, 4, (attn.attr, norm.attr, inter.attr, out.attr))

    def forward(self, match: Match, g: Graph) -> None:
        attn, norm, inter, out = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        a = g.call_module((attn,), x, mask, name="x")
        h = g.call_module((inter,), g.call_module((norm,), a, inline=True), inline=True)
        g.output(g.call_function("add", a, g.call_module((out,), h, inline=True)))

    @staticmethod
    def examples():
        return [_example()]


class NormedEncoder(BlockPattern):
    """The layers in turn, each given the padding mask, then the encoder's own final norm."""

    role = "Encoder"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        norm = one_named([m for m in members if family(m) == "norm"], FINAL_NORM)
        rest = [m for m in members if m is not norm]
        found = stack(rest[0]) if norm is not None and len(rest) == 1 else None
        if found is None or ctx.role(found[0]) != "Block" or not ctx.takes(found[0], "mask"):
            return None
        if ctx.takes(found[0], "bias") or ctx.takes(found[0], "sinusoidal"):
            return None  # layers that need more than the mask: another encoder's
        return Match(self, 2, (rest[0].attr, norm.attr))

    def forward(self, match: Match, g: Graph) -> None:
        layers, norm = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        x = g.call_module((layers,), x, mask, each=True)
        g.output(g.call_module((norm,), x))

    @staticmethod
    def examples():
        return [_example()]
