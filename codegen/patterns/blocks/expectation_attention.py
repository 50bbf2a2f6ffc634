"""YOSO's attention in expectation (arXiv 2111.09714): the weight of key j for query i is the
probability that `hash_code_len` random hyperplanes put both on the same side, computed exactly
rather than sampled; the heads' outputs are L2-normalised, and a per-head conv of the values (the
padding zeroed) is added where there is one.

    q, k = q / |q|, k / |k|
    y = normalize(((1 - acos(q k^T) / pi) ** hash_code_len) v) + conv(v * padding mask)

The weights are not normalised by a softmax, and padding keys are not masked out: the library
turns its mask into ones before it reaches them (`int(1 + mask / 10000)`), which this file
follows.

Recognised as an attention (attention.py: separate q/k/v projections, bidirectional, nothing else)
with at most one Conv2d of one channel per head, where config.json says `use_expectation` and
gives `hash_code_len`. The sampled form (use_expectation false) draws new hyperplanes at every call:
not reproducible, so the forward names it as missing.
"""

from __future__ import annotations

import dataclasses

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, Example, Match, family, modules
from codegen.patterns.blocks import _attention_parts as parts
from codegen.patterns.blocks.attention import SYNONYMS, Attention
from codegen.patterns.blocks.selective_scan import conv_pins

SAMPLED = (
    "YOSO's sampled attention (use_expectation false): random hyperplanes drawn at every call, "
    "which no file can reproduce"
)


class ExpectationAttention(Attention):
    role = "Attention"
    priority = 11
    synonyms = {**SYNONYMS}

    def match(self, cls, ctx: BlockContext) -> Match | None:
        bits = ctx.resolver.metadata.get("hash_code_len")
        if bits is None or type(bits[1]) is not int or bits[1] <= 0:
            return None
        convs = [m for m in modules(cls) if family(m) == "conv"]
        if len(convs) > 1 or (convs and convs[0].io is None):
            return None
        conv = convs[0] if convs else None
        plain = dataclasses.replace(cls, members=[m for m in cls.members if m is not conv])
        found = super().match(plain, ctx)
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
            pins = conv_pins(conv, {"depthwise": True}, "the values' conv acts on each head alone")
            ctx.resolver.evidence("conv_window")  # the conv's weight shows it
        elif ctx.resolver.metadata.get("conv_window") is None:
            ctx.resolver.consumed.add("conv_window")  # null: no conv, as the weights show
        explains = found.explains + (conv is not None)
        bits = ctx.resolver.evidence("hash_code_len")
        expected = ctx.resolver.evidence("use_expectation")
        if expected is None or expected[1] is not True:
            return Match(self, explains, None, found.choices, missing=SAMPLED)
        # only the sampled form reads these
        ctx.resolver.consumed.update(("num_hash", "use_fast_hash", "lsh_backward"))
        kept = (p, conv.attr if conv is not None else None, bits[1])
        return Match(self, explains, kept, found.choices, guessed=found.guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        plan, conv, bits = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq] from padding_mask(), or None
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        q, k, v = parts.heads(g, x, batch, seq, plan)
        y = g.call_function(
            "expectation_attention",
            q,
            k,
            v,
            bits,
            name="y",
            comment=f"{plan.nhead} heads, the chance {bits} hyperplanes agree (padding included)",
        )
        if conv is not None:
            kept = g.call_function("zero_padding_heads", v, mask, inline=True)
            skip = g.call_module((conv,), kept, inline=True)
            comment = "the values' conv along the sequence, padding zeroed"
            y = g.call_function("add", y, skip, name="y", comment=comment)
        y = parts.merge_heads(g, y, batch, seq)
        g.output(g.call_module((plan.out,), y) if plan.out is not None else y)

    @staticmethod
    def examples():
        return [_example(project=True, conv=True), _example(project=True, conv=False)]


class ExpectationSelfAttention(ExpectationAttention):
    """The same without the output projection (YOSO's `self`)."""

    role = "SelfAttention"
    projects = False

    @staticmethod
    def examples():
        return [_example(project=False, conv=True)]


def _example(project: bool, conv: bool) -> Example:
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Yoso(nn.Module):  # the paper's expected attention, as its authors' code computes it
        def __init__(self, d: int = 16, heads: int = 2, bits: int = 5) -> None:
            super().__init__()
            self.heads, self.bits = heads, bits
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.conv = (
                nn.Conv2d(heads, heads, (3, 1), padding=(1, 0), groups=heads, bias=False)
                if conv
                else None
            )
            self.dense = nn.Linear(d, d) if project else None

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, self.heads, -1).transpose(1, 2)
                for p in (self.query, self.key, self.value)
            )
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
            weights = (1 - torch.acos(q @ k.transpose(-1, -2)) / math.pi) ** self.bits
            y = F.normalize(weights @ v, dim=-1)
            if self.conv is not None:
                y = y + self.conv(v * mask.transpose(-1, -2))
            y = y.transpose(1, 2).reshape(b, t, -1)
            return self.dense(y) if self.dense is not None else y

    torch.manual_seed(0)
    mask = torch.ones(2, 1, 1, 9, dtype=torch.bool)
    mask[1, ..., 6:] = False
    config = {"num_attention_heads": 2, "hash_code_len": 5, "use_expectation": True}
    return Example(Yoso(), (torch.randn(2, 9, 16), mask), config)
