"""A diffusion U-Net written by hand around a stack of skips (lucidrains' denoising-diffusion-
pytorch `Unet`, its 2020 first version, labml.ai's annotated DDPM `UNet`): `forward(x, time)`.

    x = init_conv(x); r = x                     # a stem conv (lucidrains 1.x, labml), or none
    t = time_mlp(sinusoids(time))               # the timestep's features, then an MLP
    for each level of `downs`: its resnets (each given t) and attentions run in turn, and maps are
        pushed on a stack; the level's sampler (if any) then shrinks the map
    mid blocks (resnet, attention, resnet)
    for each level of `ups`: a resnet whose input is wider than the map pops the latest pushed map
        and concatenates it (map first); the level's sampler (if any) then grows the map
    tail: a resnet over cat(x, r) (lucidrains 1.x), a norm and activation (labml), the last conv

Which maps are pushed leaves no key; which are popped, the widths show: an up resnet reading the
running width plus the top skip's concatenates it. `downs` and `ups` hold either one list per level
(lucidrains: [resnet, resnet, attention, sampler]) or the blocks flat (labml: blocks and samplers
in one list, the stem's output pushed first). In a list per level, an up level takes its skips
from its mirror down level (the last down level first): as many as its resnets pop, the outputs of
that level's last resnets (each with the attentions after it), lucidrains' `h.append` after
block1 and after the attention (1.x) or after the level's blocks (2020); flat, every map the down
path gives is pushed (labml's `h.append` after each block, the stem's first). The samplers'
strides leave no key either: a conv keeping the width resamples by two (a 3x3 stride 2 conv down,
a 4x4 transposed conv up), a 1x1 conv reading four times the width follows a space-to-depth step
(lucidrains' `Rearrange` downsample), an empty slot before a conv is nearest 2x upsampling; a 3x3
conv that changes the width keeps the size. The match then checks every pop reads a map of the
size it was pushed at and the output has the input's size.

The diffusion-from-scratch notebooks' SimpleUnet reads the same way with less: no middle, a stem
no name calls one (the conv giving what the first down block reads), a time MLP that opens with
the keyless sinusoidal slot and ends in an activation past its last key (a choice), and blocks
that hold their own sampler (blocks/timed_conv_block.py): each down block's output is pushed, an
up block reading the running width plus the top skip's pops it, and the block's even-kernel
sampler is a conv in `downs`, a transposed conv in `ups` (pinned per instance: the square kernel
cannot say). A class table as wide as the time features is added to them (conditional U-Nets).

The sinusoids follow lucidrains' SinusoidalPosEmb and labml's TimeEmbedding, in their float order:
sin first, frequencies 10000 ** (-i / (d/2 - 1)) (choices, by convention).
"""

from __future__ import annotations

import re

from codegen.ir import ExampleInput
from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks._unet_parts import PIXEL_ATTENTIONS
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin
from codegen.patterns.blocks.timed_conv_block import block_sampler

DOWNS, UPS = r"downs?", r"ups?"
TIME = r"time_mlp|time_emb|time_embed"
MID = r"mid(dle)?(_?(block|attn|res)_?\d*)?"
LAYOUT = "lucidrains' SinusoidalPosEmb and labml's TimeEmbedding (sin first) by convention"
WHY = "a hand-written diffusion U-Net's sampler (lucidrains', labml's)"
NORM_WHY = "labml's UNet: GroupNorm(8, n_channels) before the last conv"
FLAT_WHY = "the flat DDPM ports' time MLP (abarankab/DDPM, SR3): SiLU between the Linears"
TIME_WHY = "the timestep's sinusoids are computed by the U-Net's forward"
RESNET = "ResnetBlock"
HELD = "TimedBlock"  # blocks/timed_conv_block.py: a conv block holding its own sampler
HELD_WHY = "a block in `ups` grows the map with its sampler, one in `downs` shrinks it"
# A resnet block's first and last convs (lucidrains' Blocks, diffusers'/labml's convs)
FIRST, LAST = ("block1", "conv1", "in_layers"), ("block2", "conv2", "out_layers")
LISTS = {"modulelist", "sequential"}
STEM = r"init_conv|image_proj|conv_in"
# What follows a resnet in a level: an attention over the pixels (lucidrains' Residual(PreNorm(
# LinearAttention)), labml's AttentionBlock, diffusers'), or a wrapper around one.
ATTENTIONS = PIXEL_ATTENTIONS + ("Residual", "PixelAttention", "Attention")


def _io(m, end: str):
    width = getattr(m.io, end, None) if m is not None and m.io is not None else None
    return width if isinstance(width, int) else None


def _kids(m) -> list:
    return [c for c in m.children if c.kind != "placeholder"]


def _number(attr: str) -> int:
    found = re.search(r"(\d+)$", attr)
    return int(found.group(1)) if found else 0


def _lone_conv(ctx: BlockContext, m):
    """The one conv of a sampler item: itself, or a class's lone conv member."""
    if m.kind == "builtin":
        return m if family(m) == "conv" else None
    if m.kind == "class":
        held = ctx.classes.get(m.type_name)
        inner = modules(held) if held is not None and not tensors(held) else []
        if len(inner) == 1 and family(inner[0]) == "conv" and inner[0].kind == "builtin":
            return inner[0]
    return None


def _sampler(ctx: BlockContext, path, m, width, down: bool):
    """How a sampler item changes the map: (steps, width after, scale change, pins); None if it
    is not one. Steps: (path, takes t, unshuffle first)."""
    pins = []
    if m.kind == "sequential":
        kids = m.children
        real = _kids(m)
        if len(kids) != 2 or kids[0].kind != "placeholder" or len(real) != 1:
            return None
        conv = real[0]
        if down:
            # lucidrains 1.x / the annotated DDPM's Downsample: Sequential(Rearrange(space to
            # depth), 1x1 conv): the conv reads four times the width, so the keyless slot
            # before it folds each 2x2 patch into channels
            if family(conv) != "conv" or conv_kernel(conv) not in (1, (1, 1)):
                return None
            if _io(conv, "in_width") != 4 * width:
                return None
            pins.append(slot_pin(kids[0], "nn.PixelUnshuffle(2)", WHY))
            return [(path, False, False)], _io(conv, "out_width"), 1, pins
        if family(conv) != "conv" or _io(conv, "in_width") != width:
            return None
        pins.append(slot_pin(kids[0], "nn.Upsample(scale_factor=2.0)", WHY))
        pins += [arg_pin(conv, "stride", 1, WHY), arg_pin(conv, "padding", 1, WHY)]
        return [(path, False, False)], _io(conv, "out_width"), -1, pins
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = modules(held) if held is not None and not tensors(held) else []
    if len(inner) == 1 and inner[0].kind == "sequential":
        # a class holding the Sequential (abarankab's Upsample: `upsample` = [nearest 2x, conv])
        found = _sampler(ctx, path + (inner[0].attr,), inner[0], width, down)
        return found
    conv = _lone_conv(ctx, m)
    if conv is None:
        return None
    # this item's widths (a class shared by several keeps its first instance's in its conv)
    c_in, c_out, kernel = _io(m, "in_width"), _io(m, "out_width"), conv_kernel(conv)
    if None in (c_in, c_out, width):
        return None
    if down and kernel in (1, (1, 1)) and c_in == 4 * width:
        return [(path, False, True)], c_out, 1, pins  # space-to-depth, then the 1x1 conv
    if c_in != width:
        return None
    keeps = c_in != c_out if down else conv.type_name == "nn.Conv2d"
    if kernel in (3, (3, 3)) and keeps:  # lucidrains' last level: keeps the size
        pins += [arg_pin(conv, "stride", 1, WHY), arg_pin(conv, "padding", 1, WHY)]
        return [(path, False, False)], c_out, 0, pins
    if c_in != c_out:
        return None
    if down and kernel in (3, (3, 3)):
        pins += [arg_pin(conv, "stride", 2, WHY), arg_pin(conv, "padding", 1, WHY)]
        return [(path, False, False)], c_out, 1, pins
    if not down and kernel in (4, (4, 4)):
        choice = next((c for c in conv.choices if c.name == "module_type"), None)
        if conv.type_name != "nn.ConvTranspose2d" and choice is None:
            return None
        if choice is not None and conv.type_name != "nn.ConvTranspose2d":
            pins.append((choice.path, "module_type", "nn.ConvTranspose2d", WHY))
        pins += [arg_pin(conv, "stride", 2, WHY), arg_pin(conv, "padding", 1, WHY)]
        return [(path, False, False)], c_out, -1, pins
    return None


def _instance_io(ctx: BlockContext, path, m) -> dict:
    """The widths of a class member's own members at this instance (a class shared by several
    keeps its first instance's in its layers)."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if held is None:
        return {}
    at = ".".join(path)
    return next((w for (p, _), w in zip(held.instances, held.member_io) if p == at), None) or {}


def _widths(ctx: BlockContext, path, m) -> tuple:
    """What a block reads and gives: a resnet's first conv's input and last conv's output (its
    class's io may show its time projection's); for a block holding a resnet and an attention
    (labml's DownBlock), its resnet's."""
    if ctx.role(m) == RESNET:
        widths = _instance_io(ctx, path, m)
        first = next((widths[n] for n in FIRST if widths.get(n) is not None), None)
        last = next((widths[n] for n in LAST if widths.get(n) is not None), None)
        if first is None or last is None:
            return _io(m, "in_width"), _io(m, "out_width")
        return _io_of(first, "in_width"), _io_of(last, "out_width")
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if held is not None and ctx.role(m) == HELD:
        convs = [c for c in modules(held) if family(c) == "conv" and c is not block_sampler(held)]
        widths = _instance_io(ctx, path, m)
        ends = [widths.get(c.attr) for c in sorted(convs, key=lambda c: _number(c.attr))]
        if ends and None not in ends:
            return _io_of(ends[0], "in_width"), _io_of(ends[-1], "out_width")
        return _io(m, "in_width"), _io(m, "out_width")
    inner = [c for c in modules(held) if ctx.takes(c, "temb")] if held is not None else []
    if len(inner) != 1 or ctx.role(inner[0]) != RESNET:
        return _io(m, "in_width"), _io(m, "out_width")
    return _widths(ctx, path + (inner[0].attr,), inner[0])


def _io_of(spec, end: str):
    width = getattr(spec, end, None)
    return width if isinstance(width, int) else None


def _default_group_counts(ctx: BlockContext) -> bool:
    """Whether a resnet block's group norm keeps a default group count (labml's n_groups, 32 in
    its code, is an argument of every block): its output is then a guess, said here where the
    block's own pattern does not say it."""
    for cls in ctx.classes.values():
        if cls.forward is None or cls.forward.role != RESNET or cls.forward.trust != "inferred":
            continue
        for m in modules(cls):
            if any(
                a.choice and a.choice.name == "num_groups" and a.choice.source == "default"
                for a in m.args
            ):
                return True
    return False


def _block_step(ctx: BlockContext, path, m):
    """A block's call (path, takes t, space-to-depth first): a resnet given t (or a block of a
    resnet and its attention), or an attention; None for anything else (a sampler)."""
    if m.kind != "class":
        return None
    if ctx.takes(m, "temb"):
        return (path, True, False)
    if ctx.role(m) in ATTENTIONS:  # keeps the width (its io shows its first layer's, not that)
        return (path, False, False)
    return None


def _resnet_activation(ctx: BlockContext) -> str:
    """The activation the resnet blocks' layout identifies (time_scaled_resnet_block: Mish in
    lucidrains' 2020 U-Net, SiLU after)."""
    mish = any(
        c.name == "activation" and c.value == "mish"
        for k in ctx.classes.values()
        if k.forward is not None and k.forward.role == RESNET
        for c in k.forward.choices
    )
    return "mish" if mish else "silu"


def _linear_keys_pins(ctx: BlockContext) -> list:
    """lucidrains' 2020 Unet (its Mish resnets identify it) attends with its LinearAttention
    everywhere, the middle included: keys softmaxed, queries not (blocks/pixel_attention.py's
    "linear_keys"), where a bare `to_out` left the kind at its default."""
    why = "lucidrains' 2020 Unet: LinearAttention in every level and the middle"
    return [
        (c.path, "attention_kind", "linear_keys", why)
        for k in ctx.classes.values()
        if k.forward is not None
        for c in k.forward.choices
        if c.name == "attention_kind" and c.source == "default" and c.value != "linear_keys"
    ]


ANNOTATED_WHY = (
    "the annotated DDPM (huggingface blog) Unet, identified by its PreNorm's nn.GroupNorm(1, dim):"
    " WeightStandardizedConv2d Blocks, nn.SiLU, resnet_block_groups=4"
)
ANNOTATED_GROUPS = 4


def _annotated_pins(ctx: BlockContext) -> list:
    """The annotated diffusion blog's fork of lucidrains' 1.x Unet writes its PreNorm with a
    built-in nn.GroupNorm(1, dim) (keys `norm.weight`, `norm.bias`) where lucidrains' own holds a
    LayerNorm/RMSNorm gain `g`: that layout identifies the blog's code, whose resnet Blocks
    standardise their conv kernels and use GroupNorm(4) (`resnet_block_groups=4`). Both stay
    choices (the resnet classes say guessed) that calibration can move."""
    wrapped = [
        k
        for k in ctx.classes.values()
        if k.forward is not None and k.forward.role == "PreNorm" and not tensors(k)
    ]
    if not wrapped or not all(
        any(m.kind == "builtin" and m.type_name == "nn.GroupNorm" for m in modules(k))
        for k in wrapped
    ):
        return []
    pins, blocks = [], set()
    for k in ctx.classes.values():
        if k.forward is None or k.forward.role != RESNET or k.forward.pattern != "TimeScaledResnetBlock":
            continue
        pins += [
            (c.path, c.name, value, ANNOTATED_WHY)
            for c in k.forward.choices
            for name, value in (("weight_standardized", True), ("activation", "silu"))
            if c.name == name and c.source == "default"
        ]
        blocks |= {m.type_name for m in modules(k) if m.kind == "class"}
    # the count is read per norm (layers/norms.py): every instance's norm is pinned at once
    for name in blocks:
        block = ctx.classes.get(name)
        for m in modules(block) if block is not None else []:
            for a in m.args:
                c = a.choice
                if c is None or c.name != "num_groups" or c.source not in ("default", "structure"):
                    continue
                if c.value == ANNOTATED_GROUPS or ANNOTATED_GROUPS not in c.alternatives:
                    continue
                pins += [
                    (f"{at}.{m.attr}", "num_groups", ANNOTATED_GROUPS, ANNOTATED_WHY)
                    for at, _ in block.instances
                ]
    return pins


def _block_slot_pins(ctx: BlockContext, m) -> list:
    """The 2020 U-Net's `final_conv = Sequential(Block(dim, dim), Conv2d(dim, channels, 1))`: its
    Block is the resnets' (conv, norm, activation), the empty slot their activation."""
    first = _kids(m)[0] if _kids(m) else None
    held = ctx.classes.get(first.type_name) if first is not None and first.kind == "class" else None
    body = modules(held) if held is not None else []
    if len(body) != 1 or body[0].kind != "sequential":
        return []
    value = act.MODULES[_resnet_activation(ctx)]
    why = "lucidrains' Block: conv, norm, the resnets' activation"
    # addressed by this instance's path: the class's own choice is its first instance's
    at = f"{m.attr}.{first.attr}.{body[0].attr}"
    pins = [
        (f"{at}.{c.attr}", "module_type", value, why)
        for c in body[0].children
        if c.kind == "placeholder" and c.type_name != value.split("(")[0]
    ]
    # ... and the activation of the pattern that reads the Block (a conv stem's own choice)
    own = held.forward.choices if held.forward is not None else []
    return pins + [
        (c.path, "activation", _resnet_activation(ctx), why)
        for c in own
        if c.name == "activation" and c.source == "default"
    ]


def _time(ctx: BlockContext, time, flat: bool = False):
    """(the time MLP's path, how many sinusoids it reads, pins, whether an activation past its
    last key closes it); None if it is not one."""
    if time.kind == "sequential":
        kids, real = time.children, _kids(time)
        if len(kids) == 2 and kids[0].kind == "placeholder" and family(kids[1]) == "linear":
            # the notebooks' Sequential(SinusoidalPositionEmbeddings, Linear, ReLU): the slot
            # computes the sinusoids, the ReLU after the Linear leaves no index (a choice)
            pins = [slot_pin(kids[0], "nn.Identity()", TIME_WHY)]
            return (time.attr,), _io(kids[1], "in_width"), pins, True
        if len(real) != 2 or any(family(c) != "linear" for c in real) or len(kids) != 4:
            return None
        if kids[0].kind != "placeholder" or kids[2].kind != "placeholder":
            return None
        # lucidrains: GELU between the Linears (1.x); Mish in the 2020 version, whose resnet
        # blocks use Mish too (the layout of their time MLP says which, time_scaled_resnet_block)
        # The flat ports (abarankab/DDPM, SR3: one list of blocks, Ho et al.'s layout) use SiLU
        mish = _resnet_activation(ctx) == "mish"
        between = "mish" if mish else "silu" if flat else "gelu"
        pins = [
            slot_pin(kids[0], "nn.Identity()", TIME_WHY),
            slot_pin(kids[2], act.MODULES[between], FLAT_WHY if flat else LAYOUT),
        ]
        return (time.attr,), _io(real[0], "in_width"), pins, False
    held = ctx.classes.get(time.type_name) if time.kind == "class" else None
    if held is None or ctx.role(time) != "MLP":
        return None
    linears = [m for m in modules(held) if family(m) == "linear"]
    if len(linears) != 2:
        return None
    first = min(linears, key=lambda m: _number(m.attr))
    pins = [
        (c.path, "activation", "silu", "labml's TimeEmbedding: Swish between the two")
        for c in held.forward.choices
        if c.name == "activation" and c.source == "default" and c.value != "silu"
    ]
    return (time.attr,), _io(first, "in_width"), pins, False


def _mid(ctx: BlockContext, mids, width):
    """The middle: one class called with (x, t), or members resnet, attention, resnet."""
    if not mids:  # the notebooks' U-Nets go straight from the down path to the up path
        return []
    if len(mids) == 1 and mids[0].kind == "class" and ctx.role(mids[0]) == "MidBlock":
        return [((mids[0].attr,), ctx.takes(mids[0], "temb"))]
    if len(mids) == 1 and mids[0].kind in LISTS:
        # abarankab's and SR3's `mid` ModuleList: its blocks (each given t) in index order,
        # keeping the width
        items = sorted(_kids(mids[0]), key=lambda c: _number(c.attr))
        if not items or not all(ctx.takes(m, "temb") for m in items):
            return None
        for m in items:
            if _io(m, "in_width") not in (None, width) or _io(m, "out_width") not in (None, width):
                return None
        return [((mids[0].attr, m.attr), True) for m in items]
    resnets = sorted((m for m in mids if ctx.takes(m, "temb")), key=lambda m: _number(m.attr))
    others = [m for m in mids if m not in resnets]
    if len(resnets) != 2 or len(others) != 1 or ctx.role(others[0]) not in ATTENTIONS:
        return None
    order = [resnets[0], others[0], resnets[1]]
    for m in resnets:
        if _io(m, "in_width") not in (None, width) or _io(m, "out_width") not in (None, width):
            return None
    return [((m.attr,), ctx.takes(m, "temb")) for m in order]


def _tail(ctx: BlockContext, tail, width, stem_width, entry):
    """After the up path: a resnet (over cat(x, r) where it reads both), a norm, a conv."""
    steps, pins = [], []
    resnets = [m for m in tail if ctx.takes(m, "temb")]
    norms = [m for m in tail if family(m) == "norm" and m.kind == "builtin"]
    convs = [m for m in tail if m not in resnets + norms]
    if len(resnets) > 1 or len(norms) > 1 or len(convs) != 1:
        return None
    if resnets:
        reads = _io(resnets[0], "in_width")
        if stem_width is not None and reads == width + stem_width:
            steps.append(("resnet_skip", (resnets[0].attr,)))
        elif reads in (None, width):
            steps.append(("resnet", (resnets[0].attr,)))
        else:
            return None
        width = _io(resnets[0], "out_width") or width
    if norms:
        if _io(norms[0], "in_width") not in (None, width):
            return None
        steps.append(("norm", (norms[0].attr,)))
        # a norm over the feature map before the last conv: labml's GroupNorm(8, n_channels)
        norm = norms[0]
        kind = next((c for c in norm.choices if c.name == "module_type"), None)
        if kind is not None and kind.source == "default" and norm.type_name != "nn.GroupNorm":
            pins.append((kind.path, "module_type", "nn.GroupNorm", NORM_WHY))
        pins.append((norm.attr, "num_groups", 8, NORM_WHY))
    conv = convs[0]
    if conv.kind == "builtin" and family(conv) == "conv":
        pad = 1 if conv_kernel(conv) in (3, (3, 3)) else 0
        pins += [arg_pin(conv, "stride", 1, WHY), arg_pin(conv, "padding", pad, WHY)]
    elif conv.kind == "sequential":
        pins += _block_slot_pins(ctx, conv)
    else:
        return None
    if _io(conv, "in_width") not in (None, width) or _io(conv, "out_width") != entry:
        return None
    steps.append(("conv", (conv.attr,)))
    return steps, pins


def _table_joins(ctx: BlockContext, time, features, width):
    """Where a class table of `width` joins the timestep's features: "mlp" (after the time MLP,
    where its output has that width), "sinusoids" (before it, where only its input does)."""
    kids = [c for c in _kids(time) if family(c) == "linear"] if time.kind == "sequential" else []
    out = _io(kids[-1], "out_width") if kids else None
    if out == width:
        return "mlp"
    return "sinusoids" if features == width else None


def _unnamed_stem(ctx: BlockContext, convs, downs):
    """Of two convs no name calls a stem (the notebooks' conv0 and output), the one giving what
    the first down block reads while the other gives what it reads (the image's channels); None
    where both or neither do."""
    first = _kids(downs)[0]
    if first.kind in LISTS:
        return None
    reads = _widths(ctx, (downs.attr, first.attr), first)[0]
    fits = [
        a
        for a, b in (convs, convs[::-1])
        if reads is not None
        and _io(a, "out_width") == reads
        and _io(b, "out_width") == _io(a, "in_width")
    ]
    return fits[0] if len(fits) == 1 else None


class SkipStackUNet(BlockPattern):
    role = "UNet"
    priority = 8

    accepts = Accepts(tensors=False, names=(DOWNS, UPS, TIME))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        downs, ups = one_named(members, DOWNS), one_named(members, UPS)
        time = one_named(members, TIME)
        if None in (downs, ups, time):
            return None
        if {downs.kind, ups.kind} - LISTS:
            return None
        if not _kids(downs) or not _kids(ups):
            return None
        mids = [m for m in members if re.fullmatch(MID, m.attr, re.IGNORECASE)]
        rest = [m for m in members if m not in mids and m not in (downs, ups, time)]
        flat = not any(c.kind in LISTS for c in _kids(downs) + _kids(ups))
        timing = _time(ctx, time, flat)
        if timing is None:
            return None
        # a class-conditional U-Net: one table of class vectors as wide as the time features,
        # added to them (`t = t + label_emb(y)`); as wide as the sinusoids alone, added to those
        tables = [m for m in rest if family(m) == "embedding" and m.kind == "builtin"]
        if len(tables) > 1:
            return None
        table, joins = (tables[0] if tables else None), None
        if table is not None:
            rest.remove(table)
            joins = _table_joins(ctx, time, timing[1], _io(table, "out_width"))
            if joins is None:
                return None
        convs = [m for m in rest if family(m) == "conv" and m.kind == "builtin"]
        stems = [m for m in convs if re.fullmatch(STEM, m.attr, re.IGNORECASE)]
        stem = stems[0] if len(stems) == 1 else None
        if stem is None and len(convs) == len(rest) == 2:
            stem = _unnamed_stem(ctx, convs, downs)
        tail = [m for m in rest if m is not stem]
        nested = all(c.kind in LISTS for c in _kids(downs) + _kids(ups))
        if not nested and any(c.kind in LISTS for c in _kids(downs)):
            return None
        if stem is not None:
            entry, width = _io(stem, "in_width"), _io(stem, "out_width")
        else:
            first = _kids(downs)[0]
            first = _kids(first)[0] if nested and _kids(first) else first
            entry = width = _io(first, "in_width")
        if width is None or entry is None:
            return None
        pins = list(timing[2])
        if stem is not None:  # the stem keeps the size: the skips and r are at the input's
            kernel = conv_kernel(stem)
            kernel = kernel[0] if isinstance(kernel, tuple) else kernel
            pins += [arg_pin(stem, "stride", 1, WHY), arg_pin(stem, "padding", kernel // 2, WHY)]
        walk = _Walk(ctx, pins)
        if stem is not None and not nested:
            walk.stack.append(("stem", width, 0))  # labml: h = [x] after the stem
        if nested:
            levels = [
                [((downs.attr, lv.attr, c.attr), c) for c in _kids(lv)] for lv in _kids(downs)
            ]
        else:
            levels = [[((downs.attr, c.attr), c) for c in _kids(downs)]]
        for items in levels:
            if not walk.down_level(items, width, every=not nested):
                return None
            width = walk.width
        mid = _mid(ctx, mids, width)
        if mid is None:
            return None
        if nested:
            ups_levels = [
                [((ups.attr, lv.attr, c.attr), c) for c in _kids(lv)] for lv in _kids(ups)
            ]
        else:
            ups_levels = [[((ups.attr, c.attr), c) for c in _kids(ups)]]
        for j, items in enumerate(ups_levels):
            mirror = len(levels) - 1 - j if nested else None
            if nested and mirror < 0:
                return None
            if not walk.up_level(items, mirror):
                return None
        end = _tail(ctx, tail, walk.width, _io(stem, "out_width") if stem else None, entry)
        if end is None or walk.scale != 0 or not any(p for p in walk.up_plan if p[2]):
            return None
        tail_steps, tail_pins = end
        pins += tail_pins + _annotated_pins(ctx)
        choices = []
        flip = ctx.choose(cls, time.attr, "flip_sin_to_cos", False, [True], "cos features first")
        shift = ctx.choose(
            cls, time.attr, "freq_shift", 1, [0], "frequencies 1e4 ** (-i / (d/2 - shift))"
        )
        for c in (flip, shift):  # a convention calibration can still move (SR3's, abarankab's
            if c.source == "default":  # frequencies 1e4 ** (-i / (d/2)): shift 0)
                c.source, c.note = "structure", LAYOUT
        choices = [flip, shift]
        norm = next((path for kind, path in tail_steps if kind == "norm"), None)
        if norm is not None:
            choices.append(
                ctx.choose(
                    cls,
                    norm[0],
                    "activation",
                    "silu",
                    act.alternatives("silu"),
                    "after the last norm (labml's Swish)",
                )
            )
        closing = None
        if timing[3]:  # an activation past the time MLP's last key: the notebooks' ReLU
            closing = len(choices)
            choices.append(
                ctx.choose(
                    cls,
                    time.attr,
                    "activation",
                    "relu",
                    act.alternatives("relu") + ["identity"],
                    "after the time MLP's Linear (the notebooks' nn.ReLU, past the last key)",
                )
            )
        found = dict(
            stem=(stem.attr,) if stem else None,
            closing=closing,
            table=(table.attr,) if table is not None else None,
            joins=joins,
            classes=table.io.vocab if table is not None else None,
            time=timing[0],
            features=timing[1],
            downs=walk.down_plan,
            mid=mid,
            ups=walk.up_plan,
            tail=tail_steps,
            channels=entry,
        )
        if _resnet_activation(ctx) == "mish":
            pins += _linear_keys_pins(ctx)
        guessed = ""
        if closing is not None and choices[closing].source in ("default", "calibrated"):
            guessed = "the activation closing the time MLP: no key records it (a default)"
        if joins == "mlp" and timing[1] == _io(table, "out_width"):
            guessed = "the class table is as wide as the sinusoids and the time MLP's output: read "
            guessed += "as added after the MLP"
        if _default_group_counts(ctx):
            guessed = "the resnet blocks' group count: no key records it (a default)"
        return Match(
            self, len(members), found, choices, guessed=guessed, pins=[p for p in pins if p]
        )

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        flip, shift = match.choices[0].value, match.choices[1].value
        x, time = g.input("x"), g.input("time")
        labels = g.input("labels") if f["table"] is not None else None
        if not flip and shift == 1:  # the repositories' own layout, in their float order
            features = g.call_function(
                "sinusoidal_position_embedding", time, f["features"], name="t", inline=True
            )
        else:
            features = g.call_function(
                "timestep_embedding", time, f["features"], bool(flip), float(shift), inline=True
            )
        if f["joins"] == "sinusoids":
            c = g.call_module(f["table"], labels, inline=True)
            features = g.call_function("add", features, c, name="t", comment="the class's vector")
        t = g.call_module(f["time"], features, name="t", comment="[batch, time embedding]")
        if f["closing"] is not None:
            t = act.apply(g, match.choices[f["closing"]].value, t, name="t")
        if f["joins"] == "mlp":
            c = g.call_module(f["table"], labels, inline=True)
            t = g.call_function("add", t, c, name="t", comment="the class's vector")
        kept = {}
        if f["stem"] is not None:
            # the stem's map comes back at the end: concatenated before the last resnet
            # (lucidrains' `r`), or as the first skip (labml's `h = [x]`)
            popped = any(skip == "stem" for _, _, skip in f["ups"])
            name = "r" if any(k == "resnet_skip" for k, _ in f["tail"]) else "x"
            name = "skip" if popped else name
            x = kept["stem"] = g.call_module(f["stem"], x, name=name)

        def call(step, h, name="x"):
            path, timed, unshuffle = step
            if unshuffle:
                h = g.call_function(
                    "pixel_unshuffle", h, 2, name="x", comment="space to depth: 4x the channels"
                )
            return g.call_module(path, h, *((t,) if timed else ()), name=name)

        for step, keep in f["downs"]:
            x = call(step, x, "skip" if keep is not None else "x")  # a skip: kept for the up path
            if keep is not None:
                kept[keep] = x
        for path, timed in f["mid"]:
            x = g.call_module(path, x, *((t,) if timed else ()), name="x")
        for step, _, skip in f["ups"]:
            if skip is not None:
                x = g.call_function(
                    "cat", [x, kept[skip]], kwargs={"dim": 1}, name="x", inline=True
                )
            x = call(step, x)
        for kind, path in f["tail"]:
            if kind == "resnet_skip":
                x = g.call_function(
                    "cat", [x, kept["stem"]], kwargs={"dim": 1}, name="x", inline=True
                )
            if kind.startswith("resnet"):
                x = g.call_module(path, x, t, name="x")
            elif kind == "norm":
                x = g.call_module(path, x, name="x", inline=True)
                x = act.apply(g, match.choices[2].value, x, name="x", inline=True)
            else:
                x = g.call_module(path, x)
        g.output(x)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        channels = match.found["channels"] or 3
        inputs = [ExampleInput((2, channels, 16, 16)), ExampleInput((2,), 1000)]
        if match.found.get("classes"):
            inputs.append(ExampleInput((2,), match.found["classes"]))
        return inputs

    @staticmethod
    def examples():
        from codegen.patterns.families._skip_stack_examples import examples

        return examples()


class _Walk:
    """The down and up paths as calls, with the stack of skips: what each pop reads is checked
    against the widths and sizes of what was pushed."""

    def __init__(self, ctx: BlockContext, pins: list) -> None:
        self.ctx, self.pins = ctx, pins
        self.width, self.scale = None, 0
        self.down_plan: list = []  # (step, id of the kept map or None)
        self.up_plan: list = []  # (step, takes t, id of the popped map or None)
        self.stack: list = []  # flat: (id, width, scale) of every map pushed
        self.levels: list = []  # per level: [(id, width, scale)] of its units' outputs

    def _resample(self, path, m, down: bool):
        """A sampler's calls, the width and size it leaves, its pins; None if it is not one."""
        sampled = _sampler(self.ctx, path, m, self.width, down)
        if sampled is None:
            return None
        calls, self.width, change, more = sampled
        self.pins += more
        self.scale += change
        return calls

    def _held_sampler(self, path, m, down: bool) -> None:
        """A block holding its own sampler (blocks/timed_conv_block.py) resamples the map after
        its convs: a 4x4 (2x2) kernel by two, pinned per instance, since a class may serve both
        paths: a conv in `downs`, a transposed conv in `ups` (the square kernel cannot say)."""
        held = self.ctx.classes.get(m.type_name) if m.kind == "class" else None
        if held is None or self.ctx.role(m) != HELD:
            return
        sampler = block_sampler(held)
        if sampler is None:
            return
        kernel = conv_kernel(sampler)
        kernel = kernel[0] if isinstance(kernel, tuple) else kernel
        at = ".".join(path + (sampler.attr,))
        value = "nn.Conv2d" if down else "nn.ConvTranspose2d"
        self.pins.append((at, "module_type", value, HELD_WHY))
        for keyword, number in (("stride", 2), ("padding", (kernel - 2) // 2)):
            if arg_pin(sampler, keyword, number, HELD_WHY) is not None:
                self.pins.append((at, keyword, number, HELD_WHY))
        self.scale += 1 if down else -1

    def _keep_last(self) -> tuple:
        """Mark the latest down step's output as kept: (its id, width, size)."""
        key = f"h{len(self.down_plan)}"
        self.down_plan[-1] = (self.down_plan[-1][0], key)
        return key, self.width, self.scale

    def down_level(self, items, width, every: bool) -> bool:
        """One level's items (flat: the whole down path): units (a resnet and the blocks after
        it) and a last sampler. Nested: each unit's output is a candidate skip of the level;
        flat (`every`): every item's output is pushed."""
        ctx, self.width, units, unit_open = self.ctx, width, [], False
        for i, (path, m) in enumerate(items):
            step = _block_step(ctx, path, m)
            if step is not None:
                reads, gives = _widths(ctx, path, m)
                if step[1] and reads not in (None, self.width):
                    return False
                if step[1] and unit_open and not every:  # a resnet closes the unit before it
                    units.append(self._keep_last())
                unit_open = unit_open or step[1]
                if not unit_open:
                    return False
                self.down_plan.append((step, None))
                if step[1]:
                    self.width = gives or self.width
                self._held_sampler(path, m, True)
            else:
                if not every and (i != len(items) - 1 or not unit_open):
                    return False
                if not every:
                    units.append(self._keep_last())
                    unit_open = False
                calls = self._resample(path, m, True)
                if calls is None:
                    return False
                self.down_plan += [(c, None) for c in calls]
            if every:
                self.stack.append(self._keep_last())
        if not every:
            if unit_open:
                units.append(self._keep_last())
            self.levels.append(units)
        return bool(units) or every

    def up_level(self, items, mirror) -> bool:
        """One up level (flat: the whole up path): a block reading the running width plus the
        latest skip's pops and concatenates it; a block reading the running width does not."""
        ctx = self.ctx
        stack = list(reversed(self.levels[mirror])) if mirror is not None else None
        for i, (path, m) in enumerate(items):
            reads, gives = _widths(ctx, path, m)
            source = stack if stack is not None else self.stack
            top = (source[0] if stack is not None else source[-1]) if source else None
            step = _block_step(ctx, path, m)
            if step is not None:
                if step[1] and top is not None and reads == self.width + top[1]:
                    if top[2] != self.scale:
                        return False
                    source.remove(top)
                    self.up_plan.append((step, step[1], top[0]))
                elif reads in (None, self.width):
                    self.up_plan.append((step, step[1], None))
                elif step[1]:
                    return False
                else:
                    self.up_plan.append((step, step[1], None))
                if step[1]:
                    self.width = gives or self.width
                self._held_sampler(path, m, False)
                continue
            if mirror is not None and i != len(items) - 1:
                return False
            calls = self._resample(path, m, False)
            if calls is None:
                return False
            self.up_plan += [(c, False, None) for c in calls]
        return True
