"""xIELU (arXiv 2411.13010), an activation with trained parameters (Apertus' feed-forward):
a quadratic for positive inputs, an ELU-like curve for negative ones.

Recognised by its four scalars: alpha_p and alpha_n (stored before softplus), beta and eps; the
class holds nothing else. The feed-forward around it (patterns/blocks/mlp.py) calls it like a
function of one tensor.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)

NAMES = ("alpha_p", "alpha_n", "beta", "eps")
ROLE = "XIELU"


def _numel(shape) -> int | None:
    total = 1
    for dim in shape:
        if not isinstance(dim, int):
            return None
        total *= dim
    return total


def _example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class XIELU(nn.Module):  # the paper's formula, as Hugging Face's python fallback writes it
        def __init__(self) -> None:
            super().__init__()
            self.alpha_p = nn.Parameter(torch.tensor([0.3]))
            self.alpha_n = nn.Parameter(torch.tensor([-0.2]))
            self.register_buffer("beta", torch.tensor(0.5))
            self.register_buffer("eps", torch.tensor(-1e-6))

        def forward(self, x):
            a_p, a_n = F.softplus(self.alpha_p), self.beta + F.softplus(self.alpha_n)
            negative = (torch.expm1(torch.min(x, self.eps)) - x) * a_n + self.beta * x
            return torch.where(x > 0, a_p * x * x + self.beta * x, negative)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = nn.Linear(8, 16)
            self.act_fn = XIELU()

        def forward(self, x):
            return self.act_fn(self.up(x))

    return Example(Holder(), (torch.randn(2, 5, 8),))


class XIELUActivation(BlockPattern):
    role = ROLE
    priority = 5

    accepts = Accepts(0, 0)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or sorted(t.attr for t in params) != sorted(NAMES):
            return None
        if any(_numel(t.shape) != 1 for t in params):
            return None
        return Match(self, len(params), NAMES)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        scalars = [g.getattr((name,)) for name in match.found]
        g.output(g.call_function("xielu", x, *scalars))

    @staticmethod
    def examples():
        return [_example()]
