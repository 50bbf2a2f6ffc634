"""Disentangled self-attention (DeBERTa, DeBERTa-v2/v3): content-to-content scores plus
content-to-position (c2p) and position-to-content (p2c) terms over relative positions, each divided
by sqrt(head_dim * (1 + number of terms)); the heads' merged outputs, before the output projection
that sits in a sibling class (a Hugging Face split attention).

The relative position embeddings are a table the encoder owns (and may normalise); it passes them
to every layer as `rel_embeddings`. Queries and keys of the table come from the content
projections (`share_att_key`, DeBERTa-v3) or from their own (`pos_key_proj` / `pos_query_proj`;
v1's `pos_proj` / `pos_q_proj`). Relative positions are exact up to the table's span, beyond it
clamped; DeBERTa-v2/v3 may log-bucket them (`position_buckets`, `max_relative_positions`).
Padding queries attend evenly to all keys (the encoder passes a query-and-key mask).

Two layouts: separate `query_proj`/`key_proj`/`value_proj` (v2/v3), or v1's fused `in_proj` (no
bias; each head's q, k, v side by side) with `q_bias` and `v_bias`, and optionally v1's
talking-heads projections (`head_logits_proj` on the scores, `head_weights_proj` on the weights).
Values config.json holds are cited; without it they are choices.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.attention import UNKNOWN_HEADS, head_counts, settled_by

SEPARATE = (r"query_proj", r"key_proj", r"value_proj")
FUSED = r"in_proj"
BIASES = (r"q_bias", r"v_bias")
# Their own projections of the relative table: (content to position, position to content).
POSITION_KEYS = r"pos_key_proj|pos_proj"
POSITION_QUERIES = r"pos_query_proj|pos_q_proj"
TALKING = (r"head_logits_proj", r"head_weights_proj")
TYPES = ("deberta", "deberta-v2", "sew-d")  # SEW-D: DeBERTa-v2's attention on SEW (audio11)
TERMS = ("c2p", "p2c")
TERM_NAMES = ["c2p|p2c", "c2p", "p2c", "none"]


def _terms(ctx: BlockContext, cls, where: str, own: tuple, typed: bool) -> tuple:
    """(the position terms ('c2p', 'p2c' in use), every pos_att_type entry, the choice or None,
    where they come from)."""
    listed = ctx.resolver.evidence_list("pos_att_type")
    if listed is None:
        said = ctx.resolver.evidence("pos_att_type")  # a string "p2c|c2p"
        if said is not None and isinstance(said[1], str):
            listed = (said[0], [t.strip() for t in said[1].lower().split("|") if t.strip()])
    if listed is not None:
        entries = [t.lower() for t in listed[1]]
        return tuple(t for t in TERMS if t in entries), entries, None, listed[0]
    if typed:  # config.json of the family without the key: the library's default, none
        ctx.resolver.consumed.add("pos_att_type")
        return (), [], None, "no pos_att_type in config.json"
    shown = "|".join(t for t, m in zip(TERMS, own) if m is not None) or "c2p|p2c"
    c = ctx.choose(
        cls,
        where,
        "pos_att_type",
        shown,
        [t for t in TERM_NAMES if t != shown],
        "which relative position terms the scores add",
    )
    terms = tuple(t for t in TERMS if t in str(c.value).split("|"))
    return terms, list(terms), c, "choice pos_att_type"


class DisentangledAttention(BlockPattern):
    role = "SelfAttention"
    priority = 20  # before the generic attention, which would miss the position terms
    synonyms = {
        "nhead": ("num_attention_heads",),
        "position_buckets": ("position_buckets",),
        "max_relative_positions": ("max_relative_positions",),
    }
    accepts = Accepts(names=tuple(f"{FUSED}|{p}" for p in SEPARATE), families=("linear",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        fused = one_named(members, FUSED)
        if fused is not None:
            qkv = [fused]
            biases = [next((t for t in params if t.attr == b), None) for b in BIASES]
            if any(b is None for b in biases) or len(params) != 2:
                return None
        else:
            qkv = [one_named(members, p) for p in SEPARATE]
            biases = []
            if params:
                return None
        if any(m is None or family(m) != "linear" for m in qkv):
            return None
        own = (one_named(members, POSITION_KEYS), one_named(members, POSITION_QUERIES))
        talking = [one_named(members, p) for p in TALKING]
        talking = talking if all(talking) and fused is not None else []
        used = qkv + [m for m in own if m is not None] + talking
        if len(used) != len(members) or any(family(m) != "linear" for m in used):
            return None
        model_type = ctx.resolver.evidence("model_type")
        typed = model_type is not None and model_type[1] in TYPES
        if not typed and not any(own) and fused is None:
            return None  # plain query/key/value projections: nothing says disentangled
        where = qkv[0].attr
        d_model = qkv[0].io.in_width if qkv[0].io else None
        nhead = ctx.choose(
            cls,
            where,
            "nhead",
            None,
            head_counts(d_model, None),
            "unknown: calibrate or hint",
            accepts="positive_int",
        )
        if nhead.value is None:
            return Match(self, len(members), missing=UNKNOWN_HEADS, choices=[nhead])
        choices = [nhead]
        head_size = ctx.resolver.evidence("attention_head_size")  # v2: may differ from d / heads
        width = qkv[0].io.out_width if qkv[0].io else None
        width = width // 3 if width and fused is not None else width
        if head_size and width and head_size[1] * nhead.value != width:
            return None
        terms, entries, picked, terms_cited = _terms(ctx, cls, where, own, typed)
        choices += [picked] if picked else []
        # v1 divides by 1 + every entry of pos_att_type, v2 by 1 + its c2p and p2c only
        factor = 1 + (len(entries) if fused is not None else len(terms))
        relative = ctx.resolver.evidence("relative_attention")
        if relative is not None and not isinstance(relative[1], bool):
            return None
        on = relative[1] if relative is not None else any(own) or not typed
        if not on and any(own):
            return None  # the table's own projections without relative attention: not this
        share = ctx.resolver.evidence("share_att_key")
        shared = fused is None and not any(own)
        share_cited = f"{share[0]} {share[1]}".lower() if share else "no own projections"
        if on and terms:
            needs = [own[TERMS.index(t)] for t in terms]
            if share is not None and share[1] is not shared:
                return None  # config.json says otherwise than the keys show
            if not shared and not all(needs):
                return None
            if fused is not None and any(m is None for m in needs):
                return None
        buckets, max_position = -1, -1
        if on and terms and fused is None:  # v1 never buckets
            said = [
                ctx.resolver.metadata.get(k) for k in ("position_buckets", "max_relative_positions")
            ]
            said = [[v[1]] if v and type(v[1]) is int else [] for v in said]
            bucket = ctx.choose(
                cls,
                where,
                "position_buckets",
                -1 if typed else 256,
                [256, 128, -1] + said[0],
                "relative positions log-bucketed into this many each way (-1: exact)",
            )
            maximum = ctx.choose(
                cls,
                where,
                "max_relative_positions",
                -1,
                [512, 256, 128] + said[1],
                "the farthest position the buckets reach (-1: max_position_embeddings)",
            )
            if typed:  # a key config.json leaves out has the library's default
                for c in (bucket, maximum):
                    settled_by(c, f"{model_type[0]} {model_type[1]!r}: the library's default")
            buckets, max_position = int(bucket.value), int(maximum.value)
            choices += [bucket, maximum]
            if max_position < 1:
                longest = ctx.resolver.evidence("max_position_embeddings")
                if longest is None or not isinstance(longest[1], int):
                    return None
                max_position = longest[1]
        else:  # v1 (the table's size shows its span), or no position terms: moot
            for key in ("max_relative_positions", "position_buckets"):
                ctx.resolver.evidence(key)
        if talking:
            ctx.resolver.evidence("talking_head")
        if not (on and terms):
            own = (None, None)
        found = (
            [m.attr for m in qkv],
            [t.attr for t in biases],
            tuple(
                (
                    (m.attr if m is not None else ("key_proj", "query_proj")[i] if shared else None)
                    if t in terms and on
                    else None
                )
                for i, (t, m) in enumerate(zip(TERMS, own))
            ),
            [m.attr for m in talking],
            int(nhead.value),
            factor,
            buckets,
            max_position,
            (terms_cited, share_cited if shared else ""),
        )
        return Match(self, len(members) + len(params), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        qkv, biases, (pos_key, pos_query), talking, nhead, factor, buckets, max_position = (
            match.found[:8]
        )
        terms_cited, share_cited = match.found[8]
        x, mask = g.input("x"), g.input("mask", optional=True)
        relative = pos_key is not None or pos_query is not None
        table = g.input("rel_embeddings", optional=True) if relative else None
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")

        def heads(value, name: str):
            split = g.call_method("view", value, batch, seq, nhead, -1, inline=True)
            return g.call_method("transpose", split, 1, 2, name=name)

        if len(qkv) == 1:  # v1: [batch, heads, seq, 3 * head_dim], each head's q, k, v
            fused = heads(g.call_module((qkv[0],), x, inline=True), "qkv")
            parts = g.call_method("chunk", fused, 3, kwargs={"dim": -1}, name="qkv")
            q, k, v = (g.call_function("getitem", parts, i, name=n) for i, n in enumerate("qkv"))
            q_bias, v_bias = (
                g.call_method("view", g.getattr((b,)), nhead, 1, -1, inline=True) for b in biases
            )
            q = g.call_function("add", q, q_bias, name="q")
            v = g.call_function("add", v, v_bias, name="v")
        else:
            q, k, v = (heads(g.call_module((m,), x, inline=True), n) for m, n in zip(qkv, "qkv"))
        pos = [None, None]
        if relative:
            used = " + ".join(t for t, p in zip(TERMS, (pos_key, pos_query)) if p is not None)
            table = g.call_function(
                "relative_table", table, name="table", comment=f"{used}: {terms_cited}"
            )
            shared = f"shared projections: {share_cited}" if share_cited else ""
            rows = g.call_method("size", table, 0, name="rows", comment=shared)
            for i, (proj, name) in enumerate(((pos_key, "pos_k"), (pos_query, "pos_q"))):
                if proj is not None:
                    y = g.call_module((proj,), table, inline=True)
                    y = g.call_method("view", y, 1, rows, nhead, -1, inline=True)
                    pos[i] = g.call_method("transpose", y, 1, 2, name=name)
        scores = g.call_function(
            "disentangled_scores",
            q,
            k,
            pos[1],
            pos[0],
            kwargs={"factor": factor, "buckets": buckets, "max_position": max_position},
            name="scores",
        )
        if talking:  # v1's talking heads: the heads mixed before and after the softmax
            mixed = g.call_method("permute", scores, 0, 2, 3, 1, inline=True)
            mixed = g.call_module((talking[0],), mixed, inline=True)
            scores = g.call_method("permute", mixed, 0, 3, 1, 2, name="scores")
        weights = g.call_function("masked_softmax", scores, mask, name="weights")
        if talking:
            mixed = g.call_method("permute", weights, 0, 2, 3, 1, inline=True)
            mixed = g.call_module((talking[1],), mixed, inline=True)
            weights = g.call_method("permute", mixed, 0, 3, 1, 2, name="weights")
        y = g.call_function("matmul", weights, v, inline=True)
        y = g.call_method("transpose", y, 1, 2, inline=True)
        g.output(g.call_method("reshape", y, batch, seq, -1))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("deberta_v2")]
