"""Compare a model's outputs with DATA's recorded outputs: max absolute and relative difference per
output, judged against atol/rtol the way torch.allclose judges (|a - b| <= atol + rtol * |b|)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ATOL, RTOL = 1e-5, 1e-4  # float32 forwards that compute the same thing agree well within these


@dataclass
class OutputDiff:
    name: str  # "output", or "output[1]" when the model returns several
    shape: str
    max_abs: float | None  # None when the shapes differ
    max_rel: float | None  # max |a - b| / |b| over entries where b != 0
    within: bool
    problem: str = ""  # why it could not be compared (shape or type)

    def describe(self, atol: float, rtol: float) -> str:
        if self.problem:
            return f"{self.name}: {self.problem}"
        verdict = "within" if self.within else "beyond"
        return (
            f"{self.name} {self.shape}: max abs diff {self.max_abs:.3g}, max rel diff "
            f"{self.max_rel:.3g} ({verdict} atol {atol:g}, rtol {rtol:g})"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compare_outputs(
    output: Any, recorded: Any, atol: float = ATOL, rtol: float = RTOL
) -> list[OutputDiff]:
    """One OutputDiff per recorded output. A model returning a tuple is compared item by item when
    DATA records a tuple too, else on its first item (an RNN's (output, state))."""
    outs = list(output) if isinstance(output, (tuple, list)) else [output]
    wanted = list(recorded) if isinstance(recorded, (tuple, list)) else [recorded]
    diffs = []
    for i, want in enumerate(wanted):
        name = "output" if len(wanted) == 1 else f"output[{i}]"
        got = outs[i] if i < len(outs) else None
        diffs.append(_one(name, got, want, atol, rtol))
    return diffs


def _one(name: str, got: Any, want: Any, atol: float, rtol: float) -> OutputDiff:
    import torch

    shape = f"[{', '.join(map(str, want.shape))}]"
    if not isinstance(got, torch.Tensor):
        return OutputDiff(
            name, shape, None, None, False, f"the model returned {type(got).__name__}"
        )
    if got.shape != want.shape:
        return OutputDiff(
            name,
            shape,
            None,
            None,
            False,
            f"the model's output is [{', '.join(map(str, got.shape))}], DATA records {shape}",
        )
    a, b = got.detach().double().cpu(), want.detach().double().cpu()
    diff = (a - b).abs()
    nonzero = b != 0
    max_abs = float(diff.max()) if diff.numel() else 0.0
    max_rel = float((diff[nonzero] / b[nonzero].abs()).max()) if bool(nonzero.any()) else 0.0
    within = bool((diff <= atol + rtol * b.abs()).all()) and bool(torch.isfinite(a).all())
    return OutputDiff(name, shape, max_abs, max_rel, within)
