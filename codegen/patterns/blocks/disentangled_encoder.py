"""The encoder of a disentangled-attention stack (DeBERTa, DeBERTa-v2/v3): the layers in turn, each
given the relative position embeddings the encoder owns (`rel_embeddings`, normalised first where
it holds a norm beside them: config.json's norm_rel_ebd "layer_norm") and a query-and-key mask.

DeBERTa's conventions for padding, which change the padding tokens' own outputs (and so the last
hidden state a user compares), are kept here where the mask is: the embeddings of padding tokens
are zeroed (its embeddings multiply by the mask), and a padding query attends evenly to every key.
Without relative attention (no table) the same holds; the layers then take no table.

DeBERTa-v2's optional `conv` (config.json conv_kernel_size > 0; `ConvMix`): after the first layer,
a 1-D convolution of the encoder's input over the sequence, padding zeroed, an activation
(conv_act), added to that layer's output and normalised, padding zeroed again.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.encoder_layer import RELATIVE_TABLE

TABLE = r"rel_embeddings|relative_embeddings|rel_pos_embeddings"
NORM = r"LayerNorm|layer_norm|rel_norm|norm"
ATTENTION = "DisentangledAttention"


def holds_disentangled(ctx: BlockContext, type_name: str, depth: int = 0) -> bool:
    """Whether a generated class, or one inside it, computes disentangled attention."""
    cls = ctx.classes.get(type_name)
    if cls is None or depth > 6:
        return False
    if cls.forward is not None and cls.forward.pattern == ATTENTION:
        return True
    found = []
    for m in modules(cls):
        items = m.children if m.kind in ("sequential", "modulelist", "repeat") else [m]
        found += [c.type_name for c in items if c.kind == "class"]
    return any(holds_disentangled(ctx, name, depth + 1) for name in dict.fromkeys(found))


class ConvMix(BlockPattern):
    """`zero(norm(x + act(zero(conv(h)))))`: h the encoder's input, x the first layer's output."""

    role = "ConvMix"
    named = r"conv"
    priority = 12
    synonyms = {"conv_act": ("conv_act",)}

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2 or not re.fullmatch(self.named, cls.named or "-"):
            return None
        conv = one_named([m for m in members if family(m) == "conv"], r"conv")
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        if conv is None or norm is None or conv.io is None or conv.io.ndim != 1:
            return None
        kernel = conv_kernel(conv)
        kernel = kernel[0] if isinstance(kernel, tuple) else kernel
        if not isinstance(kernel, int) or kernel % 2 == 0:
            return None  # an even kernel pads (k - 1) // 2, which the conv's padding does not say
        activation = ctx.choose(
            cls,
            conv.attr,
            "conv_act",
            "tanh",
            [a for a in act.TRANSFORMER if a != "tanh"],
            "the activation after the convolution",
            aliases=act.ALIASES,
        )
        ctx.resolver.evidence("conv_kernel_size", "conv_groups")  # the weight's shape shows them
        ctx.resolver.evidence("conv_groups")
        return Match(self, 2, (conv.attr, norm.attr, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm, activation = match.found
        h, x, mask = g.input("h"), g.input("x"), g.input("mask", optional=True)
        y = g.call_method("transpose", h, 1, 2, inline=True)
        y = g.call_method("transpose", g.call_module((conv,), y, inline=True), 1, 2, name="y")
        y = g.call_function("zero_masked", y, mask, name="y", comment="over the sequence")
        y = act.apply(g, activation, y, inline=True)
        y = g.call_module((norm,), g.call_function("add", x, y, inline=True), inline=True)
        g.output(g.call_function("zero_masked", y, mask))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("deberta_v2_conv")]


class DisentangledEncoder(BlockPattern):
    role = "Encoder"
    priority = 12  # before the plain encoder, which would keep BERT's padding conventions

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        stacks = [(m, stack(m)) for m in members if stack(m) is not None]
        if len(stacks) != 1:
            return None
        holder, (layer, _) = stacks[0]
        if ctx.role(layer) != "Block" or not ctx.takes(layer, "mask"):
            return None
        if layer.kind != "class" or not holds_disentangled(ctx, layer.type_name):
            return None
        table = one_named([m for m in members if family(m) == "embedding"], TABLE)
        norm = one_named([m for m in members if family(m) == "norm"], NORM)
        conv = [m for m in members if ctx.role(m) == "ConvMix"]
        if len(members) != 1 + (table is not None) + (norm is not None) + len(conv):
            return None
        if (table is not None) != ctx.takes(layer, RELATIVE_TABLE):
            return None  # a table the layers do not read, or layers that need one
        if norm is not None and table is None:
            return None
        said = ctx.resolver.evidence("norm_rel_ebd")
        if said is not None:
            normed = isinstance(said[1], str) and "layer_norm" in said[1].lower().split("|")
            if normed != (norm is not None):
                return None  # config.json says otherwise than the keys show
        count = stack(holder)[1]
        if conv and (len(conv) > 1 or not isinstance(count, int)):
            return None
        found = (holder.attr, table.attr if table else None, norm.attr if norm else None)
        found += (conv[0].attr if conv else None, count)
        return Match(self, len(members), found)

    def forward(self, match: Match, g: Graph) -> None:
        layers, table, norm, conv, count = match.found
        x, padding = g.input("x"), g.input("mask", optional=True)
        x = g.call_function(
            "zero_masked", x, padding, name="x", comment="padding tokens' embeddings zeroed"
        )
        mask = g.call_function(
            "query_key_mask",
            padding,
            name="allowed",
            comment="[batch, 1, seq, seq]: padding queries too",
        )
        if table is None and conv is None:
            g.output(g.call_module((layers,), x, mask, each=True))
            return
        note = "[2 * span, d_model]"
        rel = None
        if table is None:
            pass
        elif norm is None:
            rel = g.getattr((table, "weight"), inline=False, name="rel_embeddings", comment=note)
        else:
            rel = g.call_module(
                (norm,), g.getattr((table, "weight")), name="rel_embeddings", comment=note
            )
        side = (rel,) if rel is not None else ()
        if conv is None:
            g.output(g.call_module((layers,), x, mask, *side, each=True))
            return
        h = x  # the first layer's output is mixed with a convolution of its input
        for i in range(count):
            x = g.call_module((layers, str(i)), x, mask, *side, name="x" if i else "first")
            if i == 0:
                x = g.call_module((conv,), h, x, padding, name="x")
        g.output(x)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("deberta_v2"), example("deberta_v2_conv")]
