"""Candidates as the search holds them (`State`: error, the changes from the defaults, the IR) and
how two compare (`_rank`, `_better`), how a move applies (`_moved`, `_difference`, `_described`),
and the generators of moves from one state: each single change (`_single_moves`), a pin moved to
another layer (`_pin_swaps`), a halving traded between stages (`_stride_swaps`), one value for
every choice of a name (`_tied_moves`), the usual stride layouts and TensorFlow's 'SAME' padding
(`_layout_moves`, `_same_padding_move`). Two changes at once are codegen/calibrate/pairs.py."""

from __future__ import annotations

from typing import Any

from codegen.calibrate import space
from codegen.calibrate.space import searchable, singly
from codegen.calibrate_geometry import TO_DEFAULT
from codegen.ir import Choice, ModelIR

State = tuple[float, dict[tuple[str, str], Any], ModelIR]
# (stride layouts: conv sets tried at stride 2 as one move; stride units: the convs that halve
# the resolution together in each stage's first block), codegen.analyze.strides'; and dilation
# patterns over a chain of convs, each one move (codegen.calibrate_geometry).
Layouts = tuple[
    tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...], tuple[dict[tuple[str, str], Any], ...]
]


def _rank(state: State, misses: dict[frozenset, float]) -> tuple[float, float]:
    return state[0], misses.get(frozenset(state[1].items()), float("inf"))


def _stride_swaps(best: State, units: tuple[tuple[str, ...], ...]) -> list[dict]:
    """The halving moved from one stage to another: a stage's first block that halves and one that
    does not trade strides. Each alone scores worse (one halving too many or too few); the layout
    moves put the halvings in the usual stages, and a model that halves in another one (a stage
    that keeps the resolution between two that halve) needs the trade."""
    current = {c.path: c.value for c in best[2].all_choices() if c.name == "stride"}

    def stride(path: str) -> Any:
        return best[1].get((path, "stride"), current.get(path, 1))

    halving = [u for u in units if all(stride(p) == 2 for p in u)]
    keeping = [u for u in units if all(stride(p) == 1 for p in u)]
    swaps = []
    for on in halving:
        for off in keeping:
            move: dict = {(p, "stride"): TO_DEFAULT if (p, "stride") in best[1] else 1 for p in on}
            move.update({(p, "stride"): 2 for p in off})
            swaps.append(move)
    return swaps


def _pin_swaps(best: State) -> list[dict[tuple[str, str], Any]]:
    """A value pinned on one layer moved to another layer with a choice of the same name (the
    pin taken back where it is). A model-wide convention with one layer as the exception (the
    PyTorch-GAN generators' BatchNorm2d(c, 0.8), the first batch norm at torch's eps) fits the
    exception onto the wrong layer while another convention is still wrong, and there it keeps a
    small gain: each half of the trade alone scores worse, like a halving between stages."""
    singles: dict[str, list[Choice]] = {}
    for choice in singly(best[2]):
        singles.setdefault(choice.name, []).append(choice)
    swaps = []
    for (path, name), value in best[1].items():
        if not any(c.path == path for c in singles.get(name, ())):
            continue
        for other in singles[name]:
            key = (other.path, name)
            if other.path != path and key not in best[1] and value in other.alternatives:
                swaps.append({(path, name): TO_DEFAULT, key: value})
    return swaps


def _single_moves(best: State) -> list[dict[tuple[str, str], Any]]:
    """Every other value of every searchable choice, and taking back each pin no listed choice
    can take back (a layout's stride on a later instance of a class, which the file lists under
    the first: a layout that halves one stage too many must be able to lose that stage)."""
    moves = []
    listed = {(c.path, c.name) for c in searchable(best[2])}
    # Values left at a default first: one the structure read is backed by evidence, a default by
    # convention only (a U-Net's padded convs), and a budget may end before the last are tried.
    ordered = sorted(singly(best[2]), key=lambda c: c.source != "default")
    for choice in ordered:
        key = (choice.path, choice.name)
        for value in [choice.value, *choice.alternatives]:
            if value != best[1].get(key, choice.value):
                moves.append({key: value})
    moves += [{key: TO_DEFAULT} for key in best[1] if key not in listed]
    return moves


def _moved(picked: dict[tuple[str, str], Any], move: dict) -> dict[tuple[str, str], Any]:
    out = dict(picked)
    for key, value in move.items():
        if value is TO_DEFAULT:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _difference(before: dict, after: dict) -> dict:
    """The move that takes `before` to `after`."""
    move = {k: v for k, v in after.items() if before.get(k, TO_DEFAULT) != v}
    move.update({k: TO_DEFAULT for k in before if k not in after})
    return move


def _tied_moves(
    ir: ModelIR, layouts: tuple[tuple[str, ...], ...] = (), padded: bool | None = None
) -> list[dict[tuple[str, str], Any]]:
    """One value for every choice of a name at once (all GroupNorms with 4 groups, every gap's
    activation GELU): models repeat their conventions, and layers set one at a time often score no
    better until the others follow. `layouts`: sets of convs that halve the resolution together
    (stride_layouts), tried as one move each."""
    by_name: dict[str, list[Choice]] = {}
    for choice in searchable(ir):
        by_name.setdefault(choice.name, []).append(choice)
    moves = _layout_moves(ir, layouts, padded)
    groups = list(by_name.values())
    for group in by_name.values():
        # The same convention within one part of the model (a stage, a head, one block class):
        # a model may keep one eps in its stem and another in its blocks.
        parts: dict[str, list[Choice]] = {}
        for c in group:
            parts.setdefault(_part(c.path), []).append(c)
        groups += [p for p in parts.values() if 2 <= len(p) < len(group)]
    seen: set[tuple] = set()
    for group in groups:
        values = list(dict.fromkeys(v for c in group for v in [c.value, *c.alternatives]))
        for value in values:
            if _shapes_layout(value):
                continue
            # Every choice of the group that can take the value (TensorFlow's 'SAME' padding is
            # offered where a conv strides): a convention holds wherever it applies.
            # A slot holding a pooling or a flatten is a place in the layout, not one more
            # activation of the convention (the ConvMixer listing's head slots).
            taking = [
                c
                for c in group
                if (value == c.value or value in c.alternatives) and not _shapes_layout(c.value)
            ]
            move = {(c.path, c.name): value for c in taking}
            key = (tuple(sorted(move)), repr(value))
            if len(taking) >= 2 and key not in seen:
                seen.add(key)
                moves.append(move)
    return moves


STRUCTURAL = frozenset({"stride", "padding"})  # where a conv samples: the structure-first moves


def structural(move: dict[tuple[str, str], Any]) -> bool:
    """Does the move change only strides and paddings (a stride layout, its TensorFlow padding,
    every stride 2 at once)?"""
    return all(name in STRUCTURAL for _, name in move)


TF_SAME = "pad_same"  # codegen.patterns.layers.conv's TensorFlow 'SAME' padding


def _same_padding_move(ir: ModelIR) -> dict[tuple[str, str], Any]:
    """TensorFlow's 'SAME' padding on every conv that strides now (offered there only), as one
    move: a port from TensorFlow pads all of them so."""
    move = {}
    for c in ir.all_choices():
        if c.name == "padding" and c.source in ("default", "calibrated", "structure"):
            if TF_SAME in c.alternatives:
                move[(c.path, c.name)] = TF_SAME
    return move


def _layout_moves(
    ir: ModelIR, layouts: tuple[tuple[str, ...], ...], padded: bool | None = None
) -> list[dict[tuple[str, str], Any]]:
    """The usual places a conv net halves its resolution (stride_layouts), each as one move,
    plain and (once paddings are searched, or with `padded`) padded as TensorFlow pads; and then
    'SAME' on every conv that strides now."""
    # A conv the file does not list is a later instance of a class whose first instance holds the
    # class's choices: its stride is still its own to pin (the instances then part ways).
    listed = {c.path for c in ir.all_choices() if c.name == "stride"}
    can_halve = {
        c.path for c in searchable(ir) if c.name == "stride" and 2 in [c.value, *c.alternatives]
    }
    moves = []
    # Once paddings are searched (LATE_CHOICES), also the same halvings as a network ported from
    # TensorFlow pads them ('SAME': more after than before): the padding goes with the stride,
    # and the wrong one misaligns every map after it, so a layout scored without it can lose to
    # a wrong one. Not before in the best-gain order: with the rest still wrong, 'SAME' fits
    # noise as any padding does. The structure-first order offers them from the start: it takes
    # a layout before values, and a TensorFlow port's layout only gains with its padding.
    if padded is None:
        padded = "padding" not in space._held
    for layout in layouts:
        if all(p in can_halve or p not in listed for p in layout):
            moves.append({(p, "stride"): 2 for p in layout})
            if padded:
                moves.append({**moves[-1], **{(p, "padding"): TF_SAME for p in layout}})
    same = _same_padding_move(ir) if padded else {}
    if same:
        moves.append(same)
    return moves


def _part(path: str) -> str:
    """The part of the model a choice belongs to: its class (`Block.bn1` -> `Block`) or the
    top-level member holding it (`features.3.bn` -> `features`)."""
    return path.split(".", 1)[0]


def _shapes_layout(value: Any) -> bool:
    """A layer for a numbered slot that is not an activation (a pooling, a flatten): where one goes
    is a place in the layout, not a convention every slot repeats."""
    from codegen.patterns._activations import MODULES

    return isinstance(value, str) and value.startswith("nn.") and value not in MODULES.values()


STEP = 0.01  # descent takes a change only when it lowers the error by at least 1%


def _described(move: dict[tuple[str, str], Any]) -> tuple[str, str, Any]:
    """(path, name, value) of a move for the candidate table; a tied move names its first path;
    a pattern (one name, values that differ) shows them all in order."""
    values = [1 if v is TO_DEFAULT else v for k, v in move.items() if k[1] == "dilation"]
    if len(values) > 2 and len(set(values)) > 1:
        path = next(iter(move))[0]
        rest = {k: v for k, v in move.items() if k[1] != "dilation"}
        shown = "-".join(map(str, values)) + "".join(f", {n} {v!r}" for (_, n), v in rest.items())
        return (f"{path} (and {len(move) - 1} more)", "dilation", shown)
    (path, name), value = next(iter(move.items()))
    value = "(default)" if value is TO_DEFAULT else value
    return (path if len(move) == 1 else f"{path} (and {len(move) - 1} more)", name, value)


def _better(a: tuple, b: tuple, margin: float = 1e-6) -> bool:
    """A lower error; between candidates that cannot be scored, an output shape closer to DATA's."""
    if a[0] < float("inf") or b[0] < float("inf"):
        return a[0] < b[0] * (1 - margin)
    return a[1] < b[1]
