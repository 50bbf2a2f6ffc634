"""The head of a pre-activation network held in a class of its own, its classifier a 1x1 conv
(Big Transfer's ResNetV2 `head`: `gn`, ReLU, global average pool, `conv`): the trunk's last norm
and activation (the blocks leave their sum un-normalised), the pooled features, then the conv as
the classifier, its [batch, classes, 1, 1] output flattened:

    logits = conv(mean(act(norm(x)), keepdim)).flatten(1)

The activation leaves no key (a choice, ReLU by the pre-activation convention, He et al. 2016).
"""

from __future__ import annotations

import re

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

HEAD = re.compile(r"head|classifier", re.IGNORECASE)


class PreActivatedConvHead(BlockPattern):
    role = "Head"
    priority = 10  # more than a chain of the same two layers: it knows the pool

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2 or any(m.kind != "builtin" for m in members):
            return None
        if not cls.instances or not all(
            HEAD.fullmatch(path.rsplit(".", 1)[-1]) for path, _ in cls.instances
        ):
            return None
        norms = [m for m in members if family(m) == "norm"]
        convs = [m for m in members if family(m) == "conv"]
        if len(norms) != 1 or len(convs) != 1 or conv_kernel(convs[0]) not in (1, (1, 1)):
            return None
        norm, conv = norms[0], convs[0]
        if norm.io is None or conv.io is None or norm.io.out_width != conv.io.in_width:
            return None
        if arg(conv, "bias", True) is False:
            return None  # a classifier conv has its bias
        activation = ctx.choose(
            cls,
            norm.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after the trunk's last norm, before the pool",
        )
        return Match(self, len(members) + 1, (norm.attr, conv.attr), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        norm, conv = match.found
        x = g.input("x")
        out = act.apply(g, match.choices[0].value, g.call_module((norm,), x, inline=True))
        out = g.call_method(
            "mean", out, (2, 3), kwargs={"keepdim": True}, comment="global average pooling"
        )
        logits = g.call_module((conv,), out, inline=True)
        g.output(g.call_function("flatten", logits, 1, comment="[batch, classes]"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Head(nn.Module):  # big_transfer's ResNetV2 head, narrowed
            def __init__(self) -> None:
                super().__init__()
                self.gn = nn.GroupNorm(32, 64)
                self.conv = nn.Conv2d(64, 5, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = F.adaptive_avg_pool2d(F.relu(self.gn(x)), 1)
                return self.conv(x)[..., 0, 0]

        class Model(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = Head()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.head(x)

        return [Example(Model(), (torch.randn(2, 64, 5, 5),))]
