"""ShuffleNetV2's unit (torchvision's `shufflenetv2.InvertedResidual`): two branches side by side,
concatenated, then the channels shuffled so the next unit's halves mix both:

    downsampling unit:  out = cat([branch1(x), branch2(x)], 1)
    basic unit:         x1, x2 = x.chunk(2, 1); out = cat([x1, branch2(x2)], 1)
    return shuffle(out, groups=2)    # [b, g, c/g, h, w] -> transpose(1, 2) -> [b, c, h, w]

The downsampling unit is proven by widths (both branches read one width and give halves of the
output); the basic unit, a lone `branch2`, is told apart from a plain block by its name alone
(torchvision's, whose empty `branch1` leaves no key), so its forward is marked guessed. The
shuffle and each branch's closing activation (after a final norm, past the last key) leave no
keys: choices.
"""

from __future__ import annotations

import re

from codegen.ir import Module
from codegen.ir.graph import Graph, Value
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors

FIRST, SECOND = re.compile(r"branch_?1", re.I), re.compile(r"branch_?2", re.I)


def _ends_in_norm(m: Module) -> bool:
    real = [c for c in m.children if c.kind != "placeholder"]
    return bool(real) and m.children[-1] is real[-1] and family(real[-1]) == "norm"


class _Shuffle(BlockPattern):
    priority = 9  # two named branches and a shuffle: rather than Inception's plain concatenation
    split = False
    halves_input = False  # the forward reads twice the width its members show

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.kind != "sequential" or m.io is None for m in members):
            return None
        second = [m for m in members if SECOND.fullmatch(m.attr)]
        first = [m for m in members if FIRST.fullmatch(m.attr)]
        if len(second) != 1 or len(members) != len(first) + 1 or len(first) != (not self.split):
            return None
        b2 = second[0]
        if not b2.io.in_width or b2.io.out_width != b2.io.in_width and self.split:
            return None
        if not self.split:
            b1 = first[0]
            if b1.io.in_width != b2.io.in_width or b1.io.out_width != b2.io.out_width:
                return None
        branches = [m for m in (*first, b2)]
        choices = []
        closing = []
        for m in branches:
            if _ends_in_norm(m):
                c = ctx.choose(
                    cls,
                    m.attr,
                    "activation",
                    "relu",
                    act.alternatives("relu"),
                    f"after {m.attr}'s last norm (a trailing layer without tensors)",
                    aliases=act.ALIASES,
                )
                choices.append(c)
                closing.append(c.value)
            else:
                closing.append("identity")
        groups = ctx.choose(
            cls, b2.attr, "shuffle_groups", 2, [1], "channel shuffle after the concatenation"
        )
        choices.append(groups)
        found = ([m.attr for m in branches], closing, int(groups.value))
        return Match(self, len(members), found, choices)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return tuple(match.found[0]), self.split

    def forward(self, match: Match, g: Graph) -> None:
        attrs, closing, groups = match.found
        x = g.input("x")
        if self.split:
            halves = g.call_method("chunk", x, 2, kwargs={"dim": 1}, name="halves")
            kept = g.call_function("getitem", halves, 0, inline=True)
            parts = [kept, self._branch(g, attrs[0], closing[0], halves, split=True)]
        else:
            parts = [self._branch(g, a, c, x) for a, c in zip(attrs, closing)]
        out = g.call_function("cat", parts, 1, name="x")
        if groups > 1:
            size = g.call_method("size", out, 0, inline=True)
            height = g.call_method("size", out, 2, inline=True)
            width = g.call_method("size", out, 3, inline=True)
            out = g.call_method("reshape", out, size, groups, -1, height, width, inline=True)
            out = g.call_method("transpose", out, 1, 2, inline=True)
            out = g.call_function(
                "flatten", out, 1, 2, name="x", comment=f"channel shuffle, {groups} groups"
            )
        g.output(out)

    @staticmethod
    def _branch(g: Graph, attr: str, closing: str, x: Value, split: bool = False) -> Value:
        if split:
            x = g.call_function("getitem", x, 1, inline=True)
        y = g.call_module((attr,), x, inline=closing != "identity")
        return act.apply(g, closing, y, inline=True) if closing != "identity" else y


class ShuffleUnit(_Shuffle):
    role = "ShuffleUnit"

    @staticmethod
    def examples():
        return [_example(two=True)]


class ShuffleSplitUnit(_Shuffle):
    role = "ShuffleUnit"
    split = True
    halves_input = True
    trust = "guessed"
    trust_note = (
        "the input split in two halves and one half passed through: read from the name branch2 "
        "alone (torchvision's ShuffleNetV2), which no width proves"
    )

    @staticmethod
    def examples():
        return [_example(two=False)]


def _example(two: bool) -> Example:
    import torch
    import torch.nn as nn

    class Unit(nn.Module):  # torchvision.models.shufflenetv2.InvertedResidual
        # `two` branches: torchvision's downsampling unit, here at stride 1 (its stride 2 leaves
        # no key: a choice of each conv, as everywhere).
        def __init__(self, c_in: int, c_out: int, two: bool, stride: int = 1) -> None:
            super().__init__()
            self.two, b = two, c_out // 2
            if two:
                self.branch1 = nn.Sequential(
                    nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False),
                    nn.BatchNorm2d(c_in),
                    nn.Conv2d(c_in, b, 1, bias=False),
                    nn.BatchNorm2d(b),
                    nn.ReLU(inplace=True),
                )
            self.branch2 = nn.Sequential(
                nn.Conv2d(c_in if two else b, b, 1, bias=False),
                nn.BatchNorm2d(b),
                nn.ReLU(inplace=True),
                nn.Conv2d(b, b, 3, stride, 1, groups=b, bias=False),
                nn.BatchNorm2d(b),
                nn.Conv2d(b, b, 1, bias=False),
                nn.BatchNorm2d(b),
                nn.ReLU(inplace=True),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.two:
                x1, x2 = x.chunk(2, dim=1)
                out = torch.cat((x1, self.branch2(x2)), dim=1)
            else:
                out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
            n, c, h, w = out.shape
            return out.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unit = Unit(8, 8, two)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.unit(x)

    torch.manual_seed(0)
    model = Holder()
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.2)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    return Example(model, (torch.randn(2, 8, 6, 6),))
