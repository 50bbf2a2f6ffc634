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

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, Example, Match
from codegen.patterns.blocks import _attention_parts as parts
from codegen.patterns.blocks.attention import SYNONYMS, Attention

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
        plain = lambda c: Attention.match(self, c, ctx)  # noqa: E731
        start = parts.with_head_conv(plain, cls, ctx, "conv_window")
        if not isinstance(start, parts.HeadConvAttention):
            return start
        found, conv, pins = start
        p = found.found
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
