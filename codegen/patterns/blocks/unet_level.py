"""The levels of a segmentation U-Net (Ronneberger et al. 2015) held as classes, as
milesial/Pytorch-UNet writes them (unet/unet_parts.py):

    Down:    maxpool_conv = Sequential(MaxPool2d(2), DoubleConv)         -> maxpool_conv(x)
    Up:      up = ConvTranspose2d(c, c // 2, 2, stride 2)  (or a keyless bilinear Upsample)
             conv = DoubleConv(c, c_out)
             forward(x, skip): x = up(x); pad x to skip's size; conv(cat([skip, x]))
    OutConv: conv = Conv2d(c, classes, 1)                                 -> conv(x)

The pool holds no tensors: the slot before the DoubleConv is the contracting step, a 2x2 max pool
in the paper and in every U-Net repository that holds it in a Sequential (a choice). In the up
level the DoubleConv's first conv reads the upsampled width plus the skip's: what it concatenates
shows in its width; in which order does not (both halves are as wide), nor does a keyless
upsampler's mode. Where the member names are milesial's (`up`, `conv`), its code fixes both (the
skip first; bilinear with aligned corners); elsewhere they are choices, the up-sampled map first
(jvanvugt's and usuyama's order), and the forward says it is a guess until calibration or a hint
settles them.
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
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.double_conv import holds_double_conv
from codegen.patterns.blocks.padded_resnet_block import arg_pin, numbered_body, slot_pin

POOL_WHY = "a U-Net's contracting step (Ronneberger et al. 2015: 2x2 max pooling)"
CONV_WHY = "a U-Net level's double conv (Ronneberger et al. 2015: each conv then a ReLU)"
MILESIAL = {"up", "conv"}  # milesial/Pytorch-UNet's Up: `self.up`, `self.conv`
UPSAMPLES = ["bilinear_aligned", "bilinear", "nearest"]


def double_conv_pins(ctx: BlockContext, members) -> list[tuple]:
    """Pins for the held DoubleConvs' activation where it is still a default: inside a U-Net
    level the layout is the paper's, a ReLU after each conv."""
    pins = []
    for m in members:
        held = ctx.classes.get(m.type_name) if m.kind == "class" else None
        if held is None or not holds_double_conv(ctx, m):
            continue
        for c in held.forward.choices:
            if c.name == "activation" and c.source == "default":
                pins.append((c.path, "activation", "relu", CONV_WHY))
    return pins


class UNetPoolDown(BlockPattern):
    """`Sequential(pool slot, DoubleConv)`: the contracting level."""

    role = "UNetDown"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = numbered_body(cls)
        if found is None:
            return None
        body, items = found
        if len(items) != 2 or items[0].kind != "placeholder":
            return None
        if not holds_double_conv(ctx, items[1]):
            return None
        pins = [slot_pin(items[0], "nn.MaxPool2d(2)", POOL_WHY)]
        pins += double_conv_pins(ctx, [items[1]])
        return Match(self, 1, body.attr, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("x"), name="x"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._unet_examples import unet_examples

        return unet_examples()[:1]


def _upconv(m) -> bool:
    """A 2x2 stride-2 transposed conv (its stride is a choice the pattern pins)."""
    return m.kind == "builtin" and m.type_name == "nn.ConvTranspose2d"


class UNetUpLevel(BlockPattern):
    """`up` (a transposed conv, or none: a keyless upsampler) then a DoubleConv over the skip and
    the upsampled map concatenated. Its forward takes the map and the skip."""

    role = "UNetUp"
    priority = 6

    accepts = Accepts(1, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 1 <= len(members) <= 2:
            return None
        convs = [m for m in members if holds_double_conv(ctx, m)]
        ups = [m for m in members if _upconv(m)]
        if len(convs) != 1 or len(convs) + len(ups) != len(members):
            return None
        conv, up = convs[0], ups[0] if ups else None
        reads = conv.io.in_width if conv.io else None
        gives = up.io.out_width if up is not None and up.io else None
        if reads is None or (up is not None and (gives is None or not 0 < gives < reads)):
            return None
        known = {m.attr for m in members} <= MILESIAL
        where = (up or conv).attr
        skip_first = ctx.choose(
            cls, where, "skip_first", known, [not known], "the concatenation: skip, then map"
        )
        choices, guesses = [skip_first], []
        if skip_first.source == "default" and not known:
            guesses.append("which half the concatenation puts first")
        if up is None:
            mode = ctx.choose(
                cls, conv.attr, "upsample", UPSAMPLES[0], UPSAMPLES[1:], "the keyless 2x upsampler"
            )
            choices.append(mode)
            if mode.source == "default" and not known:
                guesses.append("the keyless upsampler's mode")
        pins = double_conv_pins(ctx, [conv])
        if up is not None:
            pins.append(_stride_pin(up))
        guessed = " and ".join(guesses) + " (no key records it)" if guesses else ""
        found = (up.attr if up is not None else None, conv.attr, _unpadded(ctx, conv))
        return Match(
            self, len(members) + 1, found, choices, guessed=guessed, pins=[p for p in pins if p]
        )

    def forward(self, match: Match, g: Graph) -> None:
        up, conv, unpadded = match.found
        skip_first = match.choices[0].value
        x, skip = g.input("x"), g.input("skip")
        if up is not None:
            x = g.call_module((up,), x, name="x")
        else:
            mode = match.choices[1].value
            kwargs = {"scale_factor": 2.0, "mode": "nearest" if mode == "nearest" else "bilinear"}
            if mode != "nearest":
                kwargs["align_corners"] = mode == "bilinear_aligned"
            x = g.call_function("interpolate", x, kwargs=kwargs, name="x")
        if unpadded:  # the skip lost fewer border pixels than the map: its centre is kept
            skip = g.call_function("center_crop_like", skip, x, name="skip")
        else:
            x = g.call_function(
                "pad_to_like", x, skip, name="x", comment="to the skip's size (odd sizes differ)"
            )
        halves = [skip, x] if skip_first else [x, skip]
        x = g.call_function("cat", halves, kwargs={"dim": 1}, name="x", inline=True)
        g.output(g.call_module((conv,), x, name="x"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._unet_examples import unet_examples

        return unet_examples()


def _unpadded(ctx: BlockContext, conv) -> bool:
    """Whether the held DoubleConv's convs are unpadded (its `padding` choice): then the up level
    crops the skip to the upsampled map, as the paper does, instead of padding the map."""
    held = ctx.classes.get(conv.type_name) if conv.kind == "class" else None
    choices = held.forward.choices if held is not None and held.forward is not None else []
    return any(c.name == "padding" and c.value == 0 for c in choices)


def _stride_pin(up) -> tuple | None:
    """A transposed conv's stride where still a choice: 2, the up level doubling the size."""
    return arg_pin(up, "stride", 2, "a U-Net's up level doubles the size")


class UNetOutConv(BlockPattern):
    """milesial's OutConv (`outc`): a class holding one 1x1 conv, returning what it gives."""

    role = "OutConv"
    priority = 6
    named = r"outc"

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or cls.named != "outc":
            return None
        conv = members[0]
        if family(conv) != "conv" or conv_kernel(conv) not in (1, (1, 1)):
            return None
        return Match(self, 2, conv.attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("x")))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._unet_examples import unet_examples

        return unet_examples()[:1]
