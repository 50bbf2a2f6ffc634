"""Random Fourier features of a noise level (diffusers' GaussianFourierProjection, score-SDE's
NCSN++): one fixed vector of frequencies `weight` (a parameter that is not trained), and

    p = log(t)[:, None] * weight[None, :] * 2 * pi;   return cat([sin(p), cos(p)], dim=-1)

Whether the level goes through a log and which half comes first leave no tensors: choices, at
diffusers' defaults (log, sine first).
"""

from __future__ import annotations

import math

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)


class FourierFeatures(BlockPattern):
    role = "FourierFeatures"
    named = r"time_proj|fourier_proj|time_features|fourier"
    priority = 5

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or len(params[0].shape) != 1 or not cls.named:
            return None
        if params[0].attr not in ("weight", "W", "B", "freqs"):
            return None
        log = ctx.choose(cls, params[0].attr, "log", True, [False], "features of log(t)")
        cos_first = ctx.choose(cls, params[0].attr, "cos_first", False, [True], "sine first")
        return Match(self, 1, params[0].attr, [log, cos_first])

    def forward(self, match: Match, g: Graph) -> None:
        log, cos_first = (c.value for c in match.choices)
        t = g.input("t")
        if log:
            t = g.call_function("torch.log", t, name="t", inline=True)
        p = g.call_function("getitem", t, (Slice(), None), name="p", inline=True)
        w = g.call_function("getitem", g.getattr((match.found,)), (None, Slice()), inline=True)
        p = g.call_function("mul", p, w, name="p", inline=True)
        p = g.call_function("mul", p, 2.0, name="p", inline=True)
        p = g.call_function("mul", p, math.pi, name="p", comment="[batch, frequencies]")
        sin = g.call_function("torch.sin", p, inline=True)
        cos = g.call_function("torch.cos", p, inline=True)
        halves = [cos, sin] if cos_first else [sin, cos]
        g.output(g.call_function("cat", halves, kwargs={"dim": -1}))

    @staticmethod
    def examples():
        import torch

        class GaussianFourierProjection(torch.nn.Module):
            def __init__(self, size: int) -> None:
                super().__init__()
                self.weight = torch.nn.Parameter(torch.randn(size) * 16, requires_grad=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x_proj = torch.log(x)[:, None] * self.weight[None, :] * 2 * math.pi
                return torch.cat([torch.sin(x_proj), torch.cos(x_proj)], dim=-1)

        class Holder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.time_proj = GaussianFourierProjection(8)

            def forward(self, t: torch.Tensor) -> torch.Tensor:
                return self.time_proj(t)

        return [Example(Holder(), (torch.tensor([3.0, 0.5, 700.0]),))]
