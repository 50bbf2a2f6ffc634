"""A re-parameterisable block in its training form (RepVGG, Ding et al. 2021; YOLOv6/v7's
RepConv): a kxk and a 1x1 conv-norm branch side by side on the same input, and, where the block
keeps the width and the resolution, a batch norm as the identity branch; their sum through the
activation:

    out = act(norm_k(conv_k(x)) + norm_1(conv_1(x)) + identity_norm(x))

The activation leaves no key: ReLU, RepVGG's and YOLOv6's, by default (YOLOv7's RepConv runs
SiLU: the choice says so). Two branches that keep the width with no identity beside them could as well run one after the
other (DarkNet's 1x1-then-3x3 bottleneck): no match. The branches are told apart by their kernels (never by names or key order); each branch's conv and
norm are called directly, so a branch class the checkpoint cannot describe further (with or
without a trailing activation) never decides what the block computes. The blocks built without
the identity branch halve the resolution (analyze/strides.py's branch_downsamplers).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import instance_widths, unit
from codegen.patterns.blocks._path_join import CONCAT, joined


def _widens_elsewhere(cls, attrs: list[str]) -> bool:
    """Whether in some instance of the class both units read one width and give another (a
    RepVGG stem reading the image, the class shared with the stages' strided blocks)."""
    ios = zip(*(instance_widths(cls, a) for a in attrs))
    return any(len(set(w)) == 1 and None not in w[0] and w[0][0] != w[0][1] for w in ios)


class BranchSum(BlockPattern):
    role = "RepBlock"
    priority = 20

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3):
            return None
        units = [(m, u) for m in members if (u := unit(m, ctx)) is not None and u.norm]
        rest = [m for m in members if m not in [m for m, _ in units]]
        if len(units) != 2 or len(rest) > 1 or joined(cls, ctx) == CONCAT:
            return None  # (what reads the block takes both branches' widths: side by side)
        widths = {(u.in_width, u.out_width) for _, u in units}
        kernels = sorted(((u.kernel,) if isinstance(u.kernel, int) else u.kernel) for _, u in units)
        if len(widths) != 1 or None in next(iter(widths)) or kernels[0][0] != 1:
            return None
        if kernels[1][0] == 1 or kernels[1][0] % 2 != 1 or any(u.groups != 1 for _, u in units):
            return None
        c_in, c_out = next(iter(widths))
        if not rest and c_in == c_out and not _widens_elsewhere(cls, [m.attr for m, _ in units]):
            # Two units that keep the width may as well run one after the other (DarkNet's and
            # CSPNet's 1x1-then-3x3 bottleneck): side by side only where the widths cannot chain
            # (in this instance or another of the class) or the identity batch norm is there.
            return None
        identity = None
        if rest:
            norm = rest[0]
            if norm.kind != "builtin" or family(norm) != "norm" or c_in != c_out:
                return None
            if norm.io is None or norm.io.in_width != c_out:
                return None
            identity = norm.attr
        activation = ctx.choose(
            cls,
            units[0][0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after the branches' sum",
        )
        found = ([(u.conv, u.norm) for _, u in units], identity)
        # A branch class's own forward ends at its norm: the activation runs after the sum.
        pins = [
            (c.path, "activation", "identity", "a branch of a re-parameterisable block")
            for m, _ in units
            if m.kind == "class" and (branch := ctx.classes.get(m.type_name)) is not None
            for c in branch.forward.choices
            if c.name == "activation" and c.source == "default" and c.value != "identity"
        ]
        return Match(self, len(members) + 2, found, [activation], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        branches, identity = match.found
        x = g.input("x")
        out = None
        for conv, norm in branches:
            y = g.call_module(norm, g.call_module(conv, x, inline=True), inline=True)
            out = y if out is None else g.call_function("add", out, y, inline=True)
        if identity is not None:
            out = g.call_function("add", out, g.call_module((identity,), x, inline=True))
        g.output(act.apply(g, match.choices[0].value, out, name="out", inline=True))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.blocks._vision_examples import _randomise_norms

        def conv_bn(c_in: int, c_out: int, k: int, stride: int) -> nn.Sequential:
            unit = nn.Sequential()
            unit.add_module("conv", nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False))
            unit.add_module("bn", nn.BatchNorm2d(c_out))
            return unit

        class Block(nn.Module):  # DingXiaoH/RepVGG repvgg.RepVGGBlock, training form
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                keeps = c_in == c_out and stride == 1
                self.rbr_identity = nn.BatchNorm2d(c_in) if keeps else None
                self.rbr_dense = conv_bn(c_in, c_out, 3, stride)
                self.rbr_1x1 = conv_bn(c_in, c_out, 1, stride)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.rbr_dense(x) + self.rbr_1x1(x)
                if self.rbr_identity is not None:
                    out = out + self.rbr_identity(x)
                return torch.relu(out)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stage0 = Block(3, 8, 2)
                self.stage1 = nn.Sequential(Block(8, 8, 2), Block(8, 8, 1), Block(8, 8, 1))
                self.linear = nn.Linear(8, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.linear(self.stage1(self.stage0(x)).mean((2, 3)))

        torch.manual_seed(0)
        net = Net().eval()
        _randomise_norms(net)
        return [Example(net, (torch.randn(2, 3, 16, 16),))]
