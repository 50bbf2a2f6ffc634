"""`modelgen generate`: analyze, render, prove the file builds the checkpoint's keys, write it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from codegen.analyze import analyze
from codegen.analyze.choices import load_hints
from codegen.errors import ModelgenError
from codegen.ir import ModelIR
from codegen.load import TensorTable
from codegen.render import render_source, write_atomic


@dataclass
class GenerateReport:
    output: str
    ir: ModelIR
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        classes = len(self.ir.classes)
        defaults = sorted({c.name for c in self.ir.all_choices() if c.source == "default" and c.alternatives})
        line = (f"wrote {self.output}: {classes} class{'es' if classes != 1 else ''}, "
                f"{self.ir.source.num_tensors} tensors")
        if defaults:
            line += f"; choices left at defaults: {', '.join(defaults)}"
        return line


@dataclass
class CalibrationData:
    """What `--calibrate` reads: the checkpoint's tensors and DATA's inputs and recorded outputs."""

    path: str
    state: dict
    inputs: tuple
    target: object


def generate_source(table: TensorTable, class_name: str = "RecoveredModel", hints_path: str | None = None,
                    command: str = "", calibrate_on: CalibrationData | None = None,
                    on_trial: Callable | None = None) -> tuple[str, ModelIR]:
    if not class_name.isidentifier() or not class_name.isascii():
        raise ModelgenError(f"--class-name {class_name!r}: not a Python identifier")
    hints = load_hints(hints_path)
    picked, note = None, ""
    if calibrate_on is not None:
        from codegen.calibrate import calibrate

        result = calibrate(table, calibrate_on.state, calibrate_on.inputs, calibrate_on.target, class_name,
                           hints, on_trial=on_trial)
        picked = result.picked
        note = (f"Calibrated on {Path(calibrate_on.path).name} ({result.samples} samples): relative error "
                f"{result.error:.3g} (defaults: {result.baseline:.3g}).")
    ir = analyze(table, class_name=class_name, hints=hints, command=command, calibrated=picked,
                 calibration_note=note)
    source = render_source(ir)
    check_builds(source, class_name, table)
    return source, ir


def generate_file(table: TensorTable, output: str, class_name: str = "RecoveredModel",
                  hints_path: str | None = None, force: bool = False, command: str = "",
                  calibrate_on: CalibrationData | None = None, on_trial: Callable | None = None) -> GenerateReport:
    source, ir = generate_source(table, class_name, hints_path, command, calibrate_on, on_trial)
    write_atomic(Path(output), source, force)
    return GenerateReport(output, ir, list(ir.warnings))


def check_builds(source: str, class_name: str, table: TensorTable) -> None:
    """Build the generated class on the meta device: its state dict must be the checkpoint's keys
    and shapes exactly. A mismatch is a generator bug, caught here instead of in the user's load."""
    import torch

    namespace: dict = {"__name__": "modelgen_check"}
    exec(compile(source, "model.py", "exec"), namespace)
    with torch.device("meta"):
        model = namespace[class_name]()
    built = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    expected = {k: t.shape for k, t in table.tensors.items()}
    if built != expected:
        missing = sorted(set(expected) - set(built))[:3]
        extra = sorted(set(built) - set(expected))[:3]
        wrong = sorted(k for k in set(built) & set(expected) if built[k] != expected[k])[:3]
        raise ModelgenError(
            f"internal error: the generated model does not match the checkpoint (missing {missing}, "
            f"unexpected {extra}, wrong shape {wrong}); please report it"
        )
