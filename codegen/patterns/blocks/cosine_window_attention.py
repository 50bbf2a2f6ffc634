"""Scaled cosine window attention with a continuous position bias (Swin V2): multi-head
self-attention inside each window, whose scores are the cosine similarity of queries and keys
times a learned per-head scale (`logit_scale` [heads, 1, 1], exp, capped at 100), plus a bias a
small MLP computes from the log-spaced (row, column) offsets between two positions of a window
(`continuous_position_bias_mlp`: Linear(2, hidden), ReLU, Linear(hidden, heads); 16 * sigmoid).

Recognised from shapes: the [heads, 1, 1] scale, an MLP reading 2 coordinates and giving one value
per head, and query/key/value projections (Hugging Face's names). The offsets are divided by the
window - 1, or by config.json's pretrained window - 1 where it names one for every stage; a
checkpoint without config.json cannot say, and the forward says so (missing) where a stage's
pretrained window differs from the others'.

The library fixes each stage's window and shift when it builds the model, for config.json's
image_size; so does the block here (swin_block.py) where config.json gives the image, patch and
stage sizes. Without them it takes the window from the map it is given, as Swin V1 does: the same
for images of the size the model was built for, not for others whose stages cross a window's size.

Forward: x [batch * windows, window * window, channels] and the shifted windows' mask
([windows, n, n], or None) -> [batch * windows, window * window, channels].
"""

from __future__ import annotations

from codegen.ir import ClassDef
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import KEY, OUT, QUERY, VALUE

SCALE = "logit_scale"


def _bias_mlp(members: list):
    """The one Sequential reading 2 coordinates and giving one value per head (Linear, gap,
    Linear); its output width is the head count."""
    found = [
        m
        for m in members
        if m.kind == "sequential"
        and m.io is not None
        and m.io.in_width == 2
        and isinstance(m.io.out_width, int)
        and [family(c) for c in m.children if family(c) == "linear"] == ["linear", "linear"]
    ]
    return found[0] if len(found) == 1 else None


# The scale and the 2-coordinate MLP identify Swin V2's code, whose bias MLP is Linear, ReLU,
# Linear (Liu et al. 2022; the authors', timm's and transformers' continuous_position_bias_mlp).
BIAS_MLP_WHY = "Swin V2's continuous position bias MLP: Linear, ReLU, Linear"


def _relu_slot(mlp) -> list[tuple[str, str, object, str]]:
    """Match.pins: the bias MLP's keyless slot holds Swin V2's ReLU (where left at its default)."""
    return [
        (c.path, c.name, "nn.ReLU()", BIAS_MLP_WHY)
        for m in mlp.children
        if m.kind == "placeholder"
        for c in m.choices
        if c.name == "module_type" and c.source == "default"
    ]


def _scale(cls: ClassDef):
    """The [heads, 1, 1] scale (its head count may be lifted to a constructor argument)."""
    found = [t for t in tensors(cls) if t.attr == SCALE]
    if len(found) != 1 or len(found[0].shape) != 3 or tuple(found[0].shape[1:]) != (1, 1):
        return None
    return found[0]


def cosine_window(cls: ClassDef | None, ctx: BlockContext, depth: int = 3) -> int | None:
    """config.json's window where `cls` or a class it holds (depth levels down) is a cosine window
    attention (no table gives the window there); None otherwise."""
    if cls is None:
        return None
    if _scale(cls) is not None and _bias_mlp(modules(cls)) is not None:
        said = ctx.resolver.evidence("window_size")
        return said[1] if said is not None and type(said[1]) is int and said[1] > 0 else None
    if depth == 0:
        return None
    for m in modules(cls):
        inner = ctx.classes.get(m.type_name) if m.kind == "class" else None
        found = cosine_window(inner, ctx, depth - 1)
        if found is not None:
            return found
    return None


def _pretrained(ctx: BlockContext) -> int | None:
    """The pretrained window the offsets are divided by (0: the window's own), where config.json
    gives every stage the same one (or none); None where stages differ (one class for all)."""
    said = ctx.resolver.evidence("pretrained_window_sizes", "pretrained_window_size")
    if said is None:
        return 0
    values = said[1] if isinstance(said[1], list) else [said[1]]
    if not values or any(type(v) is not int or v < 0 for v in values) or len(set(values)) != 1:
        return None
    return values[0]


class CosineWindowAttention(BlockPattern):
    role = "WindowAttention"
    priority = 31  # a scale and a bias MLP beside the projections: no plain attention
    accepts = Accepts(tensors=True, names=(QUERY, KEY, VALUE), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, found = modules(cls), tensors(cls)
        scale = _scale(cls)
        if scale is None or len(found) != 1:
            return None
        mlp = _bias_mlp(members)
        if mlp is None:
            return None
        rest = [m for m in members if m is not mlp]
        if any(family(m) != "linear" for m in rest):
            return None
        q, k, v = (one_named(rest, p) for p in (QUERY, KEY, VALUE))
        if q is None or k is None or v is None:
            return None
        others = [m for m in rest if m not in (q, k, v)]
        out = one_named(others, OUT) if len(others) == 1 else None
        if len(others) > 1 or (others and out is None):
            return None
        explains = len(members) + len(found) + 2
        pretrained = _pretrained(ctx)
        if pretrained is None:
            return Match(
                self, explains, missing="the pretrained window: config.json's differ by stage"
            )
        attrs = (q.attr, k.attr, v.attr, out.attr if out else None, mlp.attr)
        return Match(self, explains, (attrs, pretrained), pins=_relu_slot(mlp))

    def forward(self, match: Match, g: Graph) -> None:
        (q_attr, k_attr, v_attr, out, mlp), pretrained = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        heads = g.call_method("size", g.getattr((SCALE,)), 0, name="heads")

        def split(attr: str, name: str):
            y = g.call_method(
                "view", g.call_module((attr,), x, inline=True), batch, seq, heads, -1, inline=True
            )
            return g.call_method("transpose", y, 1, 2, name=name)

        q, k, v = (split(a, n) for a, n in ((q_attr, "q"), (k_attr, "k"), (v_attr, "v")))
        device = g.call_method("device", x, inline=True)
        offsets = g.call_function(
            "log_spaced_offsets",
            seq,
            pretrained,
            device,
            name="offsets",
            comment="[(2 * window - 1) ** 2, 2]",
        )
        table = g.call_module((mlp,), offsets, name="table", comment="[offsets, heads]")
        bias = g.call_function("continuous_window_bias", table, seq, name="bias")
        bias = g.call_function("window_attention_bias", bias, mask, batch, name="bias")
        y = g.call_function("cosine_attention", q, k, v, g.getattr((SCALE,)), bias, name="y")
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        g.output(g.call_module((out,), y) if out else y)

    @staticmethod
    def examples():
        import torch

        return [Example(_Reference(16, 2, 4), (torch.randn(6, 16, 16),), {"window_size": 4})]


def _reference_class():
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class CosineAttention(nn.Module):
        """Swin V2's window attention as its paper writes it (window 4, no pretrained window)."""

        def __init__(self, dim: int, heads: int, window: int) -> None:
            super().__init__()
            self.heads, self.window = heads, window
            self.logit_scale = nn.Parameter(torch.log(10 * torch.rand(heads, 1, 1) + 1))
            self.continuous_position_bias_mlp = nn.Sequential(
                nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, heads, bias=False)
            )
            self.query = nn.Linear(dim, dim)
            self.key = nn.Linear(dim, dim, bias=False)
            self.value = nn.Linear(dim, dim)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            b, n, c = x.shape
            w = self.window
            q, k, v = (
                f(x).view(b, n, self.heads, -1).transpose(1, 2)
                for f in (self.query, self.key, self.value)
            )
            span = torch.arange(-(w - 1), w).float()
            grid = torch.stack(torch.meshgrid([span, span], indexing="ij")).permute(1, 2, 0)
            grid = grid / (w - 1) * 8
            grid = torch.sign(grid) * torch.log2(grid.abs() + 1.0) / math.log2(8)
            table = self.continuous_position_bias_mlp(grid).view(-1, self.heads)
            coords = torch.stack(torch.meshgrid([torch.arange(w)] * 2, indexing="ij")).flatten(1)
            rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (w - 1)
            index = rel[..., 0] * (2 * w - 1) + rel[..., 1]
            bias = 16 * torch.sigmoid(table[index.view(-1)].view(n, n, -1).permute(2, 0, 1))
            scores = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
            scores = scores * torch.clamp(self.logit_scale, max=math.log(100.0)).exp() + bias
            y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
            return self.proj(y)

    return CosineAttention


def _Reference(dim: int, heads: int, window: int):
    return _reference_class()(dim, heads, window)
