"""Weights redrawn at unit scale, for comparisons with a reference implementation.

Libraries start weights small, biases at zero, norms at one and batch-norm statistics at (0, 1),
which can hide a wrong padding, scale, bias lookup or norm below the tolerance. Used by the tests
and by benchmarks/bench_families.py, so both compare on the same kind of weights."""

from __future__ import annotations

from typing import Callable

import torch


def unit_scale(model: torch.nn.Module, keep: frozenset[str] = frozenset()) -> torch.nn.Module:
    """`model` in eval mode with every parameter and batch-norm statistic redrawn (seeded), except
    the names in `keep` (tables a library computes rather than saves)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if (
                name in keep or not p.numel()
            ):  # an empty table (no register tokens) has nothing to draw
                continue
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)  # fan-in scale: activations stay near 1
            elif name.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
        for name, b in model.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                b.normal_(0, 0.1)
    return model.eval()


def reference_and_input(make: Callable[[], torch.nn.Module], shape: tuple[int, ...]) -> tuple:
    """A zoo model (`make()`, seeded) at unit scale in eval mode, and a seeded input of `shape`."""
    torch.manual_seed(0)
    model = unit_scale(make())
    torch.manual_seed(3)
    return model, torch.randn(*shape)


def generative_reference(row: tuple) -> tuple:
    """A generative zoo's row (make, input shape, takes a timestep): the reference at unit scale
    and the inputs its forward takes (an image or a latent, and one timestep per sample where it
    takes one)."""
    make, shape, timed = row
    model, x = reference_and_input(make, shape)
    return model, ((x, torch.tensor([3, 700])) if timed else (x,))
