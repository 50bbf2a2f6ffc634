"""Differential attention (arXiv 2410.05258; DiffLlama): two softmax maps whose difference, weighed
by a learned lambda, attends, so noise common to both cancels.

As Hugging Face's DiffLlama arranges the heads: every query head attends over values that pair
key/value head m with head m + kv_heads / 2 side by side (2 * head_dim wide); head p's output minus
lambda times head p + heads / 2's is normalised (RMS over 2 * head_dim, no weight: the "group
norm") and scaled by 1 - lambda_init, where

    lambda = exp(sum(lambda_q1 * lambda_k1)) - exp(sum(lambda_q2 * lambda_k2)) + lambda_init
    lambda_init = 0.8 - 0.6 * exp(-0.3 * layer index)          (the paper's schedule)

Recognised as an attention (attention.py: projections, heads, rotary from config.json) that also
holds four vectors of head_dim named lambda_q1, lambda_k1, lambda_q2, lambda_k2. The layer index
comes with the call: the decoder passes each layer its position.
"""

from __future__ import annotations

import dataclasses
import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import EPS_SYNONYMS, BlockContext, Example, Match, tensors
from codegen.patterns.blocks import _attention_parts as parts
from codegen.patterns.blocks.attention import SYNONYMS, Attention

LAMBDAS = ("q1", "k1", "q2", "k2")
LAMBDA_NAME = r"lambda_?([qk][12])"


def _lambdas(cls) -> dict[str, str] | None:
    """{"q1": attribute, ...} for the four lambda vectors, None unless exactly those."""
    found = {}
    for t in tensors(cls):
        m = re.fullmatch(LAMBDA_NAME, t.attr, re.I)
        if m is None or len(t.shape) != 1:
            return None
        found[m.group(1).lower()] = t.attr
    return found if sorted(found) == sorted(LAMBDAS) else None


class DifferentialAttention(Attention):
    role = "Attention"
    priority = 12
    synonyms = {**SYNONYMS, **EPS_SYNONYMS}

    def match(self, cls, ctx: BlockContext) -> Match | None:
        lambdas = _lambdas(cls)
        if lambdas is None:
            return None
        plain = dataclasses.replace(
            cls, members=[m for m in cls.members if m.attr not in lambdas.values()]
        )
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        if not parts.supported(found.found) or found.found.qk_norm is not None:
            return None  # the one arrangement met so far: no q/k norms either
        nhead, kv_heads = found.found.nhead, found.found.kv_heads
        if kv_heads % 2 or nhead % 2:
            return None
        eps = ctx.choose(
            cls,
            found.found.projections[0],
            "eps",
            1e-6,
            [1e-5],
            "the group norm's (RMS, no weight)",
            accepts="unit_float",
        )
        kept = (found.found, [lambdas[n] for n in LAMBDAS], eps.value)
        return Match(
            self,
            found.explains + 4,
            kept,
            found.choices + [eps],
            guessed=found.guessed,
            pins=found.pins,
        )

    def forward(self, match: Match, g: Graph) -> None:
        found, lambdas, eps = match.found
        out, nhead, kv_heads = found.out, found.nhead, found.kv_heads
        x = g.input("x")
        # [batch, 1, 1, seq] from padding_mask(), or None; then the layer's index in the stack
        mask = g.input("mask", annotation="torch.Tensor | None")
        index = g.input("index", "int")
        batch, seq, mask = parts.causal_mask(g, x, mask)
        q, k, v = parts.heads(g, x, batch, seq, found)
        first = g.call_method("chunk", v, 2, kwargs={"dim": 1}, name="halves")
        second = g.call_function("getitem", first, 1, inline=True)
        first = g.call_function("getitem", first, 0, inline=True)
        v = g.call_function(
            "cat",
            [first, second],
            kwargs={"dim": -1},
            name="v",
            comment="kv head m beside m + kv/2: [batch, kv / 2, seq, 2 * head_dim]",
        )
        v = g.call_function("cat", [v, v], kwargs={"dim": 1}, name="v", comment="twice: kv heads")
        comment = f"{nhead} heads, causal: [batch, heads, seq, 2 * head_dim]"
        y = parts.attend(g, q, k, v, nhead, kv_heads, mask, comment)
        params = [g.getattr((name,)) for name in lambdas]
        y = g.call_function(
            "differential_heads",
            y,
            *params,
            index,
            eps,
            name="y",
            comment="[batch, heads / 2, seq, 2 * head_dim]",
        )
        y = parts.merge_heads(g, y, batch, seq)
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Diff(nn.Module):  # the paper's formula, heads arranged as Hugging Face's DiffLlama
        def __init__(self, d: int = 16, heads: int = 4, kv: int = 2, layer: int = 0) -> None:
            super().__init__()
            self.heads, self.kv, self.hd = heads, kv, d // heads
            self.q_proj = nn.Linear(d, d, bias=False)
            self.k_proj = nn.Linear(d, kv * self.hd, bias=False)
            self.v_proj = nn.Linear(d, kv * self.hd, bias=False)
            self.o_proj = nn.Linear(d, d, bias=False)
            for n in LAMBDAS:
                setattr(self, f"lambda_{n}", nn.Parameter(torch.randn(self.hd) * 0.3))
            self.init = 0.8 - 0.6 * math.exp(-0.3 * layer)

        def rotate(self, t):  # rotary, halves layout, base 10000 over the whole head
            half = self.hd // 2
            freq = 10000.0 ** (-torch.arange(half).float() / half)
            angle = torch.arange(t.size(2)).float()[:, None] * freq[None, :]
            angle = torch.cat([angle, angle], -1)
            turned = torch.cat([-t[..., half:], t[..., :half]], -1)
            return t * angle.cos() + turned * angle.sin()

        def forward(self, x):
            b, s, _ = x.shape
            q = self.rotate(self.q_proj(x).view(b, s, -1, self.hd).transpose(1, 2))
            k = self.rotate(self.k_proj(x).view(b, s, -1, self.hd).transpose(1, 2))
            v = self.v_proj(x).view(b, s, -1, self.hd).transpose(1, 2)
            v1, v2 = (t.repeat(1, 2, 1, 1) for t in v.chunk(2, dim=1))
            k = k.repeat_interleave(self.heads // self.kv, 1)
            v1 = v1.repeat_interleave(self.heads // self.kv, 1)
            v2 = v2.repeat_interleave(self.heads // self.kv, 1)
            y = torch.cat(
                [F.scaled_dot_product_attention(q, k, t, is_causal=True) for t in (v1, v2)], -1
            )
            y1, y2 = y.chunk(2, dim=1)
            lam = torch.exp((self.lambda_q1 * self.lambda_k1).sum())
            lam = lam - torch.exp((self.lambda_q2 * self.lambda_k2).sum()) + self.init
            y = F.rms_norm(y1 - lam * y2, [2 * self.hd], eps=1e-6) * (1 - self.init)
            return self.o_proj(y.transpose(1, 2).reshape(b, s, -1))

    class Layers(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = nn.Embedding(50, 16)
            self.layers = nn.ModuleList(_Block(Diff(layer=i)) for i in range(2))
            self.norm = nn.RMSNorm(16, eps=1e-6)

        def forward(self, ids):
            x = self.embed_tokens(ids)
            for layer in self.layers:
                x = layer(x)
            return self.norm(x)

    class _Block(nn.Module):
        def __init__(self, attn) -> None:
            super().__init__()
            self.input_layernorm = nn.RMSNorm(16, eps=1e-6)
            self.self_attn = attn
            self.post_attention_layernorm = nn.RMSNorm(16, eps=1e-6)
            self.mlp = _MLP()

        def forward(self, x):
            x = x + self.self_attn(self.input_layernorm(x))
            return x + self.mlp(self.post_attention_layernorm(x))

    class _MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate_proj = nn.Linear(16, 24, bias=False)
            self.up_proj = nn.Linear(16, 24, bias=False)
            self.down_proj = nn.Linear(24, 16, bias=False)

        def forward(self, x):
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    torch.manual_seed(0)
    config = {
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-6,
        "hidden_act": "silu",
        "rope_theta": 10000.0,
        "architectures": ["TinyDiffForCausalLM"],
    }
    return Example(Layers(), (torch.randint(0, 50, (2, 7)),), config)
