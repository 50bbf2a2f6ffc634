"""Experts stored flat: the gate, up and down projections of every expert as three 2-D tensors
[experts * inner, d_model] of one class (DBRX's `w1`, `v1`, `w2`; the rows of expert e are
e * inner .. (e + 1) * inner). Each expert computes `down_e(act(x gate_e^T) * (x up_e^T))` with the
down tensor applied as stored (`h @ down_e`, [inner, d_model]).

`FlatExperts`: x [..., d_model] -> every expert's output [..., experts, d_model]. The rows do not
say where one expert ends: the count is config.json's (moe_num_experts / num_experts ...), else a
default the file marks as guessed.
`ExpertsHolder`: a class whose one member is such experts (DBRX's `experts.mlp`): it passes through.
A mixture (expert_bank.py's ExpertBank) weights their outputs by its router.
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
    modules,
    tensors,
)
from codegen.patterns.blocks.expert_bank import _per_expert
from codegen.patterns.blocks.router import EXPERT_COUNTS

GATE = r"w1|gate|gate_proj|wi_0|w_gate"
UP = r"v1|w3|up|up_proj|wi_1|w_up"
DOWN = r"w2|down|down_proj|wo|w_down"
COUNTS = [2, 4, 8, 16, 32, 64, 128]
SYNONYMS = {
    **act.SYNONYMS,
    "experts": EXPERT_COUNTS,
}


class FlatExperts(BlockPattern):
    role = "Experts"
    priority = 5
    synonyms = SYNONYMS

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 3 or any(len(p.shape) != 2 for p in params):
            return None
        found = [[p for p in params if re.fullmatch(n, p.attr, re.I)] for n in (GATE, UP, DOWN)]
        if any(len(f) != 1 for f in found):
            return None
        gate, up, down = (f[0] for f in found)
        if not gate.shape == up.shape == down.shape:
            return None
        rows = gate.shape[0]
        count = ctx.choose(
            cls,
            gate.attr,
            "experts",
            8,
            [c for c in COUNTS if c != 8],
            "how many experts the " "rows hold",
            accepts="positive_int",
        )
        if isinstance(rows, int) and (int(count.value) < 2 or rows % int(count.value)):
            return None
        activation = ctx.choose(
            cls,
            gate.attr,
            "activation",
            "silu",
            [a for a in act.TRANSFORMER if a != "silu"],
            "the experts' gate activation",
            aliases=act.ALIASES,
        )
        # DBRX's ffn_config.ffn_act_fn {"name": ...}: a table whose one key is the name
        said = ctx.resolver.evidence("name") if activation.source == "default" else None
        if said is not None and "act" in said[0]:
            name = act.ALIASES.get(said[1], said[1])
            if name not in act.FUNCTIONS:
                return None
            activation.value, activation.source = name, "metadata"
            activation.note = f"{said[0]} {said[1]!r}"
        elif said is not None:  # some other table's name: not this one's to read
            ctx.resolver.consumed.discard("name")
        guessed = ""
        if count.source == "default":
            guessed = f"{count.value} experts is a default: the rows of {gate.attr} do not say"
        found = (gate.attr, up.attr, down.attr, int(count.value), activation.value)
        return Match(self, 3, found, [count, activation], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        gate, up, down, count, activation = match.found
        x = g.input("x")

        def per_expert(name: str):  # [experts, inner, d_model]
            w = g.getattr((name,))
            return g.call_method("view", w, count, -1, g.call_method("size", w, 1, inline=True))

        h = g.call_method("unsqueeze", g.call_method("unsqueeze", x, -2, inline=True), -2)
        g[h].name, g[h].comment = "h", "[batch, seq, 1, 1, d_model]"
        halves = []
        for name in (gate, up):
            w = g.call_method("transpose", per_expert(name), 1, 2, inline=True)
            y = g.call_function("matmul", h, w, inline=True)
            halves.append(g.call_method("squeeze", y, -2, inline=True))
        mixed = g.call_function(
            "mul",
            act.apply(g, activation, halves[0], inline=True),
            halves[1],
            name="h",
            comment="every expert: [batch, seq, experts, inner]",
        )
        g.output(_per_expert(g, mixed, per_expert(down), in_major=True))

    @staticmethod
    def examples():
        return [_example()]


class ExpertsHolder(BlockPattern):
    role = "Experts"
    priority = 5
    names_class = False

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind != "class":
            return None
        if ctx.role(members[0]) != "Experts" or not ctx.takes(members[0], "x"):
            return None
        held = ctx.classes.get(members[0].type_name)
        if len(held.forward.graph.inputs) != 1:
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("x")), comment="[..., experts, d_model]")

    @staticmethod
    def examples():
        return [_example()]


def _example():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Glu(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = nn.Parameter(torch.randn(4 * 12, 8) * 8**-0.5)
            self.v1 = nn.Parameter(torch.randn(4 * 12, 8) * 8**-0.5)
            self.w2 = nn.Parameter(torch.randn(4 * 12, 8) * 12**-0.5)

    class Experts(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mlp = Glu()

    class Router(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Linear(8, 4, bias=False)

    class Ffn(nn.Module):  # DBRX's layout: top 2 of 4, weights divided by their sum (p = 1)
        def __init__(self) -> None:
            super().__init__()
            self.router = Router()
            self.experts = Experts()

        def forward(self, x):
            probs = F.softmax(self.router.layer(x), dim=-1)
            top, index = torch.topk(probs, 2, dim=-1)
            top = top / top.sum(-1, keepdim=True)
            out = torch.zeros_like(x)
            mlp = self.experts.mlp
            for e in range(4):
                w1, v1, w2 = (w.view(4, 12, 8)[e] for w in (mlp.w1, mlp.v1, mlp.w2))
                y = (F.gelu(x @ w1.T) * (x @ v1.T)) @ w2
                out = out + y * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
            return out

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ffn = Ffn()

        def forward(self, x):
            return self.ffn(x)

    config = {
        "model_type": "dbrx",
        "ffn_config": {
            "moe_num_experts": 4,
            "moe_top_k": 2,
            "moe_normalize_expert_weights": 1,
            "ffn_act_fn": {"name": "gelu"},
        },
    }
    return Example(Holder(), (torch.randn(2, 5, 8),), config)
