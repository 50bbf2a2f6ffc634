"""A re-parameterised block in its deploy form (RepVGG, Ding et al. 2021): the training-time 3x3,
1x1 and identity branches fused into one biased 3x3 conv, then the activation:

    act(reparam(x))

Recognised from a class holding that one conv under the name the fusing code gives it
(DingXiaoH's `rbr_reparam`, timm's `reparam_conv`; analyze/strides.py's reparam_conv). The
activation leaves no key: RepVGG's ReLU, a choice. The stride of each stage's first block is
analyze/strides.py's (reparam_stage_entries)."""

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
from codegen.patterns.blocks._conv_parts import arg, conv_kernel

REPARAM = "reparam"


class ReparamBlock(BlockPattern):
    role = "RepVGGBlock"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 1 or len(modules(cls)) != 1:
            return None
        conv = members[0]
        if family(conv) != "conv" or conv.kind != "builtin" or conv.io.ndim != 2:
            return None
        if REPARAM not in conv.attr.lower() or conv_kernel(conv) not in (3, (3, 3)):
            return None
        if arg(conv, "bias", True) is False:
            return None  # the fused conv carries the branches' norms as its bias
        activation = ctx.choose(
            cls,
            conv.attr,
            "activation",
            "relu",
            act.alternatives("relu", told=ctx.resolver, conv=True),
            "after the fused conv (RepVGG's ReLU)",
        )
        return Match(self, 2, conv.attr, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        x = g.call_module((match.found,), g.input("x"), name="x", inline=True)
        g.output(act.apply(g, match.choices[0].value, x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class RepVggBlock(nn.Module):  # timm byobnet RepVggBlock after reparameterize()
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                self.reparam_conv = nn.Conv2d(c_in, c_out, 3, stride, 1)
                self.act = nn.ReLU()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.act(self.reparam_conv(x))

        class Net(nn.Module):  # timm's layout: a stem block, `stages` of blocks, a head
            def __init__(self) -> None:
                super().__init__()
                self.stem = RepVggBlock(3, 8, 2)
                self.stages = nn.Sequential(
                    nn.Sequential(RepVggBlock(8, 8, 2), RepVggBlock(8, 8, 1)),
                    nn.Sequential(RepVggBlock(8, 16, 2)),
                )
                self.fc = nn.Linear(16, 3)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc(self.stages(self.stem(x)).mean((2, 3)))

        torch.manual_seed(0)
        return [Example(Net(), (torch.randn(2, 3, 16, 16),))]
