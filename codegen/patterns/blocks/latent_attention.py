"""Multi-head latent attention (MLA: DeepSeek-V2/V3, MiniCPM3, GLM-4-MoE-Lite, Youtu...): keys and
values are compressed into one low-rank latent per position, normed, then expanded for every head;
a few more features of that same projection are one rotary key shared by all heads. Queries come
from a plain projection or through a low-rank one with a norm between.

    q = q_b(q_norm(q_a(x)))  or  q_proj(x)          [batch, seq, heads * (nope + rope)]
    latent, k_rot = kv_a(x).split([rank, rope])     one latent, one shared rotary key
    k_nope, v = kv_b(kv_norm(latent)) per head      [.., nope] and [.., v_head_dim]
    q = [q_nope | turn(q_rot)];  k = [k_nope | turn(k_rot) for every head]
    out(attention(q, k, v))                          scores times 1/sqrt(nope + rope)

The members' roles are read from their shapes and from how they chain (the latent's norm is as
wide as the projection after it reads; the compressing projection is wider than that norm by the
rotary part), not from one family's names; names only break a tie between shapes that allow two
readings. Every size follows from the shapes, the head count too: heads * (nope + rope) queries,
heads * (nope + v) expanded keys and values, heads * v into the output projection.

How the rotary part turns (neighbouring pairs or halves, or not at all) and how YaRN scales the
scores are conventions per family: config.json's rope_interleave where the family reads it, else
the survey of the library's families (patterns/_latent_conventions.py); for a family outside it
the file says the layout is a guess.
"""

from __future__ import annotations

import itertools
import math
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
from codegen.patterns._latent_conventions import latent_convention
from codegen.patterns.blocks import _query_temperature as temp
from codegen.patterns.blocks import _rope_scaling as rope
from codegen.patterns.blocks.attention import (
    SYNONYMS,
    THETAS,
    _frequencies,
    model_kind,
    rope_plan,
    settled_by,
)

# config.json's names of the sizes the shapes show: each is checked against them where given.
SIZE_KEYS = {
    "kv_lora_rank": "rank",
    "q_lora_rank": "q_rank",
    "qk_rope_head_dim": "rope",
    "qk_nope_head_dim": "nope",
    "v_head_dim": "v",
    "qk_head_dim": "qk",
}
LAYOUTS = ("interleaved", "halves", "none")
ROLES = ("q_a", "q_b", "kv_a", "kv_b", "out")


def _width(m, side: str) -> int | None:
    io = m.io
    return None if io is None else (io.in_width if side == "in" else io.out_width)


def _name_score(roles: dict) -> int:
    """How many members' names agree with the role the shapes gave them (a tie-break only)."""
    score = 0
    for role, m in roles.items():
        if m is None:
            continue
        name = m.attr.lower()
        keyish = re.search(r"kv|(^|_)w?k", name) is not None
        queryish = re.search(r"(^|_)w?q", name) is not None and not keyish
        if role.startswith("kv") and keyish or role.startswith("q") and queryish:
            score += 1
    return score


def _sizes(roles: dict) -> dict | None:
    """The sizes the roles' shapes imply, or None where they do not fit together."""
    kv_a, kv_b, out, kv_norm = roles["kv_a"], roles["kv_b"], roles["out"], roles["kv_norm"]
    q_first, q_last, q_norm = roles["q_a"], roles["q_b"], roles["q_norm"]
    d = _width(kv_a, "in")
    rank = _width(kv_norm, "in")
    widths = [_width(m, s) for m in (kv_a, kv_b, out, q_first) for s in ("in", "out")]
    if d is None or rank is None or None in widths or _width(q_last, "out") is None:
        return None
    if _width(q_first, "in") != d or _width(out, "out") != d or _width(kv_b, "in") != rank:
        return None
    rope_dim = _width(kv_a, "out") - rank
    q_rank = None
    if q_norm is not None:
        q_rank = _width(q_norm, "in")
        if _width(q_first, "out") != q_rank or _width(q_last, "in") != q_rank:
            return None
    if rope_dim <= 0 or rope_dim % 2:
        return None
    q_out, kv_out, o_in = _width(q_last, "out"), _width(kv_b, "out"), _width(out, "in")
    # q_out = h (nope + rope), kv_out = h (nope + v), o_in = h v: h = (q_out + o_in - kv_out) / rope
    heads, rest = divmod(q_out + o_in - kv_out, rope_dim)
    if rest or heads <= 0 or q_out % heads or o_in % heads:
        return None
    nope, v = q_out // heads - rope_dim, o_in // heads
    if nope <= 0 or kv_out != heads * (nope + v):
        return None
    return dict(d=d, rank=rank, q_rank=q_rank, rope=rope_dim, nope=nope, v=v, heads=heads)


def find_roles(members: list) -> tuple[dict, dict, str] | None:
    """(roles, sizes, why ambiguous or "") for the members of a latent attention, by shapes."""
    linears = [m for m in members if family(m) == "linear"]
    norms = [m for m in members if family(m) == "norm"]
    if len(linears) + len(norms) != len(members) or len(norms) not in (1, 2):
        return None
    if len(linears) != len(norms) + 3:  # kv_a, kv_b, out, and q (one linear, or two and a norm)
        return None
    found = []
    for order in itertools.permutations(linears):
        for norm_order in itertools.permutations(norms):
            if len(norms) == 2:
                roles = dict(zip(ROLES, order)) | {"q_norm": norm_order[0]}
            else:
                roles = dict(zip(ROLES[1:], order)) | {"q_a": order[0], "q_norm": None}
            roles["kv_norm"] = norm_order[-1]
            sizes = _sizes(roles)
            if sizes is not None:
                found.append((_name_score(roles), roles, sizes))
    if not found:
        return None
    found.sort(key=lambda f: -f[0])
    best = found[0]
    ties = [f for f in found[1:] if f[0] == best[0] and f[1] != best[1]]
    why = ""
    if ties:
        why = "the shapes allow more than one reading of which projection is which"
    return best[1], best[2], why


def _layout(ctx: BlockContext, cls, where: str, mtype: str | None) -> tuple:
    """The rotary layout choice, settled by config.json's rope_interleave where the family reads
    it, else by the survey; with what is a guess ("" for none)."""
    conv = latent_convention(mtype)
    said = ctx.resolver.evidence("rope_interleave")
    known, cite, guessed = None, "", ""
    if conv is not None and conv.layout == "rope_interleave":
        if said is not None and isinstance(said[1], bool):
            known = "interleaved" if said[1] else "halves"
            cite = f"{said[0]} {str(said[1]).lower()} (model_type {mtype!r} reads it: the survey)"
        else:
            known, cite = conv.unset, f"model_type {mtype!r} without rope_interleave (the survey)"
    elif conv is not None and conv.layout in LAYOUTS:
        known, cite = conv.layout, f"model_type {mtype!r} (the latent attention survey)"
    elif said is not None and isinstance(said[1], bool):  # a family outside the survey
        known = "interleaved" if said[1] else "halves"
        guessed = f"model_type {mtype!r} is not known to read rope_interleave as DeepSeek-V3 does"
    else:
        guessed = (
            f"model_type {mtype!r} is not known to turn the shared rotary key as neighbouring "
            "pairs, as DeepSeek's latent attention does (calibrate, or hint rotary_layout)"
        )
    default = known or "interleaved"
    layout = ctx.choose(
        cls,
        where,
        "rotary_layout",
        default,
        [v for v in LAYOUTS if v != default],
        "which rotary features turn together: neighbours, halves, or none",
    )
    settled_by(layout, cite)
    if layout.source not in ("default", "metadata"):
        guessed = ""
    return layout, guessed


def _rotary_width_said(ctx: BlockContext, sizes: dict) -> str:
    """Why config.json's head_dim disagrees with the shapes' rotary width ("" where it agrees).
    DeepSeek's configs set head_dim to the rotary width; Mistral 4's to the whole query head
    (nope + rope), with rope_parameters' partial_rotary_factor the rotary share of it."""
    head_dim = ctx.resolver.evidence("head_dim")
    if head_dim is None or head_dim[1] is None or head_dim[1] == sizes["rope"]:
        return ""
    share = (rope.rope_parameters(ctx.resolver.nested) or {}).get("partial_rotary_factor")
    if head_dim[1] == sizes["nope"] + sizes["rope"] and isinstance(share, (int, float)):
        if abs(share * head_dim[1] - sizes["rope"]) < 1e-6:
            ctx.resolver.consumed.add("partial_rotary_factor")
            return ""
    return f"{head_dim[0]} {head_dim[1]} is not the rotary width {sizes['rope']}"


class LatentAttention(BlockPattern):
    role = "Attention"
    priority = 9  # below the generic Attention, should shapes ever fit both (names decide it there)
    synonyms = SYNONYMS
    accepts = Accepts(5, 8, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != len(cls.members):
            return None
        # mla11: a sparse attention's indexer beside the projections (DeepSeek-V3.2), which keeps
        # each query's top keys (blocks/sparse_indexer.py)
        indexers = [m for m in members if ctx.role(m) == "Indexer"]
        members = [m for m in members if m not in indexers]
        if len(indexers) > 1 or not 5 <= len(members) <= 7:
            return None
        recognised = find_roles(members)
        if recognised is None:
            return None
        roles, sizes, ambiguous = recognised
        if indexers and roles["q_norm"] is None:
            return None  # the indexer reads the low-rank queries
        guessed = [ambiguous] if ambiguous else []
        where = roles["kv_a"].attr
        heads = sizes["heads"]
        nhead = ctx.choose(cls, where, "nhead", heads, [], accepts="positive_int")
        if nhead.value != heads:
            return None  # the shapes decide it: a count that disagrees is not this block
        if nhead.source == "default":
            nhead.source, nhead.note = "metadata", "the projections' widths"
        # keys and values are expanded for every head: a key/value head count says nothing here
        ctx.resolver.evidence(*SYNONYMS["kv_heads"])
        for key, size in SIZE_KEYS.items():
            said = ctx.resolver.evidence(key)
            want = sizes["nope"] + sizes["rope"] if size == "qk" else sizes.get(size)
            if said is not None and said[1] is not None and said[1] != want:
                guessed.append(f"{said[0]} {said[1]} disagrees with the shapes ({want})")
        why = _rotary_width_said(ctx, sizes)
        if why:
            guessed.append(why)
        kind, kind_cite = model_kind(ctx)
        causal = ctx.choose(
            cls, where, "causal", kind != "encoder", [kind == "encoder"], "latent attention"
        )
        settled_by(causal, kind_cite)
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        layout, why = _layout(ctx, cls, where, mtype)
        if why:
            guessed.append(why)
        choices = [nhead, causal, layout]
        rotary = None
        if layout.value != "none":
            theta = ctx.choose(cls, where, "rope_theta", 10000.0, THETAS, accepts="positive_number")
            choices.append(theta)
            scaled, why = rope_plan(ctx, float(theta.value), theta.source == "hint")
            if scaled and scaled[0] != "uniform":
                scaled, why = None, "rotary parameters per layer kind: not written for MLA"
            if why:
                guessed.append(why)
            rotary = (float(theta.value), sizes["rope"], layout.value == "interleaved", scaled)
        scale = (sizes["nope"] + sizes["rope"]) ** -0.5
        scale_note = f"1/sqrt({sizes['nope'] + sizes['rope']})"
        params = rope.rope_parameters(ctx.resolver.nested)
        mscale_all = (params or {}).get("mscale_all_dim")
        if (
            rotary
            and rotary[3]
            and rotary[3][1][0] == "yarn"
            and rope.mscale_all_dim_ok(mscale_all)
        ):
            conv = latent_convention(mtype)
            factor = rotary[3][1][2]
            m = 1.0 if factor <= 1 else 0.1 * mscale_all * math.log(factor) + 1.0
            if conv is None or conv.yarn_scale != "mscale_all_dim":
                guessed.append(
                    f"model_type {mtype!r} is not known to scale the scores by YaRN's "
                    "mscale_all_dim as DeepSeek does"
                )
            scale, scale_note = scale * m * m, f"{scale_note} times YaRN's mscale_all_dim squared"
        temperature, why = temp.llama4_scaling(ctx, mtype)
        if why:
            guessed.append(why)
        found = dict(roles=roles, sizes=sizes, causal=bool(causal.value), rotary=rotary)
        found["temperature"] = temperature
        found["indexer"] = indexers[0].attr if indexers else None
        if indexers:
            if rotary is None or not causal.value:
                return None  # the indexer turns by the attention's frequencies, in decoders
            listed = ctx.resolver.evidence_list("layer_types")
            if listed is not None and set(listed[1]) != {"indexed_attention"}:
                ctx.resolver.consumed.discard("layer_types")  # other kinds: not written here
            # GLM-MoE-DSA: "shared" layers reuse an earlier layer's choice of keys: not written
            modes = ctx.resolver.evidence_list("indexer_types")
            if modes is not None and set(modes[1]) != {"full"}:
                ctx.resolver.consumed.discard("indexer_types")
        found |= dict(scale=scale, scale_note=scale_note)
        return Match(self, len(members) + len(indexers), found, choices, guessed="; ".join(guessed))

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        roles, sizes, rotary = f["roles"], f["sizes"], f["rotary"]
        heads, nope, rope_dim = sizes["heads"], sizes["nope"], sizes["rope"]
        x = g.input("x")
        # A padding mask ([batch, 1, 1, seq], True where attended; padding_mask()), optional.
        mask = g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        if f["causal"]:
            device = g.call_method("device", x, inline=True)
            mask = g.call_function(
                "causal_padding_mask", mask, seq, device, name="mask", comment="earlier positions"
            )
        indexer = f["indexer"]
        if roles["q_norm"] is not None:
            q = g.call_module((roles["q_a"].attr,), x, inline=True)
            q = g.call_module((roles["q_norm"].attr,), q, inline=indexer is None)
            if indexer is not None:
                g[q].name, g[q].comment = "q_resid", "the low-rank queries, normed"
            q_resid = q
            q = g.call_module((roles["q_b"].attr,), q, inline=True)
        else:
            q = g.call_module((roles["q_b"].attr,), x, inline=True)
        q = g.call_method("view", q, batch, seq, heads, -1, inline=True)
        q = g.call_method("transpose", q, 1, 2, name="q", comment=f"{heads} heads")
        q_parts = g.call_method("split", q, [nope, rope_dim], kwargs={"dim": -1}, name="q_parts")
        q_nope = g.call_function("getitem", q_parts, 0, name="q_nope")
        q_rot = g.call_function("getitem", q_parts, 1, name="q_rot")
        latent = g.call_module((roles["kv_a"].attr,), x, name="latent")
        parts = g.call_method(
            "split",
            latent,
            [sizes["rank"], rope_dim],
            kwargs={"dim": -1},
            name="latent_parts",
            comment="the compressed keys and values, and one rotary key for every head",
        )
        kv = g.call_function("getitem", parts, 0, inline=True)
        kv = g.call_module((roles["kv_norm"].attr,), kv, inline=True)
        kv = g.call_module((roles["kv_b"].attr,), kv, inline=True)
        kv = g.call_method("view", kv, batch, seq, heads, -1, inline=True)
        kv = g.call_method("transpose", kv, 1, 2, name="kv")
        kv_parts = g.call_method(
            "split", kv, [nope, sizes["v"]], kwargs={"dim": -1}, name="kv_parts"
        )
        k_nope = g.call_function("getitem", kv_parts, 0, name="k_nope")
        v = g.call_function("getitem", kv_parts, 1, name="v")
        k_rot = g.call_function("getitem", parts, 1, inline=True)
        k_rot = g.call_method("view", k_rot, batch, 1, seq, rope_dim, name="k_rot")
        plan = rotary[3] if rotary is not None else None
        if indexer is not None:  # the indexer turns by the same frequencies
            plan = plan or ("uniform", ("default", rotary[0]), 1.0)
        if plan is not None:  # frequencies of a rope_type
            spec = (rotary[0], rotary[1], rotary[2], plan, None)
            inv_freq, turn = _frequencies(g, spec, q_rot, seq, None)
            q_rot = g.call_function(
                "apply_rotary_frequencies", q_rot, inv_freq, turn, rotary[2], name="q_rot"
            )
            k_rot = g.call_function(
                "apply_rotary_frequencies", k_rot, inv_freq, turn, rotary[2], name="k_rot"
            )
        elif rotary is not None:
            fn = "apply_rotary_interleaved" if rotary[2] else "apply_rotary"
            q_rot = g.call_function(fn, q_rot, rotary[0], rope_dim, name="q_rot")
            k_rot = g.call_function(fn, k_rot, rotary[0], rope_dim, name="k_rot")
        if indexer is not None:
            mask = g.call_module(
                (indexer,),
                x,
                q_resid,
                mask,
                inv_freq,
                turn,
                name="mask",
                comment="only the keys the indexer keeps",
            )
        q = g.call_function("cat", [q_nope, q_rot], kwargs={"dim": -1}, name="q")
        if f["temperature"] is not None:
            q = temp.scale_queries(g, q, seq, f["temperature"])
        k_rot = g.call_method("expand", k_rot, -1, heads, -1, -1, inline=True)
        k = g.call_function(
            "cat", [k_nope, k_rot], kwargs={"dim": -1}, name="k", comment="the rotary key shared"
        )
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": mask, "scale": f["scale"]},
            name="y",
            comment=f"{heads} heads, "
            + ("causal" if f["causal"] else "every position sees all")
            + f", scores times {f['scale_note']}",
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        g.output(g.call_module((roles["out"].attr,), y))

    @staticmethod
    def examples():
        import torch

        return [
            Example(_example(True, "interleaved"), (torch.randn(2, 5, 16),), _metadata(True)),
            Example(_example(False, "halves"), (torch.randn(2, 5, 16),), _metadata(False)),
        ]


def _metadata(low_rank: bool) -> dict:
    """A config.json for the examples: DeepSeek-V3's (rope_interleave) or MiniCPM3's (halves)."""
    said = {"num_attention_heads": 2, "rms_norm_eps": 1e-6}
    if low_rank:
        return said | {"model_type": "deepseek_v3", "rope_interleave": True}
    return said | {"model_type": "minicpm3", "architectures": ["MiniCPM3ForCausalLM"]}


def _example(low_rank: bool, layout: str):
    """A tiny latent attention written out in torch: 2 heads, rank 8 (queries 12), nope 4, rope 4,
    v 6 over a width of 16; queries low-rank or plain; causal, rotary turning `layout`."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def turn(x: torch.Tensor) -> torch.Tensor:
        d, seq = x.size(-1), x.size(-2)
        inv_freq = 1.0 / 10000.0 ** (torch.arange(0, d, 2).float() / d)
        angles = torch.outer(torch.arange(seq).float(), inv_freq)
        if layout == "halves":
            angles = torch.cat((angles, angles), -1)
            a, b = x.chunk(2, -1)
            return x * angles.cos() + torch.cat((-b, a), -1) * angles.sin()
        angles = angles.repeat_interleave(2, -1)
        turned = torch.stack((-x[..., 1::2], x[..., ::2]), -1).flatten(-2)
        return x * angles.cos() + turned * angles.sin()

    class Latent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if low_rank:
                self.q_a_proj = nn.Linear(16, 12, bias=False)
                self.q_a_layernorm = nn.RMSNorm(12, eps=1e-6)
                self.q_b_proj = nn.Linear(12, 2 * 8, bias=False)
            else:
                self.q_proj = nn.Linear(16, 2 * 8, bias=False)
            self.kv_a_proj_with_mqa = nn.Linear(16, 8 + 4, bias=False)
            self.kv_a_layernorm = nn.RMSNorm(8, eps=1e-6)
            self.kv_b_proj = nn.Linear(8, 2 * (4 + 6), bias=False)
            self.o_proj = nn.Linear(2 * 6, 16, bias=False)

        def forward(self, x):
            b, s, _ = x.shape
            if low_rank:
                q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
            else:
                q = self.q_proj(x)
            q_nope, q_rot = q.view(b, s, 2, 8).transpose(1, 2).split([4, 4], -1)
            latent, k_rot = self.kv_a_proj_with_mqa(x).split([8, 4], -1)
            kv = self.kv_b_proj(self.kv_a_layernorm(latent)).view(b, s, 2, 10).transpose(1, 2)
            k_nope, v = kv.split([4, 6], -1)
            k_rot = turn(k_rot[:, None]).expand(-1, 2, -1, -1)
            q = torch.cat((q_nope, turn(q_rot)), -1)
            k = torch.cat((k_nope, k_rot), -1)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o_proj(y.transpose(1, 2).reshape(b, s, -1))

    return Latent()
