"""Attention among a feature map's pixels whose queries, keys and values sit in one 1x1 conv, after
a group norm, its output added back (the DDPM AttnBlock as small diffusion repositories write it:
abarankab/DDPM's AttentionBlock `norm`/`to_qkv`/`to_out`, Janspiry's SR3 SelfAttention
`norm`/`qkv`/`out`):

    qkv = conv_qkv(norm(x))                 # [batch, 3 * channels, height, width]
    return x + conv_out(attention(q, k, v)) # one head: softmax(q^T k / sqrt(channels)) v

Read from widths, not names: a norm of the block's width, a 1x1 conv giving three times the width
it reads (the fused projection), a 1x1 conv keeping the width (the output projection). The head
count leaves no key: a choice, one head by default (both repositories' default), and with one
head a split into thirds and a per-head split agree. The sum with the input is the DDPM
AttnBlock's (Ho et al.'s `x + h`).
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
from codegen.patterns.blocks.padded_resnet_block import arg_pin
from codegen.patterns.blocks.spatial_attention import _pointwise_conv as _pointwise

SIZE_WHY = "an attention among a map's pixels keeps the map's size"
GROUP_WHY = "the DDPM AttnBlock: a GroupNorm before the fused projection"


def _width(m, end: str):
    width = getattr(m.io, end, None) if m.io is not None else None
    return width if isinstance(width, int) else None


class FusedQkvMapAttention(BlockPattern):
    role = "Attention"
    priority = 5

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        norms = [m for m in members if family(m) == "norm" and m.kind == "builtin"]
        convs = [m for m in members if _pointwise(m)]
        if len(norms) != 1 or len(convs) != 2:
            return None
        width = _width(norms[0], "in_width")
        fused = [c for c in convs if _width(c, "out_width") == 3 * (_width(c, "in_width") or 0)]
        if len(fused) != 1 or width is None or _width(fused[0], "in_width") != width:
            return None
        qkv = fused[0]
        out = next(c for c in convs if c is not qkv)
        if (_width(out, "in_width"), _width(out, "out_width")) != (width, width):
            return None
        divisors = [d for d in range(2, width + 1) if width % d == 0]
        heads = ctx.choose(cls, qkv.attr, "num_heads", 1, divisors, f"of {width} channels")
        if not isinstance(heads.value, int) or width % heads.value:
            return None
        pins = []
        kind = next((c for c in norms[0].choices if c.name == "module_type"), None)
        if kind is not None and kind.source == "default" and kind.value != "nn.GroupNorm":
            pins.append((kind.path, "module_type", "nn.GroupNorm", GROUP_WHY))
        for conv in (qkv, out):
            pins += [arg_pin(conv, "stride", 1, SIZE_WHY), arg_pin(conv, "padding", 0, SIZE_WHY)]
        guessed = "num_heads: no key records it" if heads.source == "default" else ""
        found = (norms[0].attr, qkv.attr, out.attr)
        return Match(self, 3, found, [heads], guessed=guessed, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        norm, qkv, out = match.found
        heads = match.choices[0].value
        x = g.input("x")
        h = g.call_module((norm,), x, name="h", inline=True)
        h = g.call_module((qkv,), h, name="qkv", inline=True)
        h = g.call_function("pixel_attention", h, heads, "softmax", name="h")
        g.output(g.call_function("add", x, g.call_module((out,), h, inline=True)))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class AttentionBlock(nn.Module):  # abarankab/DDPM's, one head
            def __init__(self, c: int) -> None:
                super().__init__()
                self.norm = nn.GroupNorm(4, c)
                self.to_qkv = nn.Conv2d(c, 3 * c, 1)
                self.to_out = nn.Conv2d(c, c, 1)

            def forward(self, x):
                b, c, h, w = x.shape
                q, k, v = torch.split(self.to_qkv(self.norm(x)), c, dim=1)
                q = q.permute(0, 2, 3, 1).reshape(b, h * w, c)
                k = k.reshape(b, c, h * w)
                v = v.permute(0, 2, 3, 1).reshape(b, h * w, c)
                attention = torch.softmax(torch.bmm(q, k) * c**-0.5, dim=-1)
                out = torch.bmm(attention, v).view(b, h, w, c).permute(0, 3, 1, 2)
                return self.to_out(out) + x

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = AttentionBlock(8)

            def forward(self, x):
                return self.block(x)

        torch.manual_seed(0)
        module = Holder().eval()
        return [Example(module, (torch.randn(2, 8, 4, 4),), {"norm_num_groups": 4})]
