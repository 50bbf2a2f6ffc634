"""Reference modules for the multi-head scan pattern (multi_head_scan.py): a Mamba-2 mixer written
from the paper's recurrence in plain torch, inside a pre-norm layer."""

from __future__ import annotations

from codegen.patterns._kit import Example


def example(groups: int = 1, norm_before_gate: bool = False) -> Example:
    """A pre-norm layer around the mixer (nested, as a model holds it)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, heads, head_dim, state, k = 12, 4, 5, 3, 4
    inner, bc = heads * head_dim, groups * state

    class Mixer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            conv = inner + 2 * bc
            self.in_proj = nn.Linear(d, inner + conv + heads, bias=False)
            self.conv1d = nn.Conv1d(conv, conv, k, groups=conv, padding=k - 1)
            self.dt_bias = nn.Parameter(torch.randn(heads) * 0.5)
            self.A_log = nn.Parameter(torch.randn(heads) * 0.5)
            self.D = nn.Parameter(torch.randn(heads))
            self.norm = nn.RMSNorm(inner)
            self.out_proj = nn.Linear(inner, d, bias=False)

        def forward(self, h):
            b, s, _ = h.shape
            z, xbc, dt = self.in_proj(h).split([inner, inner + 2 * bc, heads], dim=-1)
            xbc = F.silu(self.conv1d(xbc.transpose(1, 2))[..., :s].transpose(1, 2))
            x, B, C = xbc.split([inner, bc, bc], dim=-1)
            x = x.reshape(b, s, heads, head_dim)
            B = B.reshape(b, s, groups, state).repeat_interleave(heads // groups, dim=2)
            C = C.reshape(b, s, groups, state).repeat_interleave(heads // groups, dim=2)
            dt = F.softplus(dt + self.dt_bias)
            A = -torch.exp(self.A_log)
            ssm = torch.zeros(b, heads, head_dim, state)
            ys = []
            for t in range(s):
                ssm = torch.exp(dt[:, t, :, None, None] * A[:, None, None]) * ssm
                ssm = ssm + (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, :, None, :]
                ys.append((ssm * C[:, t, :, None, :]).sum(-1))
            y = torch.stack(ys, dim=1) + x * self.D[:, None]
            y = y.reshape(b, s, inner)
            if not norm_before_gate:
                y = y * F.silu(z)
            g = y.reshape(b, s, groups, inner // groups)
            g = F.rms_norm(g, [inner // groups], eps=self.norm.eps)
            y = g.reshape(b, s, inner) * self.norm.weight
            if norm_before_gate:
                y = y * F.silu(z)
            return self.out_proj(y)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.RMSNorm(d)
            self.mixer = Mixer()

        def forward(self, x):
            return x + self.mixer(self.norm(x))

    torch.manual_seed(0)
    module = Layer()
    with torch.no_grad():
        module.mixer.norm.weight.normal_(1, 0.2)
    config = {"hidden_act": "silu", "n_groups": groups}
    if norm_before_gate:
        config["mamba_norm_before_gate"] = True
    return Example(module, (torch.randn(2, 7, d),), config)
