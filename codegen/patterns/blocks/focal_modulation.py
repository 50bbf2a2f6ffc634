"""Focal modulation (Yang et al. 2022, microsoft/FocalNet `FocalModulation`; Hugging Face's
`FocalNetModulation` keeps it): one projection gives queries, a context and L + 1 gates; L
depthwise convs, each followed by GELU, widen the context's reach level by level, each level
weighted by its gate, and a global average of the last level by the last gate; a 1x1 conv turns
the sum into a modulator that multiplies the queries:

    q, ctx, gates = split(f(x), (C, C, L + 1), channels)
    for l < L: ctx = gelu(focal_layers[l](ctx)); ctx_all += ctx * gates[:, l:l + 1]
    ctx_all += gelu(mean(ctx, (h, w))) * gates[:, L:]      # (/ (L + 1) where normalised)
    return proj(q * h(ctx_all))

The shapes give it: a Linear C -> 2C + L + 1 beside a list of L depthwise C-channel convs, a 1x1
conv C -> C and an output Linear C -> C, over x [batch, h, w, C] (channels last), so a
transformer block may hold it in attention's place. timm's spelling (1x1 convs over
channels-first maps, in blocks whose norms are channels-first) is not read here: no token block
could hold it. Whether the sum is divided by L + 1 (`normalize_modulator`, on in FocalNet's large
models) leaves no key: a choice, and the class says guessed while it is a default. GELU is
FocalNet's throughout (a choice calibration can move).
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import is_depthwise
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns.blocks.padded_resnet_block import arg_pin
from codegen.patterns.blocks.transposed_attention import pointwise

SAME = "focal modulation multiplies the queries by a modulator of their size"
KEEPS = "a focal level's depthwise conv keeps the map's size: the levels are summed"


def _levels(m, width) -> list[tuple] | None:
    """The call path of each level's depthwise conv (relative to the list): a list of depthwise
    `width`-channel 2-d convs with odd kernels, each alone or first in a Sequential (its
    activation leaves no key)."""
    if m.kind not in ("modulelist", "sequential") or not m.children:
        return None
    paths = []
    for item in m.children:
        conv, path = item, (item.attr,)
        if item.kind == "sequential":
            if len(item.children) != 1 or item.children[0].attr != "0":
                return None
            conv, path = item.children[0], (item.attr, "0")
        if conv.kind != "builtin" or family(conv) != "conv" or conv.io is None:
            return None
        kernel = kernel_of(conv)
        if conv.io.ndim != 2 or not is_depthwise(conv) or conv.io.in_width != width:
            return None
        if kernel is None or kernel % 2 == 0:
            return None
        paths.append((path, conv, kernel))
    return paths


class FocalModulation(BlockPattern):
    role = "FocalModulation"
    priority = 9

    accepts = Accepts(4, 4, tensors=False, families=("conv", "linear"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        lists = [m for m in members if m.kind in ("modulelist", "sequential")]
        if len(lists) != 1:
            return None
        rest = [m for m in members if m is not lists[0]]
        convs = [m for m in rest if pointwise(m)]
        linears = [m for m in rest if m.kind == "builtin" and family(m) == "linear" and m.io]
        if len(linears) != 2 or len(convs) != 1:
            return None
        h = convs[0]
        width = h.io.in_width
        proj = [m for m in linears if m.io.in_width == m.io.out_width == width]
        f = [m for m in linears if m not in proj]
        if len(f) != 1 or len(proj) != 1 or h.io.out_width != width:
            return None
        levels = _levels(lists[0], width)
        if not levels or f[0].io.in_width != width:
            return None
        if f[0].io.out_width != 2 * width + len(levels) + 1:
            return None
        activation = ctx.choose(
            cls,
            lists[0].attr,
            "activation",
            "gelu",
            act.alternatives("gelu", conv=True),
            "after each focal level's conv and on the global context (FocalNet's GELU)",
        )
        normalize = ctx.choose(
            cls,
            h.attr,
            "normalize_modulator",
            False,
            [True],
            "the levels' sum divided by their count (FocalNet's large models)",
        )
        guessed = ""
        if normalize.source == "default":
            guessed = (
                "no key records whether the levels' sum is divided by their count: not divided "
                "(FocalNet's tiny to base models; its large ones divide, normalize_modulator)"
            )
        pins = [arg_pin(h, "stride", 1, SAME)]
        for _, conv, kernel in levels:
            pins.append(arg_pin(conv, "stride", 1, KEEPS))
            pins.append(arg_pin(conv, "padding", kernel // 2, KEEPS))
        paths = tuple((lists[0].attr, *path) for path, _, _ in levels)
        found = (f[0].attr, paths, h.attr, proj[0].attr)
        return Match(
            self,
            len(members) + len(levels),
            found,
            [activation, normalize],
            guessed=guessed,
            pins=[p for p in pins if p],
        )

    def forward(self, match: Match, g: Graph) -> None:
        f, levels, h, proj = match.found
        activation, normalize = (c.value for c in match.choices)
        count = len(levels)
        x = g.input("x")
        channels = g.call_method("size", x, -1, name="channels")
        y = g.call_method("permute", g.call_module((f,), x, inline=True), 0, 3, 1, 2, inline=True)
        parts = g.call_method(
            "split", y, [channels, channels, count + 1], 1, name="parts", comment="q, ctx, gates"
        )
        q = g.call_function("getitem", parts, 0, name="q")
        context = g.call_function("getitem", parts, 1, name="ctx")
        gates = g.call_function("getitem", parts, 2, name="gates")
        total = None
        for level, path in enumerate(levels):
            context = act.apply(
                g, activation, g.call_module(path, context, inline=True), name="ctx"
            )
            gate = g.call_function(
                "getitem", gates, (Slice(), Slice(level, level + 1)), inline=True
            )
            if total is None:
                total = g.call_function("mul", context, gate, name="ctx_all")
            else:
                term = g.call_function("mul", context, gate, inline=True)
                total = g.call_function("add", total, term, name="ctx_all")
        pooled = g.call_method("mean", context, (2, 3), kwargs={"keepdim": True}, inline=True)
        pooled = act.apply(g, activation, pooled, name="ctx_global", comment="the global level")
        gate = g.call_function("getitem", gates, (Slice(), Slice(count, None)), inline=True)
        total = g.call_function(
            "add", total, g.call_function("mul", pooled, gate, inline=True), name="ctx_all"
        )
        if normalize:
            total = g.call_function("truediv", total, count + 1, name="ctx_all")
        out = g.call_function("mul", q, g.call_module((h,), total, inline=True), name="out")
        out = g.call_method("permute", out, 0, 2, 3, 1, name="out")
        g.output(g.call_module((proj,), out))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Modulator(nn.Module):  # FocalNet's modulation under other names, three levels
        def __init__(self, dim: int, levels: int, window: int = 3) -> None:
            super().__init__()
            self.levels = levels
            self.to_qcg = nn.Linear(dim, 2 * dim + levels + 1)
            self.mix = nn.Conv2d(dim, dim, 1)
            self.proj = nn.Linear(dim, dim)
            self.context = nn.ModuleList(
                nn.Sequential(
                    nn.Conv2d(dim, dim, window + 2 * k, 1, (window + 2 * k) // 2, groups=dim),
                    nn.GELU(),
                )
                for k in range(levels)
            )

        def forward(self, x):
            c = x.shape[-1]
            y = self.to_qcg(x)
            y = y.permute(0, 3, 1, 2)
            q, ctx, gates = torch.split(y, (c, c, self.levels + 1), 1)
            total = 0
            for level in range(self.levels):
                ctx = self.context[level](ctx)
                total = total + ctx * gates[:, level : level + 1]
            glob = F.gelu(ctx.mean(2, keepdim=True).mean(3, keepdim=True))
            total = total + glob * gates[:, self.levels :]
            out = q * self.mix(total)
            return self.proj(out.permute(0, 2, 3, 1))

    from codegen.patterns.families._examples import modules as refs

    torch.manual_seed(0)
    holder = refs()["holder"](Modulator(8, 3))  # a generated class is its member
    return Example(holder.eval(), (torch.randn(2, 6, 5, 8),))
