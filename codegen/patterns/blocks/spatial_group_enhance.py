"""Spatial group-wise enhance (Li et al. 2019, implus/PytorchInsight's SpatialGroupEnhance, copied
verbatim by External-Attention-pytorch and others): the channels split into G
groups, each position's dot product with its group's mean feature standardised over the map
(unbiased std, + 1e-5), scaled and shifted per group, and its sigmoid gates the group:

    x = x.view(b * G, -1, h, w); t = (x * avg_pool(x)).sum(1) -> standardise -> * weight + bias
    return (x * sigmoid(t)).view(b, c, h, w)

Its only tensors are `weight` and `bias`, [1, G, 1, 1] each. A channel norm of a feature map
(LayerNorm2d, a per-channel affine) stores the same shapes with G the map's width, so the reading
needs proof that G is not the width: a place the class is used where no member beside it gives G
channels (SGE-ResNet's 64 groups in a 256-wide bottleneck). Nothing else is unrecorded. A residual
block reads it as a gate that keeps any width (blocks/squeeze_excite.py's GATE_ROLES).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    channel_map_vector,
    containers,
    modules,
    size_value,
    tensors,
)

ROLE = "SpatialGroupEnhance"


def group_counts(gate, holder, ctx: BlockContext) -> set[int]:
    """The G values a gate member of class `holder` is built with, followed up through the
    classes that pass the size on (a block's `Gate(dim=dim)`, its holder's `Block(dim=64)`)."""
    found: set[int] = set()
    for a in gate.args:
        found |= _passed(a.value, holder, ctx, 0)
    return found


def _passed(value, holder, ctx: BlockContext, depth: int) -> set[int]:
    """The ints a size written `value` in class `holder` takes, over the places it is built."""
    if size_value(holder, value) is not None:
        return {size_value(holder, value)}
    name = getattr(value, "name", None)
    if name is None or depth > 8:
        return set()
    found: set[int] = set()
    for other in ctx.classes.values():
        for m in _walk(modules(other)):
            if m.kind == "class" and m.type_name == holder.name:
                for a in m.args:
                    if a.keyword == name:
                        found |= _passed(a.value, other, ctx, depth + 1)
    return found


def _walk(members):
    """Every member, and every item of the containers among them, depth first."""
    for m in members:
        yield m
        yield from _walk(m.children)


def _not_the_width(cls, ctx: BlockContext) -> bool:
    """Whether some place the class is used holds, beside it, members that give channels, none
    of them its G (in any instance of the holding class): the map it gates is wider."""
    for other in ctx.classes.values():
        members = modules(other)
        for siblings in containers(members):
            gates = [m for m in siblings if m.kind == "class" and m.type_name == cls.name]
            groups = group_counts(gates[0], other, ctx) if len(gates) == 1 else set()
            if len(groups) != 1:
                continue
            count = groups.pop()
            # each instance's own widths where the siblings are the class's members
            widths = other.member_io if siblings is members else []
            outs = [{m.attr: m.io for m in siblings}] + list(widths)
            for io in outs:
                given = {size_value(other, i.out_width) for i in io.values() if i is not None}
                given.discard(None)
                if given and count not in given:
                    return True
    return False


class SpatialGroupEnhance(BlockPattern):
    role = ROLE
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = {t.attr: t for t in tensors(cls)}
        if modules(cls) or set(found) != {"weight", "bias"}:
            return None
        weight, bias = found["weight"], found["bias"]
        if weight.kind != "parameter" or weight.shape != bias.shape:
            return None
        if not channel_map_vector(tuple(weight.shape)):
            return None
        if not _not_the_width(cls, ctx):
            return None
        return Match(self, 2, ("weight", "bias"))

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        weight, bias = (g.getattr((name,)) for name in match.found)
        g.output(g.call_function("spatial_group_enhance", x, weight, bias))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class GroupGate(nn.Module):  # written out as the paper's code does it, other names
            def __init__(self, groups: int) -> None:
                super().__init__()
                self.groups = groups
                self.weight = nn.Parameter(torch.randn(1, groups, 1, 1))
                self.bias = nn.Parameter(torch.randn(1, groups, 1, 1))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                b, c, h, w = x.size()
                x = x.view(b * self.groups, -1, h, w)
                t = (x * F.adaptive_avg_pool2d(x, 1)).sum(dim=1, keepdim=True)
                t = t.view(b * self.groups, -1)
                t = t - t.mean(dim=1, keepdim=True)
                t = t / (t.std(dim=1, keepdim=True) + 1e-5)
                t = t.view(b, self.groups, h, w) * self.weight + self.bias
                x = x * torch.sigmoid(t.view(b * self.groups, 1, h, w))
                return x.view(b, c, h, w)

        class Unit(nn.Module):  # a residual unit, the gate on its body before the sum
            def __init__(self, c_in: int, c: int) -> None:
                super().__init__()
                self.conv_a = nn.Conv2d(c_in, 6, 3, padding=1, bias=False)
                self.norm_a = nn.BatchNorm2d(6)
                self.conv_b = nn.Conv2d(6, c, 3, padding=1, bias=False)
                self.norm_b = nn.BatchNorm2d(c)
                self.gate = GroupGate(4)  # (4 groups divide c, not 6: it follows conv_b)
                self.proj = None if c_in == c else nn.Conv2d(c_in, c, 1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(self.norm_a(self.conv_a(x)))
                out = self.gate(self.norm_b(self.conv_b(out)))
                return F.relu(out + (x if self.proj is None else self.proj(x)))

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)  # a stem halves (by convention)
                self.units = nn.Sequential(Unit(8, 8), Unit(8, 12))
                self.head = nn.Linear(12, 3)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.head(self.units(self.stem(x)).mean(dim=(2, 3)))

        return [Example(Net(), (torch.randn(2, 3, 10, 8),))]
