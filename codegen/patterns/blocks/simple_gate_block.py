"""A NAFNet block (Chen et al. 2022, megvii-research/NAFNet `NAFBlock`, copied by BasicSR and the
restoration nets built on it): two residual halves scaled by learned per-channel vectors, each
normalising over the channels and closing on a simple gate (the widened map split in two halves
along the channels, multiplied):

    x = dw(expand(norm1(inp)))               # 1x1 to 2d channels, depthwise k x k
    x = a * b  where a, b = x.chunk(2)       # the simple gate: d channels
    x = shrink(x * sca(x))                   # simplified channel attention: pool, 1x1; 1x1 to C
    y = inp + x * beta                       # beta, gamma: [1, C, 1, 1]
    x = ffn_out(gate(ffn_in(norm2(y))))      # 1x1 to 2f, the gate, 1x1 back to C
    return y + x * gamma

The widths prove the gates: the conv after each reads half of what the conv before it gives. The
two [1, C, 1, 1] tensors are the halves' scales (beta for the first, by name order); the norms
are NAFNet's LayerNorm2d (a LayerNorm over the channels, eps 1e-6: its code, pinned). Where the
two halves have one width (d = f), which expanding and which closing conv belong to the first
half is read from the name order: the class says so.
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
from codegen.patterns.blocks._conv_parts import is_depthwise
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin
from codegen.patterns._kit import name_order

ROLE = "NAFBlock"
NORM_WHY = "NAFNet's LayerNorm2d: a LayerNorm over the channels, eps 1e-6 (arch_util.py)"
POOL_WHY = "NAFNet's simplified channel attention: AdaptiveAvgPool2d(1), then the 1x1 conv"


def _conv(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None and m.io.ndim == 2


def _sca(m):
    """(the attention's conv path, the pool slot or None) for a Sequential `[pool, 1x1 conv]`."""
    if m.kind != "sequential" or len(m.children) != 2:
        return None
    slot, conv = m.children
    if slot.kind != "placeholder" or not _conv(conv) or kernel_of(conv) != 1:
        return None
    if conv.io.in_width != conv.io.out_width:
        return None
    return (m.attr,), slot, conv.io.in_width


class SimpleGateBlock(BlockPattern):
    role = ROLE
    priority = 8
    accepts = Accepts(tensors=True, families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        scales = sorted(tensors(cls), key=lambda t: name_order(t.attr))
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if len(scales) != 2 or any(len(t.shape) != 4 for t in scales):
            return None
        if any(tuple(t.shape)[::2] != (1, 1) or t.shape[3] != 1 for t in scales):
            return None  # [1, C, 1, 1]: a per-channel scale (its C may be a parameter's name)
        if scales[0].shape[1] != scales[1].shape[1]:
            return None
        norms = sorted(
            (m for m in members if family(m) == "norm" and m.io is not None),
            key=lambda m: name_order(m.attr),
        )
        if len(norms) != 2 or norms[0].io.in_width != norms[1].io.in_width:
            return None
        width = norms[0].io.in_width
        convs = [m for m in members if _conv(m)]
        rest = [m for m in members if m not in norms and m not in convs]
        if len(rest) > 1:
            return None
        attention = _sca(rest[0]) if rest else None
        if rest and attention is None:
            return None
        dws = [m for m in convs if is_depthwise(m) and (kernel_of(m) or 0) > 1]
        if len(dws) != 1:
            return None
        dw = dws[0]
        spatial = dw.io.out_width
        ones = sorted((m for m in convs if m is not dw), key=lambda m: name_order(m.attr))
        if len(ones) != 4 or any(kernel_of(m) != 1 for m in ones) or spatial % 2:
            return None
        expands = [m for m in ones if m.io.in_width == width < m.io.out_width]
        closes = [m for m in ones if m.io.out_width == width and m not in expands]
        if len(expands) != 2 or len(closes) != 2:
            return None
        # the first half's expanding conv feeds the depthwise one; its closing conv reads half
        first_in = [m for m in expands if m.io.out_width == spatial]
        first_out = [m for m in closes if m.io.in_width == spatial // 2]
        if not first_in or not first_out:
            return None
        expand, shrink = first_in[0], first_out[0]
        ffn_in = next(m for m in expands if m is not expand)
        ffn_out = next(m for m in closes if m is not shrink)
        if ffn_out.io.in_width * 2 != ffn_in.io.out_width:
            return None
        if attention is not None and attention[2] != spatial // 2:
            return None
        unsure = ""
        if len(first_in) > 1 or len(first_out) > 1:
            unsure = "the two halves have one width: their convs are paired by name order"
        pins = []
        for norm in norms:
            pins += [slot_pin(norm, "nn.LayerNorm", NORM_WHY), arg_pin(norm, "eps", 1e-6, NORM_WHY)]
        if attention is not None:
            pins.append(slot_pin(attention[1], "nn.AdaptiveAvgPool2d(1)", POOL_WHY))
        found = (
            tuple(n.attr for n in norms),
            (expand.attr, dw.attr, shrink.attr, ffn_in.attr, ffn_out.attr),
            attention[0] if attention is not None else None,
            tuple(t.attr for t in scales),
        )
        explains = len(members) + len(scales) + 2
        return Match(self, explains, found, [], guessed=unsure, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        (norm1, norm2), (expand, dw, shrink, ffn_in, ffn_out), attention, scales = match.found
        inp = g.input("x")

        def channel_norm(path: str, x):
            x = g.call_method("permute", x, 0, 2, 3, 1, inline=True)
            x = g.call_module((path,), x, inline=True)
            return g.call_method("permute", x, 0, 3, 1, 2, name="x", comment="over the channels")

        def gate(x):
            halves = g.call_method("chunk", x, 2, kwargs={"dim": 1}, name="halves")
            a = g.call_function("getitem", halves, 0, inline=True)
            b = g.call_function("getitem", halves, 1, inline=True)
            return g.call_function("mul", a, b, name="x", comment="simple gate")

        x = channel_norm(norm1, inp)
        x = g.call_module((dw,), g.call_module((expand,), x, inline=True), name="x")
        x = gate(x)
        if attention is not None:
            x = g.call_function("mul", x, g.call_module(attention, x, inline=True), name="x")
        x = g.call_module((shrink,), x, name="x")
        beta = g.getattr((scales[0],))
        y = g.call_function("add", inp, g.call_function("mul", x, beta, inline=True), name="y")
        x = g.call_module((ffn_in,), channel_norm(norm2, y), name="x")
        x = g.call_module((ffn_out,), gate(x), name="x")
        gamma = g.getattr((scales[1],))
        g.output(g.call_function("add", y, g.call_function("mul", x, gamma, inline=True)))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ChannelNorm(nn.LayerNorm):  # LayerNorm2d written with permutes
            def forward(self, x):
                return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

        class Block(nn.Module):  # a NAFBlock of wider FFN (FFN_Expand 4), no attention
            def __init__(self, c: int = 4) -> None:
                super().__init__()
                self.norm1, self.norm2 = ChannelNorm(c, eps=1e-6), ChannelNorm(c, eps=1e-6)
                self.conv1 = nn.Conv2d(c, 2 * c, 1)
                self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
                self.conv3 = nn.Conv2d(c, c, 1)
                self.conv4 = nn.Conv2d(c, 4 * c, 1)
                self.conv5 = nn.Conv2d(2 * c, c, 1)
                self.beta = nn.Parameter(torch.randn(1, c, 1, 1))
                self.gamma = nn.Parameter(torch.randn(1, c, 1, 1))

            def forward(self, inp):
                a, b = self.conv2(self.conv1(self.norm1(inp))).chunk(2, dim=1)
                y = inp + self.conv3(a * b) * self.beta
                a, b = self.conv4(self.norm2(y)).chunk(2, dim=1)
                return y + self.conv5(a * b) * self.gamma

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, 4, 3, padding=1)
                self.block = Block()

            def forward(self, x):
                return self.block(self.head(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 6, 6),))]
