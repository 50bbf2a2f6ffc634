"""Spatially-adaptive feature modulation (SAFMN's SAFM, Sun et al. 2023; sunny2109/SAFMN
basicsr/archs/safmn_arch.py): the input split into n channel chunks, chunk i (i > 0) pooled to
1/2**i of the map, a depthwise conv each, resized back, the levels concatenated, a 1x1 conv
aggregating them, an activation, and the input rescaled by the result:

    chunks = x.chunk(n, 1)
    levels = [mfr[0](chunks[0])] + [
        interpolate(mfr[i](adaptive_max_pool2d(chunks[i], (h // 2**i, w // 2**i))), size=(h, w))
        for i in 1..n-1]
    return gelu(aggr(cat(levels, 1))) * x

From the keys: a list of n >= 2 identical depthwise convs, each c wide, beside one 1x1 conv
n * c -> n * c, and nothing else with tensors (a mixed depthwise conv's kernels differ in size,
and it has no aggregation of this width). The pooling, the resize and the activation leave no
key: choices at the authors' values (max, nearest, GELU), which calibration can move.
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
    family,
    modules,
)
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel, is_depthwise
from codegen.patterns.blocks.padded_resnet_block import arg_pin

POOLS = {"max": "adaptive_max_pool", "avg": "adaptive_avg_pool"}
KEEPS = "a level's depthwise conv keeps the size: level 0 joins the others at the input's size"


def _levels(m) -> tuple[int, int] | None:
    """(count, width of each) of a list of two or more identical depthwise 2-d convs."""
    if m.kind == "repeat" and m.children:
        count = m.copies or (m.repeat if isinstance(m.repeat, int) else 0)
        items = [m.children[0]] * count
    elif m.kind in ("modulelist", "sequential"):
        items = m.children
    else:
        return None
    if len(items) < 2 or any(c.kind != "builtin" or family(c) != "conv" for c in items):
        return None
    if any(c.io is None or c.io.ndim != 2 or not is_depthwise(c) for c in items):
        return None
    if len({(c.io.in_width, str(conv_kernel(c))) for c in items}) != 1:
        return None
    return len(items), items[0].io.in_width


class MultiScaleModulation(BlockPattern):
    role = "FeatureModulation"
    priority = 9  # the levels' widths sum to what the aggregation reads: rather than any chain

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        lists = [m for m in members if _levels(m) is not None]
        if len(lists) != 1:
            return None
        levels = lists[0]
        aggr = next(m for m in members if m is not levels)
        count, width = _levels(levels)
        io = aggr.io
        if aggr.kind != "builtin" or family(aggr) != "conv" or io is None or io.ndim != 2:
            return None
        if io.in_width != count * width or io.out_width != count * width:
            return None
        if str(conv_kernel(aggr)) not in ("1", "(1, 1)"):
            return None
        pool = ctx.choose(cls, levels.attr, "pool", "max", ["avg"], "each level's pooling")
        resize = ctx.choose(
            cls, levels.attr, "resize", "nearest", ["bilinear"], "each level resized back"
        )
        activation = ctx.choose(
            cls,
            aggr.attr,
            "activation",
            "gelu",
            act.alternatives("gelu", conv=True),
            "after the aggregation, before rescaling the input",
        )
        choices = [pool, resize, activation]
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = f"no key records {', '.join(guessed)} (SAFMN's feature modulation)"
        # Level 0 is concatenated at the input's size: each level's conv keeps the size.
        kernel = conv_kernel(levels.children[0])
        kernel = kernel[0] if isinstance(kernel, tuple) else kernel
        pins = []
        for conv in {id(c): c for c in levels.children}.values():
            pins.append(arg_pin(conv, "stride", 1, KEEPS))
            if isinstance(kernel, int) and kernel % 2:
                pins.append(arg_pin(conv, "padding", kernel // 2, KEEPS))
        found = (levels.attr, aggr.attr, count)
        pins = [p for p in pins if p]
        return Match(self, len(members) + count, found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        levels, aggr, count = match.found
        pool, resize, activation = (c.value for c in match.choices)
        x = g.input("x")
        h = g.call_method("size", x, 2, name="h")
        w = g.call_method("size", x, 3, name="w")
        chunks = g.call_method("chunk", x, count, kwargs={"dim": 1}, name="chunks")
        first = g.call_function("getitem", chunks, 0, inline=True)
        outs = [g.call_module((levels, "0"), first, name="s0", comment="full size")]
        for i in range(1, count):
            part = g.call_function("getitem", chunks, i, inline=True)
            size = tuple(g.call_function("floordiv", d, 2**i, inline=True) for d in (h, w))
            s = g.call_function(POOLS[pool], part, size, name=f"s{i}", comment=f"1/{2**i} size")
            s = g.call_module((levels, str(i)), s, name=f"s{i}", inline=True)
            outs.append(
                g.call_function("interpolate", s, (h, w), kwargs={"mode": resize}, name=f"s{i}")
            )
        out = g.call_function("cat", outs, 1, inline=True)
        out = act.apply(g, activation, g.call_module((aggr,), out, inline=True), name="gain")
        g.output(g.call_function("mul", out, x))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Modulation(nn.Module):  # SAFM's layout under other names, three levels
        def __init__(self, dim: int = 6, levels: int = 3) -> None:
            super().__init__()
            self.levels = levels
            c = dim // levels
            self.convs = nn.ModuleList(nn.Conv2d(c, c, 3, 1, 1, groups=c) for _ in range(levels))
            self.fuse = nn.Conv2d(dim, dim, 1)

        def forward(self, x):
            h, w = x.shape[-2:]
            outs = []
            for i, (part, conv) in enumerate(zip(x.chunk(self.levels, dim=1), self.convs)):
                if i:
                    part = F.adaptive_max_pool2d(part, (h // 2**i, w // 2**i))
                    part = F.interpolate(conv(part), size=(h, w), mode="nearest")
                else:
                    part = conv(part)
                outs.append(part)
            return F.gelu(self.fuse(torch.cat(outs, 1))) * x

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Conv2d(3, 6, 3, padding=1)
            self.mod = Modulation()
            self.tail = nn.Conv2d(6, 3, 3, padding=1)

        def forward(self, x):
            return self.tail(self.mod(self.head(x)))

    torch.manual_seed(0)
    return Example(Net().eval(), (torch.randn(2, 3, 12, 12),))
