"""An upsampling step written as its own class: a 2-d conv giving r*r times the width it reads, a
pixel shuffle by r, and a PReLU (SRGAN's `UpsampleBLock`, Ledig et al. 2017's sub-pixel block):

    return prelu(pixel_shuffle(conv(x), r))

The ratio of the conv's widths shows the shuffle. A PReLU with one slope, or one per output
channel, reads what the shuffle gives (with one slope the order would not matter); one with a
slope per channel the conv gives runs before the shuffle.

CARN's `_UpsampleBlock` holds its x2 step as `body = Sequential(conv, ReLU, PixelShuffle(2))`:
only the conv has keys. Where such a class is named as an upsampler (`up`, `upsample`), the
widening conv is followed by the shuffle its widths call for; the activation before it is a
choice (none in EDSR-PyTorch's Upsampler, ReLU in CARN's).
"""

from __future__ import annotations

import re

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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.conv_body import keyless_activation

RATIOS = (2, 3, 4)
UPSAMPLER_NAME = re.compile(r"up(sample|sampler|sampling)?\d*", re.IGNORECASE)


def shuffle_ratio(conv) -> int | None:
    """r where a 2-d conv gives r*r times the width it reads."""
    if conv is None or conv.kind != "builtin" or family(conv) != "conv" or conv.io.ndim != 2:
        return None
    reads, gives = conv.io.in_width, conv.io.out_width
    return next((r for r in RATIOS if reads and gives == reads * r * r), None)


def _named_upsampler(cls) -> bool:
    """Every instance of the class is named as an upsampler (`up`, `upsample2`, ...)."""
    names = {path.rsplit(".", 1)[-1] for path, _ in cls.instances}
    return bool(names) and all(UPSAMPLER_NAME.fullmatch(n) for n in names)


def _slopes(m) -> int | None:
    """How many slopes a PReLU member holds."""
    if m.kind != "builtin" or m.type_name != "nn.PReLU":
        return None
    count = next((a.value for a in m.args if a.keyword == "num_parameters"), 1)
    if isinstance(count, int):
        return count
    return m.io.out_width if m.io is not None else None  # a width parameter's name


class ShuffleUpsample(BlockPattern):
    role = "Upsample"
    priority = 5

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (1, 2):
            return None
        if len(members) == 1 and members[0].kind == "sequential":
            return self._body(cls, ctx, members[0])
        convs = [m for m in members if shuffle_ratio(m)]
        if len(convs) != 1:
            return None
        conv = convs[0]
        r = shuffle_ratio(conv)
        if conv_kernel(conv) in (1, (1, 1)):
            return None  # a 1x1 conv widening r*r times is a bottleneck's projection (BiT's)
        if len(members) == 1 and not _named_upsampler(cls):
            return None  # a lone widening conv is an upsampler only where it is named one
        prelu, before = None, False
        if len(members) == 2:
            prelu = next(m for m in members if m is not conv)
            slopes = _slopes(prelu)
            if slopes not in (1, conv.io.in_width, conv.io.out_width):
                return None
            before = slopes != 1 and slopes == conv.io.out_width
        found = (conv.attr, r, prelu.attr if prelu else None, before)
        return Match(self, len(members), found)

    def _body(self, cls, ctx: BlockContext, body) -> Match | None:
        """CARN's `body = Sequential(conv, ReLU, PixelShuffle)`, its keys the conv's alone."""
        if not _named_upsampler(cls):
            return None
        if len(body.children) != 1 or not shuffle_ratio(body.children[0]):
            return None
        activation, guessed = keyless_activation(
            ctx, cls, body.attr, "before the shuffle", "CARN's: relu"
        )
        r = shuffle_ratio(body.children[0])
        return Match(self, 1, ((body.attr,), r, None, False), [activation], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        conv, r, prelu, before = match.found
        x = g.input("x")
        if isinstance(conv, tuple):  # a body Sequential holding the conv
            x = g.call_module(conv, x, name="x")
            x = act.apply(g, match.choices[0].value, x, name="x")
            g.output(g.call_function("pixel_shuffle", x, r, name="x"))
            return
        x = g.call_module((conv,), x, name="x")
        if prelu and before:
            x = g.call_module((prelu,), x, name="x")
        x = g.call_function(
            "pixel_shuffle", x, r, name="x", comment=f"{r * r}x channels -> {r}x size"
        )
        if prelu and not before:
            x = g.call_module((prelu,), x, name="x")
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class UpsampleBLock(nn.Module):  # leftthomas/SRGAN model.py
            def __init__(self, in_channels: int, up_scale: int) -> None:
                super().__init__()
                self.conv = nn.Conv2d(in_channels, in_channels * up_scale**2, 3, padding=1)
                self.pixel_shuffle = nn.PixelShuffle(up_scale)
                self.prelu = nn.PReLU()

            def forward(self, x):
                return self.prelu(self.pixel_shuffle(self.conv(x)))

        class SubPixel(nn.Module):  # a per-channel PReLU after an x3 shuffle
            def __init__(self, n: int = 4) -> None:
                super().__init__()
                self.up_conv = nn.Conv2d(n, 9 * n, 3, padding=1)
                self.act = nn.PReLU(n)

            def forward(self, x):
                return self.act(nn.functional.pixel_shuffle(self.up_conv(x), 3))

        torch.manual_seed(0)
        image = (torch.randn(2, 4, 5, 5),)
        return [Example(UpsampleBLock(4, 2).eval(), image), Example(SubPixel().eval(), image)]
