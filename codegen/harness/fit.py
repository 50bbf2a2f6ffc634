"""Does the data fit the model? Checked on a couple of samples before any real work, one line if not."""

from __future__ import annotations

import inspect
from typing import Any

from codegen.errors import first_line
from codegen.errors import ModelgenError
from codegen.harness.data import Dataset
from codegen.harness.device import to_device
from codegen.harness.losses import check_target


def forward_params(model: Any) -> list[str] | None:
    """Names of forward's positional parameters, or None when it takes *args."""
    params = inspect.signature(model.forward).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def arrange_inputs(model: Any, data: Dataset) -> Dataset:
    """DATA whose inputs are named, put in the order this model's forward takes them."""
    return data.in_order(forward_params(model))


def check_fits(model: Any, data: Dataset, loss: str | None, device: Any) -> Any:
    """Run forward (eval mode, no grad) on the first two samples; returns the output.

    Raises ModelgenError naming the inputs when forward's arity, the shapes or the target do not fit.
    """
    import torch

    check_arity(model, data)
    sample = data.take(slice(0, 2))
    model.eval()  # a probe must not move BatchNorm statistics
    try:
        with torch.no_grad():
            output = model(*to_device(sample.inputs, device))
    except Exception as e:
        shapes = ", ".join(
            f"{n} [{', '.join(map(str, t.shape))}]" for n, t in zip(data.input_names, data.inputs)
        )
        raise ModelgenError(
            f"{data.source}: inputs ({shapes}) do not fit the model: {type(e).__name__}: {first_line(e)}"
        ) from None
    if loss is not None and data.target is not None:
        try:
            check_target(loss, output, sample.target.to(device), data.target_name or "target")
        except ModelgenError as e:
            raise ModelgenError(f"{data.source}: {e}") from None
        if loss == "cross_entropy" and not data.target.is_floating_point():
            _check_labels(data, _classes(output, sample.target))
    return output


def check_arity(model: Any, data: Dataset) -> None:
    """One-line error when forward does not take as many inputs as DATA gives."""
    try:
        inspect.signature(model.forward).bind(*data.inputs)
    except TypeError:
        names = forward_params(model) or []
        raise ModelgenError(
            f"{data.source}: forward({', '.join(names)}) does not take {len(data.inputs)} input(s) "
            f"({', '.join(data.input_names)}); choose them with --inputs K1,K2"
        ) from None


def _classes(output: Any, target: Any) -> int:
    return output.shape[-1] if target.shape == output.shape[:-1] else output.shape[1]


def _check_labels(data: Dataset, classes: int) -> None:
    low, high = int(data.target.min()), int(data.target.max())
    if low < 0 or high >= classes:
        raise ModelgenError(
            f"{data.source}: target {data.target_name} holds class indices {low}..{high}, "
            f"but the model outputs {classes} classes"
        )
