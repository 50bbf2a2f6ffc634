"""MobileNetV1's depthwise separable block (Howard et al. 2017, figure 3): a depthwise kxk
conv-norm, then a 1x1 conv-norm, each activated, and no residual; PP-LCNet (Cui et al. 2021)
gates the depthwise output with a squeeze-excitation in its last blocks:

    out = act(bn2(conv_pw(se(act(bn1(conv_dw(x)))))))

An inverted residual opening without an expansion (MobileNetV2's and EfficientNet's first block)
has the same keys and activates only the depthwise conv, adding its input back where the shapes
allow: only the rest of the network tells them apart. This one is read where no block of the
network expands into its depthwise conv and the key tree shows a mobile body of such blocks
(analyze/strides.py: its stages, and its family where a squeeze-excitation names it).
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
from codegen.patterns.blocks._conv_parts import expands_elsewhere, member_units
from codegen.patterns.blocks.inverted_residual import mobile_activation
from codegen.patterns.blocks.squeeze_excite import SQUEEZE_PLACE, channel_gate, gate_width

ACTIVATIONS = ["relu", "relu6", "hardswish", "silu", "gelu"]


def _dw_then_pw(units):
    """The two units in dataflow order: a true depthwise conv, then a 1x1 reading its output."""
    if len(units) != 2:
        return None
    dws = [u for u in units if u.one_channel_per_group and not u.pointwise]
    pws = [u for u in units if u.pointwise and u.groups == 1]
    if len(dws) != 1 or len(pws) != 1 or pws[0].in_width != dws[0].out_width:
        return None
    return [dws[0], pws[0]]


class SeparableBlock(BlockPattern):
    role = "SeparableBlock"
    priority = 20  # as the inverted residual it is told from, over a chain of the same members

    accepts = Accepts(1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not members:
            return None
        told = act.mobile_family(ctx.resolver)
        body = ctx.resolver.structural.get(("", act.MOBILE_BODY))
        separable = told is not None and told[0] in act.SEPARABLE_FAMILIES
        if not (separable or (told is None and body is not None)):
            return None
        if expands_elsewhere(cls, ctx):
            return None
        gates = [m for m in members if channel_gate(m, ctx)]
        if len(gates) > 1:
            return None
        units = member_units([m for m in members if m not in gates], ctx, _dw_then_pw)
        if units is None or any(u.norm is None for u in units):
            return None
        dw, pw = units
        guessed = ""
        if gates:
            width = gate_width(gates[0], ctx)
            if width != dw.out_width:
                return None  # MobileNetV3's and PP-LCNet's gate rescales the depthwise output
            place = ctx.resolver.structural.get(("", SQUEEZE_PLACE))
            if width == pw.out_width and (place is None or place[0] != "before"):
                guessed = (
                    f"the squeeze-excitation {gates[0].attr} rescales as many channels as both "
                    "convs give: read as before the pointwise conv (MobileNetV3's, PP-LCNet's)"
                )
        activation = mobile_activation(  # MobileNetV1: ReLU
            cls, ctx, dw.conv[0], "relu", ACTIVATIONS, "after the depthwise and the pointwise conv"
        )
        guessed = guessed or act.unproven_activation(activation)
        found = (dw, gates[0].attr if gates else None, pw)
        explains = len(members) + len(units) + 2
        return Match(self, explains, found, [activation], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        dw, gate, pw = match.found
        activation = match.choices[0].value
        x = g.input("x")
        out = g.call_module(dw.conv, x, name="out", inline=True)
        out = act.apply(g, activation, g.call_module(dw.norm, out, inline=True), name="out")
        if gate is not None:
            out = g.call_module((gate,), out, name="out", comment="squeeze-excitation")
        out = g.call_module(pw.conv, out, name="out", inline=True)
        out = g.call_module(pw.norm, out, inline=True)
        g.output(act.apply(g, activation, out, name="out"), comment="no residual")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Separable(nn.Module):  # timm's DepthwiseSeparableConv as its mobilenetv1 builds it
            def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
                super().__init__()
                self.conv_dw = nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
                self.bn1 = nn.BatchNorm2d(c_in)
                self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(c_out)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = F.relu(self.bn1(self.conv_dw(x)))
                return F.relu(self.bn2(self.conv_pw(x)))

        class MobileNetV1(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(8)
                self.blocks = nn.Sequential(
                    nn.Sequential(Separable(8, 16)),
                    nn.Sequential(Separable(16, 24, 2), Separable(24, 24)),
                    nn.Sequential(Separable(24, 32, 2), Separable(32, 32)),
                )
                self.classifier = nn.Linear(32, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.blocks(F.relu(self.bn1(self.conv_stem(x))))
                return self.classifier(x.mean((2, 3)))

        torch.manual_seed(0)
        model = MobileNetV1().eval()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        return [Example(model, (torch.randn(2, 3, 32, 32),))]
