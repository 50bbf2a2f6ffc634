"""The small wrappers lucidrains' models (denoising-diffusion-pytorch, vit-pytorch) put around a
layer held as `fn`:

    PreNorm:  fn(norm(x))          members `fn` and a norm `norm`
    Rezero:   fn(x) * g            `fn` and a one-element gain `g` (the 2020 diffusion U-Net)

`fn` alone, `fn(x) + x`, is blocks/residual_wrapper.py's (ConvMixer writes it too).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, one_named
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.residual_wrapper import one_input_class

NORMS = ("norm", "RMSNorm")


class PreNorm(BlockPattern):
    role = "PreNorm"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        fn, norm = one_named(members, r"fn"), one_named(members, r"norm")
        if tensors(cls) or len(members) != 2 or None in (fn, norm):
            return None
        if ctx.role(norm) not in NORMS or not one_input_class(fn, ctx):
            return None
        return Match(self, 2, (fn.attr, norm.attr))

    def forward(self, match: Match, g: Graph) -> None:
        fn, norm = match.found
        x = g.input("x")
        g.output(g.call_module((fn,), g.call_module((norm,), x, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()
        return [Example(z["residual_pre_norm"](8, 2, 32, True), z["image"](8, 4))]


class Rezero(BlockPattern):
    role = "Rezero"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, found = modules(cls), tensors(cls)
        fn = one_named(members, r"fn")
        if len(members) != 1 or fn is None or not one_input_class(fn, ctx):
            return None
        if len(found) != 1 or found[0].attr != "g" or tuple(found[0].shape) != (1,):
            return None
        return Match(self, 2, (fn.attr, "g"))

    def forward(self, match: Match, g: Graph) -> None:
        fn, gain = match.found
        x = g.input("x")
        out = g.call_module((fn,), x, inline=True)
        g.output(g.call_function("mul", out, g.getattr((gain,))), comment="a learned gain from 0")

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()
        return [Example(z["residual_rezero"](8, 1, 8, False), z["image"](8, 4))]
