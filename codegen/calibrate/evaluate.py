"""One candidate scored: its source built in-process (on the meta device, handed the checkpoint's
tensors without initialising anything: `_loaded`), run on DATA's inputs (or replayed where it
cannot differ from the best so far) and compared with DATA's outputs (`model_error`: the relative
error, or why it cannot run and how far its output's shape is off; `reproduces`: verify's
tolerance), the trailing Linear head refitted first where DATA holds training targets."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator


def shape_miss(shape: tuple[int, ...], wanted: tuple[int, ...]) -> float:
    """0 for equal shapes; else how many doublings or halvings apart they are (inf for other ranks)."""
    if len(shape) != len(wanted) or 0 in shape or 0 in wanted:
        return float("inf")
    return sum(abs(math.log2(a / b)) for a, b in zip(shape, wanted))


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
