"""Back-projection units (DBPN, Haris et al. 2018, alterzero/DBPN-Pytorch `UpBlock`/`DownBlock`,
and the dense `D_UpBlock`/`D_DownBlock` that first fuse their concatenated input with a 1x1 conv):
three resamplers of one width and kernel, two of one direction around one of the other (an up
unit: transposed conv, strided conv, transposed conv), and the error between the input and its
re-projection fed back through the third and added to the first's output:

    h0 = up_1(x)               # the input projected (up: 2x size)
    l0 = down(h0)              # projected back
    h1 = up_2(l0 - x)          # the error, projected
    return h1 + h0

The members prove it: the odd one out of the three runs in the middle (its direction is the
other), the strided conv mirrors the transposed conv of the same kernel (its stride and padding
are the transposed conv's, so the sizes meet for `l0 - x`). The feedback itself leaves no key: a
choice (`feedback`, DBPN's by default; `none` runs the three in turn).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors
from codegen.patterns._mirror_strides import layers
from codegen.patterns.blocks._conv_parts import arg
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns.blocks.padded_resnet_block import arg_pin
from codegen.patterns._kit import name_order

ROLE = "BackProjection"
UP, DOWN = "nn.ConvTranspose2d", "nn.Conv2d"
WHY = "a back-projection unit's strided conv mirrors its transposed conv (DBPN's one geometry)"


def resampler(m, ctx: BlockContext):
    """The one conv or transposed conv a member applies (a layer; a Sequential or a class of it
    beside activations or norms), else None."""
    if m.kind == "class":
        cls = ctx.classes.get(m.type_name)
        found = [leaf for c in modules(cls) for leaf in layers(c)] if cls is not None else []
    else:
        found = layers(m)
    convs = [leaf for leaf in found if leaf.type_name in (UP, DOWN)]
    return convs[0] if len(convs) == 1 and found and found[0] is convs[0] else None


def unit_direction(cls, ctx: BlockContext) -> str | None:
    """`up` or `down` for a class matched as a back-projection unit: its first resampler's."""
    if cls is None or ctx.roles.get(cls.name) != ROLE:
        return None
    found = _unit(cls, ctx)
    return found[0] if found else None


def _unit(cls, ctx: BlockContext) -> tuple | None:
    """(direction, fuse member or None, (first, middle, last) members, their resamplers)."""
    members = [m for m in modules(cls) if m.kind != "placeholder"]
    if tensors(cls) or len(members) not in (3, 4):
        return None
    found = {m.attr: resampler(m, ctx) for m in members}
    if any(r is None or r.io is None for r in found.values()):
        return None
    fuse = None
    if len(members) == 4:  # D-DBPN: a 1x1 conv fuses the concatenated earlier maps first
        ones = [m for m in members if kernel_of(found[m.attr]) == 1]
        if len(ones) != 1 or found[ones[0].attr].type_name != DOWN:
            return None
        fuse = ones[0]
        members = [m for m in members if m is not fuse]
    width = found[members[0].attr].io.in_width
    if any(
        (found[m.attr].io.in_width, found[m.attr].io.out_width) != (width, width) for m in members
    ):
        return None
    if fuse is not None and (
        found[fuse.attr].io.out_width != width or found[fuse.attr].io.in_width % width
    ):
        return None
    kernels = {kernel_of(found[m.attr]) for m in members}
    if len(kernels) != 1 or (kernels.pop() or 0) < 2:
        return None
    ups = sorted((m for m in members if found[m.attr].type_name == UP), key=_order)
    downs = sorted((m for m in members if found[m.attr].type_name == DOWN), key=_order)
    if sorted((len(ups), len(downs))) != [1, 2]:
        return None
    outer, middle = (ups, downs[0]) if len(ups) == 2 else (downs, ups[0])
    direction = "up" if len(ups) == 2 else "down"
    order = (outer[0], middle, outer[1])
    return direction, fuse, order, [found[m.attr] for m in order]


def _order(m) -> tuple:
    return name_order(m.attr)


class BackProjection(BlockPattern):
    role = ROLE
    priority = 8

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _unit(cls, ctx)
        if found is None:
            return None
        direction, fuse, order, convs = found
        up = next(c for c in convs if c.type_name == UP)
        pins = []
        for conv in (c for c in convs if c.type_name == DOWN):
            pins.append(arg_pin(conv, "stride", arg(up, "stride", 1), WHY))
            pins.append(arg_pin(conv, "padding", arg(up, "padding", 0), WHY))
        feedback = ctx.choose(
            cls,
            order[2].attr,
            "feedback",
            "back_projection",
            ["none"],
            "the input's re-projection error fed through the last resampler, its output added",
        )
        unsure = []
        if feedback.source == "default":
            unsure.append("the error feedback leaves no key (DBPN's back-projection by convention)")
        if not all(any(ch.isdigit() for ch in m.attr) for m in (order[0], order[2])):
            unsure.append("which outer resampler runs first is read from their names")
        note = "; ".join(unsure)
        title = "UpProjection" if direction == "up" else "DownProjection"
        explains = len(modules(cls)) + 3
        matched = (fuse.attr if fuse is not None else None, tuple(m.attr for m in order))
        return Match(
            self,
            explains,
            matched,
            [feedback],
            guessed=note,
            pins=[p for p in pins if p],
            title=title,
        )

    def forward(self, match: Match, g: Graph) -> None:
        fuse, (first, middle, last) = match.found
        x = g.input("x")
        if fuse is not None:
            x = g.call_module((fuse,), x, name="x", comment="the concatenated maps fused")
        if match.choices[0].value == "none":
            out = g.call_module((first,), x, inline=True)
            g.output(g.call_module((last,), g.call_module((middle,), out, inline=True)))
            return
        h0 = g.call_module((first,), x, name="h0", comment="projected")
        l0 = g.call_module((middle,), h0, name="l0", comment="projected back")
        error = g.call_function("sub", l0, x, inline=True)
        h1 = g.call_module((last,), error, name="h1", comment="the error, projected")
        g.output(g.call_function("add", h1, h0))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        def step(conv: nn.Module) -> nn.Sequential:
            return nn.Sequential(conv, nn.PReLU())

        class Unit(nn.Module):  # each step a Sequential(conv, PReLU): a down unit, x2
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.conv_a = step(nn.Conv2d(c, c, 6, 2, 2))
                self.deconv = step(nn.ConvTranspose2d(c, c, 6, 2, 2))
                self.conv_b = step(nn.Conv2d(c, c, 6, 2, 2))

            def forward(self, x):
                l0 = self.conv_a(x)
                h0 = self.deconv(l0)
                return self.conv_b(h0 - x) + l0

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, 4, 3, padding=1)
                self.unit = Unit()

            def forward(self, x):
                return self.unit(self.head(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 8, 8),))]
