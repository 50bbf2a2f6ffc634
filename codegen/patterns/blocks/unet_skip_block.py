"""One level of the U-Net as junyanz/pytorch-CycleGAN-and-pix2pix writes it
(`UnetSkipConnectionBlock`, pix2pix's `unet_256` / `unet_128` generators): each level holds the
next one inside its `model` Sequential, and every level but the outermost concatenates its input
with what the Sequential gives.

    innermost: [LeakyReLU(0.2), conv 4x4/2, ReLU, convT 4x4/2, norm]               -> cat(x, .)
    middle:    [LeakyReLU(0.2), conv 4x4/2, norm, level, ReLU, convT 4x4/2, norm]  -> cat(x, .)
    outermost: [conv 4x4/2, level, ReLU, convT 4x4/2, Tanh]                        -> itself

The convs (and batch norms) hold tensors; the activations are the empty slots, pinned by this
layout, and the outermost Tanh ends the Sequential past its last key, so the forward applies it.
The levels' widths show the layout: the transposed conv reads twice what the conv gives where a
level is nested (its concatenation), and gives back what the level reads.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.padded_resnet_block import arg_pin, numbered_body, slot_pin

WHY = "the pix2pix U-Net level layout"
CONVS = ("nn.Conv2d", "nn.ConvTranspose2d")


def _conv4(m) -> bool:
    return m.kind == "builtin" and m.type_name in CONVS and conv_kernel(m) in (4, (4, 4))


def _norm(m) -> bool:
    return m is not None and m.kind != "placeholder" and family(m) == "norm"


def _slot(m) -> bool:
    return m is not None and m.kind == "placeholder"


class UnetSkipBlock(BlockPattern):
    role = "UnetSkipBlock"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = numbered_body(cls)
        if found is None:
            return None
        body, items = found
        levels = [i for i, c in items.items() if ctx.role(c) == "UnetSkipBlock"]
        convs = [i for i, c in items.items() if _conv4(c)]
        if len(convs) != 2 or len(levels) > 1:
            return None
        down, up = items[convs[0]], items[convs[1]]
        outermost = convs[0] == 0
        if outermost:  # [conv, level, slot, convT]
            layout = levels == [1] and _slot(items[2]) and convs[1] == 3 and len(items) == 4
        elif levels:  # [slot, conv, norm, level, slot, convT, norm]
            layout = levels == [3] and convs == [1, 5] and len(items) == 7
            layout = layout and _norm(items[2]) and _slot(items[4]) and _norm(items[6])
        else:  # [slot, conv, slot, convT, norm]
            layout = convs == [1, 3] and len(items) == 5 and _slot(items[2]) and _norm(items[4])
        if not layout or (not outermost and not _slot(items[0])):
            return None
        inner = down.io.out_width
        if up.io.in_width != (2 * inner if levels else inner):
            return None
        if not outermost and up.io.out_width != down.io.in_width:
            return None
        pins = [slot_pin(items[convs[1] - 1], "nn.ReLU()", WHY)]
        if not outermost:
            pins.append(slot_pin(items[0], "nn.LeakyReLU(0.2)", WHY))
        pins += [arg_pin(down, "stride", 2, WHY), arg_pin(down, "padding", 1, WHY)]
        if up.type_name != "nn.ConvTranspose2d":
            pins.append(arg_pin(up, "module_type", "nn.ConvTranspose2d", WHY))
        found = (body.attr, outermost)
        return Match(self, 1, found, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        body, outermost = match.found
        x = g.input("x")
        out = g.call_module((body,), x, name="out")
        if outermost:
            out = g.call_function("tanh", out, comment="the Tanh ending the Sequential: no slot")
        else:
            out = g.call_function("cat", [x, out], 1, comment="the skip: input beside output")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Level(nn.Module):
            def __init__(self, outer: int, inner: int, sub=None, outermost=False) -> None:
                super().__init__()
                self.outermost = outermost
                down = nn.Conv2d(outer, inner, 4, 2, 1, bias=False)
                if outermost:
                    up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1)
                    layers = [down, sub, nn.ReLU(True), up, nn.Tanh()]
                elif sub is None:
                    up = nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False)
                    layers = [
                        nn.LeakyReLU(0.2, True),
                        down,
                        nn.ReLU(True),
                        up,
                        nn.BatchNorm2d(outer),
                    ]
                else:
                    up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False)
                    layers = [
                        nn.LeakyReLU(0.2, True),
                        down,
                        nn.BatchNorm2d(inner),
                        sub,
                        nn.ReLU(True),
                        up,
                        nn.BatchNorm2d(outer),
                    ]
                self.model = nn.Sequential(*layers)

            def forward(self, x):
                if self.outermost:
                    return self.model(x)
                return torch.cat([x, self.model(x)], 1)

        class Generator(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                inner = Level(8, 8)
                self.model = Level(3, 4, Level(4, 8, inner), outermost=True)

            def forward(self, x):
                return self.model(x)

        torch.manual_seed(0)
        return [Example(Generator().eval(), (torch.randn(2, 3, 16, 16),))]
