"""Causal linear attention whose past decays at a fixed rate per head (MiniMax's "lightning"
attention, mixed with softmax-attention layers in one stack; moe10):

    q, k, v = act(qkv_proj(x)) per head                 [batch, heads, seq, head_dim] each
    y[t] = sum over s <= t of exp(-slope * (t - s)) * (q[t] . k[s]) * v[s]
    out_proj(sigmoid(output_gate(x)) * norm(y))         norm over all heads' features

The library computes the sum block by block (config.json's block_size): a state K^T V carried
from block to block and decayed, plus the exact sum inside the block. Both are the same sum; the
file writes it whole (helpers.py decayed_linear_attention), so block_size does not change it.

Recognised from the shapes: a fused projection d -> 3 * width, a gate d -> width, an output
projection width -> d, a norm over width, and a per-head decay rate `slope...` [heads, 1, 1]
(a buffer the checkpoint stores, with the decay tables derived from it, which are left unused).
Each head's slice of the fused projection holds its q, k and v side by side. The activation on
the projection is config.json's hidden_act; the norm's eps is the family's (MiniMax builds it
with its class default 1e-6, not rms_norm_eps) for the types its code was read for.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named, tensors

ROLE = "LinearAttention"
SLOPE = r"slope\w*|decay_rate\w*"
TABLES = r"\w*decay\w*"
GATE = r"\w*gate\w*"
# model_type -> the eps of the norm over the heads' output, read from the family's code
NORM_EPS_BY_TYPE = {"minimax": 1e-6}


class DecayedLinearAttention(BlockPattern):
    role = ROLE
    priority = 10
    accepts = Accepts(4, 4, tensors=True, families=("linear", "norm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        slopes = [t for t in params if re.fullmatch(SLOPE, t.attr, re.IGNORECASE)]
        if len(slopes) != 1 or len(members) != 4:
            return None
        slope = slopes[0]
        if len(slope.shape) != 3 or tuple(slope.shape[1:]) != (1, 1):
            return None
        if any(t is not slope and not re.fullmatch(TABLES, t.attr, re.IGNORECASE) for t in params):
            return None
        heads = slope.shape[0]  # an int, or a constructor parameter (then read at run time)
        linears = [m for m in members if family(m) == "linear"]
        norms = [m for m in members if family(m) == "norm"]
        if len(linears) != 3 or len(norms) != 1 or isinstance(heads, int) and heads < 1:
            return None
        widths = {m.attr: (m.io.in_width, m.io.out_width) for m in linears if m.io is not None}
        if len(widths) != 3:
            return None
        gate = one_named(linears, GATE)
        if gate is None:
            return None
        d, width = widths[gate.attr]
        qkv = [m for m in linears if widths[m.attr] == (d, 3 * width)]
        out = [m for m in linears if m is not gate and widths[m.attr] == (width, d)]
        norm = norms[0]
        if len(qkv) != 1 or len(out) != 1 or not isinstance(width, int):
            return None
        if isinstance(heads, int) and width % heads:
            return None
        if norm.io is None or norm.io.out_width != width:
            return None
        activation = ctx.choose(
            cls,
            qkv[0].attr,
            "activation",
            "silu",
            [a for a in act.TRANSFORMER if a != "silu"],
            "the activation on the fused q, k, v projection",
            aliases=act.ALIASES,
        )
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        eps = ctx.choose(
            cls,
            norm.attr,
            "output_norm_eps",
            NORM_EPS_BY_TYPE.get(mtype, 1e-6),
            [1e-5],
            "the eps of the norm over the heads' output",
            accepts="unit_float",
        )
        if mtype in NORM_EPS_BY_TYPE and eps.source == "default":
            eps.source, eps.note = "metadata", f"{model_type[0]} {mtype!r}"
        ctx.resolver.evidence("block_size")  # how the library cuts the same sum into blocks
        found = (qkv[0].attr, gate.attr, out[0].attr, norm.attr, slope.attr)
        found += (activation.value, float(eps.value))
        guessed = ""
        if mtype not in NORM_EPS_BY_TYPE:
            guessed = (
                "a decayed linear attention read as MiniMax's (q, k, v side by side per head, "
                f"the norm's eps); model_type {mtype!r} is not one its code was read for"
            )
        return Match(self, len(members) + len(params), found, [activation, eps], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        qkv, gate, out, norm, slope, activation, eps = match.found
        x = g.input("x")  # [batch, seq, d_model]
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq], False at padding
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        h = act.apply(g, activation, g.call_module((qkv,), x, inline=True), inline=True)
        h = g.call_function("zero_masked", h, mask, inline=True)
        count = g.call_method("size", g.getattr((slope,)), 0, inline=True)  # one rate a head
        h = g.call_method(
            "view", h, batch, seq, count, -1, name="qkv", comment="each head's q, k, v side by side"
        )
        parts = g.call_method("chunk", h, 3, kwargs={"dim": -1}, name="parts")
        q, k, v = (
            g.call_method(
                "transpose", g.call_function("getitem", parts, i, inline=True), 1, 2, name=n
            )
            for i, n in enumerate("qkv")
        )
        y = g.call_function(
            "decayed_linear_attention",
            q,
            k,
            v,
            g.getattr((slope,)),
            name="y",
            comment="each head's past decays at its own rate",
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, inline=True)
        width = g.call_method("size", y, -1, inline=True)
        y = g.call_function(
            "rms_norm",
            y,
            [width],
            g.getattr((norm, "weight")),
            kwargs={"eps": eps},
            name="y",
            comment="the norm over every head's output",
        )
        gated = g.call_function("sigmoid", g.call_module((gate,), x, inline=True), inline=True)
        g.output(g.call_module((out,), g.call_function("mul", gated, y, inline=True)))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Lightning(nn.Module):  # the blocked computation, as the library's, blocks of 3
        def __init__(self, d: int = 16, heads: int = 2, head_dim: int = 6) -> None:
            super().__init__()
            self.heads, self.block = heads, 3
            self.qkv_proj = nn.Linear(d, 3 * heads * head_dim, bias=False)
            self.output_gate = nn.Linear(d, heads * head_dim, bias=False)
            self.out_proj = nn.Linear(heads * head_dim, d, bias=False)
            self.norm = nn.RMSNorm(heads * head_dim, eps=1e-6)
            rate = (0.5 ** (torch.arange(heads) + 1.0)).view(heads, 1, 1)
            self.register_buffer("slope_rate", rate)
            steps = torch.arange(self.block) + 1
            self.register_buffer("query_decay", torch.exp(-rate * steps[:, None]))
            self.register_buffer("key_decay", torch.exp(-rate * (self.block - steps[:, None])))
            back = (steps[:, None] - steps[None, :]).float()
            diagonal = torch.where(back >= 0, torch.exp(-rate * back), torch.zeros(()))
            self.register_buffer("diagonal_decay", diagonal[None])

        def forward(self, x):
            b, s, _ = x.shape
            h = F.silu(self.qkv_proj(x)).view(b, s, self.heads, -1)
            q, k, v = (t.transpose(1, 2) for t in h.chunk(3, dim=-1))
            state = torch.zeros(b, self.heads, q.size(-1), v.size(-1))
            outs = []
            for start in range(0, s, self.block):
                n = min(self.block, s - start)
                qb, kb, vb = (t[:, :, start : start + n] for t in (q, k, v))
                intra = (qb @ kb.transpose(-1, -2) * self.diagonal_decay[:, :, :n, :n]) @ vb
                outs.append((qb * self.query_decay[:, :n]) @ state + intra)
                kv = (kb * self.key_decay[:, -n:]).transpose(-1, -2) @ vb
                state = state * torch.exp(-self.slope_rate * n) + kv
            y = torch.cat(outs, dim=-2).transpose(1, 2).reshape(b, s, -1)
            return self.out_proj(torch.sigmoid(self.output_gate(x)) * self.norm(y))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_layernorm = nn.RMSNorm(16)
            self.self_attn = Lightning()

        def forward(self, x):
            return x + self.self_attn(self.input_layernorm(x))

    torch.manual_seed(0)
    config = {"model_type": "minimax", "hidden_act": "silu", "rms_norm_eps": 1e-5}
    return Example(Layer(), (torch.randn(2, 7, 16),), config)
