"""The MLP-Mixer block (timm's `MixerBlock`, the paper's): an MLP across the tokens, on the
transposed sequence, then an MLP across the channels, each after a LayerNorm and added back:

    x = x + mlp_tokens(norm1(x).transpose(1, 2)).transpose(1, 2)
    x = x + mlp_channels(norm2(x))

Told apart by widths: both norms and the channel MLP have the model width; the token MLP maps the
sequence length to itself, a different width (or, where the two agree, its name says `token`).
Each norm goes with the MLP of its step by the numbers in their names (`norm1` first).
"""

from __future__ import annotations

import re

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

TOKEN = re.compile(r"token", re.I)
# What timm's and the paper's code fix and no key records: the MLPs' GELU and the LayerNorms' eps
# 1e-6 (flax's default; timm's norm_layer), the final norm's too.
_WHY = "MLP-Mixer's (Tolstikhin et al. 2021: the official code, timm)"


def _numbers(attr: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", attr))


def numbered_layer_scales(scales: list) -> list | None:
    """A block's two 1-D layer-scale parameters, first sublayer's first (`gamma_1`, `gamma_2`):
    ordered by the numbers in their names, None where they are not such a pair."""
    scales = sorted(scales, key=lambda t: _numbers(t.attr))
    if any(t.kind != "parameter" or len(t.shape) != 1 for t in scales):
        return None
    if _numbers(scales[0].attr) == _numbers(scales[1].attr):
        return None
    return scales


class MixerBlock(BlockPattern):
    role = "MixerBlock"
    priority = 10

    accepts = Accepts(4, 4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        norms = sorted((m for m in members if family(m) == "norm"), key=lambda m: _numbers(m.attr))
        mlps = [m for m in members if m.kind == "class" and ctx.role(m) == "MLP"]
        if len(norms) != 2 or len(mlps) != 2 or any(n.type_name != "nn.LayerNorm" for n in norms):
            return None
        if _numbers(norms[0].attr) == _numbers(norms[1].attr):
            return None  # which norm comes first: the names must say
        width = norms[0].io.in_width
        if norms[1].io.in_width != width or any(m.io is None for m in mlps):
            return None
        if any(m.io.in_width != m.io.out_width for m in mlps):
            return None
        named = [m for m in mlps if TOKEN.search(m.attr)]
        other = [m for m in mlps if m.io.in_width != width]
        tokens = named if len(named) == 1 else other
        if len(tokens) != 1:
            return None
        channels = next(m for m in mlps if m is not tokens[0])
        if channels.io.in_width != width:
            return None
        found = (norms[0].attr, tokens[0].attr, norms[1].attr, channels.attr)
        pins = convention_pins(ctx, norms, mlps, _WHY, 1e-6, "gelu")
        return Match(self, len(members) + 1, found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        norm1, tokens, norm2, channels = match.found
        x = g.input("x")  # [batch, tokens, channels]
        mixed = g.call_method("transpose", g.call_module((norm1,), x, inline=True), 1, 2)
        mixed = g.call_module((tokens,), mixed, inline=True)
        mixed = g.call_method("transpose", mixed, 1, 2, inline=True)
        x = g.call_function("add", x, mixed, name="x", comment="mixing across the tokens")
        y = g.call_module((channels,), g.call_module((norm2,), x, inline=True), inline=True)
        g.output(g.call_function("add", x, y, name="x", comment="mixing across the channels"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Mlp(nn.Module):  # timm.layers.Mlp
            def __init__(self, width: int, hidden: int) -> None:
                super().__init__()
                self.fc1 = nn.Linear(width, hidden)
                self.act = nn.GELU()
                self.fc2 = nn.Linear(hidden, width)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc2(self.act(self.fc1(x)))

        class Block(nn.Module):  # timm.models.mlp_mixer.MixerBlock
            def __init__(self, dim: int, tokens: int) -> None:
                super().__init__()
                self.norm1 = nn.LayerNorm(dim, eps=1e-6)
                self.mlp_tokens = Mlp(tokens, 2 * tokens)
                self.norm2 = nn.LayerNorm(dim, eps=1e-6)
                self.mlp_channels = Mlp(dim, 4 * dim)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
                return x + self.mlp_channels(self.norm2(x))

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = Block(8, 6)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.block(x)

        torch.manual_seed(0)
        # The MLPs' GELU and the norms' eps leave no key: the block's convention gives them.
        return [Example(Holder(), (torch.randn(2, 6, 8),))]
