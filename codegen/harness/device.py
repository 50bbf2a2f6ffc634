"""`--device auto|cpu|cuda`: where the model runs. Exports and saved files are always CPU tensors."""

from __future__ import annotations

from typing import Any

from codegen.errors import ModelgenError

CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> Any:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ModelgenError("--device cuda: no CUDA device is available to this torch build")
    if name not in CHOICES:
        raise ModelgenError(f"--device {name}: choose one of {', '.join(CHOICES)}")
    return torch.device(name)


def to_device(tensors: tuple[Any, ...], device: Any) -> tuple[Any, ...]:
    return tuple(t.to(device, non_blocking=True) for t in tensors)
