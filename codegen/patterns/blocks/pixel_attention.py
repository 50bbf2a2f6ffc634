"""Attention among the pixels of a feature map from one fused, bias-free 1x1-conv projection
`to_qkv` and a 1x1-conv `to_out` (lucidrains' U-Nets: LinearAttention and Attention):

    qkv = to_qkv(x)                       # [batch, 3 * heads * head_dim, height, width]
    return to_out(pixel_attention(qkv, heads, kind))

The kind: `to_out` ending in a norm is lucidrains' LinearAttention (its Attention's `to_out` is a
bare conv), queries softmaxed over their features and scaled, keys over the pixels; a bare conv
is its softmax Attention, or the 2020 LinearAttention that softmaxes the keys only. The head
count: the keys give only heads * head_dim, so it is a choice (lucidrains' dim_head 32 by
default), and the class says guessed until calibration or a hint settles it and, for a bare
`to_out`, the kind.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks.spatial_attention import _pointwise_conv as _pointwise

KINDS = ["linear", "softmax", "linear_keys"]
HEAD_DIM = 32  # denoising-diffusion-pytorch's dim_head default


def _bias(m) -> bool:
    return not any(a.keyword == "bias" and a.value is False for a in m.args)


class PixelAttention(BlockPattern):
    role = "Attention"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        qkv, out = one_named(members, r"to_qkv"), one_named(members, r"to_out")
        if tensors(cls) or len(members) != 2 or None in (qkv, out):
            return None
        if not _pointwise(qkv) or _bias(qkv) or qkv.io.out_width % 3:
            return None
        out_path, normed = (out.attr,), False
        if out.kind == "sequential":
            items = [c for c in out.children if c.kind != "placeholder"]
            if len(items) != 2 or ctx.role(items[1]) not in ("RMSNorm", "norm"):
                return None
            out_path, normed, out = (out.attr,), True, items[0]
        if not _pointwise(out) or out.io.in_width * 3 != qkv.io.out_width:
            return None
        if out.io.out_width != qkv.io.in_width:
            return None
        inner = out.io.in_width
        default = "linear" if normed else "softmax"
        kind = ctx.choose(
            cls, "to_qkv", "attention_kind", default, [k for k in KINDS if k != default]
        )
        heads_default = inner // HEAD_DIM if inner % HEAD_DIM == 0 else 1
        divisors = [d for d in range(1, inner + 1) if inner % d == 0]
        heads = ctx.choose(
            cls, "to_qkv", "num_heads", heads_default, divisors, f"of {inner} channels"
        )
        if not isinstance(heads.value, int) or inner % heads.value:
            return None
        unsure = [c.name for c in (heads,) + (() if normed else (kind,)) if c.source == "default"]
        guessed = f"{' and '.join(unsure)}: no key records it" if unsure else ""
        return Match(self, 2, (qkv.attr, out_path), [kind, heads], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        qkv_attr, out_path = match.found
        kind, heads = (c.value for c in match.choices)
        x = g.input("x")
        qkv = g.call_module((qkv_attr,), x, name="qkv", inline=True)
        out = g.call_function("pixel_attention", qkv, heads, kind, name="out")
        g.output(g.call_module(out_path, out))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._lucid_examples import modules

        z = modules()
        return [
            Example(z["attention"](8, 2, 32, True), z["image"](8, 4)),
            Example(z["attention"](8, 1, 16, False), z["image"](8, 4)),
        ]
