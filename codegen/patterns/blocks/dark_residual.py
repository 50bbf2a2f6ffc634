"""Darknet-53's residual block (Redmon and Farhadi 2018; timm's DarkBlock, YOLOv5's Bottleneck, the
blocks of every CSP stage): a 1x1 conv-norm-activation unit narrows, a 3x3 unit widens back, and
the input is added with nothing after the sum:

    x + act(bn2(conv2(act(bn1(conv1(x))))))

Two unit members (a class or Sequential holding a conv and its norm) in that shape, numbered or
named for the step: a ResNet basic block has two 3x3 units and activates after the sum. The
activation holds no tensors: Darknet's leaky ReLU (slope 0.1) by default, a choice (YOLOv5's
SiLU, timm's CspNet `act_layer`); the network's other conv-norm units activate the same way (a
model-wide pin).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import call_unit, instance_widths, unit

DARKNET_ACTIVATION = "leaky_relu_0.1"  # Darknet's `activation=leaky` (Redmon's cfgs, CSPNet's)


def darknet_activation(
    ctx: BlockContext, cls, where: str, note: str, default: str = DARKNET_ACTIVATION
):
    others = [DARKNET_ACTIVATION, "leaky_relu_0.01", "silu", "mish", "relu"]
    return ctx.choose(cls, where, "activation", default, [a for a in others if a != default], note)


class DarkResidual(BlockPattern):
    role = "DarkBlock"
    priority = 12  # two activated units and a plain sum: rather than a basic block's order

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 2 or len(modules(cls)) != 2:
            return None
        units = [unit(m, ctx) for m in members]
        if any(u is None or u.norm is None or u.groups != 1 for u in units):
            return None
        narrow = [u for u in units if u.kernel in (1, (1, 1))]
        widen = [u for u in units if u.kernel in (3, (3, 3))]
        if len(narrow) != 1 or len(widen) != 1:
            return None
        a, b = narrow[0], widen[0]
        if a.out_width != b.in_width or b.out_width != a.in_width or a.out_width > a.in_width:
            return None
        # Every instance must chain so (a RepVGG block without its identity keeps the width in
        # one instance and widens in another: branches side by side, blocks/branch_sum.py).
        ios = zip(instance_widths(cls, a.conv[0]), instance_widths(cls, b.conv[0]))
        if any(None not in (*wa, *wb) and (wa[1] != wb[0] or wb[1] != wa[0]) for wa, wb in ios):
            return None
        activation = darknet_activation(
            ctx, cls, a.conv[0], "inside each conv-norm unit; nothing after the sum"
        )
        # The network's other conv-norm units (the stem, the strided unit opening each stage)
        # activate as its residual blocks do (Darknet's cfgs: every convolutional is leaky).
        pin = ("", act.UNIT_ACTIVATION, activation.value, "Darknet's residual blocks' activation")
        return Match(
            self,
            2 + 4,
            (a, b),
            [activation],
            pins=[pin],
            guessed=act.unproven_activation(activation, structure_proves=True),
        )

    def forward(self, match: Match, g: Graph) -> None:
        activation = match.choices[0].value
        x = g.input("x")
        out = x
        for u in match.found:
            out = call_unit(g, u, out, activation, "out")
        g.output(g.call_function("add", out, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import csp_examples

        return csp_examples()[:1]
