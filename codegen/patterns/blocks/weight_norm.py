"""A weight-normalised conv as `torch.nn.utils.parametrizations.weight_norm` saves it: the conv's
`bias` beside `parametrizations.weight.original0` (the magnitude g, size 1 except along `dim`) and
`original1` (the direction v); the weight is `g * v / ||v||`, the norm over every other dimension.
wav2vec2's positional conv embedding is one (HuBERT's, Data2VecAudio's, SEW's...).

Three small classes mirror the keys: `WeightNorm` (g and v) returns the weight, `Parametrizations`
returns its `weight()`, and the conv reads it. Parametrized modules do not script, so the file
spells the computation out rather than calling torch's helper.
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
    tensors,
)


def norm_dim(g: tuple, v: tuple) -> int | None:
    """The one dimension weight_norm keeps: where g is not 1 (a size, or the parameter naming it,
    the same as v's there); None where that is not one dimension. Where g is all ones (a layer
    with one output channel), the first dimension where v is 1: the norm is then over all of v
    whichever of those it keeps."""
    kept = [d for d in range(len(g)) if g[d] != 1]
    if len(g) != len(v) or len(kept) > 1 or (kept and g[kept[0]] != v[kept[0]]):
        return None
    if not kept:
        kept = [d for d in range(len(v)) if v[d] == 1][:1]
    return kept[0] if kept else None


class WeightNorm(BlockPattern):
    """`original0` (g) and `original1` (v): forward() gives the normalised weight."""

    role = "WeightNorm"
    priority = 5

    accepts = Accepts(0, 0)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = {t.attr: t for t in tensors(cls)}
        if modules(cls) or set(found) != {"original0", "original1"}:
            return None
        dim = norm_dim(found["original0"].shape, found["original1"].shape)
        return None if dim is None else Match(self, 2, dim)

    def forward(self, match: Match, g: Graph) -> None:
        magnitude, direction = g.getattr(("original0",)), g.getattr(("original1",))
        norm = g.call_function("torch.norm_except_dim", direction, 2, match.found, inline=True)
        scale = g.call_function("truediv", magnitude, norm, inline=True)
        g.output(g.call_function("mul", direction, scale), comment="g * v / ||v||")

    @staticmethod
    def examples():
        return [_example()]


class Parametrizations(BlockPattern):
    """torch's parametrization holder: `weight()` is what the parametrized module reads."""

    role = "Parametrizations"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].attr != "weight":
            return None
        if ctx.role(members[0]) != "WeightNorm":
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,)))

    @staticmethod
    def examples():
        return [_example()]


class WeightNormConv(BlockPattern):
    """A Conv1d whose weight is weight-normalised: groups from the input's channels, padding half
    the kernel (the convention of the positional conv embeddings that use one)."""

    role = "WeightNormConv"
    priority = 5

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        names = {t.attr for t in tensors(cls)}
        if len(members) != 1 or members[0].attr != "parametrizations" or names - {"bias"}:
            return None
        if ctx.role(members[0]) != "Parametrizations" or _weight_rank(members[0], ctx) != 3:
            return None  # the forward is a Conv1d's: a 2-d conv's weight is no match
        return Match(self, 1 + len(names), "bias" in names)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        weight = g.call_module(("parametrizations", "weight"), name="weight")
        kernel = g.call_method("size", weight, 2, inline=True)
        groups = g.call_function(
            "floordiv",
            g.call_method("size", x, 1, inline=True),
            g.call_method("size", weight, 1, inline=True),
            name="groups",
        )
        bias = g.getattr(("bias",)) if match.found else None
        padding = g.call_function("floordiv", kernel, 2, inline=True)
        g.output(
            g.call_function(
                "torch.conv1d", x, weight, bias, kwargs={"padding": padding, "groups": groups}
            )
        )

    @staticmethod
    def examples():
        return [_example()]


def _weight_rank(holder, ctx: BlockContext) -> int | None:
    """The rank of the direction `original1` a Parametrizations member's weight holds."""
    cls = ctx.classes.get(holder.type_name)
    weight = next((m for m in modules(cls) if m.attr == "weight"), None) if cls else None
    norm = ctx.classes.get(weight.type_name) if weight is not None else None
    found = {t.attr: t for t in tensors(norm)} if norm is not None else {}
    return len(found["original1"].shape) if "original1" in found else None


def _example() -> Example:
    import torch
    import torch.nn as nn

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.utils.parametrizations.weight_norm(
                nn.Conv1d(8, 8, 5, padding=2, groups=2), name="weight", dim=2
            )

        def forward(self, x):
            return self.conv(x)

    # a speech encoder's config names the positional conv's kernel (elsewhere the layer is
    # layers/normalised_weight.py's, with the conv's own choices)
    return Example(Model(), (torch.randn(2, 8, 9),), {"num_conv_pos_embeddings": 5})
