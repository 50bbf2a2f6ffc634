"""A residual layer written as a body Sequential beside a shortcut (Hugging Face's ResNet basic and
bottleneck layers, RegNet's X and Y layers): `act(body(x) + shortcut(x))`.

The body is a Sequential of conv-norm units (`[conv, norm]` Sequentials or classes holding one conv
and one norm), possibly with a squeeze-excitation between them; every unit but the last is followed
by the activation. The shortcut is one more conv-norm unit, projecting where the widths or the
resolution change; where it holds no tensors (an identity) the class has the body alone, and then
the residual is a choice: a body that maps the width back to itself could also be a plain stack.
Units are called conv then norm directly, so a unit class the checkpoint cannot tell apart (with or
without its own trailing activation) never decides what the layer computes.

Other repositories write the same block as two sibling Sequentials under any names
(pytorch-cifar100's `residual` + `shortcut`, fastai's `convpath` + `idpath`, `left` + `right`,
`branch` + `skip`): the shortcut is the one pointwise projection (with or without its norm, after
a keyless pooling slot) beside a body of two or more convs (blocks/_sibling_paths.py); a
squeeze-excitation beside them (a class, or a Sequential of two Linears or 1x1 convs) rescales the
body's output before the sum; a body whose first item is a norm as wide as its first conv reads is
pre-activation (`BN-ReLU-conv` each, the sum left bare). Whether two such paths are summed at all,
rather than concatenated, is what the block's consumer reads (analyze/joins.py): where nothing
proves it and no name says shortcut, the layer says it guessed.
"""

from __future__ import annotations

import re
from dataclasses import replace

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
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks._path_join import CONCAT, SUM, joined
from codegen.patterns.blocks._sibling_paths import inline_gate, preact_steps, projection
from codegen.patterns.blocks.chain import _unflattens_into, numbered_name
from codegen.patterns.blocks.padded_resnet_block import slot_pin
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns.blocks.squeeze_excite import channel_gate, gate_width

# Blocks whose own forward adds their input back: a lone member of that role is a block called
# whole, never the body of one more residual.
OWN_RESIDUAL = {"InvertedResidual", "GhostBottleneck"}


class ResidualLayer(BlockPattern):
    role = "ResidualLayer"
    priority = 20  # more than a chain of the same members: it knows the residual
    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        split = _split_shortcut(members)
        if split is not None:  # pycls' ResBottleneckBlock: `proj` and its norm `bn` beside `f`
            members = [m for m in members if m is not split[1]]
        if tensors(cls) or joined(cls, ctx) == CONCAT:
            return None  # (what reads the block takes its paths' total width: side by side)
        # A squeeze-excitation beside the body (a class, or a Sequential of its two layers)
        # rescales the body's output before the sum (SE-ResNet, Hu et al. 2018).
        gates = [m for m in members if channel_gate(m, ctx) or inline_gate(m, ctx)]
        if len(gates) > 1 or (gates and len(members) == 1):
            return None
        members = [m for m in members if m not in gates]
        if not 1 <= len(members) <= 2:
            return None
        bodies = [m for m in members if m.kind in ("sequential", "repeat")]
        classes = [m for m in members if m.kind == "class"]
        named_shortcut = [m for m in members if m.attr.lower() in SHORTCUT_NAMES]
        body_classes = [m for m in classes if m not in named_shortcut]
        if len(body_classes) == 1 and len(members) - 1 == len(named_shortcut):
            # A body class of named steps (torchvision's RegNet `f` = {a, b, se, c}), alone or
            # beside a shortcut Sequential (`proj` = [conv, norm]) or unit class (imgclsmob's
            # `identity_conv`, a ConvBlock).
            bodies = body_classes
        if len(bodies) == 2:
            # Which Sequential is the shortcut: the one projection (one pointwise conv) beside a
            # body of two or more convs, whatever the names (`residual` is pytorch-cifar100's
            # body, `idpath` fastai's shortcut); else the one named as a shortcut.
            # Beside a pre-activation body the projection may be spatial (rishikksh20's
            # ResUnet: a 3x3 conv and its norm, strided with the body's first conv).
            spatial = any(b.kind == "sequential" and preact_steps(b) for b in bodies)
            projections = [b for b in bodies if projection(b, ctx, spatial) is not None]
            if len(projections) == 1:
                bodies = [b for b in bodies if b is not projections[0]]
            elif len(named_shortcut) == 1 and named_shortcut[0] in bodies:
                bodies = [b for b in bodies if b is not named_shortcut[0]]
        if len(bodies) != 1:
            return None
        body = bodies[0]
        shortcut = next((m for m in members if m is not body), None)
        guessed = ""
        if body.kind == "class" and ctx.role(body) in OWN_RESIDUAL:
            return None  # a stage holding one such block (imgclsmob's `stage1.unit1`)
        if body.kind == "class":
            found = _class_body_steps(body, ctx)
            if found is None:
                return None
            steps, guessed = found
        else:
            steps = preact_steps(body) if body.kind == "sequential" else None
            steps = steps or _body_steps(body, _count(cls, body), ctx)
        if steps is None:
            return None
        preact = steps[0][0] == "pre"
        if preact:
            c_in, c_out = steps[0][3].io.in_width, steps[-1][3].io.out_width
        else:
            units = [s for s in steps if s[0] == "unit"]
            c_in, c_out = units[0][1].in_width, units[-1][1].out_width
        if body.kind == "class" and body.io is not None:  # its members are its first instance's
            c_in, c_out = body.io.in_width, body.io.out_width
        short = None
        if shortcut is not None:
            spatial = body.kind == "sequential" and preact_steps(body) is not None
            found_short = projection(shortcut, ctx, spatial)
            if split is not None and found_short is not None and shortcut is split[0]:
                found_short.unit = replace(found_short.unit, norm=(split[1].attr,))
            if found_short is None:
                return None
            short = found_short
            if (short.unit.in_width, short.unit.out_width) != (c_in, c_out):
                return None
            unnamed = shortcut.attr.lower() not in SHORTCUT_NAMES
            if unnamed and joined(cls, ctx) != SUM and not guessed:
                guessed = (
                    f"{shortcut.attr}, a projection beside {body.attr}, is read as its "
                    "shortcut (summed); nothing that reads the block proves a sum rather than "
                    "a concatenation"
                )
        choices = []
        if short is None:
            if c_in is None or c_in != c_out:
                return None
            # No shortcut keys: an identity shortcut, or no residual at all (a plain stack).
            choices.append(
                ctx.choose(
                    cls,
                    body.attr,
                    "residual",
                    "add",
                    ["none"],
                    "an identity shortcut leaves no keys",
                )
            )
        flat = body.kind == "sequential" and any(c.kind == "placeholder" for c in body.children)
        if flat and short is None and not guessed and not shortcut_elsewhere(cls, ctx):
            guessed = (
                f"no shortcut keys, and no other block of the model has a shortcut: {body.attr} "
                "could also be a plain stack; read as adding its input (a choice)"
            )
        activation = ctx.choose(
            cls,
            body.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            (
                "after each norm, and after the sum"
                if not preact
                else "after each norm (a pre-activation body: the sum is left as it is)"
            ),
        )
        if between := act.inside_blocks(ctx, cls, body.attr, activation):
            choices.append(between)  # HF ResNet: hidden_act after the sum, relu inside
        if flat and short is None and not preact and not shortcut_elsewhere(cls, ctx):
            choices.append(_after_sum_choice(cls, ctx, body))
        gate = None
        if gates:
            gate, gate_choices, why = _gate_plan(cls, ctx, gates[0], body, c_out, flat)
            if gate is None:
                return None
            choices += gate_choices
            guessed = guessed or why
        if short is not None and short.slots and not guessed:
            guessed = (
                f"{shortcut.attr}'s keyless slot before its 1x1 conv holds what the analysis "
                "reads there (ResNet-D's and fastai's average pool where the block downsamples)"
            )
        resample, resampler, pins = None, None, []
        if preact and short is None and steps[0][4]:
            resample = _resample_choice(cls, ctx, body)
            choices.append(resample)
            # The slot is printed as the layer it is read as, and called where it holds it.
            slot = next(c for c in body.children if c.attr == steps[0][4][0][1])
            layer = RESAMPLERS.get(resample.value)
            if layer is not None:
                pins = [p for p in [slot_pin(slot, layer, "the choice resample")] if p]
                resampler = steps[0][4][0] if slot.choices[0].value == layer else None
        inner = act.inside_value([activation] + choices, activation.value)
        slots_at = {c.attr: c for c in body.children} if body.kind == "sequential" else {}
        held = {
            s[1]
            for s in steps
            if s[0] in ("slot", "act") and act.holds(slots_at.get(s[1][1]), inner)
        }
        found = (steps, short, gate, preact, held, resampler)
        dropped = [".".join(p) for s in steps if s[0] == "pre" for p in s[4]]
        if resample is not None and resample.value != "none":
            guessed = (
                f"{'.'.join(steps[0][4][0])}, a second keyless slot after the first norm's "
                f"activation, is read as {RESAMPLED[resample.value]} of the body's map and of "
                "the input it adds back (the choice resample)" + (f"; {guessed}" if guessed else "")
            )
        if dropped and not guessed:
            guessed = (
                f"{', '.join(dropped)}: a second keyless slot after a norm's activation, read as "
                "a dropout (identity in eval: the Wide ResNet's BN-ReLU-dropout-conv)"
            )
        slots = [".".join(s[1]) for s in steps if s[0] == "slot"]
        if slots and not guessed:
            guessed = (
                f"{', '.join(slots)}: a keyless slot between two conv-norm units, read as their "
                "activation"
            )
        size = len(members) + len(gates) + len([s for s in steps if s[0] in ("unit", "pre")])
        return Match(self, size, found, [activation] + choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        steps, short, gate, preact, held, resampler = match.found
        after_sum = "identity" if preact else match.choices[0].value
        activation = act.inside_value(match.choices, match.choices[0].value)
        values = {c.name: c.value for c in match.choices}
        if values.get("after_sum") == "none":
            after_sum = "identity"  # the sum is the block's output (EDSR's, CycleGAN's blocks)
        residual = values.get("residual", "add") == "add"
        resample = values.get("resample", "none")
        x = g.input("x")
        out = x
        units = [i for i, s in enumerate(steps) if s[0] == "unit"]
        last = max(units) if units else None
        for i, step in enumerate(steps):
            kind, item = step[0], step[1]
            if kind == "se":
                out = g.call_module(item, out, name="out", comment="squeeze-excitation")
                continue
            if kind in ("slot", "act"):  # the activation, after the unit before it
                if item in held:  # the body's own layer for it: called, not copied (act.holds)
                    out = g.call_module(item, out, name="out")
                continue
            if kind == "pre":  # norm, activation, conv (a dropout slot is identity in eval)
                out = g.call_module(item, out, name="out", inline=True)
                out = act.apply(g, activation, out, name="out", inline=True)
                if i == 0 and resampler is not None:
                    out = g.call_module(resampler, out, name="out", inline=True)
                elif i == 0 and resample != "none":
                    out = _resampled(g, resample, out, "out")
                out = g.call_module(step[2], out, name="out")
                continue
            out = g.call_module(item.conv, out, name="out", inline=True)
            after = steps[i + 1] if i + 1 < len(steps) else ("",)
            called = after[0] in ("slot", "act") and after[1] in held
            out = g.call_module(item.norm, out, name="out", inline=i != last)
            if i != last and not called:
                out = act.apply(g, activation, out, name="out")
        if gate is not None:
            out = _apply_gate(g, gate, values, activation, out)
        if residual:
            identity = x if resample == "none" else _resampled(g, resample, x, "identity")
            if short is not None:
                for slot in short.slots:  # (its average pool, where the block downsamples)
                    identity = g.call_module(slot, identity, name="identity", inline=True)
                normed = short.unit.norm is not None
                identity = g.call_module(short.unit.conv, identity, inline=normed)
                if normed:
                    identity = g.call_module(short.unit.norm, identity, name="shortcut")
            out = g.call_function("add", out, identity, name="out")
        g.output(act.apply(g, after_sum, out, name="out", inline=True))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._vision_examples import modules as zoo

        z = zoo()
        x = torch.randn(2, 8, 8, 8)
        return [
            Example(z["hf_residual_stage"]("basic", 8, 16, 2), (x,)),
            Example(z["hf_residual_stage"]("bottleneck", 8, 32, 1), (x,)),
            Example(z["hf_residual_stage"]("bottleneck", 8, 16, 2), (x,)),
            Example(z["hf_residual_stage"]("basic", 8, 8, 1), (x,)),
            Example(_spatial_skip_stack(), (x,)),
        ]


def _spatial_skip_stack():
    """Pre-activation blocks beside a 3x3 conv-norm projection, widening (ResUnet's
    ResidualConv under other names), chained in a Sequential; norms randomised."""
    import torch.nn as nn

    from codegen.patterns.blocks._vision_examples import _randomise_norms

    class PreBlock(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.main = nn.Sequential(
                nn.BatchNorm2d(c_in),
                nn.ReLU(),
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=1),
            )
            self.side = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out))

        def forward(self, x):
            return self.main(x) + self.side(x)

    model = nn.Sequential(PreBlock(8, 12), PreBlock(12, 6))
    _randomise_norms(model)
    return model.eval()


# Why an image-to-image net's residual block leaves its sum bare: its layers upsample back what
# they downsampled (a transposed conv), and no block projects a shortcut (no classifier trunk).
BARE_SUM = (
    "the residual blocks of a net that upsamples its map back (a transposed conv) and projects "
    "no shortcut: an image-to-image generator's, whose sum is the block's output (Johnson et al. "
    "2016's and CycleGAN's ResnetBlock, StarGAN's ResidualBlock, MUNIT's ResBlock, the VQ-VAE's "
    "residual stack; EDSR, Lim et al. 2017, drops the activation after the sum)"
)


def _after_sum_choice(cls, ctx: BlockContext, body):
    """Whether the block activates the sum (a ResNet classifier's `relu(out + x)`) or returns it
    bare (`x + main(x)`): no key tells, where the body is one Sequential and no shortcut shows
    which residual code wrote it. Bare by default where the model upsamples back (BARE_SUM)."""
    bare = upsamples_back(ctx)
    choice = ctx.choose(
        cls,
        body.attr,
        "after_sum",
        "none" if bare else "activation",
        ["activation" if bare else "none"],
        "the block's activation after the sum, or none: the sum is the block's output",
    )
    return act.mark_family(choice, BARE_SUM if bare else "")


# What the resample choice reads a pre-activation body's second keyless slot as.
RESAMPLED = {
    "none": "a dropout (identity in eval)",
    "nearest": "a 2x nearest upsampling",
    "avg_pool": "a 2x2 average pool",
}
RESAMPLERS = {"nearest": "nn.Upsample(scale_factor=2.0)", "avg_pool": "nn.AvgPool2d(2)"}


def _resample_choice(cls, ctx: BlockContext, body):
    """A second keyless slot after the first norm's activation of a pre-activation body with no
    shortcut keys: a dropout (the Wide ResNet's BN-ReLU-dropout-conv), or a resampling of both
    paths whose shortcut leaves no key (SNGAN's and the WGAN-GP ResNet's generator up-blocks:
    BN-ReLU-Upsample-conv, the input upsampled and added back). Doubling by default in a model
    that views a latent's projection as its first map (a generator from a latent)."""
    up = from_latent(ctx)
    return ctx.choose(
        cls,
        body.attr,
        "resample",
        "nearest" if up else "none",
        ["none", "avg_pool"] if up else ["nearest", "avg_pool"],
        "the second keyless slot after the first norm's activation, applied to the input too",
    )


def _resampled(g: Graph, mode: str, value, name: str):
    if mode == "avg_pool":
        pool = dict(kernel_size=2, stride=2)
        return g.call_function("avg_pool2d", value, kwargs=pool, name=name)
    twice = {"scale_factor": 2.0, "mode": mode}
    return g.call_function("interpolate", value, kwargs=twice, name=name)


def from_latent(ctx: BlockContext) -> bool:
    """Whether a class of the model views a Linear's output as the map its conv stack reads (a
    GAN generator's `l1` or `dense`, then `view(-1, C, s, s)`)."""
    return any(
        a.kind == "builtin" and family(a) == "linear" and _unflattens_into(a, b, 0)
        for c in ctx.classes.values()
        for a in modules(c)
        for b in modules(c)
        if b is not a
    )


def upsamples_back(ctx: BlockContext) -> bool:
    """Whether any class of the model holds a transposed conv (a decoder's upsampling)."""

    def walk(members):
        for m in members:
            if m.kind == "builtin" and m.type_name.startswith("nn.ConvTranspose"):
                return True
            if m.children and walk(m.children):
                return True
        return False

    return any(walk(modules(c)) for c in ctx.classes.values())


def _gate_plan(cls, ctx: BlockContext, member, body, width, flat: bool):
    """(gate, its choices, why guessed) for a squeeze-excitation beside the body, rescaling the
    body's `width` channels; (None, [], "") where it rescales another width."""
    inline = inline_gate(member, ctx)
    if inline is None:
        if gate_width(member, ctx) not in (None, width):
            return None, [], ""
        gate: tuple = ("class", (member.attr,))
        choices = []
    else:
        reduce, expand, conv, channels = inline
        if channels != width:
            return None, [], ""
        # A keyless slot of the gate's own between its two layers that holds its activation:
        # the forward calls it (act.holds).
        at = [c.attr for c in member.children]
        between = member.children[at.index(reduce[-1]) + 1 : at.index(expand[-1])]
        squeeze = ctx.choose(
            cls,
            member.attr,
            "squeeze_activation",
            "relu",
            act.alternatives("relu"),
            "after the squeeze-excitation's reduction",
        )
        held = (member.attr, between[0].attr) if len(between) == 1 else None
        if not act.holds(between[0] if held else None, squeeze.value):
            held = None
        gate = ("inline", reduce, expand, conv, held)
        choices = [
            squeeze,
            ctx.choose(
                cls, member.attr, "gate", "sigmoid", act.alternatives("sigmoid", gates=True)
            ),
        ]
    if body.kind != "sequential" or (inline is None and not flat):
        return gate, choices, ""
    # Whether the body's Sequential activates its output before the gate leaves no key (a slot
    # after its last item). pytorch-cifar100's senet.py, whose `excitation` Sequential of
    # Linears sits beside the body as this one does, ends `residual` with a ReLU; the paper's
    # SE-ResNet gates the last norm's output (a Sequential gate of 1x1 convs, or a class).
    default = "activated" if inline is not None and not inline[2] else "norm"
    reads = ctx.choose(
        cls,
        member.attr,
        "gate_reads",
        default,
        ["norm" if default == "activated" else "activated"],
        "the body's output the squeeze-excitation rescales: its last norm's, or activated",
    )
    why = ""
    if reads.source == "default":
        why = (
            f"whether {body.attr} activates its output before {member.attr} leaves no key "
            f"(the choice gate_reads: {default})"
        )
    return gate, choices + [reads], why


def _apply_gate(g: Graph, gate: tuple, values: dict, activation: str, out):
    """The body's output rescaled by the squeeze-excitation beside it."""
    if values.get("gate_reads") == "activated":
        out = act.apply(g, activation, out, name="out")
    if gate[0] == "class":
        return g.call_module(gate[1], out, name="out", comment="squeeze-excitation")
    _, reduce, expand, conv, held = gate
    scale = g.call_method(
        "mean", out, (2, 3), name="scale", kwargs={"keepdim": conv}, comment="squeeze"
    )
    scale = g.call_module(reduce, scale, name="scale", inline=True)
    if held is not None:
        scale = g.call_module(held, scale, name="scale")
    else:
        scale = act.apply(g, values["squeeze_activation"], scale, name="scale")
    scale = g.call_module(expand, scale, inline=True)
    scale = act.apply(g, values["gate"], scale, name="scale")
    if not conv:
        scale = g.call_function("getitem", scale, (Slice(), Slice(), None, None), inline=True)
    return g.call_function("mul", out, scale, name="out", comment="excitation")


def _split_shortcut(members) -> tuple | None:
    """(conv, norm) where a block holds its shortcut's conv and norm as two members of its own:
    a conv named as a shortcut (pycls' `proj`) and the block's one norm, as wide as what that
    conv gives (pycls' `bn`), beside one more member (the body). None elsewhere."""
    convs = [m for m in members if family(m) == "conv" and m.attr.lower() in SHORTCUT_NAMES]
    norms = [m for m in members if m.kind == "builtin" and family(m) == "norm"]
    if len(members) != 3 or len(convs) != 1 or len(norms) != 1:
        return None
    conv, norm = convs[0], norms[0]
    if conv.kind != "builtin" or conv.io is None or norm.io is None:
        return None
    return (conv, norm) if norm.io.in_width == conv.io.out_width else None


def shortcut_elsewhere(cls, ctx: BlockContext) -> bool:
    """Whether another class of the model holds a member named as a shortcut: its blocks add."""
    return any(
        m.attr.lower() in SHORTCUT_NAMES
        for other in ctx.classes.values()
        if other is not cls
        for m in modules(other)
    )


def _count(cls, body) -> int | None:
    """A repeat's count: a literal, or where it was lifted to a parameter, the first instance's
    (the class's members are that instance's; its index range is kept as `path.0-N`)."""
    if isinstance(body.repeat, int):
        return body.repeat
    found = re.search(r"\.0-(\d+)$", body.comment or "")
    return int(found.group(1)) + 1 if found else None


def _class_body_steps(body, ctx: BlockContext) -> tuple[list[tuple], str] | None:
    """A body class's steps: conv-norm units numbered or lettered under one stem (`a`, `b`, `c`;
    `conv1`..`conv3`), in that order, and at most one squeeze-excitation, which names cannot place:
    it follows the last spatial unit that gives its width (RegNetY's gate after the grouped 3x3,
    Radosavovic et al. 2020), a guess where another unit gives that width too."""
    cls = ctx.classes.get(body.type_name)
    if cls is None or tensors(cls):
        return None
    members = [m for m in modules(cls) if m.kind != "placeholder"]
    gates = [m for m in members if channel_gate(m, ctx)]
    named = [m for m in members if m not in gates]
    norm_of = _norms_named_after(named)  # pycls' `a`, `a_bn`, `b`, `b_bn`, `c`, `c_bn`
    if norm_of:
        named = [m for m in named if m.attr in norm_of]
    if len(gates) > 1 or not 2 <= len(named) <= 3:
        return None
    numbers = [numbered_name(m.attr) for m in named]
    if len({stem for stem, _ in numbers}) != 1 or numbers[0][0] is None:
        return None
    if len({n for _, n in numbers}) != len(numbers):
        return None
    ordered = [m for _, m in sorted(zip([n for _, n in numbers], named), key=lambda p: p[0])]
    units = [unit(m, ctx, (body.attr,)) for m in ordered]
    if norm_of:
        units = [
            u and replace(u, norm=(body.attr, norm_of[m.attr])) for u, m in zip(units, ordered)
        ]
    if any(u is None or u.norm is None for u in units):
        return None
    width = None
    for u in units:
        if width is not None and u.in_width not in (None, width):
            return None
        width = u.out_width
    steps: list[tuple] = [("unit", u) for u in units]
    guessed = ""
    if gates:
        gives = gate_width(gates[0], ctx)
        fits = [i for i, u in enumerate(units) if u.out_width == gives]
        if not fits:
            return None
        spatial = [i for i in fits if not units[i].pointwise]
        at = spatial[-1] if spatial else fits[-1]
        steps.insert(at + 1, ("se", (body.attr, gates[0].attr)))
        if len(fits) > 1:
            names = " or ".join(ordered[i].attr for i in fits)
            guessed = (
                f"the squeeze-excitation {body.attr}.{gates[0].attr} could follow {names} "
                f"(their widths match); it follows {ordered[at].attr}"
            )
    if steps[-1][0] != "unit":
        return None
    return steps, guessed


def _norms_named_after(members) -> dict[str, str]:
    """conv attr -> its norm's, where a class holds bare convs and norms named after them
    (`a` / `a_bn`, `conv` / `conv_bn`, `conv` / `bn_conv`) and nothing else; {} elsewhere."""
    convs = {m.attr: m for m in members if m.kind == "builtin" and family(m) == "conv"}
    norms = {m.attr: m for m in members if m.kind == "builtin" and family(m) == "norm"}
    if not norms or len(convs) != len(norms) or len(convs) + len(norms) != len(members):
        return {}
    found = {}
    for attr, conv in convs.items():
        names = [n for n in (f"{attr}_bn", f"{attr}_norm", f"bn_{attr}") if n in norms]
        if len(names) != 1 or conv.io is None or norms[names[0]].io is None:
            return {}
        if norms[names[0]].io.in_width != conv.io.out_width:
            return {}
        found[attr] = names[0]
    return found


def _body_steps(body, count: int | None, ctx: BlockContext) -> list[tuple] | None:
    """The body's items as ("unit", Unit), ("se", path) and activation-slot ("slot" between two
    conv-norm units, "act" after a bare conv's norm) steps, checked to chain by widths."""
    steps: list[tuple] = []
    width = None
    items = body.children
    if body.kind == "repeat":  # identical units (a basic layer that keeps the width)
        if len(items) != 1 or count is None:
            return None
        items = [replace(items[0], attr=str(i)) for i in range(count)]
    flat = False  # conv, norm, activation slot, conv, norm: one Sequential (pytorch-cifar100)
    i = 0
    while i < len(items):
        item = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        i += 1
        if item.kind == "placeholder":
            # An activation slot is where this layout activates: after a bare conv's norm,
            # before the next conv; or between two conv-norm units (whose own activation slot,
            # last, leaves no key), read as their activation too (the match says it guessed).
            between = not flat and steps and steps[-1][0] == "unit" and nxt is not None
            if between and nxt.kind != "placeholder" and unit(nxt, ctx, (body.attr,)):
                steps.append(("slot", (body.attr, item.attr)))
                continue
            if not flat or nxt is None or family(items[i - 2]) != "norm":
                return None
            steps.append(("act", (body.attr, item.attr)))
            continue
        if channel_gate(item, ctx):
            if not steps:
                return None
            steps.append(("se", (body.attr, item.attr)))
            continue
        u = unit(item, ctx, (body.attr,))
        if u is not None and u.norm is None and item.kind == "builtin" and family(nxt) == "norm":
            if nxt.io is None or nxt.io.in_width != u.out_width:
                return None
            u.norm, flat = (body.attr, nxt.attr), True
            i += 1
            after = items[i] if i < len(items) else None
            if after is not None and after.kind != "placeholder":
                return None  # a unit with no activation after it (ShuffleNetV2's depthwise)
        if u is None or u.norm is None:
            return None
        if width is not None and u.in_width not in (None, width):
            return None
        width = u.out_width
        steps.append(("unit", u))
    units = [s for s in steps if s[0] == "unit"]
    if not 2 <= len(units) <= 3 or steps[-1][0] != "unit":
        return None
    return steps
