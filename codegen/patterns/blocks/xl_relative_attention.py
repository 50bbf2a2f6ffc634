"""Transformer-XL-style relative attention as XLNet holds it: per-head projections as 3-D
parameters `q`, `k`, `v`, `o`, `r` ([d_model, heads, head_dim]), the content and position biases
`r_w_bias`, `r_r_bias` ([heads, head_dim]), optionally segment biases `r_s_bias` and
`seg_embed` ([2, heads, head_dim]), and a post-norm `layer_norm`.

scores = (q + r_w_bias)·k + shift((q + r_r_bias)·r(sinusoids)) [+ (q + r_s_bias)·seg_embed[same
segment or not]], scaled by 1/sqrt(head_dim), padding keys masked (each query still sees itself,
as XLNet's non-target mask lets it); out = layer_norm(o(attention) + h). The heads and their size
come from the parameters' shapes. This is the content stream, which the base model returns; the
query stream (pretraining's target mapping) is not built.

- `XLRelativeAttention`, `XLFeedForward` (`layer_norm(layer_2(act(layer_1(x))) + x)`, named
  `ff`), `XLRelativeLayer` (the two in turn) and `XLRelativeModel` (word embeddings, the
  sinusoid table of relative positions the layers share, the stack).
"""

from __future__ import annotations

import re

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
    one_each,
    one_named,
    stack,
    tensors,
)

PROJECTIONS = ("q", "k", "v", "o", "r")
BIASES = ("r_w_bias", "r_r_bias")
SEGMENT = ("r_s_bias", "seg_embed")


class XLRelativeAttention(BlockPattern):
    role = "XLRelativeAttention"
    priority = 5
    accepts = Accepts(1, 1, tensors=True, names=("layer_norm|norm|ln",), families=("norm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        held = {t.attr: t for t in tensors(cls)}
        members = modules(cls)
        norm = one_named([m for m in members if family(m) == "norm"], r"layer_norm|norm|ln")
        if norm is None or len(members) != 1:
            return None
        if not set(PROJECTIONS + BIASES) <= set(held):
            return None
        segments = set(SEGMENT) <= set(held)
        if set(held) - set(PROJECTIONS + BIASES + (SEGMENT if segments else ())):
            return None
        shapes = {repr(tuple(held[p].shape)) for p in PROJECTIONS}
        if len(shapes) != 1 or len(held["q"].shape) != 3:
            return None
        per_head = repr(tuple(held["q"].shape)[1:])
        if any(repr(tuple(held[b].shape)) != per_head for b in BIASES + SEGMENT[:1] if b in held):
            return None
        if segments and repr(tuple(held["seg_embed"].shape)[1:]) != per_head:
            return None
        found = (norm.attr, segments)
        return Match(self, len(held) + 1, found)

    def forward(self, match: Match, g: Graph) -> None:
        norm, segments = match.found
        h, positions = g.input("h"), g.input("positions")
        mask = g.input("mask", optional=True)
        types = g.input("token_type_ids", optional=True)

        def project(name: str, source, equation: str = "bih,hnd->bind"):
            weight = g.getattr((name,))
            return g.call_function("torch.einsum", equation, source, weight, name=name)

        q, k, v = project("q", h), project("k", h), project("v", h)
        k_r = project("r", positions, "ph,hnd->pnd")
        if segments:
            side = (g.getattr(("r_s_bias",)), g.getattr(("seg_embed",)), types)
        else:
            side = (None, None, None)
        scores = g.call_function(
            "relative_scores",
            q,
            k,
            k_r,
            g.getattr(("r_w_bias",)),
            g.getattr(("r_r_bias",)),
            *side,
            name="scores",
            comment="content, relative position (and segment) terms [batch, heads, seq, seq]",
        )
        probs = g.call_function("masked_softmax", scores, mask, inline=True)
        y = g.call_function("torch.einsum", "bnij,bjnd->bind", probs, v, inline=True)
        out = g.call_function("torch.einsum", "bind,hnd->bih", y, g.getattr(("o",)), inline=True)
        g.output(g.call_module((norm,), g.call_function("add", out, h, inline=True)))

    @staticmethod
    def examples():
        return [_example(32, 4, 8), _example(24, 3, 4, segments=False)]


class XLFeedForward(BlockPattern):
    """`layer_norm(layer_2(act(layer_1(x))) + x)`: a post-norm feed-forward holding its norm."""

    role = "XLFeedForward"
    named = r"ff"
    synonyms = act.SYNONYMS

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        if not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        up, down = one_named(members, r"layer_1|fc1|w_1"), one_named(members, r"layer_2|fc2|w_2")
        norm = one_named([m for m in members if family(m) == "norm"], r"layer_norm|norm|ln")
        if up is None or down is None or norm is None or up.io is None or down.io is None:
            return None
        if up.io.out_width != down.io.in_width or up.io.in_width != down.io.out_width:
            return None
        activation = ctx.choose(
            cls,
            up.attr,
            "activation",
            "gelu",
            act.feed_forward("gelu", ctx.resolver),
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        found = (up.attr, down.attr, norm.attr, activation.value)
        return Match(self, 3, found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        up, down, norm, activation = match.found
        x = g.input("x")
        h = act.apply(g, activation, g.call_module((up,), x, inline=True), inline=True)
        y = g.call_function("add", g.call_module((down,), h, inline=True), x, inline=True)
        g.output(g.call_module((norm,), y))

    @staticmethod
    def examples():
        return [_example(32, 4, 8)]


class XLRelativeLayer(BlockPattern):
    """`ff(rel_attn(h, positions, mask, token_type_ids))`."""

    role = "XLRelativeLayer"
    priority = 5

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = one_each(cls, ctx, "XLRelativeAttention", "XLFeedForward")
        return None if found is None else Match(self, 2, tuple(m.attr for m in found))

    def forward(self, match: Match, g: Graph) -> None:
        attn, ff = match.found
        h, positions = g.input("h"), g.input("positions")
        mask = g.input("mask", optional=True)
        types = g.input("token_type_ids", optional=True)
        y = g.call_module((attn,), h, positions, mask, types, inline=True)
        g.output(g.call_module((ff,), y))

    @staticmethod
    def examples():
        return [_example(32, 4, 8)]


# config.json keys of XLNet that cannot change the content stream of a bidirectional forward
# without memories: the memory settings (the output is the same; only returned memories differ),
# the causal layout's option, the heads' settings, and the sizes the parameters' shapes show (a
# config that disagreed with them would not load these weights in the library either).
MOOT_KEYS = (
    "mem_len reuse_len use_mems_eval use_mems_train same_length summary_type summary_use_proj "
    "summary_activation summary_last_dropout summary_proj_to_labels start_n_top end_n_top "
    "d_head n_head d_inner"
).split()


class XLRelativeModel(BlockPattern):
    """`word_embedding`, then the relative layers over a sinusoid table of relative positions
    they share; a padding mask that still lets each token see itself; the last hidden state.
    A `mask_emb` parameter (the query stream's start) is held but unused."""

    role = "XLRelativeModel"
    priority = 5
    accepts = Accepts(2, 2, families=("embedding",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        held = tensors(cls)
        tokens = [m for m in members if family(m) == "embedding"]
        stacks = [(m, stack(m)) for m in members if stack(m) is not None]
        if len(tokens) != 1 or len(stacks) != 1 or len(members) != 2:
            return None
        if any(not re.fullmatch(r"mask_emb\w*", t.attr) for t in held) or len(held) > 1:
            return None
        holder, (layer, _) = stacks[0]
        if ctx.role(layer) != "XLRelativeLayer" or tokens[0].io is None:
            return None
        said = {k: ctx.resolver.metadata.get(k) for k in ("attn_type", "bi_data", "clamp_len")}
        told = {k: v[1] for k, v in said.items() if v is not None}
        if told.get("attn_type", "bi") != "bi" or told.get("bi_data", False) is not False:
            return None  # causal ("uni") or two-direction tables: not built
        clamp = told.get("clamp_len", -1)
        if type(clamp) is not int:
            return None
        for key in told:
            ctx.resolver.evidence(key)
        ctx.resolver.consumed.update(MOOT_KEYS)  # whatever their values, null too
        found = (tokens[0].attr, holder.attr, tokens[0].io.out_width, clamp)
        return Match(self, len(members) + len(held), found)

    def forward(self, match: Match, g: Graph) -> None:
        tokens, layers, d_model, clamp = match.found
        ids = g.input("input_ids")
        attention_mask = g.input("attention_mask", optional=True)
        types = g.input("token_type_ids", optional=True)
        x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        seq = g.call_method("size", ids, 1, inline=True)
        device = g.call_method("device", ids, inline=True)
        positions = g.call_function(
            "relative_sinusoids",
            seq,
            d_model,
            clamp,
            device,
            name="positions",
            comment="[2 * seq, d_model]: relative positions seq .. 1 - seq",
        )
        mask = g.call_function(
            "padding_or_self_mask", attention_mask, name="mask", comment="each token sees itself"
        )
        x = g.call_module((layers,), x, positions, mask, types, each=True)
        g.output(x, comment="[batch, seq, d_model]: the content stream")

    @staticmethod
    def examples():
        return [_example(32, 4, 8), _example(24, 3, 4, segments=False)]


def _example(d_model: int, heads: int, head_dim: int, segments: bool = True) -> Example:
    from codegen.patterns.blocks._xl_examples import xl_model

    return xl_model(d_model, heads, head_dim, segments)
