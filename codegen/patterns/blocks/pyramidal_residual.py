"""PyramidNet's residual unit (Han et al. 2017, "Deep Pyramidal Residual Networks", fig. 6(d)):
a norm opens the body, one more norm than convs, the activation only between the inner pairs, the
last norm's output added to the shortcut and nothing after the sum:

    out = bn1(x); out = conv1(out); out = act(bn2(out)); out = conv2(out); out = bn3(out)
    return out + shortcut(x)

Recognised from keys and widths: n convs, n + 1 batch norms, the first as wide as what the first
conv reads, each other as wide as the conv before it gives (names order them where widths tie).

PyramidNet widens a little at every block and builds no projection: its shortcut is the input,
average-pooled 2x2 (ceil mode) where the block halves the resolution, with zero channels appended
for the new ones (dyhan0920's PyramidNet-PyTorch, the ShakeDrop code built on it). Neither leaves a
key: He et al.'s option A subsamples instead and may pad both sides (choices); where instances
widen or stride, the block says it guessed. Which blocks halve the resolution:
analyze/strides.py's pyramidal_stage_entries (each later stage's first block).
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
from codegen.patterns.blocks._norm_order import same_width_everywhere
from codegen.patterns._kit import name_order

ROLE = "PyramidalBlock"


class PyramidalResidual(BlockPattern):
    role = ROLE
    priority = 6

    accepts = Accepts(5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 5:
            return None
        convs = sorted(
            (m for m in members if family(m) == "conv"), key=lambda m: name_order(m.attr)
        )
        norms = sorted(
            (m for m in members if family(m) == "norm"), key=lambda m: name_order(m.attr)
        )
        if len(convs) + len(norms) != len(members) or len(norms) != len(convs) + 1:
            return None
        if any("BatchNorm" not in n.type_name or n.io is None for n in norms):
            return None
        if any(c.kind != "builtin" or c.io is None for c in convs):
            return None
        width = convs[0].io.in_width
        for norm, conv in zip(norms, convs):  # each norm reads what the block or a conv gave
            if width is None or norm.io.in_width != width or conv.io.in_width != width:
                return None
            width = conv.io.out_width
        if norms[-1].io.in_width != width:
            return None
        activation = ctx.choose(
            cls,
            norms[1].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each inner norm (none after the first norm, the last, or the sum)",
            aliases=act.ALIASES,
        )
        choices, guessed = [activation], ""
        widens = not same_width_everywhere(convs[0], convs[-1])
        if widens or any(_strides(c) for c in convs):
            pooled = ctx.choose(
                cls,
                convs[0].attr,
                "shortcut_downsample",
                "avg_pool",
                ["subsample"],
                "how the shortcut halves the input where the block does: a 2x2 average pool "
                "(ceil mode; PyramidNet's) or every second pixel (option A)",
            )
            zeros = ctx.choose(
                cls,
                convs[0].attr,
                "zero_channels",
                "after",
                ["both_sides"],
                "where the shortcut's added zero channels go",
            )
            choices += [pooled, zeros]
            if "default" in (pooled.source, zeros.source):
                guessed = (
                    "instances widen or stride with no projection: the input is average-pooled "
                    "2x2 where the block halves the resolution and zero channels are appended "
                    "(PyramidNet's; option A subsamples and may pad both sides: the choices "
                    "shortcut_downsample, zero_channels)"
                )
        steps = [norms[0].attr] + [a for c, n in zip(convs, norms[1:]) for a in (c.attr, n.attr)]
        return Match(self, len(members), steps, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        steps = match.found
        activation = match.choices[0].value
        x = g.input("x")
        out = g.call_module((steps[0],), x, name="out", inline=True)
        pairs = list(zip(steps[1::2], steps[2::2]))
        for i, (conv, norm) in enumerate(pairs):
            out = g.call_module((conv,), out, name="out", inline=True)
            out = g.call_module((norm,), out, name="out", inline=i < len(pairs) - 1)
            if i < len(pairs) - 1:
                out = act.apply(g, activation, out, name="out")
        identity = x
        if len(match.choices) > 1:
            pooled, zeros = (c.value for c in match.choices[1:3])
            identity = g.call_function(
                "widened_shortcut",
                x,
                out,
                pooled == "avg_pool",
                zeros == "both_sides",
                name="identity",
                comment="no projection: pooled where the block halves, zero channels added",
            )
        g.output(g.call_function("add", out, identity, comment="residual: nothing after the sum"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Unit(nn.Module):  # dyhan0920/PyramidNet-PyTorch's BasicBlock, other names
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                self.norm1 = nn.BatchNorm2d(c_in)
                self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
                self.norm2 = nn.BatchNorm2d(c_out)
                self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
                self.norm3 = nn.BatchNorm2d(c_out)
                self.stride = stride

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.norm3(self.conv2(torch.relu(self.norm2(self.conv1(self.norm1(x))))))
                if self.stride != 1:
                    x = nn.functional.avg_pool2d(x, 2, 2, ceil_mode=True)
                pad = out.size(1) - x.size(1)
                return out + nn.functional.pad(x, [0, 0, 0, 0, 0, pad])

        class Net(nn.Module):  # stages of additively widening units, the later ones halving
            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(3, 6, 3, 1, 1, bias=False)
                self.norm = nn.BatchNorm2d(6)
                self.stage1 = nn.Sequential(Unit(6, 9, 1), Unit(9, 12, 1))
                self.stage2 = nn.Sequential(Unit(12, 15, 2), Unit(15, 18, 1))
                self.norm_out = nn.BatchNorm2d(18)
                self.head = nn.Linear(18, 3)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.stage2(self.stage1(self.norm(self.conv(x))))
                return self.head(torch.relu(self.norm_out(x)).mean((2, 3)))

        return [Example(Net(), (torch.randn(2, 3, 9, 9),))]


def _strides(conv) -> bool:
    return any(a.keyword == "stride" and a.value not in (1, (1, 1)) for a in conv.args)
