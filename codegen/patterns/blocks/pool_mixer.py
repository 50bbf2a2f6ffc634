"""The PoolFormer block (Yu et al. 2022, MetaFormer; sail-sg/poolformer, timm's PoolFormer v1): an
average pool mixes the tokens of the normalised map (the pool's output less its input), a
pointwise conv MLP mixes the channels, each scaled per channel and added back:

    y = norm1(x); x = x + layer_scale1 * (avg_pool3x3(y) - y)
    x = x + layer_scale2 * mlp(norm2(x))

Its token mixer has no parameters: the block is read from what is left, two norms over the map's
channels, one MLP of two 1x1 convs and, where the block scales, two per-channel layer scales
(told apart by the numbers in their names, `norm1` and `layer_scale_1` first). What the official
code and timm fix and no key records is pinned (Match.pins): the norms are GroupNorm with one group
(every such norm of the model), the MLP's activation GELU, and the model's downsampling convs (a 7x7
stem at stride 4 padded 2, 3x3 convs widening between stages at stride 2; layers/conv.py).
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
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.mixer_block import _numbers, numbered_layer_scales

_WHY = "PoolFormer's convention (Yu et al. 2022; the official code, timm)"


def _conv_mlp(m, ctx: BlockContext, width: int):
    """The class of a pointwise-conv MLP member (two 1x1 convs, width -> hidden -> width)."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if cls is None or tensors(cls):
        return None
    convs = [c for c in modules(cls) if family(c) == "conv" and c.io is not None]
    if len(convs) != 2 or len(modules(cls)) != 2:
        return None
    if any(conv_kernel(c) not in (1, (1, 1)) for c in convs):
        return None
    widen = [c for c in convs if c.io.in_width == width]
    narrow = [c for c in convs if c.io.out_width == width and c not in widen]
    if len(widen) != 1 or len(narrow) != 1 or widen[0].io.out_width != narrow[0].io.in_width:
        return None
    return cls


class PoolMixerBlock(BlockPattern):
    role = "PoolFormerBlock"
    priority = 15

    accepts = Accepts(3, 3)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        scales = tensors(cls)
        if len(members) != 3 or len(scales) not in (0, 2):
            return None
        norms = sorted((m for m in members if family(m) == "norm"), key=lambda m: _numbers(m.attr))
        rest = [m for m in members if m not in norms]
        if len(norms) != 2 or len(rest) != 1 or _numbers(norms[0].attr) == _numbers(norms[1].attr):
            return None
        width = norms[0].io.in_width if norms[0].io is not None else None
        if width is None or norms[1].io is None or norms[1].io.in_width != width:
            return None
        mlp = _conv_mlp(rest[0], ctx, width)
        if mlp is None:
            return None
        if scales:
            scales = numbered_layer_scales(scales)
            if scales is None:
                return None
        # The pins: GroupNorm(1) for the model's map norms, GELU in the MLP, where left at a
        # default. A norm chosen otherwise (a hint) is not this block's.
        pins = []
        for n in norms:
            kind = next((c for c in n.choices if c.name == "module_type"), None)
            if n.type_name != "nn.GroupNorm" and (kind is None or kind.source != "default"):
                return None
            groups = next((c for c in n.choices if c.name == "num_groups"), None)
            if n.type_name != "nn.GroupNorm" or (groups and groups.value != 1):
                pins.append(("", "map_norm_one_group", True, f"{_WHY}: one group"))
        for c in mlp.forward.choices:
            if c.name == "activation" and c.source == "default" and c.value != "gelu":
                pins.append((c.path, "activation", "gelu", f"{_WHY}: the MLP's GELU"))
        # The family's downsampling, read where layers/conv.py makes the convs' geometry.
        why = f"{_WHY}: a 7x7 stem conv at stride 4 padded 2, 3x3 stride-2 convs between stages"
        pins.append(("", "metaformer_downsampling", True, why))
        found = (norms[0].attr, norms[1].attr, rest[0].attr, [t.attr for t in scales])
        return Match(self, len(members) + len(scales) + 1, found, pins=list(dict.fromkeys(pins)))

    def forward(self, match: Match, g: Graph) -> None:
        norm1, norm2, mlp, scales = match.found
        x = g.input("x")
        y = g.call_module((norm1,), x, name="y")
        pooled = g.call_function(
            "avg_pool2d", y, 3, 1, 1, kwargs={"count_include_pad": False}, inline=True
        )
        mixed = g.call_function("sub", pooled, y, name="mixed", comment="pooling mixes tokens")
        if scales:
            scale = g.call_method("view", g.getattr((scales[0],)), -1, 1, 1, inline=True)
            mixed = g.call_function("mul", scale, mixed, inline=True)
        x = g.call_function("add", x, mixed, name="x")
        out = g.call_module((mlp,), g.call_module((norm2,), x, inline=True), name="out")
        if scales:
            scale = g.call_method("view", g.getattr((scales[1],)), -1, 1, 1, inline=True)
            out = g.call_function("mul", scale, out, inline=True)
        g.output(g.call_function("add", x, out, name="x"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Mlp(nn.Module):  # poolformer.Mlp: 1x1 convs
            def __init__(self, dim: int, hidden: int) -> None:
                super().__init__()
                self.fc1 = nn.Conv2d(dim, hidden, 1)
                self.act = nn.GELU()
                self.fc2 = nn.Conv2d(hidden, dim, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc2(self.act(self.fc1(x)))

        class Block(nn.Module):  # sail-sg/poolformer PoolFormerBlock
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.norm1 = nn.GroupNorm(1, dim)
                self.token_mixer = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
                self.norm2 = nn.GroupNorm(1, dim)
                self.mlp = Mlp(dim, 4 * dim)
                self.layer_scale_1 = nn.Parameter(0.5 * torch.randn(dim))
                self.layer_scale_2 = nn.Parameter(0.5 * torch.randn(dim))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                y = self.norm1(x)
                x = x + self.layer_scale_1[:, None, None] * (self.token_mixer(y) - y)
                return x + self.layer_scale_2[:, None, None] * self.mlp(self.norm2(x))

        class Holder(nn.Module):  # the block is a member of the top class
            def __init__(self) -> None:
                super().__init__()
                self.network = nn.Sequential(Block(8), Block(8))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.network(x)

        torch.manual_seed(0)
        net = Holder().eval()
        with torch.no_grad():
            for name, p in net.named_parameters():
                if p.dim() == 1 and "norm" in name:
                    p.normal_(1.0 if name.endswith("weight") else 0.0, 0.3)
        return [Example(net, (torch.randn(2, 8, 6, 6),))]
