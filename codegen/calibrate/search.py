"""The search strategies, each a way to walk from the defaults to the candidate that fits DATA best:
what the output's shape says first (`_read_geometry`), the staged search (coordinate descent of
tied moves then single changes scored from one base, `_sensitivity_round`; then joint moves, a
beam, pairs; back to descent after a gain), run in two orders where strides or paddings are
searched (`_both_orders`); the earlier beam search kept for benchmarks; and, once the search
stops, taking back every change the data did not measurably decide (`_keep_measurable`)."""

from __future__ import annotations

from typing import Any, Callable

from codegen.calibrate import space
from codegen.calibrate.budget import Budget, ShareSpent
from codegen.calibrate.evaluate import _loaded
from codegen.calibrate.moves import (
    STEP,
    STRUCTURAL,
    Layouts,
    State,
    _better,
    _described,
    _difference,
    _moved,
    _pin_swaps,
    _rank,
    _single_moves,
    _stride_swaps,
    _tied_moves,
    structural,
)
from codegen.calibrate.pairs import _class_pairs, _pairs
from codegen.calibrate.result import EXACT, Calibration
from codegen.calibrate.space import LATE_CHOICES, _holding, searchable, singly
from codegen.calibrate_geometry import dilation_moves, shape_moves, trace
from codegen.ir import ModelIR
from codegen.render import render_source


def _read_geometry(
    evaluate: Callable,
    start: State,
    misses: dict[frozenset, float],
    class_name: str,
    state: dict[str, Any],
    inputs: tuple[Any, ...],
    target: Any,
) -> tuple[State, tuple[dict[tuple[str, str], Any], ...]]:
    """What the recorded output's shape says before any value is searched: where the defaults'
    output has another spatial size than DATA's, the geometry moves that give DATA's size
    (codegen/calibrate_geometry.shape_moves) are scored first and the best becomes the start
    (a move that makes the model run outranks any that does not). Then the dilation patterns
    over the start's chain of convs, for the descent's tied moves."""

    def traced(ir: ModelIR) -> Any:
        try:
            model = _loaded(render_source(ir, formatted=False), class_name, state)
        except Exception:  # noqa: BLE001 - a candidate that cannot be built says nothing
            return None
        return trace(model, tuple(t[:1] for t in inputs))

    best = start
    wanted = tuple(target.shape[2:])
    seen = traced(start[2])
    if seen is not None and seen.size_out != wanted and len(target.shape) > 2:
        for move in shape_moves(searchable(start[2]), seen, wanted):
            trial = _moved(start[1], move)
            error, ir = evaluate(trial, _described(move))
            if _better(_rank((error, trial, ir), misses), _rank(best, misses)):
                best = (error, trial, ir)
        if best is not start:
            seen = traced(best[2])
    dilations = tuple(dilation_moves(searchable(best[2]), seen)) if seen is not None else ()
    # Each pattern also with the input added to or subtracted from the chain's output: a
    # denoiser's body predicts the noise (DnCNN, IRCNN: x - body(x)), and under a residual of
    # the wrong sign the right dilations score worse than wrong ones, so neither move alone
    # shows the pair (nor does the other alone: any body fits small noise as well).
    residuals = [c for c in searchable(best[2]) if c.name == "residual"]
    base = best
    for pattern in dilations:
        for choice in residuals:
            for value in [choice.value, *choice.alternatives]:
                move = {**pattern, (choice.path, choice.name): value}
                trial = _moved(base[1], move)
                error, ir = evaluate(trial, _described(move))
                if _better(_rank((error, trial, ir), misses), _rank(best, misses), STEP):
                    best = (error, trial, ir)
    return best, dilations


# The share of the budget (candidates, and seconds where a clock bounds it) the first order of
# search (best gain first) may use before the second (structure first) starts from the defaults:
# enough for what the first finds (EfficientNetV2 in 243 candidates), room left for the second
# (MobileNetV2 in 65, RepVGG in 140).
FIRST_ORDER_SHARE = 0.5


def _both_orders(
    search: Callable[[State, bool], State],
    start: State,
    budget: Budget,
    best_seen: Callable[[State], State],
    misses: dict[frozenset, float],
    orders: tuple[bool, ...] = (False, True),
) -> State:
    """Two orders of search from the same defaults (`orders`: structure first?; see
    search_orders), the second only where the first is not exact: best gain first (every tied move
    scored, the steepest taken), then structure first (a tied move of strides and paddings that
    gains is taken before any value that gains more). Neither wins everywhere, and the logits cannot
    tell which applies: with a pooled head, a stage that halves once too often can look best while
    the activations are still wrong (EfficientNetV2: best gain first is exact), and an activation
    that fits the wrong strides can shut the right layout out (MobileNetV2, RepVGG, a TensorFlow
    port: structure first is exact). Candidates both orders score run once (the search's cache); the
    first order gives way after its share of the budget, so the second always gets a turn. The
    better of the two is kept."""
    found: list[State] = []
    for i, structure_first in enumerate(orders):
        if i < len(orders) - 1:
            budget.give_way_after(FIRST_ORDER_SHARE)
        try:
            found.append(search(start, structure_first))
        except ShareSpent:
            found.append(best_seen(start))
        finally:
            budget.share = budget.share_s = None
        if found[-1][0] <= EXACT:
            break
    best = found[0]
    for state in found[1:]:
        if _better(_rank(state, misses), _rank(best, misses)):
            best = state
    return best


def search_orders(ir: ModelIR) -> tuple[bool, ...]:
    """Structure first differs from best gain first only where strides or paddings are searched."""
    if any(c.name in STRUCTURAL for c in searchable(ir)):
        return (False, True)
    return (False,)


def _staged_search(
    evaluate: Callable,
    start: State,
    beam_width: int,
    max_steps: int,
    misses: dict[frozenset, float],
    failures: dict[frozenset, str],
    layouts: Layouts = ((), (), ()),
    structure_first: bool = False,
) -> State:
    """Descent, beam, pairs; after a gain in the beam or pairs stage, descent again from there.
    First with the choices whose convention nearly every model keeps (LATE_CHOICES) held at their
    values, then, where that is not exact, with every choice open, from where the first stopped.
    `structure_first`: the descent takes a tied stride/padding move that gains before any other."""
    args = (evaluate, beam_width, max_steps, misses, failures, layouts, structure_first)
    with _holding(LATE_CHOICES):
        best = _stages(start, *args)
    if best[0] <= EXACT:
        return best
    return _stages(best, *args)


def _stages(
    start: State,
    evaluate: Callable,
    beam_width: int,
    max_steps: int,
    misses: dict[frozenset, float],
    failures: dict[frozenset, str],
    layouts: Layouts,
    structure_first: bool = False,
) -> State:
    best = start
    while True:
        best = _coordinate_descent(evaluate, best, misses, layouts, structure_first)
        if best[0] <= EXACT:
            return best
        # No single move gains: two choices of one class first (few, picked by the structure),
        # then the beam and the pairs of the moves ranked best alone.
        found = _class_pairs(evaluate, best, misses)
        if not _better(_rank(found, misses), _rank(best, misses)):
            if _rank(best, misses) < (float("inf"), float("inf")):  # else nothing ranks a beam
                found = _beam_search(evaluate, best, beam_width, max_steps, misses)
        if not _better(_rank(found, misses), _rank(best, misses)):
            found = _pairs(evaluate, best, misses, failures, layouts[2])
        if not _better(_rank(found, misses), _rank(best, misses)):
            return best
        best = found
        if best[0] <= EXACT:
            return best


def _best_seen(
    evaluated: dict[frozenset, State],
    misses: dict[frozenset, float],
    current: State,
) -> State:
    """When the budget runs out mid-stage: the best candidate scored so far, its changes in the
    order the search made them (not the frozenset key's, which varies with the string hashes)."""
    best = current
    for state in evaluated.values():
        if _better(_rank(state, misses), _rank(best, misses)):
            best = state
    return best


def _coordinate_descent(
    evaluate: Callable,
    start: State,
    misses: dict[frozenset, float],
    layouts: Layouts = ((), (), ()),
    structure_first: bool = False,
) -> State:
    """Rounds of: tied moves, then single changes ordered by what they gain; until a round changes
    nothing. A choice belongs to a generated class, so one evaluation settles it for every
    instance. `structure_first`: where a tied move of strides and paddings (a stride layout,
    plain or padded as TensorFlow pads) gains, the best of those is taken even if a value gains
    more, and TensorFlow-padded layouts are offered from the start."""
    best = start
    improved = True
    while improved and best[0] > EXACT:
        improved = False
        unblocked = _asked_first(evaluate, best, misses)
        if unblocked is not best:
            best, improved = unblocked, True
            continue
        # Tied moves first, the best of them from one base (steepest: they are few, and a wrong
        # convention taken early pulls every later choice after it), again from there while one
        # gains: one change at a time, each fitting what the others still get wrong, would break
        # a convention the tied moves hold (SiLU everywhere until the strides are right).
        tied = True
        while tied and best[0] > EXACT:
            base = best
            # the best structural move (structure first only), and the best of the others
            step = {True: base, False: base}
            padded = structure_first or "padding" not in space._held
            for moves in _tied_moves(base[2], layouts[0], padded) + list(layouts[2]):
                trial = _moved(base[1], moves)
                if trial == base[1]:
                    continue
                state = _with_opened(evaluate, base, trial, _described(moves), misses)
                kind = structure_first and structural(moves)
                if _better(_rank(state, misses), _rank(step[kind], misses)):
                    step[kind] = state
            tied = False
            for kind in (True, False):
                # From a model that cannot run, a convention moved everywhere is taken only where
                # it makes the model run: one that only brings the output's shape closer (every
                # transposed conv striding 2 without padding) can lead away from the single layer
                # that is off (a generator's first layer, 1x1 latent -> 4x4).
                runs = step[kind][0] < float("inf") or best[0] < float("inf")
                if runs and _better(_rank(step[kind], misses), _rank(best, misses), STEP):
                    best, improved, tied = step[kind], True, True
                    break
        if best[0] <= EXACT:
            break
        # Two layers of one block that must move the resolution together (branches that are
        # joined): neither alone runs, so no single change can show them. Before the singles
        # where the model runs (else a value that fits the wrong resolution is taken first);
        # where it cannot run yet, only once the singles are stuck (the singles make it run
        # at less cost: a U-Net's transposed conv).
        if best[0] < float("inf"):
            joined = _class_pairs(evaluate, best, misses, shape_only=True)
            if joined is not best:
                best, improved = joined, True
                continue
        best, changed = _sensitivity_round(evaluate, best, misses, layouts)
        improved = improved or changed
        if not improved and best[0] == float("inf"):
            joined = _class_pairs(evaluate, best, misses, shape_only=True)
            improved = joined is not best
            best = joined
    return best


def _asked_first(evaluate: Callable, base: State, misses: dict[frozenset, float]) -> State:
    """From a model that cannot run because a forward is missing for want of a value (an
    attention whose head count nothing records): the moves of the choices those forwards asked
    for, tied and then alone, before anything else. No other move can make it run (every one scored
    from here raises the same NotImplementedError: a transformer's eps, norm types and
    activations cost a third of its search before the head count was reached), so the best of
    these that runs is taken; where none runs, the base is returned and the round goes on."""
    if base[0] < float("inf"):
        return base
    asked = {
        (c.path, c.name)
        for cls in base[2].classes
        if cls.forward is not None and cls.forward.missing
        for c in cls.forward.choices
    }
    best = base
    # tied first: where two forwards wait for a head count, no single value makes the model run
    for moves in (_tied_moves(base[2]), _single_moves(base)):
        for move in moves:
            trial = _moved(base[1], move)
            if not set(move) <= asked or trial == base[1]:
                continue
            error, ir = evaluate(trial, _described(move))
            state = (error, trial, ir)
            if error < float("inf") and _better(_rank(state, misses), _rank(best, misses)):
                best = state
        if best is not base:
            break
    return best


def _sensitivity_round(
    evaluate: Callable, best: State, misses: dict[frozenset, float], layouts: Layouts
) -> tuple[State, bool]:
    """Each move scored from one base, then taken best first, each kept where it still gains on
    top of those taken before it. Taking the first change that gains, in the order the choices
    come, lets a small gain that only fits what is still wrong (another stage's stride taken back
    instead of the one too many) shut out the change that makes the model exact. A trade of halvings between stages ranks with
    them: taken before them, it wins where the residual is what is missing."""
    base = best
    gains: list[tuple[tuple, dict]] = []
    for move in _stride_swaps(base, layouts[1]) + _pin_swaps(base) + _single_moves(base):
        trial = _moved(base[1], move)
        if trial == base[1]:
            continue
        described = _described(move)
        if len(move) == 1:  # a single change, with the best value of each choice it opens
            state = _with_opened(evaluate, base, trial, described, misses)
        else:
            error, ir = evaluate(trial, described)
            state = (error, trial, ir)
        if state[0] <= EXACT:
            return state, True
        if _better(_rank(state, misses), _rank(base, misses), STEP):
            gains.append((_rank(state, misses), _difference(base[1], state[1])))
    gains.sort(key=lambda g: g[0])
    for _, move in gains:
        trial = _moved(best[1], move)
        if trial == best[1]:
            continue
        error, ir = evaluate(trial, _described(move))
        state = (error, trial, ir)
        # A step must gain measurably: a change that shaves noise off the error can take away
        # the choice the right value needed (BatchNorm for GroupNorm drops its groups).
        if _better(_rank(state, misses), _rank(best, misses), STEP):
            best = state
            if error <= EXACT:
                break
    return best, best is not base


def _with_opened(
    evaluate: Callable,
    base: State,
    trial: dict[tuple[str, str], Any],
    described: tuple[str, str, Any],
    misses: dict[frozenset, float],
) -> State:
    """A change that opens choices of its own in the same place (rotary on brings its theta and
    fraction) is scored with the best value of each one it opens, one at a time: a partial rotary
    can lose to no rotary at all until its fraction is right. Only from a base that runs: a model
    that could not run has not made most of its choices yet, and they would all count as opened."""
    error, ir = evaluate(trial, described)
    best = (error, trial, ir)
    if base[0] == float("inf"):
        return best
    before = {(c.path, c.name) for c in searchable(base[2])}
    # A tied move (one value for every choice of a name) opens its choices in each place it
    # changes: they move tied too (every attention's head count brings its channel order).
    places = {path for path, _ in _difference(base[1], trial)} or {described[0]}
    opened_by_name: dict[str, list] = {}
    for choice in searchable(ir):
        if (choice.path, choice.name) not in before and choice.path in places:
            opened_by_name.setdefault(choice.name, []).append(choice)
    for name, group in opened_by_name.items():
        values = list(dict.fromkeys(v for c in group for v in c.alternatives))
        for value in values:
            taking = [c for c in group if value in c.alternatives]
            opened = {**trial, **{(c.path, c.name): value for c in taking}}
            with_change = f"{taking[0].path} (with {described[1]} = {described[2]!r})"
            error, opened_ir = evaluate(opened, (with_change, name, value))
            state = (error, opened, opened_ir)
            if _better(_rank(state, misses), _rank(best, misses)):
                best = state
    return best


def _keep_measurable(
    evaluate: Callable,
    best: float,
    picked: dict[tuple[str, str], Any],
    ir: ModelIR,
    margin: float,
    result: Calibration,
) -> tuple[float, dict[tuple[str, str], Any], ModelIR]:
    """Take back every change whose removal does not measurably worsen the fit: the default stays
    wherever the data did not decide, and only what it decided is labelled calibrated."""
    for key in list(picked):
        without = {k: v for k, v in picked.items() if k != key}
        error, without_ir = evaluate(without, None)
        if error - best <= margin * max(error, EXACT) and error < float("inf"):
            picked, best, ir = without, error, without_ir
            result.undecided.append(f"{key[0] or '(top)'} {key[1]}")
    return best, picked, ir


def _beam_search(
    evaluate: Callable, start: State, width: int, max_steps: int, misses: dict[frozenset, float]
) -> State:
    def rank(state: State) -> tuple[float, float]:
        return state[0], misses.get(frozenset(state[1].items()), float("inf"))

    best = start
    beam = [start]
    seen = {frozenset(start[1].items())}
    for _ in range(max_steps):
        candidates: list[State] = []
        for _, beam_picked, beam_ir in beam:
            for choice in singly(beam_ir):
                for value in choice.alternatives:
                    trial_picked = {**beam_picked, (choice.path, choice.name): value}
                    key = frozenset(trial_picked.items())
                    if key in seen:
                        continue
                    seen.add(key)
                    error, trial_ir = evaluate(trial_picked, (choice.path, choice.name, value))
                    candidates.append((error, trial_picked, trial_ir))
        candidates.sort(key=rank)
        if not candidates or (not _better(rank(candidates[0]), rank(best)) and len(beam) == width):
            break
        beam = candidates[:width]
        if _better(rank(beam[0]), rank(best)):
            best = beam[0]
        if best[0] <= EXACT:
            break
    return best
