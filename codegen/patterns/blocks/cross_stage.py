"""A cross stage partial stage (CSPNet, Wang et al. 2020; timm's CrossStage and CrossStage3): an
optional strided conv-norm unit, a 1x1 unit that gives twice the blocks' width, split in two
halves; one half passes through the blocks (and a 1x1 transition of its own), the other not; the
halves are concatenated in place and a 1x1 transition mixes them:

    x = exp(down(x)); a, b = x.chunk(2, 1); b = transition_b(blocks(b))
    transition(cat([a, b], 1))

Recognised from widths: a unit giving 2h, blocks reading and giving h, a unit reading 2h (names
settle which is which where widths tie). Which half the blocks take leaves no key: timm's
CrossStage (with `conv_transition_b`) the second, its CrossStage3 (without) the first; a choice.
`conv_down` is built only where the stage strides (timm), so its conv takes stride 2 (pinned).

The blocks' kind settles two conventions no key records (choices still): Darknet blocks (a plain
sum) keep Darknet's leaky ReLU (slope 0.1) and an activated `conv_exp`; ResNet bottlenecks that
activate after their sum are timm's CSPResNet/CSPResNeXt, whose configs set `cross_linear=True`
(`conv_exp` has no activation) under timm's `act_layer='leaky_relu'`, nn.LeakyReLU's slope 0.01.
The stage's activation is the network's: the stem's and other conv-norm units' defaults follow it
(a model-wide pin, patterns/_activations.py's UNIT_ACTIVATION). A stage without a transition of
its own is timm's CrossStage3, which only timm's cs3 configs build: SiLU and an activated
`conv_exp`, whatever the blocks. Still guessed: the keys do not record the activation.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, modules, tensors
from codegen.patterns.blocks._conv_parts import call_unit, unit
from codegen.patterns.blocks.dark_residual import DARKNET_ACTIVATION, darknet_activation

DOWN, EXP = re.compile(r"down", re.I), re.compile(r"exp", re.I)
TRANSITION_B = re.compile(r"trans\w*_?b$", re.I)
WHY = "a cross stage partial stage (timm's CrossStage)"
RESNET_BLOCKS = ("BasicBlock", "Bottleneck")  # activated after their sum: timm's CSPResNet(X)
TIMM_LEAKY = "leaky_relu_0.01"  # timm's act_layer 'leaky_relu': nn.LeakyReLU() (slope 0.01)
CS3_ACTIVATION = "silu"  # timm's _cs3_cfg(act_layer='silu'): every cs3darknet/cs3edgenet/cs3se


def _named(units: list, pattern) -> list:
    return [u for u in units if pattern.search(u[0].attr)]


class CrossStage(BlockPattern):
    role = "CrossStage"
    priority = 10

    accepts = Accepts(3, 5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 3 <= len(members) <= 5:
            return None
        units, bodies = [], []
        for m in members:
            u = unit(m, ctx)
            if u is not None and u.norm is not None:
                units.append((m, u))
            elif m.kind in ("class", "sequential", "repeat", "modulelist") and m.io is not None:
                bodies.append(m)
            else:
                return None
        if len(bodies) != 1 or not 2 <= len(units) <= 4:
            return None
        blocks = bodies[0]
        h = blocks.io.in_width
        if not h or blocks.io.out_width != h or not self._blocks(blocks, ctx):
            return None
        exp = [p for p in units if p[1].out_width == 2 * h]
        transition = [p for p in units if p[1].in_width == 2 * h]
        if len(exp) > 1:
            exp = _named(exp, EXP)
        if len(transition) > 1:
            transition = [p for p in transition if p not in exp and not DOWN.search(p[0].attr)]
        if len(exp) != 1 or len(transition) != 1 or exp[0] is transition[0]:
            return None
        rest = [p for p in units if p is not exp[0] and p is not transition[0]]
        down = [p for p in rest if p[1].out_width == exp[0][1].in_width and DOWN.search(p[0].attr)]
        after = [p for p in rest if p not in down and (p[1].in_width, p[1].out_width) == (h, h)]
        if len(down) + len(after) != len(rest) or len(down) > 1 or len(after) > 1:
            return None
        if after and not TRANSITION_B.search(after[0][0].attr):
            return None
        items = blocks.children if blocks.kind != "class" else [blocks]
        # Without a transition of its own the stage is timm's CrossStage3, which only its cs3
        # configs build (SiLU, an activated conv_exp) whatever their blocks; with one, the blocks
        # tell CSPResNet(X) from Darknet.
        cs3 = not after
        resnet = not cs3 and all(ctx.role(c) in RESNET_BLOCKS for c in items)
        activation = darknet_activation(
            ctx,
            cls,
            exp[0][0].attr,
            "inside each conv-norm unit of the stage and its blocks"
            + (" (timm's CSPResNet: nn.LeakyReLU, slope 0.01)" if resnet else "")
            + (" (timm's cs3 configs: act_layer='silu')" if cs3 else ""),
            CS3_ACTIVATION if cs3 else TIMM_LEAKY if resnet else DARKNET_ACTIVATION,
        )
        exp_activated = ctx.choose(
            cls,
            exp[0][0].attr,
            "exp_activated",
            not resnet,
            [resnet],
            "whether the expanding unit activates (timm's cross_linear=True for CSPResNet(X), "
            "whose blocks activate after their sum: it does not)",
        )
        half = ctx.choose(
            cls,
            blocks.attr,
            "blocks_half",
            "second" if after else "first",
            ["first" if after else "second"],
            "the half of the expanded features the blocks take (timm: the second where a "
            "transition follows them, else the first); the halves keep their places",
        )
        pins = self._pins(cls, ctx, down[0][1] if down else None, blocks, activation)
        found = (
            down[0][1] if down else None,
            exp[0][1],
            blocks,
            after[0][1] if after else None,
            transition[0][1],
        )
        pins.append(("", act.UNIT_ACTIVATION, activation.value, f"{WHY}'s activation"))
        return Match(
            self,
            len(members) + 2,
            found,
            [activation, half, exp_activated],
            pins=pins,
            guessed=act.unproven_activation(activation, structure_proves=True),
        )

    @staticmethod
    def _blocks(m, ctx: BlockContext) -> bool:
        """Blocks with a forward: a class, or a container of classes."""
        items = m.children if m.kind != "class" else [m]
        return bool(items) and all(
            c.kind == "class" and c.type_name not in ctx.unknown for c in items
        )

    @staticmethod
    def _pins(cls, ctx: BlockContext, down, blocks, activation) -> list:
        pins = []
        for path, _ in cls.instances if down is not None else ():
            where = f"{path}.{'.'.join(down.conv)}"
            pins.append((where, "stride", 2, f"{WHY}: conv_down is built where the stage strides"))
        items = blocks.children if blocks.kind != "class" else [blocks]
        # (in the items' order: a set of names iterates in an order each process's hashes set)
        for name in dict.fromkeys(c.type_name for c in items):
            inner = ctx.classes.get(name)
            for c in inner.forward.choices if inner is not None else ():
                if c.name == "activation" and c.source == "default" and c.value != activation.value:
                    pins.append((c.path, "activation", activation.value, f"{WHY}'s activation"))
        return pins

    def forward(self, match: Match, g: Graph) -> None:
        down, exp, blocks, after, transition = match.found
        activation, half, exp_activated = (c.value for c in match.choices)

        def apply(u, x, name: str):
            return call_unit(g, u, x, activation, name)

        x = g.input("x")
        if down is not None:
            x = apply(down, x, "x")
        x = call_unit(g, exp, x, activation if exp_activated else "identity", "x")
        halves = g.call_method("chunk", x, 2, 1, name="halves", comment="two halves of channels")
        kept = g.call_function("getitem", halves, 0 if half == "second" else 1, inline=True)
        part = g.call_function("getitem", halves, 1 if half == "second" else 0, inline=True)
        each = blocks.kind in ("repeat", "modulelist")
        part = g.call_module((blocks.attr,), part, name="part", each=each)
        if after is not None:
            part = apply(after, part, "part")
        joined = [kept, part] if half == "second" else [part, kept]
        x = g.call_function("cat", joined, 1, name="x", inline=True)
        g.output(apply(transition, x, "x"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import csp_examples

        return csp_examples()[1:]
