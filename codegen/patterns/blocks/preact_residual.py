"""The pre-activation residual block (He et al. 2016, "Identity Mappings in Deep Residual
Networks"): each numbered norm normalises what its conv reads, and nothing follows the last conv
but the sum (kuangliu's and bearpaw's CIFAR PreActResNets, the Wide ResNet paper's code, timm's
ResNetV2):

    pre = act(norm1(x)); out = conv1(pre); out = conv2(act(norm2(out))); ...
    return out + (x, or shortcut(pre) where a projection exists)

Widths prove the order where a conv changes them (`bn1` is as wide as what `conv1` reads); where
every conv keeps the width, the model's other blocks decide (blocks/_norm_order.py), and a block
nothing proves is read as the post-activation BasicBlock, which says the order is a guess.

What leaves no key is a choice: the activation, what a projection shortcut reads and what an
identity adds. A projection reads the pre-activated input by the common convention (kuangliu's,
timm's, the Wide ResNet code), but bearpaw's blocks, written from torchvision's (a `downsample`
list), project the raw input, and the paper's own code does both in one network: the layout
picks the default. An identity adds the raw input (He et al.), except in timm's RegNet, which
adds the pre-activated one. Either choice at its default makes the forward a guess that says so,
except in Big Transfer's GroupNorm blocks, whose one code settles both. An inline
squeeze-excitation (kuangliu's SENet: two 1x1 convs `fc1`, `fc2` beside the pairs) rescales the
last conv's output before the sum (Hu et al. 2018).
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
from codegen.patterns.blocks._norm_order import PRE, model_order, numbered_pairs, proven
from codegen.patterns.blocks._norm_order import same_width_everywhere
from codegen.patterns.blocks.squeeze_excite import channel_gate, gate_width

SHORTCUT = re.compile(r"shortcut|downsample|skip|proj|residual", re.IGNORECASE)


class PreActResidual(BlockPattern):
    role = "PreActBlock"
    priority = 6  # above PreActivation (the same pairs without a residual)

    accepts = Accepts(4, tensors=False, families=("norm", "conv"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 4:
            return None
        pairs = numbered_pairs(members)
        if len(pairs) < 2 or not all(
            "BatchNorm" in n.type_name or (n.type_name == "nn.GroupNorm" and _standardised(c))
            for n, c in pairs
        ):
            return None  # GroupNorm blocks only as BiT's (its convs standardised), not diffusers'

        paired = {m.attr for p in pairs for m in p}
        rest = [m for m in members if m.attr not in paired]
        shortcuts = [m for m in rest if SHORTCUT.search(m.attr)]
        others = [m for m in rest if m not in shortcuts]
        gate = _inline_gate(others, pairs[-1][1])
        # A squeeze-excitation of its own class (timm's RegNet PreBottleneck: `se` beside the
        # pairs): rescales one conv's output, read from its width below.
        member = others[0] if len(others) == 1 and channel_gate(others[0], ctx) else None
        if len(shortcuts) > 1 or len(rest) != len(shortcuts) + (2 if gate else bool(member)):
            return None
        width = pairs[0][0].io.out_width
        for norm, conv in pairs:  # each norm reads what the block or the previous conv gave
            if width is None or norm.io.out_width != width or conv.io.in_width != width:
                return None
            width = conv.io.out_width
        c_in, c_out = pairs[0][0].io.out_width, width
        shortcut = shortcuts[0] if shortcuts else None
        if shortcut is None and not same_width_everywhere(pairs[0][1], pairs[-1][1]):
            return None
        if shortcut is not None:
            io = shortcut.io
            if family(shortcut) not in ("conv", "sequential") and shortcut.kind != "class":
                return None
            if io is None or (io.in_width, io.out_width) != (c_in, c_out):
                return None
        if not any(proven(n, c) == PRE for n, c in pairs) and model_order(ctx) != PRE:
            return None
        activation = ctx.choose(
            cls,
            pairs[0][0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each norm, before its conv",
            aliases=act.ALIASES,
        )
        choices, guessed = [activation], ""
        # GroupNorm pre-activation blocks are Big Transfer's (the match takes them only with
        # standardised convs): its code and timm's port project `out`, the pre-activated input,
        # and add the raw one where nothing projects. The structure settles both defaults.
        settled = pairs[0][0].type_name == "nn.GroupNorm"
        if shortcut is not None:
            reads, guessed = projection_reads(cls, ctx, shortcut, settled)
        else:
            # The identity adds the raw input (He et al. 2016, kuangliu's, timm's ResNetV2); timm's
            # RegNet PreBottleneck adds the pre-activated one (`x = self.norm1(x); shortcut = x`).
            # No key differs, and what a projection elsewhere reads proves nothing here (both
            # kuangliu's and timm's RegNet project the pre-activated input): a guess unless
            # settled, pinned or calibrated.
            reads = ctx.choose(
                cls,
                pairs[0][0].attr,
                "identity_input",
                "input",
                ["preactivated"],
                "what the identity adds: the raw input or the normalised, activated one",
            )
            if reads.source == "default" and not settled:
                guessed = (
                    "the identity adds the raw input, by convention (He et al. 2016, kuangliu's, "
                    "timm's ResNetV2); timm's RegNet adds the pre-activated one and no key shows "
                    "which: calibrate or pin identity_input"
                )
        choices.append(reads)
        steps = [(n.attr, c.attr) for n, c in pairs]
        if member is not None:
            where, why = _gate_place(cls, ctx, member, pairs)
            if where is None:
                return None
            choices.append(where)
            member = (member.attr, where.value)
            guessed = "; ".join(r for r in (guessed, why) if r)  # each guess says so
        found = (steps, shortcut.attr if shortcut else None, gate, member)
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        steps, shortcut, gate, member = match.found
        activation = match.choices[0].value
        reads = match.choices[1].value
        x = g.input("x")
        out = x
        pre = None
        for i, (norm, conv) in enumerate(steps):
            out = g.call_module((norm,), out, name="out", inline=i > 0)
            out = act.apply(g, activation, out, name="out" if i else "pre", inline=i > 0)
            if i == 0:
                pre = out
            out = g.call_module((conv,), out, name="out")
            if member is not None and member[1] == conv:  # a squeeze-excitation member after it
                out = g.call_module((member[0],), out, name="out")
        if gate is not None:
            reduce, expand = gate
            s = g.call_method(
                "mean", out, (2, 3), name="scale", kwargs={"keepdim": True}, comment="squeeze"
            )
            s = act.apply(g, "relu", g.call_module((reduce,), s, inline=True), name="scale")
            s = act.apply(g, "sigmoid", g.call_module((expand,), s, inline=True), name="scale")
            out = g.call_function("mul", out, s, name="out", comment="squeeze-excitation")
        identity = pre if reads == "preactivated" else x
        if shortcut is not None:
            identity = g.call_module((shortcut,), identity, name="identity")
        g.output(g.call_function("add", out, identity, comment="residual: nothing after the sum"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Block(nn.Module):  # kuangliu/pytorch-cifar PreActBlock
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                self.bn1 = nn.BatchNorm2d(c_in)
                self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c_out)
                self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.conv1(F.relu(self.bn1(x)))
                return self.conv2(F.relu(self.bn2(out))) + x

        class Bottleneck(nn.Module):  # widths prove the order: bn1 is as wide as conv1's input
            def __init__(self) -> None:
                super().__init__()
                self.bn1 = nn.BatchNorm2d(16)
                self.conv1 = nn.Conv2d(16, 4, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(4)
                self.conv2 = nn.Conv2d(4, 4, 3, 1, 1, bias=False)
                self.bn3 = nn.BatchNorm2d(4)
                self.conv3 = nn.Conv2d(4, 16, 1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.conv1(F.relu(self.bn1(x)))
                out = self.conv2(F.relu(self.bn2(out)))
                return self.conv3(F.relu(self.bn3(out))) + x

        class Stage(nn.Module):  # equal widths, decided by the bottleneck beside them
            def __init__(self) -> None:
                super().__init__()
                self.block1 = Bottleneck()
                self.block2 = Block(16, 16, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.block2(self.block1(x))

        return [Example(Stage(), (torch.randn(2, 16, 6, 6),))]


def _standardised(conv) -> bool:
    """A conv the structure made weight-standardised (analyze/weight_standardization.py)."""
    return any(c.name == "weight_standardization" for c in conv.choices)


def projection_reads(cls, ctx: BlockContext, shortcut, settled: bool = False) -> tuple:
    """The shortcut_input choice of a pre-activation block's projection, and what the forward
    then says is guessed ('' where a hint, calibration or `settled` decides): its default the raw
    input where the projection is laid out as torchvision's, else the pre-activated one."""
    raw = torchvision_downsample(shortcut)
    default, other = ("input", "preactivated") if raw else ("preactivated", "input")
    reads = ctx.choose(
        cls,
        shortcut.attr,
        "shortcut_input",
        default,
        [other],
        "what the projection reads: the normalised, activated input or the raw one",
    )
    if reads.source != "default" or (settled and not raw):
        return reads, ""
    if raw:
        return reads, (
            f"the projection {shortcut.attr} is laid out as torchvision's (a list named "
            "downsample), whose call reads the raw input, and so read here (bearpaw's); others "
            "read the pre-activated input (kuangliu's, timm's): calibrate or pin shortcut_input"
        )
    return reads, (
        f"the projection {shortcut.attr} reads the pre-activated input by convention "
        "(kuangliu's, timm's, imgclsmob's); some read the raw input (bearpaw's): calibrate or "
        "pin shortcut_input"
    )


def torchvision_downsample(shortcut) -> bool:
    """A projection laid out as torchvision's ResNet blocks lay it: a list named `downsample`
    (`downsample.0` the conv). Pre-activation blocks written from torchvision's keep its
    `residual = self.downsample(x)`, the raw input (bearpaw's pytorch-classification); kuangliu's
    list is `shortcut`, timm's a class (`downsample.conv`), the Wide ResNet code's a bare conv, and
    those read the pre-activated input."""
    return shortcut.attr == "downsample" and shortcut.kind == "sequential"


def _gate_place(cls, ctx: BlockContext, member, pairs) -> tuple:
    """(the gate_after choice, what is guessed or '') of a squeeze-excitation member: it follows
    a conv giving the width it rescales, by default the last spatial one (timm's RegNet
    PreBottleneck gates its grouped 3x3, Radosavovic et al. 2020), else the last; a guess where
    several give that width. (None, '') where none does."""
    width = gate_width(member, ctx)
    fits = [c.attr for _, c in pairs if width in (None, c.io.out_width)]
    if not fits:
        return None, ""
    spatial = [c.attr for _, c in pairs if c.attr in fits and _spatial(conv_kernel(c))]
    default = spatial[-1] if spatial else fits[-1]
    where = ctx.choose(
        cls,
        member.attr,
        "gate_after",
        default,
        [f for f in fits if f != default],
        "the conv whose output the squeeze-excitation rescales",
    )
    if len(fits) == 1 or where.source != "default":
        return where, ""
    return where, (
        f"the squeeze-excitation {member.attr} could follow {' or '.join(fits)} (their widths "
        f"match); it follows {where.value}: calibrate or pin gate_after"
    )


def _spatial(kernel: object) -> bool:
    sizes = kernel if isinstance(kernel, (tuple, list)) else (kernel,)
    return any(isinstance(k, int) and k > 1 for k in sizes)


def _inline_gate(rest, last_conv) -> tuple[str, str] | None:
    """Two 1x1 convs beside the pairs that squeeze the last conv's output and widen it back
    (reduce: C -> r, expand: r -> C): (reduce, expand), or None."""
    if len(rest) != 2 or any(m.kind != "builtin" or family(m) != "conv" for m in rest):
        return None
    if any(conv_kernel(m) not in (1, (1, 1)) for m in rest):
        return None
    a, b = rest
    reduce, expand = (a, b) if a.io.out_width < a.io.in_width else (b, a)
    c = last_conv.io.out_width
    if (reduce.io.in_width, expand.io.out_width) != (c, c):
        return None
    if reduce.io.out_width != expand.io.in_width or not reduce.io.out_width < c:
        return None
    return reduce.attr, expand.attr
