"""Xception's block (Chollet 2017, fig. 5; Cadene's pretrainedmodels and timm's legacy
`xception.Block`): a Sequential `rep` of ReLU, separable conv and batch norm triples, added to the
input, or to its 1x1 projection `skip` and that projection's norm `skipbn`:

    out = rep(x)                                   # [ReLU,] SeparableConv, BN, ReLU, ...
    out = max_pool(out, 3, stride=2, padding=1)    # where the block has a projection
    return out + skipbn(skip(x))                   # or + x

Read from the names `rep`, `skip`, `skipbn` and from `rep` holding separable convs
(blocks/separable_conv.py). What leaves no key follows the paper's entry and exit flows, where
every projected block halves the resolution, and is pinned (Match.pins) as the code fixes it:
`rep` opens with a ReLU where its first slot holds no tensors, the 3x3 stride-2 max-pool closes
`rep` where the block projects (a choice), and the model's stem convs `conv1` (stride 2) and
`conv2` pad nothing (layers/conv.py).
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
from codegen.patterns.blocks._vision_examples import _randomise_norms
from codegen.patterns.blocks.chain import STAGE_POOLS, stage_pool

WHY = "Xception's convention (Chollet 2017; Cadene's and timm's legacy Xception)"
POOL_NOTE = "Xception's pool closing a projected block, by convention (a choice)"


class XceptionBlock(BlockPattern):
    role = "XceptionBlock"
    priority = 6

    accepts = Accepts(1, 3, tensors=False, names=("rep",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = {m.attr: m for m in modules(cls)}
        if tensors(cls) or set(members) not in ({"rep"}, {"rep", "skip", "skipbn"}):
            return None
        rep = members["rep"]
        if rep.kind != "sequential" or rep.io is None or not rep.io.in_width:
            return None
        if not any(ctx.role(c) == "SeparableConv" for c in rep.children):
            return None
        skip, norm = members.get("skip"), members.get("skipbn")
        if skip is not None:
            if family(skip) != "conv" or family(norm) != "norm" or skip.io is None:
                return None
            if skip.io.in_width != rep.io.in_width or skip.io.out_width != rep.io.out_width:
                return None
        elif rep.io.in_width != rep.io.out_width:
            return None
        usual = "max_pool_3x3" if skip is not None else "none"
        pool = ctx.choose(
            cls,
            "rep",
            "pooling_after",
            usual,
            [p for p in ("none", *STAGE_POOLS) if p != usual],
            "after rep, before the residual sum",
        )
        pins = [("", "xception_stem", True, f"{WHY}: conv1 strides 2, the stem pads nothing")]
        first = rep.children[0] if rep.children else None
        if first is not None and first.kind == "placeholder":
            relu = act.MODULES["relu"]
            for path, _ in cls.instances:
                where = f"{path}.rep.{first.attr}" if path else f"rep.{first.attr}"
                pins.append((where, "module_type", relu, f"{WHY}: rep opens with a ReLU"))
        found = (skip is not None, pool.value, pool.value == usual)
        return Match(self, len(members), found, [pool], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        projected, pool, usual = match.found
        x = g.input("x")
        out = g.call_module(("rep",), x, name="out")
        if pool != "none":
            out = stage_pool(g, pool, out, 2, POOL_NOTE if usual else "")
        shortcut = x
        if projected:
            shortcut = g.call_module(("skipbn",), g.call_module(("skip",), x, inline=True))
        g.output(g.call_function("add", out, shortcut, name="x"))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    """timm's legacy Xception blocks (its entry flow's shape, narrowed): a projected block that
    halves, then two that keep their width, starting with a ReLU."""
    import torch
    import torch.nn as nn

    class SeparableConv2d(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_in, 3, 1, 1, groups=c_in, bias=False)
            self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.pointwise(self.conv1(x))

    class Block(nn.Module):
        def __init__(self, c_in: int, c_out: int, reps: int, stride: int) -> None:
            super().__init__()
            self.skip = self.skipbn = None
            if c_out != c_in or stride != 1:
                self.skip = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
                self.skipbn = nn.BatchNorm2d(c_out)
            rep = []
            for i in range(reps):
                rep += [nn.ReLU(), SeparableConv2d(c_in if i == 0 else c_out, c_out)]
                rep.append(nn.BatchNorm2d(c_out))
            if stride != 1:
                rep.append(nn.MaxPool2d(3, stride, 1))
            self.rep = nn.Sequential(*rep)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skip = x if self.skip is None else self.skipbn(self.skip(x))
            return self.rep(x) + skip

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block1 = Block(8, 12, 2, 2)
            self.block2 = Block(12, 12, 3, 1)
            self.block3 = Block(12, 12, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block3(self.block2(self.block1(x)))

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model, (torch.randn(2, 8, 8, 8),))
