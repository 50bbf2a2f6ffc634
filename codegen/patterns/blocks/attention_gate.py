"""An additive attention gate on a U-Net skip (Oktay et al. 2018, "Attention U-Net"), as
LeeJunHyun's Image_Segmentation (`Attention_block`: W_g, W_x, psi) and its many copies write it:

    psi = sigmoid(psi(relu(W_g(g) + W_x(x))))      # one weight per pixel of the skip
    return x * psi

Three members, each a 1x1 conv (alone, or a Sequential [conv, norm]): two project the gating signal
`g` (the upsampled decoder map) and the skip `x` to one inner width, the third maps that width to
one channel. The names say which projection reads which input (`W_g`/`W_gate`/`phi` the gating
signal, `W_x`/`W_s`/`theta` the skip); where they do not, no match. The ReLU, the sigmoid and the
product leave no tensor: the paper's, a convention (the projections' Sequentials end without an
activation, psi's in its sigmoid), so the forward says it is guessed.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
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
from codegen.patterns.blocks.padded_resnet_block import slot_pin

GATING = re.compile(r"(w_?)?(g|gate|gating)|phi|conv_?g(ate)?", re.I)
SKIP = re.compile(r"(w_?)?(x|s|l|skip)|theta|conv_?(x|s|skip)", re.I)
WHY = (
    "an attention gate (Oktay et al. 2018, LeeJunHyun's Attention_block): the projections are "
    "summed before the ReLU, psi ends in a sigmoid"
)
GUESSED = (
    "the ReLU after the sum, the sigmoid of psi and the product with the skip leave no tensor: "
    "Oktay et al.'s attention gate, by convention"
)


def _pointwise(m) -> tuple | None:
    """(the 1x1 conv, the Sequential's slots after its keyed layers) of a member that is a 1x1
    conv or a Sequential [1x1 conv, norm] (with activation slots), else None."""
    if m.kind == "builtin":
        conv, slots = m, []
    elif m.kind == "sequential":
        keyed = [c for c in m.children if c.kind != "placeholder"]
        if not keyed or len(keyed) > 2 or (len(keyed) == 2 and family(keyed[1]) != "norm"):
            return None
        conv = keyed[0]
        slots = [c for c in m.children[m.children.index(keyed[-1]) + 1 :]]
        if m.children[0] is not conv:
            return None
    else:
        return None
    if conv.type_name != "nn.Conv2d" or conv_kernel(conv) not in (1, (1, 1)) or conv.io is None:
        return None
    return conv, slots


class AttentionGate(BlockPattern):
    role = "AttentionGate"
    priority = 6

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        parts = {m.attr: _pointwise(m) for m in members}
        if None in parts.values():
            return None
        psi = [m for m in members if parts[m.attr][0].io.out_width == 1]
        projections = [m for m in members if m not in psi]
        if len(psi) != 1 or len(projections) != 2:
            return None
        inner = {parts[m.attr][0].io.out_width for m in projections}
        if len(inner) != 1 or parts[psi[0].attr][0].io.in_width not in inner:
            return None
        gating = [m for m in projections if GATING.fullmatch(m.attr.lstrip("_"))]
        skip = [m for m in projections if SKIP.fullmatch(m.attr.lstrip("_"))]
        if len(gating) != 1 or len(skip) != 1 or gating[0] is skip[0]:
            return None
        pins = [slot_pin(c, "nn.Identity()", WHY) for m in projections for c in parts[m.attr][1]]
        psi_slots = parts[psi[0].attr][1]
        if psi_slots:
            pins.append(slot_pin(psi_slots[0], "nn.Sigmoid()", WHY))
            pins += [slot_pin(c, "nn.Identity()", WHY) for c in psi_slots[1:]]
        found = (gating[0].attr, skip[0].attr, psi[0].attr, not psi_slots)
        pins = [p for p in pins if p is not None]
        return Match(self, 3, found, guessed=GUESSED, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        gating, skip, psi, squash = match.found
        signal, x = g.input("g"), g.input("x")
        summed = g.call_function(
            "add",
            g.call_module((gating,), signal, inline=True),
            g.call_module((skip,), x, inline=True),
            name="psi",
        )
        weights = g.call_module((psi,), g.call_function("relu", summed, inline=True), name="psi")
        if squash:
            weights = g.call_function("sigmoid", weights, name="psi")
        g.output(g.call_function("mul", x, weights, comment="each pixel of the skip weighted"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._segmentation_examples import gate_examples

        return gate_examples()
