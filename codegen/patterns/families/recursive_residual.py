"""A recursive residual net (DRRN, Tai et al. 2017): a first conv from the image to the width,
one residual unit whose layers keep the width applied again and again with the same weights,
each time the first conv's output added back, a last conv to the image, the input added:

    inputs = conv_in(relu(x));  out = inputs
    for _ in range(25):  out = conv_b(relu(conv_a(relu(out)))) + inputs
    return conv_out(relu(out)) + x

The widths identify the parts: the one conv reading the image's channels, the one giving them
back, and between them the unit's layers (convs, or Sequentials, keeping the width) in the order
of the numbers in their names. Weight sharing means nothing records how many times the unit runs,
and the ReLUs before the convs (DRRN's pre-activation), the unit's and the global residuals leave
no tensor either: choices, at the paper's B1U25 model and its code (jt827859032/DRRN-pytorch,
yjn870/DRRN-pytorch), flagged, that calibration can move.
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
from codegen.patterns.blocks.padded_resnet_block import slot_pin
from codegen.patterns._kit import name_order

RECURSIONS = 25  # DRRN_B1U25, the paper's main model (Tai et al. 2017, table 1)
OTHER_COUNTS = [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 20]
WHY = "DRRN's pre-activation: ReLU before each conv"


def _conv2d(m) -> bool:
    return m.kind == "builtin" and family(m) == "conv" and m.io is not None and m.io.ndim == 2


def _leaf_convs(m) -> int | None:
    """How many convs a Sequential (nested or not) holds, where it holds nothing but convs and
    tensor-free slots (its activations); None where it holds anything else."""
    if m.kind == "placeholder":
        return 0
    if _conv2d(m):
        return 1
    if m.kind != "sequential":
        return None
    counts = [_leaf_convs(c) for c in m.children]
    return None if None in counts else sum(counts)


def _slots(m) -> list:
    """The tensor-free slots of a (nested) Sequential."""
    if m.kind == "placeholder":
        return [m]
    return [s for c in m.children for s in _slots(c)] if m.kind == "sequential" else []


def _unit_layer(m, width: int) -> bool:
    """A conv keeping the width, or a Sequential of convs keeping it (the unit's layers nested)."""
    if m.io is None or (m.io.in_width, m.io.out_width) != (width, width):
        return False
    return _conv2d(m) or (m.kind == "sequential" and (_leaf_convs(m) or 0) > 0)


class RecursiveResidual(BlockPattern):
    role = "SuperResolution"
    priority = 5

    accepts = Accepts(3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 3:
            return None
        convs = [m for m in members if _conv2d(m)]
        if any(c.io.in_width is None or c.io.out_width is None for c in convs):
            return None
        # the image's channels: read by exactly one conv and given by exactly one other
        firsts = [c for c in convs if c.io.in_width != c.io.out_width]
        if len(firsts) != 2:
            return None
        head, tail = firsts
        if (head.io.in_width, head.io.out_width) != (tail.io.out_width, tail.io.in_width):
            head, tail = tail, head
            if (head.io.in_width, head.io.out_width) != (tail.io.out_width, tail.io.in_width):
                return None
        # which one is the head: the image has fewer channels than the width
        if head.io.in_width > head.io.out_width:
            head, tail = tail, head
        width = head.io.out_width
        unit = [m for m in members if m is not head and m is not tail]
        if not unit or not all(_unit_layer(m, width) for m in unit):
            return None
        if sum(_leaf_convs(m) for m in unit) < 2:  # a residual unit: two convs or more
            return None
        unit.sort(key=lambda m: name_order(m.attr))
        if len({name_order(m.attr) for m in unit}) != len(unit):
            return None
        flat = all(_conv2d(m) for m in unit)
        where = unit[0].attr
        times = ctx.choose(
            cls,
            where,
            "recursions",
            RECURSIONS,
            OTHER_COUNTS,
            "how many times the unit runs with the same weights (DRRN's U; no key counts it)",
        )
        order = ctx.choose(
            cls,
            where,
            "activation_order",
            "pre",
            ["post"],
            "the activation before each conv (DRRN's pre-activation) or after it",
        )
        activation = ctx.choose(
            cls, where, "activation", "relu", act.alternatives("relu", conv=True), "DRRN's ReLU"
        )
        local = ctx.choose(
            cls,
            where,
            "unit_residual",
            "add",
            ["none"],
            "the first conv's output added after each run of the unit (DRRN's local residual)",
        )
        glob = ctx.choose(
            cls, tail.attr, "residual", "add", ["none"], "the input added to the output"
        )
        source = ctx.choose(
            cls,
            where,
            "residual_source",
            "activated",
            ["raw"],
            "what the residuals add where the activation runs first: the activated tensors "
            "(both DRRN ports' in-place ReLU overwrites the input and the first conv's output "
            "before they are added) or the raw ones",
        )
        choices = [times, order, activation, local, glob, source]
        guessed = [c.name for c in choices if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "a recursive unit's count, its activations and residuals leave no tensor "
                f"(DRRN's B1U25 by convention): the choices {', '.join(guessed)}"
            )
        # a nested unit's empty slots are its activations: the one the choice names
        module = act.MODULES.get(activation.value)
        pins = (
            []
            if module is None
            else [pin for m in unit for slot in _slots(m) if (pin := slot_pin(slot, module, WHY))]
        )
        found = (head.attr, tuple(m.attr for m in unit), flat, tail.attr)
        return Match(self, len(members), found, choices, guessed=note, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        head, unit, flat, tail = match.found
        times, order, activation, local, glob, source = (c.value for c in match.choices)
        aliased = order == "pre" and source == "activated"

        def conv(graph: Graph, attr: str, value, name: str):
            if order == "pre":
                value = act.apply(graph, activation, value, inline=True)
                return graph.call_module((attr,), value, name=name)
            out = graph.call_module((attr,), value, inline=True)
            return act.apply(graph, activation, out, name=name)

        x = g.input("x")
        residual = x
        if aliased:  # the in-place ReLU overwrites the input: the global residual adds it so
            x = residual = act.apply(g, activation, x, name="residual")
            inputs = g.call_module((head,), x, name="inputs")
        else:
            inputs = conv(g, head, x, "inputs")
        added = inputs
        if aliased:  # and the unit's first ReLU overwrites the first conv's output
            added = act.apply(g, activation, inputs, name="activated")
        body = Graph()
        out = body.input("out")
        given = body.input("inputs")
        step = out
        for attr in unit:
            step = conv(body, attr, step, "out") if flat else body.call_module((attr,), step)
        if local == "add":
            step = body.call_function("add", step, given, name="out")
        body.output(step)
        out = g.repeat(
            times, body, inputs, added, name="out", comment="the same unit, its weights shared"
        )
        if order == "pre":
            out = conv(g, tail, out, "out")
        else:  # no activation on the image
            out = g.call_module((tail,), out, name="out")
        if glob == "add":
            out = g.call_function("add", out, residual, name="out", comment="global residual")
        g.output(out)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class PreActConv(nn.Sequential):  # yjn870/DRRN-pytorch's ConvLayer: ReLU, then conv
            def __init__(self, c_in: int, c_out: int) -> None:
                super().__init__(nn.ReLU(inplace=True), nn.Conv2d(c_in, c_out, 3, padding=1))

        class Recursive(nn.Module):  # its layers nested: `unit` a Sequential, other names
            def __init__(self, channels: int = 3, width: int = 6, times: int = 25) -> None:
                super().__init__()
                self.times = times
                self.entry = nn.Conv2d(channels, width, 3, padding=1)
                self.unit = nn.Sequential(PreActConv(width, width), PreActConv(width, width))
                self.exit = nn.Conv2d(width, channels, 3, padding=1)

            def forward(self, x):  # the in-place ReLUs overwrite x and h0 before they are added
                h0 = self.entry(torch.relu_(x))
                h = h0
                for _ in range(self.times):
                    h = h0 + self.unit(h)
                return x + self.exit(torch.relu(h))

        torch.manual_seed(0)
        return [Example(Recursive().eval(), (torch.randn(2, 3, 5, 5),))]
