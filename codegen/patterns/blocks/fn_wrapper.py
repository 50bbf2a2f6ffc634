"""The small wrappers lucidrains' models (denoising-diffusion-pytorch, vit-pytorch) put around a
layer held as `fn`:

    PreNorm:  fn(norm(x))          members `fn` and a norm `norm`
    Rezero:   fn(x) * g            `fn` and a one-element gain `g` (the 2020 diffusion U-Net)

    Residual: fn(x) + x            `fn` alone

Only the names say which: `fn` alone is a residual in these repositories (the sum leaves no key),
so that class says guessed until calibration or a hint settles `residual`.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, one_named
from codegen.patterns._kit import tensors

NORMS = ("norm", "RMSNorm")


def _one_input_class(m, ctx: BlockContext) -> bool:
    """A generated class whose forward takes one tensor and returns one."""
    inner = ctx.classes.get(m.type_name) if m is not None and m.kind == "class" else None
    graph = inner.forward.graph if inner is not None else None
    return graph is not None and len(graph.inputs) == 1 and graph.returns == "torch.Tensor"


class PreNorm(BlockPattern):
    role = "PreNorm"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        fn, norm = one_named(members, r"fn"), one_named(members, r"norm")
        if tensors(cls) or len(members) != 2 or None in (fn, norm):
            return None
        if ctx.role(norm) not in NORMS or not _one_input_class(fn, ctx):
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


class Residual(BlockPattern):
    role = "Residual"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        fn = one_named(members, r"fn")
        if tensors(cls) or len(members) != 1 or fn is None or not _one_input_class(fn, ctx):
            return None
        residual = ctx.choose(cls, "fn", "residual", True, [False], "fn(x) + x")
        guessed = "the residual sum leaves no key" if residual.source == "default" else ""
        return Match(self, 1, (fn.attr,), [residual], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        out = g.call_module(match.found, x, inline=match.choices[0].value)
        g.output(g.call_function("add", out, x) if match.choices[0].value else out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()
        return [Example(z["residual_pre_norm"](8, 1, 16, False), z["image"](8, 4))]


class Rezero(BlockPattern):
    role = "Rezero"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, found = modules(cls), tensors(cls)
        fn = one_named(members, r"fn")
        if len(members) != 1 or fn is None or not _one_input_class(fn, ctx):
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
