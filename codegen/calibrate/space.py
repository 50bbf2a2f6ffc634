"""The search space: which choices the search may move (`searchable`: not pinned by --hints or
evidence, and not held back for now, as a conv's padding is while the rest settles: `_holding`),
which of them move one at a time (`singly`: a convention kept across many layers moves tied), and
the values a class keeps in every instance (CLASS_WIDE), given from its first instance to the
others so that the class stays one."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from codegen.analyze.unrun import run_classes
from codegen.ir import Choice, ModelIR

# A conv's padding: half the kernel is the convention nearly every model keeps, and taking it away
# shrinks the feature maps, which a pooled head hides: while the strides are still wrong, padding
# 0 on every conv lowers the error too, and the search then settles around it.
LATE_CHOICES = frozenset({"padding"})
_held: frozenset[str] = frozenset()  # choice names searchable() leaves out for now


@contextmanager
def _holding(names: frozenset[str]) -> Iterator[None]:
    global _held
    before, _held = _held, names
    try:
        yield
    finally:
        _held = before


# Conventions a model keeps across many layers (a batch norm's eps): where a name has more than
# TIED_ONLY_SINGLES choices, they move together (all of them, or those of one part: _tied_moves),
# never one layer at a time, which would cost a candidate per layer and fit noise.
TIED_ONLY = frozenset({"eps"})
TIED_ONLY_SINGLES = 6


# A layer's choice is addressed by the layer's path, which names one instance of its class; these
# conventions a class keeps in every instance (all its group norms count the same groups), so a
# value picked for the first instance is given to the same member of the others: the class stays
# one instead of splitting off its first instance. Strides and paddings are not among them: an
# instance that halves is set apart on purpose (choices._split_from).
CLASS_WIDE = frozenset({"num_groups", "eps"})


def _instance_members(ir: ModelIR) -> dict[str, list[str]]:
    """Each class's first instance path -> its other instances' paths (classes used more than
    once; the defaults' classes, where instances are still together)."""
    return {
        c.instances[0][0]: [p for p, _ in c.instances[1:]]
        for c in ir.classes
        if len(c.instances) > 1 and c.instances[0][0]
    }


def _for_every_instance(
    picked: dict[tuple[str, str], Any], alike: dict[str, list[str]]
) -> dict[tuple[str, str], Any]:
    """`picked` with each CLASS_WIDE value at a member of a class's first instance given to the
    same member of every other instance (a value picked for that member itself stays)."""
    out = dict(picked)
    for (path, name), value in picked.items():
        if name not in CLASS_WIDE:
            continue
        for first, others in alike.items():
            if not path.startswith(first + "."):
                continue
            member = path[len(first) :]
            for other in others:
                out.setdefault((other + member, name), value)
    return out


def singly(ir: ModelIR) -> list[Choice]:
    """The searchable choices moved one at a time (see TIED_ONLY)."""
    choices = searchable(ir)
    counts: dict[str, int] = {}
    for c in choices:
        counts[c.name] = counts.get(c.name, 0) + 1
    return [c for c in choices if c.name not in TIED_ONLY or counts[c.name] <= TIED_ONLY_SINGLES]


def searchable(ir: ModelIR) -> list[Choice]:
    seen: set[tuple[str, str]] = set()
    out = []
    # A forward no caller runs (its parent reads the layers inside it: lucidrains' resnet reads
    # its Blocks' proj and norm) computes nothing the outputs show: its own choices cannot move
    # them, and trying them spends the budget (its layers' choices still count).
    run = run_classes(ir.classes)
    dead = {
        id(c)
        for k in ir.classes
        if k.name not in run and k.forward is not None
        for c in k.forward.choices
    }
    for c in ir.all_choices():
        key = (c.path, c.name)
        if (
            id(c) not in dead
            and c.alternatives
            and c.source in ("default", "calibrated", "structure")
            and c.name not in _held
            and key not in seen
        ):
            seen.add(key)
            out.append(c)
    return out
