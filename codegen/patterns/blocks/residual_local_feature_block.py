"""Residual local feature block (RLFN's RLFB, Kong et al. 2022, bytedance/RLFN block.py): a chain
of convs that leaves the width where it found it, each activated, the block's input added back,
then a 1x1 conv and an attention on its output (RFDN's ESA, blocks/enhanced_spatial_attention.py):

    out = act(c3(act(c2(act(c1(x))))))      # C -> mid -> ... -> C, 3x3 convs
    out = out + x
    return attention(fuse(out))             # fuse: 1x1

The widths prove the chain (each conv reads what the one before it gives, the last gives the
block's width back) and that the 1x1 conv runs after it (it reads the width, the attention reads
what it gives); name order settles the chain where widths do not. The activation (RLFN's
LeakyReLU 0.05) and the residual leave no tensor: choices, and the block is guessed until
calibration (or --hints) settles them.
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
from codegen.patterns.blocks.distillation_block import _conv2d, unsettled
from codegen.patterns.blocks.enhanced_spatial_attention import kernel_of
from codegen.patterns._kit import name_order
from codegen.patterns.blocks.residual_distillation_block import ATTENTIONS
from codegen.patterns.blocks.selective_scan import conv_pins

ROLE = "ResidualLocalFeatureBlock"
SIZE = "the block's input is added after the chain, so its convs keep the size"


class ResidualLocalFeatureBlock(BlockPattern):
    role = ROLE
    priority = 7

    accepts = Accepts(4, tensors=False, roles=(ATTENTIONS,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls):
            return None
        attentions = [m for m in members if m.kind == "class" and ctx.role(m) in ATTENTIONS]
        convs = sorted((m for m in members if _conv2d(m)), key=lambda m: name_order(m.attr))
        if len(attentions) != 1 or len(convs) + 1 != len(members) or len(convs) < 3:
            return None
        *chain, fuse = convs
        width = chain[0].io.in_width
        if chain[-1].io.out_width != width or fuse.io.in_width != width or kernel_of(fuse) != 1:
            return None
        if any(a.io.out_width != b.io.in_width for a, b in zip(chain, chain[1:])):
            return None
        if any((kernel_of(c) or 0) < 3 for c in chain):  # a 1x1 inside: a bottleneck's layout
            return None
        attention = attentions[0]
        if attention.io is not None and attention.io.in_width not in (None, fuse.io.out_width):
            return None
        activation = ctx.choose(
            cls,
            chain[0].attr,
            "activation",
            "leaky_relu_0.05",
            act.alternatives("leaky_relu_0.05", conv=True) + ["leaky_relu"],
            "after each conv of the chain (RLFN's LeakyReLU 0.05)",
        )
        residual = ctx.choose(
            cls, chain[-1].attr, "residual", "add", ["none"], "the input added after the chain"
        )
        note = unsettled(
            (activation, residual),
            "the activation and the residual leave no tensor (RLFN's RLFB by convention)",
        )
        pins = []  # the input added after the chain: every conv keeps the size
        for m in convs:
            pins += conv_pins(m, {"stride": 1, "padding": kernel_of(m) // 2}, SIZE)
        found = (tuple(c.attr for c in chain), fuse.attr, attention.attr)
        choices = [activation, residual]
        return Match(self, len(members) + len(convs), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        chain, fuse, attention = match.found
        activation, residual = (c.value for c in match.choices)
        x = g.input("x")
        out = x
        for conv in chain:
            out = g.call_module((conv,), out, inline=True)
            out = act.apply(g, activation, out, name="out")
        if residual == "add":
            out = g.call_function("add", out, x, name="out")
        out = g.call_module((fuse,), out, inline=True)
        g.output(g.call_module((attention,), out, name="out"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Conv2d(3, 8, 3, padding=1)
                self.unit = local_block(8)

            def forward(self, x):
                return self.unit(self.head(x))

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 6, 6),))]


def local_block(c: int):
    """A test-only reference block in this layout under other names: two 3x3 convs through a
    wider middle, LeakyReLU 0.05, the residual, a 1x1 conv and a squeeze-excite."""
    import torch
    import torch.nn as nn

    class SE(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Conv2d(c, c // 2, 1), nn.Conv2d(c // 2, c, 1)

        def forward(self, x):
            s = x.mean((2, 3), keepdim=True)
            return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))

    class Local(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv_a = nn.Conv2d(c, c + 4, 3, padding=1)
            self.conv_b = nn.Conv2d(c + 4, c, 3, padding=1)
            self.proj = nn.Conv2d(c, c, 1)
            self.gate = SE(c)

        def forward(self, x):
            act = nn.functional.leaky_relu
            out = act(self.conv_b(act(self.conv_a(x), 0.05)), 0.05) + x
            return self.gate(self.proj(out))

    return Local(c)
