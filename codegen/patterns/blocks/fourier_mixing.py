"""Token mixing by a Fourier transform in place of attention (FNet): the real part of the 2-D
discrete Fourier transform over the sequence and hidden dimensions, added to the input and
normalised. It owns no weights: the sublayer holds only the post-norm (`output.LayerNorm`), so it
is told by its name (`fourier`, `fft`, `...mixing`) and the norm-only output it holds.

`ResidualNorm` is that output on its own: `norm(h + x)`, the residual's sum normalised.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import tensors

MIXING = r"fourier(_transform)?|fft|fnet|(token_|fourier_)?mixing"


class ResidualNorm(BlockPattern):
    """`norm(x + h)`: a post-norm sublayer's residual sum normalised, with no projection."""

    role = "ResidualNorm"
    named = r"output"
    accepts = Accepts(1, 1, tensors=False, families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        import re

        members = modules(cls)
        if tensors(cls) or not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        if len(members) != 1 or family(members[0]) != "norm":
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        h, x = g.input("h"), g.input("x")
        y = g.call_function("add", x, h, inline=True)
        g.output(g.call_module((match.found,), y))

    @staticmethod
    def examples():
        return [_example(64)]


class FourierMixing(BlockPattern):
    """`output(fourier_mix(x), x)`: FNet's mixing sublayer, where attention would be; it takes no
    padding mask (the library's FNet takes none: every position is mixed)."""

    role = "PostNormAttention"
    priority = 6
    named = MIXING
    accepts = Accepts(1, 1, tensors=False, roles=("ResidualNorm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        import re

        members = modules(cls)
        if tensors(cls) or not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        if len(members) != 1 or ctx.role(members[0]) != "ResidualNorm":
            return None
        # FNet's config may ask for the DFT as matrix products sized for one sequence length (its
        # TPU path): the same transform only at that length, so the file then stays guessed.
        tpu = ctx.resolver.metadata.get("use_tpu_fourier_optimizations")
        if tpu is not None and tpu[1] is False:
            for key in ("use_tpu_fourier_optimizations", "tpu_short_seq_length"):
                ctx.resolver.evidence(key)
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        mixed = g.call_function(
            "fourier_mix", x, name="mixed", comment="real part of the 2-D DFT over seq, d_model"
        )
        g.output(g.call_module((match.found,), mixed, x))

    @staticmethod
    def examples():
        return [_example(96)]


def _example(hidden: int) -> Example:
    import torch
    import torch.nn as nn

    class Output(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.LayerNorm = nn.LayerNorm(hidden)

        def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return self.LayerNorm(x + h)

    class Mixing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.output = Output()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.output(torch.fft.fftn(x, dim=(1, 2)).real, x)

    class Intermediate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(hidden, 2 * hidden)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.gelu(self.dense(x))

    class AddNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(2 * hidden, hidden)
            self.LayerNorm = nn.LayerNorm(hidden)

        def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return self.LayerNorm(self.dense(h) + x)

    class Layer(nn.Module):  # FNet's layer: mixing, then the post-norm feed-forward
        def __init__(self) -> None:
            super().__init__()
            self.fourier = Mixing()
            self.intermediate = Intermediate()
            self.output = AddNorm()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = self.fourier(x)
            return self.output(self.intermediate(a), a)

    return Example(Layer(), (torch.randn(2, 7, hidden),), {"hidden_act": "gelu"})
