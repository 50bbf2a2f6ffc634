"""A transformer layer kept as a list of sublayers, each `x + f(norm(x))` with its own norm (T5's
`block.N.layer.0` attention and `layer.1` feed-forward).

`SelfAttentionLayer`: a norm and a RelativeAttention, which takes the shared bias;
`CrossAttentionLayer`: a norm and a RelativeAttention held under a cross-attention name
(`EncDecAttention`), which reads the encoder's output `memory` under its padding mask;
`FeedForwardLayer`: a norm and an MLP. Pre-norm by default (T5); `residual` is a choice.
`SublayerBlock`: the list applied in order, the bias given to the attention sublayer;
`DecoderSublayerBlock`: a decoder's list (self-attention, cross-attention, feed-forward).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns.blocks.cross_attention import CROSS
from codegen.patterns.blocks.relative_attention import SCALED_BIAS_TYPES, T5_TYPES
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)


def as_module_list(m) -> None:
    """Items called with more than the running value (a bias) are not a Sequential, whose own
    forward passes one value (TorchScript compiles it): hold them in an nn.ModuleList."""
    if m.kind == "sequential":
        m.kind, m.type_name = "modulelist", "nn.ModuleList"


class _Sublayer(BlockPattern):
    inner_role = ""
    takes_bias = False
    cross = False  # the inner attention reads the encoder's output
    priority = 8  # a norm beside an attention/MLP: more than width chaining sees

    accepts = Accepts(2, 2, tensors=False, families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        inner = [m for m in members if ctx.role(m) == self.inner_role]
        norm = [m for m in members if family(m) == "norm"]
        if len(inner) != 1 or len(norm) != 1:
            return None
        if bool(re.fullmatch(CROSS, inner[0].attr, re.IGNORECASE)) != self.cross:
            return None  # T5's EncDecAttention reads the encoder's output: not self-attention
        model_type = ctx.resolver.evidence("model_type")
        post = model_type is not None and model_type[1] in SCALED_BIAS_TYPES  # MPNet: post-norm
        residual = ctx.choose(
            cls,
            norm[0].attr,
            "residual",
            "post" if post else "pre",
            ["pre" if post else "post"],
            "x + f(norm(x)), or norm(x + f(x))",
        )
        known = T5_TYPES + SCALED_BIAS_TYPES
        if model_type and model_type[1] in known and residual.source == "default":
            residual.source, residual.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        found = (inner[0].attr, norm[0].attr, residual.value)
        return Match(self, 2, found, [residual])

    def forward(self, match: Match, g: Graph) -> None:
        inner, norm, residual = match.found
        x = g.input("x")
        extra = (g.input("bias"),) if self.takes_bias else ()
        if self.cross:  # the encoder's output, and its padding mask (None: no padding)
            memory = g.input("memory")
            extra = (g.input("memory_mask", optional=True), memory)
        if residual == "post":
            y = g.call_module((inner,), x, *extra, inline=True)
            g.output(g.call_module((norm,), g.call_function("add", x, y, inline=True)))
            return
        y = g.call_module((inner,), g.call_module((norm,), x, inline=True), *extra, inline=True)
        g.output(g.call_function("add", x, y))

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5")]


class SelfAttentionLayer(_Sublayer):
    role = "SelfAttentionLayer"
    inner_role = "RelativeAttention"
    takes_bias = True


class CrossAttentionLayer(_Sublayer):
    role = "CrossAttentionLayer"
    inner_role = "RelativeAttention"
    cross = True

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5_model")]


class FeedForwardLayer(_Sublayer):
    role = "FeedForwardLayer"
    inner_role = "MLP"


class SublayerBlock(BlockPattern):
    """`x = layer[0](x, bias)`, `x = layer[1](x)`: attention then feed-forward."""

    role = "Block"
    priority = 8
    roles = ["SelfAttentionLayer", "FeedForwardLayer"]

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind not in ("sequential", "modulelist"):
            return None
        items = members[0].children
        if [ctx.role(m) for m in items] != self.roles:
            return None
        as_module_list(members[0])
        return Match(self, 1, (members[0].attr, [m.attr for m in items]))

    def forward(self, match: Match, g: Graph) -> None:
        container, layers = match.found
        x, bias = g.input("x"), g.input("bias")
        x = g.call_module((container, layers[0]), x, bias)
        if len(layers) == 3:  # the decoder's: cross-attention over the encoder's output
            memory = g.input("memory")  # [batch, source seq, d_model]
            memory_mask = g.input("memory_mask", optional=True)  # [batch, 1, 1, source seq]
            x = g.call_module((container, layers[1]), x, memory, memory_mask)
        g.output(g.call_module((container, layers[-1]), x))

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5")]


class DecoderSublayerBlock(SublayerBlock):
    """`layer[0](x, bias)`, `layer[1](x, memory, memory_mask)`, `layer[2](x)`: T5's decoder block."""

    role = "DecoderBlock"
    roles = ["SelfAttentionLayer", "CrossAttentionLayer", "FeedForwardLayer"]

    @staticmethod
    def examples():
        from codegen.patterns.families._seq2seq_examples import example

        return [example("t5_model")]
