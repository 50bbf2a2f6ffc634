"""A Hugging Face split encoder layer that normalises *before* each half (Megatron-BERT,
XLM-R XL, RoBERTa-PreLayerNorm, ESM): the attention class holds its own norm and residual,
`x + output(self(ln(x), mask))`; the feed-forward is normalised first, by a norm in the layer
(`a + output(intermediate(ln(a)))`) or inside `intermediate` itself (`act(dense(ln(a)))`); the
stack ends with a norm of its own after the last layer (in the encoder, or in the model).

Where the norms sit decides the layout, whatever they are called: a post-norm layer (BERT) keeps
its norms inside `output`, after the residual add (`AddNorm`); a norm *beside* the attention's
inner and output classes, whose output class is a bare projection, can only come before them, as
the residual is then added by the holder. The names vary across families (`LayerNorm`,
`self_attn_layer_norm`, `ln`), so none is required.

`PreNormSplitAttention` (role ResidualAttention), `PreNormSplitLayer` (Block) and `NormedEncoder`
(Encoder: the layers in turn, each given the padding mask, then the final norm).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns.blocks._cross_names import CROSS
from codegen.patterns.blocks.encoder_layer import MEMORY, MEMORY_MASK, cross_attend
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    stack,
    tensors,
)

# A norm named as coming before the layers (an embeddings norm kept in the encoder) is not final.
BEFORE_STACK = r"(pre|before|emb(eddings?)?_?(ln|norm|layer_?norm)$)"


def _lone_norm(members):
    """The one norm among `members`, whatever its name; None for none or two."""
    norms = [m for m in members if family(m) == "norm"]
    return norms[0] if len(norms) == 1 else None


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

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        inner, out = _one(members, ctx, "SelfAttention"), _one(members, ctx, "Projection")
        norm = _lone_norm(members)
        if inner is None or out is None or norm is None:
            return None
        # an inner attention that also reads an encoder's states (a cross-attention's, shared)
        crossing = ctx.takes(inner, MEMORY)
        return Match(self, 3, (inner.attr, norm.attr, out.attr, crossing))

    def forward(self, match: Match, g: Graph) -> None:
        inner, norm, out, crossing = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        memory = (g.input(MEMORY, optional=True),) if crossing else ()  # keys and values, if given
        normed = g.call_module((norm,), x, inline=True)
        y = g.call_module((inner,), normed, mask, *memory, inline=True)
        g.output(g.call_function("add", x, g.call_module((out,), y, inline=True)))

    @staticmethod
    def examples():
        return [_example()]


class PreNormSplitLayer(BlockPattern):
    """`a = attention(x, mask)` (its norm and residual inside), `a + output(intermediate(ln(a)))`;
    the norm is the layer's, or the intermediate's own (then the layer holds none)."""

    role = "Block"
    priority = 5
    accepts = Accepts(3, 5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        # a cross-attention after the self-attention, by its name (Megatron-BERT, XLM-R XL as
        # decoders with add_cross_attention): run where the encoder's states are given
        cross = [
            m
            for m in members
            if ctx.role(m) == "ResidualAttention"
            and re.fullmatch(CROSS, m.attr, re.IGNORECASE)
            and ctx.takes(m, MEMORY)
        ]
        if len(cross) > 1:
            return None
        members = [m for m in members if m not in cross]
        if tensors(cls) or len(members) not in (3, 4):
            return None
        attn = _one(members, ctx, "ResidualAttention")
        out = _one(members, ctx, "Projection")
        inter = _one(members, ctx, "Intermediate")
        normed = _one(members, ctx, "NormedIntermediate")
        norm = _lone_norm(members)
        if attn is None or out is None or (inter is None) == (normed is None):
            return None
        if (norm is None) != (inter is None) or len(members) != 3 + (norm is not None):
            return None  # exactly one norm before the feed-forward
        found = (attn.attr, norm.attr if norm else None, (inter or normed).attr, out.attr)
        found += (cross[0].attr if cross else None,)
        return Match(self, len(members) + len(cross), found)

    def forward(self, match: Match, g: Graph) -> None:
        attn, norm, inter, out, cross = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        a = g.call_module((attn,), x, mask, name="x")
        if cross is not None:
            memory = g.input(MEMORY, optional=True)
            a = cross_attend(g, cross, a, memory, g.input(MEMORY_MASK, optional=True))
        normed = g.call_module((norm,), a, inline=True) if norm is not None else a
        h = g.call_module((inter,), normed, inline=True)
        g.output(g.call_function("add", a, g.call_module((out,), h, inline=True)))

    @staticmethod
    def examples():
        return [_example()]


class NormedEncoder(BlockPattern):
    """The layers in turn, each given the padding mask, then the encoder's own final norm."""

    role = "Encoder"
    priority = 5

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        norm = _lone_norm(members)  # after the last layer, whatever its name (ESM's
        rest = [m for m in members if m is not norm]  # emb_layer_norm_after)
        if norm is not None and re.search(BEFORE_STACK, norm.attr, re.IGNORECASE):
            return None
        found = stack(rest[0]) if norm is not None and len(rest) == 1 else None
        if found is None or ctx.role(found[0]) != "Block" or not ctx.takes(found[0], "mask"):
            return None
        if ctx.takes(found[0], "bias") or ctx.takes(found[0], "sinusoidal"):
            return None  # layers that need more than the mask: another encoder's
        return Match(self, 2, (rest[0].attr, norm.attr, ctx.takes(found[0], MEMORY)))

    def forward(self, match: Match, g: Graph) -> None:
        layers, norm, crossing = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        states = (
            (g.input(MEMORY, optional=True), g.input(MEMORY_MASK, optional=True))
            if crossing
            else ()
        )
        x = g.call_module((layers,), x, mask, *states, each=True)
        g.output(g.call_module((norm,), x))

    @staticmethod
    def examples():
        return [_example()]
