"""CARN's cascading connections (Ahn et al. 2018, nmhkahn/CARN-pytorch `carn.Block` and the
net's own body): residual blocks `b1..bN` keeping the width, each followed by a 1x1 fusion
`cN` that reads everything concatenated so far (the input and every block's output):

    c0 = o0 = x
    c1 = cat([c0, b1(o0)]);  o1 = c1(c1)
    c2 = cat([c1, b2(o1)]);  o2 = c2(c2)   ...
    return oN

The widths order it: the fusion reading (i + 1) times the width comes after the i-th block.
In CARN's code every block adds its input and then applies a ReLU, and every fusion is a conv
and a ReLU (`ops.BasicBlock`): activations no key shows, pinned here where the cascade shows it
is CARN's (blocks/residual_body.py's after_sum, blocks/conv_body.py's activation).
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Value
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
from codegen.patterns._kit import name_order

CARN = "CARN's cascading blocks (Ahn et al. 2018): ReLU after each block's sum and fusion conv"
PINS = {"ResidualBody": "after_sum", "ConvBody": "activation"}


def _fusion(m, ctx: BlockContext) -> bool:
    if m.kind == "builtin":
        return family(m) == "conv"
    return m.kind == "class" and ctx.role(m) == "ConvBlock"


def cascade(members, ctx: BlockContext, width: int) -> list[tuple[str, str]] | None:
    """The (block, fusion) pairs of a cascade over `width` channels, in order; None if the
    members are not exactly one."""
    blocks, fusions = [], {}
    for m in members:
        if m.io is None or not m.io.in_width:
            return None
        if (m.io.in_width, m.io.out_width) == (width, width) and not _fusion(m, ctx):
            blocks.append(m)
        elif _fusion(m, ctx) and m.io.out_width == width and m.io.in_width % width == 0:
            fusions[m.io.in_width // width] = m
        else:
            return None
    blocks.sort(key=lambda m: name_order(m.attr))
    if not blocks or sorted(fusions) != list(range(2, len(blocks) + 2)):
        return None
    pairs = [(b, fusions[i + 2]) for i, b in enumerate(blocks)]
    # numbered in pairs, as CARN names them (`b1`, `c1`): a DLA tree's `tree1`, `tree2` and
    # `root` (blocks/aggregation_tree.py) also concatenate, but not step by step
    if any(
        name_order(b.attr)[0] != (i,) or name_order(c.attr)[0] != (i,)
        for i, (b, c) in enumerate(pairs, 1)
    ):
        return None
    return [(b.attr, c.attr) for b, c in pairs]


def carn_pins(pairs, members, ctx: BlockContext) -> list[tuple[str, str, object, str]]:
    """The activations CARN's code applies that no key shows, pinned on the member classes."""
    by_attr = {m.attr: m for m in members}
    pins = []
    for pair in pairs:
        for attr in pair:
            m = by_attr[attr]
            cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
            name = PINS.get(cls.forward.pattern) if cls is not None else None
            if name:
                pins.append((f"{cls.name}.body", name, "relu", CARN))
    return pins


def emit_cascade(g: Graph, pairs, x: Value) -> Value:
    concat, out = x, x
    for block, fusion in pairs:
        step = g.call_module((block,), out, inline=True)
        concat = g.call_function("cat", [concat, step], kwargs={"dim": 1}, name="concat")
        out = g.call_module((fusion,), concat, name="out")
    return out


class CascadingBlock(BlockPattern):
    role = "CascadingBlock"
    priority = 5

    accepts = Accepts(2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 2 or cls.is_top:
            return None
        width = next((m.io.out_width for m in members if m.io is not None), None)
        pairs = cascade(members, ctx, width) if width else None
        if pairs is None:
            return None
        return Match(self, len(members), pairs, pins=carn_pins(pairs, members, ctx))

    def forward(self, match: Match, g: Graph) -> None:
        g.output(emit_cascade(g, match.found, g.input("x")))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        ResidualBlock, Fuse = z["carn_residual"], z["carn_fuse"]

        class Block(nn.Module):  # two cascading steps, not CARN's three
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.b1, self.b2 = ResidualBlock(c), ResidualBlock(c)
                self.c1, self.c2 = Fuse(2 * c, c), Fuse(3 * c, c)

            def forward(self, x):
                c1 = torch.cat([x, self.b1(x)], dim=1)
                o1 = self.c1(c1)
                c2 = torch.cat([c1, self.b2(o1)], dim=1)
                return self.c2(c2)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.entry = nn.Conv2d(3, 4, 3, padding=1)
                self.block = Block()

            def forward(self, x):
                return self.block(self.entry(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 5, 5),))]
