"""A mixture of experts whose experts are stored as one tensor each, stacked along a leading expert
dimension (GraniteMoE's `input_linear` [experts, 2 * inner, d_model] and `output_linear`
[experts, d_model, inner]; Megatron/JetMoE-style banks), beside a router giving one logit per expert.

`ExpertLinear`: a class holding one 3-D weight [experts, out, in]: x [..., experts or 1, in] ->
[..., experts, out], each expert's slice applied to its own input (or to a shared one).
`RouterLayer`: a class holding one bias-free Linear under a router's name: its logits.
`ExpertBank`: router -> top-k weights; the fused gate/up bank, `act(gate) * up`, the down bank;
the experts' outputs weighted and summed. Every expert runs on every token (exact, scriptable).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.moe import SOFTMAX_TOP_K_TYPES, SYNONYMS

UP_BANK = r"input_linear|gate_up_proj|w13|experts?_(gate_)?up\w*"
DOWN_BANK = r"output_linear|down_proj|w2|experts?_down\w*"
ROUTER = r"router|gate|gating|w_gate"
# Families checked to route by softmax over the top-k logits (the same as softmax then top-k,
# renormalised): GraniteMoE's router.
BANK_TYPES = SOFTMAX_TOP_K_TYPES + ("granitemoe", "granitemoeshared", "jetmoe")


class ExpertLinear(BlockPattern):
    role = "ExpertLinear"
    priority = 5
    # the gate/up and down banks stay two classes: the bank pattern reads each one's sizes
    named = r"input_linear|output_linear|gate_up_proj|down_proj|experts?_\w+"

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or params[0].attr != "weight":
            return None
        if len(params[0].shape) != 3:
            return None
        return Match(self, 1, None)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")  # [..., experts or 1, in]
        weight = g.call_method("transpose", g.getattr(("weight",)), 1, 2, inline=True)
        y = g.call_function("matmul", g.call_method("unsqueeze", x, -2, inline=True), weight)
        g.output(g.call_method("squeeze", y, -2), comment="[..., experts, out]")


class RouterLayer(BlockPattern):
    """A router's one Linear in a class of its own (GraniteMoE's `router.layer`)."""

    role = "Router"
    priority = 5
    named = ROUTER

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "linear":
            return None
        if not cls.named:
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("x")), comment="[..., experts]")


class ExpertBank(BlockPattern):
    role = "MoE"
    priority = 10
    synonyms = SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        banks = [m for m in members if ctx.role(m) == "ExpertLinear"]
        routers = [m for m in members if ctx.role(m) in ("Router", "linear")]
        up, down = one_named(banks, UP_BANK), one_named(banks, DOWN_BANK)
        if len(banks) != 2 or len(routers) != 1 or up is None or down is None or up is down:
            return None
        router = routers[0]
        shapes = [self._weight(ctx, m) for m in (up, down)]
        if None in shapes:
            return None
        (experts, fused, d_model), (experts_down, d_out, inner) = shapes
        if experts != experts_down or fused != 2 * inner or d_out != d_model or experts < 2:
            return None
        top_k = ctx.choose(
            cls,
            router.attr,
            "top_k",
            2,
            [k for k in (1, 2, 4, 8) if k <= experts],
            "experts per token",
            accepts="positive_int",
        )
        if not 1 <= int(top_k.value) <= experts:
            return None
        activation = ctx.choose(
            cls,
            up.attr,
            "activation",
            "silu",
            [a for a in act.TRANSFORMER if a != "silu"],
            "the experts' gate activation",
            aliases=act.ALIASES,
        )
        model_type = ctx.resolver.evidence("model_type")
        guessed = ""
        if model_type is None or model_type[1] not in BANK_TYPES:
            guessed = (
                "routing by softmax over the top-k logits, and gate before up in the fused bank, "
                "are the usual ones; "
                + (f"model_type {model_type[1]!r}" if model_type else "no config.json")
                + " does not say they are this model's"
            )
        found = (router.attr, up.attr, down.attr, int(top_k.value), activation.value)
        return Match(self, len(members), found, [top_k, activation], guessed=guessed)

    @staticmethod
    def _weight(ctx: BlockContext, m) -> tuple | None:
        cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
        params = tensors(cls) if cls is not None else []
        if len(params) != 1 or not all(isinstance(s, int) for s in params[0].shape):
            return None
        return tuple(params[0].shape)

    def forward(self, match: Match, g: Graph) -> None:
        router, up, down, top_k, activation = match.found
        x = g.input("x")
        logits = g.call_module((router,), x, inline=True)
        # softmax over the top-k logits is the top-k probabilities renormalised
        weights = g.call_function(
            "top_k_routing",
            logits,
            top_k,
            True,
            name="weights",
            comment=f"the top {top_k} experts' weights",
        )
        h = g.call_module(
            (up,),
            g.call_method("unsqueeze", x, -2, inline=True),
            name="h",
            comment="every expert: [batch, seq, experts, 2 * inner]",
        )
        halves = g.call_method("chunk", h, 2, kwargs={"dim": -1}, name="gate_up")
        gate = g.call_function("getitem", halves, 0, inline=True)
        upped = g.call_function("getitem", halves, 1, inline=True)
        h = g.call_function("mul", act.apply(g, activation, gate, inline=True), upped, name="h")
        outs = g.call_module((down,), h, name="outs", comment="[batch, seq, experts, d_model]")
        mixed = g.call_function(
            "mul", outs, g.call_method("unsqueeze", weights, -1, inline=True), inline=True
        )
        g.output(g.call_method("sum", mixed, -2), comment="[batch, seq, d_model]")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Bank(nn.Module):
            def __init__(self, experts: int, out: int, inp: int) -> None:
                super().__init__()
                self.weight = nn.Parameter(torch.randn(experts, out, inp) * inp**-0.5)

        class Router(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layer = nn.Linear(8, 4, bias=False)

        class Moe(nn.Module):  # GraniteMoE's layout: top-2 of 4, the loop over chosen experts
            def __init__(self) -> None:
                super().__init__()
                self.router = Router()
                self.input_linear, self.output_linear = Bank(4, 24, 8), Bank(4, 8, 12)

            def forward(self, x):
                top, index = self.router.layer(x).topk(2, dim=-1)
                top = F.softmax(top, dim=-1)
                out = torch.zeros_like(x)
                for e in range(4):
                    gate, up = F.linear(x, self.input_linear.weight[e]).chunk(2, dim=-1)
                    y = F.linear(F.silu(gate) * up, self.output_linear.weight[e])
                    out = out + y * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
                return out

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block_sparse_moe = Moe()

            def forward(self, x):
                return self.block_sparse_moe(x)

        config = {"hidden_act": "silu", "model_type": "granitemoe", "num_experts_per_tok": 2}
        return [Example(Holder(), (torch.randn(2, 5, 8),), config)]
