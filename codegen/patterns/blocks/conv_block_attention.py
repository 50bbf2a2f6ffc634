"""The convolutional block attention module (CBAM, Woo et al. 2018): a channel gate, then a spatial
gate, each rescaling what it is given:

    x = x * sigmoid(mlp(mean(x)) + mlp(max(x)))         # the channel gate (blocks/squeeze_excite.py)
    return x * sigmoid(conv(cat([max_c(x), mean_c(x)])))  # the spatial gate (blocks/spatial_gate.py)

Its two members are classes: one whose two layers (Linear or 1x1 conv) narrow the channels and
widen them back, as a squeeze-excitation's do, and one whose one conv reads two channels and gives
one. The first pools each channel to its mean and to its max and sums the two through its layers:
this holder pins that on its class (the `squeeze` choice), which alone would read as an SE. The
channel gate comes first in the paper's code, timm's CbamModule and the other ports (the paper's
ablation tried both orders): the `order` choice keeps the other.
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
from codegen.patterns.blocks._conv_parts import walk_builtin
from codegen.patterns.blocks.spatial_gate import spatial_unit

ROLE = "ConvBlockAttention"
CBAM = "CBAM's channel gate pools each channel to its mean and its max"


def _narrows_and_widens_back(m, ctx: BlockContext) -> bool:
    """Whether a class member's layers are two Linear or 1x1 conv layers, C -> r -> C (r < C)."""
    layers = [c for c in walk_builtin([m], ctx) if family(c) in ("linear", "conv", "norm")]
    layers = [c for c in layers if family(c) != "norm"]
    if len(layers) != 2 or any(c.io is None for c in layers):
        return False
    widths = sorted(((c.io.in_width, c.io.out_width) for c in layers), key=lambda w: -w[0])
    (c, r), (r2, c2) = widths
    return None not in (c, r) and r < c and (r2, c2) == (r, c)


class ConvBlockAttention(BlockPattern):
    role = ROLE
    priority = 10

    accepts = Accepts(2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 2 or any(m.kind != "class" for m in members):
            return None
        spatial = [m for m in members if spatial_unit(ctx.classes[m.type_name], ctx) is not None]
        if len(spatial) != 1:
            return None
        channel = next(m for m in members if m is not spatial[0])
        if not _narrows_and_widens_back(channel, ctx):
            return None
        order = ctx.choose(
            cls,
            channel.attr,
            "order",
            "channel_first",
            ["spatial_first"],
            "which gate rescales first (every code: the channel gate)",
        )
        pins = [(channel.type_name, "squeeze", "mean_and_max", CBAM)]
        return Match(self, 2, (channel.attr, spatial[0].attr), [order], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        channel, spatial = match.found
        first, second = (channel, spatial)
        if match.choices[0].value == "spatial_first":
            first, second = second, first
        x = g.input("x")
        out = g.call_module((first,), x, name="out")
        g.output(g.call_module((second,), out))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ChannelPart(nn.Module):  # timm's ChannelAttn: 1x1 convs fc1, fc2 (no bias)
            def __init__(self, c: int, r: int) -> None:
                super().__init__()
                self.fc1 = nn.Conv2d(c, r, 1, bias=False)
                self.fc2 = nn.Conv2d(r, c, 1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                avg = self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True))))
                top = self.fc2(F.relu(self.fc1(x.amax((2, 3), keepdim=True))))
                return x * torch.sigmoid(avg + top)

        class ConvBn(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(2, 1, 7, padding=3, bias=False)
                self.bn = nn.BatchNorm2d(1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.bn(self.conv(x))

        class PixelPart(nn.Module):  # the paper's SpatialGate: the max first, a conv-norm unit
            def __init__(self) -> None:
                super().__init__()
                self.unit = ConvBn()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
                return x * torch.sigmoid(self.unit(pooled))

        class Attend(nn.Module):
            def __init__(self, c: int) -> None:
                super().__init__()
                self.pixels = PixelPart()  # (named before the channel part: order by role)
                self.channels = ChannelPart(c, c // 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.pixels(self.channels(x))

        class Block(nn.Module):  # a residual block, the attention after its last norm
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv_a = nn.Conv2d(c, c, 3, 1, 1, bias=False)
                self.norm_a = nn.BatchNorm2d(c)
                self.conv_b = nn.Conv2d(c, c, 3, 1, 1, bias=False)
                self.norm_b = nn.BatchNorm2d(c)
                self.attend = Attend(c)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(self.norm_a(self.conv_a(x)))
                out = self.attend(self.norm_b(self.conv_b(out)))
                return F.relu(out + x)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)  # a stem halves (by convention)
                self.blocks = nn.Sequential(Block(16), Block(16))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.blocks(self.stem(x))

        return [Example(Net(), (torch.randn(2, 3, 8, 8),))]
