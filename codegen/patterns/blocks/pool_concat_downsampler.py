"""A downsampler that sets a strided conv beside a max-pool of its input and normalises both
together (ENet's initial block, Paszke et al. 2016; ERFNet's DownsamplerBlock, Romera et al.
2018):

    return act(norm(cat([conv(x), max_pool2d(x, 2, 2)], 1)))

The widths show it: the norm normalises what the conv gives plus what it reads (the pool keeps
the input's channels), so the two are concatenated, the conv first as both codes write it. The
conv halves the size as the pool does: its stride 2 follows. The pool's size and the activation
leave no tensor (ERFNet's 2x2 pool and ReLU; ENet's 3x3 pool, padded, and a PReLU, whose slopes
are a member): choices, flagged, that calibration can move.
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
from codegen.patterns.blocks.padded_resnet_block import arg_pin

WHY = "the conv beside a halving max-pool halves the size too"


class PoolConcatDownsampler(BlockPattern):
    role = "Downsample"
    priority = 10

    accepts = Accepts(2, 3, tensors=False, families=("conv", "norm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3) or any(m.io is None for m in members):
            return None
        convs = [m for m in members if family(m) == "conv" and m.kind == "builtin"]
        norms = [m for m in members if family(m) == "norm" and m.kind == "builtin"]
        rest = [m for m in members if m not in convs and m not in norms]
        if len(convs) != 1 or len(norms) != 1 or convs[0].type_name != "nn.Conv2d":
            return None
        conv, norm = convs[0], norms[0]
        reads, gives = conv.io.in_width, conv.io.out_width
        if not reads or not gives or norm.io.in_width != reads + gives:
            return None
        prelu = rest[0] if rest else None
        if prelu is not None and prelu.type_name != "nn.PReLU":
            return None
        pool = ctx.choose(
            cls,
            conv.attr,
            "pool_size",
            2,
            [3],
            "the max-pool beside the conv (ERFNet's 2x2; ENet's 3x3, padded by 1), stride 2",
        )
        choices = [pool]
        if prelu is None:
            choices.append(
                ctx.choose(
                    cls,
                    norm.attr,
                    "activation",
                    "relu",
                    act.alternatives("relu", conv=True),
                    "after the norm (ERFNet's ReLU)",
                )
            )
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "the pool's size and the activation leave no tensor (ERFNet's 2x2 max-pool and "
                f"ReLU by convention): the choices {', '.join(guessed)}"
            )
        pins = [p for p in [arg_pin(conv, "stride", 2, WHY)] if p]
        found = (conv.attr, norm.attr, prelu.attr if prelu else None)
        return Match(self, len(members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm, prelu = match.found
        values = {c.name: c.value for c in match.choices}
        size = values["pool_size"]
        x = g.input("x")
        main = g.call_module((conv,), x, name="main")
        kwargs = {"padding": 1} if size == 3 else {}
        pooled = g.call_function("max_pool2d", x, size, 2, kwargs=kwargs, name="pooled")
        out = g.call_function("cat", [main, pooled], 1, name="out", comment="conv, then pool")
        out = g.call_module((norm,), out, name="out", inline=True)
        if prelu is not None:
            out = g.call_module((prelu,), out, name="out")
        else:
            out = act.apply(g, values["activation"], out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class InitialBlock(nn.Module):  # davidtvs/PyTorch-ENet's names, a 2x2 pool, PReLU
            def __init__(self, c_in: int = 3, c_out: int = 16) -> None:
                super().__init__()
                self.main_branch = nn.Conv2d(c_in, c_out - c_in, 3, stride=2, padding=1, bias=False)
                self.ext_branch = nn.MaxPool2d(2, stride=2)
                self.batch_norm = nn.BatchNorm2d(c_out)
                self.out_activation = nn.PReLU()

            def forward(self, x):
                out = torch.cat((self.main_branch(x), self.ext_branch(x)), 1)
                return self.out_activation(self.batch_norm(out))

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.initial_block = InitialBlock()
                self.head = nn.Conv2d(16, 4, 1)

            def forward(self, x):
                return self.head(self.initial_block(x))

        torch.manual_seed(0)
        net = Net()
        net.initial_block.batch_norm.running_mean.uniform_(-0.5, 0.5)
        return [Example(net.eval(), (torch.randn(2, 3, 8, 8),))]
