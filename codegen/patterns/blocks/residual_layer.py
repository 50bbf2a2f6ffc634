"""A residual layer written as a body Sequential beside a shortcut (Hugging Face's ResNet basic and
bottleneck layers, RegNet's X and Y layers): `act(body(x) + shortcut(x))`.

The body is a Sequential of conv-norm units (`[conv, norm]` Sequentials or classes holding one conv
and one norm), possibly with a squeeze-excitation between them; every unit but the last is followed
by the activation. The shortcut is one more conv-norm unit, projecting where the widths or the
resolution change; where it holds no tensors (an identity) the class has the body alone, and then
the residual is a choice: a body that maps the width back to itself could also be a plain stack.
Units are called conv then norm directly, so a unit class the checkpoint cannot tell apart (with or
without its own trailing activation) never decides what the layer computes.
"""

from __future__ import annotations

import re
from dataclasses import replace

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit
from codegen.patterns.blocks.chain import numbered_name
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns.blocks.squeeze_excite import channel_gate, gate_width

# Blocks whose own forward adds their input back: a lone member of that role is a block called
# whole, never the body of one more residual.
OWN_RESIDUAL = {"InvertedResidual", "GhostBottleneck"}


class ResidualLayer(BlockPattern):
    role = "ResidualLayer"
    priority = 20  # more than a chain of the same members: it knows the residual

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        split = _split_shortcut(members)
        if split is not None:  # pycls' ResBottleneckBlock: `proj` and its norm `bn` beside `f`
            members = [m for m in members if m is not split[1]]
        if tensors(cls) or not 1 <= len(members) <= 2:
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
        if len(bodies) == 2 and len(named_shortcut) == 1 and named_shortcut[0] in bodies:
            bodies = [b for b in bodies if b is not named_shortcut[0]]  # both Sequentials
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
            steps = _body_steps(body, _count(cls, body), ctx)
        if steps is None:
            return None
        units = [s for s in steps if s[0] == "unit"]
        first, last = units[0][1], units[-1][1]
        c_in, c_out = first.in_width, last.out_width
        if body.kind == "class" and body.io is not None:  # its members are its first instance's
            c_in, c_out = body.io.in_width, body.io.out_width
        short = None
        if shortcut is not None:
            short = unit(shortcut, ctx)
            if split is not None and short is not None and shortcut is split[0]:
                short = replace(short, norm=(split[1].attr,))
            if short is None or short.norm is None or not short.pointwise:
                return None
            if shortcut.attr.lower() not in SHORTCUT_NAMES and body.attr.lower() in SHORTCUT_NAMES:
                return None
            if (short.in_width, short.out_width) != (c_in, c_out):
                return None
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
            "after each unit but the last, and after the sum",
        )
        if between := act.inside_blocks(ctx, cls, body.attr, activation):
            choices.append(between)  # HF ResNet: hidden_act after the sum, relu inside
        found = (steps, short)
        size = len(members) + len(units)
        return Match(self, size, found, [activation] + choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        steps, short = match.found
        after_sum = match.choices[0].value
        activation = act.inside_value(match.choices, after_sum)
        residual = all(c.value == "add" for c in match.choices if c.name == "residual")
        x = g.input("x")
        out = x
        last = max(i for i, s in enumerate(steps) if s[0] == "unit")
        for i, (kind, item) in enumerate(steps):
            if kind == "se":
                out = g.call_module(item, out, name="out", comment="squeeze-excitation")
                continue
            out = g.call_module(item.conv, out, name="out", inline=True)
            out = g.call_module(item.norm, out, name="out", inline=i != last)
            if i != last:
                out = act.apply(g, activation, out, name="out")
        if residual:
            if short is not None:
                identity = g.call_module(short.conv, x, inline=True)
                identity = g.call_module(short.norm, identity, name="shortcut")
            else:
                identity = x
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
        ]


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
    """The body's items as ("unit", Unit) and ("se", path) steps, checked to chain by widths."""
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
            # before the next conv. Anywhere else, a parameter-free layer it does not have.
            if not flat or nxt is None or family(items[i - 2]) != "norm":
                return None
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
