"""A sparse mixture of experts (Mixtral, OLMoE, Qwen2-MoE without its shared expert): a router
(`gate`, one logit per expert) and a list of identical feed-forwards (`experts`). Each token goes
to its top-k experts by router softmax, their outputs weighted by those probabilities
(renormalised to sum to one, or not: `norm_topk_prob`).

The forward runs every expert on every token and weights by zero the ones not chosen: exact, and
scriptable, at the cost of computing the unchosen experts (a top-2 of 8 does 4x the work).
"""

from __future__ import annotations

from codegen.ir import Choice
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
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
# An expert every token uses, beside the routed ones, scaled by sigmoid(its gate) (Qwen2-MoE).
SHARED = r"shared_expert|shared_experts|shared_mlp"
SHARED_GATE = r"shared_expert_gate|shared_gate"

# Families checked to route by softmax then top-k (PhiMoE's sparsemixer, for one, does not): for
# any other the routing is a default, and the file says 'guessed'.
SOFTMAX_TOP_K_TYPES = ("mixtral", "olmoe", "qwen2_moe", "qwen3_moe")
# Families that route top 2 by sparsemixer (render/helpers.py sparsemixer_routing), whose eval
# threshold is config.json's router_jitter_noise.
SPARSEMIXER_TYPES = ("phimoe",)

SYNONYMS = {
    "top_k": ("num_experts_per_tok", "moe_top_k", "num_selected_experts", "top_k"),
    "normalize_top_k": ("norm_topk_prob",),
}


class MixtureOfExperts(BlockPattern):
    role = "MoE"
    priority = 10
    synonyms = SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 4):
            return None
        experts = one_named([m for m in members if stack(m) is not None], EXPERTS)
        linears = [m for m in members if family(m) == "linear"]
        shared_gate = one_named(linears, SHARED_GATE) if len(members) == 4 else None
        router = one_named([m for m in linears if m is not shared_gate], ROUTER)
        if experts is None or router is None or ctx.role(stack(experts)[0]) != "MLP":
            return None
        shared = None
        if len(members) == 4:
            mlps = [m for m in members if m is not experts and ctx.role(m) == "MLP"]
            shared = one_named(mlps, SHARED)
            if shared is None or shared_gate is None or not shared_gate.io:
                return None
            if shared_gate.io.out_width != 1:
                return None  # one gate value per token
        count = stack(experts)[1]
        if not (router.io and router.io.out_width == count) or count < 2:
            return None  # one logit per expert
        routing = routing_choices(ctx, cls, router.attr, count)
        if routing is None:
            return None
        top_k, normalize = routing
        found = (experts.attr, router.attr, int(top_k.value), bool(normalize.value))
        found += ((shared.attr, shared_gate.attr) if shared else None,)
        model_type = ctx.resolver.evidence("model_type")
        guessed = ""
        if model_type is not None and model_type[1] in SPARSEMIXER_TYPES:
            eps = ctx.resolver.evidence("router_jitter_noise")
            if int(top_k.value) != 2 or eps is None or type(eps[1]) not in (int, float):
                return None
            found += (float(eps[1]),)
            return Match(self, len(members), found, [top_k])
        found += (None,)
        if model_type is None or model_type[1] not in SOFTMAX_TOP_K_TYPES:
            guessed = (
                "routing by softmax then top-k is the usual one; "
                + (f"model_type {model_type[1]!r}" if model_type else "no config.json")
                + " does not say it is this model's"
            )
        return Match(self, len(members), found, [top_k, normalize], guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        experts, router, top_k, normalize, shared, jitter_eps = match.found
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
            weights = g.call_function(
                "top_k_routing",
                logits,
                top_k,
                normalize,
                name="weights",
                comment=f"[batch, seq, experts]: the top {top_k}, zero elsewhere",
            )
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
        routed = g.call_method("sum", mixed, -1, name="out")
        expert, gate = shared
        gated = g.call_function("sigmoid", g.call_module((gate,), x, inline=True), inline=True)
        always = g.call_function(
            "mul", gated, g.call_module((expert,), x, inline=True), inline=True
        )
        g.output(g.call_function("add", routed, always), comment="plus the shared expert")

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


def routing_choices(ctx, cls, router: str, experts: int) -> tuple[Choice, Choice] | None:
    """A router's choices: how many experts each token goes to, and whether their weights are
    renormalised to sum to one (Mixtral; a softmax over the top-k logits is the same); None when
    a value config.json gives cannot route over `experts`."""
    top_k = ctx.choose(
        cls,
        router,
        "top_k",
        2,
        [k for k in (1, 2, 4, 8) if k <= experts],
        "experts per token",
        accepts="positive_int",
    )
    if not 1 <= int(top_k.value) <= experts:
        return None
    normalize = ctx.choose(
        cls,
        router,
        "normalize_top_k",
        True,
        [False],
        "the chosen experts' weights renormalised to sum to one",
    )
    return top_k, normalize
