"""`modelgen verify`: import, build, strict load, forward smoke test, TorchScript round trip.

Each check is a Step that passed, failed or was skipped with its reason; a failed strict load stops
early with the grouped mismatch report (LoadFailed), since nothing after it would mean anything.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from codegen.errors import CheckFailed
from codegen.harness.data import Dataset
from codegen.harness.device import to_device
from codegen.harness.export import export_torchscript
from codegen.output import Output
from codegen.harness.fit import check_fits
from codegen.harness.inputs import smoke_inputs
from codegen.harness.loading import build_model, strict_load
from codegen.harness.mismatch import Spec, specs_of
from codegen.errors import first_line

DATA_SAMPLES = 4  # forward and export checks run on this many samples of DATA


@dataclass
class Step:
    name: str
    status: str  # "ok" | "failed" | "skipped"
    detail: str


@dataclass
class VerifyResult:
    steps: list[Step] = field(default_factory=list)
    max_diff: float | None = None

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    def add(self, name: str, status: str, detail: str) -> None:
        self.steps.append(Step(name, status, detail))


def verify(
    model_spec: str,
    state: Mapping[str, Any],
    data: Dataset | None,
    device: Any,
    loss: str | None = None,
) -> VerifyResult:
    result = VerifyResult()
    model = build_model(model_spec)
    expected: dict[str, Spec] = specs_of(state)
    report = strict_load(model, state, model_spec)
    result.add(
        "strict load",
        "ok",
        f"{len(state)} keys; {report.summary()}" + "".join(f"; {n}" for n in report.notes),
    )
    model = model.to(device).eval()

    example = _forward_check(model, data, device, loss, result)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            export = export_torchscript(model, Output(Path(tmp) / "model.pt"), expected, example)
        result.max_diff = export.max_diff
        result.add("torchscript", "ok", export.summary())
    except CheckFailed as e:
        result.add("torchscript", "failed", str(e))
    return result


def _forward_check(
    model: Any, data: Dataset | None, device: Any, loss: str | None, result: VerifyResult
) -> tuple[Any, ...] | None:
    """Run forward once; returns the inputs that worked (for the export comparison) or None."""
    import torch

    if data is not None:
        check_fits(model, data, loss, device)  # bad data is the user's input error: exit 2
        inputs, source = (
            data.take(slice(0, DATA_SAMPLES)).inputs,
            f"{data.source} ({data.describe()})",
        )
        candidates = [inputs]
    else:
        smoke = smoke_inputs(model)
        if not smoke:
            result.add(
                "forward",
                "skipped",
                f"no inputs: {smoke.source}; pass --data or add example_inputs()",
            )
            return None
        candidates, source = smoke.candidates, smoke.source
    errors = []
    for inputs in candidates:
        try:
            with torch.no_grad():
                output = model(*to_device(inputs, device))
        except Exception as e:
            errors.append(f"{_shapes(inputs)}: {type(e).__name__}: {first_line(e)}")
            continue
        finite = _all_finite(output)
        detail = f"{_shapes(inputs)} from {source} -> {_shapes(output)}"
        result.add(
            "forward",
            "ok" if finite else "failed",
            detail if finite else detail + ": output holds NaN/inf",
        )
        return tuple(inputs)
    result.add(
        "forward",
        "failed",
        f"inputs {source} did not run: "
        + "; ".join(errors)
        + (
            ""
            if data is not None
            else "; pass --data or add example_inputs() if the guess is wrong"
        ),
    )
    return None


def _all_finite(output: Any) -> bool:
    import torch

    if isinstance(output, torch.Tensor):
        return not output.is_floating_point() or bool(torch.isfinite(output).all())
    if isinstance(output, (tuple, list)):
        return all(_all_finite(o) for o in output)
    if isinstance(output, dict):
        return all(_all_finite(o) for o in output.values())
    return True


def _shapes(value: Any) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return f"[{', '.join(map(str, value.shape))}]"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_shapes(v) for v in value) + ")"
    return type(value).__name__
