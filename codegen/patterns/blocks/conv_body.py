"""A conv and the activation after it as one `body` Sequential, the class holding nothing else
(CARN's `ops.BasicBlock`: `body = Sequential(Conv2d, ReLU)`): only the conv has keys, and a
trailing activation leaves no slot, so it is a choice (CARN's: relu, which its cascading blocks
pin, blocks/cascading_block.py).

    return act(self.body(x))
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

BODY = "body"


def keyless_activation(ctx: BlockContext, cls, where: str, after: str, usual: str):
    """An activation no key shows (none by default) and, while it is a default, why the class
    says guessed."""
    activation = ctx.choose(
        cls,
        where,
        "activation",
        "identity",
        act.alternatives("identity", conv=True),
        f"{after}: a trailing activation leaves no key ({usual})",
    )
    guessed = ""
    if activation.source in ("default", "structure"):  # structure: a convention a parent pinned
        guessed = f"an activation {after} leaves no key: the choice activation"
    return activation, guessed


class ConvBody(BlockPattern):
    role = "ConvBlock"
    priority = 4

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].attr != BODY:
            return None
        body = members[0]
        if body.kind != "sequential" or len(body.children) != 1:
            return None
        conv = body.children[0]
        if conv.kind != "builtin" or family(conv) != "conv":
            return None
        activation, guessed = keyless_activation(
            ctx, cls, body.attr, "after the conv", "CARN's BasicBlock: relu"
        )
        return Match(self, 1, body.attr, [activation], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        out = g.call_module((match.found,), x, name="out")
        g.output(act.apply(g, match.choices[0].value, out, name="out"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class BasicBlock(nn.Module):  # CARN ops.BasicBlock, here without its ReLU
            def __init__(self, c_in: int, c_out: int) -> None:
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 1))

            def forward(self, x):
                return self.body(x)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.entry = nn.Conv2d(3, 8, 3, padding=1)
                self.fuse = BasicBlock(8, 4)

            def forward(self, x):
                return self.fuse(self.entry(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 5, 5),))]
