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
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.double_conv import holds_double_conv
from codegen.patterns.blocks.unet_level import double_conv_pins


def _width(m, end: str) -> int | None:
    return getattr(m.io, end, None) if m.io is not None else None


def _chain(levels: list, width: int | None) -> list | None:
    """The levels in the order their widths chain from `width` (each reads what the one before
    gives); None unless exactly one order uses them all."""
    order, left = [], list(levels)
    while left:
        nxt = [m for m in left if _width(m, "in_width") == width]
        if len(nxt) != 1:
            return None
        order.append(nxt[0])
        left.remove(nxt[0])
        width = _width(nxt[0], "out_width")
    return order


def _up_widths(ctx: BlockContext, cls, m) -> tuple[int | None, int | None]:
    """(what an up level's upsampler gives, None without one; what its DoubleConv reads) for the
    instance held as `m`, from that instance's own members' widths."""
    held = ctx.classes.get(m.type_name)
    if held is None:
        return None, None
    up = next((c.attr for c in modules(held) if c.type_name == "nn.ConvTranspose2d"), None)
    conv = next((c.attr for c in modules(held) if holds_double_conv(ctx, c)), None)
    own = {f"{path}.{m.attr}" if path else m.attr for path, _ in cls.instances}
    widths = next((w for (p, _), w in zip(held.instances, held.member_io) if p in own), None)
    if widths is None or conv is None:
        return None, None
    gives = widths[up].out_width if up is not None and widths.get(up) else None
    return gives, widths[conv].in_width if widths.get(conv) else None


class LevelUNet(BlockPattern):
    role = "UNet"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 4:
            return None
        entry = [m for m in members if holds_double_conv(ctx, m)]
        downs = [m for m in members if ctx.role(m) == "UNetDown"]
        ups = [m for m in members if ctx.role(m) == "UNetUp"]
        heads = [m for m in members if m not in entry + downs + ups]
        if len(entry) != 1 or not downs or len(ups) != len(downs) or len(heads) != 1:
            return None
        head = heads[0]
        if ctx.role(head) != "OutConv" and not (
            family(head) == "conv" and head.kind == "builtin" and conv_kernel(head) in (1, (1, 1))
        ):
            return None
        entry = entry[0]
        downs = _chain(downs, _width(entry, "out_width"))
        if downs is None or not all(_width(d, "out_width") for d in downs):
            return None
        kept = [entry] + downs[:-1]  # the maps the up levels read back, deepest last
        width, order, left = _width(downs[-1], "out_width"), [], list(ups)
        for skip in reversed(kept):
            skip_width = _width(skip, "out_width")
            fits = []
            for m in left:
                gives, reads = _up_widths(ctx, cls, m)
                upsampled = gives if gives is not None else width
                if reads == upsampled + skip_width and _width(m, "out_width"):
                    fits.append(m)
            if len(fits) != 1:
                return None
            order.append(fits[0])
            left.remove(fits[0])
            width = _width(fits[0], "out_width")
        if _width(head, "in_width") not in (None, width):
            return None
        pins = double_conv_pins(ctx, [entry])
        found = (entry.attr, [d.attr for d in downs], [u.attr for u in order], head.attr)
        return Match(self, len(members), found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        entry, downs, ups, head = match.found
        x = g.call_module((entry,), g.input("x"), name="x1")
        kept = [x]
        for i, down in enumerate(downs):
            x = g.call_module((down,), x, name=f"x{i + 2}")
            kept.append(x)
        kept.pop()  # the deepest map goes on up, not across
        for up in ups:
            x = g.call_module((up,), x, kept.pop(), name="x")
        g.output(g.call_module((head,), x, comment="[batch, classes, height, width]"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._unet_examples import unet_examples

        return unet_examples()
