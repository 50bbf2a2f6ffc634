"""The ConvNeXt block: a depthwise conv mixes space, then a channels-last LayerNorm and a pointwise
MLP (two Linear layers, GELU) mix channels, scaled per channel by a learned layer scale, and the
input is added back:

`x + permute_back(gamma * pwconv2(act(pwconv1(norm(permute(dwconv(x)))))))`; ConvNeXt V2 drops the
layer scale and puts a global response norm (blocks/global_response_norm.py) after `act`.

The members are told apart by what they are and their widths (the depthwise conv keeps the width, the
first Linear widens, the second narrows back), never by key order; they may be the items of one
Sequential (torchvision's CNBlock `block`: its permutes and GELU are slots without tensors, pinned
to what the forward does itself). The layer scale is the one tensor of the block: [C] or
[1, 1, C] multiplies channels-last (the official code, Hugging Face), [C, 1, 1] or [1, C, 1, 1]
channels-first (torchvision).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    convention_pins,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin

# What the official code, timm and transformers all fix and no key records: the MLP's GELU and
# the LayerNorms' eps 1e-6 (Liu et al. 2022), the block's and the stem's, downsamplers' and head's
# beside it (a pin for every LayerNorm of the model).
_WHY = "ConvNeXt's (Liu et al. 2022: the official code, timm, transformers)"
_BLOCK = "a ConvNeXt block (Liu et al. 2022)"  # what the structure shows of its parts


def channels_last_scale(shape: tuple[int, ...], channels: int) -> bool | None:
    """Whether a per-channel scale of this shape multiplies channels-last features (True: [C], or
    [1, 1, C] as some ports keep it) or channels-first maps (False: torchvision's [C, 1, 1], or
    [1, C, 1, 1]); None where it is no per-channel scale of `channels`."""
    wide = [i for i, d in enumerate(shape) if d != 1]  # (a lifted width is a parameter)
    if len(wide) != 1 or isinstance(shape[wide[0]], int) and shape[wide[0]] != channels:
        return None
    if wide[0] == len(shape) - 1 and len(shape) != 2:
        return True  # [C], [1, 1, C]: the last axis of [batch, height, width, channels]
    if (len(shape), wide[0]) in ((3, 0), (4, 1)):
        return False  # the channels of [batch, channels, height, width]
    return None


def _slot_pins(slots: list, widen, narrow, activation: str) -> list:
    """The numbered layout's slots without tensors: the forward permutes and activates itself, so
    the slot between the two Linear layers holds their activation and the others pass through."""
    pins = []
    for slot in slots:
        between = all(m.attr.isdigit() for m in (slot, widen, narrow)) and (
            int(widen.attr) < int(slot.attr) < int(narrow.attr)
        )
        value = act.MODULES.get(activation) if between else "nn.Identity()"
        why = f"{_BLOCK}: " + ("its MLP activation" if between else "its forward permutes here")
        pins.append(slot_pin(slot, value or "nn.Identity()", why))
    return pins


class ConvNeXtBlock(BlockPattern):
    role = "ConvNeXtBlock"
    priority = 20

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        prefix: tuple[str, ...] = ()
        slots: list = []
        if len(members) == 1 and members[0].kind == "sequential":
            # torchvision's CNBlock: the parts are the items of one `block` Sequential, the
            # permutes (and the GELU) between them slots without tensors.
            prefix = (members[0].attr,)
            slots = [c for c in members[0].children if c.kind == "placeholder"]
            members = [c for c in members[0].children if c.kind != "placeholder"]
        convs = [m for m in members if family(m) == "conv"]
        norms = [m for m in members if family(m) == "norm"]
        linears = [m for m in members if family(m) == "linear"]
        scales = tensors(cls)
        # timm's block holds the two Linear layers in an `Mlp` class with its own activation.
        mlps = [m for m in members if m.kind == "class" and ctx.role(m) == "MLP"]
        # ConvNeXt V2 puts a global response norm after the activation (and drops the layer scale).
        grns = [m for m in members if m.kind == "class" and ctx.role(m) == "GlobalResponseNorm"]
        pointwise = len(linears) == 2 or (len(mlps) == 1 and not linears)
        if len(convs) != 1 or len(norms) != 1 or not pointwise or len(scales) > 1:
            return None
        if len(members) != 3 + len(linears) // 2 + len(grns) or len(grns) > len(linears) // 2:
            return None
        if any(m.kind != "builtin" for m in members if m not in mlps + grns):
            return None
        dw = unit(convs[0], ctx, prefix)
        if dw is None or not dw.depthwise:
            return None
        channels = dw.out_width
        if mlps:
            # (a width read from a GRN member first in key order is unknown: None)
            if mlps[0].io.out_width != channels or mlps[0].io.in_width not in (None, channels):
                return None
            widen, narrow = mlps, [None]
        else:
            widen = [m for m in linears if m.io.in_width == channels and m.io.out_width != channels]
            narrow = [m for m in linears if m.io.out_width == channels and m not in widen]
            if len(widen) != 1 or len(narrow) != 1:
                return None
            if narrow[0].io.in_width != widen[0].io.out_width:
                return None
            if (
                grns
                and grns[0].io is not None
                and grns[0].io.in_width not in (None, narrow[0].io.in_width)
            ):
                return None
        norm = norms[0]
        if norm.io.in_width != channels:
            return None
        pins = []
        if norm.type_name != "nn.LayerNorm":
            # A norm between the depthwise conv and a Linear reading the channels last: the
            # Linear shows that it normalises the channels (the numbered layout leaves no permute
            # between them in the keys, so the norm's type was read from the conv alone).
            if not prefix or not norm.choices or norm.choices[0].source != "default":
                return None
            pins.append(slot_pin(norm, "nn.LayerNorm", f"{_BLOCK}: the norm its Linear layers read"))
        scale = None
        if scales:
            t = scales[0]
            last = channels_last_scale(t.shape, channels)
            if t.kind != "parameter" or last is None:
                return None
            scale = (t.attr, last)
        choices = []
        if not mlps:
            activation = ctx.choose(
                cls,
                widen[0].attr,
                "activation",
                "gelu",
                ["gelu_tanh", "relu", "silu"],
                "between the pointwise layers",
            )
            choices.append(activation)
        grn = prefix + (grns[0].attr,) if grns else None
        at = [None if m is None else prefix + (m.attr,) for m in (convs[0], norm, widen[0])]
        found = (*at, narrow[0] and prefix + (narrow[0].attr,), scale, grn)
        size = len(modules(cls)) + len(scales) + 1
        # The residual adds the input: the depthwise conv keeps the resolution, whatever a
        # stride convention read from the widths alone said.
        pins.append(arg_pin(convs[0], "stride", 1, f"{_BLOCK}: its input is added back"))
        if prefix:
            size += len(members) - 1  # the Sequential's items, each a member of the block
            activation = choices[0].value if choices else "gelu"
            pins += _slot_pins(slots, widen[0], narrow[0] or widen[0], activation)
        pins += convention_pins(ctx, [norm], mlps, _WHY, 1e-6, "gelu")
        return Match(self, size, found, choices, pins=[p for p in pins if p is not None])

    def forward(self, match: Match, g: Graph) -> None:
        dwconv, norm, pw1, pw2, scale, grn = match.found
        x = g.input("x")
        out = g.call_module(dwconv, x, name="out", inline=True)
        out = g.call_method(
            "permute", out, 0, 2, 3, 1, name="out", comment="[batch, height, width, channels]"
        )
        out = g.call_module(norm, out, name="out", inline=True)
        if pw2 is None:  # an MLP class: its own activation
            out = g.call_module(pw1, out, name="out")
        else:
            activation = match.choices[0].value
            out = act.apply(g, activation, g.call_module(pw1, out, inline=True), name="out")
            if grn is not None:
                out = g.call_module(grn, out, name="out")
            out = g.call_module(pw2, out, name="out")
        if scale is not None and scale[1]:
            out = g.call_function("mul", g.getattr((scale[0],)), out, name="out")
        out = g.call_method("permute", out, 0, 3, 1, 2, name="out", inline=True)
        if scale is not None and not scale[1]:
            out = g.call_function("mul", g.getattr((scale[0],)), out, name="out", inline=True)
        g.output(g.call_function("add", x, out, name="out"))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision_examples import modules as zoo

        # The official block's LayerNorm eps (1e-6) is not in the weights: a config says it.
        config = {"layer_norm_eps": 1e-6}
        from codegen.patterns.blocks._vision6_examples import modules as zoo6

        inputs = (torch.randn(2, 8, 9, 9),)
        return [
            Example(zoo()["convnext_block"](8), inputs, config),
            Example(zoo6()["convnextv2_block"](8), inputs, config),
            Example(zoo6()["timm_convnextv2_block"](8), inputs, {**config, "hidden_act": "gelu"}),
        ]
