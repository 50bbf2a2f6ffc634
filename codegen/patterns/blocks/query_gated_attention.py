"""An attention whose query projection also makes its output gate (Qwen3-Next's, Qwen3.5's full
attention layers): q_proj is twice as wide as the heads it feeds, and half of it, a sigmoid, scales
the merged heads before the output projection.

    q, gate = q_proj(x) per head [q_h | gate_h]      (the layout `query_gate`, per_head or halves)
    o_proj(attention(q, k, v) * sigmoid(gate))

Recognised from the widths: q_proj's output is twice o_proj's input while k and v are alike, which
a plain attention never shows (its queries are as wide as its merged heads). Where each head's
gate sits (after its queries, or all gates after all queries) is not in the weights: the choice
`query_gate`, per head as the families read below; for another model_type a default the file
flags as guessed. The rest of the attention is attention.py's.
"""

from __future__ import annotations

import dataclasses

from codegen.ir.graph import Graph, Value
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, family, modules, one_named
from codegen.patterns.blocks.attention import KEY, OUT, QUERY, VALUE, Attention

# Families whose code splits each head's slice of q_proj into [queries | gate] (read from their
# modeling code: view(..., heads, 2 * head_dim) then chunk(2)); tests/test_linear_11.py compares
PER_HEAD_TYPES = ("qwen3_next", "qwen3_5", "qwen3_5_moe", "qwen3_5_text", "qwen3_5_moe_text")
LAYOUTS = ("per_head", "halves")


def _width(m, side: str):
    value = getattr(m.io, side, None) if m is not None and m.io is not None else None
    return value if isinstance(value, int) else None


class QueryGatedAttention(Attention):
    role = "Attention"
    priority = 12
    accepts = Accepts(names=(QUERY, KEY, VALUE, OUT), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        q, k, v = (one_named(members, p) for p in (QUERY, KEY, VALUE))
        out = one_named([m for m in members if m not in (q, k, v)], OUT)
        if None in (q, k, v, out) or any(family(m) != "linear" for m in (q, k, v, out)):
            return None
        merged, wide = _width(out, "in_width"), _width(q, "out_width")
        if merged is None or wide != 2 * merged or _width(k, "out_width") != _width(v, "out_width"):
            return None
        half = dataclasses.replace(q, io=dataclasses.replace(q.io, out_width=merged))
        plain = dataclasses.replace(cls, members=[half if m is q else m for m in cls.members])
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        plan = found.found
        if len(plan.projections) != 3 or plan.out is None or plan.norm is not None:
            return None
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        layout = ctx.choose(
            cls,
            q.attr,
            "query_gate",
            LAYOUTS[0],
            list(LAYOUTS[1:]),
            "where each head's output gate sits in the query projection",
        )
        guessed = found.guessed
        if mtype in PER_HEAD_TYPES and layout.source == "default":
            layout.source, layout.note = "metadata", f"{model_type[0]} {mtype!r}"
        elif layout.source == "default":
            said = f"the gate in each head's second half of q_proj: model_type {mtype!r} unchecked"
            guessed = f"{guessed}; {said}" if guessed else said
        return dataclasses.replace(
            found,
            pattern=self,
            explains=found.explains + 1,
            found=(plan, layout.value),
            choices=found.choices + [layout],
            guessed=guessed,
        )

    def queries(self, g: Graph, projected: Value, match: Match) -> Value:
        batch = g.call_method("size", projected, 0, inline=True)
        seq = g.call_method("size", projected, 1, inline=True)
        if match.query_gate == "per_head":  # [batch, seq, heads, 2 * head_dim]
            projected = g.call_method("view", projected, batch, seq, match.found.nhead, -1)
            g[projected].inline = True
        parts = g.call_method("chunk", projected, 2, kwargs={"dim": -1}, name="q_gate")
        q = g.call_method(
            "reshape", g.call_function("getitem", parts, 0, inline=True), batch, seq, -1
        )
        g[q].inline = True
        gate = g.call_method(
            "reshape", g.call_function("getitem", parts, 1, inline=True), batch, seq, -1
        )
        g[gate].name, g[gate].comment = "gate", "[batch, seq, heads * head_dim]"
        match.gate = gate
        return q

    def forward(self, match: Match, g: Graph) -> None:
        plan, layout = match.found
        inner = dataclasses.replace(match, found=plan)
        inner.query_gate = layout
        super().forward(inner, g)
        g.nodes.pop()  # the output: the projection's input is gated first
        projection = g.nodes.pop()
        y = projection.args[0]
        opened = g.call_function("sigmoid", inner.gate, inline=True)
        gated = g.call_function("mul", y, opened, name="y", comment="gated by the query's half")
        g.output(g.call_module((plan.out,), gated))

    @staticmethod
    def examples():
        import torch
        import transformers
        from transformers.models.qwen3_next import modeling_qwen3_next as library

        config = transformers.Qwen3NextConfig(
            vocab_size=50,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            layer_types=["full_attention", "linear_attention"],
        )
        config._attn_implementation = "eager"

        class Holder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.self_attn = library.Qwen3NextAttention(config, 0)
                self.rotary = library.Qwen3NextRotaryEmbedding(config)

            def forward(self, x):
                positions = torch.arange(x.size(1))[None]
                mask = torch.full((x.size(1), x.size(1)), float("-inf")).triu(1)[None, None]
                return self.self_attn(x, self.rotary(x, positions), mask)[0]

        torch.manual_seed(0)
        holder = Holder()
        with torch.no_grad():
            for p in holder.parameters():
                p.copy_(torch.randn_like(p) * 0.5)
        keep = {k: v for k, v in config.to_dict().items() if isinstance(v, (int, float, str, dict))}
        return [Example(holder.eval(), (torch.randn(2, 7, 16),), keep)]
