"""A super-resolution net whose last layer is a transposed conv back to the image's channels
(FSRCNN, Dong et al. 2016; IDN, Hui et al. 2018): a head of convs, a body keeping the width, the
transposed conv upsampling by its stride, and (IDN) the input, upsampled to the output's size,
added:

    out = tail(body(act(head(x))))
    return out + interpolate(x, scale_factor=stride, mode="bicubic")    # IDN; FSRCNN: none

The tail's widths and type show the order: the transposed conv gives the image's channels, so it
runs last, and the head is what reads them: where its first conv's weight reads one channel per
group (a depthwise conv or a grayscale stem, which the weight cannot tell apart) and the tail
gives one channel, the head reads the one-channel image. The residual and an activation after a
head that ends on a conv leave no tensor: choices, IDN's (bicubic, LeakyReLU 0.05) where the body
is IDN's enhancement units (blocks/split_add_back.py), else none.
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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.selective_scan import conv_pins
from codegen.patterns.blocks.split_add_back import ROLE as IDN_UNIT, slot_pins
from codegen.patterns.families.super_resolution import add_input_residual, input_residual

IDN = "IDN's fblock and output (yjn870/IDN-pytorch models.py): LeakyReLU 0.05, bicubic added"


def _layers(m) -> list | None:
    """A head's layers: a conv, or a Sequential of builtin layers (slots allowed)."""
    if m.kind == "builtin":
        return [m]
    if m.kind != "sequential" or not m.children:
        return None
    items = [c for c in m.children if c.kind != "placeholder"]
    return items if items and all(c.kind == "builtin" for c in items) else None


def _stride(m) -> int | None:
    value = next((a.value for a in m.args if a.keyword == "stride"), 1)
    return value if isinstance(value, int) else None


def _depthwise_choice(conv):
    """The conv's `depthwise` choice, where its weight reads one channel per group."""
    return next((c for c in conv.choices if c.name == "depthwise"), None)


class TransposedTailSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3 or any(m.io is None for m in members):
            return None
        tails = [m for m in members if m.kind == "builtin" and "Transpose" in m.type_name]
        if len(tails) != 1 or tails[0].io.ndim != 2:
            return None
        tail = tails[0]
        width, channels = tail.io.in_width, tail.io.out_width
        rest = [m for m in members if m is not tail]
        heads = [m for m in rest if _layers(m) and m.io.out_width == width]
        reads = [m for m in heads if m.io.in_width == channels]
        if len(reads) != 1:  # else the head whose first weight reads one channel per group
            reads = [m for m in heads if _depthwise_choice(_layers(m)[0]) is not None]
        if len(reads) != 1:
            return None
        head = reads[0]
        body = next(m for m in rest if m is not head)
        if body.kind not in ("repeat", "modulelist", "sequential", "class"):
            return None
        if (body.io.in_width, body.io.out_width) != (width, width):
            return None
        layers = _layers(head)
        if family(layers[0]) != "conv":
            return None
        pins = []
        if head.io.in_width != channels:
            # a weight reading one channel per group: a grayscale stem where the tail gives one
            depthwise = _depthwise_choice(layers[0])
            if channels != 1 or depthwise is None or depthwise.source != "default":
                return None
            if not isinstance(depthwise.value, bool) or not depthwise.value:
                return None
            why = "the transposed tail gives one channel: the head reads the grayscale image"
            pins += conv_pins(layers[0], {"depthwise": False}, why)
        idn = ctx.role(body) == IDN_UNIT
        choices = []
        if family(layers[-1]) == "conv":  # a trailing activation leaves no slot
            default = "leaky_relu_0.05" if idn else "identity"
            activation = ctx.choose(
                cls,
                head.attr,
                "activation",
                default,
                act.alternatives(default, conv=True),
                "after the head's last conv",
            )
            if idn and activation.source == "default":
                activation.note = IDN
            choices.append(activation)
            if idn:
                pins += slot_pins(cls, [head], activation.value, IDN)
        residual = input_residual(ctx, cls, tail.attr, "bicubic" if idn else "none")
        choices.append(residual)
        scale = _stride(tail)
        if scale is None:
            return None
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "what follows the head and whether the upsampled input is added leave no tensor "
                f"({'IDN' if idn else 'FSRCNN'}'s code by convention): the choices "
                + ", ".join(guessed)
            )
        found = (head.attr, body.attr, body.kind in ("repeat", "modulelist"), tail.attr, scale)
        return Match(self, len(members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        head, body, each, tail, scale = match.found
        *activation, residual = (c.value for c in match.choices)
        x = g.input("x")
        out = g.call_module((head,), x, inline=bool(activation))
        if activation:
            out = act.apply(g, activation[0], out, name="out")
        out = g.call_module((body,), out, name="out", each=each)
        out = g.call_module((tail,), out, name="out", comment=f"{scale}x larger")
        g.output(add_input_residual(g, out, x, residual, scale))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class MidBlock(nn.Module):
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3, padding=1)
                self.act = nn.PReLU(c)

            def forward(self, x):
                return self.act(self.conv(x))

        class Fsrcnn(nn.Module):  # FSRCNN's parts, its mapping layers as blocks, x2
            def __init__(self, c: int = 8) -> None:
                super().__init__()
                self.first_part = nn.Sequential(nn.Conv2d(1, c, 5, padding=2), nn.PReLU(c))
                self.mid_part = nn.Sequential(MidBlock(c), MidBlock(c))
                self.last_part = nn.ConvTranspose2d(c, 1, 9, 2, 4, output_padding=1)

            def forward(self, x):
                return self.last_part(self.mid_part(self.first_part(x)))

        torch.manual_seed(0)
        return [Example(Fsrcnn().eval(), (torch.randn(2, 1, 5, 5),))]
