"""Sliding-window ("banded") attention with global-token projections beside it (Longformer, LED's
encoder): each token attends to the keys at most `window // 2` positions either side of it, real
tokens only, and a padding token's output is zero.

    allowed[i, j] = |i - j| <= window // 2 and j is not padding
    y = attention(q, k, v, allowed), then 0 where the query is padding

Recognised as an attention (attention.py: separate q/k/v projections, bidirectional, nothing else)
that also holds a second set of query/key/value projections named as global ones
(`query_global`...). The window is config.json's `attention_window` (a number, or one per layer);
without it the forward names the gap. The library computes the band chunk by chunk; this file
computes the same scores densely (one [seq, seq] mask), which is the same result.

The global projections serve only tokens a caller marks global (Longformer's
`global_attention_mask`): this forward takes no such mask, which is the library's output without
one; the file says the global projections are unused (trust guessed), as a classification head
that marks its first token global would differ.
"""

from __future__ import annotations

import dataclasses
import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, family, modules
from codegen.patterns.blocks import _attention_parts as parts
from codegen.patterns.blocks.attention import SYNONYMS, Attention

# Projections of the tokens marked global: query_global, global_key, k_global...
GLOBAL = r"(query|key|value|q|k|v)_?global|global_?(query|key|value|q|k|v)(_proj)?"
WINDOW_KEYS = ("attention_window",)


def _window(ctx: BlockContext, cls, where: str):
    """(one-sided window, choices) from config.json or a hint, or (a reason it is missing, [])."""
    said = ctx.resolver.evidence(*WINDOW_KEYS)
    value = said[1] if said else None
    if isinstance(value, list):
        if not value or len(set(value)) != 1:
            return f"layers with different attention windows ({said[0]} {value})", []
        value = value[0]
    default = value if type(value) is int and value > 0 and value % 2 == 0 else None
    c = ctx.choose(
        cls,
        where,
        "attention_window",
        default,
        [],
        "keys within window // 2 positions either side of each query",
        accepts="positive_int",
    )
    if c.source == "default" and default is not None:
        c.source, c.note = "metadata", f"{said[0]} {said[1]}"
    if c.value is None:
        why = (
            "a sliding-window attention whose window the checkpoint does not record "
            "(give config.json, or --hints attention_window = N)"
        )
        return why, [c]
    if c.value <= 0 or c.value % 2:
        return f"an odd or empty attention window ({c.value})", [c]
    return c.value // 2, [c]


class BandedAttention(Attention):
    role = "Attention"
    priority = 11
    synonyms = {**SYNONYMS, "attention_window": WINDOW_KEYS}
    accepts = Accepts(names=(GLOBAL,), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        extra = [m for m in members if re.fullmatch(GLOBAL, m.attr, re.IGNORECASE)]
        if len(extra) != 3 or not all(family(m) == "linear" for m in extra):
            return None
        plain = dataclasses.replace(cls, members=[m for m in cls.members if m not in extra])
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        p = found.found
        if len(p.projections) != 3 or p.causal or p.alibi or p.rotary or p.norm or p.split:
            return None  # a banded encoder's attention is plain otherwise: nothing else met yet
        if p.scale or p.qk_norm or p.cap or p.sub_norm or p.free_qk or p.sinks or p.clip:
            return None
        if p.nhead != p.kv_heads:
            return None
        half, choices = _window(ctx, cls, p.projections[0])
        explains = found.explains + len(extra)
        if isinstance(half, str):
            return Match(self, explains, None, found.choices + choices, missing=half)
        unused = ", ".join(m.attr for m in extra)
        guessed = (
            f"{unused} (the attention of tokens marked global) are unused: this forward takes no "
            "global attention mask, as the library computes without one"
        )
        if found.guessed:
            guessed = f"{found.guessed}; {guessed}"
        return Match(self, explains, (p, half), found.choices + choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        plan, half = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq] from padding_mask(), or None
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        q, k, v = parts.heads(g, x, batch, seq, plan)
        device = g.call_method("device", x, inline=True)
        allowed = g.call_function(
            "band_mask",
            mask,
            seq,
            half,
            device,
            name="allowed",
            comment=f"keys at most {half} positions either side",
        )
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": allowed},
            name="y",
            comment=f"{plan.nhead} heads, a sliding window of {2 * half + 1}",
        )
        y = parts.merge_heads(g, y, batch, seq)
        y = g.call_function(
            "zero_padding_queries", y, mask, name="y", comment="padding tokens attend to nothing"
        )
        g.output(g.call_module((plan.out,), y) if plan.out is not None else y)

    @staticmethod
    def examples():
        return [_example(project=True)]


class BandedSelfAttention(BandedAttention):
    """The same without the output projection (Longformer's `self`, LED's `longformer_self_attn`):
    its projection sits in a sibling."""

    role = "SelfAttention"
    projects = False

    @staticmethod
    def examples():
        return [_example(project=False)]


def _example(project: bool) -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Banded(nn.Module):  # Longformer's local attention, written densely
        def __init__(self, d: int = 16, heads: int = 2, window: int = 4) -> None:
            super().__init__()
            self.heads, self.half = heads, window // 2
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.query_global, self.key_global = nn.Linear(d, d), nn.Linear(d, d)
            self.value_global = nn.Linear(d, d)
            self.dense = nn.Linear(d, d) if project else None

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, self.heads, -1).transpose(1, 2)
                for p in (self.query, self.key, self.value)
            )
            i = torch.arange(t)
            allowed = ((i[:, None] - i[None, :]).abs() <= self.half)[None, None] & mask
            scores = (q @ k.transpose(-1, -2)) / q.size(-1) ** 0.5
            scores = scores.masked_fill(~allowed, torch.finfo(x.dtype).min)
            y = F.softmax(scores, dim=-1) @ v
            y = y.transpose(1, 2).reshape(b, t, -1) * mask[:, 0, 0, :, None]
            return self.dense(y) if self.dense is not None else y

    torch.manual_seed(0)
    mask = torch.ones(2, 1, 1, 9, dtype=torch.bool)
    mask[1, ..., 6:] = False
    config = {"num_attention_heads": 2, "attention_window": [4, 4]}
    return Example(Banded(), (torch.randn(2, 9, 16), mask), config)
