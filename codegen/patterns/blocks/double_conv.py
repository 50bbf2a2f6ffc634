"""Two 3x3 convs, each followed by its norm and activation, written as one numbered Sequential: the
U-Net's level (Ronneberger et al. 2015), as milesial/Pytorch-UNet (`DoubleConv.double_conv`),
jvanvugt/pytorch-unet (`UNetConvBlock.block`) and usuyama/pytorch-unet (`double_conv`) write it:

    [conv 3x3, norm, act, conv 3x3, norm, act]        milesial (norm before the activation)
    [conv 3x3, act, norm, conv 3x3, act, norm]        jvanvugt with batch_norm=True
    [conv 3x3, act, conv 3x3, act]                    without norms

The activations hold no tensors: the numbered slots show those between layers, but the one ending
the Sequential is past its last key, so no slot shows it and the forward applies it. Which
activation, and whether one ends the Sequential at all, no key records: the class's `activation`
choice. Alone, the forward is a guess that says so; a U-Net around it (blocks/unet_level.py) shows
the layout and pins the choice, and then the forward is inferred. Some U-Nets end the Sequential
on its norm (dome272's Diffusion-Models-pytorch DoubleConv: the level adds the input, then the
activation): `last_activation`, on by default (the paper's), pinned off by such a level
(blocks/timed_unet_level.py).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.padded_resnet_block import arg_pin, numbered_body, slot_pin

WHY = "the double 3x3 conv layout"


def _conv3(m) -> bool:
    return m.kind == "builtin" and m.type_name == "nn.Conv2d" and conv_kernel(m) in (3, (3, 3))


def _units(items: dict) -> list[list] | None:
    """The Sequential's items cut at each conv: [[conv, (norm | slot)...], ...]; None unless it
    opens with a conv and every unit is a conv then at most one norm and one slot."""
    units: list[list] = []
    for i in sorted(items):
        m = items[i]
        if m.kind != "placeholder" and family(m) == "conv":
            if not _conv3(m):
                return None
            units.append([m])
        elif not units:
            return None
        else:
            units[-1].append(m)
    for unit in units:
        tail = unit[1:]
        norms = [m for m in tail if m.kind != "placeholder" and family(m) == "norm"]
        slots = [m for m in tail if m.kind == "placeholder"]
        if len(norms) > 1 or len(slots) > 1 or len(norms) + len(slots) != len(tail):
            return None
    return units


def holds_double_conv(ctx: BlockContext, m) -> bool:
    """Whether a member is a class laid out as a double conv, whichever pattern reads it now."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    return held is not None and double_conv(held) is not None


def double_conv(cls) -> tuple | None:
    """(the Sequential, its units, the activation slots, whether the last activation is past the
    last key) for a class holding only two chained 3x3 conv units; None otherwise."""
    found = numbered_body(cls)
    if found is None:
        return None
    body, items = found
    units = _units(items)
    if units is None or len(units) != 2:
        return None
    first, second = units[0][0], units[1][0]
    if first.io is None or second.io is None or first.io.out_width != second.io.in_width:
        return None
    slots = [m for unit in units for m in unit if m.kind == "placeholder"]
    if not slots or slots[0] not in units[0]:  # the first conv's activation shows as a slot
        return None
    # The last unit's activation is past the last key unless a slot shows it there.
    trailing = not any(m.kind == "placeholder" for m in units[1])
    last_norm_first = units[1][-1].kind != "placeholder"
    if not trailing and last_norm_first and units[0][-1].kind == "placeholder":
        return None  # [conv, norm, act, conv, act, norm]: the units disagree on their order
    return body, units, slots, trailing


class DoubleConv(BlockPattern):
    role = "DoubleConv"
    priority = 5
    synonyms = act.SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = double_conv(cls)
        if found is None:
            return None
        body, units, slots, trailing = found
        activation = ctx.choose(
            cls,
            body.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each conv (and its norm); the last one past the Sequential's last key",
        )
        # The paper's convs are unpadded (valid: each loses a border pixel and the skips are
        # cropped); most U-Nets since pad them to keep the size (milesial's, usuyama's). No key
        # says which: a choice, padded by default, that the up level around it follows, and a
        # U-Net around it sets model-wide (families/level_unet.py's `valid_convs`).
        padding = ctx.choose(
            cls, body.attr, "padding", 1, [0], "each 3x3 conv's; 0: Ronneberger's valid convs"
        )
        choices = [activation, padding]
        if trailing:
            choices.append(
                ctx.choose(
                    cls,
                    body.attr,
                    "last_activation",
                    True,
                    [False],
                    "an activation after the Sequential's last norm",
                )
            )
        # A U-Net's model-wide pins (Match.pins, path ""): every double conv of the model keeps
        # one convention (blocks/timed_unet_level.py), whatever its class is named in this round.
        for c in choices:
            said = ctx.resolver.structural.get(("", f"double_conv_{c.name}"))
            if said is not None and c.source == "default" and c.value != said[0]:
                c.alternatives = [a for a in [c.value, *c.alternatives] if a != said[0]]
                c.value, c.source, c.note = said[0], "structure", said[1]
            elif said is not None and c.source == "default":
                c.source, c.note = "structure", said[1]
        module = act.MODULES.get(activation.value)
        pins = [slot_pin(s, module, WHY) for s in slots] if module else []
        for conv in (units[0][0], units[1][0]):  # the level keeps its size: pools resample
            pins.append(arg_pin(conv, "stride", 1, WHY))
            if padding.source != "default":  # padded (the conv's own default) until shown not
                pins.append(arg_pin(conv, "padding", padding.value, WHY))
        guessed = ""
        if activation.source == "default":
            guessed = (
                "the activations hold no tensors"
                + (", and the one ending the Sequential has no slot" if trailing else "")
                + ": ReLU by default; a U-Net around it would pin it"
            )
        # the Sequential's items in order: a slot is the activation, applied by the forward; it
        # calls the slot where the slot's layer is that activation (act.holds), never a slot of
        # another type (its layer type, a guess of its own, never decides what the class computes)
        order = [
            (m.kind == "placeholder", m.attr, j == len(unit) - 1, act.holds(m, activation.value))
            for unit in units
            for j, m in enumerate(unit)
        ]
        found = (body.attr, trailing, order)
        # A body keeping its width could be a residual layer's (residual_layer.py wins a bare
        # one); a U-Net level around it pins the activation and shows it is not.
        shown = activation.source in ("structure", "calibrated", "hint")
        explains = 2 + len(units) if shown else 1
        return Match(self, explains, found, choices, guessed=guessed, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        body, trailing, order = match.found
        activation = match.choices[0].value
        out = g.input("x")
        for slot, attr, ends_unit, held in order:  # one line per conv unit
            if slot and held:
                out = g.call_module((body, attr), out, name="x", inline=not ends_unit)
            elif slot:
                out = act.apply(g, activation, out, name="x", inline=not ends_unit)
            else:
                out = g.call_module((body, attr), out, name="x", inline=not ends_unit)
        if trailing and match.choices[2].value:
            out = act.apply(g, activation, out, name="x", comment="the last activation: no slot")
        g.output(out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._unet_examples import unet_examples

        return unet_examples()[:1]
