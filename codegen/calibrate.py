"""`generate --calibrate DATA`: let recorded outputs decide what the checkpoint does not record.

Descent from the defaults: every alternative of every choice is rendered, built, strict-loaded with
the checkpoint's weights and run on a capped subset of DATA; the single change that lowers the error
most is kept, and the search repeats from there until nothing improves or the match is exact. Choices pinned by --hints or checkpoint
metadata are not searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from codegen.analyze import analyze
from codegen.ir import Choice, ModelIR
from codegen.load import TensorTable
from codegen.render import render_source

SEARCH_SAMPLES = 64
EXACT = 1e-12  # relative error treated as an exact match: stop searching


@dataclass
class Trial:
    path: str
    name: str
    value: Any
    error: float
    kept: bool = False


@dataclass
class Calibration:
    picked: dict[tuple[str, str], Any]
    error: float  # relative error of the final choices on the search subset
    baseline: float  # the same with every default
    trials: list[Trial] = field(default_factory=list)
    samples: int = 0


def calibrate(
    table: TensorTable,
    state: dict[str, Any],
    inputs: tuple[Any, ...],
    target: Any,
    class_name: str,
    hints: dict[str, dict[str, Any]],
    max_steps: int = 8,
    beam_width: int = 2,
    on_trial: Callable[[Trial], None] | None = None,
) -> Calibration:
    n = min(SEARCH_SAMPLES, int(target.shape[0]))
    inputs = tuple(t[:n] for t in inputs)
    target = target[:n]
    result = Calibration({}, 0.0, 0.0, samples=n)
    evaluated: dict[frozenset, tuple[float, ModelIR]] = {}

    def evaluate(
        picked: dict[tuple[str, str], Any], changed: tuple[str, str, Any] | None
    ) -> tuple[float, ModelIR]:
        key = frozenset(picked.items())
        if key not in evaluated:
            ir = analyze(table, class_name=class_name, hints=hints, calibrated=picked)
            error = model_error(
                render_source(ir, formatted=False), class_name, state, inputs, target
            )
            evaluated[key] = (error, ir)
            if changed is not None:
                trial = Trial(*changed, error)
                result.trials.append(trial)
                if on_trial:
                    on_trial(trial)
        return evaluated[key]

    best, ir = evaluate({}, None)
    result.baseline = best
    picked: dict[tuple[str, str], Any] = {}
    # Follow the single best change first (cheap); when that stops short of an exact match, widen to a
    # beam: errors compound through the network, so one choice's right value often shows only once
    # another is right, and a beam keeps the runner-up combinations alive. Evaluations are memoised.
    for width in dict.fromkeys((1, beam_width)):
        best, picked, ir = _beam_search(evaluate, (best, {}, ir), width, max_steps)
        if best <= EXACT:
            break
    for (path, name), value in picked.items():  # what the search settled on, for the table's end
        kept = Trial(path, name, value, best, kept=True)
        result.trials.append(kept)
        if on_trial:
            on_trial(kept)
    # Every searched choice counts as calibrated, also where the default won.
    for choice in searchable(ir):
        picked.setdefault((choice.path, choice.name), choice.value)
    result.picked, result.error = picked, best
    return result


State = tuple[float, dict[tuple[str, str], Any], ModelIR]


def _beam_search(evaluate: Callable, start: State, width: int, max_steps: int) -> State:
    best = start
    beam = [start]
    seen = {frozenset(start[1].items())}
    for _ in range(max_steps):
        candidates: list[State] = []
        for _, beam_picked, beam_ir in beam:
            for choice in searchable(beam_ir):
                for value in choice.alternatives:
                    trial_picked = {**beam_picked, (choice.path, choice.name): value}
                    key = frozenset(trial_picked.items())
                    if key in seen:
                        continue
                    seen.add(key)
                    error, trial_ir = evaluate(trial_picked, (choice.path, choice.name, value))
                    candidates.append((error, trial_picked, trial_ir))
        candidates.sort(key=lambda c: c[0])
        if not candidates or (candidates[0][0] >= best[0] * (1 - 1e-6) and len(beam) == width):
            break
        beam = candidates[:width]
        if beam[0][0] < best[0]:
            best = beam[0]
        if best[0] <= EXACT:
            break
    return best


def searchable(ir: ModelIR) -> list[Choice]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in ir.all_choices():
        key = (c.path, c.name)
        if c.alternatives and c.source in ("default", "calibrated") and key not in seen:
            seen.add(key)
            out.append(c)
    return out


def model_error(
    source: str, class_name: str, state: dict[str, Any], inputs: tuple[Any, ...], target: Any
) -> float:
    """Relative squared error of the generated model on the data; inf when it cannot run."""
    import torch

    namespace: dict[str, Any] = {"__name__": "modelgen_calibration"}
    try:
        exec(compile(source, "model.py", "exec"), namespace)
        model = namespace[class_name]().eval()
        model.load_state_dict(state, strict=True)
        with torch.no_grad():
            out = model(*inputs)
        if isinstance(out, tuple):
            out = out[0]
        if out.shape != target.shape:
            return float("inf")
        scale = target.float().pow(2).mean().clamp_min(1e-12)
        error = (out.float() - target.float()).pow(2).mean() / scale
        return float(error) if torch.isfinite(error) else float("inf")
    except Exception:  # a combination that does not run is simply a bad candidate
        return float("inf")
