"""An attention whose output projection's bias is stored beside it as a tensor of the attention
(GPT-NeoX Japanese's `dense_bias`, on its last layer only): `dense(y) + dense_bias`.

Recognised as an attention (attention.py) holding, besides its projections, one 1-D tensor of the
model width named like a bias; the rest of the attention is that pattern's.
"""

from __future__ import annotations

import dataclasses
import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, tensors
from codegen.patterns.blocks.attention import Attention

BIAS = r"(dense|out|o|out_proj|o_proj|c_proj|proj)_?bias"


class OutputBiasAttention(Attention):
    role = "Attention"
    priority = 11

    accepts = Accepts(tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if len(params) != 1 or len(params[0].shape) != 1:
            return None
        bias = params[0].attr
        if not re.fullmatch(BIAS, bias, re.I):
            return None
        plain = dataclasses.replace(cls, members=[m for m in cls.members if m is not params[0]])
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        if found.found.out is None or found.found.norm is not None:
            return None  # no output projection, or a residual norm inside: not met yet
        return dataclasses.replace(
            found, pattern=self, explains=found.explains + 1, found=(found.found, bias)
        )

    def forward(self, match: Match, g: Graph) -> None:
        inner, bias = match.found
        super().forward(dataclasses.replace(match, found=inner), g)
        out = g.nodes.pop()  # the projection's output: its bias is added before it is returned
        g[out.args[0]].inline = True
        y = g.call_function("add", out.args[0], g.getattr((bias,)), inline=True)
        g.output(y, comment="the projection's bias, stored beside it")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.families._examples import modules

        m = modules()

        class Biased(m["attention"]):
            def __init__(self) -> None:
                super().__init__()
                self.dense_bias = nn.Parameter(torch.randn(16))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return super().forward(x) + self.dense_bias

        return [Example(m["holder"](Biased()), (torch.randn(2, 5, 16),), {"n_head": 2})]
