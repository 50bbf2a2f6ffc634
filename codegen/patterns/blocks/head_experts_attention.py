"""Mixture of attention heads (JetMoE's MoA; moe10): the query and output projections are experts
a router picks per token, keys and values are shared.

    index, gates = top k of router(x), softmax over the k logits      [batch, seq, k] each
    q = input bank of the chosen experts (x)       [batch, seq, k, kv_heads * head_dim]
    k, v = kv_proj(x) halves                       [batch, seq, kv_heads * head_dim] each
    heads: k * kv_heads queries (slot by slot), keys and values repeated k times (not interleaved);
    rotary on q and k; causal softmax attention scaled by 1/sqrt(head_dim)
    out = sum over slots of gate * output bank of the slot's expert (its heads) + bias

Recognised from the structure: a Linear `kv_proj` d -> 2 * width beside a mixture whose router,
expert banks (input [experts, width, d], output [experts, d, width]) and output bias this class
calls one by one (the mixture's own forward, expert_bank.py, is the feed-forward one). The head
split (kv_heads, head_dim), the number of chosen experts and the rotary base come from
config.json; the file says 'guessed' where the model type's rotary layout is not known.
Every expert's queries and outputs are computed and the chosen ones gathered: exact and
scriptable, at the cost of the unchosen experts' work.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named
from codegen.patterns._kit import tensors
from codegen.patterns._rope_conventions import rotary_layout
from codegen.patterns.blocks.expert_bank import DOWN_BANK, UP_BANK
from codegen.patterns.blocks.router import SYNONYMS as ROUTER_SYNONYMS

KV = r"kv_proj|kv|w_kv|kv_linear"
HEAD_DIM = ("kv_channels", "head_dim")
KV_HEADS = ("num_key_value_heads", "num_kv_heads")


class HeadExpertsAttention(BlockPattern):
    role = "Attention"
    priority = 12
    synonyms = {**ROUTER_SYNONYMS, "rope_theta": ("rope_theta",)}

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        kv = one_named([m for m in members if family(m) == "linear"], KV)
        mixture = [m for m in members if m is not kv and ctx.role(m) == "MoE"]
        if kv is None or len(mixture) != 1 or kv.io is None:
            return None
        parts = self._parts(ctx, mixture[0])
        if parts is None:
            return None
        router, up, down, experts = parts
        width = kv.io.out_width // 2 if isinstance(kv.io.out_width, int) else None
        head_dim = ctx.resolver.evidence(*HEAD_DIM)
        kv_heads = ctx.resolver.evidence(*KV_HEADS)
        if width is None or kv.io.out_width % 2 or head_dim is None or kv_heads is None:
            return None
        if type(head_dim[1]) is not int or type(kv_heads[1]) is not int:
            return None
        if head_dim[1] * kv_heads[1] != width or head_dim[1] % 2:
            return None
        top_k = ctx.resolver.evidence(*ROUTER_SYNONYMS["top_k"])
        if top_k is None or type(top_k[1]) is not int or not 1 <= top_k[1] <= experts:
            return None
        ctx.resolver.evidence("num_attention_heads")  # k * kv_heads: what the split gives
        theta = ctx.resolver.evidence("rope_theta")
        params = ctx.resolver.evidence("rope_type")
        if theta is None or type(theta[1]) not in (int, float):
            return None
        if params is not None and params[1] != "default":
            ctx.resolver.consumed.discard("rope_type")
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        guessed = ""
        if rotary_layout(mtype) != "halves":
            guessed = (
                f"rotary turning halves is the usual layout; model_type {mtype!r} is unsurveyed"
            )
        found = (kv.attr, mixture[0].attr, router, up, down, top_k[1], kv_heads[1], head_dim[1])
        found += (float(theta[1]),)
        return Match(self, 2 + 4, found, [], guessed=guessed)

    @staticmethod
    def _parts(ctx: BlockContext, mixture):
        """(router, input bank, output bank, experts) of a biased bank mixture, else None."""
        cls = ctx.classes.get(mixture.type_name) if mixture.kind == "class" else None
        if cls is None:
            return None
        members, params = modules(cls), tensors(cls)
        if len(params) != 1 or params[0].attr != "bias" or len(members) != 3:
            return None
        banks = [m for m in members if ctx.role(m) == "ExpertLinear"]
        routers = [m for m in members if ctx.role(m) in ("Router", "linear")]
        up, down = one_named(banks, UP_BANK), one_named(banks, DOWN_BANK)
        if len(routers) != 1 or up is None or down is None or up is down:
            return None
        bank = ctx.classes.get(up.type_name)
        weight = tensors(bank)[0] if bank is not None and tensors(bank) else None
        experts = weight.shape[0] if weight is not None else None
        if not isinstance(experts, int) or experts < 2:
            return None
        if not re.fullmatch(r"\w+", routers[0].attr):
            return None
        return routers[0].attr, up.attr, down.attr, experts

    def forward(self, match: Match, g: Graph) -> None:
        kv, mix, router, up, down, top_k, kv_heads, head_dim, theta = match.found
        x = g.input("x")  # [batch, seq, d_model]
        mask = g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        mask = g.call_function(
            "causal_padding_mask",
            mask,
            seq,
            g.call_method("device", x, inline=True),
            name="mask",
            comment="earlier positions only",
        )
        logits = g.call_module((mix, router), x, inline=True)
        chosen = g.call_function(
            "top_k_softmax", logits, top_k, name="chosen", comment="(experts, gates) per token"
        )
        index = g.call_function("getitem", chosen, 0, name="index")
        gates = g.call_function("getitem", chosen, 1, name="gates")
        every = g.call_module(
            (mix, up),
            g.call_method("unsqueeze", x, -2, inline=True),
            name="q",
            comment="every expert's queries: [batch, seq, experts, kv_heads * head_dim]",
        )
        q = g.call_function("gather_experts", every, index, inline=True)
        q = g.call_method("view", q, batch, seq, -1, head_dim, inline=True)
        q = g.call_method(
            "transpose", q, 1, 2, name="q", comment=f"{top_k} x {kv_heads} heads, slot by slot"
        )
        pair = g.call_method(
            "chunk", g.call_module((kv,), x, inline=True), 2, kwargs={"dim": -1}, name="kv"
        )
        k, v = (
            g.call_method(
                "transpose",
                g.call_method(
                    "view",
                    g.call_function("getitem", pair, i, inline=True),
                    batch,
                    seq,
                    kv_heads,
                    head_dim,
                    inline=True,
                ),
                1,
                2,
                name=n,
            )
            for i, n in enumerate("kv")
        )
        q = g.call_function("apply_rotary", q, theta, head_dim, name="q")
        k = g.call_function("apply_rotary", k, theta, head_dim, name="k")
        # each slot's heads share the keys and values in turn (repeated, not interleaved)
        k = g.call_function(
            "cat", [k] * top_k, kwargs={"dim": 1}, name="k", comment="repeated, not interleaved"
        )
        v = g.call_function("cat", [v] * top_k, kwargs={"dim": 1}, name="v")
        y = g.call_function(
            "F.scaled_dot_product_attention", q, k, v, kwargs={"attn_mask": mask}, name="y"
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, top_k, -1, name="y", comment="per slot")
        outs = g.call_module(
            (mix, down),
            g.call_method("unsqueeze", y, -2, inline=True),
            name="outs",
            comment="every expert on every slot: [batch, seq, k, experts, d_model]",
        )
        picked = g.call_function(
            "gather_experts", outs, g.call_method("unsqueeze", index, -1, inline=True), inline=True
        )
        picked = g.call_method("squeeze", picked, -2, inline=True)
        weighted = g.call_function(
            "mul", picked, g.call_method("unsqueeze", gates, -1, inline=True), inline=True
        )
        summed = g.call_method("sum", weighted, -2, inline=True)
        g.output(
            g.call_function("add", summed, g.getattr((mix, "bias"))), comment="[batch, seq, d]"
        )

    @staticmethod
    def examples():
        return [_example()]  # tests/test_moe_10.py compares JetMoE itself with its library


def _example() -> Example:
    """The sum above written out per slot, with JetMoE's names (2 kv heads of 4, 4 experts, top 2)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, kv_heads, head_dim, experts, top_k = 16, 2, 4, 4, 2

    class Bank(nn.Module):  # one weight per expert, [experts, out, in]
        def __init__(self, n_in: int, n_out: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(experts, n_out, n_in) / n_in**0.5)

    class Gating(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Linear(d, experts, bias=False)

    class Mixture(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = nn.Parameter(torch.randn(d))
            self.input_linear = Bank(d, kv_heads * head_dim)
            self.output_linear = Bank(kv_heads * head_dim, d)
            self.router = Gating()

    def rotate(t: torch.Tensor) -> torch.Tensor:  # halves layout, base 10000
        inv = 1.0 / 10000.0 ** (torch.arange(0, head_dim, 2).float() / head_dim)
        angles = torch.arange(t.size(-2)).float()[:, None] * inv
        cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()
        first, second = t.chunk(2, dim=-1)
        return t * cos + torch.cat([-second, first], -1) * sin

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kv_proj = nn.Linear(d, 2 * kv_heads * head_dim, bias=False)
            self.experts = Mixture()

        def forward(self, x):
            b, s, _ = x.shape
            top, index = self.experts.router.layer(x).topk(top_k, dim=-1)
            gates = top.softmax(dim=-1)
            k, v = (
                t.view(b, s, kv_heads, head_dim).transpose(1, 2)
                for t in self.kv_proj(x).chunk(2, dim=-1)
            )
            k = rotate(k)
            out = self.experts.bias.expand(b, s, d)
            for slot in range(top_k):  # each slot's queries see the shared keys and values
                w_in = self.experts.input_linear.weight[index[..., slot]]  # [b, s, out, in]
                q = (w_in @ x[..., None]).squeeze(-1).view(b, s, kv_heads, head_dim)
                q = rotate(q.transpose(1, 2))
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                y = y.transpose(1, 2).reshape(b, s, -1)
                w_out = self.experts.output_linear.weight[index[..., slot]]
                out = out + gates[..., slot, None] * (w_out @ y[..., None]).squeeze(-1)
            return out

    class FeedForward(Mixture):  # the layer's expert MLP: gated banks of the same class
        def __init__(self, inner: int = 12) -> None:
            nn.Module.__init__(self)
            self.bias = nn.Parameter(torch.randn(d))
            self.input_linear = Bank(d, 2 * inner)
            self.output_linear = Bank(inner, d)
            self.router = Gating()

        def forward(self, x):
            top, index = self.router.layer(x).topk(top_k, dim=-1)
            gates = top.softmax(dim=-1)
            out = self.bias.expand_as(x)
            for slot in range(top_k):
                w_in = self.input_linear.weight[index[..., slot]]
                gate, up = (w_in @ x[..., None]).squeeze(-1).chunk(2, dim=-1)
                h = F.silu(gate) * up
                w_out = self.output_linear.weight[index[..., slot]]
                out = out + gates[..., slot, None] * (w_out @ h[..., None]).squeeze(-1)
            return out

    class Layer(nn.Module):
        # JetMoE's banks are one class for the attention's experts and the MLP's: their sizes
        # are the class's parameters, as in the library's checkpoints
        def __init__(self) -> None:
            super().__init__()
            self.input_layernorm = nn.RMSNorm(d)
            self.self_attention = Attention()
            self.post_attention_layernorm = nn.RMSNorm(d)
            self.mlp = FeedForward()

        def forward(self, x):
            x = x + self.self_attention(self.input_layernorm(x))
            return x + self.mlp(self.post_attention_layernorm(x))

    torch.manual_seed(0)
    config = {
        "model_type": "jetmoe",
        "kv_channels": head_dim,
        "num_key_value_heads": kv_heads,
        "num_attention_heads": top_k * kv_heads,
        "num_experts_per_tok": top_k,
        "rope_theta": 10000.0,
        "rms_norm_eps": 1e-5,
        "hidden_act": "silu",
    }
    return Example(Layer(), (torch.randn(2, 5, d),), config)
