"""A U-Net of residual levels (ResUNet, Zhang et al. 2018, "Road Extraction by Deep Residual
U-Net"), as rishikksh20/ResUnet writes it (core/res_unet.py): every level a pre-activation
residual block (blocks/residual_layer.py), members of the top class.

    x1 = input_layer(x) + input_skip(x)         # the entry: two paths on the image, summed
    x2 = residual_conv_1(x1) ... xK = bridge(x(K-1))     # each level's first convs stride 2
    x = upsample_1(xK); x = up_residual_conv1(cat([x, x(K-1)]))  ... down to x1
    return output_layer(x)                      # a 1x1 conv (and a keyless sigmoid)

No key says which member is which: the widths do. The entry is the two members that read the
image and give one width (a sum); the contracting path the chain of residual levels widening from
it; for each level back up, an upsampler reads the running width and a residual level reads what
it gives plus the skip's width. The levels halve the map by their first conv and its projection
(stride 2: ResUNet's, pinned per instance), the up levels keep it. The concatenation's order
(the upsampled map first), the entry's keyless activation (a ReLU) and what follows the head's
conv where a Sequential holds it alone (a sigmoid: rishikksh20's) leave no keys: choices, and the
forward says guessed.
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
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin
from codegen.patterns.families.split_level_unet import _layers, _upsampler, _width

WHY = "a residual U-Net's level: its first conv and projection halve the map (ResUNet's)"
KEEP = "a residual U-Net's entry, up level or head: the map keeps its size"
GUESSED = (
    "the concatenation's order (the upsampled map first), the entry's keyless activation and "
    "what follows the head's conv leave no keys: ResUNet's convention"
)


def _convs(m) -> list:
    """The built-in convs a member applies, in order, through nested Sequentials."""
    if m.kind == "sequential":
        return [leaf for c in m.children for leaf in _convs(c)]
    return [m] if m.kind == "builtin" and family(m) == "conv" else []


def _instance_path(path: str, level) -> str:
    """A choice's path (addressed by its class's first instance) for the instance `level`."""
    _, _, rest = path.partition(".")
    return f"{level.attr}.{rest}"


def _level_pins(ctx: BlockContext, level, stride: int, why: str) -> list | None:
    """Stride and padding pins for the first conv of each Sequential a residual level holds (the
    body's and the projection's), on this instance; None where a level's layout is otherwise."""
    held = ctx.classes.get(level.type_name)
    paths = [m for m in modules(held) if m.kind == "sequential"] if held is not None else []
    if len(paths) != 2:
        return None
    pins = []
    for path in paths:
        convs = _convs(path)
        if not convs:
            return None
        for i, conv in enumerate(convs):
            k = conv_kernel(conv)
            k = k if isinstance(k, int) else k[0]
            for keyword, value in (("stride", stride if i == 0 else 1), ("padding", k // 2)):
                pin = arg_pin(conv, keyword, value, why)
                if pin is not None:
                    pins.append((_instance_path(pin[0], level),) + pin[1:])
    return pins


class ResidualUNet(BlockPattern):
    role = "ResidualUNet"
    priority = 9

    accepts = Accepts(7, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 7 or not cls.is_top:
            return None
        levels = [m for m in members if m.kind == "class" and ctx.role(m) == "ResidualLayer"]
        ups = {m.attr: _upsampler(m, ctx) for m in members if m not in levels}
        ups = {attr: slots for attr, slots in ups.items() if slots == []}  # transposed convs
        rest = [m for m in members if m not in levels and m.attr not in ups]
        if len(rest) != 3 or any(_width(m, "out_width") is None for m in levels + rest):
            return None
        # the head: one 1x1 conv (alone, or alone in a Sequential)
        heads = [m for m in rest if len(_layers(m, ctx)) == 1 and len(_convs(m)) == 1]
        heads = [m for m in heads if conv_kernel(_convs(m)[0]) in (1, (1, 1))]
        if len(heads) != 1:
            return None
        head = heads[0]
        entry = [m for m in rest if m is not head]
        image = _width(entry[0], "in_width")
        if image is None or any(_width(m, "in_width") != image for m in entry):
            return None
        width = _width(entry[0], "out_width")
        if _width(entry[1], "out_width") != width:
            return None
        down, left = [], list(levels)
        while True:
            nxt = [
                c for c in left if _width(c, "in_width") == width and _width(c, "out_width") > width
            ]
            if len(nxt) != 1:
                break
            down.append(nxt[0])
            left.remove(nxt[0])
            width = _width(nxt[0], "out_width")
        if len(down) < 2 or len(left) != len(down) or len(ups) != len(left):
            return None
        skips = [_width(entry[0], "out_width")] + [_width(m, "out_width") for m in down[:-1]]
        free_ups, plan = [m for m in members if m.attr in ups], []
        for skip_width in reversed(skips):
            up = [u for u in free_ups if _width(u, "in_width") == width]
            if len(up) != 1 or not _width(up[0], "out_width"):
                return None
            upsampled = _width(up[0], "out_width")
            conv = [c for c in left if _width(c, "in_width") == upsampled + skip_width]
            if len(conv) != 1:
                return None
            free_ups.remove(up[0])
            left.remove(conv[0])
            plan.append((up[0].attr, conv[0].attr))
            width = _width(conv[0], "out_width")
        if _width(head, "in_width") != width:
            return None
        pins = []
        for level, stride, why in [(m, 2, WHY) for m in down] + [
            (next(m for m in members if m.attr == c), 1, KEEP) for _, c in plan
        ]:
            found = _level_pins(ctx, level, stride, why)
            if found is None:
                return None
            pins += found
        for m in entry:
            for conv in _convs(m):
                k = conv_kernel(conv)
                k = k if isinstance(k, int) else k[0]
                pins += [arg_pin(conv, "stride", 1, KEEP), arg_pin(conv, "padding", k // 2, KEEP)]
            held = m.children if m.kind == "sequential" else []
            pins += [slot_pin(c, "nn.ReLU()", GUESSED) for c in held if c.kind == "placeholder"]
        order = ctx.choose(cls, head.attr, "concat_order", "upsampled_first", ["skip_first"], "")
        closing = "identity"
        if head.kind == "sequential":  # a conv held alone: something keyless follows it
            closing = ctx.choose(
                cls, head.attr, "output_activation", "sigmoid", ["identity"], "after the head"
            )
        choices = [order] + ([closing] if closing != "identity" else [])
        found = ([m.attr for m in entry], [m.attr for m in down], plan, head.attr)
        pins = [p for p in pins if p is not None]
        return Match(self, len(members), found, choices, guessed=GUESSED, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        entry, down, plan, head = match.found
        values = {c.name: c.value for c in match.choices}
        x = g.input("x")
        a = g.call_module((entry[0],), x, inline=True)
        b = g.call_module((entry[1],), x, inline=True)
        h = g.call_function("add", a, b, name="x1", comment="the entry's two paths")
        kept = [h]
        for i, attr in enumerate(down):
            h = g.call_module((attr,), h, name=f"x{i + 2}")
            kept.append(h)
        kept.pop()  # the deepest map goes on up, not across
        for up, conv in plan:
            d = g.call_module((up,), h, name="d")
            skip = kept.pop()
            pair = [d, skip] if values["concat_order"] == "upsampled_first" else [skip, d]
            both = g.call_function("cat", pair, kwargs={"dim": 1}, inline=True)
            h = g.call_module((conv,), both, name="x")
        out = g.call_module((head,), h, name="out")
        if values.get("output_activation") == "sigmoid":
            out = g.call_function("sigmoid", out, comment="past the head's keys")
        g.output(out)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision_examples import _randomise_norms

        torch.manual_seed(0)
        model = residual_unet()
        _randomise_norms(model)
        return [Example(model.eval(), (torch.randn(2, 3, 16, 16),))]


def residual_unet():
    """A two-level ResUNet laid out as rishikksh20's, under other names."""
    import torch
    import torch.nn as nn

    class Unit(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.BatchNorm2d(c_in),
                nn.ReLU(),
                nn.Conv2d(c_in, c_out, 3, stride, 1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=1),
            )
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.BatchNorm2d(c_out))

        def forward(self, x):
            return self.body(x) + self.skip(x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1),
                nn.BatchNorm2d(4),
                nn.ReLU(),
                nn.Conv2d(4, 4, 3, padding=1),
            )
            self.stem_skip = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1))
            self.enc1 = Unit(4, 8, 2)
            self.mid = Unit(8, 12, 2)
            self.up_conv1 = nn.ConvTranspose2d(12, 12, 2, 2)
            self.dec1 = Unit(20, 8, 1)
            self.up_conv2 = nn.ConvTranspose2d(8, 8, 2, 2)
            self.dec2 = Unit(12, 4, 1)
            self.out = nn.Sequential(nn.Conv2d(4, 2, 1), nn.Sigmoid())

        def forward(self, x):
            x1 = self.stem(x) + self.stem_skip(x)
            x2 = self.enc1(x1)
            x3 = self.mid(x2)
            h = self.dec1(torch.cat([self.up_conv1(x3), x2], 1))
            h = self.dec2(torch.cat([self.up_conv2(h), x1], 1))
            return self.out(h)

    return Net()
