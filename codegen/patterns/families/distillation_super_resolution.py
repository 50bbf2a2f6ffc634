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
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import stack, tensors
from codegen.patterns.blocks.residual import name_order

LEAKY_005 = "nn.LeakyReLU(0.05)"
# IMDN's information multi-distillation blocks, RFDN's residual feature distillation blocks
BLOCKS = ("DistillationBlock", "ResidualDistillationBlock")
WHY = "IMDN's fusion conv_block: LeakyReLU 0.05 (Zheng222/IMDN block.py)"


def _first_conv(m):
    if m.kind == "sequential" and m.children:
        m = m.children[0]
    return m if m.kind == "builtin" and family(m) == "conv" else None


class DistillationSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.io is None for m in members):
            return None
        blocks = [m for m in members if ctx.role(m) in BLOCKS]
        rest = [m for m in members if m not in blocks]
        if len(rest) != 4 or any(_first_conv(m) is None for m in rest):
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
        if not (len(heads) == len(fusions) == len(lrs) == len(ups) == 1):
            return None
        head, fusion, lr, up = heads[0], fusions[0], lrs[0], ups[0]
        channels = head.io.in_width
        r = next((r for r in (2, 3, 4) if up.io.out_width == channels * r * r), None)
        if r is None:
            return None
        skip = ctx.choose(
            cls, lr.attr, "long_skip", "add", ["none"], "the first conv's output added back"
        )
        pins, choices = [], [skip]
        slot = fusion.children[-1] if fusion.kind == "sequential" else None
        if slot is not None and slot.kind == "placeholder" and len(fusion.children) == 2:
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
        found = (head.attr, tuple(paths), fusion.attr, lr.attr, up.attr, r)
        guessed = ""
        if pins or choices[-1].source == "default":
            guessed = "the fusion's activation leaves no key (IMDN's LeakyReLU 0.05 by convention)"
        return Match(self, len(members), found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        head, blocks, fusion, lr, up, r = match.found
        x = g.input("x")
        fea = g.call_module((head,), x, name="fea")
        outs, out = [], fea
        for i, block in enumerate(blocks, 1):
            out = g.call_module(block, out, name=f"out_b{i}")
            outs.append(out)
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

        torch.manual_seed(0)
        return [Example(Imdn().eval(), (torch.randn(2, 3, 5, 5),))]
