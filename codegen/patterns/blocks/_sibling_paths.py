"""The parts of a residual block written as sibling paths (blocks/residual_layer.py), read from
shapes and item order rather than names (repositories call them residual/shortcut,
convpath/idpath, left/right, branch/skip, main/downsample, body/proj):

- the projection path: one pointwise conv (with its norm, or bare as the Wide ResNet code writes
  it; beside a pre-activation body, a spatial one: rishikksh20's ResUnet `conv_skip`), reading what the body reads and giving what it gives, possibly after keyless slots (an
  average pool where the block downsamples: fastai's `idpath`, timm's ResNet-D `downsample_avg`);
- a squeeze-excitation held as a Sequential of two layers (Linear or 1x1 conv) narrowing the
  width and giving it back, beside the body (pytorch-cifar100's `excitation`);
- a pre-activation body: one Sequential whose first item is a norm as wide as what the first
  conv reads, then keyless slots (the activation, a dropout), then the conv, and so on
  (pytorch-cifar100's and the Wide ResNet paper's `BN-ReLU-conv`).
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.patterns._kit import BlockContext, family
from codegen.patterns.blocks._conv_parts import Unit, unit
from codegen.patterns.blocks.squeeze_excite import SE_NAME


@dataclass
class Projection:
    """A shortcut path: its conv (and norm, or None), after keyless slots (`slots`, their paths:
    the analysis fills them, an average pool where the block downsamples)."""

    unit: Unit
    slots: tuple[tuple[str, ...], ...] = ()


def projection(m, ctx: BlockContext, spatial: bool = False) -> Projection | None:
    """The pointwise projection a member is: a conv-norm unit, a bare 1x1 conv, or a Sequential
    of keyless slots then one such unit (nested, or its conv and norm as items). `spatial`: its
    conv may be wider than 1x1 (only beside a pre-activation body, which no other reading of the
    two paths fits: rishikksh20's ResUnet `conv_skip`, a 3x3 conv and its norm)."""
    if m.kind == "sequential":
        items = m.children
        slots = 0
        while slots < len(items) and items[slots].kind == "placeholder":
            slots += 1
        rest = list(items[slots:])
        while rest and rest[-1].kind == "placeholder":
            rest.pop()  # a slot after the last keyed item leaves no key: the analysis added it
        if any(c.kind == "placeholder" for c in rest):
            return None
        real = [c for c in rest if c.kind != "placeholder"]
        found = None
        if len(real) == 1:
            found = unit(real[0], ctx, (m.attr,))
            if found is not None and found.norm is None and real[0].kind == "class":
                return None  # a class that may normalise or activate itself: unknown
        elif len(real) == 2 and [family(c) for c in real] == ["conv", "norm"]:
            found = unit(m, ctx) if not slots else None
            if slots and real[0].kind == "builtin" and real[1].io is not None:
                conv = unit(real[0], ctx, (m.attr,))
                if conv is not None and real[1].io.in_width == conv.out_width:
                    conv.norm = (m.attr, real[1].attr)
                    found = conv
        if found is None or not (found.pointwise or spatial) or found.groups != 1:
            return None
        return Projection(found, tuple((m.attr, c.attr) for c in items[:slots]))
    found = unit(m, ctx)
    if found is None or not (found.pointwise or spatial) or found.groups != 1:
        return None
    if found.norm is None and m.kind != "builtin":
        return None
    return Projection(found)


def inline_gate(m, ctx: BlockContext) -> tuple | None:
    """(reduce path, expand path, conv?) of a Sequential member holding a squeeze-excitation's two
    layers (Linear, or 1x1 conv) between keyless slots: C -> r -> C with r < C. Linears only
    under a gate's name (C -> r -> C Linears are also an autoencoder)."""
    if m.kind != "sequential":
        return None
    real = [c for c in m.children if c.kind != "placeholder"]
    if len(real) != 2 or any(c.kind != "builtin" or c.io is None for c in real):
        return None
    kinds = {family(c) for c in real}
    if kinds == {"conv"}:
        if any(unit(c, ctx) is None or not unit(c, ctx).pointwise for c in real):
            return None
    elif kinds != {"linear"} or not SE_NAME.search(m.attr):
        return None
    reduce, expand = real
    channels, squeezed = reduce.io.in_width, reduce.io.out_width
    if not (squeezed and channels and squeezed < channels):
        return None
    if (expand.io.in_width, expand.io.out_width) != (squeezed, channels):
        return None
    return ((m.attr, reduce.attr), (m.attr, expand.attr), kinds == {"conv"}, channels)


def preact_steps(body) -> list[tuple] | None:
    """A pre-activation body Sequential's steps, ("pre", norm path, conv path, conv, the slots
    after the activation's) each: a norm as wide as what the next conv reads, one or more keyless
    slots (its activation first, then what leaves no key and keeps the shape: a dropout), the
    conv; the convs chained by widths. None where the body is laid out otherwise."""
    items = body.children
    steps, width, i = [], None, 0
    while i < len(items):
        norm = items[i]
        if family(norm) != "norm" or norm.kind != "builtin" or norm.io is None:
            return None
        i += 1
        slots = []
        while i < len(items) and items[i].kind == "placeholder":
            slots.append((body.attr, items[i].attr))
            i += 1
        if not slots or i >= len(items):
            return None
        conv = items[i]
        i += 1
        if conv.kind != "builtin" or family(conv) != "conv" or conv.io is None:
            return None
        if norm.io.in_width != conv.io.in_width or width not in (None, conv.io.in_width):
            return None
        width = conv.io.out_width
        steps.append(("pre", (body.attr, norm.attr), (body.attr, conv.attr), conv, slots[1:]))
    return steps if 2 <= len(steps) <= 3 else None
