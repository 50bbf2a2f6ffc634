"""Smoke-test inputs for `verify` when no DATA is given.

A model file may say what it takes with `def example_inputs() -> tuple[torch.Tensor, ...]` (a staticmethod;
the generator writes one when it knows the shapes). Otherwise the first layer tells: an Embedding takes
token ids, a Linear [2, 8, in] or [2, in], a ConvNd [2, C, 16, ...], an RNN [2, 8, in]. When neither
works we say so and the forward checks are skipped: a wrong guess must not look like a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codegen.errors import CheckFailed
from codegen.harness.fit import forward_params
from codegen.errors import first_line

BATCH, LENGTH, SPATIAL = 2, 8, 16


@dataclass
class SmokeInputs:
    candidates: list[tuple[Any, ...]] = field(
        default_factory=list
    )  # tried in order; the first that runs wins
    source: str = ""  # where they came from, or why there are none

    def __bool__(self) -> bool:
        return bool(self.candidates)


def smoke_inputs(model: Any) -> SmokeInputs:
    if callable(getattr(type(model), "example_inputs", None)):
        return SmokeInputs([_declared(model)], "example_inputs()")
    names = forward_params(model)
    if names is None:
        return SmokeInputs(source="forward takes *args, so the number of inputs is unknown")
    if not names:
        return SmokeInputs([()], "forward takes no inputs")
    layer = _first_layer(model)
    if layer is None:
        return SmokeInputs(
            source="the model has no parameterised layer to read an input shape from"
        )
    shapes = _shapes_for(layer)
    if not shapes:
        return SmokeInputs(
            source=f"its first layer, {type(layer).__name__}, does not tell the input shape"
        )
    weight = next(layer.parameters())
    candidates = [tuple(_make(layer, shape, weight) for _ in names) for shape in shapes]
    return SmokeInputs(candidates, f"synthesized from the first layer {type(layer).__name__}")


def _declared(model: Any) -> tuple[Any, ...]:
    import torch

    try:
        value = model.example_inputs()
    except Exception as e:
        raise CheckFailed(f"example_inputs() failed: {type(e).__name__}: {first_line(e)}") from None
    value = (value,) if isinstance(value, torch.Tensor) else tuple(value)
    if not all(isinstance(v, torch.Tensor) for v in value):
        raise CheckFailed("example_inputs() must return a tensor or a tuple of tensors")
    return value


def _first_layer(model: Any) -> Any:
    """The first registered module that owns parameters directly: in generated files, the input layer."""
    for module in model.modules():
        if any(True for _ in module.parameters(recurse=False)):
            return module
    return None


def _shapes_for(layer: Any) -> list[tuple[int, ...]]:
    import torch.nn as nn

    if isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        return [(BATCH, LENGTH)]
    if isinstance(layer, nn.Linear):
        return [(BATCH, LENGTH, layer.in_features), (BATCH, layer.in_features)]
    if isinstance(
        layer,
        (
            nn.Conv1d,
            nn.Conv2d,
            nn.Conv3d,
            nn.ConvTranspose1d,
            nn.ConvTranspose2d,
            nn.ConvTranspose3d,
        ),
    ):
        dims = len(layer.kernel_size)
        return [(BATCH, layer.in_channels) + (SPATIAL,) * dims]
    if isinstance(layer, nn.RNNBase):
        return [
            (
                (BATCH, LENGTH, layer.input_size)
                if layer.batch_first
                else (LENGTH, BATCH, layer.input_size)
            )
        ]
    if isinstance(layer, nn.LayerNorm):
        return [(BATCH, LENGTH, *layer.normalized_shape)]
    if isinstance(layer, nn.modules.batchnorm._BatchNorm):
        spatial = {
            nn.BatchNorm1d: [(), (SPATIAL,)],
            nn.BatchNorm2d: [(SPATIAL,) * 2],
            nn.BatchNorm3d: [(SPATIAL,) * 3],
        }
        return [(BATCH, layer.num_features) + s for s in spatial.get(type(layer), [])]
    return []


def _make(layer: Any, shape: tuple[int, ...], weight: Any) -> Any:
    import torch
    import torch.nn as nn

    g = torch.Generator().manual_seed(0)  # the same inputs every run
    if isinstance(layer, (nn.Embedding, nn.EmbeddingBag)):
        return torch.randint(0, layer.num_embeddings, shape, generator=g).to(weight.device)
    dtype = weight.dtype if weight.is_floating_point() else torch.float32
    return torch.randn(shape, generator=g).to(device=weight.device, dtype=dtype)
