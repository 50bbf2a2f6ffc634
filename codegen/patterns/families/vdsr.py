"""VDSR (Kim et al. 2016) as twtygqyy/pytorch-vdsr writes it: an `input` conv and its ReLU, a
`residual_layer` of conv + ReLU blocks keeping the width, an `output` conv back to the image's
channels, and the input added (the global residual learning VDSR is named for):

    out = residual_layer(relu(input(x)))
    return output(out) + x

The three names and the widths identify that code; its ReLUs and the residual leave no tensor,
so they are its conventions here, choices the file flags (the blocks' ReLU pinned on their
class), and calibration can move them.
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
from codegen.patterns._kit import one_named, tensors

WHY = "pytorch-vdsr's Conv_ReLU_Block: conv then ReLU"


class Vdsr(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        first, body, last = (one_named(members, n) for n in ("input", "residual_layer", "output"))
        if None in (first, body, last) or family(first) != "conv" or family(last) != "conv":
            return None
        channels, width = first.io.in_width, first.io.out_width
        if last.io.in_width != width or last.io.out_width != channels:
            return None
        if body.kind not in ("repeat", "modulelist", "sequential") or body.io is None:
            return None
        if (body.io.in_width, body.io.out_width) != (width, width):
            return None
        activation = ctx.choose(
            cls,
            first.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after the input conv (pytorch-vdsr's ReLU)",
        )
        residual = ctx.choose(
            cls, last.attr, "residual", "add", ["none"], "the input added to the output"
        )
        guessed = [c.name for c in (activation, residual) if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "pytorch-vdsr's ReLU and global residual leave no tensor (by convention): the "
                f"choices {', '.join(guessed)}"
            )
        pins = []
        block = body.children[0] if body.children else None
        held = (
            ctx.classes.get(block.type_name)
            if block is not None and block.kind == "class"
            else None
        )
        if held is not None and any(c.name == "activation" for c in held.forward.choices):
            pins.append((held.name, "activation", "relu", WHY))
        found = (first.attr, body.attr, body.kind in ("repeat", "modulelist"), last.attr)
        return Match(self, 3, found, [activation, residual], guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        first, body, each, last = match.found
        activation, residual = (c.value for c in match.choices)
        x = g.input("x")
        out = act.apply(g, activation, g.call_module((first,), x, inline=True), name="out")
        out = g.call_module((body,), out, name="out", each=each)
        out = g.call_module((last,), out, name="out")
        if residual == "add":
            out = g.call_function("add", out, x, name="out", comment="global residual")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, 1, 1, bias=False)

            def forward(self, x):
                return torch.relu(self.conv(x))

        class Net(nn.Module):  # pytorch-vdsr's layout on RGB, its blocks in a ModuleList
            def __init__(self, c: int = 6) -> None:
                super().__init__()
                self.input = nn.Conv2d(3, c, 3, 1, 1, bias=False)
                self.residual_layer = nn.ModuleList(Block(c) for _ in range(3))
                self.output = nn.Conv2d(c, 3, 3, 1, 1, bias=False)

            def forward(self, x):
                out = torch.relu(self.input(x))
                for layer in self.residual_layer:
                    out = layer(out)
                return self.output(out) + x

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 5, 5),))]
