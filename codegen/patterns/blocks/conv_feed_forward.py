"""FastSpeech's position-wise feed-forward made of convolutions (Ren et al. 2019, ESPnet's
MultiLayeredConv1d, Hugging Face's FastSpeech2Conformer): [batch, frames, d] -> the same, a
Conv1d d -> hidden, the activation, a Conv1d hidden -> d, both with one odd kernel padded to keep
the frames, the frames moved to the last axis around them.

Two Conv1d in a row hold the same keys in a convolutional net over [batch, channels, length],
where no transpose is taken: this reading applies only where every instance sits under a
feed-forward's name (`feed_forward`, `ffn`, `pos_ffn`...) inside a layer over frames.
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
    tensors,
)
from codegen.patterns.blocks.selective_scan import _kernel, conv_pins

# The last name of each instance's key path: a feed-forward sublayer's (FastSpeech2Conformer's
# feed_forward and feed_forward_macaron, ESPnet's feed_forward, FastSpeech's pos_ffn).
FEED_FORWARD_NAME = r"(feed_forward|ffn|ff|pos_ffn|positionwise)(_?\d|_macaron)?"


class ConvFeedForward(BlockPattern):
    role = "MLP"
    priority = 12  # over the width-chaining fallback, which neither transposes nor pads

    accepts = Accepts(2, 2, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        convs = [m for m in members if family(m) == "conv" and m.io is not None]
        if tensors(cls) or len(convs) != 2 or len(members) != 2:
            return None
        if any(m.io.ndim != 1 for m in convs) or not cls.instances:
            return None
        leaves = [path.rsplit(".", 1)[-1] for path, _ in cls.instances]
        if not all(re.fullmatch(FEED_FORWARD_NAME, leaf, re.I) for leaf in leaves):
            return None
        # the first reads the layer's width (the instance's) and widens it, the second goes back
        width = {io.in_width if io is not None else None for _, io in cls.instances}
        first = [m for m in convs if {m.io.in_width} == width and m.io.out_width not in width]
        if len(first) != 1:
            return None
        first = first[0]
        second = next(m for m in convs if m is not first)
        if second.io.in_width != first.io.out_width or second.io.out_width != first.io.in_width:
            return None
        k = _kernel(first)
        if k is None or k % 2 != 1 or _kernel(second) != k:
            return None
        why = "a position-wise conv feed-forward keeps the frames"
        pins = []
        for m in (first, second):
            pins += conv_pins(m, {"stride": 1, "padding": (k - 1) // 2}, why)
        activation = ctx.choose(
            cls,
            first.attr,
            "activation",
            "relu",
            [a for a in act.TRANSFORMER if a != "relu"],
            "between the convs (FastSpeech's ReLU)",
        )
        found = (first.attr, second.attr, activation.value)
        return Match(self, len(members), found, [activation], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        first, second, activation = match.found
        x = g.input("x")  # [batch, frames, d]
        x = g.call_method("transpose", x, 1, 2, inline=True)
        x = act.apply(g, activation, g.call_module((first,), x, inline=True), name="x")
        x = g.call_module((second,), x, inline=True)
        g.output(g.call_method("transpose", x, 1, 2), comment="[batch, frames, d]")

    @staticmethod
    def examples():
        from codegen.patterns.blocks.conformer import espnet_conformer_example

        return [espnet_conformer_example()]
