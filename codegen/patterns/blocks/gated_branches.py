"""Two branches reading the same input and giving the same width, one of them a gate on the other
(_gate_branch.py): the widths leave them no order, so a chain cannot link them.

    out = main(x) * gate(branch(x))            # DFC attention beside a conv (GhostNetV2's idea)
    out = act(conv(x)) * sigmoid(mask_conv(x))  # a gated convolution (Yu et al. 2019, DeepFill v2)

Which branch gates: the one whose kernels are GhostNetV2's decoupled 1xk and kx1 depthwise convs
(the DFC attention, plugged beside a plain conv unit in YOLO-style necks as in GhostNetV2's
modules), else the one named as a gate, mask or attention (DeepFill v2's `mask_conv2d`). Where
only a name says it (and the gate is layers, a conv or a Sequential of them: a block of its own
there runs after the other, a chain), the class says guessed. A bare conv as the main branch is
activated before the product (a choice: DeepFill v2's ports use LeakyReLU(0.2)); a norm member of the output's
width normalises the product (the PyTorch port's `batch_norm2d`), a place no key shows.
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
from codegen.patterns.blocks._gate_branch import apply_gate, decoupled, gate_choices

GATE_NAME = re.compile(r"mask|gate|att", re.IGNORECASE)


def _branch(m, ctx: BlockContext) -> bool:
    """A member with a forward of its own: a conv, a Sequential, or a class a pattern explains."""
    if m.io is None or m.io.in_width is None or m.io.out_width is None:
        return False
    if m.kind == "builtin":
        return family(m) == "conv"
    if m.kind == "class":
        cls = ctx.classes.get(m.type_name)
        return cls is not None and cls.forward is not None and cls.forward.trust != "missing"
    return m.kind == "sequential"


def _layers_only(m) -> bool:
    """A conv, or a Sequential of layers: what computes a map from the input. A block of its own
    inside (an attention block, residual: it keeps what it reads) is a step of a chain whose widths
    leave no order, as the taming/VQGAN encoders' stages `block` and `attn` (ModuleLists zipped:
    each attention runs on its block's output), so a name alone reads no gate there."""
    if m.kind == "builtin":
        return family(m) == "conv"
    return m.kind == "sequential" and all(c.kind in ("builtin", "placeholder") for c in m.children)


class GatedBranches(BlockPattern):
    role = "GatedBlock"
    priority = 6

    accepts = Accepts(2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) not in (2, 3):
            return None
        norms = [m for m in members if m.kind == "builtin" and family(m) == "norm"]
        branches = [m for m in members if m not in norms]
        if len(branches) != 2 or len(norms) > 1 or not all(_branch(m, ctx) for m in branches):
            return None
        a, b = branches
        if (a.io.in_width, a.io.out_width) != (b.io.in_width, b.io.out_width):
            return None
        if a.io.ndim != 2 or b.io.ndim != 2:
            return None
        if norms and (norms[0].io is None or norms[0].io.in_width != a.io.out_width):
            return None
        dfc = [m for m in branches if decoupled(m, ctx)]
        named = [m for m in branches if GATE_NAME.search(m.attr) and _layers_only(m)]
        gate = dfc[0] if len(dfc) == 1 else named[0] if len(named) == 1 else None
        if gate is None:
            return None
        main = a if gate is b else b
        choices = gate_choices(ctx, cls, gate.attr, gate)
        guessed = ""
        if not dfc:
            guessed = (
                f"only its name says {gate.attr} gates {main.attr} (both read the input and give "
                "the same width): read as a sigmoid gate on it, a gated convolution's"
            )
        if main.kind == "builtin":
            activation = ctx.choose(
                cls,
                main.attr,
                "activation",
                "leaky_relu",
                act.alternatives("leaky_relu", conv=True),
                "the main conv's activation before the gate (DeepFill v2's ports: LeakyReLU 0.2)",
                aliases=act.ALIASES,
            )
            choices.append(activation)
        if norms:
            guessed = guessed or f"{norms[0].attr}'s place: read as normalising the product"
        found = (main.attr, gate.attr, main.kind == "builtin", norms[0].attr if norms else None)
        return Match(self, len(members) + 1, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        main, gate, bare, norm = match.found
        by = {c.name: c.value for c in match.choices}
        x = g.input("x")
        out = g.call_module((main,), x, name="out", inline=bare)
        if bare:
            out = act.apply(g, by["activation"], out, name="out")
        out = apply_gate(g, (gate,), x, out, by["gate"], int(by["gate_pooling"]))
        if norm is not None:
            out = g.call_module((norm,), out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class DFCConv(nn.Module):  # a conv unit with GhostNetV2's DFC attention beside it
            def __init__(self, c_in: int, c_out: int) -> None:
                super().__init__()
                # the main unit activates (GhostModuleV2's `primary_conv`: conv, BN, ReLU);
                # the DFC branch does not (its `short_conv`: convs and BNs only)
                self.cv = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
                )
                self.short_conv = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.Conv2d(c_out, c_out, (1, 5), 1, (0, 2), groups=c_out, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.Conv2d(c_out, c_out, (5, 1), 1, (2, 0), groups=c_out, bias=False),
                    nn.BatchNorm2d(c_out),
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.cv(x)
                res = self.short_conv(F.avg_pool2d(x, 2, 2))
                return out * F.interpolate(torch.sigmoid(res), size=out.shape[-2:], mode="nearest")

        torch.manual_seed(0)
        model = nn.Sequential(DFCConv(4, 8)).eval()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        return [Example(model, (torch.randn(2, 4, 8, 8),))]
