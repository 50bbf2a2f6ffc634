"""A pre-activation residual unit whose body is a class of pre-activation conv units (imgclsmob's
PreResNet: `body` = PreResBlock of PreConvBlocks `bn`, `conv`; the projection `identity_conv`
beside it): the projection reads the input the body's first unit pre-activated, so the unit
reaches into its body for that step:

    pre = act(body.conv1.bn(x)); out = body.conv1.conv(pre); out = body.conv2(out) ...
    return out + (identity_conv(pre), or x)

What leaves no key is a choice: the activation, what the projection reads (the pre-activated
input by the convention kuangliu's, timm's and imgclsmob's code share), and, with no projection
in the model, whether the input is added at all.
"""

from __future__ import annotations

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
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.preact_residual import projection_reads
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns._kit import name_order
from codegen.patterns.blocks.residual_layer import shortcut_elsewhere


class PreActUnit(BlockPattern):
    role = "PreActUnit"
    priority = 20  # more than a chain of the same members: it knows the residual
    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        shortcuts = [m for m in members if m.attr.lower() in SHORTCUT_NAMES]
        bodies = [m for m in members if m not in shortcuts]
        if tensors(cls) or len(bodies) != 1 or len(shortcuts) > 1 or bodies[0].kind != "class":
            return None
        body = ctx.classes.get(bodies[0].type_name)
        units = sorted(modules(body), key=lambda m: name_order(m.attr)) if body else []
        if len(units) < 2 or any(ctx.role(u) != "PreActivation" for u in units):
            return None
        first = ctx.classes.get(units[0].type_name)
        inner = modules(first) if first is not None else []
        norms = [m for m in inner if family(m) == "norm"]
        convs = [m for m in inner if family(m) == "conv"]
        if len(inner) != 2 or len(norms) != 1 or len(convs) != 1:
            return None
        c_in, c_out = bodies[0].io.in_width if bodies[0].io else None, None
        c_out = bodies[0].io.out_width if bodies[0].io else None
        if c_in is None or c_out is None:
            return None
        activation = ctx.choose(
            cls,
            bodies[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each norm, before its conv",
            aliases=act.ALIASES,
        )
        choices, guessed, shortcut = [activation], "", None
        if shortcuts:
            shortcut = shortcuts[0]
            io = shortcut.io
            if shortcut.kind != "builtin" or family(shortcut) != "conv" or io is None:
                return None
            if (io.in_width, io.out_width) != (c_in, c_out) or conv_kernel(shortcut) not in (
                1,
                (1, 1),
            ):
                return None
            reads, guessed = projection_reads(cls, ctx, shortcut)
            choices.append(reads)
        else:
            if c_in != c_out:
                return None
            residual = ctx.choose(
                cls, bodies[0].attr, "residual", "add", ["none"], "an identity leaves no keys"
            )
            choices.append(residual)
            if residual.source == "default" and not shortcut_elsewhere(cls, ctx):
                guessed = (
                    f"no shortcut keys, and no other block of the model has a shortcut: "
                    f"{bodies[0].attr} could also be a plain stack; read as adding its input"
                )
        b = bodies[0].attr
        steps = ((b, units[0].attr, norms[0].attr), (b, units[0].attr, convs[0].attr))
        rest = tuple((b, u.attr) for u in units[1:])
        found = (steps, rest, shortcut.attr if shortcut else None)
        return Match(self, len(members) + len(units) + 1, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        (norm, conv), rest, shortcut = match.found
        activation = match.choices[0].value
        x = g.input("x")
        pre = act.apply(g, activation, g.call_module(norm, x, inline=True), name="pre")
        out = g.call_module(conv, pre, name="out")
        for path in rest:
            out = g.call_module(path, out, name="out")
        if shortcut is not None:
            reads = match.choices[1].value
            identity = g.call_module((shortcut,), pre if reads == "preactivated" else x)
            out = g.call_function("add", out, identity, name="out")
        elif match.choices[1].value == "add":
            out = g.call_function("add", out, x, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch

        return [Example(_osmr_stage(), (torch.randn(2, 8, 8, 8),))]


def _osmr_stage():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class PreConvBlock(nn.Module):  # imgclsmob common.PreConvBlock: bn, activ, conv
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.bn = nn.BatchNorm2d(c_in)
            self.conv = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = F.relu(self.bn(x))
            return self.conv(x), x

    class PreResBlock(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = PreConvBlock(c_in, c_out, stride)
            self.conv2 = PreConvBlock(c_out, c_out, 1)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x, pre = self.conv1(x)
            return self.conv2(x)[0], pre

    class PreResUnit(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.body = PreResBlock(c_in, c_out, stride)
            self.resize = c_in != c_out or stride != 1
            if self.resize:
                self.identity_conv = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out, pre = self.body(x)
            return out + (self.identity_conv(pre) if self.resize else x)

    class Stage(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unit1 = PreResUnit(8, 16, 2)
            self.unit2 = PreResUnit(16, 16, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.unit2(self.unit1(x))

    return Stage()
