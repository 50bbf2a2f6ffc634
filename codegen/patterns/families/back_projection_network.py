"""A deep back-projection network (DBPN, Haris et al. 2018: alterzero/DBPN-Pytorch's dbpns.py and
dbpn_v1.py `Net`): feature convs narrow the image's features to the units' width, up- and
down-projection units (blocks/back_projection.py) alternate, starting with an up unit (it reads
the low-resolution features), and a last conv reads every up unit's output, concatenated:

    x = feat1(feat0(x))                    # [batch, width, h, w]
    h1 = up1(x); h2 = up2(down1(h1)); ...  # [batch, width, r*h, r*w]
    return output_conv(cat([..., h2, h1]))

The widths prove the chain of feature convs (image channels -> ... -> width) and that the last
conv reads all the up units' outputs (n * width); the units' directions prove their order. The
concatenation's order leaves no key: a choice, DBPN's newest first (`torch.cat((h2, h1), 1)`).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns.blocks.back_projection import ROLE, unit_direction
from codegen.patterns._kit import name_order

WHY = "DBPN's `torch.cat((h2, h1), 1)` (dbpns.py): the newest up-projection first"


def _chain(members: list, start: int, end: int) -> list | None:
    """The members in the order their widths compose, from `start` channels to `end`; None where
    they do not compose into one chain."""
    chain, width, left = [], start, list(members)
    while left:
        nxt = [m for m in left if m.io.in_width == width]
        if len(nxt) != 1:
            return None
        chain.append(nxt[0])
        width = nxt[0].io.out_width
        left.remove(nxt[0])
    return chain if width == end and chain else None


class BackProjectionNetwork(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(4, tensors=False, roles=(ROLE,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.io is None for m in members):
            return None
        units = [m for m in members if ctx.role(m) == ROLE]
        rest = [m for m in members if m not in units]
        if len(units) < 2 or len(rest) < 2:
            return None
        directions = {m.attr: unit_direction(ctx.classes.get(m.type_name), ctx) for m in units}
        ups = sorted((m for m in units if directions[m.attr] == "up"), key=_order)
        downs = sorted((m for m in units if directions[m.attr] == "down"), key=_order)
        if len(ups) != len(downs) + 1 or len(ups) + len(downs) != len(units):
            return None
        width = ups[0].io.in_width
        if any((m.io.in_width, m.io.out_width) != (width, width) for m in units):
            return None
        outputs = [m for m in rest if m.io.in_width == len(ups) * width]
        for out in outputs:
            head = _chain([m for m in rest if m is not out], out.io.out_width, width)
            if head is not None:
                break
        else:
            return None
        order = ctx.choose(cls, out.attr, "concat_order", "newest_first", ["oldest_first"], WHY)
        note = ""
        if order.source == "default":
            note = "the up-projections' concatenation order leaves no key (DBPN's, newest first)"
        found = (
            tuple(m.attr for m in head),
            tuple(m.attr for m in ups),
            tuple(m.attr for m in downs),
            out.attr,
        )
        return Match(self, len(members) + 2, found, [order], guessed=note)

    def forward(self, match: Match, g: Graph) -> None:
        head, ups, downs, out = match.found
        x = g.input("x")
        for conv in head:
            x = g.call_module((conv,), x, name="x")
        highs = []
        for i, up in enumerate(ups):
            if i:
                x = g.call_module((downs[i - 1],), highs[-1], name=f"l{i}", inline=True)
            highs.append(g.call_module((up,), x, name=f"h{i + 1}"))
        if match.choices[0].value == "newest_first":
            highs = highs[::-1]
        joined = g.call_function("cat", highs, kwargs={"dim": 1}, inline=True)
        g.output(g.call_module((out,), joined))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        def unit(c: int, up: bool) -> nn.Module:
            class Unit(nn.Module):  # bare layers, no activations, `deconv` for transposed
                def __init__(self) -> None:
                    super().__init__()
                    outer = nn.ConvTranspose2d if up else nn.Conv2d
                    inner = nn.Conv2d if up else nn.ConvTranspose2d
                    names = ("deconv1", "conv", "deconv2") if up else ("conv1", "deconv", "conv2")
                    self.names = names
                    for name, layer in zip(names, (outer, inner, outer)):
                        self.add_module(name, layer(c, c, 4, 2, 1))

                def forward(self, x):
                    first, back, last = (getattr(self, n) for n in self.names)
                    h0 = first(x)
                    return last(back(h0) - x) + h0

            return Unit()

        class Net(nn.Module):  # three stages, x2
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, c, 3, padding=1)
                self.up_1, self.up_2, self.up_3 = unit(c, True), unit(c, True), unit(c, True)
                self.down_1, self.down_2 = unit(c, False), unit(c, False)
                self.tail = nn.Conv2d(3 * c, 3, 3, padding=1)

            def forward(self, x):
                h1 = self.up_1(self.head(x))
                h2 = self.up_2(self.down_1(h1))
                h3 = self.up_3(self.down_2(h2))
                return self.tail(torch.cat((h3, h2, h1), 1))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 6, 6),))]


def _order(m) -> tuple:
    return name_order(m.attr)
