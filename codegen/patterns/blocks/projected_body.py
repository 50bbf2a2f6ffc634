"""A residual block that is a body with a forward of its own beside a projection named as the
shortcut (timm's aligned Xception `XceptionModule`: `stack`, a Sequential of separable
conv-norm classes, and `shortcut`, a 1x1 ConvNormAct; the same shape in any repository that keeps
its block's steps in one module):

    return body(x) + shortcut(x)           # (an activation after the sum leaves no key)

The widths prove the wiring: the shortcut reads the block's input width and gives the body's
output width, and where an instance's body changes the width the shortcut cannot read what the
body gives, nor the body what the shortcut gives: both read the input, and what reads the block
takes one of them (a sum; analyze/joins.py rules out a concatenation). Where no instance changes
the width the two could also run in turn: the chain's reading, not this one.

Whether an activation follows the sum leaves no key: none by default (Xception's blocks, timm's
aligned and legacy ones, whose bodies open with their own activation), a choice, and the block
says guessed until hints or calibration settle it.
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
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks._path_join import CONCAT, joined
from codegen.patterns.blocks.residual import SHORTCUT_NAMES


def _widths(cls, m) -> list[tuple[int | None, int | None]]:
    """(in, out) of member `m` in each instance of the class (the first's where none recorded)."""
    found = [io.get(m.attr) for io in cls.member_io] or [m.io]
    return [(io.in_width, io.out_width) if io is not None else (None, None) for io in found]


class ProjectedBody(BlockPattern):
    role = "ProjectedBlock"
    priority = 10  # over the chain of the same two members; under the unit-reading blocks

    accepts = Accepts(2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 2 or joined(cls, ctx) == CONCAT:
            return None
        shortcuts = [m for m in members if m.attr.lower() in SHORTCUT_NAMES]
        if len(shortcuts) != 1:
            return None
        shortcut = shortcuts[0]
        body = next(m for m in members if m is not shortcut)
        if body.kind not in ("class", "sequential") or body.io is None:
            return None
        if body.kind == "sequential" and any(c.kind == "placeholder" for c in body.children):
            return None  # keyless steps inside: calling it would skip them
        short = unit(shortcut, ctx)
        if short is None or not short.pointwise:
            return None
        bodies, shorts = _widths(cls, body), _widths(cls, shortcut)
        if len(bodies) != len(shorts) or any(None in w for w in bodies + shorts):
            return None
        if bodies != shorts or all(w_in == w_out for w_in, w_out in bodies):
            return None  # (no instance proves the shortcut reads the input)
        after = ctx.choose(
            cls,
            body.attr,
            "after_sum",
            "identity",
            ["relu"] + [a for a in act.alternatives("relu", conv=True) if a != "identity"],
            "after the body and the shortcut are added (none in Xception's blocks)",
        )
        guessed = ""
        if after.source == "default":
            guessed = (
                "whether an activation follows the sum leaves no key: none (Xception's), the "
                "choice after_sum"
            )
        found = (body.attr, short)
        return Match(self, len(members) + 1, found, [after], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        body, short = match.found
        x = g.input("x")
        out = g.call_module((body,), x, name="out")
        shortcut = g.call_module(short.conv, x, name="shortcut", inline=short.norm is not None)
        if short.norm is not None:
            shortcut = g.call_module(short.norm, shortcut, name="shortcut")
        out = g.call_function("add", out, shortcut, name="out")
        g.output(act.apply(g, match.choices[0].value, out, name="out", inline=True))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._vision_examples import _randomise_norms
        import torch

        block = projected_xception_block()
        _randomise_norms(block)
        return [Example(block.eval(), (torch.randn(2, 8, 8, 8),))]


def projected_xception_block(c_in: int = 8, c_out: int = 12):
    """timm's aligned XceptionModule, its separable units post-activated, one 1x1 projection."""
    import torch
    import torch.nn as nn

    class SeparableConvNormAct(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.conv_dw = nn.Conv2d(c_in, c_in, 3, 1, 1, groups=c_in, bias=False)
            self.bn_dw = nn.BatchNorm2d(c_in)
            self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
            self.bn_pw = nn.BatchNorm2d(c_out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.bn_dw(self.conv_dw(x)))
            return torch.relu(self.bn_pw(self.conv_pw(x)))

    class ConvNorm(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
            self.bn = nn.BatchNorm2d(c_out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.bn(self.conv(x))

    class XceptionModule(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.shortcut = ConvNorm(c_in, c_out)
            self.stack = nn.Sequential(
                SeparableConvNormAct(c_in, c_out), SeparableConvNormAct(c_out, c_out)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.stack(x) + self.shortcut(x)

    return XceptionModule()
