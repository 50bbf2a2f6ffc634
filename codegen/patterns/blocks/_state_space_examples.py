"""Reference modules for the sequence-mixer patterns (selective_scan.py): a Mamba mixer written
from the paper's recurrence in plain torch, and a pre-norm layer around it."""

from __future__ import annotations

from codegen.patterns._kit import Example


def example(norm_eps: float | None = None) -> Example:
    """A pre-norm layer around the mixer (nested, as a model holds it: a top-level conv reading
    one channel would be a stem, not depthwise)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Mixer(nn.Module):
        def __init__(self, d: int = 12, inner: int = 20, state: int = 4, rank: int = 3) -> None:
            super().__init__()
            self.in_proj = nn.Linear(d, 2 * inner, bias=False)
            self.conv1d = nn.Conv1d(inner, inner, 4, groups=inner, padding=3)
            self.x_proj = nn.Linear(inner, rank + 2 * state, bias=False)
            self.dt_proj = nn.Linear(rank, inner)
            self.A_log = nn.Parameter(torch.randn(inner, state) * 0.5)
            self.D = nn.Parameter(torch.randn(inner))
            self.out_proj = nn.Linear(inner, d, bias=False)
            self.sizes = [rank, state, state]

        def forward(self, h):
            x, z = self.in_proj(h).chunk(2, dim=-1)
            x = F.silu(self.conv1d(x.transpose(1, 2))[..., : h.size(1)].transpose(1, 2))
            dt, B, C = self.x_proj(x).split(self.sizes, dim=-1)
            if norm_eps is not None:
                dt, B, C = (
                    v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + norm_eps) for v in (dt, B, C)
                )
            dt = F.softplus(self.dt_proj(dt))
            A = -torch.exp(self.A_log)
            state = torch.zeros(h.size(0), A.size(0), A.size(1))
            ys = []
            for t in range(h.size(1)):
                state = torch.exp(dt[:, t, :, None] * A) * state
                state = state + (dt[:, t] * x[:, t])[..., None] * B[:, t, None, :]
                ys.append((state * C[:, t, None, :]).sum(-1))
            y = torch.stack(ys, dim=1) + x * self.D
            return self.out_proj(y * F.silu(z))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.RMSNorm(12)
            self.mixer = Mixer()

        def forward(self, x):
            return x + self.mixer(self.norm(x))

    torch.manual_seed(0)
    module = Layer()
    config = {"hidden_act": "silu"}
    if norm_eps is not None:
        config["mixer_rms_eps"] = norm_eps
    return Example(module, (torch.randn(2, 7, 12),), config)
