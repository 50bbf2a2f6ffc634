"""Attention across the channels of a feature map, its queries and keys unit vectors over the
pixels and sharpened by a learned temperature per head: Restormer's multi-Dconv head transposed
attention (Zamir et al. 2022, swz30/Restormer `Attention`; PromptIR, DRSformer and the restoration
nets built on Restormer keep it):

    q, k, v = dw(qkv(x)).chunk(3, dim=1)       # 1x1 to 3C, depthwise k x k
    q, k, v -> [batch, heads, C / heads, pixels]; q, k = F.normalize(q / k, dim=-1)
    attn = softmax((q @ k^T) * temperature)     # [heads, C / heads, C / heads]: channels attend
    return proj((attn @ v) -> [batch, C, h, w])  # 1x1

The shapes prove it: the temperature [heads, 1, 1] gives the head count (read from it when
called: one class serves levels of different head counts), the widening 1x1 conv
gives three times the channels, the depthwise conv keeps them, the last 1x1 conv keeps C.
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


def _conv(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None and m.io.ndim == 2


def pointwise(m) -> bool:
    """A plain (ungrouped) 1x1 2-d conv."""
    groups = next((a.value for a in m.args if a.keyword == "groups"), 1)
    return _conv(m) and kernel_of(m) == 1 and groups == 1


def depthwise(m) -> bool:
    """A depthwise 2-d conv with an odd spatial kernel."""
    k = kernel_of(m)
    return _conv(m) and is_depthwise(m) and isinstance(k, int) and k > 1 and k % 2 == 1


def attend_across_channels(g: Graph, parts, split, temperature: str):
    """softmax((q @ k^T) * temperature) @ v over the channels: `parts` the chunked q, k, v, each
    made [batch, heads, channels / heads, positions] by `split(part, name)`; queries and keys unit
    vectors over the positions. Gives [batch, heads, channels / heads, positions]."""
    flat = []
    for i, name in enumerate(("q", "k", "v")):
        t = split(g.call_function("getitem", parts, i, inline=True), name)
        if name != "v":  # queries and keys: unit vectors over the positions
            t = g.call_function("F.normalize", t, kwargs={"dim": -1}, name=name)
        flat.append(t)
    q, k, v = flat
    keys = g.call_method("transpose", k, -2, -1, inline=True)
    scores = g.call_function("matmul", q, keys, inline=True)
    scale = g.getattr((temperature,))
    scores = g.call_function("mul", scores, scale, name="attn", comment="channels attend")
    attn = g.call_function("softmax", scores, kwargs={"dim": -1}, name="attn")
    return g.call_function("matmul", attn, v, name="out")


class TransposedAttention(BlockPattern):
    role = "TransposedAttention"
    priority = 8

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        scales, members = tensors(cls), modules(cls)
        if len(scales) != 1 or len(members) != 3 or not all(_conv(m) for m in members):
            return None
        temperature = scales[0]
        if len(temperature.shape) != 3 or tuple(temperature.shape[1:]) != (1, 1):
            return None
        dws = [m for m in members if depthwise(m)]
        ones = [m for m in members if pointwise(m)]
        if len(dws) != 1 or len(ones) != 2:
            return None
        dw = dws[0]
        qkv = [m for m in ones if m.io.out_width == dw.io.in_width == 3 * m.io.in_width]
        proj = [m for m in ones if m.io.in_width == m.io.out_width and m not in qkv]
        if len(qkv) != 1 or len(proj) != 1:
            return None
        heads, width = temperature.shape[0], qkv[0].io.in_width
        if proj[0].io.in_width != width or (isinstance(heads, int) and width % heads):
            return None
        found = (temperature.attr, qkv[0].attr, dw.attr, proj[0].attr)
        return Match(self, len(members) + 1, found, [])

    def forward(self, match: Match, g: Graph) -> None:
        temperature, qkv, dw, proj = match.found
        x = g.input("x")
        # (read from the temperature: instances of one class may differ in their head count)
        heads = g.call_method("size", g.getattr((temperature,)), 0, name="heads")
        batch = g.call_method("size", x, 0, name="batch")
        channels = g.call_method("size", x, 1, name="channels")
        height = g.call_method("size", x, 2, name="height")
        width = g.call_method("size", x, 3, name="width")
        h = g.call_module((dw,), g.call_module((qkv,), x, inline=True), name="qkv")
        parts = g.call_method("chunk", h, 3, kwargs={"dim": 1}, name="parts")

        def split(t, name: str):
            pixels = g.call_function("mul", height, width, inline=True)
            return g.call_method("reshape", t, batch, heads, -1, pixels, name=name)

        out = attend_across_channels(g, parts, split, temperature)
        out = g.call_method("reshape", out, batch, channels, height, width, name="out")
        g.output(g.call_module((proj,), out))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ChannelAttention(nn.Module):  # other names, a 5x5 depthwise conv, biases
            def __init__(self, dim: int, heads: int) -> None:
                super().__init__()
                self.heads = heads
                self.scale = nn.Parameter(torch.rand(heads, 1, 1) + 0.5)
                self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
                self.mix = nn.Conv2d(dim * 3, dim * 3, 5, padding=2, groups=dim * 3)
                self.out = nn.Conv2d(dim, dim, 1)

            def forward(self, x):
                b, c, h, w = x.shape
                q, k, v = self.mix(self.to_qkv(x)).chunk(3, dim=1)
                q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in (q, k, v))
                q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
                attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
                return self.out((attn @ v).reshape(b, c, h, w))

        class Holder(nn.Module):  # a generated class is a member of the top one
            def __init__(self) -> None:
                super().__init__()
                self.mixer = ChannelAttention(8, 2)

            def forward(self, x):
                return self.mixer(x)

        torch.manual_seed(0)
        return [Example(Holder().eval(), (torch.randn(2, 8, 6, 5),))]
