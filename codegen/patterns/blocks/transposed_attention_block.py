"""A pre-norm transformer block over a feature map whose mixer is attention across the channels
(blocks/transposed_attention.py) and whose feed-forward is the gated depthwise one
(blocks/gated_dconv_ffn.py): Restormer's `TransformerBlock` (swz30/Restormer; PromptIR's, and the
restoration nets built on it):

    x = x + attn(norm1(x))
    x = x + ffn(norm2(x))

Each norm is a LayerNorm over the channels of each pixel (Restormer's `to_3d`, LayerNorm, `to_4d`),
a LayerNorm of its own or a class holding one (`norm1.body`: Restormer's `LayerNorm` wrapper,
whose own forward no key shows: the block calls its LayerNorm, the wrapper's reading unused). The
first norm by name order feeds the attention. A weight-only norm (Restormer's 'BiasFree': no mean
subtracted, which no torch.nn norm computes) is not read here.
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
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin
from codegen.patterns._kit import name_order

WHY = "Restormer's LayerNorm over each pixel's channels (eps 1e-5)"


def _channel_norm(m, ctx: BlockContext) -> tuple | None:
    """(the path of the LayerNorm to call, the module) for a norm member with weight and bias, or
    a class holding only one; None otherwise."""
    path, norm = (m.attr,), m
    if m.kind == "class":
        inner = ctx.classes.get(m.type_name)
        held = modules(inner) if inner is not None else []
        if inner is None or tensors(inner) or len(held) != 1:
            return None
        path, norm = (m.attr, held[0].attr), held[0]
    if norm.kind != "builtin" or family(norm) != "norm" or norm.io is None:
        return None
    guessed = any(c.name == "module_type" for c in norm.choices)  # a LayerNorm's keys, or not
    if norm.type_name != "nn.LayerNorm" and not guessed:
        return None
    if any(a.keyword in ("bias", "elementwise_affine") and a.value is False for a in norm.args):
        return None  # weight only: a bias-free norm, not a LayerNorm's computation
    return path, norm


class TransposedAttentionBlock(BlockPattern):
    role = "TransposedAttentionBlock"
    priority = 8

    accepts = Accepts(4, 4, tensors=False, roles=("TransposedAttention", "GatedDconvFeedForward"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4:
            return None
        attn = [m for m in members if ctx.role(m) == "TransposedAttention"]
        ffn = [m for m in members if ctx.role(m) == "GatedDconvFeedForward"]
        rest = sorted(
            (m for m in members if m not in attn + ffn), key=lambda m: name_order(m.attr)
        )
        if len(attn) != 1 or len(ffn) != 1 or len(rest) != 2:
            return None
        norms = [_channel_norm(m, ctx) for m in rest]
        if None in norms:
            return None
        widths = {n[1].io.in_width for n in norms} | {attn[0].io.in_width, ffn[0].io.in_width}
        if len(widths) != 1:
            return None
        pins = []
        for _, norm in norms:
            pins += [slot_pin(norm, "nn.LayerNorm", WHY), arg_pin(norm, "eps", 1e-5, WHY)]
        found = (norms[0][0], attn[0].attr, norms[1][0], ffn[0].attr)
        return Match(self, len(members) + 2, found, [], pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        norm1, attn, norm2, ffn = match.found
        x = g.input("x")

        def channel_norm(path, x):
            x = g.call_method("permute", x, 0, 2, 3, 1, inline=True)
            x = g.call_module(path, x, inline=True)
            return g.call_method("permute", x, 0, 3, 1, 2, name="h", comment="over the channels")

        h = g.call_module((attn,), channel_norm(norm1, x), inline=True)
        x = g.call_function("add", x, h, name="x")
        h = g.call_module((ffn,), channel_norm(norm2, x), inline=True)
        g.output(g.call_function("add", x, h))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.blocks.gated_dconv_ffn import GatedDconvFeedForward
        from codegen.patterns.blocks.transposed_attention import TransposedAttention

        class WrappedNorm(nn.Module):  # Restormer's LayerNorm: to_3d, body, to_4d
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.body = nn.LayerNorm(dim)

            def forward(self, x):
                return self.body(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

        class Block(nn.Module):  # other names: a wrapped LayerNorm, then a bare one
            def __init__(self) -> None:
                super().__init__()
                self.ln1 = WrappedNorm(8)
                self.mix = TransposedAttention.examples()[0].module.mixer
                self.ln2 = nn.LayerNorm(8)
                self.ffn = GatedDconvFeedForward.examples()[0].module.ffn

            def forward(self, x):
                x = x + self.mix(self.ln1(x))
                h = F.layer_norm(x.permute(0, 2, 3, 1), (8,), self.ln2.weight, self.ln2.bias)
                return x + self.ffn(h.permute(0, 3, 1, 2))

        class Holder(nn.Module):  # a generated class is a member of the top one
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.Sequential(Block(), Block())

            def forward(self, x):
                return self.blocks(x)

        torch.manual_seed(0)
        holder = Holder()
        for p in holder.parameters():
            p.data.normal_(0, 0.3)
        return [Example(holder.eval(), (torch.randn(2, 8, 6, 5),))]
