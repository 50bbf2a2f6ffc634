"""A dual path block (Chen et al. 2017, "Dual Path Networks"; kuangliu/pytorch-cifar's
models/dpn.py): a bottleneck of conv-norm units whose last conv gives `residual + dense`
channels. The first `residual` of them are added to the input's first `residual` (a ResNet's
path), the rest are concatenated after the input's other channels (a DenseNet's path):

    out = act(cat([x[:, :r] + y[:, :r], x[:, r:], y[:, r:]], 1))    y = bn3(conv3(...(x)))

`x` is the input, or its projection where the block has one (the first of a stage: it reads the
previous width and gives `residual + dense` as the body does). Nothing in the block's own keys
says where `r` is: the block after it (or the classifier) reads its output width, wider than the
body gives, which analyze/layouts.py's dual_path_widths turns into (residual, dense) per block;
instances of one split share a class. A plain residual block gives what its body gives: never
this pattern, and the residual patterns never claim a block the widths prove dual path.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import call_unit, member_units, unit
from codegen.patterns.blocks.residual import DUAL_PATH, SHORTCUT_NAMES
from codegen.patterns._kit import name_order

WHY = "the widths the next block reads: a dual path block (Chen et al. 2017)"


def dual_path_split(cls, ctx: BlockContext) -> tuple[int, int] | None:
    """(residual, dense) where every instance of the class is a dual path block of one split."""
    told = {ctx.resolver.structural.get((path, DUAL_PATH)) for path, _ in cls.instances}
    if len(told) != 1 or None in told:
        return None
    return next(iter(told))[0]


def _by_widths(units):
    """The units in dataflow order: by the numbers in their names where those chain the widths
    (`conv1`..`conv3`), else from the one reading what no other gives, each next reading what
    the last gave (a spatial one first where two could); None where the widths cannot tell."""
    named = sorted(units, key=lambda u: name_order(".".join(u.conv)))
    if all(a.out_width == b.in_width for a, b in zip(named, named[1:])):
        return named
    first = [u for u in named if u.in_width not in [v.out_width for v in named if v is not u]]
    if len(first) != 1:
        return None
    ordered, rest = first, [u for u in named if u is not first[0]]
    while rest:
        nxt = sorted(
            (u for u in rest if u.in_width == ordered[-1].out_width),
            key=lambda u: u.kernel in (1, (1, 1)),
        )
        if not nxt:
            return None
        ordered.append(nxt[0])
        rest.remove(nxt[0])
    return ordered


class DualPathBlock(BlockPattern):
    role = "DualPathBlock"
    priority = 30  # over the residual bottleneck, which the widths prove it is not

    def match(self, cls, ctx: BlockContext) -> Match | None:
        split = dual_path_split(cls, ctx)
        members = modules(cls)
        if split is None or tensors(cls):
            return None
        residual, dense = split
        shortcuts = [m for m in members if m.attr.lower() in SHORTCUT_NAMES]
        body = [m for m in members if m not in shortcuts and m.kind != "placeholder"]
        if len(shortcuts) > 1:
            return None
        units = member_units(body, ctx, _by_widths)
        if not units or len(units) < 2 or any(u.norm is None for u in units):
            return None
        if any(a.out_width != b.in_width for a, b in zip(units, units[1:])):
            return None
        if units[-1].out_width != residual + dense:
            return None
        short = None
        if shortcuts and shortcuts[0].children:
            short = unit(shortcuts[0], ctx)
            if short is None or short.norm is None:
                return None
            if (short.in_width, short.out_width) != (units[0].in_width, residual + dense):
                return None
        activation = ctx.choose(
            cls,
            units[0].conv[0],
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each conv-norm unit but the last, and after the concatenation",
        )
        return Match(self, len(members) + 3, (units, short, residual), [activation])

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        """Its width: the last conv's and the (projected) input's, the residual part once."""
        units, short, _ = match.found
        last = ".".join(units[-1].conv[:1])
        if short is None:
            return (last,), True
        return (last, ".".join(short.conv[:1])), False

    def shared_channels(self, match: Match) -> int:
        return match.found[2]

    def forward(self, match: Match, g: Graph) -> None:
        units, short, residual = match.found
        activation = match.choices[0].value
        x = g.input("x")
        out = x
        for u in units[:-1]:
            out = call_unit(g, u, out, activation, "out")
        out = call_unit(g, units[-1], out, "identity", "out")
        if short is not None:
            x = call_unit(g, short, x, "identity", "x")
        head, tail = (Slice(), Slice(None, residual)), (Slice(), Slice(residual, None))
        summed = g.call_function(
            "add",
            g.call_function("getitem", x, head, inline=True),
            g.call_function("getitem", out, head, inline=True),
            inline=True,
        )
        parts = [
            summed,
            g.call_function("getitem", x, tail, inline=True),
            g.call_function("getitem", out, tail, inline=True),
        ]
        out = g.call_function(
            "cat",
            parts,
            1,
            name="out",
            comment=f"the first {residual} channels added (residual path), the rest concatenated",
        )
        g.output(act.apply(g, activation, out, name="out"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.blocks._vision_examples import _randomise_norms

        class Block(nn.Module):  # kuangliu/pytorch-cifar models/dpn.py Bottleneck
            def __init__(self, last: int, mid: int, out: int, dense: int, first: bool) -> None:
                super().__init__()
                self.out_planes = out
                self.conv1 = nn.Conv2d(last, mid, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(mid)
                self.conv2 = nn.Conv2d(mid, mid, 3, 1, 1, groups=2, bias=False)
                self.bn2 = nn.BatchNorm2d(mid)
                self.conv3 = nn.Conv2d(mid, out + dense, 1, bias=False)
                self.bn3 = nn.BatchNorm2d(out + dense)
                self.shortcut = nn.Sequential()
                if first:
                    self.shortcut = nn.Sequential(
                        nn.Conv2d(last, out + dense, 1, bias=False), nn.BatchNorm2d(out + dense)
                    )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(self.bn1(self.conv1(x)))
                out = F.relu(self.bn2(self.conv2(out)))
                out = self.bn3(self.conv3(out))
                x = self.shortcut(x)
                d = self.out_planes
                return F.relu(torch.cat([x[:, :d] + out[:, :d], x[:, d:], out[:, d:]], 1))

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(8)
                self.layer1 = nn.Sequential(Block(8, 8, 8, 2, True), Block(12, 8, 8, 2, False))
                self.linear = nn.Linear(14, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.layer1(F.relu(self.bn1(self.conv1(x))))
                return self.linear(out.mean((2, 3)))

        torch.manual_seed(0)
        net = Net().eval()
        _randomise_norms(net)
        return [Example(net, (torch.randn(2, 3, 8, 8),))]
