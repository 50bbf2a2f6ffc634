"""A restoration U-Net that keeps its levels in parallel lists and adds its skips (NAFNet, Chen et
al. 2022, megvii-research/NAFNet `NAFNet`; its Baseline and the nets built on it):

    x = intro(pad(inp))                              # padded to a multiple of 2 ** levels
    for encoder, down in zip(encoders, downs):       # down: a 2x2 stride-2 conv doubling width
        x = encoder(x); skips.append(x); x = down(x)
    x = middle(x)
    for decoder, up, skip in zip(decoders, ups, skips[::-1]):
        x = decoder(up(x) + skip)                    # up: a 1x1 conv doubling, a pixel shuffle
    return (ending(x) + inp)[:, :, :h, :w]

The widths prove the lists' roles: the encoders' stacks keep widths that double level by level,
the downsamplers double them, the upsamplers' convs double the deepest width before the (keyless)
pixel shuffle halves it back to the decoder's, so each level's skip meets a map of its width (an
addition: the decoder reads that width, not twice it). The padding and the final crop keep any
size. The global residual (the input added) leaves no key: a choice, NAFNet's by default.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
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
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin

SHUFFLE_WHY = "NAFNet's upsampler: a 1x1 conv doubling the width, then PixelShuffle(2)"
DOWN_WHY = "NAFNet's downsampler: Conv2d(c, 2c, 2, 2) halves the size"
STACKS = ("sequential", "repeat", "modulelist")  # a level's blocks (the middle: blocks alone)


def _conv(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None and m.io.ndim == 2


def _widths(m) -> tuple | None:
    return (m.io.in_width, m.io.out_width) if m.io is not None else None


def _stack_width(m) -> int | None:
    """The width a stack of blocks keeps (a Sequential, a repeat, or one block), else None."""
    found = _widths(m)
    if found is None or found[0] != found[1] or _conv(m):
        return None
    return found[0]


def _upsampler(m):
    """(conv, shuffle slot or None) of a `Sequential(conv, PixelShuffle)`: the keyless shuffle
    shows as an empty slot, or not at all where it closes the Sequential; else None."""
    if m.kind != "sequential" or len(m.children) not in (1, 2) or not _conv(m.children[0]):
        return None
    slot = m.children[1] if len(m.children) == 2 else None
    if slot is not None and slot.kind != "placeholder":
        return None
    return m.children[0], slot


def _lists(members: list) -> dict | None:
    """The four lists by what their items are: {role: (member, items)}."""
    found = {}
    for m in members:
        if m.kind not in ("modulelist", "sequential") or not m.children:
            continue
        items = m.children
        if all(_conv(c) for c in items):
            role = "downs"
        elif all(_upsampler(c) is not None for c in items):
            role = "ups"
        elif all(c.kind in STACKS and _stack_width(c) is not None for c in items):
            widths = [_stack_width(c) for c in items]
            role = "encoders" if widths == sorted(widths) else "decoders"
            if len(items) > 1 and len(set(widths)) == 1:
                return None
        else:
            continue
        if role in found:
            return None
        found[role] = (m, items)
    return found if len(found) == 4 else None


def _run(g: Graph, path: tuple, kind: str, x, name: str):
    """A stack of blocks applied: called where it is a Sequential, else its blocks in turn."""
    if kind != "repeat" and kind != "modulelist":
        return g.call_module(path, x, name=name)
    body = Graph()
    body.output(body.call_module(("block",), body.input("x")))
    return g.loop((("block", path),), body, x, name=name, comment="each block")


class AdditiveSkipUNet(BlockPattern):
    role = "UNet"
    priority = 10

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        lists = _lists(members)
        if lists is None:
            return None
        (encoders, enc), (decoders, dec) = lists["encoders"], lists["decoders"]
        (downs, down), (ups, up) = lists["downs"], lists["ups"]
        levels = len(enc)
        if not levels or any(len(items) != levels for items in (dec, down, up)):
            return None
        rest = [m for m in members if m not in (encoders, decoders, downs, ups)]
        convs = [m for m in rest if _conv(m)]
        middles = [m for m in rest if not _conv(m) and _stack_width(m) is not None]
        if len(convs) != 2 or len(middles) != 1 or len(rest) != 3:
            return None
        widths = [_stack_width(c) for c in enc]
        if any(b != 2 * a for a, b in zip(widths, widths[1:])):
            return None
        deepest = 2 * widths[-1]
        if _stack_width(middles[0]) != deepest:
            return None
        if [_widths(c) for c in down] != [(w, 2 * w) for w in widths]:
            return None
        ups_widths = [_widths(_upsampler(c)[0]) for c in up]
        if ups_widths != [(2 * w, 4 * w) for w in reversed(widths)]:
            return None  # each doubles before the shuffle gives a quarter: half the width
        if [_stack_width(c) for c in dec] != widths[::-1]:
            return None
        intro = [c for c in convs if c.io.out_width == widths[0]]
        ending = [c for c in convs if c.io.in_width == widths[0] and c not in intro]
        if len(intro) != 1 or len(ending) != 1:
            return None
        intro, ending = intro[0], ending[0]
        if intro.io.in_width != ending.io.out_width:
            return None
        residual = ctx.choose(
            cls, ending.attr, "global_residual", "add", ["none"], "NAFNet: the input added back"
        )
        slots = [_upsampler(c)[1] for c in up]
        pins = [slot_pin(slot, "nn.PixelShuffle(2)", SHUFFLE_WHY) for slot in slots if slot]
        for c in down:
            pins.append(arg_pin(c, "stride", 2, DOWN_WHY) if kernel_of(c) == 2 else None)
        note = ""
        if residual.source == "default":
            note = "the global residual leaves no key (NAFNet's: the input added back)"
        kinds = (tuple(c.kind for c in enc), middles[0].kind, tuple(c.kind for c in dec))
        found = (
            kinds,
            intro.attr,
            encoders.attr,
            downs.attr,
            middles[0].attr,
            ups.attr,
            decoders.attr,
            ending.attr,
            levels,
            any(slot is None for slot in slots),
        )
        explains = len(members) + 4 * levels
        return Match(self, explains, found, [residual], guessed=note, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        kinds, intro, encoders, downs, middle, ups, decoders, ending, levels, shuffle = match.found
        inp = g.input("x")
        padded = g.call_function(
            "pad_to_multiple", inp, 2**levels, name="padded", comment="each level halves"
        )
        x = g.call_module((intro,), padded, name="x")
        skips = []
        for i in range(levels):
            x = _run(g, (encoders, str(i)), kinds[0][i], x, f"skip{i + 1}")
            skips.append(x)
            x = g.call_module((downs, str(i)), x, name="x")
        x = _run(g, (middle,), kinds[1], x, "x")
        for i in range(levels):
            x = g.call_module((ups, str(i)), x, inline=True)
            if shuffle:  # the Sequential's closing PixelShuffle(2) holds no key
                x = g.call_function("pixel_shuffle", x, 2, inline=True)
            x = g.call_function("add", x, skips[levels - 1 - i], inline=True)
            x = _run(g, (decoders, str(i)), kinds[2][i], x, "x")
        x = g.call_module((ending,), x, name="x")
        if match.choices[0].value == "add":
            x = g.call_function("add", x, padded, name="x", comment="global residual")
        g.output(g.call_function("crop_like", x, inp, comment="the padding cropped"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Block(nn.Module):  # torchvision's BasicBlock keeping the width
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
                self.bn1 = nn.BatchNorm2d(c)
                self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
                self.bn2 = nn.BatchNorm2d(c)

            def forward(self, x):
                out = torch.relu(self.bn1(self.conv1(x)))
                return torch.relu(self.bn2(self.conv2(out)) + x)

        class Net(nn.Module):  # NAFNet's layout, two levels, any size
            def __init__(self, width: int = 4) -> None:
                super().__init__()
                self.intro = nn.Conv2d(3, width, 3, padding=1)
                self.ending = nn.Conv2d(width, 3, 3, padding=1)
                self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
                self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
                chan = width
                for _ in range(2):
                    self.encoders.append(nn.Sequential(Block(chan)))
                    self.downs.append(nn.Conv2d(chan, 2 * chan, 2, 2))
                    chan *= 2
                self.middle_blks = nn.Sequential(Block(chan))
                for _ in range(2):
                    self.ups.append(
                        nn.Sequential(nn.Conv2d(chan, 2 * chan, 1, bias=False), nn.PixelShuffle(2))
                    )
                    chan //= 2
                    self.decoders.append(nn.Sequential(Block(chan)))

            def forward(self, inp):
                h, w = inp.shape[2:]
                x = F.pad(inp, (0, (4 - w % 4) % 4, 0, (4 - h % 4) % 4))
                padded = x
                x = self.intro(x)
                skips = []
                for encoder, down in zip(self.encoders, self.downs):
                    x = encoder(x)
                    skips.append(x)
                    x = down(x)
                x = self.middle_blks(x)
                for decoder, up, skip in zip(self.decoders, self.ups, skips[::-1]):
                    x = decoder(up(x) + skip)
                return (self.ending(x) + padded)[:, :, :h, :w]

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 10, 7),))]
