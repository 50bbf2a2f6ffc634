"""IMDN's information multi-distillation block (Hui et al. 2019, Zheng222/IMDN `IMDModule`):
each conv's output is split along the channels into a distilled part, kept, and the rest, which
the next conv refines; the last conv distils what remains; the distilled parts, concatenated,
go through a channel attention (IMDN's contrast-aware CCA, blocks/squeeze_excite.py) and a 1x1
fusion conv, and the input is added:

    d1, r1 = split(act(c1(x)), (d, w - d))
    d2, r2 = split(act(c2(r1)), (d, w - d))
    d3, r3 = split(act(c3(r2)), (d, w - d))
    return c5(cca(cat([d1, d2, d3, c4(r3)]))) + x

The widths fix the split (what the next conv reads is the rest). The activation (IMDN's
LeakyReLU 0.05), the residual and the attention's contrast term leave no tensor: choices, the
last pinned on the attention's class where the block is IMDN's.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import tensors
from codegen.patterns._kit import name_order

NUMBERED_CONV = re.compile(r"c(onv)?_?\d+", re.IGNORECASE)
IMDN = "IMDN's contrast-aware channel attention (CCALayer: std plus mean)"


def _conv2d(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None and m.io.ndim == 2


def distil_activation(ctx: BlockContext, cls, where: str, note: str):
    """The activation after a distillation block's convs: LeakyReLU 0.05 in IMDN's and RFDN's
    code (their `activation('lrelu', neg_slope=0.05)`); no key records it."""
    return ctx.choose(
        cls,
        where,
        "activation",
        "leaky_relu_0.05",
        act.alternatives("leaky_relu_0.05", conv=True) + ["leaky_relu"],
        note,
    )


def unsettled(choices, convention: str) -> str:
    """A block's guessed note while any of its parameter-free steps' choices is at its default."""
    guessed = [c.name for c in choices if c.source == "default"]
    return f"{convention}: the choices {', '.join(guessed)}" if guessed else ""


class DistillationBlock(BlockPattern):
    role = "DistillationBlock"
    priority = 6

    accepts = Accepts(4, tensors=False, names=(NUMBERED_CONV.pattern,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        convs = [m for m in members if NUMBERED_CONV.fullmatch(m.attr) and _conv2d(m)]
        others = [m for m in members if m not in convs]
        attention = None
        if others:
            if len(others) != 1 or ctx.role(others[0]) != "SqueezeExcite":
                return None
            attention = others[0]
        convs.sort(key=lambda m: name_order(m.attr))
        if len(convs) < 4:
            return None
        *refine, last, fuse = convs
        width = refine[0].io.in_width
        if refine[0].io.out_width != width or not width:
            return None
        rest = last.io.in_width
        distilled = width - rest if rest else 0
        if distilled <= 0 or last.io.out_width != distilled:
            return None
        if any((c.io.in_width, c.io.out_width) != (rest, width) for c in refine[1:]):
            return None
        joined = distilled * (len(refine) + 1)
        if (fuse.io.in_width, fuse.io.out_width) != (joined, width):
            return None
        if attention is not None and attention.io.in_width != joined:
            return None
        activation = distil_activation(
            ctx, cls, refine[0].attr, "after each refining conv (IMDN's LeakyReLU 0.05)"
        )
        residual = ctx.choose(cls, fuse.attr, "residual", "add", ["none"], "the input added")
        note = unsettled(
            (activation, residual),
            "the activation and the residual leave no tensor (IMDN's IMDModule by convention)",
        )
        # The attention's class offers its `squeeze` choice (one for the class) only where a pin
        # names it: this one.
        held = ctx.classes.get(attention.type_name) if attention is not None else None
        pins = [(held.name, "squeeze", "mean_plus_std", IMDN)] if held is not None else []
        found = (
            tuple(c.attr for c in refine),
            last.attr,
            attention.attr if attention is not None else None,
            fuse.attr,
            (distilled, rest),
        )
        return Match(self, len(members), found, [activation, residual], guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        refine, last, attention, fuse, split = match.found
        activation, residual = (c.value for c in match.choices)
        x = g.input("x")
        kept, rest = [], x
        for i, conv in enumerate(refine, 1):
            out = act.apply(g, activation, g.call_module((conv,), rest, inline=True), inline=True)
            parts = g.call_method("split", out, list(split), kwargs={"dim": 1}, name=f"parts{i}")
            kept.append(g.call_function("getitem", parts, 0, name=f"distilled{i}"))
            rest = g.call_function("getitem", parts, 1, name=f"rest{i}")
        kept.append(g.call_module((last,), rest, name="distilled"))
        out = g.call_function("cat", kept, kwargs={"dim": 1}, name="out")
        if attention is not None:
            out = g.call_module((attention,), out, name="out")
        out = g.call_module((fuse,), out, name="out")
        if residual == "add":
            out = g.call_function("add", out, x, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        from codegen.patterns.blocks._sr_examples import modules as zoo

        Distill = zoo()["distill"]

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, 8, 3, padding=1)
                self.block = Distill(prefix="conv")

            def forward(self, x):
                return self.block(self.head(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 5, 5),))]
