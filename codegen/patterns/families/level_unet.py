"""A segmentation U-Net (Ronneberger et al. 2015) whose levels are members of the top class, as
milesial/Pytorch-UNet writes it (unet/unet_model.py):

    x1 = inc(x)                 a DoubleConv at full resolution
    x2 = down1(x1) ... x5 = down4(x4)      each level halves the size, its width grows
    x = up1(x5, x4) ... x = up4(x, x1)     each level doubles it, concatenating the skip
    return outc(x)              a 1x1 conv to the classes

No key says which skip each up level takes: the widths do. The contracting path is the chain of
down levels whose widths grow from the entry block's; the expanding path runs the up levels in the
order their widths chain, and each reads back the latest map of the contracting path not yet
taken: the up level's DoubleConv reads the upsampled width plus that skip's width, which the match
checks. The levels' own forwards are blocks/unet_level.py's.

Whether the 3x3 convs are padded (milesial's) or unpadded, the skips centre-cropped to the smaller
upsampled map (the paper's; jvanvugt's padding=False), no key says: one choice for the whole net,
`valid_convs`, that every DoubleConv and up level follows; the output's size settles it.
"""

from __future__ import annotations

from codegen.ir import ExampleInput
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
from codegen.patterns.blocks._unet_parts import image_entry_pins
from codegen.patterns.blocks.double_conv import holds_double_conv
from codegen.patterns.blocks.unet_level import double_conv_pins


def _width(m, end: str) -> int | None:
    return getattr(m.io, end, None) if m.io is not None else None


def _items(m) -> list[tuple[tuple[str, ...], object]]:
    """A member's levels with their paths: a list's items (jvanvugt's `down_path`), or itself."""
    if m.kind in ("modulelist", "sequential"):
        return [((m.attr, c.attr), c) for c in m.children if c.kind != "placeholder"]
    return [((m.attr,), m)]


def _chain(levels: list, width: int | None) -> list | None:
    """The levels in the order their widths chain from `width` (each reads what the one before
    gives); None unless exactly one order uses them all."""
    order, left = [], list(levels)
    while left:
        nxt = [lv for lv in left if _width(lv[1], "in_width") == width]
        if len(nxt) != 1:
            return None
        order.append(nxt[0])
        left.remove(nxt[0])
        width = _width(nxt[0][1], "out_width")
    return order


def instance_widths(cls, held, path) -> dict | None:
    """The widths of the members of `held` (a class) in its instance at `path` under the class
    `cls`: a class shared by levels of several widths records each instance's."""
    at = ".".join(path)
    own = {f"{p}.{at}" if p else at for p, _ in cls.instances}
    return next((w for (p, _), w in zip(held.instances, held.member_io) if p in own), None)


def _up_widths(ctx: BlockContext, cls, path, m) -> tuple[int | None, int | None]:
    """(what an up level's upsampler gives, None without one; what its DoubleConv reads) for the
    instance at `path`, from that instance's own members' widths."""
    held = ctx.classes.get(m.type_name)
    if held is None:
        return None, None
    up = next((c.attr for c in modules(held) if c.type_name == "nn.ConvTranspose2d"), None)
    conv = next((c.attr for c in modules(held) if holds_double_conv(ctx, c)), None)
    widths = instance_widths(cls, held, path)
    if widths is None or conv is None:
        return None, None
    gives = widths[up].out_width if up is not None and widths.get(up) else None
    return gives, widths[conv].in_width if widths.get(conv) else None


def _head(ctx: BlockContext, m) -> bool:
    """milesial's OutConv, or a bare 1x1 conv (jvanvugt's `last`)."""
    if ctx.role(m) == "OutConv":
        return True
    return family(m) == "conv" and m.kind == "builtin" and conv_kernel(m) in (1, (1, 1))


class LevelUNet(BlockPattern):
    role = "UNet"
    priority = 6

    accepts = Accepts(3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 3:
            return None
        levels = [lv for m in members for lv in _items(m)]
        convs = [lv for lv in levels if holds_double_conv(ctx, lv[1])]
        downs = [lv for lv in levels if ctx.role(lv[1]) == "UNetDown"]
        ups = [lv for lv in levels if ctx.role(lv[1]) == "UNetUp"]
        heads = [lv for lv in levels if lv not in convs + downs + ups]
        if not convs or len(heads) != 1 or not _head(ctx, heads[0][1]):
            return None
        if any(len(path) > 1 for path, _ in heads):
            return None
        # The contracting path: what reads the input (a DoubleConv), then the levels whose widths
        # chain from it. A DoubleConv after the first is pooled first by the top forward
        # (jvanvugt's F.max_pool2d); a down level pools inside (milesial's maxpool_conv).
        entry = [
            lv
            for lv in convs
            if not any(
                _width(lv[1], "in_width") == _width(o[1], "out_width")
                for o in convs + downs
                if o is not lv
            )
        ]
        if len(entry) != 1:
            return None
        rest = _chain(
            [lv for lv in convs + downs if lv is not entry[0]], _width(entry[0][1], "out_width")
        )
        if not rest or len(ups) != len(rest):
            return None
        path_down = entry + rest
        if not all(_width(lv[1], "out_width") for lv in path_down):
            return None
        kept = path_down[:-1]  # the maps the up levels read back, deepest last
        width, order, left = _width(path_down[-1][1], "out_width"), [], list(ups)
        for _, skip in reversed(kept):
            skip_width = _width(skip, "out_width")
            fits = []
            for path, m in left:
                gives, reads = _up_widths(ctx, cls, path, m)
                upsampled = gives if gives is not None else width
                if reads is not None and reads == upsampled + skip_width:
                    fits.append((path, m))
            if len(fits) != 1 or not _width(fits[0][1], "out_width"):
                return None
            order.append(fits[0])
            left.remove(fits[0])
            width = _width(fits[0][1], "out_width")
        head = heads[0]
        if _width(head[1], "in_width") not in (None, width):
            return None
        pins = double_conv_pins(ctx, [lv[1] for lv in convs]) + image_entry_pins(ctx, *entry[0])
        down_path = [
            (path, ctx.role(m) != "UNetDown" and i > 0) for i, (path, m) in enumerate(path_down)
        ]
        # Ronneberger et al.'s convs are unpadded and the skips centre-cropped (jvanvugt's
        # padding=False); the usual U-Net pads them (milesial's). No key says which: one choice
        # for every level, the output's size shows it (calibration).
        valid = ctx.choose(
            cls,
            path_down[0][0][0],
            "valid_convs",
            False,
            [True],
            "unpadded 3x3 convs, skips centre-cropped (Ronneberger et al. 2015)",
        )
        if valid.value:
            pins.append(("", "double_conv_padding", 0, "the U-Net's unpadded convs"))
        guessed = ""
        if valid.source == "default":
            guessed = (
                "padded 3x3 convs (the usual U-Net's) or unpadded ones with centre-cropped skips "
                "(Ronneberger et al.'s) leave no key: valid_convs, the output's size shows it"
            )
        found = (down_path, [path for path, _ in order], head[0])
        return Match(self, len(members), found, [valid], guessed=guessed, pins=pins)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput] | None:
        """With unpadded convs, an image each level's two convs (4 pixels) and the pools fit:
        12 pixels at the deepest level, twice as many plus 4 at each level above."""
        down_path = match.found[0]
        if not match.choices[0].value:
            return None
        entry = next((m for m in modules(cls) if m.attr == down_path[0][0][0]), None)
        width = _width(entry.children[0] if entry.kind != "class" else entry, "in_width")
        if not width:
            return None
        side = 12
        for _ in down_path[1:]:
            side = 2 * side + 4
        return [ExampleInput((2, width, side, side))]

    def forward(self, match: Match, g: Graph) -> None:
        down_path, ups, head = match.found
        x, kept = g.input("x"), []
        for i, (path, pooled) in enumerate(down_path):
            if pooled:
                x = g.call_function("max_pool2d", x, 2, name="x", comment="the contracting step")
            x = g.call_module(path, x, name=f"x{i + 1}")
            kept.append(x)
        kept.pop()  # the deepest map goes on up, not across
        for up in ups:
            x = g.call_module(up, x, kept.pop(), name="x")
        g.output(g.call_module(head, x, comment="[batch, classes, height, width]"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._unet_examples import unet_examples

        return unet_examples()
