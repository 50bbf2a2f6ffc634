"""The resnet block of lucidrains' diffusion U-Nets: two `Block`s (conv, group norm, activation),
the time embedding through `mlp` (an activation, then a Linear) scaling and shifting the first
block's normalised map, and the input (through `res_conv` where the width changes) added back:

    scale, shift = mlp(t)[:, :, None, None].chunk(2, dim=1)      # denoising-diffusion-pytorch 1.x
    h = act(block1.norm(block1.proj(x)) * (scale + 1) + shift)
    h = act(block2.norm(block2.proj(h)))
    return h + res_conv(x)

A Linear as wide as the block (not twice) is the 2020 version: `block1`/`block2` each hold one
Sequential `block` (conv, norm, Mish) and the time embedding is added between them. The activation
follows the version the layout identifies (SiLU; Mish for the 2020 one). Some 1.x releases
standardise each conv's kernel first (WeightStandardizedConv2d), with the same keys: a choice,
and the class says guessed until calibration or a hint settles it.
"""

from __future__ import annotations

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph, Slice
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
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin

WHY = "lucidrains' resnet block keeps the map's size; its activations hold no tensors"


GROUPS = 8  # denoising-diffusion-pytorch's Block groups / resnet_block_groups default
GROUPS_WHY = "lucidrains' Block: GroupNorm(groups=8) by default"


def _group_choice(norm):
    """The num_groups choice of a group norm, or None where the count is recorded."""
    return next((a.choice for a in norm.args if a.choice and a.choice.name == "num_groups"), None)


def _differ(a, b) -> bool:
    """Two widths known to differ (a width lifted to a parameter of a shared class is not known)."""
    return isinstance(a, int) and isinstance(b, int) and a != b


def conv_norm(m, ctx: BlockContext):
    """A `Block` member's conv and norm paths and modules, and whether it is the 2020 layout
    (one Sequential `block`), and that layout's empty activation slot; None if it is not one."""
    inner = ctx.classes.get(m.type_name) if m is not None and m.kind == "class" else None
    if inner is None or tensors(inner):
        return None
    members = modules(inner)
    proj, norm = one_named(members, r"proj"), one_named(members, r"norm")
    held, old, slot = ((m.attr, "proj"), proj), ((m.attr, "norm"), norm), None
    if len(members) == 1 and members[0].attr == "block" and members[0].kind == "sequential":
        kids = members[0].children
        real = [c for c in kids if c.kind != "placeholder"]
        if len(kids) != 3 or len(real) != 2 or kids[2].kind != "placeholder":
            return None
        proj, norm = real
        held = ((m.attr, "block", proj.attr), proj)
        old = ((m.attr, "block", norm.attr), norm)
        legacy, slot = True, kids[2]
    elif len(members) == 2 and None not in (proj, norm):
        legacy = False
    else:
        return None
    if family(proj) != "conv" or norm.type_name != "nn.GroupNorm":
        return None
    if _differ(norm.io.in_width, proj.io.out_width) or conv_kernel(proj) not in (3, (3, 3)):
        return None
    return held, old, legacy, slot


class TimeScaledResnetBlock(BlockPattern):
    role = "ResnetBlock"
    priority = 6

    accepts = Accepts(tensors=False, names=("block1", "block2"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        b1, b2 = one_named(members, r"block1"), one_named(members, r"block2")
        mlp, res = one_named(members, r"mlp"), one_named(members, r"res_conv")
        used = [m for m in (b1, b2, mlp, res) if m is not None]
        if tensors(cls) or None in (b1, b2) or len(used) != len(members):
            return None
        one, two = conv_norm(b1, ctx), conv_norm(b2, ctx)
        if one is None or two is None or one[2] != two[2]:
            return None
        legacy = one[2]
        # the widths each member reads here (a class both share shows its first instance's)
        c_in, c_out = b1.io.in_width, b1.io.out_width
        if _differ(b2.io.in_width, c_out) or _differ(b2.io.out_width, c_out):
            return None
        if res is not None and (family(res) != "conv" or _differ(res.io.in_width, c_in)):
            return None
        if res is None and _differ(c_in, c_out):
            return None
        time = None
        if mlp is not None:
            kids = mlp.children if mlp.kind == "sequential" else []
            if len(kids) != 2 or kids[0].kind != "placeholder" or family(kids[1]) != "linear":
                return None
            wide = kids[1].io.out_width
            if isinstance(c_out, int) and _differ(wide, c_out if legacy else 2 * c_out):
                return None
            time = (mlp.attr, kids[1].attr)
        default = "mish" if legacy else "silu"  # the activation of the version the layout is
        activation = ctx.choose(
            cls, b1.attr, "activation", default, act.alternatives(default, conv=True)
        )
        choices, unsure = [activation], []
        if not legacy:
            standardized = ctx.choose(
                cls, b1.attr, "weight_standardized", False, [True], "the convs' kernels"
            )
            choices.append(standardized)
            if standardized.source == "default":
                unsure.append("plain or weight-standardised convs (the same keys)")
        groups = [_group_choice(n) for n in (one[1][1], two[1][1])]
        if any(c is not None and c.source in ("default", "structure") for c in groups):
            unsure.append(f"the group count (lucidrains' default {GROUPS} where it divides)")
        guessed = "; ".join(unsure)
        module = act.MODULES.get(activation.value)
        slots = [one[3], two[3]] + ([mlp.children[0]] if mlp is not None else [])
        pins = [slot_pin(s, module, WHY) for s in slots if s is not None] if module else []
        for conv, padding in ((one[0][1], 1), (two[0][1], 1), (res, 0)):
            if conv is not None:
                pins += [arg_pin(conv, "stride", 1, WHY), arg_pin(conv, "padding", padding, WHY)]
        # one count for the model (its Blocks all take `groups`): a model-wide pin, so a Block
        # class split by its widths still reads it (layers/norms.py)
        if any(c is not None and c.source == "default" and c.value != GROUPS for c in groups):
            pins.append(("", "map_norm_groups", GROUPS, GROUPS_WHY))
        pins = [p for p in pins if p is not None]
        found = (one[0][0], one[1][0], two[0][0], two[1][0], time, res and res.attr, legacy)
        found += (c_in, time and mlp.children[1].io.in_width)
        return Match(self, len(members), found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        proj1, norm1, proj2, norm2, time, res, legacy = match.found[:7]
        activation = match.choices[0].value
        standardized = len(match.choices) > 1 and match.choices[1].value
        x = g.input("x")
        t = None
        if time is not None:
            t = act.apply(g, activation, g.input("temb"), name="t", inline=True)
            t = g.call_module(time, t, name="t", inline=True)
            t = g.call_function("getitem", t, (Slice(), Slice(), None, None), name="t")

        def conv(path, value):
            if not standardized:
                return g.call_module(path, value, name="h", inline=True)
            weight, bias = g.getattr(path + ("weight",)), g.getattr(path + ("bias",))
            # lucidrains' WeightStandardizedConv2d: eps 1e-5, stride 1, padding 1
            return g.call_function(
                "weight_standardized_conv2d", value, weight, bias, (1, 1), (1, 1), 1e-5, inline=True
            )

        h = g.call_module(norm1, conv(proj1, x), name="h", inline=t is None or not legacy)
        if t is not None and not legacy:
            scale = g.call_method("chunk", t, 2, 1, name="scale", inline=True)
            scale = g.call_function("getitem", scale, 0, name="scale")
            shift = g.call_method("chunk", t, 2, 1, name="shift", inline=True)
            shift = g.call_function("getitem", shift, 1, name="shift")
            h = g.call_function("mul", h, g.call_function("add", scale, 1.0, inline=True))
            h = g.call_function(
                "add", h, shift, name="h", inline=True, comment="the time scales and shifts"
            )
        h = act.apply(g, activation, h, name="h")
        if t is not None and legacy:
            h = g.call_function("add", h, t, name="h", comment="the time embedding, per channel")
        h = g.call_module(norm2, conv(proj2, h), name="h", inline=True)
        h = act.apply(g, activation, h, name="h")
        identity = g.call_module((res,), x, inline=True) if res else x
        g.output(g.call_function("add", h, identity))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        channels, time = match.found[7:]
        x = ExampleInput((2, channels if isinstance(channels, int) else 8, 16, 16))
        return [x, ExampleInput((2, time))] if time else [x]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()
        return [
            Example(z["resnet"](8, 16, 12, 4), z["with_time"](8, 12), {"norm_num_groups": 4}),
            Example(z["resnet"](8, 8, 12, 2), z["with_time"](8, 12), {"norm_num_groups": 2}),
        ]
