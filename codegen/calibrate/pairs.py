"""Joint moves: two changes scored at once, for what neither shows alone. `_pairs` combines the
moves ranked best alone (two poolings that together give the head its width, a residual that only
helps with the right activation); `_class_pairs` lets the structure pick the partners: two choices
of one generated class, or two layers inside one instance of a class (branches that are joined
must halve together), where the general pairs need not include either half."""

from __future__ import annotations

from typing import Any, Callable

from codegen.calibrate.moves import (
    STEP,
    State,
    _better,
    _described,
    _moved,
    _rank,
    _tied_moves,
)
from codegen.calibrate.result import EXACT
from codegen.calibrate.space import CLASS_WIDE, singly
from codegen.ir import Choice, ModelIR

PAIR_CANDIDATES = 24  # moves combined pairwise: the best-ranked this many


def _pairs(
    evaluate: Callable,
    start: State,
    misses: dict[frozenset, float],
    failures: dict[frozenset, str],
    patterns: tuple[dict[tuple[str, str], Any], ...] = (),
) -> State:
    """Two moves at once (a move: one change, or a tied one, or a dilation pattern), for what
    neither shows alone (the right dilations only gain once the input is subtracted); the
    moves best ranked alone first and, among those that cannot run, first those that move the
    failure (the head now gets another width)."""
    base = start[1]
    stuck = failures.get(frozenset(base.items()), "")
    moves: list[dict[tuple[str, str], Any]] = []
    for choice in singly(start[2]):
        for value in [choice.value, *choice.alternatives]:
            if base.get((choice.path, choice.name), choice.value) != value:
                moves.append({(choice.path, choice.name): value})
    moves += [m for m in _tied_moves(start[2]) + list(patterns) if _moved(base, m) != base]
    ranked: list[tuple[tuple, dict]] = []
    for move in moves:
        trial = _moved(base, move)
        error, ir = evaluate(trial, _described(move))
        moved = not stuck or failures.get(frozenset(trial.items()), "") != stuck
        ranked.append(((*_rank((error, trial, ir), misses), not moved), move))
    ranked.sort(key=lambda r: r[0])
    top = [move for _, move in ranked[:PAIR_CANDIDATES]]
    best = start
    if stuck and ranked and not ranked[0][0][-1]:
        # Nothing runs yet and the best move gets further (a head count: the attention is now
        # written, and the audio front end's stride is what fails next): it is paired with every
        # move first, not only the best-ranked, whose failures all look alike.
        first = ranked[0][1]
        for _, move in ranked[1:]:
            if set(move) & set(first):
                continue
            trial = _moved(_moved(base, first), move)
            error, ir = evaluate(trial, _described(move))
            state = (error, trial, ir)
            if _better(_rank(state, misses), _rank(best, misses)):
                best = state
                if error <= EXACT:
                    return best
        if best is not start:
            return best
    # Pairs among the best k moves before any with the (k+1)th: both halves ranked high first.
    for j, move_b in enumerate(top):
        for move_a in top[:j]:
            if set(move_a) & set(move_b):
                continue
            trial = _moved(_moved(base, move_a), move_b)
            error, ir = evaluate(trial, _described(move_b))
            state = (error, trial, ir)
            if _better(_rank(state, misses), _rank(best, misses)):
                best = state
                if error <= EXACT:
                    return best
    return best


# Values of one choice combined with another's in a joint move: the best this many of its own,
# ranked by their score alone (each alone may score no better than the base: that is the case).
JOINT_VALUES = 3


def _class_pairs(
    evaluate: Callable, start: State, misses: dict[frozenset, float], shape_only: bool = False
) -> State:
    """Two choices of ONE generated class (or of a class and the class that holds it) moved at
    once, where neither alone improves: a row's guesses are a conjunction (two branches that are
    joined must halve together, a residual and the activation before it, a wiring and the width
    it hands on), and until both are right each alone scores no better, or cannot run. The
    general pairs (_pairs) combine only the moves ranked best alone, which in a file of many
    choices need not include either half; here the structure picks the partners. Two kinds:
    - the class's own choices (shared by its instances) with each other and with its holder's;
    - inside one instance of a class, the choices of the layers it holds, each pinned for that
      instance only (a layer's choice is listed once, at its class's first instance: the second
      branch of the second reduction block is a later instance of the same conv class); choices
      that move the output's shape (SHAPE_MOVING) first, as they decide whether anything runs.
    Classes whose forward is guessed come first, then the classes used most often (a block
    repeated N times touches the output N times). Each choice brings the JOINT_VALUES values that
    scored best alone (singles come from the search's cache). The first joint move that gains is
    returned: the descent goes on from there. `shape_only`: only pairs of layers inside one
    instance whose choices both move the resolution (the descent's early, cheap round)."""
    base = start[1]
    ir = start[2]
    owner, parent, order = _class_layout(ir)
    by_class: dict[str, list[Choice]] = {}
    for choice in singly(ir):
        cls = owner.get((choice.path, choice.name))
        if cls is not None:
            by_class.setdefault(cls, []).append(choice)
    inside = _instance_choices(ir, owner)

    def values(key: tuple[str, str], choice: Choice) -> list[Any]:
        now = base.get(key, choice.value)
        scored = []
        for value in [choice.value, *choice.alternatives]:
            if value == now:
                continue
            trial = _moved(base, {key: value})
            error, ir_one = evaluate(trial, (key[0], key[1], value))
            scored.append((_rank((error, trial, ir_one), misses), repr(value), value))
        scored.sort(key=lambda s: s[:2])
        return [v for *_, v in scored[:JOINT_VALUES]]

    def joint(pairs: list[tuple[tuple, Choice, tuple, Choice]]) -> State | None:
        found = None
        for key_a, first, key_b, second in pairs:
            for a in values(key_a, first):
                for b in values(key_b, second):
                    move = {key_a: a, key_b: b}
                    trial = _moved(base, move)
                    error, trial_ir = evaluate(trial, _described(move))
                    state = (error, trial, trial_ir)
                    # From a model that cannot run, only a pair that makes it run: one that only
                    # brings the output's shape closer leads away as easily as toward the answer
                    # (as _coordinate_descent's tied moves).
                    if error == float("inf"):
                        continue
                    if _better(_rank(state, misses), _rank(found or start, misses), STEP):
                        found = state
                        if not shape_only or error <= EXACT:
                            return found
        return found

    if shape_only:  # few, and a halving in the wrong block also gains: the best of them all
        places = [p for cls in order for p in inside.get(cls, [])]
        pairs = [
            (ka, a, kb, b)
            for place in places
            for i, (ka, a) in enumerate(place)
            for kb, b in place[i + 1 :]
            if ka[0] != kb[0] and ka[1] in SHAPE_MOVING and kb[1] in SHAPE_MOVING
        ]
        return joint(pairs) or start
    for cls in order:
        mine = by_class.get(cls, [])
        partners = mine + by_class.get(parent.get(cls, ""), [])
        own = [
            ((a.path, a.name), a, (b.path, b.name), b)
            for i, a in enumerate(mine)
            for b in partners[i + 1 :]
            if (a.path, a.name) != (b.path, b.name)
        ]
        held = []
        for place in inside.get(cls, []):
            held += [
                (ka, a, kb, b)
                for i, (ka, a) in enumerate(place)
                for kb, b in place[i + 1 :]
                if ka[0] != kb[0]  # two layers, not two choices of one layer
            ]
        held.sort(key=lambda p: (p[0][1] not in SHAPE_MOVING) + (p[2][1] not in SHAPE_MOVING))
        found = joint(held) or joint(own)
        if found is not None:
            return found
    return start


# Choices that change the resolution a layer hands on: a join of two branches runs only when they
# agree, so these are settled first.
SHAPE_MOVING = frozenset({"stride", "geometry", "pooling_after"})
JOINT_LAYERS = 8  # an instance holding more pinnable layer choices is too coarse a place to pair


def _instance_choices(
    ir: ModelIR, owner: dict[tuple[str, str], str]
) -> dict[str, list[list[tuple[tuple[str, str], Choice]]]]:
    """For each class, per instance: the choices of the layers that instance holds, addressed for
    that instance ((layer path under it, name), the choice listed at the layer class's first
    instance). Only classes that are not the top one (the whole model is no place) and instances
    holding at most JOINT_LAYERS such choices."""
    listed = [
        c
        for c in singly(ir)
        if c.name not in CLASS_WIDE and owner.get((c.path, c.name)) is not None
    ]
    classes = {c.name: c for c in ir.classes}
    # each listed layer choice at every instance of its class: (instance path + member, choice)
    everywhere: list[tuple[tuple[str, str], Choice]] = []
    for choice in listed:
        cls = classes[owner[(choice.path, choice.name)]]
        first = cls.instances[0][0] if cls.instances else ""
        if cls.is_top or not first or not choice.path.startswith(first + "."):
            continue
        member = choice.path[len(first) :]
        for path, _ in cls.instances:
            everywhere.append(((path + member, choice.name), choice))
    out: dict[str, list[list[tuple[tuple[str, str], Choice]]]] = {}
    for cls in ir.classes:
        if cls.is_top:
            continue
        for path, _ in cls.instances:
            if not path:
                continue
            place = [(k, c) for k, c in everywhere if k[0].startswith(path + ".")]
            if 2 <= len(place) <= JOINT_LAYERS:
                out.setdefault(cls.name, []).append(place)
    return out


def _class_layout(ir: ModelIR) -> tuple[dict[tuple[str, str], str], dict[str, str], list[str]]:
    """(each choice's class, each class's holder: the class of the nearest instance that contains
    its first instance, the classes in the order their choices are searched: a guessed or missing
    forward first, then the most instances first, then as the file lists them)."""
    from codegen.ir import class_choices

    owner: dict[tuple[str, str], str] = {}
    for cls in ir.classes:
        for choice in class_choices([cls]):
            owner.setdefault((choice.path, choice.name), cls.name)
    places = [(path, c.name) for c in ir.classes for path, _ in c.instances]
    top = next((c.name for c in ir.classes if c.is_top), "")
    parent: dict[str, str] = {}
    for cls in ir.classes:
        if cls.is_top or not cls.instances:
            continue
        first = cls.instances[0][0]
        holders = [(len(p), n) for p, n in places if p and first.startswith(p + ".")]
        parent[cls.name] = max(holders)[1] if holders else top
    order = sorted(
        range(len(ir.classes)),
        key=lambda i: (
            ir.classes[i].forward.trust not in ("guessed", "missing"),
            -len(ir.classes[i].instances),
            i,
        ),
    )
    return owner, parent, [ir.classes[i].name for i in order]
