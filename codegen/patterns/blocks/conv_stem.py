"""An image stem held in a class of its own (Hugging Face's ResNet and RegNet embeddings): one
conv-norm unit reading the image's few channels, the activation, then the parameter-free max-pool
the checkpoint cannot show: `pool(act(norm(conv(x))))`.

The pool is a named choice calibration can switch: by the ResNet convention a 7x7 stem is followed by
a 3x3 max-pool of stride 2 and padding 1, and a smaller stem (RegNet's 3x3) by none.
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
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit

IMAGE_CHANNELS = (1, 2, 3, 4)  # grey, grey + alpha, RGB, RGBA
POOLS = {"max3s2p1": (3, 2, 1), "max2s2p0": (2, 2, 0), "max3s2p0": (3, 2, 0), "none": None}


class ConvStem(BlockPattern):
    role = "ConvStem"
    priority = 15  # more than a chain of the same unit: it knows the pool

    accepts = Accepts(1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 1:
            return None
        u = unit(members[0], ctx)
        if u is None or u.norm is None or u.in_width not in IMAGE_CHANNELS or u.depthwise:
            return None
        if members[0].kind == "builtin" and not members[0].children:
            return None  # a bare conv is a layer, not a stem class (one holding its norm is)
        usual, why = act.pinned_unit(ctx.resolver, "relu")  # as the network's blocks activate
        activation = act.mark_family(
            ctx.choose(
                cls,
                u.conv[0],
                "activation",
                usual,
                act.alternatives(usual, told=ctx.resolver, conv=True),  # Darknet's leaky too
                "after the stem's norm",
            ),
            why,
        )
        pool = ctx.choose(
            cls,
            u.conv[0],
            "stem_pool",
            "max3s2p1" if u.kernel == 7 else "none",
            [p for p in POOLS if p != ("max3s2p1" if u.kernel == 7 else "none")],
            "a parameter-free max-pool (kernel, stride, padding) after the stem",
        )
        return Match(self, len(members) + 1, u, [activation, pool])

    def forward(self, match: Match, g: Graph) -> None:
        u = match.found
        activation, pool = (c.value for c in match.choices)
        x = g.input("x")
        out = g.call_module(u.conv, x, name="out", inline=True)
        out = g.call_module(u.norm, out, name="out", inline=True)
        last = POOLS.get(pool) is None
        out = act.apply(g, activation, out, name="out", inline=last)
        if not last:
            k, s, p = POOLS[pool]
            out = g.call_function(
                "max_pool2d", out, k, s, p, name="out", inline=True, comment="no tensors: a choice"
            )
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ConvLayer(nn.Module):  # transformers' ResNetConvLayer
            def __init__(self) -> None:
                super().__init__()
                self.convolution = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
                self.normalization = nn.BatchNorm2d(8)
                self.activation = nn.ReLU()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.activation(self.normalization(self.convolution(x)))

        class Embeddings(nn.Module):  # transformers' ResNetEmbeddings
            def __init__(self) -> None:
                super().__init__()
                self.embedder = ConvLayer()
                self.pooler = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.pooler(self.embedder(x))

        class Model(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.embeddings = Embeddings()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.embeddings(x)

        torch.manual_seed(0)
        model = Model()
        with torch.no_grad():
            model.embeddings.embedder.normalization.running_mean.normal_(0, 0.2)
        return [Example(model, (torch.randn(2, 3, 17, 17),))]
