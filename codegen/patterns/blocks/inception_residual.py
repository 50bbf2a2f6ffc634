"""Inception-ResNet's residual block (Szegedy et al. 2016, figs. 16-19; Cadene's pretrainedmodels
and timm's `Block35`, `Block17`, `Block8`): branches side by side, concatenated, a 1x1 conv back to
the input's width, scaled and added to the input, then a ReLU:

    out = conv2d(cat([branch0(x), branch1(x), ...], 1))
    return relu(out * scale + x)

Read from widths and names: two to four members named `branch*` reading the block's width, each
applying its own activation (a conv-norm class or a Sequential of them), and one 1x1 conv reading
their summed widths and giving the block's. The scale and the closing ReLU leave no key: choices
(the forward says it is guessed while the scale is the default).
The scale defaults to the paper's for the block the branches identify (section 3.3: 0.17 for the
35x35 block's three branches, 0.10 for the 17x17 block's 1x7/7x1 pair, 0.20 for the 8x8 block's
1x3/3x1 pair), the ReLU to present (the network's last 8x8 block has none: a choice).

The block, its projection named `conv2d`, identifies TF-slim's Inception-ResNet-v2 (Cadene's and
timm's ports), whose code fixes what no key of the model records: every batch norm's eps 1e-3,
the stem's unpadded convs (`conv2d_1a` at stride 2, `conv2d_2a`, `conv2d_4a`) and its 3x3
stride-2 max-pools after `conv2d_2b` and `conv2d_4a` (`maxpool_3a`, `maxpool_5a`): pinned
model-wide (Match.pins, path ""; layers/conv.py, blocks/chain.py).
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
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks._vision_examples import _randomise_norms

BRANCH = re.compile(r"branch_?\d+", re.I)
TF_SLIM_PROJECTION = "conv2d"  # TF-slim's name for the block's 1x1 projection, kept by its ports
WHY = "Inception-ResNet-v2's convention (Szegedy et al. 2016; TF-slim, Cadene's and timm's ports)"


def _kernels(m, ctx: BlockContext, depth: int = 0) -> list:
    """The kernels of the convs a member applies (through its Sequentials and classes)."""
    if depth > 4 or m is None:
        return []
    if m.kind == "builtin":
        return [conv_kernel(m)] if family(m) == "conv" else []
    if m.kind == "sequential":
        return [k for c in m.children for k in _kernels(c, ctx, depth + 1)]
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    return [k for c in modules(cls) for k in _kernels(c, ctx, depth + 1)] if cls else []


def paper_scale(branches: list, ctx: BlockContext) -> float:
    """The paper's residual scale for the block its branches identify (0.17 otherwise: the first
    and most repeated block)."""
    kernels = {k if isinstance(k, tuple) else (k, k) for b in branches for k in _kernels(b, ctx)}
    if len(branches) == 2 and (1, 7) in kernels | {k[::-1] for k in kernels}:
        return 0.1
    if len(branches) == 2 and (1, 3) in kernels | {k[::-1] for k in kernels}:
        return 0.2
    return 0.17


class InceptionResidual(BlockPattern):
    role = "InceptionResidual"
    priority = 9  # branches, their projection and a residual: rather than a plain concatenation

    accepts = Accepts(3, 5, tensors=False, names=(BRANCH.pattern,), families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 3 <= len(members) <= 5:
            return None
        branches = sorted(
            (m for m in members if BRANCH.fullmatch(m.attr)),
            key=lambda m: int(re.sub(r"\D", "", m.attr)),
        )
        rest = [m for m in members if m not in branches]
        if not 2 <= len(branches) <= 4 or len(rest) != 1 or family(rest[0]) != "conv":
            return None
        if any(b.kind not in ("class", "sequential") or b.io is None for b in branches):
            return None
        project = rest[0]
        width = branches[0].io.in_width
        if not width or any(b.io.in_width != width or not b.io.out_width for b in branches):
            return None
        joined = sum(b.io.out_width for b in branches)
        if conv_kernel(project) not in (1, (1, 1)) or project.io is None:
            return None
        if project.io.in_width != joined or project.io.out_width != width:
            return None
        usual = paper_scale(branches, ctx)
        scale = ctx.resolver.choose(
            cls.name,
            "residual_scale",
            usual,
            [s for s in (0.17, 0.1, 0.2, 1.0) if s != usual],
            f"the projected branches' scale before the sum ({WHY})",
            accepts="unit_float",
        )
        closing = ctx.choose(
            cls,
            project.attr,
            "activation",
            "relu",
            act.alternatives("relu"),
            "after the residual sum (the last 8x8 block has none)",
        )
        pins = []
        if project.attr == TF_SLIM_PROJECTION:
            pins = [
                ("", "batch_norm_eps", 1e-3, f"{WHY}: eps 1e-3"),
                ("", "inception_resnet_stem", True, f"{WHY}: the stem pads nothing, pools 3x3/2"),
            ]
        found = ([b.attr for b in branches], project.attr, float(scale.value), closing.value)
        # A scale no key records and models vary (any number): guessed until hinted or calibrated.
        guessed = (
            f"the residual scale {scale.value} is the paper's for this block, which no key records"
            if scale.source == "default"
            else ""
        )
        return Match(self, len(members) + 1, found, [scale, closing], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        branches, project, scale, closing = match.found
        x = g.input("x")
        parts = [g.call_module((b,), x, inline=True) for b in branches]
        joined = g.call_function("cat", parts, 1, name="out", comment="the branches side by side")
        out = g.call_module((project,), joined, inline=True)
        out = g.call_function("mul", out, scale, inline=True)
        out = g.call_function("add", out, x, name="x", inline=closing != "identity")
        g.output(act.apply(g, closing, out) if closing != "identity" else out)

    @staticmethod
    def examples():
        return [_block17()]


def _block17() -> Example:
    """timm's Block17 (the 17x17 block, narrowed): two branches, 1x7 then 7x1, scale 0.10; its
    BasicConv2d's eps 1e-3."""
    import torch
    import torch.nn as nn

    class BasicConv2d(nn.Module):  # timm inception_resnet_v2.ConvNormAct's older BasicConv2d
        def __init__(self, c_in: int, c_out: int, k, padding=0) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, k, padding=padding, bias=False)
            self.bn = nn.BatchNorm2d(c_out, eps=0.001)
            self.relu = nn.ReLU(inplace=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.relu(self.bn(self.conv(x)))

    class Block17(nn.Module):
        def __init__(self, scale: float = 0.10) -> None:
            super().__init__()
            self.scale = scale
            self.branch0 = BasicConv2d(24, 6, 1)
            self.branch1 = nn.Sequential(
                BasicConv2d(24, 4, 1),
                BasicConv2d(4, 5, (1, 7), padding=(0, 3)),
                BasicConv2d(5, 6, (7, 1), padding=(3, 0)),
            )
            self.conv2d = nn.Conv2d(12, 24, 1)
            self.relu = nn.ReLU(inplace=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = torch.cat((self.branch0(x), self.branch1(x)), 1)
            return self.relu(self.conv2d(out) * self.scale + x)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.repeat_1 = nn.Sequential(Block17(), Block17())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.repeat_1(x)

    torch.manual_seed(0)
    model = Holder()
    _randomise_norms(model)
    return Example(model, (torch.randn(2, 24, 9, 9),))
