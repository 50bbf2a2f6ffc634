"""TorchScript export, proven by a round trip: script (trace as a reported fallback) → save → reload →
the same state-dict keys as the checkpoint, and the same outputs as the eager model."""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from codegen.errors import CheckFailed
from codegen.harness.mismatch import MismatchReport, Spec, compare, specs_of
from codegen.errors import first_line
from codegen.output import Output, write_with

RTOL, ATOL = 1e-4, 1e-5


@dataclass
class ExportResult:
    path: Path
    method: str  # "script" or "trace"
    fallback_reason: str | None  # why script did not work, when traced
    keys: MismatchReport  # the reloaded module's state dict (expected) against the checkpoint's (found)
    max_diff: float | None  # reloaded vs eager outputs; None when there were no inputs to run
    extra_buffers: tuple[
        str, ...
    ] = ()  # non-persistent buffers TorchScript lists in its state dict

    def summary(self) -> str:
        how = (
            "torch.jit.script"
            if self.method == "script"
            else f"torch.jit.trace (script failed: {self.fallback_reason})"
        )
        diff = (
            "outputs not compared (no inputs)"
            if self.max_diff is None
            else f"max |reloaded - eager| = {self.max_diff:.3g}"
        )
        extra = ""
        if self.extra_buffers:
            # A TorchScript limitation, not the model's: loading into the export needs them too.
            extra = (
                f"; TorchScript also lists the non-persistent buffer(s) {', '.join(self.extra_buffers)} "
                "in its state dict, so load the checkpoint into it with strict=False plus a key check"
            )
        return f"{how}; reloaded: {self.keys.summary()}; {diff}{extra}"


def export_torchscript(
    model: Any, output: Output, expected: Mapping[str, Spec], example: tuple[Any, ...] | None
) -> ExportResult:
    """Export `model` (moved to CPU, eval mode) to `output` and check the saved file.

    `expected` is the checkpoint's `(shape, dtype)` per key; `example` the inputs to trace with and to
    compare outputs on. Raises CheckFailed when scripting and tracing both fail or the round trip differs.
    """
    import torch

    path = output.path
    model = model.cpu().eval()
    example = None if example is None else tuple(t.cpu() for t in example)
    with _jit_quietly():
        scripted, method, reason = _to_torchscript(model, example)
        write_with(output, lambda tmp: scripted.save(str(tmp)))
        reloaded = torch.jit.load(str(path), map_location="cpu")
    # The exported module must strict-load the checkpoint: the model's keys, shapes and dtypes as the
    # expected side (an old checkpoint may lack BatchNorm counters the module has), the checkpoint's as found.
    # TorchScript's state dict also holds non-persistent buffers (a torch limitation): they are not
    # the checkpoint's to provide, so they are set aside here and named in the summary.
    extra = tuple(sorted(_non_persistent_buffers(model)))
    keys = compare(
        {k: v for k, v in specs_of(reloaded.state_dict()).items() if k not in extra}, expected
    )
    if not keys.ok:
        raise CheckFailed(
            f"{path.name}: the exported module does not strict-load the checkpoint: {keys.summary()}"
        )
    max_diff = None
    if example is not None:
        with torch.no_grad():
            max_diff, close = _compare_outputs(model(*example), reloaded(*example))
        if not close:
            raise CheckFailed(
                f"{path.name}: reloaded TorchScript outputs differ from the eager model (max {max_diff:.3g})"
            )
    return ExportResult(path, method, reason, keys, max_diff, extra)


def _non_persistent_buffers(model: Any) -> set[str]:
    return {
        f"{prefix}.{name}" if prefix else name
        for prefix, module in model.named_modules()
        for name in module._non_persistent_buffers_set
    }


@contextlib.contextmanager
def _jit_quietly() -> Iterator[None]:
    """Recent torch releases mark torch.jit deprecated; TorchScript is still the format asked for, so don't nag."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
        yield


def _to_torchscript(model: Any, example: tuple[Any, ...] | None) -> tuple[Any, str, str | None]:
    import torch

    try:
        return torch.jit.script(model), "script", None
    except Exception as e:
        reason = first_line(e)
    if example is None:
        raise CheckFailed(
            f"torch.jit.script failed ({reason}); tracing needs inputs and none are available"
        )
    try:
        # check_trace=False: we run our own comparison after the save/reload round trip.
        return torch.jit.trace(model, example, check_trace=False), "trace", reason
    except Exception as e:
        raise CheckFailed(
            f"torch.jit.script failed ({reason}) and so did torch.jit.trace ({first_line(e)})"
        ) from None


def _compare_outputs(a: Any, b: Any) -> tuple[float, bool]:
    """Max absolute difference over matching tensors (nested tuples, lists, dicts), and whether all are close."""
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape:
            return float("inf"), False
        if not a.numel():
            return 0.0, True
        diff = (
            (a.double() - b.double()).abs().max().item()
            if a.is_floating_point()
            else float((a != b).any())
        )
        return diff, torch.allclose(a.double(), b.double(), rtol=RTOL, atol=ATOL, equal_nan=True)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        pairs = list(zip(a, b))
    elif isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        pairs = [(a[k], b[k]) for k in a]
    else:
        return (0.0, True) if a == b else (float("inf"), False)
    results = [_compare_outputs(x, y) for x, y in pairs]
    return max((d for d, _ in results), default=0.0), all(ok for _, ok in results)
