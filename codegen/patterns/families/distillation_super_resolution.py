"""IMDN (Hui et al. 2019, Zheng222/IMDN `architecture.IMDN`): a first conv (`fea_conv`),
information multi-distillation blocks run in turn (`IMDB1..N`, blocks/distillation_block.py),
every block's output concatenated and fused by a 1x1 conv and its activation (`c`), a conv
(`LR_conv`) with the first conv's output added back, and a conv widening r*r times followed by a
pixel shuffle (`upsampler = Sequential(conv, PixelShuffle(r))`, whose shuffle has no key):

    fea = fea_conv(x)
    outs = [b1 := IMDB1(fea), b2 := IMDB2(b1), ...]
    lr = LR_conv(c(cat(outs))) + fea
    return pixel_shuffle(upsampler(lr), r)

The widths show the concatenation (the fusion reads N times the width) and the shuffle (the
upsampler gives r*r times the image's channels). The long skip is a choice; the fusion's
activation slot is pinned to IMDN's LeakyReLU 0.05 (its `conv_block(..., act_type='lrelu')`).
RLFN (bytedance/RLFN `RLFN`: `conv_1`, `block_1..N`, `conv_2`, `upsampler`) drops the
concatenation: with no conv reading N times the width, the last block's output goes to the conv
before the long skip (`lr = LR_conv(bN) + fea`).
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
from codegen.patterns._kit import stack, tensors
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns._kit import name_order
from codegen.patterns.blocks.selective_scan import conv_pins

LEAKY_005 = "nn.LeakyReLU(0.05)"
# IMDN's information multi-distillation blocks, RFDN's residual feature distillation blocks,
# RLFN's residual local feature blocks
BLOCKS = ("DistillationBlock", "ResidualDistillationBlock", "ResidualLocalFeatureBlock")
WHY = "IMDN's fusion conv_block: LeakyReLU 0.05 (Zheng222/IMDN block.py)"
# the long skip adds the first conv's output to the conv before the shuffle's: one size until then
SIZE = "the net keeps the input's size until the pixel shuffle"


def _first_conv(m):
    if m.kind == "sequential" and m.children:
        m = m.children[0]
    return m if m.kind == "builtin" and family(m) == "conv" else None


class DistillationSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(4, tensors=False, roles=(BLOCKS,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.io is None for m in members):
            return None
        blocks = [m for m in members if ctx.role(m) in BLOCKS]
        rest = [m for m in members if m not in blocks]
        if len(rest) not in (3, 4) or any(_first_conv(m) is None for m in rest):
            return None
        blocks.sort(key=lambda m: name_order(m.attr))
        paths = [(m.attr,) for m in blocks]
        held = stack(blocks[0]) if len(blocks) == 1 else None
        if held is not None:  # the blocks in one list (`blocks.0-2`)
            paths = [(blocks[0].attr, str(i)) for i in range(held[1])]
        if len(paths) < 2:
            return None
        width = blocks[0].io.in_width
        n = len(paths)
        heads = [
            m for m in rest if m.io.out_width == width and m.io.in_width not in (width, n * width)
        ]
        fusions = [m for m in rest if (m.io.in_width, m.io.out_width) == (n * width, width)]
        lrs = [m for m in rest if (m.io.in_width, m.io.out_width) == (width, width)]
        ups = [m for m in rest if m.io.in_width == width and m not in lrs + fusions]
        if len(fusions) + 3 != len(rest) or not (len(heads) == len(lrs) == len(ups) == 1):
            return None
        head, lr, up = heads[0], lrs[0], ups[0]
        fusion = fusions[0] if fusions else None  # none: the blocks' last output goes on (RLFN)
        channels = head.io.in_width
        r = next((r for r in (2, 3, 4) if up.io.out_width == channels * r * r), None)
        if r is None:
            return None
        skip = ctx.choose(
            cls, lr.attr, "long_skip", "add", ["none"], "the first conv's output added back"
        )
        pins, choices = [], [skip]
        slot = fusion.children[-1] if fusion is not None and fusion.kind == "sequential" else None
        if fusion is None:
            pass
        elif slot is not None and slot.kind == "placeholder" and len(fusion.children) == 2:
            for path, _ in cls.instances:
                where = ".".join(p for p in (path, fusion.attr, slot.attr) if p)
                pins.append((where, "module_type", LEAKY_005, WHY))
        else:  # `Sequential(conv, LeakyReLU)`: a trailing activation shows no slot
            activation = ctx.choose(
                cls,
                fusion.attr,
                "activation",
                "leaky_relu_0.05",
                act.alternatives("leaky_relu_0.05", conv=True),
                "after the fusion conv (IMDN's LeakyReLU 0.05)",
            )
            if activation.source == "default":
                activation.note = WHY
            choices.append(activation)
        found = (head.attr, tuple(paths), fusion.attr if fusion else None, lr.attr, up.attr, r)
        guessed = ""
        if fusion is not None and (pins or choices[-1].source == "default"):
            guessed = "the fusion's activation leaves no key (IMDN's LeakyReLU 0.05 by convention)"
        for m in (head, lr, up, fusion):  # Sequential(conv, ...): the conv's own choices
            conv = _first_conv(m) if m is not None else None
            if conv is not None and kernel_of(conv) is not None:
                pins += conv_pins(conv, {"stride": 1, "padding": kernel_of(conv) // 2}, SIZE)
        return Match(self, len(members), found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        head, blocks, fusion, lr, up, r = match.found
        x = g.input("x")
        fea = g.call_module((head,), x, name="fea")
        outs, out = [], fea
        for i, block in enumerate(blocks, 1):
            out = g.call_module(block, out, name=f"out_b{i}")
            outs.append(out)
        if fusion is not None:
            out = g.call_function("cat", outs, kwargs={"dim": 1}, inline=True)
            out = g.call_module((fusion,), out, inline=True)
            if len(match.choices) > 1:
                out = act.apply(g, match.choices[1].value, out, inline=True)
        out = g.call_module((lr,), out, name="out")
        if match.choices[0].value == "add":
            out = g.call_function("add", out, fea, name="out", comment="long skip")
        out = g.call_module((up,), out, name="out")
        g.output(
            g.call_function("pixel_shuffle", out, r, comment=f"{r * r}x channels -> {r}x size")
        )

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        from codegen.patterns.blocks._sr_examples import modules as zoo
        from codegen.patterns.blocks.residual_local_feature_block import local_block

        Distill = zoo()["distill"]

        class Imdn(nn.Module):  # three blocks, x3
            def __init__(self, c: int = 8) -> None:
                super().__init__()
                self.fea_conv = nn.Conv2d(3, c, 3, padding=1)
                self.IMDB1, self.IMDB2, self.IMDB3 = Distill(c), Distill(c), Distill(c)
                self.c = nn.Sequential(nn.Conv2d(3 * c, c, 1), nn.LeakyReLU(0.05))
                self.LR_conv = nn.Conv2d(c, c, 3, padding=1)
                self.upsampler = nn.Sequential(nn.Conv2d(c, 27, 3, padding=1), nn.PixelShuffle(3))

            def forward(self, x):
                fea = self.fea_conv(x)
                b1 = self.IMDB1(fea)
                b2 = self.IMDB2(b1)
                b3 = self.IMDB3(b2)
                lr = self.LR_conv(self.c(torch.cat([b1, b2, b3], dim=1))) + fea
                return self.upsampler(lr)

        class LocalSr(nn.Module):  # RLFN's layout: no fusion, blocks in a list, x2
            def __init__(self, c: int = 8) -> None:
                super().__init__()
                self.stem = nn.Conv2d(3, c, 3, padding=1)
                self.units = nn.ModuleList([local_block(c) for _ in range(3)])
                self.mid = nn.Conv2d(c, c, 3, padding=1)
                self.shuffle = nn.Sequential(nn.Conv2d(c, 12, 3, padding=1), nn.PixelShuffle(2))

            def forward(self, x):
                fea = out = self.stem(x)
                for unit in self.units:
                    out = unit(out)
                return self.shuffle(self.mid(out) + fea)

        torch.manual_seed(0)
        return [
            Example(Imdn().eval(), (torch.randn(2, 3, 5, 5),)),
            Example(LocalSr().eval(), (torch.randn(2, 3, 5, 5),)),
        ]
