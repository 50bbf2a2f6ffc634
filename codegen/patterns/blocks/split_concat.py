"""Convs over one tensor split by their widths, their outputs concatenated (issue 16):

    parts = x.split([r0, r1, ...], 1)
    return cat([conv0(parts[0]), conv1(parts[1]), ...], 1)

timm's `MixedConv2d` (a ModuleDict `0`, `1`, ... of convs of different kernels, MixNet, Tan & Le
2019), the TF port's list of convs, a mixed-kernel depthwise Conv1d list in an audio net. The
numbered items hold no order of their own: the block around them proves the split
(layers/conv_groups.py's `split_lists`: a sibling norm as wide as their outputs together, which
no item gives alone), so each item reads its width of what reaches the list, in index order.
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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import SPLIT_ROLE
from codegen.patterns.blocks._vision_examples import _randomise_norms
from codegen.patterns.layers.conv_groups import SPLIT_LIST


class SplitConcat(BlockPattern):
    role = SPLIT_ROLE
    priority = 9  # proven by the block around it: rather than any chain of its items

    accepts = Accepts(2, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 2 or any(family(m) != "conv" for m in members):
            return None
        told = {ctx.resolver.structural.get((path, SPLIT_LIST)) for path, _ in cls.instances}
        if None in told or len({len(ins) for ins, _ in told}) != 1:
            return None
        attrs = [m.attr for m in sorted(members, key=lambda m: int(m.attr))]
        if attrs != [str(i) for i in range(len(members))] or len(attrs) != len(next(iter(told))[0]):
            return None
        return Match(self, len(members), attrs)

    def forward(self, match: Match, g: Graph) -> None:
        attrs = match.found
        x = g.input("x")
        # each conv reads its in_channels of the input (a depthwise one: what it gives)
        widths = [g.getattr((attr, "in_channels"), inline=True) for attr in attrs]
        parts = g.call_method("split", x, widths, kwargs={"dim": 1}, name="parts")
        outs = []
        for i, attr in enumerate(attrs):
            part = g.call_function("getitem", parts, i, inline=True)
            outs.append(g.call_module((attr,), part, inline=True))
        g.output(g.call_function("cat", outs, 1, name="x"))

    @staticmethod
    def examples():
        return [_mixnet_example()]


def _mixnet_example() -> Example:
    import torch
    import torch.nn as nn

    class MixedConv2d(nn.ModuleDict):  # timm.layers.mixed_conv2d
        def __init__(self, c_in: int, c_out: int, kernels: list[int], depthwise: bool) -> None:
            super().__init__()
            n = len(kernels)
            ins = [c_in // n] * n
            ins[0] += c_in - sum(ins)
            outs = [c_out // n] * n
            outs[0] += c_out - sum(outs)
            self.splits = ins
            for i, (k, ci, co) in enumerate(zip(kernels, ins, outs)):
                groups = co if depthwise else 1
                self.add_module(str(i), nn.Conv2d(ci, co, k, padding=k // 2, groups=groups))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            parts = torch.split(x, self.splits, 1)
            return torch.cat([c(parts[i]) for i, c in enumerate(self.values())], 1)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(  # a mixed 1x1 then mixed depthwise kernels
                MixedConv2d(8, 24, [1, 1], False),
                nn.BatchNorm2d(24),
                nn.ReLU(),
                MixedConv2d(24, 24, [3, 5, 7], True),
                nn.BatchNorm2d(24),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.features(x)

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model.eval(), (torch.randn(2, 8, 6, 6),))
