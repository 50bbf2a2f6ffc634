"""A spatial attention gate (CBAM's, Woo et al. 2018): pool every pixel's channels to their max and
their mean, run the two maps through one kxk conv (and its norm) to one map, gate, rescale:

    s = norm(conv(cat([amax(x, dim=1), mean(x, dim=1)], dim=1)))       # [batch, 1, H, W]
    return x * sigmoid(s)

The one conv reads two channels and gives one, over a kernel wider than a pixel (7x7 in the
paper): no layer of a feature map reads two channels otherwise. It sits in a conv-norm unit
class, the gate's one member (the paper's code: `spatial`, a BasicConv; timm's SpatialAttn:
`conv`, a ConvNormAct), which the gate calls layer by layer (the unit adds no activation). A bare
conv in a class of its own is not read as one: luuuyi's SpatialAttention returns the map alone,
for its block to multiply. Which statistic is the first channel is in no shape, and the codes
differ (the paper's: max first; timm's: mean first): a choice, and a guess that says so at its
default. The conv keeps the map's size (pinned: stride 1, half-kernel padding).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks.padded_resnet_block import arg_pin

ROLE = "SpatialGate"
KEEPS = "a spatial gate's conv keeps the map's size (it rescales the input pixel for pixel)"


def kernel_sizes(kernel) -> tuple:
    return tuple(kernel) if isinstance(kernel, (tuple, list)) else (kernel,)


def spatial_unit(cls, ctx: BlockContext):
    """(the conv-norm unit, its conv member) of a class whose one member is a unit class whose
    one conv reads two channels and gives one over a kernel wider than a pixel; else None."""
    members = [m for m in modules(cls) if m.kind != "placeholder"]
    if tensors(cls) or len(members) != 1 or members[0].kind != "class":
        return None
    found = unit(members[0], ctx)
    if found is None or (found.in_width, found.out_width) != (2, 1) or found.groups != 1:
        return None
    kernel = kernel_sizes(found.kernel)
    if not all(isinstance(k, int) for k in kernel) or max(kernel) < 2:
        return None
    conv = next(m for m in modules(ctx.classes[members[0].type_name]) if m.attr == found.conv[-1])
    return found, conv


class SpatialGate(BlockPattern):
    role = ROLE
    priority = 20  # above a stem's conv-norm (blocks/conv_stem.py): two channels in, one out

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if not any(path for path, _ in cls.instances):
            return None  # a whole model of one 2 -> 1 conv reads a two-channel image
        held = spatial_unit(cls, ctx)
        if held is None:
            return None
        found, conv = held
        order = ctx.choose(
            cls,
            found.conv[0],
            "pooled_first",
            "max",
            ["mean"],
            "which channel statistic the conv reads first: the max (CBAM's code) or the mean",
        )
        gate = ctx.choose(
            cls, found.conv[0], "gate", "sigmoid", act.alternatives("sigmoid", gates=True)
        )
        guessed = ""
        if order.source == "default":
            guessed = (
                "the conv reads each pixel's channel max, then mean (CBAM's code); timm's reads "
                "the mean first, and no shape shows which: calibrate or pin pooled_first"
            )
        # The map rescales the input pixel for pixel: the conv keeps the resolution.
        pins = [arg_pin(conv, "stride", 1, KEEPS)]
        if all(k % 2 for k in kernel_sizes(found.kernel)):
            pins.append(arg_pin(conv, "padding", kernel_sizes(found.kernel)[0] // 2, KEEPS))
        pins = [p for p in pins if p is not None]
        explained = 1 + (found.norm is not None)
        found = (found.conv, found.norm)
        return Match(self, explained, found, [order, gate], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm = match.found
        order, gate = (c.value for c in match.choices)
        x = g.input("x")
        top = g.call_method("amax", x, 1, kwargs={"keepdim": True}, inline=True)
        mean = g.call_method("mean", x, 1, kwargs={"keepdim": True}, inline=True)
        pair = [top, mean] if order == "max" else [mean, top]
        s = g.call_function("cat", pair, kwargs={"dim": 1}, name="s", comment="[batch, 2, H, W]")
        s = g.call_module(conv, s, name="s")
        if norm is not None:
            s = g.call_module(norm, s, name="s")
        s = act.apply(g, gate, s, name="s")
        g.output(g.call_function("mul", x, s, comment="one weight per pixel"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ConvNorm(nn.Module):  # timm's ConvNormAct(apply_act=False)
            def __init__(self) -> None:
                super().__init__()
                self.proj = nn.Conv2d(2, 1, 5, padding=2, bias=False)
                self.norm = nn.BatchNorm2d(1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.norm(self.proj(x))

        class PixelGate(nn.Module):  # the unit in a class of its own; the max first
            def __init__(self) -> None:
                super().__init__()
                self.mix = ConvNorm()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                s = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
                return x * torch.sigmoid(self.mix(s))

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.expand = nn.Conv2d(3, 6, 3, padding=1)
                self.where = PixelGate()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.where(self.expand(x))

        return [Example(Holder(), (torch.randn(2, 3, 6, 5),))]
