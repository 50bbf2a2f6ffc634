"""A mixture of experts that weights each expert's INPUT by its routing weight (Llama 4): the
router's top-k logits through a sigmoid, zero for the rest; every expert runs on the tokens times
its own weight, and their outputs are summed (an expert given zeros gives zeros: its layers have
no bias), beside a shared expert every token uses.

    weights = routing(router(x))                      [batch, seq, experts]
    out = sum_e expert_e(x * weights[e]) + shared(x)

Unlike weighting the outputs, this is not the same for a gated expert: act(w g) w u != w act(g) u.
Which families do it is read from their modeling code (_router_conventions.INPUT_WEIGHTED); the
other mixtures decline those families, so neither reading is taken for the other.

The experts are one class holding both banks (transformers 5's `gate_up_proj` and `down_proj`,
[experts, d_model, 2 * inner] and [experts, inner, d_model], or the transposed layout); this
pattern reads the banks itself, as each expert's input differs.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    one_named,
)
from codegen.patterns._kit import tensors
from codegen.patterns._router_conventions import INPUT_WEIGHTED
from codegen.patterns.blocks.expert_bank import DOWN_BANK, UP_BANK, _gated, _per_expert
from codegen.patterns.blocks.expert_bank import bank_layout
from codegen.patterns.blocks.moe import SHARED, add_shared
from codegen.patterns.blocks.router import SYNONYMS, router_width, routing


class InputWeightedExperts(BlockPattern):
    role = "MoE"
    priority = 10
    synonyms = SYNONYMS | act.SYNONYMS
    accepts = Accepts(2, 3, tensors=False, roles=("Experts",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        model_type = ctx.resolver.evidence("model_type")
        if model_type is None or model_type[1] not in INPUT_WEIGHTED or tensors(cls):
            return None
        members = modules(cls)
        if len(members) not in (2, 3):
            return None
        experts = one_named([m for m in members if ctx.role(m) == "Experts"], r"\w*experts?")
        shared = one_named([m for m in members if ctx.role(m) == "MLP"], SHARED)
        rest = [m for m in members if m is not experts and m is not shared]
        if experts is None or len(rest) != 1 or ctx.role(rest[0]) not in ("Router", "linear"):
            return None
        if len(members) == 3 and shared is None:
            return None
        router = rest[0]
        inner = ctx.classes.get(experts.type_name) if experts.kind == "class" else None
        banks = [t for t in tensors(inner) if len(t.shape) == 3] if inner is not None else []
        up, down = one_named(banks, UP_BANK), one_named(banks, DOWN_BANK)
        if len(banks) != len(tensors(inner) or []) or up is None or down is None or up is down:
            return None
        layout = bank_layout(tuple(up.shape), tuple(down.shape))
        count, correction = router_width(ctx, router)
        if layout is None or correction is not None or not isinstance(count, int) or count < 2:
            return None
        if type(up.shape[0]) is int and up.shape[0] != count:
            return None  # one router logit per expert
        routed = routing(ctx, cls, router.attr, count, None, normalize_default=False)
        if routed is None:
            return None
        spec, choices, guessed = routed
        activation = ctx.choose(
            cls,
            experts.attr,
            "activation",
            "silu",
            [a for a in act.TRANSFORMER if a != "silu"],
            "the experts' gate activation",
            aliases=act.ALIASES,
        )
        choices.append(activation)
        found = (router.attr, (experts.attr, up.attr), (experts.attr, down.attr), layout, spec)
        found += (activation.value, shared.attr if shared else None)
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        router, up, down, layout, spec, activation, shared = match.found
        x = g.input("x")
        logits = g.call_module((router,), x, inline=True)
        weights = spec.weights(g, logits, comment=f"the top {spec.top_k} experts' weights")
        inputs = g.call_function(
            "mul",
            g.call_method("unsqueeze", x, -2, inline=True),
            g.call_method("unsqueeze", weights, -1, inline=True),
            name="inputs",
            comment="each expert's input, times its weight: [batch, seq, experts, d_model]",
        )
        w_up = g.getattr(up)
        if layout == "out_major":
            w_up = g.call_method("transpose", w_up, 1, 2, inline=True)
        h = g.call_function(
            "matmul", g.call_method("unsqueeze", inputs, -2, inline=True), w_up, inline=True
        )
        h = g.call_method(
            "squeeze", h, -2, name="h", comment="every expert: [batch, seq, experts, 2 * inner]"
        )
        h = _gated(g, h, activation)
        outs = _per_expert(g, h, g.getattr(down), layout == "in_major")
        out = g.call_method("sum", outs, -2, name="out", comment="[batch, seq, d_model]")
        if shared is None:
            g.output(out)
            return
        g.output(add_shared(g, x, out, shared, None))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Experts(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gate_up_proj = nn.Parameter(torch.randn(4, 8, 24) * 8**-0.5)
                self.down_proj = nn.Parameter(torch.randn(4, 12, 8) * 12**-0.5)

        class Mlp(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gate_proj = nn.Linear(8, 16, bias=False)
                self.up_proj = nn.Linear(8, 16, bias=False)
                self.down_proj = nn.Linear(16, 8, bias=False)

            def forward(self, x):
                return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

        class Moe(nn.Module):  # Llama 4's: the sigmoid of the top 2 logits scales the inputs
            def __init__(self) -> None:
                super().__init__()
                self.router = nn.Linear(8, 4, bias=False)
                self.experts = Experts()
                self.shared_expert = Mlp()

            def forward(self, x):
                logits = self.router(x)
                top, index = logits.topk(2, dim=-1)
                scores = torch.full_like(logits, float("-inf")).scatter(-1, index, top).sigmoid()
                out = self.shared_expert(x)
                for e in range(4):
                    routed = x * scores[..., e : e + 1]
                    gate, up = (routed @ self.experts.gate_up_proj[e]).chunk(2, dim=-1)
                    out = out + (up * F.silu(gate)) @ self.experts.down_proj[e]
                return out

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.feed_forward = Moe()

            def forward(self, x):
                return self.feed_forward(x)

        config = {"hidden_act": "silu", "model_type": "llama4_text", "num_experts_per_tok": 2}
        return [Example(Holder(), (torch.randn(2, 5, 8),), config)]
