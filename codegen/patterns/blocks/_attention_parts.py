"""The steps attention variants share with attention.py's pattern, for the variants that build
their own forward (differential_attention.py, dynamic_mask_attention.py): the causal mask, the
heads of separate q/k/v projections (each head's queries and keys normed where the attention
holds q/k norms) and the rotary turn."""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

from codegen.ir.graph import Graph, Value
from codegen.patterns._kit import BlockContext, Match, apply_norm, family, modules
from codegen.patterns.blocks.attention import AttentionPlan
from codegen.patterns.blocks.selective_scan import conv_pins


def supported(plan: AttentionPlan) -> bool:
    """Whether attention.py's match is the arrangement these forwards build: separate q/k/v
    projections and an output one, causal, default rotary or none, q/k norms per head before
    rotary or none; nothing else (windows, caps, sinks, clipping, ALiBi, scales, sub-norms)."""
    p = plan
    if len(p.projections) != 3 or p.out is None or not p.causal or p.alibi or p.norm:
        return False
    if p.split or p.scale or p.window or p.cap or p.sub_norm or p.free_qk or p.sinks or p.clip:
        return False
    if p.per_head not in (False, "concat"):
        return False
    if p.qk_norm is not None and (p.qk_norm[2] or p.qk_norm[4]):  # whole width, or late
        return False
    return p.rotary is None or (isinstance(p.rotary, tuple) and p.rotary[3] is None)


def plain_bidirectional(plan: AttentionPlan) -> bool:
    """Whether attention.py's match is a plain bidirectional attention: separate q/k/v projections
    and an output one, no positions, mask, norms, scales, windows or per-head extras of its own;
    what the patterns that add their own positions (relative, rotary on the input, gated buckets)
    build on."""
    p = plan
    if len(p.projections) != 3 or p.out is None or p.causal or p.rotary or p.alibi:
        return False
    if p.norm or p.split or p.scale or p.qk_norm or p.window or p.cap or p.sub_norm:
        return False
    return not (p.free_qk or p.sinks or p.clip or p.layer_scaled or p.per_head)


class HeadConvAttention(NamedTuple):
    """A plain bidirectional attention beside at most one conv over its heads' values."""

    found: Match  # attention.py's match on the class without the conv
    conv: object  # the conv member, or None
    pins: list  # what keeps the conv depthwise (one channel per head)


def with_head_conv(
    match_plain: Callable, cls, ctx: BlockContext, kernel_key: str
) -> HeadConvAttention | Match | None:
    """The landmark and expectation attentions' shared start (Nyströmformer, YOSO): separate q/k/v
    projections, bidirectional, as many key/value heads as query heads and nothing else, plus at
    most one Conv2d of one channel per head along the sequence. None where the class is not that;
    attention.py's match itself where it names what is missing. A null `kernel_key` in config.json
    is consumed where no conv is held (the weights show there is none)."""
    convs = [m for m in modules(cls) if family(m) == "conv"]
    if len(convs) > 1 or (convs and convs[0].io is None):
        return None
    conv = convs[0] if convs else None
    found = match_plain(dataclasses.replace(cls, members=[m for m in cls.members if m is not conv]))
    if found is None or found.missing:
        return found
    p = found.found
    if len(p.projections) != 3 or p.causal or p.alibi or p.rotary or p.norm or p.split:
        return None  # otherwise plain: nothing else met yet
    if p.scale or p.qk_norm or p.cap or p.sub_norm or p.free_qk or p.sinks or p.clip:
        return None
    if p.nhead != p.kv_heads:
        return None
    pins = []
    if conv is not None:
        if conv.io.out_width != p.nhead or conv.io.in_width not in (p.nhead, 1):
            return None  # one conv channel per head
        # its weight [heads, 1, kernel, 1] reads as one input channel unless grouped per head
        pins = conv_pins(conv, {"depthwise": True}, "the values' conv acts on each head alone")
        ctx.resolver.evidence(kernel_key)  # the conv's weight shows it
    elif ctx.resolver.metadata.get(kernel_key) is None:
        ctx.resolver.consumed.add(kernel_key)
    return HeadConvAttention(found, conv, pins)


def causal_mask(g: Graph, x: Value, mask: Value) -> tuple[Value, Value, Value]:
    """(batch, seq, the boolean causal mask with the padding mask folded in)."""
    batch = g.call_method("size", x, 0, name="batch")
    seq = g.call_method("size", x, 1, name="seq")
    device = g.call_method("device", x, inline=True)
    mask = g.call_function(
        "causal_padding_mask", mask, seq, device, name="mask", comment="earlier positions only"
    )
    return batch, seq, mask


def heads(g: Graph, x: Value, batch: Value, seq: Value, plan: AttentionPlan) -> tuple[Value, ...]:
    """q [batch, heads, seq, head_dim], k and v [batch, kv_heads, seq, head_dim], rotated."""
    qkv, nhead, kv_heads, rotary, qk_norm = (
        plan.projections,
        plan.nhead,
        plan.kv_heads,
        plan.rotary,
        plan.qk_norm,
    )

    def split(path: str, count: int, name: str) -> Value:
        h = g.call_module((path,), x, inline=True)
        h = g.call_method("view", h, batch, seq, count, -1, inline=True)
        return g.call_method("transpose", h, 1, 2, name=name)

    q, k, v = (split(p, n, name) for p, n, name in zip(qkv, (nhead, kv_heads, kv_heads), "qkv"))
    if qk_norm is not None:  # each head's queries and keys
        q = apply_norm(g, (qk_norm[0],), q, qk_norm[3], name="q")
        k = apply_norm(g, (qk_norm[1],), k, qk_norm[3], name="k")
    if rotary is not None:
        theta, rotary_dim, interleaved = rotary[:3]
        fn = "apply_rotary_interleaved" if interleaved else "apply_rotary"
        if rotary[4] == "halves_reversed":
            fn = "apply_rotary_reversed"
        q = g.call_function(fn, q, theta, rotary_dim, name="q")
        k = g.call_function(fn, k, theta, rotary_dim, name="k")
    return q, k, v


def share_heads(g: Graph, value: Value, nhead: int, kv_heads: int, name: str, **options) -> Value:
    """kv_heads heads repeated for nhead query heads (each kv head for nhead / kv_heads in turn)."""
    if kv_heads == nhead:
        return value
    rep = nhead // kv_heads
    return g.call_method("repeat_interleave", value, rep, kwargs={"dim": 1}, name=name, **options)


def attend(
    g: Graph, q: Value, k: Value, v: Value, nhead: int, kv_heads: int, mask: Value, comment: str
) -> Value:
    """Scaled dot-product attention over the shared key/value heads, merged back to [batch, seq,
    heads * head_dim]; `mask` is the boolean mask or the additive bias the scores take."""
    k = share_heads(
        g, k, nhead, kv_heads, "k", comment=f"{kv_heads} key/value heads, {nhead} query heads"
    )
    v = share_heads(g, v, nhead, kv_heads, "v")
    return g.call_function(
        "scaled_dot_product_attention",
        q,
        k,
        v,
        kwargs={"attn_mask": mask},
        name="y",
        comment=comment,
    )


def merge_heads(g: Graph, y: Value, batch: Value, seq: Value) -> Value:
    """[batch, heads, seq, head_dim] -> [batch, seq, heads * head_dim]."""
    y = g.call_method("transpose", y, 1, 2, inline=True)
    return g.call_method("reshape", y, batch, seq, -1, name="y")
