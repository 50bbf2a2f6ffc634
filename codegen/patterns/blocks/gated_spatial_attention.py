"""SAGAN's self-attention over a feature map (heykeetae/Self-Attention-GAN `Self_Attn`, and the
GAN repositories that copy it): 1x1 convs give queries and keys (usually C/8 channels) and values
(C channels), one head attends over every pixel with an unscaled softmax, and a learned scalar
`gamma` (zero at initialisation) gates what is added back to the input:

    out = softmax(q^T k) applied to v, read back as a map
    return gamma * out + x

Told from latent diffusion's AttnBlock (blocks/spatial_attention.py) by its scalar gate and the
missing output projection and norm; the queries and keys by their names, as the keys' shapes are
the same. The softmax is unscaled in the repositories that write this block: a fixed convention.
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
    one_named,
)
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.spatial_attention import KEY, QUERY, VALUE, _pointwise_conv

CONV = r"(_?conv)?"
GATE = r"gamma|gate|scale"


class GatedSpatialAttention(BlockPattern):
    role = "GatedSpatialAttention"
    priority = 5

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, own = modules(cls), tensors(cls)
        if len(members) != 3 or len(own) != 1 or not one_named(own, GATE):
            return None
        if own[0].shape not in ((1,), ()):
            return None
        q, k, v = (one_named(members, f"({n}){CONV}") for n in (QUERY, KEY, VALUE))
        if None in (q, k, v) or not all(_pointwise_conv(m) for m in (q, k, v)):
            return None
        width = v.io.in_width
        if any(m.io.in_width != width for m in (q, k)) or v.io.out_width != width:
            return None
        if q.io.out_width != k.io.out_width:
            return None
        return Match(self, len(members) + 1, (q.attr, k.attr, v.attr, own[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        *projections, gate = match.found
        x = g.input("x")
        heads = []
        for attr, name in zip(projections, ("q", "k", "v")):
            h = g.call_module((attr,), x, name=name, inline=True)
            h = g.call_method("flatten", h, 2, name=name, inline=True)
            heads.append(g.call_method("transpose", h, 1, 2, name=name))  # [batch, pixels, c]
        out = g.call_function(
            "scaled_dot_product_attention",
            *heads,
            kwargs={"scale": 1.0},
            name="out",
            comment="one head over every pixel, unscaled",
        )
        out = g.call_method("transpose", out, 1, 2, name="out", inline=True)
        out = g.call_method("reshape", out, g.call_method("shape", x, inline=True), name="out")
        gated = g.call_function("mul", g.getattr((gate,)), out, inline=True)
        g.output(g.call_function("add", gated, x), comment="the learned gate starts at zero")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class SelfAttention(nn.Module):  # Self_Attn as the SAGAN ports write it, other widths
            def __init__(self, width: int) -> None:
                super().__init__()
                self.query = nn.Conv2d(width, width // 4, 1)
                self.key = nn.Conv2d(width, width // 4, 1)
                self.value = nn.Conv2d(width, width, 1)
                self.gamma = nn.Parameter(torch.full((1,), 0.7))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                b, c, h, w = x.shape
                q = self.query(x).view(b, -1, h * w).permute(0, 2, 1)
                k = self.key(x).view(b, -1, h * w)
                attention = torch.softmax(torch.bmm(q, k), dim=-1)
                v = self.value(x).view(b, -1, h * w)
                out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, h, w)
                return self.gamma * out + x

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1)
                self.attn = SelfAttention(8)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.attn(self.conv(x))

        return [Example(Holder(), (torch.randn(2, 3, 5, 4),))]
