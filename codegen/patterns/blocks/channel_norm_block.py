"""A MetaFormer block over conv feature maps: two residual branches, each reading the map normed
over its channels, a spatial mixer then a conv feed-forward (SAFMN's AttBlock, Sun et al. 2023:
`norm1`, `safm`, `norm2`, `ccm`; MetaFormer's layout, Yu et al. 2022, with convs):

    x = x + mixer(norm1(x))        # norm: a LayerNorm over the channels of [batch, C, h, w]
    x = x + ffn(norm2(x))          # ffn: a conv widening C -> hC, an activation, back to C

From the keys: two norms of C holding a weight and a bias only (no running statistics), and two
members mapping C channels of a 2-d map to C; the feed-forward is the one whose layers widen and
narrow back, the mixer the other. Which norm opens which branch is read from the names (norm1,
norm2). What no key records: the norms normalise each pixel's channels (these nets' LayerNorm
with data_format "channels_first", eps 1e-6, as ConvNeXt's and NAFNet's), and a feed-forward's
keyless slot between its convs is its GELU: both pinned, by convention.
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
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin
from codegen.patterns.blocks.transformer_block import FIRST_NORM, SECOND_NORM, numbered
from codegen.patterns._kit import one_named

NORM_WHY = "a LayerNorm over the channels, eps 1e-6 (SAFMN's, ConvNeXt's channels_first)"
ACT_WHY = "a conv feed-forward's activation in a MetaFormer block over maps (SAFMN's CCM)"


def _maps(m, width: int) -> bool:
    io = m.io
    return io is not None and io.ndim == 2 and io.in_width == width and io.out_width == width


def _feed_forward_slot(m, ctx: BlockContext, width: int):
    """The keyless slot between the two convs of a feed-forward Sequential [conv C -> hC, slot,
    conv hC -> C] (the member itself, or the one Sequential its class holds); None where the
    member is laid out otherwise."""
    if m.kind == "class":
        cls = ctx.classes.get(m.type_name)
        inner = modules(cls) if cls is not None and not tensors(cls) else []
        m = inner[0] if len(inner) == 1 else None
    if m is None or m.kind != "sequential" or len(m.children) != 3:
        return None
    up, slot, down = m.children
    if slot.kind != "placeholder" or family(up) != "conv" or family(down) != "conv":
        return None
    if up.io is None or down.io is None or up.io.in_width != width:
        return None
    hidden = up.io.out_width
    if not hidden or hidden <= width or down.io.in_width != hidden or down.io.out_width != width:
        return None
    return slot


class ChannelNormBlock(BlockPattern):
    role = "MetaFormerBlock"
    priority = 9  # the norms' widths and the branches' prove the layout: rather than any chain

    accepts = Accepts(4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 4:
            return None
        norms = [m for m in members if m.kind == "builtin" and m.type_name == "nn.LayerNorm"]
        branches = [m for m in members if m not in norms]
        if len(norms) != 2 or any(n.io is None or not n.io.in_width for n in norms):
            return None
        width = norms[0].io.in_width
        if norms[1].io.in_width != width or not all(_maps(b, width) for b in branches):
            return None
        first, second = one_named(norms, FIRST_NORM), one_named(norms, SECOND_NORM)
        if first is None or second is None or first is second:
            first, second = numbered(norms)
        if first is None:
            return None
        slots = [_feed_forward_slot(b, ctx, width) for b in branches]
        if sum(s is not None for s in slots) != 1:
            return None
        ffn = branches[0] if slots[0] is not None else branches[1]
        mixer = branches[1] if ffn is branches[0] else branches[0]
        pins = [slot_pin(slots[0] or slots[1], "nn.GELU()", ACT_WHY)]
        for norm in norms:
            pins.append(arg_pin(norm, "eps", 1e-6, NORM_WHY))
        found = (first.attr, mixer.attr, second.attr, ffn.attr)
        guessed = (
            f"{first.attr} and {second.attr} are read as LayerNorms over each pixel's channels "
            "(SAFMN's, ConvNeXt's channels_first): no key tells them from a GroupNorm of one group"
        )
        return Match(self, len(members), found, [], guessed=guessed, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        norm1, mixer, norm2, ffn = match.found
        x = g.input("x")

        def channel_norm(path: str, value):
            value = g.call_method("permute", value, 0, 2, 3, 1, inline=True)
            value = g.call_module((path,), value, inline=True)
            return g.call_method("permute", value, 0, 3, 1, 2, name="h", comment="over channels")

        mixed = g.call_module((mixer,), channel_norm(norm1, x), inline=True)
        x = g.call_function("add", x, mixed, name="x")
        g.output(
            g.call_function("add", x, g.call_module((ffn,), channel_norm(norm2, x), inline=True))
        )

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn

    class ChannelNorm(nn.Module):  # a LayerNorm over the channels of a map, eps 1e-6
        def __init__(self, c: int) -> None:
            super().__init__()
            self.weight, self.bias = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))

        def forward(self, x):
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / torch.sqrt(s + 1e-6)
            return self.weight[:, None, None] * x + self.bias[:, None, None]

    class Block(nn.Module):
        def __init__(self, c: int = 6) -> None:
            super().__init__()
            self.norm_1, self.norm_2 = ChannelNorm(c), ChannelNorm(c)
            self.mix = nn.Conv2d(c, c, 7, padding=3, groups=c)  # a depthwise mixer
            self.mlp = nn.Sequential(nn.Conv2d(c, 2 * c, 1), nn.GELU(), nn.Conv2d(2 * c, c, 1))

        def forward(self, x):
            x = x + self.mix(self.norm_1(x))
            return x + self.mlp(self.norm_2(x))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Conv2d(3, 6, 3, padding=1)
            self.blocks = nn.Sequential(Block(), Block())
            self.tail = nn.Conv2d(6, 3, 3, padding=1)

        def forward(self, x):
            return self.tail(self.blocks(self.head(x)))

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return Example(net.eval(), (torch.randn(2, 3, 8, 8),))
