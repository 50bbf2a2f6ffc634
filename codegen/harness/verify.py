"""`modelgen verify`: import, build, strict load, forward, outputs against DATA, TorchScript round trip.

With DATA holding the original model's recorded outputs, the "outputs" step compares the model's
outputs with them (max abs/rel difference per output) and fails beyond atol/rtol: the one check that
proves a forward computes what the original computed. DATA with training targets can only give a
loss; DATA with inputs alone, only a smoke test. Each says so.

Each check is a Step that passed, failed or was skipped with its reason; a failed strict load stops
early with the grouped mismatch report (LoadFailed), since nothing after it would mean anything.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from codegen.errors import CheckFailed
from codegen.harness.compare import ATOL, RTOL, OutputDiff, compare_outputs
from codegen.harness.data import Dataset
from codegen.harness.device import to_device
from codegen.harness.export import export_torchscript
from codegen.harness.fit import arrange_inputs, check_arity, check_fits
from codegen.harness.forward_run import where_failed
from codegen.harness.inputs import smoke_inputs
from codegen.harness.loading import build_model, strict_load
from codegen.harness.mismatch import Spec, specs_of
from codegen.output import Output

DATA_SAMPLES = 4  # forward and export checks run on this many samples of DATA
BATCH = 256  # the outputs comparison runs over all of DATA in batches of this many samples


@dataclass
class Step:
    name: str
    status: str  # "ok" | "failed" | "skipped"
    detail: str


@dataclass
class VerifyResult:
    steps: list[Step] = field(default_factory=list)
    torchscript_max_diff: float | None = None  # the exported module against eager, not against DATA
    outputs: list[OutputDiff] = field(default_factory=list)  # the model against DATA's outputs
    evidence: str = "none"  # outputs | targets | inputs | none: what DATA could prove
    loss: float | None = None  # against training targets, where DATA holds those

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    def add(self, name: str, status: str, detail: str) -> None:
        self.steps.append(Step(name, status, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "evidence": self.evidence,  # what DATA could prove: outputs | targets | inputs | none
            "outputs": [d.to_json() for d in self.outputs],
            "loss": self.loss,
            "torchscript_vs_eager_max_diff": self.torchscript_max_diff,
            "steps": [{"name": s.name, "status": s.status, "detail": s.detail} for s in self.steps],
        }


def verify(
    model_spec: str,
    state: Mapping[str, Any],
    data: Dataset | None,
    device: Any,
    loss: str | None = None,
    init_args: Mapping[str, Any] | None = None,
    atol: float = ATOL,
    rtol: float = RTOL,
) -> VerifyResult:
    result = VerifyResult()
    model = build_model(model_spec, init_args)
    expected: dict[str, Spec] = specs_of(state)
    report = strict_load(model, state, model_spec)
    result.add(
        "strict load",
        "ok",
        f"{len(state)} keys; {report.summary()}" + "".join(f"; {n}" for n in report.notes),
    )
    model = model.to(device).eval()
    if data is not None:
        data = arrange_inputs(model, data)

    example = _forward_check(model, data, device, loss, result)
    if data is not None and example is not None:
        _data_check(model, data, device, loss, atol, rtol, result)
    elif data is None:
        result.add("outputs", "skipped", "no DATA: pass --data with the original's outputs")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            export = export_torchscript(model, Output(Path(tmp) / "model.pt"), expected, example)
        result.torchscript_max_diff = export.max_diff
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
        if data.target is not None and not data.holds_training_targets:
            # The original ran on these inputs and recorded its outputs: where this forward fails
            # on them or gives another shape, the forward is at fault (exit 1), not DATA.
            check_arity(model, data)
        else:
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
        except Exception as e:  # where the model's forward fails: its class, method and line
            errors.append(f"{_shapes(inputs)}: {where_failed(e, _source_file(model))}")
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


def _data_check(
    model: Any,
    data: Dataset,
    device: Any,
    loss: str | None,
    atol: float,
    rtol: float,
    result: VerifyResult,
) -> None:
    """The model's outputs over all of DATA against what DATA records, said for what it can prove."""
    import torch

    from codegen.harness.losses import loss_sum

    if data.target is None:
        result.evidence = "inputs"
        result.add(
            "outputs",
            "skipped",
            f"{data.source} holds inputs only: a smoke test was all that was possible; record the "
            "original model's outputs (key 'outputs') to prove the forward",
        )
        return
    outputs = []
    with torch.no_grad():
        for start in range(0, len(data), BATCH):
            batch = data.take(slice(start, start + BATCH))
            out = model(*to_device(batch.inputs, device))
            outputs.append(out[0] if isinstance(out, (tuple, list)) else out)
    output = torch.cat(outputs)
    if data.holds_training_targets:
        result.evidence = "targets"
        total, count = loss_sum(loss or "mse", output, data.target.to(output.device))
        result.loss = float(total) / max(count, 1)
        result.add(
            "outputs",
            "skipped",
            f"{data.source} holds training targets ({data.target_name}), not the original's "
            f"outputs: exactness cannot be proven from them; {loss or 'mse'} loss "
            f"{result.loss:.4g} on {len(data)} samples",
        )
        return
    result.evidence = "outputs"
    result.outputs = compare_outputs(output, data.target.to(output.device), atol, rtol)
    ok = all(d.within for d in result.outputs)
    detail = "; ".join(d.describe(atol, rtol) for d in result.outputs)
    result.add(
        "outputs",
        "ok" if ok else "failed",
        f"{len(data)} samples of {data.source} ({data.target_name}): {detail}"
        + ("" if ok else ": the forward does not compute what the original computed"),
    )


def _source_file(model: Any) -> str:
    """The file the model's forward was compiled from, as its traceback frames name it."""
    code = getattr(type(model).forward, "__code__", None)
    return code.co_filename if code is not None else ""


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
