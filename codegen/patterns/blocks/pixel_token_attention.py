"""A transformer layer over the pixels of a feature map, its attention a torch nn.MultiheadAttention
(dome272's Diffusion-Models-pytorch `SelfAttention`: `mha`, `ln`, `ff_self`):

    s = x.flatten(2).transpose(1, 2)                 # [batch, pixels, channels]
    h = norm(s)
    s = attention(h, h, h) + s                       # the pre-norm residual
    s = feed_forward(s) + s                          # [norm, Linear, act, Linear]: its own norm
    return s.transpose(1, 2).reshape(x.shape)

Read from the structure, not the names: one nn.MultiheadAttention of the map's width C, one norm
of width C, and one Sequential [norm C, Linear C -> D, an empty slot, Linear D -> C]. The head
count and the slot's activation leave no tensors: dome272 builds nn.MultiheadAttention(C, 4,
batch_first=True) and nn.GELU() (pins, said in the file, that calibration may move); where four
heads do not divide the width the head count stays the layer's own default.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.padded_resnet_block import slot_pin

WHY = "dome272's SelfAttention: nn.MultiheadAttention(channels, 4, batch_first=True), GELU"
HEADS = 4


def _feed_forward(m, width: int) -> tuple | None:
    """(norm, first Linear, slot, last Linear) of a Sequential [norm, Linear, slot, Linear] that
    maps the width back to itself; None otherwise."""
    if m.kind != "sequential" or len(m.children) != 4:
        return None
    norm, first, slot, last = sorted(
        m.children, key=lambda c: int(c.attr) if c.attr.isdigit() else -1
    )
    if [c.attr for c in (norm, first, slot, last)] != ["0", "1", "2", "3"]:
        return None
    if family(norm) != "norm" or family(first) != "linear" or family(last) != "linear":
        return None
    if slot.kind != "placeholder" or norm.io.in_width != width:
        return None
    if first.io.in_width != width or last.io.out_width != width:
        return None
    if first.io.out_width != last.io.in_width:
        return None
    return norm, first, slot, last


class PixelTokenAttention(BlockPattern):
    role = "SpatialAttention"
    priority = 6

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        attention = [m for m in members if m.type_name == "nn.MultiheadAttention"]
        if len(attention) != 1 or attention[0].io is None:
            return None
        width = attention[0].io.out_width
        norms = [m for m in members if m.kind == "builtin" and family(m) == "norm"]
        mlps = [m for m in members if m.kind == "sequential"]
        if len(norms) != 1 or len(mlps) != 1 or norms[0].io.in_width != width:
            return None
        ff = _feed_forward(mlps[0], width)
        if ff is None:
            return None
        mha = attention[0]
        pins = [slot_pin(ff[2], "nn.GELU()", WHY)]
        heads = next((a.choice for a in mha.args if a.choice and a.choice.name == "nhead"), None)
        if heads is not None and heads.source == "default" and width % HEADS == 0:
            pins.append((heads.path, "nhead", HEADS, WHY))
        order = next(
            (a.choice for a in mha.args if a.choice and a.choice.name == "batch_first"), None
        )
        if order is not None and order.source == "default":
            pins.append((order.path, "batch_first", True, WHY))
        found = (norms[0].attr, mha.attr, mlps[0].attr)
        return Match(self, len(members) + 3, found, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        norm, attention, feed_forward = match.found
        x = g.input("x")
        s = g.call_method("flatten", x, 2, inline=True)
        s = g.call_method("transpose", s, 1, 2, name="s", comment="[batch, pixels, channels]")
        h = g.call_module((norm,), s, name="h")
        a = g.call_module((attention,), h, h, h, name="a", unpack=2, inline=True)
        s = g.call_function("add", a, s, name="s")
        f = g.call_module((feed_forward,), s, inline=True)
        s = g.call_function("add", f, s, name="s")
        s = g.call_method("transpose", s, 1, 2, inline=True)
        g.output(g.call_method("reshape", s, g.call_method("shape", x, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._timed_unet_examples import timed_unet_examples

        return timed_unet_examples()[:1]
