"""EdgeNeXt's split depth-wise transposed attention encoder (Maaz et al. 2022, mmaaz60/EdgeNeXt
`SDTAEncoder`; timm's `SplitTransposeBlock`): the channels split into groups of `width`, all but
the last through a cascade of depthwise convs (each reading its group plus what the previous conv
gave, Res2Net's way), then cross-covariance attention over the tokens and a ConvNeXt-style
feed-forward, each residual and scaled per channel:

    parts = x.split(width, 1); sp = convs[0](parts[0]); sp_i = convs[i](sp_{i-1} + parts[i])
    t = cat(sp..., parts[-1]) -> tokens [batch, h * w, C]   (+ projected Fourier positions)
    t = t + gamma_xca * xca(norm_xca(t))
    return x + (gamma * pwconv2(gelu(pwconv1(norm(t -> [batch, h, w, C]))))) -> channels first

From the keys: a list of n depthwise convs of `width` channels where the width splits C into n + 1
groups, a cross-covariance attention (cross_covariance_attention.py) and two LayerNorms of C, a
Linear widening C and one narrowing back, two [C] scales; optionally a class holding one 1x1 conv
from 2F features to C: the Fourier positions (DETR's, temperature 10000, the code's constant).
The attention's norm and scale are the ones named after it (norm_xca, gamma_xca: EdgeNeXt's and
timm's names); the feed-forward's GELU is a choice.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    convention_pins,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel, is_depthwise
from codegen.patterns.blocks.convnext import channels_last_scale
from codegen.patterns.blocks.padded_resnet_block import arg_pin

ATTENTION = "CrossCovarianceAttention"
KEEPS = "a split depthwise conv keeps the map's size: the groups are concatenated"
TEMPERATURE = 10000.0  # PositionalEncodingFourier's (XCiT, EdgeNeXt), never changed by a config


def _convs(m) -> list | None:
    """The depthwise 2-d convs of a list (n copies, or n items), each with an odd kernel."""
    if m.kind == "repeat" and m.children:
        count = m.copies or (m.repeat if isinstance(m.repeat, int) else 0)
        items = [m.children[0]] * count
    elif m.kind in ("modulelist", "sequential"):
        items = m.children
    else:
        return None
    for c in items:
        if c.kind != "builtin" or family(c) != "conv" or c.io is None or c.io.ndim != 2:
            return None
        kernel = conv_kernel(c)
        if not is_depthwise(c) or not isinstance(kernel, int) or kernel % 2 == 0:
            return None
    return items or None


def _positions(m, ctx: BlockContext, channels: int) -> tuple | None:
    """(path of the 1x1 conv, features) of a class holding only a 1x1 conv 2F -> channels."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = modules(held) if held is not None and not tensors(held) else []
    if len(inner) != 1 or family(inner[0]) != "conv" or inner[0].io is None:
        return None
    conv = inner[0]
    if str(conv_kernel(conv)) not in ("1", "(1, 1)") or conv.io.out_width != channels:
        return None
    if not isinstance(conv.io.in_width, int) or conv.io.in_width % 2:
        return None
    return (m.attr, conv.attr), conv.io.in_width // 2


def _named_after(items: list, attr: str):
    """The one item whose name holds `attr` (gamma_xca beside xca), and the other."""
    named = [t for t in items if attr.lower() in t.attr.lower()]
    if len(items) != 2 or len(named) != 1:
        return None
    return named[0], next(t for t in items if t is not named[0])


class SplitTransposedBlock(BlockPattern):
    role = "SDTAEncoder"
    priority = 12

    accepts = Accepts(6, 7, tensors=True, roles=(ATTENTION,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, scales = modules(cls), tensors(cls)
        attention = [m for m in members if ctx.role(m) == ATTENTION]
        lists = [(m, c) for m in members if (c := _convs(m)) is not None]
        norms = [m for m in members if family(m) == "norm"]
        linears = [m for m in members if family(m) == "linear"]
        if len(attention) != 1 or len(lists) != 1 or len(norms) != 2 or len(linears) != 2:
            return None
        attn, (convs, items) = attention[0], lists[0]
        channels = attn.io.in_width if attn.io is not None else None
        if not isinstance(channels, int):
            return None
        rest = [m for m in members if m not in (attn, convs, *norms, *linears)]
        positions = _positions(rest[0], ctx, channels) if len(rest) == 1 else None
        if len(rest) > 1 or (rest and positions is None):
            return None
        width = items[0].io.in_width
        if not isinstance(width, int) or any(c.io.in_width != width for c in items):
            return None
        if -(-channels // width) != len(items) + 1:  # the groups: n through convs, one left
            return None
        up = [m for m in linears if m.io and m.io.in_width == channels != m.io.out_width]
        down = [m for m in linears if m.io and m.io.out_width == channels != m.io.in_width]
        if len(up) != 1 or len(down) != 1 or up[0].io.out_width != down[0].io.in_width:
            return None
        if any(n.io is None or n.io.in_width != channels for n in norms):
            return None
        if any(channels_last_scale(t.shape, channels) is not True for t in scales):
            return None
        paired = _named_after(norms, attn.attr), _named_after(scales, attn.attr)
        if None in paired:
            return None
        (norm_attn, norm_ffn), (scale_attn, scale_ffn) = paired
        activation = ctx.choose(
            cls,
            up[0].attr,
            "activation",
            "gelu",
            act.alternatives("gelu"),
            "between the pointwise layers (EdgeNeXt's GELU)",
        )
        pins = convention_pins(ctx, norms, [], "EdgeNeXt's", 1e-6, "gelu")
        for conv in {id(c): c for c in items}.values():
            kernel = conv_kernel(conv)
            pins += [
                arg_pin(conv, "stride", 1, KEEPS),
                arg_pin(conv, "padding", kernel // 2, KEEPS),
            ]
        found = {
            "convs": (convs.attr, len(items)),
            "positions": positions,
            "attention": (norm_attn.attr, attn.attr, scale_attn.attr),
            "ffn": (norm_ffn.attr, up[0].attr, down[0].attr, scale_ffn.attr),
        }
        explains = len(members) + len(scales) + len(items)
        return Match(self, explains, found, [activation], pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        activation = match.choices[0].value
        convs, count = f["convs"]
        x = g.input("x")
        batch = g.call_method("size", x, 0, name="batch")
        channels = g.call_method("size", x, 1, name="channels")
        height = g.call_method("size", x, 2, name="height")
        width = g.call_method("size", x, 3, name="width")
        # (read from the convs: instances of one class may differ in their width)
        group = g.call_method("size", g.getattr((convs, "0", "weight")), 0, name="group")
        parts = g.call_method(
            "split", x, group, 1, name="parts", comment="groups of the convs' width"
        )
        outs, sp = [], None
        for i in range(count):
            part = g.call_function("getitem", parts, i, inline=True)
            if sp is not None:  # each group also reads what the previous conv gave
                part = g.call_function("add", sp, part, inline=True)
            sp = g.call_module((convs, str(i)), part, name="sp")
            outs.append(sp)
        rest = g.call_function("getitem", parts, count, inline=True)
        t = g.call_function("cat", [*outs, rest], 1, inline=True)
        pixels = g.call_function("mul", height, width, name="pixels")
        t = g.call_method("reshape", t, batch, channels, pixels, inline=True)
        t = g.call_method("permute", t, 0, 2, 1, name="t", comment="[batch, h * w, channels]")
        if f["positions"] is not None:
            conv, features = f["positions"]
            device = g.call_method("device", x, inline=True)
            pos = g.call_function(
                "fourier_positions",
                batch,
                height,
                width,
                features,
                TEMPERATURE,
                device,
                inline=True,
            )
            pos = g.call_module(conv, pos, inline=True)
            pos = g.call_method("reshape", pos, batch, -1, pixels, inline=True)
            pos = g.call_method("permute", pos, 0, 2, 1, name="pos", comment="Fourier positions")
            t = g.call_function("add", t, pos, name="t")
        norm, attn, scale = f["attention"]
        y = g.call_module((attn,), g.call_module((norm,), t, inline=True), inline=True)
        y = g.call_function("mul", g.getattr((scale,)), y, inline=True)
        t = g.call_function("add", t, y, name="t")
        t = g.call_method("reshape", t, batch, height, width, channels, name="t")
        norm, up, down, scale = f["ffn"]
        y = g.call_module((up,), g.call_module((norm,), t, inline=True), inline=True)
        y = g.call_module((down,), act.apply(g, activation, y, inline=True), inline=True)
        y = g.call_function("mul", g.getattr((scale,)), y, inline=True)
        y = g.call_method("permute", y, 0, 3, 1, 2, inline=True)
        g.output(g.call_function("add", x, y))

    @staticmethod
    def examples():
        return [_example(positions=True), _example(positions=False)]


def _example(positions: bool) -> Example:
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Fourier(nn.Module):  # PositionalEncodingFourier (XCiT's), 8 features
        def __init__(self, dim: int, features: int = 8) -> None:
            super().__init__()
            self.features = features
            self.proj = nn.Conv2d(2 * features, dim, 1)

        def forward(self, b: int, h: int, w: int):
            ones = torch.ones(b, h, w)
            y, x = ones.cumsum(1), ones.cumsum(2)
            y = y / (y[:, -1:, :] + 1e-6) * 2 * math.pi
            x = x / (x[:, :, -1:] + 1e-6) * 2 * math.pi
            t = torch.arange(self.features, dtype=torch.float32)
            t = 10000 ** (2 * (t // 2) / self.features)
            px, py = x[..., None] / t, y[..., None] / t
            px = torch.stack((px[..., 0::2].sin(), px[..., 1::2].cos()), dim=4).flatten(3)
            py = torch.stack((py[..., 0::2].sin(), py[..., 1::2].cos()), dim=4).flatten(3)
            return self.proj(torch.cat((py, px), dim=3).permute(0, 3, 1, 2))

    class Xca(nn.Module):
        def __init__(self, dim: int, heads: int) -> None:
            super().__init__()
            self.heads = heads
            self.temperature = nn.Parameter(torch.rand(heads, 1, 1) + 0.5)
            self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

        def forward(self, x):
            b, n, c = x.shape
            q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 4, 1)
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
            attn = (q @ k.transpose(-2, -1) * self.temperature).softmax(-1)
            return self.proj((attn @ v).permute(0, 3, 1, 2).reshape(b, n, c))

    class Sdta(nn.Module):  # SDTAEncoder under other names: 20 channels in groups of 7, 7, 6
        def __init__(self, dim: int = 20, groups: int = 3) -> None:
            super().__init__()
            self.width = math.ceil(dim / groups)
            self.convs = nn.ModuleList(
                nn.Conv2d(self.width, self.width, 3, padding=1, groups=self.width)
                for _ in range(groups - 1)
            )
            self.pos = Fourier(dim) if positions else None
            self.norm_mix = nn.LayerNorm(dim, eps=1e-6)
            self.scale_mix = nn.Parameter(torch.rand(dim))
            self.mix = Xca(dim, 4)
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.up, self.down = nn.Linear(dim, 3 * dim), nn.Linear(3 * dim, dim)
            self.scale = nn.Parameter(torch.rand(dim))

        def forward(self, x):
            parts = torch.split(x, self.width, 1)
            outs = []
            for i, conv in enumerate(self.convs):
                sp = conv(parts[i] if i == 0 else sp + parts[i])
                outs.append(sp)
            t = torch.cat(outs + [parts[-1]], 1)
            b, c, h, w = t.shape
            t = t.reshape(b, c, h * w).permute(0, 2, 1)
            if self.pos is not None:
                t = t + self.pos(b, h, w).reshape(b, -1, h * w).permute(0, 2, 1)
            t = t + self.scale_mix * self.mix(self.norm_mix(t))
            t = self.down(F.gelu(self.up(self.norm(t.reshape(b, h, w, c)))))
            return x + (self.scale * t).permute(0, 3, 1, 2)

    from codegen.patterns.families._examples import modules as refs

    torch.manual_seed(0)
    holder = refs()["holder"](Sdta())  # a generated class is its member
    return Example(holder.eval(), (torch.randn(2, 20, 6, 7),))
