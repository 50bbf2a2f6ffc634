"""Closed-form least squares for a final Linear under MSE: the optimum in one pass over the data.

The normal equations are accumulated batch by batch in float64 (memory is in_features², not the data
set), summed across ranks, and solved by an eigendecomposition; when the features are ill-conditioned
(or fewer than in_features + 1 rows), a small ridge term caps the condition number instead of
amplifying noise.
"""

from __future__ import annotations

from typing import Any

import torch

MAX_CONDITION = 1e10  # of XᵀX: the solution keeps about 6 significant digits in float64


class NormalEquations:
    def __init__(self, linear: torch.nn.Linear, device: Any) -> None:
        self.linear = linear
        self.bias = linear.bias is not None
        d = linear.in_features + int(self.bias)
        self.gram = torch.zeros(d, d, dtype=torch.float64, device=device)  # XᵀX
        self.cross = torch.zeros(d, linear.out_features, dtype=torch.float64, device=device)  # XᵀY

    def add(self, features: torch.Tensor, target: torch.Tensor) -> None:
        x = features.reshape(-1, features.shape[-1]).double()
        if self.bias:
            x = torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)
        y = target.reshape(-1, target.shape[-1]).double()
        self.gram += x.T @ x
        self.cross += x.T @ y

    def solve_into_linear(self) -> float:
        """Write the solution into the Linear's weight (and bias); returns the ridge used (0.0 for none)."""
        values, vectors = torch.linalg.eigh(self.gram)
        top = values.max().clamp_min(torch.finfo(torch.float64).tiny)
        ridge = 0.0 if values.min() > top / MAX_CONDITION else float(top) / MAX_CONDITION
        solution = vectors @ ((vectors.T @ self.cross) / (values + ridge).unsqueeze(1))  # [d, out]
        with torch.no_grad():
            w = self.linear.weight
            w.copy_(solution[: self.linear.in_features].T.to(w.dtype))
            if self.bias:
                self.linear.bias.copy_(solution[-1].to(w.dtype))
        return ridge
