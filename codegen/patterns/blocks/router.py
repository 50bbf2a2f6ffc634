"""A mixture of experts' router, and how it turns logits into each expert's weight per token.

`ScoredRouter`: a router stored as bare tensors rather than an nn.Linear: a `weight` [experts,
d_model], an optional `bias` [experts], and an optional per-expert correction bias
(`e_score_correction_bias`, DeepSeek-V3 style) that steers which experts are chosen but not their
weights. Its forward is the logits; the mixture reads the correction bias where it routes.

`routing(...)`: the choices every mixture pattern shares, read from config.json where it says them:
experts per token (top_k), scores by softmax or sigmoid, the correction bias, grouped top-k
(n_group / topk_group: the best groups by their two best scores, then the top-k among them),
renormalising the chosen weights, and routed_scaling_factor. Top-k of the logits then a softmax
over them (GPT-OSS, GraniteMoE, DBRX with its L1 norm) is softmax-then-top-k renormalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codegen.ir import Ref
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns._router_conventions import CORRECTION_SWITCHES, ROUTER_CONVENTIONS, SCALE_KEYS

ROUTER_NAMES = r"gate|router|w_gate|gating|switch|\w*router\w*"
# A per-expert bias added to the scores for choosing experts only (DeepSeek-V3, GLM-4-MoE, dots1,
# ERNIE 4.5 keeps it in a `moe_statics` child).
CORRECTION = r"e_score_correction_bias|expert_bias|\w*score_correction\w*|\w*selection_bias"
STATICS = r"moe_statics|\w*statics"

# How each family scores its router logits and whether it renormalises the chosen weights, read
# from its modeling code (patterns/_router_conventions.py; tests compare each): any other
# model_type routes by the default (softmax; sigmoid where a correction bias is stored), and the
# file says 'guessed' unless config.json names it (scoring_func).
SCORING_BY_TYPE = {t: c.scoring for t, c in ROUTER_CONVENTIONS.items()}
# Families that keep the chosen experts' weights as they are (no config key says it).
NEVER_NORMALIZED = tuple(t for t, c in ROUTER_CONVENTIONS.items() if c.normalized is False)
# Families that always renormalise the chosen experts' weights (no config key says it), or route
# by a softmax over the top-k logits, which is the same.
ALWAYS_NORMALIZED = tuple(t for t, c in ROUTER_CONVENTIONS.items() if c.normalized is True)

SYNONYMS = {
    "top_k": (
        "num_experts_per_tok",
        "moe_top_k",
        "num_selected_experts",
        "top_k",
        "moe_k",
        "moe_topk",
        "num_experts_per_token",  # lin11: Kimi Linear's
    ),
    "normalize_top_k": ("norm_topk_prob", "moe_renormalize"),  # Kimi Linear's second
    "scoring": ("scoring_func",),
    "groups": ("n_group",),
    "top_groups": ("topk_group",),
    "scale": SCALE_KEYS,
}


@dataclass(frozen=True)
class Routing:
    """How router logits become expert weights (render/helpers/routing.py expert_routing)."""

    top_k: int
    normalize: bool
    scoring: str = "softmax"
    correction: tuple[str, ...] | None = None  # the correction bias's path from the mixture
    groups: int = 1
    top_groups: int = 1
    scale: float = 1.0

    @property
    def plain(self) -> bool:
        """Softmax then top-k and nothing else: top_k_routing says it."""
        plain = (self.scoring, self.correction, self.groups, self.scale) == ("softmax", None, 1, 1)
        return plain

    def weights(self, g: Graph, logits, comment: str = ""):
        comment = comment or f"[batch, seq, experts]: the top {self.top_k}, zero elsewhere"
        if self.plain:
            return g.call_function(
                "top_k_routing",
                logits,
                self.top_k,
                self.normalize,
                name="weights",
                comment=comment,
            )
        correction = g.getattr(self.correction) if self.correction else None
        return g.call_function(
            "expert_routing",
            logits,
            correction,
            self.top_k,
            self.scoring == "sigmoid",
            self.normalize,
            self.scale,
            self.groups,
            self.top_groups,
            name="weights",
            comment=comment,
        )


class ScoredRouter(BlockPattern):
    role = "Router"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = {t.attr: t for t in tensors(cls)}
        weight = params.get("weight")
        if weight is None or len(weight.shape) != 2:
            return None
        bias = params.get("bias")
        others = [t for a, t in params.items() if a not in ("weight", "bias")]
        statics = [m for m in modules(cls) if correction_member(ctx, m) is not None]
        if len(modules(cls)) != len(statics) or len(others) + len(statics) > 1:
            return None
        if others and not re.fullmatch(CORRECTION, others[0].attr, re.IGNORECASE):
            return None
        if not others and not statics and not re.fullmatch(ROUTER_NAMES, cls.named or "", re.I):
            return None  # a bare weight is a router only where it is named as one
        if bias is not None and len(bias.shape) != 1:
            return None
        return Match(self, len(params) + len(statics), bias is not None)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        bias = (g.getattr(("bias",)),) if match.found else ()
        logits = g.call_function("linear", x, g.getattr(("weight",)), *bias)
        g.output(logits, comment="[..., experts]: one logit per expert")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Router(nn.Module):  # DeepSeek-V3's: sigmoid scores, a correction bias, 2 groups
            def __init__(self) -> None:
                super().__init__()
                self.weight = nn.Parameter(torch.randn(8, 16))
                self.e_score_correction_bias = nn.Parameter(torch.randn(8) * 0.1)

        class Mlp(nn.Module):
            def __init__(self, inner: int) -> None:
                super().__init__()
                self.gate_proj = nn.Linear(16, inner, bias=False)
                self.up_proj = nn.Linear(16, inner, bias=False)
                self.down_proj = nn.Linear(inner, 16, bias=False)

            def forward(self, x):
                return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

        class Moe(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gate = Router()
                self.experts = nn.ModuleList(Mlp(12) for _ in range(8))
                self.shared_experts = Mlp(24)

            def forward(self, x):
                scores = F.linear(x, self.gate.weight).sigmoid()
                choice = scores + self.gate.e_score_correction_bias
                best = choice.view(2, 5, 2, 4).topk(2, dim=-1)[0].sum(-1)
                keep = torch.zeros_like(best).scatter(-1, best.topk(1, dim=-1)[1], 1.0)
                choice = choice.masked_fill(keep.repeat_interleave(4, -1) == 0, float("-inf"))
                index = choice.topk(3, dim=-1)[1]
                top = scores.gather(-1, index)
                top = top / top.sum(-1, keepdim=True) * 2.5
                out = self.shared_experts(x)
                for e, expert in enumerate(self.experts):
                    out = out + expert(x) * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
                return out

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.mlp = Moe()

            def forward(self, x):
                return self.mlp(x)

        config = {
            "hidden_act": "silu",
            "model_type": "deepseek_v3",
            "num_experts_per_tok": 3,
            "n_group": 2,
            "topk_group": 1,
            "norm_topk_prob": True,
            "routed_scaling_factor": 2.5,
        }
        return [Example(Holder(), (torch.randn(2, 5, 16),), config)]


class ScoreCorrection(BlockPattern):
    """A class holding only a correction bias (ERNIE 4.5's `moe_statics`, beside its router):
    its own forward adds the bias to scores; the mixture reads the bias where it routes."""

    role = "ScoreCorrection"
    priority = 5
    named = STATICS

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1:
            return None
        if not re.fullmatch(CORRECTION, params[0].attr, re.IGNORECASE):
            return None
        if not re.fullmatch(STATICS, cls.named or "", re.IGNORECASE):
            return None
        return Match(self, 1, params[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        bias = g.call_method("reshape", g.getattr((match.found,)), -1, inline=True)
        g.output(g.call_function("add", g.input("x"), bias), comment="scores steered for choice")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Statics(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.e_score_correction_bias = nn.Parameter(torch.randn(1, 4) * 0.2)

        class Mlp(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.gate_proj = nn.Linear(16, 8, bias=False)
                self.up_proj = nn.Linear(16, 8, bias=False)
                self.down_proj = nn.Linear(8, 16, bias=False)

            def forward(self, x):
                return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

        class Moe(nn.Module):  # ERNIE 4.5's: softmax scores, the bias beside the router
            def __init__(self) -> None:
                super().__init__()
                self.gate = nn.Linear(16, 4, bias=False)
                self.moe_statics = Statics()
                self.experts = nn.ModuleList(Mlp() for _ in range(4))

            def forward(self, x):
                scores = F.softmax(self.gate(x), dim=-1)
                choice = scores + self.moe_statics.e_score_correction_bias.squeeze()
                index = choice.topk(2, dim=-1)[1]
                top = scores.gather(-1, index)
                top = top / top.sum(-1, keepdim=True)
                out = torch.zeros_like(x)
                for e, expert in enumerate(self.experts):
                    out = out + expert(x) * ((index == e).to(x.dtype) * top).sum(-1, keepdim=True)
                return out

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.mlp = Moe()

            def forward(self, x):
                return self.mlp(x)

        config = {"hidden_act": "silu", "model_type": "ernie4_5_moe", "moe_k": 2}
        return [Example(Holder(), (torch.randn(2, 5, 16),), config)]


def correction_member(ctx: BlockContext, m) -> str | None:
    """The attribute of a child class holding only a correction bias (ERNIE's `moe_statics`)."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if cls is None or modules(cls) or not re.fullmatch(STATICS, m.attr, re.IGNORECASE):
        return None
    params = tensors(cls)
    if len(params) != 1 or not re.fullmatch(CORRECTION, params[0].attr, re.IGNORECASE):
        return None
    return params[0].attr


# config.json's count of routed experts (where the router's width is a constructor parameter)
EXPERT_COUNTS = ("moe_num_experts", "num_experts", "num_local_experts", "n_routed_experts")


def router_width(ctx: BlockContext, router) -> tuple[int | None, tuple[str, ...] | None]:
    """(how many logits a router member gives, the path of its correction bias if it has one)."""
    if router.io is not None and isinstance(router.io.out_width, int) and router.kind != "class":
        return router.io.out_width, None
    cls = ctx.classes.get(router.type_name) if router.kind == "class" else None
    if cls is None:
        return None, None
    params = {t.attr: t for t in tensors(cls)}
    width = router.io.out_width if router.io is not None else None
    correction = None
    for attr, t in params.items():
        if re.fullmatch(CORRECTION, attr, re.IGNORECASE):
            correction = (router.attr, attr)
    for m in modules(cls):
        inner = correction_member(ctx, m)
        if inner is not None:
            correction = (router.attr, m.attr, inner)
    rows = params["weight"].shape[0] if "weight" in params else None
    if isinstance(rows, Ref):  # a constructor parameter: the value this member passes
        rows = next((a.value for a in router.args if a.keyword == rows.name), None)
    if isinstance(rows, Ref):  # ... itself a parameter of the mixture (lifted beside its bank's
        said = ctx.resolver.evidence(*EXPERT_COUNTS)  # count): config.json's count of experts
        rows = said[1] if said is not None else None
    if isinstance(rows, int):
        width = rows
    return width, correction


def routing(
    ctx: BlockContext,
    cls,
    router: str,
    experts: int,
    correction: tuple[str, ...] | None = None,
    normalize_default: bool = True,
):
    """(Routing, its choices, what is guessed) for a router of `experts` logits; None when a value
    config.json gives cannot route over them."""
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
    # Keys that say it another way: ERNIE 4.5 divides by the sum clamped at moe_norm_min (a
    # bound far below any sum of top-k scores); DBRX by the weights' p-norm, the sum for p = 1.
    said = ctx.resolver.evidence("moe_norm_min", "moe_normalize_expert_weights")
    if said is not None and said[0].endswith("moe_normalize_expert_weights"):
        if said[1] not in (None, 1):
            return None  # another p-norm: not a choice here
        normalize_default = said[1] == 1
    elif said is not None:
        normalize_default = True
    normalize = ctx.choose(
        cls,
        router,
        "normalize_top_k",
        normalize_default,
        [not normalize_default],
        "the chosen experts' weights renormalised to sum to one",
    )
    if said is not None and normalize.source == "default":
        normalize.source, normalize.note = "metadata", f"{said[0]} {said[1]!r}"
    model_type = ctx.resolver.evidence("model_type")
    mtype = model_type[1] if model_type else None
    if mtype in ALWAYS_NORMALIZED and normalize.source == "default" and normalize.value:
        normalize.source, normalize.note = "metadata", f"{model_type[0]} {mtype!r}"
    if mtype in NEVER_NORMALIZED and normalize.source == "default":
        normalize.value, normalize.alternatives = False, [True]
        normalize.source, normalize.note = "metadata", f"{model_type[0]} {mtype!r}"
    choices = [top_k, normalize]
    known = SCORING_BY_TYPE.get(mtype)
    scoring = ctx.choose(
        cls,
        router,
        "scoring",
        known or ("sigmoid" if correction else "softmax"),
        ["softmax", "sigmoid"],
        "router scores: softmax over the experts, or each one's sigmoid",
    )
    if known is not None and scoring.source == "default":
        scoring.source, scoring.note = "metadata", f"{model_type[0]} {mtype!r}"
    choices.append(scoring)
    groups = top_groups = 1
    # DeepSeek-V2's topk_method: "greedy" is the plain top-k whatever n_group says; its
    # "group_limited_greedy" ranks groups by their best score, not written here: the key stays
    # unused, so the file says so. "noaux_tc" is the grouped top-k below.
    method = ctx.resolver.evidence("topk_method")
    greedy = method is not None and method[1] == "greedy"
    if method is not None and method[1] not in ("greedy", "noaux_tc"):
        ctx.resolver.consumed.discard("topk_method")
    group = (None, None)
    if greedy:
        ctx.resolver.consumed.update(("n_group", "num_expert_group", "topk_group"))
    else:
        group = ctx.resolver.evidence("n_group", "num_expert_group"), ctx.resolver.evidence(
            "topk_group"
        )
    if group[0] is not None and group[0][1] not in (None, 1):
        groups = group[0][1]
        top_groups = group[1][1] if group[1] is not None else None
        if not (isinstance(groups, int) and isinstance(top_groups, int)):
            return None
        if experts % groups or not 1 <= top_groups <= groups or experts // groups < 2:
            return None
    scale = ctx.resolver.evidence(*SCALE_KEYS)
    if scale is not None and (type(scale[1]) not in (int, float) or scale[1] <= 0):
        return None  # a factor not written here: the key stays on the file's list
    scale = float(scale[1]) if scale else 1.0
    # a key that switches the correction bias must agree with what the checkpoint holds
    switch = ctx.resolver.evidence(*CORRECTION_SWITCHES)
    if switch is not None and switch[1] is not (correction is not None):
        ctx.resolver.consumed.difference_update(CORRECTION_SWITCHES)
    guessed = ""
    if known is None and scoring.source == "default":
        guessed = (
            f"routing by {scoring.value} scores then top-k is the usual one"
            + (" with a correction bias; " if correction else "; ")
            + (f"model_type {mtype!r}" if mtype else "no config.json")
            + " does not say it is this model's"
        )
    spec = Routing(
        int(top_k.value),
        bool(normalize.value),
        scoring.value,
        correction,
        groups,
        top_groups,
        scale,
    )
    return spec, choices, guessed
