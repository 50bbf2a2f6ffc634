"""A norm over the channels of a feature map whose only tensor is a gain `g` [1, channels, 1, 1]
(lucidrains' U-Nets): RMSNorm in denoising-diffusion-pytorch 1.x,

    F.normalize(x, dim=1) * g * sqrt(channels)

and, with the same key, the gain-only LayerNorm of its 0.2x releases (mean and variance over the
channels, eps 1e-5). No key tells them apart: the kind is a choice, RMS by default (the current
code), and the class says guessed until calibration or a hint settles it.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors

KINDS = ["rms", "layer"]


def channel_gain(cls) -> bool:
    """Whether the class holds only a parameter `g` shaped [1, channels, 1, 1]."""
    found = tensors(cls)
    if modules(cls) or len(found) != 1 or found[0].attr != "g" or found[0].kind != "parameter":
        return False
    shape = found[0].shape
    return len(shape) == 4 and all(shape[i] == 1 for i in (0, 2, 3))


class ChannelGainNorm(BlockPattern):
    role = "RMSNorm"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if not channel_gain(cls):
            return None
        kind = ctx.choose(cls, "g", "norm_kind", "rms", KINDS[1:], "over the channels")
        guessed = ""
        if kind.source == "default":
            guessed = "a gain-only norm: RMS (lucidrains' RMSNorm) or layer norm, no key says"
        return Match(self, 1, ("g",), [kind], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        gain = g.getattr(("g",))
        if match.choices[0].value == "layer":
            g.output(g.call_function("channel_layer_norm", x, gain, 1e-5))
        else:
            g.output(g.call_function("channel_rms_norm", x, gain))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()
        return [Example(z["rms_norm"](8), z["image"](8))]
