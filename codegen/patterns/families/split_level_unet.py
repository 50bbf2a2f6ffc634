"""A segmentation U-Net whose up levels are split into separate members of the top class, as
LeeJunHyun's Image_Segmentation writes U_Net and AttU_Net (network.py):

    x1 = Conv1(x); x2 = Conv2(maxpool(x1)) ... x5 = Conv5(maxpool(x4))    DoubleConvs, widening
    d5 = Up5(x5)                   an upsampler (nearest 2x and a conv, or a transposed conv)
    x4 = Att5(g=d5, x=x4)          an attention gate on the skip, where the model has them
    d5 = Up_conv5(cat(x4, d5))     a DoubleConv over the skip and the upsampled map
    ... down to d2; return Conv_1x1(d2)

No key says which member is which: the widths do. The contracting path is the chain of DoubleConvs
from the one reading the image, each widening; for each level back up, the upsampler reads the
running width, the DoubleConv reads what it gives plus the skip's width, and a gate (if any) reads
both. The 2x2 max-pools, the nearest upsampling in the upsampler's empty first slot and the
concatenation's order (skip first) leave no keys: the paper's and the repository's convention.
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
from codegen.patterns.blocks.padded_resnet_block import slot_pin
from codegen.patterns.blocks.unet_level import double_conv_pins

UPSAMPLE = "nn.Upsample(scale_factor=2.0)"
WHY = "the empty slot before a U-Net upsampler's conv: nearest 2x upsampling (LeeJunHyun's up_conv)"
GUESSED = (
    "the 2x2 max-pools between the contracting levels, the upsampling in the upsamplers' empty "
    "slots and the skip-first concatenation leave no keys: the U-Net convention"
)


def _width(m, end: str) -> int | None:
    return getattr(m.io, end, None) if m.io is not None else None


def _layers(m, ctx: BlockContext) -> list:
    """The layers a member holds, in order, through its class's Sequentials (slots included)."""
    if m.kind == "sequential":
        return [leaf for c in m.children for leaf in _layers(c, ctx)]
    if m.kind == "class":
        held = ctx.classes.get(m.type_name)
        held_members = modules(held) if held is not None else []
        return [leaf for c in held_members for leaf in _layers(c, ctx)]
    return [m]


def _upsampler(m, ctx: BlockContext) -> list | None:
    """The empty slots to pin as upsampling (possibly none) where a member is an upsampler: a
    transposed conv (alone or with its norm), or a Sequential [empty slot, conv, norm, slot]
    (LeeJunHyun's up_conv: Upsample, conv, bn, ReLU); None otherwise."""
    found = _layers(m, ctx)
    keyed = [c for c in found if c.kind != "placeholder"]
    if not keyed or any(family(c) not in ("conv", "norm") for c in keyed):
        return None
    convs = [c for c in keyed if family(c) == "conv"]
    if len(convs) != 1:
        return None
    if convs[0].type_name == "nn.ConvTranspose2d":
        return []
    if found[0].kind == "placeholder" and conv_kernel(convs[0]) in (3, (3, 3)):
        return [found[0]]
    return None


class SplitLevelUNet(BlockPattern):
    role = "UNet"
    priority = 9

    accepts = Accepts(5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 5 or not cls.is_top:
            return None
        convs = [m for m in members if holds_double_conv(ctx, m)]
        gates = [m for m in members if ctx.role(m) == "AttentionGate"]
        ups = {m.attr: _upsampler(m, ctx) for m in members if m not in convs + gates}
        ups = {attr: slots for attr, slots in ups.items() if slots is not None}
        heads = [m for m in members if m not in convs + gates and m.attr not in ups]
        if len(heads) != 1 or heads[0].type_name != "nn.Conv2d":
            return None
        if conv_kernel(heads[0]) not in (1, (1, 1)) or not all(
            _width(m, "out_width") for m in convs
        ):
            return None
        # the contracting path: from the DoubleConv nothing here feeds, each next one widening
        # (a gate gives the skip's width, not the one-channel psi its io may show)
        givers = [m for m in members if m not in gates]
        entry = [
            c
            for c in convs
            if not any(
                _width(c, "in_width") == _width(o, "out_width") for o in givers if o is not c
            )
        ]
        if len(entry) != 1:
            return None
        down, left = entry, [c for c in convs if c is not entry[0]]
        while True:
            width = _width(down[-1], "out_width")
            nxt = [
                c for c in left if _width(c, "in_width") == width and _width(c, "out_width") > width
            ]
            if len(nxt) != 1:
                break
            down.append(nxt[0])
            left.remove(nxt[0])
        if len(down) < 2 or len(left) != len(down) - 1 or len(ups) != len(left):
            return None
        if gates and len(gates) != len(left):
            return None
        width, levels = _width(down[-1], "out_width"), []
        free_ups = [m for m in members if m.attr in ups]
        for skip in reversed(down[:-1]):
            skip_width = _width(skip, "out_width")
            up = [u for u in free_ups if _width(u, "in_width") == width]
            if len(up) != 1 or not _width(up[0], "out_width"):
                return None
            upsampled = _width(up[0], "out_width")
            conv = [c for c in left if _width(c, "in_width") == upsampled + skip_width]
            gate = [a for a in gates if _width(a, "in_width") in (upsampled, skip_width)]
            if len(conv) != 1 or (gates and len(gate) != 1):
                return None
            free_ups.remove(up[0])
            left.remove(conv[0])
            if gate:
                gates = [a for a in gates if a is not gate[0]]
            levels.append((up[0].attr, gate[0].attr if gate else None, conv[0].attr))
            width = _width(conv[0], "out_width")
        if _width(heads[0], "in_width") != width:
            return None
        # An upsampler ending in its norm (a Sequential's last item) activates past its keys.
        closing = [
            ctx.choose(cls, up, "up_activation", "relu", ["identity"], "after the upsampler's norm")
            for up, _, _ in levels
            if family(_layers(next(m for m in members if m.attr == up), ctx)[-1]) == "norm"
        ]
        pins = double_conv_pins(ctx, convs)
        pins += [slot_pin(s, UPSAMPLE, WHY) for slots in ups.values() for s in slots]
        activated = {c.path.rpartition(".")[2] for c in closing if c.value == "relu"}
        levels = [(up, gate, conv, up in activated) for up, gate, conv in levels]
        found = ([m.attr for m in down], levels, heads[0].attr)
        pins = [p for p in pins if p is not None]
        return Match(self, len(members), found, closing, guessed=GUESSED, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        down, levels, head = match.found
        x, kept = g.input("x"), []
        for i, attr in enumerate(down):
            if i:
                x = g.call_function("max_pool2d", x, 2, name="x", comment="the contracting step")
            x = g.call_module((attr,), x, name=f"x{i + 1}")
            kept.append(x)
        kept.pop()  # the deepest map goes on up, not across
        for up, gate, conv, activated in levels:
            d = g.call_module((up,), x, name="d")
            if activated:
                d = g.call_function("relu", d, name="d", comment="past the upsampler's keys")
            skip = kept.pop()
            if gate is not None:
                skip = g.call_module((gate,), d, skip, name="skip", comment="the gated skip")
            both = g.call_function("cat", [skip, d], kwargs={"dim": 1}, inline=True)
            x = g.call_module((conv,), both, name="x")
        g.output(g.call_module((head,), x, comment="[batch, classes, height, width]"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._segmentation_examples import unet_examples

        return unet_examples()
