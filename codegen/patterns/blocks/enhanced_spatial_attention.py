"""Enhanced spatial attention (ESA, Liu et al. 2020, RFDN's block.py; RLFN and BSRN reuse it): a
1x1 conv narrows the map, a strided 3x3 conv and a 7/3 max-pool shrink it, 3x3 convs (ReLU
between them) run on the small map, which is resized back (bilinear) and added to a 1x1 skip of
the narrowed map; a 1x1 conv widens it back into a sigmoid mask on the input:

    reduced = reduce(x)                                  # [batch, f, H, W], f < C
    small = max_pool2d(down(reduced), 7, stride=3)       # down: 3x3, stride 2, no padding
    small = body_n(relu(... relu(body_1(small))))        # 3x3 convs (RFDN: 2 or 3, RLFN: 1)
    small = interpolate(small, (H, W), bilinear)
    return x * sigmoid(expand(small + skip(reduced)))

The widths prove the roles of the 1x1 convs (narrowing C -> f, f -> f, widening f -> C), and that
the 3x3 ones all run on the narrowed map; which of them strides and the order of the others
leave no key. By the convention every ESA follows (its names): the one first in name order
strides, except that a conv named for the max-pooled map (RFDN's `conv_max`, declared before the
strided `conv2`) runs right after it. The pool, the resize and the gate are ESA's, from its code.
"""

from __future__ import annotations

import re

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
from codegen.patterns._kit import resize_like, tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns._kit import name_order
from codegen.patterns.blocks.selective_scan import conv_pins

ROLE = "EnhancedSpatialAttention"
WHY = "ESA's strided 3x3 conv (RFDN block.py: stride 2, no padding)"
ORDER = (
    "which 3x3 conv strides and the order of the others leave no key: ESA's convention "
    "(the first in name order strides; a conv named for the max-pooled map runs next)"
)


def kernel_of(m) -> int | None:
    """A square conv's kernel size (an int, or a tuple of equal sizes)."""
    k = conv_kernel(m)
    if isinstance(k, (tuple, list)) and k and all(s == k[0] for s in k):
        k = k[0]
    return k if isinstance(k, int) else None


def _conv2d(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None and m.io.ndim == 2


def chain_order(convs: list) -> list:
    """The 3x3 convs in the order ESA runs them (see the module's docstring)."""
    ordered = sorted(convs, key=lambda m: name_order(m.attr))
    pooled = [m for m in ordered if re.search("max", m.attr, re.IGNORECASE)]
    first = next((m for m in ordered if m not in pooled), None)
    if first is None:
        return ordered
    rest = [m for m in ordered if m is not first and m not in pooled]
    return [first, *pooled, *rest]


class EnhancedSpatialAttention(BlockPattern):
    role = ROLE
    priority = 8

    accepts = Accepts(5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) < 5 or not all(_conv2d(m) for m in members):
            return None
        narrowing = [m for m in members if m.io.in_width > m.io.out_width]
        widening = [m for m in members if m.io.in_width < m.io.out_width]
        if len(narrowing) != 1 or len(widening) != 1:
            return None
        reduce, expand = narrowing[0], widening[0]
        width, f = reduce.io.in_width, reduce.io.out_width
        if (expand.io.in_width, expand.io.out_width) != (f, width):
            return None
        if kernel_of(reduce) != 1 or kernel_of(expand) != 1:
            return None
        inner = [m for m in members if m is not reduce and m is not expand]
        if any((m.io.in_width, m.io.out_width) != (f, f) for m in inner):
            return None
        skips = [m for m in inner if kernel_of(m) == 1]
        body = [m for m in inner if (kernel_of(m) or 0) > 1 and kernel_of(m) % 2 == 1]
        if len(skips) != 1 or len(body) < 2 or len(skips) + len(body) != len(inner):
            return None
        down, *rest = chain_order(body)
        pins = conv_pins(down, {"stride": 2, "padding": 0}, WHY)
        for m in rest:
            pins += conv_pins(m, {"stride": 1, "padding": kernel_of(m) // 2}, "ESA's 3x3 convs")
        for m in (reduce, skips[0], expand):
            pins += conv_pins(m, {"stride": 1, "padding": 0}, "ESA's 1x1 convs keep the size")
        found = (reduce.attr, skips[0].attr, down.attr, tuple(m.attr for m in rest), expand.attr)
        return Match(self, len(members), found, [], guessed=ORDER, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        reduce, skip, down, rest, expand = match.found
        x = g.input("x")
        reduced = g.call_module((reduce,), x, name="reduced")
        small = g.call_module((down,), reduced, inline=True)
        small = g.call_function(
            "max_pool2d", small, 7, kwargs={"stride": 3}, name="small", comment="7x7, stride 3"
        )
        for i, conv in enumerate(rest):
            small = g.call_module((conv,), small, name="small", inline=i < len(rest) - 1)
            if i < len(rest) - 1:
                small = g.call_function("relu", small, name="small")
        small = resize_like(g, small, x, name="small", comment="back to the input's size")
        joined = g.call_function("add", small, g.call_module((skip,), reduced, inline=True))
        mask = g.call_function("sigmoid", g.call_module((expand,), joined, inline=True))
        g.output(g.call_function("mul", x, mask, name="out"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ESA(nn.Module):  # RFDN block.py: conv_max, conv3 (ReLU after each), conv3_
            def __init__(self, n_feats: int) -> None:
                super().__init__()
                f = n_feats // 4
                self.conv1 = nn.Conv2d(n_feats, f, kernel_size=1)
                self.conv_f = nn.Conv2d(f, f, kernel_size=1)
                self.conv_max = nn.Conv2d(f, f, kernel_size=3, padding=1)
                self.conv2 = nn.Conv2d(f, f, kernel_size=3, stride=2, padding=0)
                self.conv3 = nn.Conv2d(f, f, kernel_size=3, padding=1)
                self.conv3_ = nn.Conv2d(f, f, kernel_size=3, padding=1)
                self.conv4 = nn.Conv2d(f, n_feats, kernel_size=1)

            def forward(self, x):
                c1_ = self.conv1(x)
                v_max = F.max_pool2d(self.conv2(c1_), kernel_size=7, stride=3)
                c3 = torch.relu(self.conv3(torch.relu(self.conv_max(v_max))))
                c3 = F.interpolate(
                    self.conv3_(c3), (x.size(2), x.size(3)), mode="bilinear", align_corners=False
                )
                return x * torch.sigmoid(self.conv4(c3 + self.conv_f(c1_)))

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, 8, 3, padding=1)
                self.esa = ESA(8)

            def forward(self, x):
                return self.esa(self.head(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 16, 16),))]
