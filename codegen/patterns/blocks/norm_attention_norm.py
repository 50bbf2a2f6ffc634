"""A pre-norm decoder layer split in two classes (DBRX's `norm_attn_norm` beside its `ffn`):

    NormAttentionNorm:  r = x + attn(norm_1(x));  returns (r, norm_2(r))
    SplitResidualBlock: r, h = norm_attn_norm(x);  returns r + ffn(h)

The same computation as a pre-norm Block (transformer_block.py), with the second norm held by
the attention's class: recognised from the members (two norms, an attention; then that class
beside a feed-forward or a mixture of experts), whatever their names. The attention's extra
inputs (its padding mask, its layer's window) pass through both classes in their order.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    apply_norm,
    family,
    modules,
    norm_scale,
    one_named,
    tensors,
)
from codegen.patterns.blocks.transformer_block import FEED_FORWARD_ROLES, FIRST_NORM, SECOND_NORM

PAIR = "tuple[torch.Tensor, torch.Tensor]"


def _extra_inputs(ctx: BlockContext, m) -> list[tuple[str, str, bool]] | None:
    """A member's forward arguments after x: (name, annotation, optional); None without a graph."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    graph = cls.forward.graph if cls is not None and cls.forward is not None else None
    if graph is None or not graph.inputs or graph.inputs[0].target != "x":
        return None
    return [(n.target, n.annotation, n.optional) for n in graph.inputs[1:]]


def _inputs(g: Graph, extra) -> tuple:
    return tuple(
        g.input(name, annotation.removesuffix(" | None"), optional)
        for name, annotation, optional in extra
    )


class NormAttentionNorm(BlockPattern):
    role = "NormAttentionNorm"
    priority = 10

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        attn = [m for m in members if ctx.role(m) == "Attention"]
        norms = [m for m in members if family(m) == "norm"]
        if len(attn) != 1 or len(norms) != 2:
            return None
        first, second = one_named(norms, FIRST_NORM), one_named(norms, SECOND_NORM)
        if first is None or second is None or first is second:
            first, second = sorted(norms, key=lambda m: m.attr)  # norm_1 / norm_2, numbered
            if not (first.attr[-1:].isdigit() and second.attr[-1:].isdigit()):
                return None
        extra = _extra_inputs(ctx, attn[0])
        if extra is None or ctx.takes(attn[0], "memory"):
            return None
        scale, offset = norm_scale(ctx, cls, first)
        found = (attn[0].attr, first.attr, second.attr, extra, offset)
        return Match(self, 3, found, scale)

    def forward(self, match: Match, g: Graph) -> None:
        attn, first, second, extra, offset = match.found
        x = g.input("x")
        passed = _inputs(g, extra)
        h = apply_norm(g, (first,), x, offset, inline=True)
        r = g.call_function("add", x, g.call_module((attn,), h, *passed, inline=True), name="x")
        g.returns = PAIR
        normed = apply_norm(g, (second,), r, offset, inline=True)
        g.output((r, normed), comment="the residual stream, and it normed for the feed-forward")

    @staticmethod
    def examples():
        return [_example()]


class SplitResidualBlock(BlockPattern):
    role = "Block"
    priority = 10

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        front = [m for m in members if ctx.role(m) == "NormAttentionNorm"]
        feed = [m for m in members if ctx.role(m) in FEED_FORWARD_ROLES]
        if len(front) != 1 or len(feed) != 1:
            return None
        extra = _extra_inputs(ctx, front[0])
        if extra is None:
            return None
        return Match(self, 2, (front[0].attr, feed[0].attr, extra))

    def forward(self, match: Match, g: Graph) -> None:
        front, feed, extra = match.found
        x = g.input("x")
        pair = g.call_module((front,), x, *_inputs(g, extra), name="pair")
        r = g.call_function("getitem", pair, 0, inline=True)
        h = g.call_function("getitem", pair, 1, inline=True)
        g.output(g.call_function("add", r, g.call_module((feed,), h, inline=True)))

    @staticmethod
    def examples():
        return [_example()]


def _example():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.Wqkv = nn.Linear(16, 48, bias=False)
            self.out_proj = nn.Linear(16, 16, bias=False)

        def forward(self, x):
            b, s, _ = x.shape
            q, k, v = self.Wqkv(x).view(b, s, 3, 4, 4).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.out_proj(y.transpose(1, 2).reshape(b, s, 16))

    class NormAttnNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm_1 = nn.LayerNorm(16, bias=False)
            self.attn = Attention()
            self.norm_2 = nn.LayerNorm(16, bias=False)

        def forward(self, x):
            r = x + self.attn(self.norm_1(x))
            return r, self.norm_2(r)

    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(16, 32), nn.Linear(32, 16)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm_attn_norm = NormAttnNorm()
            self.ffn = Mlp()

        def forward(self, x):
            r, h = self.norm_attn_norm(x)
            return r + self.ffn(h)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(Block() for _ in range(2))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    config = {
        "architectures": ["DemoForCausalLM"],
        "num_attention_heads": 4,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-5,
    }
    return Example(Holder(), (torch.randn(2, 5, 16),), config)
