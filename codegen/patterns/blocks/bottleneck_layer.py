"""A post-norm encoder layer computed in a narrower bottleneck (MobileBERT): the layer's input is
projected down for the attention's residual (`bottleneck.input`) and, shared by queries and keys,
for the attention (`bottleneck.attention`); values read the full-width input. After the
attention, a stack of post-norm feed-forwards at the bottleneck width, then the last one, whose
output is projected back up and added to the layer's input (`output.bottleneck`).

- `ProjectNorm`: `norm(dense(x))`, the narrowing projections (the norm as wide as the dense's
  output, narrower than its input: nothing else can come first).
- `Bottleneck`: its `input` projection; the layer calls its `attention` projection itself.
- `ValueInputAttention`: queries and keys from one input, values from another of another width.
- `BottleneckAttention`: `output(self(qk, v, mask), residual)`.
- `PostNormFeedForward`: `output(intermediate(x), x)` (the extra feed-forwards).
- `BottleneckAddNorm`: `norm(dense(h) + x)` named `bottleneck` (the projection back up).
- `BottleneckOutput`: `bottleneck(norm(dense(h) + a), x)`.
- `TrigramEmbeddings`: each token's embedding beside the next and previous ones (zeros past the
  ends), projected to the layers' width, plus positions and token types, then the norm.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
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
from codegen.patterns.blocks.attention import KEY, QUERY, SYNONYMS, UNKNOWN_HEADS, VALUE
from codegen.patterns.blocks.attention import head_counts
from codegen.patterns.blocks.encoder_layer import AddNorm


def _is_norm(ctx: BlockContext, m) -> bool:
    """A norm layer, or a generated class computing one (blocks/scale_shift.py's role)."""
    return family(m) == "norm" or ctx.role(m) == "norm"


def _norm_width(m) -> int | None:
    """A norm layer's width; None for a generated norm class, whose sizes are its parameters'."""
    return m.io.in_width if m.io is not None and m.io.family == "norm" else None


class ProjectNorm(BlockPattern):
    """`norm(dense(x))`: a narrowing projection, normalised."""

    role = "ProjectNorm"
    named = r"input|attention"

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        if not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        dense = [m for m in members if family(m) == "linear"]
        norm = [m for m in members if _is_norm(ctx, m)]
        if len(dense) != 1 or len(norm) != 1 or dense[0].io is None:
            return None
        # The norm normalises the dense's output when it is as wide as that and narrower than
        # the input; a scale-and-shift class shows no width: the dense narrowing, then it.
        width = _norm_width(norm[0])
        if width is None and dense[0].io.out_width < dense[0].io.in_width:
            width = dense[0].io.out_width
        if width is None or width != dense[0].io.out_width or width >= dense[0].io.in_width:
            return None
        return Match(self, 2, (dense[0].attr, norm[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        dense, norm = match.found
        g.output(g.call_module((norm,), g.call_module((dense,), g.input("x"), inline=True)))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class Bottleneck(BlockPattern):
    """`input(x)`: the layer's input narrowed; `attention`, the queries' and keys' narrowed
    input, is called by the layer (a forward returns one tensor)."""

    role = "Bottleneck"

    accepts = Accepts(2, 2, tensors=False, names=("input", "attention"), roles=("ProjectNorm",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        found = [one_named(members, name) for name in ("input", "attention")]
        if any(m is None or ctx.role(m) != "ProjectNorm" for m in found):
            return None
        return Match(self, 2, tuple(m.attr for m in found))

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found[0],), g.input("x")))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class ValueInputAttention(BlockPattern):
    """Multi-head attention whose queries and keys read `x` and whose values read `v_in`, a
    tensor of another width (the projections' input widths tell them apart); no projection."""

    role = "ValueInputAttention"
    priority = 11
    synonyms = SYNONYMS

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        qkv = [one_named(members, p) for p in (QUERY, KEY, VALUE)]
        if any(m is None or family(m) != "linear" or m.io is None for m in qkv):
            return None
        q, k, v = (m.io for m in qkv)
        if q.in_width != k.in_width or v.in_width == q.in_width:
            return None
        if not q.out_width == k.out_width == v.out_width:
            return None
        nhead = ctx.choose(
            cls,
            qkv[0].attr,
            "nhead",
            None,
            head_counts(q.out_width, None),
            "unknown: calibrate or hint",
            accepts="positive_int",
        )
        if nhead.value is None:
            return Match(self, 3, missing=UNKNOWN_HEADS, choices=[nhead])
        if nhead.value <= 0 or q.out_width % nhead.value:
            return None
        return Match(self, 3, (tuple(m.attr for m in qkv), nhead.value), [nhead])

    def forward(self, match: Match, g: Graph) -> None:
        (query, key, value), nhead = match.found
        x, v_in, mask = g.input("x"), g.input("v_in"), g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")

        def split(path: str, source, name: str):
            h = g.call_module((path,), source, inline=True)
            h = g.call_method("view", h, batch, seq, nhead, -1, inline=True)
            return g.call_method("transpose", h, 1, 2, name=name)

        q, k, v = split(query, x, "q"), split(key, x, "k"), split(value, v_in, "v")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": mask},
            name="y",
            comment=f"{nhead} heads, every position sees all",
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        g.output(g.call_method("reshape", y, batch, seq, -1))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class BottleneckAttention(BlockPattern):
    """`output(self(x, v_in, mask), residual)`: the attention, projected, added to the narrowed
    input and normalised."""

    role = "BottleneckAttention"
    priority = 5

    accepts = Accepts(2, 2, tensors=False, roles=("ValueInputAttention", "AddNorm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = one_each(cls, ctx, "ValueInputAttention", "AddNorm")
        return None if found is None else Match(self, 2, tuple(m.attr for m in found))

    def forward(self, match: Match, g: Graph) -> None:
        inner, out = match.found
        x, v_in, residual = g.input("x"), g.input("v_in"), g.input("residual")
        mask = g.input("mask", optional=True)
        y = g.call_module((inner,), x, v_in, mask, inline=True)
        g.output(g.call_module((out,), y, residual))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class PostNormFeedForward(BlockPattern):
    """`output(intermediate(x), x)`: a post-norm feed-forward on its own (no attention)."""

    role = "PostNormFeedForward"
    priority = 5

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = one_each(cls, ctx, "Intermediate", "AddNorm")
        return None if found is None else Match(self, 2, tuple(m.attr for m in found))

    def forward(self, match: Match, g: Graph) -> None:
        inter, out = match.found
        x = g.input("x")
        g.output(g.call_module((out,), g.call_module((inter,), x, inline=True), x))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class BottleneckAddNorm(AddNorm):
    """`norm(dense(h) + x)` projecting back up from the bottleneck (`output.bottleneck`)."""

    named = r"bottleneck"

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        if not re.fullmatch(self.named, cls.named or "-", re.IGNORECASE):
            return None
        dense = [m for m in members if family(m) == "linear"]
        norm = [m for m in members if _is_norm(ctx, m)]
        if len(dense) != 1 or len(norm) != 1:
            return None
        return Match(self, 2, (dense[0].attr, norm[0].attr))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class BottleneckOutput(BlockPattern):
    """`bottleneck(norm(dense(h) + a), x)`: the last feed-forward's output at the bottleneck
    width, then projected back up and added to the layer's input."""

    role = "BottleneckOutput"
    named = r"output"
    priority = 5

    accepts = Accepts(3, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 3:
            return None
        dense = [m for m in members if family(m) == "linear"]
        norm = [m for m in members if _is_norm(ctx, m)]
        up = [m for m in members if ctx.role(m) == "AddNorm" and m.kind == "class"]
        if len(dense) != 1 or len(norm) != 1 or len(up) != 1:
            return None
        return Match(self, 3, (dense[0].attr, norm[0].attr, up[0].attr))

    def forward(self, match: Match, g: Graph) -> None:
        dense, norm, up = match.found
        h, a, x = g.input("h"), g.input("a"), g.input("x")
        y = g.call_function("add", g.call_module((dense,), h, inline=True), a, inline=True)
        y = g.call_module((norm,), y, inline=True)
        g.output(g.call_module((up,), y, x))

    @staticmethod
    def examples():
        return [_example(32, 16, 4)]


class BottleneckLayer(BlockPattern):
    """`a = attention(bottleneck.attention(x), x, bottleneck(x), mask)`, the extra
    feed-forwards on `a` in turn, then `output(intermediate(a), a, x)`."""

    role = "Block"
    priority = 5

    accepts = Accepts(
        4,
        5,
        tensors=False,
        roles=("Bottleneck", "BottleneckAttention", "Intermediate", "BottleneckOutput"),
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 4 <= len(members) <= 5:
            return None
        roles = {m.attr: ctx.role(m) for m in members}

        def one(role: str):
            found = [m.attr for m in members if roles[m.attr] == role]
            return found[0] if len(found) == 1 else None

        found = [one(r) for r in ("Bottleneck", "BottleneckAttention", "Intermediate")]
        found.append(one("BottleneckOutput"))
        if any(f is None for f in found):
            return None
        ffns = [m for m in members if m.attr not in found]
        extra = None
        if ffns:
            held = stack(ffns[0])
            if held is None or ctx.role(held[0]) != "PostNormFeedForward":
                return None
            extra = ffns[0].attr
        bottleneck = next(m for m in members if m.attr == found[0])
        shared = ctx.classes.get(bottleneck.type_name)
        pair = [m.attr for m in modules(shared)] if shared is not None else []
        if "attention" not in pair or bottleneck.io is None:
            return None
        count = 1 + (stack(ffns[0])[1] if ffns else 0)
        if not _config_agrees(ctx, bottleneck.io.out_width, count):
            return None
        return Match(self, len(members), (*found, extra))

    def forward(self, match: Match, g: Graph) -> None:
        bottleneck, attention, inter, out, extra = match.found
        x, mask = g.input("x"), g.input("mask", optional=True)
        narrow = g.call_module((bottleneck,), x, name="narrow", comment="the bottleneck's width")
        shared = g.call_module(
            (bottleneck, "attention"), x, name="shared", comment="queries' and keys' input"
        )
        a = g.call_module((attention,), shared, x, narrow, mask, name="a")
        if extra is not None:
            a = g.call_module((extra,), a, each=True, name="a")
        h = g.call_module((inter,), a, inline=True)
        g.output(g.call_module((out,), h, a, x))

    @staticmethod
    def examples():
        return [_example(32, 16, 4), _example(24, 8, 2, ffns=1)]


def _config_agrees(ctx: BlockContext, narrow: int | None, feed_forwards: int) -> bool:
    """config.json's bottleneck settings (MobileBERT's names), where given, say what the layer's
    members show: a shared query/key bottleneck, its width, the feed-forwards per layer."""
    expected = {
        "use_bottleneck": True,
        "key_query_shared_bottleneck": True,
        "use_bottleneck_attention": False,
        "intra_bottleneck_size": narrow,
        "true_hidden_size": narrow,
        "num_feedforward_networks": feed_forwards,
    }
    for key, value in expected.items():
        said = ctx.resolver.metadata.get(key)
        if said is not None and said[1] != value:
            return False
    for key in expected:
        ctx.resolver.evidence(key)
    return True


TRIGRAM_PROJECTION = r"embedding_transformation|embeddings?_(transform|projection|proj)"


class TrigramEmbeddings(BlockPattern):
    """`norm(proj(cat(next, this, previous)) + positions + token types)`: each token's embedding
    beside its neighbours' (zeros past the ends), where the projection reads three times the
    embedding width; config.json's trigram_input, where given, must agree."""

    role = "TextEmbeddings"
    priority = 6
    accepts = Accepts(names=(TRIGRAM_PROJECTION,), families=("embedding", "linear"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        from codegen.patterns.families.encoder import NORM, POSITIONS, SEGMENTS, TOKENS

        members = modules(cls)
        if tensors(cls) and not all(t.kind == "buffer" for t in tensors(cls)):
            return None
        tables = [m for m in members if family(m) == "embedding"]
        tokens, positions = one_named(tables, TOKENS), one_named(tables, POSITIONS)
        segments = one_named(tables, SEGMENTS)
        proj = one_named([m for m in members if family(m) == "linear"], TRIGRAM_PROJECTION)
        norm = one_named([m for m in members if _is_norm(ctx, m)], NORM)
        used = [m for m in (tokens, positions, segments, proj, norm) if m is not None]
        if tokens is None or positions is None or proj is None or norm is None:
            return None
        if len(used) != len(members) or proj.io is None or tokens.io is None:
            return None
        width = tokens.io.out_width
        said = ctx.resolver.metadata.get("trigram_input")
        if width is None or proj.io.in_width != 3 * width or (said and said[1] is not True):
            return None
        guessed = ""
        if said is not None:
            ctx.resolver.evidence("trigram_input")
        else:
            guessed = (
                "the embeddings' projection reads three token widths: taken as each token "
                "beside the next and previous ones (MobileBERT's order), which nothing records"
            )
        found = (tokens.attr, proj.attr, positions.attr, segments and segments.attr, norm.attr)
        return Match(self, len(members), found, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        tokens, proj, positions, segments, norm = match.found
        ids = g.input("input_ids")
        types = g.input("token_type_ids", optional=True) if segments else None
        e = g.call_module((tokens,), ids, name="e", comment="[batch, seq, embedding_size]")
        after = g.call_function("getitem", e, (Slice(), Slice(1, None)), inline=True)
        before = g.call_function("getitem", e, (Slice(), Slice(None, -1)), inline=True)
        following = g.call_function("pad", after, [0, 0, 0, 1], inline=True)
        preceding = g.call_function("pad", before, [0, 0, 1, 0], inline=True)
        x = g.call_function(
            "cat", [following, e, preceding], -1, comment="next, this, previous token"
        )
        x = g.call_module((proj,), x, comment="[batch, seq, d_model]")
        seq = g.call_method("size", ids, 1, inline=True)
        device = g.call_method("device", ids, inline=True)
        pos = g.call_function("arange", seq, kwargs={"device": device}, name="positions")
        x = g.call_function("add", x, g.call_module((positions,), pos, inline=True))
        if segments:
            seg = g.call_function("token_types", types, ids, inline=True)
            x = g.call_function("add", x, g.call_module((segments,), seg, inline=True))
        g.output(g.call_module((norm,), x))

    @staticmethod
    def examples():
        return [_example(32, 16, 4), _example(24, 8, 2, ffns=1)]


def _example(hidden: int, narrow: int, nhead: int, ffns: int = 2) -> Example:
    """A whole bottleneck encoder as MobileBERT lays it out (its names), at other sizes, with
    `ffns` feed-forwards per layer and NoNorm's scale-and-shift norms."""
    from codegen.patterns.blocks._bottleneck_examples import bottleneck_encoder

    return bottleneck_encoder(hidden, narrow, nhead, ffns)
