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

import dataclasses
import re

from codegen.ir import Ref
from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns._router_conventions import INPUT_WEIGHTED
from codegen.patterns.blocks.mlp import CLAMPED_SWIGLU_TYPES, clamped_swiglu
from codegen.patterns.blocks.moe import SHARED, SHARED_GATE, add_shared
from codegen.patterns.blocks.router import SYNONYMS, router_width, routing

# Families whose fused gate/up bank interleaves them (gate at even features): GPT-OSS
# (tests/test_moe_families.py); their clamped swiglu: mlp.clamped_swiglu.
INTERLEAVED_GATE_UP_TYPES = ("gpt_oss",)
# moe12: swiglu_limit without swiglu_alpha: act(min(gate, limit)) * clamp(up, -limit, limit), the
# experts of HunYuan-V4, DeepSeek-V4, GLM-5-Next, MiniMax-M3 and the privacy filter. Whether a
# family's dense MLPs clamp too differs (GLM-5-Next's do, HunYuan-V4's do not), and they read the
# same key: the types whose code was read, where the dense MLPs do not clamp.
CLAMPED_GATE_UP_TYPES = ("hy_v4",)
UP_BANK = r"input_linear|gate_up_proj|w13|experts?_(gate_)?up\w*|fc1"
DOWN_BANK = r"output_linear|down_proj|w2|experts?_down\w*|fc2"
ROUTER = r"router|gate|gating|w_gate"


class ExpertLinear(BlockPattern):
    role = "ExpertLinear"
    priority = 5
    # the gate/up and down banks stay two classes: the bank pattern reads each one's sizes
    named = r"input_linear|output_linear|gate_up_proj|down_proj|experts?_\w+"

    accepts = Accepts(0, 0, tensors=True)

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

    @staticmethod
    def examples():
        return ExpertBank.examples()  # its banks are ExpertLinear classes


class FusedExperts(BlockPattern):
    """Both banks as tensors of one class (transformers 5's in-memory experts: `gate_up_proj`
    [experts, 2 * inner, d_model], `down_proj` [experts, d_model, inner]; what `torch.save(
    model.state_dict())` holds), or as the one `weight` of two child banks (Aria's `fc1.weight`
    [experts, d_model, 2 * inner] and `fc2.weight` [experts, inner, d_model], read by the
    parent, which knows their layout): x [..., d_model] -> every expert's output
    [..., experts, d_model]. The chained widths alone decide the layout: a plain (ungated) pair
    never has an up bank twice as wide as the down bank's input.
    """

    role = "Experts"
    priority = 5
    synonyms = act.SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, paths = tensors(cls), {}
        if modules(cls):  # moe12: two child banks, each one 3-D weight
            params, paths = _child_banks(cls, ctx)
        if len(params) not in (2, 4):
            return None
        banks = [p for p in params if len(p.shape) == 3]
        up, down = one_named(banks, UP_BANK), one_named(banks, DOWN_BANK)
        if up is None or down is None or up is down:
            return None
        biases = [p for p in params if p not in (up, down)]
        up_bias = one_named(biases, rf"{up.attr}_?bias|{up.attr}_b")
        down_bias = one_named(biases, rf"{down.attr}_?bias|{down.attr}_b")
        if biases and (up_bias is None or down_bias is None or len(down_bias.shape) != 2):
            return None
        layout = bank_layout(up.shape, down.shape, down_bias.shape[1] if down_bias else None)
        if layout is None:
            return None
        choices, guessed = [], ""
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        limit, alpha = ctx.resolver.evidence("swiglu_limit"), ctx.resolver.evidence("swiglu_alpha")
        clamp = None
        if limit is not None and alpha is None:  # the gate and up clamped, then act(gate) * up
            if not isinstance(limit[1], (int, float)) or isinstance(limit[1], bool):
                return None
            clamp = float(limit[1])
            if mtype not in CLAMPED_GATE_UP_TYPES:
                guessed = (
                    f"swiglu_limit read as clamping the experts' gate and up; model_type "
                    f"{mtype!r} does not say whether its dense MLPs clamp too"
                )
        clamped = clamped_swiglu(ctx) if clamp is None else None  # GPT-OSS's
        if clamped == "unreadable":
            return None
        if clamped:
            activation, guessed = clamped[:3], clamped[3]
        else:
            chosen = ctx.choose(
                cls,
                up.attr,
                "activation",
                "silu",
                [a for a in act.TRANSFORMER if a != "silu"],
                "the experts' gate activation",
                aliases=act.ALIASES,
            )
            activation, choices = chosen.value, [chosen]
            if clamp is not None:
                activation = ("clamped", activation, clamp)
        interleaved = mtype in INTERLEAVED_GATE_UP_TYPES
        if interleaved and activation[0] != "clamped_swiglu":
            return None  # only its clamped swiglu reads interleaved halves
        if biases and mtype not in INTERLEAVED_GATE_UP_TYPES + CLAMPED_SWIGLU_TYPES:
            said = f"model_type {mtype!r} is not known to put gate before up, as halves"
            guessed = f"{guessed}; {said}" if guessed else said
        found = (paths.get(up.attr, (up.attr,)), paths.get(down.attr, (down.attr,)))
        found += (activation, layout, interleaved)
        found += (up_bias.attr if up_bias else None, down_bias.attr if down_bias else None)
        return Match(self, len(params), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        up, down, activation, layout, interleaved, up_bias, down_bias = match.found
        x = g.input("x")
        shared = g.call_method("unsqueeze", g.call_method("unsqueeze", x, -2, inline=True), -2)
        g[shared].name, g[shared].comment = "h", "[batch, seq, 1, 1, d_model]"
        weight = g.getattr(up)
        if layout == "out_major":
            weight = g.call_method("transpose", weight, 1, 2, inline=True)
        biased = up_bias is not None
        h = g.call_method(
            "squeeze", g.call_function("matmul", shared, weight, inline=True), -2, inline=biased
        )
        if biased:
            h = g.call_function("add", h, g.getattr((up_bias,)))
        g[h].name, g[h].comment = "h", "every expert: [batch, seq, experts, 2 * inner]"
        if isinstance(activation, tuple) and activation[0] == "clamped":
            h = _gated(g, h, activation[1], activation[2])
        elif isinstance(activation, tuple):
            _, alpha, limit = activation
            h = g.call_function("clamped_swiglu", h, alpha, limit, interleaved, name="h")
        else:
            h = _gated(g, h, activation)
        outs = _per_expert(g, h, g.getattr(down), layout == "in_major")
        if down_bias is not None:
            outs = g.call_function("add", outs, g.getattr((down_bias,)), name="outs")
        g.output(outs)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Experts(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gate_up_proj = nn.Parameter(torch.randn(4, 24, 8) * 8**-0.5)
                self.down_proj = nn.Parameter(torch.randn(4, 8, 12) * 12**-0.5)

        class Moe(nn.Module):  # transformers 5's in-memory Mixtral experts, top 2 of 4
            def __init__(self) -> None:
                super().__init__()
                self.gate = nn.Linear(8, 4, bias=False)
                self.experts = Experts()

            def forward(self, x):
                probs = F.softmax(self.gate(x), dim=-1)
                top, index = torch.topk(probs, 2, dim=-1)
                top = top / top.sum(-1, keepdim=True)
                out = torch.zeros_like(x)
                for e in range(4):
                    gate, up = F.linear(x, self.experts.gate_up_proj[e]).chunk(2, dim=-1)
                    y = F.linear(F.silu(gate) * up, self.experts.down_proj[e])
                    out = out + y * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
                return out

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.mlp = Moe()

            def forward(self, x):
                return self.mlp(x)

        class Bank(nn.Module):  # one 3-D weight, [experts, in, out] (Aria's fc1 / fc2)
            def __init__(self, experts: int, inp: int, out: int) -> None:
                super().__init__()
                self.weight = nn.Parameter(torch.randn(experts, inp, out) * inp**-0.5)

        class Banks(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc1, self.fc2 = Bank(4, 8, 24), Bank(4, 12, 8)

        class AriaMoe(nn.Module):  # Aria's: a softmax over the top 2 logits of 4
            def __init__(self) -> None:
                super().__init__()
                self.router = nn.Linear(8, 4, bias=False)
                self.experts = Banks()

            def forward(self, x):
                top, index = torch.topk(self.router(x), 2, dim=-1)
                top = F.softmax(top, dim=-1)
                out = torch.zeros_like(x)
                for e in range(4):
                    gate, up = (x @ self.experts.fc1.weight[e]).chunk(2, dim=-1)
                    y = (F.silu(gate) * up) @ self.experts.fc2.weight[e]
                    out = out + y * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
                return out

        class AriaHolder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.mlp = AriaMoe()

            def forward(self, x):
                return self.mlp(x)

        class ClampedMoe(Moe):  # HunYuan-V4's experts: gate and up clamped to swiglu_limit
            def forward(self, x):
                probs = F.softmax(self.gate(x), dim=-1)
                top, index = torch.topk(probs, 2, dim=-1)
                out = torch.zeros_like(x)
                for e in range(4):
                    gate, up = F.linear(x, self.experts.gate_up_proj[e]).chunk(2, dim=-1)
                    gate, up = gate.clamp(max=0.5), up.clamp(min=-0.5, max=0.5)
                    y = F.linear(F.silu(gate) * up, self.experts.down_proj[e])
                    out = out + y * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
                return out

        class ClampedHolder(Holder):
            def __init__(self) -> None:
                super().__init__()
                self.mlp = ClampedMoe()

        config = {"hidden_act": "silu", "model_type": "mixtral", "num_experts_per_tok": 2}
        aria = {"hidden_act": "silu", "model_type": "aria_text", "moe_topk": 2}
        clamped = {"hidden_act": "silu", "model_type": "hy_v4", "num_experts_per_tok": 2}
        clamped.update(swiglu_limit=0.5, norm_topk_prob=False, scoring_func="softmax")
        x = torch.randn(2, 5, 8)
        return [
            Example(Holder(), (x,), config),
            Example(AriaHolder(), (x,), aria),
            Example(ClampedHolder(), (x * 4,), clamped),
        ]


def _child_banks(cls, ctx: BlockContext) -> tuple[list, dict]:
    """The `weight` of each of two bias-free child banks, renamed by its child's name, and each
    one's path: ([], {}) where the children are not two classes holding one 3-D weight each."""
    members = modules(cls)
    if tensors(cls) or len(members) != 2:
        return [], {}
    params, paths = [], {}
    for m in members:
        child = ctx.classes.get(m.type_name) if m.kind == "class" else None
        held = tensors(child) if child is not None and not modules(child) else []
        if len(held) != 1 or held[0].attr != "weight" or len(held[0].shape) != 3:
            return [], {}
        args = {a.keyword: a.value for a in m.args if a.keyword}
        size = tuple(args.get(d.name, d) if isinstance(d, Ref) else d for d in held[0].shape)
        params.append(dataclasses.replace(held[0], attr=m.attr, shape=size))
        paths[m.attr] = (m.attr, "weight")
    return params, paths


def consistent(up: tuple, down: tuple) -> bool:
    """Banks [experts, 2 * inner, d_model] and [experts, d_model, inner], as far as sizes lifted
    to constructor parameters (the same parameter, or numbers) show it."""
    return bank_layout(up, down) == "out_major"


def _same(a, b) -> bool:
    return a == b if type(a) is type(b) else True  # a number beside a parameter: unknown


def bank_layout(up: tuple, down: tuple, d_model=None) -> str | None:
    """How two banks hold their experts' weights: "out_major" [experts, out, in] (transformers
    5's gate_up_proj [experts, 2 * inner, d_model]), or "in_major" [experts, in, out] (GPT-OSS's
    [experts, d_model, 2 * inner], applied as x @ W); None when neither fits. Without `d_model`
    (the down bank's bias width) only the first is read."""
    if len(up) != 3 or len(down) != 3 or not _same(up[0], down[0]):
        return None

    def doubled(wide, narrow) -> bool:
        return wide == 2 * narrow if type(wide) is int and type(narrow) is int else True

    if d_model is None or (_same(up[2], d_model) and _same(down[1], d_model)):
        if _same(up[2], down[1]) and doubled(up[1], down[2]):
            return "out_major"
    if d_model is not None and _same(up[1], d_model) and _same(down[2], d_model):
        if doubled(up[2], down[1]):
            return "in_major"
    # mla11: without a bias, the sizes alone (Llama 4's [experts, d_model, 2 * inner] and
    # [experts, inner, d_model]; the two layouts cannot both fit the same sizes)
    if d_model is None and type(up[2]) is int and type(down[1]) is int and up[2] == 2 * down[1]:
        if _same(up[1], down[2]) and up[1] != up[2]:
            return "in_major"
    return None


def _per_expert(g: Graph, h, weight, in_major: bool = False):
    """h [..., experts, in] through each expert's own weight [experts, out, in] (or [experts, in,
    out] when `in_major`)."""
    w = weight if in_major else g.call_method("transpose", weight, 1, 2, inline=True)
    y = g.call_function("matmul", g.call_method("unsqueeze", h, -2, inline=True), w, inline=True)
    return g.call_method("squeeze", y, -2, name="outs", comment="[batch, seq, experts, d_model]")


def _gated(g: Graph, h, activation: str, limit: float | None = None):
    """`act(gate) * up` of a fused gate/up output h (gate first); with a `limit`, the gate
    clamped from above and up on both sides first."""
    halves = g.call_method("chunk", h, 2, kwargs={"dim": -1}, name="gate_up")
    gate = g.call_function("getitem", halves, 0, inline=True)
    upped = g.call_function("getitem", halves, 1, inline=True)
    if limit is not None:
        gate = g.call_method("clamp", gate, kwargs={"max": limit}, name="gate")
        upped = g.call_method("clamp", upped, -limit, limit, name="up")
    return g.call_function("mul", act.apply(g, activation, gate, inline=True), upped, name="h")


class RouterLayer(BlockPattern):
    """A router's one Linear in a class of its own (GraniteMoE's `router.layer`)."""

    role = "Router"
    priority = 5
    named = ROUTER

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "linear":
            return None
        if not re.fullmatch(ROUTER, cls.named or "", re.IGNORECASE):
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("x")), comment="[..., experts]")

    @staticmethod
    def examples():
        return ExpertBank.examples()  # its router is one


def _shared_expert(ctx: BlockContext, members: list) -> tuple:
    """(the shared expert, its gate) among a mixture's members: (None, None) where there is none,
    (False, None) where the names say one but the shapes do not (a gate is one value per token)."""
    shared = one_named([m for m in members if ctx.role(m) == "MLP"], SHARED)
    if shared is None:
        return None, None
    gates = [m for m in members if family(m) == "linear" and m is not shared]
    gate = one_named(gates, SHARED_GATE)
    if gate is not None and not (gate.io and gate.io.out_width == 1):
        return False, None
    return shared, gate


class ExpertBank(BlockPattern):
    role = "MoE"
    priority = 10
    synonyms = SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        # moe10: a bias added to the mixture's output (JetMoE's, beside GraniteMoE's banks)
        params = tensors(cls)
        if len(params) > 1 or params and (params[0].attr != "bias" or len(params[0].shape) != 1):
            return None
        # mla11: an expert every token uses beside the banks (Mistral 4, DeepSeek-V3.2 saved by
        # transformers 5: fused experts and `shared_experts`), scaled by sigmoid(its gate) or not
        shared, shared_gate = _shared_expert(ctx, members)
        if shared is False:
            return None
        members = [m for m in members if m not in (shared, shared_gate)]
        if len(members) not in (2, 3) or params and len(members) != 3:
            return None
        model_type = ctx.resolver.evidence("model_type")
        if model_type is not None and model_type[1] in INPUT_WEIGHTED:
            return None  # its experts' inputs are weighted: input_weighted_experts.py
        routers = [m for m in members if ctx.role(m) in ("Router", "linear")]
        if len(routers) != 1:
            return None
        router = routers[0]
        whole = [m for m in members if ctx.role(m) == "Experts"]  # both banks in one class
        if len(members) == 2:
            if len(whole) != 1:
                return None
            up, down = whole[0], None
            shapes = self._weights(ctx, up)
        else:
            banks = [m for m in members if ctx.role(m) == "ExpertLinear"]
            up, down = one_named(banks, UP_BANK), one_named(banks, DOWN_BANK)
            if len(banks) != 2 or up is None or down is None or up is down:
                return None
            shapes = self._weights(ctx, up) + self._weights(ctx, down)
        experts, correction = router_width(ctx, router)
        # experts stored flat (flat_experts.py) show no count of their own: their class read it
        flat = down is None and not shapes
        if not flat and len(shapes) != 2 or not isinstance(experts, int):
            return None
        if down is not None and not consistent(*shapes):  # (an Experts class checked its own)
            return None
        if experts < 2 or not flat and shapes[0][0] != experts and type(shapes[0][0]) is int:
            return None  # one router logit per expert
        # softmax over the top-k logits (GraniteMoE) is the top-k probabilities renormalised
        routed = routing(ctx, cls, router.attr, experts, correction)
        if routed is None:
            return None
        spec, choices, guessed = routed
        activation = None
        if down is not None:  # the banks are applied here: the gate's activation is this class's
            activation = ctx.choose(
                cls,
                up.attr,
                "activation",
                "silu",
                [a for a in act.TRANSFORMER if a != "silu"],
                "the experts' gate activation",
                aliases=act.ALIASES,
            )
            choices.append(activation)
        if guessed and down is not None:
            guessed += "; gate before up in the fused bank is the usual order, too"
        found = (router.attr, up.attr, down.attr if down else None, spec)
        found += (activation.value if activation else None, bool(params))
        found += ((shared.attr, shared_gate.attr if shared_gate else None) if shared else None,)
        explained = len(members) + len(params) + (shared is not None) + (shared_gate is not None)
        return Match(self, explained, found, choices, guessed=guessed)

    @staticmethod
    def _weights(ctx: BlockContext, m) -> list[tuple]:
        """The shapes of a member class's tensors (up bank first), where they are plain sizes."""
        cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
        params = sorted(tensors(cls) if cls is not None else [], key=lambda p: p.attr != "weight")
        params = [p for p in params if len(p.shape) == 3]  # not the banks' biases
        if len(params) == 2:
            params = [one_named(params, UP_BANK), one_named(params, DOWN_BANK)]
        return [tuple(p.shape) for p in params] if None not in params else []

    def forward(self, match: Match, g: Graph) -> None:
        router, up, down, spec, activation, biased, shared = match.found
        x = g.input("x")
        logits = g.call_module((router,), x, inline=True)
        weights = spec.weights(g, logits, comment=f"the top {spec.top_k} experts' weights")
        if down is None:
            outs = g.call_module((up,), x, name="outs", comment="[batch, seq, experts, d_model]")
        else:
            h = g.call_module(
                (up,),
                g.call_method("unsqueeze", x, -2, inline=True),
                name="h",
                comment="every expert: [batch, seq, experts, 2 * inner]",
            )
            h = _gated(g, h, activation)
            outs = g.call_module((down,), h, name="outs", comment="[batch, seq, experts, d_model]")
        mixed = g.call_function(
            "mul", outs, g.call_method("unsqueeze", weights, -1, inline=True), inline=True
        )
        if biased:
            mixed = g.call_method("sum", mixed, -2, inline=True)
            g.output(g.call_function("add", mixed, g.getattr(("bias",))), comment="[batch, seq, d]")
            return
        if shared is not None:
            g.output(add_shared(g, x, g.call_method("sum", mixed, -2, name="out"), *shared))
            return
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
