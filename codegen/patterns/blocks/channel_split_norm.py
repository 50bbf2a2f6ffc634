"""Two norms over two parts of one map's channels, concatenated back (issue 16):

    first, second = x.split([c - kept, kept], 1)
    return cat([affine_norm(first), batch_norm(second)], 1)

IBN-Net's `IBN` (Pan et al. 2018, resnet_ibn.py: `IN` over the first half, `BN` over the rest),
the re-identification ports that copy it (fast-reid's `IBN`, a ratio other than a half), and any
module that holds nothing but a batch norm with running statistics beside a norm with only a
scale and a shift. Two norms in a row would renormalise what the first normalised, so no layout
chains them: the module is read as a partition of the channels, and its width is the two norms'
widths together (analyze/structure.py's class widths), which the conv before it proves where it
gives that sum. Which part comes first, and what the statistic-free norm is, no key records:
IBN-Net's convention (an instance norm over the first channels) is the default, the class says
guessed, and both are choices calibration can move.
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
from codegen.patterns.blocks._vision_examples import _randomise_norms
from codegen.safetext import is_index

_WHY = "IBN-Net's IBN (Pan et al. 2018): an instance norm over the first channels"
# the layers/norms.py notes of a norm's type choice: read from running statistics, or not
_KEPT = "running statistics"
ORDERS = ("statistics_last", "statistics_first")


def _type_choice(m):
    return next((c for c in m.choices if c.name == "module_type"), None)


def split_norm_parts(members) -> tuple | None:
    """(the statistic-free norm, the batch norm) where `members` are exactly two named norms over
    maps, one keeping running statistics and one not; else None."""
    if len(members) != 2 or any(family(m) != "norm" or is_index(m.attr) for m in members):
        return None
    if any(m.io.in_width is None or m.kind != "builtin" for m in members):
        return None
    kept = [m for m in members if (c := _type_choice(m)) is not None and c.note == _KEPT]
    if len(kept) != 1:
        return None
    free = next(m for m in members if m is not kept[0])
    kind = _type_choice(free)
    if kind is None or kind.note == _KEPT:
        return None
    return free, kept[0]


def split_norm_width(members) -> int | None:
    """The width of a map a split norm's members cover together (its class's width), or None."""
    parts = split_norm_parts(members)
    return None if parts is None else parts[0].io.in_width + parts[1].io.in_width


class ChannelSplitNorm(BlockPattern):
    role = "SplitNorm"
    priority = 9  # proven by what the pair cannot be: a chain of two norms
    trust_note = "which norm reads the first channels, and the kind of the one without running "
    trust_note += "statistics, are IBN-Net's convention (choices)"

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if tensors(cls):
            return None
        parts = split_norm_parts(modules(cls))
        if parts is None:
            return None
        free, kept = parts
        order = ctx.choose(cls, "", "split_order", ORDERS[0], list(ORDERS[1:]), _WHY)
        pins = []
        kind = _type_choice(free)
        if kind.source == "default" and kind.value != "nn.InstanceNorm":
            pins.append((kind.path, "module_type", "nn.InstanceNorm", _WHY))
        found = (free.attr, kept.attr, order.value)
        return Match(self, 2, found, [order], guessed=self.trust_note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        free, kept, order = match.found
        x = g.input("x")
        kept_width = g.getattr((kept, "num_features"), name="kept")
        rest = g.call_function(
            "sub", g.call_method("size", x, 1, inline=True), kept_width, inline=True
        )
        first, second = (kept, free) if order == "statistics_first" else (free, kept)
        widths = [kept_width, rest] if first == kept else [rest, kept_width]
        parts = g.call_method("split", x, widths, kwargs={"dim": 1}, name="parts")
        outs = [
            g.call_module((attr,), g.call_function("getitem", parts, i, inline=True), inline=True)
            for i, attr in enumerate((first, second))
        ]
        g.output(g.call_function("cat", outs, 1, name="x"))

    @staticmethod
    def examples():
        return [_ibn_example()]


def _ibn_example() -> Example:
    import torch
    import torch.nn as nn

    class IBN(nn.Module):  # IBN-Net's IBN, a quarter of the channels instance-normalised
        def __init__(self, planes: int) -> None:
            super().__init__()
            self.half = planes // 4
            self.IN = nn.InstanceNorm2d(self.half, affine=True)
            self.BN = nn.BatchNorm2d(planes - self.half)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            first, second = torch.split(x, [self.half, x.size(1) - self.half], 1)
            return torch.cat((self.IN(first), self.BN(second)), 1)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.norm = IBN(8)
            self.relu = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.relu(self.norm(self.conv(x)))

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model.eval(), (torch.randn(2, 3, 6, 6),))
