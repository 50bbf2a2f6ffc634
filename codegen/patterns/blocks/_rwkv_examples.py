"""Reference module for the RWKV patterns (rwkv_mixing.py): one RWKV-4 layer written from the
paper's recurrence in plain torch (the weighted average computed directly, without the running
maximum the generated helper keeps for range)."""

from __future__ import annotations

from codegen.patterns._kit import Example


def example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, width, inner = 12, 10, 20

    def shift(x):
        return torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)

    class TimeMix(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.time_decay = nn.Parameter(torch.randn(width) * 0.5)
            self.time_first = nn.Parameter(torch.randn(width) * 0.5)
            for name in ("key", "value", "receptance"):
                self.register_parameter(f"time_mix_{name}", nn.Parameter(torch.rand(1, 1, d)))
            self.key = nn.Linear(d, width, bias=False)
            self.value = nn.Linear(d, width, bias=False)
            self.receptance = nn.Linear(d, width, bias=False)
            self.output = nn.Linear(width, d, bias=False)

        def forward(self, x):
            s = shift(x)
            k = self.key(x * self.time_mix_key + s * (1 - self.time_mix_key))
            v = self.value(x * self.time_mix_value + s * (1 - self.time_mix_value))
            mr = self.time_mix_receptance
            r = torch.sigmoid(self.receptance(x * mr + s * (1 - mr)))
            w = torch.exp(self.time_decay)
            out = []
            for t in range(x.size(1)):
                ages = torch.arange(t - 1, -1, -1, dtype=x.dtype)  # t - 1 - i for i < t
                past = torch.exp(k[:, :t] - ages[None, :, None] * w)
                now = torch.exp(self.time_first + k[:, t])
                num = (past * v[:, :t]).sum(1) + now * v[:, t]
                out.append(num / (past.sum(1) + now))
            return self.output(r * torch.stack(out, dim=1))

    class ChannelMix(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.time_mix_key = nn.Parameter(torch.rand(1, 1, d))
            self.time_mix_receptance = nn.Parameter(torch.rand(1, 1, d))
            self.key = nn.Linear(d, inner, bias=False)
            self.receptance = nn.Linear(d, d, bias=False)
            self.value = nn.Linear(inner, d, bias=False)

        def forward(self, x):
            s = shift(x)
            k = self.key(x * self.time_mix_key + s * (1 - self.time_mix_key))
            mr = self.time_mix_receptance
            r = torch.sigmoid(self.receptance(x * mr + s * (1 - mr)))
            return r * self.value(F.relu(k) ** 2)

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pre_ln = nn.LayerNorm(d)
            self.ln1 = nn.LayerNorm(d)
            self.ln2 = nn.LayerNorm(d)
            self.attention = TimeMix()
            self.feed_forward = ChannelMix()

        def forward(self, x):
            x = self.pre_ln(x)
            x = x + self.attention(self.ln1(x))
            return x + self.feed_forward(self.ln2(x))

    torch.manual_seed(0)
    return Example(Layer(), (torch.randn(2, 7, d),))
