"""A normalizer-free residual block (Brock et al. 2021; timm's NormFreeBlock, the blocks of its
NF-ResNets and NF-RegNets): no norm layer anywhere; scaled weight-standardised convs
(layers/scaled_std_conv.py) in a pre-activation bottleneck, the input scaled down by beta and the
residual branch by alpha:

    out = act(x) * beta
    shortcut = downsample(out) if the block projects else x
    out = conv3(act(conv2(act(conv1(out))))) [* skipinit_gain]
    return out * alpha + shortcut

Recognised from its members: numbered ScaledStdConv2d convs chaining their widths, and where the
width changes a `downsample` holding one such 1x1 conv (timm's DownsampleAvg: a 2x2 average pool
first where the block strides; the helper avg_pool_to pools the shortcut to the block's output).
What no key records is a choice: the activation (ReLU), alpha (timm's 0.2) and beta, which timm
sets per block from the variance expected at its place (1 / sqrt(1 + k alpha^2), k counted from
each stage's first block), so one value for every block of a class is a guess the file says.
The stride: every stage's first block strides 2 but the first stage's (timm's NormFreeNet
stride schedule, its `stages.N` of blocks), pinned.
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
    modules,
    tensors,
)

SCALED = "ScaledStdConv2d"
CONV = re.compile(r"conv(\d+)")
STAGE_FIRST = re.compile(r"(?:^|\.)stages\.(\d+)\.0$")  # timm's NormFreeNet `stages.N.0`
WHY = "timm's NormFreeNet: every stage's first block halves the resolution but the first's"
# The per-block pin (ChoiceResolver.structural) analyze/layouts.py sets on timm's layout: how many
# alpha^2 the variance expected at the block's input holds, (k, why).
NF_STEPS = "nf_variance_steps"


def _inner_conv(m, ctx: BlockContext) -> tuple[str, ...] | None:
    """The path to the one scaled conv a downsample member holds (itself, or its only member)."""
    if m.kind == "builtin" and m.type_name == SCALED:
        return (m.attr,)
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = [c for c in modules(cls) if c.kind != "placeholder"] if cls is not None else []
    if cls is None or tensors(cls) or len(inner) != 1 or inner[0].type_name != SCALED:
        return None
    return (m.attr, inner[0].attr)


class NormFreeBlock(BlockPattern):
    role = "NormFreeBlock"
    priority = 12
    accepts = Accepts(2, names=(CONV.pattern,))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        gains = tensors(cls)
        if len(gains) > 1 or (gains and (gains[0].attr != "skipinit_gain" or gains[0].shape)):
            return None
        convs = sorted(
            (m for m in members if CONV.fullmatch(m.attr)), key=lambda m: int(m.attr[4:])
        )
        if not 2 <= len(convs) <= 3 or any(m.type_name != SCALED for m in convs):
            return None
        if any(a.io.out_width != b.io.in_width for a, b in zip(convs, convs[1:])):
            return None
        rest = [m for m in members if m not in convs]
        if len(rest) > 1 or (rest and rest[0].attr != "downsample"):
            return None
        down = _inner_conv(rest[0], ctx) if rest else None
        if rest and down is None:
            return None
        if not rest and convs[0].io.in_width != convs[-1].io.out_width:
            return None
        activation = ctx.choose(
            cls,
            convs[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", told=ctx.resolver, conv=True),
            "before each conv (pre-activation)",
        )
        alpha = ctx.choose(
            cls, convs[-1].attr, "alpha", 0.2, [0.1, 1.0], "the residual branch's scale (timm's)"
        )
        told = {ctx.resolver.structural.get((path, NF_STEPS)) for path, _ in cls.instances}
        steps = next(iter(told)) if len(told) == 1 and None not in told else None
        usual = 1.0 if steps is None else (1.0 + steps[0] * float(alpha.value) ** 2) ** -0.5
        beta = act.mark_family(
            ctx.choose(
                cls,
                convs[0].attr,
                "beta",
                usual,
                [b for b in (1.0, 0.5, 2.0**-0.5) if b != usual],
                "the input's scale, 1 / sqrt(the variance expected where the block sits)",
            ),
            steps[1] if steps is not None else "",
        )
        pins = []
        for path, _ in cls.instances:
            found = STAGE_FIRST.search(path)
            if found is not None and len(convs) == 3:
                stride = 1 if found.group(1) == "0" else 2
                pins.append((f"{path}.{convs[1].attr}", "stride", stride, WHY))
            if down is not None:
                pins.append((f"{path}.{'.'.join(down)}", "stride", 1, "the pool strides first"))
        guessed = ""
        if beta.source == "default":
            guessed = (
                "beta (the input's scale) depends on where each block sits (timm: 1 / sqrt(1 + "
                "k alpha^2)), which no key records: one value for the class is a guess"
            )
        found = (
            tuple(m.attr for m in convs),
            down,
            gains[0].attr if gains else None,
        )
        return Match(
            self,
            len(members) + len(gains) + 2,
            found,
            [activation, alpha, beta],
            guessed=guessed,
            pins=pins,
        )

    def forward(self, match: Match, g: Graph) -> None:
        convs, down, gain = match.found
        activation, alpha, beta = (c.value for c in match.choices)
        x = g.input("x")
        out = act.apply(g, activation, x, name="out", inline=True)
        if float(beta) != 1.0:
            out = g.call_function("mul", out, float(beta), name="out", comment="the input scaled")
        pre = out
        for i, conv in enumerate(convs):
            if i:
                out = act.apply(g, activation, out, name="out", inline=True)
            out = g.call_module((conv,), out, name="out")
        if gain is not None:
            out = g.call_function("mul", out, g.getattr((gain,)), name="out")
        shortcut = x
        if down is not None:
            pooled = g.call_function("avg_pool_to", pre, out, name="shortcut", inline=True)
            shortcut = g.call_module(down, pooled, name="shortcut")
        scaled = g.call_function("mul", out, float(alpha), inline=True)
        g.output(g.call_function("add", scaled, shortcut))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.ir.layer_classes import layer_class

        conv = layer_class(SCALED)
        gamma = 1.7139588594436646  # timm's ReLU gamma

        class Shortcut(nn.Module):  # timm's DownsampleAvg: pool, then the 1x1 conv
            def __init__(self, c_in: int, c_out: int) -> None:
                super().__init__()
                self.conv = conv(c_in, c_out, 1, gamma=gamma)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)
                return self.conv(x)

        class Block(nn.Module):  # timm's NormFreeBlock with skipinit (a learned zero-init gain)
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                mid = c_out // 2
                self.downsample = Shortcut(c_in, c_out) if stride > 1 else None
                self.conv1 = conv(c_in, mid, 1, gamma=gamma)
                self.conv2 = conv(mid, mid, 3, stride, 1, gamma=gamma)
                self.conv3 = conv(mid, c_out, 1, gamma=gamma)
                self.skipinit_gain = nn.Parameter(torch.tensor(0.5))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = F.relu(x)
                shortcut = x if self.downsample is None else self.downsample(out)
                out = self.conv2(F.relu(self.conv1(out)))
                out = self.conv3(F.relu(out)) * self.skipinit_gain
                return out * 0.2 + shortcut

        class Body(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.Sequential(Block(6, 12, 2), Block(12, 12, 1))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.blocks(x)

        torch.manual_seed(0)
        body = Body()
        with torch.no_grad():
            for p in body.parameters():
                if p.dim() == 4 and p.shape[1:] == (1, 1, 1):
                    p.uniform_(0.5, 1.5)  # the gains
        return [Example(body, (torch.randn(2, 6, 9, 9),))]
