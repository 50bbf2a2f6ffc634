"""Measure which architectures modelgen recovers exactly, with and without calibration.

    python scripts/recovery_table.py

For each model of the test zoo (tests/zoo.py): save its checkpoint, generate model.py, load the
weights strictly and compare outputs with the original on fresh inputs; then record the original's
outputs, generate again with --calibrate and compare again. Prints a Markdown table (README).
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
from tests.zoo import INPUTS, build  # noqa: E402


def max_error(source: str, original: torch.nn.Module, inputs: tuple) -> str:
    namespace: dict = {"__name__": "recovered"}
    exec(compile(source, "model.py", "exec"), namespace)
    model = namespace["RecoveredModel"]().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    try:
        with torch.no_grad():
            diff = (model(*inputs) - original(*inputs)).abs().max().item()
    except NotImplementedError:
        return "forward not inferred"
    except Exception as e:  # a wrong guess that does not even run
        return f"does not run ({type(e).__name__})"
    return "exact" if diff <= 1e-5 else f"differs (max {diff:.2g})"


def main() -> None:
    print("| architecture | defaults | calibrated on recorded outputs |")
    print("| --- | --- | --- |")
    for name in sorted(INPUTS):
        torch.manual_seed(0)
        original = build(name)
        fresh = INPUTS[name]()
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = Path(tmp) / "w.pt"
            torch.save(original.state_dict(), ckpt)  # no metadata: only shapes to go on
            table = open_checkpoint(ckpt).table
            plain, _ = generate_source(table)
            inputs = tuple(torch.cat(parts) for parts in zip(*[INPUTS[name]() for _ in range(24)]))
            with torch.no_grad():
                outputs = original(*inputs)
            try:
                calibrated, _ = generate_source(
                    table,
                    calibrate_on=CalibrationData(
                        "recorded.pt", original.state_dict(), inputs, outputs
                    ),
                )
                after = max_error(calibrated, original, fresh)
            except ModelgenError as e:
                after = f"error: {e}"
        print(f"| {name} | {max_error(plain, original, fresh)} | {after} |")


if __name__ == "__main__":
    main()
