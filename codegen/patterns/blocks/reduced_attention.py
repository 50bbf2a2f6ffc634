"""Spatial-reduction attention (PVT, PVTv2, SegFormer, GLPN): self-attention over a channels-last
map x [batch, height, width, channels] whose keys and values come from the map shrunk by a strided
conv (kernel = stride = the reduction ratio) and a LayerNorm, so a large map attends to a small one:

    q = query(x)                                              # every position asks
    kv = norm(sr(x.permute(0, 3, 1, 2)).flatten(2).transpose(1, 2))   # or x itself: ratio 1
    k, v = key(kv), value(kv)                                 # or kv(kv).chunk(2, -1): fused
    y = softmax(q k^T / sqrt(head_dim)) v                     # heads: the stage's, given
    return proj(y).reshape(batch, height, width, channels)

The keys and values come from two projections (Hugging Face's `key`, `value`) or from one twice
as wide (the original PVT and SegFormer code's `kv`: keys, then values, each head's channels
together).

The stages of these models differ in heads (config.json's `num_attention_heads` is a list), and
one class may serve several stages, so the head count is a forward argument the stage passes
(families/pyramid_vision.py). A stage whose attention does not shrink (ratio 1: projections
alone) is told apart from an ordinary attention by config.json's ratios, or by the model's other
attentions: where one with a reduction has the same projections' names, this one is its stage's
(a pin, Match.pins). The output projection is in the class (PVTv2's `proj`) or in a
sibling class (`attention.output.dense`): `ReducedAttentionBlock` holds the two.
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
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.fused_kv_cross_attention import KEYS_VALUES

QUERY, KEY, VALUE = r"q|query|q_proj", r"k|key|k_proj", r"v|value|v_proj"
OUT = r"proj|o_proj|out_proj|dense|out"
# The conv that shrinks the keys' and values' map, by the names these libraries give it.
REDUCE = r"sr|spatial_reduction|sequence_reduction|reduction|reduce"
ROLE = "ReducedAttention"
# The pin a reducing attention leaves: its projections' names, which a stage of ratio 1 shares.
NAMES_PIN = "reduced_attention_names"


def _named(members, pattern: str):
    found = [m for m in members if re.fullmatch(pattern, m.attr, re.IGNORECASE)]
    return found[0] if len(found) == 1 else None


def _reducing_conv(m) -> bool:
    """A 2-d conv keeping the width whose kernel is its stride and pads nothing."""
    if m is None or m.kind != "builtin" or family(m) != "conv" or m.io is None:
        return False
    args = {a.keyword: a.value for a in m.args}
    kernel, stride = args.get("kernel_size"), args.get("stride", 1)
    if m.io.ndim != 2 or m.io.in_width != m.io.out_width or args.get("groups", 1) != 1:
        return False
    return kernel == stride and args.get("padding", 0) == 0


def _pinned(ctx: BlockContext, names: tuple) -> bool:
    """Whether the model's attentions that shrink the map pinned these projections' names."""
    said = ctx.resolver.structural.get(("", NAMES_PIN))
    return said is not None and tuple(said[0]) == names


def _pyramid_config(ctx: BlockContext) -> bool:
    """config.json lists reduction ratios per stage, one of them 1: a stage whose attention is
    q/k/v alone, on the map, with the stage's heads (SegFormer's last stage)."""
    said = ctx.resolver.evidence("sr_ratios", "sequence_reduction_ratios")
    return said is not None and isinstance(said[1], list) and 1 in said[1]


class ReducedAttention(BlockPattern):
    role = ROLE
    priority = 25  # a strided conv and a norm beside q/k/v: not a plain attention

    accepts = Accepts(2, 6, tensors=False, names=(QUERY,), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3, 4, 5, 6):
            return None
        q, k, v = (_named(members, p) for p in (QUERY, KEY, VALUE))
        fused = _named(members, KEYS_VALUES) if k is None and v is None else None
        projections = (q, k, v) if fused is None else (q, fused)
        if any(m is None for m in projections):
            return None
        width = q.io.in_width if q.io is not None else None
        if width is None or any(family(m) != "linear" or m.io is None for m in projections):
            return None
        widths = [(width, width)] * 3 if fused is None else [(width, width), (width, 2 * width)]
        if [(m.io.in_width, m.io.out_width) for m in projections] != widths:
            return None
        rest = [m for m in members if m not in projections]
        out = _named(rest, OUT)
        if out is not None and (family(out) != "linear" or out.io is None):
            return None
        rest = [m for m in rest if m is not out]
        reduce = norm = None
        if rest:  # the reduction: a strided conv and the norm after it, both of the width
            reduce = _named(rest, REDUCE)
            norms = [m for m in rest if family(m) == "norm"]
            if len(rest) != 2 or not _reducing_conv(reduce) or len(norms) != 1:
                return None
            norm = norms[0]
            if reduce.io.in_width != width or norm.io is None or norm.io.in_width != width:
                return None
            if norm.type_name != "nn.LayerNorm":
                return None
        names = tuple(m.attr for m in projections) + ((out.attr,) if out is not None else ())
        pins = []
        if reduce is not None:
            why = "the model's attentions that shrink the map have these projections"
            pins.append(("", NAMES_PIN, names, why))
        elif not _pyramid_config(ctx) and not _pinned(ctx, names):
            return None  # projections alone: an ordinary attention's, unless the model says
        found = (
            tuple(m.attr for m in projections),
            out.attr if out is not None else None,
            (reduce.attr, norm.attr) if reduce is not None else None,
        )
        return Match(self, len(members) + 1, found, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        projections, out, reduce = match.found
        x = g.input("x")  # [batch, height, width, channels]
        nhead = g.input("nhead", "int")
        batch = g.call_method("size", x, 0, name="batch")
        height = g.call_method("size", x, 1, name="height")
        width = g.call_method("size", x, 2, name="width")
        seq = g.call_method("flatten", x, 1, 2, name="seq", comment="[batch, height * width, C]")
        kv = seq
        if reduce is not None:
            small = g.call_method("permute", x, 0, 3, 1, 2, inline=True)
            small = g.call_module((reduce[0],), small, inline=True)
            small = g.call_method("flatten", small, 2, inline=True)
            small = g.call_method("transpose", small, 1, 2, inline=True)
            kv = g.call_module(
                (reduce[1],), small, name="kv", comment="keys and values from the shrunk map"
            )

        def heads(source, path: str, name: str):
            h = g.call_module((path,), source, inline=True)
            h = g.call_method("view", h, batch, -1, nhead, h_dim, inline=True)
            return g.call_method("transpose", h, 1, 2, name=name)

        channels = g.call_method("size", x, 3, inline=True)
        h_dim = g.call_function("floordiv", channels, nhead, name="head_dim")
        if len(projections) == 3:
            q, k, v = projections
            qh, kh, vh = heads(seq, q, "q"), heads(kv, k, "k"), heads(kv, v, "v")
        else:  # one projection twice as wide: the keys' channels, then the values'
            q, fused = projections
            qh = heads(seq, q, "q")
            pair = g.call_module((fused,), kv, inline=True)
            pair = g.call_method("view", pair, batch, -1, 2, nhead, h_dim, inline=True)
            pair = g.call_method("permute", pair, 2, 0, 3, 1, 4, name="kv")
            kh = g.call_function("getitem", pair, 0, name="k")
            vh = g.call_function("getitem", pair, 1, name="v")
        y = g.call_function("scaled_dot_product_attention", qh, kh, vh, name="y")
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, height, width, -1, name="y")
        g.output(g.call_module((out,), y) if out is not None else y)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        z = zoo()
        reduced = z["ReducedAttention"](8, ratio=2, proj=True)
        plain = z["ReducedAttention"](8, ratio=1, proj=True)
        x = torch.randn(2, 6, 4, 8)
        # without a reduction conv, only config.json's ratios (one of them 1) tell it apart
        told = {"sr_ratios": [2, 1]}
        return [Example(reduced, (x, 2)), Example(plain, (x, 4), told)]


class ReducedAttentionBlock(BlockPattern):
    """Hugging Face's split: the attention (`self`) and its output projection in a class of its
    own (`output.dense`), applied one after the other."""

    role = "ReducedAttentionBlock"
    priority = 25

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        inner = [m for m in members if ctx.role(m) == ROLE]
        if len(inner) != 1:
            return None
        after = next(m for m in members if m is not inner[0])
        if ctx.role(after) not in ("Projection", "linear"):
            return None
        held = ctx.classes.get(inner[0].type_name)
        if held is None or held.forward is None or held.forward.graph is None:
            return None
        return Match(self, 3, (inner[0].attr, after.attr))

    def forward(self, match: Match, g: Graph) -> None:
        inner, after = match.found
        x = g.input("x")  # [batch, height, width, channels]
        nhead = g.input("nhead", "int")
        g.output(g.call_module((after,), g.call_module((inner,), x, nhead, inline=True)))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        split = zoo()["SplitAttention"](8, ratio=2)
        return [Example(split, (torch.randn(2, 6, 4, 8), 2))]
