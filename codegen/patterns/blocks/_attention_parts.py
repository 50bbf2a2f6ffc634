"""The steps attention variants share with attention.py's pattern, for the variants that build
their own forward (differential_attention.py, dynamic_mask_attention.py): the causal mask, the
heads of separate q/k/v projections (each head's queries and keys normed where the attention
holds q/k norms) and the rotary turn."""

from __future__ import annotations

from codegen.ir.graph import Graph, Value
from codegen.patterns._kit import apply_norm
from codegen.patterns.blocks.attention import AttentionPlan


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
