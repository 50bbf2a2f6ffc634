"""Measure which architectures modelgen recovers exactly, with and without calibration.

    python scripts/recovery_table.py

For each model of the test zoo (tests/zoo.py) and the issue-14 examples (tests/trust_models.py):
save its checkpoint, generate model.py, load the weights strictly and compare outputs with the
original on fresh inputs, beside the weakest trust level the file claims; then record the original's
outputs, generate again with --calibrate and compare again (`verified` where calibration proved the
file reproduces them). Prints a Markdown table (README).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from codegen.errors import ModelgenError  # noqa: E402
from codegen.generate import CalibrationData, generate_source  # noqa: E402
from codegen.load import open_checkpoint  # noqa: E402
from codegen.ir import ModelIR  # noqa: E402
from tests import trust_models, zoo  # noqa: E402

LEVELS = ("missing", "guessed", "inferred", "exact")  # weakest first


def weakest(ir: ModelIR) -> str:
    """The file's trust: that of its least trusted class."""
    return min(ir.trust_levels().values(), key=LEVELS.index)


def original(name: str) -> tuple[torch.nn.Module, object]:
    """The model and a function giving fresh inputs for it."""
    if name in zoo.INPUTS:
        return zoo.build(name), zoo.INPUTS[name]
    return trust_models.EXAMPLES[name]().eval(), trust_models.INPUTS[name]


def max_error(source: str, reference: torch.nn.Module, inputs: tuple) -> str:
    namespace: dict = {"__name__": "recovered"}
    exec(compile(source, "model.py", "exec"), namespace)
    model = namespace["RecoveredModel"]().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    try:
        with torch.no_grad():
            got, want = model(*inputs), reference(*inputs)
            got = got[0] if isinstance(got, tuple) else got
            want = want[0] if isinstance(want, tuple) else want
            diff = (got - want).abs().max().item()
    except NotImplementedError:
        return "forward not inferred"
    except Exception as e:  # a wrong guess that does not even run
        return f"does not run ({type(e).__name__})"
    return "exact" if diff <= 1e-5 else f"differs (max {diff:.2g})"


def main() -> None:
    print("| architecture | defaults | trust claimed | calibrated on recorded outputs |")
    print("| --- | --- | --- | --- |")
    for name in sorted(zoo.INPUTS) + sorted(trust_models.EXAMPLES):
        torch.manual_seed(0)
        model, make_inputs = original(name)
        fresh = make_inputs()
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = Path(tmp) / "w.pt"
            torch.save(model.state_dict(), ckpt)  # no metadata: only shapes to go on
            table = open_checkpoint(ckpt).table
            plain, ir = generate_source(table)
            inputs = tuple(torch.cat(parts) for parts in zip(*[make_inputs() for _ in range(24)]))
            with torch.no_grad():
                outputs = model(*inputs)
            outputs = outputs[0] if isinstance(outputs, tuple) else outputs
            try:
                calibrated, calibrated_ir = generate_source(
                    table,
                    calibrate_on=CalibrationData(
                        "recorded.pt", model.state_dict(), inputs, outputs
                    ),
                )
                after = max_error(calibrated, model, fresh)
                after += ", verified" if calibrated_ir.source.verified else ", not verified"
            except ModelgenError as e:
                after = f"error: {e}"
        print(f"| {name} | {max_error(plain, model, fresh)} | {weakest(ir)} | {after} |")


if __name__ == "__main__":
    main()
