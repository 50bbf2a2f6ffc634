"""Which side of its conv a numbered norm sits on: `bn1` after `conv1` (post-activation, He et al.
2015) or before it (pre-activation, He et al. 2016). One pair proves it where the conv changes the
width: the norm's width is then what the conv reads or what it gives, not both. Where every conv
keeps the width (a ResNet's first stage), the block alone cannot tell, and the model's other
blocks decide: a network is written in one convention."""

from __future__ import annotations

import re

from codegen.ir import Module
from codegen.patterns._kit import BlockContext, family, modules

PRE, POST = "pre", "post"


def numbers(attr: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", attr))


def numbered_pairs(members: list[Module]) -> list[tuple[Module, Module]]:
    """(norm, conv) pairs sharing the numbers in their names (`bn2` with `conv2`), ordered by
    them. Where two convs share a number (`conv1` beside an inline gate's `fc1`), the convs of the
    name that numbers as many steps as the norms do are the pairs'."""
    norms: dict[tuple, list[Module]] = {}
    convs: dict[str, dict[tuple, Module]] = {}  # name stem -> numbers -> conv
    for m in members:
        if m.kind != "builtin" or not numbers(m.attr):
            continue
        if family(m) == "norm":
            norms.setdefault(numbers(m.attr), []).append(m)
        elif family(m) == "conv":
            convs.setdefault(re.sub(r"\d+", "", m.attr), {})[numbers(m.attr)] = m
    steps = {key for key, found in norms.items() if len(found) == 1}

    def fits(by_number: dict[tuple, Module]) -> bool:  # each norm as wide as its conv's side
        return all(
            norms[k][0].io is not None
            and by_number[k].io is not None
            and norms[k][0].io.out_width in (by_number[k].io.in_width, by_number[k].io.out_width)
            for k in steps
        )

    fitting = {n: c for n, c in convs.items() if set(c) == steps and fits(c)}
    if len(fitting) > 1:  # `conv1` and a gate's `fc1` beside it, widths equal: the convs' name
        fitting = {n: c for n, c in fitting.items() if "conv" in n.lower()}
    if len(fitting) != 1:
        fitting = {n: c for n, c in convs.items() if steps <= set(c) and fits(c)}
        if len(fitting) != 1:
            return []
    fitting = list(fitting.values())
    return [(norms[key][0], fitting[0][key]) for key in sorted(steps)]


def proven(norm: Module, conv: Module) -> str | None:
    """PRE or POST where this pair's widths leave one order only; None where both fit. The
    widths are this instance's; the constructor arguments, where they are the class's
    parameters, speak for every instance (`conv1 = Conv2d(in_channels, hidden_channels)` with
    `bn1 = BatchNorm2d(hidden_channels)` is post-activation even where the two are equal)."""
    for width, takes, gives in (_widths(norm, conv), _arguments(norm, conv)):
        if None in (width, takes, gives) or takes == gives:
            continue
        if width == takes:
            return PRE
        if width == gives:
            return POST
    return None


def _widths(norm: Module, conv: Module) -> tuple:
    if norm.io is None or conv.io is None:
        return None, None, None
    return norm.io.out_width, conv.io.in_width, conv.io.out_width


def _arguments(norm: Module, conv: Module) -> tuple:
    """The norm's width argument and the conv's two, as written (an int or a parameter)."""
    width = [a.value for a in norm.args if a.keyword is None][:1]
    sizes = [a.value for a in conv.args if a.keyword is None][:2]
    if len(width) != 1 or len(sizes) != 2:
        return None, None, None
    return width[0], sizes[0], sizes[1]


def block_order(members: list[Module]) -> str | None:
    """What a class's own pairs prove: PRE, POST, or None (nothing, or both)."""
    seen = {proven(n, c) for n, c in numbered_pairs(members)} - {None}
    return seen.pop() if len(seen) == 1 else None


def model_order(ctx: BlockContext) -> str | None:
    """What the model's blocks (classes with two numbered conv/norm pairs or more) prove
    together: PRE or POST when they agree, None when none proves it or they disagree."""
    seen = set()
    for cls in ctx.classes.values():
        members = modules(cls)
        if len(numbered_pairs(members)) >= 2:
            seen.add(block_order(members))
    seen.discard(None)
    return seen.pop() if len(seen) == 1 else None


def same_width_everywhere(first_conv: Module, last_conv: Module) -> bool:
    """Whether what the first conv reads is what the last gives in every instance of the class:
    the same width here, and the same argument where they are the class's parameters (a class
    whose instances widen has `Conv2d(in_channels, ...)` ... `Conv2d(..., out_channels)`)."""
    if first_conv.io is None or last_conv.io is None:
        return False
    if first_conv.io.in_width != last_conv.io.out_width:
        return False
    takes = [a.value for a in first_conv.args if a.keyword is None][:1]
    gives = [a.value for a in last_conv.args if a.keyword is None][1:2]
    return not (takes and gives) or takes == gives
