"""GFNet's block (Rao et al. 2021, raoyongming/GFNet `Block`): a norm, the global filter
(blocks/global_filter.py), a second norm and an MLP, all in one residual, scaled per channel where the block holds a layer scale (`BlockLayerScale`):

    x = x + gamma * mlp(norm2(filter(norm1(x))))

Told by its members: two norms of one width (the first by the numbers in their names, `norm1`),
one global filter, one MLP, and one 1-D tensor or none. The keys are those of a MetaFormer block with two residuals too
(`x + filter(norm1(x))`, then `x + mlp(norm2(x))`): which is a choice, GFNet's one residual by
default, and the class says guessed until calibration or a hint settles it. What GFNet's code
fixes and no key records is pinned: the MLP's GELU, the LayerNorms' eps 1e-6.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    convention_pins,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.mixer_block import _numbers

_WHY = "GFNet's (Rao et al. 2021: the official code)"
RESIDUALS = ["one", "each"]  # one residual around the whole; one around each norm's sublayer


class GlobalFilterBlock(BlockPattern):
    role = "GlobalFilterBlock"
    priority = 10

    accepts = Accepts(4, 4, roles=("GlobalFilter", "MLP"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, scales = modules(cls), tensors(cls)
        if len(members) != 4 or len(scales) > 1:
            return None
        if scales and (scales[0].kind != "parameter" or len(scales[0].shape) != 1):
            return None
        norms = sorted((m for m in members if family(m) == "norm"), key=lambda m: _numbers(m.attr))
        filters = [m for m in members if ctx.role(m) == "GlobalFilter"]
        mlps = [m for m in members if ctx.role(m) == "MLP"]
        if len(norms) != 2 or len(filters) != 1 or len(mlps) != 1:
            return None
        if _numbers(norms[0].attr) == _numbers(norms[1].attr):
            return None  # which norm comes first: the names must say
        if any(n.io is None for n in norms) or norms[0].io.in_width != norms[1].io.in_width:
            return None
        residual = ctx.choose(cls, "", "residuals", "one", RESIDUALS[1:], "GFNet's one residual")
        guessed = ""
        if residual.source == "default":
            guessed = (
                "one residual around norm, filter, norm and MLP (GFNet's); no key tells it from "
                "a residual around each norm's sublayer"
            )
        found = (norms[0].attr, filters[0].attr, norms[1].attr, mlps[0].attr)
        found += (scales[0].attr if scales else None,)
        pins = convention_pins(ctx, norms, mlps, _WHY, 1e-6, "gelu")
        explains = len(members) + len(scales) + 1
        return Match(self, explains, found, [residual], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        norm1, mixer, norm2, mlp, scale = match.found
        x = g.input("x")  # [batch, tokens, channels]
        y = g.call_module((mixer,), g.call_module((norm1,), x, inline=True), name="y")
        if match.choices[0].value == "each":
            x = g.call_function("add", x, y, name="x")
            y = x
        y = g.call_module((mlp,), g.call_module((norm2,), y, inline=True), inline=True)
        if scale is not None:  # the layer scale, on the last branch added
            y = g.call_function("mul", g.getattr((scale,)), y, inline=True)
        g.output(g.call_function("add", x, y, name="x"))

    @staticmethod
    def examples():
        import math

        import torch
        import torch.nn as nn

        class SpectralGate(nn.Module):  # another repo's names and widths than GFNet's
            def __init__(self, side: int, dim: int) -> None:
                super().__init__()
                self.spectrum = nn.Parameter(torch.randn(side, side // 2 + 1, dim, 2))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                b, n, c = x.shape
                side = int(math.sqrt(n))
                y = torch.fft.rfft2(x.view(b, side, side, c), dim=(1, 2), norm="ortho")
                y = y * torch.view_as_complex(self.spectrum)
                return torch.fft.irfft2(y, s=(side, side), dim=(1, 2), norm="ortho").reshape(
                    b, n, c
                )

        class FeedForward(nn.Module):
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.fc1 = nn.Linear(dim, 3 * dim)
                self.act = nn.GELU()
                self.fc2 = nn.Linear(3 * dim, dim)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc2(self.act(self.fc1(x)))

        class SpectralBlock(nn.Module):
            def __init__(self, side: int, dim: int) -> None:
                super().__init__()
                self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
                self.gate = SpectralGate(side, dim)
                self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
                self.ffn = FeedForward(dim)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.ffn(self.ln_2(self.gate(self.ln_1(x))))

        class ScaledBlock(SpectralBlock):  # GFNet's BlockLayerScale
            def __init__(self, side: int, dim: int) -> None:
                super().__init__(side, dim)
                self.layer_scale = nn.Parameter(torch.randn(dim))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.layer_scale * self.ffn(self.ln_2(self.gate(self.ln_1(x))))

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layers = nn.Sequential(SpectralBlock(5, 12), SpectralBlock(5, 12))
                self.scaled = ScaledBlock(5, 12)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.scaled(self.layers(x))

        torch.manual_seed(0)
        net = Holder().eval()
        with torch.no_grad():
            for name, p in net.named_parameters():
                if "ln_" in name:
                    p.normal_(1.0 if name.endswith("weight") else 0.0, 0.3)
        return [Example(net, (torch.randn(2, 25, 12),))]
