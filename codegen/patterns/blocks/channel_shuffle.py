"""ShuffleNetV2's unit (Ma et al. 2018, fig. 3c/d): two branches side by side, concatenated, the
channels shuffled so the next unit's halves mix both. Two layouts write it:

- torchvision's `shufflenetv2.InvertedResidual` (`branch1`, `branch2`) shuffles after the
  concatenation and splits the basic unit's input into its two halves:
      downsampling unit:  out = cat([branch1(x), branch2(x)], 1)
      basic unit:         x1, x2 = x.chunk(2, 1); out = cat([x1, branch2(x2)], 1)
      return shuffle(out, groups=2)    # [b, g, c/g, h, w] -> transpose(1, 2) -> [b, c, h, w]
- Megvii's ShuffleNet-Series `ShuffleV2Block` (`branch_proj`, `branch_main`) shuffles in the split
  instead: the basic unit passes the even channels on and feeds the odd ones to `branch_main`,
  and no unit shuffles after its concatenation (the same network: the split of the next unit
  undoes the interleave). Its downsampling unit's branches may give unequal widths.

The downsampling unit is proven by widths (both branches read one width); the basic unit, a lone
main branch, is told apart from a plain block by its name alone (its layout's empty or absent
projection branch leaves no key), so its forward is marked guessed. The split, the shuffle and each
branch's closing activation (after a final norm, past the last key) leave no keys: choices, at
the layout's convention. Both units halve the resolution where they have two branches
(analyze/strides.py: shuffle_downsamplers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codegen.ir import Module
from codegen.ir.graph import Graph, Value
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


@dataclass(frozen=True)
class ShuffleLayout:
    """How one library names and wires the unit."""

    first: re.Pattern  # the projection branch, only in the downsampling unit (concatenated first)
    second: re.Pattern  # the main branch, in every unit
    split: str  # how the basic unit splits its input: "halves" (chunk) or "even_odd"
    shuffle_groups: int  # the shuffle after the concatenation (1: none)
    equal_halves: bool  # the downsampling unit's branches give equal widths
    source: str


LAYOUTS = (
    ShuffleLayout(
        re.compile(r"branch_?1", re.I),
        re.compile(r"branch_?2", re.I),
        "halves",
        2,
        True,
        "torchvision's ShuffleNetV2",
    ),
    ShuffleLayout(
        re.compile(r"branch_proj", re.I),
        re.compile(r"branch_main", re.I),
        "even_odd",
        1,
        False,
        "Megvii's ShuffleNet-Series",
    ),
)
SPLITS = ("halves", "even_odd")


def shuffle_branches(names) -> tuple[str | None, str, ShuffleLayout] | None:
    """(the projection branch or None, the main branch, the layout) where `names` are exactly a
    shuffle unit's members as one layout names them."""
    names = list(names)
    for layout in LAYOUTS:
        second = [n for n in names if layout.second.fullmatch(n)]
        first = [n for n in names if layout.first.fullmatch(n)]
        if len(second) == 1 and len(first) <= 1 and len(names) == len(first) + 1:
            return (first[0] if first else None), second[0], layout
    return None


def unshown_shuffle(convs: list[Module]) -> str:
    """Why a body whose convs run in turn is guessed where a grouped 1x1 conv feeds another conv:
    ShuffleNet v1 (Zhang et al. 2018) shuffles the channels after it (pytorch-cifar's and jaxony's
    units right after it, Megvii's after the depthwise conv that follows), a step no key shows,
    which the groups' only purpose implies; '' where no 1x1 conv is grouped."""
    from codegen.patterns.blocks._conv_parts import arg, conv_kernel

    for m in convs[:-1]:
        kernel = conv_kernel(m)
        pointwise = kernel in (1, (1, 1))
        if family(m) == "conv" and pointwise and isinstance(arg(m, "groups"), int):
            if arg(m, "groups") > 1:
                return (
                    f"{m.attr} is a grouped 1x1 conv, after which ShuffleNet shuffles the "
                    "channels (no key shows it): read without a shuffle"
                )
    return ""


def _ends_in_norm(m: Module) -> bool:
    real = [c for c in m.children if c.kind != "placeholder"]
    return bool(real) and m.children[-1] is real[-1] and family(real[-1]) == "norm"


class _Shuffle(BlockPattern):
    priority = 9  # two named branches and a shuffle: rather than Inception's plain concatenation
    split = False
    halves_input = False  # the forward reads twice the width its members show

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.kind != "sequential" or m.io is None for m in members):
            return None
        named = shuffle_branches(m.attr for m in members)
        if named is None or (named[0] is None) != self.split:
            return None
        first = [m for m in members if m.attr == named[0]]
        b2 = next(m for m in members if m.attr == named[1])
        layout = named[2]
        if not b2.io.in_width or b2.io.out_width != b2.io.in_width and self.split:
            return None
        if not self.split:
            b1 = first[0]
            if b1.io.in_width != b2.io.in_width:
                return None
            if layout.equal_halves and b1.io.out_width != b2.io.out_width:
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
        usual = layout.shuffle_groups
        groups = ctx.choose(
            cls,
            b2.attr,
            "shuffle_groups",
            usual,
            [g for g in (2, 1) if g != usual],
            f"channel shuffle after the concatenation ({layout.source}: {usual})",
        )
        choices.append(groups)
        split = None
        if self.split:
            others = [s for s in SPLITS if s != layout.split]
            why = f"which channels {b2.attr} reads ({layout.source}: {layout.split})"
            split = ctx.choose(cls, b2.attr, "split", layout.split, others, why)
            choices.append(split)
        found = ([m.attr for m in branches], closing, int(groups.value), split and split.value)
        guessed = (
            f"the input split in two and one part passed through: read from the name {b2.attr} "
            f"alone ({layout.source}), which no width proves"
            if self.split
            else ""
        )
        return Match(self, len(members), found, choices, guessed=guessed)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return tuple(match.found[0]), self.split

    def forward(self, match: Match, g: Graph) -> None:
        attrs, closing, groups, split = match.found
        x = g.input("x")
        if split == "even_odd":
            # channel pairs: [b, c/2, 2, h, w]; the even channels pass, the odd ones are mixed
            size = g.call_method("size", x, 0, inline=True)
            height = g.call_method("size", x, 2, inline=True)
            width = g.call_method("size", x, 3, inline=True)
            paired = g.call_method("reshape", x, size, -1, 2, height, width, name="pairs")
            kept = g.call_function("torch.select", paired, 2, 0, inline=True)
            odd = g.call_function("torch.select", paired, 2, 1, inline=True)
            parts = [kept, self._branch(g, attrs[0], closing[0], odd)]
        elif split:
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
        return [_example(two=True), _megvii_example(downsample=True)]


class ShuffleSplitUnit(_Shuffle):
    role = "ShuffleUnit"
    split = True
    halves_input = True

    @staticmethod
    def examples():
        return [_example(two=False), _megvii_example()]


def _example(two: bool) -> Example:
    import torch
    import torch.nn as nn

    class Unit(nn.Module):  # torchvision.models.shufflenetv2.InvertedResidual
        # `two` branches: torchvision's downsampling unit, at its stride 2 (which leaves no key:
        # the convention analyze/strides.py plans, a choice of each conv).
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
            self.unit = Unit(8, 8, two, stride=2 if two else 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.unit(x)

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model, (torch.randn(2, 8, 6, 6),))


def _megvii_example(downsample: bool = False) -> Example:
    import torch
    import torch.nn as nn

    class ShuffleV2Block(nn.Module):  # megvii-model/ShuffleNet-Series ShuffleNetV2/blocks.py
        def __init__(self, inp: int, oup: int, mid: int, stride: int) -> None:
            super().__init__()
            self.stride = stride
            outputs = oup - inp  # the main branch gives what the projection does not
            self.branch_main = nn.Sequential(
                nn.Conv2d(inp, mid, 1, 1, 0, bias=False),
                nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False),
                nn.BatchNorm2d(mid),
                nn.Conv2d(mid, outputs, 1, 1, 0, bias=False),
                nn.BatchNorm2d(outputs),
                nn.ReLU(inplace=True),
            )
            if stride == 2:
                self.branch_proj = nn.Sequential(
                    nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
                    nn.BatchNorm2d(inp),
                    nn.Conv2d(inp, inp, 1, 1, 0, bias=False),
                    nn.BatchNorm2d(inp),
                    nn.ReLU(inplace=True),
                )

        def forward(self, old_x: torch.Tensor) -> torch.Tensor:
            if self.stride == 2:
                return torch.cat((self.branch_proj(old_x), self.branch_main(old_x)), 1)
            b, c, h, w = old_x.shape  # the even channels pass, the odd ones go through
            x = old_x.reshape(b * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, -1, c // 2, h, w)
            return torch.cat((x[0], self.branch_main(x[1])), 1)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if downsample:  # 8 -> 24 channels: 8 projected, 16 from the main branch
                self.features = nn.Sequential(ShuffleV2Block(8, 24, 12, 2))
            else:
                self.features = nn.Sequential(ShuffleV2Block(6, 12, 6, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.features(x)

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model, (torch.randn(2, 8 if downsample else 12, 6, 6),))
