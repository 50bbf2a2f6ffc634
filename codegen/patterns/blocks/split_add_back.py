"""A map split by a narrower consumer, its rest joined to the input and added back (issue 16):

    t = act(first(x))                        # [batch, a, ...]
    kept, rest = t.split([b, a - b], 1)      # the next part reads b < a channels
    y = act(second(kept)) + cat([x, rest], 1)
    return fuse(y)

IDN's enhancement unit (Hui et al. 2018, yjn870/IDN-pytorch `DBlock`: `enhancement_top`,
`enhancement_bottom`, a 1x1 `compression`) is the best known; any block whose parts do not chain
where one reads fewer channels than the other gives, and whose second part gives exactly the
block's input width plus the channels left over, reads the same way. The widths prove it:
`second` reads b of the a channels `first` gives, and gives in + (a - b), what `fuse` reads, so
the input and the rest are what it is added to; no other order of the three fits (the match
requires that one alone does). Which part goes on (IDN: the first `cut` channels), the order of
the concatenation (IDN: the input first) and the activation after each part (IDN's LeakyReLU 0.05
throughout; a Sequential's trailing one leaves no slot) are choices a calibration can move.
"""

from __future__ import annotations

from itertools import permutations

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

ROLE = "SplitAddBlock"
IDN = "IDN's enhancement unit: LeakyReLU 0.05 after every conv (yjn870/IDN-pytorch models.py)"


def _part(m) -> bool:
    """A layer, or a Sequential of layers, whose widths are known (conv or linear)."""
    if m.io is None or not m.io.in_width or not m.io.out_width:
        return False
    if m.kind == "builtin":
        return family(m) in ("conv", "linear")
    if m.kind != "sequential" or not m.children:
        return False
    layers = [c for c in m.children if c.kind != "placeholder"]
    return bool(layers) and all(
        c.kind == "builtin" and family(c) in ("conv", "linear") for c in layers
    )


def _layers_family(m) -> str | None:
    """The family of a part's layers (a Sequential's first layer)."""
    if m.kind == "sequential":
        m = next(c for c in m.children if c.kind != "placeholder")
    return family(m)


def slot_pins(cls, parts: list, activation: str, why: str) -> list[tuple]:
    """module_type pins for the slots (no tensors) between the layers of Sequential parts: the
    activation the block applies after each part, where its code uses one throughout."""
    module = act.MODULES.get(activation)
    if module is None:
        return []
    return [
        (".".join(p for p in (path, m.attr, slot.attr) if p), "module_type", module, why)
        for path, _ in cls.instances
        for m in parts
        if m.kind == "sequential"
        for slot in m.children
        if slot.kind == "placeholder"
    ]


def readings(members: list) -> list[tuple]:
    """Every (first, second, fuse) whose widths fit the split-and-add-back dataflow."""
    out = []
    for first, second, fuse in permutations(members, 3):
        a, b = first.io.out_width, second.io.in_width
        if b < a and second.io.out_width == first.io.in_width + a - b:
            if fuse.io.in_width == second.io.out_width:
                out.append((first, second, fuse))
    return out


class SplitAddBlock(BlockPattern):
    role = ROLE
    priority = 8  # proven by widths that do not chain: rather than any chain of the parts

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3 or not all(_part(m) for m in members):
            return None
        kinds = {_layers_family(m) for m in members}
        if len({m.io.ndim for m in members}) != 1 or len(kinds) != 1:
            return None
        found = readings(members)
        if len(found) != 1:
            return None
        first, second, fuse = found[0]
        where = second.attr
        activation = ctx.choose(
            cls,
            where,
            "activation",
            "leaky_relu_0.05",
            act.alternatives("leaky_relu_0.05", conv=True),
            "after each part (IDN's LeakyReLU 0.05)",
        )
        if activation.source == "default":
            activation.note = IDN
        kept = ctx.choose(
            cls, where, "kept_part", "first", ["last"], "which channels the second part reads"
        )
        join = ctx.choose(
            cls, where, "join_order", "input_first", ["rest_first"], "the concatenation added"
        )
        # The slots between a Sequential part's layers hold the same activation (IDN's code).
        pins = slot_pins(cls, [first, second], activation.value, IDN)
        unsettled = [c.name for c in (activation, kept, join) if c.source == "default"]
        guessed = ""
        if unsettled:
            guessed = (
                f"no key records {', '.join(unsettled)} (IDN's enhancement unit by convention)"
            )
        split = (second.io.in_width, first.io.out_width - second.io.in_width)
        dim = -1 if kinds == {"linear"} else 1  # a Linear's features are the last dimension
        found = (first.attr, second.attr, fuse.attr, split, dim)
        return Match(
            self, len(members), found, [activation, kept, join], guessed=guessed, pins=pins
        )

    def forward(self, match: Match, g: Graph) -> None:
        first, second, fuse, (b, rest_width), dim = match.found
        activation, kept, join = (c.value for c in match.choices)
        x = g.input("x")
        out = act.apply(g, activation, g.call_module((first,), x, inline=True), name="out")
        widths = [b, rest_width] if kept == "first" else [rest_width, b]
        parts = g.call_method("split", out, widths, kwargs={"dim": dim}, name="parts")
        on, back = (0, 1) if kept == "first" else (1, 0)
        part = g.call_function("getitem", parts, on, inline=True)
        rest = g.call_function("getitem", parts, back, name="rest")
        refined = g.call_module((second,), part, inline=True)
        refined = act.apply(g, activation, refined, name="refined")
        joined = [x, rest] if join == "input_first" else [rest, x]
        joined = g.call_function("cat", joined, dim, inline=True)
        out = g.call_function(
            "add", refined, joined, name="out", comment="the input and the rest, added back"
        )
        g.output(g.call_module((fuse,), out))

    @staticmethod
    def examples():
        return [_idn_example()]


def _idn_example() -> Example:
    import torch
    import torch.nn as nn

    class EnhancementUnit(nn.Module):  # IDN's DBlock at width 12, d 3 (cut = 12 - 12 / 4)
        def __init__(self, c: int = 12, d: int = 3) -> None:
            super().__init__()
            self.c = c
            self.enhancement_top = nn.Sequential(
                nn.Conv2d(c, c - d, 3, padding=1),
                nn.LeakyReLU(0.05),
                nn.Conv2d(c - d, c, 3, padding=1),
                nn.LeakyReLU(0.05),
            )
            self.enhancement_bottom = nn.Sequential(
                nn.Conv2d(c - d, c, 3, padding=1),
                nn.LeakyReLU(0.05),
                nn.Conv2d(c, c + d, 3, padding=1),
                nn.LeakyReLU(0.05),
            )
            self.compression = nn.Conv2d(c + d, c, 1)

        def forward(self, x):
            t = self.enhancement_top(x)
            cut = self.c - self.c // 4
            out = self.enhancement_bottom(t[:, :cut]) + torch.cat((x, t[:, cut:]), 1)
            return self.compression(out)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Conv2d(3, 12, 3, padding=1)
            self.block = EnhancementUnit()

        def forward(self, x):
            return self.block(self.head(x))

    torch.manual_seed(0)
    return Example(Net().eval(), (torch.randn(2, 3, 5, 5),))
