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
sound; its error is the full run's, bit for bit). The final model is always checked by a full run.

Honesty rules: a change counts as calibrated only when taking it back measurably worsens the fit
(else the default stays and the data did not decide); a candidate that cannot run says why; the
result says whether the final model reproduces DATA. DATA holding training targets instead of the
original's outputs cannot prove anything exact: candidates are then scored by their loss after the
closed-form refit of a trailing Linear head (what `finetune` would do next), and what the data
prefers by a wide margin is reported, never written: a wrong architecture can fit targets better than
the true one (a random or perturbed body gives features that fit by chance), so the defaults stay
and the user pins a preference with --hints when they know it is right.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from codegen.analyze import analyze
from codegen.analyze.strides import stride_layouts, stride_units
from codegen.analyze.unrun import run_classes
from codegen.calibrate_geometry import TO_DEFAULT, dilation_moves, shape_moves, trace
from codegen.keytree import build_tree
from codegen.ir import Choice, ModelIR
from codegen.load import TensorTable
from codegen.render import render_source

SEARCH_SAMPLES = 64
FINAL_SAMPLES = 1024  # the final model is compared with DATA's outputs on up to this many samples
DEFAULT_BUDGET_S = 120.0  # `generate --budget`: seconds of search before the best so far is taken
DEFAULT_EVALUATIONS = 600  # and candidates
GRACE = 0.2  # of --budget, for taking back changes once the search's time ran out
EXACT = 1e-12  # relative error treated as an exact match: stop searching
# How much worse the fit must get without a change for the change to count as calibrated: 1% of the
# error against recorded outputs; 10% against training targets, whose noise moves every candidate.
MEASURABLE = {"outputs": 0.01, "targets": 0.10}


@dataclass
class Trial:
    path: str
    name: str
    value: Any
    error: float
    kept: bool = False
    failure: str = ""  # why the candidate could not run (error inf), first line


@dataclass
class Calibration:
    picked: dict[tuple[str, str], Any]  # only the changes that measurably improved the fit
    error: float  # relative error of the final choices on the search subset
    baseline: float  # the same with every default
    trials: list[Trial] = field(default_factory=list)
    samples: int = 0
    evidence: str = (
        "outputs"  # outputs: the original's recorded outputs | targets: training targets
    )
    undecided: list[str] = field(default_factory=list)  # changes the data did not measurably favour
    reproduces: bool = False  # the final model matches DATA's outputs within atol/rtol
    max_abs: float | None = None  # the final model against DATA's outputs
    compared: int = 0  # on this many samples
    lowest: float = float("inf")  # the best and worst finite candidate scores
    highest: float = float("inf")
    failed: int = 0  # candidates that could not run
    preferred: dict[tuple[str, str], Any] = field(default_factory=dict)  # targets: not applied
    preferred_error: float = float("inf")
    evaluated: int = 0  # candidates built and run
    seconds: float = 0.0  # the search's wall time
    budget_spent: str = ""  # "120 s" / "600 candidates" when the budget stopped the search
    replayed: int = 0  # member calls answered from the best model's record, not run
    member_calls: int = 0  # member calls in all candidates (replayed or run)
    # Where the candidates' seconds went: write (analyze and render), build (compile, load the
    # tensors), run (the forward, replay and recording included).
    phases: dict[str, float] = field(
        default_factory=lambda: {"write": 0.0, "build": 0.0, "run": 0.0}
    )

    def cost(self) -> str:
        """How much searching it took, for the terminal (never the file: it would not reproduce)."""
        line = (
            f"{self.evaluated} candidates evaluated in {self.seconds:.1f} s, "
            f"final relative error {self.error:.3g}"
        )
        if self.member_calls:
            line += f" ({self.replayed} of {self.member_calls} layer calls reused, not re-run)"
        if self.budget_spent:
            line += f"; stopped when the budget ({self.budget_spent}) ran out"
        return line

    @property
    def separates(self) -> bool:
        """Did the data tell the candidates apart (their scores differ measurably)?"""
        if self.highest == float("inf"):
            return False
        return self.highest - self.lowest > MEASURABLE[self.evidence] * max(self.highest, EXACT)

    def verdict(self) -> str:
        """One line for the terminal: what the calibration proved."""
        if self.evidence == "targets":
            return (
                "DATA holds training targets, not the original's outputs: exactness cannot be "
                f"proven and no choice is taken from them; relative loss after refitting the head "
                f"{self.baseline:.3g} with the defaults; " + self._decided()
            )
        if self.reproduces:
            return (
                f"reproduces DATA's outputs on {self.compared} samples "
                f"(max abs diff {self.max_abs:.3g})"
            )
        diff = "" if self.max_abs is None else f"max abs diff {self.max_abs:.3g}, "
        return (
            f"does not reproduce DATA's outputs ({diff}relative error {self.error:.3g}, "
            f"defaults {self.baseline:.3g}); {self._decided()}"
        )

    def _decided(self) -> str:
        spread = (
            f"candidates scored {self.lowest:.3g} to {self.highest:.3g}"
            if self.highest < float("inf")
            else "no candidate ran"
        )
        if self.failed:
            spread += f", {self.failed} could not run"
        if self.preferred:
            names = ", ".join(f"{p or '(top)'} {n} = {v!r}" for (p, n), v in self.preferred.items())
            how = (
                f"the data prefers {names} (loss {self.preferred_error:.3g}); pin it with --hints "
                "only if you know it is right"
            )
        elif self.evidence == "targets":
            how = "the data does not identify any choice; defaults kept"
        elif self.picked and self.reproduces:
            names = ", ".join(sorted({name for _, name in self.picked}))
            how = f"the data decided {names}"
        elif self.picked:
            names = ", ".join(sorted({name for _, name in self.picked}))
            how = f"{names} lowered the error, but nothing is proven while the forward differs"
        elif self.separates:
            how = "no change beat the defaults"
        else:
            how = "the data does not tell the choices apart; defaults kept"
        if self.undecided and self.evidence == "outputs":
            how += f" (not measurably better, kept at defaults: {', '.join(self.undecided)})"
        return f"{spread}: {how}"

    def docstring_note(self, data_name: str) -> str:
        return f"Calibrated on {data_name} ({self.samples} samples): {self.verdict()}."


class BudgetSpent(Exception):
    """The search's time or evaluation budget ran out: it stops with the best found so far."""


class ShareSpent(Exception):
    """One order of search used its share of the candidates: the next order takes over."""


@dataclass
class Budget:
    """`seconds=None`: no clock, only the candidate count stops the search, so what it finds does
    not depend on how busy the machine is (tests and benchmarks: `generate --candidates N`)."""

    seconds: float | None = DEFAULT_BUDGET_S
    evaluations: int = DEFAULT_EVALUATIONS
    started: float = field(default_factory=time.monotonic)
    used: int = 0
    spent: str = ""  # what ran out, once it has
    share: int | None = None  # the count at which the current order of search gives way
    share_s: float | None = None  # and the elapsed seconds

    def charge(self) -> None:
        if self.used >= self.evaluations:
            self.spent = f"{self.evaluations} candidates"
        elif self.seconds is not None and time.monotonic() - self.started > self.seconds:
            self.spent = f"{self.seconds:g} s"
        if self.spent:
            raise BudgetSpent(self.spent)
        if (self.share is not None and self.used >= self.share) or (
            self.share_s is not None and self.elapsed > self.share_s
        ):
            raise ShareSpent()
        self.used += 1

    def give_way_after(self, fraction: float) -> None:
        """The current order of search stops (ShareSpent) after this fraction of what is left."""
        self.share = self.used + int(fraction * (self.evaluations - self.used))
        if self.seconds is not None:
            self.share_s = self.elapsed + fraction * max(self.seconds - self.elapsed, 0.0)

    def grace(self, changes: int) -> None:
        """A spent search gets room to take back its `changes` one by one (a candidate each):
        without it every change the search made stays, and the file calls calibrated what the
        data never showed. The clock gives a fifth of its time again; a count gives exactly one
        candidate per change (as deterministic as the count itself)."""
        if self.spent.endswith(" s"):
            self.spent, self.seconds = "", self.elapsed + GRACE * (self.seconds or 0.0)
        elif self.spent:
            self.spent, self.evaluations = "", self.used + changes

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def calibrate(*args: Any, **kwargs: Any) -> Calibration:
    """The search (see `_calibrate` for the arguments), on one thread where the machine is busy
    or where only a candidate count bounds it (`budget_s=None`)."""
    with _threads_for_small_ops(always=kwargs.get("budget_s", DEFAULT_BUDGET_S) is None):
        return _calibrate(*args, **kwargs)


@contextmanager
def _threads_for_small_ops(always: bool = False) -> Iterator[None]:
    """Candidates run a few dozen samples: on a machine already busier than its cores, torch's
    intra-op threads mostly wait for each other (a 200-layer MLP's search took 4x longer with 2
    threads than with 1 at load 12 on 2 cores), so the search then runs on one thread. `always`:
    one thread whatever the load, so that no score's last bits (a reduction split another way)
    depend on the machine's load: a search bounded by a candidate count is then reproducible."""
    import os

    import torch

    before = torch.get_num_threads()
    try:
        busy = always or os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        busy = False
    if busy:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
    evaluated: dict[frozenset, tuple[float, ModelIR]] = {}
    # How far a candidate's output shape is from DATA's (0 when equal): among candidates that cannot
    # be scored, the search prefers those that come closer (an encoder's strides, one at a time).
    misses: dict[frozenset, float] = {}
    lowest = [float("inf")]
    alike: dict[str, list[str]] = {}  # filled from the defaults' classes (_instance_members)
    failures: dict[frozenset, str] = {}  # why each candidate could not run ('' when it ran)
    reuse = Replay(subset) if replay and not training_targets else None

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
            error, failure, misses[key] = model_error(
                source,
                class_name,
                state,
                subset,
                target[:n],
                refit_head=training_targets,
                replay=reuse,
                phases=result.phases,
            )
            evaluated[key] = (error, ir)
            failures[key] = failure
            lowest[0] = min(lowest[0], error)
            if on_progress:
                on_progress(len(evaluated), lowest[0])
            if changed is not None:
                trial = Trial(*changed, error, failure=failure)
                result.trials.append(trial)
                if on_trial:
                    on_trial(trial)
        return evaluated[key]

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
    scores = [e for e, _ in evaluated.values() if e < float("inf")]
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


State = tuple[float, dict[tuple[str, str], Any], ModelIR]
# (stride layouts: conv sets tried at stride 2 as one move; stride units: the convs that halve
# the resolution together in each stage's first block), codegen.analyze.strides'; and dilation
# patterns over a chain of convs, each one move (codegen.calibrate_geometry).
Layouts = tuple[
    tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...], tuple[dict[tuple[str, str], Any], ...]
]


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


def _rank(state: State, misses: dict[frozenset, float]) -> tuple[float, float]:
    return state[0], misses.get(frozenset(state[1].items()), float("inf"))


def _best_seen(
    evaluated: dict[frozenset, tuple[float, ModelIR]],
    misses: dict[frozenset, float],
    current: State,
) -> State:
    """When the budget runs out mid-stage: the best candidate scored so far."""
    best = current
    for key, (error, ir) in evaluated.items():
        state = (error, dict(key), ir)
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
        # Tied moves first, the best of them from one base (steepest: they are few, and a wrong
        # convention taken early pulls every later choice after it), again from there while one
        # gains: one change at a time, each fitting what the others still get wrong, would break
        # a convention the tied moves hold (SiLU everywhere until the strides are right).
        tied = True
        while tied and best[0] > EXACT:
            base = best
            # the best structural move (structure first only), and the best of the others
            step = {True: base, False: base}
            padded = structure_first or "padding" not in _held
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
        padded = "padding" not in _held
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


def _better(a: tuple, b: tuple, margin: float = 1e-6) -> bool:
    """A lower error; between candidates that cannot be scored, an output shape closer to DATA's."""
    if a[0] < float("inf") or b[0] < float("inf"):
        return a[0] < b[0] * (1 - margin)
    return a[1] < b[1]


def shape_miss(shape: tuple[int, ...], wanted: tuple[int, ...]) -> float:
    """0 for equal shapes; else how many doublings or halvings apart they are (inf for other ranks)."""
    if len(shape) != len(wanted) or 0 in shape or 0 in wanted:
        return float("inf")
    return sum(abs(math.log2(a / b)) for a, b in zip(shape, wanted))


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
    dead = {id(c) for k in ir.classes if k.name not in run for c in k.forward.choices}
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


def model_error(
    source: str,
    class_name: str,
    state: dict[str, Any],
    inputs: tuple[Any, ...],
    target: Any,
    refit_head: bool = False,
    replay: Any = None,
    phases: dict[str, float] | None = None,
) -> tuple[float, str, float]:
    """Relative squared error of the generated model on the data, and '' — or inf and why it
    cannot run (`Class.method, line N: Error: message`). With `refit_head`, the trailing Linear is
    first refitted to the targets in closed form, as finetune would. `replay` (a codegen.replay.Replay
    over these inputs): reuse what its reference model computed; the model is offered as the next
    reference. `phases`: seconds spent building and running are added to its "build" and "run"."""
    import torch

    clock = phases if phases is not None else {"build": 0.0, "run": 0.0}
    started, phase = time.monotonic(), "build"
    try:
        model = _loaded(source, class_name, state, shared=not refit_head)
        built = time.monotonic()
        clock["build"] += built - started
        started, phase = built, "run"
        with torch.no_grad():
            if refit_head:
                _refit_head(model, inputs, target)
            if replay is not None and not refit_head:
                out = _first(replay.run(model, source))
            else:
                out = _first(model(*inputs))
        clock["run"] += time.monotonic() - started
    except Exception as e:  # a combination that does not run is a bad candidate: say why
        from codegen.harness.forward_run import SOURCE_NAME, where_failed

        clock[phase] += time.monotonic() - started
        return float("inf"), where_failed(e, SOURCE_NAME, source), float("inf")
    if out.shape != target.shape:
        return (
            float("inf"),
            f"output [{', '.join(map(str, out.shape))}] but DATA records "
            f"[{', '.join(map(str, target.shape))}]",
            shape_miss(tuple(out.shape), tuple(target.shape)),
        )
    scale = target.float().pow(2).mean().clamp_min(1e-12)
    error = (out.float() - target.float()).pow(2).mean() / scale
    if replay is not None and not refit_head:
        replay.offer(float(error) if torch.isfinite(error) else float("inf"))
    if not torch.isfinite(error):
        return float("inf"), "output holds NaN/inf", 0.0
    return float(error), "", 0.0


def reproduces(
    source: str, class_name: str, state: dict[str, Any], inputs: tuple[Any, ...], target: Any
) -> tuple[bool, float | None]:
    """Does the model match the recorded outputs within verify's atol/rtol? And its max abs diff."""
    import torch

    from codegen.harness.compare import compare_outputs

    try:
        model = _loaded(source, class_name, state)
        with torch.no_grad():
            diffs = compare_outputs(_first(model(*inputs)), target)
    except Exception:
        return False, None
    return all(d.within for d in diffs), diffs[0].max_abs


def _loaded(source: str, class_name: str, state: dict[str, Any], shared: bool = True) -> Any:
    """The generated class with the checkpoint's tensors. `shared`: built on the meta device and
    handed the tensors themselves (no random init, no copy: most of a candidate's cost on a deep
    model), unless its __init__ computes buffers the checkpoint does not hold; not for a model whose
    weights are then changed in place (the head refit)."""
    import torch

    from codegen.harness.forward_run import compile_source

    _, cls = compile_source(source, class_name)
    if shared:
        with torch.device("meta"), _no_initialisation():
            model = cls().eval()
        own = model.state_dict()
        if all(k in state and state[k].dtype == t.dtype for k, t in own.items()):
            if not _assigned(model, own, state):
                model.load_state_dict(state, strict=True, assign=True)
            if not any(t.is_meta for t in (*model.parameters(), *model.buffers())):
                return model
    model = cls().eval()
    model.load_state_dict(state, strict=True)
    return model


@contextmanager
def _no_initialisation() -> Iterator[None]:
    """torch.nn.init's in-place fills do nothing while a candidate is built on the meta device:
    meta tensors hold no values, and every one is replaced by the checkpoint's (a tensor left on
    meta sends the build down the ordinary path, outside this). Most of a 200-layer candidate's
    build went into drawing random values that do not exist."""
    import torch.nn.init as init

    def skipping(fill: Callable) -> Callable:
        def fill_unless_meta(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            return tensor if tensor.is_meta else fill(tensor, *args, **kwargs)

        return fill_unless_meta

    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(init, n) for n in names if callable(getattr(init, n))}
    try:
        for n, fill in saved.items():
            setattr(init, n, skipping(fill))
        yield
    finally:
        for n, f in saved.items():
            setattr(init, n, f)


def _assigned(model: Any, own: dict[str, Any], state: dict[str, Any]) -> bool:
    """`load_state_dict(strict=True, assign=True)` where nothing can differ from it (the same keys,
    shapes and dtypes; no module with its own loading or load hooks) in one pass: torch's scans the
    whole state dict once per module, most of a candidate's build on a 200-layer model. False:
    nothing was done, load_state_dict must run (and say what does not fit)."""
    import torch.nn as nn
    from torch.nn.modules.batchnorm import _NormBase

    plain = (nn.Module._load_from_state_dict, _NormBase._load_from_state_dict)
    if own.keys() != state.keys() or any(
        state[k].shape != t.shape or state[k].dtype != t.dtype for k, t in own.items()
    ):
        return False
    modules = list(model.named_modules(remove_duplicate=False))
    if any(
        type(m)._load_from_state_dict not in plain
        or m._load_state_dict_pre_hooks
        or m._load_state_dict_post_hooks
        for _, m in modules
    ):
        return False
    for prefix, module in modules:
        at = f"{prefix}." if prefix else ""
        for name, param in module._parameters.items():
            if param is not None:
                module._parameters[name] = nn.Parameter(
                    state[at + name], requires_grad=param.requires_grad
                )
        for name, buffer in module._buffers.items():
            if buffer is not None and name not in module._non_persistent_buffers_set:
                module._buffers[name] = state[at + name]
    return True


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


def _refit_head(model: Any, inputs: tuple[Any, ...], target: Any) -> None:
    """Least squares for the last Linear when the model's output is exactly its output (head.py
    proves it); otherwise the model is scored as it is."""
    import torch.nn as nn

    from codegen.harness.head import InputCapture, find_head, probe
    from codegen.harness.lstsq import NormalEquations

    linears = [n for n, m in model.named_modules() if type(m) is nn.Linear]
    if not linears:
        return
    head, _ = find_head(model, [f"{linears[-1]}.weight"])
    if head is None or not isinstance(head.module, nn.Linear) or probe(model, head, inputs):
        return
    with InputCapture(head.entry) as capture:
        out = model(*inputs)
    if _first(out).shape != target.shape:
        return  # scored as it is: the shape check that follows says what is wrong
    equations = NormalEquations(head.module, device=target.device)
    equations.add(capture.args[0], target)
    equations.solve_into_linear()
