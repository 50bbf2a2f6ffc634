"""A residual block that is one `body` Sequential and nothing else, as the EDSR-PyTorch code base
writes its blocks (sanghyun-son/EDSR-PyTorch `common.ResBlock`, RCAN's `RCAB` and
`ResidualGroup`, and the nets built on that code: SAN, HAN):

    res = self.body(x).mul(self.res_scale)
    res += x

The body keeps the width; the skip, its scale and an activation after the sum (CARN's
`ops.ResidualBlock`: `relu(body(x) + x)`) leave no tensor. In that code base a block's
`body` is always added back, so the residual is on by convention; its scale is a constructor
argument (EDSR's `res_scale`: 1 by default, 0.1 in the large model), a choice, and the forward is
marked guessed until calibration or --hints settles it.

Under another name, a lone norm-free [conv, activation, conv] body is read the same way (KAIR's
ResBlock `res`, models/basicblock.py), but the same keys fit a plain two-conv stack ending in an
activation past its last key (a norm-free DoubleConv): the choice `residual` ("none", with
`after_sum` "relu", is that stack), and the class says guessed until it is settled.
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
from codegen.patterns._mirror_strides import layers, strides_by

BODY = "body"
SCALES = [0.1, 0.2, 0.5]


def resamples(m) -> bool:
    """A built-in layer that changes the map's size: a transposed conv, or a strided one."""
    return m.type_name.startswith("nn.ConvTranspose") or strides_by(m) not in (1, (1, 1))


def _conv_act_conv(body) -> bool:
    """[conv, activation slot, conv], spatial convs each keeping the width and nothing more: the
    lone body of a residual block under any name (KAIR's `res`), or a plain two-conv stack. (Two
    1x1 convs narrowing and widening back are a channel gate's: blocks/squeeze_excite.py.)"""
    items = body.children
    if len(items) != 3 or items[1].kind != "placeholder":
        return False
    convs = [items[0], items[2]]
    if not all(m.kind == "builtin" and family(m) == "conv" and m.io is not None for m in convs):
        return False
    kernels = [next((a.value for a in m.args if a.keyword == "kernel_size"), None) for m in convs]
    spatial = all(k not in (None, 1, (1, 1)) for k in kernels)
    return spatial and all(m.io.in_width == m.io.out_width for m in convs)


class ResidualBody(BlockPattern):
    role = "ResidualBlock"
    priority = 21  # over a chain of the same member, and over ResidualLayer's optional residual

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        body = members[0]
        if body.kind != "sequential" or body.io is None or body.io.family != "sequential":
            return None
        if body.attr != BODY and not _conv_act_conv(body):
            return None
        width = body.io.in_width
        if not width or body.io.out_width != width or (body.io.ndim or 2) != 2:
            return None
        if any(family(m) == "norm" for m in body.children):
            # conv-norm units: a ResNet-style layer, activated after the sum (residual_layer.py);
            # EDSR-PyTorch's blocks have no norms
            return None
        if any(resamples(m) for m in layers(body)):
            return None  # the sum forces equal sizes: a body that resamples is no residual
        scale = ctx.choose(
            cls,
            body.attr,
            "residual_scale",
            1.0,
            SCALES,
            "the body's output is scaled before the input is added (EDSR's res_scale)",
            accepts="unit_float",
        )
        after_sum = ctx.choose(
            cls,
            body.attr,
            "after_sum",
            "identity",
            ["relu", "leaky_relu"],
            "after the input is added (CARN's ResidualBlock: relu)",
        )
        choices = [scale, after_sum]
        guessed = ""
        if body.attr != BODY:
            # Under another name (KAIR's ResBlock `res`, BasicSR-style `conv_block`s), the same
            # keys fit a plain two-conv stack that ends in its activation past the last key (a
            # no-norm DoubleConv: residual none, after_sum relu). Added by default, as the
            # restoration code bases that hold such a lone body add it back.
            residual = ctx.choose(
                cls,
                body.attr,
                "residual",
                "add",
                ["none"],
                "the input added to the body's output, or none (a plain stack)",
            )
            choices.append(residual)
            if residual.source == "default":
                guessed = (
                    f"{body.attr} keeps the width and nothing else is held: read as a residual "
                    "body (the input added back), which no key shows: the choice residual"
                )
        if scale.source == "default" and body.attr == BODY:
            guessed = (
                "the residual's scale leaves no tensor (EDSR's res_scale: 1, or 0.1 in its large "
                "model): the choice residual_scale"
            )
        if after_sum.source == "structure":  # pinned by a convention (CARN's cascade)
            guessed = "; ".join(
                g for g in (guessed, "the activation after the sum: the choice after_sum") if g
            )
        return Match(self, len(members) + 1, body.attr, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        res = g.call_module((match.found,), x, name="res")
        scale = match.choices[0].value
        if scale != 1.0:
            res = g.call_function("mul", res, scale, name="res", comment="res_scale")
        added = len(match.choices) < 3 or match.choices[2].value == "add"
        if added:
            res = g.call_function("add", res, x, name="res")
        g.output(act.apply(g, match.choices[1].value, res, name="res"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ResBlock(nn.Module):  # EDSR-PyTorch common.ResBlock, res_scale 1
            def __init__(self, n: int = 8) -> None:
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(n, n, 3, padding=1), nn.ReLU(True), nn.Conv2d(n, n, 3, padding=1)
                )

            def forward(self, x):
                return self.body(x) + x

        torch.manual_seed(0)
        return [Example(ResBlock().eval(), (torch.randn(2, 8, 6, 6),))]
