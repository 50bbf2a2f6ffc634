"""A gated short convolution (LFM2's `conv` layers): a sequence mixer with no attention and no
state, each channel mixing itself with the k - 1 steps before it.

    B, C, x = in_proj(h).chunk(3)       # [batch, seq, d] each
    y = C * causal_depthwise_conv(B * x)
    out_proj(y)

Recognised from the shapes: one Conv1d of kernel k over d channels, one per group, beside a Linear
d -> 3d and a Linear d -> d, and nothing else. The conv pads k - 1 on both sides and keeps the
first `seq` outputs (causal), so the pattern pins its stride to 1, its padding to k - 1 and its
groups to d where the shapes left them at a default. Which third of in_proj's output is the input
and which the two gates is not in the weights: the choice `chunk_order` (LFM2's "B C x" by
default). Padding tokens enter the conv as zeros, as the library's layer zeroes them.

A transformer block (transformer_block.py) holds it in place of attention; a decoder's stack may
mix such layers with attention ones (config.json layer_types, or which weights each layer has).
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
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
from codegen.patterns.blocks.selective_scan import _kernel, _width, conv_pins

ROLE = "ShortConv"
ORDERS = ("B C x", "x B C", "B x C")  # which third of in_proj's output is which


class ShortConv(BlockPattern):
    role = ROLE
    priority = 10

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        convs = [m for m in members if family(m) == "conv"]
        linears = [m for m in members if family(m) == "linear"]
        if len(convs) != 1 or len(linears) != 2:
            return None
        conv = convs[0]
        d, k = _width(conv, "out_width"), _kernel(conv)
        if d is None or k is None or _width(conv, "in_width") not in (1, d):
            return None
        up = [m for m in linears if (_width(m, "in_width"), _width(m, "out_width")) == (d, 3 * d)]
        out = [m for m in linears if (_width(m, "in_width"), _width(m, "out_width")) == (d, d)]
        if len(up) != 1 or len(out) != 1:
            return None
        order = ctx.choose(
            cls,
            up[0].attr,
            "chunk_order",
            ORDERS[0],
            list(ORDERS[1:]),
            "which thirds of the projection are the gates B, C and the input x",
        )
        why = "a gated short conv is causal (k - 1 steps of the past), one channel per group"
        pins = conv_pins(conv, {"stride": 1, "padding": k - 1, "depthwise": True}, why)
        found = (up[0].attr, conv.attr, out[0].attr, order.value.split())
        return Match(self, len(members), found, [order], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        in_proj, conv, out_proj, order = match.found
        x = g.input("x")  # [batch, seq, d_model]
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq], False at padding
        seq = g.call_method("size", x, 1, inline=True)
        h = g.call_function("zero_masked", x, mask, inline=True)
        h = g.call_module((in_proj,), h, name="h", comment="[batch, seq, 3 * d_model]")
        parts = {}
        for i, name in enumerate(order):
            third = g.call_method("chunk", h, 3, kwargs={"dim": -1}, inline=True)
            parts[name] = g.call_function("getitem", third, i, name=name)
        u = g.call_function("mul", parts["B"], parts["x"], inline=True)
        u = g.call_method("transpose", u, 1, 2, inline=True)
        u = g.call_module((conv,), u, inline=True)
        u = g.call_function("getitem", u, (Slice(), Slice(), Slice(None, seq)), inline=True)
        u = g.call_method("transpose", u, 1, 2, name="u", comment="causal conv of B * x")
        y = g.call_function("mul", parts["C"], u, inline=True)
        g.output(g.call_module((out_proj,), y))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn

    class Gated(nn.Module):
        def __init__(self, d: int = 12, k: int = 3) -> None:
            super().__init__()
            self.conv = nn.Conv1d(d, d, k, groups=d, padding=k - 1)
            self.in_proj = nn.Linear(d, 3 * d)
            self.out_proj = nn.Linear(d, d)

        def forward(self, h):
            b, c, x = self.in_proj(h).chunk(3, dim=-1)
            u = self.conv((b * x).transpose(1, 2))[..., : h.size(1)].transpose(1, 2)
            return self.out_proj(c * u)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.RMSNorm(12)
            self.mixer = Gated()

        def forward(self, x):
            return x + self.mixer(self.norm(x))

    torch.manual_seed(0)
    return Example(Layer(), (torch.randn(2, 7, 12),))
