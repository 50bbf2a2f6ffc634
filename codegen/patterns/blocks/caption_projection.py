"""A text encoder's states projected to the model's width before cross-attention (diffusers'
PixArtAlphaTextProjection, `caption_projection`): `linear_2(act(linear_1(text)))`, the activation
the tanh-approximated GELU it is built with (a choice)."""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import one_named, tensors


class CaptionProjection(BlockPattern):
    role = "CaptionProjection"
    named = r"caption_projection|text_projection|context_embedder"
    priority = 6  # over TimeEmbedding, the same two layers under another name

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        first, second = one_named(members, r"linear_1"), one_named(members, r"linear_2")
        if (
            tensors(cls)
            or len(members) != 2
            or None in (first, second)
            or not re.fullmatch(self.named, cls.named)
        ):
            return None
        if family(first) != "linear" or family(second) != "linear":
            return None
        if first.io.out_width != second.io.in_width:
            return None
        activation = ctx.choose(
            cls,
            first.attr,
            "activation",
            "gelu_tanh",
            act.alternatives("gelu_tanh"),
            "between the two",
        )
        return Match(self, 2, (first.attr, second.attr), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        first, second = match.found
        h = g.call_module((first,), g.input("text"), name="h", inline=True)
        h = act.apply(g, match.choices[0].value, h, name="h", inline=True)
        g.output(g.call_module((second,), h))

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.pixart_example()]
