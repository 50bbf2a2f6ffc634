"""`generate --calibrate DATA`: let recorded outputs decide what the checkpoint does not record.

A candidate is a set of values for the choices (one decision per generated class: its instances share
it); each is rendered, built in-process on the meta device, given the checkpoint's tensors and run on
a capped subset of DATA. The search, within a time and evaluation budget (`--budget` seconds,
`--candidates` count; a count alone makes the result independent of the machine's load): descent
from the defaults, each round first the tied moves (one value for every choice of a name; a stride
layout: the stem and the first block of each stage halving together, or MobileNetV2's schedule;
once paddings are searched, also padded as TensorFlow pads) while one gains, then every
single change (and a halving traded between two stages) scored from one base and taken best first;
then a beam over single changes, then pairs of changes (what one change alone cannot show: two
poolings that together give the head its width, a residual that only helps with the right
activation), back to descent after any gain, until nothing improves or the match is exact. Where
no single change gains, two choices of one class (or two layers inside one instance of a class,
each pinned there: branches that are joined must halve together) move at once before the beam
(_class_pairs); the joined layers' strides also before the singles while the model runs. A conv's
padding, a convention nearly every model keeps, is searched only once the rest has settled short of
exact. Choices pinned by --hints or metadata are not searched. Where strides or paddings are
searched and that is not exact, the search runs again from the defaults taking structure first (a
tied stride/padding move that gains before any value: `_both_orders`), and the better is kept.
`strategy="beam"` runs the earlier search (descent by the best single change, then a beam of 2),
kept for benchmarks/calibrate_bench.py.

A candidate re-runs only what it changes: the top-level members it shares with the best model so far,
called with the same inputs, return that model's recorded outputs (codegen/replay.py says when this is
sound; its error is the full run's, bit for bit); one whose code, docstrings aside, is that of a
candidate already run is not run again. The final model is always checked by a full run.

No order in the search comes from a set or frozenset (their order follows each process's string
hashes): the same count gives the same trials and file in every run (test_deterministic_runs.py).

Honesty rules: a change counts as calibrated only when taking it back measurably worsens the fit
(else the default stays and the data did not decide); a candidate that cannot run says why; the
result says whether the final model reproduces DATA. DATA holding training targets instead of the
original's outputs cannot prove anything exact: candidates are then scored by their loss after the
closed-form refit of a trailing Linear head (what `finetune` would do next), and what the data
prefers by a wide margin is reported, never written: a wrong architecture can fit targets better than
the true one (a random or perturbed body gives features that fit by chance), so the defaults stay
and the user pins a preference with --hints when they know it is right.

The package, one concern a module: this one runs the search (`calibrate`); search.py holds the
strategies, moves.py the candidate states and the move generators, pairs.py the joint moves,
space.py which choices are searched, evaluate.py how one candidate is built and scored, budget.py
the time and candidate budget, result.py what the search returns.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from codegen.analyze import analyze
from codegen.analyze.strides import stride_layouts, stride_units
from codegen.keytree import build_tree
from codegen.ir import ModelIR
from codegen.load import TensorTable
from codegen.render import render_source

# Every name the single-module codegen.calibrate defined, importable from here as before (by
# codegen.generate, tests, benchmarks, and code written against the old module).
from codegen.calibrate.budget import (  # the search's time and candidate budget
    DEFAULT_BUDGET_S,
    DEFAULT_EVALUATIONS,
    GRACE,
    Budget,
    BudgetSpent,
    ShareSpent,
    _threads_for_small_ops,
)
from codegen.calibrate.evaluate import (  # one candidate built and scored against DATA
    _assigned,
    _first,
    _loaded,
    _no_initialisation,
    _refit_head,
    model_error,
    reproduces,
    shape_miss,
)
from codegen.calibrate.moves import (  # candidate states and the move generators
    STEP,
    STRUCTURAL,
    TF_SAME,
    TO_DEFAULT,
    Layouts,
    State,
    _better,
    _described,
    _difference,
    _layout_moves,
    _moved,
    _part,
    _pin_swaps,
    _rank,
    _same_padding_move,
    _shapes_layout,
    _single_moves,
    _stride_swaps,
    _tied_moves,
    structural,
)
from codegen.calibrate.pairs import (  # joint moves: two changes at once
    JOINT_LAYERS,
    JOINT_VALUES,
    PAIR_CANDIDATES,
    SHAPE_MOVING,
    _class_layout,
    _class_pairs,
    _instance_choices,
    _pairs,
)
from codegen.calibrate.result import EXACT, MEASURABLE, Calibration, Trial  # what it returns
from codegen.calibrate.search import (  # the strategies: staged descent, beam, both orders
    FIRST_ORDER_SHARE,
    _beam_search,
    _best_seen,
    _both_orders,
    _coordinate_descent,
    _keep_measurable,
    _read_geometry,
    _sensitivity_round,
    _stages,
    _staged_search,
    _with_opened,
    search_orders,
)
from codegen.calibrate.space import (  # which choices the search moves
    CLASS_WIDE,
    LATE_CHOICES,
    TIED_ONLY,
    TIED_ONLY_SINGLES,
    _for_every_instance,
    _holding,
    _instance_members,
    searchable,
    singly,
)

SEARCH_SAMPLES = 64
FINAL_SAMPLES = 1024  # the final model is compared with DATA's outputs on up to this many samples


def calibrate(*args: Any, **kwargs: Any) -> Calibration:
    """The search (see `_calibrate` for the arguments), on one thread where the machine is busy
    or where only a candidate count bounds it (`budget_s=None`)."""
    with _threads_for_small_ops(always=kwargs.get("budget_s", DEFAULT_BUDGET_S) is None):
        return _calibrate(*args, **kwargs)


def _calibrate(
    table: TensorTable,
    state: dict[str, Any],
    inputs: tuple[Any, ...],
    target: Any,
    class_name: str,
    hints: dict[str, dict[str, Any]],
    max_steps: int = 8,
    beam_width: int = 2,
    on_trial: Callable[[Trial], None] | None = None,
    training_targets: bool = False,
    budget_s: float | None = DEFAULT_BUDGET_S,
    max_evaluations: int = DEFAULT_EVALUATIONS,
    strategy: str = "staged",
    on_progress: Callable[[int, float], None] | None = None,
    replay: bool = True,
) -> Calibration:
    """`on_progress(candidates evaluated, best error so far)` after each candidate (a progress bar);
    `replay`: reuse the best model's activations where a candidate cannot differ (codegen/replay).
    """
    from codegen.replay import Replay

    evidence = "targets" if training_targets else "outputs"
    n = min(SEARCH_SAMPLES, int(target.shape[0]))
    subset = tuple(t[:n] for t in inputs)
    result = Calibration({}, 0.0, 0.0, samples=n, evidence=evidence)
    budget = Budget(budget_s, max_evaluations)
    # Each candidate scored, by its changes as a set, as the search state it was scored as: the
    # changes in the order the search made them (a frozenset's own order varies with each
    # process's string hashes, and taking back changes follows this order: _keep_measurable).
    evaluated: dict[frozenset, State] = {}
    # How far a candidate's output shape is from DATA's (0 when equal): among candidates that cannot
    # be scored, the search prefers those that come closer (an encoder's strides, one at a time).
    misses: dict[frozenset, float] = {}
    lowest = [float("inf")]
    alike: dict[str, list[str]] = {}  # filled from the defaults' classes (_instance_members)
    failures: dict[frozenset, str] = {}  # why each candidate could not run ('' when it ran)
    reuse = Replay(subset) if replay and not training_targets else None
    # A candidate's score is a function of its code (the state, inputs and targets are fixed,
    # generated forwards are deterministic, as replay assumes, and docstrings compute nothing): a
    # candidate whose changes its code does not show (a choice nothing reads, or that only a
    # docstring lists) scores as the one with that code did, without a run. Between texts that
    # differ only a run is shared: a failure's message quotes the source's lines.
    scored: dict[str, tuple[float, str, float]] = {}  # by source
    ran: dict[str, tuple[float, str, float]] = {}  # by code, those that ran

    def evaluate(
        picked: dict[tuple[str, str], Any], changed: tuple[str, str, Any] | None
    ) -> tuple[float, ModelIR]:
        key = frozenset(picked.items())
        if key not in evaluated:
            budget.charge()
            started = time.monotonic()
            every = _for_every_instance(picked, alike)
            ir = analyze(table, class_name=class_name, hints=hints, calibrated=every)
            source = render_source(ir, formatted=False)
            result.phases["write"] += time.monotonic() - started
            code = reuse.code(source) if reuse is not None else source
            if source not in scored:
                scored[source] = ran.get(code) or model_error(
                    source,
                    class_name,
                    state,
                    subset,
                    target[:n],
                    refit_head=training_targets,
                    replay=reuse,
                    phases=result.phases,
                )
            error, failure, misses[key] = scored[source]
            if not failure:
                ran.setdefault(code, scored[source])
            evaluated[key] = (error, dict(picked), ir)
            failures[key] = failure
            lowest[0] = min(lowest[0], error)
            if on_progress:
                on_progress(len(evaluated), lowest[0])
            if changed is not None:
                trial = Trial(*changed, error, failure=failure)
                result.trials.append(trial)
                if on_trial:
                    on_trial(trial)
        return evaluated[key][0], evaluated[key][2]

    budget.used -= 1  # the defaults are always scored, whatever the budget
    best, ir = evaluate({}, None)
    alike = _instance_members(ir)
    result.baseline = best
    picked: dict[tuple[str, str], Any] = {}
    if best > EXACT:
        found = (best, picked, ir)
        try:
            if strategy == "beam":  # the earlier search, for benchmarks
                for width in dict.fromkeys((1, beam_width)):
                    found = _beam_search(evaluate, found, width, max_steps, misses)
                    if found[0] <= EXACT:
                        break
            else:
                found, dilations = _read_geometry(
                    evaluate, found, misses, class_name, state, subset, target[:n]
                )
                tree = build_tree(table, canonical=True)
                layouts = (stride_layouts(tree), tuple(stride_units(tree)[1]), dilations)
                found = _both_orders(
                    lambda state, first: _staged_search(
                        evaluate, state, beam_width, max_steps, misses, failures, layouts, first
                    ),
                    found,
                    budget,
                    lambda state: _best_seen(evaluated, misses, state),
                    misses,
                    search_orders(ir),
                )
        except BudgetSpent:
            found = _best_seen(evaluated, misses, found)
        best, picked, ir = found
    spent = budget.spent
    budget.grace(len(picked))
    try:
        best, picked, ir = _keep_measurable(
            evaluate, best, picked, ir, MEASURABLE[evidence], result
        )
    except BudgetSpent:  # what could not be taken back stays: removal was not shown harmless
        pass
    result.budget_spent = spent or budget.spent
    if training_targets and picked:  # reported, never applied (see the module docstring)
        result.preferred, result.preferred_error = picked, best
        picked, best = {}, result.baseline
    for (path, name), value in picked.items():  # what the search settled on, for the table's end
        kept = Trial(path, name, value, best, kept=True)
        result.trials.append(kept)
        if on_trial:
            on_trial(kept)
    scores = [e for e, _, _ in evaluated.values() if e < float("inf")]
    result.failed = sum(1 for t in result.trials if not t.kept and t.error == float("inf"))
    if scores:
        result.lowest, result.highest = min(scores), max(scores)
    result.picked, result.error = _for_every_instance(picked, alike), best
    result.evaluated, result.seconds = len(evaluated), budget.elapsed
    if reuse is not None:
        result.replayed, result.member_calls = reuse.replayed, reuse.replayed + reuse.computed
    if not training_targets:
        m = min(FINAL_SAMPLES, int(target.shape[0]))
        result.reproduces, result.max_abs = reproduces(
            render_source(ir, formatted=False),
            class_name,
            state,
            tuple(t[:m] for t in inputs),
            target[:m],
        )
        result.compared = m
    return result
