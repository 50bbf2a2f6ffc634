"""A residual layer written as a body Sequential beside a shortcut (Hugging Face's ResNet basic and
bottleneck layers, RegNet's X and Y layers): `act(body(x) + shortcut(x))`.

The body is a Sequential of conv-norm units (`[conv, norm]` Sequentials or classes holding one conv
and one norm), possibly with a squeeze-excitation between them; every unit but the last is followed
by the activation. The shortcut is one more conv-norm unit, projecting where the widths or the
resolution change; where it holds no tensors (an identity) the class has the body alone, and then
the residual is a choice: a body that maps the width back to itself could also be a plain stack.
Units are called conv then norm directly, so a unit class the checkpoint cannot tell apart (with or
without its own trailing activation) never decides what the layer computes.
"""

from __future__ import annotations

import re
from dataclasses import replace

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks.residual import SHORTCUT_NAMES


class ResidualLayer(BlockPattern):
    role = "ResidualLayer"
    priority = 20  # more than a chain of the same members: it knows the residual

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or not 1 <= len(members) <= 2:
            return None
        bodies = [m for m in members if m.kind in ("sequential", "repeat")]
        if len(bodies) != 1:
            return None
        body = bodies[0]
        shortcut = next((m for m in members if m is not body), None)
        steps = _body_steps(body, _count(cls, body), ctx)
        if steps is None:
            return None
        units = [s for s in steps if s[0] == "unit"]
        first, last = units[0][1], units[-1][1]
        c_in, c_out = first.in_width, last.out_width
        short = None
        if shortcut is not None:
            short = unit(shortcut, ctx)
            if short is None or short.norm is None or not short.pointwise:
                return None
            if shortcut.attr.lower() not in SHORTCUT_NAMES and body.attr.lower() in SHORTCUT_NAMES:
                return None
            if (short.in_width, short.out_width) != (c_in, c_out):
                return None
        choices = []
        if short is None:
            if c_in is None or c_in != c_out:
                return None
            # No shortcut keys: an identity shortcut, or no residual at all (a plain stack).
            choices.append(
                ctx.choose(
                    cls,
                    body.attr,
                    "residual",
                    "add",
                    ["none"],
                    "an identity shortcut leaves no keys",
                )
            )
        activation = ctx.choose(
            cls,
            body.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each unit but the last, and after the sum",
        )
        found = (steps, short)
        return Match(self, len(members) + len(units), found, [activation] + choices)

    def forward(self, match: Match, g: Graph) -> None:
        steps, short = match.found
        activation = match.choices[0].value
        residual = len(match.choices) == 1 or match.choices[1].value == "add"
        x = g.input("x")
        out = x
        last = max(i for i, s in enumerate(steps) if s[0] == "unit")
        for i, (kind, item) in enumerate(steps):
            if kind == "se":
                out = g.call_module(item, out, name="out", comment="squeeze-excitation")
                continue
            out = g.call_module(item.conv, out, name="out", inline=True)
            out = g.call_module(item.norm, out, name="out", inline=i != last)
            if i != last:
                out = act.apply(g, activation, out, name="out")
        if residual:
            if short is not None:
                identity = g.call_module(short.conv, x, inline=True)
                identity = g.call_module(short.norm, identity, name="shortcut")
            else:
                identity = x
            out = g.call_function("add", out, identity, name="out")
        g.output(act.apply(g, activation, out, name="out", inline=True))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision_examples import modules as zoo

        z = zoo()
        x = torch.randn(2, 8, 8, 8)
        return [
            Example(z["hf_residual_stage"]("basic", 8, 16, 2), (x,)),
            Example(z["hf_residual_stage"]("bottleneck", 8, 32, 1), (x,)),
            Example(z["hf_residual_stage"]("bottleneck", 8, 16, 2), (x,)),
            Example(z["hf_residual_stage"]("basic", 8, 8, 1), (x,)),
        ]


def _count(cls, body) -> int | None:
    """A repeat's count: a literal, or where it was lifted to a parameter, the first instance's
    (the class's members are that instance's; its index range is kept as `path.0-N`)."""
    if isinstance(body.repeat, int):
        return body.repeat
    found = re.search(r"\.0-(\d+)$", body.comment or "")
    return int(found.group(1)) + 1 if found else None


def _body_steps(body, count: int | None, ctx: BlockContext) -> list[tuple] | None:
    """The body's items as ("unit", Unit) and ("se", path) steps, checked to chain by widths."""
    steps: list[tuple] = []
    width = None
    items = body.children
    if body.kind == "repeat":  # identical units (a basic layer that keeps the width)
        if len(items) != 1 or count is None:
            return None
        items = [replace(items[0], attr=str(i)) for i in range(count)]
    for item in items:
        if item.kind == "placeholder":
            return None  # a parameter-free layer between units: not this layout
        if ctx.role(item) == "SqueezeExcite":
            if not steps:
                return None
            steps.append(("se", (body.attr, item.attr)))
            continue
        u = unit(item, ctx, (body.attr,))
        if u is None or u.norm is None:
            return None
        if width is not None and u.in_width not in (None, width):
            return None
        width = u.out_width
        steps.append(("unit", u))
    units = [s for s in steps if s[0] == "unit"]
    if not 2 <= len(units) <= 3 or steps[-1][0] != "unit":
        return None
    return steps
