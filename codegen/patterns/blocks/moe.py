"""A sparse mixture of experts (Mixtral, OLMoE, Qwen2-MoE, DeepSeek-V3-style routers): a router
(`gate`, one logit per expert: a Linear, or a class of bare tensors, router.py) and a list of
identical feed-forwards (`experts`), optionally a shared expert every token uses (plain, or scaled
by sigmoid(its gate) as Qwen2-MoE does) and a correction bias (on the router, beside it, or on the
mixture). How logits become weights is router.py's `routing`: softmax or sigmoid scores, the
correction bias steering the choice only, grouped top-k, renormalised, scaled.

The forward runs every expert on every token and weights by zero the ones not chosen: exact, and
scriptable, at the cost of computing the unchosen experts (a top-2 of 8 does 4x the work).
"""

from __future__ import annotations

import re

from codegen.ir import Choice
from codegen.ir.graph import Graph
from codegen.patterns.blocks.router import (
    CORRECTION,
    SCORING_BY_TYPE,
    SYNONYMS,
    correction_member,
    router_width,
    routing,
)
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    stack,
    tensors,
)

ROUTER = r"gate|router|w_gate|gating|switch"
EXPERTS = r"experts|expert"
# An expert every token uses, beside the routed ones, scaled by sigmoid(its gate) (Qwen2-MoE) or not
# (DeepSeek-V3, GLM-4-MoE).
SHARED = r"shared_expert|shared_experts|shared_mlp"
SHARED_GATE = r"shared_expert_gate|shared_gate"

# Families checked to route by softmax then top-k (PhiMoE's sparsemixer, for one, does not): for
# any other the routing is a default, and the file says 'guessed'.
SOFTMAX_TOP_K_TYPES = tuple(t for t, s in SCORING_BY_TYPE.items() if s == "softmax")
# Families that route top 2 by sparsemixer (render/helpers/routing.py sparsemixer_routing), whose
# eval threshold is config.json's router_jitter_noise.
SPARSEMIXER_TYPES = ("phimoe",)


class MixtureOfExperts(BlockPattern):
    role = "MoE"
    priority = 10
    synonyms = SYNONYMS
    accepts = Accepts(2, 5, names=(EXPERTS, ROUTER))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        # a correction bias beside the router (ERNIE 4.5's moe_statics), read where it routes
        statics = [m for m in members if ctx.role(m) == "ScoreCorrection"]
        members = [m for m in members if ctx.role(m) != "ScoreCorrection"]
        # ... or held by the mixture itself (MiniMax-M2, EXAONE-MoE)
        own = [t for t in tensors(cls) if re.fullmatch(CORRECTION, t.attr, re.IGNORECASE)]
        if len(tensors(cls)) != len(own) or len(own) + len(statics) > 1:
            return None
        if len(members) not in (2, 3, 4):
            return None
        experts = one_named([m for m in members if stack(m) is not None], EXPERTS)
        linears = [m for m in members if family(m) == "linear"]
        shared_gate = one_named(linears, SHARED_GATE) if len(members) == 4 else None
        routers = [m for m in linears if m is not shared_gate]
        routers += [m for m in members if ctx.role(m) == "Router"]
        router = one_named(routers, ROUTER)
        if experts is None or router is None or ctx.role(stack(experts)[0]) != "MLP":
            return None
        shared = None
        if len(members) > 2:  # an expert every token uses, gated by a sigmoid or not
            mlps = [m for m in members if m is not experts and ctx.role(m) == "MLP"]
            shared = one_named(mlps, SHARED)
            if shared is None or (len(members) == 4) != (shared_gate is not None):
                return None
            if shared_gate is not None and not (shared_gate.io and shared_gate.io.out_width == 1):
                return None  # one gate value per token
        count = stack(experts)[1]
        width, correction = router_width(ctx, router)
        if statics or own:
            if correction is not None:
                return None
            if statics:
                correction = (statics[0].attr, correction_member(ctx, statics[0]))
            else:
                correction = (own[0].attr,)
        if width != count or count < 2:
            return None  # one logit per expert
        model_type = ctx.resolver.evidence("model_type")
        if model_type is not None and model_type[1] in SPARSEMIXER_TYPES:
            top_k = routing_choices(ctx, cls, router.attr, count)[0]
            eps = ctx.resolver.evidence("router_jitter_noise")
            if int(top_k.value) != 2 or eps is None or type(eps[1]) not in (int, float):
                return None
            found = (experts.attr, router.attr, None, None, float(eps[1]))
            return Match(self, len(members), found, [top_k])
        routed = routing(ctx, cls, router.attr, count, correction)
        if routed is None:
            return None
        spec, choices, guessed = routed
        shared_pair = (shared.attr, shared_gate.attr if shared_gate else None) if shared else None
        found = (experts.attr, router.attr, spec, shared_pair, None)
        return Match(self, len(members) + len(statics) + len(own), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        experts, router, spec, shared, jitter_eps = match.found
        x = g.input("x")
        logits = g.call_module((router,), x, inline=True)
        if jitter_eps is not None:
            weights = g.call_function(
                "sparsemixer_routing",
                logits,
                jitter_eps,
                name="weights",
                comment="two experts per token, by sparsemixer",
            )
        else:
            weights = spec.weights(g, logits)
        outs = g.call_module(
            (experts,), x, each_collect=True, name="outs", comment="every expert on every token"
        )
        stacked = g.call_function("torch.stack", outs, -1, inline=True)
        mixed = g.call_function(
            "mul", stacked, g.call_method("unsqueeze", weights, -2, inline=True), inline=True
        )
        if shared is None:
            g.output(g.call_method("sum", mixed, -1), comment="[batch, seq, d_model]")
            return
        g.output(add_shared(g, x, g.call_method("sum", mixed, -1, name="out"), *shared))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Expert(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.w1, self.w2, self.w3 = nn.Linear(8, 16), nn.Linear(16, 8), nn.Linear(8, 16)

            def forward(self, x):
                return self.w2(F.silu(self.w1(x)) * self.w3(x))

        class SparseMoe(nn.Module):  # Mixtral's loop over the chosen experts, top 2 of 4
            def __init__(self) -> None:
                super().__init__()
                self.gate = nn.Linear(8, 4, bias=False)
                self.experts = nn.ModuleList(Expert() for _ in range(4))

            def forward(self, x):
                probs = F.softmax(self.gate(x), dim=-1)
                top, index = torch.topk(probs, 2, dim=-1)
                top = top / top.sum(-1, keepdim=True)
                out = torch.zeros_like(x)
                for e, expert in enumerate(self.experts):
                    chosen = (index == e).to(x.dtype) * top
                    out = out + expert(x) * chosen.sum(-1, keepdim=True)
                return out

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block_sparse_moe = SparseMoe()

            def forward(self, x):
                return self.block_sparse_moe(x)

        config = {"hidden_act": "silu", "model_type": "mixtral"}
        return [Example(Holder(), (torch.randn(2, 5, 8),), config)]


def add_shared(g: Graph, x, routed, expert: str, gate: str | None):
    """The routed experts' output plus the shared expert's (scaled by sigmoid(gate) if gated)."""
    always = g.call_module((expert,), x, inline=True)
    if gate is not None:
        gated = g.call_function("sigmoid", g.call_module((gate,), x, inline=True), inline=True)
        always = g.call_function("mul", gated, always, inline=True)
    return g.call_function("add", routed, always, comment="plus the shared expert")


def routing_choices(ctx, cls, router: str, experts: int) -> tuple[Choice, Choice] | None:
    """A router's choices: how many experts each token goes to, and whether their weights are
    renormalised to sum to one; None when a value config.json gives cannot route over `experts`."""
    routed = routing(ctx, cls, router, experts)
    return None if routed is None else tuple(routed[1][:2])
