"""The diffusion/autoencoder resnet block (diffusers' ResnetBlock2D, latent diffusion's
ResnetBlock): pre-activation group-norm/conv pairs, the time embedding added between them where
the block has a projection for it, and the input (projected by a 1x1 conv when the width changes)
added back:

    h = conv1(act(norm1(x)));  h = h + time_emb_proj(act(temb))[:, :, None, None]
    h = conv2(act(norm2(h)));  return shortcut(x) + h

A time projection twice conv1's width is a scale and a shift (diffusers'
resnet_time_scale_shift="scale_shift", the DDPM repositories' ResnetBlock): it modulates the
normalised map instead, `h = norm2(h) * (1 + scale) + shift`, before the activation.

Recognised from names and widths: norm1 normalises the input, conv1 takes it, norm2/conv2 keep
conv1's width, the time projection gives it, the shortcut maps input to output width.
"""

from __future__ import annotations

import re

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

TIME_PROJ = r"time_emb_proj|temb_proj|emb_proj|time_proj|time_emb"  # labml.ai DDPM: time_emb
KEEPS = "a diffusion resnet block's convs keep the map's size"
SHORTCUT = r"conv_shortcut|nin_shortcut|shortcut|skip_connection"


# Roles a member may hold besides the norm/conv pairs: a pixel attention keeping the width.
ATTENTION_ROLES = ("Attention", "SpatialAttention", "SelfAttention")
DROPOUT_WHY = "a diffusion resnet block: the slot before its second conv is its dropout"


GROUP_WHY = "a diffusion resnet block: group norms before both convs"


def _group_norm(m) -> bool:
    """A GroupNorm, or a norm read as a LayerNorm by a default choice (a scale and a shift only:
    the layer order put it after a Linear); never one with running statistics."""
    if m.type_name == "nn.GroupNorm":
        return True
    kind = next((c for c in m.choices if c.name == "module_type"), None)
    return m.type_name == "nn.LayerNorm" and kind is not None and kind.source == "default"


def _digit(attr: str) -> int | None:
    found = re.search(r"(\d+)$", attr)
    return int(found.group(1)) if found else None


def _conv_item(m):
    """A conv member, or a Sequential of one conv after empty slots (its dropout): (the conv, its
    path, the slots); None otherwise."""
    if m.kind == "builtin" and family(m) == "conv":
        return m, m.attr, []
    if m.kind != "sequential":
        return None
    real = [c for c in m.children if c.kind != "placeholder"]
    slots = [c for c in m.children if c.kind == "placeholder"]
    if len(real) != 1 or family(real[0]) != "conv" or real[0].kind != "builtin":
        return None
    if any(int(c.attr) > int(real[0].attr) for c in slots):
        return None
    return real[0], (m.attr, real[0].attr), slots


def _read_by_roles(members, ctx: BlockContext):
    """The resnet block read from its members' roles and widths whatever their names (abarankab's
    `norm_1`/`conv_1`/`time_bias`/`residual_connection`, hkproj's `groupnorm_1`, ...): two group
    norms, two 3x3 convs (the second may sit in a Sequential after a dropout slot), at most one
    Linear (the time projection: as wide as the first conv's output, or twice), at most one 1x1
    conv (the shortcut, input width to output width), at most one attention keeping the width.
    Which norm and conv come first: the one reading the block's input where the widths differ,
    else the numbers their names end in. ((members in forward order), {id: path}, unsure) or None.
    """
    norms = [m for m in members if m.kind == "builtin" and _group_norm(m)]
    linears = [m for m in members if m.kind == "builtin" and family(m) == "linear"]
    attentions = [m for m in members if m.kind == "class" and ctx.role(m) in ATTENTION_ROLES]
    rest = [m for m in members if m not in norms + linears + attentions]
    items = [(m, _conv_item(m)) for m in rest]
    if len(norms) != 2 or len(linears) > 1 or len(attentions) > 1 or any(i is None for _, i in items):
        return None
    convs = [(m, i) for m, i in items if conv_kernel(i[0]) not in (1, (1, 1))]
    shorts = [(m, i) for m, i in items if conv_kernel(i[0]) in (1, (1, 1)) and not i[2]]
    if len(convs) != 2 or len(shorts) + len(convs) != len(items):
        return None
    width = lambda m, end: getattr(m.io, end, None) if m.io is not None else None  # noqa: E731

    def ordered(pair, first):
        """(first, second): by which reads the block's input where the widths tell, else by the
        numbers the names end in; None where neither does."""
        a, b = pair
        reads = [m for m in pair if first(m)]
        if len(reads) == 1:
            return (a, b) if reads[0] is a else (b, a)
        da, db = _digit(a.attr), _digit(b.attr)
        if da is not None and db is not None and da != db:
            return (a, b) if da < db else (b, a)
        return None

    conv_of = {id(m): i[0] for m, i in convs}
    # the block's input: the width only one conv reads (the other reads what the first gives)
    ins = [width(i[0], "in_width") for _, i in convs]
    outs = [width(i[0], "out_width") for _, i in convs]
    entry = next((w for w in ins if ins.count(w) == 1 and w not in outs), None)
    conv_pair = ordered([m for m, _ in convs], lambda m: width(conv_of[id(m)], "in_width") == entry)
    norm_pair = ordered(norms, lambda m: width(m, "in_width") == entry)
    if conv_pair is None or norm_pair is None:
        return None
    (c1, i1), (c2, i2) = sorted(convs, key=lambda p: conv_pair.index(p[0]))
    n1, n2 = norm_pair
    c_in, c_mid = width(i1[0], "in_width"), width(i1[0], "out_width")
    if None in (c_in, c_mid) or width(n1, "in_width") != c_in or width(n2, "in_width") != c_mid:
        return None
    if width(i2[0], "in_width") != c_mid or width(i2[0], "out_width") != c_mid:
        return None
    short = shorts[0][0] if shorts else None
    if short is not None and (width(short, "in_width"), width(short, "out_width")) != (c_in, c_mid):
        return None
    proj = linears[0] if linears else None
    if proj is not None and width(proj, "out_width") not in (c_mid, 2 * c_mid):
        return None
    attention = attentions[0] if attentions else None
    if attention is not None and width(attention, "in_width") not in (None, c_mid):
        return None
    paths = {id(i1[0]): i1[1], id(i2[0]): i2[1]}
    paths["slots"] = [slot_pin(s, "nn.Dropout()", DROPOUT_WHY) for s in i1[2] + i2[2]]
    # a norm the layer order read otherwise (norm_2 after the time Linear): the pair's GroupNorm
    for n in (n1, n2):
        kind = next((c for c in n.choices if c.name == "module_type"), None)
        if n.type_name != "nn.GroupNorm" and kind is not None:
            paths["slots"].append((kind.path, "module_type", "nn.GroupNorm", GROUP_WHY))
    unsure = ""
    if proj is None and c_in == c_mid:
        # only the names' numbers say the norms come before their convs, and a post-activation
        # block of group norms (torchvision's BasicBlock with GroupNorm, `bn1` after `conv1`) has
        # the same keys: no time projection or attention to say diffusion, so not this reading
        if attention is None:
            return None
        unsure = "norms before their convs (pre-activation), read from the names' numbers"
    return (n1, i1[0], n2, i2[0], proj, short, attention), paths, unsure


class ResnetBlock(BlockPattern):
    role = "ResnetBlock"
    priority = 5  # over the post-activation BasicBlock: group norms before their convs
    synonyms = act.SYNONYMS

    accepts = Accepts(tensors=False, families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        norm1, norm2 = one_named(members, r"norm1"), one_named(members, r"norm2")
        conv1, conv2 = one_named(members, r"conv1"), one_named(members, r"conv2")
        proj, short = one_named(members, TIME_PROJ), one_named(members, SHORTCUT)
        used = [m for m in (norm1, norm2, conv1, conv2, proj, short) if m is not None]
        paths, attention, unsure = {}, None, ""
        if None in (norm1, norm2, conv1, conv2) or len(used) != len(members):
            read = _read_by_roles(members, ctx)
            if read is None:
                return None
            (norm1, conv1, norm2, conv2, proj, short, attention), paths, unsure = read
        if [family(m) for m in (norm1, norm2, conv1, conv2)] != ["norm", "norm", "conv", "conv"]:
            return None
        if not all(n.type_name == "nn.GroupNorm" or paths and _group_norm(n) for n in (norm1, norm2)):
            return None
        if proj is not None and family(proj) != "linear":
            return None
        if short is not None and family(short) != "conv":
            return None
        c_in, c_mid = conv1.io.in_width, conv1.io.out_width
        if norm1.io.in_width != c_in or norm2.io.in_width != c_mid:
            return None
        if conv2.io.in_width != c_mid or conv2.io.out_width != c_mid:
            return None
        scale_shift = proj is not None and proj.io.out_width == 2 * c_mid
        if proj is not None and proj.io.out_width != c_mid and not scale_shift:
            return None
        if scale_shift:  # the shapes say so; config.json's key agrees, or names another norm
            told = ctx.resolver.evidence("resnet_time_scale_shift", "time_embedding_norm")
            if told is not None and told[1] != "scale_shift":
                return None
        if short is None and c_in != c_mid:
            return None
        activation = ctx.choose(
            cls,
            norm1.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "after each norm",
        )
        found = tuple(
            paths.get(id(m), m.attr) if m is not None else None
            for m in (norm1, conv1, norm2, conv2, proj)
        )
        found += (short and short.attr, scale_shift, attention and attention.attr)
        # Its convs keep the size (a resampling block resizes the map itself: resampling_resnet)
        pins = [arg_pin(c, "stride", 1, KEEPS) for c in (conv1, conv2, short) if c is not None]
        pins += paths.get("slots", [])
        return Match(
            self, len(members), found, [activation], guessed=unsure, pins=[p for p in pins if p]
        )

    def forward(self, match: Match, g: Graph) -> None:
        norm1, conv1, norm2, conv2, proj, short, scale_shift = match.found[:7]
        attention = match.found[7] if len(match.found) > 7 else None
        activation = match.choices[0].value
        norm1, conv1, norm2, conv2, proj, short = (
            p if p is None or isinstance(p, tuple) else (p,)
            for p in (norm1, conv1, norm2, conv2, proj, short)
        )  # member names, or paths into Sequentials (openai's in_layers.0)
        x = g.input("x")
        temb = g.input("temb") if proj else None
        h = g.call_module(norm1, x, name="h", inline=True)
        h = act.apply(g, activation, h, name="h", inline=True)
        h, x = self.resample(match, g, h, x)
        h = g.call_module(conv1, h, name="h")
        t = None
        if temb is not None:
            t = act.apply(g, activation, temb, name="t", inline=True)
            t = g.call_module(proj, t, name="t", inline=True)
            t = g.call_function("getitem", t, (Slice(), Slice(), None, None), name="t")
        if t is not None and not scale_shift:
            h = g.call_function("add", h, t, name="h", comment="the time embedding, per channel")
        h = g.call_module(norm2, h, name="h", inline=scale_shift is False)
        if t is not None and scale_shift:
            scale = g.call_method("chunk", t, 2, 1, name="scale", inline=True)
            scale = g.call_function("getitem", scale, 0, name="scale")
            shift = g.call_method("chunk", t, 2, 1, name="shift", inline=True)
            shift = g.call_function("getitem", shift, 1, name="shift")
            one_plus = g.call_function("add", scale, 1.0, inline=True)
            h = g.call_function("mul", h, one_plus, name="h", inline=True)
            h = g.call_function(
                "add", h, shift, name="h", comment="the time embedding scales and shifts"
            )
        h = act.apply(g, activation, h, name="h", inline=True)
        h = g.call_module(conv2, h, name="h")
        identity = g.call_module(short, x, inline=True) if short else x
        if attention is None:
            g.output(g.call_function("add", identity, h))
            return
        h = g.call_function("add", identity, h, name="h")
        # an attention held by the block runs on its output (the DDPM order: a resnet, then the
        # attention over its map)
        g.output(g.call_module((attention,), h))

    def resample(self, match: Match, g: Graph, h, x):
        """The activated map and the input, where a resampling block (resampling_resnet.py)
        halves or doubles both before conv1; here unchanged."""
        return h, x

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        widths = {m.attr: m.io for m in modules(cls)}
        x = ExampleInput((2, widths[match.found[1]].in_width, 16, 16))
        proj = match.found[4]
        return [x, ExampleInput((2, widths[proj].in_width))] if proj else [x]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()

        return [
            Example(z["holder"](z["resnet"](8, 16, 12)), z["with_temb"](8, 12), META),
            Example(z["holder"](z["resnet"](8, 8, None)), z["image"](8), META),
            Example(
                z["holder"](z["resnet"](8, 16, 12, scale_shift=True)), z["with_temb"](8, 12), META
            ),
        ]
