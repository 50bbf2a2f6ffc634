"""Nyström attention (Nyströmformer, arXiv 2102.03902): softmax attention approximated through
`landmarks` segment means of the queries and keys, plus a depthwise convolution of the values
along the sequence as a skip.

    q~, k~ = means of q, k over `segment // landmarks` consecutive positions     [.., landmarks, d]
    y = softmax(q k~^T) pinv(softmax(q~ k~^T)) softmax(q~ k^T + mask) v + conv(v)
    (pinv: six steps of the iterative Moore-Penrose inverse, started as the library starts it)

Where config.json's `num_landmarks` equals its `segment_means_seq_len` the library computes plain
softmax attention instead (plus the same conv); this file does the same. Queries and keys are each
divided by head_dim ** 0.25.

Recognised as an attention (attention.py: separate q/k/v projections, bidirectional, nothing else)
that also holds one Conv2d of one input channel per head ([heads, 1, kernel, 1]: along the
sequence, per head), or none where config.json names landmarks (conv_kernel_size null). Both
numbers come from config.json; without them the forward names the gap.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, Example, Match, family, modules
from codegen.patterns.blocks import _attention_parts as parts
from codegen.patterns.blocks.attention import SYNONYMS, Attention

LANDMARKS = ("num_landmarks",)
SEGMENT = ("segment_means_seq_len",)
UNKNOWN = (
    "a landmark (Nyström) attention whose landmark count and segment length the checkpoint does "
    "not record (give config.json with num_landmarks and segment_means_seq_len)"
)


def _sizes(ctx: BlockContext) -> tuple[int, int] | None:
    said = [ctx.resolver.evidence(*keys) for keys in (LANDMARKS, SEGMENT)]
    if any(s is None or type(s[1]) is not int or s[1] <= 0 for s in said):
        return None
    landmarks, segment = said[0][1], said[1][1]
    return (landmarks, segment) if segment % landmarks == 0 else None


class LandmarkAttention(Attention):
    role = "Attention"
    priority = 11
    synonyms = {**SYNONYMS}

    def match(self, cls, ctx: BlockContext) -> Match | None:
        said = all(k in ctx.resolver.metadata for k in LANDMARKS + SEGMENT)
        if not said and not any(family(m) == "conv" for m in modules(cls)):
            return None  # the conv, or config.json's landmarks where it has none
        if not said and "hash_code_len" in ctx.resolver.metadata:
            return None  # a conv beside YOSO's attention (expectation_attention.py)
        plain = lambda c: Attention.match(self, c, ctx)  # noqa: E731
        start = parts.with_head_conv(plain, cls, ctx, "conv_kernel_size")
        if not isinstance(start, parts.HeadConvAttention):
            return start
        found, conv, pins = start
        p = found.found
        sizes = _sizes(ctx)
        explains = found.explains + (conv is not None)
        if sizes is None:
            return Match(self, explains, None, found.choices, missing=UNKNOWN)
        ctx.resolver.consumed.add("inv_coeff_init_option")  # read below: the inverse's start
        said = ctx.resolver.evidence("inv_coeff_init_option")
        if said is not None and said[1] is not False:
            why = "the iterative inverse started from per-head norms (inv_coeff_init_option)"
            return Match(self, explains, None, found.choices, missing=why)
        kept = (p, conv.attr if conv is not None else None, sizes)
        return Match(self, explains, kept, found.choices, guessed=found.guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        plan, conv, (landmarks, segment) = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq] from padding_mask(), or None
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        q, k, v = parts.heads(g, x, batch, seq, plan)
        if landmarks == segment:  # the library's exact path: every query sees every key
            y = g.call_function(
                "scaled_dot_product_attention",
                q,
                k,
                v,
                kwargs={"attn_mask": mask},
                name="y",
                comment=f"{plan.nhead} heads (num_landmarks = segment_means_seq_len: exact)",
            )
        else:
            y = g.call_function(
                "nystrom_attention",
                q,
                k,
                v,
                mask,
                landmarks,
                segment,
                name="y",
                comment=f"{plan.nhead} heads through {landmarks} landmarks",
            )
        if conv is not None:
            skip = g.call_module((conv,), v, inline=True)
            comment = "the values' conv along the sequence"
            y = g.call_function("add", y, skip, name="y", comment=comment)
        y = parts.merge_heads(g, y, batch, seq)
        g.output(g.call_module((plan.out,), y) if plan.out is not None else y)

    @staticmethod
    def examples():
        return [
            _example(project=True, landmarks=3),
            _example(project=True, landmarks=9),
            _example(project=True, landmarks=3, conv=False),
        ]


class LandmarkSelfAttention(LandmarkAttention):
    """The same without the output projection (Nyströmformer's `self`)."""

    role = "SelfAttention"
    projects = False

    @staticmethod
    def examples():
        return [_example(project=False, landmarks=3)]


def _example(project: bool, landmarks: int, conv: bool = True) -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Nystrom(nn.Module):  # the paper's attention, as its authors' code writes it
        def __init__(self, d: int = 16, heads: int = 2, segment: int = 9) -> None:
            super().__init__()
            self.heads, self.landmarks, self.segment = heads, landmarks, segment
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.conv = (
                nn.Conv2d(heads, heads, (5, 1), padding=(2, 0), groups=heads, bias=False)
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
            d = q.size(-1)
            q, k = q / d**0.25, k / d**0.25
            bias = torch.zeros(mask.shape).masked_fill(~mask, torch.finfo(x.dtype).min)
            if self.landmarks == self.segment:
                y = F.softmax(q @ k.transpose(-1, -2) + bias, dim=-1) @ v
            else:
                shape = (-1, self.heads, self.landmarks, self.segment // self.landmarks, d)
                ql, kl = q.reshape(shape).mean(-2), k.reshape(shape).mean(-2)
                k1 = F.softmax(q @ kl.transpose(-1, -2), dim=-1)
                k2 = F.softmax(ql @ kl.transpose(-1, -2), dim=-1)
                k3 = F.softmax(ql @ k.transpose(-1, -2) + bias, dim=-1)
                eye = torch.eye(k2.size(-1))
                z = k2.transpose(-1, -2) / k2.sum(-2).max()
                for _ in range(6):
                    kz = k2 @ z
                    z = 0.25 * z @ (13 * eye - kz @ (15 * eye - kz @ (7 * eye - kz)))
                y = k1 @ z @ (k3 @ v)
            if self.conv is not None:
                y = y + self.conv(v)
            y = y.transpose(1, 2).reshape(b, t, -1)
            return self.dense(y) if self.dense is not None else y

    torch.manual_seed(0)
    mask = torch.ones(2, 1, 1, 9, dtype=torch.bool)
    mask[1, ..., 6:] = False
    config = {"num_attention_heads": 2, "num_landmarks": landmarks, "segment_means_seq_len": 9}
    return Example(Nystrom(), (torch.randn(2, 9, 16), mask), config)
