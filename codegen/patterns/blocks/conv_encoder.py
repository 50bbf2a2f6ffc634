"""An autoencoder's encoder (diffusers' Encoder in AutoencoderKL): conv_in, the down stages in
turn, the middle block, then group norm, activation and conv_out to the latent moments."""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules
from codegen.patterns.blocks._unet_parts import NORM_OUT, coder, coder_accepts


def group_pins(cls) -> list:
    """norm_out, read as a layer norm by default (its keys cannot tell), normalises the feature
    map conv_out reads: a group norm, as in every resnet block (of a coder or a U-Net)."""
    norm = next((m for m in modules(cls) if re.fullmatch(NORM_OUT, m.attr)), None)
    guess = next((c for c in norm.choices if c.name == "module_type"), None) if norm else None
    if guess is None or guess.source != "default" or norm.type_name == "nn.GroupNorm":
        return []
    why = "the norm before conv_out of a conv encoder or decoder normalises a feature map"
    return [(guess.path, "module_type", "nn.GroupNorm", why)]


class Encoder(BlockPattern):
    role = "ConvEncoder"
    priority = 6
    synonyms = act.SYNONYMS
    stages = r"down_blocks|down"  # the decoder (conv_decoder.py) reads up stages from a latent z,
    takes = "x"  # with the middle block first
    middle_first = False
    accepts = coder_accepts(stages)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = coder(cls, ctx, self.stages)
        if found is None:
            return None
        activation = ctx.choose(
            cls,
            found[3],
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "before conv_out",
        )
        act.fixed_by_class(ctx.resolver, activation, self.role)
        return Match(self, 4 + (found[2] is not None), found, [activation], pins=group_pins(cls))

    def forward(self, match: Match, g: Graph) -> None:
        conv_in, stages, mid, norm, conv_out = match.found
        x = g.call_module((conv_in,), g.input(self.takes), name="x")
        order = [(mid,)] if mid is not None else []
        order = order + list(stages) if self.middle_first else list(stages) + order
        for path in order:
            x = g.call_module(path, x, name="x")
        x = g.call_module((norm,), x, name="x", inline=True)
        x = act.apply(g, match.choices[0].value, x, name="x", inline=True)
        g.output(g.call_module((conv_out,), x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import VAE_META, modules as zoo

        z = zoo()
        return [Example(z["holder"](z["vae"]().encoder), z["image"](3, 16), VAE_META)]
