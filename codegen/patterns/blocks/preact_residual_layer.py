"""The residual layer of the VQ-VAE (van den Oord et al. 2017, section 4.1: "ReLU, 3x3 conv, ReLU,
1x1 conv"), written as one numbered Sequential whose first slot activates the input, and the stack
that runs those layers (DeepMind Sonnet's `ResidualStack`, the reference code):

    h = x
    for layer in layers:
        h = h + layer(h)                  # layer = Sequential(ReLU, conv 3x3, ReLU, conv 1x1)
    return relu(h)                        # the sums are never activated, so the stack does it

rosinality/vq-vae-2-pytorch (`ResBlock.conv`), zalandoresearch/pytorch-vq-vae (`Residual._block`)
and ritheshkumar95's VQ-VAE (`ResBlock.block`, with a BatchNorm after each conv) write the layer
so. Only the convs (and norms) hold tensors: each slot before a conv is read as its ReLU, the
residual as an addition, the stack's closing ReLU as the reference's. zalando's layer activates
in place, so its input is the activated one too: a choice (`residual_reads`).

A stack written as a Sequential holds the closing ReLU in a slot (rosinality's encoder); a class
holding only the list of layers (zalando's `ResidualStack._layers`) applies it in its forward.
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
from codegen.patterns.blocks.hifigan_resblock import list_items
from codegen.patterns.blocks.padded_resnet_block import numbered_body, slot_pin

WHY = "the VQ-VAE residual layer (ReLU, conv, ReLU, conv; van den Oord et al. 2017)"
GUESS = (
    "the slots before the convs are read as ReLUs and the input added back, as the VQ-VAE's "
    "residual layer (no key shows them): calibrate to confirm"
)


class PreActivatedResidualLayer(BlockPattern):
    # Not "ResidualLayer": that is Hugging Face's ResNet layer (blocks/residual_layer.py), which
    # activates after its sum, so nothing may follow it as it follows these.
    role = "PreActResidualLayer"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = numbered_body(cls)
        if found is None:
            return None
        body, items = found
        slots = _slots(items)
        if slots is None:
            return None
        reads = ctx.choose(
            cls,
            body.attr,
            "residual_reads",
            "input",
            ["activated"],
            "what is added back: the input, or the input after the first slot's activation "
            "(an in-place ReLU there changes it: zalando's Residual)",
        )
        pins = [slot_pin(items[i], "nn.ReLU()", WHY) for i in slots]
        guessed = GUESS if reads.source == "default" else ""
        return Match(self, 1, body.attr, [reads], pins=[p for p in pins if p], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        h = g.call_module((match.found,), x, name="h")
        if match.choices[0].value == "activated":
            x = g.call_function("torch.relu", x, name="x", comment="as the in-place first ReLU")
        g.output(g.call_function("add", x, h))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._vq_examples import residual_examples

        return residual_examples()

STACK_GUESS = (
    "the ReLU after the last layer is the reference code's (Sonnet's ResidualStack); no key "
    "shows it: calibrate to confirm"
)


def _slots(items: dict) -> list[int] | None:
    """The slot indices of a Sequential laid out as units [slot, conv(, norm)], two or more, the
    first conv spatial, every conv ungrouped 2-d, the widths coming back to the input's; None
    otherwise."""
    slots, width, first, i = [], None, None, 0
    while i < len(items):
        slot, conv = items.get(i), items.get(i + 1)
        if slot is None or conv is None or slot.kind != "placeholder":
            return None
        if conv.kind != "builtin" or conv.type_name != "nn.Conv2d" or conv.io is None:
            return None
        if width is not None and conv.io.in_width != width:
            return None
        if first is None and (conv.io.in_width is None or _kernel(conv) in (None, 1)):
            return None
        first = conv.io.in_width if first is None else first
        slots.append(i)
        width, i = conv.io.out_width, i + 2
        norm = items.get(i)
        if norm is not None and norm.kind != "placeholder" and family(norm) == "norm":
            i += 1
    return slots if len(slots) >= 2 and width == first else None


def _kernel(conv) -> int | None:
    from codegen.patterns.blocks._conv_parts import conv_kernel

    k = conv_kernel(conv)
    return k if isinstance(k, int) or k is None else max(k)


class ResidualLayerStack(BlockPattern):
    role = "ResidualStack"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        layers = members[0]
        items = list_items(layers)
        if not items or any(ctx.role(m) != "PreActResidualLayer" for m in items):
            return None
        closing = ctx.choose(
            cls,
            layers.attr,
            "activation",
            "relu",
            ["identity"] + [a for a in act.alternatives("relu", conv=True) if a != "identity"],
            "after the last layer: the residual sums are never activated (Sonnet's "
            "ResidualStack ends in a ReLU)",
            aliases=act.ALIASES,
        )
        guessed = "" if closing.source != "default" else STACK_GUESS
        return Match(self, 1, (layers.attr, layers.kind, len(items)), [closing], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        layers, kind, _ = match.found
        x = g.input("x")
        if kind == "sequential":
            h = g.call_module((layers,), x, name="x")
        else:
            body = Graph()
            step = body.input("x")
            body.output(body.call_module(("layer",), step))
            h = g.loop((("layer", (layers,)),), body, x, comment="each residual layer")
        g.output(act.apply(g, match.choices[0].value, h))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._vq_examples import residual_examples

        return residual_examples()
