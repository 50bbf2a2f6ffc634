"""An attention whose merged heads are gated before the output projection by a projection of the
layer's input: `o_proj(y * act(g_proj(x)))`. The gate is one value per head (Laguna's per-head
`g_proj`, Step 3's, dots's: [batch, seq, heads], each head's features scaled alike) or one per
feature (AFMoE's `gate_proj`, [batch, seq, heads * head_dim]); its width says which.

The activation is a sigmoid in most families that gate (AFMoE, Step 3, LFM3, dots, HunYuan v4)
and a softplus in Laguna's: read per model_type below (Laguna's compared with the library by
tests/test_mix_9.py, AFMoE's and Beam's read from their modeling code, Beam's compared by
tests/test_att_12.py); for any other type the sigmoid is a default and the file says 'guessed'.
A learned bias may join the gate before its activation: one value per head added to every
feature of that head (Beam's `gate_bias` [heads] beside a per-feature gate), or one per gate
output; its length says which.
The rest of the attention is attention.py's.
"""

from __future__ import annotations

import dataclasses
import re

from codegen.ir.graph import Graph, Value
from codegen.patterns._kit import Accepts, BlockContext, Example, Match, family, modules, tensors
from codegen.patterns.blocks.attention import Attention

GATE = r"g_proj|gate_proj|attn_gate|gate|o_gate|output_gate"
GATE_BIAS = r"g_bias|gate_bias|attn_gate_bias|o_gate_bias|output_gate_bias"
GATE_ACTIVATION_BY_TYPE = {"laguna": "softplus", "afmoe": "sigmoid", "beam": "sigmoid"}
ACTIVATIONS = {"sigmoid": "sigmoid", "softplus": "F.softplus"}


class GatedOutputAttention(Attention):
    role = "Attention"
    priority = 11
    accepts = Accepts(names=(GATE,), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        gates = [m for m in modules(cls) if re.fullmatch(GATE, m.attr, re.I)]
        if len(gates) != 1 or family(gates[0]) != "linear" or gates[0].io is None:
            return None
        gate = gates[0]
        biases = [t for t in tensors(cls) if re.fullmatch(GATE_BIAS, t.attr, re.I)]
        if len(biases) > 1 or any(len(t.shape) != 1 for t in biases):
            return None
        dropped = (gate, *biases)
        plain = dataclasses.replace(cls, members=[m for m in cls.members if m not in dropped])
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        plan = found.found
        if plan.out is None or plan.norm is not None or plan.sub_norm is not None:
            return None  # no output projection, or a norm around it: not met yet
        q = next(m for m in modules(cls) if m.attr == plan.projections[0])
        width, q_width = gate.io.out_width, q.io.out_width if q.io else None
        if len(plan.projections) != 1 and q_width is None:
            return None
        if width == plan.nhead:
            per_head = True
        elif len(plan.projections) != 1 and width == q_width:
            per_head = False
        else:
            return None  # neither a value per head nor one per feature of the merged heads
        said = ctx.resolver.metadata.get("gating")  # Laguna's: True or "per-head", else per feature
        if said is not None and (said[1] is True or said[1] == "per-head") == per_head:
            ctx.resolver.evidence("gating")
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        known = GATE_ACTIVATION_BY_TYPE.get(mtype)
        activation = ctx.choose(
            cls,
            gate.attr,
            "gate_activation",
            known or "sigmoid",
            [a for a in ACTIVATIONS if a != (known or "sigmoid")],
            "what the attention's output gate applies to its projection",
        )
        guessed = found.guessed
        if known is not None and activation.source == "default":
            activation.source, activation.note = "metadata", f"{model_type[0]} {mtype!r}"
        elif activation.source == "default":
            said = (
                f"the output gate's sigmoid is the usual one; model_type {mtype!r} is not known "
                "to gate this way"
            )
            guessed = f"{guessed}; {said}" if guessed else said
        bias = None
        if biases:  # one value per head (added to each of its features), or one per gate output
            length = biases[0].shape[0]
            if length == width:
                bias = (biases[0].attr, False)
            elif length == plan.nhead and not per_head:
                bias = (biases[0].attr, True)
            else:
                return None
        gating = (gate.attr, per_head, activation.value, bias)
        return dataclasses.replace(
            found,
            pattern=self,
            explains=found.explains + 1 + len(biases),
            found=(plan, gating),
            choices=found.choices + [activation],
            guessed=guessed,
        )

    def forward(self, match: Match, g: Graph) -> None:
        plan, (gate, per_head, activation, bias) = match.found
        super().forward(dataclasses.replace(match, found=plan), g)
        g.nodes.pop()  # the output: the projection's input is gated first
        projection = g.nodes.pop()
        y = projection.args[0]
        x = next(Value(i) for i, n in enumerate(g.nodes) if n.op == "input" and n.target == "x")
        logits = g.call_module((gate,), x, inline=True)
        if bias is not None and bias[1]:  # a bias per head: each head's features alike
            batch = g.call_method("size", y, 0, inline=True)
            seq = g.call_method("size", y, 1, inline=True)
            split = g.call_method("view", logits, batch, seq, plan.nhead, -1, inline=True)
            shifted = g.call_function(
                "add",
                split,
                g.call_method("unsqueeze", g.getattr((bias[0],)), -1, inline=True),
                inline=True,
            )
            logits = g.call_method("reshape", shifted, batch, seq, -1, inline=True)
        elif bias is not None:
            logits = g.call_function("add", logits, g.getattr((bias[0],)), inline=True)
        opened = g.call_function(ACTIVATIONS[activation], logits, name="gate")
        g[opened].comment = (
            "one value per head: [batch, seq, heads]"
            if per_head
            else "one per feature: [batch, seq, heads * head_dim]"
        )
        if per_head:
            batch = g.call_method("size", y, 0, inline=True)
            seq = g.call_method("size", y, 1, inline=True)
            split = g.call_method("view", y, batch, seq, plan.nhead, -1, inline=True)
            scaled = g.call_function(
                "mul", split, g.call_method("unsqueeze", opened, -1, inline=True), inline=True
            )
            gated = g.call_method("reshape", scaled, batch, seq, -1, name="y")
        else:
            gated = g.call_function("mul", y, opened, name="y")
        g.output(g.call_module((plan.out,), gated))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Gated(nn.Module):  # Laguna's: 4 query heads, 2 key/value heads, a gate per head
            def __init__(self, per_head: bool, head_bias: bool = False) -> None:
                super().__init__()
                if head_bias:  # Beam's: one bias per head on a gate per feature
                    self.gate_bias = nn.Parameter(torch.randn(4))
                self.q_proj = nn.Linear(16, 16, bias=False)
                self.k_proj = nn.Linear(16, 8, bias=False)
                self.v_proj = nn.Linear(16, 8, bias=False)
                self.o_proj = nn.Linear(16, 16, bias=False)
                self.g_proj = nn.Linear(16, 4 if per_head else 16, bias=False)
                self.per_head = per_head

            def forward(self, x):
                b, s, _ = x.shape
                q = self.q_proj(x).view(b, s, 4, 4).transpose(1, 2)
                k = self.k_proj(x).view(b, s, 2, 4).transpose(1, 2).repeat_interleave(2, 1)
                v = self.v_proj(x).view(b, s, 2, 4).transpose(1, 2).repeat_interleave(2, 1)
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2)
                logits = self.g_proj(x)
                if hasattr(self, "gate_bias"):
                    logits = (logits.view(b, s, 4, 4) + self.gate_bias[:, None]).view(b, s, 16)
                gate = F.softplus(logits)
                if self.per_head:
                    y = y * gate.unsqueeze(-1)
                else:
                    y = y.reshape(b, s, 16) * gate
                return self.o_proj(y.reshape(b, s, 16))

        class Holder(nn.Module):
            def __init__(self, per_head: bool, head_bias: bool = False) -> None:
                super().__init__()
                self.self_attn = Gated(per_head, head_bias)

            def forward(self, x):
                return self.self_attn(x)

        config = {
            "model_type": "laguna",
            "architectures": ["LagunaForCausalLM"],
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
        }
        return [
            Example(Holder(per_head, head_bias), (torch.randn(2, 5, 16),), config)
            for per_head, head_bias in ((True, False), (False, False), (False, True))
        ]
