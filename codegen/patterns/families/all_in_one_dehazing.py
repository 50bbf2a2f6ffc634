"""AOD-Net (Li et al. 2017, "All-in-One Dehazing"; MayankSingal's PyTorch-Image-Dehazing
`dehaze_net` and the ports that copy it): five convs over concatenations of the maps before them
estimate one map K, and the clean image is K x - K + 1 (the atmospheric model folded into one
unknown, its constant b = 1):

    x1 = relu(conv1(x)); x2 = relu(conv2(x1))              c -> c, c -> c
    x3 = relu(conv3(cat([x1, x2], 1)))                     2c -> c
    x4 = relu(conv4(cat([x2, x3], 1)))                     2c -> c
    k = relu(conv5(cat([x1, x2, x3, x4], 1)))              4c -> c
    return relu(k * x - k + 1)

The names' numbers order the convs (never key order); the widths give the shape of it (every map
the image's c channels, the reads c, c, 2c, 2c, 4c) but not which maps each concatenation joins,
nor the formula: those are AOD-Net's code. Every conv keeps the size, so the image K multiplies
fits (a 7x7 conv here is no strided stem: a pin). The ReLUs leave no tensor: a choice that keeps
the class guessed until calibration settles it.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match, modules
from codegen.patterns._kit import tensors
from codegen.patterns.families.curve_estimation import ordered_convs

READS = (1, 1, 2, 2, 4)  # each conv's input width, in the image's channels
WHY = "AOD-Net's convs keep the size: K multiplies the image"


def _strided(m) -> bool:
    return any(a.keyword == "stride" and a.value != 1 for a in m.args)


class AllInOneDehazing(BlockPattern):
    role = "Dehazer"
    priority = 10

    accepts = Accepts(5, 5, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if not cls.is_top or tensors(cls) or len(members) != len(READS):
            return None
        convs = ordered_convs(members)
        if convs is None:
            return None
        c = convs[0].io.in_width
        if c is None or c > 4 or any(m.io.out_width != c for m in convs):
            return None
        if [m.io.in_width for m in convs] != [r * c for r in READS]:
            return None
        activation = ctx.choose(
            cls,
            convs[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each conv and on the clean image (AOD-Net's ReLU)",
        )
        # a conv a convention strides (a 7x7 read as an image stem) keeps the size here
        pins = [(m.attr, "stride", 1, WHY) for m in convs if _strided(m)]
        found = tuple(m.attr for m in convs)
        guessed = act.unproven_activation(activation)
        return Match(self, len(members), found, [activation], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        c1, c2, c3, c4, c5 = match.found
        activation = match.choices[0].value
        x = g.input("x")  # [batch, channels, height, width], a hazy image

        def conv(attr: str, *maps, name: str):
            h = maps[0] if len(maps) == 1 else g.call_function("cat", list(maps), 1, inline=True)
            return act.apply(g, activation, g.call_module((attr,), h, inline=True), name=name)

        x1 = conv(c1, x, name="x1")
        x2 = conv(c2, x1, name="x2")
        x3 = conv(c3, x1, x2, name="x3")
        x4 = conv(c4, x2, x3, name="x4")
        k = conv(c5, x1, x2, x3, x4, name="k")
        clean = g.call_function("sub", g.call_function("mul", k, x, inline=True), k, inline=True)
        clean = g.call_function("add", clean, 1, inline=True)
        g.output(act.apply(g, activation, clean))  # the clean image

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Dehaze(nn.Module):  # AOD-Net's layout on a 2-channel image, other kernels
            def __init__(self, c: int = 2) -> None:
                super().__init__()
                self.layer1 = nn.Conv2d(c, c, 1)
                self.layer2 = nn.Conv2d(c, c, 3, padding=1)
                self.layer3 = nn.Conv2d(2 * c, c, 3, padding=1)
                self.layer4 = nn.Conv2d(2 * c, c, 7, padding=3)
                self.layer5 = nn.Conv2d(4 * c, c, 5, padding=2)

            def forward(self, x):
                x1 = torch.relu(self.layer1(x))
                x2 = torch.relu(self.layer2(x1))
                x3 = torch.relu(self.layer3(torch.cat((x1, x2), 1)))
                x4 = torch.relu(self.layer4(torch.cat((x2, x3), 1)))
                k = torch.relu(self.layer5(torch.cat((x1, x2, x3, x4), 1)))
                return torch.relu(k * x - k + 1)

        torch.manual_seed(0)
        return [Example(Dehaze().eval(), (torch.rand(2, 2, 6, 6),))]
