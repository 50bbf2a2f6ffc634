"""Residual feature distillation block (RFDN's RFDB, Liu et al. 2020; E-RFDN, BSRN's ESDB keep its
dataflow): each step distils the running map with a narrowing conv (kept) and refines it with a
shallow residual conv of the full width; a last conv distils what remains; the distilled maps,
concatenated, are fused by a 1x1 conv and (optionally) an attention on the full width (RFDN's
ESA, blocks/enhanced_spatial_attention.py):

    kept, r = [], x
    for distil, refine in steps:
        kept.append(act(distil(r)))          # [batch, d, H, W], d < C
        r = act(refine(r) + r)               # the shallow residual block
    kept.append(act(last(r)))
    return attention(fuse(cat(kept)))

The widths prove the roles: k convs keep the width (C -> C), k + 1 narrow it (C -> d), and the
fusion reads (k + 1) * d, so every narrowing conv's output is concatenated. Which narrowing conv
reads which step's map is their order (names, list indices); the last one is the one whose kernel
differs from the rest where one does (RFDN's 3x3 `c4` beside the 1x1 `c*_d`). The activation
(RFDN's LeakyReLU 0.05) and the shallow residual leave no tensor: choices.
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
from codegen.patterns.blocks.distillation_block import _conv2d, distil_activation, unsettled
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns._kit import name_order

ROLE = "ResidualDistillationBlock"
ATTENTIONS = ("EnhancedSpatialAttention", "SqueezeExcite", "EfficientChannelAttention")


def conv_items(members: list) -> list[tuple[tuple[str, ...], object]] | None:
    """(path, conv) for each 2-d conv member, a list's items by index; None where a member is
    something else."""
    found = []
    for m in members:
        if _conv2d(m):
            found.append(((m.attr,), m))
        elif m.kind == "repeat" and m.children and _conv2d(m.children[0]):
            count = m.repeat if isinstance(m.repeat, int) else m.copies
            found += [((m.attr, str(i)), m.children[0]) for i in range(count or 0)]
        elif m.kind in ("modulelist", "sequential") and m.children:
            if not all(_conv2d(c) for c in m.children):
                return None
            found += [((m.attr, c.attr), c) for c in m.children]
        else:
            return None
    return found


def _order(item) -> tuple:
    return tuple(name_order(part) for part in item[0])


class ResidualDistillationBlock(BlockPattern):
    role = ROLE
    priority = 7

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls):
            return None
        others = [m for m in members if ctx.role(m) in ATTENTIONS and m.kind == "class"]
        if len(others) > 1:
            return None
        convs = conv_items([m for m in members if m not in others])
        if not convs or len(convs) < 4:
            return None
        reads = [c[1].io.in_width for c in convs]
        width = max(set(reads), key=reads.count)  # every conv but the fusion reads the width
        fuses = [c for c in convs if _widths(c)[0] != width and _widths(c)[1] == width]
        if len(fuses) != 1:
            return None
        fuse = fuses[0]
        keeping = sorted((c for c in convs if _widths(c) == (width, width)), key=_order)
        narrowing = [c for c in convs if c is not fuse and c[1].io.in_width == width]
        narrowing = [c for c in narrowing if c[1].io.out_width < width]
        if not keeping or len(narrowing) != len(keeping) + 1:
            return None
        if len(keeping) + len(narrowing) + 1 != len(convs):
            return None
        d = narrowing[0][1].io.out_width
        if any(c[1].io.out_width != d for c in narrowing) or fuse[1].io.in_width != d * len(
            narrowing
        ):
            return None
        attention = others[0] if others else None
        if attention is not None and attention.io is not None and attention.io.in_width != width:
            return None
        narrowing = _last_apart(narrowing)
        activation = distil_activation(
            ctx, cls, keeping[0][0][0], "after each conv but the fusion (RFDN's LeakyReLU 0.05)"
        )
        shallow = ctx.choose(
            cls, keeping[0][0][0], "residual", "add", ["none"], "each refining conv's input added"
        )
        note = unsettled(
            (activation, shallow),
            "the activation and the shallow residual leave no tensor (RFDN's RFDB by convention)",
        )
        found = (
            tuple(c[0] for c in narrowing),
            tuple(c[0] for c in keeping),
            fuse[0],
            attention.attr if attention is not None else None,
        )
        return Match(self, len(members) + len(convs), found, [activation, shallow], guessed=note)

    def forward(self, match: Match, g: Graph) -> None:
        narrowing, keeping, fuse, attention = match.found
        activation, shallow = (c.value for c in match.choices)
        x = g.input("x")
        kept, r = [], x
        for i, (distil, refine) in enumerate(zip(narrowing, keeping), 1):
            out = g.call_module(distil, r, inline=True)
            kept.append(act.apply(g, activation, out, name=f"distilled{i}"))
            out = g.call_module(refine, r, name="r")
            if shallow == "add":
                out = g.call_function("add", out, r, inline=True)
            r = act.apply(g, activation, out, name="r")
        out = g.call_module(narrowing[-1], r, inline=True)
        kept.append(act.apply(g, activation, out, name="distilled"))
        out = g.call_function("cat", kept, kwargs={"dim": 1}, inline=True)
        out = g.call_module(fuse, out, name="out")
        if attention is not None:
            out = g.call_module((attention,), out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class RFDB(nn.Module):  # RFDN block.py RFDB, without its ESA
            def __init__(self, c: int = 8) -> None:
                super().__init__()
                d = c // 2
                self.c1_d, self.c1_r = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
                self.c2_d, self.c2_r = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
                self.c3_d, self.c3_r = nn.Conv2d(c, d, 1), nn.Conv2d(c, c, 3, padding=1)
                self.c4 = nn.Conv2d(c, d, 3, padding=1)
                self.act = nn.LeakyReLU(0.05)
                self.c5 = nn.Conv2d(4 * d, c, 1)

            def forward(self, x):
                d1 = self.act(self.c1_d(x))
                r1 = self.act(self.c1_r(x) + x)
                d2 = self.act(self.c2_d(r1))
                r2 = self.act(self.c2_r(r1) + r1)
                d3 = self.act(self.c3_d(r2))
                r3 = self.act(self.c3_r(r2) + r2)
                return self.c5(torch.cat([d1, d2, d3, self.act(self.c4(r3))], dim=1))

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, 8, 3, padding=1)
                self.block = RFDB()

            def forward(self, x):
                return self.block(self.head(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 6, 6),))]


def _widths(item) -> tuple:
    return (item[1].io.in_width, item[1].io.out_width)


def _last_apart(narrowing: list) -> list:
    """The narrowing convs in order, the last one apart: the one whose kernel differs where one
    does (RFDN's 3x3 `c4` beside its 1x1 `c*_d`), else the last in name order."""
    narrowing = sorted(narrowing, key=_order)
    kernels = [kernel_of(c[1]) for c in narrowing]
    odd = [c for c, k in zip(narrowing, kernels) if kernels.count(k) == 1]
    if len(narrowing) > 2 and len(odd) == 1:
        return [c for c in narrowing if c is not odd[0]] + odd
    return narrowing
