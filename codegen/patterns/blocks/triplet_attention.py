"""Triplet attention (Misra et al. 2021, landskape/triplet-attention): three spatial gates (each
`x * sigmoid(conv(cat([max_c(x), mean_c(x)])))`, blocks/spatial_gate.py), each over the input
rotated so another pair of its axes is the plane the gate sees, their outputs averaged:

    cw = gate_cw(x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)   # channels <-> height
    hc = gate_hc(x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)   # channels <-> width
    return (gate_hw(x) + cw + hc) / 3                         # (no_spatial: the first two, / 2)

No key holds a tensor outside the gates, and the three gates' keys are alike: which rotation each
sees shows only in the names the paper's code gives them (`cw`, `hc`, `hw`: the two axes each
gate's plane keeps). Where the names do not say it, the rotations follow the members' name order
and the class says it guessed. A gate's conv reads two channels whatever the input's width, so
a residual block reads the class as a gate that keeps any width (blocks/squeeze_excite.py).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors
from codegen.patterns.blocks.spatial_gate import spatial_unit

ROLE = "TripletAttention"
# The permutation each plane's gate sees its input through (its own inverse), by the two axes
# the gate's plane keeps: channels and width (height moved to the channel axis), height and
# channels, height and width (the input as it is).
ROTATIONS = {"cw": (0, 2, 1, 3), "hc": (0, 3, 2, 1), "hw": None}


def _plane(name: str) -> str | None:
    """The plane a member's name says (`cw`, `hc`, `hw`, in either letter order), else None."""
    for plane in ROTATIONS:
        if name.lower() in (plane, plane[::-1]):
            return plane
    return None


class TripletAttention(BlockPattern):
    role = ROLE
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) not in (2, 3) or any(m.kind != "class" for m in members):
            return None
        if any(spatial_unit(ctx.classes[m.type_name], ctx) is None for m in members):
            return None
        planes = {m.attr: _plane(m.attr) for m in members}
        named = None not in planes.values() and len(set(planes.values())) == len(members)
        if len(members) == 2 and named and "hw" in planes.values():
            return None  # (no_spatial keeps the two rotated gates only)
        guessed = ""
        if not named:
            order = sorted(m.attr for m in members)
            planes = dict(zip(order, list(ROTATIONS)[: len(members)]))
            guessed = (
                "no name says which plane each spatial gate sees: "
                + ", ".join(f"{a} the {p} plane" for a, p in planes.items())
                + " (in name order, as triplet attention's cw, hc, hw)"
            )
        return Match(self, len(members), tuple(planes.items()), [], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        outs = []
        for attr, plane in match.found:
            rotation = ROTATIONS[plane]
            if rotation is None:
                outs.append(g.call_module((attr,), x, name=f"x_{plane}"))
                continue
            turned = g.call_method("permute", x, *rotation, inline=True)
            out = g.call_module((attr,), turned, inline=True)
            outs.append(g.call_method("permute", out, *rotation, name=f"x_{plane}"))
        total = outs[0]
        for out in outs[1:]:
            total = g.call_function("add", total, out, name="out")
        g.output(g.call_function("mul", total, 1 / len(outs), comment="their mean"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class ConvNorm(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(2, 1, 5, padding=2, bias=False)
                self.bn = nn.BatchNorm2d(1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.bn(self.conv(x))

        class Gate(nn.Module):  # max then mean over the channels, a conv-norm, a sigmoid
            def __init__(self) -> None:
                super().__init__()
                self.unit = ConvNorm()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                pooled = torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1)
                return x * torch.sigmoid(self.unit(pooled))

        class Triplet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hw, self.wc, self.hc = Gate(), Gate(), Gate()  # (wc: cw's letters turned)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                a = self.wc(x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)
                b = self.hc(x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
                return (self.hw(x) + a + b) / 3

        class Block(nn.Module):  # a residual block, the attention after its last norm
            def __init__(self, c: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(c)
                self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c)
                self.attention = Triplet()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.attention(self.bn2(self.conv2(out)))
                return F.relu(out + x)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)  # a stem halves (by convention)
                self.blocks = nn.Sequential(Block(8), Block(8))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.blocks(self.stem(x))

        return [Example(Net(), (torch.randn(2, 3, 8, 12),))]
