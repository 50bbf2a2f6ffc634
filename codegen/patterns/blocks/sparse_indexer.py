"""A sparse attention's indexer (DeepSeek Sparse Attention: DeepSeek-V3.2, GLM-MoE-DSA): a light
scorer beside a latent attention that keeps, for each query, only the `index_topk` keys it scores
highest; the attention then sees those keys only (and, as ever, earlier ones, not padding).

    q = wq_b(q_resid)  per index head [batch, heads, seq, dim]   (q_resid: the attention's normed
    k = k_norm(wk(x))  one key head   [batch, 1, seq, dim]        low-rank query)
    both turned on their first rotary features, with the attention's own frequencies
    score[t] = sum over heads of weights_proj(x)[h] / sqrt(heads) * relu(q[h] . k[t] / sqrt(dim))
    keep the top index_topk allowed keys of each query

Every key is kept where the input is no longer than index_topk: the indexer then changes nothing.
Past that, the kept keys follow the scores' order; two keys scored within rounding of each other
may swap places at the boundary, as they may between two runs of the library on different hardware.

The members' roles come from their shapes: the key projection is as wide as the norm after it, the
weights give one value per index head, the query projection gives heads times the key's width. How
the rotary part turns (halves or neighbours) is each family's, read from its modeling code
(INDEXER_ROTARY); for another model_type the file says the layout is a guess.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules

# model_type -> how the indexer's rotary part turns: DeepSeek-V3.2 by halves (apply_rotary_pos_emb,
# while its attention turns neighbours), GLM-MoE-DSA by neighbours (apply_rotary_pos_emb_interleave)
INDEXER_ROTARY = {"deepseek_v32": "halves", "glm_moe_dsa": "interleaved"}
# config.json's names of the sizes the shapes show
SIZE_KEYS = {"index_n_heads": "heads", "index_head_dim": "dim"}
DEFAULT_TOP_K = 2048  # DeepSeek-V3.2's, where config.json does not say


def _out(m) -> int | None:
    return m.io.out_width if m.io else None


def _in(m) -> int | None:
    return m.io.in_width if m.io else None


def find_roles(members: list) -> dict | None:
    """{"q", "k", "k_norm", "weights", "heads", "dim"} by shapes, or None."""
    linears = [m for m in members if family(m) == "linear"]
    norms = [m for m in members if family(m) == "norm"]
    if len(linears) != 3 or len(norms) != 1 or len(members) != 4:
        return None
    dim = _in(norms[0])
    keys = [m for m in linears if _out(m) == dim]
    if dim is None or len(keys) != 1:
        return None
    k = keys[0]
    found = []
    for q in linears:
        weights = next((m for m in linears if m is not q and m is not k), None)
        if q is k or weights is None:
            continue
        heads = _out(weights)
        if heads and _out(q) == heads * dim and _in(weights) == _in(k):
            found.append(dict(q=q, k=k, k_norm=norms[0], weights=weights, heads=heads, dim=dim))
    return found[0] if len(found) == 1 else None


class SparseIndexer(BlockPattern):
    role = "Indexer"
    priority = 10
    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != len(cls.members):
            return None
        roles = find_roles(members)
        if roles is None:
            return None
        guessed = []
        for key, size in SIZE_KEYS.items():
            said = ctx.resolver.evidence(key)
            if said is not None and said[1] is not None and said[1] != roles[size]:
                guessed.append(f"{said[0]} {said[1]} disagrees with the shapes ({roles[size]})")
        where = roles["q"].attr
        top_k = ctx.choose(
            cls,
            where,
            "index_topk",
            DEFAULT_TOP_K,
            [],
            "keys each query keeps (all of them in inputs no longer)",
            accepts="positive_int",
        )
        if top_k.source == "default":
            guessed.append(
                f"index_topk is not recorded: {DEFAULT_TOP_K} (DeepSeek-V3.2's) is assumed; "
                "inputs no longer than it are exact whatever it is"
            )
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        known = INDEXER_ROTARY.get(mtype)
        layout = ctx.choose(
            cls,
            where,
            "index_rotary_layout",
            known or "halves",
            ["interleaved" if (known or "halves") == "halves" else "halves"],
            "which rotary features of the indexer turn together: halves or neighbours",
        )
        if known is not None and layout.source == "default":
            layout.source, layout.note = "metadata", f"{model_type[0]} {mtype!r} (its code)"
        elif layout.source == "default":
            guessed.append(
                f"model_type {mtype!r} is not known to turn the indexer's rotary features by "
                "halves, as DeepSeek-V3.2 does (calibrate, or hint index_rotary_layout)"
            )
        found = dict(roles={k: roles[k].attr for k in ("q", "k", "k_norm", "weights")})
        found |= dict(heads=roles["heads"], dim=roles["dim"], top_k=int(top_k.value))
        found["interleaved"] = layout.value == "interleaved"
        return Match(self, len(members), found, [top_k, layout], guessed="; ".join(guessed))

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        roles, heads, dim = f["roles"], f["heads"], f["dim"]
        x = g.input("x")
        q_resid = g.input("q_resid")  # the attention's low-rank queries, normed
        allowed = g.input("allowed")  # [batch or 1, 1, seq, seq]: True where a query may look
        inv_freq = g.input("inv_freq")  # the attention's rotary frequencies
        turn = g.input("turn", annotation="float")  # their scale on cos and sin (YaRN's)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        q = g.call_module((roles["q"],), q_resid, inline=True)
        q = g.call_method("view", q, batch, seq, heads, dim, inline=True)
        q = g.call_method("transpose", q, 1, 2, inline=True)
        q = g.call_function(
            "apply_rotary_frequencies",
            q,
            inv_freq,
            turn,
            f["interleaved"],
            name="q",
            comment=f"{heads} index heads, the first features turned",
        )
        k = g.call_module((roles["k"],), x, inline=True)
        k = g.call_module((roles["k_norm"],), k, inline=True)
        k = g.call_method("unsqueeze", k, 1, inline=True)
        k = g.call_function(
            "apply_rotary_frequencies",
            k,
            inv_freq,
            turn,
            f["interleaved"],
            name="k",
            comment="one key head",
        )
        scores = g.call_function(
            "matmul", q, g.call_method("transpose", k, -1, -2, inline=True), inline=True
        )
        scores = g.call_function("mul", scores, dim**-0.5, inline=True)
        scores = g.call_function("relu", scores, name="scores", comment="[batch, heads, seq, seq]")
        weights = g.call_module((roles["weights"],), x, inline=True)
        weights = g.call_function("mul", weights, heads**-0.5, inline=True)
        weights = g.call_method("unsqueeze", weights, -2, name="weights", comment="[b, s, 1, h]")
        index = g.call_function(
            "matmul", weights, g.call_method("transpose", scores, 1, 2, inline=True), inline=True
        )
        index = g.call_method("squeeze", index, -2, name="index", comment="[batch, seq, seq]")
        g.output(
            g.call_function(
                "top_k_keys",
                index,
                allowed,
                f["top_k"],
                name="allowed",
                comment=f"each query keeps its top {f['top_k']} keys",
            )
        )

    @staticmethod
    def examples():
        import torch

        from codegen.patterns._kit import Example

        config = {
            "model_type": "deepseek_v32",
            "num_attention_heads": 2,
            "rms_norm_eps": 1e-6,
            "index_topk": 3,  # of 6 positions: the indexer drops keys
        }
        return [Example(_example(), (torch.randn(2, 6, 16),), config)]


def _example():
    """A tiny DeepSeek-V3.2 attention written out in torch: latent attention (2 heads, rank 8,
    low-rank queries 12, nope 4, rope 4, v 6) and its indexer (2 index heads of 8 features, the
    rotary part by halves), each query keeping its top 3 keys."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def angles(seq: int, d: int) -> torch.Tensor:
        inv_freq = 1.0 / 10000.0 ** (torch.arange(0, d, 2).float() / d)
        return torch.outer(torch.arange(seq).float(), inv_freq)

    def neighbours(x: torch.Tensor) -> torch.Tensor:
        a = angles(x.size(-2), x.size(-1)).repeat_interleave(2, -1)
        turned = torch.stack((-x[..., 1::2], x[..., ::2]), -1).flatten(-2)
        return x * a.cos() + turned * a.sin()

    def halves(x: torch.Tensor) -> torch.Tensor:  # the first 4 features turn
        rot, rest = x[..., :4], x[..., 4:]
        a = angles(x.size(-2), 4)
        a = torch.cat((a, a), -1)
        one, two = rot.chunk(2, -1)
        return torch.cat((rot * a.cos() + torch.cat((-two, one), -1) * a.sin(), rest), -1)

    class Indexer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wq_b = nn.Linear(12, 2 * 8, bias=False)
            self.wk = nn.Linear(16, 8, bias=False)
            self.k_norm = nn.LayerNorm(8, eps=1e-6)
            self.weights_proj = nn.Linear(16, 2, bias=False)

        def forward(self, x, q_resid, allowed):
            b, s, _ = x.shape
            q = halves(self.wq_b(q_resid).view(b, s, 2, 8).transpose(1, 2))
            k = halves(self.k_norm(self.wk(x))[:, None])
            scores = F.relu(q @ k.transpose(-1, -2) * 8**-0.5)  # [b, 2, s, s]
            weights = self.weights_proj(x) * 2**-0.5  # [b, s, 2]
            index = torch.einsum("bsh,bhst->bst", weights, scores)
            index = index.masked_fill(~allowed, float("-inf"))
            keep = index.topk(3, dim=-1)[1]
            return allowed & torch.zeros_like(allowed).scatter(-1, keep, True)

    class SparseLatent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_a_proj = nn.Linear(16, 12, bias=False)
            self.q_a_layernorm = nn.RMSNorm(12, eps=1e-6)
            self.q_b_proj = nn.Linear(12, 2 * 8, bias=False)
            self.kv_a_proj_with_mqa = nn.Linear(16, 8 + 4, bias=False)
            self.kv_a_layernorm = nn.RMSNorm(8, eps=1e-6)
            self.kv_b_proj = nn.Linear(8, 2 * (4 + 6), bias=False)
            self.o_proj = nn.Linear(2 * 6, 16, bias=False)
            self.indexer = Indexer()

        def forward(self, x):
            b, s, _ = x.shape
            q_resid = self.q_a_layernorm(self.q_a_proj(x))
            q_nope, q_rot = self.q_b_proj(q_resid).view(b, s, 2, 8).transpose(1, 2).split(4, -1)
            latent, k_rot = self.kv_a_proj_with_mqa(x).split([8, 4], -1)
            kv = self.kv_b_proj(self.kv_a_layernorm(latent)).view(b, s, 2, 10).transpose(1, 2)
            k_nope, v = kv.split([4, 6], -1)
            q = torch.cat((q_nope, neighbours(q_rot)), -1)
            k = torch.cat((k_nope, neighbours(k_rot[:, None]).expand(-1, 2, -1, -1)), -1)
            causal = torch.ones(s, s, dtype=torch.bool).tril()[None].expand(b, -1, -1)
            allowed = self.indexer(x, q_resid, causal)[:, None]
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
            return self.o_proj(y.transpose(1, 2).reshape(b, s, -1))

    return SparseLatent()
