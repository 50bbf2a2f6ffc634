"""An autoencoder's decoder (diffusers' Decoder in AutoencoderKL): conv_in from the latent, the
middle block, the up stages in turn, then group norm, activation and conv_out to the image."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match
from codegen.patterns.blocks._unet_parts import coder


class Decoder(BlockPattern):
    role = "ConvDecoder"
    priority = 6
    synonyms = act.SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = coder(cls, ctx, r"up_blocks|up")
        if found is None:
            return None
        activation = ctx.choose(
            cls, found[3], "activation", "silu", act.alternatives("silu"), "before conv_out"
        )
        return Match(self, 4 + (found[2] is not None), found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv_in, stages, mid, norm, conv_out = match.found
        x = g.call_module((conv_in,), g.input("z"), name="x")
        if mid is not None:
            x = g.call_module((mid,), x, name="x")
        for path in stages:
            x = g.call_module(path, x, name="x")
        x = g.call_module((norm,), x, name="x", inline=True)
        x = act.apply(g, match.choices[0].value, x, name="x", inline=True)
        g.output(g.call_module((conv_out,), x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import VAE_META, modules as zoo

        z = zoo()
        return [Example(z["holder"](z["vae"]().decoder), z["image"](2, 4), VAE_META)]
