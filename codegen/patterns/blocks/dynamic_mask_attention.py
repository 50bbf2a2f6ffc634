"""Dynamic mask attention (Doge, arXiv 2412.11834): each key/value head adds to every score a bias
per key computed from the values, so the heads learn which positions to keep.

    dt = exp(A * softplus(dt_proj(v merged over its heads)))   # [batch, kv_heads, seq]
    scores += dt of each key (beside the causal mask); past keep_window_size keys only the
              largest biases stay open (dynamic_mask, a helper)

Recognised as an attention (attention.py: projections, heads, per-head q/k norms, rotary) that also
holds a 1-D parameter of kv_heads entries and a Linear kv_heads * head_dim -> kv_heads beside its
projections. config.json's keep_window_size sets the window (2048 by default, as Doge's).
"""

from __future__ import annotations

import dataclasses

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, family, modules, tensors
from codegen.patterns.blocks import _attention_parts as parts
from codegen.patterns.blocks.attention import SYNONYMS, Attention

KEEP_WINDOW = 2048


class DynamicMaskAttention(Attention):
    role = "Attention"
    priority = 12
    synonyms = {**SYNONYMS, "keep_window": ("keep_window_size",)}

    accepts = Accepts(tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if len(params) != 1 or len(params[0].shape) != 1:
            return None
        # the gate: the one Linear narrower than every other (kv_heads outputs)
        linears = [m for m in modules(cls) if family(m) == "linear" and m.io]
        widths = sorted(m.io.out_width or 0 for m in linears)
        if len(widths) < 5 or not 0 < widths[0] < widths[1]:
            return None
        gate = next(m for m in linears if m.io.out_width == widths[0])
        kv = widths[0]
        plain = dataclasses.replace(
            cls, members=[m for m in cls.members if m is not params[0] and m is not gate]
        )
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        alibi = next((c for c in found.choices if c.name == "alibi"), None)
        if found.found.alibi and alibi is not None and alibi.source in ("default", "metadata"):
            # a bias in the scores the conventions survey saw: this dynamic mask's, not ALiBi
            why = "the scores' bias is the dynamic mask's (dt_proj), not ALiBi"
            return Match(
                self,
                found.explains + 2,
                None,
                missing="the scores' bias read as ALiBi",
                pins=[(alibi.path, "alibi", False, why)],
            )
        if not parts.supported(found.found) or found.found.kv_heads != kv:
            return None
        values = next(m for m in linears if m.attr == found.found.projections[2])
        if gate.io.in_width != values.io.out_width:
            return None  # it reads the values, all heads merged
        keep = ctx.choose(
            cls,
            gate.attr,
            "keep_window",
            KEEP_WINDOW,
            [],
            "keys past which only the largest biases stay open",
            accepts="positive_int",
        )
        kept = (found.found, params[0].attr, gate.attr, int(keep.value))
        choices = found.choices + [keep]
        return Match(self, found.explains + 2, kept, choices, guessed=found.guessed)

    def forward(self, match: Match, g: Graph) -> None:
        found, a, gate, keep = match.found
        out, nhead, kv_heads = found.out, found.nhead, found.kv_heads
        x = g.input("x")
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq] from padding_mask(), or None
        batch, seq, mask = parts.causal_mask(g, x, mask)
        q, k, v = parts.heads(g, x, batch, seq, found)
        merged = g.call_method("transpose", v, 1, 2, inline=True)
        merged = g.call_method("reshape", merged, batch, seq, -1, inline=True)
        dt = g.call_function("F.softplus", g.call_module((gate,), merged, inline=True), inline=True)
        dt = g.call_function("mul", g.getattr((a,)), dt, inline=True)
        dt = g.call_function("torch.exp", dt, inline=True)
        dt = g.call_method("transpose", dt, -1, -2, name="dt", comment="[batch, kv_heads, seq]")
        bias = g.call_function(
            "dynamic_mask", dt, mask, keep, name="bias", comment="each key's bias, causal"
        )
        bias = parts.share_heads(g, bias, nhead, kv_heads, "bias")
        comment = f"{nhead} heads, scores plus the keys' biases"
        y = parts.attend(g, q, k, v, nhead, kv_heads, bias, comment)
        y = parts.merge_heads(g, y, batch, seq)
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        return [_example()]


def _example() -> Example:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Dynamic(nn.Module):  # Doge's attention without rotary, as its paper writes it
        def __init__(self, d: int = 16, heads: int = 4, kv: int = 2) -> None:
            super().__init__()
            self.heads, self.kv, self.hd = heads, kv, d // heads
            self.q_proj = nn.Linear(d, d, bias=False)
            self.k_proj = nn.Linear(d, kv * self.hd, bias=False)
            self.v_proj = nn.Linear(d, kv * self.hd, bias=False)
            self.A = nn.Parameter(torch.randn(kv))
            self.dt_proj = nn.Linear(kv * self.hd, kv, bias=False)
            self.o_proj = nn.Linear(d, d, bias=False)

        def forward(self, x):
            b, s, _ = x.shape
            q = self.q_proj(x).view(b, s, -1, self.hd).transpose(1, 2)
            k = self.k_proj(x).view(b, s, -1, self.hd).transpose(1, 2)
            v = self.v_proj(x).view(b, s, -1, self.hd).transpose(1, 2)
            dt = torch.exp(self.A * F.softplus(self.dt_proj(v.transpose(1, 2).reshape(b, s, -1))))
            bias = dt.transpose(1, 2)[:, :, None, :].expand(-1, -1, s, -1)
            causal = torch.ones(s, s, dtype=torch.bool).tril()
            bias = bias.masked_fill(~causal, torch.finfo(x.dtype).min)
            rep = self.heads // self.kv
            bias = bias.repeat_interleave(rep, 1)
            k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            return self.o_proj(y.transpose(1, 2).reshape(b, s, -1))

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.self_attn = Dynamic()

        def forward(self, x):
            return self.self_attn(x)

    torch.manual_seed(0)
    config = {
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "architectures": ["TinyDynamicForCausalLM"],
    }
    return Example(Holder(), (torch.randn(2, 7, 16),), config)
