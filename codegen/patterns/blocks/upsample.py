"""An upsampler holding one conv that keeps the width (diffusers' Upsample2D, a U-Net's `up`):
the map is doubled by nearest-neighbour interpolation, then convolved. The interpolation leaves no
tensors: it is a choice."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match
from codegen.patterns.blocks._conv_parts import arg, conv_kernel, lone_conv

NAMES = r"up_?sample(rs?)?|up_?sampling|upsample_?conv"  # latent diffusion: `upsample`


class Upsample(BlockPattern):
    role = "Upsample"
    named = NAMES
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        conv = lone_conv(cls)
        if conv is None:
            return None
        if conv.type_name != "nn.Conv2d" or arg(conv, "stride", 1) != 1:
            return None
        if conv_kernel(conv) in (1, (1, 1)):
            return None  # a lone 1x1 conv is a head's (timm's `head.fc`), not a smoothing 3x3
        mode = ctx.choose(
            cls, conv.attr, "interpolation", "nearest", ["bilinear"], "doubling before the conv"
        )
        return Match(self, 1, conv.attr, [mode])

    def forward(self, match: Match, g: Graph) -> None:
        x = g.call_function(
            "interpolate",
            g.input("x"),
            kwargs={"scale_factor": 2.0, "mode": match.choices[0].value},
            comment="twice the height and width",
        )
        g.output(g.call_module((match.found,), x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [Example(z["samplers"](False, 8), z["image"](8), META)]
