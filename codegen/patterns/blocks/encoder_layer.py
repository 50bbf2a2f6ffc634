"""A transformer encoder layer split the Hugging Face way (BERT, RoBERTa, ELECTRA, ViT...): the
attention's queries/keys/values in one class (`self`), its output projection in another (`output`),
the feed-forward as `intermediate` (widen + activation) and `output` (narrow).

Which class is which is told by the attribute name, as the keys are the same: a lone `dense` is
the widening half of the feed-forward under `intermediate`, the pooler's projection under `pooler`
and a plain projection under `output`. The structure builder keeps such classes apart
(`Pattern.named`). Post-norm layers (BERT) add the residual and normalise inside `output`
(`AddNorm`); pre-norm layers (ViT) normalise before each half and add the residual in the layer.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns.blocks._cross_names import CROSS
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)

BEFORE = r"layernorm_before|ln_1|norm1|attention_norm"
AFTER = r"layernorm_after|ln_2|norm2|ffn_norm"


def _single(cls, ctx: BlockContext, named: str, families: tuple[str, ...]):
    """The class's members in order of `families` when it is registered under a name matching
    `named` and holds exactly one member of each family; else None."""
    members = modules(cls)
    if tensors(cls) or not re.fullmatch(named, cls.named or "-", re.IGNORECASE):
        return None
    if len(members) != len(families):
        return None
    found = []
    for fam in families:
        these = [m for m in members if ctx.role(m) == fam or family(m) == fam]
        if len(these) != 1:
            return None
        found.append(these[0])
    return found


# The input a rotary attention reads its sines and cosines from, where its encoder owns the table
# (RoFormer): passed through each layer untouched.
ROTARY_TABLE = "sinusoidal"
# ... and the relative position embeddings a disentangled attention reads (DeBERTa), where its
# encoder owns the table.
RELATIVE_TABLE = "rel_embeddings"
# ... and the encoder's states a cross-attention reads keys and values from (the model's
# `encoder_hidden_states`), last: a layer runs its cross-attention only when they are given.
MEMORY = "memory"
MEMORY_MASK = "memory_mask"  # (which of those states to attend to: padding_mask() of theirs)
SIDE_INPUTS = (ROTARY_TABLE, RELATIVE_TABLE, MEMORY)
# A Q-Former layer (BLIP-2, InstructBLIP) runs learned query tokens, placed before the text,
# through twins of its feed-forward (`intermediate_query`, `output_query`) and, every few layers,
# a cross-attention to the image; text tokens take the plain feed-forward only.
QUERY_TWIN = "{}_query"
QUERY_GAP = (
    "query tokens (a Q-Former's learned queries) are not generated: this forward is the text "
    "tokens' path; {} act on queries only"
)


def cross_attend(g: Graph, cross: str, x, memory, memory_mask):
    """A BERT-style layer's `crossattention` on `x`, run only when the encoder's states are given
    (keys and values from them; `memory_mask` says which to attend to)."""
    return g.call_module(
        (cross,),
        x,
        memory_mask,
        memory,
        given=memory,
        name="x",
        comment="cross-attention: only when the encoder's states are given",
    )


def _side_names(ctx: BlockContext, m) -> tuple[str, ...]:
    """The encoder-owned tables a member's forward takes after x and mask, in order."""
    return tuple(name for name in SIDE_INPUTS if ctx.takes(m, name))


def _side_inputs(g: Graph, names: tuple[str, ...]) -> tuple:
    return tuple(g.input(name, optional=True) for name in names)


def _example(name: str):
    import torch

    from codegen.patterns.families._examples import modules as refs

    m = refs()
    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    config = {"model_type": "bert", "num_attention_heads": 2, "hidden_act": "gelu"}
    if name == "distil":
        config = {"model_type": "distilbert", "n_heads": 2, "activation": "gelu"}
    if name == "vit":
        config = {"model_type": "vit", "num_attention_heads": 2, "hidden_act": "gelu"}
        return Example(m[name](), (torch.randn(2, 3, 16, 16),), config)
    if name == "video_vit":  # 4 frames of 16x16 pixels, frames first
        config = {"model_type": "vivit", "num_attention_heads": 2, "hidden_act": "gelu"}
        return Example(m[name](), (torch.randn(2, 4, 3, 16, 16),), {**config, "num_frames": 4})
    return Example(m[name](), (ids, mask), config)


class Intermediate(BlockPattern):
    """`act(dense(x))`: the widening half of a split feed-forward."""

    role = "Intermediate"
    named = r"intermediate(_query)?"  # (a Q-Former's query tokens' twin: QUERY_TWIN below)
    synonyms = act.SYNONYMS
    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _single(cls, ctx, self.named, ("linear",))
        if found is None:
            return None
        activation = ctx.choose(
            cls,
            found[0].attr,
            "activation",
            "gelu",
            act.feed_forward("gelu", ctx.resolver),
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        return Match(self, 1, (found[0].attr, activation.value), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        dense, activation = match.found
        x = g.input("x")
        g.output(act.apply(g, activation, g.call_module((dense,), x, inline=True)))

    @staticmethod
    def examples():
        return [_example("bert")]


class Projection(BlockPattern):
    """`dense(x)`: the narrowing half of a pre-norm layer's split feed-forward, or its attention's
    output projection (ViT); the layer adds the residual."""

    role = "Projection"
    named = r"output"
    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _single(cls, ctx, self.named, ("linear",))
        return None if found is None else Match(self, 1, found[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("x")))

    @staticmethod
    def examples():
        return [_example("vit")]


class AddNorm(BlockPattern):
    """`norm(dense(h) + x)`: a post-norm layer's projection, residual connection and norm."""

    role = "AddNorm"
    named = r"output(_query)?"
    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _single(cls, ctx, self.named, ("linear", "norm"))
        return None if found is None else Match(self, 2, (found[0].attr, found[1].attr))

    def forward(self, match: Match, g: Graph) -> None:
        dense, norm = match.found
        h, x = g.input("h"), g.input("x")
        y = g.call_function("add", g.call_module((dense,), h, inline=True), x, inline=True)
        g.output(g.call_module((norm,), y))

    @staticmethod
    def examples():
        return [_example("bert")]


class Pooler(BlockPattern):
    """`tanh(dense(x[:, 0]))`: the first token's hidden state, projected (BERT, ViT)."""

    role = "Pooler"
    named = r"pooler"
    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _single(cls, ctx, self.named, ("linear",))
        if found is None:
            return None
        # DeBERTa's ContextPooler names its activation (pooler_hidden_act, gelu by default)
        said = ctx.resolver.metadata.get("pooler_hidden_act")
        name = act.ALIASES.get(said[1], said[1]) if said and isinstance(said[1], str) else "tanh"
        if name not in act.FUNCTIONS:
            return None  # an activation outside the vocabulary: left unused, so flagged
        if said is not None:
            ctx.resolver.evidence("pooler_hidden_act")
        # MobileBERT's classifier_activation: true, the first token through dense and tanh
        plain = ctx.resolver.metadata.get("classifier_activation")
        if plain is not None and plain[1] is not True:
            return None
        ctx.resolver.evidence("classifier_activation")
        return Match(self, 1, (found[0].attr, name))

    def forward(self, match: Match, g: Graph) -> None:
        dense, activation = match.found
        x = g.input("x")
        first = g.call_function("getitem", x, (Slice(), 0), inline=True)
        y = g.call_module((dense,), first, inline=True)
        comment = "[batch, d_model]: the first token, pooled"
        g.output(act.apply(g, activation, y, comment=comment))

    @staticmethod
    def examples():
        return [_example("bert_pooled")]


class SplitAttention(BlockPattern):
    """`output(self(x, mask))`: queries/keys/values in one class, the projection in another."""

    role = "Attention"
    priority = 5

    accepts = Accepts(2, 2, tensors=False, roles=("SelfAttention",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        inner = [m for m in members if ctx.role(m) == "SelfAttention"]
        # the projection: a class of its own, or (lin9) a bare Linear (LED's `output`)
        bare = ("linear",) if self.output_role == "Projection" else ()
        out = [m for m in members if ctx.role(m) in (self.output_role, *bare)]
        if len(inner) != 1 or len(out) != 1:
            return None
        return Match(self, 2, (inner[0].attr, out[0].attr, _side_names(ctx, inner[0])))

    output_role = "Projection"

    def forward(self, match: Match, g: Graph) -> None:
        inner, out, side = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        y = g.call_module((inner,), x, mask, *_side_inputs(g, side), inline=True)
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        return [_example("vit")]


class PostNormAttention(SplitAttention):
    """`norm(proj(attn(x, mask)) + x)`: BERT's attention with its residual and norm."""

    role = "PostNormAttention"
    output_role = "AddNorm"

    def forward(self, match: Match, g: Graph) -> None:
        inner, out, side = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        y = g.call_module((inner,), x, mask, *_side_inputs(g, side), inline=True)
        g.output(g.call_module((out,), y, x))

    @staticmethod
    def examples():
        return [_example("bert")]


class SplitLayer(BlockPattern):
    """A whole split layer. Post-norm (BERT): `a = attention(x)`, `output(intermediate(a), a)`.
    Pre-norm (ViT): `x + attention(before(x))`, then `x + output(intermediate(after(x)))`."""

    role = "Block"
    priority = 5

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        roles = {m.attr: ctx.role(m) for m in members}
        # a post-norm cross-attention sublayer after the self-attention (BERT with
        # add_cross_attention, BLIP's text tower): by its name, and the encoder's states it takes
        cross = [
            m
            for m in members
            if roles[m.attr] == "PostNormAttention"
            and re.fullmatch(CROSS, m.attr, re.IGNORECASE)
            and _side_names(ctx, m) == (MEMORY,)
            and ctx.takes(m, "mask")
        ]
        if len(cross) > 1:
            return None
        cross_attr = cross[0].attr if cross else None
        members = [m for m in members if m.attr != cross_attr]
        twins = [
            m
            for m in members
            if roles[m.attr] in ("Intermediate", "AddNorm")
            and m.attr.endswith(QUERY_TWIN.format(""))
        ]
        members = [m for m in members if m not in twins]
        attn = [m.attr for m in members if roles[m.attr] in ("Attention", "PostNormAttention")]
        inter = [m.attr for m in members if roles[m.attr] == "Intermediate"]
        out = [m.attr for m in members if roles[m.attr] in ("Projection", "AddNorm")]
        if twins:
            if len(inter) != 1 or len(out) != 1:
                return None
            wanted = {QUERY_TWIN.format(inter[0]), QUERY_TWIN.format(out[0])}
            if {m.attr for m in twins} != wanted:
                return None
        norms = [m for m in members if family(m) == "norm"]
        if len(attn) != 1 or len(inter) != 1 or len(out) != 1:
            return None
        post = roles[attn[0]] == "PostNormAttention" and roles[out[0]] == "AddNorm"
        pre = roles[attn[0]] == "Attention" and roles[out[0]] == "Projection"
        held = next(m for m in members if m.attr == attn[0])
        # a mixing sublayer that takes no padding mask (FNet's Fourier transform): nor does the layer
        own = tuple(name for name in _side_names(ctx, held) if name != MEMORY)
        side = (own, ctx.takes(held, "mask"), cross_attr)
        if post and not norms and len(members) == 3 and twins:
            # the text tokens' path: self-attention over them, then the plain feed-forward
            queries_only = ", ".join(sorted(m.attr for m in twins) + [cross_attr] * bool(cross))
            side = (own, side[1], None)
            found = ("post", attn[0], inter[0], out[0], None, None, side)
            return Match(self, 5 + bool(cross), found, guessed=QUERY_GAP.format(queries_only))
        if twins:
            return None  # (query twins beside a pre-norm layer: not seen yet)
        if post and not norms and len(members) == 3:
            score = 3 + (cross_attr is not None)
            return Match(self, score, ("post", attn[0], inter[0], out[0], None, None, side))
        if cross_attr is not None:
            return None  # (a pre-norm layer's cross-attention needs its own norm: not seen yet)
        if pre and len(norms) == 2 and len(members) == 5:
            before = [m.attr for m in norms if re.fullmatch(BEFORE, m.attr, re.IGNORECASE)]
            after = [m.attr for m in norms if re.fullmatch(AFTER, m.attr, re.IGNORECASE)]
            if len(before) == 1 and len(after) == 1:
                found = ("pre", attn[0], inter[0], out[0], before[0], after[0], side)
                return Match(self, 5, found)
        return None

    def forward(self, match: Match, g: Graph) -> None:
        layout, attn, inter, out, before, after, (side, takes_mask, cross) = match.found
        x = g.input("x")
        masked = (g.input("mask", optional=True),) if takes_mask else ()
        if layout == "post":
            sides = _side_inputs(g, side)
            memory = g.input(MEMORY, optional=True) if cross is not None else None
            memory_mask = g.input(MEMORY_MASK, optional=True) if cross is not None else None
            a = g.call_module((attn,), x, *masked, *sides, name="x")
            if cross is not None:
                a = cross_attend(g, cross, a, memory, memory_mask)
            h = g.call_module((inter,), a, inline=True)
            g.output(g.call_module((out,), h, a))
            return
        normed = g.call_module((before,), x, inline=True)
        a = g.call_module((attn,), normed, *masked, *_side_inputs(g, side), inline=True)
        x = g.call_function("add", x, a)
        h = g.call_module((inter,), g.call_module((after,), x, inline=True), inline=True)
        g.output(g.call_function("add", x, g.call_module((out,), h, inline=True)))

    @staticmethod
    def examples():
        return [_example("bert"), _example("vit"), _example("qformer")]
