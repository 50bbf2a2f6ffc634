"""The parts of a tiny autoencoder (diffusers' AutoencoderTiny, after TAESD): plain conv stacks
without norms, whose parameter-free steps (activations, upsampling) leave gaps in `layers`.

- `TinyResidualBlock` (AutoencoderTinyBlock): `fuse(conv(x) + skip(x))`, `conv` three 3x3 convs
  with the activation between them, `skip` a 1x1 conv where the width changes (else x), `fuse`
  a ReLU.
- `TinyEncoder`: `layers` (a conv, blocks, then per stage a stride-2 conv and blocks, a last
  conv) on the image moved from [-1, 1] to [0, 1]. The strides leave no trace in the keys; the
  bias-free convs between stages are the downsamplers (pinned stride 2).
- `TinyDecoder`: the latent soft-clamped to [-3, 3] (`tanh(z / 3) * 3`), then `layers` (a conv
  and the activation, per stage blocks, an upsampling where the stage is not the last, a conv),
  and the output moved back to [-1, 1].

The activation (config.json's act_fn) and the upsampling (upsampling_scaling_factor, upsample_fn)
are choices; the forwards apply them in place of the gaps.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks.padded_resnet_block import arg_pin


def _items(m) -> list | None:
    if m is None or m.kind not in ("sequential", "modulelist"):
        return None
    return list(m.children)


def _activation(ctx: BlockContext, cls, where: str, note: str):
    c = ctx.choose(
        cls, where, "activation", "relu", act.alternatives("relu", told=ctx.resolver), note
    )
    return c


class TinyResidualBlock(BlockPattern):
    role = "TinyResidualBlock"
    priority = 6
    synonyms = act.SYNONYMS

    accepts = Accepts(1, 2, tensors=False, names=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        conv, skip = one_named(members, r"conv"), one_named(members, r"skip")
        used = [m for m in (conv, skip) if m is not None]
        if tensors(cls) or conv is None or len(used) != len(members):
            return None
        items = _items(conv)
        kinds = [family(i) if i.kind != "placeholder" else "gap" for i in items or []]
        if kinds != ["conv", "gap", "conv", "gap", "conv"]:
            return None
        if skip is not None and (family(skip) != "conv" or skip.kind != "builtin"):
            return None
        activation = _activation(ctx, cls, conv.attr, "between the convs")
        fuse = ctx.choose(cls, "fuse", "fuse_activation", "relu", ["identity"], "after the sum")
        found = (conv.attr, [i.attr for i in items], skip.attr if skip is not None else None)
        # The block keeps the size (the stack's bias-free convs resample), also where it widens
        # through its 1x1 skip, which a ResNet's projection shortcut would read as a stride 2.
        why = "a tiny coder's block keeps the size"
        pins = [arg_pin(m, "stride", 1, why) for m in [items[0], items[2], items[4], skip] if m]
        return Match(self, len(members), found, [activation, fuse], pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        conv, items, skip = match.found
        activation, fuse = (c.value for c in match.choices)
        x = g.input("x")
        h = x
        for i in (0, 2, 4):
            h = g.call_module((conv, items[i]), h, name="h", inline=True)
            if i < 4:
                h = act.apply(g, activation, h, name="h")
        shortcut = g.call_module((skip,), x, inline=True) if skip is not None else x
        out = g.call_function("add", h, shortcut, inline=True)
        g.output(act.apply(g, fuse, out))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._tiny_examples import tiny_example

        return [tiny_example()]


def stack_kinds(layers, ctx: BlockContext) -> list | None:
    """A conv stack's items and their kinds (conv, block, gap), or None where an item is none of
    them or the stack does not open and close on convs (a leading gap allowed: the decoder's
    clamp, where the stack holds it)."""
    items = _items(layers)
    if not items:
        return None
    kinds = []
    for i in items:
        if i.kind == "placeholder":
            kinds.append("gap")
        elif family(i) == "conv" and i.kind == "builtin":
            kinds.append("conv")
        elif ctx.role(i) == "TinyResidualBlock":
            kinds.append("block")
        else:
            return None
    start = 1 if kinds[0] == "gap" else 0
    if kinds[start] != "conv" or kinds[-1] != "conv" or "block" not in kinds:
        return None
    return items, kinds


def _stack(cls, ctx: BlockContext):
    """The one `layers` member and its items' kinds: conv, block, gap."""
    members = modules(cls)
    layers = one_named(members, r"layers")
    if tensors(cls) or layers is None or len(members) != 1:
        return None
    found = stack_kinds(layers, ctx)
    return None if found is None or found[1][0] == "gap" else (layers, *found)


def _stride_pin(item, why: str):
    """A pin setting a conv's stride to 2 where it was left at its default."""
    made = list(item.choices) + [a.choice for a in item.args if a.choice is not None]
    c = next((c for c in made if c.name == "stride"), None)
    if c is None or c.value == 2 or c.source != "default":
        return None
    return (c.path, "stride", 2, why)


def encoder_pins(items, kinds) -> list | None:
    """An encoder stack (conv, blocks, then (conv, blocks)*, conv; no gaps): the pins making its
    inner convs downsample, or None where the stack is not one."""
    if "gap" in kinds:
        return None
    inner = [i for i, k in enumerate(kinds) if k == "conv"][1:-1]
    if any(kinds[i + 1] != "block" for i in inner) or kinds[1] != "block":
        return None
    why = "a tiny encoder's conv between stages downsamples"
    return [p for p in (_stride_pin(items[i], why) for i in inner) if p is not None]


class TinyEncoder(BlockPattern):
    role = "TinyEncoder"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _stack(cls, ctx)
        if found is None:
            return None
        layers, items, kinds = found
        pins = encoder_pins(items, kinds)
        return None if pins is None else Match(self, 1, layers.attr, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        x = g.call_function("add", x, 1, inline=True)
        x = g.call_function("truediv", x, 2, name="x", comment="[-1, 1] -> [0, 1]")
        g.output(g.call_module((match.found,), x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._tiny_examples import tiny_example

        return [tiny_example()]


UPSAMPLE_MODES = ["nearest", "bilinear", "bicubic"]


def decoder_plan(cls, ctx: BlockContext, layers, items, kinds) -> tuple | None:
    """A decoder stack ([gap (the clamp)], conv, gap (the activation), then per stage: blocks,
    [gap (upsampling)], conv): what decoder_forward needs and its choices, or None. The clamp's
    slot, where the stack holds one (TAESD's `Clamp()` opening its Sequential), is the soft clamp
    diffusers' decoder applies before its layers."""
    clamp = items[0].attr if kinds[0] == "gap" else None
    if clamp is not None:
        items, kinds = items[1:], kinds[1:]
    if len(kinds) < 4 or kinds[1] != "gap" or kinds[2] != "block":
        return None
    steps = []
    for i, k in enumerate(kinds[2:], start=2):
        if k == "gap" and (kinds[i - 1] != "block" or kinds[i + 1] != "conv"):
            return None
        steps.append((k, items[i].attr))
    activation = _activation(ctx, cls, layers.attr, "after the first conv")
    told = ctx.resolver.evidence("upsampling_scaling_factor")
    scale = ctx.choose(
        cls, layers.attr, "upsample_scale", told[1] if told else 2, [2, 4], "upsampling"
    )
    if told and scale.source == "default":
        scale.source, scale.note = "metadata", told[0]
    mode = ctx.choose(cls, layers.attr, "upsample_mode", "nearest", UPSAMPLE_MODES[1:], "")
    return (layers.attr, items[0].attr, steps), [activation, scale, mode]


def decoder_forward(g: Graph, found, choices, z):
    """The decoder stack on the latent `z`: soft clamp, first conv and activation, the stages."""
    layers, first, steps = found
    activation, scale, mode = (c.value for c in choices)
    z = g.call_function("truediv", z, 3, inline=True)
    z = g.call_function("tanh", z, inline=True)
    x = g.call_function("mul", z, 3, name="x", comment="soft clamp to [-3, 3]")
    x = g.call_module((layers, first), x, name="x", inline=True)
    x = act.apply(g, activation, x, name="x")
    for kind, attr in steps:
        if kind == "gap":
            kwargs = {"scale_factor": float(scale), "mode": mode}
            x = g.call_function("interpolate", x, kwargs=kwargs, name="x")
        else:
            x = g.call_module((layers, attr), x, name="x")
    return x


class TinyDecoder(BlockPattern):
    role = "TinyDecoder"
    priority = 6
    synonyms = {**act.SYNONYMS, "upsample_mode": ("upsample_fn",)}

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _stack(cls, ctx)
        if found is None:
            return None
        layers, items, kinds = found
        plan = decoder_plan(cls, ctx, layers, items, kinds)
        return None if plan is None else Match(self, 1, plan[0], plan[1])

    def forward(self, match: Match, g: Graph) -> None:
        x = decoder_forward(g, match.found, match.choices, g.input("z"))
        x = g.call_function("mul", x, 2, inline=True)
        g.output(g.call_function("sub", x, 1), comment="[0, 1] -> [-1, 1]")

    @staticmethod
    def examples():
        from codegen.patterns.blocks._tiny_examples import tiny_example

        return [tiny_example()]
