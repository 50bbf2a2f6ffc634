"""GFNet's global filter (Rao et al. 2021, raoyongming/GFNet; SpectFormer's spectral gating): the
tokens [batch, h * h, channels] read as a square map, its 2-D real FFT multiplied by a learned
complex filter, transformed back:

    y = irfft2(rfft2(x.view(b, h, h, c)) * view_as_complex(weight), s=(h, h))

Recognised by its one parameter's shape alone, under any name: [h, h // 2 + 1, channels, 2], the
half spectrum of an h x h map's last axis (rfft2), real and imaginary parts last. The transforms'
normalisation leaves no key, and none is needed: `ortho` both ways scales as `backward` both ways
(1 / (h * h) in all), and the filter multiplies linearly in between.
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
    size_value,
    tensors,
)


class GlobalFilter(BlockPattern):
    role = "GlobalFilter"
    priority = 5

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = tensors(cls)
        if modules(cls) or len(found) != 1 or found[0].kind != "parameter":
            return None
        shape = [size_value(cls, d) for d in found[0].shape]
        if len(shape) != 4 or None in shape or shape[3] != 2 or shape[1] != shape[0] // 2 + 1:
            return None
        return Match(self, 1, found[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")  # [batch, tokens, channels]
        weight = g.getattr((match.found,))
        g.output(
            g.call_function("global_filter", x, weight),
            comment="a learned filter on the 2-D spectrum",
        )

    @staticmethod
    def examples():
        import math

        import torch
        import torch.nn as nn

        class SpectralGate(nn.Module):  # SpectFormer-style spectral gating, another repo's names
            def __init__(self, side: int, dim: int) -> None:
                super().__init__()
                self.filter_weight = nn.Parameter(torch.randn(side, side // 2 + 1, dim, 2))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                b, n, c = x.shape
                side = int(math.sqrt(n))
                y = torch.fft.rfft2(x.view(b, side, side, c), dim=(1, 2))  # unnormalised forward
                y = y * torch.view_as_complex(self.filter_weight)
                return torch.fft.irfft2(y, s=(side, side), dim=(1, 2)).reshape(b, n, c)

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.proj = nn.Linear(8, 12)
                self.gate = SpectralGate(6, 12)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.gate(self.proj(x))

        torch.manual_seed(0)
        return [Example(Holder(), (torch.randn(2, 36, 8),))]
