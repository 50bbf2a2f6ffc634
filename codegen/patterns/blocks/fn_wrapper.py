"""The small wrappers lucidrains' models (denoising-diffusion-pytorch, vit-pytorch) put around a
layer held as `fn`:

    PreNorm:  fn(norm(x))          members `fn` and a norm `norm`
    Rezero:   fn(x) * g            `fn` and a one-element gain `g` (the 2020 diffusion U-Net)

`fn` alone, `fn(x) + x`, is blocks/residual_wrapper.py's (ConvMixer writes it too).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.residual_wrapper import one_input_class

NORMS = ("norm", "RMSNorm")
# A wrapped function that attends among a map's pixels through 1x1 convs reads [batch, channels,
# height, width]: a LayerNorm over the last axis cannot precede it.
MAP_READERS = ("Attention",)
MAP_WHY = "the annotated DDPM's PreNorm: nn.GroupNorm(1, dim) before a pixel attention"


def _map_norm_pins(ctx: BlockContext, fn, norm) -> tuple[list, str]:
    """A built-in norm with a scale and a shift (C,) before a function of feature maps (its first
    layer a conv): the keys cannot say which channels-first norm it is. GroupNorm(1, C) (the
    annotated DDPM's PreNorm) by convention, a choice; the class says guessed."""
    held = ctx.classes.get(fn.type_name) if fn.kind == "class" else None
    if norm.kind != "builtin" or held is None or ctx.role(fn) not in MAP_READERS:
        return [], ""
    if not any(family(m) == "conv" for m in modules(held)):
        return [], ""
    kind = next((c for c in norm.choices if c.name == "module_type"), None)
    if kind is None or kind.source in ("hint", "metadata", "calibrated"):
        return [], ""
    pins = [(kind.path, "module_type", "nn.GroupNorm", MAP_WHY)] if kind.source == "default" else []
    groups = next((a.choice for a in norm.args if a.choice and a.choice.name == "num_groups"), None)
    if groups is not None and groups.source in ("default", "structure") and groups.value != 1:
        pins.append((groups.path, "num_groups", 1, MAP_WHY))
    why = "the norm before a map's attention holds a scale and a shift only: GroupNorm(1) by "
    return pins, why + "convention (a channel LayerNorm or more groups leave the same keys)"


class PreNorm(BlockPattern):
    role = "PreNorm"
    # Above a pre-norm residual of the same two members (selective_scan.py's MixerLayer): the
    # lucidrains wrapper does not add its input, the `Residual(fn)` around it does.
    priority = 9

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        fn, norm = one_named(members, r"fn"), one_named(members, r"norm")
        if tensors(cls) or len(members) != 2 or None in (fn, norm):
            return None
        if ctx.role(norm) not in NORMS or not one_input_class(fn, ctx):
            return None
        pins, guessed = _map_norm_pins(ctx, fn, norm)
        return Match(self, 2, (fn.attr, norm.attr), guessed=guessed, pins=pins)

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

    accepts = Accepts(1, 1)

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
