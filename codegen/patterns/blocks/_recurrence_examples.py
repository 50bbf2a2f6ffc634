"""Reference modules for Griffin's recurrent block (gated_linear_recurrence.py): the RG-LRU written
from the paper's equations in plain torch, inside a pre-norm residual layer."""

from __future__ import annotations

from codegen.patterns._kit import Example


def recurrent_block(d: int = 12, width: int = 16, heads: int = 4, k: int = 4, tanh: bool = True):
    """Griffin's recurrent block: x -> linear_out(rg_lru(causal conv(linear_x(x))) * gelu(y))."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    block = width // heads

    class Lru(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a_param = nn.Parameter(torch.randn(width))
            self.input_gate_weight = nn.Parameter(torch.randn(heads, block, block) * 0.5)
            self.input_gate_bias = nn.Parameter(torch.randn(heads, block))
            self.a_gate_weight = nn.Parameter(torch.randn(heads, block, block) * 0.5)
            self.a_gate_bias = nn.Parameter(torch.randn(heads, block))

        def forward(self, x):
            b, s, _ = x.shape
            xs = x.reshape(b, s, heads, block)
            i = torch.sigmoid(
                (xs.unsqueeze(-2) @ self.input_gate_weight).squeeze(-2) + self.input_gate_bias
            ).reshape(b, s, width)
            r = torch.sigmoid(
                (xs.unsqueeze(-2) @ self.a_gate_weight).squeeze(-2) + self.a_gate_bias
            ).reshape(b, s, width)
            # a_t = a ** (c r_t), c = 8, with a = sigmoid(-a_param) (stored negated, as Griffin's)
            a = torch.sigmoid(-self.a_param) ** (8.0 * r)
            h = torch.zeros(b, width)
            out = []
            for t in range(s):
                scale = torch.ones_like(a[:, t]) if t == 0 else torch.sqrt(1 - a[:, t] ** 2)
                h = a[:, t] * h + scale * (i[:, t] * x[:, t])
                out.append(h)
            return torch.stack(out, dim=1)

    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear_y = nn.Linear(d, width)
            self.linear_x = nn.Linear(d, width)
            self.linear_out = nn.Linear(width, d)
            self.conv_1d = nn.Conv1d(width, width, k, groups=width, padding=k - 1)
            self.rg_lru = Lru()

        def forward(self, h):
            y = F.gelu(self.linear_y(h), approximate="tanh" if tanh else "none")
            x = self.conv_1d(self.linear_x(h).transpose(1, 2))[..., : h.size(1)].transpose(1, 2)
            return self.linear_out(self.rg_lru(x) * y)

    return Recurrent()


def example(d: int = 12) -> Example:
    """A pre-norm residual layer around the recurrent block."""
    import torch
    import torch.nn as nn

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.RMSNorm(d)
            self.mixer = recurrent_block(d)

        def forward(self, x):
            return x + self.mixer(self.norm(x))

    torch.manual_seed(0)
    return Example(Layer(), (torch.randn(2, 7, d),))


def parallel_example(d: int = 16) -> Example:
    """Attention and the recurrent block side by side on one normed input (Falcon-H1's layout,
    with config.json's factors on the attention's input and output and the mixer's output)."""
    import torch
    import torch.nn as nn

    from codegen.patterns.families._examples import modules

    m = modules()

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_layernorm = nn.LayerNorm(d)
            self.self_attn = m["attention"](d)
            self.mamba = recurrent_block(d, width=8, heads=2, tanh=False)  # hidden_act
            self.pre_ff_layernorm = nn.LayerNorm(d)
            self.feed_forward = m["mlp"](d)

        def forward(self, x):
            h = self.input_layernorm(x)
            x = x + self.mamba(h) * 0.5 + self.self_attn(h * 2.0) * 0.25
            return x + self.feed_forward(self.pre_ff_layernorm(x))

    torch.manual_seed(0)
    factors = dict(
        attention_in_multiplier=2.0, attention_out_multiplier=0.25, ssm_out_multiplier=0.5
    )
    metadata = {"n_head": 2, "hidden_act": "gelu", **factors}
    return Example(m["holder"](Layer()), (torch.randn(2, 7, d),), metadata)
