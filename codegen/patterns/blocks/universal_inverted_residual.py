"""The universal inverted bottleneck (MobileNetV4, Qin et al. 2024; timm's
`UniversalInvertedResidual`): an inverted residual whose depthwise convs are optional and may sit
on either side of the expansion, with a learned per-channel scale on the branch:

    out = x + gamma * project(dw_mid(expand(dw_start(x))))       (the sum where shapes allow)

Read from widths, not names: exactly two 1x1 units, the expansion widening what the block reads
and the projection narrowing it back; a depthwise unit as wide as the block's input runs before
the expansion, one as wide as the expansion between the two. Where input and output widths are
equal the two 1x1 units chain either way round; only the expansion widens. A layer-scale member
(one vector as wide as the output) scales the projection's output before the sum. Blocks that
differ in which depthwise units they hold are classes of their own (the units are called inline).

No key records which units activate: timm's UIR activates the expansion and the middle depthwise
conv, not the opening depthwise conv (`dw_start`, built with `apply_act=False`) nor the
projection; the opening one's activation is a choice (MobileNeXt's sandglass block, Zhou et al.
2020, activates its first depthwise conv), and the class says guessed where a block opens with
one and nothing pins it. A depthwise unit as wide as both ends of a block that keeps its width
could also close it (timm's optional `dw_end`): read as opening it, and said.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import Unit, unit

ACTIVATIONS = ["relu", "relu6", "silu", "hardswish", "gelu"]
OPENING = "opening_activation"


def _scale(m, ctx: BlockContext) -> bool:
    return ctx.role(m) == "LayerScale"


def uib_order(units: list[Unit]) -> tuple[Unit | None, Unit, Unit | None, Unit] | None:
    """(opening depthwise, expansion, middle depthwise, projection), by widths; None where the
    units are not two 1x1 convs that widen then narrow back with one or two depthwise beside."""
    pointwise = [u for u in units if u.pointwise and not u.depthwise]
    depthwise = [u for u in units if u.one_channel_per_group and not u.pointwise]
    if (
        len(pointwise) != 2
        or not 1 <= len(depthwise) <= 2
        or len(units) != len(pointwise) + len(depthwise)
    ):
        return None
    if any(u.norm is None or None in (u.in_width, u.out_width) for u in units):
        return None
    for expand, project in (pointwise, pointwise[::-1]):
        if expand.out_width != project.in_width or expand.out_width <= expand.in_width:
            continue
        if project.out_width >= project.in_width:
            continue
        start = [u for u in depthwise if u.in_width == expand.in_width]
        mid = [u for u in depthwise if u.in_width == expand.out_width]
        if len(start) > 1 or len(mid) > 1 or len(start) + len(mid) != len(depthwise):
            return None
        return (start[0] if start else None, expand, mid[0] if mid else None, project)
    return None


class UniversalInvertedResidual(BlockPattern):
    role = "UniversalInvertedResidual"
    priority = 21  # more than InvertedResidual: it reads an opening depthwise conv and a scale

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not members:
            return None
        scales = [m for m in members if _scale(m, ctx)]
        rest = [m for m in members if m not in scales]
        if len(scales) > 1:
            return None
        units = [unit(m, ctx) for m in rest]
        if any(u is None for u in units):
            return None
        order = uib_order(units)
        if order is None:
            return None
        start, expand, mid, project = order
        if scales:
            width = scales[0].io.in_width if scales[0].io is not None else None
            if width not in (None, project.out_width):
                return None
        elif start is None:
            return None  # a plain inverted residual (blocks/inverted_residual.py)
        activation = ctx.choose(
            cls,
            expand.conv[0],
            "activation",
            "relu",
            [a for a in ACTIVATIONS if a != "relu"],
            "after the expansion and the middle depthwise conv (MobileNetV4's conv models: ReLU)",
            aliases=act.ALIASES,
        )
        choices = [activation]
        guessed = ""
        if start is not None:
            opening = ctx.choose(
                cls,
                start.conv[0],
                OPENING,
                "identity",
                ["same"],
                "after the opening depthwise conv: none (timm's UIR dw_start), or the block's",
            )
            choices.append(opening)
            if opening.source == "default":
                guessed = (
                    f"{start.conv[0]}, a depthwise conv before the expansion, is read "
                    "unactivated (MobileNetV4's universal inverted bottleneck); a sandglass "
                    f"block (MobileNeXt) activates it: the choice {OPENING}"
                )
                if expand.in_width == project.out_width:
                    guessed += (
                        "; as wide as the block's output, it could also close the block after "
                        "the projection (timm's dw_end): read as opening it"
                    )
        scale = None
        if scales:  # its vector, read per channel of the conv features (dim 1)
            scale = (scales[0].attr, tensors(ctx.classes[scales[0].type_name])[0].attr)
        found = (start, expand, mid, project, scale)
        return Match(self, len(members) + 3, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        start, expand, mid, project, scale = match.found
        by = {c.name: c.value for c in match.choices}
        activation = by["activation"]
        x = g.input("x")
        out = x
        if start is not None:
            out = _unit(g, start, out)
            opening = activation if by.get(OPENING) == "same" else "identity"
            out = act.apply(g, opening, out, name="out")
        out = _unit(g, expand, out)
        out = act.apply(g, activation, out, name="out")
        if mid is not None:
            out = _unit(g, mid, out)
            out = act.apply(g, activation, out, name="out")
        out = _unit(g, project, out, inline=False)  # (no activation after the projection)
        if scale is not None:
            gamma = g.call_method("view", g.getattr(scale), 1, -1, 1, 1, inline=True)
            out = g.call_function("mul", out, gamma, name="out", comment="layer scale")
        out = g.call_function("add_if_same_shape", x, out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        return []  # tests/test_universal_inverted_residual.py: three layouts


def _unit(g: Graph, u: Unit, x, inline: bool = True):
    out = g.call_module(u.conv, x, name="out", inline=True)
    return g.call_module(u.norm, out, name="out", inline=inline)
