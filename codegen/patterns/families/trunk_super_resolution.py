"""A super-resolution net of three parts under any names (SAFMN's `to_feat`, `feats`, `to_img`;
the lightweight SR nets built the same way): a conv from the image to C channels, a trunk of
blocks keeping C, a conv to r*r times the image's channels and a pixel shuffle by r:

    feat = head(x)
    out = trunk(feat) + feat                 # the long skip (SAFMN's `self.feats(x) + x`)
    return pixel_shuffle(tail(out), r)       # the shuffle: a trailing slot no key shows

The widths order the parts: the head reads the image's channels, the tail gives r*r times them,
the trunk keeps the width between. The long skip and the input added back upsampled leave no
tensor: choices (a skip by default, no input), and the forward says it guessed them.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.padded_resnet_block import arg_pin
from codegen.patterns.families.super_resolution import add_input_residual, input_residual

RATIOS = (2, 3, 4)
KEEPS = "a super-resolution net's first and last convs keep the size (the shuffle enlarges it)"


def _conv(m) -> bool:
    """A built-in 2-d conv, or a Sequential holding only one (its shuffle a keyless slot)."""
    if m.kind == "sequential":
        items = [c for c in m.children if c.kind != "placeholder"]
        if len(items) != 1 or len(m.children) != 1:
            return False
        m = items[0]
    return m.kind == "builtin" and m.type_name == "nn.Conv2d" and m.io is not None


def _trunk(m, width: int) -> bool:
    """A container of generated blocks (or one class) keeping `width` on 2-d maps."""
    if m.kind not in ("repeat", "sequential", "modulelist", "class"):
        return False
    if m.kind != "class" and any(c.kind != "class" for c in m.children):
        return False
    io = m.io
    return io is not None and io.in_width == width == io.out_width


class TrunkSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 8  # below the named layouts (super_resolution.py) where both fit

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if not cls.is_top or tensors(cls) or len(members) != 3:
            return None
        convs = [m for m in members if _conv(m)]
        if len(convs) != 2:
            return None
        trunk = next(m for m in members if m not in convs)
        for head, tail in (convs, convs[::-1]):
            image, width = head.io.in_width, head.io.out_width
            if not image or image > 4 or tail.io.in_width != width or not _trunk(trunk, width):
                continue
            r = next((r for r in RATIOS if tail.io.out_width == image * r * r), None)
            if r is not None:
                break
        else:
            return None
        skip = ctx.choose(
            cls, trunk.attr, "long_skip", "add", ["none"], "the head's output added after the trunk"
        )
        residual = input_residual(ctx, cls, tail.attr)
        choices = [skip, residual]
        left = [c.name for c in choices if c.source == "default"]
        guessed = ""
        if left:
            guessed = f"no key records the long skip or an input added back: the choices {', '.join(left)}"
        each = trunk.kind in ("repeat", "modulelist")
        found = (head.attr, trunk.attr, each, tail.attr, r)
        pins = []
        for conv in (head, tail):  # the map keeps its size until the shuffle
            conv = conv if conv.kind == "builtin" else conv.children[0]
            kernel = conv_kernel(conv)
            kernel = kernel[0] if isinstance(kernel, tuple) else kernel
            pins.append(arg_pin(conv, "stride", 1, KEEPS))
            if isinstance(kernel, int) and kernel % 2:
                pins.append(arg_pin(conv, "padding", kernel // 2, KEEPS))
        pins = [p for p in pins if p]
        return Match(self, len(members), found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        head, trunk, each, tail, r = match.found
        skip, residual = (c.value for c in match.choices)
        x = g.input("x")
        feat = g.call_module((head,), x, name="feat")
        out = g.call_module((trunk,), feat, name="out", each=each)
        if skip == "add":
            out = g.call_function("add", out, feat, name="out", comment="the long skip")
        out = g.call_module((tail,), out, inline=True)
        out = g.call_function(
            "pixel_shuffle", out, r, name="out", comment=f"{r * r}x channels -> {r}x size"
        )
        g.output(add_input_residual(g, out, x, residual, r))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1)
            )

        def forward(self, x):
            return x + self.body(x)

    class Net(nn.Module):  # SAFMN's three parts under other names, x3
        def __init__(self, c: int = 6) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, c, 3, padding=1)
            self.blocks = nn.Sequential(Block(c), Block(c))
            self.upsampler = nn.Sequential(nn.Conv2d(c, 27, 3, padding=1), nn.PixelShuffle(3))

        def forward(self, x):
            x = self.stem(x)
            return self.upsampler(self.blocks(x) + x)

    torch.manual_seed(0)
    return Example(Net().eval(), (torch.randn(2, 3, 6, 6),))
