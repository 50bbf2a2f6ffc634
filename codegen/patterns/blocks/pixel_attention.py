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
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Example, Match, modules
from codegen.patterns._kit import biased, one_named, tensors
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin
from codegen.patterns.blocks.spatial_attention import _pointwise_conv as _pointwise

KINDS = ["linear", "softmax", "linear_keys"]
HEAD_DIM = 32  # denoising-diffusion-pytorch's dim_head default


SIZE_WHY = "an attention among a map's pixels keeps the map's size"
NORM_WHY = "the annotated DDPM's LinearAttention: to_out = Sequential(conv, GroupNorm(1, dim))"


def _normed_out_pins(out, norm) -> list:
    """`to_out` ending in a built-in norm with a scale and a shift: GroupNorm(1, dim), the
    annotated DDPM's (lucidrains' own LayerNorm holds a `g` instead), and nothing after it (a
    slot the Sequential's layout offers past the norm is empty)."""
    if norm.kind != "builtin":
        return []
    pins = []
    kind = next((c for c in norm.choices if c.name == "module_type"), None)
    if kind is not None and kind.source == "default" and kind.value != "nn.GroupNorm":
        pins.append((kind.path, "module_type", "nn.GroupNorm", NORM_WHY))
    groups = next((a.choice for a in norm.args if a.choice and a.choice.name == "num_groups"), None)
    if groups is not None and groups.source in ("default", "structure") and groups.value != 1:
        pins.append((groups.path, "num_groups", 1, NORM_WHY))
    after = [c for c in out.children if c.kind == "placeholder" and int(c.attr) > int(norm.attr)]
    pins += [slot_pin(c, "nn.Identity()", NORM_WHY) for c in after]
    return [p for p in pins if p]


class PixelAttention(BlockPattern):
    role = "Attention"
    priority = 5

    accepts = Accepts(2, 2, tensors=False, names=("to_qkv", "to_out"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        qkv, out = one_named(members, r"to_qkv"), one_named(members, r"to_out")
        if tensors(cls) or len(members) != 2 or None in (qkv, out):
            return None
        if not _pointwise(qkv) or biased(qkv) or qkv.io.out_width % 3:
            return None
        out_path, normed, pins = (out.attr,), False, []
        if out.kind == "sequential":
            items = [c for c in out.children if c.kind != "placeholder"]
            if len(items) != 2 or ctx.role(items[1]) not in ("RMSNorm", "norm"):
                return None
            pins = _normed_out_pins(out, items[1])
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
        if pins:
            guessed = ", ".join(filter(None, (guessed, "the output norm's groups (a convention)")))
        # the attention gives a map of its input's size (its holder adds the two): 1x1 convs
        # with stride 1 and no padding
        for conv in (qkv, out):
            pins += [arg_pin(conv, "stride", 1, SIZE_WHY), arg_pin(conv, "padding", 0, SIZE_WHY)]
        pins = [p for p in pins if p]
        return Match(self, 2, (qkv.attr, out_path), [kind, heads], guessed=guessed, pins=pins)

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
