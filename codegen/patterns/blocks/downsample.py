"""A downsampler holding one strided conv that keeps the width (diffusers' Downsample2D, a U-Net's
`down`): `conv(x)`, or, where the conv has no padding (diffusers' autoencoders), the input padded
by one pixel on the right and bottom first: `conv(F.pad(x, (0, 1, 0, 1)))`."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match
from codegen.patterns.blocks._conv_parts import arg, lone_conv

NAMES = r"down_?sample(rs?)?|down_?sampling|downsample_?conv"  # latent diffusion: `downsample`


class Downsample(BlockPattern):
    role = "Downsample"
    named = NAMES
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        conv = lone_conv(cls)
        if conv is None:
            return None
        if conv.io.in_width != conv.io.out_width or arg(conv, "stride", 1) == 1:
            return None
        if conv.type_name == "nn.ConvTranspose2d":  # a strided transposed conv grows the map
            return None
        # Libraries pad a downsampler's input two ways (one pixel all round; diffusers'
        # autoencoders and latent diffusion: right and bottom only, the conv padding nothing),
        # and no key shows which: without evidence or a cited convention it is a guess.
        held = list(conv.choices) + [a.choice for a in conv.args if a.choice is not None]
        padding = next((c for c in held if c.name == "padding"), None)
        guessed = ""
        if padding is not None and padding.source == "default":
            guessed = (
                "how a downsampler pads leaves no key (one pixel all round, or right and bottom "
                "only): the conv's padding choice"
            )
        return Match(self, 1, (conv.attr, arg(conv, "padding", 0) == 0), guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        conv, pad = match.found
        x = g.input("x")
        if pad:
            x = g.call_function(
                "pad", x, (0, 1, 0, 1), comment="one pixel right and bottom: the conv has none"
            )
        g.output(g.call_module((conv,), x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [
            Example(z["samplers"](True, 8), z["image"](8), META),
            Example(
                z["samplers"](True, 8, 0), z["image"](8), {**META, "_class_name": "AutoencoderKL"}
            ),
        ]
