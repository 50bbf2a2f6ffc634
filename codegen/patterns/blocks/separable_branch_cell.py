"""A cell of separable branches summed in pairs beside a max-pool branch (the PNASNet cells of
kuangliu's pytorch-cifar, after Liu et al. 2018): each branch is a depthwise (or depth-multiplier)
kxk conv and its norm, all reading the cell's input; the pool branch is a 3x3 max-pool (with a 1x1
conv-norm projection where the cell widens and halves the map):

    CellA:  out = relu(sep7(x) + proj(max_pool(x)))
    CellB:  b1 = relu(sep7(x) + sep3(x));  b2 = relu(proj(max_pool(x)) + sep5(x))
            out = relu(fuse(cat([b1, b2])))

Read from shapes, never names: the branches are the units whose conv is spatial and grouped with
one input channel per group (their kernels distinct), the projection the 1x1 unit giving the
branches' width from a narrower one, the fuse the 1x1 unit reading twice the branches' width.
Which branches pair is the kernels' order in pytorch-cifar's CellB (the largest with the smallest,
the middle one with the pool); no key shows it, nor the activation (ReLU): both choices. The
branches' own classes (conv, norm) are called through their conv and norm, so a branch class whose
trailing activation the keys cannot show decides nothing. A cell that widens halves the map: its
branches' stride is 2 (analyze/structure.py plans it from layers/conv_groups.py's
branch_input_groups), and the pool takes the branches' stride.
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
from codegen.patterns.blocks._conv_parts import Unit, unit


def _kernel(u: Unit) -> int | None:
    k = u.kernel
    if isinstance(k, tuple) and len(set(k)) == 1:
        k = k[0]
    return k if isinstance(k, int) else None


class SeparableBranchCell(BlockPattern):
    role = "Cell"
    priority = 12

    accepts = Accepts(2, 8, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3, 4, 5, 6, 7, 8):
            return None
        # a member is a unit (a class, a Sequential, or a bare conv with its named norm beside it)
        units = {m.attr: unit(m, ctx) for m in members}
        found = [u for u in units.values() if u is not None]
        norms_apart = [m for m in members if units[m.attr] is None]
        if any(u.norm is None for u in found) and not norms_apart:
            return None
        branches = [
            u for u in found if u.groups != 1 and _kernel(u) not in (None, 1) and u.norm is not None
        ]
        if len(branches) not in (1, 3) or len({_kernel(u) for u in branches}) != len(branches):
            return None
        width = {u.out_width for u in branches}
        if len(width) != 1 or None in width:
            return None
        c = next(iter(width))
        reads = {u.in_width for u in branches}
        if len(reads) != 1 or None in reads:
            return None
        c_in = next(iter(reads))
        pointwise = [u for u in found if _kernel(u) == 1]
        # (a bare 1x1 conv's norm is a member of its own: pair them by what they normalise)
        pointwise = [self._normed(u, members, c) for u in pointwise]
        if None in pointwise or len(pointwise) + len(branches) != len(found):
            return None
        if len(found) + sum(1 for u in pointwise if u.norm and len(u.norm) == 1) != len(members):
            return None
        proj = [u for u in pointwise if u.out_width == c and u.in_width == c_in != c]
        fuse = [u for u in pointwise if u.out_width == c and u.in_width == 2 * c]
        if len(proj) + len(fuse) != len(pointwise) or len(proj) > 1 or len(fuse) > 1:
            return None
        if (len(branches) == 3) != bool(fuse) or (c_in != c) != bool(proj):
            return None
        if len(branches) == 1 and not proj:
            return None  # one branch alone is a separable conv, whatever runs beside it
        stride = branches[0].stride
        stride = stride[0] if isinstance(stride, tuple) else stride
        if not isinstance(stride, int):
            return None
        activation = ctx.choose(
            cls,
            members[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each pair's sum and after the fuse (pytorch-cifar's PNASNet)",
        )
        ordered = sorted(branches, key=lambda u: -_kernel(u))
        if len(ordered) == 3:  # (largest + smallest), (pool + middle): pytorch-cifar's CellB
            pairs = [(ordered[0], ordered[2]), (None, ordered[1])]
        else:
            pairs = [(ordered[0], None)]
        pins = [
            (cl.path, "activation", "identity", "a branch of a separable cell")
            for m in members
            if m.kind == "class"
            and units[m.attr] in branches
            and (branch := ctx.classes.get(m.type_name)) is not None
            for cl in branch.forward.choices
            if cl.name == "activation" and cl.source == "default" and cl.value != "identity"
        ]
        found_ = (pairs, proj[0] if proj else None, fuse[0] if fuse else None, stride)
        return Match(self, len(members) + 3, found_, [activation], pins=pins)

    @staticmethod
    def _normed(u: Unit, members: list, width: int) -> Unit | None:
        """A bare conv's norm, the one member normalising what it gives beside it (`conv1`,
        `bn1`: paired by the number their names share, as the structure reads them)."""
        if u.norm is not None:
            return u
        import re

        number = re.findall(r"[0-9]+", u.conv[-1])
        norms = [
            m
            for m in members
            if m.kind == "builtin"
            and m.io is not None
            and m.io.family == "norm"
            and m.io.in_width == u.out_width
            and re.findall(r"[0-9]+", m.attr) == number
        ]
        if len(norms) != 1:
            return None
        u.norm = (norms[0].attr,)
        return u

    def forward(self, match: Match, g: Graph) -> None:
        pairs, proj, fuse, stride = match.found
        activation = match.choices[0].value
        x = g.input("x")

        def branch(u: Unit | None):
            if u is None:  # the pool branch
                y = g.call_function(
                    "max_pool2d", x, 3, kwargs={"stride": stride, "padding": 1}, inline=True
                )
                if proj is not None:
                    y = g.call_module(proj.norm, g.call_module(proj.conv, y, inline=True))
                return y
            return g.call_module(u.norm, g.call_module(u.conv, x, inline=True), inline=True)

        sums = []
        for a, b in pairs:
            y = g.call_function("add", branch(a), branch(b), inline=True)
            sums.append(act.apply(g, activation, y, name="y"))
        if fuse is None:
            g.output(sums[0])
            return
        y = g.call_function("cat", sums, 1, comment="the two pairs side by side")
        y = g.call_module(fuse.norm, g.call_module(fuse.conv, y, inline=True), inline=True)
        g.output(act.apply(g, activation, y, name="out", inline=True))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.blocks._vision_examples import _randomise_norms

        def sep(c_in: int, c_out: int, k: int, stride: int) -> nn.Sequential:
            # a separable branch as a Sequential (conv, norm), named by its kernel
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=c_in, bias=False),
                nn.BatchNorm2d(c_out),
            )

        class Cell(nn.Module):  # pytorch-cifar's CellB, its branches named by kernel
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                self.stride = stride
                self.branch_7x7 = sep(c_in, c_out, 7, stride)
                self.branch_5x5 = sep(c_in, c_out, 5, stride)
                self.branch_3x3 = sep(c_in, c_out, 3, stride)
                self.pool_proj = None
                if stride == 2:
                    self.pool_proj = nn.Sequential(
                        nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
                    )
                self.fuse = nn.Sequential(
                    nn.Conv2d(2 * c_out, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                pooled = F.max_pool2d(x, 3, stride=self.stride, padding=1)
                if self.pool_proj is not None:
                    pooled = self.pool_proj(pooled)
                left = F.relu(self.branch_7x7(x) + self.branch_3x3(x))
                right = F.relu(pooled + self.branch_5x5(x))
                return F.relu(self.fuse(torch.cat([left, right], 1)))

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stem = nn.Sequential(
                    nn.Conv2d(3, 6, 3, 2, 1, bias=False), nn.BatchNorm2d(6), nn.ReLU()
                )
                self.cells = nn.Sequential(Cell(6, 6, 1), Cell(6, 12, 2), Cell(12, 12, 1))
                self.head = nn.Linear(12, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.head(self.cells(self.stem(x)).mean((2, 3)))

        torch.manual_seed(0)
        net = Net().eval()
        _randomise_norms(net)
        return [Example(net, (torch.randn(2, 3, 16, 16),))]
