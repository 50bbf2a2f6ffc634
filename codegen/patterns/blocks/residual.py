"""The ResNet basic block: conv-norm pairs, then the input, projected when the shape changes, is
added: `act(body(x) + shortcut(x))`. Pairs are found by the numbers in their names (conv1 with bn1)
and by widths, never by key order; the activation is a choice of the class."""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.squeeze_excite import gate_width

SHORTCUT_NAMES = {"downsample", "shortcut", "skip", "proj", "residual"}


def name_order(attr: str) -> tuple:
    """`conv2` after `conv1`, `bn1` beside `conv1`: the numbers in a name, then the name."""
    return (tuple(int(n) for n in re.findall(r"\d+", attr)), attr)


class BasicBlock(BlockPattern):
    role = "BasicBlock"

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 4:
            return None
        convs = sorted(
            (m for m in members if family(m) == "conv"), key=lambda m: name_order(m.attr)
        )
        norms = sorted(
            (m for m in members if family(m) == "norm"), key=lambda m: name_order(m.attr)
        )
        rest = [m for m in members if m not in convs and m not in norms]
        gates = [m for m in rest if ctx.role(m) == "SqueezeExcite"]
        if len(gates) > 1:
            return None
        rest = [m for m in rest if m not in gates]
        shortcut = None
        if len(rest) == 1 and family(rest[0]) in ("sequential", "conv"):
            shortcut = rest[0]
        elif rest or len(convs) == len(norms) + 1:
            named = [m for m in convs if m.attr in SHORTCUT_NAMES]
            if rest or len(named) != 1:
                return None
            shortcut = named[0]
            convs.remove(shortcut)
        if len(convs) != len(norms) or len(convs) < 2:
            return None
        pairs = list(zip(convs, norms))
        width = pairs[0][0].io.in_width
        for conv, norm in pairs:  # each conv takes what the previous norm gave
            if width is not None and conv.io.in_width not in (None, width):
                return None
            if conv.io.out_width != norm.io.in_width:
                return None
            width = norm.io.out_width
        c_in, c_out = pairs[0][0].io.in_width, pairs[-1][1].io.out_width
        if shortcut is None and c_in != c_out:
            return None
        activation = ctx.choose(
            cls,
            pairs[0][1].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "between conv/norm pairs and after the sum",
        )
        choices = [activation]
        gate, guessed = None, ""
        if gates:
            # SE-ResNet (Hu et al. 2018) gates the body's output before the sum; RegNetY gates
            # the 3x3 conv's. Widths tell them apart unless both give the gate's width.
            fits = [c.attr for c, n in pairs if n.io.out_width == gate_width(gates[0], ctx)]
            if not fits:
                return None
            where = ctx.choose(
                cls,
                gates[0].attr,
                "gate_after",
                fits[-1],
                fits[:-1],
                "the conv/norm pair whose output the squeeze-excitation rescales",
            )
            choices.append(where)
            gate = (gates[0].attr, where.value)
            if len(fits) > 1 and where.source == "default":
                guessed = (
                    f"the squeeze-excitation {gates[0].attr} could follow "
                    f"{' or '.join(fits)} (their widths match); it follows {where.value}"
                )
        found = ([(c.attr, n.attr) for c, n in pairs], shortcut.attr if shortcut else None, gate)
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        pairs, shortcut, gate = match.found
        activation = match.choices[0].value
        x = g.input("x")
        out = x
        for i, (conv, norm) in enumerate(pairs):
            out = g.call_module((conv,), out, name="out", inline=True)
            last = i == len(pairs) - 1
            gated = gate is not None and gate[1] == conv
            out = g.call_module((norm,), out, name="out", inline=not (last or gated))
            if not last:
                out = act.apply(g, activation, out, name="out")
            if gated:
                out = g.call_module((gate[0],), out, name="out", comment="squeeze-excitation")
        identity = g.call_module((shortcut,), x, inline=True) if shortcut else x
        out = g.call_function("add", out, identity, name="out")
        g.output(act.apply(g, activation, out, name="out", inline=True))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Block(nn.Module):
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(c_out)
                self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c_out)
                self.downsample = None
                if stride != 1 or c_in != c_out:
                    self.downsample = nn.Sequential(
                        nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                    )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                shortcut = x if self.downsample is None else self.downsample(x)
                return F.relu(out + shortcut)

        class Stage(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = Block(8, 16, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.block(x)

        x = torch.randn(2, 8, 8, 8)
        return [Example(Stage(), (x,))]
